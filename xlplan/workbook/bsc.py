"""The BSC daily report (BSC数据日报表): per KPI, each day's actual beside its target, for
every day of the fiscal year.

One block per fiscal month, stacked down the sheet (January's block, then February's…).
A block has one row per KPI of the scorecard with its definition (perspective, unit,
direction, weight, how its month is formed, target, floor), the day target, the
month-to-date actual with its direction-aware attainment, G/Y/O/R light and 0–10 score,
the year-to-date target, actual, attainment and light, then one input per day of the
month (a single month value for weekly and monthly KPIs). Each day input is coloured by
its light against the day target. Below each block: that month's perspective scores and
the total. Every derived cell is the formula of :mod:`xlplan.engine.variance` /
:mod:`xlplan.engine.bsc`, built by :mod:`xlplan.workbook.formulas`, so the sheet scores
exactly as the engine does.

Why blocks of a month rather than a row per day: a manager fills one month at a time and
finds it by its title; a month's days stay in one row per KPI, so month-to-date is one
range and a printed page is one month; the KPI rows of every block are the same, so a
consolidation reads every block by the same (item, period) keys of the manifest.

How a KPI's days make its month and its year is its ``aggregate`` (sum: a flow; average:
a level; last: a stock; :func:`~xlplan.engine.bsc.day_rule`, which falls back to a default
from the unit only when the plan sets none). Year to date runs over every day (or month
value) reported since the first fiscal month: ``SUM``/``AVERAGE`` over the blocks' ranges,
``last`` the latest value reported. A flow's day target is its month target over the
month's days, its year-to-date target the month target times the months so far; a level's
and a stock's targets stay the same (:func:`~xlplan.engine.bsc.day_target`,
:func:`~xlplan.engine.bsc.year_target`). An empty month shows blanks, not ``#DIV/0!``:
every formula is guarded, as the engine's NaN is the sheet's ``""``.

Master: the same blocks, read-only (the company's KPI definitions and targets; actuals
come from the units, so its scores stay blank).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from xlplan.engine.bsc import (
    BscResult,
    DayRule,
    Rule,
    bsc_scores,
    day_rule,
    day_target,
    default_floor,
    is_money,
    kpi_score,
    month_actual,
    mtd_rule,
    year_actual,
    year_target,
)
from xlplan.engine.phasing import fiscal_months
from xlplan.engine.variance import attainment, status
from xlplan.i18n import Msg, data, month_label, msg
from xlplan.spec.models import Kpi, Perspective, StatusBands
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, Value, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.highlights import add_data_bar, add_status_colours
from xlplan.workbook.input_rules import InputRule
from xlplan.workbook.scope import Scope
from xlplan.workbook.styles import BASE, STATUS_COLOURS

SHEET = msg("BSC")
Scored = dict[tuple[float | None, ...], BscResult]  # a month's scores by its KPIs' actuals

HEADERS: list[str] = [
    msg("Code"), msg("KPI"), msg("Perspective"), msg("Unit"), msg("Direction"), msg("Frequency"),
    msg("Weight"), msg("Month-to-date"), msg("Target"), msg("Floor (plan)"), msg("Floor used"),
    msg("Day target"), msg("MTD actual"), msg("Attainment"), msg("Status"), msg("Score (0-10)"),
    msg("YTD target"), msg("YTD actual"), msg("YTD attainment"), msg("YTD status"),
    msg("Month value")]
COL = {name: i for i, name in enumerate(HEADERS)}
FIRST_DAY = len(HEADERS)
LAST_DAY = FIRST_DAY + 30  # the 31st
BAND_WORDS = {"yellow": msg("yellow"), "orange": msg("orange"), "red": msg("red")}
WEEKDAYS = [msg("Mon"), msg("Tue"), msg("Wed"), msg("Thu"), msg("Fri"), msg("Sat"), msg("Sun")]
FIRST_BLOCK = 5  # the row of the first month's title
RULE_WORDS = {"month": msg("month value"), "sum": msg("sum of days"),
              "average": msg("average of days"), "last": msg("last day filled")}


def blank(value: float | None) -> float | str:
    """NaN/None (the engine's "no value") as the sheet's ``""``."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def kpi_values(kpi: Kpi, actual: float | None, bands: StatusBands) -> dict[str, float | str]:
    """Engine values of one KPI row: floor used, attainment, status, score."""
    floor = default_floor(kpi.target, kpi.direction) if kpi.floor is None else float(kpi.floor)
    att = attainment(actual, kpi.target, kpi.direction)
    return {"floor": floor, "attainment": blank(att), "status": status(att, bands),
            "score": blank(kpi_score(actual, kpi.target, floor, kpi.direction))}


def _kpi_prompt(k: Kpi, money: bool) -> Msg:
    """What a KPI's input cell says when selected."""
    fields = {"kpi": data(k.name), "unit": data(k.unit) if k.unit else msg("number"),
              "target": data(f"{k.target:g}")}
    if money:
        return msg("{kpi} ({unit}), target {target}: money, may be negative.", **fields)
    return msg("{kpi} ({unit}), target {target}.", **fields)


def kpi_rule(k: Kpi, money: bool) -> InputRule:
    """The validation of a KPI's actuals: a share (unit ``%``) from 0 to 100 % as typed in
    Excel (40 % is 0.4), money of any sign, any other measure ≥ 0; never above the KPI's
    ``maximum``."""
    if k.unit.strip() == "%":
        high = 1.0 if k.maximum is None else min(1.0, k.maximum)
        return InputRule("ratio", 0.0, high, title=data(k.code[:32]),
                         message=msg("{kpi}: a share from 0 % to {high} (type 40% or 0.4), "
                                     "target {target}.", kpi=data(k.name),
                                     high=data(f"{high:.0%}"), target=data(f"{k.target:.1%}")))
    return InputRule("number", None if money else 0.0, k.maximum, title=data(k.code[:32]),
                     message=_kpi_prompt(k, money))


@dataclass
class KpiYear:
    """What one KPI's year-to-date needs from the months before: the ranges (or month-value
    cells) its formula covers, the values typed there, and the last year-to-date cell."""

    kpi: Kpi
    rule: Rule  # how its month is formed: month value, sum, average, last
    year_rule: DayRule  # how its days (or months) make its year: sum, average, last
    money: bool
    input_rule: InputRule
    ranges: list[str] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    ytd_cell: str | None = None
    inputs: list[tuple[int, int, int, int]] = field(default_factory=list)  # to validate


def write_bsc(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The daily report, one block per fiscal month; inputs only in unit workbooks."""
    plan = ctx.plan
    s = book.sheet(SHEET)
    kpis = plan.bsc.kpis
    inputs = scope.unit is not None
    who = data(f"{ctx.tree.units[scope.unit].name} ({scope.unit})" if scope.unit
               else plan.name)
    s.label(0, 0, msg("BSC daily report: {who}, fiscal year {year}", who=who,
                      year=data(str(plan.fiscal_year))), "title")
    s.label(1, 0, msg("One block per month, in fiscal order. ‘Month-to-date’ says how a KPI's "
                      "days make its month (its aggregate: sum, average or last day filled); year "
                      "to date runs the same way over every day since the first fiscal month. A "
                      "summed KPI's day target is its month target ÷ the month's days, its YTD "
                      "target the month target × the months so far."), "subtitle")
    s.label(2, 0, msg("Type each day's actual in the yellow cells of its month (weekly and "
                      "monthly KPIs: one value in ‘Month value’); a day turns the colour of its "
                      "light against the day target. Attainment: actual ÷ target, or 2 − actual "
                      "÷ target when lower is better. Score: 0 at the floor, 10 at the target.")
            if inputs else
            msg("Read-only: the company's KPI definitions and targets; actuals come from the "
                "unit workbooks. Attainment: actual ÷ target, or 2 − actual ÷ target when "
                "lower is better. Score: 0 at the floor, 10 at the target."), "subtitle")
    bands = plan.status_bands
    s.label(3, 0, msg("Status bands: shortfall beyond"), "bold")
    band_ref: dict[str, str] = {}
    for i, key in enumerate(("yellow", "orange", "red")):
        s.label(3, 2 + 2 * i, BAND_WORDS[key], "bold")
        s.given(3, 3 + 2 * i, getattr(bands, key), "ratio")
        band_ref[key] = ref(3, 3 + 2 * i, absolute=True)
    s.label(3, 8, msg("(orange: intervene, red: stop the loss)"), "subtitle")
    cur, sym = plan.currency.code, plan.currency.symbol
    year_of = []
    for k in kpis:
        money = is_money(k, cur, sym)
        year_of.append(KpiYear(k, mtd_rule(k, cur, sym), day_rule(k, cur, sym), money,
                               kpi_rule(k, money)))
    top = FIRST_BLOCK
    kpi_rows: list[int] = []
    scored: Scored = {}
    for index, (year, month) in enumerate(fiscal_months(plan.fiscal_year, plan.first_month)):
        rows, top = _write_month(book, ctx, year_of, index, year, month, top, band_ref, inputs,
                                 scored)
        kpi_rows += rows
    for ky in year_of:  # one validation per KPI over every month's inputs
        s.validate(ky.inputs, ky.input_rule)
    if kpi_rows:
        _shade_no_input(book, s, top, inputs)
        for name in ("Status", "YTD status"):
            add_status_colours(book, SHEET, ref(FIRST_BLOCK, COL[name]), ref(top, COL[name]))
        add_data_bar(s, FIRST_BLOCK, COL["Score (0-10)"], top, 10)
        d, t = ref(FIRST_BLOCK, COL["Direction"]), ref(FIRST_BLOCK, COL["Day target"])
        heat = formulas.kpi_heat_criteria(ref(FIRST_BLOCK, FIRST_DAY), "$" + t, "$" + d,
                                          band_ref)
        for light, criterion in heat.items():
            s.ws.conditional_format(FIRST_BLOCK, FIRST_DAY, top, LAST_DAY, {
                "type": "formula", "criteria": criterion,
                "format": book.wb.add_format({"bg_color": STATUS_COLOURS[light]})})
    s.widths({0: 18, 1: 30, 2: 11, 3: 7, 4: 9, 5: 9, 6: 7, 7: 14, 8: 12, 9: 11, 10: 11,
              11: 11, 12: 13, 13: 11, 14: 7, 15: 9, 16: 12, 17: 13, 18: 11, 19: 7, 20: 12,
              **{c: 7 for c in range(FIRST_DAY, LAST_DAY + 1)}})
    s.ws.freeze_panes(0, 2)  # code and KPI stay in view; each block has its own header


def _shade_no_input(book: Book, s: Sheet, last: int, inputs: bool) -> None:
    """Grey the day cells of KPI rows that take no day values (weekly and monthly KPIs; every
    KPI in the master), as a conditional format rather than thousands of blank cells, which
    would make each unit workbook slower to write, to read and to check. A KPI row is a row
    with a number in the Target column; the frequency is plan data, the same in any
    language."""
    target = "$" + ref(FIRST_BLOCK, COL["Target"])
    frequency = "$" + ref(FIRST_BLOCK, COL["Frequency"])
    criterion = (f'=AND(ISNUMBER({target}),{frequency}<>"daily")' if inputs
                 else f"=ISNUMBER({target})")
    s.ws.conditional_format(FIRST_BLOCK, FIRST_DAY, last, LAST_DAY, {
        "type": "formula", "criteria": criterion,
        "format": book.wb.add_format(BASE["na"])})


def _write_month(book: Book, ctx: BuildContext, year_of: Sequence[KpiYear], index: int,
                 year: int, month: int, top: int, band_ref: Mapping[str, str],
                 inputs: bool, scored: Scored) -> tuple[list[int], int]:
    """One month's block from row ``top``: its KPI rows and score rows. Returns the KPI rows
    and the row where the next block starts."""
    s = book.sheet(SHEET)
    plan = ctx.plan
    bands = plan.status_bands
    n_days = calendar.monthrange(year, month)[1]
    s.label(top, 0, month_label(year, month), "title")
    head = top + 1
    for c, text in enumerate(HEADERS):
        s.label(head, c, text, "header")
    for day in range(1, n_days + 1):
        weekday = WEEKDAYS[calendar.weekday(year, month, day)]
        s.label(head, FIRST_DAY + day - 1, msg("{day}\n{weekday}", day=day, weekday=weekday),
                "header")
    s.ws.set_row(head, 30)
    last_day = FIRST_DAY + n_days - 1
    rows = list(range(head + 1, head + 1 + len(year_of)))
    actuals: dict[str, float | None] = {}
    for r, ky in zip(rows, year_of, strict=True):
        k, rule = ky.kpi, ky.rule
        style = "money" if ky.money else "number"
        for key, text in (("Code", k.code), ("KPI", k.name), ("Perspective", k.perspective.value),
                          ("Unit", k.unit), ("Direction", k.direction.value),
                          ("Frequency", k.frequency), ("Month-to-date", RULE_WORDS[rule])):
            s.label(r, COL[key], text if isinstance(text, Msg) else data(text))
        s.given(r, COL["Target"], k.target, style)
        s.given(r, COL["Floor (plan)"], k.floor, style)
        s.given(r, COL["Weight"], k.weight, "factor")
        input_style = ("input_money" if ky.money else
                       "input_ratio" if ky.input_rule.kind == "ratio" else "input_number")
        daily = rule != "month"
        s.given(r, COL["Day target"], day_target(ky.year_rule, k.target, n_days) if daily
                else None, style if daily else "na")
        month_cell = ref(r, COL["Month value"])
        if inputs and not daily:
            s.input(r, COL["Month value"], None, ky.input_rule, item=f"bsc:{k.code}",
                    period=f"{year}-{month:02d}", style=input_style, validate=False)
            ky.inputs.append((r, COL["Month value"], r, COL["Month value"]))
        else:
            s.given(r, COL["Month value"], None, "na")
        if inputs and daily:  # other day cells stay empty, shaded by write_bsc
            for day in range(1, n_days + 1):
                s.input(r, FIRST_DAY + day - 1, None, ky.input_rule, item=f"bsc:{k.code}",
                        period=f"{year}-{month:02d}-{day:02d}", style=input_style,
                        validate=False)
            ky.inputs.append((r, FIRST_DAY, r, last_day))
        # what was typed (nothing in a new workbook; a submission's values when rebuilt)
        days = f"{ref(r, FIRST_DAY)}:{ref(r, last_day)}"
        if daily:
            typed = [s.filled(r, FIRST_DAY + i) for i in range(n_days)]
            mtd_formula = (formulas.last_filled(days) if rule == "last"
                           else formulas.kpi_aggregate(rule, [days]))
        else:
            typed = [s.filled(r, COL["Month value"])]
            mtd_formula = formulas.number_or_blank(month_cell)
        actual = month_actual(rule, typed, typed[0])
        actuals[k.code] = actual
        v = kpi_values(k, actual, bands)
        t, fp, d = (ref(r, COL[x]) for x in ("Target", "Floor (plan)", "Direction"))
        f = s.formula(r, COL["Floor used"], f'IF(ISNUMBER({fp}),{fp},IF({d}="lower",2*{t},0))',
                      v["floor"], style)
        a = s.formula(r, COL["MTD actual"], mtd_formula, blank(actual), style)
        att = s.formula(r, COL["Attainment"], formulas.kpi_attainment(a, t, d), v["attainment"],
                        "ratio")
        s.formula(r, COL["Status"], formulas.status_light(att, band_ref), v["status"], "status")
        s.formula(r, COL["Score (0-10)"], formulas.kpi_score(a, t, f, d), v["score"], "score")
        # year to date: every day (or month value) since the first fiscal month
        ky.ranges.append(days if daily else month_cell)
        ky.values += typed
        ytd = year_actual(ky.year_rule, ky.values)
        ytd_target = year_target(ky.year_rule, k.target, index + 1)
        s.given(r, COL["YTD target"], ytd_target, style)
        yt = ref(r, COL["YTD target"])
        ytd_formula = (formulas.last_so_far(a, ky.ytd_cell) if ky.year_rule == "last"
                       else formulas.kpi_aggregate(ky.year_rule, ky.ranges))
        y = s.formula(r, COL["YTD actual"], ytd_formula, blank(ytd), style)
        ky.ytd_cell = y
        y_att = attainment(ytd, ytd_target, k.direction)
        ya = s.formula(r, COL["YTD attainment"], formulas.kpi_attainment(y, yt, d),
                       blank(y_att), "ratio")
        s.formula(r, COL["YTD status"], formulas.status_light(ya, band_ref),
                  status(y_att, bands), "status")
    last = rows[-1] if rows else head
    return rows, _write_scores(book, year_of, actuals, rows, last + 2, scored)


def write_score_rows(s: Sheet, first: int, col: Callable[[str], str], kpis: Sequence[Kpi],
               result: BscResult) -> tuple[list[int], int, str]:
    """One row per perspective that has KPIs, then the total row, from ``first`` down, as
    formulas over the KPI table (``col(name)`` is the range of its column: Code, Perspective,
    Weight, Score (0-10)) with :func:`~xlplan.engine.bsc.bsc_scores`' values cached.

    Shared by the BSC sheet and the tracking board. Returns the perspective rows, the total
    row and the total score's cell.
    """
    p_rng, w_rng, s_rng = col("Perspective"), col("Weight"), col("Score (0-10)")
    by_name = {str(row["perspective"]): row for row in result.perspectives.to_dict("records")}
    r = first
    rows = []
    for p in Perspective:
        if p.value not in by_name:
            continue
        row = by_name[p.value]
        name = ref(r, 0)
        mask = f"({p_rng}={name})*ISNUMBER({s_rng})"
        s.label(r, 0, data(p.value))
        s.formula(r, 1, f"COUNTIF({p_rng},{name})", int(row["kpis"]), "integer")
        s.formula(r, 2, f"SUMPRODUCT({mask})", int(row["scored"]), "integer")
        w = s.formula(r, 3, f"SUMPRODUCT({mask},{w_rng})", float(row["weight"]), "factor")
        s.formula(r, 4, f'IFERROR(IF({w}=0,AVERAGEIFS({s_rng},{p_rng},{name}),'
                        f'SUMPRODUCT({mask},{w_rng},{s_rng})/{w}),"")',
                  blank(float(row["score"])), "score")
        rows.append(r)
        r += 1
    s.label(r, 0, msg("Total"), "bold")
    mask = f"ISNUMBER({s_rng})*1"  # not --ISNUMBER (the formulas package gets it wrong)
    s.formula(r, 1, f"COUNTA({col('Code')})", len(kpis), "integer")
    s.formula(r, 2, f"COUNT({s_rng})", len(kpis) - len(result.unscored), "integer")
    scored = [k for k in kpis if k.code not in result.unscored]
    w = s.formula(r, 3, f"SUMPRODUCT({mask},{w_rng})", math.fsum(k.weight for k in scored),
                  "factor")
    total = s.formula(r, 4, f'IFERROR(IF({w}=0,AVERAGE({s_rng}),'
                            f'SUMPRODUCT({mask},{w_rng},{s_rng})/{w}),"")',
                      blank(result.total), "score")
    return rows, r, total


def _write_scores(book: Book, year_of: Sequence[KpiYear], actuals: Mapping[str, float | None],
                  rows: list[int], top: int, scored: Scored) -> int:
    """A month's perspective scores and total: engine.bsc.bsc_scores over the KPIs scored
    that month (``scored`` keeps the results by actuals: the months with none yet, all of
    them in a template, share one). Returns the row where the next block starts."""
    s = book.sheet(SHEET)
    kpis = [ky.kpi for ky in year_of]
    key = tuple(actuals.get(k.code) for k in kpis)
    result = scored.get(key) or scored.setdefault(key, bsc_scores(kpis, actuals))
    for c, text in enumerate([msg("Perspective"), msg("KPIs"), msg("Scored"),
                              msg("Weight scored"), msg("Score (0-10)")]):
        s.label(top, c, text, "header")
    s.ws.set_row(top, 30)
    if not rows:
        s.label(top + 1, 0, msg("The plan has no KPIs."))
        return top + 3

    def col(name: str) -> str:
        return f"{ref(rows[0], COL[name], True)}:{ref(rows[-1], COL[name], True)}"

    _, r, _ = write_score_rows(s, top + 1, col, kpis, result)
    s.label(r + 1, 0, msg("Perspective and total scores average the scored KPIs by weight; a "
                          "KPI with no actual yet is left out, not counted as 0."), "subtitle")
    return r + 3
