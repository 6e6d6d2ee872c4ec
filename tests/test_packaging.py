"""The checkout installs and works in a fresh virtual environment with no extras.

The development venv has every dev extra, so a package the code imports but
pyproject.toml does not declare (python-calamine once: ``xlplan actuals`` on an
Excel export failed with ModuleNotFoundError after a plain install), or a data
file missing from the wheel, passes every other test. Here the repository is
installed as a user would (``pip install <checkout>``: a built wheel, not an
editable link to the source tree) into a new venv, and the commands run there.

Slow (a minute or two: pip builds the wheel and installs the dependencies, from
its cache or the package index), so marked ``slow``; it never skips, CI
included. A quick check beside it reads every import of the package (ast) and
finds each third-party one among the dependencies or extras of pyproject.toml.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
import venv
from importlib.metadata import packages_distributions
from pathlib import Path

import openpyxl
import pytest
from test_tracking_excel_export import csv_to_xlsx

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "workbook_templates" / "small-plan.yaml"



def _bin(env_dir: Path, name: str) -> Path:
    return env_dir / ("Scripts" if os.name == "nt" else "bin") / name


def _run(args: list[str | Path], cwd: Path,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _top_level_imports(package: Path) -> dict[str, str]:
    """Each top-level module the package imports (absolute imports, anywhere in a file,
    also inside functions) -> one place that imports it."""
    found: dict[str, str] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_package_of_the_source_tree_is_in_the_wheel() -> None:
    """pyproject lists the packages by name (xlplan.templates maps to another folder), so a
    new subpackage must be added there or the wheel ships without it."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for init in (ROOT / "xlplan").rglob("__init__.py")}
    assert found - listed == set(), "packages missing from pyproject.toml"


def test_every_third_party_import_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"],
                    *(r for extra in project["optional-dependencies"].values() for r in extra)]
    declared = {_normal(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}
    providers = packages_distributions()
    missing = []
    for module, where in _top_level_imports(ROOT / "xlplan").items():
        if module in sys.stdlib_module_names or module == "xlplan":
            continue
        dists = {_normal(d) for d in providers.get(module, [])}
        if not dists & declared:
            source = ", ".join(sorted(dists)) or "no installed distribution"
            missing.append(f"{module} ({where}; from {source})")
    assert not missing, f"imported but not in pyproject.toml: {'; '.join(missing)}"


@pytest.mark.slow
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
    assert openpyxl.load_workbook(made, read_only=True).sheetnames[0] == "总览"

    synthetic = _run([python, "-m", "xlplan.tracking.synthetic", SMALL, "-o",
                      tmp_path / "actuals", "--seed", "7"], tmp_path)
    assert synthetic.returncode == 0, synthetic.stderr[-3000:]
    month = tmp_path / "actuals" / "small-2027-actuals-2027-01.csv"
    export = tmp_path / "export.xlsx"
    rows = csv_to_xlsx(month, export)
    assert rows > 100
    imported = _run([xlplan, "actuals", SMALL, export, "--db", tmp_path / "t.duckdb",
                     "--json"], tmp_path)
    assert imported.returncode == 0, imported.stderr[-3000:]
    files = json.loads(imported.stdout)["files"]
    assert [(f["status"], f["rows"]) for f in files] == [("imported", rows)]

