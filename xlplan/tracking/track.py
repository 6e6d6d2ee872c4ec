"""Everything the board shows for one as-of date, computed once (pure: no files, no database).

:func:`track` takes the plan, its actuals table (:mod:`xlplan.tracking.actuals`)
and the as-of date and returns a :class:`TrackResult`: revenue compared at every
grain, KPI values and BSC scores, budget lines, OKR progress and the warnings.
The board writer only lays these numbers out; ``xlplan track --json`` prints
:meth:`TrackResult.to_json`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.variance import attainment, status
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import PriorYear
from xlplan.tracking.actuals import rows as records
from xlplan.tracking.calendar import FiscalCalendar
from xlplan.tracking.compare import (
    RevenueActuals,
    compare,
    data_through,
    revenue_actuals,
)
from xlplan.tracking.phased_targets import RevenueTargets, phased_targets
from xlplan.tracking.scorecard import Scorecard, kr_readings, okr_progress, scorecard
from xlplan.tracking.spend import SpendResult, spend_vs_budget
from xlplan.tracking.warning_rules import (
    RANK,
    Alert,
    Deciders,
    kpi_alerts,
    revenue_alerts,
    sort_alerts,
    spend_alerts,
)


class TrackError(ValueError):
    """The as-of date or the forecast plan cannot be used."""


@dataclass(frozen=True)
class TrackResult:
    """The numbers of one board. Money in minor units."""

    plan: Plan
    as_of: dt.date
    through: int  # revenue data-through day (-1: no revenue actuals yet)
    targets: RevenueTargets
    revenue: RevenueActuals
    compare: pd.DataFrame  # xlplan.tracking.compare.COLUMNS, board units, every grain
    cards: Scorecard
    spend: SpendResult
    okr: pd.DataFrame
    alerts: list[Alert]
    forecast: dict[str, np.ndarray] | None = None  # unit → 12 forecast months

    @property
    def calendar(self) -> FiscalCalendar:
        return self.targets.calendar

    @property
    def units(self) -> list[str]:
        """The board's rows: the workbook-level units, then the company."""
        return [*self.targets.input_units, self.targets.root]

    @property
    def names(self) -> dict[str, str]:
        return {u: (self.targets.tree.units[u].name or u) for u in self.targets.tree.units}

    @property
    def through_date(self) -> dt.date | None:
        return self.calendar.days[self.through] if self.through >= 0 else None

    def row(self, unit: str, grain: str, label: str | None = None) -> pd.Series | None:
        """The comparison row of a unit and period (the year to date when no label)."""
        c = self.compare
        rows = c[(c["unit"] == unit) & (c["grain"] == grain)]
        if label is not None:
            rows = rows[rows["label"] == label]
        return rows.iloc[-1] if len(rows) else None

    def month_actuals(self, unit: str) -> list[int | None]:
        """Actual of each fiscal month (to date for the running one; None before data)."""
        out: list[int | None] = [None] * 12
        c = self.compare
        rows = c[(c["unit"] == unit) & (c["grain"] == "month")]
        for i, row in enumerate(records(rows)):
            out[i] = int(row.actual)
        return out

    def headline(self) -> dict[str, Any]:
        """The board's headline figures (money in major units)."""
        su = self.plan.currency.smallest_unit
        root = self.targets.root
        ytd = self.row(root, "ytd")
        ytd_t = int(ytd["target"]) if ytd is not None else 0
        ytd_a = int(ytd["actual"]) if ytd is not None else None
        att = attainment(ytd_a, ytd_t) if ytd_a is not None else math.nan
        open_alerts = [a for a in self.alerts if a.open]
        spend_ytd = self.spend.ytd()  # closed months of the lines with spend
        units = ~spend_ytd["line"].str.startswith("action:")
        score = self.cards.scores[root].total if root in self.cards.scores else math.nan
        company = self.okr[self.okr["unit"].isin(["", root])]
        objectives = company.drop_duplicates("objective")
        out: dict[str, Any] = {
            "currency": self.plan.currency.code,
            "annual_target": _money(self.targets.annual[root], su),
            "ytd_target": _money(ytd_t, su),
            "ytd_actual": None if ytd_a is None else _money(ytd_a, su),
            "ytd_variance": None if ytd_a is None else _money(ytd_a - ytd_t, su),
            "ytd_attainment": _num(att),
            "ytd_status": status(att, self.plan.status_bands),
            "year_end_bar": self.plan.warnings.year_end_bar,
            "warnings": {lvl: sum(1 for a in self.alerts if a.level == lvl)
                         for lvl in sorted(RANK, key=RANK.__getitem__, reverse=True)},
            "open_warnings": {lvl: sum(1 for a in open_alerts if a.level == lvl)
                              for lvl in sorted(RANK, key=RANK.__getitem__, reverse=True)},
            "budget_ytd": _money(int(spend_ytd.loc[units, "budget"].sum()), su),
            "spend_ytd": _money(int(spend_ytd.loc[units, "spend"].sum()), su),
            "action_budget_ytd": _money(int(spend_ytd.loc[~units, "budget"].sum()), su),
            "action_spend_ytd": _money(int(spend_ytd.loc[~units, "spend"].sum()), su),
            "bsc_score": _num(score),
            "okr_progress": {str(r.objective): _num(float(r.objective_rollup))
                             for r in records(objectives)},
        }
        if self.forecast is not None:
            out["forecast_annual"] = _money(int(self.forecast[root].sum()), su)
        return out

    def to_json(self) -> dict[str, Any]:
        su = self.plan.currency.smallest_unit
        through = self.through_date
        return {
            "plan": self.plan.id,
            "as_of": self.as_of.isoformat(),
            "data_through": through.isoformat() if through else None,
            "headline": self.headline(),
            "warnings": [a.to_json(su) for a in self.alerts],
        }


