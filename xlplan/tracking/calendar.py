"""The fiscal calendar as tracking sees it: days, ISO weeks, months and quarters of one year.

Everything is indexed by position in the fiscal year (day 0 is the first day,
month 0 the first fiscal month), so a fiscal year that starts in April works
the same as one that starts in January. Weeks are ISO weeks (Monday to
Sunday) cut at the ends of the fiscal year: the first and last week of a year
are usually short, and are compared with the targets of their own days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from xlplan.engine.phasing import fiscal_months
from xlplan.spec.models import Plan

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Span:
    """A period of the fiscal year: days ``first`` to ``last`` (indexes, inclusive)."""

    grain: str  # "day", "week", "month", "quarter", "ytd"
    label: str
    start: dt.date
    end: dt.date
    first: int
    last: int


@dataclass(frozen=True)
class FiscalCalendar:
    """The days, weeks, months and quarters of one fiscal year."""

    year: int
    first_month: int

    @classmethod
    def of(cls, plan: Plan) -> FiscalCalendar:
        return cls(plan.fiscal_year, plan.first_month)

    @cached_property
    def months(self) -> list[tuple[int, int]]:
        """(calendar year, month) of the twelve fiscal months."""
        return fiscal_months(self.year, self.first_month)

    @cached_property
    def start(self) -> dt.date:
        y, m = self.months[0]
        return dt.date(y, m, 1)

    @cached_property
    def end(self) -> dt.date:
        y, m = self.months[-1]
        return dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)

    @cached_property
    def days(self) -> list[dt.date]:
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(n)]

    @cached_property
    def month_of_day(self) -> np.ndarray:
        """Fiscal month index (0–11) of every day of the year."""
        index = {ym: i for i, ym in enumerate(self.months)}
        return np.array([index[(d.year, d.month)] for d in self.days], dtype=np.int64)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def day_index(self, day: dt.date) -> int:
        """Position of ``day`` in the fiscal year (ValueError outside it)."""
        if not self.contains(day):
            raise ValueError(f"{day} is outside the fiscal year {self.start} to {self.end}")
        return (day - self.start).days

    def month_key(self, month: int) -> str:
        """``YYYY-MM`` of fiscal month ``month`` (0–11)."""
        y, m = self.months[month]
        return f"{y}-{m:02d}"

    def month_label(self, month: int) -> str:
        y, m = self.months[month]
        return f"{MONTH_NAMES[m - 1]} {y}"

    def month_index(self, key: str) -> int | None:
        """Fiscal month of a ``YYYY-MM`` key, None when it is not in this year."""
        try:
            y, m = (int(x) for x in key.split("-"))
        except ValueError:
            return None
        try:
            return self.months.index((y, m))
        except ValueError:
            return None

    def month_span(self, month: int) -> Span:
        first = int(np.searchsorted(self.month_of_day, month, side="left"))
        last = int(np.searchsorted(self.month_of_day, month, side="right")) - 1
        return Span("month", self.month_label(month), self.days[first], self.days[last],
                    first, last)

    def quarter_span(self, quarter: int) -> Span:
        a, b = self.month_span(3 * quarter), self.month_span(3 * quarter + 2)
        return Span("quarter", f"Q{quarter + 1}", a.start, b.end, a.first, b.last)

    @cached_property
    def weeks(self) -> list[Span]:
        """ISO weeks cut to the fiscal year, in order (labels like ``2027-W14``)."""
        out: list[Span] = []
        first = 0
        for i, day in enumerate(self.days):
            if day.weekday() == 6 or i + 1 == len(self.days):  # a Sunday ends an ISO week
                iso = self.days[first].isocalendar()
                out.append(Span("week", f"{iso.year}-W{iso.week:02d}", self.days[first], day,
                                first, i))
                first = i + 1
        return out

    def ytd_span(self, through: dt.date) -> Span:
        last = self.day_index(through)
        return Span("ytd", "YTD", self.start, through, 0, last)

    def closed_months(self, through: dt.date) -> int:
        """How many fiscal months have ended on or before ``through``."""
        return sum(1 for m in range(12) if self.month_span(m).end <= through)
