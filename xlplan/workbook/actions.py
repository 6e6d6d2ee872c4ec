"""The Actions sheet: the battle map (作战地图) of key tasks per lever, as a timeline.

Step 3 of the method: every lever gets its key tasks, each with an owner, start
and end, budget and milestones. The plan's actions are locked rows in every
workbook; a unit workbook adds empty input rows where the manager lists their
own key tasks (lever from a drop-down, dates inside the fiscal year, budget ≥ 0).

The month columns draw a Gantt band by conditional formatting (a month is
coloured when it overlaps the row's start–end), so a manager's own tasks appear
on the timeline as they type them. Budgets roll up by lever with SUMIF, because
budgets are built from the actions (zero-based): a lever with an increment and
no budget, or budget with no lever, shows at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xlsxwriter.utility import xl_rowcol_to_cell

from xlplan.engine.phasing import fiscal_months
from xlplan.engine.rounding import excel_round, to_minor
from xlplan.i18n import data, msg
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.commitments import excel_sum, number
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import AMOUNT, TEXT, InputRule
from xlplan.workbook.layout import amounts_in, decimals, fit_row
from xlplan.workbook.scope import Scope

SHEET = msg("Actions")
UNIT_ROWS = 8
HEADERS: list[str] = [msg("Id"), msg("Lever"), msg("Task"), msg("Owner"), msg("Start"),
                      msg("End"), msg("Budget"), msg("Milestones"), msg("Check")]
COL = {name: i for i, name in enumerate(HEADERS)}
FIRST_MONTH_COL = len(HEADERS)
WIDTHS: dict[int, float] = {0: 10, 1: 8, 2: 42, 3: 14, 4: 11, 5: 11, 6: 15, 7: 40, 8: 22}
BAND = "#5B9BD5"
END_BEFORE_START = "ends before it starts"
NO_LEVER = "budget without a lever"


@dataclass(frozen=True)
class Row:
    """What one action row holds, as the spreadsheet sees it (for the expected values)."""

    lever: str
    start: dt.date | None
    end: dt.date | None
    budget: float


def fiscal_year_span(ctx: BuildContext) -> list[tuple[dt.date, dt.date]]:
    """First and last day of each fiscal month."""
    out = []
    for year, month in fiscal_months(ctx.plan.fiscal_year, ctx.plan.first_month):
        start = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        out.append((start, following - dt.timedelta(days=1)))
    return out


def _check_value(row: Row) -> str:
    if row.start is not None and row.end is not None and row.end < row.start:
        return END_BEFORE_START
    if row.budget > 0 and not row.lever:
        return NO_LEVER
    return ""


def _check_formula(r: int) -> str:
    start, end, budget, lever = (ref(r, COL[k]) for k in ("Start", "End", "Budget", "Lever"))
    return (f'IF(AND(ISNUMBER({start}),ISNUMBER({end}),{end}<{start}),"{END_BEFORE_START}",'
            f'IF(AND(N({budget})>0,{lever}=""),"{NO_LEVER}",""))')


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def write_actions(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The plan's actions (locked), the unit's own (inputs), a Gantt band, budgets by lever."""
    s = book.sheet(SHEET)
    plan = ctx.plan
    months = fiscal_year_span(ctx)
    fy_start, fy_end = months[0][0], months[-1][1]
    who = msg("all units") if scope.is_master else data(scope.unit)
    s.label(0, 0, msg("{plan}: battle map, {who}", plan=data(plan.name), who=who),
            "title")
    currency = amounts_in(plan)
    s.label(1, 0, msg("Key tasks per lever with owner, dates, budget ({currency}) and "
                      "milestones; the band shows when each runs. ", currency=currency)
            if scope.is_master else
            msg("Key tasks per lever with owner, dates, budget ({currency}) and milestones; the "
                "band shows when each runs. Add your own key tasks in the yellow rows (dates "
                "from {start} to {end}).", currency=currency, start=data(fy_start),
                end=data(fy_end)), "subtitle")
    starts_row, ends_row, head = 3, 4, 5
    s.label(starts_row, FIRST_MONTH_COL - 1, msg("Month starts"), "subtitle")
    s.label(ends_row, FIRST_MONTH_COL - 1, msg("Month ends"), "subtitle")
    for m, (start, end) in enumerate(months):
        s.given(starts_row, FIRST_MONTH_COL + m, start, "date_calc")
        s.given(ends_row, FIRST_MONTH_COL + m, end, "date_calc")
    for c, text in enumerate([*HEADERS, *ctx.month_labels]):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)

    rows: list[Row] = []
    r = head + 1
    for action in plan.actions:
        budget = ctx.given_money(to_minor(action.budget, ctx.su))
        s.label(r, COL["Id"], data(action.id), "top")
        s.label(r, COL["Lever"], data(action.lever), "top")
        s.label(r, COL["Task"], data(action.task), "wrap")
        s.label(r, COL["Owner"], data(action.owner), "top")
        s.given(r, COL["Start"], action.start, "date_top")
        s.given(r, COL["End"], action.end, "date_top")
        s.given(r, COL["Budget"], budget, "money_top")
        milestones = " → ".join(action.milestones)
        s.label(r, COL["Milestones"], data(milestones), "wrap")
        fit_row(s, r, [(action.task, WIDTHS[COL["Task"]]),
                       (milestones, WIDTHS[COL["Milestones"]])])
        row = Row(action.lever, action.start, action.end, budget)
        s.formula(r, COL["Check"], _check_formula(r), _check_value(row), "status_top")
        rows.append(row)
        r += 1
    if not scope.is_master:
        lever_ids = tuple(lv.id for lv in plan.levers)
        lever_rule = (InputRule("list", None, choices=lever_ids, title=msg("Lever"),
                                message=msg("The growth lever this task delivers."))
                      if lever_ids else TEXT)
        date_rule = InputRule("date", None, start=fy_start, end=fy_end, title=msg("Date"),
                              message=msg("A date from {start} to {end}.",
                                          start=data(fy_start), end=data(fy_end)))
        for n in range(1, UNIT_ROWS + 1):
            key = f"action:{scope.unit}-{n}"
            s.label(r, COL["Id"], data(f"{scope.unit}-{n}"))
            s.input(r, COL["Lever"], None, lever_rule, item=f"{key}:lever", style="input_label")
            s.input(r, COL["Task"], None, TEXT, item=f"{key}:task", style="input_wrap")
            s.input(r, COL["Owner"], None, TEXT, item=f"{key}:owner", style="input_label")
            s.input(r, COL["Start"], None, date_rule, item=f"{key}:start", style="input_date")
            s.input(r, COL["End"], None, date_rule, item=f"{key}:end", style="input_date")
            s.input(r, COL["Budget"], None, AMOUNT, item=f"{key}:budget")
            s.input(r, COL["Milestones"], None, TEXT, item=f"{key}:milestones",
                    style="input_wrap")
            lever = s.filled(r, COL["Lever"])
            row = Row(str(lever) if lever not in (None, "") else "",
                      _as_date(s.filled(r, COL["Start"])), _as_date(s.filled(r, COL["End"])),
                      number(s.filled(r, COL["Budget"])))
            s.formula(r, COL["Check"], _check_formula(r), _check_value(row), "status")
            rows.append(row)
            r += 1
    first, last = head + 1, r - 1
    total = r
    s.label(total, 0, msg("Total"), "bold")
    budgets = [row.budget for row in rows]
    if rows:
        s.formula(total, COL["Budget"], f"SUM({ref(first, COL['Budget'])}:"
                                        f"{ref(last, COL['Budget'])})", excel_sum(budgets),
                  "money_bold")
        _gantt(book, s, first, last, starts_row, ends_row)
        check = xl_rowcol_to_cell(first, COL["Check"])
        s.ws.conditional_format(first, COL["Check"], last, COL["Check"], {
            "type": "formula", "criteria": f'=LEN({check})>0',
            "format": book.wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})})
    else:
        s.given(total, COL["Budget"], 0, "money_bold")
    _by_lever(s, ctx, total + 2, rows, (first, last), ref(total, COL["Budget"]))

    s.widths({**WIDTHS, **{FIRST_MONTH_COL + m: 10 for m in range(12)}})
    s.ws.freeze_panes(head + 1, 3)
    s.ws.repeat_rows(head)


