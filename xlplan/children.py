"""Python processes that xlplan starts, isolated from the folder they are started in.

Finance runs xlplan from wherever it is, often the inbox itself. A child started as
``python -m …`` puts that folder first on its import path: a ``yaml.py`` lying in the
inbox then runs inside the reader processes, and an empty folder named ``xlplan`` there
hides the real package. So children run in isolated mode (``python -I``: no current
folder, no user site, no PYTHON* variables on the path) and are told where this xlplan
lives, which is added *after* the interpreter's own path (so it can shadow nothing).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import xlplan

# sys.argv of the child: ['-c', root, module, *args]; the module runs as ``python -m``
# would run it (as __main__, with sys.argv[1:] the arguments)
_BOOT = ("import runpy, sys; root, module = sys.argv[1:3]; del sys.argv[1:3]; "
         "sys.path.append(root) if root not in sys.path else None; "
         "runpy.run_module(module, run_name='__main__', alter_sys=True)")


def package_root() -> str:
    """The folder that holds this ``xlplan`` package (site-packages, or a source tree)."""
    return str(Path(xlplan.__file__).resolve().parent.parent)


def python_command(module: str, *args: str) -> list[str]:
    """The command that runs ``module`` as ``python -m module *args`` would, in an
    isolated Python (this interpreter, ``-I``)."""
    return [sys.executable, "-I", "-c", _BOOT, package_root(), module, *args]


@contextlib.contextmanager
def isolated_spawns() -> Iterator[None]:
    """While processes are started by ``multiprocessing`` (spawn, forkserver), start them
    without the current folder or the user site on their path. multiprocessing runs a
    fresh ``python -c`` and passes only the parent's own flags; these variables are the
    isolated mode's two parts that a child honours from its environment."""
    saved = {k: os.environ.get(k) for k in ("PYTHONSAFEPATH", "PYTHONNOUSERSITE")}
    os.environ.update({"PYTHONSAFEPATH": "1", "PYTHONNOUSERSITE": "1"})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
