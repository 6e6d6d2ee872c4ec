"""The OKR, BSC and Budget sheets: structure, protection, validation, and a filled-in case.

The structural tests read the built files with openpyxl. The filled-in test types values
into a unit workbook's input cells (as a manager would), recalculates it with LibreOffice
and checks every derived cell against the engine.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import require_tool
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string

from xlplan.engine.bsc import bsc_scores
from xlplan.engine.budget import POOL_NAMES, budget_check, request_lines, reserve_decision
from xlplan.engine.okr import kr_progress, weighted_mean
from xlplan.engine.rounding import to_minor
from xlplan.workbook import bsc as bsc_sheet
from xlplan.workbook import okr as okr_sheet
from xlplan.workbook.build import Built, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.verify import compare

ERRORS = {"#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "Err:502",
          "Err:504", "Err:508"}



def _unit(built: list[Built], code: str) -> Built:
    return next(b for b in built if b.unit == code)


def _inputs(b: Built) -> dict[str, tuple[str, str]]:
    """"item@period" (or "item") → (sheet, cell) of every input cell."""
    out = {}
    for c in b.book.inputs:
        out[f"{c.item}@{c.period}" if c.period else c.item] = (c.sheet, c.cell)
    return out


def _row(cell: str) -> int:
    return int(coordinate_from_string(cell)[1])


def _at(row: int, col: int) -> str:
    return f"{get_column_letter(col + 1)}{row}"


def _validations(ws: Any) -> dict[str, Any]:
    """cell → its data validation (one cell's, or one over many like inputs: the BSC's)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in rng.rows:
                for r, c in row:
                    out[f"{get_column_letter(c)}{r}"] = dv
    return out


def test_sheets_in_tab_order(built: list[Built]) -> None:
    master = openpyxl.load_workbook(built[0].path)
    names = master.sheetnames
    assert names.index("Increment") < names.index("OKR") < names.index("BSC") \
        < names.index("Budget") < names.index("Actions")
    unit = openpyxl.load_workbook(_unit(built, "EAST").path)
    names = unit.sheetnames
    assert names.index("People") < names.index("OKR") < names.index("BSC") \
        < names.index("Budget") < names.index("Actions")


def test_master_sheets_have_no_inputs(built: list[Built]) -> None:
    assert not [c for c in built[0].book.inputs if c.sheet in ("OKR", "BSC", "Budget")]


def test_okr_aligned_to_lists_company_krs(ctx: BuildContext, built: list[Built]) -> None:
    company = [kr.id for o in ctx.plan.okrs if o.unit in (None, ctx.tree.root) for kr in o.krs]
    assert company == ["KR1.1", "KR1.2"]
    b = _unit(built, "EAST")
    ws = openpyxl.load_workbook(b.path)["OKR"]
    dvs = _validations(ws)
    aligned = [c for c in b.book.inputs if c.item.endswith(":aligned_to")]
    assert len(aligned) == okr_sheet.INPUT_OBJECTIVES * okr_sheet.KRS_PER_INPUT_OBJECTIVE
    for c in aligned:
        dv = dvs[c.cell]
        assert dv.type == "list"
        choices = dv.formula1.strip('"').split(",")
        assert set(company) <= set(choices)
        assert set(company) <= set(c.rule.choices)
        assert ws[c.cell].protection.locked is False
    # the unit's own plan KR is offered too (its people align to it)
    assert "KR2.1" in aligned[0].rule.choices


def test_okr_given_rows_locked_and_progress_cached(ctx: BuildContext, built: list[Built]) -> None:
    b = _unit(built, "EAST")
    ws = openpyxl.load_workbook(b.path)["OKR"]
    expected = b.book.expected_values()
    found = {}
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        kr = row[okr_sheet.COL["KR"]].value
        if kr in ("KR1.1", "KR1.2", "KR2.1"):
            cell = row[okr_sheet.COL["KR progress"]]
            assert row[okr_sheet.COL["Start"]].protection.locked is not False
            found[kr] = expected[("OKR", cell.coordinate)]
    krs = {kr.id: kr for o in ctx.plan.okrs for kr in o.krs}
    assert set(found) == {"KR1.1", "KR1.2", "KR2.1"}
    for code, value in found.items():
        kr = krs[code]
        assert value == pytest.approx(kr_progress(kr.start, kr.target, kr.current))


