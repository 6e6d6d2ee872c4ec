"""The board's detail sheets: Warnings, Weeks, BSC, OKR and Budget.

Each sheet lays out numbers of the :class:`~xlplan.tracking.track.TrackResult`;
derived cells are formulas with the engine's value cached (see
:mod:`xlplan.tracking.board`). The status formulas read the bands on the Board
sheet, so a light means the same everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from xlplan.tracking.actuals import num, rows, whole
from xlplan.tracking.board import BoardWriter, Refs, add_styles
from xlplan.tracking.track import TrackResult
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.bsc import write_score_rows
from xlplan.workbook.commitments import add_status_colours
from xlplan.workbook.dashboard import axis_format
from xlplan.workbook.layout import fit_row
from xlplan.workbook.okr import nan_blank, progress_formula
from xlplan.workbook.styles import HEADER_FILL

WARNINGS, WEEKS, BSC, OKR, BUDGET = "Warnings", "Weeks", "BSC", "OKR", "Budget"
LEVEL_COLOURS = {"red": "#FFC7CE", "orange": "#F8CBAD", "yellow": "#FFEB9C"}
WARNING_HEADERS = ["#", "Level", "What", "Where", "Name", "Rule", "Rule that fired", "Since",
                   "Fired", "Until", "State", "Value", "At stake", "Decides", "Who decides",
                   "Periods"]
WIDTHS: dict[int, float] = {0: 4, 1: 8, 2: 52, 3: 12, 4: 18, 5: 17, 6: 30, 7: 11, 8: 11,
                            9: 11, 10: 7, 11: 8, 12: 12, 13: 8, 14: 24, 15: 7}
SCORE_COLOURS = ["#1F4E79", "#70AD47", "#FFC000", "#A5A5A5", "#5B9BD5"]


@dataclass
class Extra:
    """What the Board's headline needs from the other sheets."""

    warnings: tuple[str, str] = ("", "")  # the level and state columns of the Warnings sheet
    headline: dict[str, tuple[str, float | str, str]] = field(default_factory=dict)


# --------------------------------------------------------------------------- warnings


def write_warnings(book: Book, result: TrackResult) -> Extra:
    add_styles(book)
    s = book.sheet(WARNINGS)
    s.label(0, 0, f"Warnings as of {result.as_of.isoformat()}", "title")
    s.label(1, 0, "Each line is one episode of a rule at one place: since = start of its first "
                  "period, fired = the day the rule could first see it, until = end of its "
                  "last period; open = it still fires in the latest period. Who decides: a "
                  "regional manager up to the plan's share of the unit's reserve, above that "
                  "HQ.", "subtitle")
    head = 3
    for c, text in enumerate(WARNING_HEADERS):
        s.label(head, c, text, "header")
    su = result.plan.currency.smallest_unit
    for i, a in enumerate(result.alerts):
        r = head + 1 + i
        s.given(r, 0, i + 1, "integer_top")
        s.label(r, 1, a.level, "status_top")
        s.label(r, 2, a.what, "wrap_top")
        s.label(r, 3, a.where, "top")
        s.label(r, 4, a.where_name, "wrap_top")
        s.label(r, 5, a.rule, "top")
        s.label(r, 6, a.threshold, "wrap_top")
        s.given(r, 7, a.since, "date_top")
        s.given(r, 8, a.fired, "date_top")
        s.given(r, 9, a.until, "date_top")
        s.label(r, 10, "open" if a.open else "closed", "top")
        style = "ratio_top" if a.rule != "roi-freeze" else "top"
        s.given(r, 11, None if math.isnan(a.value) else a.value, style)
        s.given(r, 12, float(a.at_stake * su), "money_top")
        s.label(r, 13, a.decides, "top")
        s.label(r, 14, a.decider, "wrap_top")
        s.given(r, 15, a.periods, "integer_top")
        fit_row(s, r, [(a.what, WIDTHS[2]), (a.where_name, WIDTHS[4]), (a.threshold, WIDTHS[6]),
                       (a.decider, WIDTHS[14])])
    last = head + max(len(result.alerts), 1)
    if not result.alerts:
        s.label(head + 1, 2, "No warnings: every rule is within its threshold.", "note")
    for level, colour in LEVEL_COLOURS.items():
        s.ws.conditional_format(head + 1, 1, last, 1, {
            "type": "cell", "criteria": "==", "value": f'"{level}"',
            "format": book.wb.add_format({"bg_color": colour, "bold": True})})
    s.ws.autofilter(head, 0, last, len(WARNING_HEADERS) - 1)
    s.widths(WIDTHS)
    s.ws.freeze_panes(head + 1, 0)
    s.ws.set_landscape()
    s.ws.fit_to_pages(1, 0)
    first, end = head + 2, last + 1  # 1-based rows of the level column
    return Extra((f"{WARNINGS}!$B${first}:$B${end}", f"{WARNINGS}!$K${first}:$K${end}"))