def _money(minor: int, su: Decimal) -> float:
    return float(Decimal(minor) * su)


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def as_of_index(calendar: FiscalCalendar, as_of: dt.date) -> int:
    """The as-of day in the fiscal year; after the year, its last day."""
    if as_of < calendar.start:
        raise TrackError(f"--as-of {as_of} is before the fiscal year starts ({calendar.start})")
    return calendar.day_index(min(as_of, calendar.end))


def forecast_months(forecast: Plan, plan: Plan, prior: PriorYear | None,
                    units: list[str]) -> dict[str, np.ndarray]:
    """Month targets of a re-forecast plan for the board's units (same plan id and org)."""
    if forecast.id != plan.id:
        raise TrackError(f"the forecast is plan {forecast.id!r}, not {plan.id!r}")
    months = PlanNumbers(forecast, prior).months
    missing = [u for u in units if u not in months]
    if missing:
        raise TrackError(f"the forecast has no unit(s) {', '.join(missing)}")
    return {u: months[u] for u in units}


def track(plan: Plan, actuals: pd.DataFrame, as_of: dt.date, prior: PriorYear | None = None,
          forecast: Plan | None = None) -> TrackResult:
    """Compare the actuals with the plan as of ``as_of`` (module docstring)."""
    targets = phased_targets(PlanNumbers(plan, prior))
    cal = targets.calendar
    day = as_of_index(cal, as_of)
    su = float(plan.currency.smallest_unit)
    revenue = revenue_actuals(actuals, targets, plan.north_star.metric, su)
    through = data_through(cal, day, revenue.last_day)
    units = [*targets.input_units, targets.root]
    table = compare(targets, revenue, through, plan.status_bands, units)
    cards = scorecard(actuals, plan, cal, targets.tree, units, day)
    spend = spend_vs_budget(actuals, targets, day)
    okr = okr_progress(plan, kr_readings(actuals, plan, day), cal.days[day])
    deciders = Deciders(plan, targets, spend)
    names = {u: (targets.tree.units[u].name or u) for u in targets.tree.units}
    alerts = sort_alerts([*revenue_alerts(plan, table, units, names, deciders),
                          *kpi_alerts(plan, cards, names, deciders),
                          *spend_alerts(plan, spend, deciders)])
    fc = forecast_months(forecast, plan, prior, units) if forecast is not None else None
    return TrackResult(plan, cal.days[day], through, targets, revenue, table, cards, spend, okr,
                       alerts, fc)
