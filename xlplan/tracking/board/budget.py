"""The Budget sheet: spend vs budget by line and month, deviation, ROI."""

from __future__ import annotations

import math

from xlplan.i18n import Msg, data, msg
from xlplan.tracking.actuals import num, whole
from xlplan.tracking.board.base import FLAG_WORDS, BoardWriter, fit_column
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import Sheet, ref
from xlplan.workbook.formulas import quoted
from xlplan.workbook.okr import nan_blank

BUDGET = msg("Budget")
# the rows of a line: budget, spend, deviation, flag, then with a return its ROI and freeze
ROW_WORDS = (msg("Budget"), msg("Spend"), msg("Deviation"), msg("Flag"), msg("Return"),
             msg("ROI to date"), msg("Frozen"))


def write_budget(w: BoardWriter, result: TrackResult) -> dict[str, tuple[str, float | str, str]]:
    """Spend vs budget by line and month (tracked lines), deviation, flag, ROI; a chart."""
    s = w.book.sheet(BUDGET)
    plan, sp = result.plan, result.spend
    s.label(0, 0, msg("Budget use: spend against budget by line and month ({currency})",
                      currency=w.amounts()), "title")
    s.print_setup()
    if plan.budget is None:
        s.label(1, 0, msg("The plan has no budget section."), "subtitle")
        return {}
    s.label(1, 0, msg("Months that have ended are checked: beyond the tolerance a root-cause "
                      "note is due within 48 hours; a line whose year-to-date ROI falls below "
                      "the floor is frozen. Year to date = the months that have ended."),
            "subtitle")
    s.label(2, 0, msg("Tolerance ±"))
    s.given(2, 1, plan.budget.tolerance, "ratio")
    s.label(2, 2, msg("ROI floor"))
    s.given(2, 3, plan.budget.roi_floor, "factor")
    tol, floor = ref(2, 1, True), ref(2, 3, True)
    head = 4
    headers = [msg("Budget line"), msg("Name"), data(""), *w.month_labels(), msg("Year to date"),
               msg("Annual budget")]
    for c, text in enumerate(headers):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)
    ytd_col, annual_col = 15, 16
    lines = {ln.key: ln for ln in sp.lines}
    months = sp.months
    closed_n = int(months[months["closed"]]["month"].max()) + 1 if len(months) and \
        months["closed"].any() else 0
    r = head + 1
    summary = []
    flags = w.flags()
    ytd = sp.ytd().set_index("line") if sp.tracked else None
    for key in sp.tracked:
        ln = lines[key]
        mine = months[months["line"] == key].set_index("month")
        s.label(r, 0, data(key), "bold")
        s.label(r, 1, data(ln.name))
        has_return = bool(mine["return"].ne(0).any())
        rows: dict[Msg, int] = {what: r + i for i, what in
                                enumerate(ROW_WORDS if has_return else ROW_WORDS[:4])}
        for what, row in rows.items():
            s.label(row, 2, what, "bold" if what in ("Budget", "Spend") else "label")
        for m in range(12):
            c = 3 + m
            s.given(r, c, w.money(int(ln.budget[m])), "money0")
            started = m in mine.index
            s.given(r + 1, c, w.money(whole(mine.loc[m, "spend"])) if started else None, "money0")
            b, sp_ = ref(r, c), ref(r + 1, c)
            closed = started and bool(mine.loc[m, "closed"])
            dev = num(mine.loc[m, "deviation"]) if closed else math.nan
            s.formula(r + 2, c, formulas.deviation(sp_, b, blank_spend=True) if closed else '""',
                      nan_blank(dev) if closed else "", "ratio")
            flag = flags[str(mine.loc[m, "flag"])] if closed else ""
            s.formula(r + 3, c, formulas.budget_flag(sp_, b, tol, flags) if closed else '""',
                      flag, "status")
            if has_return:
                s.given(r + 4, c, w.money(whole(mine.loc[m, "return"])) if started else None,
                        "money0")
                if closed:
                    spend_to = f"SUM({ref(r + 1, 3)}:{ref(r + 1, c)})"
                    ret_to = f"SUM({ref(r + 4, 3)}:{ref(r + 4, c)})"
                    roi = num(mine.loc[m, "roi"])
                    roi_cell = s.formula(r + 5, c, formulas.ratio(ret_to, spend_to),
                                         nan_blank(roi), "factor")
                    s.formula(r + 6, c, formulas.frozen(roi_cell, floor, flags["frozen"]),
                              flags["frozen"] if bool(mine.loc[m, "frozen"]) else "", "status")
                else:
                    s.formula(r + 5, c, '""', "", "factor")
                    s.formula(r + 6, c, '""', "", "status")
        # year to date (closed months)
        end = 3 + closed_n - 1
        assert ytd is not None
        y = ytd.loc[key]
        if closed_n:
            b_y = s.formula(r, ytd_col, f"SUM({ref(r, 3)}:{ref(r, end)})",
                            w.money(whole(y["budget"])), "money0_bold")
            s_y = s.formula(r + 1, ytd_col, f"SUM({ref(r + 1, 3)}:{ref(r + 1, end)})",
                            w.money(whole(y["spend"])), "money0_bold")
            s.formula(r + 2, ytd_col, formulas.deviation(s_y, b_y),
                      nan_blank(num(y["deviation"])), "ratio_bold")
            s.formula(r + 3, ytd_col, formulas.budget_flag(s_y, b_y, tol, flags),
                      flags[str(y["flag"])], "status")
            summary.append((r, r + 1))
        s.formula(r, annual_col, f"SUM({ref(r, 3)}:{ref(r, 14)})",
                  w.money(int(ln.budget.sum())), "money0")
        r += len(rows) + 1
    for_flags = (head + 1, r)
    for flag, colour in (("over", "#FFC7CE"), ("under", "#FFEB9C"), ("frozen", "#FFC7CE")):
        s.ws.conditional_format(for_flags[0], 3, for_flags[1], ytd_col, {
            "type": "cell", "criteria": "==", "value": quoted(flags[flag]),
            "format": w.book.wb.add_format({"bg_color": colour, "bold": True})})
    untracked = [ln for ln in sp.lines if ln.key not in sp.tracked]
    if untracked:
        s.label(r, 0, msg("Lines without spend yet (not checked): {lines}",
                          lines=data(", ".join(ln.key for ln in untracked))), "note")
        r += 1
    extra: dict[str, tuple[str, float | str, str]] = {}
    unit_rows = [(b, sp_) for (b, sp_), key in zip(summary, [k for k in sp.tracked], strict=False)
                 if lines[key].kind == "unit"]
    if unit_rows and ytd is not None:
        units = [k for k in sp.tracked if lines[k].kind == "unit"]
        sheet = w.book.quote(BUDGET)
        b_cells = ",".join(f"{sheet}{ref(b, ytd_col)}" for b, _ in unit_rows)
        s_cells = ",".join(f"{sheet}{ref(x, ytd_col)}" for _, x in unit_rows)
        extra[msg("Unit budgets to date")] = (f"SUM({b_cells})",
                                              w.money(int(ytd.loc[units, "budget"].sum())),
                                              "headline")
        extra[msg("Unit spend to date")] = (f"SUM({s_cells})",
                                       w.money(int(ytd.loc[units, "spend"].sum())), "headline")
    if summary:
        _budget_chart(w, s, summary, ytd_col, r + 1)
    s.widths({0: 14, 1: 30, **{c: 11 for c in range(3, 15)}, ytd_col: 13, annual_col: 13})
    fit_column(s, 2, [*ROW_WORDS, *FLAG_WORDS.values()], 11)
    s.ws.freeze_panes(head + 1, 3)
    return extra


