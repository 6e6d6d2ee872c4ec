"""Largest-remainder allocation: split an integer total over weights, exactly.

Every split in xlplan (org tree, products, channels, quarters, months, days)
goes through :func:`allocate_rows`. The arithmetic is deliberately the one a
worksheet can write as plain formulas, in the same order of operations, so the
generated workbook and the engine agree to the last unit:

    units     = total // step                  (whole steps to hand out)
    quota_i   = units * w_i / S                (S = sum of the weights)
    floor_i   = INT(quota_i)                   (a spreadsheet's INT: 15 significant digits)
    rem_i     = ROUND(quota_i - floor_i, 9)    (9 decimals hide float noise)
    deficit   = units - SUM(floor)
    rank_i    = 1 + #(rem_j > rem_i) + #(rem_j = rem_i and order_j < order_i)
    amount_i  = (floor_i + (rank_i <= deficit)) * step + leftover * (rank_i = 1)

Ties are broken by ``order`` (by default, the position; callers that must not
depend on the order of children pass the rank of each child's code), so the
result is deterministic and, given codes, independent of input order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from xlplan.engine.rounding import excel_round_array, sheet_int

REMAINDER_DIGITS = 9


class AllocationError(ValueError):
    """A split that cannot be done (no positive weight, holds above the total)."""


def _weight_sums(weights: np.ndarray) -> np.ndarray:
    """Correctly rounded row sums (``math.fsum``): independent of summation order."""
    if weights.shape[0] == 0:
        return np.zeros(0)
    first = weights[0]
    if weights.shape[0] > 1 and np.all(weights == first):
        return np.full(weights.shape[0], math.fsum(first.tolist()))
    return np.array([math.fsum(row) for row in weights.tolist()])


@dataclass(frozen=True)
class Trace:
    """Every intermediate value of a split, as the worksheet formulas compute them.

    The workbook writer caches these in its helper cells, and the tests check a
    spreadsheet engine's recalculation of each one against them.
    """

    units: np.ndarray  # N: whole steps to hand out
    leftover: np.ndarray  # N: total - units * step (below one step)
    quota: np.ndarray  # N×k
    floor: np.ndarray  # N×k
    rem: np.ndarray  # N×k, rounded to REMAINDER_DIGITS
    rank: np.ndarray  # N×k, 0 = largest remainder
    deficit: np.ndarray  # N
    result: np.ndarray  # N×k int64

    def row(self, i: int) -> Trace:
        """Row ``i`` alone, as :func:`trace_rows` gives it for that one total.

        Rows are independent (every step is element-wise or within a row), so a caller
        with many splits over the same weights computes them in one call and takes rows:
        numpy costs ~0.1 ms a call whatever its size.
        """
        return Trace(*(part[i:i + 1] for part in (
            self.units, self.leftover, self.quota, self.floor, self.rem, self.rank,
            self.deficit, self.result)))


def allocate_rows(
    totals: np.ndarray | Sequence[int],
    weights: np.ndarray | Sequence[float] | Sequence[Sequence[float]],
    *,
    step: int = 1,
    order: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Split each of ``totals`` (N integers) over ``weights`` (k or N×k).

    Returns an N×k int64 array whose rows sum exactly to ``totals``. All
    totals must be non-negative; weights non-negative with a positive sum in
    every row whose total is non-zero.
    """
    return trace_rows(totals, weights, step=step, order=order).result


