"""Monitoring (过程监控与预警): variance, attainment, status lights, streak warnings, budgets.

Every figure here is written into the generated workbooks as a native formula
and recalculated by Excel or LibreOffice, so each function keeps to arithmetic
a worksheet can copy operation for operation, in the same order, and documents
that formula. Two conventions run through the module:

* **Ratios are compared after ``ROUND(x, 9)``.** ``1 - 0.95`` is
  ``0.050000000000000044`` in binary; compared raw, an attainment of exactly
  95% would miss a 5% band. Nine decimals hide the float noise and are far
  finer than any band a plan sets. The rounding is :func:`excel_round`
  (half away from zero, on the 15-digit value Excel shows), so the engine and
  the sheet agree at the boundary.
* **"No value" is NaN in the engine and ``""`` in the sheet.** A plan of zero
  has no attainment; the sheet shows an empty string and every formula that
  reads a ratio guards it with ``ISNUMBER`` (Excel's ``AND``/``OR`` do not
  short-circuit, so the guard is a nested ``IF``).

Scalar functions are the reference; each ``*_array`` twin gives the same
values over numpy arrays for hot paths (a daily report of 10,000 cells).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from xlplan.engine.rounding import excel_round, excel_round_array
from xlplan.spec.models import Direction, StatusBands

COMPARE_DIGITS = 9
"""Decimals a ratio is rounded to before it is compared with a threshold."""

DirectionLike = Direction | Literal["higher", "lower"] | str
Light = Literal["G", "Y", "O", "R", ""]
BudgetFlag = Literal["within", "over", "under"]
FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

NAN = float("nan")


# --------------------------------------------------------------------------- helpers


def as_direction(direction: DirectionLike) -> Direction:
    """``"higher"`` / ``"lower"`` (or the enum) as :class:`Direction`; anything else is an error."""
    try:
        return Direction(direction)
    except ValueError:
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}") from None


def is_lower(direction: DirectionLike) -> bool:
    """True when lower is better (compared by value, not by enum member name)."""
    return as_direction(direction).value == "lower"


def direction_shape(direction: DirectionLike | Sequence[DirectionLike] | npt.ArrayLike,
                    ) -> tuple[int, ...]:
    """Shape of a direction argument: () for one direction for every cell."""
    return () if isinstance(direction, str) else np.shape(direction)


def lower_mask(direction: DirectionLike | Sequence[DirectionLike] | npt.ArrayLike,
               shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """True where lower is better: one direction for all cells, or one per cell."""
    if isinstance(direction, str):
        return np.full(shape, is_lower(direction))
    names = np.asarray([str(d) for d in np.asarray(direction, dtype=object).ravel()])
    bad = ~np.isin(names, ["higher", "lower"])
    if bad.any():
        raise ValueError(f"direction must be 'higher' or 'lower', got {names[bad][0]!r}")
    return np.broadcast_to((names == "lower").reshape(np.shape(direction)), shape)


def compare_round(x: float) -> float:
    """``ROUND(x, 9)``: the form a ratio takes before any threshold comparison."""
    return excel_round(x, COMPARE_DIGITS)


def _compare_round_array(x: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(excel_round_array(x, COMPARE_DIGITS), dtype=float)


# --------------------------------------------------------------------------- variance


def variance(actual: float, plan: float) -> float:
    """Actual minus plan, in the units of the inputs (integer minor units stay integers).

    Positive means ahead of plan for a higher-is-better measure and behind it
    for a lower-is-better one; the sign is not flipped, because the sheet shows
    the raw difference beside the direction-aware attainment.

    Excel: ``=actual-plan``
    """
    return actual - plan


def variance_array(actual: npt.ArrayLike, plan: npt.ArrayLike) -> npt.NDArray[np.generic]:
    """Vectorised :func:`variance` (integer arrays stay integer). Excel: ``=actual-plan``."""
    return np.asarray(np.subtract(np.asarray(actual), np.asarray(plan)))


# --------------------------------------------------------------------------- attainment


def attainment(actual: float | None, plan: float, direction: DirectionLike = "higher") -> float:
    """Direction-aware attainment (完成率): 1.0 means exactly on plan.

    * higher is better: ``actual / plan``;
    * lower is better (反向指标, e.g. CAC, defect rate): ``2 - actual / plan``,
      which equals ``1 - (actual - plan) / plan``: each percent over plan costs
      a percent of attainment. It is computed as ``2 - actual/plan`` (one
      division, one subtraction) because that is the formula the sheet carries.

    ``plan == 0`` gives NaN: a ratio to nothing has no meaning, and showing 0%
    or 100% would colour the light for no reason. A missing actual (None or
    NaN) also gives NaN. Both operands are taken as doubles first, as Excel
    stores them. A negative plan is not special-cased (the ratio is what the
    formula gives); attainment is meant for positive plans.

    Excel (higher): ``=IF(plan=0,"",actual/plan)``
    Excel (lower):  ``=IF(plan=0,"",2-actual/plan)``
    (with a missing actual: ``=IF(OR(plan=0,NOT(ISNUMBER(actual))),"",…)``)
    """
    lower = is_lower(direction)
    if actual is None:
        return NAN
    a, p = float(actual), float(plan)
    if p == 0 or math.isnan(a) or math.isnan(p):
        return NAN
    ratio = a / p
    return 2.0 - ratio if lower else ratio


def attainment_array(actual: npt.ArrayLike, plan: npt.ArrayLike,
                     direction: DirectionLike | Sequence[DirectionLike] | npt.ArrayLike = "higher",
                     ) -> FloatArray:
    """Vectorised :func:`attainment`; ``direction`` is one value or one per cell.

    Missing actuals are NaN; zero plans give NaN. Same Excel formulas as
    :func:`attainment`.
    """
    a = np.asarray(actual, dtype=float)
    p = np.asarray(plan, dtype=float)
    shape = np.broadcast_shapes(a.shape, p.shape, direction_shape(direction))
    lower = lower_mask(direction, shape)
    zero = p == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = a / np.where(zero, 1.0, p)
    ratio = np.where(zero, np.nan, ratio)
    return np.asarray(np.where(lower, 2.0 - ratio, ratio), dtype=float)


# --------------------------------------------------------------------------- status lights


def shortfall(attainment_value: float) -> float:
    """How far below plan: ``ROUND(1 - attainment, 9)``; negative when ahead."""
    return compare_round(1.0 - attainment_value)


def status(attainment_value: float | None, bands: StatusBands | None = None) -> Light:
    """Traffic light (红黄绿灯) for an attainment: "G", "Y", "O", "R", or "" for none.

    ``shortfall = ROUND(1 - attainment, 9)``; green while the shortfall is at
    most ``bands.yellow``, yellow up to ``bands.orange``, orange up to
    ``bands.red``, red beyond. A band's edge belongs to the better colour, so
    exactly 95% attainment with a 5% yellow band is green (docs/METHOD.md: 95% is
    the bar). Ahead of plan (negative shortfall) is green. NaN or None (no
    plan, no actual) gives "": no light rather than a false one.

    Excel: ``=IF(ISNUMBER(att),IF(ROUND(1-att,9)<=yellow,"G",IF(ROUND(1-att,9)<=orange,"Y",``
    ``IF(ROUND(1-att,9)<=red,"O","R"))),"")``
    """
    b = bands or StatusBands()
    if attainment_value is None or math.isnan(attainment_value):
        return ""
    s = shortfall(float(attainment_value))
    if s <= b.yellow:
        return "G"
    if s <= b.orange:
        return "Y"
    if s <= b.red:
        return "O"
    return "R"


def status_array(attainments: npt.ArrayLike, bands: StatusBands | None = None) -> StrArray:
    """Vectorised :func:`status`: a numpy array of "G"/"Y"/"O"/"R"/"" of the input's shape."""
    b = bands or StatusBands()
    att = np.asarray(attainments, dtype=float)
    missing = np.isnan(att)
    short = _compare_round_array(np.where(missing, 0.0, 1.0 - att))
    return np.asarray(np.select(
        [missing, short <= b.yellow, short <= b.orange, short <= b.red],
        ["", "G", "Y", "O"], default="R"), dtype="<U1")


