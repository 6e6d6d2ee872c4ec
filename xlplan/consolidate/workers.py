"""Reader processes: each file is examined in a child with a memory limit and a timeout.

A hostile or broken file must never take the consolidation down with it: a
reader library once aborted the whole process on a 2 KB file. So every file
is examined in a child process (started with ``spawn``: no inherited database
handle or threads) with a cap on its address space, and the parent waits for
each answer with a deadline. A child that dies or overruns is killed and
replaced; its file gets a rejection saying so, and the other files go on.

One child per core reads in parallel; each keeps the plan's build context
between files, so the plan is loaded once per child, not once per file.

Children are started as an isolated Python calling :func:`main` (see
:mod:`xlplan.children`: nothing from the current folder is importable; not with
multiprocessing's spawn, which re-imports the caller's main script and fails
in a script without a ``__main__`` guard). They talk to the parent over their
own stdin and stdout, in length-prefixed pickles: that works on Windows too,
where passing other pipe descriptors to a child (``pass_fds``) and
multiprocessing's connections over plain pipes do not. The child moves its
stdout aside first, so a stray ``print`` cannot corrupt a message, and the
parent reads each child's answers in a thread of its own, which gives it a
deadline (a pipe cannot be polled with a timeout on Windows).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from xlplan.children import python_command
from xlplan.consolidate.examine import Examination, Finding, Level, examine, templates_made
from xlplan.consolidate.names import shown
from xlplan.consolidate.package import Limits


def _child(incoming: IO[bytes], outgoing: IO[bytes], plan_path: str, limits: Limits) -> None:
    """Child main loop: load the plan once (if given), then answer each request until None:
    a path to examine (told as ``("stage", what, unit)`` messages, then the Examination),
    or ``("book", path)`` for :mod:`xlplan.consolidate.diff` (its book and manifest)."""
    from xlplan.spec.loader import load_plan
    from xlplan.spec.prior_year import read_prior_year
    from xlplan.workbook.context import BuildContext

    ctx = None
    if plan_path:
        loaded = load_plan(Path(plan_path))
        ctx = BuildContext(loaded, read_prior_year(loaded))
        ctx.targets, ctx.input_units  # noqa: B018 — compute once, before the first file
    keep_out_of_gc()
    send(outgoing, "ready")
    made = templates_made()
    while True:
        try:
            request = receive(incoming)
        except EOFError:
            return
        if request is None:
            return
        if isinstance(request, tuple):
            send(outgoing, _read_book(request[1], limits))
            continue
        assert ctx is not None
        path = request

        def stage(what: str, result: Examination) -> None:
            send(outgoing, ("stage", what, result.unit))
        try:
            result = examine(Path(path), ctx, limits, stage)
        except MemoryError:
            result = Examination(Path(path))
            result.error(f"reading needs more than {limits.memory_bytes // 2**20:,} MB of "
                         "memory: refused")
        except Exception as exc:  # one file's failure is that file's finding
            result = Examination(Path(path))
            result.error(f"the reader failed on this file ({type(exc).__name__}: {exc})")
        send(outgoing, bounded(result, limits))
        if templates_made() != made:  # a unit's template was just made: it is kept
            made = templates_made()
            keep_out_of_gc()


def _read_book(path: str, limits: Limits) -> tuple[Any, ...]:
    """``("book", RawBook, Manifest)`` or ``("refused", why)``, for ``xlplan diff``."""
    from xlplan.consolidate.diff import DiffError, read_unit_book

    try:
        return ("book", *read_unit_book(Path(path), limits))
    except DiffError as exc:
        return ("refused", cap(str(exc), limits))
    except MemoryError:
        return ("refused", f"{shown(path)}: reading needs more than "
                           f"{limits.memory_bytes // 2**20:,} MB of memory: refused")
    except Exception as exc:
        return ("refused", cap(f"{shown(path)}: the reader failed on this file "
                               f"({type(exc).__name__}: {exc})", limits))


def cap(text: str, limits: Limits) -> str:
    """A message no longer than the limit (a file can make any message arbitrarily long:
    a sheet name, an entry name, a library's error text)."""
    most = limits.max_message_chars
    return text if len(text) <= most else text[:most - 30] + f"… ({len(text):,} characters)"


def bounded(result: Examination, limits: Limits) -> Examination:
    """The examination with at most ``max_findings`` findings (the rest counted in one
    more, at the level of the worst it stands for) and every text capped: what a file can
    make the run store and print is bounded, whatever the file holds."""
    findings = result.findings
    if len(findings) > limits.max_findings:
        rest = findings[limits.max_findings:]
        level: Level = "error" if any(f.level == "error" for f in rest) else "warning"
        findings = [*findings[:limits.max_findings],
                    Finding(level, "", "", f"… and {len(rest):,} more findings (only the first "
                                           f"{limits.max_findings:,} are kept)")]
    result.findings = [Finding(f.level, cap(f.sheet, limits), cap(f.cell, limits),
                               cap(f.message, limits)) for f in findings]
    result.unit, result.plan_id = cap(result.unit, limits), cap(result.plan_id, limits)
    return result


def keep_out_of_gc() -> None:
    """Move what this process keeps (the plan, each unit's template) out of the garbage
    collector's sight. Otherwise every full collection walks those tens of thousands of
    cells again while a file is read, which cost a quarter of each file's time."""
    gc.collect()
    gc.freeze()


_LENGTH = struct.Struct("!Q")


def send(stream: IO[bytes], obj: Any) -> None:
    """One message: its pickle's length, then the pickle."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message; EOFError when the other side has gone (also mid-message)."""
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    return pickle.loads(_read_exactly(stream, length))


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) < size:
        raise EOFError
    return data


