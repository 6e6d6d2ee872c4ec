"""Everything the sheet writers need, computed once per build by the engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from xlplan.engine.decompose import ChannelTree, org_targets, product_weights
from xlplan.engine.increment import Bridge, bridge
from xlplan.engine.org import OrgTree
from xlplan.engine.phasing import Profile, fiscal_months, profile_from_calendar
from xlplan.spec.loader import LoadedPlan
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import PriorYear

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class BuildContext:
    loaded: LoadedPlan
    prior: PriorYear | None
    built_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # results that writers compute from the whole plan, kept for the next workbook (each
    # unit's workbook would otherwise redo them: a cost that grows with the number of units)
    memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

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
    def input_units(self) -> list[str]:
        """Units that get their own workbook (regions by default)."""
        return self.tree.at_depth(self.tree.input_level(self.plan.workbooks.input_level))

    @cached_property
    def month_labels(self) -> list[str]:
        return [f"{MONTH_NAMES[m - 1]} {y}" for y, m in
                fiscal_months(self.plan.fiscal_year, self.plan.first_month)]
