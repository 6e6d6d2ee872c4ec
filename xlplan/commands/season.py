"""The plan through the season: ``xlplan revisions`` and ``xlplan reissue``.

A plan changes mid-season; each state of its file is a revision recorded in the history
database (:mod:`xlplan.consolidate.revisions`), workbooks built from an earlier one are
carried over by consolidation, and ``reissue`` writes the current workbooks with each
unit's inputs already filled in.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xlplan.commands.app import (
    LanguageOption,
    PlanArg,
    app,
    console,
    fail,
    open_plan,
    print_table,
)
from xlplan.commands.untrusted import text
from xlplan.database import DatabaseError
from xlplan.spec.loader import LoadedPlan


def record_revision(loaded: LoadedPlan, db: Path, seen_by: str,
                    built: Sequence[tuple[str, Path]] = ()) -> None:
    """Record the plan's revision in the history database, and a ``built`` audit event for
    each unit workbook in ``built`` (unit, path), all in one transaction; a database that
    cannot be written is a warning (the workbooks are written already), not a failure."""
    from xlplan.consolidate import revisions, store
    from xlplan.consolidate.run import file_sha256
    from xlplan.season import audit

    try:
        con = store.connect(db)
    except DatabaseError as exc:
        typer.echo(f"warning: the plan revision was not recorded: {exc}", err=True)
        return
    try:
        revisions.record_file(con, loaded, seen_by)
        actor = audit.operating_system_user()
        events = [audit.Event("built", loaded.plan.id, actor, unit, file_sha256(path),
                              detail={"file": path.name, "revision": loaded.spec_hash})
                  for unit, path in built]
        con.execute("BEGIN TRANSACTION")
        try:
            for event in events:
                audit.append(con, event)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except (OSError, ValueError) as exc:
        typer.echo(f"warning: the plan revision was not recorded: {exc}", err=True)
    finally:
        con.close()


DbArg = Annotated[Path, typer.Option("--db", help="The history database (DuckDB).",
                                     show_default=False)]


@app.command("revisions")
def revisions_cmd(
    plan: PlanArg,
    db: DbArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List the plan's revisions the history has seen, oldest first, with what changed."""
    from xlplan.consolidate import store

    loaded, _ = open_plan(plan)
    if not db.is_file():
        raise fail(f"{db}: no history database here")
    try:
        con = store.connect(db, read_only=True)
    except DatabaseError as exc:
        raise fail(str(exc)) from None
    try:
        rows = con.execute("SELECT revision, spec_hash, first_seen, seen_by, summary FROM "
                           "revisions WHERE plan_id=? ORDER BY revision",
                           [loaded.plan.id]).fetchall()
    finally:
        con.close()
    docs = [{"revision": r, "spec_hash": h, "first_seen": str(t), "seen_by": b, "summary": s,
             "current": h == loaded.spec_hash} for r, h, t, b, s in rows]
    if as_json:
        sys.stdout.write(json.dumps(docs, ensure_ascii=False, indent=2) + "\n")
        return
    view = Table(title=f"Revisions of {loaded.plan.id}", title_justify="left")
    for col in ("revision", "spec hash", "first seen", "by", "what changed"):
        view.add_column(col, overflow="fold")
    for d in docs:
        mark = " (current)" if d["current"] else ""
        view.add_row(str(d["revision"]) + mark, str(d["spec_hash"])[:12], d["first_seen"][:19],
                     text(str(d["seen_by"])), text(str(d["summary"])))
    print_table(view)
    if not any(d["current"] for d in docs):
        console.print("the plan file as it is now is not recorded yet (build or consolidate "
                      "records it)")


@app.command("reissue")
def reissue_cmd(
    plan: PlanArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder (workbooks go to "
                                      "OUT/units).")],
    db: Annotated[Path | None, typer.Option(
        "--db", help="The history database (default: OUT/xlplan.duckdb).",
        show_default=False)] = None,
    units: Annotated[list[str] | None, typer.Option(
        "--units", help="Only these units (repeat the option, or a comma list).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")
                       ] = False,
    language: LanguageOption = None,
) -> None:
    """Write the current plan's unit workbooks with each unit's last accepted inputs filled
    in (carried by key), and a Changes sheet saying what changed for the unit since."""
    from xlplan.consolidate import revisions, store
    from xlplan.consolidate.reissue import reissue
    from xlplan.workbook.context import BuildContext

    loaded, prior = open_plan(plan, language)
    ctx = BuildContext(loaded, prior)
    path = db or out / "xlplan.duckdb"
    if not path.is_file():
        raise fail(f"{path}: no history database here; pass --db (the one xlplan consolidate "
                   "wrote)")
    chosen = [u.strip() for part in units for u in part.split(",") if u.strip()] \
        if units else None
    try:
        con = store.connect(path)
    except DatabaseError as exc:
        raise fail(str(exc)) from None
    try:
        revisions.record_file(con, loaded, "reissue")
        done = reissue(ctx, con, out, chosen)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--units") from None
    except OSError as exc:
        raise fail(f"cannot write to {exc.filename or out}: {exc.strerror or exc}") from None
    finally:
        con.close()
    if as_json:
        sys.stdout.write(json.dumps([d.to_json() for d in done], ensure_ascii=False,
                                    indent=2) + "\n")
        return
    for d in done:
        source = f"{d.carried} inputs from {d.from_file}" if d.from_file else "fresh (nothing " \
            "accepted from this unit yet)"
        console.print(text(f"  {d.unit}: {d.built.path} — {source}"))
        for why in d.not_carried[:5]:
            console.print(text(f"      not carried: {why}"))
