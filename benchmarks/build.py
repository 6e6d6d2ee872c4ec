"""Benchmark: how long ``build_all`` takes against the cost of writing the same cells raw.

A plan with ``--units`` regions is generated from the bundled example plan (its
products, channels, calendar, OKRs, BSC, budget, risks and actions; the org is
replaced by company → 3 departments → N regions → 2-3 people, no prior year),
written as YAML to the output directory and loaded with ``load_plan``.

Four things are timed in the same run, alternating, over ``--rounds`` rounds
(medians are reported):

- **xlplan**: ``build_all(BuildContext(loaded, None), out, workers=W)``: the master and
  the N unit workbooks, engine included (a fresh context each round, so nothing is
  cached), in ``--workers`` processes (default one per core), as ``xlplan build`` does;
- **xlplan 1 process**: the same with ``workers=1``;
- **raw XlsxWriter** (the floor): for every workbook xlplan built, its recorded cells
  (``built.book.cells``) replayed into a plain ``xlsxwriter.Workbook``: labels with
  ``write_string``, given numbers and dates with ``write_number`` / ``write_datetime``,
  formulas with ``write_formula`` and the cached value, inputs as numbers or blank.
  No formats, no validation, no protection, no manifest;
- **openpyxl**: the same cells with ``ws.cell(...).value = ...`` (formulas as strings,
  so no cached values) and ``save``.

The replays use the cell lists captured from an untimed first xlplan build, turned
into (sheet, row, column, value) tuples beforehand, so only writing is timed.

    PYTHONPATH=. python benchmarks/build.py --units 50
    PYTHONPATH=. python benchmarks/build.py --quick     # N=3, one round: a CI smoke run
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter
import yaml
from timing import peak_rss_mb, timed  # benchmarks/timing.py
from xlsxwriter.utility import xl_cell_to_rowcol

from xlplan.spec.loader import LoadedPlan, load_plan
from xlplan.workbook.build import Built, build_all, build_master, build_unit
from xlplan.workbook.context import BuildContext

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "workbook_templates" / "example-plan.yaml"
DEPARTMENTS = ["DIV-N", "DIV-E", "DIV-S"]  # the example's: its OKRs refer to them
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
            "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo"]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Tao", "Ying",
         "Bo", "Na", "Hao", "Xin", "Qing", "Yu", "Kai", "Lan", "Rui", "Ping"]

# kinds of a replayed cell
LABEL, NUMBER, DATE, FORMULA, TEXT = range(5)

Replay = tuple[str, list[str], list[tuple[int, int, int, int, Any, Any]]]


# --- the plan ------------------------------------------------------------------------------

def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"


def generate_plan(n_units: int, seed: int) -> dict[str, Any]:
    """The example plan with company → departments → ``n_units`` regions → 2-3 people."""
    rng = random.Random(seed)
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("prior_year", None)
    units: list[dict[str, Any]] = [
        u for u in data["units"] if u.get("kind") in ("company", "department")
    ]
    assert [u["code"] for u in units[1:]] == DEPARTMENTS, "example-plan.yaml org changed"
    first_region: dict[str, str] = {}
    people: list[dict[str, Any]] = []
    width = max(3, len(str(n_units)))
    for i in range(n_units):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        code = f"R-{i + 1:0{width}d}"
        first_region.setdefault(dept, code)
        units.append({
            "code": code, "name": f"Region {i + 1}", "parent": dept, "kind": "region",
            "manager": _name(rng), "base": round(rng.uniform(2, 20), 1),
            "factors": {
                "priority": rng.choice([1.0, 1.0, 1.1, 1.2, 1.3, 1.5]),
                "maturity": rng.choice(["incubating", "growing", "growing", "mature"]),
                "new_hire_share": round(rng.uniform(0, 0.5), 2),
                "attainment_history": [round(rng.uniform(0.8, 1.15), 2) for _ in range(3)],
            },
        })
        for k in range(rng.choice([2, 3])):
            person: dict[str, Any] = {"code": f"{code}-{k + 1:02d}", "name": _name(rng),
                                      "parent": code, "kind": "person"}
            if rng.random() < 0.3:
                person["factors"] = {"maturity": rng.choice(["incubating", "mature"]),
                                     "priority": rng.choice([0.9, 1.1, 1.2])}
            people.append(person)
    # with fewer than 3 regions, a department without one would be a leaf: leave it out
    units = [u for u in units if u.get("kind") != "department" or u["code"] in first_region]
    data["units"] = units + people
    known = {u["code"] for u in data["units"]}
    fallback = first_region.get("DIV-S") or first_region[DEPARTMENTS[0]]
    for objective in data.get("okrs", []):  # e.g. O5 belongs to R-GD in the example
        unit = objective.get("unit")
        if unit is not None and unit not in known:
            objective["unit"] = "HQ" if unit in DEPARTMENTS else fallback
    return data


def write_plan(data: dict[str, Any], out: Path) -> LoadedPlan:
    n = sum(1 for u in data["units"] if u.get("kind") == "region")
    path = out / f"plan-{n}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_plan(path)


# --- the writers ------ ---------------------------------------------------------------------

def build_xlplan(loaded: LoadedPlan, out: Path, workers: int = 1) -> list[Built]:
    return build_all(BuildContext(loaded, None), out, workers=workers)


def capture(loaded: LoadedPlan, out: Path) -> tuple[list[Replay], int]:
    """One build in this process, each workbook's cells kept as (sheet index, row, col,
    kind, value, cached value) and its record of cells dropped (it is several times the
    size), so that N=500 fits in memory. Returns the replays and the number of cells."""
    ctx = BuildContext(loaded, None)
    replays: list[Replay] = []
    cells = 0
    for unit in [None, *ctx.input_units]:
        b = build_master(ctx, out) if unit is None else build_unit(ctx, out, unit)
        assert b.book is not None
        cells += len(b.book.cells)
        replays.append(replay(b))
    return replays, cells


def replay(b: Built) -> Replay:
    """A workbook's cells as (sheet index, row, col, kind, value, cached value)."""
    assert b.book is not None
    names = [sheet.name for sheet in b.book.sheets.values()]  # as the workbook shows them
    index = {name: i for i, name in enumerate(names)}
    cells = []
    for c in b.book.cells:
        content = c.content
        if c.kind == "label":
            kind = LABEL
        elif c.kind == "formula":
            kind = FORMULA
        elif content is None or content == "":
            continue  # a blank cell without a format: nothing to write
        elif isinstance(content, dt.date):
            kind = DATE
        elif isinstance(content, str):
            kind = TEXT
        else:
            kind = NUMBER
        row, col = xl_cell_to_rowcol(c.ref)
        cells.append((index[c.sheet], row, col, kind, content, c.expected))
    rel = b.path.name if b.unit is None else f"units/{b.path.name}"
    return rel, names, cells


