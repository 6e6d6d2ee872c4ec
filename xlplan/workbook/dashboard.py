"""The master's Dashboard: the page an executive opens first.

Top band: the headline figures (baseline, target, increment, what the growth
levers cover, the uncovered gap, coverage, total budget, company reserve) as
formulas on the cells of the Increment and Budget sheets, beside two charts
(target by month stacked by region, target by region). Below, one table per
question, each region a row and each fiscal month a column:

* top-down targets: each region's month totals come from the engine
  (:func:`xlplan.engine.decompose.split_unit_targets`, summed over products and
  channels: exactly the months of the region's own workbook) as locked
  figures; the total is a ``SUM`` and a check column ties it to the region's
  target on the Targets sheet, to the cent;
* actuals: empty and locked until finance consolidates the units' submissions;
* attainment (actual ÷ target) per month and year to date, with the G/Y/O/R
  light of :func:`xlplan.engine.variance.status`: blank until there are actuals;
* budget by region (engine :mod:`xlplan.engine.budget`, the Budget sheet's
  split), tied to the distributable budget, with a chart of the pools;
* OKR progress per company objective (:mod:`xlplan.engine.okr`) and the BSC
  perspectives, whose scores stay blank until actuals arrive.

The Budget sheet exposes only its distributable budget (the ``Distributable``
name), so the regions' budgets are the engine's figures, locked, and their
total is checked against that cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlplan.engine.bsc import bsc_scores
from xlplan.engine.budget import POOL_NAMES
from xlplan.engine.decompose import split_unit_targets
from xlplan.engine.okr import kr_progress
from xlplan.i18n import data, msg
from xlplan.spec.models import Budget
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.context import Allocation, BuildContext
from xlplan.workbook.highlights import (
    add_data_bar,
    add_heat_map,
    add_status_colours,
    write_status_bands,
)
from xlplan.workbook.increment import IncrementRefs
from xlplan.workbook.layout import amounts_in, decimals
from xlplan.workbook.okr import nan_blank, objective_value
from xlplan.workbook.scope import Scope
from xlplan.workbook.styles import HEADER_FILL

SHEET = msg("Dashboard")
MONTHS = 12
TOTAL = 1 + MONTHS  # column N: a region's year
CHECK = TOTAL + 1  # column O: the tie to the Targets sheet, or the status light
LAST_COL = CHECK
HEADLINE = 4  # first row of the top band (headline figures and two charts)
TABLES = 23  # first row below the top band
CHART_HEIGHT = 355
ROW_PX = 20  # a row of the default height, in pixels
WIDTH_A, WIDTH_MONTH, WIDTH_TOTAL, WIDTH_CHECK = 30, 14, 16, 12
TICK, CROSS = "✓", "✗"  # the values a tie check gives
POOL_LABELS = {"base": msg("Base"), "incentive": msg("Incentive"),
               "reserve": msg("Risk reserve")}
POOL_COLOURS = {"base": HEADER_FILL, "incentive": "#70AD47", "reserve": "#FFC000"}


def _px(width: float) -> int:
    """Pixels of a column of ``width`` characters (XlsxWriter's conversion)."""
    return int(width * 7 + 0.5) + 5


def region_months(ctx: BuildContext) -> dict[str, list[int]]:
    """Each input unit's top-down target per fiscal month, in minor units.

    The unit's annual target through :func:`split_unit_targets` (products →
    channels → months), summed over products and channels: the month totals of
    the unit's own Targets sheet.
    """
    out = {}
    for unit in ctx.input_units:
        cube = split_unit_targets(np.array([ctx.targets[unit]], dtype=np.int64), ctx.plan,
                                  ctx.prior)[0]
        out[unit] = [int(x) for x in cube.sum(axis=(0, 1))]
    return out


def axis_format(largest: float) -> str:
    """A short number format for chart axes and labels (millions, thousands)."""
    if largest >= 10_000_000:
        return '#,##0,,"M"'
    if largest >= 1_000_000:
        return '#,##0.0,,"M"'
    if largest >= 10_000:
        return '#,##0,"K"'
    return "#,##0"


def _defined(book: Book, name: str) -> str | None:
    """The cell a workbook-level name points to (``Budget!$B$16``), if it is defined."""
    for entry in book.wb.defined_names:
        if entry[0] == name:
            return str(entry[2]).lstrip("=")
    return None


MAX_STACKED = 12  # regions stacked in the monthly chart; above this, the company total


@dataclass
class _Layout:
    """Rows of the region tables: where each block's regions and company total are."""

    head: int
    rows: dict[str, int]
    total: int
    first: int  # the first region's row
    last: int  # the last region's row


class _Dashboard:
    def __init__(self, book: Book, ctx: BuildContext, scope: Scope):
        self.book, self.ctx, self.scope = book, ctx, scope
        self.s: Sheet = book.sheet(SHEET)
        self.units = list(ctx.input_units)
        self.names = {u: ctx.tree.units[u].name or u for u in self.units}
        self.months = region_months(ctx)
        self.d = decimals(ctx.su)
        self.budget: Budget | None = ctx.plan.budget
        self.alloc: Allocation | None = ctx.budget_allocation
        self.bands: dict[str, str] = {}
        self.headline: dict[str, str] = {}

    # --- top band -----------------------------------------------------------------------------

    def title(self) -> None:
        s, plan = self.s, self.ctx.plan
        s.label(0, 0, msg("{plan}: dashboard", plan=data(plan.name)), "title")
        s.label(1, 0, msg("Amounts in {currency}, whole units (the sheets behind show the cents). "
                          "Every figure is a formula on the plan's sheets or the engine's split "
                          "of the targets; ✓ marks a total that ties to its source to the cent.",
                          currency=amounts_in(plan)), "subtitle")
        s.label(2, 0, msg("Read-only. Actuals, attainment and scores stay blank until finance "
                      "consolidates the regions' submissions."), "subtitle")

    def headline_figures(self) -> None:
        s, ctx, b = self.s, self.ctx, self.ctx.bridge
        inc = self.scope.refs["increment"]
        assert isinstance(inc, IncrementRefs)
        s.label(HEADLINE, 0, msg("Headline"), "section")
        s.label(HEADLINE, 1, data(""), "section")
        s.label(HEADLINE, 2, msg("Source"), "section")
        rows: list[tuple[str, str, str, float | str, str, str]] = [
            ("baseline", msg("Baseline (last year)"), inc.baseline, ctx.money(b.baseline),
             "headline", msg("Increment")),
            ("target", msg("Target ({metric})", metric=data(ctx.plan.north_star.metric)),
             inc.target, ctx.money(b.target), "headline", msg("Increment")),
            ("increment", msg("Increment (target − baseline)"), inc.increment,
             ctx.money(b.increment), "headline", msg("Increment")),
            ("covered", msg("Covered by growth levers"), inc.covered, ctx.money(b.covered),
             "headline", msg("Increment")),
            ("gap", msg("Uncovered gap"), inc.gap, ctx.money(b.gap), "headline_gap",
             msg("Increment")),
            ("coverage", msg("Coverage (levers ÷ increment)"), inc.coverage,
             b.coverage if b.increment else "", "headline_ratio", msg("Increment")),
        ]
        r = HEADLINE + 1
        for key, text, cell, value, style, source in rows:
            s.label(r, 0, text, "gap_label" if key == "gap" else "label")
            self.headline[key] = s.formula(r, 1, cell, value, style)
            s.label(r, 2, msg("{sheet} sheet", sheet=source), "note")
            r += 1
        s.label(r, 0, msg("Total budget"))
        s.label(r + 1, 0, msg("Company reserve (held at HQ)"))
        if self.alloc is None:
            s.label(r, 1, msg("no budget in the plan"), "note")
            return
        split = self.alloc.split
        s.given(r, 1, ctx.given_money(split.total), "headline")
        s.label(r, 2, msg("plan (Budget sheet)"), "note")
        self.headline["budget"] = ref(r, 1)
        dist = _defined(self.book, "Distributable")
        if dist is not None:
            self.headline["reserve"] = s.formula(r + 1, 1, f"{ref(r, 1)}-{dist}",
                                                 ctx.money(split.company_reserve), "headline")
            s.label(r + 1, 2, msg("Budget sheet"), "note")
        else:
            s.given(r + 1, 1, ctx.given_money(split.company_reserve), "headline")
            self.headline["reserve"] = ref(r + 1, 1)
            s.label(r + 1, 2, msg("engine"), "note")

    def status_bands(self) -> None:
        """The traffic-light bands (locked plan figures the status formulas refer to)."""
        cells, _ = write_status_bands(
            self.book, SHEET, self.s, HEADLINE + 11, self.ctx.plan.status_bands,
            msg("Shortfall = 1 − attainment (actual ÷ target)."))
        self.bands.update(cells)

    # --- region tables ------------------------------------------------------------------------

    def _header(self, top: int, title: str, last: list[str]) -> int:  # title: a message
        s = self.s
        s.label(top, 0, title, "section")
        head = top + 1
        for c, text in enumerate([msg("Region"), *self.ctx.month_labels, *last]):
            s.label(head, c, text, "header")
        s.ws.set_row(head, 30)
        return head

    def _rows(self, head: int) -> _Layout:
        rows = {u: head + 1 + i for i, u in enumerate(self.units)}
        for u, r in rows.items():
            self.s.label(r, 0, data(self.names[u]))
        total = head + 1 + len(self.units)
        self.s.label(total, 0, msg("Company"), "bold")
        return _Layout(head, rows, total, min(rows.values()), max(rows.values()))

    def targets(self, top: int) -> _Layout:
        """Region × month targets (engine, locked), totals as SUMs, tied to the Targets sheet."""
        s, ctx = self.s, self.ctx
        target_refs: dict[str, str] = self.scope.refs["targets"]
        head = self._header(top, msg("Top-down targets by region and month"),
                            [msg("Total"), msg("Ties to Targets")])
        lay = self._rows(head)
        for u, r in lay.rows.items():
            for m, amount in enumerate(self.months[u]):
                s.given(r, 1 + m, ctx.given_money(amount), "money0")
            s.formula(r, TOTAL, f"SUM({ref(r, 1)}:{ref(r, MONTHS)})",
                      ctx.money(sum(self.months[u])), "money0")
            self._tie(r, ref(r, TOTAL), target_refs[u], sum(self.months[u]) == ctx.targets[u])
        r = lay.total
        for c in range(1, TOTAL + 1):
            minor = (sum(sum(v) for v in self.months.values()) if c == TOTAL
                     else sum(v[c - 1] for v in self.months.values()))
            s.formula(r, c, f"SUM({ref(lay.first, c)}:{ref(lay.last, c)})", ctx.money(minor),
                      "money0_bold")
        root = ctx.tree.root
        company = sum(sum(v) for v in self.months.values())
        self._tie(r, ref(r, TOTAL), target_refs[root], company == ctx.targets[root])
        s.label(r + 1, 0, msg("Each region's months are its annual target split by product mix, "
                          "channel shares and seasonality, as in the region's workbook."), "note")
        return lay

    def _tie(self, row: int, cell: str, source: str, ties: bool) -> None:
        self.s.formula(row, CHECK, formulas.tie_check(cell, source, self.d),
                       TICK if ties else CROSS, "check")

    def actuals(self, top: int) -> _Layout:
        """The actuals' layout: locked and empty until the submissions are consolidated."""
        s = self.s
        head = self._header(top, msg("Actuals by region and month (from the regions' "
                                     "submissions)"), [msg("Year to date")])
        lay = self._rows(head)
        for r in lay.rows.values():
            for m in range(MONTHS):
                s.given(r, 1 + m, None, "money0")
            s.formula(r, TOTAL, formulas.sum_if_any(f"{ref(r, 1)}:{ref(r, MONTHS)}"), "",
                      "money0")
        for c in range(1, TOTAL + 1):
            column = f"{ref(lay.first, c)}:{ref(lay.last, c)}"
            s.formula(lay.total, c, formulas.sum_if_any(column), "", "money0_bold")
        s.label(lay.total + 1, 0, msg("Empty until finance consolidates the regions' workbooks."),
                "note")
        return lay

    def attainment(self, top: int, target: _Layout, actual: _Layout) -> _Layout:
        """Actual ÷ target per month and year to date, with its light; "" without actuals."""
        s = self.s
        head = self._header(top, msg("Attainment (actual ÷ target) and status"),
                            [msg("Year to date"), msg("Status")])
        lay = self._rows(head)
        pairs = [(lay.rows[u], target.rows[u], actual.rows[u]) for u in self.units]
        pairs.append((lay.total, target.total, actual.total))
        for r, tr, ar in pairs:
            for c in range(1, MONTHS + 1):
                a, t = ref(ar, c), ref(tr, c)
                s.formula(r, c, formulas.attainment(a, t), "",
                          "ratio_bold" if r == lay.total else "ratio")
            arow, trow = f"{ref(ar, 1)}:{ref(ar, MONTHS)}", f"{ref(tr, 1)}:{ref(tr, MONTHS)}"
            due = f"SUMPRODUCT(ISNUMBER({arow})*1,{trow})"  # target of the months reported
            ytd_ratio = formulas.ratio(f"SUM({arow})", due)
            ytd = s.formula(r, TOTAL, f'IF(COUNT({arow})=0,"",{ytd_ratio})',
                            "", "ratio_bold" if r == lay.total else "ratio")
            s.formula(r, CHECK, formulas.status_light(ytd, self.bands), "", "status")
        # the lights: status letters, and each attainment cell in its band's colour
        add_status_colours(self.book, SHEET, ref(lay.first, CHECK), ref(lay.total, CHECK))
        add_heat_map(self.book, s, lay.first, 1, lay.total, TOTAL, self.bands)
        s.label(lay.total + 1, 0, msg("Year to date compares the actuals with the targets of the "
                                  "months reported so far."), "note")
        return lay

    # --- budget, OKR, BSC ---------------------------------------------------------------------

    def budget_table(self, top: int, target: _Layout) -> tuple[int, int | None]:
        """Each region's budget and pools (the engine's split, as on the Budget sheet)."""
        s, ctx = self.s, self.ctx
        s.label(top, 0, msg("Budget by region (the Budget sheet's split of the distributable "
                            "budget)"),
                "section")
        if self.alloc is None:
            s.label(top + 1, 0, msg("The plan has no budget section."), "note")
            return top + 2, None
        alloc = self.alloc
        head = top + 1
        headers = [msg("Region"), msg("Budget"), *(POOL_LABELS[p] for p in POOL_NAMES),
                   msg("Share of budget"), msg("Target"), msg("Budget ÷ target"),
                   msg("Ties to Budget")]
        for c, text in enumerate(headers):
            s.label(head, c, text, "header")
        s.ws.set_row(head, 30)
        rows = {u: head + 1 + i for i, u in enumerate(self.units)}
        total = head + 1 + len(self.units)
        rng = f"{ref(head + 1, 1, True)}:{ref(total - 1, 1, True)}"
        distributable = alloc.split.distributable
        for u, r in rows.items():
            s.label(r, 0, data(self.names[u]))
            s.given(r, 1, ctx.given_money(alloc.units[u]), "money0")
            for i, pool in enumerate(POOL_NAMES):
                s.given(r, 2 + i, ctx.given_money(alloc.pools[u][pool]), "money0")
            s.formula(r, 5, formulas.ratio(ref(r, 1), f"SUM({rng})"),
                      alloc.units[u] / distributable if distributable else "", "ratio")
            s.formula(r, 6, ref(target.rows[u], TOTAL), ctx.money(sum(self.months[u])), "money0")
            s.formula(r, 7, formulas.ratio(ref(r, 1), ref(r, 6)),
                      alloc.units[u] / ctx.targets[u] if ctx.targets[u] else "", "ratio")
        s.label(total, 0, msg("Regions"), "bold")
        sums = {1: distributable, **{2 + i: sum(alloc.pools[u][p] for u in self.units)
                                     for i, p in enumerate(POOL_NAMES)}}
        for c, minor in sums.items():
            s.formula(total, c, f"SUM({ref(head + 1, c)}:{ref(total - 1, c)})", ctx.money(minor),
                      "money0_bold")
        s.formula(total, 5, f"SUM({ref(head + 1, 5)}:{ref(total - 1, 5)})",
                  1.0 if distributable else 0.0, "ratio_bold")
        company_target = sum(sum(v) for v in self.months.values())
        s.formula(total, 6, ref(target.total, TOTAL), ctx.money(company_target), "money0_bold")
        s.formula(total, 7, formulas.ratio(ref(total, 1), ref(total, 6)),
                  distributable / company_target if company_target else "", "ratio_bold")
        dist = _defined(self.book, "Distributable")
        if dist is not None:
            self.s.formula(total, 8, formulas.tie_check(ref(total, 1), dist, self.d), TICK,
                           "check")
        s.label(total + 1, 0, msg("Company reserve (held at HQ)"))
        s.formula(total + 1, 1, self.headline["reserve"], ctx.money(alloc.split.company_reserve),
                  "money0")
        s.label(total + 2, 0, msg("Total budget"), "bold")
        s.formula(total + 2, 1, f"{ref(total, 1)}+{ref(total + 1, 1)}",
                  ctx.money(alloc.split.total), "money0_bold")
        s.formula(total + 2, 8,
                  formulas.tie_check(ref(total + 2, 1), self.headline["budget"], self.d),
                  TICK if distributable + alloc.split.company_reserve == alloc.split.total
                  else CROSS, "check")
        # the next block starts below the budget chart beside this table
        chart_rows = -(-self._budget_chart_height() // ROW_PX)
        return max(total + 4, head + chart_rows + 1), head

    def _budget_chart_height(self) -> int:
        return max(240, ROW_PX * (len(self.units) + 6))

    def okr(self, top: int) -> int:
        """Progress of each company objective (engine.okr: KR-weighted, clipped to 0–100%)."""
        s, plan, root = self.s, self.ctx.plan, self.ctx.tree.root
        s.label(top, 0, msg("OKR progress: company objectives"), "section")
        company = [o for o in plan.okrs if o.unit in (None, root)]
        head = top + 1
        # the title runs over the empty cells of columns C to F
        cols: dict[str, int] = {msg("Objective"): 0, msg("Title"): 1, msg("Owner"): 6,
                                msg("Key results"): 7, msg("Progress"): 8,
                                msg("Latest KR due"): 9}
        for c in range(cols["Latest KR due"] + 1):
            s.label(head, c, next((k for k, v in cols.items() if v == c), data("")), "header")
        if not company:
            s.label(head + 1, 0, msg("The plan has no company objectives."), "note")
            return head + 3
        r = head + 1
        for o in company:
            s.label(r, cols["Objective"], data(o.id))
            s.label(r, cols["Title"], data(o.title))
            s.label(r, cols["Owner"], data(o.owner))
            s.given(r, cols["Key results"], len(o.krs), "integer")
            progress = [nan_blank(kr_progress(k.start, k.target, k.current)) for k in o.krs]
            value = objective_value(progress, [k.weight for k in o.krs])
            s.given(r, cols["Progress"], value if isinstance(value, float) else None, "ratio")
            dues = [k.due for k in o.krs if k.due is not None]
            s.given(r, cols["Latest KR due"], max(dues) if dues else None, "date")
            r += 1
        c = cols["Progress"]
        add_data_bar(s, head + 1, c, r - 1, 1)
        s.label(r, 0, msg("Progress as on the OKR sheet: (current − start) ÷ (target − start), "
                      "held to 0–100%, averaged by KR weight."), "note")
        return r + 2

    def bsc(self, top: int) -> int:
        """The BSC perspectives; their scores stay blank until the regions report actuals."""
        s, kpis = self.s, self.ctx.plan.bsc.kpis
        s.label(top, 0, msg("Balanced scorecard"), "section")
        head = top + 1
        for c, text in enumerate([msg("Perspective"), msg("KPIs"), msg("Weight"),
                                  msg("Score (0-10)"), msg("Status")]):
            s.label(head, c, text, "header")
        if not kpis:
            s.label(head + 1, 0, msg("The plan has no KPIs."), "note")
            return head + 3
        frame = bsc_scores(kpis, {}).perspectives
        r = head + 1
        for row in frame.to_dict("records"):
            s.label(r, 0, data(row["perspective"]))
            s.given(r, 1, int(row["kpis"]), "integer")
            s.given(r, 2, float(sum(k.weight for k in kpis
                                    if str(k.perspective) == str(row["perspective"]))), "factor")
            s.given(r, 3, None, "score")
            s.label(r, 4, msg("awaiting actuals"), "note")
            r += 1
        s.label(r, 0, msg("Total"), "bold")
        s.formula(r, 1, f"SUM({ref(head + 1, 1)}:{ref(r - 1, 1)})", len(kpis), "integer")
        s.formula(r, 2, f"SUM({ref(head + 1, 2)}:{ref(r - 1, 2)})",
                  float(sum(k.weight for k in kpis)), "factor")
        s.given(r, 3, None, "score")
        return r + 2

    # --- charts -------------------------------------------------------------------------------

    def charts(self, target: _Layout, budget_head: int | None) -> None:
        wb, ctx = self.book.wb, self.ctx
        first, last = target.first, target.last
        months = [sum(v[m] for v in self.months.values()) for m in range(MONTHS)]
        month_fmt = axis_format(ctx.money(max(months, default=0)))
        # target by month, stacked by region (few regions) or the company total (many: a chart
        # holds at most 255 series, and 30 stacked colours are unreadable anyway)
        chart = wb.add_chart({"type": "column", "subtype": "stacked"})
        assert chart is not None
        stacked = len(target.rows) <= MAX_STACKED
        for r in (target.rows.values() if stacked else [target.total]):
            chart.add_series({"name": [self.s.name, r, 0],
                              "categories": [self.s.name, target.head, 1, target.head, MONTHS],
                              "values": [self.s.name, r, 1, r, MONTHS], "gap": 40})
        title = msg("Target by month, stacked by region") if stacked else msg("Target by month")
        chart.set_title({"name": self.book.words(title), "name_font": {"size": 11, "bold": True}})
        chart.set_y_axis({"num_format": month_fmt, "num_font": {"size": 8},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_x_axis({"num_font": {"size": 8, "rotation": -45}})
        chart.set_legend({"position": "bottom", "font": {"size": 8}})
        chart.set_size({"width": 6 * _px(WIDTH_MONTH) - 16, "height": CHART_HEIGHT})
        self.s.ws.insert_chart(HEADLINE, 3, chart, {"x_offset": 8, "y_offset": 2})
        # target by region
        gap = 50 if len(self.units) > 4 else 150  # few regions: thinner bars
        year_fmt = axis_format(ctx.money(max((sum(v) for v in self.months.values()), default=0)))
        bar = wb.add_chart({"type": "bar"})
        assert bar is not None
        bar.add_series({"name": self.book.words(msg("Target")),
                        "categories": [self.s.name, first, 0, last, 0],
                        "values": [self.s.name, first, TOTAL, last, TOTAL],
                        "fill": {"color": HEADER_FILL}, "border": {"none": True}, "gap": gap,
                        "data_labels": {"value": True, "num_format": year_fmt,
                                        "font": {"size": 8}}})
        bar.set_title({"name": self.book.words(msg("Target by region (year)")),
                       "name_font": {"size": 11, "bold": True}})
        bar.set_legend({"none": True})
        # the category axis, first region on top; the value axis stays at the bottom
        bar.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 8}})
        bar.set_x_axis({"num_format": year_fmt, "num_font": {"size": 8},
                        "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        width = 4 * _px(WIDTH_MONTH) + _px(WIDTH_TOTAL) + _px(WIDTH_CHECK) - 16
        bar.set_size({"width": width, "height": CHART_HEIGHT})
        self.s.ws.insert_chart(HEADLINE, 9, bar, {"x_offset": 8, "y_offset": 2})
        if budget_head is None or self.alloc is None:
            return
        # budget by region, stacked by pool
        b_first, b_last = budget_head + 1, budget_head + len(self.units)
        budget_fmt = axis_format(ctx.money(max(self.alloc.units.values(), default=0)))
        pools = wb.add_chart({"type": "bar", "subtype": "stacked"})
        assert pools is not None
        for i, pool in enumerate(POOL_NAMES):
            pools.add_series({"name": [self.s.name, budget_head, 2 + i],
                              "categories": [self.s.name, b_first, 0, b_last, 0],
                              "values": [self.s.name, b_first, 2 + i, b_last, 2 + i],
                              "fill": {"color": POOL_COLOURS[pool]}, "border": {"none": True},
                              "gap": gap})
        pools.set_title({"name": self.book.words(msg("Budget by region and pool")),
                         "name_font": {"size": 11, "bold": True}})
        pools.set_legend({"position": "bottom", "font": {"size": 8}})
        pools.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 8}})
        pools.set_x_axis({"num_format": budget_fmt, "num_font": {"size": 8},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        # beside the table, over columns J to O (the table ends at column I)
        pools.set_size({"width": width - 16, "height": self._budget_chart_height()})
        self.s.ws.insert_chart(budget_head - 1, 9, pools, {"x_offset": 24, "y_offset": 2})


def write_dashboard(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The Dashboard (master only): headline, region × month tables, budget, OKR, BSC, charts."""
    if not scope.is_master:
        return
    d = _Dashboard(book, ctx, scope)
    d.title()
    d.headline_figures()
    d.status_bands()
    target = d.targets(TABLES)
    actual = d.actuals(target.total + 3)
    attained = d.attainment(actual.total + 3, target, actual)
    after_budget, budget_head = d.budget_table(attained.total + 3, target)
    after_okr = d.okr(after_budget)
    last_row = d.bsc(after_okr)
    d.charts(target, budget_head)
    s = d.s
    s.widths({0: WIDTH_A, **{c: WIDTH_MONTH for c in range(1, TOTAL)}, TOTAL: WIDTH_TOTAL,
              CHECK: WIDTH_CHECK})
    s.ws.hide_gridlines(2)
    s.ws.freeze_panes(3, 1)
    s.ws.print_area(0, 0, last_row, LAST_COL)
    s.ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
