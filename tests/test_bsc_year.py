"""The BSC daily report covers the whole fiscal year: a block per month, a day input for every
day, month-to-date and year-to-date by each KPI's ``aggregate``, checked against hand-worked
numbers and against LibreOffice's recalculation of every formula cell of the sheet.

The plan is the small plan with three daily KPIs of its own beside the retail preset's: a
stock (``aggregate: last``, head count), a flow (money, ``sum``) and a level whose unit says
money but whose ``aggregate`` says average (the unit text must not decide).
"""

from __future__ import annotations

import calendar
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SMALL, require_tool

from xlplan.engine.bsc import day_rule, year_actual
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook import bsc as bsc_sheet
from xlplan.workbook.book import Value
from xlplan.workbook.build import Built, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import sample_inputs
from xlplan.workbook.verify import compare

OWN_KPIS = [
    {"code": "heads", "name": "Sales heads at day end", "perspective": "learning",
     "unit": "people", "target": 12, "frequency": "daily", "aggregate": "last"},
    {"code": "cash_in", "name": "Cash collected", "perspective": "financial", "unit": "CNY",
     "target": 31000, "frequency": "daily", "aggregate": "sum"},
    {"code": "basket", "name": "Average basket", "perspective": "customer", "unit": "CNY",
     "target": 200, "frequency": "daily", "aggregate": "average"},
]


def plan_ctx(folder: Path, first_month: int = 1) -> BuildContext:
    """The small plan with the KPIs above, its fiscal year starting in ``first_month``."""
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["first_month"] = first_month
    data["bsc"]["kpis"] = OWN_KPIS
    first = dt.date(data["fiscal_year"], first_month, 1)
    for action in data.get("actions") or []:  # keep them within the fiscal year
        action["start"], action["end"] = max(action["start"], first), max(action["end"], first)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SMALL.parent / data["prior_year"]["file"], folder)
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    loaded = load_plan(path)
    return BuildContext(loaded, read_prior_year(loaded))


def bsc_inputs(built: Built) -> dict[tuple[str, str], str]:
    """(item, period) → cell of every BSC input."""
    return {(c.item, c.period): c.cell for c in built.book.inputs if c.sheet == "BSC"}


def row_of(cell: str) -> int:
    return int("".join(ch for ch in cell if ch.isdigit()))


