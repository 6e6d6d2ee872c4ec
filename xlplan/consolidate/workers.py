"""Reader processes: each file is examined in a child with a memory limit and a timeout.

A hostile or broken file must never take the consolidation down with it: a
reader library once aborted the whole process on a 2 KB file. So every file
is examined in a child process (started with ``spawn``: no inherited database
handle or threads) with a cap on its address space, and the parent waits for
each answer with a deadline. A child that dies or overruns is killed and
replaced; its file gets a rejection saying so, and the other files go on.

One child per core reads in parallel; each keeps the plan's build context
(and with it the plan's numbers) between files, so the plan is loaded and its
numbers computed once per child, not once per file.

The process machinery (``python -m`` children, length-prefixed pickles over
stdin/stdout, the answer thread with a deadline, the memory cap) is
:mod:`xlplan.capped`, shared with the actuals importer's Excel reader.
"""

from __future__ import annotations

import gc
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO

from xlplan.capped import Answers, CappedChild, ChildDied, child_streams, receive, send
from xlplan.consolidate.carry import Revisions
from xlplan.consolidate.examine import Examination, examine, templates_made
from xlplan.consolidate.package import Limits

_Answers = Answers  # its name here before the machinery moved to xlplan.capped


def _child(incoming: IO[bytes], outgoing: IO[bytes], plan_path: str, limits: Limits,
           revisions_path: str = "") -> None:
    """Child main loop: load the plan once, then examine each path sent until None.
    ``plan_path``: the plan file, or a plan shipped to a cluster worker (xlplan.spec.shipped);
    ``revisions_path``: a JSON file of the plan's earlier revisions (spec hash → text)."""
    from xlplan.spec.shipped import open_plan_source
    from xlplan.workbook.context import BuildContext

    loaded, prior = open_plan_source(Path(plan_path))  # a plan file, or one shipped
    ctx = BuildContext(loaded, prior)
    ctx.compute_all()  # the plan's numbers once, before the first file (and before the freeze)
    older = Revisions.from_file(Path(revisions_path), loaded.path) if revisions_path else None
    keep_out_of_gc()
    send(outgoing, "ready")
    made = templates_made()
    while True:
        try:
            path = receive(incoming)
        except EOFError:
            return
        if path is None:
            return
        try:
            result = examine(Path(path), ctx, limits, older)
        except MemoryError:
            result = Examination(Path(path))
            result.error(f"reading needs more than {limits.memory_bytes // 2**20:,} MB of "
                         "memory: refused")
        except Exception as exc:  # one file's failure is that file's finding
            result = Examination(Path(path))
            result.error(f"the reader failed on this file ({type(exc).__name__}: {exc})")
        send(outgoing, result)
        if templates_made() != made:  # a unit's template was just made: it is kept
            made = templates_made()
            keep_out_of_gc()


def keep_out_of_gc() -> None:
    """Move what this process keeps (the plan, each unit's template) out of the garbage
    collector's sight. Otherwise every full collection walks those tens of thousands of
    cells again while a file is read, which cost a quarter of each file's time."""
    gc.collect()
    gc.freeze()


def main(argv: list[str]) -> None:
    """Entry point of a reader process: ``PLAN LIMITS_JSON [REVISIONS_JSON_FILE]``;
    messages on stdin/stdout."""
    plan_path, limits_json, *revisions = argv
    limits = Limits(**json.loads(limits_json))
    incoming, outgoing = child_streams(limits.memory_bytes)
    _child(incoming, outgoing, plan_path, limits, revisions[0] if revisions else "")


class _Slot:
    """One reader process; restarted after a crash or a timeout."""

    def __init__(self, plan: Path, limits: Limits, revisions: Path | None = None):
        self.plan, self.limits = plan, limits
        self.child = CappedChild("xlplan.consolidate.workers",
                                 [str(plan), json.dumps(asdict(limits))]
                                 + ([str(revisions)] if revisions else []))

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.child.proc

    def start(self) -> None:
        try:
            self.child.start()
        except RuntimeError:
            raise RuntimeError("a reader process did not start") from None

    def stop(self, kill: bool = False) -> None:
        self.child.stop(kill)

    def examine(self, path: Path) -> Examination:
        if self.child.proc is None:
            self.start()
        try:
            result: Examination = self.child.ask(str(path), self.limits.timeout_s)
            return result
        except TimeoutError:
            reason = (f"reading took longer than {self.limits.timeout_s:g} s and was stopped: "
                      "refused")
        except ChildDied as died:
            reason = (f"the reader process died on this file ({died.how}): a malformed or "
                      "hostile workbook; refused")
        self.stop(kill=True)
        failed = Examination(path)
        failed.error(reason)
        return failed


def examine_all(paths: Iterable[Path], plan: Path, workers: int | None = None,
                limits: Limits | None = None,
                done: Callable[[Examination], None] | None = None,
                revisions: Path | None = None) -> Iterator[Examination]:
    """Examine files in parallel child processes; yields results as they finish.
    ``revisions``: a JSON file of the plan's earlier revisions (spec hash → plan text), so
    their workbooks are carried over."""
    limits = limits or Limits()
    todo: queue.Queue[Path | None] = queue.Queue()
    items = list(paths)
    for path in items:
        todo.put(path)
    count = max(1, min(workers or os.cpu_count() or 1, len(items) or 1))
    for _ in range(count):
        todo.put(None)
    results: queue.Queue[Examination | BaseException] = queue.Queue()

    def run() -> None:
        slot = _Slot(plan, limits, revisions)
        try:
            while (path := todo.get()) is not None:
                results.put(slot.examine(path))
        except BaseException as exc:  # surfaced to the caller below
            results.put(exc)
        finally:
            slot.stop()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for _ in items:
        got = results.get()
        if isinstance(got, BaseException):
            raise got
        if done:
            done(got)
        yield got
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(sys.argv[1:])
