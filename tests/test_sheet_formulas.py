"""Every builder of xlplan/workbook/formulas.py, evaluated in a spreadsheet, gives the engine's
answer: the `formulas` package (pure Python, xlplan.recalc) and LibreOffice.

One small sheet: each case is a row of input cells and one formula cell whose cached value is
deliberately wrong ("?"), so only a recalculation can make it right. Band edges are the cases
that matter: a shortfall of exactly 5%, 15% and 30% (float noise in 1 - 0.95 included) must
get the engine's light.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from xlplan.engine.bsc import kpi_score, month_actual, year_actual
from xlplan.engine.okr import kr_progress, weighted_mean
from xlplan.engine.rounding import excel_round
from xlplan.engine.variance import attainment, budget_check, compare_round, status, variance
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.recalc import recalc
from xlplan.spec.models import StatusBands
from xlplan.workbook import formulas as builders
from xlplan.workbook.book import ref

SHEET = "T"
BANDS = StatusBands()  # 5%, 15%, 30%
BAND_CELLS = {"yellow": "$B$1", "orange": "$C$1", "red": "$D$1"}
FIRST = 2  # first case row (0-based)
OUT = 8  # column of the formula under test (I)
Case = tuple[str, list[Any], Any]  # (formula with A..H inputs, inputs, the engine's answer)


def nothing(x: float) -> Any:
    """The engine's NaN as the sheet's blank (read back as None)."""
    return None if isinstance(x, float) and math.isnan(x) else x


def light(x: str) -> str | None:
    return x or None


def cases() -> list[Case]:
    out: list[Case] = []
    a, b, c, d = "A{r}", "B{r}", "C{r}", "D{r}"
    # status lights: at each band edge, just beyond it, ahead of plan, and without a number
    for actual, plan in [(95, 100), (94.99, 100), (85, 100), (84.99, 100), (70, 100),
                         (69.99, 100), (120, 100), (0.95, 1), (0, 0)]:
        att = attainment(actual, plan)
        out.append((builders.status_light(a, BAND_CELLS), [nothing(att)], light(status(att))))
        out.append((builders.status_light_of(a, b, builders.band_values(BANDS)),
                    [actual, plan], light(status(att))))
        # the heat map: exactly the light's own criterion holds, none on a blank cell
        for colour, criterion in builders.heat_criteria(a, BAND_CELLS).items():
            out.append((criterion.lstrip("="), [nothing(att)], status(att) == colour))
    out.append((builders.shortfall(a), [0.95], compare_round(1 - 0.95)))
    # attainment, variance, ratios
    for actual, target in [(95, 100), (None, 100), (50, 0), (-10, 40)]:
        out.append((builders.attainment(a, b), [actual, target],
                    nothing(attainment(actual, target))))
        out.append((builders.variance(a, b), [actual, target],
                    None if actual is None else variance(actual, target)))
    out.append((builders.ratio(a, b), [3, 4], 0.75))
    out.append((builders.ratio(a, b), [3, 0], None))
    out.append((builders.sum_if_any("A{r}:C{r}"), [None, None, None], None))
    out.append((builders.sum_if_any("A{r}:C{r}"), [1.5, None, 2], 3.5))
    # KPIs: direction in a cell, the score's ramp and its step when floor = target
    for actual, target, floor, direction in [(110, 100, 200, "lower"), (90, 100, 0, "higher"),
                                             (None, 100, 0, "higher"), (5, 0, 0, "higher"),
                                             (100, 100, 100, "higher"), (99, 100, 100, "higher"),
                                             (101, 100, 100, "lower"), (150, 100, 200, "lower")]:
        inputs = [actual, target, floor, direction]
        out.append((builders.kpi_attainment(a, b, d), inputs,
                    nothing(attainment(actual, target, direction))))
        out.append((builders.kpi_score(a, b, c, d), inputs,
                    nothing(kpi_score(actual, target, floor, direction))))
    # BSC: a day coloured by its light against the day target (nothing on a blank or a 0)
    for actual, target, direction in [(95, 100, "higher"), (84.99, 100, "higher"),
                                      (110, 100, "lower"), (None, 100, "higher"),
                                      (5, 0, "higher")]:
        att = attainment(actual, target, direction)
        for colour, criterion in builders.kpi_heat_criteria(a, b, c, BAND_CELLS).items():
            out.append((criterion.lstrip("="), [actual, target, direction],
                        status(att) == colour))
    # BSC month- and year-to-date by aggregate: last of 10, 12, blank, 11 is 11
    days = [10, 12, None, 11, None]
    out.append((builders.last_filled("A{r}:E{r}"), days, month_actual("last", days, None)))
    out.append((builders.last_filled("A{r}:E{r}"), [None] * 5, None))
    two = ["A{r}:B{r}", "C{r}:D{r}"]  # two months' days
    for rule, values in [("sum", [100, 50, 25, None]), ("average", [100, 300, None, 50]),
                         ("sum", [None] * 4)]:
        out.append((builders.kpi_aggregate(rule, two), values, year_actual(rule, values)))
    for this, earlier in [(None, 11), (9, 11), (None, None)]:
        out.append((builders.last_so_far(a, b), [this, earlier],
                    year_actual("last", [earlier, this])))
    out.append((builders.last_so_far(a, None), [None], None))
    out.append((builders.number_or_blank(a), [5], 5))
    out.append((builders.number_or_blank(a), ["x"], None))
    # tie checks to the cent
    out.append((builders.tie_check(a, b, 2), [100.004, 100], "✓"))
    out.append((builders.tie_check(a, b, 2), [100.006, 100], "✗"))
    out.append((builders.tie_check(a, b, 2, builders.quoted('say "ok"'),
                                   builders.quoted("no")), [1, 1], 'say "ok"'))
    # budget: deviation and flags (exactly 5% over a 5% tolerance is within), ROI freeze
    for spend, budget in [(105, 100), (105.01, 100), (95, 100), (94.99, 100), (5, 0), (-5, 0),
                          (0, 0)]:
        check = budget_check(round(spend * 100), round(budget * 100), 0.05)
        out.append((builders.deviation(a, b), [spend, budget], nothing(check.deviation)))
        out.append((builders.budget_flag(a, b, "C{r}"), [spend, budget, 0.05], check.flag))
        out.append((builders.budget_flag_of(builders.deviation(a, b), a, "C{r}"),
                    [spend, budget, 0.05], check.flag))
    out.append((builders.deviation(a, b, blank_spend=True), [None, 100], None))
    out.append((builders.budget_flag(a, b, "C{r}"), [None, 100, 0.05], None))
    for roi in (1.5, 1.4999, None):
        word = "FROZEN" if roi is not None and compare_round(roi) < 1.5 else None
        out.append((builders.frozen(a, b, "FROZEN"), [roi, 1.5], word))
    # OKR: progress clipped, no reading is 0, target = start has none; weighted objective
    for start, target, current in [(0, 100, 40), (10, 5, 7), (0, 100, 150), (0, 100, None),
                                   (5, 5, 5)]:
        out.append((builders.kr_progress(a, b, c), [start, target, current],
                    nothing(kr_progress(start, target, current))))
    out.append((builders.objective_progress("A{r}:C{r}", "D{r}:F{r}"), [0.5, None, 1.0, 2, 5, 1],
                weighted_mean([0.5, 1.0], [2, 1])))
    out.append((builders.objective_progress("A{r}:C{r}", "D{r}:F{r}"), [0.2, 0.4, None, 0, 0, 0],
                excel_round(0.3, 12)))
    return out


def write_cases(path: Path, all_cases: list[Case]) -> dict[str, Any]:
    """The sheet of cases; returns cell → the engine's answer."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(SHEET)
    for col, key in enumerate(("yellow", "orange", "red"), start=1):
        ws.write_number(0, col, getattr(BANDS, key))
    expected = {}
    for i, (formula, inputs, answer) in enumerate(all_cases):
        r = FIRST + i
        for col, value in enumerate(inputs):
            if isinstance(value, str):
                ws.write_string(r, col, value)
            elif value is not None:
                ws.write_number(r, col, value)
        cell = ref(r, OUT)
        ws.write_formula(r, OUT, "=" + formula.replace("{r}", str(r + 1)), None, "?")
        expected[cell] = answer
    book.close()
    return expected


