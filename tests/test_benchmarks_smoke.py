"""Every benchmark still runs in its ``--quick`` form (``benchmarks/build.py --quick``: N=3,
one round; ``benchmarks/functions.py --quick``: 1,000 cells, one round; ...)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlplan.udfs import FUNCTIONS

pytestmark = pytest.mark.slow  # each benchmark's quick run

REPO = Path(__file__).resolve().parent.parent


def test_build_benchmark_quick(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "build.py"), "--quick", "--out", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for column in ("xlplan/raw", "openpyxl/xlplan", "raw XlsxWriter s", "xlplan 1 process s",
                   "peak RSS MB"):
        assert column in out, out
    header = next(line for line in out.splitlines() if line.startswith("| N |"))
    row = next(line for line in out.splitlines() if line.startswith("| 3 |"))
    assert row.count("|") == header.count("|") == 17  # N and 15 figures
    assert all(float(x.replace(",", "")) > 0 for x in row.strip("| ").split(" | "))
    assert (tmp_path / "plan-3.yaml").is_file()
    for writer in ("xlplan", "raw", "openpyxl"):
        assert len(list((tmp_path / writer / "units").glob("*.xlsx"))) == 3


@pytest.mark.parametrize("distinct", [False, True], ids=["copies", "distinct"])
def test_consolidate_benchmark_quick(tmp_path: Path, distinct: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "consolidate.py"), "--quick", "--out",
         str(tmp_path), *(["--distinct"] if distinct else [])], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| 4 |"))
    figures = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(figures) == 10 and all(float(f.rstrip("×")) > 0 for f in figures)
    assert int(figures[1]) == (4 if distinct else 2)  # units the 4 files come from (small: 2)
    inbox = sorted((tmp_path / "n4" / "inbox").glob("*.xlsx"))
    assert len(inbox) == 4
    if distinct:
        assert len({p.name for p in inbox}) == 4 and all("R-00" in p.name for p in inbox)


def test_functions_benchmark_quick() -> None:
    """``benchmarks/functions.py --quick``: every XLPLAN_* function timed beside its baseline."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "functions.py"), "--quick"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for column in ("xlplan ms", "baseline ms", "xlplan/baseline", "xlplan µs/cell"):
        assert column in out, out
    rows = [line for line in out.splitlines() if line.startswith("| XLPLAN_")]
    assert [row.split("|")[1].strip() for row in rows] == list(FUNCTIONS)
    for row in rows:
        assert row.count("|") == 9  # 8 columns
        ours, floor = float(row.split("|")[4]), float(row.split("|")[6])
        assert ours > 0 and floor > 0


@pytest.mark.libreoffice
def test_engine_benchmark_quick(tmp_path: Path) -> None:
    """``benchmarks/engine.py --quick``: 6 × 4 × 12 against LibreOffice (numbers checked to
    the cent inside the script), 60 × 10 × 12 for the engine alone, one round."""
    from conftest import require_tool  # appended test: imported here, not at the top

    require_tool("soffice")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "engine.py"), "--quick", "--out",
         str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for column in ("engine ms", "LibreOffice s", "LibreOffice start-up s", "LibreOffice/engine",
                   "peak RSS MB (LibreOffice)", "rollup s", "µs per leaf amount"):
        assert column in out, out
    assert "equal LibreOffice's to the cent" in out, out
    same = next(line for line in out.splitlines() if line.startswith("| 6 × 4 × 12 |"))
    figures = [cell.strip() for cell in same.strip("|").split("|")]
    assert len(figures) == 10
    numbers = [float(f.rstrip("×").replace(",", "")) for f in figures[1:]]
    # the ratio net of LibreOffice's start-up (column 8) is a difference of two seconds-long
    # timings: at the quick size, one round on a loaded machine, it can come out negative
    assert all(x > 0 for i, x in enumerate(numbers) if i != 6), same
    alone = next(line for line in out.splitlines() if line.startswith("| 60 × 10 × 12 |"))
    assert alone.count("|") == 11  # 10 columns
    assert (tmp_path / "engine-6x4.xlsx").is_file()


@pytest.mark.slow
def test_cluster_benchmark_quick() -> None:
    """benchmarks/cluster.py --quick: a local pool and Dask clusters of 1 and 2 workers on
    4 files of the small plan, and the paper estimate."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "cluster.py"), "--quick"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| dask local:")]
    assert [r.split(" | ")[0] for r in rows] == ["| dask local:1", "| dask local:2"]
    assert all(float(r.split(" | ")[2]) > 0 for r in rows)  # warm seconds
    assert "10,000 files:" in proc.stdout and "100,000 files:" in proc.stdout
