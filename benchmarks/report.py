"""Benchmark: writing the consolidated report for N units, against a named baseline.

The report alone, without reading any workbook: a plan with N regions is generated (as
``build.py`` does), every region "submits" its commitments (one fact per product ×
channel leaf × month, the engine's target times a random factor), and
``write_report(outcome, numbers, facts, path)`` writes the workbook and its two CSVs.
Each writer runs in a fresh process of its own, so its peak RSS is its own:

- **xlplan**: the report as it is in this checkout;
- **baseline**: the report as it was at a git revision (``--baseline``, default ``main``),
  loaded from ``git show REV:xlplan/consolidate/report.py`` (the single-module writer
  before the report became a package) and given the same outcome and facts.

Printed per writer and N: seconds to write, seconds a unit, peak RSS of the process and
its growth during the write, the workbook's size.

    PYTHONPATH=. python benchmarks/report.py --units 500 2000
    PYTHONPATH=. python benchmarks/report.py --units 50 --baseline 2954b82
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _inputs(n: int, work: Path) -> tuple[object, object, pd.DataFrame]:
    """(outcome, numbers, facts) of a round where all ``n`` regions submitted."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from build import generate_plan, write_plan  # benchmarks/build.py

    from xlplan.consolidate.outcome import FileOutcome, Outcome
    from xlplan.consolidate.views import MONTHS
    from xlplan.engine.numbers import PlanNumbers

    loaded = write_plan(generate_plan(n, 2027), work)
    numbers = PlanNumbers(loaded.plan, None)
    numbers.compute_all()
    rng = np.random.default_rng(7)
    su = float(numbers.su)
    units, items, periods, values = [], [], [], []
    leaves = [(p, c) for p in numbers.products for c in numbers.channel_leaves]
    for unit in numbers.input_units:
        cube = numbers.cube[unit]  # product × channel leaf × month, minor units
        factor = rng.uniform(0.85, 1.05)
        for (p, c), block in zip(leaves, cube.reshape(len(leaves), 12), strict=True):
            for m, target in enumerate(block):
                units.append(unit)
                items.append(f"commitment:{p}:{c}")
                periods.append(MONTHS[m])
                values.append(round(float(target) * su * factor, 2))
    rows = len(units)
    facts = pd.DataFrame({
        "plan_id": pd.Categorical([loaded.plan.id] * rows), "unit": pd.Categorical(units),
        "sheet": pd.Categorical(["Commitments"] * rows), "cell": [f"D{i % 600 + 7}" for i in
                                                                 range(rows)],
        "item": pd.Categorical(items), "period": pd.Categorical(periods),
        "value_num": values, "value_text": [None] * rows,
        "sha256": pd.Categorical([f"{hash(u) & 0xFFFFFFFF:064x}" for u in units])})
    tracker = pd.DataFrame([{"unit": u, "name": numbers.tree.units[u].name, "status": "accepted",
                             "file": f"{u}.xlsx", "modified": "2027-01-05T10:00:00Z",
                             "files": 1, "superseded": 0, "reasons": "", "season": "submitted",
                             "late": False, "sent": "2026-12-01 09:00",
                             "first_submitted": "2027-01-05 10:00",
                             "last_submitted": "2027-01-05 10:00", "reviewed": "",
                             "reviewed_by": "", "approved": "", "approved_by": "",
                             "comment": "", "after_approval": 0}
                            for u in numbers.input_units])
    files = [FileOutcome(work / f"{u}.xlsx", f"{i:064x}", u, "accepted", [], True)
             for i, u in enumerate(numbers.input_units)]
    outcome = Outcome(loaded.plan.id, files, {u: "accepted" for u in numbers.input_units},
                      work / "out.xlsx", work / "db", tracker)
    return outcome, numbers, facts


def _writer(kind: str, baseline: str, work: Path):  # type: ignore[no-untyped-def]
    if kind == "xlplan":
        from xlplan.consolidate.report import write_report

        return write_report
    source = subprocess.run(["git", "show", f"{baseline}:xlplan/consolidate/report.py"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    path = work / "baseline_report.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_report", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_report


def child(kind: str, n: int, baseline: str) -> None:
    """One writer, one size, in this process: prints a JSON line of its figures."""
    with tempfile.TemporaryDirectory(prefix="xlplan-report-bench-") as scratch:
        work = Path(scratch)
        outcome, numbers, facts = _inputs(n, work)
        write = _writer(kind, baseline, work)
        before = _rss_mb()
        start = time.perf_counter()
        write(outcome, numbers, facts, work / "out" / "plan-consolidated.xlsx")
        seconds = time.perf_counter() - start
        size = (work / "out" / "plan-consolidated.xlsx").stat().st_size
        print(json.dumps({"writer": kind, "units": n, "seconds": seconds,
                          "per_unit_ms": 1000 * seconds / n, "rss_before_mb": before,
                          "peak_rss_mb": _rss_mb(), "xlsx_mb": size / 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[50])
    parser.add_argument("--baseline", default="main",
                        help="git revision whose single-module report.py is the baseline")
    parser.add_argument("--child", nargs=2, metavar=("WRITER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.baseline)
        return
    print(f"{'writer':<10}{'units':>7}{'write s':>9}{'ms/unit':>9}{'RSS before':>12}"
          f"{'peak RSS':>10}{'growth':>8}{'xlsx MB':>9}")
    for n in args.units:
        for kind in ("baseline", "xlplan"):
            done = subprocess.run([sys.executable, __file__, "--child", kind, str(n),
                                   "--baseline", args.baseline], capture_output=True,
                                  text=True, check=True, cwd=ROOT)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{kind:<10}{n:>7}{r['seconds']:>9.1f}{r['per_unit_ms']:>9.1f}"
                  f"{r['rss_before_mb']:>10.0f}MB{r['peak_rss_mb']:>8.0f}MB"
                  f"{r['peak_rss_mb'] - r['rss_before_mb']:>6.0f}MB{r['xlsx_mb']:>9.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
