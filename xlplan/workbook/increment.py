"""The master's Increment sheet: baseline → growth levers → target, with the uncovered gap.

Step 2 of the method (定义增量): the plan says where every part of the increment
comes from. The bridge lists the baseline, each lever (kind, name, owner,
amount) and the target as locked plan figures; everything derived from them
(increment, sum of levers, gap, coverage, running total) is a live formula
carrying :class:`~xlplan.engine.increment.Bridge`'s value. The gap the levers do
not cover (增量缺口) is its own highlighted row and its own coloured bar: docs/METHOD.md
says it must be shown, never hidden.

The waterfall is a native stacked column chart, so it works in any Excel with
no add-in: the first series ("invisible base") has no fill and lifts each step
to where the previous one ended; the second ("step") is the visible bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlplan.engine.increment import Bridge
from xlplan.i18n import Data, Msg, data, display_width, msg
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.layout import amounts_in, decimals
from xlplan.workbook.scope import Scope
from xlplan.workbook.styles import GAP_FONT, HEADER_FILL

SHEET = msg("Increment")
KIND_NAMES: dict[str, str] = {
    "market_penetration": msg("Market penetration"),
    "product_extension": msg("Product extension"),
    "market_expansion": msg("Market expansion"),
    "new_business": msg("New business"),
    "efficiency": msg("Operating efficiency"),
}
HEADERS: list[str] = [msg("Step"), msg("Kind"), msg("Lever"), msg("Owner"), msg("Amount"),
                      msg("Share of increment"), msg("Running total"), msg("Chart label"),
                      msg("Invisible base"), msg("Step (bar)"), msg("Note")]
COL = {name: i for i, name in enumerate(HEADERS)}
LEVEL_COLOUR = HEADER_FILL  # baseline and target bars
LEVER_COLOUR = "#70AD47"  # levers
GAP_COLOUR = "#ED7D31"  # the uncovered gap: a colour no other bar has
CHART_LABEL_LENGTH = 26


@dataclass(frozen=True)
class IncrementRefs:
    """Absolute, sheet-qualified cells other sheets (the dashboard) may show."""

    baseline: str
    target: str
    increment: str
    covered: str
    gap: str
    coverage: str


def _chart_label(text: str) -> Data:
    return data(text if len(text) <= CHART_LABEL_LENGTH else
                text[:CHART_LABEL_LENGTH - 1] + "…")


def _gap_status(gap: int) -> Msg:
    if gap > 0:
        return msg("Not covered yet: find levers for the gap")
    if gap < 0:
        return msg("Levers over-cover the increment")
    return msg("Fully covered by levers")


def write_increment(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The increment statement and its waterfall (master only)."""
    s = book.sheet(SHEET)
    b = ctx.bridge
    q = book.quote(SHEET)
    ns = ctx.plan.north_star
    s.label(0, 0, msg("{plan}: increment statement", plan=data(ctx.plan.name)), "title")
    s.label(1, 0, msg("North star: {metric}, in {currency}. Baseline + increment = target; the "
                      "increment is split over growth levers, and what they do not cover is "
                      "the uncovered gap, shown on purpose.", metric=data(ns.metric),
                      currency=amounts_in(ctx.plan)), "subtitle")

    # the bridge table first (its cells are what the summary refers to)
    head = 10
    for c, text in enumerate(HEADERS):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)
    first_lever = head + 2
    last_lever = first_lever + len(b.levers) - 1
    gap_row = first_lever + len(b.levers)
    target_row = gap_row + 1
    summary = {key: ref(row, 1) for key, row in
               (("increment", 4), ("covered", 5), ("gap", 6), ("coverage", 7))}
    amount = {r: ref(r, COL["Amount"]) for r in range(head + 1, target_row + 1)}
    _bridge_rows(s, ctx, b, head, summary)

    # summary block
    s.label(3, 0, msg("Summary"), "bold")
    baseline_ref, target_ref = amount[head + 1], amount[target_row]
    s.label(4, 0, msg("Increment (target − baseline)"))
    s.formula(4, 1, f"{target_ref}-{baseline_ref}", ctx.money(b.increment), "money_bold")
    s.label(5, 0, msg("Covered by levers"))
    covered = (f"SUM({amount[first_lever]}:{amount[last_lever]})" if b.levers else "0")
    s.formula(5, 1, covered, ctx.money(b.covered), "money")
    s.label(6, 0, msg("Uncovered gap"), "gap_label")
    # rounded to the smallest unit, so that a gap of zero is zero and not 1e-9 of float noise
    s.formula(6, 1, f"ROUND({summary['increment']}-{summary['covered']},{decimals(ctx.su)})",
              ctx.money(b.gap), "gap_money")
    words = book.words
    s.formula(6, 2, f'IF({summary["gap"]}>0,"{words(_gap_status(1))}",IF({summary["gap"]}<0,'
                    f'"{words(_gap_status(-1))}","{words(_gap_status(0))}"))',
              words(_gap_status(b.gap)), "gap_label")
    s.label(7, 0, msg("Coverage (levers ÷ increment)"))
    s.formula(7, 1, formulas.ratio(summary["covered"], summary["increment"]),
              b.coverage if b.increment else "", "ratio_bold")
    # the gap cell reddens when levers leave part of the increment uncovered
    s.ws.conditional_format(summary["gap"], {
        "type": "cell", "criteria": ">", "value": 0,
        "format": book.wb.add_format({"bg_color": "#FFC7CE", "font_color": GAP_FONT})})

    absolute = {key: f"{q}{ref(row, 1, absolute=True)}" for key, row in
                (("increment", 4), ("covered", 5), ("gap", 6), ("coverage", 7))}
    refs = IncrementRefs(baseline=f"{q}{ref(head + 1, COL['Amount'], True)}",
                         target=f"{q}{ref(target_row, COL['Amount'], True)}", **absolute)
    for name, cell in (("NorthStarBaseline", refs.baseline), ("NorthStarTarget", refs.target),
                       ("IncrementTotal", refs.increment), ("LeverTotal", refs.covered),
                       ("IncrementGap", refs.gap), ("IncrementCoverage", refs.coverage)):
        book.define(name, cell)
    scope.refs["increment"] = refs

    _waterfall(book, s, head, target_row, len(b.apart) + 2 if b.apart else 0)
    # the Step column fits the longest lever name (up to a point), so no name is cut off
    step_width = min(70, max([44] + [display_width(lever.label) + 2 for lever in b.levers]))
    s.widths({0: step_width, 1: 20, 2: 8, 3: 14, 4: 18, 5: 11, 6: 18, 7: 24, 8: 16, 9: 16, 10: 60})
    s.ws.freeze_panes(head + 1, 1)