def test_okr_due_dates_within_fiscal_year(built: list[Built]) -> None:
    b = _unit(built, "EAST")
    due = [c for c in b.book.inputs if c.item.endswith(":due")]
    assert due
    for c in due:
        assert (c.rule.kind, c.rule.start, c.rule.end) == ("date", dt.date(2027, 1, 1),
                                                          dt.date(2027, 12, 31))


def test_bsc_day_inputs_unlocked_and_validated(ctx: BuildContext, built: list[Built]) -> None:
    b = _unit(built, "EAST")
    ws = openpyxl.load_workbook(b.path)["BSC"]
    dvs = _validations(ws)
    days = [c for c in b.book.inputs if c.sheet == "BSC" and c.period.count("-") == 2]
    daily = [k for k in ctx.plan.bsc.kpis if k.frequency == "daily"]
    assert daily and len(days) == 365 * len(daily)  # every day of fiscal 2027
    monthly = [c for c in b.book.inputs if c.sheet == "BSC" and c.period.count("-") == 1]
    assert len(monthly) == 12 * (len(ctx.plan.bsc.kpis) - len(daily))
    for c in days + monthly:
        assert ws[c.cell].protection.locked is False
        assert dvs[c.cell].type == "decimal"
    # a daily KPI takes no month value, a monthly one no day values: those cells are locked
    stock_out = next(c for c in days if c.item == "bsc:stock_out")
    month_cell = _at(_row(stock_out.cell), bsc_sheet.COL["Month value"])
    assert ws[month_cell].protection.locked is not False


def test_bsc_blank_block_shows_no_errors(built: list[Built]) -> None:
    for b in built:
        values = [v for (sheet, _), v in b.book.expected_values().items() if sheet == "BSC"]
        assert values
        assert not any(isinstance(v, float) and math.isnan(v) for v in values)


def test_budget_pools_tie_to_unit_allocation(ctx: BuildContext, built: list[Built]) -> None:
    assert ctx.plan.budget is not None
    alloc = ctx.budget_allocation
    assert sum(alloc.units.values()) == alloc.split.distributable
    for unit in ctx.input_units:
        assert sum(alloc.pools[unit].values()) == alloc.units[unit]
        b = _unit(built, unit)
        ws = openpyxl.load_workbook(b.path)["Budget"]
        rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        amounts = [round(ws.cell(rows[name], 3).value / 0.01) for name in POOL_NAMES]
        allocated = round(ws["B5"].value / 0.01)
        assert ws["A5"].value == "Your allocation"
        assert allocated == alloc.units[unit]
        assert sum(amounts) == allocated
        assert amounts == [alloc.pools[unit][n] for n in POOL_NAMES]
        assert ws["B5"].protection.locked is not False


def test_master_budget_units_add_up(ctx: BuildContext, built: list[Built]) -> None:
    assert ctx.plan.budget is not None
    alloc = ctx.budget_allocation
    expected = built[0].book.expected_values()
    budget_cells = [v for (sheet, _), v in expected.items() if sheet == "Budget"]
    assert "does not tie" not in budget_cells
    for unit in ctx.input_units:
        assert ctx.money(alloc.units[unit]) in budget_cells
    assert to_minor(ctx.plan.budget.total, ctx.su) == alloc.split.total


def _fill(b: Built, out: Path, values: dict[str, Any]) -> Path:
    """A copy of a workbook with ``values`` ("item@period" → value) typed into its inputs."""
    where = _inputs(b)
    book = openpyxl.load_workbook(b.path)
    for key, value in values.items():
        sheet, cell = where[key]
        assert book[sheet][cell].protection.locked is False
        rule = next(c.rule for c in b.book.inputs if (c.sheet, c.cell) == (sheet, cell))
        assert rule.check(value) is None, (key, rule.check(value))
        book[sheet][cell].value = value
    out.mkdir(parents=True, exist_ok=True)
    path = out / b.path.name
    book.save(path)
    return path


def _close(got: Any, want: Any) -> bool:
    if isinstance(want, str):
        return got == want or (want == "" and got is None)
    return isinstance(got, int | float) and abs(got - want) <= 1e-9 * max(1.0, abs(want))


