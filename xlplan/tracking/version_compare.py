"""Versions side by side for the board (``xlplan track --compare budget,forecast-q1``): each
compared version and the actuals by unit and month, and the variances between them.

Pure: the versions come in already loaded (:func:`xlplan.tracking.versions.load`), the
actuals from the :class:`~xlplan.tracking.track.TrackResult`. ``actual`` in the list is
the actuals as they stand on the board (not the copy ``xlplan reforecast`` keeps), and is
always shown: versions are whole months, so the actuals count the months that have ended
by the data-through day, and a variance against them covers those months only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from xlplan.engine.rounding import major_float
from xlplan.tracking.track import TrackResult
from xlplan.tracking.versions import Version, unit_months

ACTUAL = "actual"


@dataclass(frozen=True)
class Comparison:
    """The numbers of the board's Versions sheet. Money in minor units."""

    rows: list[str]  # the versions as asked, then ``actual`` unless asked
    months: dict[str, dict[str, np.ndarray]]  # row → board unit → 12 months (actual: ended)
    ended: int  # fiscal months ended by the data-through day
    pairs: list[tuple[str, str]]  # (later, earlier): the variance later − earlier
    outside: dict[str, dict[str, int]]  # version → unit not on the board → its total

    def variance(self, later: str, earlier: str, unit: str) -> list[int | None]:
        """``later − earlier`` per month (None where the actuals have no month)."""
        a, b = self.months[later][unit], self.months[earlier][unit]
        with_actual = ACTUAL in (later, earlier)
        return [None if with_actual and m >= self.ended else int(a[m] - b[m])
                for m in range(12)]

    def to_json(self, smallest_unit: Decimal, month_keys: list[str]) -> dict[str, Any]:
        """The comparison for ``xlplan track --compare … --json``: each version's months by
        unit, and each variance (later − earlier) by unit with its total, in major units;
        ``null`` for a month the actuals have not ended."""
        def money(minor: int | None) -> float | None:
            return None if minor is None else major_float(minor, smallest_unit)

        units = list(next(iter(self.months.values())))
        variances = []
        for later, earlier in self.pairs:
            for unit in units:
                months = self.variance(later, earlier, unit)
                variances.append({
                    "later": later, "earlier": earlier, "unit": unit,
                    "months": dict(zip(month_keys, map(money, months), strict=True)),
                    "total": money(sum(m for m in months if m is not None))})
        return {
            "versions": self.rows, "months_ended": self.ended,
            "months": {row: {unit: dict(zip(month_keys, (money(int(v)) for v in values),
                                            strict=True))
                             for unit, values in by_unit.items()}
                       for row, by_unit in self.months.items()},
            "variances": variances,
            "outside_the_board": {row: {u: money(v) for u, v in gone.items()}
                                  for row, gone in self.outside.items()}}


def months_ended(result: TrackResult) -> int:
    """Fiscal months whose last day is on or before the data-through day."""
    cal = result.calendar
    return sum(1 for m in range(12) if 0 <= cal.month_span(m).last <= result.through)


def compare_versions(result: TrackResult, names: list[str], versions: dict[str, Version]
                     ) -> Comparison:
    """Lay ``versions`` (by name; ``actual`` need not be among them) out per board unit."""
    cal, root = result.calendar, result.targets.root
    inputs = result.targets.input_units
    keys = [cal.month_key(m) for m in range(12)]
    ended = months_ended(result)
    rows = [*names, *([] if ACTUAL in names else [ACTUAL])]
    months: dict[str, dict[str, np.ndarray]] = {}
    outside: dict[str, dict[str, int]] = {}
    for name in rows:
        if name == ACTUAL:
            by_unit = {u: np.array([a if a is not None and m < ended else 0
                                    for m, a in enumerate(result.month_actuals(u))],
                                   dtype=np.int64) for u in inputs}
        else:
            cells = unit_months(versions[name], keys)
            by_unit = {u: cells.get(u, np.zeros(12, dtype=np.int64)) for u in inputs}
            gone = {u: int(v.sum()) for u, v in cells.items() if u not in by_unit}
            if gone:
                outside[name] = gone
        by_unit[root] = np.sum([by_unit[u] for u in inputs], axis=0, dtype=np.int64)
        months[name] = by_unit
    pairs = [(rows[j], rows[i]) for i in range(len(rows)) for j in range(i + 1, len(rows))]
    return Comparison(rows, months, ended, pairs, outside)
