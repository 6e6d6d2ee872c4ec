"""Revenue against the phased targets, at day, week, month, quarter and year to date.

For every unit and period: target, actual, variance, direction-aware
attainment and the G/Y/O/R light, computed by :mod:`xlplan.engine.variance`
(the same functions, and so the same formulas, as the workbooks).

Which periods are compared: those that have ended by the *data-through* day,
the earlier of the as-of date and the last day any revenue actual covers (a
board made on the 15th with data to the 12th compares to the 12th, instead of
reading three missing days as a shortfall). The month and quarter that are
still running are compared to date (``partial``).

Day and month values: an actual reported for a month as a whole (period
``2027-03``) counts in the month, its quarter and the year, never in a day or
week; a unit reported only by month has no day or week actuals (NaN, no light)
rather than zeros. Within the data-through day a unit that reported nothing
has an actual of 0: a missing report is a shortfall, and shows as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlplan.engine.variance import attainment_array, status_array, variance_array
from xlplan.spec.models import StatusBands
from xlplan.tracking.actuals import MONTH_ROW, minor, roll_up
from xlplan.tracking.calendar import FiscalCalendar, Span
from xlplan.tracking.phased_targets import RevenueTargets

COLUMNS = ["unit", "grain", "label", "start", "end", "partial", "target", "actual", "variance",
           "attainment", "status"]
GRAINS = ("day", "week", "month", "quarter", "ytd")


@dataclass(frozen=True)
class RevenueActuals:
    """Revenue actuals in minor units, rolled up the org tree (each unit includes its team)."""

    days: dict[str, np.ndarray]  # unit → every day of the year (day rows only)
    months_only: dict[str, np.ndarray]  # unit → 12 months (month rows only)
    daily_units: set[str] = field(default_factory=set)  # units with day rows
    last_day: int = -1  # index of the last day any row covers (-1: no revenue at all)

    def span(self, unit: str, calendar: FiscalCalendar, span: Span) -> int:
        """Actual of a period: its day rows, plus month rows of months wholly inside it."""
        total = int(self.days[unit][span.first:span.last + 1].sum())
        return total + int(self.months_only[unit][_months_inside(calendar, span)].sum())


def revenue_actuals(frame: pd.DataFrame, targets: RevenueTargets, measure: str,
                    smallest_unit: float) -> RevenueActuals:
    """The revenue rows of an actuals table (:mod:`xlplan.tracking.actuals`), by unit and day."""
    cal = targets.calendar
    n_days = len(cal.days)
    units = list(targets.days)
    days = {u: np.zeros(n_days, dtype=np.int64) for u in units}
    months = {u: np.zeros(12, dtype=np.int64) for u in units}
    rows = frame[frame["measure"] == measure]
    if rows.empty:
        return RevenueActuals(days, months)
    rows = rows.assign(amount=minor(rows["value"], smallest_unit))
    daily = rows[rows["day"] != MONTH_ROW]
    monthly = rows[rows["day"] == MONTH_ROW]
    last = int(daily["day"].max()) if not daily.empty else -1
    if not monthly.empty:
        last = max(last, cal.month_span(int(monthly["month"].max())).last)
    rolled_days = _roll_into(days, daily, "day", targets)
    _roll_into(months, monthly, "month", targets)
    daily_units = set(rolled_days["unit"]) if not rolled_days.empty else set()
    return RevenueActuals(days, months, {str(u) for u in daily_units}, last)


def _roll_into(into: dict[str, np.ndarray], rows: pd.DataFrame, period: str,
               targets: RevenueTargets) -> pd.DataFrame:
    """Sum ``rows`` by unit and ``period`` (day or month), roll them up the org tree and
    write them into each unit's array at the period's index; returns the rolled-up rows."""
    rolled = roll_up(
        rows.groupby(["unit", period], as_index=False).agg(amount=("amount", "sum")),
        targets.tree)
    for unit, group in rolled.groupby("unit", sort=False):
        sums = group.groupby(period)["amount"].sum()
        into[str(unit)][sums.index.to_numpy(dtype=np.int64)] = sums.to_numpy(dtype=np.int64)
    return rolled


def data_through(calendar: FiscalCalendar, as_of_index: int, last_day: int) -> int:
    """The day compared up to: the as-of day or the last day with data, whichever is first."""
    return min(as_of_index, last_day, len(calendar.days) - 1)


def periods(calendar: FiscalCalendar, through: int) -> list[tuple[Span, bool]]:
    """(period, partial) of every grain that has started by day ``through``, in grain order.

    Days and weeks only when they are complete; months and quarters also to date.
    """
    if through < 0:
        return []
    out: list[tuple[Span, bool]] = []
    for i in range(through + 1):
        d = calendar.days[i]
        out.append((Span("day", d.isoformat(), d, d, i, i), False))
    out += [(w, False) for w in calendar.weeks if w.last <= through]
    for group in ([calendar.month_span(m) for m in range(12)],
                  [calendar.quarter_span(q) for q in range(4)]):
        for s in group:
            if s.first > through:
                break
            if s.last <= through:
                out.append((s, False))
            else:
                out.append((Span(s.grain, s.label, s.start, calendar.days[through], s.first,
                                 through), True))
    out.append((calendar.ytd_span(calendar.days[through]), False))
    return out


def _months_inside(calendar: FiscalCalendar, span: Span) -> list[int]:
    """Fiscal months that lie wholly inside ``span`` (their month values count in it)."""
    return [m for m in range(12) if span.first <= calendar.month_span(m).first
            and calendar.month_span(m).last <= span.last]


def compare(targets: RevenueTargets, actuals: RevenueActuals, through: int,
            bands: StatusBands, units: list[str] | None = None,
            grains: tuple[str, ...] = GRAINS) -> pd.DataFrame:
    """Target, actual, variance, attainment and status of each unit and period (minor units).

    ``actual`` is NaN for days and weeks of a unit without day rows; then
    variance, attainment and status are NaN / "" as well.
    """
    cal = targets.calendar
    chosen = [(s, p, _months_inside(cal, s)) for s, p in periods(cal, through)
              if s.grain in grains]
    rows: list[tuple[object, ...]] = []
    for unit in units or list(targets.days):
        t_cum = np.concatenate([[0], np.cumsum(targets.days[unit])])
        a_cum = np.concatenate([[0], np.cumsum(actuals.days[unit])])
        month_values = actuals.months_only[unit]
        has_days = unit in actuals.daily_units
        for s, partial, inside in chosen:
            target = int(t_cum[s.last + 1] - t_cum[s.first])
            if s.grain in ("day", "week") and not has_days:
                actual = float("nan")
            else:
                actual = float(int(a_cum[s.last + 1] - a_cum[s.first])
                               + int(month_values[inside].sum()))
            rows.append((unit, s.grain, s.label, s.start, s.end, partial, target, actual))
    frame = pd.DataFrame(rows, columns=COLUMNS[:8])
    target_v = frame["target"].to_numpy(dtype=float)
    actual_v = frame["actual"].to_numpy(dtype=float)
    frame["target"] = frame["target"].astype(np.int64)
    frame["variance"] = variance_array(actual_v, target_v)
    frame["attainment"] = attainment_array(actual_v, target_v, "higher")
    frame["status"] = status_array(frame["attainment"].to_numpy(dtype=float), bands)
    return frame
