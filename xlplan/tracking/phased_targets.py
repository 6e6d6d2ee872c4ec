"""Phased revenue targets of every unit: by product × channel × month (the plan's), and by day.

The annual targets and the product × channel × month cube are the plan's
numbers (:class:`xlplan.engine.numbers.PlanNumbers`: the same splits as the
workbooks; a unit above the workbook level is the sum of its children, so the
rows of a board always add up to its total to the cent). Tracking adds the
days: each month over its selling days with the allocation the BSC and
Targets sheets use (:func:`xlplan.engine.phasing.selling_day_weights`, then a
largest-remainder split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlplan.engine.allocate import AllocationError, allocate_rows
from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.org import OrgTree
from xlplan.engine.phasing import selling_day_weights
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import PriorYear
from xlplan.tracking.calendar import FiscalCalendar


@dataclass(frozen=True)
class RevenueTargets:
    """Targets in minor units (int64) for every unit of the tree: the plan's numbers
    (``numbers``) and their split over the days of the fiscal year (``days``)."""

    numbers: PlanNumbers
    calendar: FiscalCalendar
    days: dict[str, np.ndarray]  # unit → every day of the fiscal year

    @property
    def tree(self) -> OrgTree:
        return self.numbers.tree

    @property
    def input_units(self) -> list[str]:
        return self.numbers.input_units

    @property
    def products(self) -> list[str]:
        return self.numbers.products

    @property
    def channels(self) -> list[str]:
        """Leaf channels, the cube's channel axis."""
        return self.numbers.channel_leaves

    @property
    def annual(self) -> dict[str, int]:
        return self.numbers.targets

    @property
    def cube(self) -> dict[str, np.ndarray]:
        """Unit → products × channels × 12 months."""
        return self.numbers.cube

    @property
    def months(self) -> dict[str, np.ndarray]:
        """Unit → 12 months."""
        return self.numbers.months

    @property
    def root(self) -> str:
        return self.tree.root

    def span(self, unit: str, first: int, last: int) -> int:
        """Target of days ``first`` to ``last`` (inclusive)."""
        return int(self.days[unit][first:last + 1].sum())


def day_weights(plan: Plan, calendar: FiscalCalendar) -> list[np.ndarray]:
    """Selling-day weights of each fiscal month (1 on a selling day, 0 otherwise)."""
    cal = plan.calendar
    return [np.asarray(selling_day_weights(y, m, cal.selling_weekdays, cal.holidays)[1])
            for y, m in calendar.months]


def split_days(months: np.ndarray, weights: list[np.ndarray], calendar: FiscalCalendar
               ) -> np.ndarray:
    """Rows of 12 month amounts → rows of daily amounts (N × days), each month exactly."""
    out = np.zeros((months.shape[0], len(calendar.days)), dtype=np.int64)
    for m, w in enumerate(weights):
        span = calendar.month_span(m)
        if not w.any():
            if months[:, m].any():
                raise AllocationError(f"{calendar.month_key(m)} has no selling day to phase "
                                      "the month's target over")
            continue
        out[:, span.first:span.last + 1] = allocate_rows(months[:, m], w)
    return out


def phased_targets(numbers: PlanNumbers) -> RevenueTargets:
    """The plan's targets with each unit's months split over their selling days.

    A unit at the workbook level or below (or a leaf) splits its own months, as its
    workbook does; a unit above is the sum of its children's days, so it ties to them."""
    plan = numbers.plan
    calendar = FiscalCalendar.of(plan)
    own = numbers.split_units
    day_rows = split_days(np.array([numbers.months[u] for u in own], dtype=np.int64),
                          day_weights(plan, calendar), calendar)
    days = numbers.tree.summed_up({u: day_rows[i] for i, u in enumerate(own)})
    return RevenueTargets(numbers, calendar, days)


def revenue_targets(plan: Plan, prior: PriorYear | None = None) -> RevenueTargets:
    """:func:`phased_targets` of a plan whose numbers are not at hand yet."""
    return phased_targets(PlanNumbers(plan, prior))
