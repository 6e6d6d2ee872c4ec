"""Variance, attainment, status lights, the streak rule and budget checks: hand-worked cases."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.engine.variance import (
    attainment,
    attainment_array,
    budget_check,
    budget_check_array,
    consecutive_under,
    shortfall,
    status,
    status_array,
    variance,
    variance_array,
)
from xlplan.spec.models import Direction, StatusBands

NAN = float("nan")

# Attainments that sit exactly on a default band edge, or just past it.
EDGES = [1.0, 0.95, 0.9499, 0.85, 0.8499, 0.7, 0.6999, 1.05, 0.0, -0.5, 2.0]


# --------------------------------------------------------------------------- variance


def test_variance_of_minor_units_stays_an_integer() -> None:
    # 1,050.00 actual − 1,000.00 plan = 50.00 → 5,000 cents.
    result = variance(105_000, 100_000)
    assert result == 5_000
    assert isinstance(result, int)


def test_variance_is_not_sign_flipped_for_a_shortfall() -> None:
    assert variance(90, 100) == -10


def test_variance_array_keeps_integer_dtype() -> None:
    out = variance_array(np.array([105_000, 90], dtype=np.int64), np.array([100_000, 100]))
    assert out.dtype.kind == "i"
    assert out.tolist() == [5_000, -10]


# --------------------------------------------------------------------------- attainment


def test_attainment_higher_is_actual_over_plan() -> None:
    # 110 / 100 = 1.1
    assert attainment(110, 100) == pytest.approx(1.1)


def test_attainment_lower_is_better_cac_over_target() -> None:
    # CAC 220 vs target 200: 2 − 220/200 = 2 − 1.1 = 0.9 (10% worse than plan).
    assert attainment(220, 200, "lower") == pytest.approx(0.9)
    assert attainment(220, 200, Direction("lower")) == pytest.approx(0.9)


def test_attainment_lower_is_better_below_target_beats_plan() -> None:
    # CAC 180 vs 200: 2 − 0.9 = 1.1.
    assert attainment(180, 200, "lower") == pytest.approx(1.1)


def test_attainment_lower_equals_the_one_minus_relative_excess_form() -> None:
    # 2 − a/p == 1 − (a − p)/p, e.g. 250 vs 200: 2 − 1.25 = 0.75 = 1 − 50/200.
    assert attainment(250, 200, "lower") == pytest.approx(1 - (250 - 200) / 200)
    assert attainment(250, 200, "lower") == pytest.approx(0.75)


def test_attainment_plan_zero_and_missing_actual_are_nan() -> None:
    assert math.isnan(attainment(5, 0))
    assert math.isnan(attainment(5, 0, "lower"))
    assert math.isnan(attainment(None, 100))
    assert math.isnan(attainment(NAN, 100))


def test_attainment_rejects_an_unknown_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        attainment(1, 1, "up")
    with pytest.raises(ValueError, match="direction"):
        attainment_array([1], [1], ["up"])


def test_attainment_array_mixed_directions() -> None:
    out = attainment_array([220, 110, 5], [200, 100, 0], ["lower", "higher", "higher"])
    assert out[0] == pytest.approx(0.9)
    assert out[1] == pytest.approx(1.1)
    assert math.isnan(out[2])


@given(
    st.lists(st.tuples(st.integers(-10**12, 10**12), st.integers(-10**12, 10**12),
                       st.sampled_from(["higher", "lower"])), min_size=1, max_size=30)
)
def test_attainment_array_equals_scalar(cells: list[tuple[int, int, str]]) -> None:
    actual, plan, direction = zip(*cells, strict=True)
    vec = attainment_array(list(actual), list(plan), list(direction))
    ref = [attainment(a, p, d) for a, p, d in cells]
    np.testing.assert_array_equal(vec, np.array(ref))


# --------------------------------------------------------------------------- status


def test_cac_example_is_yellow() -> None:
    # CAC 220 vs 200 → attainment 0.9 → shortfall ROUND(1 − 0.9, 9) = 0.1:
    # above yellow 0.05, within orange 0.15 → "Y".
    att = attainment(220, 200, "lower")
    assert shortfall(att) == 0.1
    assert status(att) == "Y"


def test_exactly_95_percent_is_green() -> None:
    # 1 − 0.95 = 0.050000000000000044 in binary: compared raw it would miss the
    # 5% band; ROUND(…, 9) = 0.05 ≤ 0.05 → "G".
    assert 1 - 0.95 > 0.05
    assert status(0.95) == "G"
    assert status(attainment(95, 100)) == "G"


@pytest.mark.parametrize(("att", "light"), [
    (1.2, "G"),      # ahead of plan: negative shortfall
    (1.0, "G"),
    (0.9499, "Y"),   # shortfall 0.0501
    (0.85, "Y"),     # shortfall 0.15, the orange edge, stays yellow
    (0.8499, "O"),
    (0.7, "O"),      # shortfall 0.30, the red edge, stays orange
    (0.6999, "R"),
    (0.0, "R"),
    (-0.5, "R"),
])
def test_status_band_edges(att: float, light: str) -> None:
    assert status(att) == light


def test_status_of_nothing_is_empty() -> None:
    assert status(NAN) == ""
    assert status(None) == ""


def test_status_uses_the_given_bands() -> None:
    bands = StatusBands(yellow=0.0, orange=0.1, red=0.2)
    assert status(0.99, bands) == "Y"
    assert status(0.85, bands) == "O"
    assert status(0.75, bands) == "R"
    assert status(1.0, bands) == "G"


def test_status_array_returns_strings_of_the_input_shape() -> None:
    out = status_array(np.array([[0.95, 0.9], [0.8, NAN]]))
    assert out.shape == (2, 2)
    assert out.dtype.kind == "U"
    assert out.tolist() == [["G", "Y"], ["O", ""]]


@given(st.lists(st.one_of(st.floats(-2, 3, allow_nan=False), st.sampled_from(EDGES),
                          st.just(NAN)), max_size=50))
def test_status_array_equals_scalar(atts: list[float]) -> None:
    assert status_array(np.array(atts, dtype=float)).tolist() == [status(a) for a in atts]


def test_ten_thousand_cells_under_fifty_ms() -> None:
    rng = np.random.default_rng(7)
    actual = rng.integers(0, 10**9, size=10_000)
    plan = rng.integers(0, 10**9, size=10_000)
    direction = np.where(rng.random(10_000) < 0.3, "lower", "higher")
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        att = attainment_array(actual, plan, direction)
        status_array(att)
        budget_check_array(actual, plan)
        best = min(best, time.perf_counter() - t0)
    assert best < 0.05


# --------------------------------------------------------------------------- consecutive weeks


def test_two_weeks_at_80_percent_fire_at_week_two() -> None:
    # 80% → shortfall 0.2 > 0.15 both weeks: the streak reaches 2 at index 1 (week 2).
    result = consecutive_under([0.8, 0.8])
    assert result.fired == [1]
    assert result.streaks == [1, 2]
    assert result.under == [True, True]
    assert result.triggered


def test_a_good_week_breaks_the_streak() -> None:
    assert consecutive_under([0.8, 0.9, 0.8]).fired == []


def test_exactly_fifteen_percent_under_is_not_more_than_fifteen() -> None:
    # 0.85 → ROUND(1 − 0.85, 9) = 0.15, not > 0.15.
    assert consecutive_under([0.85, 0.85]).fired == []
    assert consecutive_under([0.84, 0.84]).fired == [1]


def test_a_long_streak_fires_again_every_n_weeks() -> None:
    # Streak lengths 1,2,3,4,5 → fires at lengths 2 and 4 (indices 1 and 3), not at 3 or 5.
    result = consecutive_under([0.5] * 5)
    assert result.streaks == [1, 2, 3, 4, 5]
    assert result.fired == [1, 3]


def test_missing_week_breaks_the_streak() -> None:
    assert consecutive_under([0.8, NAN, 0.8]).fired == []
    assert consecutive_under([0.8, None, 0.8, 0.8]).fired == [3]


def test_streak_rule_parameters() -> None:
    assert consecutive_under([0.8, 0.8, 0.8], weeks=3).fired == [2]
    assert consecutive_under([0.8, 0.95, 0.8], weeks=1).fired == [0, 2]
    # threshold 25%: 80% (20% under) does not count.
    assert consecutive_under([0.8, 0.8], under=0.25).fired == []
    with pytest.raises(ValueError):
        consecutive_under([0.8], weeks=0)
    with pytest.raises(ValueError):
        consecutive_under([0.8], under=-0.1)


# --------------------------------------------------------------------------- budget check


def test_budget_exactly_five_percent_over_is_within() -> None:
    # 105/100 − 1 = 0.050000000000000044 raw; ROUND(…, 9) = 0.05 ≤ 0.05 → within.
    check = budget_check(10_500, 10_000)
    assert check.flag == "within"
    assert check.deviation == pytest.approx(0.05)
    assert not check.needs_note


def test_budget_over_and_under() -> None:
    over = budget_check(10_600, 10_000)
    assert over.flag == "over"
    assert over.deviation == pytest.approx(0.06)
    assert over.needs_note
    under = budget_check(9_400, 10_000)
    assert under.flag == "under"
    assert under.deviation == pytest.approx(-0.06)
    assert budget_check(9_500, 10_000).flag == "within"
    assert budget_check(10_600, 10_000, tolerance=0.1).flag == "within"


def test_budget_zero() -> None:
    nothing = budget_check(0, 0)
    assert nothing.flag == "within"
    assert math.isnan(nothing.deviation)
    assert budget_check(1, 0).flag == "over"
    assert budget_check(-1, 0).flag == "under"


def test_budget_negative_is_an_error() -> None:
    with pytest.raises(ValueError):
        budget_check(1, -1)
    with pytest.raises(ValueError):
        budget_check_array([1], [-1])
    with pytest.raises(ValueError):
        budget_check(1, 1, tolerance=-0.1)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(-10**6, 10**9), st.integers(0, 10**9)), min_size=1,
                max_size=30), st.sampled_from([0.0, 0.05, 0.1]))
def test_budget_check_array_equals_scalar(cells: list[tuple[int, int]], tol: float) -> None:
    spend, budget = zip(*cells, strict=True)
    dev, flag = budget_check_array(list(spend), list(budget), tol)
    ref = [budget_check(s, b, tol) for s, b in cells]
    np.testing.assert_array_equal(dev, np.array([r.deviation for r in ref]))
    assert flag.tolist() == [r.flag for r in ref]


def test_budget_check_array_hits_the_tolerance_edges() -> None:
    _, flag = budget_check_array([10_500, 9_500, 10_501, 9_499], [10_000] * 4)
    assert flag.tolist() == ["within", "within", "over", "under"]
