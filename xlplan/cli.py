"""The ``xlplan`` command line.

Exit codes: 0 success, 1 invalid input (the errors go to stderr, each naming
the file, line or cell), 2 usage errors (unknown option, missing argument).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from xlplan import commands
from xlplan.engine.allocate import AllocationError
from xlplan.engine.decompose import decompose
from xlplan.engine.increment import bridge
from xlplan.engine.org import OrgTree
from xlplan.spec import LoadedPlan, PlanError, json_schema, load_plan
from xlplan.spec.prior_year import DataFileError, PriorYear, read_prior_year
from xlplan.workbook.build import Built, build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample
from xlplan.workbook.manifest import ManifestError

app = typer.Typer(
    help="Annual operating plans that live in Excel: plan spec, targets, workbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# never wrap a path mid-name; when the output is piped or captured (where rich assumes 80
# columns and would cut numbers in tables short), render 160 wide
console = Console(highlight=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else 160)

PlanArg = Annotated[Path, typer.Argument(help="The plan file (YAML).", metavar="PLAN",
                                         show_default=False)]
DIMENSIONS = ("org", "product", "channel", "month", "quarter")
STARTER = "small-plan.yaml"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def print_table(view: Table) -> None:
    """A table on standard output (one place for how tables are shown)."""
    console.print(view)


def fail(message: str) -> typer.Exit:
    """Print an input error to stderr and return the exit for invalid input (1)."""
    typer.echo(message, err=True)
    return typer.Exit(1)


def open_plan(path: Path) -> tuple[LoadedPlan, PriorYear | None]:
    """Load and validate a plan and its prior-year file, or exit 1 with every problem."""
    try:
        loaded = load_plan(path)
        return loaded, read_prior_year(loaded)
    except (PlanError, DataFileError) as exc:
        raise fail(str(exc)) from None


def money(units: int, smallest_unit: Decimal) -> Decimal:
    return Decimal(units) * smallest_unit


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the starter plan.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Write a starter plan (plan.yaml and its prior-year actuals) to edit."""
    directory.mkdir(parents=True, exist_ok=True)
    source = resources.files("xlplan.templates")
    targets = {STARTER: directory / "plan.yaml", "small-prior-year.csv":
               directory / "small-prior-year.csv"}
    clash = [str(t) for t in targets.values() if t.exists()]
    if clash and not force:
        raise fail(f"not overwriting {', '.join(clash)} (use --force)")
    for name, target in targets.items():
        with resources.as_file(source / name) as src:
            shutil.copyfile(src, target)
    plan_file = targets[STARTER]
    console.print(f"wrote {plan_file} — edit it, then run: xlplan validate {plan_file}")


