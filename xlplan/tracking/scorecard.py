"""KPI actuals by unit and month, BSC scores, and OKR progress from the latest readings.

KPI month value (the BSC daily report's month-to-date, so board and unit
workbook agree): a unit's month value when it reported one, else its days by
the sheet's rule (:func:`xlplan.engine.bsc.mtd_rule`: money adds up, levels
are averaged). A monthly or weekly KPI reported by day only is averaged (a
level) or added up (money) all the same, rather than ignored. A unit that
reported nothing takes the plain mean of the nearest units below it that did
(a region of its reps, the company of its regions); KPI targets are levels per
unit, so a mean, not a sum, is comparable with them.

Year to date is the mean of the month values so far (a stock's, its latest month: the
KPI's ``aggregate``), compared with the same monthly target. Attainment, light and 0–10
score come from :mod:`xlplan.engine.variance` and :mod:`xlplan.engine.bsc`.

OKR: a key result's current value is its latest reading on or before the
as-of date (measure = the KR id), else the plan's ``current``; progress and the
roll-up are :func:`xlplan.engine.okr.okr_rollup`. ``expected`` is the share of
the KR's time that has passed (fiscal start to due date), to read progress
against.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlplan.engine.bsc import (
    BscResult,
    DayRule,
    bsc_scores,
    day_rule,
    default_floor,
    kpi_score,
)
from xlplan.engine.okr import okr_rollup
from xlplan.engine.org import OrgTree
from xlplan.engine.variance import attainment, status
from xlplan.spec.models import Kpi, Objective, Plan, StatusBands
from xlplan.tracking.actuals import MONTH_ROW, whole
from xlplan.tracking.calendar import FiscalCalendar

NAN = float("nan")
MONTH_COLUMNS = ["unit", "kpi", "month", "partial", "value", "target", "attainment", "status",
                 "score"]


def kpi_month_value(kpi: Kpi, currency: str, symbol: str, days: Sequence[float],
                    month_value: float | None) -> float | None:
    """A unit's month value of one KPI from its day values and month value (module docstring)."""
    if month_value is not None and not math.isnan(month_value):
        return float(month_value)
    if not days:
        return None
    rule = day_rule(kpi, currency, symbol)
    if rule == "last":
        return float(days[-1])
    total = math.fsum(days)
    return total if rule == "sum" else total / len(days)


def own_values(frame: pd.DataFrame, plan: Plan, calendar: FiscalCalendar, through: int
               ) -> dict[tuple[str, str, int], float]:
    """(unit, KPI, month) → the month value each unit reported itself, to day ``through``."""
    kpis = {k.code: k for k in plan.bsc.kpis}
    rows = frame[frame["measure"].isin(list(kpis))]
    rows = rows[(rows["day"] <= through)
                & (rows["month"] <= int(calendar.month_of_day[max(through, 0)]))]
    out: dict[tuple[str, str, int], float] = {}
    cur, sym = plan.currency.code, plan.currency.symbol
    for (unit, code, month), group in rows.groupby(["unit", "measure", "month"], sort=False):
        is_month = group["day"] == MONTH_ROW
        month_value = float(group.loc[is_month, "value"].iloc[-1]) if is_month.any() else None
        days = group.loc[~is_month, "value"].astype(float).tolist()
        value = kpi_month_value(kpis[str(code)], cur, sym, days, month_value)
        if value is not None:
            out[(str(unit), str(code), whole(month))] = value
    return out


def unit_value(tree: OrgTree, own: Mapping[tuple[str, str, int], float], unit: str, code: str,
               month: int) -> float:
    """The unit's own value, else the mean of the nearest reporting units below it (or NaN)."""
    found: list[float] = []

    def collect(u: str) -> None:
        key = (u, code, month)
        if key in own:
            found.append(own[key])
            return
        for child in tree.children[u]:
            collect(child)

    collect(unit)
    return math.fsum(found) / len(found) if found else NAN


def _row_values(kpi: Kpi, value: float, bands: StatusBands) -> tuple[float, str, float]:
    att = attainment(None if math.isnan(value) else value, kpi.target, kpi.direction)
    floor = default_floor(kpi.target, kpi.direction) if kpi.floor is None else kpi.floor
    score = kpi_score(None if math.isnan(value) else value, kpi.target, floor, kpi.direction)
    return att, status(att, bands), score