def write_raw(replays: list[Replay], out: Path) -> None:
    (out / "units").mkdir(parents=True, exist_ok=True)
    for rel, names, cells in replays:
        wb = xlsxwriter.Workbook(str(out / rel))
        sheets = [wb.add_worksheet(name) for name in names]
        for s, row, col, kind, value, cached in cells:
            ws = sheets[s]
            if kind == FORMULA:
                ws.write_formula(row, col, value, None, cached)
            elif kind == NUMBER:
                ws.write_number(row, col, value)
            elif kind in (LABEL, TEXT):
                ws.write_string(row, col, value)
            else:
                ws.write_datetime(row, col, value)
        wb.close()


def write_openpyxl(replays: list[Replay], out: Path) -> None:
    (out / "units").mkdir(parents=True, exist_ok=True)
    for rel, names, cells in replays:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        sheets = [wb.create_sheet(name) for name in names]
        for s, row, col, kind, value, _ in cells:
            cell = sheets[s].cell(row=row + 1, column=col + 1)
            cell.value = value
            if kind != FORMULA and isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # a label that looks like a formula
        wb.save(out / rel)


# --- timing --------------------------------------------------------------------------------

HEADER = ("| N | files | cells | xlplan s | xlplan 1 process s | raw XlsxWriter s "
          "| openpyxl s | xlplan/raw | xlplan 1 process/raw | openpyxl/xlplan "
          "| openpyxl/xlplan 1 process | xlplan ms/wb | raw ms/wb | openpyxl ms/wb "
          "| peak RSS MB (this process) | peak RSS MB (a build process) |")
