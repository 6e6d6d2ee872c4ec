"""OKR progress and roll-up: hand-worked cases, edge cases, vectorised == scalar."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.engine.okr import (
    ROLLUP_COLUMNS,
    kr_progress,
    kr_progress_array,
    objective_progress,
    okr_rollup,
    weighted_mean,
)
from xlplan.spec.models import KeyResult, Objective

NAN = float("nan")
DUE = dt.date(2025, 12, 31)


def kr(id_: str, start: float, target: float, current: float | None,
       weight: float = 1.0) -> KeyResult:
    return KeyResult(id=id_, text=id_, start=start, target=target, current=current, due=DUE,
                     weight=weight)


def obj(id_: str, krs: list[KeyResult], aligned_to: tuple[str, ...] = ()) -> Objective:
    return Objective(id=id_, title=id_, krs=krs, aligned_to=list(aligned_to))


# --------------------------------------------------------------------------- kr_progress


def test_repurchase_30_to_40_at_33_is_three_tenths() -> None:
    # (0.33 − 0.30) / (0.40 − 0.30) = 0.03 / 0.10 = 0.3
    assert kr_progress(0.30, 0.40, 0.33) == pytest.approx(0.3)


def test_decreasing_kr() -> None:
    # Delivery 10 days → 5 days, now 8: (8 − 10) / (5 − 10) = −2 / −5 = 0.4
    assert kr_progress(10, 5, 8) == pytest.approx(0.4)


def test_clipping_to_zero_one() -> None:
    # Over-delivery 45% on 30→40: 0.15/0.10 = 1.5 raw, 1 clipped.
    assert kr_progress(0.30, 0.40, 0.45) == 1.0
    assert kr_progress(0.30, 0.40, 0.45, clip=False) == pytest.approx(1.5)
    # Going backwards to 20%: −0.10/0.10 = −1 raw, 0 clipped.
    assert kr_progress(0.30, 0.40, 0.20) == 0.0
    assert kr_progress(0.30, 0.40, 0.20, clip=False) == pytest.approx(-1.0)


def test_no_reading_is_zero_progress() -> None:
    # Not (0 − 0.3)/0.1 = −3: a missing reading is no progress, clipped or not.
    assert kr_progress(0.30, 0.40, None) == 0.0
    assert kr_progress(0.30, 0.40, None, clip=False) == 0.0
    assert kr_progress(0.30, 0.40, NAN) == 0.0


def test_target_equal_to_start_is_nan() -> None:
    assert math.isnan(kr_progress(5, 5, 7))
    assert math.isnan(kr_progress(5, 5, None))


@given(st.lists(st.tuples(
    st.floats(-1e6, 1e6), st.floats(-1e6, 1e6),
    st.one_of(st.floats(-1e6, 1e6), st.just(NAN)), st.booleans()), min_size=1, max_size=30))
def test_kr_progress_array_equals_scalar(rows: list[tuple[float, float, float, bool]]) -> None:
    for clip in (True, False):
        s, t, c, _ = zip(*rows, strict=True)
        vec = kr_progress_array(list(s), list(t), list(c), clip=clip)
        ref = [kr_progress(a, b, x, clip=clip) for a, b, x, _ in rows]
        np.testing.assert_array_equal(vec, np.array(ref))


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_clipped_progress_is_a_share(start: float, target: float, current: float) -> None:
    p = kr_progress(start, target, current)
    assert math.isnan(p) == (start == target)
    if not math.isnan(p):
        assert 0.0 <= p <= 1.0


# --------------------------------------------------------------------------- objective_progress


def test_objective_progress_weighted() -> None:
    # (3 × 1.0 + 1 × 0.5) / (3 + 1) = 3.5 / 4 = 0.875
    assert objective_progress([1.0, 0.5], [3, 1]) == pytest.approx(0.875)


def test_objective_progress_zero_weights_is_plain_mean() -> None:
    # (1.0 + 0.5) / 2 = 0.75, not 0/0.
    assert objective_progress([1.0, 0.5], [0, 0]) == pytest.approx(0.75)
    assert objective_progress([1.0, 0.5]) == pytest.approx(0.75)


def test_objective_progress_one_zero_weight_drops_that_kr() -> None:
    # (0 × 1.0 + 2 × 0.2) / 2 = 0.2
    assert objective_progress([1.0, 0.2], [0, 2]) == pytest.approx(0.2)


def test_objective_progress_edges() -> None:
    assert math.isnan(objective_progress([0.5, NAN], [1, 1]))
    assert math.isnan(objective_progress([], []))
    with pytest.raises(ValueError):
        objective_progress([0.5], [1, 1])
    with pytest.raises(ValueError):
        objective_progress([0.5, 0.5], [1, -1])


# Realistic weights: 0, or at least 1e-6 (a subnormal weight underflows w·p to 0, in Excel too).
@given(st.lists(st.tuples(st.floats(0, 1), st.one_of(st.just(0.0), st.floats(1e-6, 100))),
                min_size=1, max_size=10))
def test_weighted_mean_stays_between_min_and_max(rows: list[tuple[float, float]]) -> None:
    values, weights = zip(*rows, strict=True)
    m = weighted_mean(values, weights)
    assert min(values) - 1e-12 <= m <= max(values) + 1e-12


# --------------------------------------------------------------------------- roll-up


def three_levels() -> list[Objective]:
    return [
        # Company: C1 0→100 at 40 = 0.4 (w 1); C2 0→10 no reading = 0 (w 3).
        obj("C", [kr("C1", 0, 100, 40, 1), kr("C2", 0, 10, None, 3)]),
        # Department D1 supports C1: D11 = 8/10 = 0.8, D12 = 2/10 = 0.2.
        obj("D1", [kr("D11", 0, 10, 8), kr("D12", 0, 10, 2)], ("C1",)),
        # Department D2 supports both C1 and C2: D21 = 6/10 = 0.6.
        obj("D2", [kr("D21", 0, 10, 6)], ("C1", "C2")),
        # Person P1 supports D12: P11 = 4/4 = 1.0.
        obj("P1", [kr("P11", 0, 4, 4)], ("D12",)),
    ]


def test_rollup_three_levels_hand_worked() -> None:
    frame = okr_rollup(three_levels())
    assert list(frame.columns) == [
        "objective", "unit", "aligned_to", "kr", "weight", "start", "target", "current",
        "progress", "aligned_objectives", "aligned_count", "aligned_progress", "kr_rollup",
        "objective_progress", "objective_rollup"]
    frame = frame.set_index("kr")
    # Own progress per KR.
    assert frame.loc["C1", "progress"] == pytest.approx(0.4)
    assert frame.loc["C2", "progress"] == 0.0
    # P1: leaf, own = rolled-up = 1.0.
    assert frame.loc["P11", "objective_rollup"] == pytest.approx(1.0)
    # D1: own (0.8 + 0.2)/2 = 0.5; D12 is delivered by P1 (1.0), so
    # rolled-up = (0.8 + 1.0)/2 = 0.9.
    assert frame.loc["D12", "aligned_progress"] == pytest.approx(1.0)
    assert frame.loc["D12", "kr_rollup"] == pytest.approx(1.0)
    assert frame.loc["D11", "objective_progress"] == pytest.approx(0.5)
    assert frame.loc["D11", "objective_rollup"] == pytest.approx(0.9)
    # D2: leaf, 0.6.
    assert frame.loc["D21", "objective_rollup"] == pytest.approx(0.6)
    # C1 supported by D1 (0.9, rolled up) and D2 (0.6): mean 0.75.
    assert frame.loc["C1", "aligned_count"] == 2
    assert frame.loc["C1", "aligned_objectives"] == "D1, D2"
    assert frame.loc["C1", "aligned_progress"] == pytest.approx(0.75)
    # C2 supported by D2 only (D2 counts fully in both KRs): 0.6.
    assert frame.loc["C2", "aligned_progress"] == pytest.approx(0.6)
    # C own: (1 × 0.4 + 3 × 0) / 4 = 0.1; rolled-up: (1 × 0.75 + 3 × 0.6) / 4 = 0.6375.
    assert frame.loc["C1", "objective_progress"] == pytest.approx(0.1)
    assert frame.loc["C1", "objective_rollup"] == pytest.approx(0.6375)
    # KRs no one supports: NaN aligned progress, roll-up = own.
    assert math.isnan(frame["aligned_progress"]["D11"])
    assert frame.loc["D11", "kr_rollup"] == pytest.approx(0.8)
    assert frame.loc["D11", "aligned_to"] == "C1"
    assert frame.loc["D21", "aligned_to"] == "C1, C2"


def test_rollup_rows_follow_plan_order_one_per_kr() -> None:
    frame = okr_rollup(three_levels())
    assert frame["kr"].tolist() == ["C1", "C2", "D11", "D12", "D21", "P11"]
    assert frame["objective"].tolist() == ["C", "C", "D1", "D1", "D2", "P1"]


def test_rollup_missing_current_shows_nan_current_zero_progress() -> None:
    frame = okr_rollup(three_levels()).set_index("kr")
    assert math.isnan(frame["current"]["C2"])
    assert frame.loc["C2", "progress"] == 0.0


def test_rollup_zero_weight_objective_uses_plain_mean() -> None:
    frame = okr_rollup([obj("O", [kr("K1", 0, 10, 10, 0), kr("K2", 0, 10, 0, 0)])])
    assert frame["objective_progress"].tolist() == [0.5, 0.5]


def test_rollup_aligned_twice_to_one_kr_counts_once() -> None:
    objectives = [obj("C", [kr("C1", 0, 10, 0)]),
                  obj("A", [kr("A1", 0, 10, 10)], ("C1", "C1")),
                  obj("B", [kr("B1", 0, 10, 0)], ("C1",))]
    frame = okr_rollup(objectives).set_index("kr")
    # mean(1.0, 0.0) = 0.5, not (1 + 1 + 0)/3.
    assert frame.loc["C1", "aligned_count"] == 2
    assert frame.loc["C1", "aligned_progress"] == pytest.approx(0.5)


def test_rollup_nan_kr_propagates() -> None:
    frame = okr_rollup([obj("O", [kr("K1", 5, 5, 7), kr("K2", 0, 10, 5)])])
    assert math.isnan(frame["objective_progress"].iloc[0])


def test_rollup_errors() -> None:
    with pytest.raises(ValueError, match="unknown key result"):
        okr_rollup([obj("O", [kr("K1", 0, 1, 0)], ("NOPE",))])
    with pytest.raises(ValueError, match="duplicate key result"):
        okr_rollup([obj("O", [kr("K1", 0, 1, 0)]), obj("P", [kr("K1", 0, 1, 0)])])
    with pytest.raises(ValueError, match="duplicate objective"):
        okr_rollup([obj("O", [kr("K1", 0, 1, 0)]), obj("O", [kr("K2", 0, 1, 0)])])
    with pytest.raises(ValueError, match="cycle"):
        okr_rollup([obj("A", [kr("A1", 0, 1, 0)], ("B1",)),
                    obj("B", [kr("B1", 0, 1, 0)], ("A1",))])
    with pytest.raises(ValueError, match="cycle"):
        okr_rollup([obj("A", [kr("A1", 0, 1, 0)], ("A1",))])


def test_rollup_empty() -> None:
    frame = okr_rollup([])
    assert list(frame.columns) == ROLLUP_COLUMNS
    assert len(frame) == 0