def trace_rows(
    totals: np.ndarray | Sequence[int],
    weights: np.ndarray | Sequence[float] | Sequence[Sequence[float]],
    *,
    step: int = 1,
    order: Sequence[int] | np.ndarray | None = None,
) -> Trace:
    """:func:`allocate_rows` with every intermediate value (see :class:`Trace`)."""
    tot = np.asarray(totals, dtype=np.int64).reshape(-1)
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = np.broadcast_to(w, (tot.shape[0], w.shape[0]))
    n_rows, k = w.shape
    if n_rows != tot.shape[0]:
        raise AllocationError(f"{tot.shape[0]} totals but {n_rows} weight rows")
    if step < 1:
        raise AllocationError(f"step must be a positive whole number of units, got {step}")
    if np.any(tot < 0):
        raise AllocationError("totals must not be negative")
    if k == 0:
        if np.any(tot != 0):
            raise AllocationError("a non-zero total cannot be split over no children")
        none = np.zeros((n_rows, 0))
        return Trace(tot // step, tot % step, none, none, none, none.astype(np.int64),
                     np.zeros(n_rows, dtype=np.int64), none.astype(np.int64))
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise AllocationError("weights must be finite and not negative")
    sums = _weight_sums(w)
    empty = (sums <= 0) & (tot != 0)
    if np.any(empty):
        raise AllocationError("weights sum to zero: nothing to split the total by")
    units = tot // step
    leftover = tot - units * step
    safe_sums = np.where(sums > 0, sums, 1.0)
    quota = units[:, None].astype(float) * w / safe_sums[:, None]
    # INT as a spreadsheet floors (15 significant digits): 14896867.999999998 → 14896868.
    # The remainder may then be a hair below zero; it just ranks last.
    floor = sheet_int(quota)
    rem = excel_round_array(quota - floor, REMAINDER_DIGITS)
    floor_int = floor.astype(np.int64)
    deficit = units - floor_int.sum(axis=1)
    if np.any(deficit < 0) or np.any(deficit > k):
        raise AllocationError("internal: rounding deficit out of range")  # pragma: no cover
    tie = np.arange(k) if order is None else np.asarray(order)
    if tie.shape != (k,):
        raise AllocationError(f"order must have {k} entries")
    # rank 0 = largest remainder; ties go to the smaller ``order``.
    sort_idx = np.lexsort((np.broadcast_to(tie, (n_rows, k)), -rem), axis=1)
    rank = np.empty_like(sort_idx)
    np.put_along_axis(rank, sort_idx, np.arange(k)[None, :].repeat(n_rows, axis=0), axis=1)
    extra = (rank < deficit[:, None]).astype(np.int64)
    result = (floor_int + extra) * step
    result += np.where(rank == 0, leftover[:, None], 0)
    return Trace(units, leftover, quota, floor, rem, rank, deficit, result)


def allocate(
    total: int,
    weights: Sequence[float],
    *,
    step: int = 1,
    holds: Mapping[int, int] | None = None,
    order: Sequence[int] | None = None,
) -> list[int]:
    """Split ``total`` over ``weights``; children in ``holds`` keep their amount.

    >>> allocate(100, [1, 1, 1])
    [34, 33, 33]
    >>> allocate(2_500_000, [80, 70, 100])
    [800000, 700000, 1000000]
    """
    holds = dict(holds or {})
    for idx, amount in holds.items():
        if not 0 <= idx < len(weights):
            raise AllocationError(f"hold for child {idx} but there are {len(weights)} children")
        if amount < 0:
            raise AllocationError("a held amount must not be negative")
    held_total = sum(holds.values())
    if held_total > total:
        raise AllocationError(f"held amounts ({held_total}) exceed the total ({total})")
    free = [i for i in range(len(weights)) if i not in holds]
    result = [0] * len(weights)
    for idx, amount in holds.items():
        result[idx] = amount
    if free:
        tie = None if order is None else [order[i] for i in free]
        spread = allocate_rows([total - held_total], [float(weights[i]) for i in free],
                               step=step, order=tie)[0]
        for i, amount in zip(free, spread.tolist(), strict=True):
            result[i] = amount
    elif total != held_total:
        raise AllocationError("every child is held but the holds do not add up to the total")
    return result


def order_by_code(codes: Sequence[str]) -> list[int]:
    """Tie-break ranks from codes, so a split does not depend on input order."""
    ranked = sorted(range(len(codes)), key=lambda i: codes[i])
    order = [0] * len(codes)
    for rank, i in enumerate(ranked):
        order[i] = rank
    return order
