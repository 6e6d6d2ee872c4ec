"""Reader processes: each file is examined in a child with a memory limit and a timeout.

A hostile or broken file must never take the consolidation down with it: a
reader library once aborted the whole process on a 2 KB file. So every file
is examined in a child process (started with ``spawn``: no inherited database
handle or threads) with a cap on its address space, and the parent waits for
each answer with a deadline. A child that dies or overruns is killed and
replaced; its file gets a rejection saying so, and the other files go on.

One child per core reads in parallel; each keeps the plan's build context
between files, so the plan is loaded once per child, not once per file.

Children are started as ``python -m xlplan.consolidate.workers`` (not with
multiprocessing's spawn, which re-imports the caller's main script and fails
in a script without a ``__main__`` guard); they talk to the parent over two
pipes with multiprocessing's pickling connections.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from xlplan.consolidate.examine import Examination, examine, templates_made
from xlplan.consolidate.package import Limits


def _child(conn: _Duplex, plan_path: str, limits: Limits) -> None:
    """Child main loop: load the plan once, then examine each path sent until None."""
    from xlplan.spec.loader import load_plan
    from xlplan.spec.prior_year import read_prior_year
    from xlplan.workbook.context import BuildContext

    loaded = load_plan(Path(plan_path))
    ctx = BuildContext(loaded, read_prior_year(loaded))
    ctx.targets, ctx.input_units  # noqa: B018 — compute once, before the first file
    keep_out_of_gc()
    conn.send("ready")
    made = templates_made()
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        if path is None:
            return
        try:
            result = examine(Path(path), ctx, limits)
        except MemoryError:
            result = Examination(Path(path))
            result.error(f"reading needs more than {limits.memory_bytes // 2**20:,} MB of "
                         "memory: refused")
        except Exception as exc:  # one file's failure is that file's finding
            result = Examination(Path(path))
            result.error(f"the reader failed on this file ({type(exc).__name__}: {exc})")
        conn.send(result)
        if templates_made() != made:  # a unit's template was just made: it is kept
            made = templates_made()
            keep_out_of_gc()


def keep_out_of_gc() -> None:
    """Move what this process keeps (the plan, each unit's template) out of the garbage
    collector's sight. Otherwise every full collection walks those tens of thousands of
    cells again while a file is read, which cost a quarter of each file's time."""
    gc.collect()
    gc.freeze()


class _Duplex:
    """Two one-way pipe connections used as one (send on one, receive on the other)."""

    def __init__(self, receive: Connection, send: Connection):
        self.receive, self.sender = receive, send

    def send(self, obj: Any) -> None:
        self.sender.send(obj)

    def recv(self) -> Any:
        return self.receive.recv()

    def poll(self, timeout: float) -> bool:
        return self.receive.poll(timeout)

    def close(self) -> None:
        self.receive.close()
        self.sender.close()


def main(argv: list[str]) -> None:
    """Entry point of a reader process: ``READ_FD WRITE_FD PLAN LIMITS_JSON``."""
    read_fd, write_fd, plan_path, limits_json = argv
    limits = Limits(**json.loads(limits_json))
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
        pass
    conn = _Duplex(Connection(int(read_fd), writable=False),
                   Connection(int(write_fd), readable=False))
    _child(conn, plan_path, limits)


class _Slot:
    """One child process and the pipe to it; restarted after a crash or a timeout."""

    def __init__(self, plan: Path, limits: Limits):
        self.plan, self.limits = plan, limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: _Duplex | None = None

    def start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # BLAS buffers would eat the cap
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "xlplan.consolidate.workers", str(to_child_r),
                 str(from_child_w), str(self.plan), json.dumps(asdict(self.limits))],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.conn = _Duplex(Connection(from_child_r, writable=False),
                            Connection(to_child_w, readable=False))
        if not self.conn.poll(120) or self.conn.recv() != "ready":
            raise RuntimeError("a reader process did not start")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        elif self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def examine(self, path: Path) -> Examination:
        if self.proc is None:
            self.start()
        assert self.conn is not None and self.proc is not None
        proc = self.proc
        try:
            self.conn.send(str(path))
            if self.conn.poll(self.limits.timeout_s):
                result: Examination = self.conn.recv()
                return result
            reason = (f"reading took longer than {self.limits.timeout_s:g} s and was stopped: "
                      "refused")
        except (EOFError, OSError, BrokenPipeError):
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
            code = proc.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            reason = (f"the reader process died on this file ({how}): a malformed or "
                      "hostile workbook; refused")
        self.stop(kill=True)
        failed = Examination(path)
        failed.error(reason)
        return failed


def examine_all(paths: Iterable[Path], plan: Path, workers: int | None = None,
                limits: Limits | None = None,
                done: Callable[[Examination], None] | None = None) -> Iterator[Examination]:
    """Examine files in parallel child processes; yields results as they finish."""
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
        slot = _Slot(plan, limits)
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
