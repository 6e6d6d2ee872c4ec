"""The plan-setup workbook speaks the plan's language: a zh workbook shows Chinese sheet
names, titles, notes, headers and check texts, reads back to the same plan as an en one
(sheets and columns found by stable key, not by their English words), and its problems
name the sheet as the workbook shows it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLE, SMALL, TEMPLATES, require_tool

from xlplan.spec.convert import export_setup
from xlplan.spec.loader import PlanError, in_language, load_plan
from xlplan.spec.setup_layout import HEADER_ROW, SHEETS, TABLES
from xlplan.spec.setup_reader import read_setup

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Chinese example plan's setup workbook in zh (its own language) and in en."""
    tmp = tmp_path_factory.mktemp("setup")
    shutil.copy(TEMPLATES / "example-prior-year.csv", tmp)
    loaded = load_plan(EXAMPLE)
    assert loaded.plan.workbooks.language == "zh"
    return {"zh": export_setup(loaded, tmp / "zh.xlsx"),
            "en": export_setup(in_language(loaded, "en"), tmp / "en.xlsx")}


def test_a_zh_setup_workbook_shows_chinese_words(books: dict[str, Path]) -> None:
    zh, en = openpyxl.load_workbook(books["zh"]), openpyxl.load_workbook(books["en"])
    assert en.sheetnames == ["About", *(str(s.name) for s in SHEETS)]
    assert zh.sheetnames[:5] == ["说明", "计划", "增长杠杆", "组织单位", "分配"]
    assert all(CJK.search(name) for name in zh.sheetnames)
    assert len(set(zh.sheetnames)) == len(zh.sheetnames)
    for sheet, ws in zip(SHEETS, zh.worksheets[1:], strict=True):
        assert CJK.search(ws["A1"].value) and CJK.search(ws["A2"].value), sheet.name
        english = en[str(sheet.name)]
        for table in sheet.tables:
            row = [ws.cell(HEADER_ROW + 1, table.first_col + 1 + i).value
                   for i in range(len(table.headers))]
            assert row == [english.cell(HEADER_ROW + 1, table.first_col + 1 + i).value
                           for i in range(len(table.headers))] or all(
                CJK.search(h) or h in ("OKR", "ARPU 增长") for h in row), (table.name, row)
            # headers are unique in a table (Excel requires it; the reader counts on it)
            assert len(set(row)) == len(row), (table.name, row)
    units = zh["组织单位"]
    assert [units.cell(HEADER_ROW + 1, c).value for c in (1, 2, 3, 7)] == [
        "代码", "名称", "上级", "基数"]
    assert units["A7"].value == "DIV-N" and units["B7"].value == "北方销售事业部"  # plan data
    # a drop-down names its source sheet as the workbook shows it
    sources = [dv.formula1 for dv in units.data_validations.dataValidation if dv.formula1]
    assert "'组织单位'!$A$6:$A$505" in sources
    # the check formulas name the columns as the headers show them
    assert "Units[上级]" in units["B3"].value and "Units[Parent]" in en["Units"]["B3"].value


def test_zh_and_en_setup_workbooks_read_back_to_the_same_plan(books: dict[str, Path]) -> None:
    zh, en = read_setup(books["zh"]), read_setup(books["en"])
    assert zh.problems == [] and en.problems == []
    assert zh.data == en.data and len(zh.data["units"]) > 30
    assert zh.cells[("units", 3, "parent")] == "组织单位!C9"
    assert en.cells[("units", 3, "parent")] == "Units!C9"
    plans = {language: load_plan(path) for language, path in books.items()}
    assert plans["zh"].spec_hash == plans["en"].spec_hash
    assert plans["zh"].plan == plans["en"].plan == load_plan(EXAMPLE).plan


def test_a_problem_names_the_sheet_as_the_workbook_shows_it(tmp_path: Path,
                                                           books: dict[str, Path]) -> None:
    path = tmp_path / "zh.xlsx"
    shutil.copy(books["zh"], path)
    shutil.copy(TEMPLATES / "example-prior-year.csv", tmp_path)
    book = openpyxl.load_workbook(path)
    assert book["组织单位"]["A9"].value == "DIV-S"
    book["组织单位"]["C9"] = "DIV-X"
    book.save(path)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert f"{path}: 组织单位!C9: unknown parent unit 'DIV-X'" in str(info.value)
    # a table whose header a person renamed: the message names the header as shown
    book["组织单位"]["B5"] = "姓名"
    book.save(path)
    problems = [p.message for p in read_setup(path).problems]
    assert any("has no column '名称'" in p for p in problems), problems


def test_the_english_starter_stays_an_english_setup_workbook(tmp_path: Path) -> None:
    shutil.copy(TEMPLATES / "small-prior-year.csv", tmp_path)
    book = openpyxl.load_workbook(export_setup(load_plan(SMALL), tmp_path / "plan.xlsx"))
    assert book.sheetnames[:4] == ["About", "Plan", "Levers", "Units"]
    assert not any(CJK.search(str(c.value)) for ws in book.worksheets
                   for row in ws.iter_rows(max_row=HEADER_ROW + 1) for c in row if c.value)
    assert {t.name for t in TABLES} <= {name for ws in book.worksheets for name in ws.tables}


@pytest.mark.libreoffice
def test_the_zh_check_cells_calculate_in_libreoffice(tmp_path: Path,
                                                     books: dict[str, Path]) -> None:
    """The check formulas, with Chinese structured references and texts, give Chinese
    results (no #NAME?): LibreOffice recalculates them."""
    require_tool("soffice")
    from xlplan.libreoffice import LibreOffice, read_values

    with LibreOffice() as office:
        out = office.recalculate([books["zh"]], tmp_path)[books["zh"]]
    values = read_values(out)
    checks = {sheet: [v for ref, v in cells.items() if ref[1:] == "3" and ref[0] in "BE"]
              for sheet, cells in values.items()}
    assert checks["组织单位"] == ["正常：每个上级都是已有单位", "正常：仅一个最高单位"]
    assert checks["产品"] == ["正常：结构占比合计为 1"]
    assert checks["增长杠杆"] == [30_000_000, "未覆盖：2,500,000"]
    assert checks["日历"] == ["正常：季度权重合计为 1", "合计 1170"]
