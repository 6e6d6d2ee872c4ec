"""Phased revenue targets of every unit: by product × channel × month, and by day.

The same splits as the workbooks: a unit's annual target through
:func:`xlplan.engine.decompose.split_unit_targets` (products → channels →
months), each month over its selling days with the allocation the BSC and
Targets sheets use (:func:`xlplan.engine.phasing.selling_day_weights`, then a
largest-remainder split). Units at the workbook level and below are split
from their own annual target; a unit above that level (division, company) is
the sum of its children, as the master's Dashboard adds up the regions, so the
rows of a board always add up to its total to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlplan.engine.allocate import AllocationError, allocate_rows
from xlplan.engine.decompose import ChannelTree, org_targets, split_unit_targets
from xlplan.engine.org import OrgTree
from xlplan.engine.phasing import selling_day_weights
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import PriorYear
from xlplan.tracking.calendar import FiscalCalendar


@dataclass(frozen=True)
class RevenueTargets:
    """Targets in minor units (int64) for every unit of the tree."""

    calendar: FiscalCalendar
    tree: OrgTree
    input_units: list[str]
    products: list[str]
    channels: list[str]  # leaf channels, the cube's channel axis
    annual: dict[str, int]
    cube: dict[str, np.ndarray]  # unit → products × channels × 12 months
    months: dict[str, np.ndarray]  # unit → 12 months
    days: dict[str, np.ndarray]  # unit → every day of the fiscal year

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


def revenue_targets(plan: Plan, prior: PriorYear | None = None) -> RevenueTargets:
    """Every unit's targets by product × channel × month and by day (module docstring)."""
    calendar = FiscalCalendar.of(plan)
    tree = OrgTree.from_units(plan.units)
    level = tree.input_level(plan.workbooks.input_level)
    annual = org_targets(plan, prior)
    own = [u for u in tree.walk() if tree.depth(u) >= level or not tree.children[u]]
    cube_rows = split_unit_targets(np.array([annual[u] for u in own], dtype=np.int64), plan,
                                   prior)
    months_rows = cube_rows.sum(axis=(1, 2))
    day_rows = split_days(months_rows, day_weights(plan, calendar), calendar)
    cube = {u: cube_rows[i] for i, u in enumerate(own)}
    days = {u: day_rows[i] for i, u in enumerate(own)}

    def fill(unit: str) -> None:
        if unit in cube:
            return
        for child in tree.children[unit]:
            fill(child)
        kids = tree.children[unit]
        cube[unit] = np.sum([cube[k] for k in kids], axis=0)
        days[unit] = np.sum([days[k] for k in kids], axis=0)

    fill(tree.root)
    order = tree.walk()
    return RevenueTargets(
        calendar=calendar, tree=tree, input_units=tree.at_depth(level),
        products=[p.code for p in plan.products],
        channels=ChannelTree.from_plan(plan.channels).leaves(),
        annual={u: int(cube[u].sum()) for u in order},
        cube={u: cube[u] for u in order},
        months={u: cube[u].sum(axis=(0, 1)) for u in order},
        days={u: days[u] for u in order},
    )
