"""Consolidation and build on a real Dask cluster on 127.0.0.1: the same decisions, the same
facts CSV byte for byte, the same workbooks as a local run; the workers do the reading; a
worker killed mid-run loses no file; a client killed mid-run re-runs to the clean result.

Dask distributed is in the dev extra, so these tests never skip (CI included).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL
from tamper import rewrite
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.cluster import ClusterError, check_workers, connected, dask_distributed
from xlplan.consolidate.cluster import ClusterExaminer
from xlplan.consolidate.examine import Examination
from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.run import consolidate
from xlplan.spec.loader import load_plan
from xlplan.workbook.build import Built
from xlplan.workbook.cluster import build_on_cluster
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample

FACTS = "small-2027-consolidated.csv"
GAPS = "small-2027-consolidated-gap.csv"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes (one thread each) and a scheduler, on 127.0.0.1."""
    with connected("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def inbox(built: list[Built], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both units filled, WEST sent twice, and hostile files: empty, CSV, encrypted, a
    broken zip, and an exact copy under another unit's name."""
    folder = tmp_path_factory.mktemp("cluster")
    box = folder / "inbox"
    box.mkdir()
    for b in built:
        if b.unit:
            for seed in (7, 8) if b.unit == "WEST" else (7,):
                f = fill_sample(b.path, folder / f"small-{b.unit}-{seed}.xlsx", seed=seed)
                rewrite(f.workbook, box / f"small-{b.unit}-{seed}.xlsx", {})
    shutil.copyfile(box / "small-EAST-7.xlsx", box / "small-WEST-copy.xlsx")
    (box / "empty.xlsx").write_bytes(b"")
    (box / "table.xlsx").write_text("unit,value\nEAST,1\n")
    (box / "locked.xlsx").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    (box / "broken.xlsx").write_bytes(b"PK\x03\x04broken")
    return box


@pytest.fixture(scope="module")
def local(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return consolidate(SMALL, inbox, tmp_path_factory.mktemp("local") / "out", workers=1)


def decisions(outcome: Outcome) -> dict[str, Any]:
    """The JSON outcome without what names the run's own output folder."""
    doc = outcome.to_json()
    return {"units": doc["units"],
            "files": sorted(doc["files"], key=lambda f: f["path"])}


def same_as_local(outcome: Outcome, local: Outcome) -> None:
    assert decisions(outcome) == decisions(local)
    for name in (FACTS, GAPS):
        assert (outcome.output.parent / name).read_bytes() == \
            (local.output.parent / name).read_bytes(), name


def test_local_run_is_what_the_inbox_should_give(local: Outcome) -> None:
    """The reference: hand-checked decisions for this inbox."""
    status = {f.path.name: f.status for f in local.files}
    assert status == {"small-EAST-7.xlsx": "accepted", "small-WEST-7.xlsx": "superseded",
                      "small-WEST-8.xlsx": "accepted", "small-WEST-copy.xlsx": "accepted",
                      "empty.xlsx": "rejected", "table.xlsx": "rejected",
                      "locked.xlsx": "rejected", "broken.xlsx": "rejected"}
    assert local.units == {"EAST": "accepted", "WEST": "accepted"}
    rows = (local.output.parent / FACTS).read_bytes().split(b"\r\n")[1:-1]
    units = {row.split(b",")[0] for row in rows}
    assert len(rows) > 10 and units == {b"EAST", b"WEST"}


def test_two_workers_decide_as_a_local_run_and_they_did_the_reading(
        client: Any, inbox: Path, local: Outcome, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_local_reader(*_: object) -> None:
        raise AssertionError("the client started a reader process")

    monkeypatch.setattr("xlplan.consolidate.workers._Slot.start", no_local_reader)
    examiner = ClusterExaminer(client, batch_size=1)
    outcome = consolidate(SMALL, inbox, tmp_path / "out", examiner=examiner)
    same_as_local(outcome, local)
    workers = set(client.scheduler_info()["workers"])
    assert len(workers) == 2
    # seven distinct files (the copy has the EAST file's bytes): each read by a worker
    assert len(examiner.readers) == 7 and set(examiner.readers.values()) <= workers


def test_ship_files_serves_workers_that_cannot_see_the_inbox(
        client: Any, inbox: Path, local: Outcome, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The examiner is given paths that exist on no machine; the client alone knows their
    bytes (a patched read). Without --ship-files the workers say they cannot see them and
    the run stops; with it, the decisions are the local run's."""
    from xlplan.consolidate import cluster as module

    nowhere = Path("/nonexistent-xlplan-inbox")
    real_read = module.read_regular

    def read_regular(path: Path, limits: Any) -> bytes:
        return real_read(inbox / path.name if path.parent == nowhere else path, limits)

    monkeypatch.setattr(module, "read_regular", read_regular)
    loaded = load_plan(SMALL)
    paths = [nowhere / p.name for p in sorted(inbox.iterdir())
             if p.name != "small-WEST-copy.xlsx"]
    with pytest.raises(ClusterError, match=r"cannot see .*--ship-files"):
        list(ClusterExaminer(client)(paths, loaded, None))
    got = {r.path.name: (r.status, [f.message for f in r.findings], r.facts)
           for r in ClusterExaminer(client, ship_files=True)(paths, loaded, None)}
    reference = consolidate_examinations(inbox, loaded)
    assert got == reference


def consolidate_examinations(inbox: Path, loaded: Any) -> dict[str, Any]:
    from xlplan.consolidate.run import local_examiner

    paths = [p for p in sorted(inbox.iterdir()) if p.name != "small-WEST-copy.xlsx"]
    return {r.path.name: (r.status, [f.message for f in r.findings], r.facts)
            for r in local_examiner(1)(paths, loaded, None, None)}


def test_a_worker_killed_mid_run_loses_no_file(client: Any, inbox: Path, local: Outcome,
                                               tmp_path: Path) -> None:
    pids: dict[str, int] = client.run(os.getpid)
    killed: list[str] = []

    def kill_a_busy_worker(_name: str) -> None:
        if killed:
            return
        busy = [addr for addr, keys in client.processing().items() if keys] or list(pids)
        os.kill(pids[busy[0]], signal.SIGKILL)
        killed.append(busy[0])

    outcome = consolidate(SMALL, inbox, tmp_path / "out", progress=kill_a_busy_worker,
                          examiner=ClusterExaminer(client, batch_size=1))
    assert killed
    same_as_local(outcome, local)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it; later tests use both


def test_a_batch_failing_twice_is_retried_file_by_file_then_decided(tmp_path: Path) -> None:
    """What the client does with a task that fails (a worker died, the connection broke):
    each file once more in a task of its own, then 'could not be read' with the reason."""
    class Failed:
        def result(self) -> None:
            raise RuntimeError("worker went away")

        def release(self) -> None:
            pass

    examiner = ClusterExaminer(client=None)
    again: list[tuple[list[Path], int]] = []
    files = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    first = list(examiner._answers(Failed(), files, 0, lambda f, n: again.append((f, n))))
    assert first == [] and again == [([files[0]], 1), ([files[1]], 1)]
    second: list[Examination] = list(examiner._answers(Failed(), [files[0]], 1,
                                                       lambda f, n: again.append((f, n))))
    assert len(again) == 2 and [r.path for r in second] == [files[0]]
    assert second[0].status == "rejected"
    assert second[0].findings[0].message.startswith("could not be read: the cluster worker")
    assert "RuntimeError: worker went away" in second[0].findings[0].message


def test_workers_with_another_xlplan_are_refused(client: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_workers(client).keys() == set(client.scheduler_info()["workers"])
    # this process's code changes (as after an edit or another release); the workers' not
    monkeypatch.setattr("xlplan.cluster.code_fingerprint", lambda: "0edited0")
    with pytest.raises(ClusterError, match=r"workers run another xlplan than this machine "
                                           r"\(xlplan \S+ \(code 0edited0.*\): "
                                           r"tcp://127\.0\.0\.1:\d+ runs xlplan \S+ \(code "
                                           r"[0-9a-f]{16}, .*; tcp://127"):
        check_workers(client)


def test_without_dask_the_scheduler_option_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ClusterError, match=r"pip install 'xlplan\[cluster\]'"):
        dask_distributed()
    result = CliRunner().invoke(app, ["consolidate", str(SMALL), str(tmp_path), "-o",
                                      str(tmp_path / "out"), "--scheduler", "local:1"])
    assert result.exit_code == 1 and "xlplan[cluster]" in result.stderr


_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)")


def parts(path: Path) -> dict[str, bytes]:
    """A workbook's zip parts, the build time blanked (two local builds differ only there)."""
    with zipfile.ZipFile(path) as z:
        return {n: _STAMP.sub(b"T", z.read(n)) for n in z.namelist()}


def test_build_on_workers_writes_the_local_build(client: Any, ctx: BuildContext,
                                                 built: list[Built], tmp_path: Path) -> None:
    on_cluster = build_on_cluster(client, ctx, tmp_path / "out")
    assert [b.unit for b in on_cluster] == [b.unit for b in built]
    for here, there in zip(built, on_cluster, strict=True):
        assert there.path.parent.parent == tmp_path / "out" or there.path.parent == \
            tmp_path / "out"
        assert parts(there.path) == parts(here.path), there.unit
        assert there.manifest.fingerprint == here.manifest.fingerprint
    with pytest.raises(ValueError, match="NORTH"):
        build_on_cluster(client, ctx, tmp_path / "out", ["NORTH"])


@pytest.mark.slow
def test_command_line_cluster_and_a_killed_client(inbox: Path, tmp_path: Path) -> None:
    """`dask scheduler` and `dask worker` started as a user would (127.0.0.1); `xlplan
    consolidate --scheduler tcp://…` killed mid-run, then run again: the clean result."""
    # One file per unit: which of two files of a unit counts is the one received last, and a
    # killed run receives some files in a run of its own, as a local run killed would.
    box = tmp_path / "inbox"
    shutil.copytree(inbox, box)
    (box / "small-WEST-7.xlsx").unlink()
    clean = consolidate(SMALL, box, tmp_path / "local", workers=1)
    dask = Path(sys.executable).with_name("dask")
    info = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", info], **quiet)
    workers = None
    try:
        for _ in range(300):
            if info.exists() and info.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1",
                                    "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                                   **quiet)
        out = tmp_path / "out"
        command = [sys.executable, "-m", "xlplan", "consolidate", str(SMALL), str(box),
                   "-o", str(out), "--scheduler", address, "--json"]
        first = subprocess.Popen(command, **quiet)
        deadline = time.monotonic() + 120
        while not (out / "xlplan.duckdb").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the run is under way: reading on the workers
        first.kill()
        assert first.wait() == -signal.SIGKILL  # killed, not finished
        again = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               check=False)
        assert again.returncode == 0, again.stderr
        doc = json.loads(again.stdout)
        assert doc["units"] == clean.to_json()["units"] == {"EAST": "accepted",
                                                             "WEST": "accepted"}
        mine = {Path(f["path"]).name: (f["status"], f["findings"]) for f in doc["files"]}
        theirs = {f.path.name: (f.status, f.to_json()["findings"]) for f in clean.files}
        assert mine == theirs and len(mine) == 7
        for name in (FACTS, GAPS):
            assert (out / name).read_bytes() == (clean.output.parent / name).read_bytes()
    finally:
        for proc in (workers, scheduler):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.mark.parametrize("kind", ["yaml", "setup workbook"])
def test_a_shipped_plan_loads_elsewhere_as_it_loads_here(kind: str, tmp_path: Path) -> None:
    """A worker has no plan folder: the plan file's bytes and its prior-year file's travel,
    and load under the plan's own path with the same hash and the same numbers."""
    from xlplan.engine.numbers import PlanNumbers
    from xlplan.spec.convert import export_setup
    from xlplan.spec.prior_year import read_prior_year
    from xlplan.spec.shipped import ShippedPlan

    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(SMALL.with_name("small-prior-year.csv"), folder)
    if kind == "yaml":
        plan = shutil.copy(SMALL, folder / "small-plan.yaml")
    else:
        plan = export_setup(load_plan(SMALL), folder / "small-plan.xlsx")
    here = load_plan(plan)
    shipped = ShippedPlan.of(here)
    shutil.rmtree(folder)  # the worker's view: neither file exists
    there, prior = shipped.load()
    assert there.path == here.path and there.spec_hash == here.spec_hash
    assert prior is not None and len(prior.frame) > 0
    again = load_plan(SMALL)
    assert PlanNumbers(there.plan, prior).targets == PlanNumbers(
        again.plan, read_prior_year(again)).targets


def test_ship_files_refuses_what_is_not_a_regular_file(client: Any, tmp_path: Path) -> None:
    """--ship-files reads each file on the client as consolidation's readers open one: a
    FIFO swapped in for a submission is refused, never read (a plain read would block
    forever), and one over the size limit is refused without being read whole; the other
    files are still examined."""
    from xlplan.consolidate.package import Limits

    folder = tmp_path / "inbox"
    folder.mkdir()
    fifo = folder / "small-EAST.xlsx"
    os.mkfifo(fifo)
    big = folder / "small-WEST.xlsx"
    big.write_bytes(b"PK" + b"\0" * 5000)
    small = folder / "small-other.xlsx"
    small.write_bytes(b"not a zip")
    got = {r.path.name: r for r in ClusterExaminer(client, ship_files=True)(
        [fifo, big, small], load_plan(SMALL), Limits(max_file_bytes=1000))}
    assert set(got) == {fifo.name, big.name, small.name}
    assert "not a regular file" in got[fifo.name].findings[0].message
    assert "over 1,000 bytes" in got[big.name].findings[0].message
    assert all(r.status == "rejected" for r in got.values())