def _bridge_rows(s: Sheet, ctx: BuildContext, b: Bridge, head: int,
                 summary: dict[str, str]) -> None:
    """Baseline, one row per lever, the gap, the target; with the waterfall helpers."""
    levels: list[int] = []  # running total after each row, in minor units
    first_lever = head + 2
    gap_row = first_lever + len(b.levers)
    target_row = gap_row + 1
    inc = summary["increment"]
    a, rt, base, bar = (COL[k] for k in ("Amount", "Running total", "Invisible base",
                                         "Step (bar)"))

    def share(r: int, value: int, style: str) -> None:
        s.formula(r, COL["Share of increment"], formulas.ratio(ref(r, a), inc),
                  value / b.increment if b.increment else "", style)

    def step(r: int, before: int, after: int, style: str) -> None:
        """Running total, and the invisible base and the bar of a step between two levels."""
        s.formula(r, rt, f"{ref(r - 1, rt)}+{ref(r, a)}", ctx.money(after), style)
        s.formula(r, base, f"MIN({ref(r - 1, rt)},{ref(r, rt)})",
                  ctx.money(min(before, after)), style)
        s.formula(r, bar, f"ABS({ref(r, a)})", ctx.money(abs(after - before)), style)

    def level(r: int, name: Msg, kind: Msg, amount: int) -> None:
        """A full-height bar (baseline or target): the level itself, standing on zero."""
        s.label(r, 0, name, "bold")
        s.label(r, 1, kind)
        s.given(r, a, ctx.given_money(amount), "money_bold")
        s.formula(r, rt, ref(r, a), ctx.money(amount), "money")
        s.label(r, COL["Chart label"], name)
        s.given(r, base, 0, "money")
        s.formula(r, bar, ref(r, rt), ctx.money(amount), "money")

    level(head + 1, msg("Baseline"), msg("baseline"), b.baseline)
    levels.append(b.baseline)
    # levers
    for i, lever in enumerate(b.levers):
        r = first_lever + i
        s.label(r, 0, data(lever.label))
        s.label(r, 1, KIND_NAMES.get(lever.kind, lever.kind))
        s.label(r, 2, data(lever.id))
        s.label(r, 3, data(lever.owner))
        s.given(r, a, ctx.given_money(lever.amount), "money")
        share(r, lever.amount, "ratio")
        step(r, levels[-1], levels[-1] + lever.amount, "money")
        s.label(r, COL["Chart label"], _chart_label(f"{lever.id} {lever.label}"))
        s.label(r, COL["Note"], data(lever.note))
        levels.append(levels[-1] + lever.amount)
    # the uncovered gap: its own highlighted row, never hidden
    r = gap_row
    s.label(r, 0, msg("Uncovered gap"), "gap_label")
    s.label(r, 1, msg("gap"), "gap_label")
    s.label(r, 2, data(""), "gap_label")
    s.label(r, 3, data(""), "gap_label")
    s.formula(r, a, summary["gap"], ctx.money(b.gap), "gap_money")
    share(r, b.gap, "gap_ratio")
    step(r, levels[-1], levels[-1] + b.gap, "gap_money")
    s.label(r, COL["Chart label"], msg("Uncovered gap"), "gap_label")
    note = (msg("The part of the increment no lever covers yet.") if b.gap > 0 else
            msg("The levers exceed the increment by this much.") if b.gap < 0 else
            msg("Nothing is left uncovered."))
    s.label(r, COL["Note"], note, "gap_label")
    levels.append(levels[-1] + b.gap)
    level(target_row, msg("Target"), msg("target"), b.target)
    s.label(target_row + 1, 0, msg("The running total after the gap equals the target: "
                               "baseline + levers + gap = target, to the cent."), "subtitle")
    _apart_rows(s, ctx, b, target_row + 3)


