"""The Targets sheets: how every target follows from the plan, as live formulas.

Master: the org tree, one block of siblings under each parent, with every
allocation factor in its own column and the weight as their product; the
target of each unit is its parent's target split by weight (the rounding on the
Rounding sheet). Unit workbook: the unit's annual target split over products,
the channel tree and the fiscal months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlplan.engine.allocate import Trace, order_by_code, trace_rows
from xlplan.engine.decompose import split_unit_targets
from xlplan.engine.org import child_weights, factor_breakdown
from xlplan.engine.phasing import Profile
from xlplan.i18n import Msg, data, msg, quarter_label
from xlplan.spec.models import AllocationMethod, Maturity
from xlplan.workbook.book import Book, Sheet, quote_sheet, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.layout import amounts_in
from xlplan.workbook.splitter import Splitter

SHEET = msg("Targets")
ORG_HEADERS: list[str] = [msg("Code"), msg("Name"), msg("Parent"), msg("Kind"), msg("Manager"),
               msg("Base potential"), msg("Priority"), msg("Maturity"), msg("Maturity factor"),
               msg("New-hire share"), msg("New-hire factor")]


@dataclass(frozen=True)
class Param:
    label: Msg
    value: float
    style: str = "factor"


def _write_params(sheet: Sheet, row: int, params: dict[str, Param]) -> dict[str, str]:
    """A small block of locked parameters; returns absolute refs by key."""
    sheet.label(row, 0, msg("Allocation parameters"), "bold")
    refs = {}
    for i, (key, p) in enumerate(params.items(), start=1):
        sheet.label(row + i, 0, p.label)
        sheet.given(row + i, 1, p.value, p.style)
        refs[key] = ref(row + i, 1, absolute=True)
    return refs


def write_master_targets(book: Book, splitter: Splitter, ctx: BuildContext) -> dict[str, str]:
    """The org tree with factors, weights and targets; returns each unit's target cell."""
    plan, rules, tree = ctx.plan, ctx.plan.allocation, ctx.tree
    sheet = book.sheet(SHEET)
    q = book.quote(SHEET)
    sheet.label(0, 0, msg("{plan}: targets by unit", plan=data(plan.name)), "title")
    sheet.label(1, 0, msg("Amounts in {currency}. Each unit's target = its parent's target × "
                          "its weight ÷ its siblings' weights, rounded to the cent (see the "
                          "Rounding sheet). Weight = base × priority × maturity × new-hire × "
                          "history factors.", currency=amounts_in(plan)), "subtitle")
    mf = rules.maturity_factors
    years = rules.history_years
    p = _write_params(sheet, 3, {
        "incubating": Param(msg("Maturity factor: incubating"), mf.get(Maturity.incubating, 0.8)),
        "growing": Param(msg("Maturity factor: growing"), mf.get(Maturity.growing, 1.0)),
        "mature": Param(msg("Maturity factor: mature"), mf.get(Maturity.mature, 1.2)),
        "threshold": Param(msg("New-hire share above"), rules.new_hire_threshold, "ratio"),
        "hire": Param(msg("… multiplies the weight by"), rules.new_hire_factor),
        "uplift": Param(msg("Over target {years} years running: uplift", years=years),
                        rules.history_uplift,
                        "ratio"),
    })
    head = 11
    hist_cols: list[str] = [msg("Attainment y-{n}", n=years - i) for i in range(years)]
    headers = [*ORG_HEADERS, *hist_cols, msg("History factor"), msg("Hold"), msg("Weight"),
               msg("Share"), msg("Target"), msg("Notes")]
    for c, text in enumerate(headers):
        sheet.label(head, c, text, "header")
    col = {name: i for i, name in enumerate(headers)}
    h0, h1 = col[hist_cols[0]], col[hist_cols[-1]]
    # rows: root, then each parent's children as one contiguous block (breadth first)
    order = [tree.root]
    for code in tree.walk():
        order.extend(tree.children[code])
    row_of = {code: head + 1 + i for i, code in enumerate(order)}
    target_ref: dict[str, str] = {}
    for code in order:
        r, unit = row_of[code], tree.units[code]
        for key, value in (("Code", unit.code), ("Name", unit.name), ("Parent", unit.parent or ""),
                           ("Kind", unit.kind), ("Manager", unit.manager)):
            sheet.label(r, col[key], data(value))
        if code == tree.root:
            sheet.given(r, col["Target"], ctx.money(ctx.targets[code]), "money_bold")
            target_ref[code] = f"{q}{ref(r, col['Target'], absolute=True)}"
            continue
        wb = factor_breakdown(unit, rules)
        f = unit.factors
        sheet.given(r, col["Base potential"], unit.base)
        sheet.given(r, col["Priority"], f.priority, "factor")
        sheet.label(r, col["Maturity"], data(f.maturity.value))
        m = ref(r, col["Maturity"])
        sheet.formula(r, col["Maturity factor"],
                      f'IF({m}="mature",{p["mature"]},IF({m}="incubating",{p["incubating"]},'
                      f'{p["growing"]}))', wb.maturity, "factor")
        sheet.given(r, col["New-hire share"], f.new_hire_share, "ratio")
        sheet.formula(r, col["New-hire factor"],
                      f'IF({ref(r, col["New-hire share"])}>{p["threshold"]},{p["hire"]},1)',
                      wb.new_hire, "factor")
        last = f.attainment_history[-years:]
        padded: list[float | None] = [None] * (years - len(last)) + list(last)
        for i, past in enumerate(padded):
            sheet.given(r, h0 + i, past, "ratio")
        hist = f"{ref(r, h0)}:{ref(r, h1)}"
        sheet.formula(r, col["History factor"],
                      f"IF(AND(COUNT({hist})={years},MIN({hist})>=1),1+{p['uplift']},1)",
                      wb.history, "factor")
        sheet.given(r, col["Hold"], ctx.money(int(unit.hold / ctx.su)) if unit.hold is not None
                    else None, "money")
        if rules.method == AllocationMethod.factors:
            factors = "*".join(ref(r, col[k]) for k in ("Base potential", "Priority",
                                                         "Maturity factor", "New-hire factor",
                                                         "History factor"))
            sheet.formula(r, col["Weight"], factors, wb.weight, "factor")
        else:
            weights = child_weights(tree, unit.parent or "", rules, _prior_revenue(ctx))
            sheet.given(r, col["Weight"], weights[code].weight, "factor")
        sheet.label(r, col["Notes"], data("; ".join(wb.notes)))
    # targets: split each parent's target over its free (not held) children
    for parent in order:
        kids = tree.children[parent]
        if not kids:
            continue
        weights = child_weights(tree, parent, rules, _prior_revenue(ctx))
        rows = [row_of[k] for k in kids]
        wcol = col["Weight"]
        wrange = f"{ref(rows[0], wcol, True)}:{ref(rows[-1], wcol, True)}"
        for k in kids:
            r = row_of[k]
            sheet.formula(r, col["Share"], f"{ref(r, wcol)}/SUM({wrange})",
                          weights[k].weight / sum(w.weight for w in weights.values()), "ratio")
        free = [k for k in kids if tree.units[k].hold is None]
        held = [k for k in kids if tree.units[k].hold is not None]
        parent_minor = f"ROUND({target_ref[parent]}/{ctx.su_text},0)"
        hold_range = f"{q}{ref(rows[0], col['Hold'], True)}:{ref(rows[-1], col['Hold'], True)}"
        total_formula = f"{parent_minor}-ROUND(SUM({hold_range})/{ctx.su_text},0)"
        held_total = sum(ctx.targets[k] for k in held)
        results = splitter.split(
            data(f"{parent} → {', '.join(free)}"), total_formula, ctx.targets[parent] - held_total,
            [(f"{q}{ref(row_of[k], wcol, True)}", weights[k].weight) for k in free],
            free, order_by_code(free)).refs
        for k, res in zip(free, results, strict=True):
            r = row_of[k]
            sheet.formula(r, col["Target"], f"{res}*{ctx.su_text}", ctx.money(ctx.targets[k]))
        for k in held:
            r = row_of[k]
            sheet.formula(r, col["Target"], ref(r, col["Hold"]), ctx.money(ctx.targets[k]))
        for k in kids:
            target_ref[k] = f"{q}{ref(row_of[k], col['Target'], absolute=True)}"
    sheet.widths({0: 12, 1: 22, 2: 10, 3: 10, 4: 14, col["Target"]: 18, col["Notes"]: 40})
    sheet.ws.freeze_panes(head + 1, 2)
    sheet.ws.autofilter(head, 0, head + len(order), len(headers) - 1)
    return target_ref


