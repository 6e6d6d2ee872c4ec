"""A submission saved by another spreadsheet program is read for what it means.

Formulas are compared as parsed expressions (numbers as numbers, function names
case-blind, prefixes, spaces, sheet quoting, shared formulas); what a program changes
without touching locked content is a warning naming the change. Three real re-saves
(LibreOffice, openpyxl, and XML rewritten as other programs write it) give exactly the
facts of the original; a changed meaning still rejects."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from other_programs import as_other_programs_write, respell
from tamper import rewrite, sheet_part

from xlplan.consolidate.examine import Examination, examine
from xlplan.consolidate.formula_meaning import meaning, same_formula
from xlplan.workbook.build import Built
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import Filled, fill_sample


@pytest.mark.parametrize(("a", "b"), [
    ("=Rounding!H5*0.01", "=Rounding!H5*0.0099999999999999999998"),
    ("=Rounding!H5*0.01", "=Rounding!H5*1E-2"),
    ("=IF(H21=0,1,2.5)", "=IF(H21=0.00000000000000000E+00,1,25.0E-1)"),
    ("=SUM(C5:N5)", "=sum( c5:n5 )"),
    ("=STDEV.S(A1:A3)", "=_xlfn.STDEV.S(A1:A3)"),
    ("=Targets!$E$28+1", "='Targets'!$E$28+1.000000000000000000"),
    ("=IF(A1=\"x\",TRUE,#N/A)", "=if(A1 = \"x\", true, #N/A)"),
])
def test_same_meaning_however_spelled(a: str, b: str) -> None:
    assert same_formula(a, b)


@pytest.mark.parametrize(("a", "b"), [
    ("=Rounding!H5*0.01", "=Rounding!H5*0.02"),  # another number
    ("=SUM(C5:N5)", "=SUM(C5:M5)"),  # another range
    ("=SUM(C5:N5)", "=AVERAGE(C5:N5)"),  # another function
    ("=A1-B1", "=A1+B1"),  # another operator
    ("=IF(A1=\"x\",1,0)", "=IF(A1=\"X\",1,0)"),  # text is compared as written
    ("=Targets!$E$28", "=Targets!E28"),  # absolute vs relative is another formula
    ("=SUM(A1:B2 B1:C2)", "=SUM(A1:B2,B1:C2)"),  # intersection is not union
])
def test_another_meaning_is_another_formula(a: str, b: str) -> None:
    assert not same_formula(a, b)


def test_respelling_keeps_the_tokens_and_changes_the_text() -> None:
    counter = [0]
    text = 'IF(A1>0.5,SUM(B1:B3)*0.01,"0.5")'
    new = respell(text, counter)
    assert new != text and '"0.5"' in new and "sum(" in new and "0.0099999999999999999998" in new
    assert meaning("=" + new) == meaning("=" + text)


@pytest.fixture(scope="module")
def original(built: list[Built], tmp_path_factory: pytest.TempPathFactory) -> Filled:
    unit = next(b for b in built if b.unit == "WEST")
    return fill_sample(unit.path, tmp_path_factory.mktemp("orig") / "small-WEST.xlsx", seed=7)


def facts(result: Examination) -> list[tuple[object, ...]]:
    return [(f.sheet, f.cell, f.item, f.period, f.number, f.text) for f in result.facts]


def test_the_original_is_accepted(original: Filled, ctx: BuildContext) -> None:
    result = examine(original.workbook, ctx)
    assert result.status == "accepted", result.findings
    assert len(result.facts) == original.cells


def test_saved_by_openpyxl_no_cached_values(original: Filled, ctx: BuildContext,
                                            tmp_path: Path) -> None:
    """openpyxl keeps formulas but writes no results: a warning per sheet saying so, the
    engine's numbers are used, and the facts are the original's."""
    book = openpyxl.load_workbook(original.workbook)
    saved = tmp_path / "small-WEST.xlsx"
    book.save(saved)
    result = examine(saved, ctx)
    assert result.status == "warnings", [f for f in result.findings if f.level == "error"]
    messages = {f.sheet: f.message for f in result.findings}
    assert "saved without results" in messages["Commitments"]
    assert all("saved without results" in f.message or "spelled" in f.message
               for f in result.findings), result.findings
    assert facts(result) == facts(examine(original.workbook, ctx))


def test_xml_rewritten_as_other_programs_write_it(original: Filled, ctx: BuildContext,
                                                  tmp_path: Path) -> None:
    saved = as_other_programs_write(original.workbook, tmp_path / "small-WEST.xlsx")
    with zipfile.ZipFile(saved) as z:
        xml = z.read(sheet_part(saved, "Commitments")).decode()
    assert 't="shared"' in xml and "sum(" in xml  # the rewrite did what it says
    result = examine(saved, ctx)
    assert result.status == "warnings", [f for f in result.findings if f.level == "error"]
    kinds = {f.message.split(" (")[0] for f in result.findings}
    assert "the manifest sheet is hidden" in kinds
    assert any("spelled as another spreadsheet" in f.message and
               f.sheet == "Commitments" for f in result.findings)
    assert facts(result) == facts(examine(original.workbook, ctx))


def test_a_changed_meaning_still_rejects(original: Filled, ctx: BuildContext,
                                         tmp_path: Path) -> None:
    """Re-spelled like the others, but one SUM now stops a month short: rejected, naming
    the cell, template and file formulas."""
    respelled = as_other_programs_write(original.workbook, tmp_path / "a.xlsx")
    part = sheet_part(respelled, "Commitments")

    def edit(xml: bytes) -> bytes:
        new = xml.replace(b'<c r="O6" s="11"><f>sum(C6:N6)</f>',
                          b'<c r="O6" s="11"><f>sum(C6:M6)</f>', 1)
        assert new != xml
        return new
    saved = rewrite(respelled, tmp_path / "small-WEST.xlsx", {part: edit})
    result = examine(saved, ctx)
    assert result.status == "rejected"
    error = next(f for f in result.findings if f.level == "error")
    assert (error.sheet, error.cell) == ("Commitments", "O6")
    assert "'=SUM(C6:N6)'" in error.message and "sum(C6:M6)" in error.message


@pytest.mark.libreoffice
def test_saved_by_libreoffice_same_facts(original: Filled, ctx: BuildContext,
                                         tmp_path: Path) -> None:
    from conftest import require_tool

    from xlplan.libreoffice import LibreOffice

    require_tool("soffice")
    with LibreOffice() as office:
        saved = office.recalculate([original.workbook], tmp_path / "saved")[original.workbook]
    result = examine(saved, ctx)
    assert result.status in ("accepted", "warnings"), result.findings
    assert not [f for f in result.findings if f.level == "error"]
    assert facts(result) == facts(examine(original.workbook, ctx))
