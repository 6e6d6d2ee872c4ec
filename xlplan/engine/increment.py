"""The increment bridge: baseline + growth levers → target, with the uncovered gap.

DOMAIN.md: the levers must add up to the increment, and whatever they do not
cover is the uncovered gap (增量缺口), shown as its own step and never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlplan.engine.rounding import to_minor
from xlplan.spec.models import Plan


@dataclass(frozen=True)
class BridgeStep:
    label: str
    kind: str  # baseline | lever kind | gap | target
    amount: int  # minor units; for baseline/target the level, for others the step
    owner: str = ""


@dataclass(frozen=True)
class Bridge:
    baseline: int
    target: int
    levers: list[BridgeStep]

    @property
    def increment(self) -> int:
        return self.target - self.baseline

    @property
    def covered(self) -> int:
        return sum(s.amount for s in self.levers)

    @property
    def gap(self) -> int:
        """Positive: increment not yet covered by any lever; negative: levers over-cover it."""
        return self.increment - self.covered

    @property
    def coverage(self) -> float:
        return self.covered / self.increment if self.increment else float("nan")

    def steps(self) -> list[BridgeStep]:
        """Waterfall steps: baseline, each lever, the uncovered gap, the target."""
        return [
            BridgeStep("Baseline", "baseline", self.baseline),
            *self.levers,
            BridgeStep("Uncovered gap", "gap", self.gap),
            BridgeStep("Target", "target", self.target),
        ]


def bridge(plan: Plan) -> Bridge:
    unit = plan.currency.smallest_unit
    levers = [BridgeStep(lv.name, lv.kind.value, to_minor(lv.amount, unit), lv.owner)
              for lv in plan.levers]
    return Bridge(to_minor(plan.north_star.baseline, unit),
                  to_minor(plan.north_star.target, unit), levers)
