"""History in DuckDB: every file seen, its decision and findings, and accepted inputs.

Nothing is lost and nothing is stored twice: a file is keyed by its SHA-256
(per plan and plan version), each file's rows go in one transaction, and a
file already seen is not examined again. Which submission counts for a unit is
not stored but derived (the accepted one that arrived last), so a re-run, a late
file or a crash in between never leaves two "current" submissions.

Arrival is xlplan's own record, never the file's: ``arrival`` numbers files in the
order xlplan first stored them (a later run always numbers higher; within a run, by
the file's time on the filesystem as received, then its hash). The "last saved" date
a file carries in its properties (``modified``) is kept to show, and decides nothing:
anyone can write 2099 there.

Tables: ``runs``, ``submissions``, ``findings``, ``facts`` (and the audit trail,
:mod:`xlplan.season.audit`, whose review decisions lock an approved file); views
``winners`` (the file that counts for each unit) and ``current_facts`` (its inputs, for
the latest version of each plan), which tracking reads too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from pandas.api.types import union_categoricals

from xlplan import database, i18n
from xlplan.consolidate import revisions
from xlplan.consolidate.examine import Examination
from xlplan.consolidate.names import exact_bytes, shown
from xlplan.database import DatabaseBusy as DatabaseBusy  # re-exported for the CLI
from xlplan.database import DatabaseError as DatabaseError
from xlplan.i18n import Msg
from xlplan.season import audit

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, plan_id VARCHAR NOT NULL, spec_hash VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, inbox VARCHAR, output VARCHAR,
    files INTEGER, new_files INTEGER);
CREATE TABLE IF NOT EXISTS submissions (
    plan_id VARCHAR NOT NULL, spec_hash VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    unit VARCHAR, claimed_plan VARCHAR, path VARCHAR NOT NULL, size BIGINT,
    modified VARCHAR, seen_at TIMESTAMP NOT NULL, run_id INTEGER, status VARCHAR NOT NULL,
    reason VARCHAR, arrival BIGINT, received TIMESTAMP,
    PRIMARY KEY (plan_id, spec_hash, sha256));
-- databases written before arrival order: the columns added, old rows numbered in the
-- order xlplan stored them (run, then time stored, then hash)
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS arrival BIGINT;
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS received TIMESTAMP;
-- the plan revision (spec hash) the file was built from (its manifest's; see revisions)
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS built_from VARCHAR;
UPDATE submissions SET arrival = o.n
    FROM (SELECT plan_id, spec_hash, sha256,
                 row_number() OVER (ORDER BY run_id NULLS FIRST, seen_at, sha256) AS n
          FROM submissions) o
    WHERE submissions.arrival IS NULL AND submissions.plan_id = o.plan_id
      AND submissions.spec_hash = o.spec_hash AND submissions.sha256 = o.sha256;
-- a file name that is not valid UTF-8 (or holds control characters): its exact bytes,
-- beside the escaped text in path (see consolidate.names)
ALTER TABLE submissions ADD COLUMN IF NOT EXISTS path_bytes BLOB;
CREATE TABLE IF NOT EXISTS findings (
    plan_id VARCHAR, spec_hash VARCHAR, sha256 VARCHAR, seq INTEGER, level VARCHAR,
    sheet VARCHAR, cell VARCHAR, message VARCHAR);
-- a finding's words as a catalog message (its id and fields, JSON: xlplan.i18n.to_json), so
-- that a workbook shows a finding of an earlier run in its language; NULL in rows written
-- before (their English message is shown as it is)
ALTER TABLE findings ADD COLUMN IF NOT EXISTS words VARCHAR;
CREATE TABLE IF NOT EXISTS facts (
    plan_id VARCHAR, spec_hash VARCHAR, sha256 VARCHAR, unit VARCHAR, sheet VARCHAR,
    cell VARCHAR, item VARCHAR, period VARCHAR, value_num DOUBLE, value_text VARCHAR);
CREATE OR REPLACE VIEW current_spec AS
    SELECT plan_id, arg_max(spec_hash, run_id) AS spec_hash FROM runs GROUP BY plan_id;
-- the file that counts: the unit's approved file while it is approved (review_state, from
-- the audit trail), else the accepted file received last; a file a reviewer rejected never
CREATE OR REPLACE VIEW winners AS
    SELECT plan_id, spec_hash, unit, sha256 FROM (
        SELECT s.plan_id, s.spec_hash, s.unit, s.sha256,
               row_number() OVER (PARTITION BY s.plan_id, s.spec_hash, s.unit
                                  ORDER BY coalesce(r.action = 'approve', false) DESC,
                                           s.arrival DESC) AS place
        FROM submissions s
        LEFT JOIN review_state r
               ON r.plan_id = s.plan_id AND r.unit = s.unit AND r.sha256 = s.sha256
        WHERE s.status IN ('accepted', 'warnings')
          AND NOT EXISTS (SELECT 1 FROM refused_files x WHERE x.plan_id = s.plan_id
                          AND x.unit = s.unit AND x.sha256 = s.sha256))
    WHERE place = 1;
CREATE OR REPLACE VIEW current_facts AS
    SELECT f.plan_id, f.unit, f.sheet, f.cell, f.item, f.period, f.value_num, f.value_text,
           f.sha256
    FROM facts f
    JOIN winners w USING (plan_id, spec_hash, sha256)
    JOIN current_spec c USING (plan_id, spec_hash);
"""