@app.command()
def validate(plan: PlanArg) -> None:
    """Check a plan file; list every problem with its line, or summarise the plan."""
    loaded, prior = open_plan(plan)
    p = loaded.plan
    try:
        targets = decompose(p, prior).org_targets
    except AllocationError as exc:
        raise fail(f"{plan}: {exc}") from None
    b = bridge(p)
    su = p.currency.smallest_unit
    tree = OrgTree.from_units(p.units)
    console.print(f"[green]ok[/green]: {p.id} — {p.name}")
    console.print(f"  units {len(p.units)} (depth {max(tree.depth(c) for c in tree.units)}), "
              f"products {len(p.products)}, channels {len(p.channels)}, "
              f"OKRs {len(p.okrs)}, KPIs {len(p.bsc.kpis)}, risks {len(p.risks)}")
    console.print(f"  target {money(targets[tree.root], su):,} {p.currency.code}; increment "
              f"{money(b.increment, su):,}; levers cover {money(b.covered, su):,}; "
              f"uncovered gap {money(b.gap, su):,}")
    for lever in b.apart:
        console.print(f"  {lever.id} ({lever.kind}, {money(lever.amount, su):,}) counts toward a "
                      f"profit increment, not {p.north_star.metric}: listed apart")
    if prior is not None:
        console.print(f"  prior-year actuals: {len(prior.frame)} rows from {prior.file}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of a plan file (for editor completion)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


def _parse_by(by: str) -> list[str]:
    dims = [d.strip() for d in by.split(",") if d.strip()]
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad or not dims:
        raise typer.BadParameter(f"expected a comma list of {', '.join(DIMENSIONS)}; got {by!r}",
                                 param_hint="--by")
    return dims


@app.command()
def targets(
    plan: PlanArg,
    by: Annotated[str, typer.Option(help="Dimensions to group by: org,product,channel,month "
                                         "(or quarter).")] = "org",
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    level: Annotated[int | None, typer.Option(help="Org depth of the rows (0 = company; "
                                                   "default: the workbook level).")] = None,
) -> None:
    """Print the target decomposition (org × product × channel × month)."""
    dims = _parse_by(by)
    loaded, prior = open_plan(plan)
    p = loaded.plan
    tree = OrgTree.from_units(p.units)
    depth = tree.input_level(p.workbooks.input_level) if level is None else level
    if not 0 <= depth <= max(tree.depth(c) for c in tree.units):
        raise typer.BadParameter(f"no units at depth {depth}", param_hint="--level")
    try:
        dec = decompose(p, prior, level=depth)
    except AllocationError as exc:
        raise fail(f"{plan}: {exc}") from None
    frame = dec.frame().rename(columns={"unit": "org"})
    frame["quarter"] = (frame["month"] - 1) // 3 + 1
    table = frame.groupby(dims, sort=False)["amount"].sum().reset_index()
    su = p.currency.smallest_unit
    table["amount"] = table["amount"].map(lambda a: money(int(a), su))
    total = money(int(dec.cube.sum()), su)
    if fmt == Format.json:
        rows = [{**{d: (int(r[d]) if d in ("month", "quarter") else r[d]) for d in dims},
                 "amount": float(r["amount"])} for r in table.to_dict("records")]
        doc = {"plan": p.id, "currency": p.currency.code, "level": depth, "by": dims,
               "total": float(total), "rows": rows}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    elif fmt == Format.csv:
        table.to_csv(sys.stdout, index=False)
    else:
        _print_table(table, dims, p.currency.code, total)


def _print_table(table: pd.DataFrame, dims: list[str], currency: str, total: Decimal) -> None:
    view = Table(show_footer=True)
    for d in dims:
        view.add_column(d, footer="total" if d == dims[0] else "")
    view.add_column(f"amount ({currency})", justify="right", footer=f"{total:,.2f}")
    for row in table.itertuples(index=False):
        values = list(row)
        view.add_row(*(str(v) for v in values[:-1]), f"{values[-1]:,.2f}")
    print_table(view)


def progress_bar(total: int, what: str) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A rich progress bar on a terminal (stderr), silence otherwise."""
    if not sys.stderr.isatty():
        return (lambda _name: None), (lambda: None)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task(what, total=total)
    bar.start()

    def step(name: str) -> None:
        bar.update(task, advance=1, description=f"{what} {name}")

    return step, bar.stop


WorkersOption = Annotated[int | None, typer.Option(
    help="Processes writing workbooks at once (default: one per core).", min=1)]


def _build(plan: Path, out_dir: Path, units: str | None, with_functions: bool = False,
           workers: int | None = None) -> tuple[BuildContext, list[Built]]:
    loaded, prior = open_plan(plan)
    ctx = BuildContext(loaded, prior)
    chosen = [u.strip() for u in units.split(",") if u.strip()] if units else None
    try:
        count = 1 + len(chosen if chosen is not None else ctx.input_units)
        step, stop = progress_bar(count, "building")
        try:
            built = build_all(ctx, out_dir, chosen, progress=step, with_functions=with_functions,
                              workers=workers or os.cpu_count() or 1)
        finally:
            stop()
    except AllocationError as exc:
        raise fail(f"{plan}: {exc}") from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--units") from None
    except OSError as exc:
        raise fail(f"cannot write to {exc.filename or out_dir}: {exc.strerror or exc}") from None
    return ctx, built


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
) -> None:
    """Write the master workbook and one input workbook per unit."""
    _, built = _build(plan, out, units, with_functions, workers)
    master = next(b for b in built if b.unit is None)
    unit_paths = {b.unit: str(b.path) for b in built if b.unit is not None}
    if as_json:
        doc = {"master": str(master.path), "units": unit_paths}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(f"master: {master.path}")
    for unit, path in unit_paths.items():
        console.print(f"  {unit}: {path}")


@app.command("fill-sample")
def fill_sample_cmd(
    workbook: Annotated[Path, typer.Argument(help="A unit workbook built by xlplan build.",
                                             metavar="WORKBOOK", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the filled copy.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same values).")] = 0,
    plan: Annotated[Path | None, typer.Option(help="The plan file, if it has moved since "
                                                   "the build.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Report as JSON.")] = False,
) -> None:
    """Fill a unit workbook's inputs with plausible values (for demos and tests)."""
    if not workbook.is_file():
        raise fail(f"{workbook}: file not found")
    try:
        filled = fill_sample(workbook, out, seed=seed, plan_path=plan)
    except ManifestError as exc:
        raise fail(str(exc)) from None
    except (PlanError, DataFileError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(filled.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        totals = ", ".join(f"{k} {v:,.2f}" for k, v in filled.totals.items())
        console.print(f"{filled.unit}: filled {filled.cells} input cells → {out} ({totals})")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("demo"),
    plan: Annotated[Path | None, typer.Option(help="Plan to use (default: the bundled "
                                                   "example).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for the sample submissions.")] = 7,
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
    ctx, built = _build(plan, out / "build", None)
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
    from xlplan.commands.consolidate import print_outcome
    from xlplan.consolidate.run import consolidate

    outcome = consolidate(plan, inbox, out / "consolidated")
    print_outcome(outcome)
    if outcome.views is not None:
        _print_gap(outcome.views.org, ctx)
    console.print(f"master: {built[0].path}\nunit workbooks: {out / 'build' / 'units'}\n"
                  f"sample submissions: {inbox} (stale: {stale or 'none'}, missing: "
                  f"{units[-1].unit if len(units) > 1 else 'none'})")


def _print_gap(org: pd.DataFrame, ctx: BuildContext) -> None:
    """Top-down target vs bottom-up commitment through the org tree."""
    view = Table(title="Top-down vs bottom-up", title_justify="left")
    for col in ("unit", "submitted", "target", "committed", "gap", "attainment", "status"):
        view.add_column(col, justify="left" if col == "unit" else "right")
    colour = {"G": "green", "Y": "yellow", "O": "dark_orange", "R": "red"}
    for row in org.to_dict("records"):
        committed = row["commitment"]
        has = committed == committed  # NaN: nothing submitted below this node
        view.add_row("  " * int(row["level"]) + str(row["code"]),
                     f"{row['submitted']}/{row['units']}", f"{row['target']:,.2f}",
                     f"{committed:,.2f}" if has else "—", f"{row['gap']:,.2f}" if has else "—",
                     f"{row['attainment']:.1%}" if has else "—",
                     Text(row["status"] or "—", style=colour.get(row["status"], "")))
    print_table(view)


def main() -> None:
    """Console-script entry point."""
    app()


# Commands defined in their own modules (consolidate, addin, tracking) register on ``app``.
commands.load()


if __name__ == "__main__":
    main()