def at(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell
    return xl_rowcol_to_cell(row - 1, col)


@pytest.fixture(scope="module")
def april(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildContext, Built]:
    """Fiscal year 2027 from April 2027 to March 2028 (a leap February), unit EAST, blank."""
    ctx = plan_ctx(tmp_path_factory.mktemp("april"), first_month=4)
    return ctx, build_unit(ctx, tmp_path_factory.mktemp("april-book"), "EAST")


def test_a_day_input_for_every_day_of_a_calendar_fiscal_year(built: list[Built]) -> None:
    """The small plan (fiscal 2027 = calendar 2027): 365 days of its daily KPI, in order,
    and 12 month values of each weekly or monthly one."""
    unit = next(b for b in built if b.unit == "EAST")
    cells = [c for c in unit.book.inputs if c.sheet == "BSC"]
    days = [c.period for c in cells if c.item == "bsc:stock_out"]
    assert len(days) == 365
    assert days == [(dt.date(2027, 1, 1) + dt.timedelta(d)).isoformat() for d in range(365)]
    months = [c.period for c in cells if c.item == "bsc:nps"]
    assert months == [f"2027-{m:02d}" for m in range(1, 13)]


def test_a_fiscal_year_from_april_has_366_days_and_its_blocks_in_order(
        april: tuple[BuildContext, Built]) -> None:
    _, b = april
    cells = bsc_inputs(b)
    heads = sorted(p for (item, p) in cells if item == "bsc:heads")
    assert len(heads) == 366  # April 2027 … March 2028, 29 February 2028 included
    assert heads[0] == "2027-04-01" and heads[-1] == "2028-03-31" and "2028-02-29" in heads
    # each day sits in its month's block (blocks go down the sheet in fiscal order) and in
    # the column of its day of the month
    titles = {cell.content: row_of(cell.ref) for cell in b.book.cells
              if cell.sheet == "BSC" and cell.kind == "label" and cell.ref[0] == "A"}
    block_rows = []
    for year, month in [(2027, m) for m in range(4, 13)] + [(2028, m) for m in range(1, 4)]:
        title = f"{calendar.month_abbr[month]} {year}"
        assert title in titles, title
        block_rows.append(titles[title])
    assert block_rows == sorted(block_rows)
    for period, day_of_month in (("2027-04-01", 1), ("2027-12-31", 31), ("2028-02-29", 29)):
        cell = cells[("bsc:heads", period)]
        month_row = max(r for r in block_rows if r < row_of(cell))
        assert month_row == titles[f"{calendar.month_abbr[int(period[5:7])]} {period[:4]}"]
        assert cell == at(row_of(cell), bsc_sheet.FIRST_DAY + day_of_month - 1)


def hand_fill(ctx: BuildContext, blank: Built) -> dict[tuple[str, str], Value]:
    """Sample values everywhere, then the hand-worked cases (fiscal year from January):

    heads (last): Jan 1..4 = 10, 12, blank, 11, rest of January and all of February blank,
    Mar 2 = 9 → MTD Jan 11, Feb blank, Mar 9; YTD Jan 11, Feb 11, Mar 9.
    cash_in (sum): Jan 1 = 100, Jan 2 = 50, Feb 1 = 25, rest blank → YTD Feb 175 against
    a YTD target of 2 × 31,000; day target in February 31,000 / 28.
    basket (average, unit CNY): Jan 1 = 100, Jan 2 = 300, Feb 1 = 50 → MTD Jan 200,
    YTD Feb 150 (the mean of three days, not of two months' means, which is 125).
    """
    assert blank.manifest is not None
    fill = sample_inputs(ctx, blank.manifest, seed=5)
    cells = bsc_inputs(blank)
    for (item, _), cell in cells.items():
        if item in ("bsc:heads", "bsc:cash_in", "bsc:basket"):
            fill[("BSC", cell)] = None
    hand = {("bsc:heads", "2027-01-01"): 10, ("bsc:heads", "2027-01-02"): 12,
            ("bsc:heads", "2027-01-04"): 11, ("bsc:heads", "2027-03-02"): 9,
            ("bsc:cash_in", "2027-01-01"): 100, ("bsc:cash_in", "2027-01-02"): 50,
            ("bsc:cash_in", "2027-02-01"): 25,
            ("bsc:basket", "2027-01-01"): 100, ("bsc:basket", "2027-01-02"): 300,
            ("bsc:basket", "2027-02-01"): 50}
    for key, value in hand.items():
        fill[("BSC", cells[key])] = float(value)
    for i, ((item, _), cell) in enumerate(sorted(cells.items())):
        if item == "bsc:stock_out" and i % 5 == 0:  # some blank days in a sampled KPI
            fill[("BSC", cell)] = None
    return fill


@pytest.fixture(scope="module")
def january(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildContext, Built, Built]:
    """Fiscal year = calendar 2027: EAST blank, and filled with :func:`hand_fill`."""
    ctx = plan_ctx(tmp_path_factory.mktemp("january"))
    blank = build_unit(ctx, tmp_path_factory.mktemp("blank"), "EAST")
    filled = build_unit(ctx, tmp_path_factory.mktemp("filled"), "EAST",
                        fill=hand_fill(ctx, blank))
    return ctx, blank, filled


def kpi_cell(b: Built, code: str, month: str, column: str) -> tuple[str, str]:
    """("BSC", cell) of ``column`` in ``code``'s row of the block of ``month`` (YYYY-MM)."""
    cells = bsc_inputs(b)
    cell = cells.get((f"bsc:{code}", f"{month}-01")) or cells[(f"bsc:{code}", month)]
    return "BSC", at(row_of(cell), bsc_sheet.COL[column])


HAND = [  # (KPI, month, column, value): the docstring of hand_fill, worked by hand
    ("heads", "2027-01", "MTD actual", 11.0), ("heads", "2027-01", "YTD actual", 11.0),
    ("heads", "2027-02", "MTD actual", ""), ("heads", "2027-02", "YTD actual", 11.0),
    ("heads", "2027-03", "MTD actual", 9.0), ("heads", "2027-03", "YTD actual", 9.0),
    ("heads", "2027-02", "YTD attainment", 11 / 12), ("heads", "2027-02", "Attainment", ""),
    ("heads", "2027-03", "YTD target", 12.0), ("heads", "2027-02", "Day target", 12.0),
    ("cash_in", "2027-01", "MTD actual", 150.0), ("cash_in", "2027-02", "MTD actual", 25.0),
    ("cash_in", "2027-02", "YTD actual", 175.0), ("cash_in", "2027-12", "YTD actual", 175.0),
    ("cash_in", "2027-02", "YTD target", 62000.0),
    ("cash_in", "2027-02", "Day target", 31000 / 28),
    ("cash_in", "2027-02", "YTD attainment", 175 / 62000),
    ("cash_in", "2027-02", "YTD status", "R"),
    ("basket", "2027-01", "MTD actual", 200.0), ("basket", "2027-02", "MTD actual", 50.0),
    ("basket", "2027-02", "YTD actual", 150.0), ("basket", "2027-02", "YTD target", 200.0),
    ("basket", "2027-01", "Status", "G"),  # 150 of 200: shortfall 0.25, orange (0.15, 0.30]
    ("basket", "2027-02", "YTD status", "O"),
]


def test_aggregate_decides_not_the_unit(january: tuple[BuildContext, Built, Built]) -> None:
    ctx, _, _ = january
    kpis = {k.code: k for k in ctx.plan.bsc.kpis}
    cur = ctx.plan.currency.code
    assert [day_rule(kpis[c], cur) for c in ("heads", "cash_in", "basket")] == \
        ["last", "sum", "average"]
    assert year_actual("last", [10, 12, None, 11] + [None] * 27 + [None] * 28 + [None, 9]) == 9
    assert year_actual("average", [100, 300, None, 50]) == 150


def test_engine_values_of_the_hand_worked_cases(january: tuple[BuildContext, Built, Built]
                                                ) -> None:
    _, _, filled = january
    cells = {(c.sheet, c.ref): c for c in filled.book.cells}
    for code, month, column, want in HAND:
        cell = cells[kpi_cell(filled, code, month, column)]  # a formula, or a given target
        got = cell.expected if cell.kind == "formula" else cell.content
        assert got == (pytest.approx(want, rel=1e-12) if isinstance(want, float) else want), \
            (code, month, column)


@pytest.fixture(scope="module")
def office() -> Iterator[LibreOffice]:
    require_tool("soffice")
    with LibreOffice() as lo:
        yield lo


@pytest.fixture(scope="module")
def wrong_engine(tmp_path_factory: pytest.TempPathFactory,
                 january: tuple[BuildContext, Built, Built]) -> Built:
    """The filled workbook built by an engine whose year-to-date is one too high: the file
    caches the wrong numbers, as a broken engine would write them."""
    ctx, blank, _ = january
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bsc_sheet, "year_actual",
                   lambda rule, values: (v + 1 if (v := year_actual(rule, values)) is not None
                                         else None))
        return build_unit(ctx, tmp_path_factory.mktemp("wrong"), "EAST",
                          fill=hand_fill(ctx, blank))


