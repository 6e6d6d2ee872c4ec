"""The plan's computed numbers, in one object: what every later step reads.

A plan's numbers (each unit's annual target, the product × channel × month
cube, the budget allocation, …) are needed by the workbook writers, by
consolidation (targets to compare the commitments with) and by tracking
(targets to compare the actuals with, budgets to compare the spend with). Each
used to compute them its own way, or to borrow the writer's build context to
get them; :class:`PlanNumbers` computes each once, from the plan and last
year's actuals only, so the three cannot drift apart and consolidation and
tracking need nothing of the writer.

Every number is a cached property: computed on first use, then kept. It is a
plain picklable object: a build or reader process receives it with every
number already computed (:meth:`PlanNumbers.compute_all`), instead of
computing them again. Money is integer minor units.

Where a region's March target comes from::

    numbers = PlanNumbers(plan, prior)   # prior: xlplan.spec.prior_year.read_prior_year
    numbers.months["EAST"][numbers.fiscal_month(2027, 3)]
    # = numbers.cube["EAST"][:, :, m].sum(): products × channel leaves of that month
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np

from xlplan.engine.budget import BudgetSplit, split_budget, unit_budgets, unit_pools
from xlplan.engine.decompose import (
    ChannelTree,
    org_targets,
    prior_month_profile,
    product_weights,
    split_unit_targets,
)
from xlplan.engine.increment import Bridge, bridge
from xlplan.engine.org import OrgTree
from xlplan.engine.phasing import Profile, fiscal_months, phase_year, profile_from_calendar
from xlplan.engine.rounding import to_minor
from xlplan.spec.history import PriorYear
from xlplan.spec.models import Plan


@dataclass(frozen=True)
class Allocation:
    """The plan's budget figures, in minor units: the company reserve held back, then each
    input unit's budget by its share of the target, and that budget's pools."""

    split: BudgetSplit
    units: dict[str, int]  # input unit → budget
    pools: dict[str, dict[str, int]]  # input unit → pool → amount


@dataclass(frozen=True, eq=False)
class PlanNumbers:
    """Every number the engine derives from a plan, each computed once (module docstring).

    ``prior`` is last year's actuals, which the plan may split by (allocation method
    ``prior_year``, product mix, seasonality); None when the plan has none. Not
    compared by ``==`` (a plan's prior year is a DataFrame): compare the numbers.
    """

    plan: Plan
    prior: PriorYear | None = None

    def compute_all(self) -> None:
        """Compute every number now, e.g. before this object is copied into build or
        reader processes, so that each process does not compute them again."""
        for name, attr in vars(type(self)).items():
            if isinstance(attr, cached_property):
                getattr(self, name)

    @property
    def su(self) -> Decimal:
        """The smallest currency unit (0.01): one minor unit in major units."""
        return self.plan.currency.smallest_unit

    @cached_property
    def tree(self) -> OrgTree:
        return OrgTree.from_units(self.plan.units)

    @cached_property
    def input_level(self) -> int:
        """Depth of the units that fill a workbook (the plan's, else one above the leaves)."""
        return self.tree.input_level(self.plan.workbooks.input_level)

    @cached_property
    def input_units(self) -> list[str]:
        """Units that get their own workbook (regions by default), in org order."""
        return self.tree.at_depth(self.input_level)

    @cached_property
    def targets(self) -> dict[str, int]:
        """Annual target of every unit, top-down; children sum exactly to their parent."""
        return org_targets(self.plan, self.prior)

    @cached_property
    def bridge(self) -> Bridge:
        """Baseline + growth levers → the north-star target, with the uncovered gap."""
        return bridge(self.plan)

    @cached_property
    def channels(self) -> ChannelTree:
        return ChannelTree.from_plan(self.plan.channels)

    @cached_property
    def products(self) -> list[str]:
        """Product codes in plan order: the cube's product axis."""
        return [p.code for p in self.plan.products]

    @cached_property
    def channel_leaves(self) -> list[str]:
        """Leaf channels in tree order: the cube's channel axis (where money lands)."""
        return self.channels.leaves()

    @cached_property
    def product_weights(self) -> list[float]:
        """Product mix: the plan's, else last year's revenue share, else even."""
        return product_weights(self.plan, self.prior)

    @cached_property
    def profile(self) -> Profile:
        """How the year is split over months (the plan's seasonality method)."""
        return profile_from_calendar(self.plan.calendar, prior_month_profile(self.prior))

    @cached_property
    def split_units(self) -> list[str]:
        """Units whose targets are split from their own annual target (the workbook level
        and below, and leaves above it); every other unit is the sum of its children."""
        tree = self.tree
        return [u for u in tree.walk()
                if tree.depth(u) >= self.input_level or not tree.children[u]]

    @cached_property
    def cube(self) -> dict[str, np.ndarray]:
        """Every unit's target by product × channel leaf × fiscal month (int64), org order.

        A unit at the workbook level or below (or a leaf above it) is split from its own
        annual target, the split its workbook shows (products → channels → months,
        :func:`xlplan.engine.decompose.split_unit_targets`); a unit above is the sum of
        its children, as the master adds up the regions, so every parent is exactly the
        sum of its children at every cell, not a split of its own that could differ by a
        minor unit in a month.
        """
        own = self.split_units
        rows = split_unit_targets(np.array([self.targets[u] for u in own], dtype=np.int64),
                                  self.plan, self.prior)
        return self.tree.summed_up({u: rows[i] for i, u in enumerate(own)})

    @cached_property
    def months(self) -> dict[str, np.ndarray]:
        """Every unit's target by fiscal month (12, int64): its cube summed."""
        return {u: c.sum(axis=(0, 1)) for u, c in self.cube.items()}

    def fiscal_month(self, year: int, month: int) -> int:
        """The index (0–11) of calendar ``year``-``month`` in the fiscal year."""
        return fiscal_months(self.plan.fiscal_year, self.plan.first_month).index((year, month))

    @cached_property
    def budget_allocation(self) -> Allocation | None:
        """Company reserve, each input unit's budget by target share, and its pools; None
        without a budget section. Every unit's Budget sheet shows figures of the whole
        allocation, and tracking checks spend against it, so it is computed here once."""
        budget = self.plan.budget
        if budget is None:
            return None
        split = split_budget(to_minor(budget.total, self.su), budget.company_reserve,
                             budget.pools)
        units = unit_budgets(split.distributable, {u: self.targets[u] for u in self.input_units})
        pools = {u: {str(k): v for k, v in unit_pools(amount, budget.pools).items()}
                 for u, amount in units.items()}
        return Allocation(split, units, pools)

    @cached_property
    def budget_months(self) -> dict[str, np.ndarray]:
        """Each input unit's budget by fiscal month (12, int64): budget follows the plan's
        seasonality, like the revenue target. Empty without a budget section."""
        alloc = self.budget_allocation
        if alloc is None:
            return {}
        units = self.input_units
        phased = phase_year(np.array([alloc.units[u] for u in units], dtype=np.int64),
                            self.profile)
        return {u: phased[i] for i, u in enumerate(units)}
