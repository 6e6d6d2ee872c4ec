"""The consolidated workbook of ``xlplan demo`` (the Chinese example plan, amounts in 万元):
it opens on its summary, 总览, and LibreOffice recalculates every formula in it to the
engine's value cached there."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from conftest import require_tool
from test_report_libreoffice import formula_differences
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.libreoffice import LibreOffice

pytestmark = pytest.mark.slow  # the demo builds and fills the example's ten workbooks


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out / "consolidated" / "huaxin-2027-consolidated.xlsx"


def test_the_demo_workbook_opens_on_its_summary(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo, read_only=True)
    assert wb.sheetnames[0] == "总览" and wb.active.title == "总览"
    assert "组织汇总" in wb.sheetnames and "差额" in wb.sheetnames
    wb.close()


@pytest.mark.libreoffice
def test_the_demo_workbook_recalculates_to_the_engines_values(demo: Path,
                                                              tmp_path: Path) -> None:
    require_tool("soffice")
    with LibreOffice() as office:
        done = office.recalculate([demo], tmp_path)
    count, wrong = formula_differences(demo, done[demo])
    assert count > 100  # 4 parent nodes × 17 subtotals, each unit's sum, the summary's figures
    assert wrong == []
