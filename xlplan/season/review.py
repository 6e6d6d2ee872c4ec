"""Review decisions on a unit's submission: approve, return, reject, reopen.

A decision is an audit event (:mod:`xlplan.season.audit`) on one file, the unit's
current counted submission: reviewing a file that no longer counts would record a
decision nobody can see, so it is refused with the name of the file that does count.
Approval locks the file (the ``winners`` view keeps it while it is approved); a rejected
file never counts again; ``reopen`` unlocks an approved unit. Every check happens before
the event is written, so a refused action records nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from xlplan.season.audit import ACTIONS, Event, Note, append, now


class ReviewError(ValueError):
    """An action that cannot be recorded; the message says what and why."""


@dataclass(frozen=True)
class Current:
    """The file that counts for a unit now."""

    sha256: str
    path: str


NOTE = re.compile(r"^\s*(?P<sheet>[^!]+?)\s*!\s*\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[0-9]+)"
                  r"\s*:\s*(?P<text>.+?)\s*$", re.S)


def parse_note(text: str) -> Note:
    """``SHEET!CELL: text`` → a note (the cell in upper case, without $)."""
    found = NOTE.match(text)
    if not found:
        raise ReviewError(f"--note {text!r}: expected SHEET!CELL: text (Targets!C7: why is "
                          "March below February?)")
    return Note(found["sheet"].strip("'"), f"{found['col'].upper()}{int(found['row'])}",
                found["text"])


def check_notes(notes: list[Note], cells: set[tuple[str, str]], unit: str) -> None:
    """Every note names a cell of the unit's workbook (one xlplan writes)."""
    sheets = sorted({s for s, _ in cells})
    for n in notes:
        if n.sheet not in sheets:
            raise ReviewError(f"--note {n.sheet}!{n.cell}: {unit}'s workbook has no sheet "
                              f"{n.sheet!r} (its sheets: {', '.join(sheets)})")
        if (n.sheet, n.cell) not in cells:
            raise ReviewError(f"--note {n.sheet}!{n.cell}: no such cell in {unit}'s workbook "
                              f"(sheet {n.sheet} has nothing written at {n.cell})")


def current_file(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, unit: str
                 ) -> Current | None:
    row = con.execute("SELECT w.sha256, s.path FROM winners w JOIN submissions s "
                      "USING (plan_id, spec_hash, sha256) WHERE w.plan_id = ? AND "
                      "w.spec_hash = ? AND w.unit = ?", [plan_id, spec_hash, unit]).fetchone()
    return Current(str(row[0]), str(row[1])) if row else None


def _latest_review(con: duckdb.DuckDBPyConnection, plan_id: str, unit: str
                   ) -> tuple[str, str, str, str] | None:
    """(action, sha256, when, who) of the unit's latest decision."""
    row = con.execute("SELECT action, sha256, strftime(happened_at, '%Y-%m-%d %H:%M'), actor "
                      "FROM audit_events WHERE plan_id = ? AND unit = ? AND event IN "
                      "('reviewed', 'reopened') ORDER BY seq DESC LIMIT 1",
                      [plan_id, unit]).fetchone()
    return (str(row[0]), str(row[1]), str(row[2]), str(row[3])) if row else None


def _file_named(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, unit: str,
                sha: str, path: Path) -> None:
    """The given file was received for this unit (and not refused by a reviewer)."""
    row = con.execute("SELECT unit, status FROM submissions WHERE plan_id = ? AND "
                      "spec_hash = ? AND sha256 = ?", [plan_id, spec_hash, sha]).fetchone()
    if row is None:
        raise ReviewError(f"{path}: xlplan has not received this file for {plan_id} "
                          "(consolidate it first)")
    if row[0] != unit:
        raise ReviewError(f"{path}: this file is {row[0] or 'no unit'}'s submission, not "
                          f"{unit}'s")
    refused = con.execute("SELECT strftime(happened_at, '%Y-%m-%d %H:%M'), actor FROM "
                          "audit_events WHERE plan_id = ? AND sha256 = ? AND event = "
                          "'reviewed' AND action = 'reject' LIMIT 1", [plan_id, sha]
                          ).fetchone()
    if refused:
        raise ReviewError(f"{path}: rejected on {refused[0]} by {refused[1]}; a rejected "
                          "file cannot be reviewed again (the unit sends a new one)")
    if row[1] not in ("accepted", "warnings"):
        raise ReviewError(f"{path}: consolidation decided {row[1]}; only an accepted file "
                          "can be reviewed")


def decide(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, unit: str,
           action: str, by: str, comment: str | None = None, notes: tuple[Note, ...] = (),
           file: tuple[Path, str] | None = None) -> Event:
    """Check the action against the unit's state and record it (one event, one
    transaction). ``file``: (path, SHA-256) when the reviewer names the file."""
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r}: expected one of {', '.join(ACTIONS)}")
    if not by.strip():
        raise ReviewError("--by: a reviewer's name is needed")
    con.execute("BEGIN TRANSACTION")
    try:
        event = _checked(con, plan_id, spec_hash, unit, action, by, comment, notes, file)
        append(con, event, now())
        con.execute("COMMIT")
        return event
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _checked(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str, unit: str,
             action: str, by: str, comment: str | None, notes: tuple[Note, ...],
             file: tuple[Path, str] | None) -> Event:
    latest = _latest_review(con, plan_id, unit)
    approved = latest is not None and latest[0] == "approve"
    if action == "reopen":
        if not approved:
            raise ReviewError(f"{unit} is not approved, so there is nothing to reopen")
        assert latest is not None
        if notes:
            raise ReviewError("--note goes with return or reject, not reopen")
        return Event("reopened", plan_id, by, unit, latest[1], "reopen", comment)
    if notes and action not in ("return", "reject"):
        raise ReviewError(f"--note goes with return or reject, not {action}")
    if action in ("return", "reject") and not (comment or notes):
        raise ReviewError(f"{action}: say why, with --comment or --note")
    if file is not None:
        _file_named(con, plan_id, spec_hash, unit, file[1], file[0])
    current = current_file(con, plan_id, spec_hash, unit)
    if current is None:
        raise ReviewError(f"{unit} has no accepted submission to review (see xlplan status)")
    if file is not None and file[1] != current.sha256:
        raise ReviewError(f"{file[0]}: not {unit}'s current file; the current one is "
                          f"{Path(current.path).name} (SHA-256 {current.sha256[:12]}…)")
    if approved:
        assert latest is not None
        if action == "approve":
            raise ReviewError(f"{unit} is already approved ({latest[2]}, by {latest[3]})")
        raise ReviewError(f"{unit} is approved ({latest[2]}, by {latest[3]}); reopen it "
                          f"before you {action} it")
    if latest is not None and latest[0] == action and latest[1] == current.sha256:
        raise ReviewError(f"{unit}'s current file was already {_past(action)} ({latest[2]}, "
                          f"by {latest[3]})")
    return Event("reviewed", plan_id, by, unit, current.sha256, action, comment,
                 {"file": Path(current.path).name}, notes)


def _past(action: str) -> str:
    return {"approve": "approved", "return": "returned", "reject": "rejected"}.get(action,
                                                                                action)
