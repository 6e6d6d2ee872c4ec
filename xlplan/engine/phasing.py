"""Phasing: spread an annual amount over quarters, months, weeks and days, exactly.

Each step is a largest-remainder split of its parent (see :mod:`allocate`), so
quarters sum to the year and months to their quarter, to the smallest currency
unit. Days are split from their month over :func:`selling_day_weights` by
:mod:`xlplan.tracking.phased_targets`, and weeks are sums of days, so they tie
as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from xlplan.engine.allocate import AllocationError, allocate_rows
from xlplan.spec.models import Calendar, SeasonalityMethod

FOUR_FOUR_FIVE = (4.0, 4.0, 5.0)


@dataclass(frozen=True)
class Profile:
    """How a year is split: by quarters then months within them, or by months directly."""

    quarter_weights: tuple[float, ...] | None
    month_weights: tuple[float, ...]  # within-quarter (3 per quarter) or 12 direct

    @property
    def by_quarter(self) -> bool:
        return self.quarter_weights is not None


def fiscal_months(fiscal_year: int, first_month: int) -> list[tuple[int, int]]:
    """The twelve (calendar year, month) pairs of a fiscal year, in order."""
    out = []
    for i in range(12):
        m = first_month - 1 + i
        out.append((fiscal_year + m // 12, m % 12 + 1))
    return out


def profile_from_calendar(cal: Calendar, prior_months: Sequence[float] | None = None) -> Profile:
    """The phasing profile a plan's calendar asks for.

    ``prior_months`` is last year's revenue by fiscal month, required by the
    ``prior_year`` method.
    """
    if cal.method == SeasonalityMethod.months:
        if cal.month_weights is None:
            raise AllocationError("calendar.method months needs calendar.month_weights")
        return Profile(None, tuple(cal.month_weights))
    if cal.method == SeasonalityMethod.prior_year:
        if prior_months is None or len(prior_months) != 12 or sum(prior_months) <= 0:
            raise AllocationError("calendar.method prior_year needs prior-year revenue by month")
        return Profile(None, tuple(float(x) for x in prior_months))
    if cal.method == SeasonalityMethod.four_four_five:
        return Profile(tuple(cal.quarter_weights), FOUR_FOUR_FIVE * 4)
    within = tuple(cal.month_weights) if cal.month_weights else (1.0,) * 12
    return Profile(tuple(cal.quarter_weights), within)


def phase_year(amounts: Iterable[int] | np.ndarray, profile: Profile) -> np.ndarray:
    """Split each annual amount into 12 fiscal months (N×12 int64, rows tie exactly)."""
    totals = np.asarray(list(amounts) if not isinstance(amounts, np.ndarray) else amounts,
                        dtype=np.int64)
    if profile.quarter_weights is None:
        return allocate_rows(totals, profile.month_weights)
    quarters = allocate_rows(totals, profile.quarter_weights)
    parts = [allocate_rows(quarters[:, q], profile.month_weights[3 * q:3 * q + 3])
             for q in range(4)]
    return np.concatenate(parts, axis=1)


def quarters_of(months: np.ndarray) -> np.ndarray:
    """Quarter totals (N×4) of fiscal-month amounts (N×12)."""
    return months.reshape(months.shape[0], 4, 3).sum(axis=2)


def selling_day_weights(year: int, month: int, selling_weekdays: Sequence[int],
                        holidays: Iterable[dt.date] = ()) -> tuple[list[dt.date], list[float]]:
    """Days of a month with weight 1 when they sell, 0 on closed weekdays and holidays."""
    closed = set(holidays)
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    days = [first + dt.timedelta(days=i) for i in range((nxt - first).days)]
    weights = [1.0 if d.weekday() in selling_weekdays and d not in closed else 0.0 for d in days]
    return days, weights
