"""Balanced scorecard (BSC 平衡计分卡): KPI scores, perspective scores, the total.

A KPI scores 0–10 on a straight line from its *floor* (scores 0) to its
target (scores 10), clipped at both ends: over-delivery earns no bonus
points, so one runaway KPI cannot hide a failing one. Perspectives and the
total are weight averages of the scored KPIs. The sheet carries the same
formulas, in the same order of operations, documented per function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.engine.okr import weighted_mean
from xlplan.engine.variance import DirectionLike, direction_shape, is_lower, lower_mask
from xlplan.spec.models import Kpi, Perspective

NAN = float("nan")
MAX_SCORE = 10.0

KPI_COLUMNS = ["code", "name", "perspective", "direction", "weight", "target", "floor",
               "actual", "score", "scored"]
PERSPECTIVE_COLUMNS = ["perspective", "kpis", "scored", "weight", "score"]


def default_floor(target: float, direction: DirectionLike = "higher") -> float:
    """The value that scores 0 when the plan gives none: 0, or twice the target if lower is better.

    Excel: ``=IF(ISNUMBER(floor),floor,IF(direction="lower",2*target,0))``
    """
    return 2.0 * float(target) if is_lower(direction) else 0.0


def kpi_score(actual: float | None, target: float, floor: float | None = None,
              direction: DirectionLike = "higher") -> float:
    """Score of one KPI: ``10 × clip((actual − floor) / (target − floor), 0, 1)``.

    The same formula serves both directions: when lower is better the floor
    sits above the target (default ``2 × target``: a CAC of 220 against a
    target of 200 and floor 400 scores 10 × 180/200 = 9). A floor on the
    wrong side of the target for the direction is an error (``ValueError``),
    since the ramp would reward the wrong way.

    * ``actual`` None/NaN → NaN: not scored (the caller reports it), never 0.
    * ``target == floor`` (e.g. defect rate target 0 with the default floor)
      → a step: 10 if the target is met (``actual >= target``, or ``<=``
      when lower is better), else 0; the limit of an ever steeper ramp.

    Excel (``f`` = the floor cell of :func:`default_floor`):
    ``=IF(ISNUMBER(actual),IF(target=f,IF(actual>=target,10,0),10*MIN(1,MAX(0,(actual-f)/(target-f)))),"")``
    (``actual<=target`` in the step when lower is better).
    """
    lower = is_lower(direction)
    t = float(target)
    f = default_floor(t, direction) if floor is None else float(floor)
    if (f > t and not lower) or (f < t and lower):
        raise ValueError(
            f"floor {f:g} is on the wrong side of target {t:g} for "
            f"{'lower' if lower else 'higher'}-is-better")
    if actual is None or math.isnan(actual):
        return NAN
    a = float(actual)
    if t == f:
        met = a <= t if lower else a >= t
        return MAX_SCORE if met else 0.0
    return MAX_SCORE * min(1.0, max(0.0, (a - f) / (t - f)))


def kpi_score_array(actual: npt.ArrayLike, target: npt.ArrayLike,
                    floor: npt.ArrayLike | None = None,
                    direction: DirectionLike | Sequence[DirectionLike] | npt.ArrayLike = "higher",
                    ) -> npt.NDArray[np.float64]:
    """Vectorised :func:`kpi_score`; a NaN ``floor`` means the default; same formula."""
    a = np.asarray(actual, dtype=float)
    t = np.asarray(target, dtype=float)
    f_in = np.full(t.shape, np.nan) if floor is None else np.asarray(floor, dtype=float)
    shape = np.broadcast_shapes(a.shape, t.shape, f_in.shape, direction_shape(direction))
    lower = lower_mask(direction, shape)
    t = np.broadcast_to(t, shape)
    f = np.where(np.isnan(f_in), np.where(lower, 2.0 * t, 0.0), f_in)
    wrong = np.where(lower, f < t, f > t)
    if np.any(wrong):
        raise ValueError("a floor is on the wrong side of its target for the direction")
    step = t == f
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ramp = MAX_SCORE * np.minimum(1.0, np.maximum(0.0, (a - f) / np.where(step, 1.0, t - f)))
    met = np.where(lower, a <= t, a >= t)
    score = np.where(step, np.where(met, MAX_SCORE, 0.0), ramp)
    return np.asarray(np.where(np.isnan(a), np.nan, score), dtype=float)


@dataclass(frozen=True)
class BscResult:
    """A scored scorecard.

    ``kpis``: one row per KPI (``KPI_COLUMNS``; ``floor`` is the effective
    floor, ``score`` NaN when unscored). ``perspectives``: one row per
    perspective that has KPIs, in the order financial, customer, process,
    learning (``PERSPECTIVE_COLUMNS``; ``weight`` is the weight of the scored
    KPIs). ``total``: the weight average over all scored KPIs. ``unscored``:
    KPI codes without an actual. ``unknown``: actuals given for codes that are
    not KPIs (a typo there would otherwise pass silently).
    """

    kpis: pd.DataFrame
    perspectives: pd.DataFrame
    total: float
    unscored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def perspective_score(self, perspective: Perspective | str) -> float:
        rows = self.perspectives[self.perspectives["perspective"] == str(perspective)]
        return float(rows["score"].iloc[0]) if len(rows) else NAN


def bsc_scores(kpis: Sequence[Kpi], actuals: Mapping[str, float | None]) -> BscResult:
    """Score every KPI, then each perspective and the whole scorecard.

    * KPI: :func:`kpi_score` with the KPI's target, floor and direction.
    * Perspective: ``Σ w·s / Σ w`` over the *scored* KPIs of the perspective
      (:func:`xlplan.engine.okr.weighted_mean`: all weights 0 → plain mean;
      none scored → NaN).
    * Total: the same average over all scored KPIs, by KPI weight (not by
      perspective): a perspective with more, or heavier, KPIs counts more.
    * A KPI with no actual (missing key, None or NaN) is left out of both
      averages and listed in ``unscored``: counting it as 0 would punish a
      late report as a failure, and the gap must be visible, not hidden.
      Duplicate KPI codes are an error.

    Excel (KPI table with columns P perspective, W weight, S score; S is ``""``
    when unscored, which SUMPRODUCT's separate-array form counts as 0 and
    AVERAGEIFS ignores):
    ``perspective: =IFERROR(IF(SUMPRODUCT((P=p)*ISNUMBER(S),W)=0,AVERAGEIFS(S,P,p),``
    ``SUMPRODUCT((P=p)*ISNUMBER(S),W,S)/SUMPRODUCT((P=p)*ISNUMBER(S),W)),"")``
    ``total: =IFERROR(IF(SUMPRODUCT(--ISNUMBER(S),W)=0,AVERAGE(S),``
    ``SUMPRODUCT(--ISNUMBER(S),W,S)/SUMPRODUCT(--ISNUMBER(S),W)),"")``
    """
    codes = [k.code for k in kpis]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ValueError(f"duplicate KPI codes: {', '.join(dupes)}")
    rows = []
    unscored: list[str] = []
    perspective: list[str] = []
    weight: list[float] = []
    score: list[float] = []
    for k in kpis:
        raw = actuals.get(k.code)
        actual = NAN if raw is None else float(raw)
        floor = default_floor(k.target, k.direction) if k.floor is None else float(k.floor)
        s = kpi_score(actual, k.target, floor, k.direction)
        if math.isnan(actual):
            unscored.append(k.code)
        perspective.append(str(k.perspective))
        weight.append(float(k.weight))
        score.append(s)
        rows.append({"code": k.code, "name": k.name, "perspective": str(k.perspective),
                     "direction": str(k.direction), "weight": float(k.weight),
                     "target": float(k.target), "floor": floor, "actual": actual,
                     "score": s, "scored": not math.isnan(actual)})
    table = pd.DataFrame(rows, columns=KPI_COLUMNS)
    scored = [not math.isnan(s) for s in score]
    persp_rows = []
    for p in Perspective:
        mine = [i for i, name in enumerate(perspective) if name == str(p)]
        if not mine:
            continue
        done = [i for i in mine if scored[i]]
        persp_rows.append({
            "perspective": str(p), "kpis": len(mine), "scored": len(done),
            "weight": math.fsum(weight[i] for i in done),
            "score": weighted_mean([score[i] for i in done], [weight[i] for i in done]),
        })
    done_all = [i for i, ok in enumerate(scored) if ok]
    total = weighted_mean([score[i] for i in done_all], [weight[i] for i in done_all])
    known = set(codes)
    unknown = [c for c in actuals if c not in known]
    return BscResult(table, pd.DataFrame(persp_rows, columns=PERSPECTIVE_COLUMNS), total,
                     unscored, unknown)


# --------------------------------------------------------------------------- month-to-date

Rule = Literal["sum", "average", "last", "month"]  # how a KPI's month-to-date is formed
DayRule = Literal["sum", "average", "last"]  # how a KPI's days make a month
ISO_CODE = re.compile(r"^[A-Z]{3}$")


def is_money(kpi: Kpi, currency_code: str, symbol: str = "") -> bool:
    """A KPI measured in money: the plan's currency code or symbol, or any ISO 4217-like code."""
    unit = kpi.unit.strip()
    return unit in {currency_code, symbol} - {""} or bool(ISO_CODE.match(unit))


