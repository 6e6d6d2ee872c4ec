"""The master's Review sheet: last year by product, product line, channel and segment.

Step 1 of the method (复盘与洞察): before planning the increment, finance looks
at where last year's revenue, margin and cash came from. Revenue, cost and cash
are the prior-year actuals summed by :func:`xlplan.engine.last_year.review` (locked
givens); margin, margin %, revenue share and every total are live formulas with
the engine's values, so the sheet still adds up if someone checks it by hand.

Each product carries its BCG class; stars and cash cows are marked by
conditional formatting, dogs too (they are due an exit review), and a small
table next to the rule of thumb shows how much of last year each class made.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from xlplan.engine.last_year import review
from xlplan.i18n import Msg, data, msg
from xlplan.spec.models import BCG, Tier
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.layout import amounts_in
from xlplan.workbook.scope import Scope

SHEET = msg("Review")
HEADERS: list[str] = [msg("Code"), msg("Name"), msg("Line"), msg("BCG"), msg("Revenue"),
                      msg("Cost"), msg("Margin"), msg("Margin %"), msg("Cash"),
                      msg("Revenue share")]
COL = {name: i for i, name in enumerate(HEADERS)}
LINE_NAMES: dict[str, str] = {Tier.core.value: msg("Core"),
                              Tier.emerging.value: msg("Emerging"),
                              Tier.long_tail.value: msg("Long tail")}
BCG_FILLS = {BCG.star.value: "#FFE699", BCG.cash_cow.value: "#C6EFCE", BCG.dog.value: "#F2DCDB"}
BCG_RULES = {
    BCG.star.value: msg("Invest: 50–70% of marketing resources."),
    BCG.cash_cow.value: msg("Defend share, harvest cash for the stars."),
    BCG.question_mark.value: msg("Invest selectively: back the few that can lead, exit the "
                                 "rest."),
    BCG.dog.value: msg("Exit review within 3 months."),
}
STAR_BAND = (0.50, 0.70)


def _exit_review_due(ctx: BuildContext) -> dt.date:
    """Three months into the fiscal year: when every dog's exit review is due."""
    m = ctx.plan.first_month - 1 + 3
    return dt.date(ctx.plan.fiscal_year + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)


def _ordered(frame: pd.DataFrame, key: str, order: list[str]) -> pd.DataFrame:
    """Rows in the plan's order (codes the plan does not list go last)."""
    rank = {code: i for i, code in enumerate(order)}
    return (frame.assign(_rank=frame[key].map(lambda c: rank.get(str(c), len(rank))))
            .sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True))


