"""The master's Dashboard: charts, region totals that tie to the company target, a picture.

Every formula cell of the Dashboard is also compared with LibreOffice's recalculation
by tests/test_workbooks.py (it is a sheet of the master like any other).
"""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLE, SMALL, require_tool

from xlplan.libreoffice import render_png
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_master, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.dashboard import SHEET, region_months

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TARGETS_TITLE = "Top-down targets by region and month"


def context(plan: Path) -> BuildContext:
    loaded = load_plan(plan)
    return BuildContext(loaded, read_prior_year(loaded))


@pytest.fixture(scope="module")
def small_master(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildContext, Built]:
    ctx = context(SMALL)
    return ctx, build_master(ctx, tmp_path_factory.mktemp("dashboard"))


def target_rows(path: Path) -> list[tuple[str, float, str]]:
    """(region, total, tie mark) of the targets table, as cached in the file; "Company" last."""
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if row[0] == TARGETS_TITLE)
    out = []
    for row in rows[top + 2:]:
        out.append((str(row[0]), float(row[13]), str(row[14])))
        if row[0] == "Company":
            return out
    raise AssertionError("no Company row under the targets table")


def test_the_master_has_a_dashboard_with_charts(small_master: tuple[BuildContext, Built]
                                                ) -> None:
    _, built = small_master
    wb = openpyxl.load_workbook(built.path)
    assert SHEET in wb.sheetnames
    assert wb.sheetnames.index(SHEET) == wb.sheetnames.index("Rounding") - 1
    assert len(wb[SHEET]._charts) >= 3  # target by month, by region, budget by region
    with zipfile.ZipFile(built.path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 4  # and the Increment sheet's waterfall
    ws = wb[SHEET]
    assert ws.page_setup.orientation == "landscape"
    # fit to one page wide (1 is the default width, which the file leaves out), any height
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_area


def test_unit_workbooks_have_no_dashboard(small_master: tuple[BuildContext, Built],
                                          tmp_path: Path) -> None:
    ctx, _ = small_master
    built = build_unit(ctx, tmp_path, ctx.input_units[0])
    assert SHEET not in openpyxl.load_workbook(built.path, read_only=True).sheetnames


def test_region_totals_tie_to_the_company_target(small_master: tuple[BuildContext, Built]
                                                 ) -> None:
    ctx, built = small_master
    rows = target_rows(built.path)
    regions, company = rows[:-1], rows[-1]
    names = [ctx.tree.units[u].name for u in ctx.input_units]
    assert [name for name, _, _ in regions] == names
    su = ctx.su
    for unit, (_, total, mark) in zip(ctx.input_units, regions, strict=True):
        assert Decimal(str(total)) == ctx.targets[unit] * su
        assert mark == "✓"
    company_target = ctx.targets[ctx.tree.root] * su
    assert sum(Decimal(str(total)) for _, total, _ in regions) == company_target
    assert Decimal(str(company[1])) == company_target
    assert company[2] == "✓"


@pytest.mark.parametrize("plan", [SMALL, EXAMPLE], ids=["small", "example"])
def test_region_months_add_up_to_each_region_target(plan: Path) -> None:
    ctx = context(plan)
    months = region_months(ctx)
    assert list(months) == ctx.input_units
    for unit, values in months.items():
        assert len(values) == 12
        assert sum(values) == ctx.targets[unit]
    assert sum(map(sum, months.values())) == ctx.targets[ctx.tree.root]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_dashboard_renders(small_master: tuple[BuildContext, Built], tmp_path: Path
                               ) -> None:
    require_tool("soffice")
    require_tool("pdftoppm")
    _, built = small_master
    images = render_png(built.path, tmp_path, sheets=[SHEET], dpi=50)
    assert len(images) == 1
    picture = images[0]
    header = picture.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert width > 600 and height > 400  # tables and charts, not an empty page
    assert picture.stat().st_size > 20_000