# --------------------------------------------------------------------------- weeks


def write_weeks(w: BoardWriter, result: TrackResult) -> None:
    """Unit × ISO week: target, actual, attainment with the heat map (weeks that ended)."""
    book = w.book
    s = book.sheet(WEEKS)
    cmp = result.compare[result.compare["grain"] == "week"]
    labels = list(dict.fromkeys(cmp["label"]))
    s.label(0, 0, "Revenue by ISO week", "title")
    rule = result.plan.warnings
    s.label(1, 0, f"Weeks that have ended. The rule: {rule.consecutive_weeks} consecutive weeks "
                  f"more than {rule.weekly_under:.0%} under target → a review meeting.",
            "subtitle")
    if not labels:
        s.label(3, 0, "No complete week with daily actuals yet.", "note")
        return
    top = 3
    blocks = {}
    for name in ("Target", "Actual", "Attainment"):
        s.label(top, 0, name, "section")
        head = top + 1
        s.label(head, 0, "Unit", "header")
        for c, label in enumerate(labels):
            s.label(head, 1 + c, label, "header")
        blocks[name] = head
        top = head + len(w.units) + 2
    for i, u in enumerate(w.units):
        mine = cmp[cmp["unit"] == u].set_index("label")
        t_row, a_row, c_row = (blocks[n] + 1 + i for n in ("Target", "Actual", "Attainment"))
        for row in (t_row, a_row, c_row):
            s.label(row, 0, w.unit_label(u), "bold" if u == result.targets.root else "label")
        for c, label in enumerate(labels):
            rec = mine.loc[label]
            s.given(t_row, 1 + c, w.money(int(rec["target"])), "money0")
            actual = float(rec["actual"])
            s.given(a_row, 1 + c, None if math.isnan(actual) else w.money(actual), "money0")
            a, t = ref(a_row, 1 + c), ref(t_row, 1 + c)
            s.formula(c_row, 1 + c, f'IF({a}="","",IF({t}=0,"",{a}/{t}))',
                      float(rec["attainment"]), "ratio")
    first = blocks["Attainment"] + 1
    w.heat(s, first, 1, first + len(w.units) - 1, len(labels))
    s.widths({0: 24, **{c: 10 for c in range(1, len(labels) + 1)}})
    s.ws.freeze_panes(0, 1)
    s.ws.set_landscape()
    s.ws.fit_to_pages(1, 0)


# --------------------------------------------------------------------------- BSC


KPI_HEADERS = ["Code", "KPI", "Perspective", "Direction", "Unit", "Weight", "Target",
               "Floor used", "Latest month", "Year to date", "Attainment", "Status",
               "Score (0-10)"]


