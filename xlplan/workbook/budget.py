"""The Budget sheets (预算与资源分配): where the money goes, and the zero-based requests.

Master: the total, the company reserve held at HQ, the distributable budget,
each input unit's budget (split by its share of the target) and its base /
incentive / reserve pools, and the distributable budget by product along the
BCG rule of thumb (stars first). Every split is a largest-remainder split on
the Rounding sheet (:class:`~xlplan.workbook.splitter.Splitter`), exactly
:mod:`xlplan.engine.budget`, so every part ties to its whole to the cent.

Unit workbook: the unit's allocation and pools (locked: they come from the
master), a reserve draw with who may approve it, and zero-based request lines
(each item justifies itself by its expected return: an ROI below the floor
freezes it). Requests are totalled per pool and against the allocation with the
engine's budget tolerance (over or under by more than it needs a note).
"""

from __future__ import annotations

import math

from xlplan.engine.allocate import AllocationError, order_by_code
from xlplan.engine.budget import (
    POOL_NAMES,
    bcg_split,
    request_lines,
    reserve_decision,
)
from xlplan.engine.last_year import classify_bcg
from xlplan.engine.rounding import excel_round
from xlplan.engine.variance import budget_check
from xlplan.i18n import data, msg
from xlplan.spec.models import BCG, Budget
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.commitments import excel_sum, number
from xlplan.workbook.context import Allocation, BuildContext
from xlplan.workbook.input_rules import AMOUNT, TEXT, InputRule
from xlplan.workbook.layout import amounts_in
from xlplan.workbook.scope import Scope

SHEET = msg("Budget")
REQUEST_LINES = 12
CATEGORY = InputRule("list", None, choices=POOL_NAMES, title=msg("Pool"),
                     message=msg("The pool the item is paid from: base, incentive or reserve."))
RETURN = InputRule("number", 0.0, title=msg("Expected return"),
                   message=msg("The return the item is expected to bring, ≥ 0, in the plan "
                               "currency."))


def _minor(ctx: BuildContext, amount: float) -> int:
    """``ROUND(amount/0.01,0)``: an amount typed in a cell as whole minor units."""
    return int(excel_round(amount / float(ctx.su), 0))


def _params(s: Sheet, row: int, items: list[tuple[str, str, float, str]]) -> dict[str, str]:
    """Locked parameters (label, value) one per row; returns absolute refs by key."""
    out = {}
    for i, (key, label, value, style) in enumerate(items):  # label: a catalog message
        s.label(row + i, 0, label)
        s.given(row + i, 1, value, style)
        out[key] = ref(row + i, 1, absolute=True)
    return out


def _tie(s: Sheet, row: int, col: int, parts: str, whole: str, ties: bool) -> None:
    """A check cell: "ties" when ``parts`` add up to ``whole`` to the cent."""
    s.formula(row, col, formulas.tie_check(parts, whole, 2, formulas.quoted("ties"),
                                           formulas.quoted("does not tie")),
              "ties" if ties else "does not tie", "bold")


