"""Benchmark: each XLPLAN_* function on a 10,000-cell block (Python side), against numpy.

Inside Excel an xlwings function costs a round trip (COM or the browser bridge)
plus the Python call; this measures the Python call, the part xlplan controls,
for a block of about ``--cells`` cells, with the arguments as xlwings hands
them over (lists of rows of floats and strings, ``ndim=2``) and the result as
it goes back (a list of rows). Each function is timed beside a named baseline
in the same run: the plain numpy expression of the same idea on arrays already
converted (no checks, no exact cents, no tie to the total), i.e. roughly the
floor of any Python implementation.

Blocks (cells = ``--cells``, default 10,000):

- ALLOCATE: cells/10 totals (a column) × 10 weights per row → a cells-sized result;
- SPREAD: cells/12 amounts × a 12-month profile → a cells-sized result;
- ROLLUP: a cells-node tree (company → 10 divisions → 100 regions → people);
- VARIANCE, ATTAINMENT, STATUS, KR_PROGRESS, BSC_SCORE: √cells × √cells blocks;
- OKR_PROGRESS: cells/10 objectives × 10 key results (cells inputs → cells/10 results).

Each round runs every function and baseline once (order alternating, ``gc.collect()``
before each); the table shows medians over ``--rounds``.

    PYTHONPATH=. python benchmarks/functions.py              # 10,000 cells, 7 rounds
    PYTHONPATH=. python benchmarks/functions.py --quick      # 1,000 cells, 1 round (smoke test)
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from timing import timed  # benchmarks/timing.py

from xlplan import udfs


@dataclass
class Case:
    name: str
    block: str
    cells: int
    run: Callable[[], Any]
    baseline: str
    floor: Callable[[], Any]


def _grid(a: np.ndarray) -> list[list[Any]]:
    return a.tolist()  # type: ignore[no-any-return]


def cases(cells: int, seed: int) -> list[Case]:
    """The nine functions with their inputs built once (not timed)."""
    rng = np.random.default_rng(seed)
    side = max(1, round(math.sqrt(cells)))
    out: list[Case] = []

    n = max(1, cells // 10)
    totals = np.round(rng.uniform(1e5, 1e8, (n, 1)), 2)
    weights = rng.uniform(0.5, 2.0, (n, 10))
    t_list, w_list = _grid(totals), _grid(weights)
    out.append(Case("XLPLAN_ALLOCATE", f"{n}×1 totals, {n}×10 weights", n * 10,
                    lambda: udfs.XLPLAN_ALLOCATE(t_list, w_list),
                    "floor(total·w/Σw, cent)",
                    lambda: np.floor(totals * 100 * weights / weights.sum(1, keepdims=True))
                    / 100))

    m = max(1, cells // 12)
    amounts = np.round(rng.uniform(1e5, 1e8, (m, 1)), 2)
    profile = rng.uniform(0.5, 2.0, (1, 12))
    a_list, p_list = _grid(amounts), _grid(profile)
    out.append(Case("XLPLAN_SPREAD", f"{m}×1 amounts, 1×12 profile", m * 12,
                    lambda: udfs.XLPLAN_SPREAD(a_list, p_list),
                    "round(amount·p/Σp, 2)",
                    lambda: np.round(amounts * profile / profile.sum(), 2)))

    codes, parents, level = _tree(cells, random.Random(seed))
    values = np.where(np.array([c.startswith("P") for c in codes]),
                      np.round(rng.uniform(1e4, 1e6, len(codes)), 2), 0.0)
    c_list = [[c] for c in codes]
    pa_list = [[p] for p in parents]
    v_list = [[float(v)] for v in values]
    index = {c: i for i, c in enumerate(codes)}
    up = np.array([index.get(p, -1) for p in parents])
    depth = np.array(level)
    order = [np.flatnonzero(depth == d) for d in range(depth.max(), 0, -1)]

    def add_up() -> np.ndarray:
        total = values.copy()
        for rows in order:
            np.add.at(total, up[rows], total[rows])
        return total

    out.append(Case("XLPLAN_ROLLUP", f"{len(codes)} nodes (codes, parents, values)",
                    len(codes), lambda: udfs.XLPLAN_ROLLUP(c_list, pa_list, v_list),
                    "np.add.at by level (pre-indexed)", add_up))

    actual = np.round(rng.uniform(0, 2e6, (side, side)), 2)
    plan = np.round(rng.uniform(1e5, 2e6, (side, side)), 2)
    ac_list, pl_list = _grid(actual), _grid(plan)
    block = f"{side}×{side}"
    out.append(Case("XLPLAN_VARIANCE", block, side * side,
                    lambda: udfs.XLPLAN_VARIANCE(ac_list, pl_list), "actual − plan",
                    lambda: actual - plan))
    out.append(Case("XLPLAN_ATTAINMENT", block, side * side,
                    lambda: udfs.XLPLAN_ATTAINMENT(ac_list, pl_list, "higher"),
                    "actual / plan", lambda: actual / plan))

    def lights() -> np.ndarray:
        short = 1 - actual / plan
        return np.select([short <= 0.05, short <= 0.15, short <= 0.30], ["G", "Y", "O"], "R")

    out.append(Case("XLPLAN_STATUS", block, side * side,
                    lambda: udfs.XLPLAN_STATUS(ac_list, pl_list), "np.select on 1 − a/p",
                    lights))

    start = np.round(rng.uniform(0, 100, (side, side)), 2)
    target = start + np.round(rng.uniform(1, 100, (side, side)), 2)
    current = np.round(rng.uniform(0, 200, (side, side)), 2)
    s_list, tg_list, cu_list = _grid(start), _grid(target), _grid(current)
    out.append(Case("XLPLAN_KR_PROGRESS", block, side * side,
                    lambda: udfs.XLPLAN_KR_PROGRESS(s_list, tg_list, cu_list),
                    "clip((c−s)/(t−s), 0, 1)",
                    lambda: np.clip((current - start) / (target - start), 0, 1)))

    k = max(1, cells // 10)
    progress = rng.uniform(0, 1, (k, 10))
    kr_weights = np.round(rng.uniform(0.1, 1, (k, 10)), 2)
    pr_list, kw_list = _grid(progress), _grid(kr_weights)
    out.append(Case("XLPLAN_OKR_PROGRESS", f"{k}×10 progress and weights", k * 10,
                    lambda: udfs.XLPLAN_OKR_PROGRESS(pr_list, kw_list),
                    "Σ(w·p)/Σw per row",
                    lambda: (progress * kr_weights).sum(1) / kr_weights.sum(1)))

    floor = np.zeros((side, side))
    fl_list = _grid(floor)
    out.append(Case("XLPLAN_BSC_SCORE", block, side * side,
                    lambda: udfs.XLPLAN_BSC_SCORE(ac_list, pl_list, fl_list, "higher"),
                    "10·clip((a−f)/(t−f), 0, 1)",
                    lambda: 10 * np.clip((actual - floor) / (plan - floor), 0, 1)))
    return out


def _tree(cells: int, rng: random.Random) -> tuple[list[str], list[str], list[int]]:
    """Company → 10 divisions → 100 regions → people, ``cells`` nodes in all."""
    codes, parents, level = ["CO"], [""], [0]
    divisions = [f"D{i:02d}" for i in range(10)]
    regions = [f"R{i:03d}" for i in range(100)]
    for d in divisions:
        codes.append(d)
        parents.append("CO")
        level.append(1)
    for i, r in enumerate(regions):
        codes.append(r)
        parents.append(divisions[i % 10])
        level.append(2)
    for i in range(max(0, cells - len(codes))):
        codes.append(f"P{i:05d}")
        parents.append(rng.choice(regions))
        level.append(3)
    return codes, parents, level


def _check(case: Case, result: Any) -> None:
    """A benchmark of an error message would measure nothing: fail loudly instead."""
    first = result[0][0]
    if isinstance(first, str) and first.startswith("#"):
        raise SystemExit(f"{case.name} returned {first}")


def run(cells: int, rounds: int, seed: int) -> str:
    todo = cases(cells, seed)
    times: dict[tuple[str, str], list[float]] = {}
    for case in todo:
        _check(case, case.run())
    for r in range(rounds):
        for case in todo:
            pair = [("xlplan", case.run), ("baseline", case.floor)]
            for kind, fn in pair if r % 2 == 0 else reversed(pair):
                times.setdefault((case.name, kind), []).append(timed(fn))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    lines = [
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{cells:,} cells, {rounds} round(s), seed {seed}; medians.",
        "",
        "| function | block | cells | xlplan ms | baseline | baseline ms | xlplan/baseline "
        "| xlplan µs/cell |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for case in todo:
        ours = statistics.median(times[(case.name, "xlplan")]) * 1000
        floor = statistics.median(times[(case.name, "baseline")]) * 1000
        lines.append(f"| {case.name} | {case.block} | {case.cells:,} | {ours:.2f} | "
                     f"{case.baseline} | {floor:.3f} | {ours / floor:,.0f} | "
                     f"{ours * 1000 / case.cells:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=10_000, help="cells per block (10,000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; medians reported (7)")
    parser.add_argument("--seed", type=int, default=2027, help="random seed (2027)")
    parser.add_argument("--quick", action="store_true", help="1,000 cells, one round")
    args = parser.parse_args(argv)
    cells, rounds = (1_000, 1) if args.quick else (args.cells, args.rounds)
    print(run(cells, rounds, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