def write_bsc(w: BoardWriter, result: TrackResult) -> tuple[str, float | str]:
    """Company scorecard (YTD), perspective scores, unit × KPI heat map, month roll-up, chart.

    Returns the company total score cell and value for the headline."""
    book, plan = w.book, result.plan
    s = book.sheet(BSC)
    kpis = plan.bsc.kpis
    root = result.targets.root
    s.label(0, 0, "Balanced scorecard: the BSC daily report rolled up", "title")
    s.label(1, 0, "Year to date = the mean of the month values so far, against the monthly "
                  "target. Company = HQ's own reading, else the mean of the units that report. "
                  "Score: 0 at the floor, 10 at the target.", "subtitle")
    if not kpis:
        s.label(3, 0, "The plan has no KPIs.", "note")
        return "", ""
    head = 3
    col = {name: i for i, name in enumerate(KPI_HEADERS)}
    for c, text in enumerate(KPI_HEADERS):
        s.label(head, c, text, "header")
    ytd = result.cards.ytd[result.cards.ytd["unit"] == root].set_index("kpi")
    months = result.cards.months[result.cards.months["unit"] == root]
    scores = result.cards.scores[root].kpis.set_index("code")
    rows = []
    for i, k in enumerate(kpis):
        r = head + 1 + i
        rows.append(r)
        for key, text in (("Code", k.code), ("KPI", k.name), ("Perspective", k.perspective.value),
                          ("Direction", k.direction.value), ("Unit", k.unit)):
            s.label(r, col[key], text)
        s.given(r, col["Weight"], k.weight, "factor")
        s.given(r, col["Target"], k.target, "number")
        s.given(r, col["Floor used"], num(scores.loc[k.code, "floor"]), "number")
        mine = months[months["kpi"] == k.code]
        latest = mine["value"].dropna()
        s.given(r, col["Latest month"], float(latest.iloc[-1]) if len(latest) else None, "number")
        value = num(ytd.loc[k.code, "value"])
        s.given(r, col["Year to date"], None if math.isnan(value) else value, "number")
        a, t = ref(r, col["Year to date"]), ref(r, col["Target"])
        f, d = ref(r, col["Floor used"]), ref(r, col["Direction"])
        att = s.formula(r, col["Attainment"],
                        f'IF(ISNUMBER({a}),IF({t}=0,"",IF({d}="lower",2-{a}/{t},{a}/{t})),"")',
                        num(ytd.loc[k.code, "attainment"]), "ratio")
        s.formula(r, col["Status"], w.status(att), str(ytd.loc[k.code, "status"]), "status")
        s.formula(r, col["Score (0-10)"],
                  f'IF(ISNUMBER({a}),IF({t}={f},IF(IF({d}="lower",{a}<={t},{a}>={t}),10,0),'
                  f'10*MIN(1,MAX(0,({a}-{f})/({t}-{f})))),"")',
                  num(ytd.loc[k.code, "score"]), "score")
    first, last = rows[0], rows[-1]
    add_status_colours(book, BSC, ref(first, col["Status"]), ref(last, col["Status"]))
    # perspectives and the total (engine.bsc.bsc_scores)
    top = last + 2
    for c, text in enumerate(["Perspective", "KPIs", "Scored", "Weight scored", "Score (0-10)"]):
        s.label(top, c, text, "header")

    def rng(name: str) -> str:
        return f"{ref(first, col[name], True)}:{ref(last, col[name], True)}"

    card = result.cards.scores[root]
    score_rows, r, total = write_score_rows(s, top + 1, rng, kpis, card)
    total_cell = f"{BSC}!{total}"
    # unit × KPI heat map (year to date attainment)
    top = r + 2
    s.label(top, 0, "Status by unit × KPI (year-to-date attainment)", "section")
    head = top + 1
    s.label(head, 0, "Unit", "header")
    for c, k in enumerate(kpis):
        s.label(head, 1 + c, k.code, "header")
    s.label(head, 1 + len(kpis), "BSC score", "header")
    table = result.cards.ytd.set_index(["unit", "kpi"])
    for i, u in enumerate(w.units):
        r = head + 1 + i
        s.label(r, 0, w.unit_label(u), "bold" if u == root else "label")
        for c, k in enumerate(kpis):
            share = num(table.loc[(u, k.code), "attainment"])
            s.given(r, 1 + c, None if math.isnan(share) else share, "ratio")
        s.given(r, 1 + len(kpis), _none(result.cards.scores[u].total), "score")
    heat_first, heat_last = head + 1, head + len(w.units)
    w.heat(s, heat_first, 1, heat_last, len(kpis))
    # the daily report rolled up: company value of each KPI by month
    top = heat_last + 2
    s.label(top, 0, "Company KPI values by month (month-to-date for the running month)",
            "section")
    head = top + 1
    cal = result.calendar
    s.label(head, 0, "KPI", "header")
    for m in range(12):
        s.label(head, 1 + m, cal.month_label(m), "header")
    for i, k in enumerate(kpis):
        r = head + 1 + i
        s.label(r, 0, k.code)
        mine = months[months["kpi"] == k.code].set_index("month")
        for m in range(12):
            v = num(mine.loc[m, "value"]) if m in mine.index else math.nan
            s.given(r, 1 + m, None if math.isnan(v) else v, "number")
    _bsc_chart(w, s, heat_first, heat_last, len(kpis), score_rows)
    s.widths({0: 24, 1: 30, 2: 12, **{c: 12.5 for c in range(3, 16)}})
    s.ws.freeze_panes(4, 2)
    s.ws.set_landscape()
    s.ws.fit_to_pages(1, 0)
    return total_cell, nan_blank(card.total)


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _bsc_chart(w: BoardWriter, s: Sheet, first: int, last: int, n_kpis: int,
               score_rows: list[int]) -> None:
    wb = w.book.wb
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({"name": "BSC score (0-10)", "categories": [BSC, first, 0, last, 0],
                    "values": [BSC, first, 1 + n_kpis, last, 1 + n_kpis],
                    "fill": {"color": HEADER_FILL}, "border": {"none": True}, "gap": 50,
                    "data_labels": {"value": True, "num_format": "0.0", "font": {"size": 8}}})
    bar.set_title({"name": "BSC score by unit (year to date)",
                   "name_font": {"size": 11, "bold": True}})
    bar.set_legend({"none": True})
    bar.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 8}})
    bar.set_x_axis({"min": 0, "max": 10, "num_font": {"size": 8},
                    "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    bar.set_size({"width": 480, "height": 320})
    s.ws.insert_chart(3, 16, bar, {"x_offset": 12, "y_offset": 0})
    if score_rows:
        col = wb.add_chart({"type": "column"})
        col.add_series({"name": "Company score by perspective",
                        "categories": [BSC, score_rows[0], 0, score_rows[-1], 0],
                        "values": [BSC, score_rows[0], 4, score_rows[-1], 4],
                        "points": [{"fill": {"color": SCORE_COLOURS[i % len(SCORE_COLOURS)]}}
                                   for i in range(len(score_rows))],
                        "data_labels": {"value": True, "num_format": "0.0",
                                        "font": {"size": 8}}})
        col.set_title({"name": "Company BSC by perspective",
                       "name_font": {"size": 11, "bold": True}})
        col.set_legend({"none": True})
        col.set_y_axis({"min": 0, "max": 10, "num_font": {"size": 8}})
        col.set_size({"width": 480, "height": 300})
        s.ws.insert_chart(20, 16, col, {"x_offset": 12, "y_offset": 0})


# --------------------------------------------------------------------------- OKR


OKR_HEADERS = ["Objective", "Unit", "Key result", "Start", "Target", "Current", "From actuals",
               "Progress", "Time passed", "KR roll-up", "Objective progress", "Objective roll-up"]


def write_okr(w: BoardWriter, result: TrackResult) -> None:
    s = w.book.sheet(OKR)
    s.label(0, 0, f"OKR progress as of {result.as_of.isoformat()}", "title")
    s.label(1, 0, "Current = the latest reading imported for the KR (measure = KR id), else the "
                  "plan's. Progress = (current − start) ÷ (target − start), held to 0–100%; "
                  "time passed = share of the way from the fiscal start to the KR's due date.",
            "subtitle")
    head = 3
    for c, text in enumerate(OKR_HEADERS):
        s.label(head, c, text, "header")
    okr = result.okr
    for i, rec in enumerate(rows(okr)):
        r = head + 1 + i
        s.label(r, 0, str(rec.objective))
        s.label(r, 1, str(rec.unit) or result.targets.root)
        s.label(r, 2, str(rec.kr))
        s.given(r, 3, float(rec.start), "number")
        s.given(r, 4, float(rec.target), "number")
        s.given(r, 5, None if math.isnan(rec.current) else float(rec.current), "number")
        s.label(r, 6, "yes" if rec.reading else "no")
        start, target, current = ref(r, 3), ref(r, 4), ref(r, 5)
        s.formula(r, 7, progress_formula(start, target, current), nan_blank(float(rec.progress)),
                  "ratio")
        s.given(r, 8, float(rec.expected), "ratio")
        s.given(r, 9, _none(float(rec.kr_rollup)), "ratio")
        s.given(r, 10, _none(float(rec.objective_progress)), "ratio")
        s.given(r, 11, _none(float(rec.objective_rollup)), "ratio")
    last = head + max(len(okr), 1)
    if len(okr):
        s.ws.conditional_format(head + 1, 7, last, 7, {
            "type": "data_bar", "bar_color": "#9BC2E6", "min_type": "num", "min_value": 0,
            "max_type": "num", "max_value": 1})
        # behind schedule: progress more than the yellow band below the time passed
        band = w.refs.bands["yellow"]
        p, e = ref(head + 1, 7), ref(head + 1, 8)
        s.ws.conditional_format(head + 1, 7, last, 7, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({p}),{p}<{e}-{band})",
            "format": w.book.wb.add_format({"font_color": "#C00000", "bold": True})})
    s.widths({0: 10, 1: 10, 2: 10, 3: 12, 4: 12, 5: 12, 6: 8, 7: 10, 8: 10, 9: 10, 10: 12, 11: 12})
    s.ws.freeze_panes(head + 1, 3)