def _prior_revenue(ctx: BuildContext) -> dict[str, int] | None:
    if ctx.prior is None:
        return None
    return {str(k): int(v) for k, v in ctx.prior.revenue_by("unit").items()}


@dataclass(frozen=True)
class UnitCube:
    """Where a unit's cube landed: cells of each product × leaf channel × month (money)."""

    annual_ref: str
    month_refs: dict[tuple[str, str], list[str]]  # (product, leaf channel) → 12 refs
    expected: dict[tuple[str, str], list[int]]  # the same, in minor units (engine)


def write_unit_targets(book: Book, splitter: Splitter, ctx: BuildContext, unit: str) -> UnitCube:
    """The unit's annual target split over products, channels and months, as formulas."""
    plan = ctx.plan
    sheet = book.sheet(SHEET)
    q = book.quote(SHEET)
    cube = split_unit_targets(np.array([ctx.targets[unit]]), plan, ctx.prior)[0]
    u = ctx.tree.units[unit]
    sheet.label(0, 0, msg("{plan}: targets for {unit} ({code})", plan=data(plan.name),
                          unit=data(u.name), code=data(unit)), "title")
    sheet.label(1, 0, msg("Amounts in {currency}. The annual target comes from the master plan; "
                          "it is split by product mix, then by channel shares, then over the "
                          "months by the seasonality profile (Rounding sheet: to the cent).",
                          currency=amounts_in(plan)), "subtitle")
    sheet.label(3, 0, msg("Annual target"), "bold")
    sheet.given(3, 2, ctx.money(ctx.targets[unit]), "money_bold")
    annual = f"{q}{ref(3, 2, True)}"
    book.define("UnitTarget", annual)
    # seasonality parameters
    prof = ctx.profile
    sheet.label(5, 0, msg("Seasonality"), "bold")
    qrefs: list[str] = []
    if prof.quarter_weights is not None:
        sheet.label(6, 0, msg("Quarter weights"))
        for i, w in enumerate(prof.quarter_weights):
            sheet.label(5, 2 + i, quarter_label(i + 1), "header")
            sheet.given(6, 2 + i, w, "factor")
            qrefs.append(f"{q}{ref(6, 2 + i, True)}")
    sheet.label(7, 0, msg("Month weights (within quarter)") if qrefs else msg("Month weights"))
    mrefs = []
    for i, w in enumerate(prof.month_weights):
        sheet.given(7, 2 + i, w, "factor")
        mrefs.append(f"{q}{ref(7, 2 + i, True)}")
    # product split
    head = 9
    for c, word in enumerate([msg("Product"), msg("Name"), msg("Line"), msg("BCG"),
                              msg("Mix weight"), msg("Share"), msg("Annual target")]):
        sheet.label(head, c, word, "header")
    codes = [p.code for p in plan.products]
    weights = ctx.product_weights
    wrange = f"{ref(head + 1, 4, True)}:{ref(head + len(codes), 4, True)}"
    for i, p in enumerate(plan.products):
        r = head + 1 + i
        for c, value in enumerate([p.code, p.name, p.line.value, p.bcg.value if p.bcg else ""]):
            sheet.label(r, c, data(value))
        sheet.given(r, 4, weights[i], "factor")
        sheet.formula(r, 5, f"{ref(r, 4)}/SUM({wrange})", weights[i] / sum(weights), "ratio")
    unit_minor = f"ROUND({annual}/{ctx.su_text},0)"
    by_product, product_minor = splitter.split(
        msg("{unit} → products", unit=data(unit)), unit_minor, ctx.targets[unit],
        [(f"{q}{ref(head + 1 + i, 4, True)}", w) for i, w in enumerate(weights)], codes,
        order_by_code(codes))
    for i in range(len(codes)):
        sheet.formula(head + 1 + i, 6, f"{by_product[i]}*{ctx.su_text}",
                      ctx.money(product_minor[i]))
    # product × channel × month
    top = head + len(codes) + 3
    headers: list[str] = [msg("Product"), msg("Channel"), msg("Share"), msg("Annual"),
                          *ctx.month_labels,
                          *(quarter_label(q) for q in range(1, 5))]
    for c, text in enumerate(headers):
        sheet.label(top, c, text, "header")
    writer = _CubeWriter(sheet, splitter, ctx, unit, cube, qrefs, mrefs, top + 1)
    for pi, pcode in enumerate(codes):
        writer.channels(pi, pcode, None, by_product[pi], product_minor[pi], 0)
        writer.row += 1
    sheet.widths({0: 14, 1: 22, 2: 10, 3: 16, **{c: 13 for c in range(4, 20)}})
    sheet.ws.freeze_panes(top + 1, 2)
    return UnitCube(annual, writer.month_refs, writer.expected)


