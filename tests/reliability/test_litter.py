"""A killed run leaves no litter: after `xlplan consolidate` or `xlplan build` is killed
while it writes an output, the next run to completion leaves the output folder holding
exactly the documented outputs (README: "Outputs in DIR" and "The workbooks"), no
temporary file that a ``*.xlsx`` glob would pick up as a workbook.

Each kill waits for the temporary file of one output to appear (polling the folder), so
every output's temporary file is known to have been left behind once before the re-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from summary import SMALL, STATS

from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample

pytestmark = pytest.mark.slow

PLAN_ID = "small-2027"


def _kill_when(command: list[str], folder: Path, wanted: Callable[[str], bool],
               timeout_s: float = 120.0) -> str | None:
    """Start ``command``; SIGKILL it (and its reader processes) as soon as a hidden file
    ``wanted`` accepts appears in ``folder``. The file's name, or None if the run ended
    first."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + timeout_s
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                names = []
            hit = next((n for n in names if n.startswith(".") and wanted(n)), None)
            if hit is not None:
                os.killpg(proc.pid, signal.SIGKILL)
                return hit
            time.sleep(0.002)
        return None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _kill_at_each(command: list[str], folder: Path,
                  targets: dict[str, Callable[[str], bool]]) -> list[str]:
    """Kill a run once while each target's temporary file exists (a few tries each: the
    small CSVs are written in milliseconds); the names left behind."""
    left = []
    for what, wanted in targets.items():
        for _ in range(8):
            hit = _kill_when(command, folder, wanted)
            if hit is not None and (folder / hit).exists():
                left.append(hit)
                STATS["kills"] += 1
                break
        else:
            pytest.fail(f"never caught the temporary file of the {what} in {folder}")
    return left


@pytest.fixture(scope="module")
def inbox(built: list[Built], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("litter")
    box = folder / "inbox"
    box.mkdir()
    for b in built:
        if b.unit:
            fill_sample(b.path, box / f"{b.unit}.xlsx", seed=3)
    return box


def test_a_killed_consolidation_leaves_only_the_documented_outputs(inbox: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "consolidated"
    command = [sys.executable, "-m", "xlplan", "consolidate", str(SMALL), str(inbox), "-o",
               str(out), "--workers", "1"]
    left = _kill_at_each(command, out, {
        "report": lambda n: ".xlsx" in n,
        "inputs CSV": lambda n: ".csv" in n and "-gap" not in n,
        "gap CSV": lambda n: "-gap" in n,
    })
    assert len(left) == 3
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(out)) == sorted([
        f"{PLAN_ID}-consolidated.xlsx", f"{PLAN_ID}-consolidated.csv",
        f"{PLAN_ID}-consolidated-gap.csv", "xlplan.duckdb"])


def test_a_killed_build_leaves_only_the_workbooks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "xlplan", "build", str(SMALL), "-o", str(out),
               "--workers", "1"]
    left = _kill_at_each(command, out / "units", {"a unit workbook": lambda n: ".xlsx" in n})
    left += _kill_at_each(command, out, {"master": lambda n: ".xlsx" in n})
    assert len(left) == 2
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(out)) == [f"{PLAN_ID}-master.xlsx", "units"]
    assert sorted(os.listdir(out / "units")) == [f"{PLAN_ID}-EAST.xlsx", f"{PLAN_ID}-WEST.xlsx"]
