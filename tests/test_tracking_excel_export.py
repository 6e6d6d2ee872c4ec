"""Excel actuals exports are read in a capped child process: a hostile or broken workbook is
an error naming its file, never the end of the import; a normal export imports the same rows
as the same data in CSV.

The hostile workbook is 2 KB of hand-written XML whose two cells, A1 and XFD1048576, make
calamine ask for a grid of 16,384 × 1,048,576 cells of 32 bytes: 549,755,813,888 bytes, an
allocation that fails and aborts the process that made it (SIGABRT).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_tracking_engine import TINY
from test_tracking_import import GOOD, run, stored, write

from xlplan.spec.loader import LoadedPlan, load_plan, load_plan_text
from xlplan.tracking import synthetic
from xlplan.tracking.excel_export import read_cells
from xlplan.tracking.reader import ActualsError, read_actuals

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "workbook_templates" / "small-plan.yaml"

_PARTS = {
    "[Content_Types].xml":
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels":
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml":
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels":
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def sparse_xlsx(path: Path, column: str, row: int) -> Path:
    """A workbook whose only cells are A1 ("Date") and the cell at ``column``/``row``, with
    a dimension claiming the whole rectangle between them."""
    last = f"{column}{row}"
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="A1:{last}"/><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c></row>'
             f'<row r="{row}"><c r="{last}"><v>1</v></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in {**_PARTS, "xl/worksheets/sheet1.xml": sheet}.items():
            z.writestr(name, text)
    return path


def csv_to_xlsx(source: Path, target: Path) -> int:
    """A synthetic actuals CSV as an Excel export (date cells, number cells, text periods);
    the number of data rows."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Export"
    with source.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        ws.append(next(reader))
        count = 0
        for row in reader:
            cells: list[object] = [v or None for v in row]
            cells[0] = dt.date.fromisoformat(row[0]) if row[0] else None
            with contextlib.suppress(ValueError):  # "1,000.50" stays text, as some exports
                cells[-1] = float(row[-1])
            ws.append(cells)
            count += 1
    book.save(target)
    return count


@pytest.fixture(scope="module")
def tiny() -> LoadedPlan:
    return load_plan_text(TINY, "tiny.yaml")


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    return write(tmp_path, "tiny.yaml", TINY)


def reading_error(path: Path, plan: LoadedPlan, sheet: str | None = None) -> str:
    with pytest.raises(ActualsError) as info:
        read_actuals(path, plan.plan, plan.plan.tracking.columns, sheet)
    assert info.value.file == str(path)
    assert len(info.value.problems) == 1
    return info.value.problems[0].render(str(path))


def test_a_hostile_workbook_is_an_error_for_its_file_and_the_import_goes_on(
        plan_file: Path, tmp_path: Path) -> None:
    hostile = sparse_xlsx(tmp_path / "hostile.xlsx", "XFD", 1_048_576)
    assert hostile.stat().st_size < 2_000
    good = write(tmp_path, "jan.csv", GOOD)
    db = tmp_path / "x.duckdb"
    code, out, err = run("actuals", str(plan_file), str(hostile), str(good), "--db", str(db))
    assert code == 1
    assert (f"{hostile}: 1 problem(s), nothing imported\n"
            f"  {hostile}: cannot read: the Excel reader died on this file (signal 6): a "
            "malformed or hostile workbook") in err
    assert f"imported {good}: 3 rows" in out
    assert stored(db) == 3


def test_garbage_and_truncated_workbooks_name_the_file(tiny: LoadedPlan,
                                                       tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"this is not a workbook\n" * 50)
    assert reading_error(garbage, tiny) == (
        f"{garbage}: cannot read: not a readable Excel workbook (CalamineError: Cannot detect "
        "file format)")
    whole = tmp_path / "whole.xlsx"
    csv_to_xlsx(write(tmp_path, "jan.csv", GOOD), whole)
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    message = reading_error(truncated, tiny)
    assert message.startswith(f"{truncated}: cannot read: not a readable Excel workbook ")
    code, _, err = run("actuals", str(write(tmp_path, "tiny.yaml", TINY)), str(truncated),
                       "--db", str(tmp_path / "x.duckdb"))
    assert code == 1 and f"{truncated}: 1 problem(s), nothing imported" in err


def test_a_missing_sheet_lists_the_sheets_there_are(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = tmp_path / "jan.xlsx"
    csv_to_xlsx(write(tmp_path, "jan.csv", GOOD), path)
    assert reading_error(path, tiny, sheet="Actuals") == (
        f"{path}: cannot read: no sheet 'Actuals'; the workbook has Export")


def test_the_memory_cap_and_the_deadline_hold(tmp_path: Path) -> None:
    """26 × 100,000 claimed cells: calamine allocates 83 MB for them at once. Under the
    default cap the sheet reads (all blank but two cells); under a 60 MB cap the reader dies,
    though a small workbook reads there; with half a second it is stopped."""
    sparse = sparse_xlsx(tmp_path / "sparse.xlsx", "Z", 100_000).read_bytes()
    grid = read_cells(sparse, None)
    assert (grid.sheet, len(grid.rows), len(grid.rows[0])) == ("Export", 100_000, 26)
    assert grid.rows[0][0] == "Date" and grid.rows[-1][-1] == "1"
    assert sum(cell != "" for row in grid.rows for cell in row) == 2
    with pytest.raises(ValueError, match=r"the Excel reader died on this file \(signal 6\)"):
        read_cells(sparse, None, memory_bytes=60_000_000)
    small = tmp_path / "small.xlsx"
    csv_to_xlsx(write(tmp_path, "jan.csv", GOOD), small)
    assert len(read_cells(small.read_bytes(), None, memory_bytes=60_000_000).rows) == 4
    with pytest.raises(ValueError, match=r"reading took longer than 0.5 s and was stopped"):
        read_cells(sparse, None, timeout_s=0.5)


def test_an_excel_export_imports_the_same_rows_as_its_csv(tmp_path: Path) -> None:
    assert synthetic.main([str(SMALL), "-o", str(tmp_path), "--seed", "7"]) == 0
    month = tmp_path / "small-2027-actuals-2027-03.csv"
    export = tmp_path / "export.xlsx"
    count = csv_to_xlsx(month, export)
    plan = load_plan(SMALL).plan
    from_csv = read_actuals(month, plan, plan.tracking.columns).rows
    from_excel = read_actuals(export, plan, plan.tracking.columns).rows
    assert len(from_excel) == count > 300
    assert set(from_excel["period"].str.len()) == {7, 10}  # month values and days
    pd.testing.assert_frame_equal(from_excel, from_csv)
