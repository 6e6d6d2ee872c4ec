"""The rolling re-forecast (滚动调整): the rest of the year re-spread after the actuals.

As of a date, the fiscal months that have ended take their actuals. Then the
plan's rule (docs/METHOD.md: "if Q1 beats target by 10%, Q2 may be raised 5–8%"):
when the last quarter that has ended beat its target by at least
``warnings.beat_threshold``, the next quarter's months still to come are
raised by ``raise = share_of_beat × beat``, held between
``warnings.reforecast_raise`` and ``tracking.reforecast.raise_max``
(:func:`raise_for`).

Keeping the annual target (the default): the months left after that share
what remains of it, ``annual − actuals − raised quarter``, in proportion to
their original targets (a largest-remainder split: the year adds up to the
annual target to the minor unit). A beat banked early lowers the later
months; a shortfall raises them. If the actuals and the raised quarter
already exceed the annual target, the later months get 0 and the annual
grows (``note`` says so). Not keeping it: the later months keep their
original targets and the annual becomes what the months add up to (the beat
and the raise carried into the year).

This re-spreads the company's months. A plan has one time profile for all
units, so the re-forecast plan moves every unit's months the same way; a
unit's own shortfall is for the quarterly review, not the profile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from xlplan.engine.allocate import allocate
from xlplan.engine.rounding import excel_round
from xlplan.engine.variance import compare_round
from xlplan.spec.models import Plan
from xlplan.tracking.compare import RevenueActuals
from xlplan.tracking.phased_targets import RevenueTargets


class ReforecastError(ValueError):
    """The actuals do not cover the months the as-of date closes."""


@dataclass(frozen=True)
class Reforecast:
    """A re-forecast of the company's months (minor units)."""

    as_of: dt.date
    closed: int  # fiscal months that have ended
    original: np.ndarray  # 12 months of the plan
    actual: np.ndarray  # 12 months (0 after the closed ones)
    months: np.ndarray  # 12 months of the re-forecast
    quarter: int | None  # the last quarter that has ended (0-based)
    beat: float | None  # its actual ÷ target − 1
    raise_: float  # the raise of the next quarter (0: none)
    raised: list[int]  # months raised
    keep_annual: bool
    note: str

    @property
    def annual_before(self) -> int:
        return int(self.original.sum())

    @property
    def annual_after(self) -> int:
        return int(self.months.sum())


def raise_for(beat: float, plan: Plan) -> float:
    """The raise of the next quarter after a quarter beaten by ``beat`` (0 below the threshold).

    ``share_of_beat × beat`` held to [``warnings.reforecast_raise``,
    ``tracking.reforecast.raise_max``]; the beat is compared after
    ``ROUND(beat, 9)``, so exactly 10% against a 10% threshold raises.
    """
    rules, rule = plan.warnings, plan.tracking.reforecast
    if compare_round(beat) < rules.beat_threshold:
        return 0.0
    low = rules.reforecast_raise
    high = max(rule.raise_max, low)
    return min(high, max(low, rule.share_of_beat * beat))


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` over ``weights`` exactly (evenly when every weight is 0)."""
    w = [float(x) for x in weights]
    if not any(w):
        w = [1.0] * len(w)
    return np.array(allocate(total, w), dtype=np.int64)


def reforecast(plan: Plan, targets: RevenueTargets, revenue: RevenueActuals, as_of: dt.date,
               keep_annual: bool = True, unit: str | None = None) -> Reforecast:
    """Re-spread the company's year as of ``as_of`` (module docstring); ``unit``: that
    unit's year instead, by its own targets, actuals and quarter beat (the versions kept
    in the database, :mod:`xlplan.tracking.versions`, are per unit)."""
    cal = targets.calendar
    root = unit or targets.root
    day = min(as_of, cal.end)
    closed = cal.closed_months(day) if day >= cal.start else 0
    if closed and revenue.last_day < cal.month_span(closed - 1).last:
        covered = cal.days[revenue.last_day].isoformat() if revenue.last_day >= 0 else "nothing"
        raise ReforecastError(
            f"--as-of {as_of} closes {cal.month_label(closed - 1)}, but the revenue actuals "
            f"cover {covered}: import the missing months or choose an earlier --as-of")
    original = targets.months[root].astype(np.int64)
    actual = np.zeros(12, dtype=np.int64)
    for m in range(closed):
        actual[m] = revenue.span(root, cal, cal.month_span(m))
    months = original.copy()
    months[:closed] = actual[:closed]
    quarter = closed // 3 - 1 if closed >= 3 else None
    beat: float | None = None
    rate = 0.0
    raised: list[int] = []
    notes = []
    if quarter is not None:
        t_q = int(original[3 * quarter:3 * quarter + 3].sum())
        a_q = int(actual[3 * quarter:3 * quarter + 3].sum())
        beat = a_q / t_q - 1.0 if t_q else None
        if beat is not None and quarter < 3:
            rate = raise_for(beat, plan)
            if rate:
                raised = [m for m in range(3 * quarter + 3, 3 * quarter + 6) if m >= closed]
                total = int(excel_round(float(original[raised].sum()) * (1.0 + rate)))
                months[raised] = _split(total, original[raised])
                notes.append(f"Q{quarter + 1} beat its target by {beat:.1%}: Q{quarter + 2} "
                             f"raised by {rate:.1%}")
            else:
                notes.append(f"Q{quarter + 1} at {beat:+.1%} against its target: no raise "
                             f"(threshold {plan.warnings.beat_threshold:.0%})")
    rest = [m for m in range(closed, 12) if m not in raised]
    if keep_annual and rest:
        left = int(original.sum()) - int(actual[:closed].sum()) - int(months[raised].sum())
        if left < 0:
            months[rest] = 0
            notes.append("the actuals and the raised quarter already exceed the annual target: "
                         "the months after get 0 and the annual grows")
        else:
            months[rest] = _split(left, original[rest])
    elif keep_annual and not rest and closed == 12:
        notes.append("the year is closed: the forecast is the actuals")
    return Reforecast(cal.days[cal.day_index(day)] if day >= cal.start else cal.start, closed,
                      original, actual, months, quarter, beat, rate, raised, keep_annual,
                      "; ".join(notes))
