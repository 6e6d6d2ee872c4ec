"""``xlplan version approve`` and ``xlplan versions``: the plan's numbers as named versions
(budget, forecasts, actual) kept in the history database (:mod:`xlplan.tracking.versions`);
``xlplan reforecast --name`` makes the forecasts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xlplan.commands.app import PlanArg, app, fail, open_plan, print_table
from xlplan.commands.untrusted import text
from xlplan.database import DatabaseError

version_app = typer.Typer(help="Named versions of the plan's numbers (budget, forecasts).",
                          no_args_is_help=True)
app.add_typer(version_app, name="version")
DbArg = Annotated[Path, typer.Option("--db", help="The history database (DuckDB).",
                                     show_default=False)]
ReplaceOption = Annotated[bool, typer.Option(
    "--replace", help="Replace a version of that name (otherwise an error).")]


def connect(db: Path, read_only: bool = False) -> Any:
    """The database with the versions' tables (and the actuals' and revisions')."""
    from xlplan import database
    from xlplan.consolidate import revisions
    from xlplan.tracking import store, versions

    if read_only and not db.is_file():
        raise fail(f"{db}: no history database here")
    try:
        return database.connect(db, store.SCHEMA + revisions.SCHEMA + versions.SCHEMA,
                                read_only)
    except DatabaseError as exc:
        raise fail(str(exc)) from None


@version_app.command("approve")
def approve_cmd(plan: PlanArg, db: DbArg, replace: ReplaceOption = False) -> None:
    """Name the current plan revision's targets the budget (unit × product × channel ×
    month)."""
    from xlplan.consolidate import revisions
    from xlplan.tracking import versions
    from xlplan.tracking.phased_targets import revenue_targets

    loaded, prior = open_plan(plan)
    version = versions.budget(revenue_targets(loaded.plan, prior), loaded.spec_hash)
    con = connect(db)
    try:
        revisions.record_file(con, loaded, "version approve")
        versions.save(con, loaded.plan.id, version, float(loaded.plan.currency.smallest_unit),
                      replace)
    except versions.VersionError as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
    su = loaded.plan.currency.smallest_unit
    typer.echo(f"budget of {loaded.plan.id}: revision {loaded.spec_hash[:12]}…, "
               f"{len(version.cells):,} cells, total {version.total * su:,} "
               f"{loaded.plan.currency.code}")


@app.command("versions")
def versions_cmd(
    plan: PlanArg,
    db: DbArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List the plan's versions (budget, forecasts, actual) with their totals."""
    from xlplan.tracking import versions

    loaded, _ = open_plan(plan)
    con = connect(db, read_only=False)
    try:
        docs = versions.listed(con, loaded.plan.id)
    finally:
        con.close()
    if as_json:
        sys.stdout.write(json.dumps(docs, ensure_ascii=False, indent=2) + "\n")
        return
    view = Table(title=f"Versions of {loaded.plan.id}", title_justify="left")
    for col in ("name", "kind", "revision", "as of", "created", "total"):
        view.add_column(col, justify="right" if col == "total" else "left")
    for d in docs:
        view.add_row(text(str(d["name"])), str(d["kind"]), str(d["revision"])[:12],
                     str(d["as_of"] or ""), str(d["created"]), f"{d['total']:,.2f}")
    print_table(view)


def save_forecast(loaded: Any, targets: Any, revenue: Any, frame: Any, as_of: Any, name: str,
                  keep_annual: bool, replace: bool, db: Path) -> None:
    """Store the per-unit re-forecast as version ``forecast-NAME``, and the actuals as they
    stand as version ``actual`` (replaced each time), or exit 1 with the reason."""
    from xlplan.consolidate import revisions
    from xlplan.tracking import versions

    plan = loaded.plan
    su = float(plan.currency.smallest_unit)
    cube = versions.actual_cube(frame, targets, plan.north_star.metric, su)
    try:
        version = versions.forecast(plan, targets, revenue, cube, as_of,
                                    versions.FORECAST_PREFIX + name, loaded.spec_hash,
                                    keep_annual)
    except versions.VersionError as exc:
        raise fail(f"{loaded.path}: {exc}") from None
    actual = versions.actual_version(targets, cube, revenue, loaded.spec_hash)
    con = connect(db)
    try:
        revisions.record_file(con, loaded, "reforecast")
        versions.save(con, plan.id, version, su, replace)
        versions.save(con, plan.id, actual, su, replace=True)
    except versions.VersionError as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