# --------------------------------------------------------------------------- streak warning


@dataclass(frozen=True)
class UnderStreak:
    """Result of the "N consecutive weeks more than X% under target" rule.

    ``under[i]``: week ``i`` was more than ``threshold`` under target;
    ``streaks[i]``: length of the run of under weeks ending at week ``i``;
    ``fired``: 0-based indices of the weeks at which a review is due.
    """

    weeks: int
    threshold: float
    under: list[bool]
    streaks: list[int]
    fired: list[int]

    @property
    def triggered(self) -> bool:
        return bool(self.fired)


def _check_streak_args(weeks: int, under: float) -> None:
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    if not math.isfinite(under) or under < 0:
        raise ValueError(f"under must be a non-negative share, got {under}")


def consecutive_under(weekly_attainment: Sequence[float | None], weeks: int = 2,
                      under: float = 0.15) -> UnderStreak:
    """docs/METHOD.md: "two consecutive weeks more than 15% under target → a review meeting".

    A week is *under* when ``ROUND(1 - attainment, 9) > under`` (strictly: 85%
    against a 15% threshold is not under; 84.9% is). A week without an
    attainment (NaN/None: no plan or no actual) is not under and breaks the
    streak: the rule asks for consecutive weeks measured under target.

    Firing rule (decided here): the rule fires at the week a streak reaches
    ``weeks``, and again each time the *same* streak grows by another
    ``weeks`` (at streak lengths N, 2N, 3N …). The review meeting resets the
    count: one more bad week right after a review is not a new two-week
    signal, but a problem that persists for another full N weeks calls for
    another review. With ``weeks=1`` every under week fires.

    Excel (week columns, previous streak in the cell to the left, 0 before week 1):
    ``streak: =IF(ISNUMBER(att),IF(ROUND(1-att,9)>under,prev_streak+1,0),0)``
    ``fires:  =AND(streak>0,MOD(streak,weeks)=0)``
    """
    _check_streak_args(weeks, under)
    flags: list[bool] = []
    streaks: list[int] = []
    fired: list[int] = []
    run = 0
    for i, att in enumerate(weekly_attainment):
        is_under = (att is not None and not math.isnan(att)
                    and compare_round(1.0 - float(att)) > under)
        run = run + 1 if is_under else 0
        flags.append(is_under)
        streaks.append(run)
        if run > 0 and run % weeks == 0:
            fired.append(i)
    return UnderStreak(weeks, under, flags, streaks, fired)