def year_to_date(rule: DayRule, months: Sequence[float]) -> float:
    """A KPI's year to date from its month values so far, compared with its month target:
    a stock (``last``) is its latest month, as the BSC sheet's year-to-date is; a flow
    (``sum``) or a level the mean month. For a flow the mean month against the month
    target is the attainment of the sum against the target times the months, which is what
    the BSC sheet shows; a level's mean weighs each month alike (the sheet weighs each day)."""
    if not months:
        return NAN
    if rule == "last":
        return float(months[-1])
    return math.fsum(months) / len(months)


@dataclass(frozen=True)
class Scorecard:
    """KPI values by unit and month, year to date, and the BSC scores of each unit."""

    months: pd.DataFrame  # MONTH_COLUMNS
    ytd: pd.DataFrame  # MONTH_COLUMNS without month/partial
    scores: dict[str, BscResult]  # unit → scores of the YTD values


def scorecard(frame: pd.DataFrame, plan: Plan, calendar: FiscalCalendar, tree: OrgTree,
              units: list[str], as_of: int) -> Scorecard:
    """KPI month and YTD values, lights and scores for ``units`` up to day ``as_of``."""
    kpis = plan.bsc.kpis
    bands = plan.status_bands
    own = own_values(frame, plan, calendar, as_of)
    last_month = int(calendar.month_of_day[as_of]) if as_of >= 0 else -1
    closed = calendar.closed_months(calendar.days[as_of]) if as_of >= 0 else 0
    cur, sym = plan.currency.code, plan.currency.symbol
    month_rows = []
    ytd_rows = []
    scores: dict[str, BscResult] = {}
    for unit in units:
        ytd_values: dict[str, float | None] = {}
        for k in kpis:
            values = []
            for m in range(last_month + 1):
                v = unit_value(tree, own, unit, k.code, m)
                att, light, score = _row_values(k, v, bands)
                month_rows.append((unit, k.code, m, m >= closed, v, k.target, att, light, score))
                if not math.isnan(v):
                    values.append(v)
            ytd = year_to_date(day_rule(k, cur, sym), values)
            att, light, score = _row_values(k, ytd, bands)
            ytd_rows.append((unit, k.code, ytd, k.target, att, light, score))
            ytd_values[k.code] = None if math.isnan(ytd) else ytd
        scores[unit] = bsc_scores(kpis, ytd_values)
    ytd_columns = [c for c in MONTH_COLUMNS if c not in ("month", "partial")]
    return Scorecard(pd.DataFrame(month_rows, columns=MONTH_COLUMNS),
                     pd.DataFrame(ytd_rows, columns=ytd_columns), scores)


def kr_readings(frame: pd.DataFrame, plan: Plan, through: int) -> dict[str, float]:
    """KR id → its latest reading on or before day ``through`` (month values count at the
    month's end)."""
    ids = {kr.id for o in plan.okrs for kr in o.krs}
    rows = frame[frame["measure"].isin(list(ids))]
    if rows.empty:
        return {}
    cal = FiscalCalendar.of(plan)
    ends = np.array([cal.month_span(m).last for m in range(12)])
    at = np.where(rows["day"] == MONTH_ROW, ends[rows["month"].to_numpy()], rows["day"])
    rows = rows.assign(at=at)
    rows = rows[rows["at"] <= through]
    latest = rows.sort_values("at", kind="stable").groupby("measure").tail(1)
    return {str(m): float(v) for m, v in zip(latest["measure"], latest["value"], strict=True)}


def okr_progress(plan: Plan, readings: Mapping[str, float], as_of: dt.date) -> pd.DataFrame:
    """The OKR roll-up (:func:`okr_rollup`) with the readings as current values, plus
    ``expected`` (time passed to the KR's due date) and ``reading`` (True when the current
    value came from actuals)."""
    objectives: list[Objective] = []
    for o in plan.okrs:
        krs = [kr.model_copy(update={"current": readings[kr.id]}) if kr.id in readings else kr
               for kr in o.krs]
        objectives.append(o.model_copy(update={"krs": krs}))
    table = okr_rollup(objectives)
    start = FiscalCalendar.of(plan).start
    due = {kr.id: kr.due for o in plan.okrs for kr in o.krs}
    table["expected"] = [_elapsed(start, due[kr], as_of) for kr in table["kr"]]
    table["reading"] = [kr in readings for kr in table["kr"]]
    return table


def _elapsed(start: dt.date, due: dt.date, as_of: dt.date) -> float:
    span = (due - start).days
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, (as_of - start).days / span))
