"""``xlplan build``, ``fill-sample`` and ``demo``: the workbooks, and the whole round trip."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from xlplan.cluster import ClusterError, connected
from xlplan.commands.app import (
    Language,
    LanguageOption,
    PlanArg,
    SchedulerOption,
    app,
    console,
    fail,
    open_plan,
    print_table,
    progress_bar,
)
from xlplan.commands.season import record_revision
from xlplan.commands.untrusted import text
from xlplan.consolidate.run import consolidate
from xlplan.engine.allocate import AllocationError
from xlplan.spec.loader import PlanError
from xlplan.spec.prior_year import DataFileError
from xlplan.workbook.build import Built, build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample
from xlplan.workbook.manifest import ManifestError

WorkersOption = Annotated[int | None, typer.Option(
    help="Processes writing workbooks at once (default: one per core).", min=1)]


def _build(plan: Path, out_dir: Path, units: str | None, with_functions: bool = False,
           workers: int | None = None, scheduler: str | None = None,
           language: LanguageOption = None) -> tuple[BuildContext, list[Built]]:
    loaded, prior = open_plan(plan, language)
    ctx = BuildContext(loaded, prior)
    chosen = [u.strip() for u in units.split(",") if u.strip()] if units else None
    try:
        count = 1 + len(chosen if chosen is not None else ctx.input_units)
        step, stop = progress_bar(count, "building")
        try:
            if scheduler:
                built = _build_on_cluster(scheduler, ctx, out_dir, chosen, step, with_functions)
            else:
                built = build_all(ctx, out_dir, chosen, progress=step,
                                  with_functions=with_functions,
                                  workers=workers or os.cpu_count() or 1)
        finally:
            stop()
    except ClusterError as exc:
        raise fail(str(exc)) from None
    except AllocationError as exc:
        raise fail(f"{plan}: {exc}") from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--units") from None
    except OSError as exc:
        raise fail(f"cannot write to {exc.filename or out_dir}: {exc.strerror or exc}") from None
    return ctx, built


def _build_on_cluster(scheduler: str, ctx: BuildContext, out_dir: Path,
                      units: list[str] | None, step: Callable[[str], None],
                      with_functions: bool) -> list[Built]:
    from xlplan.workbook.cluster import build_on_cluster

    with connected(scheduler) as client:
        return build_on_cluster(client, ctx, out_dir, units, step, with_functions)


@app.command()
def build(
    plan: PlanArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("out"),
    units: Annotated[str | None, typer.Option(help="Only these units (comma list).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print paths as JSON.")] = False,
    with_functions: Annotated[bool, typer.Option(
        "--with-functions", help="Add a Live sheet to the master that uses the XLPLAN_* "
                                 "functions (for users of the xlplan add-in).")] = False,
    workers: WorkersOption = None,
    db: Annotated[Path | None, typer.Option(
        "--db", help="History database that records this plan revision (default: "
                     "OUT/xlplan.duckdb, where consolidate -o OUT keeps its history).",
        show_default=False)] = None,
    scheduler: SchedulerOption = None,
    language: LanguageOption = None,
) -> None:
    """Write the master workbook and one input workbook per unit.

    With --scheduler the workbooks are written by Dask workers into OUT, which
    must be a folder every worker sees at the same path."""
    ctx, built = _build(plan, out, units, with_functions, workers, scheduler,
                        language)
    record_revision(ctx.loaded, db or out / "xlplan.duckdb", "build",
                    [(b.unit, b.path) for b in built if b.unit is not None])
    master = next(b for b in built if b.unit is None)
    unit_paths = {b.unit: str(b.path) for b in built if b.unit is not None}
    if as_json:
        doc = {"master": str(master.path), "units": unit_paths}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(text(f"master: {master.path}"))
    for unit, path in unit_paths.items():
        console.print(text(f"  {unit}: {path}"))


@app.command("fill-sample")
def fill_sample_cmd(
    workbook: Annotated[Path, typer.Argument(help="A unit workbook built by xlplan build.",
                                             metavar="WORKBOOK", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the filled copy.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same values).")] = 0,
    plan: Annotated[Path | None, typer.Option(help="The plan file, if it has moved since "
                                                   "the build.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Report as JSON.")] = False,
    language: Annotated[Language | None, typer.Option(
        "--language", help="The filled copy's words: en or zh (default: the workbook's).",
        show_default=False)] = None,
) -> None:
    """Fill a unit workbook's inputs with plausible values (for demos and tests)."""
    if not workbook.is_file():
        raise fail(f"{workbook}: file not found")
    try:
        filled = fill_sample(workbook, out, seed=seed, plan_path=plan,
                             language=language.value if language else None)
    except ManifestError as exc:
        raise fail(str(exc)) from None
    except (PlanError, DataFileError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(filled.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        totals = ", ".join(f"{k} {v:,.2f}" for k, v in filled.totals.items())
        console.print(text(f"{filled.unit}: filled {filled.cells} input cells → {out} "
                           f"({totals})"))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("demo"),
    plan: Annotated[Path | None, typer.Option(help="Plan to use (default: the bundled "
                                                   "example).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for the sample submissions.")] = 7,
    language: LanguageOption = None,
) -> None:
    """The whole round trip on the bundled example: build, fill, consolidate.

    Every unit but the last gets a sample submission in DIR/inbox; one of them
    is stale (a number typed after calculation was set to manual), the last
    unit sends nothing. Then the inbox is consolidated into DIR/consolidated.
    """
    if plan is None:
        plan = out / "plan" / "example-plan.yaml"
        plan.parent.mkdir(parents=True, exist_ok=True)
        source = resources.files("xlplan.templates")
        for name in ("example-plan.yaml", "example-prior-year.csv"):
            with resources.as_file(source / name) as src:
                shutil.copyfile(src, plan.parent / name)
    ctx, built = _build(plan, out / "build", None, language=language)
    inbox = out / "inbox"
    units = [b for b in built if b.unit is not None]
    sending = units[:-1] if len(units) > 1 else units
    stale = sending[1].unit if len(sending) > 2 else None
    step, stop = progress_bar(len(sending), "filling")
    try:
        for b in sending:
            submission = inbox / f"{ctx.plan.id}-{b.unit}-sample.xlsx"
            fill_sample(b.path, submission, seed=seed, plan_path=plan, stale=b.unit == stale)
            step(str(b.unit))
    finally:
        stop()
    # imported here so that ``xlplan --help`` lists consolidate's commands after these
    from xlplan.commands.consolidate import print_outcome

    outcome = consolidate(plan, inbox, out / "consolidated",
                          language=language.value if language else None)
    print_outcome(outcome)
    if outcome.views is not None:
        _print_gap(outcome.views.org, ctx)
    console.print(text(f"master: {built[0].path}\nunit workbooks: {out / 'build' / 'units'}\n"
                       f"sample submissions: {inbox} (stale: {stale or 'none'}, missing: "
                       f"{units[-1].unit if len(units) > 1 else 'none'})"))


def _print_gap(org: pd.DataFrame, ctx: BuildContext) -> None:
    """Top-down target vs bottom-up commitment through the org tree."""
    view = Table(title="Top-down vs bottom-up", title_justify="left")
    for col in ("unit", "submitted", "target", "committed", "gap", "attainment", "status"):
        view.add_column(col, justify="left" if col == "unit" else "right")
    colour = {"G": "green", "Y": "yellow", "O": "dark_orange", "R": "red"}
    for row in org.to_dict("records"):
        committed = row["commitment"]
        has = committed == committed  # NaN: nothing submitted below this node
        view.add_row(text("  " * int(row["level"]) + str(row["code"])),
                     f"{row['submitted']}/{row['units']}", f"{row['target']:,.2f}",
                     f"{committed:,.2f}" if has else "—", f"{row['gap']:,.2f}" if has else "—",
                     f"{row['attainment']:.1%}" if has else "—",
                     Text(row["status"] or "—", style=colour.get(row["status"], "")))
    print_table(view)
