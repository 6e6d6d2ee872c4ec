"""Budget allocation (预算与资源分配): reserve, unit budgets, pools, BCG split, requests.

docs/METHOD.md defaults: a company reserve of 10–15% held at HQ; each regional
budget = base 60% + incentive 30% + risk reserve 10%; marketing follows the
BCG classes (stars first); a request line whose ROI is below 1.5 is frozen;
spend within ±5% of budget; a regional manager may use up to 10% of the
reserve, above that HQ decides.

Every money split here goes through :func:`xlplan.engine.allocate.allocate`
(largest remainder), so parts always sum to the whole to the minor unit, and
the sheet reproduces it with the allocation block documented in
:mod:`xlplan.engine.allocate` (weights in cells, then ``INT``/``ROUND``/rank).
Where ties are broken by code, the workbook writes the tie rank as constants
computed by :func:`~xlplan.engine.allocate.order_by_code` (Excel's text
comparison is case-insensitive and would not give the same order).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from xlplan.engine.allocate import AllocationError, allocate, order_by_code
from xlplan.engine.last_year import classify_bcg
from xlplan.engine.rounding import excel_round
from xlplan.engine.variance import BudgetCheck, budget_check, compare_round
from xlplan.spec.models import BCG, Pools, Product

POOL_NAMES = ("base", "incentive", "reserve")
SHARE_SUM_TOLERANCE = 1e-9  # as the plan checks (xlplan.spec.checks.SUM_TOLERANCE)
REQUEST_COLUMNS = ["item", "category", "amount", "expected_return", "roi", "frozen"]

PoolName = Literal["base", "incentive", "reserve"]
Decision = Literal["region", "HQ"]


def _minor(value: Any, what: str) -> int:
    """An integer amount of minor units; a float here is a bug (money is never a float)."""
    try:
        amount = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer number of minor units, "
                        f"got {value!r}") from None
    if amount < 0:
        raise ValueError(f"{what} must not be negative, got {amount}")
    return amount


def _share(value: float, what: str) -> float:
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{what} must be a share between 0 and 1, got {value}")
    return x


def _pool_weights(pools: Pools) -> list[float]:
    weights = [float(pools.base), float(pools.incentive), float(pools.reserve)]
    total = math.fsum(weights)
    if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
        raise ValueError(f"budget pools sum to {total:g}, expected 1 (base + incentive + reserve)")
    return weights


@dataclass(frozen=True)
class BudgetSplit:
    """The total budget with the company reserve held back at HQ.

    ``company_reserve + distributable == total`` exactly. ``pools`` (validated
    to sum to 1) travel with the split for the per-unit split
    (:func:`unit_pools`), which is done per unit, not on the total, so that
    every unit's pools tie to its own budget.
    """

    total: int
    reserve_share: float
    company_reserve: int
    distributable: int
    pools: Pools


def split_budget(total_minor: int, company_reserve_share: float = 0.10,
                 pools: Pools | None = None) -> BudgetSplit:
    """Hold the company reserve back and return what is left to distribute.

    ``[company_reserve, distributable] = allocate(total, [share, 1 - share])``:
    a largest-remainder split, so the two add up to the total exactly; the
    reserve takes a tied last unit (it comes first). The 10–15% of docs/METHOD.md
    is a default, not enforced: any share in [0, 1] is accepted.

    Excel: weights ``=share`` and ``=1-share``, then the allocation block of
    :mod:`xlplan.engine.allocate` over the total (step 1).
    """
    total = _minor(total_minor, "total budget")
    share = _share(company_reserve_share, "company reserve share")
    pool_set = pools or Pools()
    _pool_weights(pool_set)
    reserve, distributable = allocate(total, [share, 1.0 - share])
    return BudgetSplit(total, share, reserve, distributable, pool_set)


def unit_budgets(distributable_minor: int, unit_targets: Mapping[str, int]) -> dict[str, int]:
    """Split the distributable budget over units by their share of the target, exactly.

    ``allocate(distributable, targets, order=order_by_code(codes))``: budget
    follows the target, and a tied last unit goes to the smaller code, so the
    result does not depend on the order the units are given in. Units with a
    zero target get nothing; if every target is zero (and there is money to
    split) it is an error (:class:`AllocationError`), since there is nothing
    to split by. Negative targets are an error.

    Excel: the allocation block with weights = the unit targets and the tie
    rank as constants.
    """
    amount = _minor(distributable_minor, "distributable budget")
    codes = list(unit_targets)
    targets = [_minor(unit_targets[c], f"target of unit {c!r}") for c in codes]
    if not codes:
        if amount:
            raise AllocationError("a budget cannot be split over no units")
        return {}
    parts = allocate(amount, [float(t) for t in targets], order=order_by_code(codes))
    return dict(zip(codes, parts, strict=True))


def unit_pools(amount_minor: int, pools: Pools | None = None) -> dict[PoolName, int]:
    """A unit's budget as base / incentive / reserve pools (default 60 / 30 / 10), exactly.

    ``allocate(amount, [base, incentive, reserve])``; a tied last unit goes to
    the earlier pool (base first). The pools must sum to 1 (within 1e-9):
    silently renormalising 60/30/5 would hide a typo.

    Excel: the allocation block with weights = the three pool shares.
    """
    amount = _minor(amount_minor, "unit budget")
    parts = allocate(amount, _pool_weights(pools or Pools()))
    return {"base": parts[0], "incentive": parts[1], "reserve": parts[2]}


def bcg_split(amount_minor: int, products: Sequence[Product],
              bcg_weights: Mapping[BCG, float] | Mapping[str, float]) -> dict[str, int]:
    """Split an amount (e.g. marketing) over products by BCG class, exactly.

    Two largest-remainder steps:

    1. over the BCG classes (star, cash cow, question mark, dog, in that order
       for ties) with their weights, where a class with no product gets
       weight 0, i.e. the weights are renormalised over the classes present;
    2. each class's amount evenly over its products (ties by product code).

    A product's class is the plan's, else classified from market growth and
    relative share as the review sheet does
    (:func:`xlplan.engine.last_year.classify_bcg`); a product with no class gets
    0 and is listed in the result with 0. Every product is in the result, in
    input order; the parts sum to the amount exactly.

    Errors: duplicate product codes; a class that has products but no entry
    in ``bcg_weights``; nothing to split by (no classified product, or every
    present class weighted 0) while the amount is positive.

    Excel: class weight ``=IF(COUNTIF(Products[bcg],class)>0,weight,0)``, the
    allocation block over the four classes, then per class the block with
    equal weights over its products.
    """
    amount = _minor(amount_minor, "amount")
    codes = [p.code for p in products]
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate product codes")
    weights = {str(k): float(v) for k, v in bcg_weights.items()}
    members: dict[str, list[str]] = {str(c): [] for c in BCG}
    for p in products:
        cls = classify_bcg(p)
        if cls is not None:
            members[str(cls)].append(p.code)
    class_weights = []
    for cls_name, kids in members.items():
        if kids and cls_name not in weights:
            raise ValueError(f"products are classed {cls_name!r} but bcg_weights has no weight "
                             f"for it")
        class_weights.append(weights.get(cls_name, 0.0) if kids else 0.0)
    result = dict.fromkeys(codes, 0)
    if amount == 0:
        return result
    if not any(members.values()):
        raise AllocationError("no product has a BCG class: nothing to split the amount by")
    if math.fsum(class_weights) <= 0:
        raise AllocationError("the BCG classes that have products all weigh 0")
    per_class = allocate(amount, class_weights)
    for class_amount, kids in zip(per_class, members.values(), strict=True):
        if not kids:
            continue
        for code, part in zip(kids, allocate(class_amount, [1.0] * len(kids),
                                             order=order_by_code(kids)), strict=True):
            result[code] = part
    return result


@dataclass(frozen=True)
class RequestLine:
    """One budget request line (zero-based: each item justifies itself by its return)."""

    item: str
    category: str
    amount: int  # minor units
    expected_return: int  # minor units


def _field(line: RequestLine | Mapping[str, Any], key: str) -> Any:
    if isinstance(line, Mapping):
        if key not in line:
            raise ValueError(f"request line {dict(line)!r} has no {key!r}")
        return line[key]
    return getattr(line, key)


def request_lines(lines: Sequence[RequestLine | Mapping[str, Any]],
                  roi_floor: float = 1.5) -> pd.DataFrame:
    """ROI of each request line and whether it is frozen (docs/METHOD.md: ROI < 1.5 → frozen).

    ``roi = expected_return / amount`` (NaN when the amount is 0: nothing is
    being spent, so there is no ROI and nothing to freeze);
    ``frozen = ROUND(roi, 9) < roi_floor`` (so an ROI of exactly the floor
    passes). Lines are :class:`RequestLine` or mappings with the same keys;
    amounts are integer minor units, amounts not negative.

    Excel: ``roi: =IF(amount=0,"",expected_return/amount)``;
    ``frozen: =IF(ISNUMBER(roi),ROUND(roi,9)<floor,FALSE)``
    """
    rows = []
    for i, line in enumerate(lines):
        rows.append({
            "item": str(_field(line, "item")), "category": str(_field(line, "category")),
            "amount": _minor(_field(line, "amount"), f"amount of request line {i + 1}"),
            "expected_return": operator.index(_field(line, "expected_return")),
        })
    frame = pd.DataFrame(rows, columns=REQUEST_COLUMNS[:4])
    amount = frame["amount"].to_numpy(dtype=float)
    ret = frame["expected_return"].to_numpy(dtype=float)
    zero = amount == 0
    roi = np.where(zero, np.nan, ret / np.where(zero, 1.0, amount))
    frame["amount"] = frame["amount"].astype("int64")
    frame["expected_return"] = frame["expected_return"].astype("int64")
    frame["roi"] = roi
    frame["frozen"] = [not math.isnan(r) and compare_round(r) < roi_floor for r in roi.tolist()]
    return frame


def requests_vs_allocation(total_requested: int, allocation: int,
                           tolerance: float = 0.05) -> BudgetCheck:
    """Requested total against the allocated budget, by the budget tolerance.

    :func:`xlplan.engine.variance.budget_check` with the request as the spend:
    over the allocation by more than the tolerance means the requests must be
    cut or justified; under it means money is left unplanned.

    Excel: as ``budget_check`` with ``spend`` = the requested total.
    """
    return budget_check(_minor(total_requested, "requested total"),
                        _minor(allocation, "allocation"), tolerance)


def reserve_decision(amount: int, reserve: int, authority: float = 0.10) -> Decision:
    """Who may release reserve money: "region" up to ``authority`` of the reserve, else "HQ".

    ``amount`` is what the region would have drawn from the reserve in total
    with this request (the caller adds earlier draws: the authority is a
    share of the reserve, not a per-request limit). The limit is
    ``ROUND(reserve * authority, 6)`` minor units: the rounding removes float
    noise (100 × 0.29 is 28.999999999999996 in binary, and 29 must pass)
    while a single minor unit over the limit still goes to HQ. Exactly 10% is
    the region's call; with a zero reserve any positive amount goes to HQ.
    Negative amounts are an error.

    Excel: ``=IF(amount<=ROUND(reserve*authority,6),"region","HQ")``
    """
    a = _minor(amount, "amount")
    r = _minor(reserve, "reserve")
    limit = _share(authority, "authority")
    return "region" if a <= excel_round(float(r) * limit, 6) else "HQ"
