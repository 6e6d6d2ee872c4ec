"""The increment bridge: baseline + growth levers → target, with the uncovered gap.

docs/METHOD.md: the levers must add up to the increment, and whatever they do not
cover is the uncovered gap (增量缺口), shown as its own step and never hidden.

An operating-efficiency lever lowers cost: docs/METHOD.md counts it toward a *profit*
increment. So it is a step of the bridge only when the north-star metric is a
profit measure; in a revenue (or other) plan it is listed apart (``Bridge.apart``)
and covers none of the increment, which would otherwise look better covered
than it is by the size of a cost saving.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlplan.engine.rounding import to_minor
from xlplan.spec.models import Plan


@dataclass(frozen=True)
class BridgeStep:
    label: str
    kind: str  # baseline | lever kind | gap | target
    amount: int  # minor units; for baseline/target the level, for others the step
    owner: str = ""
    id: str = ""  # the lever's id in the plan
    note: str = ""


@dataclass(frozen=True)
class Bridge:
    baseline: int
    target: int
    levers: list[BridgeStep]  # the steps of the bridge (they cover the increment)
    apart: list[BridgeStep] = field(default_factory=list)  # levers of another metric

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


PROFIT_WORDS = ("profit", "margin", "ebit", "contribution")


def is_profit_metric(metric: str) -> bool:
    """Whether a north-star metric measures profit (profit, gross_margin, EBITDA, …)."""
    name = metric.lower()
    return any(word in name for word in PROFIT_WORDS)


def counts_toward(kind: str, metric: str) -> bool:
    """Whether a lever of ``kind`` covers part of an increment measured in ``metric``."""
    return kind != "efficiency" or is_profit_metric(metric)


def bridge(plan: Plan) -> Bridge:
    unit = plan.currency.smallest_unit
    metric = plan.north_star.metric
    steps = [BridgeStep(lv.name, lv.kind.value, to_minor(lv.amount, unit), lv.owner, lv.id,
                        lv.note) for lv in plan.levers]
    return Bridge(to_minor(plan.north_star.baseline, unit),
                  to_minor(plan.north_star.target, unit),
                  [st for st in steps if counts_toward(st.kind, metric)],
                  [st for st in steps if not counts_toward(st.kind, metric)])