@pytest.fixture(scope="module")
def recalculated(office: LibreOffice, tmp_path_factory: pytest.TempPathFactory,
                 january: tuple[BuildContext, Built, Built], april: tuple[BuildContext, Built],
                 wrong_engine: Built) -> dict[Path, dict[str, dict[str, Any]]]:
    books = [january[1], january[2], april[1], wrong_engine]
    out = {}
    for i, b in enumerate(books):  # the books share a name: one folder each
        done = office.recalculate([b.path], tmp_path_factory.mktemp(f"recalc{i}"))
        out[b.path] = read_values(done[b.path])
    return out


def bsc_expected(b: Built) -> dict[tuple[str, str], Any]:
    return {k: v for k, v in b.book.expected_values().items() if k[0] == "BSC"}


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_equals_the_engine_on_every_bsc_formula_cell(
        january: tuple[BuildContext, Built, Built], april: tuple[BuildContext, Built],
        recalculated: dict[Path, dict[str, dict[str, Any]]]) -> None:
    kpis = len(january[0].plan.bsc.kpis)
    assert kpis == 13  # the retail preset's 10 and our 3
    for b in (january[1], january[2], april[1]):
        expected = bsc_expected(b)
        # 12 months × (8 formulas a KPI + 4 a perspective (all four have KPIs) + 4 the total)
        assert len(expected) == 12 * (kpis * 8 + 4 * 4 + 4)
        assert compare(expected, recalculated[b.path]) == [], b.path
    got = recalculated[january[2].path]["BSC"]
    for code, month, column, want in HAND:  # and LibreOffice agrees with the hand
        value = got.get(kpi_cell(january[2], code, month, column)[1], "")
        assert value == (pytest.approx(want, rel=1e-9) if isinstance(want, float) else want), \
            (code, month, column)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_wrong_cached_value_is_caught(january: tuple[BuildContext, Built, Built],
                                        wrong_engine: Built,
                                        recalculated: dict[Path, dict[str, dict[str, Any]]]
                                        ) -> None:
    mismatches = compare(bsc_expected(wrong_engine), recalculated[wrong_engine.path])
    wrong = {m.cell for m in mismatches}
    # every month's YTD of the three hand-filled KPIs (heads: from January; cash_in and
    # basket: from January) is one too high, and nothing else is claimed wrong but the
    # cells computed from them (attainment, light)
    for code in ("heads", "cash_in", "basket"):
        assert kpi_cell(wrong_engine, code, "2027-02", "YTD actual")[1] in wrong
    ytd_cols = {bsc_sheet.COL[c] for c in ("YTD actual", "YTD attainment", "YTD status")}
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    cols = {column_index_from_string(coordinate_from_string(c)[0]) - 1 for c in wrong}
    assert cols <= ytd_cols
    assert not compare(bsc_expected(january[2]), recalculated[january[2].path])