# --------------------------------------------------------------------------- budget


def write_budget(w: BoardWriter, result: TrackResult) -> dict[str, tuple[str, float | str, str]]:
    """Spend vs budget by line and month (tracked lines), deviation, flag, ROI; a chart."""
    s = w.book.sheet(BUDGET)
    plan, sp = result.plan, result.spend
    s.label(0, 0, "Budget use: spend against budget by line and month", "title")
    if plan.budget is None:
        s.label(1, 0, "The plan has no budget section.", "subtitle")
        return {}
    s.label(1, 0, "Months that have ended are checked: beyond the tolerance a root-cause note "
                  "is due within 48 hours; a line whose year-to-date ROI falls below the floor "
                  "is frozen. Year to date = the months that have ended.", "subtitle")
    s.label(2, 0, "Tolerance ±")
    s.given(2, 1, plan.budget.tolerance, "ratio")
    s.label(2, 2, "ROI floor")
    s.given(2, 3, plan.budget.roi_floor, "factor")
    tol, floor = ref(2, 1, True), ref(2, 3, True)
    head = 4
    cal = result.calendar
    headers = ["Line", "Name", "", *[cal.month_label(m) for m in range(12)], "Year to date",
               "Annual budget"]
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
    ytd = sp.ytd().set_index("line") if sp.tracked else None
    for key in sp.tracked:
        ln = lines[key]
        mine = months[months["line"] == key].set_index("month")
        s.label(r, 0, key, "bold")
        s.label(r, 1, ln.name)
        rows = {"Budget": r, "Spend": r + 1, "Deviation": r + 2, "Flag": r + 3}
        has_return = bool(mine["return"].ne(0).any())
        if has_return:
            rows |= {"Return": r + 4, "ROI to date": r + 5, "Frozen": r + 6}
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
            s.formula(r + 2, c, f'IF(OR({sp_}="",{b}=0),"",{sp_}/{b}-1)' if closed else '""',
                      nan_blank(dev) if closed else "", "ratio")
            flag = str(mine.loc[m, "flag"]) if closed else ""
            s.formula(r + 3, c, _flag_formula(sp_, b, tol) if closed else '""', flag, "status")
            if has_return:
                s.given(r + 4, c, w.money(whole(mine.loc[m, "return"])) if started else None,
                        "money0")
                if closed:
                    spend_to = f"SUM({ref(r + 1, 3)}:{ref(r + 1, c)})"
                    ret_to = f"SUM({ref(r + 4, 3)}:{ref(r + 4, c)})"
                    roi = num(mine.loc[m, "roi"])
                    roi_cell = s.formula(r + 5, c, f'IF({spend_to}=0,"",{ret_to}/{spend_to})',
                                         nan_blank(roi), "factor")
                    s.formula(r + 6, c, f'IF(ISNUMBER({roi_cell}),IF(ROUND({roi_cell},9)<{floor},'
                                        f'"frozen",""),"")',
                              "frozen" if bool(mine.loc[m, "frozen"]) else "", "status")
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
            s.formula(r + 2, ytd_col, f'IF({b_y}=0,"",{s_y}/{b_y}-1)',
                      nan_blank(num(y["deviation"])), "ratio_bold")
            s.formula(r + 3, ytd_col, _flag_formula(s_y, b_y, tol), str(y["flag"]), "status")
            summary.append((r, r + 1))
        s.formula(r, annual_col, f"SUM({ref(r, 3)}:{ref(r, 14)})",
                  w.money(int(ln.budget.sum())), "money0")
        r += len(rows) + 1
    for_flags = (head + 1, r)
    for flag, colour in (("over", "#FFC7CE"), ("under", "#FFEB9C"), ("frozen", "#FFC7CE")):
        s.ws.conditional_format(for_flags[0], 3, for_flags[1], ytd_col, {
            "type": "cell", "criteria": "==", "value": f'"{flag}"',
            "format": w.book.wb.add_format({"bg_color": colour, "bold": True})})
    untracked = [ln for ln in sp.lines if ln.key not in sp.tracked]
    if untracked:
        s.label(r, 0, "Lines without spend yet (not checked): " +
                ", ".join(ln.key for ln in untracked), "note")
        r += 1
    extra: dict[str, tuple[str, float | str, str]] = {}
    unit_rows = [(b, sp_) for (b, sp_), key in zip(summary, [k for k in sp.tracked], strict=False)
                 if lines[key].kind == "unit"]
    if unit_rows and ytd is not None:
        units = [k for k in sp.tracked if lines[k].kind == "unit"]
        b_cells = ",".join(f"{BUDGET}!{ref(b, ytd_col)}" for b, _ in unit_rows)
        s_cells = ",".join(f"{BUDGET}!{ref(x, ytd_col)}" for _, x in unit_rows)
        extra["Unit budgets to date"] = (f"SUM({b_cells})",
                                         w.money(int(ytd.loc[units, "budget"].sum())),
                                         "headline")
        extra["Unit spend to date"] = (f"SUM({s_cells})",
                                       w.money(int(ytd.loc[units, "spend"].sum())), "headline")
    if summary:
        _budget_chart(w, s, summary, ytd_col, r + 1)
    s.widths({0: 14, 1: 30, 2: 11, **{c: 11 for c in range(3, 15)}, ytd_col: 13,
              annual_col: 13})
    s.ws.freeze_panes(head + 1, 3)
    s.ws.set_landscape()
    s.ws.fit_to_pages(1, 0)
    return extra


