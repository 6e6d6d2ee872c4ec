"""Allocation: docs/METHOD.md's hand-worked cases, and exactness as a property."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.engine.allocate import (
    AllocationError,
    allocate,
    allocate_rows,
    order_by_code,
    trace_rows,
)
from xlplan.engine.org import OrgTree, allocate_org, factor_breakdown
from xlplan.spec.models import AllocationRules, Factors, Maturity, Unit


def test_hundred_over_three_equal_weights() -> None:
    # 100/3 = 33.33 each: floors 33+33+33 = 99, one unit left for the first (tie by order).
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


def test_quarter_into_months_80_70_100() -> None:
    # 2,500,000 × 80/250 = 800,000; × 70/250 = 700,000; × 100/250 = 1,000,000.
    assert allocate(2_500_000, [80, 70, 100]) == [800_000, 700_000, 1_000_000]


def test_year_by_quarter_profile() -> None:
    assert allocate(100_000_000, [0.28, 0.32, 0.27, 0.13]) == [
        28_000_000, 32_000_000, 27_000_000, 13_000_000]


def test_year_into_even_months() -> None:
    # 100,000,000 / 12 = 8,333,333.33: four months carry the 4 leftover units.
    months = allocate(100_000_000, [1] * 12)
    assert months.count(8_333_334) == 4 and months.count(8_333_333) == 8
    assert sum(months) == 100_000_000


def test_largest_remainder_not_first_come() -> None:
    # quotas 10×0.15=1.5, 10×0.26=2.6, 10×0.59=5.9 → floors 1,2,5 (8); two extra units go
    # to the largest remainders 0.9 and 0.6, not to the first children.
    assert allocate(10, [0.15, 0.26, 0.59]) == [1, 3, 6]


def test_step_rounds_to_whole_steps_and_keeps_leftover_exact() -> None:
    # 1,050 in steps of 100: 10 steps → 4/3/3, the 50 left over goes to the first-ranked child.
    assert allocate(1_050, [1, 1, 1], step=100) == [450, 300, 300]


def test_holds_are_kept_and_the_rest_respread() -> None:
    assert allocate(1_000, [1, 1, 2], holds={0: 400}) == [400, 200, 400]


def test_holds_above_total_is_an_error() -> None:
    with pytest.raises(AllocationError, match="exceed"):
        allocate(100, [1, 1], holds={0: 150})


def test_zero_weights_are_an_error_not_a_silent_zero() -> None:
    with pytest.raises(AllocationError, match="sum to zero"):
        allocate(100, [0, 0])
    assert allocate(0, [0, 0]) == [0, 0]


def test_negative_weight_is_an_error() -> None:
    with pytest.raises(AllocationError):
        allocate(100, [1, -1])


def test_region_weight_multiplies_visible_factors() -> None:
    # docs/METHOD.md: priority 1.4, maturity "mature" (1.2), 45% new hires (> 40% → × 0.9).
    unit = Unit(code="R", name="R", parent="C", base=1.0,
                factors=Factors(priority=1.4, maturity=Maturity.mature, new_hire_share=0.45))
    w = factor_breakdown(unit, AllocationRules())
    assert (w.priority, w.maturity, w.new_hire, w.history) == (1.4, 1.2, 0.9, 1.0)
    assert w.weight == pytest.approx(1.4 * 1.2 * 0.9)


def test_history_uplift_and_review_flag() -> None:
    rules = AllocationRules()
    over = Unit(code="A", name="A", factors=Factors(attainment_history=[1.01, 1.1, 1.05]))
    under = Unit(code="B", name="B", factors=Factors(attainment_history=[0.9, 0.8, 0.95]))
    short = Unit(code="C", name="C", factors=Factors(attainment_history=[1.2, 1.3]))
    assert factor_breakdown(over, rules).history == pytest.approx(1.15)
    assert factor_breakdown(under, rules).review and factor_breakdown(under, rules).history == 1
    assert factor_breakdown(short, rules).history == 1.0


def test_pyramid_company_to_rep() -> None:
    # docs/METHOD.md: 100,000,000 → sales 60,000,000 → East 30,000,000 → each of 15 reps 2,000,000.
    units = [Unit(code="CO", name="co"),
             Unit(code="SALES", name="s", parent="CO", weight=0.6),
             Unit(code="OTHER", name="o", parent="CO", weight=0.4),
             Unit(code="EAST", name="e", parent="SALES", weight=1),
             Unit(code="WEST", name="w", parent="SALES", weight=1),
             *(Unit(code=f"REP{i:02d}", name="r", parent="EAST", weight=1) for i in range(15))]
    rules = AllocationRules(method="weights")
    targets = allocate_org(OrgTree.from_units(units), 100_000_000, rules)
    assert targets["SALES"] == 60_000_000 and targets["EAST"] == 30_000_000
    assert {targets[f"REP{i:02d}"] for i in range(15)} == {2_000_000}


weights_st = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1,
                      max_size=30).filter(lambda w: sum(w) > 0)


@settings(max_examples=300, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**13), weights=weights_st,
       step=st.sampled_from([1, 1, 100, 10_000]))
def test_children_sum_exactly_to_the_parent(total: int, weights: list[float], step: int) -> None:
    parts = allocate(total, weights, step=step)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    # zero weight gets nothing unless it is the only place the sub-step leftover can go
    assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0) or total % step


@settings(max_examples=200, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**12), weights=weights_st, data=st.data())
def test_result_does_not_depend_on_the_order_of_children(total: int, weights: list[float],
                                                         data: st.DataObject) -> None:
    codes = [f"C{i:03d}" for i in range(len(weights))]
    perm = data.draw(st.permutations(range(len(weights))))
    base = dict(zip(codes, allocate(total, weights, order=order_by_code(codes)), strict=True))
    shuffled_codes = [codes[i] for i in perm]
    shuffled = allocate(total, [weights[i] for i in perm], order=order_by_code(shuffled_codes))
    assert dict(zip(shuffled_codes, shuffled, strict=True)) == base


@settings(max_examples=200, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**12), weights=weights_st, data=st.data())
def test_holds_are_respected(total: int, weights: list[float], data: st.DataObject) -> None:
    n = len(weights)
    held_idx = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1))
    holds = {i: data.draw(st.integers(0, total // max(n, 1))) for i in held_idx}
    free_weight = sum(w for i, w in enumerate(weights) if i not in holds)
    if free_weight == 0:
        return
    parts = allocate(total, weights, holds=holds)
    assert sum(parts) == total
    assert all(parts[i] == amount for i, amount in holds.items())


@settings(max_examples=100, deadline=None)
@given(totals=st.lists(st.integers(0, 10**11), min_size=1, max_size=20), weights=weights_st)
def test_rows_equal_one_by_one(totals: list[int], weights: list[float]) -> None:
    block = allocate_rows(totals, weights)
    assert block.sum(axis=1).tolist() == totals
    for row, total in zip(block, totals, strict=True):
        assert row.tolist() == allocate(total, weights)


def test_rows_with_per_row_weights() -> None:
    block = allocate_rows([100, 10], np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 3.0]]))
    assert block.tolist() == [[34, 33, 33], [3, 0, 7]]


@settings(max_examples=200, deadline=None)
@given(totals=st.lists(st.integers(0, 10**13), min_size=1, max_size=40),
       weights=st.lists(st.floats(0.001, 1e6), min_size=1, max_size=13),
       step=st.sampled_from([1, 100]))
def test_a_row_of_a_batched_trace_is_the_trace_of_that_row_alone(
        totals: list[int], weights: list[float], step: int) -> None:
    """The workbook writer computes hundreds of year splits in one call and writes each row
    as its own split (Trace.row): every intermediate value must be the same, bit for bit,
    as computing that split alone, wherever the row sits in the array."""
    batch = trace_rows(totals, weights, step=step)
    for i, total in enumerate(totals):
        alone = trace_rows([total], weights, step=step)
        row = batch.row(i)
        for field in ("units", "leftover", "quota", "floor", "rem", "rank", "deficit",
                      "result"):
            np.testing.assert_array_equal(getattr(row, field), getattr(alone, field),
                                          err_msg=field)


def test_the_splitter_refuses_a_trace_of_another_total() -> None:
    """A trace computed in a batch is only written for the total it was computed for:
    a mismatch would put one split's working under another's total."""
    from xlplan.workbook.book import Book
    from xlplan.workbook.splitter import Splitter

    splitter = Splitter(Book(None))
    weights = [(None, 1.0), (None, 2.0)]
    batch = trace_rows([100, 101], [1.0, 2.0])
    given = splitter.split("a", "100", 100, weights, ["x", "y"], [0, 1], trace=batch.row(0))
    alone = splitter.split("b", "100", 100, weights, ["x", "y"], [0, 1])
    assert given.amounts == alone.amounts == [33, 67]
    with pytest.raises(ValueError, match="trace of another total"):
        splitter.split("c", "100", 100, weights, ["x", "y"], [0, 1], trace=batch.row(1))
