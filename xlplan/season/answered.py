"""Whether the manager answered the reviewer's cell notes: the review view's half of the
conversation that :mod:`xlplan.season.returned` writes into the reissued workbook.

A note counts as answered when the cell's input value in the unit's next submission
differs from the value in the file that was returned. That is the one thing xlplan can
know for certain from the files alone (a changed number may still be wrong, an unchanged
one may be right: the reviewer judges); both files' inputs are already in the history as
facts, so nothing is read again and nothing is stored twice. Derived, never stored, like
the season status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from xlplan.season.audit import Note, has_trail, notes_of


@dataclass(frozen=True)
class NoteAnswer:
    """One reviewer's note and whether the next submission changed its cell."""

    note: Note
    by: str
    answered: bool

    def to_json(self) -> dict[str, Any]:
        return {"cell": f"{self.note.sheet}!{self.note.cell}", "note": self.note.text,
                "by": self.by, "answered": self.answered}


def answers(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str
            ) -> dict[str, list[NoteAnswer]]:
    """unit → its notes with answered or not, for each unit whose latest decision is a
    return with cell notes and whose file that counts now arrived after that return."""
    if not has_trail(con):
        return {}
    returns = con.execute(
        "SELECT unit, seq, actor, sha256 FROM (SELECT unit, seq, actor, sha256, action, "
        "row_number() OVER (PARTITION BY unit ORDER BY seq DESC) AS place FROM audit_events "
        "WHERE plan_id = ? AND event IN ('reviewed', 'reopened')) "
        "WHERE place = 1 AND action = 'return'", [plan_id]).fetchall()
    out: dict[str, list[NoteAnswer]] = {}
    for unit, seq, actor, returned_sha in returns:
        notes = notes_of(con, int(seq))
        newer = _newer_counted_file(con, plan_id, spec_hash, str(unit), int(seq))
        if not notes or newer is None:
            continue
        before = _inputs(con, plan_id, spec_hash, str(returned_sha))
        after = _inputs(con, plan_id, spec_hash, newer)
        out[str(unit)] = [NoteAnswer(n, str(actor),
                                     before.get((n.sheet, n.cell)) != after.get((n.sheet, n.cell)))
                          for n in notes]
    return out


def _newer_counted_file(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str,
                        unit: str, return_seq: int) -> str | None:
    """The SHA-256 of the unit's file that counts now, if xlplan received it after the
    return (else the manager has not answered with a new file yet)."""
    row = con.execute(
        "SELECT w.sha256 FROM winners w WHERE w.plan_id = ? AND w.spec_hash = ? AND "
        "w.unit = ? AND EXISTS (SELECT 1 FROM audit_events e WHERE e.plan_id = w.plan_id "
        "AND e.unit = w.unit AND e.sha256 = w.sha256 AND e.event = 'received' AND e.seq > ?)",
        [plan_id, spec_hash, unit, return_seq]).fetchone()
    return str(row[0]) if row else None


def _inputs(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, sha256: str
            ) -> dict[tuple[str, str], tuple[Any, Any]]:
    """(sheet, cell) → (number, text) of one stored file's input cells."""
    rows = con.execute("SELECT sheet, cell, value_num, value_text FROM facts WHERE "
                       "plan_id = ? AND spec_hash = ? AND sha256 = ?",
                       [plan_id, spec_hash, sha256]).fetchall()
    return {(str(s), str(c)): (n, t) for s, c, n, t in rows}
