"""Benchmark: consolidating N filled unit workbooks, against reading the same files bare.

Inputs (untimed), one of two kinds:

- by default, the example plan's 9 unit workbooks are built and filled with sample values
  once, then copied to N submissions, each with its own save time in
  ``docProps/core.xml`` so every file has its own SHA-256 and is examined in full;
- with ``--distinct``, a plan with N regions is generated (as ``build.py`` does) and each
  region's workbook is built filled with its own sample values: N units, one file each,
  as in a real round. Each unit's template is then made once per file, not once per 55.

Timed in the same process, alternating, over ``--rounds`` rounds (medians):

- **xlplan**: ``consolidate(plan, inbox, out)`` into a fresh folder and database:
  safe checks, the one-pass reader, the dry-run rebuild and every comparison, the
  DuckDB history, the consolidated workbook and CSV; reader processes on every core;
- **fastexcel** (the floor): ``fastexcel.read_excel(path)`` and ``load_sheet`` of every
  sheet of every file, in one process: values only, no checks;
- **pandas + openpyxl** (what a user would write):
  ``pd.read_excel(path, sheet_name=None, engine="openpyxl")`` for every file.

    PYTHONPATH=. python benchmarks/consolidate.py --files 50
    PYTHONPATH=. python benchmarks/consolidate.py --files 50 500 --distinct
    PYTHONPATH=. python benchmarks/consolidate.py --quick    # small plan, 4 files, 1 round
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from timing import peak_rss_mb, timed  # noqa: E402  (benchmarks/timing.py)

from xlplan.consolidate.run import consolidate  # noqa: E402
from xlplan.spec.loader import load_plan  # noqa: E402
from xlplan.spec.prior_year import read_prior_year  # noqa: E402
from xlplan.workbook.build import (  # noqa: E402
    build_all,
    build_unit,
    predict_unit,
)
from xlplan.workbook.context import BuildContext  # noqa: E402
from xlplan.workbook.fill import fill_sample, sample_inputs  # noqa: E402

EXAMPLE = REPO / "workbook_templates" / "example-plan.yaml"
SMALL = REPO / "workbook_templates" / "small-plan.yaml"


def make_inbox(plan: Path, n: int, work: Path) -> tuple[Path, int]:
    """N distinct, valid submissions made from the plan's filled unit workbooks: the inbox
    and how many units they are from."""
    loaded = load_plan(plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    built = [b for b in build_all(ctx, work / "build") if b.unit]
    filled = [fill_sample(b.path, work / "filled" / b.path.name, seed=i).workbook
              for i, b in enumerate(built)]
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    for i in range(n):
        src = filled[i % len(filled)]
        stamp = f"2027-01-{1 + i // 86400 % 28:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:" \
                f"{i % 60:02d}Z"
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(inbox / f"{i:05d}-{src.name}",
                                                          "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "docProps/core.xml":
                    data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" +
                                  stamp.encode(), data)
                zout.writestr(info, data)
    return inbox, min(n, len(filled))


_CTX: list[BuildContext] = []  # the context of the fill processes (--distinct)


def _set_ctx(ctx: BuildContext) -> None:
    _CTX[:] = [ctx]


def _fill_one(job: tuple[str, Path, int]) -> None:
    """One region's workbook, built with its own sample inputs (a fill process)."""
    unit, inbox, seed = job
    ctx = _CTX[0]
    manifest = predict_unit(ctx, unit, {})[1]
    assert manifest is not None
    build_unit(ctx, inbox, unit, fill=sample_inputs(ctx, manifest, seed),
               path=inbox / f"{ctx.plan.id}-{unit}.xlsx")


def make_distinct_inbox(n: int, work: Path, seed: int = 2027) -> tuple[Path, Path]:
    """A plan with ``n`` regions and one filled workbook per region: (plan, inbox)."""
    from build import generate_plan, write_plan  # benchmarks/build.py

    work.mkdir(parents=True, exist_ok=True)
    loaded = write_plan(generate_plan(n, seed), work)
    ctx = BuildContext(loaded, None)
    ctx.compute_all()
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    jobs = [(unit, inbox, i) for i, unit in enumerate(ctx.input_units)]
    with ProcessPoolExecutor(initializer=_set_ctx, initargs=(ctx,)) as pool:
        list(pool.map(_fill_one, jobs, chunksize=8))
    assert loaded.path is not None
    return loaded.path, inbox


def run_xlplan(plan: Path, inbox: Path, work: Path) -> None:
    out = Path(tempfile.mkdtemp(dir=work))
    outcome = consolidate(plan, inbox, out)
    bad = [f for f in outcome.files if f.status == "rejected"]
    assert not bad, bad[0].findings[:2]
    shutil.rmtree(out)


def run_fastexcel(inbox: Path) -> None:
    import fastexcel

    for path in sorted(inbox.iterdir()):
        reader = fastexcel.read_excel(str(path))
        for name in reader.sheet_names:
            reader.load_sheet(name, header_row=None)


def run_pandas(inbox: Path) -> None:
    import pandas as pd

    for path in sorted(inbox.iterdir()):
        pd.read_excel(path, sheet_name=None, engine="openpyxl", header=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[50])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small plan, 4 files, 1 round")
    parser.add_argument("--no-pandas", action="store_true",
                        help="skip the pandas + openpyxl loop (slow at large N)")
    parser.add_argument("--distinct", action="store_true",
                        help="N regions, one file each (default: copies of 9 units' files)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    plan = SMALL if args.quick else EXAMPLE
    sizes = [4] if args.quick else args.files
    rounds = 1 if args.quick else args.rounds
    work = args.out or Path(tempfile.mkdtemp(prefix="xlplan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    kind = "a generated plan with one region per file" if args.distinct else plan.name
    print(f"plan: {kind}; {os.cpu_count()} cores, {rounds} round(s), medians")
    print("| files | units | xlplan s | fastexcel s | pandas+openpyxl s | xlplan/fastexcel "
          "| pandas/xlplan | files/s | peak RSS MB (parent) | peak RSS MB (reader) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        started = time.perf_counter()
        if args.distinct:
            plan, inbox = make_distinct_inbox(n, work / f"n{n}")
            units = n
        else:
            inbox, units = make_inbox(plan, n, work / f"n{n}")
        print(f"{n} files made in {time.perf_counter() - started:.0f} s", file=sys.stderr,
              flush=True)
        times: dict[str, list[float]] = {"xlplan": [], "fastexcel": [], "pandas": []}
        for _ in range(rounds):
            times["fastexcel"].append(timed(lambda: run_fastexcel(inbox)))  # noqa: B023
            times["xlplan"].append(timed(lambda: run_xlplan(plan, inbox, work)))  # noqa: B023
            if not args.no_pandas:
                times["pandas"].append(timed(lambda: run_pandas(inbox)))  # noqa: B023
        med = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
        parent, child = peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN)
        print(f"| {n} | {units} | {med['xlplan']:.2f} | {med['fastexcel']:.2f} "
              f"| {med['pandas']:.2f} | "
              f"{med['xlplan'] / med['fastexcel']:.2f}× | {med['pandas'] / med['xlplan']:.2f}× "
              f"| {n / med['xlplan']:.1f} | {parent:.0f} | {child:.0f} |", flush=True)
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
