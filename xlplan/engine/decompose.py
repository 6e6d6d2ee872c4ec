"""The full target decomposition: org × product × channel × month, every margin exact.

Peel the onion (docs/METHOD.md): a unit's annual target is split over products (mix),
each product's share over the channel tree (7:3 online/offline, then
sub-channels), and each channel's amount over the fiscal months (quarter profile,
then months within the quarter). Each step is a largest-remainder split of its
parent, so every partial sum ties exactly to the level above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlplan.engine.allocate import allocate_rows, order_by_code
from xlplan.engine.org import OrgTree, allocate_org
from xlplan.engine.phasing import Profile, phase_year, profile_from_calendar
from xlplan.engine.rounding import to_minor
from xlplan.spec.history import PriorYear
from xlplan.spec.models import Channel, Plan


@dataclass(frozen=True)
class ChannelTree:
    """Channels with children in plan order; leaves are where money lands."""

    channels: dict[str, Channel]
    children: dict[str | None, list[str]]

    @classmethod
    def from_plan(cls, channels: list[Channel]) -> ChannelTree:
        children: dict[str | None, list[str]] = {None: []}
        for c in channels:
            children.setdefault(c.code, [])
            children.setdefault(c.parent, []).append(c.code)
        return cls({c.code: c for c in channels}, children)

    def leaves(self) -> list[str]:
        out: list[str] = []

        def visit(code: str) -> None:
            kids = self.children.get(code, [])
            if not kids:
                out.append(code)
            for k in kids:
                visit(k)

        for top in self.children[None]:
            visit(top)
        return out

    def split(self, totals: np.ndarray) -> np.ndarray:
        """Split amounts (N) over leaf channels (N×L), group by group, exactly."""
        leaves = self.leaves()
        out = np.zeros((totals.shape[0], len(leaves)), dtype=np.int64)

        def visit(parent: str | None, amounts: np.ndarray) -> None:
            kids = self.children.get(parent, []) if parent is not None else self.children[None]
            if not kids:
                out[:, leaves.index(parent)] = amounts  # type: ignore[arg-type]
                return
            parts = allocate_rows(amounts, [self.channels[k].share for k in kids],
                                  order=order_by_code(kids))
            for j, k in enumerate(kids):
                visit(k, parts[:, j])

        visit(None, totals)
        return out


@dataclass(frozen=True)
class Decomposition:
    """Annual targets of every unit and the cube for the units at ``level``."""

    org_targets: dict[str, int]
    units: list[str]
    products: list[str]
    channels: list[str]
    cube: np.ndarray  # units × products × channels × 12 months, int64 minor units
    profile: Profile
    product_weights: list[float]

    def frame(self) -> pd.DataFrame:
        """Long table: unit, product, channel, month (fiscal 1-12), amount."""
        u, p, c, m = self.cube.shape
        idx = np.indices((u, p, c, m)).reshape(4, -1)
        return pd.DataFrame({
            "unit": np.asarray(self.units, dtype=object)[idx[0]],
            "product": np.asarray(self.products, dtype=object)[idx[1]],
            "channel": np.asarray(self.channels, dtype=object)[idx[2]],
            "month": idx[3] + 1,
            "amount": self.cube.reshape(-1),
        })


def product_weights(plan: Plan, prior: PriorYear | None) -> list[float]:
    """Product mix from the plan, else last year's revenue share, else even."""
    if all(p.mix is not None for p in plan.products):
        return [float(p.mix or 0) for p in plan.products]
    if prior is not None:
        by_product = prior.revenue_by("product")
        return [float(by_product.get(p.code, 0)) for p in plan.products]
    return [1.0] * len(plan.products)


def prior_month_profile(prior: PriorYear | None) -> list[float] | None:
    if prior is None:
        return None
    by_month = prior.revenue_by("month")
    return [float(by_month.get(m, 0)) for m in range(1, 13)]


def org_targets(plan: Plan, prior: PriorYear | None = None) -> dict[str, int]:
    """Annual target of every unit, in minor units."""
    unit = plan.currency.smallest_unit
    tree = OrgTree.from_units(plan.units)
    step = to_minor(plan.allocation.rounding_step, unit) if plan.allocation.rounding_step else 1
    holds = {u.code: to_minor(u.hold, unit) for u in plan.units if u.hold is not None}
    prior_rev = None
    if prior is not None:
        prior_rev = {str(k): int(v) for k, v in prior.revenue_by("unit").items()}
    return allocate_org(tree, to_minor(plan.north_star.target, unit), plan.allocation,
                        step=step, holds=holds, prior_revenue=prior_rev)


def split_unit_targets(totals: np.ndarray, plan: Plan, prior: PriorYear | None = None
                       ) -> np.ndarray:
    """Units' annual targets → units × products × channels × months (the onion)."""
    weights = product_weights(plan, prior)
    codes = [p.code for p in plan.products]
    by_product = allocate_rows(totals, weights, order=order_by_code(codes))  # U×P
    channels = ChannelTree.from_plan(plan.channels)
    by_channel = channels.split(by_product.reshape(-1))  # (U·P)×C
    profile = profile_from_calendar(plan.calendar, prior_month_profile(prior))
    months = phase_year(by_channel.reshape(-1), profile)  # (U·P·C)×12
    return months.reshape(totals.shape[0], len(codes), by_channel.shape[1], 12)


def decompose(plan: Plan, prior: PriorYear | None = None, level: int | None = None
              ) -> Decomposition:
    """The whole decomposition; ``level`` is the org depth of the cube (default: leaves)."""
    targets = org_targets(plan, prior)
    tree = OrgTree.from_units(plan.units)
    units = tree.leaves() if level is None else tree.at_depth(level)
    totals = np.array([targets[u] for u in units], dtype=np.int64)
    cube = split_unit_targets(totals, plan, prior)
    return Decomposition(
        org_targets=targets,
        units=units,
        products=[p.code for p in plan.products],
        channels=ChannelTree.from_plan(plan.channels).leaves(),
        cube=cube,
        profile=profile_from_calendar(plan.calendar, prior_month_profile(prior)),
        product_weights=product_weights(plan, prior),
    )
