"""The consolidated workbook in a real spreadsheet: LibreOffice recalculates every formula
to the value cached in it (the engine's), prints no ``###``, and prints the summary on one
page. A wrong cached value is caught."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import require_tool
from report_books import consolidated

from xlplan.libreoffice import LibreOffice, read_values

pytestmark = pytest.mark.libreoffice


def formula_differences(original: Path, recalculated: Path) -> tuple[int, list[str]]:
    """How many formula cells ``original`` has, and each whose cached value is not what
    LibreOffice computed for it (``recalculated``)."""
    formulas = openpyxl.load_workbook(original)
    cached = openpyxl.load_workbook(original, data_only=True)
    computed = read_values(recalculated)
    count, wrong = 0, []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if not (isinstance(c.value, str) and c.value.startswith("=")):
                    continue
                count += 1
                mine = cached[ws.title][c.coordinate].value
                theirs = computed[ws.title].get(c.coordinate)
                same = (mine in (None, "") and theirs in (None, "")) or (
                    isinstance(mine, int | float) and isinstance(theirs, int | float)
                    and math.isclose(mine, theirs, rel_tol=1e-12, abs_tol=1e-6)) or mine == theirs
                if not same:
                    wrong.append(f"{ws.title}!{c.coordinate} {c.value}: cached {mine!r}, "
                                 f"LibreOffice {theirs!r}")
    formulas.close()
    cached.close()
    return count, wrong


def with_cached_value(path: Path, out: Path, sheet_xml: str, cell: str, delta: float) -> None:
    """A copy of ``path`` whose cached value of ``cell`` is ``delta`` off."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == sheet_xml:
                text = body.decode("utf-8")
                pattern = re.compile(rf'(<c r="{cell}"[^>]*><f>[^<]*</f><v>)([^<]*)(</v>)')
                assert pattern.search(text), f"{cell} holds no formula in {sheet_xml}"
                text = pattern.sub(lambda m: f"{m[1]}{float(m[2]) + delta!r}{m[3]}", text)
                body = text.encode("utf-8")
            dst.writestr(item, body)


@pytest.mark.parametrize("variant", [("en", "yuan"), ("zh", "wan")])
def test_libreoffice_recalculates_every_formula_to_the_engines_value(
        variant: tuple[str, str], tmp_path: Path) -> None:
    require_tool("soffice")
    book = consolidated(tmp_path / "plan", *variant).output
    wrong_book = tmp_path / "wrong.xlsx"
    # the company's commitment on the Org roll-up (fourth sheet), a cent off
    with_cached_value(book, wrong_book, "xl/worksheets/sheet4.xml", "Q5", 0.01)
    with LibreOffice() as office:
        done = office.recalculate([book, wrong_book], tmp_path / "recalc")
    count, wrong = formula_differences(book, done[book])
    assert count > 30  # the org roll-up's subtotals and sums, the summary's figures
    assert wrong == []
    _, caught = formula_differences(wrong_book, done[wrong_book])
    assert len(caught) == 1 and caught[0].startswith(("Org roll-up!Q5", "组织汇总!Q5"))


def _pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    pdftotext = require_tool("pdftotext")
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run([pdftotext, "-layout", *pages, str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("variant", [("en", "yuan"), ("zh", "wan")])
def test_printed_without_hashes_and_the_summary_on_one_page(
        variant: tuple[str, str], tmp_path: Path) -> None:
    require_tool("soffice")
    outcome = consolidated(tmp_path / "plan", *variant)
    zh = variant[0] == "zh"
    with LibreOffice() as office:
        pdf = office.to_pdf(outcome.output, tmp_path / "pdf")
    text = _pdf_text(pdf)
    assert len(text) > 5000
    assert "###" not in text
    first, second = _pdf_text(pdf, 1, 1), _pdf_text(pdf, 2, 2)
    title = "计划进展总览" if zh else "where the plan stands"
    last_block = "缺口最大的五个产品" if zh else "Five largest gaps by product"
    chart = "增量桥" if zh else "Increment bridge: baseline"
    assert title in first and last_block in first and chart in first
    assert second.strip().startswith("提交跟踪" if zh else "Submission tracker")
    assert title not in second
    shutil.rmtree(tmp_path / "plan" / "build", ignore_errors=True)
