"""Write made-up prior-year actuals for an example plan (deterministic).

The review step (复盘) and the ``prior_year`` allocation method read last
year's actuals. This script invents them for the example plans, so that every
number is reproducible::

    python workbook_templates/make_prior_year.py                      # example plan
    python workbook_templates/make_prior_year.py workbook_templates/small-plan.yaml

It writes one row per leaf unit (the people) × product × leaf channel × month
of the year before the plan's fiscal year, with the columns

    unit,product,channel,month,revenue,cost,cash[,segment]

``month`` is the fiscal month, 1 = the plan's ``first_month``. Amounts are in
major units with two decimals. Revenue adds up *exactly* to the baseline (the
plan's ``north_star.baseline`` unless ``--baseline`` is given): amounts are
split in cents by the engine's largest-remainder allocation. The split follows

- units: each unit's ``base`` share among its siblings, down the tree, then a
  random share per person;
- products: the plan's ``mix`` divided by (1 + ``market_growth``), since the
  fast growers were smaller last year; channels: the product of the shares
  down the tree; months: the plan's calendar (quarter weights × within-quarter
  month weights, 28/32/27/13 in the examples);
- each cell is multiplied by log-normal noise, so the file looks like data.

Cost gives a gross margin typical of each product line (core ~22%, emerging
~35%, long tail ~45%, with noise); cash is 94-99% of revenue (some sales are
still receivable). With ``--segments`` each row is split further over the
plan's customer segments (three times the rows).

Codes are read from the plan through :func:`xlplan.spec.loader.load_plan`, so the CSV
never drifts from the plan. The output path defaults to the plan's
``prior_year.file``.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np

from xlplan.engine.allocate import allocate, allocate_rows
from xlplan.spec.loader import load_plan
from xlplan.spec.models import Plan, Tier

HERE = Path(__file__).resolve().parent
DEFAULT_PLAN = HERE / "example-plan.yaml"
SEED = 2026

# Gross margin (revenue - cost) / revenue by product line: (mean, spread).
MARGINS = {Tier.core: (0.22, 0.03), Tier.emerging: (0.35, 0.05), Tier.long_tail: (0.45, 0.08)}
CASH_RANGE = (0.94, 0.99)
NOISE_SIGMA = 0.25
# Mean segment shares of revenue with --segments (diamond, gold, silver…).
SEGMENT_SHARES = (0.30, 0.40, 0.30)


def leaf_units(plan: Plan) -> list[str]:
    """Codes of units without children, in plan order."""
    parents = {u.parent for u in plan.units}
    return [u.code for u in plan.units if u.code not in parents]


def unit_weights(plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """Share of each leaf unit: ``base`` shares down the tree × a random personal share."""
    by_code = {u.code: u for u in plan.units}
    sibling_base: dict[str | None, float] = {}
    for u in plan.units:
        sibling_base[u.parent] = sibling_base.get(u.parent, 0.0) + u.base
    leaves = leaf_units(plan)
    weights = np.empty(len(leaves))
    for i, code in enumerate(leaves):
        w, node = 1.0, by_code[code]
        while node.parent is not None:  # the unit's share of its parent, up to the top
            w *= node.base / sibling_base[node.parent] if sibling_base[node.parent] else 0.0
            node = by_code[node.parent]
        weights[i] = w
    # Some reps sell more than others: a random (Dirichlet) share within each team.
    groups: dict[str | None, list[int]] = {}
    for i, code in enumerate(leaves):
        groups.setdefault(by_code[code].parent, []).append(i)
    for members in groups.values():
        shares = rng.dirichlet(np.full(len(members), 6.0))
        weights[members] *= shares * len(members)
    return weights / weights.sum()


def leaf_channels(plan: Plan) -> tuple[list[str], np.ndarray]:
    """Leaf channel codes and their overall share (product of shares up the tree)."""
    by_code = {c.code: c for c in plan.channels}
    parents = {c.parent for c in plan.channels}
    codes, shares = [], []
    for c in plan.channels:
        if c.code in parents:
            continue
        share, node = 1.0, c
        while True:
            share *= node.share
            if node.parent is None:
                break
            node = by_code[node.parent]
        codes.append(c.code)
        shares.append(share)
    arr = np.array(shares)
    return codes, arr / arr.sum()


def month_weights(plan: Plan) -> np.ndarray:
    """Twelve fiscal-month shares from the plan's calendar."""
    cal = plan.calendar
    if cal.method.value == "months" and cal.month_weights:
        w = np.array(cal.month_weights, dtype=float)
        return w / w.sum()
    within = np.array(cal.month_weights or [1.0] * 12, dtype=float).reshape(4, 3)
    within = within / within.sum(axis=1, keepdims=True)
    quarters = np.array(cal.quarter_weights, dtype=float)
    return (within * (quarters / quarters.sum())[:, None]).reshape(12)