def connect(path: Path, wait_s: float = 10.0, read_only: bool = False
            ) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the history database; wait a little if another run has it."""
    return database.connect(path, audit.SCHEMA + SCHEMA + revisions.SCHEMA, read_only,
                            wait_s)


@dataclass(frozen=True)
class Seen:
    sha256: str
    status: str


def already_seen(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str
                 ) -> dict[str, str]:
    """sha256 → status of every file stored for this plan version."""
    rows = con.execute("SELECT sha256, status FROM submissions WHERE plan_id=? AND spec_hash=?",
                       [plan_id, spec_hash]).fetchall()
    return {sha: status for sha, status in rows}


def start_run(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, inbox: Path
              ) -> int:
    row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()
    run_id = int(row[0]) if row else 1
    con.execute("INSERT INTO runs (run_id, plan_id, spec_hash, started_at, inbox) "
                "VALUES (?, ?, ?, ?, ?)", [run_id, plan_id, spec_hash, _now(), shown(inbox)])
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, output: Path | None, files: int,
               new_files: int) -> None:
    con.execute("UPDATE runs SET finished_at=?, output=?, files=?, new_files=? WHERE run_id=?",
                [_now(), shown(output) if output else None, files, new_files, run_id])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def next_arrival(con: duckdb.DuckDBPyConnection) -> int:
    """The arrival number the next stored file gets (one more than any so far)."""
    row = con.execute("SELECT coalesce(max(arrival), 0) + 1 FROM submissions").fetchone()
    return int(row[0]) if row else 1


def store(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, sha256: str,
          size: int, run_id: int, result: Examination, arrival: int,
          received: dt.datetime | None = None) -> bool:
    """One file's submission, findings and facts, in one transaction. False if already there.
    ``arrival``: its place in the order xlplan received files (see the module docstring);
    ``received``: its time on the filesystem when this run read it."""
    con.execute("BEGIN TRANSACTION")
    try:
        exists = con.execute("SELECT 1 FROM submissions WHERE plan_id=? AND spec_hash=? AND "
                             "sha256=?", [plan_id, spec_hash, sha256]).fetchone()
        if exists:
            con.execute("ROLLBACK")
            return False
        errors = [f for f in result.findings if f.level == "error"]
        reason = "; ".join(f"{f.where()}: {f.message}" if f.where() else f.message
                           for f in (errors or result.findings)[:3])
        con.execute("INSERT INTO submissions (plan_id, spec_hash, sha256, unit, claimed_plan, "
                    "path, size, modified, seen_at, run_id, status, reason, arrival, received, "
                    "built_from, path_bytes) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [plan_id, spec_hash, sha256, result.unit or None, result.plan_id or None,
                     shown(result.path), size, result.modified or None, _now(), run_id,
                     result.status, reason or None, arrival, received,
                     result.built_from or None, exact_bytes(result.path)])
        if result.findings:
            con.executemany("INSERT INTO findings (plan_id, spec_hash, sha256, seq, level, "
                            "sheet, cell, message, words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [[plan_id, spec_hash, sha256, i, f.level, f.sheet, f.cell,
                              f.message, words_json(f.words)]
                             for i, f in enumerate(result.findings)])
        if result.facts and result.status != "rejected":
            frame = pd.DataFrame({
                "plan_id": plan_id, "spec_hash": spec_hash, "sha256": sha256,
                "unit": result.unit,
                "sheet": [f.sheet for f in result.facts], "cell": [f.cell for f in result.facts],
                "item": [f.item for f in result.facts],
                "period": [f.period for f in result.facts],
                "value_num": pd.array([f.number for f in result.facts], dtype="Float64"),
                "value_text": pd.array([f.text for f in result.facts], dtype="string"),
            })
            con.register("new_facts", frame)
            con.execute("INSERT INTO facts SELECT * FROM new_facts")
            con.unregister("new_facts")
        audit.append_arrival(con, plan_id, result.unit, sha256, result.status, reason or None)
        con.execute("COMMIT")
        return True
    except BaseException:
        con.execute("ROLLBACK")
        raise


def submissions(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str | None = None
                ) -> pd.DataFrame:
    """Every file stored for a plan version (the latest run's by default), newest first,
    with ``counts`` telling whether it is the unit's winner."""
    spec = spec_hash or _current_spec(con, plan_id)
    return con.execute("""
        SELECT s.*, (w.sha256 IS NOT NULL) AS counts
        FROM submissions s LEFT JOIN winners w USING (plan_id, spec_hash, unit, sha256)
        WHERE s.plan_id=? AND s.spec_hash=?
        ORDER BY s.unit NULLS LAST, s.arrival DESC NULLS LAST""",
                       [plan_id, spec]).df()


def findings(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str | None = None
             ) -> dict[str, list[dict[str, str]]]:
    """sha256 → that file's findings in order (level, sheet, cell, message in English, and
    words: the catalog message a workbook shows in its language)."""
    spec = spec_hash or _current_spec(con, plan_id)
    rows = con.execute("SELECT sha256, level, sheet, cell, message, words FROM findings "
                       "WHERE plan_id=? AND spec_hash=? ORDER BY sha256, seq",
                       [plan_id, spec]).fetchall()
    out: dict[str, list[dict[str, str]]] = {}
    for sha, level, sheet, cell, message, words in rows:
        out.setdefault(sha, []).append({"level": level, "sheet": sheet or "", "cell": cell or "",
                                        "message": message,
                                        "words": words_from_json(words, message)})
    return out


def words_json(words: str | None) -> str | None:
    """A finding's words as the ``words`` column keeps them (None: nothing beyond its
    English message)."""
    if not isinstance(words, Msg):
        return None
    return json.dumps(i18n.to_json(words), ensure_ascii=False)


def words_from_json(text: str | None, message: str) -> str:
    """The words of a stored finding: its catalog message, or (a row written before the
    column, or text of no message) its English message as data."""
    if text:
        try:
            words = i18n.from_json(json.loads(text))
        except (ValueError, TypeError, KeyError):
            words = None
        if isinstance(words, Msg):
            return words
    return i18n.data(message)


# Columns of current_facts whose values repeat (a few hundred distinct items, periods and
# cells; one sha256 per unit): read as categoricals.
REPEATED = ("plan_id", "unit", "sheet", "cell", "item", "period", "sha256")
CHUNK_VECTORS = 16  # DuckDB vectors (2,048 rows each) per chunk read


def current_facts(con: duckdb.DuckDBPyConnection, plan_id: str) -> pd.DataFrame:
    """The inputs that count, one row per input of each unit's winning file, in (unit,
    sheet, cell) order.

    Read in chunks, with the repeated text columns as categoricals, and sorted here rather
    than by DuckDB: a plain ``.df()`` made a Python string of every value, 350 MB at 500
    units (435,000 inputs) where this frame takes 36 MB, and DuckDB's sort of the whole
    result took another 110 MB.
    """
    result = con.execute("SELECT * FROM current_facts WHERE plan_id=?", [plan_id])
    chunks = []
    while len(chunk := result.fetch_df_chunk(CHUNK_VECTORS)):
        chunks.append(chunk.astype({c: "category" for c in REPEATED}))
    if not chunks:
        return chunk
    facts = pd.DataFrame({c: _concat([ch[c] for ch in chunks]) for c in chunks[0].columns})
    return facts.sort_values(["unit", "sheet", "cell"], kind="stable", ignore_index=True)


def _concat(parts: list[pd.Series]) -> pd.Series:
    """One column from its chunks; categoricals get the union of their categories, in
    sorted order, so that sorting the column sorts it as text."""
    if not isinstance(parts[0].dtype, pd.CategoricalDtype):
        return pd.concat(parts, ignore_index=True)
    union = union_categoricals(parts, ignore_order=True)
    return pd.Series(union.reorder_categories(sorted(union.categories)))


def _current_spec(con: duckdb.DuckDBPyConnection, plan_id: str) -> str:
    row = con.execute("SELECT spec_hash FROM current_spec WHERE plan_id=?", [plan_id]).fetchone()
    return str(row[0]) if row else ""


def integrity(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Problems a crash could have left (none expected: each file is one transaction)."""
    problems: list[str] = []
    checks: list[tuple[str, Any]] = [
        ("duplicate submissions", "SELECT count(*) FROM (SELECT plan_id, spec_hash, sha256 "
         "FROM submissions GROUP BY ALL HAVING count(*) > 1)"),
        ("facts without a submission", "SELECT count(*) FROM facts f ANTI JOIN submissions s "
         "USING (plan_id, spec_hash, sha256)"),
        ("findings without a submission", "SELECT count(*) FROM findings f ANTI JOIN "
         "submissions s USING (plan_id, spec_hash, sha256)"),
        ("facts of rejected files", "SELECT count(*) FROM facts f JOIN submissions s "
         "USING (plan_id, spec_hash, sha256) WHERE s.status = 'rejected'"),
    ]
    for what, sql in checks:
        row = con.execute(sql).fetchone()
        if row and row[0]:
            problems.append(f"{row[0]} {what}")
    return problems
