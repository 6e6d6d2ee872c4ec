"""Budget: reserve, unit budgets, pools, BCG split, request lines, reserve authority."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.engine.allocate import AllocationError
from xlplan.engine.budget import (
    RequestLine,
    bcg_split,
    request_lines,
    requests_vs_allocation,
    reserve_decision,
    split_budget,
    unit_budgets,
    unit_pools,
)
from xlplan.spec.models import BCG, Budget, Pools, Product

DEFAULT_BCG = Budget(total=0).bcg_weights  # star 0.60, cash cow 0.25, question mark 0.10, dog 0.05


def product(code: str, bcg: str | None = None, **kw: float) -> Product:
    return Product(code=code, name=code, bcg=bcg, **kw)


# --------------------------------------------------------------------------- split_budget


def test_company_reserve_ten_percent_of_a_million() -> None:
    # 1,000,000.00 = 100,000,000 cents: reserve 10% = 10,000,000; the rest 90,000,000.
    split = split_budget(100_000_000, 0.10)
    assert (split.company_reserve, split.distributable) == (10_000_000, 90_000_000)
    assert split.total == 100_000_000
    assert split.pools == Pools()


def test_company_reserve_largest_remainder() -> None:
    # 12,345,678.91 = 1,234,567,891 cents at 15%: quotas 185,185,183.65 and
    # 1,049,382,707.35 → floors sum to 1,234,567,890, one cent short; the larger
    # remainder (.65) takes it: 185,185,184 + 1,049,382,707.
    split = split_budget(1_234_567_891, 0.15)
    assert (split.company_reserve, split.distributable) == (185_185_184, 1_049_382_707)


def test_split_budget_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        split_budget(1000.0, 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        split_budget(-1, 0.1)
    with pytest.raises(ValueError):
        split_budget(1000, 1.5)
    with pytest.raises(ValueError, match="pools"):
        split_budget(1000, 0.1, Pools(base=0.6, incentive=0.3, reserve=0.05))


@given(st.integers(0, 10**15), st.floats(0, 1))
def test_split_budget_is_exact(total: int, share: float) -> None:
    split = split_budget(total, share)
    assert split.company_reserve + split.distributable == total
    assert abs(split.company_reserve - total * share) <= 1 + total * 1e-12


# --------------------------------------------------------------------------- unit_pools


def test_pools_of_a_million() -> None:
    # 1,000,000.00 → 600,000.00 / 300,000.00 / 100,000.00 (in cents).
    assert unit_pools(100_000_000) == {
        "base": 60_000_000, "incentive": 30_000_000, "reserve": 10_000_000}


def test_pools_of_seven_cents() -> None:
    # Quotas 4.2 / 2.1 / 0.7 → floors 4 / 2 / 0, one cent left for the largest
    # remainder (reserve, .7): 4 / 2 / 1.
    assert unit_pools(7) == {"base": 4, "incentive": 2, "reserve": 1}


def test_pools_custom_and_invalid() -> None:
    assert unit_pools(1000, Pools(base=0.5, incentive=0.5, reserve=0.0)) == {
        "base": 500, "incentive": 500, "reserve": 0}
    with pytest.raises(ValueError, match="sum"):
        unit_pools(1000, Pools(base=0.5, incentive=0.3, reserve=0.1))


@given(st.integers(0, 10**15))
def test_pools_exact_and_within_one_unit_of_quota(amount: int) -> None:
    pools = unit_pools(amount)
    assert sum(pools.values()) == amount
    for name, share in (("base", 0.6), ("incentive", 0.3), ("reserve", 0.1)):
        assert abs(pools[name] - amount * share) <= 1 + amount * 1e-12  # type: ignore[index]


# --------------------------------------------------------------------------- unit_budgets


def test_unit_budgets_by_target_share() -> None:
    # 900,000.00 over targets 30M / 20M / 10M (shares 1/2, 1/3, 1/6).
    out = unit_budgets(90_000_000, {"EAST": 30_000_000, "WEST": 20_000_000, "NORTH": 10_000_000})
    assert out == {"EAST": 45_000_000, "WEST": 30_000_000, "NORTH": 15_000_000}


def test_unit_budget_ties_go_by_code_not_input_order() -> None:
    # 100 over three equal targets: 33 each, one left; the tie goes to the smallest code "A".
    assert unit_budgets(100, {"C": 5, "B": 5, "A": 5}) == {"C": 33, "B": 33, "A": 34}


def test_unit_budget_edges() -> None:
    assert unit_budgets(0, {}) == {}
    assert unit_budgets(10, {"A": 0, "B": 7}) == {"A": 0, "B": 10}
    with pytest.raises(AllocationError):
        unit_budgets(10, {"A": 0, "B": 0})
    with pytest.raises(AllocationError):
        unit_budgets(10, {})
    with pytest.raises(ValueError):
        unit_budgets(10, {"A": -1, "B": 2})


@given(st.integers(0, 10**13),
       st.dictionaries(st.text("ABCDEFGH", min_size=1, max_size=3), st.integers(0, 10**12),
                       min_size=1, max_size=8).filter(lambda d: sum(d.values()) > 0),
       st.randoms())
def test_unit_budgets_exact_and_order_independent(
        amount: int, targets: dict[str, int], rnd: random.Random) -> None:
    out = unit_budgets(amount, targets)
    assert sum(out.values()) == amount
    assert list(out) == list(targets)
    keys = list(targets)
    rnd.shuffle(keys)
    assert unit_budgets(amount, {k: targets[k] for k in keys}) == out


# --------------------------------------------------------------------------- bcg_split


def test_bcg_split_renormalises_over_present_classes() -> None:
    # Present: star (0.60) and dog (0.05), sum 0.65.
    # 100 × 0.60/0.65 = 92.31, 100 × 0.05/0.65 = 7.69 → floors 92 + 7 = 99, the
    # last unit to the larger remainder (dog .69) → 92 / 8. Star's 92 over A, B: 46 / 46.
    # D has no class: 0.
    prods = [product("A", "star"), product("B", "star"), product("C", "dog"), product("D")]
    assert bcg_split(100, prods, DEFAULT_BCG) == {"A": 46, "B": 46, "C": 8, "D": 0}


def test_bcg_split_all_classes_evenly_within() -> None:
    # 1,000,000 cents: star 600,000 over 3 = 200,000 each; cash cow 250,000;
    # question mark 100,000 over 3 = 33,333.33 → 33,334 to the smallest code, 33,333 ×2;
    # dog 50,000.
    prods = [product("S3", "star"), product("S1", "star"), product("S2", "star"),
             product("CC", "cash_cow"), product("Q2", "question_mark"),
             product("Q1", "question_mark"), product("Q3", "question_mark"), product("DG", "dog")]
    out = bcg_split(1_000_000, prods, DEFAULT_BCG)
    assert out == {"S3": 200_000, "S1": 200_000, "S2": 200_000, "CC": 250_000,
                   "Q2": 33_333, "Q1": 33_334, "Q3": 33_333, "DG": 50_000}
    assert list(out) == [p.code for p in prods]


def test_bcg_split_classifies_from_growth_and_share() -> None:
    # No explicit class: growth 20% with relative share 1.5 → star; 2% growth, 0.5 share → dog.
    prods = [product("X", market_growth=0.2, relative_share=1.5),
             product("Y", market_growth=0.02, relative_share=0.5)]
    # 65 × 0.60/0.65 = 60, 65 × 0.05/0.65 = 5.
    assert bcg_split(65, prods, DEFAULT_BCG) == {"X": 60, "Y": 5}


def test_bcg_split_edges() -> None:
    assert bcg_split(0, [product("A")], DEFAULT_BCG) == {"A": 0}
    with pytest.raises(AllocationError):
        bcg_split(10, [product("A")], DEFAULT_BCG)
    with pytest.raises(AllocationError):
        bcg_split(10, [product("A", "dog")], {BCG("dog"): 0.0, BCG("star"): 1.0})
    with pytest.raises(ValueError, match="no weight"):
        bcg_split(10, [product("A", "dog")], {"star": 1.0})
    with pytest.raises(ValueError, match="duplicate"):
        bcg_split(10, [product("A", "dog"), product("A", "star")], DEFAULT_BCG)


@given(st.integers(0, 10**13),
       st.lists(st.sampled_from(["star", "cash_cow", "question_mark", "dog", None]),
                min_size=1, max_size=12))
def test_bcg_split_exact(amount: int, classes: list[str | None]) -> None:
    prods = [product(f"P{i}", c) for i, c in enumerate(classes)]
    if amount and all(c is None for c in classes):
        with pytest.raises(AllocationError):
            bcg_split(amount, prods, DEFAULT_BCG)
        return
    out = bcg_split(amount, prods, DEFAULT_BCG)
    assert sum(out.values()) == amount
    assert all(out[p.code] == 0 for p in prods if p.bcg is None)
    # within a class, products differ by at most one unit
    for cls in {c for c in classes if c is not None}:
        parts = [out[p.code] for p in prods if p.bcg == cls]
        assert max(parts) - min(parts) <= 1


# --------------------------------------------------------------------------- request lines


def test_request_lines_roi_and_freeze() -> None:
    lines: list[RequestLine | dict[str, object]] = [
        RequestLine("Livestream ads", "marketing", 100_000, 150_000),   # 1.5 exactly: kept
        RequestLine("Trade show", "marketing", 100_000, 149_999),       # 1.49999: frozen
        {"item": "Licence", "category": "it", "amount": 0, "expected_return": 500},  # no ROI
        RequestLine("Training", "people", 30_000, 90_000),              # 3.0
    ]
    frame = request_lines(lines)
    assert list(frame.columns) == ["item", "category", "amount", "expected_return", "roi",
                                   "frozen"]
    assert frame["roi"].iloc[0] == 1.5
    assert frame["roi"].iloc[3] == pytest.approx(3.0)
    assert math.isnan(frame["roi"].iloc[2])
    assert frame["frozen"].tolist() == [False, True, False, False]
    assert frame["amount"].dtype.kind == "i"


def test_request_roi_is_compared_at_nine_decimals() -> None:
    # 14,999,999,999 / 10,000,000,000 = 1.4999999999: ROUND(…, 9) = 1.5, not below the floor.
    # 14,999,999,990 / 10,000,000,000 = 1.499999999: below it, frozen.
    frame = request_lines([RequestLine("a", "x", 10_000_000_000, 14_999_999_999),
                           RequestLine("b", "x", 10_000_000_000, 14_999_999_990)])
    assert frame["frozen"].tolist() == [False, True]


def test_request_lines_custom_floor_and_errors() -> None:
    lines = [RequestLine("a", "x", 100, 250)]
    assert request_lines(lines, roi_floor=3.0)["frozen"].tolist() == [True]
    with pytest.raises(ValueError):
        request_lines([RequestLine("a", "x", -1, 0)])
    with pytest.raises(ValueError, match="no 'amount'"):
        request_lines([{"item": "a", "category": "x", "expected_return": 1}])
    with pytest.raises(TypeError):
        request_lines([RequestLine("a", "x", 1.5, 0)])  # type: ignore[arg-type]


def test_requests_vs_allocation() -> None:
    # 1,060,000 requested vs 1,000,000 allocated: +6% > 5% → over, needs a note.
    over = requests_vs_allocation(1_060_000, 1_000_000, 0.05)
    assert over.flag == "over"
    assert over.needs_note
    assert requests_vs_allocation(1_050_000, 1_000_000).flag == "within"
    assert requests_vs_allocation(900_000, 1_000_000).flag == "under"


# --------------------------------------------------------------------------- reserve authority


def test_reserve_decision_ten_percent_is_the_regions_call() -> None:
    # Reserve 100,000.00 = 10,000,000 cents; 10% = 1,000,000 cents.
    assert reserve_decision(1_000_000, 10_000_000) == "region"
    assert reserve_decision(1_000_001, 10_000_000) == "HQ"
    assert reserve_decision(0, 10_000_000) == "region"
    assert reserve_decision(2_000_000, 10_000_000, authority=0.2) == "region"


def test_reserve_limit_is_exact_to_the_minor_unit() -> None:
    # 100 × 0.29 = 28.999999999999996 in binary; the limit is ROUND(…, 6) = 29.
    assert 100 * 0.29 < 29
    assert reserve_decision(29, 100, authority=0.29) == "region"
    assert reserve_decision(30, 100, authority=0.29) == "HQ"
    # Reserve 10,000,000.00 = 1e9 cents: limit 100,000,000 cents; one cent over goes to HQ.
    assert reserve_decision(100_000_000, 1_000_000_000) == "region"
    assert reserve_decision(100_000_001, 1_000_000_000) == "HQ"


@given(st.integers(0, 10**12), st.integers(0, 100), st.integers(-2, 2))
def test_reserve_limit_matches_integer_arithmetic(reserve: int, percent: int, delta: int) -> None:
    # Authority percent/100: the region decides iff 100 × amount ≤ percent × reserve, exactly.
    amount = max(0, percent * reserve // 100 + delta)
    expected = "region" if 100 * amount <= percent * reserve else "HQ"
    assert reserve_decision(amount, reserve, authority=percent / 100) == expected


def test_reserve_decision_zero_reserve_and_errors() -> None:
    assert reserve_decision(0, 0) == "region"
    assert reserve_decision(1, 0) == "HQ"
    with pytest.raises(ValueError):
        reserve_decision(-1, 100)
    with pytest.raises(ValueError):
        reserve_decision(1, 100, authority=1.5)