# --------------------------------------------------------------------------- budget check


@dataclass(frozen=True)
class BudgetCheck:
    """Spend against budget: the deviation ratio and whether it needs a root-cause note."""

    spend: int
    budget: int
    tolerance: float
    deviation: float  # spend/budget - 1; NaN when the budget is 0
    flag: BudgetFlag

    @property
    def needs_note(self) -> bool:
        """docs/METHOD.md: beyond the tolerance, a root-cause note is due within 48 hours."""
        return self.flag != "within"


def _check_tolerance(tolerance: float) -> None:
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative share, got {tolerance}")


def budget_check(spend: int, budget: int, tolerance: float = 0.05) -> BudgetCheck:
    """Monthly spend vs budget (docs/METHOD.md: tolerance ±5%, beyond it a root-cause note).

    ``deviation = spend / budget - 1`` (inputs in integer minor units, divided
    as doubles, as Excel does). The flag compares ``ROUND(deviation, 9)`` with
    the tolerance, so exactly 5% over a 5% tolerance is still "within":
    "over" when it is above ``+tolerance``, "under" below ``-tolerance`` (an
    underspend also needs explaining: the plan was wrong or work is late).

    A zero budget has no deviation (NaN, ``""`` in the sheet); any positive
    spend against it is "over", a negative one (a refund) "under", zero
    "within". A negative budget is an error.

    Excel: ``deviation: =IF(budget=0,"",spend/budget-1)``
    ``flag: =IF(budget=0,IF(spend>0,"over",IF(spend<0,"under","within")),``
    ``IF(ROUND(spend/budget-1,9)>tol,"over",IF(ROUND(spend/budget-1,9)<-tol,"under","within")))``
    """
    _check_tolerance(tolerance)
    if budget < 0:
        raise ValueError(f"budget must not be negative, got {budget}")
    if budget == 0:
        flag: BudgetFlag = "over" if spend > 0 else "under" if spend < 0 else "within"
        return BudgetCheck(spend, budget, tolerance, NAN, flag)
    deviation = float(spend) / float(budget) - 1.0
    r = compare_round(deviation)
    flag = "over" if r > tolerance else "under" if r < -tolerance else "within"
    return BudgetCheck(spend, budget, tolerance, deviation, flag)


def budget_check_array(spend: npt.ArrayLike, budget: npt.ArrayLike, tolerance: float = 0.05,
                       ) -> tuple[FloatArray, StrArray]:
    """Vectorised :func:`budget_check`: ``(deviation, flag)`` arrays, same rules and formulas."""
    _check_tolerance(tolerance)
    s = np.asarray(spend, dtype=float)
    b = np.asarray(budget, dtype=float)
    if np.any(b < 0):
        raise ValueError("budget must not be negative")
    zero = b == 0
    deviation = np.where(zero, np.nan, s / np.where(zero, 1.0, b) - 1.0)
    r = _compare_round_array(np.where(zero, 0.0, deviation))
    flag = np.select(
        [zero & (s > 0), zero & (s < 0), zero, r > tolerance, r < -tolerance],
        ["over", "under", "within", "over", "under"], default="within")
    return np.asarray(deviation, dtype=float), np.asarray(flag, dtype="<U6")