@pytest.mark.slow
@pytest.mark.libreoffice
def test_filled_in_unit_recalculates_as_the_engine(ctx: BuildContext, built: list[Built],
                                                   tmp_path: Path) -> None:
    require_tool("soffice")
    from xlplan.libreoffice import LibreOffice, read_values

    b = _unit(built, "EAST")
    assert ctx.plan.budget is not None
    alloc = ctx.budget_allocation
    reserve = alloc.pools["EAST"]["reserve"]
    draw = reserve // 10  # exactly 10% of the reserve pool: still the region's call
    assert draw * 10 == reserve
    values: dict[str, Any] = {
        # OKR: a rising KR, a falling KR, a KR without numbers; then equal-weight KRs
        "okr:EAST-O1:title": "Win the east coast", "okr:EAST-O1.1:key_result": "Stores 0 → 10",
        "okr:EAST-O1.1:start": 0, "okr:EAST-O1.1:target": 10, "okr:EAST-O1.1:current": 5,
        "okr:EAST-O1.1:weight": 0.5, "okr:EAST-O1.1:due": dt.datetime(2027, 6, 30),
        "okr:EAST-O1.1:aligned_to": "KR1.1",
        "okr:EAST-O1.2:start": 10, "okr:EAST-O1.2:target": 5, "okr:EAST-O1.2:current": 8,
        "okr:EAST-O1.2:weight": 0.3, "okr:EAST-O1.2:due": dt.datetime(2027, 9, 30),
        "okr:EAST-O1.3:key_result": "Be the best",
        "okr:EAST-O2.1:start": 0, "okr:EAST-O2.1:target": 4, "okr:EAST-O2.1:current": 6,
        "okr:EAST-O2.2:start": -2, "okr:EAST-O2.2:target": 4,
        # BSC: a daily rate (averaged), two monthly KPIs
        "bsc:stock_out@2027-01-01": 0.04, "bsc:stock_out@2027-01-02": 0.06,
        "bsc:stock_out@2027-01-05": 0.05,
        "bsc:cash_flow@2027-01": 450000, "bsc:cac@2027-01": 220,
        # Budget: a line that pays, a frozen one, a zero-amount one; a reserve draw
        "budget:request:01:item": "Member events", "budget:request:01:pool": "base",
        "budget:request:01:amount": 100000, "budget:request:01:return": 200000,
        "budget:request:02:pool": "incentive", "budget:request:02:amount": 50000,
        "budget:request:02:return": 60000,
        "budget:request:03:pool": "base", "budget:request:03:return": 5,
        "budget:reserve_draw@year": ctx.money(draw),
    }
    path = _fill(b, tmp_path / "filled", values)
    with LibreOffice() as lo:
        out = lo.recalculate([path], tmp_path / "recalc")[path]
    got = read_values(out)
    where = _inputs(b)

    def value(sheet: str, key: str, col: int) -> Any:
        return got[sheet].get(_at(_row(where[key][1]), col))

    # OKR
    oc = okr_sheet.COL
    p11 = kr_progress(0, 10, 5)
    p12 = kr_progress(10, 5, 8)
    checks = [
        (value("OKR", "okr:EAST-O1.1:start", oc["KR progress"]), p11),
        (value("OKR", "okr:EAST-O1.2:start", oc["KR progress"]), p12),
        (value("OKR", "okr:EAST-O1.3:start", oc["KR progress"]), ""),
        (value("OKR", "okr:EAST-O1.1:start", oc["O progress"]),
         weighted_mean([p11, p12], [0.5, 0.3])),
        (value("OKR", "okr:EAST-O1.1:start", oc["Check"]), "ok"),
        (value("OKR", "okr:EAST-O1.3:start", oc["Check"]), okr_sheet.MISSING),
        (value("OKR", "okr:EAST-O2.1:start", oc["KR progress"]), 1.0),
        (value("OKR", "okr:EAST-O2.2:start", oc["KR progress"]), 0.0),
        (value("OKR", "okr:EAST-O2.1:start", oc["O progress"]), 0.5),  # weights blank: mean
        (value("OKR", "okr:EAST-O2.1:start", oc["Check"]), okr_sheet.MISSING),  # no due date
        (value("OKR", "okr:EAST-O3.1:start", oc["O progress"]), ""),
    ]
    # BSC: the engine's scores from the month-to-date actuals
    bc = bsc_sheet.COL
    kpis = ctx.plan.bsc.kpis
    actuals = {"stock_out": (0.04 + 0.06 + 0.05) / 3, "cash_flow": 450000.0, "cac": 220.0}
    for k in kpis:
        key = f"bsc:{k.code}@2027-01" if k.frequency != "daily" else f"bsc:{k.code}@2027-01-01"
        v = bsc_sheet.kpi_values(k, actuals.get(k.code), ctx.plan.status_bands)
        checks += [(value("BSC", key, bc["MTD actual"]), actuals.get(k.code, "")),
                   (value("BSC", key, bc["YTD actual"]), actuals.get(k.code, "")),
                   (value("BSC", key, bc["Attainment"]), v["attainment"]),
                   (value("BSC", key, bc["Status"]), v["status"]),
                   (value("BSC", key, bc["Score (0-10)"]), v["score"])]
    result = bsc_scores(kpis, actuals)
    bsc_rows: dict[object, str] = {}  # January's block is the first: its score rows
    for k, v in sorted(got["BSC"].items(), key=lambda kv: -_row(kv[0])):
        if k.startswith("A"):
            bsc_rows[v] = k
    for rec in result.perspectives.to_dict("records"):
        r = _row(bsc_rows[rec["perspective"]])
        want = rec["score"]
        checks.append((got["BSC"].get(f"E{r}"), "" if math.isnan(want) else want))
    checks.append((got["BSC"].get(f"E{_row(bsc_rows['Total'])}"), result.total))
    # Budget
    lines = request_lines([
        {"item": "a", "category": "base", "amount": 10_000_000, "expected_return": 20_000_000},
        {"item": "b", "category": "incentive", "amount": 5_000_000,
         "expected_return": 6_000_000},
        {"item": "c", "category": "base", "amount": 0, "expected_return": 500}],
        ctx.plan.budget.roi_floor)
    for i in range(3):
        key = f"budget:request:{i + 1:02d}:amount"
        roi = float(lines["roi"].iloc[i])
        checks += [(value("Budget", key, 5), "" if math.isnan(roi) else roi),
                   (value("Budget", key, 6), "FROZEN" if lines["frozen"].iloc[i] else "")]
    budget_rows: dict[Any, int] = {}
    for coord, text in got["Budget"].items():
        if coord.startswith("A"):
            budget_rows.setdefault(text, _row(coord))  # the first "Total" is the pools' total
    spent = {"base": 10_000_000, "incentive": 5_000_000, "reserve": 0}
    for name in POOL_NAMES:
        bc_ = budget_check(spent[name], alloc.pools["EAST"][name], ctx.plan.budget.tolerance)
        r = budget_rows[name]
        checks += [(got["Budget"].get(f"D{r}"), ctx.money(spent[name])),
                   (got["Budget"].get(f"E{r}"), bc_.deviation), (got["Budget"].get(f"F{r}"),
                                                                  bc_.flag)]
    whole = budget_check(15_000_000, alloc.units["EAST"], ctx.plan.budget.tolerance)
    r = budget_rows["Total"]
    checks += [(got["Budget"].get(f"E{r}"), whole.deviation),
               (got["Budget"].get(f"F{r}"), whole.flag)]
    r = budget_rows["Reserve you plan to draw"]
    checks.append((got["Budget"].get(f"E{r}"),
                   reserve_decision(draw, reserve, ctx.plan.budget.regional_reserve_authority)))
    assert checks[-1][1] == "region"
    bad = [(i, g, w) for i, (g, w) in enumerate(checks) if not _close(g, w)]
    assert not bad
    # no error values anywhere on the three sheets
    for sheet in ("OKR", "BSC", "Budget"):
        errors = {k: v for k, v in got[sheet].items() if v in ERRORS}
        assert not errors, (sheet, errors)
    # rebuilt with the same inputs, the writers predict every formula cell LibreOffice computed
    fill = {where[key]: (value.date() if isinstance(value, dt.datetime) else value)
            for key, value in values.items()}
    rebuilt = build_unit(ctx, tmp_path / "rebuilt", "EAST", fill=fill)
    mismatches = compare(rebuilt.book.expected_values(), got)
    assert not mismatches, [str(m) for m in mismatches[:10]]


def test_build_copies_are_not_modified(built: list[Built], tmp_path: Path) -> None:
    """Filling a copy leaves the generated file as it was (the manifest stays valid)."""
    b = _unit(built, "EAST")
    before = b.path.read_bytes()
    copy = tmp_path / "copy.xlsx"
    shutil.copy(b.path, copy)
    book = openpyxl.load_workbook(copy)
    sheet, cell = _inputs(b)["budget:request:01:amount"]
    book[sheet][cell].value = 123
    book.save(copy)
    assert b.path.read_bytes() == before
    assert openpyxl.load_workbook(copy)[sheet][cell].value == 123