def same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return bool(got) == want and isinstance(got, bool | int)
    if isinstance(want, float | int) and isinstance(got, float | int):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    return got == want


def wrong(values: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    return [f"{cell}: sheet {values.get(cell)!r}, engine {want!r}"
            for cell, want in expected.items() if not same(values.get(cell), want)]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("formulas") / "cases.xlsx"
    return path, write_cases(path, cases())


def test_each_builder_gives_the_engine_answer_in_the_formulas_package(
        sheet: tuple[Path, dict[str, Any]]) -> None:
    path, expected = sheet
    result = recalc(path)
    values = {cell: v for (s, cell), v in result.values.items() if s == SHEET}
    assert len(values) == len(expected) > 100
    assert not wrong(values, expected)


@pytest.mark.libreoffice
def test_each_builder_gives_the_engine_answer_in_libreoffice(
        sheet: tuple[Path, dict[str, Any]], office: LibreOffice, tmp_path: Path) -> None:
    path, expected = sheet
    out = office.recalculate([path], tmp_path)[path]
    values = read_values(out)[SHEET]
    values = {cell: (None if values.get(cell) == "" else values.get(cell)) for cell in expected}
    assert not wrong(values, expected)


def test_a_wrong_answer_is_caught(sheet: tuple[Path, dict[str, Any]]) -> None:
    """The comparison can fail: one engine answer changed is reported."""
    path, expected = sheet
    values = {cell: v for (s, cell), v in recalc(path).values.items() if s == SHEET}
    cell = next(c for c, v in expected.items() if v == "G")
    assert wrong(values, {**expected, cell: "Y"}) == [f"{cell}: sheet 'G', engine 'Y'"]
