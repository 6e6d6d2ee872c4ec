"""What an actuals row may measure, and how each measure is added up.

A finance export names its measure in one column. The plan decides what the
names mean:

* the north-star metric (``revenue`` by default): money, compared with the
  phased targets by unit, product, channel and day;
* ``spend`` / ``return``: money spent from, and returned by, a unit's budget
  line (the units that get a budget: the workbook level and below);
* ``spend:<action id>`` / ``return:<action id>``: the same for an action of the
  battle map (its own budget line);
* a BSC KPI code (``stock_out``): a KPI actual beside the KPI's target;
* an OKR key-result id (``KR1.1``): the KR's current value.

Codes are matched exactly first, then ignoring case, so ``NPS`` finds ``nps``
(a plan that has both ``NPS`` and ``nps`` must spell them exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from xlplan.spec.models import Action, KeyResult, Kpi, Plan

Kind = Literal["revenue", "spend", "return", "kpi", "kr"]
SPEND, RETURN = "spend", "return"


@dataclass(frozen=True)
class Measure:
    """A measure name resolved: its kind, its canonical name and what it belongs to."""

    kind: Kind
    name: str  # canonical spelling (the plan's)
    action: str | None = None  # spend/return of an action line

    @property
    def is_money(self) -> bool:
        return self.kind in ("revenue", "spend", "return")


@dataclass(frozen=True)
class Vocabulary:
    """Every measure a plan's actuals may carry."""

    revenue: str
    kpis: dict[str, Kpi]
    krs: dict[str, KeyResult]
    actions: dict[str, Action]
    has_budget: bool

    @classmethod
    def of(cls, plan: Plan) -> Vocabulary:
        return cls(
            revenue=plan.north_star.metric,
            kpis={k.code: k for k in plan.bsc.kpis},
            krs={kr.id: kr for o in plan.okrs for kr in o.krs},
            actions={a.id: a for a in plan.actions},
            has_budget=plan.budget is not None,
        )

    @cached_property
    def _exact(self) -> dict[str, Measure]:
        out: dict[str, Measure] = {}
        for kr in self.krs:
            out[kr] = Measure("kr", kr)
        for code in self.kpis:
            out[code] = Measure("kpi", code)
        for action in self.actions:
            out[f"{SPEND}:{action}"] = Measure("spend", f"{SPEND}:{action}", action)
            out[f"{RETURN}:{action}"] = Measure("return", f"{RETURN}:{action}", action)
        out[SPEND] = Measure("spend", SPEND)
        out[RETURN] = Measure("return", RETURN)
        out[self.revenue] = Measure("revenue", self.revenue)
        return out

    @cached_property
    def _folded(self) -> dict[str, Measure | None]:
        """Lower-cased names; None where two names differ only in case (ambiguous)."""
        out: dict[str, Measure | None] = {}
        for name, measure in self._exact.items():
            key = name.lower()
            out[key] = None if key in out and out[key] != measure else measure
        return out

    def resolve(self, name: str) -> Measure | None:
        """The measure ``name`` stands for, or None when the plan has no such measure."""
        found = self._exact.get(name)
        if found is not None:
            return found
        return self._folded.get(name.lower())

    def names(self) -> list[str]:
        """Every accepted name, for error messages."""
        return list(self._exact)

    def describe(self) -> str:
        """The accepted measures in one line (for an error about an unknown one)."""
        parts = [self.revenue]
        if self.has_budget:
            parts.append("spend, return")
        if self.actions:
            parts.append("spend:<action id>, return:<action id>")
        if self.kpis:
            parts.append("a KPI code")
        if self.krs:
            parts.append("a key-result id")
        return "; ".join(parts)