def _apart_rows(s: Sheet, ctx: BuildContext, b: Bridge, top: int) -> None:
    """Levers that do not cover this increment (cost savings in a revenue plan), listed
    below the bridge with the reason, outside every total and the chart."""
    if not b.apart:
        return
    metric = ctx.plan.north_star.metric
    s.label(top, 0, msg("Outside this bridge: levers that do not add to {metric}",
                        metric=data(metric)), "bold")
    for i, lever in enumerate(b.apart, start=1):
        r = top + i
        s.label(r, 0, data(lever.label))
        s.label(r, 1, KIND_NAMES.get(lever.kind, lever.kind))
        s.label(r, 2, data(lever.id))
        s.label(r, 3, data(lever.owner))
        s.given(r, COL["Amount"], ctx.given_money(lever.amount), "money")
        saving = msg("A cost saving: it counts toward a profit increment, not toward "
                     "{metric}, so it covers none of the gap above.", metric=data(metric))
        s.label(r, COL["Note"], msg("{saving} {note}", saving=saving, note=data(lever.note))
                if lever.note else saving)


def _waterfall(book: Book, s: Sheet, head: int, target_row: int, below: int = 0) -> None:
    """A stacked column chart whose first series is invisible: a native waterfall."""
    first, last = head + 1, target_row
    n = last - first + 1
    categories = [s.name, first, COL["Chart label"], last, COL["Chart label"]]
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    assert chart is not None
    chart.add_series({
        "name": book.words(msg("Invisible base")),
        "categories": categories,
        "values": [s.name, first, COL["Invisible base"], last, COL["Invisible base"]],
        "fill": {"none": True}, "border": {"none": True},
    })
    colours = [LEVEL_COLOUR] + [LEVER_COLOUR] * (n - 3) + [GAP_COLOUR, LEVEL_COLOUR]
    chart.add_series({
        "name": book.words(msg("Step")),
        "categories": categories,
        "values": [s.name, first, COL["Step (bar)"], last, COL["Step (bar)"]],
        "points": [{"fill": {"color": c}, "border": {"color": c}} for c in colours],
        "gap": 40,
        "data_labels": {"value": True, "num_format": "#,##0", "position": "inside_end",
                        # white on the dark baseline and target bars, black elsewhere
                        "custom": [{"value": f"={book.quote(SHEET)}"
                                             f"{ref(first + i, COL['Amount'], absolute=True)}",
                                    **({"font": {"color": "white", "bold": True}}
                                       if i in (0, n - 1) else {})}
                                   for i in range(n)]},
    })
    chart.set_title({"name": book.words(msg("Bridge from baseline to target")),
                     "name_font": {"size": 12, "bold": True}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {
        "visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_x_axis({"num_font": {"size": 8}})
    chart.set_size({"width": 1400, "height": 460})
    s.ws.insert_chart(target_row + 3 + below, 0, chart)  # under any levers listed apart