def product_weights(plan: Plan) -> np.ndarray:
    """Last year's product shares: the plan's mix deflated by each market's growth."""
    mixes = [p.mix for p in plan.products]
    if any(m is None for m in mixes):
        return np.full(len(mixes), 1.0 / len(mixes))
    growth = np.array([p.market_growth or 0.0 for p in plan.products])
    arr = np.array(mixes, dtype=float) / np.maximum(1.0 + growth, 0.1)
    return arr / arr.sum()


def to_amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def split_exact(total: int, shares: Sequence[float]) -> list[int]:
    """Split ``total`` cents over ``shares``; the parts add up exactly."""
    return allocate(total, list(shares))


def build_rows(plan: Plan, baseline: Decimal, seed: int = SEED,
               segments: bool = False) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    units = leaf_units(plan)
    products = [p.code for p in plan.products]
    lines = [p.line for p in plan.products]
    channels, ch_w = leaf_channels(plan)
    u_w, p_w, m_w = unit_weights(plan, rng), product_weights(plan), month_weights(plan)

    shape = (len(units), len(products), len(channels), 12)
    weights = (u_w[:, None, None, None] * p_w[None, :, None, None]
               * ch_w[None, None, :, None] * m_w[None, None, None, :])
    weights = weights * rng.lognormal(0.0, NOISE_SIGMA, size=shape)
    # Products sell differently by channel (a product's own channel split), while
    # keeping each product's share of revenue:
    tilt = rng.lognormal(0.0, 0.3, size=(len(products), len(channels)))
    tilt = tilt / (tilt * ch_w[None, :]).sum(axis=1, keepdims=True)
    weights = weights * tilt[None, :, :, None]

    total_cents = int((baseline * 100).to_integral_value())
    revenue = np.array(split_exact(total_cents, weights.reshape(-1).tolist()),
                       dtype=np.int64).reshape(shape)

    mean = np.array([MARGINS[t][0] for t in lines])[None, :, None, None]
    spread = np.array([MARGINS[t][1] for t in lines])[None, :, None, None]
    margin = np.clip(mean + spread * rng.standard_normal(shape), 0.02, 0.9)
    cost = np.rint(revenue * (1.0 - margin)).astype(np.int64)
    cash = np.rint(revenue * rng.uniform(*CASH_RANGE, size=shape)).astype(np.int64)

    keys = {"unit": units, "product": products, "channel": channels}
    rows: list[dict[str, object]] = []
    seg_codes = [s.code for s in plan.segments] if segments else []
    if not seg_codes:
        for idx in np.ndindex(*shape):
            rows.append(_row(keys, idx, int(revenue[idx]), int(cost[idx]), int(cash[idx])))
        return rows
    # Segment shares vary by unit and product around SEGMENT_SHARES.
    base_shares = np.resize(np.array(SEGMENT_SHARES), len(seg_codes))
    seg_w = rng.dirichlet(base_shares * 40, size=(len(units), len(products)))
    seg_w = np.broadcast_to(seg_w[:, :, None, None, :], (*shape, len(seg_codes)))
    seg_w = seg_w.reshape(-1, len(seg_codes))
    parts = [allocate_rows(a.reshape(-1), seg_w).reshape(*shape, len(seg_codes))
             for a in (revenue, cost, cash)]
    for idx in np.ndindex(*shape):
        for s, seg in enumerate(seg_codes):
            row = _row(keys, idx, *(int(part[idx][s]) for part in parts))
            rows.append({**row, "segment": seg})
    return rows


def _row(keys: dict[str, list[str]], idx: tuple[int, ...], revenue: int, cost: int,
         cash: int) -> dict[str, object]:
    """One CSV row; the amounts are whole cents."""
    u, p, c, m = idx
    return {"unit": keys["unit"][u], "product": keys["product"][p],
            "channel": keys["channel"][c], "month": m + 1, "revenue": to_amount(revenue),
            "cost": to_amount(cost), "cash": to_amount(cash)}


def write_csv(rows: list[dict[str, object]], out: Path) -> None:
    fields = ["unit", "product", "channel", "month", "revenue", "cost", "cash"]
    if rows and "segment" in rows[0]:
        fields.append("segment")
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", nargs="?", type=Path, default=DEFAULT_PLAN,
                        help="plan file (default: example-plan.yaml)")
    parser.add_argument("--out", type=Path, default=None,
                        help="CSV to write (default: the plan's prior_year.file)")
    parser.add_argument("--baseline", type=Decimal, default=None,
                        help="total revenue (default: the plan's north_star.baseline)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--segments", action="store_true",
                        help="split each row over the plan's customer segments")
    args = parser.parse_args(argv)

    loaded = load_plan(args.plan)
    plan = loaded.plan
    if args.out is None:
        if plan.prior_year is None:
            parser.error(f"{args.plan} has no prior_year.file; give --out")
        out = loaded.base_dir / plan.prior_year.file
    else:
        out = args.out
    baseline = args.baseline if args.baseline is not None else plan.north_star.baseline
    rows = build_rows(plan, baseline, seed=args.seed, segments=args.segments)
    write_csv(rows, out)
    print(f"wrote {len(rows)} rows, revenue {baseline:,.2f}, to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
