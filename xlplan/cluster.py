"""Running xlplan's work on a Dask distributed cluster: the scheduler, the workers, the plan.

One laptop reads about eight workbooks a second per core; a chain of 20,000
stores, or a group's every cost centre, needs more machines. Dask distributed
fits a Python command: a scheduler and workers started with ``dask scheduler``
and ``dask worker``, reached at ``tcp://HOST:PORT``, or an in-process
``LocalCluster`` for ``--scheduler local:N``. Only the reading and the writing
of workbooks move there; this process still owns the history database.

The workers must decide exactly as this machine would, so at the start every
worker's xlplan is compared with this one's: the version, a fingerprint of its
code (the hash of every module's source) and Python's version. Any difference
is refused with the workers named. Each task's result carries the fingerprint
again, so a worker that joins later with other code is refused too.

The plan travels with the work (:class:`xlplan.spec.shipped.ShippedPlan`): a
worker saves it once per plan in a folder of its own (:func:`worker_plan_file`).
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import xlplan
from xlplan.spec.shipped import SUFFIX, ShippedPlan

INSTALL = "pip install 'xlplan[cluster]'"
_LOCAL = re.compile(r"local:(\d+)")
_REMOTE = re.compile(r"(tcp|tls|inproc|ucx|ws|wss)://\S+")


class ClusterError(RuntimeError):
    """The cluster cannot do this run (not installed, not reached, other workers' code)."""


def dask_distributed() -> Any:
    """The ``dask.distributed`` module, or a ClusterError that says how to install it."""
    try:
        import dask.distributed
    except ImportError:
        raise ClusterError("--scheduler needs Dask distributed, an optional part of xlplan: "
                           f"{INSTALL} (on this machine and on every worker)") from None
    return dask.distributed


@cache
def code_fingerprint() -> str:
    """The hash of every module of the installed xlplan (its path and its source): two
    installations with the same fingerprint run the same code."""
    root = Path(xlplan.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def identity() -> str:
    """What must be the same on the client and every worker, as one readable string."""
    python = ".".join(map(str, sys.version_info[:2]))
    return f"xlplan {xlplan.__version__} (code {code_fingerprint()}, Python {python})"


def check_workers(client: Any, wait_s: float = 60.0) -> dict[str, str]:
    """Wait for at least one worker, then refuse unless every worker runs this xlplan.
    Returns each worker's address and identity."""
    try:
        client.wait_for_workers(1, timeout=wait_s)
    except TimeoutError:
        raise ClusterError(f"no worker joined the scheduler at {client.scheduler.address} "
                           f"within {wait_s:g} s: start workers with `dask worker "
                           f"{client.scheduler.address}`") from None
    theirs: dict[str, str] = client.run(identity)
    mine = identity()
    other = {addr: ident for addr, ident in theirs.items() if ident != mine}
    if other:
        listed = "; ".join(f"{addr} runs {ident}" for addr, ident in sorted(other.items()))
        raise ClusterError(f"workers run another xlplan than this machine ({mine}): "
                           f"{listed}. Install the same xlplan everywhere and start again")
    return theirs


def check_result(worker: str, ident: str) -> None:
    """A task's answer came from a worker with this machine's xlplan, else ClusterError."""
    if ident != identity():
        raise ClusterError(f"worker {worker} joined with another xlplan ({ident}; this "
                           f"machine runs {identity()}): stopped. Install the same xlplan "
                           "everywhere and run again (the files decided so far are kept)")


@contextmanager
def connected(scheduler: str, wait_s: float = 60.0) -> Iterator[Any]:
    """A Dask client for ``--scheduler``: ``tcp://HOST:PORT`` (a running scheduler) or
    ``local:N`` (N worker processes on this machine, one thread each, on 127.0.0.1 only,
    stopped at the end). The workers are checked (:func:`check_workers`) before use."""
    distributed = dask_distributed()
    local = _LOCAL.fullmatch(scheduler)
    if not local and not _REMOTE.fullmatch(scheduler):
        raise ClusterError(f"--scheduler {scheduler!r}: expected tcp://HOST:PORT (a running "
                           "Dask scheduler) or local:N (N worker processes here)")
    cluster = None
    try:
        if local:
            count = int(local.group(1))
            if count < 1:
                raise ClusterError("--scheduler local:N needs N of at least 1")
            cluster = distributed.LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=50)
            client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(scheduler, timeout=wait_s)
            except OSError as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                                   ) from None
        try:
            check_workers(client, wait_s)
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


_PLANS: dict[str, Path] = {}
_PLANS_LOCK = threading.Lock()
_FOLDER: list[tempfile.TemporaryDirectory[str]] = []


def _worker_folder() -> Path:
    """A folder of this worker process's own, removed when it exits."""
    if not _FOLDER:
        _FOLDER.append(tempfile.TemporaryDirectory(prefix="xlplan-worker-"))
    return Path(_FOLDER[0].name)


def worker_plan_file(shipped: ShippedPlan) -> Path:
    """On a worker: the shipped plan saved as a file a reader process can open, once per
    plan."""
    with _PLANS_LOCK:
        if shipped.key not in _PLANS:
            path = _worker_folder() / f"{shipped.key[:16]}{SUFFIX}"
            _PLANS[shipped.key] = shipped.save(path)
        return _PLANS[shipped.key]


def worker_file(data: bytes, suffix: str) -> Path:
    """On a worker: ``data`` saved as a file (once per content) a reader process can open."""
    key = hashlib.sha256(data).hexdigest()
    with _PLANS_LOCK:
        if key not in _PLANS:
            path = _worker_folder() / f"{key[:16]}{suffix}"
            path.write_bytes(data)
            _PLANS[key] = path
        return _PLANS[key]


def worker_address() -> str:
    """The address of the Dask worker running the current task."""
    return str(dask_distributed().get_worker().address)
