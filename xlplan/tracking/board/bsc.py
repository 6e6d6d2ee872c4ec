"""The BSC sheet: company scorecard, unit × KPI heat map, KPI values by month, score charts."""

from __future__ import annotations

import math

from xlplan.i18n import data, msg
from xlplan.tracking.actuals import num
from xlplan.tracking.board.base import BoardWriter, fit_column, none_if_nan
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import Sheet, ref
from xlplan.workbook.bsc import write_score_rows
from xlplan.workbook.highlights import add_status_colours
from xlplan.workbook.okr import nan_blank
from xlplan.workbook.styles import HEADER_FILL

BSC = msg("BSC")
SCORE_COLOURS = ["#1F4E79", "#70AD47", "#FFC000", "#A5A5A5", "#5B9BD5"]
KPI_HEADERS = [msg("Code"), msg("KPI"), msg("Perspective"), msg("Direction"), msg("Unit"),
               msg("Weight"), msg("Target"), msg("Floor used"), msg("Latest month"),
               msg("Year to date"), msg("Attainment"), msg("Status"), msg("Score (0-10)")]




def write_bsc(w: BoardWriter, result: TrackResult) -> tuple[str, float | str]:
    """Company scorecard (YTD), perspective scores, unit × KPI heat map, month roll-up, chart.

    Returns the company total score cell and value for the headline."""
    book, plan = w.book, result.plan
    s = book.sheet(BSC)
    kpis = plan.bsc.kpis
    root = result.targets.root
    s.label(0, 0, msg("Balanced scorecard: the BSC daily report rolled up"), "title")
    s.label(1, 0, msg("Year to date = the mean of the month values so far, against the monthly "
                      "target. Company = HQ's own reading, else the mean of the units that "
                      "report. Score: 0 at the floor, 10 at the target."), "subtitle")
    s.print_setup()
    if not kpis:
        s.label(3, 0, msg("The plan has no KPIs."), "note")
        return "", ""
    head = 3
    col: dict[str, int] = {name: i for i, name in enumerate(KPI_HEADERS)}
    for c, text in enumerate(KPI_HEADERS):
        s.label(head, c, text, "header")
    ytd = result.cards.ytd[result.cards.ytd["unit"] == root].set_index("kpi")
    months = result.cards.months[result.cards.months["unit"] == root]
    scores = result.cards.scores[root].kpis.set_index("code")
    rows = []
    for i, k in enumerate(kpis):
        r = head + 1 + i
        rows.append(r)
        for key, given in (("Code", k.code), ("KPI", k.name), ("Perspective", k.perspective.value),
                          ("Direction", k.direction.value), ("Unit", k.unit)):
            s.label(r, col[key], data(given))
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
        att = s.formula(r, col["Attainment"], formulas.kpi_attainment(a, t, d),
                        num(ytd.loc[k.code, "attainment"]), "ratio")
        s.formula(r, col["Status"], w.status(att), str(ytd.loc[k.code, "status"]), "status")
        s.formula(r, col["Score (0-10)"], formulas.kpi_score(a, t, f, d),
                  num(ytd.loc[k.code, "score"]), "score")
    first, last = rows[0], rows[-1]
    add_status_colours(book, BSC, ref(first, col["Status"]), ref(last, col["Status"]))
    # perspectives and the total (engine.bsc.bsc_scores)
    top = last + 2
    for c, text in enumerate([msg("Perspective"), msg("KPIs"), msg("Scored"),
                              msg("Weight scored"), msg("Score (0-10)")]):
        s.label(top, c, text, "header")

    def rng(name: str) -> str:
        return f"{ref(first, col[name], True)}:{ref(last, col[name], True)}"

    card = result.cards.scores[root]
    score_rows, r, total = write_score_rows(s, top + 1, rng, kpis, card)
    total_cell = f"{book.quote(BSC)}{total}"
    # unit × KPI heat map (year to date attainment)
    top = r + 2
    s.label(top, 0, msg("Status by unit × KPI (year-to-date attainment)"), "section")
    head = top + 1
    s.label(head, 0, msg("Unit"), "header")
    for c, k in enumerate(kpis):
        s.label(head, 1 + c, data(k.code), "header")
    s.label(head, 1 + len(kpis), msg("BSC score"), "header")
    table = result.cards.ytd.set_index(["unit", "kpi"])
    for i, u in enumerate(w.units):
        r = head + 1 + i
        s.label(r, 0, w.unit_label(u), "bold" if u == root else "label")
        for c, k in enumerate(kpis):
            share = num(table.loc[(u, k.code), "attainment"])
            s.given(r, 1 + c, None if math.isnan(share) else share, "ratio")
        s.given(r, 1 + len(kpis), none_if_nan(result.cards.scores[u].total), "score")
    heat_first, heat_last = head + 1, head + len(w.units)
    w.heat(s, heat_first, 1, heat_last, len(kpis))
    # the daily report rolled up: company value of each KPI by month
    top = heat_last + 2
    s.label(top, 0, msg("Company KPI values by month (month-to-date for the running month)"),
            "section")
    head = top + 1
    s.label(head, 0, msg("KPI"), "header")
    for m, label in enumerate(w.month_labels()):
        s.label(head, 1 + m, label, "header")
    for i, k in enumerate(kpis):
        r = head + 1 + i
        s.label(r, 0, data(k.code))
        mine = months[months["kpi"] == k.code].set_index("month")
        for m in range(12):
            v = num(mine.loc[m, "value"]) if m in mine.index else math.nan
            s.given(r, 1 + m, None if math.isnan(v) else v, "number")
    _bsc_chart(w, s, heat_first, heat_last, len(kpis), score_rows)
    s.widths({1: 30, 2: 12, **{c: 12.5 for c in range(3, 16)}})
    fit_column(s, 0, [*(w.unit_label(u) for u in w.units), *(p.value for p in
                                                             {k.perspective for k in kpis})],
               24)
    s.ws.freeze_panes(4, 2)
    return total_cell, nan_blank(card.total)