def write_review(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """Last year's review, or a note that the plan has no prior-year actuals."""
    s = book.sheet(SHEET)
    plan = ctx.plan
    s.label(0, 0, msg("{plan}: review of last year", plan=data(plan.name)), "title")
    if ctx.prior is None:
        s.label(1, 0, msg("There are no prior-year actuals: the plan has no prior_year file. "
                          "Add one (unit, product, channel, month, revenue, cost, cash) to see "
                          "last year by product line, channel and segment here."), "subtitle")
        s.widths({0: 110})
        return
    tables = review(plan, ctx.prior.frame)
    s.label(1, 0, msg("Prior-year actuals in {currency} from {file}. Margin = revenue − cost; "
                      "margin % = margin ÷ revenue; revenue share = revenue ÷ the table's "
                      "total.", currency=amounts_in(plan),
                      file=data(ctx.prior.file.rsplit('/', 1)[-1])), "subtitle")
    due = _exit_review_due(ctx)
    s.label(2, 0, msg("BCG rule of thumb: stars get 50–70% of marketing resources; dogs get an "
                      "exit review within 3 months (by {due}). Stars are marked gold, cash "
                      "cows green, dogs red.", due=data(due.isoformat())), "bold")

    products = _ordered(tables["product"], "product", [p.code for p in plan.products])
    row = 4
    row, product_rows, total_ref = _table(
        s, ctx, row, msg("By product"), products, "product",
        names=dict(zip(products["product"], products["name"], strict=True)),
        lines=dict(zip(products["product"], products["line"], strict=True)),
        bcg=dict(zip(products["product"], products["bcg"], strict=True)))
    first, last = product_rows
    for cls, colour in BCG_FILLS.items():
        s.ws.conditional_format(first, 0, last, len(HEADERS) - 1, {
            "type": "formula", "criteria": f'=$D{first + 1}="{cls}"',
            "format": book.wb.add_format({"bg_color": colour})})
    row = _bcg_summary(s, ctx, row, products, product_rows, total_ref, due)

    line = _ordered(tables["line"], "line", [t.value for t in Tier])
    row, _, _ = _table(s, ctx, row, msg("By product line"), line, "line", names=LINE_NAMES)
    channel = _ordered(tables["channel"], "channel", [c.code for c in plan.channels])
    row, _, _ = _table(s, ctx, row, msg("By channel"), channel, "channel",
                       names={c.code: c.name for c in plan.channels})
    if "segment" in tables:
        segment = _ordered(tables["segment"], "segment", [g.code for g in plan.segments])
        row, _, _ = _table(s, ctx, row, msg("By customer segment"), segment, "segment",
                           names={g.code: g.name for g in plan.segments})
    s.widths({0: 12, 1: 28, 2: 11, 3: 14, 4: 18, 5: 18, 6: 18, 7: 10, 8: 18, 9: 10})
    s.ws.freeze_panes(4, 2)


def _ratio(num: float, den: float) -> float | str:
    return num / den if den else ""


def _table(s: Sheet, ctx: BuildContext, row: int, title: Msg, frame: pd.DataFrame, key: str, *,
           names: dict[str, str], lines: dict[str, str] | None = None,
           bcg: dict[str, str] | None = None) -> tuple[int, tuple[int, int], str]:
    """One review table with its total row; returns the next free row, the data rows and
    the absolute reference of the revenue total."""
    s.label(row, 0, title, "bold")
    head = row + 1
    for c, text in enumerate(HEADERS):
        s.label(head, c, text if key == "product" or c not in (COL["Line"], COL["BCG"])
                else data(""), "header")
    s.ws.set_row(head, 30)
    first = head + 1
    last = first + len(frame) - 1
    total = last + 1
    rev_total = ref(total, COL["Revenue"], absolute=True)
    sums = {"revenue": 0, "cost": 0, "margin": 0, "cash": 0}
    share_sum = 0.0
    for i, rec in enumerate(frame.to_dict("records")):
        r = first + i
        code = str(rec[key])
        s.label(r, COL["Code"], data(code))
        name = names.get(code, code)
        s.label(r, COL["Name"], name if isinstance(name, Msg) else data(name))
        if lines is not None:
            s.label(r, COL["Line"], data(lines.get(code, "")))
        if bcg is not None:
            s.label(r, COL["BCG"], data(bcg.get(code, "")))
        revenue, cost, cash = (int(rec[k]) for k in ("revenue", "cost", "cash"))
        rv, cs = ref(r, COL["Revenue"]), ref(r, COL["Cost"])
        s.given(r, COL["Revenue"], ctx.given_money(revenue), "money")
        s.given(r, COL["Cost"], ctx.given_money(cost), "money")
        mg = s.formula(r, COL["Margin"], f"{rv}-{cs}", ctx.money(revenue - cost), "money")
        pct = float(rec["margin_pct"])
        s.formula(r, COL["Margin %"], formulas.ratio(mg, rv),
                  "" if math.isnan(pct) else pct, "ratio")
        s.given(r, COL["Cash"], ctx.given_money(cash), "money")
        share = float(rec["revenue_share"])
        s.formula(r, COL["Revenue share"], formulas.ratio(rv, rev_total),
                  "" if math.isnan(share) else share, "ratio")
        for k, v in (("revenue", revenue), ("cost", cost), ("margin", revenue - cost),
                     ("cash", cash)):
            sums[k] += v
        share_sum += 0.0 if math.isnan(share) else share
    s.label(total, 0, msg("Total"), "bold")
    for name, k in (("Revenue", "revenue"), ("Cost", "cost"), ("Margin", "margin"),
                    ("Cash", "cash")):
        c = COL[name]
        s.formula(total, c, f"SUM({ref(first, c)}:{ref(last, c)})", ctx.money(sums[k]),
                  "money_bold")
    rv, mg = ref(total, COL["Revenue"]), ref(total, COL["Margin"])
    s.formula(total, COL["Margin %"], formulas.ratio(mg, rv),
              _ratio(sums["margin"], sums["revenue"]), "ratio_bold")
    c = COL["Revenue share"]
    s.formula(total, c, f"SUM({ref(first, c)}:{ref(last, c)})", share_sum, "ratio_bold")
    return total + 2, (first, last), rev_total


def _bcg_summary(s: Sheet, ctx: BuildContext, row: int, products: pd.DataFrame,
                 rows: tuple[int, int], total_ref: str, due: dt.date) -> int:
    """Last year by BCG class (SUMIF over the product table) beside the resource rule."""
    first, last = rows

    def column(name: str) -> str:
        return f"{ref(first, COL[name], True)}:{ref(last, COL[name], True)}"

    s.label(row, 0, msg("By BCG class"), "bold")
    budget = ctx.plan.budget
    weights = budget.bcg_weights if budget is not None else {}
    weight_total = sum(weights.values())
    headers = [msg("Class"), msg("Products"), data(""), data(""), *HEADERS[COL["Revenue"]:],
               msg("Rule of thumb")]
    if weight_total:
        headers += [msg("Marketing weight (plan)"), msg("Check")]
    for c, text in enumerate(headers):
        s.label(row + 1, c, text, "header")
    s.ws.set_row(row + 1, 30)
    total_revenue = int(products["revenue"].sum())
    rule_col = len(HEADERS)
    r = row + 2
    for cls in BCG:
        members = products[products["bcg"] == cls.value]
        sums = {k: int(members[k].sum()) for k in ("revenue", "cost", "cash")}
        margin = sums["revenue"] - sums["cost"]
        criterion = f'{column("BCG")},"{cls.value}"'
        s.label(r, 0, data(cls.value))
        s.formula(r, 1, f"COUNTIF({criterion})", len(members), "integer")
        for name, value in (("Revenue", sums["revenue"]), ("Cost", sums["cost"]),
                            ("Margin", margin), ("Cash", sums["cash"])):
            s.formula(r, COL[name], f"SUMIF({criterion},{column(name)})", ctx.money(value),
                      "money")
        rv, mg = ref(r, COL["Revenue"]), ref(r, COL["Margin"])
        s.formula(r, COL["Margin %"], formulas.ratio(mg, rv), _ratio(margin,
                                                                          sums["revenue"]),
                  "ratio")
        s.formula(r, COL["Revenue share"], formulas.ratio(rv, total_ref),
                  _ratio(sums["revenue"], total_revenue), "ratio")
        rule = BCG_RULES[cls.value]
        if cls is BCG.dog:
            names = ", ".join(members["product"].astype(str))
            rule = (msg("Exit review within 3 months (by {due}): {products}.",
                        due=data(due.isoformat()), products=data(names)) if names else
                    msg("Exit review within 3 months (by {due}).", due=data(due.isoformat())))
        s.label(r, rule_col, rule)
        if weight_total:
            share = weights.get(cls, 0.0) / weight_total
            s.given(r, rule_col + 1, share, "ratio")
            if cls is BCG.star:
                w = ref(r, rule_col + 1)
                lo, hi = STAR_BAND
                within = s.book.words(msg("within 50–70%"))
                outside = s.book.words(msg("outside 50–70%: review the marketing split"))
                verdict = within if lo <= share <= hi else outside
                s.formula(r, rule_col + 2, f'IF(AND({w}>={lo},{w}<={hi}),"{within}",'
                                           f'"{outside}")', verdict, "bold")
        r += 1
    if weight_total:
        s.label(r, 0, msg("Marketing weight: the plan's budget BCG weights, normalised."),
                "subtitle")
    s.ws.set_column(rule_col, rule_col, 60)
    s.ws.set_column(rule_col + 1, rule_col + 1, 14)
    s.ws.set_column(rule_col + 2, rule_col + 2, 36)
    return r + 2
