"""Step 1 of the method, review and insight (复盘与洞察): last year by line, channel, segment.

Revenue, cost, margin and cash from the prior-year actuals, with each product's
BCG class: the one the plan gives, else classified from market growth and
relative share (star: high growth, leading share; cash cow: low growth, leading
share; question mark: high growth, trailing share; dog: neither).
"""

from __future__ import annotations

import pandas as pd

from xlplan.spec.models import BCG, Plan, Product

HIGH_GROWTH = 0.10
LEADING_SHARE = 1.0


def classify_bcg(product: Product, high_growth: float = HIGH_GROWTH,
                 leading_share: float = LEADING_SHARE) -> BCG | None:
    """The plan's BCG class, else one from growth × relative share, else None."""
    if product.bcg is not None:
        return product.bcg
    if product.market_growth is None or product.relative_share is None:
        return None
    high = product.market_growth >= high_growth
    leads = product.relative_share >= leading_share
    if high and leads:
        return BCG.star
    if leads:
        return BCG.cash_cow
    if high:
        return BCG.question_mark
    return BCG.dog


def _summarise(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    grouped = frame.groupby(key, sort=False)[["revenue", "cost", "cash"]].sum()
    grouped["margin"] = grouped["revenue"] - grouped["cost"]
    grouped["margin_pct"] = grouped["margin"] / grouped["revenue"].where(grouped["revenue"] != 0)
    grouped["revenue_share"] = grouped["revenue"] / grouped["revenue"].sum()
    return grouped.reset_index()


def review(plan: Plan, prior: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Prior-year tables by product (with line and BCG class), line, channel and segment."""
    products = {p.code: p for p in plan.products}
    frame = prior.copy()
    frame["line"] = frame["product"].map(lambda c: products[c].line.value)
    by_product = _summarise(frame, "product")
    by_product["name"] = by_product["product"].map(lambda c: products[c].name)
    by_product["line"] = by_product["product"].map(lambda c: products[c].line.value)
    by_product["bcg"] = by_product["product"].map(
        lambda c: (b.value if (b := classify_bcg(products[c])) else ""))
    out = {
        "product": by_product,
        "line": _summarise(frame, "line"),
        "channel": _summarise(frame, "channel"),
    }
    if "segment" in frame and frame["segment"].astype(bool).any():
        out["segment"] = _summarise(frame[frame["segment"].astype(bool)], "segment")
    return out
