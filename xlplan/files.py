"""Writing an output file whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed onto it if the block succeeds.

    A reader never sees half a file, and a crash, a full disk or an error leaves the
    previous ``path`` whole and no temporary file behind. The file gets the permissions
    of any new file (``0o666`` less the umask): ``mkstemp`` creates it readable by its
    owner only, and a workbook on a shared folder must open for the colleagues it is for.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def replaced_together(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """:func:`replaced` for files that belong together (a report and its CSVs): the block
    writes every temporary, and only when it has written them all is each renamed into
    place. An error or a full disk part-way leaves every previous file as it was, never a
    new workbook beside old CSVs. (Renames within a folder need no space: they do not fail
    for a full disk.)"""
    with ExitStack() as stack:
        yield [stack.enter_context(replaced(path)) for path in paths]


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it
    os.umask(mask)
    return mask
