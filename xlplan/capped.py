"""Child processes with a memory cap and a deadline, for reading files that may be hostile.

A reader library (calamine) once aborted the whole process on a 2 KB file, and a
small file can claim a sheet of 17 billion cells. Whatever reads a file from
outside therefore runs in a child process whose address space is capped, and
the parent waits for each answer with a deadline: a child that dies or overruns
is killed, and the file gets a clear error while the caller goes on.

Children are started as ``python -I`` running ``MODULE ARGS`` as ``-m`` would
(isolated: nothing from the current folder or the user site is importable, see
:mod:`xlplan.children`; not with multiprocessing's spawn, which re-imports the
caller's main script and fails in a script without a ``__main__`` guard). They talk
to the parent over their own stdin and stdout, in length-prefixed pickles: that
works on Windows too, where passing other pipe descriptors to a child (``pass_fds``)
and multiprocessing's connections over plain pipes do not. The child moves its
stdout aside first (:func:`child_streams`), so a stray ``print`` cannot corrupt a
message, and the parent reads each child's answers in a thread of its own
(:class:`Answers`), which gives it a deadline (a pipe cannot be polled with a
timeout on Windows).

A child module's ``__main__`` calls :func:`child_streams`, sends ``"ready"``
once it has loaded what it keeps, then answers each message until ``None`` or
end of input. The parent side is :class:`CappedChild`.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from xlplan.children import python_command

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


class Answers:
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


def limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space (where the platform can: the deadline still holds
    where it cannot, e.g. on Windows)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError):
        pass


def child_streams(memory_bytes: int) -> tuple[IO[bytes], IO[bytes]]:
    """In a child: cap its memory, move stdout aside; the (incoming, outgoing) message
    streams. Stray output of any library goes to devnull, not into a message."""
    limit_memory(memory_bytes)
    outgoing = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return sys.stdin.buffer, outgoing


class ChildDied(Exception):
    """The child went away while answering; ``how`` says how (a signal or an exit code)."""

    def __init__(self, how: str):
        self.how = how
        super().__init__(how)


class CappedChild:
    """One child process ``python -m module *args`` and the pipes to it.

    :meth:`ask` sends a message and waits for the answer; after a timeout or a
    death the caller stops the child (``stop(kill=True)``) and may start another.
    """

    def __init__(self, module: str, args: list[str], start_timeout: float = 120.0):
        self.module, self.args, self.start_timeout = module, args, start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.answers: Answers | None = None

    def start(self) -> None:
        """Start the child and wait for its ``"ready"`` (RuntimeError if it never comes)."""
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # BLAS buffers would eat the cap
        self.proc = subprocess.Popen(
            python_command(self.module, *self.args),  # python -I: nothing from the cwd
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        self.answers = Answers(self.proc.stdout)
        try:
            ready = self.answers.next(self.start_timeout)
        except (TimeoutError, EOFError):
            ready = None
        if ready != "ready":
            self.stop(kill=True)
            raise RuntimeError(f"a child process ({self.module}) did not start")

    def stop(self, kill: bool = False) -> None:
        """Ask the child to finish (or kill it) and close the pipes; no-op if not running."""
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

    def ask(self, message: Any, timeout: float,
            on_note: Callable[[tuple[Any, ...]], None] | None = None) -> Any:
        """The child's answer to ``message`` (starting the child if needed).

        A child may send ``("note", …)`` messages before its answer (what it is doing):
        with ``on_note`` they are handed to it, and the deadline is for the whole answer.
        TimeoutError past ``timeout`` seconds; :class:`ChildDied` if the child went away.
        The child is left as it is either way: the caller stops it.
        """
        if self.proc is None:
            self.start()
        proc = self.proc
        assert self.answers is not None and proc is not None and proc.stdin is not None
        deadline = time.monotonic() + timeout
        try:
            send(proc.stdin, message)
            while True:
                got = self.answers.next(max(0.0, deadline - time.monotonic()))
                if on_note is None or not (isinstance(got, tuple) and got[:1] == ("note",)):
                    return got
                on_note(got)
        except TimeoutError:  # an OSError too, but not a death
            raise
        except (EOFError, OSError, ValueError):
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
            code = proc.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise ChildDied(how) from None
