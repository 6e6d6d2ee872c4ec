"""Shared fixtures. Under CI=true, a test that needs a system tool fails instead of skipping."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from xlplan.spec import LoadedPlan, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_all
from xlplan.workbook.context import BuildContext

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
SMALL = TEMPLATES / "small-plan.yaml"
EXAMPLE = TEMPLATES / "example-plan.yaml"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of a system tool; skip locally when missing, but fail loudly under CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (bash .ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


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