def _gantt(book: Book, s: Sheet, first: int, last: int, starts_row: int, ends_row: int) -> None:
    """Colour the months each row's start–end overlaps (formula-based conditional format)."""
    start = xl_rowcol_to_cell(first, COL["Start"], col_abs=True)
    end = xl_rowcol_to_cell(first, COL["End"], col_abs=True)
    month_start = xl_rowcol_to_cell(starts_row, FIRST_MONTH_COL, row_abs=True)
    month_end = xl_rowcol_to_cell(ends_row, FIRST_MONTH_COL, row_abs=True)
    months = (first, FIRST_MONTH_COL, last, FIRST_MONTH_COL + 11)
    s.ws.conditional_format(*months, {
        "type": "formula",
        "criteria": f"=AND(ISNUMBER({start}),ISNUMBER({end}),{start}<={month_end},"
                    f"{end}>={month_start})",
        "format": book.wb.add_format({"bg_color": BAND, "font_color": "#FFFFFF"})})
    # a light grid, so the timeline reads as a chart rather than as empty cells
    s.ws.conditional_format(*months, {
        "type": "formula", "criteria": "=TRUE",
        "format": book.wb.add_format({"border": 1, "border_color": "#D9D9D9"})})


def _by_lever(s: Sheet, ctx: BuildContext, row: int, rows: list[Row], span: tuple[int, int],
              total_ref: str) -> None:
    """Budget and number of tasks per lever (SUMIF/COUNTIF over the action rows)."""
    first, last = span
    s.label(row, 0, msg("Budget by lever"), "bold")
    head = row + 1
    for c, text in enumerate([msg("Lever"), data(""), msg("Name"), msg("Owner"), msg("Tasks"),
                              data(""), msg("Budget"), msg("Lever increment"),
                              msg("Budget ÷ increment")]):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)
    lever_range = f"{ref(first, COL['Lever'], True)}:{ref(last, COL['Lever'], True)}"
    budget_range = f"{ref(first, COL['Budget'], True)}:{ref(last, COL['Budget'], True)}"
    r = head + 1
    lever_budgets: list[float] = []
    for lever in ctx.plan.levers:
        mine = [row for row in rows if row.lever.casefold() == lever.id.casefold()]
        budget = excel_sum([row.budget for row in mine])
        lever_budgets.append(budget)
        amount = ctx.given_money(to_minor(lever.amount, ctx.su))
        s.label(r, 0, data(lever.id), "top")
        s.label(r, 2, data(lever.name), "wrap")
        fit_row(s, r, [(lever.name, WIDTHS[2])])
        s.label(r, 3, data(lever.owner), "top")
        if rows:
            s.formula(r, 4, f"COUNTIF({lever_range},{ref(r, 0)})", len(mine), "integer")
            s.formula(r, 6, f"SUMIF({lever_range},{ref(r, 0)},{budget_range})", budget, "money")
        else:
            s.given(r, 4, 0, "integer")
            s.given(r, 6, 0, "money")
        s.given(r, 7, amount, "money")
        s.formula(r, 8, formulas.ratio(ref(r, 6), ref(r, 7)),
                  budget / amount if amount else "", "ratio")
        r += 1
    s.label(r, 0, msg("Not assigned to a lever"))
    if ctx.plan.levers:
        # rounded to the smallest unit: a difference of sums is otherwise 1e-11 of noise
        digits = decimals(ctx.su)
        rest = excel_sum([row.budget for row in rows]) - excel_sum(lever_budgets)
        s.formula(r, 6, f"ROUND({total_ref}-SUM({ref(head + 1, 6)}:{ref(r - 1, 6)}),{digits})",
                  excel_round(rest, digits), "money")
    else:
        s.formula(r, 6, total_ref, excel_sum([row.budget for row in rows]), "money")