class _CubeWriter:
    """Writes one unit's product → channel tree → months rows under the product table."""

    def __init__(self, sheet: Sheet, splitter: Splitter, ctx: BuildContext, unit: str,
                 cube: np.ndarray, qrefs: list[str], mrefs: list[str], row: int):
        self.sheet, self.splitter, self.ctx, self.unit = sheet, splitter, ctx, unit
        self.cube, self.qrefs, self.mrefs, self.row = cube, qrefs, mrefs, row
        self.q = quote_sheet(sheet.name)
        self.leaves = ctx.channels.leaves()
        self.month_refs: dict[tuple[str, str], list[str]] = {}
        self.expected: dict[tuple[str, str], list[int]] = {}
        self.traces = _YearSplits(cube, ctx.profile)

    def channels(self, pi: int, pcode: str, parent: str | None, total_ref: str, total: int,
                 depth: int) -> None:
        """Rows of ``parent``'s channel children (split by share), then their subtrees."""
        tree, s = self.ctx.channels, self.sheet
        kids = tree.children[None] if parent is None else tree.children.get(parent, [])
        shares = [tree.channels[k].share for k in kids]
        rows = {}
        for k in kids:
            rows[k] = self.row
            s.label(self.row, 0, data(pcode))
            s.label(self.row, 1, data("  " * depth + k))
            s.given(self.row, 2, tree.channels[k].share, "ratio")
            self.row += 1
        label = (msg("{unit} · {product} → channels under {parent}", unit=data(self.unit),
                     product=data(pcode), parent=data(parent)) if parent else
                 msg("{unit} · {product} → channels", unit=data(self.unit), product=data(pcode)))
        results, amounts = self.splitter.split(
            label, total_ref, total,
            [(f"{self.q}{ref(rows[k], 2, True)}", w) for k, w in zip(kids, shares, strict=True)],
            kids, order_by_code(kids))
        for k, result, amount in zip(kids, results, amounts, strict=True):
            s.formula(rows[k], 3, f"{result}*{self.ctx.su_text}", self.ctx.money(amount))
            if tree.children.get(k):
                self.channels(pi, pcode, k, result, amount, depth + 1)
            else:
                self.months(rows[k], pi, pcode, k, result, amount)

    def months(self, r: int, pi: int, pcode: str, leaf: str, total_ref: str, total: int) -> None:
        """A leaf channel's year over quarters then months (or months directly)."""
        ctx, prof, s = self.ctx, self.ctx.profile, self.sheet
        li = self.leaves.index(leaf)
        months = self.cube[pi, li].tolist()
        label = data(f"{self.unit} · {pcode} · {leaf}")
        refs: list[str] = []
        if prof.quarter_weights is not None:
            qres, quarters = self.splitter.split(
                msg("{split} → quarters", split=label), total_ref, total,
                list(zip(self.qrefs, prof.quarter_weights, strict=True)),
                [quarter_label(q) for q in range(1, 5)], [0, 1, 2, 3],
                trace=self.traces.top(pi, li))
            for qi in range(4):
                span = slice(3 * qi, 3 * qi + 3)
                refs += self.splitter.split(
                    msg("{split} · {quarter} → months", split=label,
                        quarter=quarter_label(qi + 1)), qres[qi], quarters[qi],
                    list(zip(self.mrefs[span], prof.month_weights[span], strict=True)),
                    ctx.month_labels[span], [0, 1, 2],
                    trace=self.traces.in_quarter(qi, pi, li)).refs
        else:
            refs = self.splitter.split(msg("{split} → months", split=label), total_ref, total,
                                       list(zip(self.mrefs, prof.month_weights, strict=True)),
                                       ctx.month_labels, list(range(12)),
                                       trace=self.traces.top(pi, li)).refs
        cells = []
        for m in range(12):
            cells.append(f"{self.q}{ref(r, 4 + m, True)}")
            s.formula(r, 4 + m, f"{refs[m]}*{ctx.su_text}", ctx.money(months[m]))
        for qi in range(4):
            s.formula(r, 16 + qi, f"SUM({ref(r, 4 + 3 * qi)}:{ref(r, 6 + 3 * qi)})",
                      ctx.money(sum(months[3 * qi:3 * qi + 3])))
        self.month_refs[(pcode, leaf)] = cells
        self.expected[(pcode, leaf)] = months


