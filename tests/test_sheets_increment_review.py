"""Structure of the Increment, Review, Actions and Risks sheets of the small plan.

The numbers themselves are held to LibreOffice's recalculation by test_workbooks;
here: the uncovered gap is its own visible row equal to the engine's gap, the
waterfall is a native stacked chart with an invisible first series, the review
adds up, inputs on Actions/Risks are unlocked and validated, everything else is
locked, and formulas over inputs predict the values a manager's entries give.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import SMALL
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.spec.loader import load_plan
from xlplan.workbook.actions import END_BEFORE_START
from xlplan.workbook.build import Built, build_master, build_unit
from xlplan.workbook.context import BuildContext

GAP_LABEL = "Uncovered gap"  # 增量缺口 in a zh book



@pytest.fixture(scope="module")
def master(built: list[Built]) -> Built:
    return built[0]


@pytest.fixture(scope="module")
def unit(built: list[Built]) -> Built:
    return built[1]


def rows_with(ws: Worksheet, text: str, col: int = 1) -> list[int]:
    return [r for r in range(1, ws.max_row + 1) if ws.cell(r, col).value == text]


def header_col(ws: Worksheet, row: int, text: str) -> int:
    for c in range(1, ws.max_column + 1):
        if ws.cell(row, c).value == text:
            return c
    raise AssertionError(f"no header {text!r} in row {row}")


# --- Increment -----------------------------------------------------------------------------

def test_tab_order(master: Built, unit: Built) -> None:
    names = openpyxl.load_workbook(master.path).sheetnames
    assert names.index("Targets") < names.index("Review") < names.index("Increment")
    assert names.index("Increment") < names.index("Actions") < names.index("Risks")
    assert names.index("Risks") < names.index("Rounding")
    unit_names = openpyxl.load_workbook(unit.path).sheetnames
    assert "Increment" not in unit_names and "Review" not in unit_names
    assert unit_names.index("People") < unit_names.index("Actions") < unit_names.index("Risks")


def test_gap_row_is_visible_and_equals_the_engine(master: Built, ctx: BuildContext) -> None:
    values = openpyxl.load_workbook(master.path, data_only=True)["Increment"]
    formulas = openpyxl.load_workbook(master.path)["Increment"]
    gap = ctx.money(ctx.bridge.gap)
    # 3,000,000 increment − 2,200,000 of revenue levers (the cost saving is apart), in cents
    assert ctx.bridge.gap == 80_000_000
    rows = rows_with(values, GAP_LABEL)
    assert len(rows) == 2  # the summary line and the bridge row
    head = rows_with(values, "Step")[0]
    bridge_row = next(r for r in rows if r > head)
    amount = header_col(values, head, "Amount")
    assert values.cell(bridge_row, amount).value == pytest.approx(gap)
    assert str(formulas.cell(bridge_row, amount).value).startswith("=")
    summary_row = next(r for r in rows if r < head)
    assert values.cell(summary_row, 2).value == pytest.approx(gap)
    assert formulas.cell(summary_row, 2).value == "=ROUND(B5-B6,2)"  # increment − levers
    for r in rows:
        assert not values.row_dimensions[r].hidden
    # the gap sits between the last lever and the target, and the bridge ties
    assert values.cell(bridge_row + 1, 1).value == "Target"
    running = header_col(values, head, "Running total")
    assert values.cell(bridge_row, running).value == pytest.approx(ctx.money(ctx.bridge.target))


def test_bridge_formulas_carry_the_engine_values(master: Built, ctx: BuildContext) -> None:
    expected = {ref: v for (sheet, ref), v in master.book.expected_values().items()
                if sheet == "Increment"}
    b = ctx.bridge
    assert expected["B5"] == pytest.approx(ctx.money(b.increment))
    assert expected["B6"] == pytest.approx(ctx.money(b.covered))
    assert expected["B7"] == pytest.approx(ctx.money(b.gap))
    assert expected["B8"] == pytest.approx(b.coverage)
    cells = {c.ref: c for c in master.book.cells if c.sheet == "Increment"}
    assert cells["B8"].content == '=IF(B5=0,"",B6/B5)'
    # baseline, levers and target are locked givens
    givens = [c for c in cells.values() if c.kind == "given" and c.ref.startswith("E")]
    assert [c.content for c in givens] == pytest.approx(
        [ctx.money(b.baseline), *(ctx.money(lv.amount) for lv in b.levers), ctx.money(b.target),
         *(ctx.money(lv.amount) for lv in b.apart)])  # the cost saving, below the bridge


def test_cost_saving_is_listed_apart_outside_every_total(master: Built, ctx: BuildContext
                                                          ) -> None:
    """The small plan's supply-chain saving (L3) sits below the bridge, with the reason, and
    neither the covered sum nor the chart rows include it."""
    cells = [c for c in master.book.cells if c.sheet == "Increment"]

    def row_of(col: str, content: str) -> int:
        return next(int(c.ref[1:]) for c in cells if c.ref[:1] == col and c.content == content)

    row, target_row = row_of("C", "L3"), row_of("A", "Target")
    assert row > target_row + 1
    notes = [str(c.content) for c in cells if c.ref[1:] == str(row) and c.kind == "label"]
    assert any("counts toward a profit increment" in n for n in notes), notes
    covered = next(str(c.content) for c in cells if c.ref == "B6")  # =SUM(E9:E10)
    last = int(re.search(r":\$?E\$?(\d+)\)", covered).group(1))  # type: ignore[union-attr]
    assert last < target_row < row


def test_waterfall_is_a_native_stacked_chart(master: Built) -> None:
    with zipfile.ZipFile(master.path) as z:
        names = z.namelist()
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        charts = [n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert charts, "no chart part"
        # find the Increment sheet's part and its drawing
        rid = re.search(r'<sheet name="Increment" sheetId="\d+" r:id="(rId\d+)"', workbook)
        assert rid is not None
        target = re.search(rf'Id="{rid.group(1)}" Type="[^"]+" Target="([^"]+)"', rels)
        assert target is not None
        sheet_part = "xl/" + target.group(1).removeprefix("/xl/")
        sheet_rels = sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels"
        drawing = re.search(r'Target="../drawings/(drawing\d+\.xml)"', z.read(sheet_rels).decode())
        assert drawing is not None
        drawing_rels = z.read(f"xl/drawings/_rels/{drawing.group(1)}.rels").decode()
        chart = re.search(r'Target="../charts/(chart\d+\.xml)"', drawing_rels)
        assert chart is not None
        xml = z.read(f"xl/charts/{chart.group(1)}").decode()
    assert "<c:barChart>" in xml and '<c:grouping val="stacked"/>' in xml
    series = xml.split("<c:ser>")[1:]
    assert len(series) == 2
    assert "<a:noFill/>" in series[0]  # the invisible base
    assert "Increment!$I$" in series[0] and "Increment!$J$" in series[1]
    assert "ED7D31" in series[1]  # the gap's own colour


# --- Review --------------------------------------------------------------------------------

def test_review_tables_add_up(master: Built, ctx: BuildContext) -> None:
    ws = openpyxl.load_workbook(master.path, data_only=True)["Review"]
    formulas = openpyxl.load_workbook(master.path)["Review"]
    assert rows_with(ws, "By product") and rows_with(ws, "By product line")
    assert rows_with(ws, "By channel") and rows_with(ws, "By BCG class")
    assert ctx.prior is not None
    total_revenue = ctx.money(int(ctx.prior.frame["revenue"].sum()))
    totals = rows_with(ws, "Total")
    assert len(totals) == 3  # product, line, channel
    for r in totals:
        assert ws.cell(r, 5).value == pytest.approx(total_revenue)
        assert str(formulas.cell(r, 5).value).startswith("=SUM(")
        assert ws.cell(r, 10).value == pytest.approx(1.0)
    first = rows_with(ws, "P-A")[0]
    assert formulas.cell(first, 7).value == f"=E{first}-F{first}"  # margin
    assert ws.cell(first, 4).value == "cash_cow"
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "50–70%" in text and "exit review within 3 months" in text
    rules = [r.formula for cf in formulas.conditional_formatting for r in cf.rules]
    assert [f'$D{first}="star"'] in rules and [f'$D{first}="cash_cow"'] in rules


def test_review_without_prior_year(tmp_path: Path) -> None:
    loaded = load_plan(SMALL)
    built = build_master(BuildContext(loaded, None), tmp_path)
    ws = openpyxl.load_workbook(built.path)["Review"]
    assert "no prior-year actuals" in str(ws["A2"].value)
    assert not [c for c in built.book.cells if c.sheet == "Review" and c.kind == "formula"]


# --- Actions and Risks ---------------------------------------------------------------------

@pytest.mark.parametrize("sheet", ["Actions", "Risks"])
def test_inputs_unlocked_and_validated(unit: Built, sheet: str) -> None:
    wb = openpyxl.load_workbook(unit.path)
    ws = wb[sheet]
    assert ws.protection.sheet
    inputs = [c for c in unit.book.inputs if c.sheet == sheet]
    assert len(inputs) >= (8 * 7 if sheet == "Actions" else 3 * 13)
    validated: dict[str, str] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                for cell in row:
                    validated[cell.coordinate] = dv.type
    for c in inputs:
        assert ws[c.cell].protection.locked is False, c.cell
        assert c.cell in validated, c.cell
    kinds = {c.item.rsplit(":", 1)[-1]: validated[c.cell] for c in inputs}
    if sheet == "Actions":
        assert kinds["lever"] == "list" and kinds["start"] == "date"
        assert kinds["budget"] == "decimal"
        lever = next(c for c in inputs if c.item.endswith(":lever"))
        assert lever.rule.choices == ("L1", "L2", "L3")
    else:
        assert kinds["level"] == "list" and kinds["cost"] == "decimal"
    # every other cell the writer recorded is locked
    for cell in unit.book.cells:
        if cell.sheet == sheet and cell.kind != "input":
            assert ws[cell.ref].protection.locked is not False, cell.ref


def test_master_actions_and_risks_have_no_inputs(master: Built, ctx: BuildContext) -> None:
    assert not [c for c in master.book.inputs if c.sheet in ("Actions", "Risks")]
    ws = openpyxl.load_workbook(master.path)["Actions"]
    assert [ws.cell(7 + i, 1).value for i in range(len(ctx.plan.actions))] == ["A1", "A2"]
    # the Gantt band is a formula-based conditional format over the month columns
    rules = [(str(cf.sqref), r.type) for cf in ws.conditional_formatting for r in cf.rules]
    assert ("J7:U8", "expression") in rules


def test_filled_inputs_flow_into_the_expected_values(unit: Built, ctx: BuildContext,
                                                     tmp_path: Path) -> None:
    """A manager's own task and risk change the SUMIF/COUNTIF totals and the checks."""
    assert unit.unit is not None
    row = 7 + len(ctx.plan.actions)  # first input row (1-based)
    risk_row = next(int(re.sub(r"\D", "", c.cell)) for c in unit.book.inputs
                    if c.sheet == "Risks" and c.item.endswith(":level"))
    fill = {("Actions", f"B{row}"): "L3", ("Actions", f"E{row}"): dt.date(2027, 5, 1),
            ("Actions", f"F{row}"): dt.date(2027, 4, 1), ("Actions", f"G{row}"): 1234.5,
            ("Risks", f"C{risk_row}"): "red", ("Risks", f"H{risk_row}"): 100.0}
    filled = build_unit(ctx, tmp_path, unit.unit, fill=fill, path=tmp_path / "f.xlsx")
    exp = filled.book.expected_values()
    assert exp[("Actions", f"I{row}")] == END_BEFORE_START
    ws = openpyxl.load_workbook(filled.path)["Actions"]
    l3 = next(r for r in range(1, ws.max_row + 1)
              if ws.cell(r, 1).value == "L3" and str(ws.cell(r, 7).value).startswith("=SUMIF"))
    assert exp[("Actions", f"G{l3}")] == pytest.approx(1234.5)
    assert exp[("Actions", f"E{l3}")] == 1
    risks = openpyxl.load_workbook(filled.path)["Risks"]
    red = rows_with(risks, "red")[0]
    assert exp[("Risks", f"B{red}")] == 2  # the plan's R1 and the unit's own
    assert exp[("Risks", f"J{risk_row}")] == pytest.approx(100.0)


def test_fingerprints_of_these_sheets_match_the_file(built: list[Built]) -> None:
    """Given amounts are written as the file stores them (16 significant digits)."""
    from xlplan.workbook.manifest import file_fingerprints, read_manifest

    for b in built:
        manifest = read_manifest(b.path)
        in_file = file_fingerprints(b.path, manifest)
        for sheet in ("Increment", "Review", "Actions", "Risks"):
            if sheet in manifest.sheets:
                assert in_file[sheet] == manifest.sheets[sheet], (b.path.name, sheet)
