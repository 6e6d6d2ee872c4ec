"""The review loop: ``xlplan review``, ``xlplan log``, ``xlplan send``, ``xlplan remind``.

Every command here writes or reads the audit trail of the history database
(:mod:`xlplan.season.audit`); the logic is in :mod:`xlplan.season`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.table import Table

from xlplan.commands.app import PlanArg, app, console, fail, open_plan, print_table
from xlplan.commands.consolidate import default_db
from xlplan.commands.untrusted import text
from xlplan.consolidate import store
from xlplan.season import audit

DbOption = Annotated[Path | None, typer.Option(
    "--db", help="The history database (default: $XLPLAN_DB, else ./xlplan.duckdb).",
    show_default=False)]
UnitArg = Annotated[str, typer.Argument(help="The unit's code.", metavar="UNIT",
                                        show_default=False)]


class Action(StrEnum):
    approve = "approve"
    return_ = "return"
    reject = "reject"
    reopen = "reopen"


@contextmanager
def history(db: Path | None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The history database, which must exist (consolidation makes it), or exit 1."""
    path = db or default_db()
    if not path.is_file():
        raise fail(f"{path}: no history database here; pass --db DIR/xlplan.duckdb "
                   "(xlplan consolidate writes one into its output folder)")
    try:
        con = store.connect(path, read_only=read_only)
    except (store.DatabaseBusy, store.DatabaseError) as exc:
        raise fail(str(exc)) from None
    try:
        yield con
    finally:
        con.close()


def unit_cells(loaded: Any, prior: Any, unit: str) -> set[tuple[str, str]]:
    """(sheet, cell) of everything xlplan writes in the unit's workbook (its dry run)."""
    from xlplan.workbook.build import predict_unit
    from xlplan.workbook.context import BuildContext

    book, _ = predict_unit(BuildContext(loaded, prior), unit, {}, manifest=False)
    return {(c.sheet, c.ref) for c in book.cells}


@app.command("review")
def review_cmd(
    plan: PlanArg,
    unit: UnitArg,
    action: Annotated[Action, typer.Argument(help="approve, return, reject or reopen.",
                                             show_default=False)],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who decides (default: the operating-system user).",
        show_default=False)] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="Why; the unit sees it.",
                                                show_default=False)] = None,
    note: Annotated[list[str] | None, typer.Option(
        "--note", help="A note on one cell, 'SHEET!CELL: text' (repeatable; return/reject).",
        show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="The submission reviewed (default: the unit's current file).",
        show_default=False)] = None,
) -> None:
    """Approve, return (for changes), reject or reopen a unit's submission.

    Acts on the unit's current counted file; every decision is an audit event.
    Approval locks the file: a newer one waits until the unit is reopened."""
    from xlplan.consolidate.run import sha256_of
    from xlplan.season.review import ReviewError, check_notes, decide, parse_note

    loaded, prior = open_plan(plan)
    units = _input_units(loaded, prior)
    if unit not in units:
        raise fail(f"unknown unit {unit!r}: the units that fill a workbook are "
                   f"{', '.join(units)}")
    try:
        notes = tuple(parse_note(n) for n in note or [])
        if notes:
            check_notes(list(notes), unit_cells(loaded, prior, unit), unit)
        named = None
        if file is not None:
            if not file.is_file():
                raise ReviewError(f"{file}: no such file")
            named = (file, sha256_of(file))
        with history(db) as con:
            event = decide(con, loaded.plan.id, loaded.spec_hash, unit, action.value,
                           by or audit.operating_system_user(), comment, notes, named)
    except ReviewError as exc:
        raise fail(str(exc)) from None
    console.print(text(f"{unit}: {event.action} by {event.actor}"
                       + (f" ({len(event.notes)} cell notes)" if event.notes else "")))


def _input_units(loaded: Any, prior: Any) -> list[str]:
    from xlplan.engine.numbers import PlanNumbers

    return list(PlanNumbers(loaded.plan, prior).input_units)


@app.command("log")
def log_cmd(
    plan: PlanArg,
    db: DbOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit's events.",
                                             show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON.")] = False,
) -> None:
    """Print the audit trail: every event of the season, in order."""
    loaded, _ = open_plan(plan)
    with history(db, read_only=True) as con:
        frame = audit.log(con, loaded.plan.id, unit)
    rows = [_event_json(r) for r in frame.to_dict("records")]
    if as_json:
        sys.stdout.write(json.dumps({"plan": loaded.plan.id, "events": rows},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    view = Table(title=text(f"Audit trail of {loaded.plan.id}"), title_justify="left")
    for col in ("#", "when", "event", "action", "by", "unit", "file", "comment"):
        view.add_column(col, overflow="fold", max_width=70 if col == "comment" else None)
    for r in rows:
        said = "; ".join([r["comment"] or "", *r["notes"]]).strip("; ")
        view.add_row(str(r["seq"]), r["at"][:16], r["event"], text(r["action"] or ""),
                     text(r["actor"]), text(r["unit"] or ""), (r["sha256"] or "")[:12],
                     text(said))
    print_table(view)


def _event_json(row: dict[Any, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return None if value is None or (isinstance(value, float) and value != value) \
            else value

    notes = row.get("notes")
    return {"seq": int(row["seq"]), "at": str(row["happened_at"]), "event": row["event"],
            "action": plain(row["action"]), "actor": row["actor"], "unit": plain(row["unit"]),
            "sha256": plain(row["sha256"]), "comment": plain(row["comment"]),
            "detail": json.loads(row["detail"]) if plain(row["detail"]) else None,
            "notes": [str(n) for n in notes] if notes is not None and len(notes) else []}
