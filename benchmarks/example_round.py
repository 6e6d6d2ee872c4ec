"""One planning round on the bundled example plan, this checkout against an earlier revision.

    PYTHONPATH=. python benchmarks/example_round.py --baseline a8ff670 [--rounds 5]

For each code tree (this checkout, and the ``--baseline`` revision unpacked by ``git
archive`` into a temporary folder): ``xlplan build`` of its own example plan, then
``fill-sample`` of every unit workbook into an inbox (once, not timed), then ``xlplan
consolidate`` of that inbox, ``--rounds`` times, the two trees alternating so that a noisy
machine slows both alike. Each command runs in its own process, as a user runs it.

Printed: wall and CPU seconds (best of the rounds) of build and consolidate for each tree,
and the ratios this / baseline. Issue 18 holds consolidation of the example's filled units
to at most 1.2x what it took before its rules, ties and whole-year BSC sheet
(``--baseline a8ff670``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = Path("workbook_templates") / "example-plan.yaml"


def unpack(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (git archive), to run with PYTHONPATH."""
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision], check=True)
    tree = into / revision
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def timed(tree: Path, *args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -m xlplan ARGS`` run on ``tree``'s code."""
    env = dict(os.environ, PYTHONPATH=str(tree), XLPLAN_TODAY="2026-12-10")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xlplan", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu


def prepare(tree: Path, work: Path) -> tuple[Path, Path, int]:
    """Build the tree's example plan and fill every unit workbook into an inbox."""
    plan = tree / PLAN
    build = work / "build"
    timed(tree, "build", str(plan), "--out", str(build))
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    units = sorted((build / "units").glob("*.xlsx"))
    for seed, workbook in enumerate(units):
        timed(tree, "fill-sample", str(workbook), "--out", str(inbox / workbook.name),
              "--seed", str(seed))
    return plan, inbox, len(units)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a git revision to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xlplan-round-") as folder:
        work = Path(folder)
        trees = {"this": ROOT, f"baseline {args.baseline}": unpack(args.baseline, work)}
        ready = {}
        for name, tree in trees.items():
            ready[name] = prepare(tree, work / name.replace(" ", "-"))
            print(f"{name}: {ready[name][2]} unit workbooks filled", flush=True)
        best: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for n in range(args.rounds):
            order = list(trees) if n % 2 == 0 else list(reversed(trees))
            for name in order:
                tree, (plan, inbox, _) = trees[name], ready[name]
                out = work / f"out-{n}-{name.replace(' ', '-')}"
                best.setdefault((name, "consolidate"), []).append(
                    timed(tree, "consolidate", str(plan), str(inbox), "--out", str(out)))
                best.setdefault((name, "build"), []).append(
                    timed(tree, "build", str(plan), "--out", str(out / "build")))
                shutil.rmtree(out, ignore_errors=True)
        base = f"baseline {args.baseline}"
        for step in ("consolidate", "build"):
            for name in trees:
                walls, cpus = zip(*best[(name, step)], strict=True)
                print(f"{step:12} {name:22} wall best {min(walls):6.2f} s  "
                      f"CPU best {min(cpus):6.2f} s  (walls: "
                      f"{', '.join(f'{w:.2f}' for w in walls)})")
            this_wall = min(w for w, _ in best[("this", step)])
            base_wall = min(w for w, _ in best[(base, step)])
            this_cpu = min(c for _, c in best[("this", step)])
            base_cpu = min(c for _, c in best[(base, step)])
            print(f"{step:12} this / baseline: wall {this_wall / base_wall:.2f}x, "
                  f"CPU {this_cpu / base_cpu:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