def write_budget(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The master's allocation or a unit's allocation and requests (module docstring)."""
    s = book.sheet(SHEET)
    budget = ctx.plan.budget
    if budget is None:
        s.label(0, 0, msg("{plan}: budget", plan=data(ctx.plan.name)), "title")
        s.label(1, 0, msg("The plan has no budget section."), "subtitle")
        return
    alloc = ctx.budget_allocation
    assert alloc is not None  # there is a budget
    if scope.unit is None:
        _write_master(book, ctx, scope, budget, alloc)
    else:
        _write_unit(book, ctx, scope.unit, budget, alloc)


def _write_master(book: Book, ctx: BuildContext, scope: Scope, budget: Budget,
                  alloc: Allocation) -> None:
    s, su, q = book.sheet(SHEET), ctx.su_text, book.quote(SHEET)
    split, splitter = alloc.split, scope.splitter
    s.label(0, 0, msg("{plan}: budget allocation", plan=data(ctx.plan.name)), "title")
    s.label(1, 0, msg("Amounts in {currency}. The company reserve is held at HQ; the rest is "
                      "split over the units by their share of the target, and each unit's "
                      "budget over its pools. Every split is rounded to the cent on the "
                      "Rounding sheet, so the parts always add up.",
                      currency=amounts_in(ctx.plan)), "subtitle")
    s.label(3, 0, msg("Parameters"), "bold")
    p = _params(s, 4, [
        ("total", msg("Total budget"), ctx.money(split.total), "money_bold"),
        ("reserve", msg("Company reserve share"), budget.company_reserve, "ratio"),
        ("base", msg("Pool share: base"), budget.pools.base, "ratio"),
        ("incentive", msg("Pool share: incentive"), budget.pools.incentive, "ratio"),
        ("pool_reserve", msg("Pool share: risk reserve"), budget.pools.reserve, "ratio"),
        ("roi", msg("ROI floor (below it an item is frozen)"), budget.roi_floor, "factor"),
        ("tolerance", msg("Spend tolerance (±)"), budget.tolerance, "ratio"),
        ("authority", msg("Regional reserve authority"), budget.regional_reserve_authority,
         "ratio"),
    ])
    # company reserve and distributable: engine.budget.split_budget
    r = 13
    s.label(r, 0, msg("Company split"), "bold")
    res = splitter.split(msg("Budget → company reserve, distributable"),
                         f"ROUND({q}{p['total']}/{su},0)", split.total,
                         [(f"{q}{p['reserve']}", split.reserve_share),
                          (f"1-{q}{p['reserve']}", 1.0 - split.reserve_share)],
                         ["company reserve", "distributable"], [0, 1]).refs
    s.label(r + 1, 0, msg("Company reserve (held at HQ)"))
    reserve = s.formula(r + 1, 1, f"{res[0]}*{su}", ctx.money(split.company_reserve))
    s.label(r + 2, 0, msg("Distributable"))
    dist = s.formula(r + 2, 1, f"{res[1]}*{su}", ctx.money(split.distributable), "money_bold")
    s.label(r + 3, 0, msg("Check"))
    _tie(s, r + 3, 1, f"{reserve}+{dist}", p["total"], True)
    book.define("Distributable", f"{q}{ref(r + 2, 1, absolute=True)}")
    # units: engine.budget.unit_budgets and unit_pools
    top = r + 5
    s.label(top, 0, msg("Budget by unit (share of target)"), "bold")
    headers = [msg("Unit"), msg("Name"), msg("Target"), msg("Share of target"), msg("Budget"),
               msg("Base"), msg("Incentive"), msg("Risk reserve"), msg("Check")]
    for c, text in enumerate(headers):
        s.label(top + 1, c, text, "header")
    s.ws.set_row(top + 1, 30)
    units = list(alloc.units)
    rows = [top + 2 + i for i in range(len(units))]
    target_refs = scope.refs["targets"]
    total_target = sum(ctx.targets[u] for u in units)
    t_rng = f"{ref(rows[0], 2, True)}:{ref(rows[-1], 2, True)}"
    for u, row in zip(units, rows, strict=True):
        s.label(row, 0, data(u))
        s.label(row, 1, data(ctx.tree.units[u].name))
        s.formula(row, 2, target_refs[u], ctx.money(ctx.targets[u]))
        s.formula(row, 3, f"{ref(row, 2)}/SUM({t_rng})", ctx.targets[u] / total_target, "ratio")
    dist_abs = f"{q}{ref(r + 2, 1, absolute=True)}"
    by_unit = splitter.split(msg("Distributable → units (by target)"), f"ROUND({dist_abs}/{su},0)",
        split.distributable,
        [(f"ROUND({q}{ref(row, 2, True)}/{su},0)", float(ctx.targets[u]))
         for u, row in zip(units, rows, strict=True)], units, order_by_code(units)).refs
    pool_refs = [f"{q}{p[k]}" for k in ("base", "incentive", "pool_reserve")]
    pool_shares = [budget.pools.base, budget.pools.incentive, budget.pools.reserve]
    for u, row, result in zip(units, rows, by_unit, strict=True):
        amount = s.formula(row, 4, f"{result}*{su}", ctx.money(alloc.units[u]))
        parts = splitter.split(msg("{unit} budget → pools", unit=data(u)), result, alloc.units[u],
                               list(zip(pool_refs, pool_shares, strict=True)),
                               list(POOL_NAMES), [0, 1, 2]).refs
        for i, (name, part) in enumerate(zip(POOL_NAMES, parts, strict=True)):
            s.formula(row, 5 + i, f"{part}*{su}", ctx.money(alloc.pools[u][name]))
        _tie(s, row, 8, f"SUM({ref(row, 5)}:{ref(row, 7)})", amount, True)
    total = rows[-1] + 1
    s.label(total, 0, msg("Total"), "bold")
    sums = {2: ctx.money(total_target), 3: 1.0, 4: ctx.money(split.distributable),
            **{5 + i: ctx.money(sum(alloc.pools[u][n] for u in units))
               for i, n in enumerate(POOL_NAMES)}}
    for c, value in sums.items():
        s.formula(total, c, f"SUM({ref(rows[0], c)}:{ref(rows[-1], c)})", value,
                  "ratio" if c == 3 else "money_bold")
    _tie(s, total, 8, ref(total, 4), dist, True)
    _write_bcg(book, ctx, scope, budget, alloc, dist_abs, total + 2)
    s.widths({0: 36, 1: 22, 2: 16, 3: 12, 4: 16, 5: 15, 6: 15, 7: 15, 8: 12})


def _write_bcg(book: Book, ctx: BuildContext, scope: Scope, budget: Budget, alloc: Allocation,
               dist: str, top: int) -> None:
    """The distributable budget by product: over BCG classes, then evenly within each class."""
    s, su, q, splitter = book.sheet(SHEET), ctx.su_text, book.quote(SHEET), scope.splitter
    products = ctx.plan.products
    amount = alloc.split.distributable
    s.label(top, 0, msg("Distributable budget by product (BCG rule of thumb: stars first)"),
            "bold")
    try:
        expected = bcg_split(amount, products, budget.bcg_weights)
    except (AllocationError, ValueError) as exc:
        s.label(top + 1, 0, msg("Not split by product: {why}.", why=data(exc)), "subtitle")
        return
    classes = [c.value for c in BCG]
    members = {c: [p.code for p in products if (cls := classify_bcg(p)) is not None
                   and cls.value == c] for c in classes}
    weights = {str(k): float(v) for k, v in budget.bcg_weights.items()}
    used = [weights.get(c, 0.0) if members[c] else 0.0 for c in classes]
    # products first (the class counts refer to their BCG column)
    prod_head = top + len(classes) + 4
    for i, text in enumerate([msg("Product"), msg("Name"), msg("BCG class"), msg("Amount")]):
        s.label(prod_head, i, text, "header")
    prow = {p.code: prod_head + 1 + i for i, p in enumerate(products)}
    for prod in products:
        cls = classify_bcg(prod)
        s.label(prow[prod.code], 0, data(prod.code))
        s.label(prow[prod.code], 1, data(prod.name))
        s.label(prow[prod.code], 2, data(cls.value if cls is not None else ""))
    bcg_rng = (f"{ref(prod_head + 1, 2, True)}:"
               f"{ref(prod_head + len(products), 2, True)}")
    for i, text in enumerate([msg("BCG class"), msg("Weight"), msg("Products"),
                              msg("Weight used"), msg("Amount")]):
        s.label(top + 1, i, text, "header")
    crow = {c: top + 2 + i for i, c in enumerate(classes)}
    for c in classes:
        r = crow[c]
        s.label(r, 0, data(c))
        s.given(r, 1, weights.get(c, 0.0), "ratio")
        s.formula(r, 2, f"COUNTIF({bcg_rng},{ref(r, 0)})", len(members[c]), "integer")
        s.formula(r, 3, f"IF({ref(r, 2)}>0,{ref(r, 1)},0)", used[classes.index(c)], "ratio")
    per_class, per_class_minor = splitter.split(
        msg("Distributable → BCG classes"), f"ROUND({dist}/{su},0)", amount,
        [(f"{q}{ref(crow[c], 3, True)}", w) for c, w in zip(classes, used, strict=True)],
        classes, list(range(len(classes))))
    for c, result, minor in zip(classes, per_class, per_class_minor, strict=True):
        s.formula(crow[c], 4, f"{result}*{su}", ctx.money(minor))
        kids = members[c]
        if not kids:
            continue
        parts = splitter.split(msg("{bcg} → products (evenly)", bcg=data(c)), result, minor,
                               [(None, 1.0)] * len(kids), kids, order_by_code(kids)).refs
        for code, part in zip(kids, parts, strict=True):
            s.formula(prow[code], 3, f"{part}*{su}", ctx.money(expected[code]))
    for prod in products:
        if classify_bcg(prod) is None:
            s.given(prow[prod.code], 3, 0.0, "money")
    total = prod_head + len(products) + 1
    s.label(total, 0, msg("Total"), "bold")
    s.formula(total, 3, f"SUM({ref(prod_head + 1, 3)}:{ref(total - 1, 3)})", ctx.money(amount),
              "money_bold")
    _tie(s, total, 4, ref(total, 3), dist, True)


def _write_unit(book: Book, ctx: BuildContext, unit: str, budget: Budget,
                alloc: Allocation) -> None:
    s, su, q = book.sheet(SHEET), ctx.su_text, book.quote(SHEET)
    mine, pools = alloc.units[unit], alloc.pools[unit]
    name = ctx.tree.units[unit].name
    s.label(0, 0, msg("Budget: {unit} ({code})", unit=data(name), code=data(unit)), "title")
    s.label(1, 0, msg("Amounts in {currency}. Your allocation and pools come from the master "
                      "plan (locked). Justify every item from zero in the yellow lines: an item "
                      "whose ROI (return ÷ amount) is below the floor is frozen; requests beyond "
                      "the tolerance of a pool or of the allocation need a root-cause note.",
                      currency=amounts_in(ctx.plan)), "subtitle")
    s.label(3, 0, msg("Parameters"), "bold")
    p = _params(s, 4, [
        ("alloc", msg("Your allocation"), ctx.money(mine), "money_bold"),
        ("roi", msg("ROI floor (below it an item is frozen)"), budget.roi_floor, "factor"),
        ("tolerance", msg("Spend tolerance (±)"), budget.tolerance, "ratio"),
        ("authority", msg("Reserve you may release (share of the risk reserve)"),
         budget.regional_reserve_authority, "ratio"),
    ])
    book.define("UnitBudget", f"{q}{p['alloc']}")
    head = 9
    total = head + len(POOL_NAMES) + 1
    req_head = total + 6
    first, last = req_head + 1, req_head + REQUEST_LINES
    cat_rng = f"{ref(first, 2, True)}:{ref(last, 2, True)}"
    amt_rng = f"{ref(first, 3, True)}:{ref(last, 3, True)}"
    # zero-based request lines (engine.budget.request_lines), written first: the pool
    # totals above them are computed from what was typed
    for c, text in enumerate([msg("No."), msg("Item"), msg("Pool"), msg("Amount"),
                              msg("Expected return"), msg("ROI"), msg("Frozen")]):
        s.label(req_head, c, text, "header")
    typed: list[tuple[object, float, float]] = []  # pool, amount, return as SUM sees them
    for i in range(REQUEST_LINES):
        r = first + i
        s.label(r, 0, data(i + 1))
        item = f"budget:request:{i + 1:02d}"
        s.input(r, 1, None, TEXT, item=f"{item}:item", style="input_label")
        s.input(r, 2, None, CATEGORY, item=f"{item}:pool", style="input_label")
        s.input(r, 3, None, AMOUNT, item=f"{item}:amount")
        s.input(r, 4, None, RETURN, item=f"{item}:return")
        typed.append((s.filled(r, 2), number(s.filled(r, 3)), number(s.filled(r, 4))))
    lines = request_lines([{"item": "", "category": str(pool or ""),
                            "amount": _minor(ctx, amount), "expected_return": _minor(ctx, ret)}
                           for pool, amount, ret in typed], budget.roi_floor)
    for i in range(REQUEST_LINES):
        r = first + i
        roi_value = float(lines["roi"].iloc[i])
        roi = s.formula(r, 5, f'IF(N({ref(r, 3)})=0,"",N({ref(r, 4)})/{ref(r, 3)})',
                        "" if math.isnan(roi_value) else roi_value, "factor")
        s.formula(r, 6, formulas.frozen(roi, p["roi"], "FROZEN"),
                  "FROZEN" if bool(lines["frozen"].iloc[i]) else "", "status")
    requested = excel_sum([amount for _, amount, _ in typed])
    s.label(last + 1, 0, msg("Total"), "bold")
    s.formula(last + 1, 3, f"SUM({amt_rng})", requested, "money_bold")
    s.formula(last + 1, 4, f"SUM({ref(first, 4)}:{ref(last, 4)})",
              excel_sum([ret for _, _, ret in typed]), "money_bold")
    # pools and the requests against them (engine.variance.budget_check)
    for c, text in enumerate([msg("Pool"), msg("Share"), msg("Allocated"), msg("Requested"),
                              msg("Deviation"), msg("Check")]):
        s.label(head, c, text, "header")
    shares = {"base": budget.pools.base, "incentive": budget.pools.incentive,
              "reserve": budget.pools.reserve}
    prow = {n: head + 1 + i for i, n in enumerate(POOL_NAMES)}
    for n in POOL_NAMES:
        r = prow[n]
        s.label(r, 0, data(n))
        s.given(r, 1, shares[n], "ratio")
        s.given(r, 2, ctx.money(pools[n]), "money")
        in_pool = excel_sum([amount for pool, amount, _ in typed
                             if isinstance(pool, str) and pool.lower() == n])
        s.formula(r, 3, f'SUMIF({cat_rng},{ref(r, 0)},{amt_rng})', in_pool)
        _deviation(s, ctx, r, ref(r, 3), ref(r, 2), p["tolerance"], in_pool, pools[n],
                   budget.tolerance)
    s.label(total, 0, msg("Total"), "bold")
    s.formula(total, 1, f"SUM({ref(head + 1, 1)}:{ref(total - 1, 1)})",
              sum(shares.values()), "ratio")
    s.formula(total, 2, f"SUM({ref(head + 1, 2)}:{ref(total - 1, 2)})", ctx.money(mine),
              "money_bold")
    s.formula(total, 3, f"SUM({amt_rng})", requested, "money_bold")
    _deviation(s, ctx, total, ref(total, 3), p["alloc"], p["tolerance"], requested, mine,
               budget.tolerance)
    s.label(total + 1, 0, msg("Pools add up to the allocation"))
    _tie(s, total + 1, 2, ref(total, 2), p["alloc"], sum(pools.values()) == mine)
    # reserve draw: engine.budget.reserve_decision
    r = total + 3
    s.label(r, 0, msg("Reserve you plan to draw"))
    s.input(r, 2, None, AMOUNT, item="budget:reserve_draw", period="year")
    s.label(r, 3, msg("Who decides"))
    draw = f"ROUND({ref(r, 2)}/{su},0)"
    pool = f"ROUND({ref(prow['reserve'], 2)}/{su},0)"
    s.formula(r, 4, f'IF({pool}=0,IF({draw}>0,"HQ","region"),'
                    f'IF(ROUND({draw}/{pool},9)<={p["authority"]},"region","HQ"))',
              reserve_decision(_minor(ctx, number(s.filled(r, 2))), pools["reserve"],
                               budget.regional_reserve_authority), "status")
    ws = s.ws
    red = book.wb.add_format({"bg_color": "#FFC7CE"})
    amber = book.wb.add_format({"bg_color": "#FFEB9C"})
    green = book.wb.add_format({"bg_color": "#C6EFCE"})
    ws.conditional_format(first, 6, last, 6, {"type": "cell", "criteria": "==",
                                               "value": '"FROZEN"', "format": red})
    for value, fmt in (('"over"', red), ('"under"', amber), ('"within"', green)):
        ws.conditional_format(head + 1, 5, total, 5, {"type": "cell", "criteria": "==",
                                                      "value": value, "format": fmt})
    s.widths({0: 40, 1: 30, 2: 16, 3: 16, 4: 16, 5: 10, 6: 10})


def _deviation(s: Sheet, ctx: BuildContext, row: int, spend: str, budget_cell: str,
               tolerance: str, spend_amount: float, budget_minor: int, tol: float) -> None:
    """Deviation and flag of requests against a budget, as engine.variance.budget_check.

    Both sides are compared in minor units (``ROUND(x/0.01,0)``), as the engine does.
    """
    su = ctx.su_text
    sp, bu = f"ROUND({spend}/{su},0)", f"ROUND({budget_cell}/{su},0)"
    check = budget_check(_minor(ctx, spend_amount), budget_minor, tol)
    dev = s.formula(row, 4, formulas.deviation(sp, bu),
                    "" if math.isnan(check.deviation) else check.deviation, "ratio")
    s.formula(row, 5, formulas.budget_flag_of(dev, sp, tolerance), check.flag, "status")
