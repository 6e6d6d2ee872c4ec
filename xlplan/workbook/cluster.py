"""Building the workbooks on Dask workers, into a folder they all share.

The plan travels with the tasks (:class:`xlplan.spec.shipped.ShippedPlan`);
each worker process loads it and computes its numbers once, then writes the
workbooks it is given into the output folder, each through a temporary file
renamed into place, as a local build does. So the folder must be the same path
on every worker and on this machine (a shared folder); the client checks that
it sees every file a worker wrote. The bytes of a workbook do not depend on
where it was written.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlplan.cluster import ClusterError, check_result, dask_distributed, identity, worker_address
from xlplan.spec.shipped import ShippedPlan
from xlplan.workbook.build import Built, build_one, workbooks_to_build
from xlplan.workbook.context import BuildContext


@dataclass
class Written:
    """A task's answer: who wrote the workbooks, and what."""

    worker: str
    identity: str
    built: list[Built]


_CONTEXTS: dict[str, BuildContext] = {}
_LOCK = threading.Lock()


def _context(plan: ShippedPlan) -> BuildContext:
    """This worker's build context for the plan: loaded and computed once, then kept out
    of the garbage collector's sight (see workbook.build._start_worker)."""
    with _LOCK:
        if plan.key not in _CONTEXTS:
            _CONTEXTS.clear()
            ctx = BuildContext(*plan.load())
            ctx.compute_all()
            _CONTEXTS[plan.key] = ctx
            gc.collect()
            gc.freeze()
        return _CONTEXTS[plan.key]


def build_batch(plan: ShippedPlan, out_dir: str, units: list[str | None],
                with_functions: bool) -> Written:
    """The task: write these workbooks (None is the master) into ``out_dir``."""
    ctx = _context(plan)
    built = [replace(build_one(ctx, Path(out_dir), unit, with_functions), book=None)
             for unit in units]
    return Written(worker_address(), identity(), built)


def build_on_cluster(client: Any, ctx: BuildContext, out_dir: Path,
                     units: Iterable[str] | None = None,
                     progress: Callable[[str], None] | None = None,
                     with_functions: bool = False) -> list[Built]:
    """:func:`xlplan.workbook.build.build_all` on the workers of a Dask ``client``: the
    same workbooks, in the same order. The first failure stops the build."""
    todo = workbooks_to_build(ctx, units)
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    distributed = dask_distributed()
    shipped = client.scatter(ShippedPlan.of(ctx.loaded), broadcast=True)
    threads = max(1, sum(client.nthreads().values()))
    size = max(1, min(16, math.ceil(len(todo) / (threads * 4))))
    futures = [client.submit(build_batch, shipped, str(out_dir), todo[i:i + size],
                             with_functions, pure=False)
               for i in range(0, len(todo), size)]
    done: dict[str | None, Built] = {}
    try:
        for future in distributed.as_completed(futures):
            written: Written = future.result()  # a worker's exception is raised here
            check_result(written.worker, written.identity)
            for built in written.built:
                if not built.path.is_file():
                    raise ClusterError(f"worker {written.worker} wrote {built.path}, which "
                                       "this machine cannot see: the output folder must be "
                                       "the same path on every worker (a shared folder)")
                done[built.unit] = built
                if progress:
                    progress(built.unit or "master")
    except BaseException:
        client.cancel(futures)
        raise
    return [done[unit] for unit in todo]
