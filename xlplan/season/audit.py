"""The audit trail: every step of the season as an append-only row in the history database.

Each event (a workbook built, sent or reminded; a file received and decided; a review;
a reopening; a letter signed) is one row of ``audit_events`` with its time, actor, unit,
file SHA-256 and comment, and its cell notes in ``audit_notes``, written in one
transaction: a crash leaves the whole event or none of it. Rows are only ever inserted:
no code in xlplan updates or deletes them (a test reads the code to hold that), so the
trail can be trusted as the record of who did what and when.

The review decisions also decide which file counts (see the ``winners`` view in
:mod:`xlplan.consolidate.store`): an approved file stays the unit's file until it is
reopened, and a rejected one never counts. That is why this schema is created before the
store's views, and why a decision is read from the trail, never stored twice.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

EVENTS = ("built", "sent", "received", "decided", "reviewed", "reminded", "reopened",
          "signed", "send_failed")
ACTIONS = ("approve", "return", "reject", "reopen")

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    seq BIGINT PRIMARY KEY, happened_at TIMESTAMP NOT NULL, plan_id VARCHAR NOT NULL,
    event VARCHAR NOT NULL, action VARCHAR, actor VARCHAR NOT NULL, unit VARCHAR,
    sha256 VARCHAR, comment VARCHAR, detail VARCHAR);
CREATE TABLE IF NOT EXISTS audit_notes (
    seq BIGINT NOT NULL, n INTEGER NOT NULL, sheet VARCHAR NOT NULL, cell VARCHAR NOT NULL,
    note VARCHAR NOT NULL, PRIMARY KEY (seq, n));
CREATE OR REPLACE VIEW audit_log AS
    SELECT e.seq, e.happened_at, e.plan_id, e.event, e.action, e.actor, e.unit, e.sha256, e.comment,
           e.detail,
           (SELECT list(sheet || '!' || cell || ': ' || note ORDER BY n) FROM audit_notes n
            WHERE n.seq = e.seq) AS notes
    FROM audit_events e ORDER BY e.seq;
-- the latest review decision of each unit (approve, return, reject or reopen)
CREATE OR REPLACE VIEW review_state AS
    SELECT plan_id, unit, arg_max(action, seq) AS action, arg_max(sha256, seq) AS sha256,
           max(seq) AS seq
    FROM audit_events WHERE event IN ('reviewed', 'reopened') GROUP BY plan_id, unit;
-- files a reviewer refused: never counted again
CREATE OR REPLACE VIEW refused_files AS
    SELECT DISTINCT plan_id, unit, sha256 FROM audit_events
    WHERE event = 'reviewed' AND action = 'reject';
"""


@dataclass(frozen=True)
class Note:
    """A reviewer's note on one cell of a unit's workbook."""

    sheet: str
    cell: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"sheet": self.sheet, "cell": self.cell, "note": self.text}


@dataclass(frozen=True)
class Event:
    event: str
    plan_id: str
    actor: str
    unit: str | None = None
    sha256: str | None = None
    action: str | None = None
    comment: str | None = None
    detail: dict[str, Any] | None = None
    notes: tuple[Note, ...] = ()


def operating_system_user() -> str:
    """Who runs the command, for ``--by`` and for events no person names."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password file
        return "unknown"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record(con: duckdb.DuckDBPyConnection, event: Event, at: dt.datetime | None = None) -> int:
    """Append one event (and its notes) in its own transaction; its sequence number."""
    con.execute("BEGIN TRANSACTION")
    try:
        seq = append(con, event, at)
        con.execute("COMMIT")
        return seq
    except BaseException:
        con.execute("ROLLBACK")
        raise


def append(con: duckdb.DuckDBPyConnection, event: Event, at: dt.datetime | None = None) -> int:
    """Append one event inside the caller's transaction (consolidation stores a file and its
    events together); its sequence number."""
    if event.event not in EVENTS:
        raise ValueError(f"unknown audit event {event.event!r}")
    row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM audit_events").fetchone()
    seq = int(row[0]) if row else 1
    con.execute("INSERT INTO audit_events (seq, happened_at, plan_id, event, action, actor, unit, "
                "sha256, comment, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at or now(), event.plan_id, event.event, event.action, event.actor,
                 event.unit, event.sha256, event.comment,
                 json.dumps(event.detail, ensure_ascii=False, sort_keys=True)
                 if event.detail else None])
    _insert_notes(con, seq, event.notes)
    return seq


def _insert_notes(con: duckdb.DuckDBPyConnection, seq: int, notes: Iterable[Note]) -> None:
    rows = [[seq, i, n.sheet, n.cell, n.text] for i, n in enumerate(notes)]
    if rows:
        con.executemany("INSERT INTO audit_notes VALUES (?, ?, ?, ?, ?)", rows)


def has_trail(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database has the audit tables (one opened read-only before they
    existed has not)."""
    row = con.execute("SELECT count(*) FROM information_schema.tables "
                      "WHERE table_name = 'audit_events'").fetchone()
    return bool(row and row[0])


def log(con: duckdb.DuckDBPyConnection, plan_id: str, unit: str | None = None
        ) -> pd.DataFrame:
    """The plan's events in the order they happened (one unit's, if given)."""
    columns = ["seq", "happened_at", "event", "action", "actor", "unit", "sha256", "comment",
               "detail", "notes"]
    if not has_trail(con):
        return pd.DataFrame(columns=columns)
    sql = f"SELECT {', '.join(columns)} FROM audit_log WHERE plan_id = ?"
    args: list[Any] = [plan_id]
    if unit:
        sql += " AND unit = ?"
        args.append(unit)
    return con.execute(sql + " ORDER BY seq", args).df()


def notes_of(con: duckdb.DuckDBPyConnection, seq: int) -> list[Note]:
    rows = con.execute("SELECT sheet, cell, note FROM audit_notes WHERE seq = ? ORDER BY n",
                       [seq]).fetchall()
    return [Note(str(s), str(c), str(t)) for s, c, t in rows]


def append_arrival(con: duckdb.DuckDBPyConnection, plan_id: str, unit: str | None, sha256: str,
                   status: str, reason: str | None) -> None:
    """A file's ``received`` and ``decided`` events, inside the transaction that stores it.
    A file from a unit whose approved file is locked is said to be received after approval:
    it is kept, and waits for the unit to be reopened."""
    actor = operating_system_user()
    comment = None
    if unit:
        row = con.execute("SELECT action FROM review_state WHERE plan_id = ? AND unit = ?",
                          [plan_id, unit]).fetchone()
        if row and row[0] == "approve":
            comment = "received after approval: waits for the unit to be reopened"
    append(con, Event("received", plan_id, actor, unit or None, sha256, comment=comment))
    append(con, Event("decided", plan_id, actor, unit or None, sha256, action=status,
                      comment=reason))
