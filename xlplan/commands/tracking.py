"""``xlplan actuals``, ``xlplan track`` and ``xlplan reforecast``: following the plan through
the year (docs/METHOD.md step 4).

Databases: ``actuals`` and ``reforecast`` use ``xlplan.duckdb`` in the current
folder unless ``--db`` says otherwise; ``track -o DIR`` uses
``DIR/xlplan.duckdb`` (where ``xlplan consolidate -o DIR`` keeps the unit
workbooks' BSC inputs). Exit codes: 0 done, 1 bad input (each problem on
stderr with its file, row and column), 2 usage.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

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
    progress_bar,
)
from xlplan.engine.allocate import AllocationError
from xlplan.spec.loader import PlanError, load_plan
from xlplan.tracking import store
from xlplan.tracking.reader import ActualsError, columns_with, read_actuals

DB_NAME = "xlplan.duckdb"
DbOption = Annotated[Path | None, typer.Option(
    "--db", help="The actuals database (DuckDB). actuals and reforecast: default "
                 f"./{DB_NAME}; track: default DIR/{DB_NAME}.", show_default=False)]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Date to report as of (YYYY-MM-DD; default: the last day the revenue "
              "actuals cover).", show_default=False)]


def _date(text: str | None, option: str) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {text!r}",
                                 param_hint=option) from None


def _column_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        role, sep, name = item.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise typer.BadParameter(f"expected ROLE=NAME (e.g. date=日期), got {item!r}",
                                     param_hint="--column")
        out[role.strip().lower()] = name.strip()
    return out


def _connect(path: Path, read_only: bool = False) -> Any:
    try:
        return store.connect(path, read_only=read_only)
    except store.StoreError as exc:
        raise fail(str(exc)) from None


@app.command()
def actuals(
    plan: PlanArg,
    files: Annotated[list[Path], typer.Argument(help="CSV or Excel exports of actuals.",
                                                metavar="FILE…", show_default=False)],
    db: DbOption = None,
    column: Annotated[list[str] | None, typer.Option(
        "--column", help="Map a column: ROLE=NAME (roles: date, period, unit, product, "
                         "channel, measure, value); overrides tracking.columns.",
        show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel: the sheet to read (default: "
                                                   "tracking.sheet, else the first).")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Rows for a unit, product, channel, measure and period already "
                          "imported from another file are replaced (default: an error).")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Report as JSON.")] = False,
) -> None:
    """Import actuals (date or period, unit, product, channel, measure, value) into the database.

    Each file is checked whole and imported in one transaction: a file with any
    problem imports nothing (the others still do). The same file again changes
    nothing.
    """
    loaded, _ = open_plan(plan)
    p = loaded.plan
    try:
        columns = columns_with(p.tracking.columns, _column_map(column or []))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--column") from None
    con = _connect(db or Path(DB_NAME))
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    step, stop = progress_bar(len(files), "importing")
    try:
        for path in files:
            try:
                found = read_actuals(path, p, columns, sheet)
                done = store.import_file(con, p, found, replace)
                results.append({"file": str(path), "status": done.status, "rows": done.rows,
                                "replaced": done.replaced, "sha256": done.sha256})
            except ActualsError as exc:
                errors.append(str(exc))
                results.append({"file": str(path), "status": "error",
                                "problems": [pr.render(exc.file) for pr in exc.problems]})
            step(path.name)
    finally:
        stop()
        con.close()
    for message in errors:
        typer.echo(message, err=True)
    if as_json:
        sys.stdout.write(json.dumps({"plan": p.id, "db": str(db or Path(DB_NAME)),
                                     "files": results}, ensure_ascii=False, indent=2) + "\n")
    else:
        for r in results:
            if r["status"] == "imported":
                extra = f", replacing {r['replaced']}" if r["replaced"] else ""
                console.print(f"[green]imported[/green] {r['file']}: {r['rows']:,} rows{extra}")
            elif r["status"] == "already imported":
                console.print(f"[bright_black]unchanged[/bright_black] {r['file']}: already "
                              f"imported ({r['rows']:,} rows)")
    if errors:
        raise typer.Exit(1)


def _load_for_tracking(plan: Path, db: Path, forecast: Path | None = None,
                       language: LanguageOption = None
                       ) -> tuple[Any, Any, Any, Any]:
    """Plan, prior year, actuals table and forecast plan, or exit 1 with the reason."""
    loaded, prior = open_plan(plan, language)
    fc = None
    if forecast is not None:
        try:
            fc = load_plan(forecast).plan
        except PlanError as exc:
            raise fail(str(exc)) from None
    if not db.is_file():
        hint = (f"; ./{DB_NAME} exists (xlplan actuals writes there): pass --db {DB_NAME}"
                if db != Path(DB_NAME) and Path(DB_NAME).is_file() else "")
        raise fail(f"{db}: no such database; import actuals first (xlplan actuals "
                   f"{plan} FILE… --db {db}){hint}")
    con = _connect(db, read_only=True)
    try:
        frame = store.load_actuals(con, loaded.plan)
    finally:
        con.close()
    return loaded, prior, frame, fc


def _last_revenue_day(plan: Any, frame: Any, prior: Any, database: Path) -> dt.date:
    """``track``'s default as-of date: the last day any revenue actual covers (a month row
    covers its month). Not today: a board of a year not yet started, or long over, says
    nothing, and the last actuals are what there is to report on. Actuals lie within the
    fiscal year (the import refuses others), so this is never past its end."""
    from xlplan.tracking.compare import revenue_actuals
    from xlplan.tracking.phased_targets import revenue_targets

    try:
        targets = revenue_targets(plan, prior)
    except AllocationError as exc:
        raise fail(f"{plan.id}: {exc}") from None
    revenue = revenue_actuals(frame, targets, plan.north_star.metric,
                              float(plan.currency.smallest_unit))
    if revenue.last_day < 0:
        raise fail(f"{database}: no {plan.north_star.metric} actuals for plan {plan.id}, so "
                   "no date to report as of: import some (xlplan actuals) or pass --as-of")
    return targets.calendar.days[revenue.last_day]


@app.command()
def track(
    plan: PlanArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    db: DbOption = None,
    as_of: AsOfOption = None,
    forecast: Annotated[Path | None, typer.Option(
        help="A re-forecast plan (xlplan reforecast) to show beside the budget.",
        show_default=False)] = None,
    compare: Annotated[str | None, typer.Option(
        "--compare", help="Two or three versions from the database to show side by side with "
                          "the actuals on a Versions sheet, comma-separated (e.g. "
                          "budget,forecast-q1; actual: the actuals as they stand; xlplan "
                          "versions lists them).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the warnings and the "
                                                         "headline figures as JSON.")] = False,
    language: LanguageOption = None,
) -> None:
    """Write the tracking board DIR/<plan-id>-board-<date>.xlsx: attainment, warnings, BSC,
    OKR, budget use and the quarterly review (and, with --compare, versions side by side).

    Without --as-of the board is as of the last day the revenue actuals in the database
    cover (within the fiscal year)."""
    from xlplan.tracking.board import write_board
    from xlplan.tracking.track import TrackError
    from xlplan.tracking.track import track as run_track

    day = _date(as_of, "--as-of") if as_of is not None else None
    database = db or out / DB_NAME
    names = _compare_names(compare)
    loaded, prior, frame, fc = _load_for_tracking(plan, database, forecast, language)
    stored = _stored_versions(database, loaded.plan.id, names)
    if frame.empty:
        hint = ""
        if db is None and Path(DB_NAME).is_file():
            hint = f" (./{DB_NAME} exists: pass --db {DB_NAME} to use it)"
        raise fail(f"{database}: no actuals for plan {loaded.plan.id}{hint}")
    if day is None:
        day = _last_revenue_day(loaded.plan, frame, prior, database)
    step, stop = progress_bar(2, "tracking")
    try:
        try:
            result = run_track(loaded.plan, frame, day, prior, fc)
        except (TrackError, AllocationError) as exc:
            raise fail(f"{plan}: {exc}") from None
        step("board")
        comparison = None
        if names:
            from xlplan.tracking.version_compare import compare_versions

            comparison = compare_versions(result, names, stored)
        try:
            path, _ = write_board(result, out, comparison)
        except OSError as exc:
            raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
        step("done")
    finally:
        stop()
    if as_json:
        doc = {**result.to_json(), "board": str(path), "db": str(database)}
        if comparison is not None:
            keys = [result.calendar.month_key(m) for m in range(12)]
            doc["comparison"] = comparison.to_json(loaded.plan.currency.smallest_unit, keys)
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    head = result.headline()
    through = result.through_date
    console.print(f"board: {path}")
    console.print(f"  as of {result.as_of}, revenue actuals through "
                  f"{through.isoformat() if through else '—'}")
    if head["ytd_actual"] is not None:
        console.print(f"  to date: actual {head['ytd_actual']:,.2f} of target "
                      f"{head['ytd_target']:,.2f} {head['currency']} "
                      f"({head['ytd_attainment']:.1%}, light {head['ytd_status']})")
    view = Table(title="Warnings")
    for col in ("level", "rule", "where", "since", "fired", "state", "who decides"):
        view.add_column(col)
    colour = {"red": "red", "orange": "dark_orange", "yellow": "yellow"}
    for a in result.alerts:
        view.add_row(f"[{colour[a.level]}]{a.level}[/]", a.rule, a.where, str(a.since),
                     str(a.fired), "open" if a.open else "closed", a.decider)
    if result.alerts:
        print_table(view)
    else:
        console.print("  no warnings")


def _compare_names(text: str | None) -> list[str]:
    """The versions ``--compare`` names: two or three, no repeats."""
    if text is None:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not 2 <= len(names) <= 3 or len(set(names)) != len(names):
        raise typer.BadParameter(f"expected two or three different version names separated by "
                                 f"commas (e.g. budget,forecast-q1), got {text!r}",
                                 param_hint="--compare")
    return names


def _stored_versions(database: Path, plan_id: str, names: list[str]) -> dict[str, Any]:
    """The named versions from the database (``actual`` is the actuals themselves), or exit
    1 naming the unknown ones and the versions stored."""
    from xlplan.tracking import versions
    from xlplan.tracking.version_compare import ACTUAL

    wanted = [n for n in names if n != ACTUAL]
    if not wanted:
        return {}
    con = _connect(database, read_only=True)
    try:
        stored = versions.stored_names(con, plan_id)
        unknown = [n for n in wanted if n not in stored]
        if unknown:
            known = [*(n for n in stored if n != ACTUAL), f"{ACTUAL} (the actuals)"]
            raise fail(f"{database}: no version {', '.join(map(repr, unknown))} of plan "
                       f"{plan_id}; there are: {', '.join(known)} (xlplan version approve and "
                       "xlplan reforecast --name make them)")
        return {n: versions.load(con, plan_id, n) for n in wanted}
    finally:
        con.close()


@app.command()
def reforecast(
    plan: PlanArg,
    as_of: Annotated[str, typer.Option("--as-of", help="Months ended by this date take their "
                                                       "actuals (YYYY-MM-DD).")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Also export the re-forecast as a plan file.",
        show_default=False)] = None,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Keep it in the database as version forecast-NAME, per unit × product "
                       "× channel × month (xlplan versions lists them).",
        show_default=False)] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace a version of that name (otherwise an error).")] = False,
    keep_annual: Annotated[bool, typer.Option(
        "--keep-annual/--update-annual",
        help="Keep the annual target (the rest of the year absorbs the variance) or carry "
             "the variance and the raise into a new annual target.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Report as JSON.")] = False,
) -> None:
    """Re-forecast the rest of the year after the actuals: kept as a version in the database
    (--name) and/or exported as a plan file (-o); the plan file itself is never changed."""
    from xlplan.tracking.compare import revenue_actuals
    from xlplan.tracking.phased_targets import revenue_targets
    from xlplan.tracking.plan_file import write_plan
    from xlplan.tracking.reforecast import ReforecastError
    from xlplan.tracking.reforecast import reforecast as run_reforecast

    day = _date(as_of, "--as-of")
    if out is None and name is None:
        raise typer.BadParameter("say where the re-forecast goes: --name NAME (a version in "
                                 "the database) and/or -o FILE (a plan file)", param_hint="--name")
    if out is not None and out.resolve() == plan.resolve():
        raise typer.BadParameter("would overwrite the plan itself", param_hint="--out")
    loaded, prior, frame, _ = _load_for_tracking(plan, db or Path(DB_NAME))
    p = loaded.plan
    try:
        targets = revenue_targets(p, prior)
        revenue = revenue_actuals(frame, targets, p.north_star.metric,
                                  float(p.currency.smallest_unit))
        rf = run_reforecast(p, targets, revenue, day, keep_annual)
    except (ReforecastError, AllocationError) as exc:
        raise fail(f"{plan}: {exc}") from None
    if name is not None:
        from xlplan.commands.versions import save_forecast

        save_forecast(loaded, targets, revenue, frame, day, name, keep_annual, replace,
                      db or Path(DB_NAME))
    try:
        if out is not None:
            write_plan(loaded, rf, out)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    su = p.currency.smallest_unit
    cal = targets.calendar
    months = [{"month": cal.month_key(m), "plan": float(rf.original[m] * su),
               "actual": float(rf.actual[m] * su) if m < rf.closed else None,
               "forecast": float(rf.months[m] * su)} for m in range(12)]
    if as_json:
        doc = {"plan": p.id, "as_of": rf.as_of.isoformat(), "out": str(out) if out else None,
               "version": f"forecast-{name}" if name else None,
               "closed_months": rf.closed, "beat": rf.beat, "raise": rf.raise_,
               "raised_months": [cal.month_key(m) for m in rf.raised],
               "keep_annual": rf.keep_annual, "annual_before": float(rf.annual_before * su),
               "annual_after": float(rf.annual_after * su), "note": rf.note, "months": months}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    view = Table(title=f"{p.id}: re-forecast as of {rf.as_of}")
    for col in ("month", "plan", "actual", "forecast"):
        view.add_column(col, justify="left" if col == "month" else "right")
    for row in months:
        view.add_row(str(row["month"]), f"{row['plan']:,.2f}",
                     "" if row["actual"] is None else f"{row['actual']:,.2f}",
                     f"{row['forecast']:,.2f}")
    print_table(view)
    if rf.note:
        console.print(rf.note)
    wrote = f"; wrote {out} (xlplan validate {out})" if out else ""
    kept = f"; kept as version forecast-{name}" if name else ""
    console.print(f"annual {rf.annual_before * su:,} → {rf.annual_after * su:,} "
                  f"{p.currency.code}{kept}{wrote}")
