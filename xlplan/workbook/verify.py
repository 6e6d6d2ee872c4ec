"""Compare the engine's expected value of each formula cell with a recalculated workbook.

Used by the tests (LibreOffice and the formulas package) and by `xlplan recalc
--check`. Money is compared to the cent, ratios to 1e-9 relative; text exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CENT = 0.005


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
    return abs(actual - expected) <= max(CENT, 1e-9 * abs(expected))


def compare(expected: Mapping[tuple[str, str], Any],
            actual: Mapping[str, Mapping[str, Any]]) -> list[Mismatch]:
    """Every formula cell whose recalculated value differs from the engine's."""
    out = []
    for (sheet, cell), value in expected.items():
        got = actual.get(sheet, {}).get(cell)
        if not same(value, got):
            out.append(Mismatch(sheet, cell, value, got))
    return out