RULE = "|" + "---:|" * HEADER.count(" | ") + "---:|"


def row(n: int, files: int, cells: int, med: dict[str, float], rss: tuple[float, float]
        ) -> str:
    x, x1, r, o = med["xlplan"], med["xlplan 1 process"], med["raw"], med["openpyxl"]
    per = [f"{1000 * t / files:.0f}" for t in (x, r, o)]
    return (f"| {n} | {files} | {cells:,} | {x:.2f} | {x1:.2f} | {r:.2f} | {o:.2f} "
            f"| {x / r:.2f} | {x1 / r:.2f} | {o / x:.2f} | {o / x1:.2f} | {' | '.join(per)} "
            f"| {rss[0]:.0f} | {rss[1]:.0f} |")


def profile(loaded: LoadedPlan, out: Path, top: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    build_xlplan(loaded, out)
    prof.disable()
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    text.write("\n")
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


def run(n: int, rounds: int, seed: int, out: Path, top: int, workers: int) -> str:
    out.mkdir(parents=True, exist_ok=True)
    loaded = write_plan(generate_plan(n, seed), out)
    dirs = {name: out / name for name in ("xlplan", "raw", "openpyxl")}

    start = time.perf_counter()
    replays, cells = capture(loaded, dirs["xlplan"])  # untimed: gives the cells to replay
    first = time.perf_counter() - start
    files = len(replays)
    print(f"plan {loaded.path.name}: {files} workbooks, {cells:,} cells; "
          f"first (untimed) build {first:.2f} s", file=sys.stderr, flush=True)

    jobs: dict[str, Callable[[], object]] = {
        "xlplan": lambda: build_xlplan(loaded, dirs["xlplan"], workers),
        "xlplan 1 process": lambda: build_xlplan(loaded, dirs["xlplan"]),
        "raw": lambda: write_raw(replays, dirs["raw"]),
        "openpyxl": lambda: write_openpyxl(replays, dirs["openpyxl"]),
    }
    times: dict[str, list[float]] = {name: [] for name in jobs}
    names = list(jobs)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:  # rotate the order each round
            times[name].append(timed(jobs[name]))
            print(f"round {r + 1}/{rounds} {name}: {times[name][-1]:.2f} s",
                  file=sys.stderr, flush=True)
    med = {name: statistics.median(ts) for name, ts in times.items()}

    lines = [
        f"xlplan build benchmark: {dt.date.today().isoformat()}, Python "
        f"{platform.python_version()}, XlsxWriter {xlsxwriter.__version__}, openpyxl "
        f"{openpyxl.__version__}, {platform.machine()} ({_cores()} cores), "
        f"{rounds} round(s), seed {seed}, medians; xlplan with {workers} build processes",
        "",
        HEADER,
        RULE,
        row(n, files, cells, med, (peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN))),
        "",
        "rounds (s): " + "; ".join(f"{k} " + ", ".join(f"{t:.2f}" for t in v)
                                   for k, v in times.items()),
    ]
    if top:
        lines += ["", profile(loaded, out / "profile", top)]
    return "\n".join(lines)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=50, help="regions (input units), default 50")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, default 3")
    parser.add_argument("--seed", type=int, default=2027, help="seed of the generated org")
    parser.add_argument("--out", type=Path, help="output directory (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="N=3, one round (CI smoke run)")
    parser.add_argument("--workers", type=int, default=_cores(),
                        help="build processes for the xlplan column (default: one per core)")
    parser.add_argument("--profile", type=int, default=0, metavar="TOP",
                        help="also profile one xlplan build; print the TOP functions")
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.rounds = 3, 1
    if args.units < 1 or args.rounds < 1:
        parser.error("--units and --rounds must be at least 1")
    tmp = None if args.out else Path(tempfile.mkdtemp(prefix="xlplan-bench-"))
    try:
        print(run(args.units, args.rounds, args.seed, args.out or tmp, args.profile,
                  args.workers))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
