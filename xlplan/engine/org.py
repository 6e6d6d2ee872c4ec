"""The org tree and the top-down split of a target over it.

A child's weight is the product of visible factors (docs/METHOD.md: base potential ×
strategic priority × channel maturity × team capability × attainment history),
kept in a :class:`WeightBreakdown` so the workbook can show, and recompute, why a
region's target is what it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from xlplan.engine.allocate import AllocationError, allocate, order_by_code
from xlplan.spec.models import AllocationMethod, AllocationRules, Unit


@dataclass(frozen=True)
class OrgTree:
    """Units by code with children in plan order; one root."""

    units: dict[str, Unit]
    children: dict[str, list[str]]
    root: str

    @classmethod
    def from_units(cls, units: list[Unit]) -> OrgTree:
        by_code = {u.code: u for u in units}
        children: dict[str, list[str]] = {u.code: [] for u in units}
        roots = []
        for u in units:
            if u.parent is None:
                roots.append(u.code)
            else:
                children[u.parent].append(u.code)
        if len(roots) != 1:
            raise AllocationError(f"expected one top unit, found {roots}")
        return cls(by_code, children, roots[0])

    def walk(self) -> list[str]:
        """Codes top-down, depth first, in plan order."""
        out: list[str] = []
        stack = [self.root]
        while stack:
            code = stack.pop()
            out.append(code)
            stack.extend(reversed(self.children[code]))
        return out

    def depth(self, code: str) -> int:
        d, unit = 0, self.units[code]
        while unit.parent is not None:
            d, unit = d + 1, self.units[unit.parent]
        return d

    def leaves(self) -> list[str]:
        return [c for c in self.walk() if not self.children[c]]

    def at_depth(self, depth: int) -> list[str]:
        return [c for c in self.walk() if self.depth(c) == depth]

    def leaves_under(self, code: str) -> list[str]:
        if not self.children[code]:
            return [code]
        return [leaf for child in self.children[code] for leaf in self.leaves_under(child)]

    def summed_up(self, own: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every unit's array, top-down: the units in ``own`` keep theirs, every other unit is
        the sum of its children's. A parent is then exactly the sum of its children, cell by
        cell, rather than a split of its own that could differ by a minor unit."""
        out = dict(own)

        def fill(unit: str) -> np.ndarray:
            if unit not in out:
                out[unit] = np.sum([fill(k) for k in self.children[unit]], axis=0)
            return out[unit]

        fill(self.root)
        return {u: out[u] for u in self.walk()}

    def input_level(self, configured: int | None = None) -> int:
        """Depth of the units that fill a workbook: one above the leaves by default."""
        if configured is not None:
            return configured
        deepest = max(self.depth(c) for c in self.units)
        return max(deepest - 1, 0)


@dataclass(frozen=True)
class WeightBreakdown:
    """Every factor of a unit's allocation weight, in the order they multiply."""

    base: float
    priority: float = 1.0
    maturity: float = 1.0
    new_hire: float = 1.0
    history: float = 1.0
    review: bool = False  # under target every year of the history window: review the target
    notes: list[str] = field(default_factory=list)

    @property
    def weight(self) -> float:
        # Same order as the worksheet formula =base*priority*maturity*new_hire*history.
        return self.base * self.priority * self.maturity * self.new_hire * self.history


def factor_breakdown(unit: Unit, rules: AllocationRules) -> WeightBreakdown:
    """The factors docs/METHOD.md lists, with the plan's configurable values."""
    f = unit.factors
    notes = []
    maturity = rules.maturity_factors.get(f.maturity, 1.0)
    new_hire = rules.new_hire_factor if f.new_hire_share > rules.new_hire_threshold else 1.0
    if new_hire != 1.0:
        notes.append(f"new-hire share {f.new_hire_share:.0%} over {rules.new_hire_threshold:.0%}")
    recent = f.attainment_history[-rules.history_years:]
    full = len(recent) == rules.history_years
    history = 1.0 + rules.history_uplift if full and all(a >= 1.0 for a in recent) else 1.0
    review = full and all(a < 1.0 for a in recent)
    if history != 1.0:
        notes.append(f"over target {rules.history_years} years running")
    if review:
        notes.append(f"under target {rules.history_years} years running: review the target")
    return WeightBreakdown(unit.base, f.priority, maturity, new_hire, history, review, notes)


def child_weights(tree: OrgTree, parent: str, rules: AllocationRules,
                  prior_revenue: Mapping[str, int] | None = None) -> dict[str, WeightBreakdown]:
    """Weights of ``parent``'s children under the plan's allocation method."""
    out = {}
    for code in tree.children[parent]:
        unit = tree.units[code]
        if rules.method == AllocationMethod.factors:
            out[code] = factor_breakdown(unit, rules)
        elif rules.method == AllocationMethod.even:
            out[code] = WeightBreakdown(1.0)
        elif rules.method == AllocationMethod.weights:
            if unit.weight is None:
                raise AllocationError(f"unit {code}: allocation method 'weights' needs a weight")
            out[code] = WeightBreakdown(unit.weight)
        else:
            if prior_revenue is None:
                raise AllocationError("allocation method 'prior_year' needs prior-year actuals")
            total = sum(prior_revenue.get(leaf, 0) for leaf in tree.leaves_under(code))
            out[code] = WeightBreakdown(float(total))
    return out


def allocate_org(tree: OrgTree, total: int, rules: AllocationRules, *, step: int = 1,
                 holds: Mapping[str, int] | None = None,
                 prior_revenue: Mapping[str, int] | None = None) -> dict[str, int]:
    """Annual target of every unit, top-down; children sum exactly to their parent."""
    holds = holds or {}
    targets = {tree.root: total}
    for code in tree.walk():
        kids = tree.children[code]
        if not kids:
            continue
        weights = child_weights(tree, code, rules, prior_revenue)
        held = {i: holds[k] for i, k in enumerate(kids) if k in holds}
        try:
            split = allocate(targets[code], [weights[k].weight for k in kids], step=step,
                             holds=held, order=order_by_code(kids))
        except AllocationError as exc:
            raise AllocationError(f"splitting {code}'s target over {', '.join(kids)}: {exc}") \
                from exc
        targets.update(zip(kids, split, strict=True))
    return targets
