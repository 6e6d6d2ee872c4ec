"""Benchmark: consolidation on Dask workers against the local reader processes.

Inputs (untimed): N distinct submissions made from the example plan's 9 filled unit
workbooks (``consolidate.py``'s ``make_inbox``), or with ``--quick`` 4 from the small plan.

Timed, each into a fresh output folder and database:

- **local**: ``consolidate(plan, inbox, out, workers=2)``: reader processes here;
- **dask W**: the same through ``--scheduler local:W`` (a ``LocalCluster`` of W worker
  processes with one thread each, on 127.0.0.1), W = 1, 2, 4; the cluster is started
  untimed, its readers cold (each worker starts its reader process in the run, as the
  local run starts its own), then a second run with the readers warm;
- **no-op task**: the round trip of an empty Dask task (client → scheduler → worker →
  client), one at a time and 200 at once: the overhead per task that batches amortise;
- **client CPU per file**: this process's CPU time in a dask run from the first file sent
  to the last one stored (the history's transaction per file, the scheduling; not the
  report written once). The client is the one serial part, so this caps any cluster.

At the end, a paper estimate for 64 workers and 10,000 / 100,000 files from those figures
(its assumptions printed with it).

    PYTHONPATH=. python benchmarks/cluster.py --files 40
    PYTHONPATH=. python benchmarks/cluster.py --quick   # small plan, 4 files (smoke test)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from consolidate import EXAMPLE, SMALL, make_inbox  # noqa: E402  (benchmarks/consolidate.py)

from xlplan.cluster import connected  # noqa: E402
from xlplan.consolidate.cluster import ClusterExaminer  # noqa: E402
from xlplan.consolidate.run import Examiner, consolidate, local_examiner  # noqa: E402


def run(plan: Path, inbox: Path, work: Path, examiner: Examiner | None = None
        ) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds while the files were examined and stored)
    of one consolidation into a fresh folder. The CPU is counted from the first file asked
    for to the last one stored: the per-file part, not the report written once at the end."""
    out = Path(tempfile.mkdtemp(dir=work))
    spent: list[float] = []

    def counted(paths: list[Path], loaded: Any, limits: Any, older: Any) -> Iterator[Any]:
        start = time.process_time()
        yield from (examiner or local_examiner(2))(paths, loaded, limits, older)
        spent.append(time.process_time() - start)

    wall = time.perf_counter()
    outcome = consolidate(plan, inbox, out, workers=2, examiner=counted)
    wall, cpu = time.perf_counter() - wall, spent[0]
    bad = [f for f in outcome.files if f.status == "rejected"]
    assert not bad, bad[0].findings[:2]
    shutil.rmtree(out)
    return wall, cpu


def noop() -> None:
    return None


def task_overhead(client: Any) -> tuple[float, float]:
    """Seconds per empty task: one at a time (latency), and 200 at once (throughput)."""
    client.submit(noop, pure=False).result()
    start = time.perf_counter()
    for _ in range(20):
        client.submit(noop, pure=False).result()
    one = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    client.gather([client.submit(noop, pure=False) for _ in range(200)])
    many = (time.perf_counter() - start) / 200
    return one, many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    plan, n = (SMALL, 4) if args.quick else (EXAMPLE, args.files)
    workers = [1, 2] if args.quick else args.workers
    with tempfile.TemporaryDirectory(prefix="xlplan-bench-cluster-") as folder:
        work = Path(folder)
        inbox, _units = make_inbox(plan, n, work / "in")
        local, _ = run(plan, inbox, work)
        print(f"{plan.name}, {n} files, {os.cpu_count()} cores\n")
        print("| readers | cold s | warm s | files/s (warm) | speed-up vs dask 1 | "
              "per-file overhead vs local ms | client CPU ms/file | task latency ms | "
              "task throughput ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(f"| local pool, 2 processes | {local:.2f} | | {n / local:.1f} | | | | | |")
        base = None
        figures: dict[int, dict[str, float]] = {}
        for w in workers:
            with connected(f"local:{w}") as client:
                examiner = ClusterExaminer(client)
                cold, _ = run(plan, inbox, work, examiner)
                warm, cpu = run(plan, inbox, work, examiner)
                one, many = task_overhead(client)
            base = base or warm
            over = (cold - local) / n * 1000 if w == 2 else float("nan")
            figures[w] = {"warm": warm, "cpu": cpu / n, "one": one, "many": many}
            print(f"| dask local:{w} | {cold:.2f} | {warm:.2f} | {n / warm:.1f} | "
                  f"{base / warm:.2f} | {over:.0f} | {cpu / n * 1000:.1f} | {one * 1000:.1f} | "
                  f"{many * 1000:.2f} |")
        estimate(figures, n)


def estimate(figures: dict[int, dict[str, float]], n: int) -> None:
    """A paper estimate for a 64-worker cluster, from the figures measured here."""
    one = figures[min(figures)]
    per_file = one["warm"] / n  # one reader's seconds per file, batches included
    client = max(f["cpu"] for f in figures.values())  # the client's serial seconds per file
    task = max(f["many"] for f in figures.values())  # the scheduler's seconds per task
    batch = 16
    print("\nPaper estimate, 64 worker threads on 64 cores, files like these, shared folder:")
    print(f"  one reader: {per_file * 1000:.0f} ms a file (warm, dask local:{min(figures)}); "
          f"client: {client * 1000:.1f} ms of CPU a file; scheduler: {task * 1000:.2f} ms a "
          f"task of {batch} files")
    for files in (10_000, 100_000):
        readers = files * per_file / 64
        serial = files * client + files / batch * task
        total = max(readers, serial)
        print(f"  {files:,} files: readers {readers:,.0f} s, client + scheduler "
              f"{serial:,.0f} s, so about {total:,.0f} s ({total / 60:.1f} min); bound by "
              f"{'the readers' if readers >= serial else 'the client'}")
    cap = 1 / (client + task / batch)
    print(f"  the client caps any cluster at about {cap:,.0f} files/s "
          f"({cap * per_file:,.0f} readers busy); assumptions: one thread per core, the "
          "shared folder serves the files as fast as a local disk, the history database on "
          "the client's local disk, batches of 16, unit templates warm.")


if __name__ == "__main__":
    main()
