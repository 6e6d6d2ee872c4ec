"""Compare the engine's expected value of each formula cell with a recalculated workbook.

Used by the tests (LibreOffice and the formulas package) and by `xlplan recalc
--check`. Numbers must agree to 1e-9 relative, or 1e-8 absolute near zero: far
below a cent on any amount and below any visible ratio difference, yet above the
last-bit noise between two engines' floating point. (The absolute floor is for the
Rounding sheet's remainders, ROUND(quota − floor, 9): where a quota is an integer
in exact arithmetic, LibreOffice's subtraction snaps the double's 7e-9 of noise to
0, and the engine keeps it; the ranks and amounts are the same.) Text exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RELATIVE, ABSOLUTE = 1e-9, 1e-8


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    cell: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: expected {self.expected!r}, got {self.actual!r}"


def same(expected: Any, actual: Any) -> bool:
    """Whether a recalculated value equals the engine's."""
    if isinstance(actual, dt.datetime) and isinstance(expected, dt.date):
        actual = actual.date()
    if expected is None or expected == "" or (isinstance(expected, float) and
                                               math.isnan(expected)):
        return actual in (None, "")
    if isinstance(expected, bool | str | dt.date):
        return bool(expected == actual)
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return False
    return abs(actual - expected) <= max(ABSOLUTE, RELATIVE * abs(expected))


def compare(expected: Mapping[tuple[str, str], Any],
            actual: Mapping[str, Mapping[str, Any]]) -> list[Mismatch]:
    """Every formula cell whose recalculated value differs from the engine's."""
    out = []
    for (sheet, cell), value in expected.items():
        got = actual.get(sheet, {}).get(cell)
        if not same(value, got):
            out.append(Mismatch(sheet, cell, value, got))
    return out