def mtd_rule(kpi: Kpi, currency_code: str, symbol: str = "") -> Rule:
    """How a KPI's month-to-date is formed from its inputs: "month" (the single month
    value the unit reports) when the KPI is not daily, else :func:`day_rule`."""
    if kpi.frequency != "daily":
        return "month"
    return day_rule(kpi, currency_code, symbol)


def day_rule(kpi: Kpi, currency_code: str, symbol: str = "") -> DayRule:
    """How a KPI's days make its month: the KPI's own ``aggregate`` when the plan sets it
    (sum: a flow; average: a level; last: a stock, such as headcount at month end).

    Unset, a default from the unit: money (cash flow, revenue) is a flow and adds up,
    anything else ("%", pts, x, h) is a level and is averaged over the days reported;
    money "per" something (``Output per head per day``) is a rate and is averaged.
    """
    if kpi.aggregate is not None:
        return kpi.aggregate
    if is_money(kpi, currency_code, symbol) and " per " not in f" {kpi.name.lower()} ":
        return "sum"
    return "average"


def _number(value: object) -> float | None:
    """A cell's value if ISNUMBER would say yes (dates aside), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def month_actual(rule: Rule, days: Sequence[object], month_value: object) -> float | None:
    """What the MTD formula gives for these cell values (None: nothing reported yet).

    Blank and text cells are skipped, as COUNT, SUM and AVERAGE skip them.
    """
    if rule == "month":
        return _number(month_value)
    filled = [x for x in map(_number, days) if x is not None]
    if not filled:
        return None
    if rule == "last":
        return filled[-1]
    total = math.fsum(filled)
    return total if rule == "sum" else total / len(filled)


def year_actual(rule: DayRule, values: Sequence[object]) -> float | None:
    """Year-to-date of a KPI from every value reported so far this fiscal year, in order:
    its days (a daily KPI) or its month values (weekly and monthly KPIs), aggregated by the
    KPI's rule (:func:`day_rule`): sum, average over the values reported, or the last one.

    The same aggregation as a month's, over a longer run: a flow's year is the sum of its
    days, a level's the average of every day reported (not the average of month averages,
    which would weigh a month of three reports like a month of thirty), a stock's the
    latest reading. Excel: ``SUM``/``AVERAGE`` over the months' ranges, ``last``: this
    month's value if any, else the previous month's year-to-date.
    """
    return month_actual(rule, values, None)


def day_target(rule: DayRule, target: float, days_in_month: int) -> float:
    """What one day of a daily KPI is measured against: a flow's month target spread evenly
    over the month's days (500,000 a month in a 31-day month: 16,129.03 a day); a level's
    or a stock's target is the same every day."""
    return float(target) / days_in_month if rule == "sum" else float(target)


def year_target(rule: DayRule, target: float, months: int) -> float:
    """The target of a KPI's year-to-date through its ``months``-th fiscal month: a flow's
    month target times the months so far, a level's or a stock's target unchanged."""
    return float(target) * months if rule == "sum" else float(target)
