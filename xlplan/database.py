"""Opening the DuckDB history database, shared by consolidation and tracking.

DuckDB lets one process write a database file at a time; a second run gets a
lock error. Both commands wait a little for the other run to finish, then stop
with a message a person can act on, and never touch the file otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb


class DatabaseError(RuntimeError):
    """The database file cannot be opened (damaged, not DuckDB, unwritable)."""


class DatabaseBusy(DatabaseError):
    """Another xlplan run holds the database."""


def connect(path: Path, schema: str = "", read_only: bool = False, wait_s: float = 10.0
            ) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and its tables (``schema``, unless read-only);
    wait up to ``wait_s`` seconds if another run has it."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise DatabaseError(f"{path}: cannot open the database ({exc})") from None
            if time.monotonic() >= deadline:
                raise DatabaseBusy(f"{path}: the database is in use by another xlplan run "
                                   f"(waited {wait_s:g} s); try again when it has finished"
                                   ) from None
            time.sleep(0.2)
        except duckdb.Error as exc:
            raise DatabaseError(f"{path}: not a usable xlplan database ({exc})") from None
    if schema and not read_only:
        con.execute(schema)
    return con
