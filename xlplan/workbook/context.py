"""Everything the sheet writers need, computed once per build by the engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from xlplan.engine.budget import BudgetSplit, split_budget, unit_budgets, unit_pools
from xlplan.engine.decompose import ChannelTree, org_targets, product_weights
from xlplan.engine.increment import Bridge, bridge
from xlplan.engine.org import OrgTree
from xlplan.engine.phasing import Profile, fiscal_months, profile_from_calendar
from xlplan.engine.rounding import to_minor
from xlplan.i18n import month_label
from xlplan.spec.loader import LoadedPlan
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import PriorYear

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Allocation:
    """The engine's budget figures of a plan, in minor units."""

    split: BudgetSplit
    units: dict[str, int]  # input unit → budget
    pools: dict[str, dict[str, int]]  # input unit → pool → amount


@dataclass
class BuildContext:
    loaded: LoadedPlan
    prior: PriorYear | None
    built_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def plan(self) -> Plan:
        return self.loaded.plan

    @property
    def su(self) -> Decimal:
        return self.plan.currency.smallest_unit

    @property
    def su_text(self) -> str:
        """The smallest unit as a formula literal (0.01)."""
        return format(self.su.normalize(), "f")

    def money(self, minor: int) -> float:
        """Minor units as the float a worksheet gets from ``=H5*0.01``."""
        return minor * float(self.su)

    def given_money(self, minor: int) -> float:
        """Minor units as a constant to write into a cell: the double nearest the decimal
        amount. ``money`` can be one ulp off (409568626 × 0.01 = 4095686.2600000002), and
        XlsxWriter writes numbers with 16 significant digits, so the file would hold another
        number than the book records and the manifest fingerprint would not match."""
        return float(Decimal(minor) * self.su)

    def compute_all(self) -> None:
        """Compute every engine result now, e.g. before the context is copied into build
        processes, so that each does not compute them again."""
        for name, attr in vars(type(self)).items():
            if isinstance(attr, cached_property):
                getattr(self, name)

    @cached_property
    def tree(self) -> OrgTree:
        return OrgTree.from_units(self.plan.units)

    @cached_property
    def targets(self) -> dict[str, int]:
        return org_targets(self.plan, self.prior)

    @cached_property
    def bridge(self) -> Bridge:
        return bridge(self.plan)

    @cached_property
    def channels(self) -> ChannelTree:
        return ChannelTree.from_plan(self.plan.channels)

    @cached_property
    def product_weights(self) -> list[float]:
        return product_weights(self.plan, self.prior)

    @cached_property
    def profile(self) -> Profile:
        prior_months = None
        if self.prior is not None:
            by_month = self.prior.revenue_by("month")
            prior_months = [float(by_month.get(m, 0)) for m in range(1, 13)]
        return profile_from_calendar(self.plan.calendar, prior_months)

    @cached_property
    def budget_allocation(self) -> Allocation | None:
        """Company reserve, each input unit's budget by target share, and its pools; None
        without a budget section. Every unit's Budget sheet shows figures of the whole
        allocation, so it is computed here once, not once per workbook."""
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
    def input_units(self) -> list[str]:
        """Units that get their own workbook (regions by default)."""
        return self.tree.at_depth(self.tree.input_level(self.plan.workbooks.input_level))

    @cached_property
    def month_labels(self) -> list[str]:
        """Each fiscal month as a heading (catalog messages: "Mar 2027", "2027年3月")."""
        return [month_label(y, m) for y, m in
                fiscal_months(self.plan.fiscal_year, self.plan.first_month)]
