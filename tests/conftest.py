"""Shared fixtures. Under CI=true, a test that needs a system tool fails instead of skipping.

Markers (pyproject.toml): ``libreoffice`` on every test that drives soffice (checked: a
test that asks :func:`require_tool` for it without the marker fails), so
``-m "not libreoffice"`` runs without LibreOffice; ``slow`` on the long ones, so
``-m "not slow"`` runs in a couple of minutes.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xlplan.libreoffice import LibreOffice
from xlplan.spec.loader import LoadedPlan, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_all
from xlplan.workbook.context import BuildContext

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
SMALL = TEMPLATES / "small-plan.yaml"
EXAMPLE = TEMPLATES / "example-plan.yaml"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LIBREOFFICE_TOOLS = ("soffice", "pdftoppm")  # pdftoppm: LibreOffice's PDFs to pictures
_RUNNING: list[pytest.Item] = []  # the test being set up or run


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _RUNNING[:] = [item]


def require_tool(name: str) -> str:
    """Path of a system tool; skip locally when missing, but fail loudly under CI=true."""
    if name in LIBREOFFICE_TOOLS and _RUNNING \
            and _RUNNING[0].get_closest_marker("libreoffice") is None:
        pytest.fail(f"{_RUNNING[0].nodeid} uses {name}: mark it @pytest.mark.libreoffice")
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (bash .ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def office() -> Iterator[LibreOffice]:
    """One LibreOffice for a test module's recalculations (started once: it takes seconds)."""
    require_tool("soffice")
    with LibreOffice() as lo:
        yield lo


def same_value(expected: Any, got: Any) -> bool:
    """A recalculated cell agrees with the engine: blank for the engine's nothing (None,
    "", NaN), the same text, or a number within a part in 10^9."""
    if expected in (None, "") or (isinstance(expected, float) and math.isnan(expected)):
        return got in (None, "")
    if isinstance(expected, str):
        return bool(expected == got)
    return isinstance(got, int | float) and abs(got - expected) <= 1e-9 * max(1.0,
                                                                              abs(expected))


def differences(values: dict[str, dict[str, Any]], expected: dict[tuple[str, str], Any]
                ) -> list[tuple[str, str, Any, Any]]:
    """(sheet, cell, engine, recalculated) for every expected cell LibreOffice disagrees
    with (``values``: sheet → cell → value, as ``read_values`` gives them)."""
    return [(s, c, e, values.get(s, {}).get(c)) for (s, c), e in expected.items()
            if not same_value(e, values.get(s, {}).get(c))]


@pytest.fixture(scope="session")
def small() -> LoadedPlan:
    return load_plan(SMALL)


@pytest.fixture(scope="session")
def example() -> LoadedPlan:
    return load_plan(EXAMPLE)


@pytest.fixture(scope="module")
def ctx() -> BuildContext:
    """The small plan ready to build (with its prior-year actuals)."""
    loaded = load_plan(SMALL)
    return BuildContext(loaded, read_prior_year(loaded))


@pytest.fixture(scope="module")
def built(ctx: BuildContext, tmp_path_factory: pytest.TempPathFactory) -> list[Built]:
    """The small plan's master and unit workbooks, freshly built (tests copy before editing)."""
    return build_all(ctx, tmp_path_factory.mktemp("small-books"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The reliability suite's one summary line (its counters live in reliability/summary.py,
    imported by those tests; nothing is printed when they did not run)."""
    summary = sys.modules.get("summary")
    stats = getattr(summary, "STATS", None)
    if not stats:
        return
    notes = summary.NOTES  # type: ignore[union-attr]
    line = (f"reliability: {stats['cases']} bad-input cases tried, {stats['swept']} corpus "
            f"files swept, {stats['kills']} kills survived, {stats['tampers']} random tampers "
            f"caught, {stats['valid']} random valid inputs accepted, "
            f"{'nothing lost' if not stats['lost'] else str(stats['lost']) + ' LOST'}")
    if notes.get("slowest"):
        line += f"; slowest corpus file {notes['slowest'][0]} ({notes['slowest'][1]:.2f} s)"
    if notes.get("decisions"):
        line += f"; corpus decisions {dict(notes['decisions'])}"
    terminalreporter.write_line(line)