def _flag_formula(spend: str, budget: str, tol: str) -> str:
    """engine.variance.budget_check's flag on cells."""
    dev = f"ROUND({spend}/{budget}-1,9)"
    return (f'IF({spend}="","",IF({budget}=0,IF({spend}>0,"over",IF({spend}<0,"under","within")),'
            f'IF({dev}>{tol},"over",IF({dev}<-{tol},"under","within"))))')


def _budget_chart(w: BoardWriter, s: Sheet, rows: list[tuple[int, int]], col: int,
                  top: int) -> None:
    wb = w.book.wb
    chart = wb.add_chart({"type": "bar"})
    names = [f"{BUDGET}!{ref(b, 0, True)}" for b, _ in rows]
    budgets = [f"{BUDGET}!{ref(b, col, True)}" for b, _ in rows]
    spends = [f"{BUDGET}!{ref(x, col, True)}" for _, x in rows]
    chart.add_series({"name": "Budget to date", "categories": f"=({','.join(names)})",
                      "values": f"=({','.join(budgets)})", "fill": {"color": "#5B9BD5"},
                      "border": {"none": True}, "gap": 40})
    chart.add_series({"name": "Spend to date", "categories": f"=({','.join(names)})",
                      "values": f"=({','.join(spends)})", "fill": {"color": "#ED7D31"},
                      "border": {"none": True}})
    largest = max(float(np.max(ln.budget.sum())) for ln in w.r.spend.lines) * float(w.su)
    chart.set_title({"name": "Spend vs budget to date by line",
                     "name_font": {"size": 11, "bold": True}})
    chart.set_y_axis({"reverse": True, "num_font": {"size": 8}})
    chart.set_x_axis({"num_format": axis_format(largest), "num_font": {"size": 8},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 720, "height": max(300, 22 * len(rows) + 120)})
    s.ws.insert_chart(top, 1, chart, {"x_offset": 4, "y_offset": 4})


# --------------------------------------------------------------------------- all


def write_other_sheets(book: Book, result: TrackResult, refs: Refs) -> Extra:
    """Warnings, Weeks, BSC, OKR and Budget; what the Board's headline needs from them."""
    w = BoardWriter(book, result, refs)
    extra = write_warnings(book, result)
    write_weeks(w, result)
    total, value = write_bsc(w, result)
    write_okr(w, result)
    budget = write_budget(w, result)
    extra.headline.update(budget)
    if total:
        extra.headline["BSC score, company (0-10)"] = (total, value, "score")
    return extra
