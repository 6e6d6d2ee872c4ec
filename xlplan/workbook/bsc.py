"""The BSC daily report (BSC数据日报表): per KPI, the day's actuals beside the target.

One row per KPI of the scorecard with its definition (perspective, unit,
direction, target, floor, weight), then the month-to-date and year-to-date
actual, direction-aware attainment, the G/Y/O/R light and the 0–10 score, then
one input per day of the month (a single month value for weekly and monthly
KPIs). Below: perspective scores and the total. Every derived cell is the
formula of :mod:`xlplan.engine.variance` / :mod:`xlplan.engine.bsc`, so the
sheet scores exactly as the engine does.

A workbook carries one month block (the first fiscal month); finance issues a
new block each month, so a block never mixes two months' inputs. That is why
the year-to-date column equals month-to-date here.

Month-to-date of a daily KPI (:func:`~xlplan.engine.bsc.day_rule`): the KPI's
``aggregate`` says it: sum (a flow, SUM), average (a level, AVERAGE over the days
filled) or last (a stock: the last day filled). Unset, money adds up and anything
else is averaged; money "per" something (output per head per day) is averaged.
An empty month shows blanks, not ``#DIV/0!``: every formula is guarded, as the
engine's NaN is the sheet's ``""``.

Master: the same block, read-only (the company's KPI definitions and targets;
actuals come from the units, so its scores stay blank).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping, Sequence

from xlplan.engine.bsc import (
    BscResult,
    Rule,
    bsc_scores,
    default_floor,
    is_money,
    kpi_score,
    month_actual,
    mtd_rule,
)
from xlplan.engine.phasing import fiscal_months
from xlplan.engine.variance import attainment, status
from xlplan.i18n import Msg, data, month_label, msg
from xlplan.spec.models import Kpi, Perspective, StatusBands
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.highlights import add_data_bar, add_status_colours
from xlplan.workbook.input_rules import InputRule
from xlplan.workbook.scope import Scope

SHEET = msg("BSC")

HEADERS: list[str] = [
    msg("Code"), msg("KPI"), msg("Perspective"), msg("Unit"), msg("Direction"), msg("Frequency"),
    msg("Target"), msg("Floor (plan)"), msg("Floor used"), msg("Weight"), msg("Month-to-date"),
    msg("MTD actual"), msg("YTD actual"), msg("Attainment"), msg("Status"), msg("Score (0-10)"),
    msg("Month value")]
COL = {name: i for i, name in enumerate(HEADERS)}
FIRST_DAY = len(HEADERS)
BAND_WORDS = {"yellow": msg("yellow"), "orange": msg("orange"), "red": msg("red")}
WEEKDAYS = [msg("Mon"), msg("Tue"), msg("Wed"), msg("Thu"), msg("Fri"), msg("Sat"), msg("Sun")]


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


def _mtd_formula(rule: Rule, days: str, month: str) -> str:
    if rule == "month":
        return f'IF(ISNUMBER({month}),{month},"")'
    if rule == "last":  # the column of the last number (SUMPRODUCT makes MAX an array)
        first = days.partition(":")[0]
        return (f'IF(COUNT({days})=0,"",INDEX({days},1,SUMPRODUCT(MAX(ISNUMBER({days})*'
                f'COLUMN({days})))-COLUMN({first})+1))')
    fn = "SUM" if rule == "sum" else "AVERAGE"
    return f'IF(COUNT({days})=0,"",{fn}({days}))'


def write_bsc(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The daily report block of the first fiscal month; inputs only in unit workbooks."""
    plan = ctx.plan
    s = book.sheet(SHEET)
    kpis = plan.bsc.kpis
    year, month = fiscal_months(plan.fiscal_year, plan.first_month)[0]
    n_days = calendar.monthrange(year, month)[1]
    inputs = scope.unit is not None
    who = data(f"{ctx.tree.units[scope.unit].name} ({scope.unit})" if scope.unit
               else plan.name)
    s.label(0, 0, msg("BSC daily report: {who}, {month}", who=who,
                      month=month_label(year, month)), "title")
    s.label(1, 0, msg("One block per month: finance issues a new block each month, so YTD = MTD "
                      "in the first month. MTD of a daily KPI: money adds up over the days (sum), "
                      "rates, points, multiples and hours are averaged over the days filled."),
            "subtitle")
    s.label(2, 0, msg("Type each day's actual in the yellow cells (weekly and monthly KPIs: one "
                      "value in ‘Month value’). Attainment: actual ÷ target, or 2 − actual ÷ "
                      "target when lower is better. Score: 0 at the floor, 10 at the target.")
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
    head = 5
    for c, text in enumerate(HEADERS):
        s.label(head, c, text, "header")
    for day in range(1, n_days + 1):
        weekday = WEEKDAYS[calendar.weekday(year, month, day)]
        s.label(head, FIRST_DAY + day - 1, msg("{day}\n{weekday}", day=day, weekday=weekday),
                "header")
    last_day = FIRST_DAY + n_days - 1
    first = head + 1
    rows = list(range(first, first + len(kpis)))
    actuals: dict[str, float | None] = {}
    for r, k in zip(rows, kpis, strict=True):
        rule = mtd_rule(k, plan.currency.code, plan.currency.symbol)
        money = is_money(k, plan.currency.code, plan.currency.symbol)
        style = "money" if money else "number"
        for key, text in (("Code", k.code), ("KPI", k.name), ("Perspective", k.perspective.value),
                          ("Unit", k.unit), ("Direction", k.direction.value),
                          ("Frequency", k.frequency),
                          ("Month-to-date", {"month": msg("month value"),
                                             "sum": msg("sum of days"),
                                             "average": msg("average of days"),
                                             "last": msg("last day filled")}[rule])):
            s.label(r, COL[key], text if isinstance(text, Msg) else data(text))
        s.given(r, COL["Target"], k.target, style)
        s.given(r, COL["Floor (plan)"], k.floor, style)
        s.given(r, COL["Weight"], k.weight, "factor")
        rule_in = kpi_rule(k, money)
        input_style = ("input_money" if money else "input_ratio" if rule_in.kind == "ratio"
                       else "input_number")
        if inputs and rule == "month":
            s.input(r, COL["Month value"], None, rule_in, item=f"bsc:{k.code}",
                    period=f"{year}-{month:02d}", style=input_style)
        else:
            s.given(r, COL["Month value"], None, "na")
        for day in range(1, n_days + 1):
            c = FIRST_DAY + day - 1
            if inputs and rule != "month":
                s.input(r, c, None, rule_in, item=f"bsc:{k.code}",
                        period=f"{year}-{month:02d}-{day:02d}", style=input_style)
            else:
                s.given(r, c, None, "na")
        # what was typed (nothing in a new block; a submission's values when rebuilt with them)
        day_values = [s.filled(r, FIRST_DAY + i) for i in range(n_days)]
        actual = month_actual(rule, day_values, s.filled(r, COL["Month value"]))
        actuals[k.code] = actual
        v = kpi_values(k, actual, bands)
        t, fp, d = (ref(r, COL[x]) for x in ("Target", "Floor (plan)", "Direction"))
        f = s.formula(r, COL["Floor used"], f'IF(ISNUMBER({fp}),{fp},IF({d}="lower",2*{t},0))',
                      v["floor"], style)
        days = f"{ref(r, FIRST_DAY)}:{ref(r, last_day)}"
        month_cell = ref(r, COL["Month value"])
        a = s.formula(r, COL["MTD actual"], _mtd_formula(rule, days, month_cell), blank(actual),
                      style)
        s.formula(r, COL["YTD actual"], f'IF(ISNUMBER({a}),{a},"")', blank(actual), style)
        att = s.formula(r, COL["Attainment"], formulas.kpi_attainment(a, t, d), v["attainment"],
                        "ratio")
        s.formula(r, COL["Status"], formulas.status_light(att, band_ref), v["status"], "status")
        s.formula(r, COL["Score (0-10)"], formulas.kpi_score(a, t, f, d), v["score"], "score")
    last = rows[-1] if rows else first
    if rows:
        add_status_colours(book, SHEET, ref(first, COL["Status"]), ref(last, COL["Status"]))
        add_data_bar(s, first, COL["Score (0-10)"], last, 10)
    _write_scores(book, ctx, kpis, actuals, rows, last + 2)
    s.widths({0: 18, 1: 30, 2: 11, 3: 7, 4: 9, 5: 9, 6: 12, 7: 11, 8: 11, 9: 7, 10: 14,
              11: 13, 12: 13, 13: 11, 14: 7, 15: 9, 16: 12,
              **{c: 7 for c in range(FIRST_DAY, last_day + 1)}})
    s.ws.set_row(head, 30)
    s.ws.freeze_panes(head + 1, 2)


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


def _write_scores(book: Book, ctx: BuildContext, kpis: Sequence[Kpi],
                  actuals: Mapping[str, float | None], rows: list[int], top: int) -> None:
    """Perspective scores and the total: engine.bsc.bsc_scores over the scored KPIs."""
    s = book.sheet(SHEET)
    result = bsc_scores(kpis, actuals)
    for c, text in enumerate([msg("Perspective"), msg("KPIs"), msg("Scored"),
                              msg("Weight scored"), msg("Score (0-10)")]):
        s.label(top, c, text, "header")
    s.ws.set_row(top, 30)
    if not rows:
        s.label(top + 1, 0, msg("The plan has no KPIs."))
        return

    def col(name: str) -> str:
        return f"{ref(rows[0], COL[name], True)}:{ref(rows[-1], COL[name], True)}"

    _, r, _ = write_score_rows(s, top + 1, col, kpis, result)
    s.label(r + 1, 0, msg("Perspective and total scores average the scored KPIs by weight; a "
                          "KPI with no actual yet is left out, not counted as 0."), "subtitle")