def _bsc_chart(w: BoardWriter, s: Sheet, first: int, last: int, n_kpis: int,
               score_rows: list[int]) -> None:
    wb, name = w.book.wb, s.name
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({"name": w.words(msg("BSC score (0-10)")),
                    "categories": [name, first, 0, last, 0],
                    "values": [name, first, 1 + n_kpis, last, 1 + n_kpis],
                    "fill": {"color": HEADER_FILL}, "border": {"none": True}, "gap": 50,
                    "data_labels": {"value": True, "num_format": "0.0", "font": {"size": 8}}})
    bar.set_title({"name": w.words(msg("BSC score by unit (year to date)")),
                   "name_font": {"size": 11, "bold": True}})
    bar.set_legend({"none": True})
    bar.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 8}})
    bar.set_x_axis({"name": w.words(msg("Score (0-10)")), "name_font": {"size": 8},
                    "min": 0, "max": 10, "num_font": {"size": 8},
                    "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    bar.set_size({"width": 480, "height": 320})
    s.ws.insert_chart(3, 16, bar, {"x_offset": 12, "y_offset": 0})
    if score_rows:
        col = wb.add_chart({"type": "column"})
        col.add_series({"name": w.words(msg("Company score by perspective")),
                        "categories": [name, score_rows[0], 0, score_rows[-1], 0],
                        "values": [name, score_rows[0], 4, score_rows[-1], 4],
                        "points": [{"fill": {"color": SCORE_COLOURS[i % len(SCORE_COLOURS)]}}
                                   for i in range(len(score_rows))],
                        "data_labels": {"value": True, "num_format": "0.0",
                                        "font": {"size": 8}}})
        col.set_title({"name": w.words(msg("Company BSC by perspective")),
                       "name_font": {"size": 11, "bold": True}})
        col.set_legend({"none": True})
        col.set_y_axis({"min": 0, "max": 10, "num_font": {"size": 8}})
        col.set_size({"width": 480, "height": 300})
        s.ws.insert_chart(20, 16, col, {"x_offset": 12, "y_offset": 0})
