"""Examining submissions on Dask workers: the same reader processes, on other machines.

:class:`ClusterExaminer` is an examiner for :func:`xlplan.consolidate.run.consolidate`:
it sends the new files to the workers in batches and yields each file's
Examination as its batch comes back, in any order. The client keeps writing
the history, one transaction per file, so a client killed at any moment loses
nothing and a re-run is idempotent, as with local readers.

On a worker a batch goes through the reader process of
:mod:`xlplan.consolidate.workers`, one per worker thread and kept between
batches (with its plan and templates), so each file still has its memory cap
and its deadline: Dask has no timeout per task, and a hostile file must not take
a worker down. A task carries file paths (a folder every worker sees at the
same path) or, with ``ship_files``, the files' bytes; it returns Examinations
(decisions, findings, the accepted inputs), never the cells read.

A worker that dies has its tasks rescheduled by Dask itself (its
``allowed-failures``); a batch that fails anyway is retried once, one file per
task, and a file whose retry fails too is decided "could not be read" with the
reason. A worker that cannot see a path stops the run: that is a set-up
mistake, not a verdict on the file, and nothing is recorded for it.
"""

from __future__ import annotations

import math
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.cluster import (
    ClusterError,
    check_result,
    dask_distributed,
    identity,
    worker_address,
    worker_file,
    worker_plan_file,
)
from xlplan.consolidate.examine import Examination
from xlplan.consolidate.package import Limits, Refused, read_regular
from xlplan.consolidate.workers import _Slot
from xlplan.i18n import data, msg
from xlplan.spec.loader import LoadedPlan
from xlplan.spec.shipped import ShippedPlan

# A file in a task: its path on the client, and its bytes when shipped (None: read the path).
Item = tuple[str, bytes | None]


class UnseenPath(Exception):
    """A worker cannot see a file at the client's path (raised on the worker)."""


@dataclass
class Batch:
    """A task's answer: who read the files and what they decided, in the task's order."""

    worker: str
    identity: str
    examinations: list[Examination]


# ------------------------------------------------------------------- on the worker

_SLOTS: dict[tuple[int, Path, Limits, Path | None], _Slot] = {}
_SLOTS_LOCK = threading.Lock()


def _slot(plan_file: Path, limits: Limits, revisions: Path | None) -> _Slot:
    """This worker thread's reader process for this plan (another plan's is stopped)."""
    key = (threading.get_ident(), plan_file, limits, revisions)
    with _SLOTS_LOCK:
        for old in [k for k in _SLOTS if k[0] == key[0] and k != key]:
            _SLOTS.pop(old).stop()
        if key not in _SLOTS:
            _SLOTS[key] = _Slot(plan_file, limits, revisions)
        return _SLOTS[key]


def examine_batch(plan: ShippedPlan, limits: Limits, items: list[Item],
                  revisions: bytes | None = None) -> Batch:
    """The task: examine each file in this worker's capped reader process.
    ``revisions``: the JSON of the plan's earlier revisions (see run.earlier_revisions)."""
    older = worker_file(revisions, ".json") if revisions is not None else None
    slot = _slot(worker_plan_file(plan), limits, older)
    results = []
    for client_path, content in items:
        if content is None:
            path = Path(client_path)
            if not path.exists():
                raise UnseenPath(f"worker {worker_address()} cannot see {client_path}: the "
                                 "inbox must be at the same path on every worker (a shared "
                                 "folder), or run with --ship-files")
            results.append(slot.examine(path))
            continue
        with tempfile.TemporaryDirectory(prefix="xlplan-shipped-") as folder:
            path = Path(folder) / Path(client_path).name  # the name: findings may cite it
            path.write_bytes(content)
            result = slot.examine(path)
        result.path = Path(client_path)
        results.append(result)
    return Batch(worker_address(), identity(), results)


# ------------------------------------------------------------------- on the client

@dataclass
class ClusterExaminer:
    """Examine files on the workers of a connected Dask ``client``.

    ``ship_files``: send each file's bytes in its task (workers without the inbox
    folder). ``batch_size``: files per task (default: enough tasks for four per worker
    thread, at most 16 files each). ``readers`` records which worker read each file.
    """

    client: Any
    ship_files: bool = False
    batch_size: int | None = None
    readers: dict[Path, str] = field(default_factory=dict)

    def __call__(self, paths: list[Path], plan: LoadedPlan, limits: Limits | None,
                 older: Path | None = None) -> Iterator[Examination]:
        if not paths:
            return
        limits = limits or Limits()
        distributed = dask_distributed()
        shipped = self.client.scatter(ShippedPlan.of(plan), broadcast=True)
        revisions = (self.client.scatter(older.read_bytes(), broadcast=True)
                     if older is not None else None)
        threads = max(1, sum(self.client.nthreads().values()))
        size = self.batch_size or max(1, min(16, math.ceil(len(paths) / (threads * 4))))
        batches = [paths[i:i + size] for i in range(0, len(paths), size)]
        window = threads * 2  # tasks in flight: shipped bytes stay bounded
        pending: dict[Any, tuple[list[Path], int]] = {}
        running = distributed.as_completed()

        unreadable: list[Examination] = []  # files the client could not ship

        def submit(files: list[Path], attempt: int) -> None:
            items: list[Item] = []
            sent = []
            for path in files:
                try:
                    data = read_regular(path, limits) if self.ship_files else None
                except Refused as exc:
                    refused = Examination(path)
                    refused.error(str(exc))
                    unreadable.append(refused)
                    continue
                items.append((str(path), data))
                sent.append(path)
            if not items:
                return
            future = self.client.submit(examine_batch, shipped, limits, items, revisions,
                                        pure=False)
            pending[future] = (sent, attempt)
            running.add(future)

        def fill_window() -> Iterator[Examination]:
            while waiting and len(pending) < window:
                submit(waiting.pop(), 0)
            yield from unreadable
            unreadable.clear()

        waiting = list(reversed(batches))
        yield from fill_window()
        for future in running:
            files, attempt = pending.pop(future)
            yield from self._answers(future, files, attempt, submit)
            yield from fill_window()

    def _answers(self, future: Any, files: list[Path], attempt: int,
                 submit: Callable[[list[Path], int], None]) -> Iterator[Examination]:
        try:
            batch: Batch = future.result()
        except UnseenPath as exc:
            raise ClusterError(str(exc)) from None
        except Exception as exc:  # a worker died (KilledWorker), a connection broke, ...
            if attempt == 0:
                for path in files:  # once more, each file on its own
                    submit([path], 1)
                return
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            for path in files:
                failed = Examination(path)
                failed.error(msg("could not be read: the cluster worker reading it failed "
                                 "twice ({problem})", problem=data(reason[:300])))
                yield failed
            return
        finally:
            future.release()
        check_result(batch.worker, batch.identity)
        for path, result in zip(files, batch.examinations, strict=True):
            result.path = path  # the client's own Path (the run looks results up by it)
            self.readers[path] = batch.worker
            yield result