def _budget_chart(w: BoardWriter, s: Sheet, rows: list[tuple[int, int]], col: int,
                  top: int) -> None:
    wb, sheet = w.book.wb, w.book.quote(BUDGET)
    chart = wb.add_chart({"type": "bar"})
    names = [f"{sheet}{ref(b, 0, True)}" for b, _ in rows]
    budgets = [f"{sheet}{ref(b, col, True)}" for b, _ in rows]
    spends = [f"{sheet}{ref(x, col, True)}" for _, x in rows]
    chart.add_series({"name": w.words(msg("Budget to date")), "categories": f"=({','.join(names)})",
                      "values": f"=({','.join(budgets)})", "fill": {"color": "#5B9BD5"},
                      "border": {"none": True}, "gap": 40})
    chart.add_series({"name": w.words(msg("Spend to date")), "categories": f"=({','.join(names)})",
                      "values": f"=({','.join(spends)})", "fill": {"color": "#ED7D31"},
                      "border": {"none": True}})
    largest = max(w.money(int(ln.budget.sum())) for ln in w.r.spend.lines)
    chart.set_title({"name": w.words(msg("Spend vs budget to date by line")),
                     "name_font": {"size": 11, "bold": True}})
    chart.set_y_axis({"reverse": True, "num_font": {"size": 8}})
    chart.set_x_axis({**w.money_axis(largest),
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 720, "height": max(300, 22 * len(rows) + 120)})
    s.ws.insert_chart(top, 1, chart, {"x_offset": 4, "y_offset": 4})