class _Answers:
    """A child's answers, read in a thread as they come, so the parent can wait for the
    next one with a deadline."""

    _GONE = object()

    def __init__(self, stream: IO[bytes]):
        self.queue: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while True:
                self.queue.put(receive(stream))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            self.queue.put(self._GONE)

    def next(self, timeout: float) -> Any:
        """The next answer; TimeoutError past ``timeout`` seconds, EOFError if the child
        has gone."""
        try:
            got = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if got is self._GONE:
            self.queue.put(got)  # every later call says so too
            raise EOFError
        return got


def main(argv: list[str]) -> None:
    """Entry point of a reader process: ``PLAN LIMITS_JSON`` (PLAN empty: no plan, books
    only); messages on stdin/stdout."""
    plan_path, limits_json = argv
    limits = Limits(**json.loads(limits_json))
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
        pass
    outgoing = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # stray output goes nowhere
    _child(sys.stdin.buffer, outgoing, plan_path, limits)


class _Slot:
    """One child process and the pipe to it; restarted after a crash or a timeout."""

    def __init__(self, plan: Path | None, limits: Limits):
        self.plan, self.limits = plan, limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.answers: _Answers | None = None

    def start(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # BLAS buffers would eat the cap
        self.proc = subprocess.Popen(
            python_command("xlplan.consolidate.workers:main",
                           str(self.plan) if self.plan else "", json.dumps(asdict(self.limits))),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        self.answers = _Answers(self.proc.stdout)
        try:
            ready = self.answers.next(120)
        except (TimeoutError, EOFError):
            ready = None
        if ready != "ready":
            self.stop(kill=True)
            raise RuntimeError("a reader process did not start")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        proc = self.proc
        if kill:
            proc.kill()
        else:
            with contextlib.suppress(OSError, ValueError):
                assert proc.stdin is not None
                send(proc.stdin, None)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        self.proc, self.answers = None, None

    def ask(self, request: Any) -> tuple[Any, str, str]:
        """Send one request; (the answer, "", unit) or (None, why there is none, the unit
        the child had read by then). The stages the child reports name where it stopped;
        the time limit holds for the whole request."""
        if self.proc is None:
            self.start()
        proc = self.proc
        assert self.answers is not None and proc is not None and proc.stdin is not None
        deadline = time.monotonic() + self.limits.timeout_s
        stage, unit = "starting to read", ""
        try:
            send(proc.stdin, request)
            while True:
                got = self.answers.next(max(0.0, deadline - time.monotonic()))
                if not (isinstance(got, tuple) and got and got[0] == "stage"):
                    return got, "", unit
                stage, unit = got[1], got[2] or unit
        except TimeoutError:
            reason = (f"reading took longer than {self.limits.timeout_s:g} s and was stopped "
                      f"while {stage}: refused")
        except (EOFError, OSError, ValueError):
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
            code = proc.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            reason = (f"the reader process died on this file ({how}) while {stage}: a "
                      "malformed or hostile workbook; refused")
        self.stop(kill=True)
        return None, cap(reason, self.limits), unit

    def examine(self, path: Path) -> Examination:
        answer, reason, unit = self.ask(str(path))
        if reason:
            failed = Examination(path, unit=unit)
            failed.error(reason)
            return failed
        result: Examination = answer
        return result


def read_books(paths: Iterable[Path], limits: Limits | None = None) -> Iterator[Any]:
    """``xlplan diff``'s reading: each file in one reader process under the same limits as
    consolidation's; yields ``("book", RawBook, Manifest)`` or ``("refused", why)``."""
    slot = _Slot(None, limits or Limits())
    try:
        for path in paths:
            answer, reason, _ = slot.ask(("book", str(path)))
            yield answer if not reason else ("refused", f"{shown(path)}: {reason}")
    finally:
        slot.stop()


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
