"""The checkout installs and works in a fresh virtual environment with no extras.

The development venv has every dev extra, so a package the code imports but
pyproject.toml does not declare (python-calamine once: ``xlplan actuals`` on an
Excel export failed with ModuleNotFoundError after a plain install), or a data
file missing from the wheel, passes every other test. Here the repository is
installed as a user would (``pip install <checkout>``: a built wheel, not an
editable link to the source tree) into a new venv, and the commands run there.

Slow (a minute or two: pip builds the wheel and installs the dependencies, from
its cache or the package index), so marked ``slow``; it never skips, CI
included.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import venv
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "workbook_templates" / "small-plan.yaml"

pytestmark = pytest.mark.slow


def _bin(env_dir: Path, name: str) -> Path:
    return env_dir / ("Scripts" if os.name == "nt" else "bin") / name


def _run(args: list[str | Path], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _csv_to_xlsx(source: Path, target: Path) -> int:
    """The synthetic CSV as an Excel export (date cells, number cells); its row count."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Export"
    with source.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        ws.append(header)
        count = 0
        for row in reader:
            cells: list[object] = [None if not v else v for v in row]
            cells[0] = dt.date.fromisoformat(row[0]) if row[0] else None
            cells[-1] = float(row[-1])
            ws.append(cells)
            count += 1
    book.save(target)
    return count


def test_a_plain_install_of_the_checkout_runs_help_demo_and_an_excel_import(
        tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = _bin(env_dir, "python")
    xlplan = _bin(env_dir, "xlplan")
    done = _run([python, "-m", "pip", "install", "-q", ROOT], tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    helped = _run([xlplan, "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert "actuals" in helped.stdout and "demo" in helped.stdout

    demo = _run([xlplan, "demo", "-o", tmp_path / "demo"], tmp_path)
    assert demo.returncode == 0, demo.stderr[-3000:]
    made = tmp_path / "demo" / "consolidated" / "huaxin-2027-consolidated.xlsx"
    assert made.is_file(), sorted(p.name for p in (tmp_path / "demo").rglob("*.xlsx"))
    assert "Dashboard" in openpyxl.load_workbook(made, read_only=True).sheetnames

    synthetic = _run([python, "-m", "xlplan.tracking.synthetic", SMALL, "-o",
                      tmp_path / "actuals", "--seed", "7"], tmp_path)
    assert synthetic.returncode == 0, synthetic.stderr[-3000:]
    month = tmp_path / "actuals" / "small-2027-actuals-2027-01.csv"
    export = tmp_path / "export.xlsx"
    rows = _csv_to_xlsx(month, export)
    assert rows > 100
    imported = _run([xlplan, "actuals", SMALL, export, "--db", tmp_path / "t.duckdb",
                     "--json"], tmp_path)
    assert imported.returncode == 0, imported.stderr[-3000:]
    files = json.loads(imported.stdout)["files"]
    assert [(f["status"], f["rows"]) for f in files] == [("imported", rows)]

