"""``xlplan init``, ``validate``, ``schema`` and ``targets``: the plan file and its numbers."""

from __future__ import annotations

import json
import shutil
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from xlplan.commands.app import (
    Format,
    Language,
    LanguageOption,
    PlanArg,
    app,
    console,
    fail,
    open_plan,
    print_table,
)
from xlplan.engine.allocate import AllocationError
from xlplan.engine.decompose import decompose
from xlplan.engine.increment import bridge
from xlplan.engine.org import OrgTree
from xlplan.engine.rounding import to_major as money
from xlplan.spec import json_schema
from xlplan.spec.convert import export_setup
from xlplan.spec.loader import load_plan

DIMENSIONS = ("org", "product", "channel", "month", "quarter")
# the starter plan of each language: the same plan, its names and comments in that language
STARTERS = {Language.en: "small-plan.yaml", Language.zh: "small-plan-zh.yaml"}


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the starter plan.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    excel: Annotated[bool, typer.Option("--excel", help="Write the plan as a setup workbook "
                                                        "(plan.xlsx) to fill in Excel.")] = False,
    language: LanguageOption = None,
) -> None:
    """Write a starter plan (plan.yaml, or plan.xlsx with --excel, and its prior-year
    actuals) to edit; with --language zh, a Chinese one (names, comments, workbooks)."""
    directory.mkdir(parents=True, exist_ok=True)
    source = resources.files("xlplan.templates")
    plan_name = "plan.xlsx" if excel else "plan.yaml"
    starter = STARTERS[language or Language.en]
    targets = {starter: directory / plan_name, "small-prior-year.csv":
               directory / "small-prior-year.csv"}
    clash = [str(t) for t in targets.values() if t.exists()]
    if clash and not force:
        raise fail(f"not overwriting {', '.join(clash)} (use --force)")
    for name, target in targets.items():
        with resources.as_file(source / name) as src:
            if excel and name == starter:
                export_setup(load_plan(src), target)
            else:
                shutil.copyfile(src, target)
    plan_file = targets[starter]
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
