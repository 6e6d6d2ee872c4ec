"""The summary sheet, the first page an executive reads: are we on track to the target?

The north-star target, the bottom-up commitment so far and what is not yet committed; the
plan's increment bridge beside the bottom-up increment; where the submissions stand; the
five largest gaps by unit and by product, with lights and links to their rows; three
charts. It prints on one A4 landscape page. The derived figures are formulas over the
figures beside them, each with the engine's value cached.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.report.sheets import CHART_DATA, FILES, GAP, ORG, Anchors, Names
from xlplan.consolidate.report.writer import FILE_FILL, SEASON_FILL, STATUS_FILL, Writer
from xlplan.consolidate.views import MONTHS, Views, with_gap
from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.variance import attainment, status
from xlplan.i18n import Msg, data, display_width, msg

TOP_N = 5
CHART_UNITS = 20  # at most this many units in the chart by unit (the largest targets)
WIDTHS = [34, 15, 15, 2, 10, 20, 13, 13, 13, 11, 6, 8, 8, 8]
CHART_ROW = 26
HEADLINES = (msg("Committed so far (accepted units)"), msg("Target of the units that committed"),
             msg("Gap on committed units (commitment − their target)"),
             msg("Attainment of committed units"), msg("Not yet committed (target − commitment)"),
             msg("Share of the target committed"))
BRIDGE_LABELS = (msg("Baseline (last year)"), msg("Increment (target − baseline)"),
                 msg("Covered by levers"), msg("Uncovered gap"),
                 msg("Target · commitment so far"))
CHART_HEIGHT = 19  # rows the charts take


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else \
        float(value)


def summary(w: Writer, ws: Worksheet, outcome: Outcome, numbers: PlanNumbers, views: Views,
            names: Names, anchors: Anchors) -> None:
    plan = numbers.plan
    su = float(numbers.su)
    for i, width in enumerate(WIDTHS):
        ws.set_column(i, i, width)
    w.heading(ws, msg("{plan}: where the plan stands", plan=data(plan.name)),
              msg("Amounts in {unit}. Bottom-up: the commitments of the accepted submissions "
                  "so far; top-down: the plan's targets. Click a unit's links to see its rows.",
                  unit=w.amount_unit))
    company = views.org.iloc[0] if len(views.org) else None
    target = float(company["target"]) if company is not None else 0.0
    committed = _number(company["commitment"]) if company is not None else None
    submitted_target = float(views.gap.loc[views.gap["commitment"].notna(), "target"].sum())
    _headline(w, ws, plan.north_star.metric, target, committed or 0.0, submitted_target)
    _submissions(w, ws, outcome)
    _bridge(w, ws, numbers, su, committed or 0.0)
    _largest_by_unit(w, ws, numbers, views, anchors)
    _largest_by_product(w, ws, numbers, views, names)
    _lights(w, ws)
    _charts(w, ws, numbers, views, su)
    last = CHART_ROW + CHART_HEIGHT
    ws.print_area(0, 0, last, len(WIDTHS) - 1)
    _fit(w, ws)
    w.print_setup(ws, one_page=True)
    ws.hide_gridlines(2)
    ws.activate()
    ws.set_first_sheet()


def _fit(w: Writer, ws: Worksheet) -> None:
    """Column A as wide as its longest label, the link columns as their sheet names."""
    labels = [w(m) for m in (*HEADLINES, *BRIDGE_LABELS)]
    ws.set_column(0, 0, min(48, max(WIDTHS[0], *(display_width(t) + 2 for t in labels))))
    for c, head in ((1, msg("Plan (top-down)")), (2, msg("Bottom-up so far"))):
        ws.set_column(c, c, max(WIDTHS[c], display_width(w(head)) + 2))
    for c, key in ((11, GAP), (12, ORG), (13, FILES)):
        ws.set_column(c, c, max(WIDTHS[c], display_width(w(key)) + 2))


def _headline(w: Writer, ws: Worksheet, metric: str, target: float, committed: float,
              submitted_target: float) -> None:
    ws.write_string(3, 0, w(msg("Target and commitment")), w.fmt["section"])
    for c in (1, 2):
        ws.write_blank(3, c, None, w.fmt["section"])
    rows: list[tuple[Msg, str, Any, Any, str]] = [
        (msg("North-star target ({metric})", metric=data(metric)), "number", target, None,
         "headline"),
        (HEADLINES[0], "number", committed, None, "headline"),
        (HEADLINES[1], "number", submitted_target, None, "money"),
        (HEADLINES[2], "formula", "=B6-B7", committed - submitted_target, "money"),
        (HEADLINES[3], "formula", '=IF(B7=0,"",B6/B7)',
         attainment(committed, submitted_target), "pct_bold"),
        (HEADLINES[4], "formula", "=B5-B6", target - committed, "gap_money"),
        (HEADLINES[5], "formula", '=IF(B5=0,"",B6/B5)', attainment(committed, target), "pct"),
    ]
    for i, (label, kind, value, cached, style) in enumerate(rows):
        r = 4 + i
        ws.write_string(r, 0, w(label), w.fmt["gap_label" if style == "gap_money" else "data"])
        if kind == "number":
            ws.write_number(r, 1, value, w.fmt[style])
        elif cached is None or (isinstance(cached, float) and math.isnan(cached)):
            ws.write_formula(r, 1, value, w.fmt[style], "")
        else:
            ws.write_formula(r, 1, value, w.fmt[style], cached)
    light = status(attainment(committed, submitted_target)) if submitted_target else ""
    if light:
        ws.write_string(8, 2, light, w.fill(STATUS_FILL[light], bold=True))


def _submissions(w: Writer, ws: Worksheet, outcome: Outcome) -> None:
    tracker = outcome.tracker
    ws.merge_range(3, 4, 3, 6, w(msg("Submissions")), w.fmt["section"])

    def count(mask: Any) -> int:
        return int(mask.sum()) if len(tracker) else 0

    statuses = tracker["status"] if len(tracker) else pd.Series(dtype=object)
    season = tracker["season"] if "season" in tracker else pd.Series(dtype=object)
    late = tracker["late"].astype(bool) if "late" in tracker else pd.Series(dtype=bool)
    rows = [(msg("Units in the plan"), len(tracker), None),
            (msg("Submitted and counted"), count(statuses.isin(["accepted", "warnings"])),
             FILE_FILL["accepted"]),
            (msg("Approved"), count(season == "approved"), SEASON_FILL["approved"]),
            (msg("Late"), count(late | (season == "late")), SEASON_FILL["late"]),
            (msg("Incomplete"), count(statuses == "incomplete"), FILE_FILL["incomplete"]),
            (msg("Rejected"), count(statuses == "rejected"), FILE_FILL["rejected"]),
            (msg("Missing"), count(statuses == "missing"), FILE_FILL["missing"])]
    for i, (label, n, colour) in enumerate(rows):
        fmt = w.fill(colour) if colour else w.fmt["data"]
        ws.merge_range(4 + i, 4, 4 + i, 5, w(label), fmt)
        ws.write_number(4 + i, 6, n, w.fmt["int_bold" if i == 0 else "int"])


def _bridge(w: Writer, ws: Worksheet, numbers: PlanNumbers, su: float,
            committed: float) -> None:
    """The plan's increment bridge (top-down) beside the bottom-up one: the same baseline,
    the increment the commitments give so far, and what neither covers."""
    b = numbers.bridge
    base, covered, goal = b.baseline * su, b.covered * su, b.target * su
    ws.write_string(12, 0, w(msg("Increment bridge")), w.fmt["section"])
    ws.write_string(12, 1, w(msg("Plan (top-down)")), w.fmt["header"])
    ws.write_string(12, 2, w(msg("Bottom-up so far")), w.fmt["header"])
    money = w.fmt["money"]
    ws.write_string(13, 0, w(BRIDGE_LABELS[0]))
    ws.write_number(13, 1, base, money)
    ws.write_formula(13, 2, "=B14", money, base)
    ws.write_string(14, 0, w(BRIDGE_LABELS[1]))
    ws.write_formula(14, 1, "=B18-B14", money, goal - base)
    ws.write_formula(14, 2, "=C18-C14", money, committed - base)
    ws.write_string(15, 0, w(BRIDGE_LABELS[2]))
    ws.write_number(15, 1, covered, money)
    ws.write_string(16, 0, w(BRIDGE_LABELS[3]), w.fmt["gap_label"])
    ws.write_formula(16, 1, "=B15-B16", w.fmt["gap_money"], goal - base - covered)
    ws.write_formula(16, 2, "=B18-C18", w.fmt["gap_money"], goal - committed)
    ws.write_string(17, 0, w(BRIDGE_LABELS[4]), w.fmt["bold"])
    ws.write_number(17, 1, goal, w.fmt["money_bold"])
    ws.write_formula(17, 2, "=B6", w.fmt["money_bold"], committed)


def _top_table(w: Writer, ws: Worksheet, row: int, title: Msg, code: Msg,
               frame: pd.DataFrame, names: dict[str, str], links: bool) -> list[int]:
    """Five rows of code, name, target, commitment, gap, attainment, light; their rows."""
    ws.merge_range(row, 4, row, 13 if links else 10, w(title), w.fmt["section"])
    heads = [code, msg("Name"), w.money(msg("Target")), w.money(msg("Commitment")),
             w.money(msg("Gap")), msg("Attainment"), msg("Light")]
    for i, head in enumerate(heads):
        ws.write_string(row + 1, 4 + i, w(head), w.fmt["header"])
    if links:
        ws.merge_range(row + 1, 11, row + 1, 13, w(msg("Go to")), w.fmt["header"])
    ws.set_row(row + 1, 30)
    if not len(frame):
        ws.write_string(row + 2, 4, w(msg("No unit has submitted yet.")), w.fmt["note"])
        return []
    out = []
    for i, rec in enumerate(frame.head(TOP_N).to_dict("records")):
        r = row + 2 + i
        ws.write_string(r, 4, str(rec["code"]))
        ws.write_string(r, 5, names.get(str(rec["code"]), ""))
        for c, key in ((6, "target"), (7, "commitment"), (8, "gap")):
            ws.write_number(r, c, float(rec[key]), w.fmt["money"])
        if rec["attainment"] == rec["attainment"]:
            ws.write_number(r, 9, float(rec["attainment"]), w.fmt["pct"])
        if rec["status"]:
            ws.write_string(r, 10, str(rec["status"]), w.fill(STATUS_FILL[rec["status"]],
                                                               bold=True))
        out.append(r)
    return out


def _largest_by_unit(w: Writer, ws: Worksheet, numbers: PlanNumbers, views: Views,
                     anchors: Anchors) -> None:
    org = views.org
    units = org[org["code"].isin(numbers.input_units) & org["commitment"].notna()]
    units = units.sort_values("gap", kind="stable")
    names = dict(zip(org["code"].astype(str), org["name"].astype(str), strict=True))
    rows = _top_table(w, ws, 12, msg("Five largest gaps by unit"), msg("Unit"), units, names,
                      links=True)
    for r, code in zip(rows, units["code"].astype(str), strict=False):
        for c, key, anchor in ((11, GAP, anchors.gap), (12, ORG, anchors.org),
                               (13, FILES, anchors.files)):
            if code in anchor:
                ws.write_url(r, c, w.link(str(key), anchor[code]), w.fmt["link"],
                             string=w(key))


def _largest_by_product(w: Writer, ws: Worksheet, numbers: PlanNumbers, views: Views,
                        names: Names) -> None:
    done = views.gap[views.gap["commitment"].notna()]
    sums = done.groupby("product", sort=False)[["target", "commitment"]].sum().reset_index()
    frame = with_gap(sums, numbers).rename(columns={"product": "code"}).sort_values(
        "gap", kind="stable")
    _top_table(w, ws, 19, msg("Five largest gaps by product (units that submitted)"),
               msg("Product"), frame, names.products, links=False)


def _lights(w: Writer, ws: Worksheet) -> None:
    ws.write_string(19, 0, w(msg("Lights")), w.fmt["section"])
    for i, (colour, words) in enumerate(w.light_legend()):
        ws.write_string(20 + i, 0, w(words), w.fill(colour))


def _charts(w: Writer, ws: Worksheet, numbers: PlanNumbers, views: Views, su: float) -> None:
    """Three native charts over the figures on the Chart data sheet: target vs commitment
    by unit and by month, and the plan's bridge as a waterfall (stacked columns whose first
    series, the base, has no fill)."""
    cd = w.sheet(CHART_DATA)
    sheet = w.sheet_names[str(CHART_DATA)]
    w.heading(cd, msg("The figures behind the summary's charts"))
    unit = w(w.amount_unit)
    axis = {"num_format": w.whole_format, "name": unit, "major_gridlines": {"visible": True,
            "line": {"color": "#D9D9D9"}}}
    font = {"name": "等线"} if w.language == "zh" else {}
    heads = [msg("Name"), w.money(msg("Target")), w.money(msg("Commitment"))]
    for c, width in enumerate((28, 16, 16, 4, 14, 16, 16, 4, 26, 16, 16)):
        cd.set_column(c, c, width)

    def table(col: int, title: Msg, headers: list[Msg], rows: list[list[Any]]) -> int:
        cd.write_string(2, col, w(title), w.fmt["section"])
        for i, head in enumerate(headers):
            cd.write_string(3, col + i, w(head), w.fmt["header"])
        for r, values in enumerate(rows):
            for i, v in enumerate(values):
                if isinstance(v, str):
                    cd.write_string(4 + r, col + i, v)
                elif v is not None:
                    cd.write_number(4 + r, col + i, v, w.fmt["money"])
        return 4 + len(rows) - 1

    # by unit: the units below the company, or the largest if there are many
    org = views.org
    children = org[org["level"] == 1]
    shown = children if 0 < len(children) <= CHART_UNITS else org[
        org["code"].isin(numbers.input_units)].nlargest(CHART_UNITS, "target")
    rows = [[str(r["name"]), float(r["target"]), _number(r["commitment"])]
            for r in shown.to_dict("records")]
    last = table(0, msg("Target vs commitment by unit"), heads, rows)
    chart = w.wb.add_chart({"type": "bar"})
    for c, colour in ((1, "#A6A6A6"), (2, "#1F4E79")):
        chart.add_series({"name": [sheet, 3, c], "categories": [sheet, 4, 0, last, 0],
                          "values": [sheet, 4, c, last, c], "fill": {"color": colour},
                          "gap": 60})
    chart.set_y_axis({"reverse": True, "num_font": font})
    chart.set_x_axis(axis)
    _finish(w, chart, msg("Target vs commitment by unit"), font)
    ws.insert_chart(CHART_ROW, 0, chart, {"x_offset": 4, "y_offset": 4})

    # by month: the target of the units that submitted against their commitment
    done = views.gap[views.gap["commitment"].notna()]
    target = done.groupby("month")["target"].sum()
    commitment = done.groupby("month")["commitment"].sum()
    months = [[w(w.months_label(m)), float(target.get(m, 0.0)), float(commitment.get(m, 0.0))]
              for m in MONTHS]
    last = table(4, msg("Target vs commitment by month (units that submitted)"),
                 [msg("Month"), *heads[1:]], months)
    chart = w.wb.add_chart({"type": "column"})
    for c, colour in ((5, "#A6A6A6"), (6, "#1F4E79")):
        chart.add_series({"name": [sheet, 3, c], "categories": [sheet, 4, 4, last, 4],
                          "values": [sheet, 4, c, last, c], "fill": {"color": colour}})
    chart.set_y_axis(axis)
    chart.set_x_axis({"num_font": font})
    _finish(w, chart, msg("Target vs commitment by month"), font)
    ws.insert_chart(CHART_ROW, 0, chart, {"x_offset": 425, "y_offset": 4})

    # the bridge as a waterfall: an invisible base lifts each step to where the last ended
    b = numbers.bridge
    level, steps = 0.0, []
    for step in b.steps():
        amount = step.amount * su
        label = {"baseline": msg("Baseline"), "gap": msg("Uncovered gap"),
                 "target": msg("Target")}.get(step.kind)
        name = w(label) if label else w(data(step.label))
        if step.kind in ("baseline", "target"):
            steps.append([name, 0.0, amount])
            level = amount
        else:
            steps.append([name, min(level, level + amount), abs(amount)])
            level += amount
    last = table(8, msg("Increment bridge (waterfall)"),
                 [msg("Step"), w.money(msg("Base")), w.money(msg("Step"))], steps)
    chart = w.wb.add_chart({"type": "column", "subtype": "stacked"})
    chart.add_series({"name": [sheet, 3, 9], "categories": [sheet, 4, 8, last, 8],
                      "values": [sheet, 4, 9, last, 9], "fill": {"none": True},
                      "border": {"none": True}})
    colours = []
    for step in b.steps():
        colour = {"baseline": "#7F7F7F", "target": "#1F4E79", "gap": "#C00000"}.get(
            step.kind, "#70AD47" if step.amount >= 0 else "#ED7D31")
        colours.append({"fill": {"color": colour}})
    chart.add_series({"name": [sheet, 3, 10], "categories": [sheet, 4, 8, last, 8],
                      "values": [sheet, 4, 10, last, 10], "points": colours, "gap": 50})
    chart.set_y_axis(axis)
    chart.set_x_axis({"num_font": {**font, "rotation": -30}})
    _finish(w, chart, msg("Increment bridge: baseline, levers, uncovered gap, target"), font,
            legend=False)
    ws.insert_chart(CHART_ROW, 0, chart, {"x_offset": 846, "y_offset": 4})
    w.print_setup(cd)


def _finish(w: Writer, chart: Any, title: Msg, font: dict[str, str], legend: bool = True
            ) -> None:
    chart.set_title({"name": w(title), "name_font": {**font, "size": 11, "bold": True}})
    chart.set_size({"width": 415, "height": 360})
    chart.set_legend({"position": "bottom", "font": font} if legend else {"none": True})
    chart.set_chartarea({"border": {"color": "#BFBFBF"}})
