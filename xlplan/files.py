"""Writing an output file whole or not at all, and leaving no temporary file behind.

An output is written to a temporary file beside it and renamed into place. The temporary
file is named ``.<name>.tmp-<8 hex digits>`` (``.huaxin-2027-consolidated.xlsx.tmp-1f0c9a3e``):
hidden, and matched by no ``*.xlsx`` or ``*.csv`` glob, so a script or a person that picks
up the outputs never takes one for a workbook. A run that is killed (SIGKILL, power loss)
cannot remove its temporary file; the next write of the same output does, but only when
the file is abandoned: the writer holds a lock on it (POSIX ``flock``; on Windows the open
handle itself stops deletion), and a lock is released when its process dies.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

TEMP_MARK = ".tmp-"


def temp_pattern(path: Path) -> re.Pattern[str]:
    """The names of ``path``'s temporary files, and nothing else."""
    return re.compile(re.escape(f".{path.name}{TEMP_MARK}") + r"[0-9a-f]{8}")


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed onto it if the block succeeds.

    A reader never sees half a file, and a crash, a full disk or an error leaves the
    previous ``path`` whole; an error removes the temporary file, and the temporary files
    of earlier writers of ``path`` that were killed are removed first
    (:func:`remove_abandoned`). The file gets the permissions of any new file (``0o666``
    less the umask): a workbook on a shared folder must open for the colleagues it is for.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(path)
    fd, tmp = _create_temp(path)
    try:
        try:
            _lock(fd)
            yield tmp
        finally:
            if sys.platform == "win32":  # Windows renames no file that is open
                os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if sys.platform != "win32":
            os.close(fd)  # after the rename: the lock lasts as long as the name


@contextmanager
def replaced_together(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """:func:`replaced` for files that belong together (a report and its CSVs): the block
    writes every temporary, and only when it has written them all is each renamed into
    place. An error or a full disk part-way leaves every previous file as it was, never a
    new workbook beside old CSVs. (Renames within a folder need no space: they do not fail
    for a full disk.)"""
    with ExitStack() as stack:
        yield [stack.enter_context(replaced(path)) for path in paths]


def remove_abandoned(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` that no live writer holds (left by a killed
    run); return them. Only names :func:`temp_pattern` matches are considered."""
    pattern = temp_pattern(path)
    removed: list[Path] = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        candidate = path.parent / name
        if pattern.fullmatch(name) and not candidate.is_symlink() and candidate.is_file() \
                and _abandoned(candidate):
            removed.append(candidate)
    return removed


def _create_temp(path: Path) -> tuple[int, Path]:
    while True:
        tmp = path.with_name(f".{path.name}{TEMP_MARK}{secrets.token_hex(4)}")
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


if sys.platform == "win32":
    def _lock(fd: int) -> None:
        """Nothing to do: a file another process has open cannot be deleted."""

    def _abandoned(candidate: Path) -> bool:
        """Removed if no process has it open (the writer's handle makes unlink fail)."""
        try:
            candidate.unlink()
        except OSError:
            return False
        return True
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _abandoned(candidate: Path) -> bool:
        """Removed if its lock can be taken: the process that held it is gone."""
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            candidate.unlink()  # while holding the lock: no writer can have taken it
        except OSError:
            return False
        finally:
            os.close(fd)
        return True
