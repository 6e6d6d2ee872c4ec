"""A new plan typed from scratch into `xlplan init --excel`'s starter, as a person would:
it validates, builds, and its targets are the numbers worked by hand below; the same file
saved by LibreOffice, or with its Units table sorted, spaced out and annotated, reads the
same. Mistakes typed into a workbook get the YAML's words, at Sheet!Cell.

The plan (Harbour Tea, fiscal 2029, EUR): north star 5,000,000 → 6,000,000, levers
600,000 + 400,000 cover the increment of 1,000,000. Allocation by factors (the defaults:
maturity incubating 0.8 / growing 1.0 / mature 1.2; new-hire share over 0.40 → × 0.9;
a history under target every year changes no weight):

* HT → RETAIL (base 3 → weight 3) and WHOLESALE (base 2.5, incubating → 2.5 × 0.8 = 2):
  6,000,000 × 3/5 = 3,600,000 and × 2/5 = 2,400,000.
* RETAIL → NORTH (base 2, priority 1.5, mature → 2 × 1.5 × 1.2 = 3.6) and SOUTH (base 2,
  new-hire share 0.5 → 2 × 0.9 = 1.8): 3,600,000 × 2/3 = 2,400,000 and × 1/3 = 1,200,000.
* WHOLESALE → EXPORT, its only child: 2,400,000.
* Products TEA 0.75, CUPS 0.25: 4,500,000 and 1,500,000.
* Channels STORES 0.6 and WEB 0.4; under WEB, APP 0.25 and SITE 0.75:
  3,600,000, 600,000 and 1,800,000.
* Quarters 0.1 / 0.2 / 0.3 / 0.4: 600,000, 1,200,000, 1,800,000, 2,400,000.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import require_tool
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.table import TableColumn
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import PlanError, load_plan

runner = CliRunner()

# -- typing into the starter as a person would ----------------------------------------------


def _resize(ws: Worksheet, name: str, last_row: int, last_col: int | None = None) -> None:
    """Grow or shrink an Excel Table to end at ``last_row`` (what Excel does when a person
    types below a table or deletes its rows); its filter range follows."""
    table = ws.tables[name]
    min_col, min_row, max_col, _ = range_boundaries(table.ref)
    max_col = last_col or max_col
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{last_row}"
    table.ref = ref
    if table.autoFilter is not None:
        table.autoFilter.ref = ref


def type_rows(ws: Worksheet, name: str, rows: list[list[Any]] | list[dict[str, Any]]) -> None:
    """Replace the example rows of table ``name`` by ``rows`` (values left to right, or by
    column header): type over them, delete the example rows left over, and fit the table
    to the rows typed."""
    min_col, header, max_col, max_row = range_boundaries(ws.tables[name].ref)
    headers = [ws.cell(header, c).value for c in range(min_col, max_col + 1)]
    for r in range(header + 1, max(max_row, header + len(rows)) + 1):
        row = rows[r - header - 1] if r - header - 1 < len(rows) else []
        if isinstance(row, dict):
            assert set(row) <= set(headers), set(row) - set(headers)
            row = [row.get(h) for h in headers]
        for c in range(min_col, max_col + 1):
            value = row[c - min_col] if c - min_col < len(row) else None
            ws.cell(r, c).value = value
    _resize(ws, name, header + max(len(rows), 1))


def type_column(ws: Worksheet, name: str, header: str, values: list[Any]) -> None:
    """Type ``values`` down one column of a table, leaving its other columns as they are."""
    min_col, top, max_col, _ = range_boundaries(ws.tables[name].ref)
    col = next(c for c in range(min_col, max_col + 1) if ws.cell(top, c).value == header)
    for r, value in enumerate(values, start=top + 1):
        ws.cell(r, col).value = value


def type_settings(ws: Worksheet, name: str, values: dict[str, Any]) -> None:
    """Type a value beside each setting named (None clears the example's value)."""
    min_col, top, _, max_row = range_boundaries(ws.tables[name].ref)
    rows = {ws.cell(r, min_col).value: r for r in range(top + 1, max_row + 1)}
    for key, value in values.items():
        ws.cell(rows[key], min_col + 1).value = value


D = dt.datetime  # openpyxl writes a datetime as a date cell, as Excel does for a typed date


def type_harbour_tea(path: Path) -> None:
    """Type the Harbour Tea plan (module docstring) over the starter's Small Co."""
    book = openpyxl.load_workbook(path)
    type_settings(book["Plan"], "PlanSettings", {
        "id": "harbour-2029", "name": "Harbour Tea 2029 plan", "fiscal_year": 2029,
        "currency.code": "EUR", "currency.symbol": "€",
        "north_star.baseline": 5000000, "north_star.target": 6000000,
        "prior_year.file": None})  # a new company: no prior-year actuals
    type_rows(book["Levers"], "Levers", [
        ["L1", "market_expansion", "Open the south coast", 600000, "Ines"],
        ["L2", "product_extension", "Cups and gift sets", 400000, "Tom", "with the tea rooms"]])
    unit = ("Code", "Name", "Parent", "Manager", "Kind", "Base")
    type_rows(book["Units"], "Units", [
        dict(zip(unit, ["HT", "Harbour Tea", None, "Maya", "company"], strict=False),
             Email="maya@harbour.example"),
        dict(zip(unit, ["RETAIL", "Retail", "HT", "Ines", "department", 3], strict=True)),
        dict(zip(unit, ["WHOLESALE", "Wholesale", "HT", "Tom", "department", 2.5],
                 strict=True), Maturity="incubating"),
        dict(zip(unit, ["NORTH", "North coast", "RETAIL", "Aled", "region", 2], strict=True),
             Priority=1.5, Maturity="mature"),
        dict(zip(unit, ["SOUTH", "South coast", "RETAIL", "Bea", "region", 2], strict=True),
             **{"New hire share": 0.5, "Attainment history": "0.9; 0.95; 0.97"}),
        dict(zip(unit, ["EXPORT", "Export", "WHOLESALE", "Tom", "region"], strict=False))])
    type_rows(book["Products"], "Products", [
        ["TEA", "Loose tea", "core", "cash_cow", 12, 0.75],
        ["CUPS", "Cups and sets", "emerging", "question_mark", 25, 0.25]])
    type_rows(book["Channels"], "Channels", [
        ["STORES", "Own stores", None, 0.6], ["WEB", "Web", None, 0.4],
        ["APP", "Phone app", "WEB", 0.25], ["SITE", "Web site", "WEB", 0.75]])
    calendar = book["Calendar"]
    type_settings(calendar, "CalendarSettings", {"calendar.method": "quarters",
                                                 "calendar.normalise": True,
                                                 "calendar.selling_weekdays": "0; 1; 2; 3; 4"})
    type_column(calendar, "QuarterWeights", "Quarter weight", [0.1, 0.2, 0.3, 0.4])
    type_column(calendar, "MonthWeights", "Month weight", [None] * 12)
    type_rows(calendar, "Holidays", [[D(2029, 1, 1)], [D(2029, 12, 25)]])
    type_settings(book["Budget"], "BudgetSettings", {
        "budget.total": 400000, "budget.company_reserve": 0.05, "budget.pools.base": 0.5,
        "budget.pools.incentive": 0.4, "budget.pools.reserve": 0.1})
    okrs = book["OKRs"]
    type_rows(okrs, "Objectives", [["O1", "Make the south coast a second home", "Maya",
                                    "RETAIL"]])
    # the formula columns of the table (Key results, KR weights) were cleared with the
    # example rows: a person's Excel refills them; the reader never reads them
    type_rows(book["Key results"], "KeyResults", [
        ["O1", "KR1", "South coast stores from 2 to 5", 2, 5, 2, "stores", D(2029, 9, 30), 0.7,
         "Bea"],
        ["O1", "KR2", "Repeat buyers from 20% to 30%", 0.2, 0.3, None, "%", D(2029, 12, 31),
         0.3, "Ines"]])
    bsc = book["BSC"]
    type_settings(bsc, "BscSettings", {"bsc.preset": None})
    type_rows(bsc, "Kpis", [
        ["REV", "Revenue", "financial", "EUR", "higher", 6000000, None, 2],
        ["WASTE", "Tea written off", "process", "%", "lower", 0.02, 0.05, 1, "weekly"]])
    risks = book["Risks"]
    type_rows(risks, "Risks", [["R1", "Harvest fails in Assam", "orange", "Costs up 15%",
                                "Tom"]])
    type_rows(risks, "RiskPlans", [["R1", "A", "Buy forward from Darjeeling", 30000,
                                    "Costs up 5%"],
                                   ["R1", "B", "Raise prices 8%", None, "Volume down 3%"]])
    actions = book["Actions"]
    type_rows(actions, "Actions", [["A1", "L1", "Open two stores in the south", "Bea",
                                    D(2029, 2, 1), D(2029, 6, 30), 150000]])
    type_rows(actions, "Milestones", [["A1", "Leases signed"], ["A1", "First store open"]])
    type_settings(book["Workbooks"], "WorkbookSettings", {
        "workbooks.deadline": D(2028, 12, 10), "workbooks.submit_to": "plan@harbour.example"})
    book.save(path)


def harbour_tea(tmp_path: Path) -> Path:
    """`xlplan init DIR --excel`, then the new plan typed in."""
    result = runner.invoke(app, ["init", str(tmp_path / "harbour"), "--excel"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "harbour" / "plan.xlsx"
    type_harbour_tea(path)
    return path


def targets(path: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["targets", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.output)
    return out


def amounts(path: Path, by: str, *args: str) -> dict[str, float]:
    got = targets(path, "--by", by, *args)
    return {row[by]: row["amount"] for row in got["rows"]}


ALL_TARGETS = (("org", "--level", "0"), ("org", "--level", "1"), ("org", "--level", "2"),
               ("product",), ("channel",), ("quarter",))


def every_target(path: Path) -> list[dict[str, Any]]:
    return [targets(path, "--by", by, *rest) for by, *rest in ALL_TARGETS]


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harbour_tea(tmp_path_factory.mktemp("typed"))


def test_the_starter_is_the_small_plan_before_typing(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path), "--excel"])
    assert load_plan(tmp_path / "plan.xlsx").plan.id == "small-2027"


def test_the_typed_file_kept_the_starters_tables_and_drop_downs(typed: Path) -> None:
    book = openpyxl.load_workbook(typed)
    # grown where rows were added, shrunk where example rows were deleted
    assert book["Channels"].tables["Channels"].ref == "A5:D9"
    assert book["BSC"].tables["Kpis"].ref == "F5:P7"  # Code … Weight, Maximum, Aggregate
    assert book["Levers"].tables["Levers"].ref == "A5:F7"
    units = book["Units"]
    lists = {str(v.sqref) for v in units.data_validations.dataValidation if v.type == "list"}
    columns = {units.cell(5, c).value: get_column_letter(c) for c in range(1, 20)}
    assert lists >= {f"{columns[h]}6:{columns[h]}505" for h in ("Parent", "Kind", "Maturity")}


def test_rows_typed_below_a_table_not_grown_to_them_still_read(typed: Path,
                                                               tmp_path: Path) -> None:
    """LibreOffice does not grow a table when a person types below it: the rows count."""
    path = tmp_path / "plan.xlsx"
    shutil.copy(typed, path)
    book = openpyxl.load_workbook(path)
    _resize(book["Channels"], "Channels", 7)  # the starter's two rows; APP, SITE below
    _resize(book["BSC"], "Kpis", 6)
    book.save(path)
    assert load_plan(path).plan == load_plan(typed).plan


def test_the_typed_plan_reads_as_typed(typed: Path) -> None:
    plan = load_plan(typed).plan
    assert (plan.id, plan.name, plan.fiscal_year, plan.currency.code) == (
        "harbour-2029", "Harbour Tea 2029 plan", 2029, "EUR")
    assert plan.prior_year is None and plan.bsc.preset is None
    assert [u.code for u in plan.units] == ["HT", "RETAIL", "WHOLESALE", "NORTH", "SOUTH",
                                            "EXPORT"]
    assert plan.units[0].email == "maya@harbour.example"
    south = plan.units[4].factors
    assert (south.new_hire_share, south.attainment_history) == (0.5, [0.9, 0.95, 0.97])
    assert [(c.code, c.parent, c.share) for c in plan.channels] == [
        ("STORES", None, 0.6), ("WEB", None, 0.4), ("APP", "WEB", 0.25), ("SITE", "WEB", 0.75)]
    assert plan.calendar.quarter_weights == [0.1, 0.2, 0.3, 0.4]
    assert plan.calendar.month_weights is None
    assert plan.calendar.selling_weekdays == [0, 1, 2, 3, 4] and plan.calendar.normalise
    assert plan.calendar.holidays == [dt.date(2029, 1, 1), dt.date(2029, 12, 25)]
    assert plan.budget is not None and plan.budget.total == 400000
    assert [(k.id, k.weight, k.due) for k in plan.okrs[0].krs] == [
        ("KR1", 0.7, dt.date(2029, 9, 30)), ("KR2", 0.3, dt.date(2029, 12, 31))]
    assert [(k.code, k.direction.value, k.floor, k.frequency) for k in plan.bsc.kpis] == [
        ("REV", "higher", None, "monthly"), ("WASTE", "lower", 0.05, "weekly")]
    assert [(p.name, p.cost) for p in plan.risks[0].plans] == [("A", 30000), ("B", 0)]
    assert [(a.id, a.milestones) for a in plan.actions] == [
        ("A1", ["Leases signed", "First store open"])]
    assert plan.workbooks.deadline == dt.date(2028, 12, 10)


def test_the_typed_plan_validates_with_the_hand_worked_numbers(typed: Path) -> None:
    result = runner.invoke(app, ["validate", str(typed)])
    assert result.exit_code == 0, result.output
    assert "ok: harbour-2029 — Harbour Tea 2029 plan" in result.output
    assert "units 6 (depth 2), products 2, channels 4, OKRs 1, KPIs 2, risks 1" in result.output
    assert ("target 6,000,000.00 EUR; increment 1,000,000.00; levers cover 1,000,000.00; "
            "uncovered gap 0.00" in result.output)


def test_the_typed_plan_targets_are_the_hand_worked_numbers(typed: Path) -> None:
    assert targets(typed, "--level", "0")["total"] == 6_000_000
    assert amounts(typed, "org", "--level", "0") == {"HT": 6_000_000}
    assert amounts(typed, "org", "--level", "1") == {"RETAIL": 3_600_000,
                                                     "WHOLESALE": 2_400_000}
    assert amounts(typed, "org", "--level", "2") == {"NORTH": 2_400_000, "SOUTH": 1_200_000,
                                                     "EXPORT": 2_400_000}
    assert amounts(typed, "product") == {"TEA": 4_500_000, "CUPS": 1_500_000}
    assert amounts(typed, "channel") == {"STORES": 3_600_000, "APP": 600_000,
                                         "SITE": 1_800_000}
    assert list(amounts(typed, "quarter").values()) == [600_000, 1_200_000, 1_800_000,
                                                        2_400_000]


def test_the_typed_plan_builds(typed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(typed), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    # workbooks one level above the leaves: the two departments
    assert sorted(p.name for p in out.rglob("*.xlsx")) == [
        "harbour-2029-RETAIL.xlsx", "harbour-2029-WHOLESALE.xlsx", "harbour-2029-master.xlsx"]


def test_sorted_spaced_and_annotated_units_read_the_same(typed: Path, tmp_path: Path) -> None:
    """A person sorts the Units table Z→A, leaves empty rows between entries and adds a
    column of their own notes: the same units, the same targets."""
    path = tmp_path / "plan.xlsx"
    shutil.copy(typed, path)
    book = openpyxl.load_workbook(path)
    ws = book["Units"]
    min_col, top, max_col, max_row = range_boundaries(ws.tables["Units"].ref)
    rows = [[ws.cell(r, c).value for c in range(min_col, max_col + 1)]
            for r in range(top + 1, max_row + 1)]
    rows.sort(key=lambda row: row[0], reverse=True)
    spaced: list[list[Any]] = []
    for row in rows:
        spaced += [row, []]  # an empty row after each entry
    type_rows(ws, "Units", spaced)
    notes = max_col + 1
    ws.cell(top, notes).value = "My notes"
    for r in range(top + 1, top + len(spaced) + 1, 2):
        ws.cell(r, notes).value = f"checked with {ws.cell(r, 4).value}"
    table = ws.tables["Units"]
    table.tableColumns.append(TableColumn(id=len(table.tableColumns) + 1, name="My notes"))
    _resize(ws, "Units", top + len(spaced), notes)
    book.save(path)

    again = openpyxl.load_workbook(path)["Units"]
    assert again.tables["Units"].ref == f"A5:{get_column_letter(notes)}17"
    assert again["A6"].value == "WHOLESALE" and again["A7"].value is None
    assert again.cell(6, notes).value == "checked with Tom"
    before, after = load_plan(typed).plan, load_plan(path).plan
    assert [u.code for u in after.units] == ["WHOLESALE", "SOUTH", "RETAIL", "NORTH", "HT",
                                             "EXPORT"]
    assert sorted(after.units, key=lambda u: u.code) == sorted(before.units,
                                                               key=lambda u: u.code)
    assert after.model_copy(update={"units": before.units}) == before
    # the same amounts; rows list the units in the table's order, as the person sorted them
    assert [_by_key(t) for t in every_target(path)] == [_by_key(t) for t in every_target(typed)]


@pytest.mark.parametrize(("sheet", "at"), [("Units", 1), ("Units", 3), ("Calendar", 1),
                                         ("Risks", 7)],
                         ids=["units-left", "units-inside", "calendar-left", "risks-between"])
def test_a_column_inserted_before_or_inside_a_table_reads_the_same(
        typed: Path, tmp_path: Path, sheet: str, at: int) -> None:
    """A person inserts a column of notes (Insert ▸ Column): the tables right of it move
    one column right, a table it cuts through gains the column."""
    path = tmp_path / "plan.xlsx"
    shutil.copy(typed, path)
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    ws.insert_cols(at)  # moves the cells; Excel moves the tables too, done here by hand
    ws.cell(5, at).value = "My notes"
    ws.cell(6, at).value = "ask Tom"
    for table in ws.tables.values():
        min_col, top, max_col, bottom = range_boundaries(table.ref)
        if at <= min_col:
            min_col += 1
        elif at > max_col:
            continue
        else:
            names = [c.name for c in table.tableColumns]
            names.insert(at - min_col, "My notes")
            table.tableColumns = [TableColumn(id=i, name=n) for i, n in enumerate(names, 1)]
        ref = f"{get_column_letter(min_col)}{top}:{get_column_letter(max_col + 1)}{bottom}"
        table.ref = ref
        if table.autoFilter is not None:
            table.autoFilter.ref = ref
    book.save(path)
    assert load_plan(path).plan == load_plan(typed).plan


def _by_key(got: dict[str, Any]) -> dict[str, Any]:
    rows = {tuple(row[k] for k in got["by"]): row["amount"] for row in got["rows"]}
    return {**got, "rows": rows}


@pytest.mark.libreoffice
@pytest.mark.slow
def test_the_typed_plan_saved_by_libreoffice_builds_to_the_same_targets(
        typed: Path, tmp_path: Path) -> None:
    from xlplan.libreoffice import LibreOffice

    require_tool("soffice")
    with LibreOffice() as lo:
        saved = lo.recalculate([typed], tmp_path / "saved")[typed]
    assert saved.read_bytes() != typed.read_bytes()
    assert load_plan(saved).plan == load_plan(typed).plan
    assert every_target(saved) == every_target(typed)
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(saved), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert len(list(out.rglob("*.xlsx"))) == 3
    # LibreOffice writes a typed TRUE as the formula TRUE() (with its result): a later
    # edit by a program that keeps no results (openpyxl) leaves the bare formula
    calendar = openpyxl.load_workbook(saved)["Calendar"]
    assert (calendar["A7"].value, calendar["B7"].value) == ("calendar.normalise", "=TRUE()")
    edited = tmp_path / "edited.xlsx"
    openpyxl.load_workbook(saved).save(edited)
    assert load_plan(edited).plan == load_plan(typed).plan


# -- mistakes typed into the workbook: the YAML's words, at Sheet!Cell ---------------------


def typed_with(typed: Path, tmp_path: Path, sheet: str, table: str, column: str, row: int,
               value: Any) -> tuple[Path, str]:
    """A copy of the typed plan with ``value`` typed into ``column`` of the table's
    ``row``-th entry; the file and the cell's reference as messages give it."""
    path = tmp_path / "plan.xlsx"
    shutil.copy(typed, path)
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    min_col, top, max_col, _ = range_boundaries(ws.tables[table].ref)
    if column.startswith("setting:"):
        key = column.removeprefix("setting:")
        r = next(r for r in range(top + 1, ws.max_row + 1) if ws.cell(r, min_col).value == key)
        col = min_col + 1
    else:
        col = next(c for c in range(min_col, max_col + 1) if ws.cell(top, c).value == column)
        r = top + row
    ws.cell(r, col).value = value
    book.save(path)
    name = f"'{sheet}'" if " " in sheet else sheet
    return path, f"{name}!{get_column_letter(col)}{r}"


def problems(path: Path) -> list[str]:
    with pytest.raises(PlanError) as info:
        load_plan(path)
    return str(info.value).splitlines()[1:]


@pytest.mark.parametrize(("sheet", "table", "column", "row", "value", "expected"), [
    ("Plan", "PlanSettings", "setting:north_star.target", 0, "14,000,000",
     ["{cell}: write numbers without thousands separators: 14000000"]),
    ("Levers", "Levers", "Amount", 1, "600,000",
     ["{cell}: write numbers without thousands separators: 600000"]),
    ("Channels", "Channels", "Share", 1, "30%",
     ["{cell}: write percentages as decimals: 0.3 for 30%"]),
    ("Budget", "BudgetSettings", "setting:budget.company_reserve", 0, "12.5%",
     ["{cell}: write percentages as decimals: 0.125 for 12.5%"]),
    ("Plan", "PlanSettings", "setting:north_star.target", 0, "1,400万",
     ["{cell}: write the whole number: 14000000 for 1,400万"]),
    ("Budget", "BudgetSettings", "setting:budget.total", 0, "40万元",
     ["{cell}: write the whole number: 400000 for 40万元"]),
    ("Units", "Units", "Parent", 4, "RETIAL",
     ["{cell}: unknown parent unit 'RETIAL' (did you mean 'RETAIL'?)"]),
    # SITE moved out of WEB leaves APP's 0.25 alone under it: true, and said (problems
    # come in reading order, row by row)
    ("Channels", "Channels", "Parent", 4, "WBE",
     ["Channels!D8: shares of channels under 'WEB' sum to 0.25, expected 1",
      "{cell}: unknown parent channel 'WBE' (did you mean 'WEB'?)"]),
    # the sum is reported at the objective's first key result, as the YAML's first KR
    ("Key results", "KeyResults", "Weight", 2, 0.2,
     ["'Key results'!I6: weights of the key results of objective 'O1' sum to 0.9, expected 1 "
      "(or leave out every weight for equal weights)"]),
], ids=["thousands", "thousands-in-a-list", "percent-share", "percent-setting", "wan",
        "wan-yuan", "parent-unit", "parent-channel", "kr-weights"])
def test_a_mistake_typed_into_the_workbook_is_named_at_its_cell(
        typed: Path, tmp_path: Path, sheet: str, table: str, column: str, row: int,
        value: Any, expected: list[str]) -> None:
    path, cell = typed_with(typed, tmp_path, sheet, table, column, row, value)
    assert problems(path) == [f"  {path}: {line.format(cell=cell)}" for line in expected]


@pytest.mark.parametrize(("formula", "normalise"), [("=TRUE()", True), ("=FALSE()", False),
                                                   ("=true", True)])
def test_a_boolean_left_as_libreoffice_writes_it_reads_as_that_boolean(
        typed: Path, tmp_path: Path, formula: str, normalise: bool) -> None:
    path, cell = typed_with(typed, tmp_path, "Calendar", "CalendarSettings",
                            "setting:calendar.normalise", 0, formula)
    assert cell == "Calendar!B7"
    assert load_plan(path).plan.calendar.normalise is normalise
    # any other formula without its result is still refused: its value is unknown
    path, cell = typed_with(typed, tmp_path, "Calendar", "CalendarSettings",
                            "setting:calendar.normalise", 0, "=1=1")
    assert problems(path) == [f"  {path}: {cell}: holds a formula with no saved result: type "
                              "the value (or open and save the file in Excel)"]
