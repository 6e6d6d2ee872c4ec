"""What the sheet writers need: the plan's numbers (:class:`PlanNumbers`) and how to write them.

The numbers themselves live in the engine (:mod:`xlplan.engine.numbers`), so that
consolidation and tracking read them without this package; the context adds
only what writing a workbook needs: when it was built, the month labels, and
how minor units become cell values. The numbers' names (``ctx.targets``,
``ctx.tree``, …) are kept here as read-through properties, so a writer reads
``ctx.targets[unit]`` whether it thinks of it as the plan's number or the build's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from xlplan.engine.decompose import ChannelTree
from xlplan.engine.increment import Bridge
from xlplan.engine.numbers import Allocation, PlanNumbers
from xlplan.engine.org import OrgTree
from xlplan.engine.phasing import Profile, fiscal_months
from xlplan.i18n import month_label
from xlplan.spec.loader import LoadedPlan
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import PriorYear

__all__ = ["MONTH_NAMES", "Allocation", "BuildContext"]

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class BuildContext:
    """One build's plan, its numbers and the build time (every workbook of a build shows
    the same). ``BuildContext(loaded, prior)`` computes the numbers from the plan; a caller
    that has them already passes ``numbers=``."""

    loaded: LoadedPlan
    prior: PriorYear | None
    built_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    numbers: PlanNumbers = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.numbers is None:
            self.numbers = PlanNumbers(self.loaded.plan, self.prior)

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
        """Compute the numbers the writers read, and the labels, now, e.g. before the context
        is copied into build processes, so that each does not compute them again.

        Only the numbers read through below, not all of :class:`PlanNumbers`: the whole
        cube of every unit (tracking's and consolidation's) is not written by a unit's
        workbook, and at 2,000 regions it would add a second and 30 MB to every copy."""
        numbers = vars(PlanNumbers)
        for name, attr in vars(type(self)).items():
            if isinstance(attr, cached_property) or (
                    isinstance(attr, property) and isinstance(numbers.get(name), cached_property)):
                getattr(self, name)

    # the plan's numbers, read through (xlplan.engine.numbers.PlanNumbers says what each is)

    @property
    def tree(self) -> OrgTree:
        return self.numbers.tree

    @property
    def targets(self) -> dict[str, int]:
        return self.numbers.targets

    @property
    def bridge(self) -> Bridge:
        return self.numbers.bridge

    @property
    def channels(self) -> ChannelTree:
        return self.numbers.channels

    @property
    def product_weights(self) -> list[float]:
        return self.numbers.product_weights

    @property
    def profile(self) -> Profile:
        return self.numbers.profile

    @property
    def budget_allocation(self) -> Allocation | None:
        return self.numbers.budget_allocation

    @property
    def input_units(self) -> list[str]:
        return self.numbers.input_units

    @cached_property
    def month_labels(self) -> list[str]:
        """Each fiscal month as a heading (catalog messages: "Mar 2027", "2027年3月")."""
        return [month_label(y, m) for y, m in
                fiscal_months(self.plan.fiscal_year, self.plan.first_month)]