class _YearSplits:
    """Every (product, leaf channel)'s split of its year, computed at once.

    A leaf's total is the sum of its months in the engine's cube. There are hundreds of
    these splits per unit, all over the same weights, and numpy costs ~0.1 ms a call
    whatever its size: one call per level, and the writer takes each leaf's row.
    """

    def __init__(self, cube: np.ndarray, prof: Profile):
        self.leaves = cube.shape[1]
        totals = cube.sum(axis=2).reshape(-1)
        self.quarters: list[Trace] = []
        if prof.quarter_weights is None:
            self.year = trace_rows(totals, prof.month_weights, order=list(range(12)))
            return
        self.year = trace_rows(totals, list(prof.quarter_weights), order=[0, 1, 2, 3])
        self.quarters = [trace_rows(self.year.result[:, qi], prof.month_weights[3 * qi:3 * qi + 3],
                                    order=[0, 1, 2]) for qi in range(4)]

    def top(self, pi: int, li: int) -> Trace:
        """The leaf's year over quarters, or over months when there are no quarter weights."""
        return self.year.row(pi * self.leaves + li)

    def in_quarter(self, qi: int, pi: int, li: int) -> Trace:
        """The leaf's quarter ``qi`` over its three months."""
        return self.quarters[qi].row(pi * self.leaves + li)
