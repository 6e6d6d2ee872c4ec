"""Rounding and money conversion, done the way Excel does it.

Excel's ROUND rounds half away from zero on the number as Excel *shows* it (15
significant digits); Python's ``round`` and ``Decimal``'s default round half to
even on the exact binary value. The workbooks carry ROUND formulas, so the
engine must round like Excel or the two disagree by a cent now and then.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np


def excel_round(x: float, digits: int = 0) -> float:
    """Round ``x`` to ``digits`` decimals, half away from zero, as Excel's ROUND."""
    if not math.isfinite(x):
        return x
    shown = Decimal(format(x, ".15g"))
    quantum = Decimal(1).scaleb(-digits)
    return float(shown.quantize(quantum, rounding=ROUND_HALF_UP))


def excel_round_array(values: np.ndarray, digits: int) -> np.ndarray:
    """Vectorised :func:`excel_round`.

    Scales, rounds half away from zero, and scales back. Exact halves of the
    15-digit view are rare for the ratios the engine rounds; the scalar version
    is the reference and the tests compare the two.
    """
    scale = 10.0**digits
    # Snap to 15 significant digits first, as Excel does, so 0.285 * 100
    # (28.499999999999996) rounds to 29, not 28.
    snapped = snap15(np.asarray(values, dtype=float) * scale)
    rounded = np.sign(snapped) * np.floor(np.abs(snapped) + 0.5)
    return rounded / scale


def snap15(values: np.ndarray) -> np.ndarray:
    """Values rounded to 15 significant digits, the precision spreadsheets show and use."""
    nonzero = values != 0
    size = np.where(nonzero, np.abs(values), 1.0)
    magnitude = np.floor(np.log10(size))
    # log10 rounds: log10(999999999999998) is 15.0 in floating point, one digit too many
    magnitude = np.where(10.0 ** magnitude > size, magnitude - 1, magnitude)
    snap = 10.0 ** np.clip(14 - magnitude, -300, 300)
    return np.where(nonzero, np.round(values * snap) / snap, 0.0)


def sheet_int(values: np.ndarray) -> np.ndarray:
    """INT as LibreOffice computes it: the floor of the 15-digit value.

    14896867.999999998 is 14896868 to a spreadsheet (it shows, and floors, 15
    digits), where ``math.floor`` says 14896867.
    Snapping is for float noise in the decimals, so it applies only where at least three
    decimals remain within those 15 digits (below 10**12: ten billion in cents). Above,
    snapping would move a value by whole units; there it is a plain floor, and a
    spreadsheet's helper cells may differ by a unit where the final amounts do not.
    """
    return np.where(np.abs(values) < SNAP_LIMIT, np.floor(snap15(values)), np.floor(values))


SNAP_LIMIT = 1e12


def to_minor(amount: float | int | str | Decimal, smallest_unit: Decimal) -> int:
    """Convert a plan amount in major units (e.g. yuan) to integer minor units.

    Raises ``ValueError`` when the amount is not a whole number of the smallest
    unit: silently rounding a plan figure would hide a typo.
    """
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not a number") from exc
    units = value / smallest_unit
    if units != units.to_integral_value():
        raise ValueError(
            f"{amount} is not a whole number of the smallest unit {smallest_unit}"
        )
    return int(units)


def to_major(units: int, smallest_unit: Decimal) -> Decimal:
    """Integer minor units back to an exact Decimal in major units."""
    return Decimal(units) * smallest_unit


def major_float(units: int | float, smallest_unit: Decimal) -> float:
    """Minor units as the double nearest the decimal amount: what a cell or a report shows.

    ``units * 0.01`` can be one ulp off (409568626 × 0.01 = 4095686.2600000002); going
    through the exact decimal gives the double that the amount's text reads as. A float
    is truncated to whole units first; NaN (no value) stays NaN.
    """
    if isinstance(units, float) and math.isnan(units):
        return math.nan
    return float(Decimal(int(units)) * smallest_unit)
