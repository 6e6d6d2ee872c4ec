"""Phasing and the full decomposition: docs/METHOD.md's onion, and ties at every level."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.engine.decompose import decompose
from xlplan.engine.increment import bridge
from xlplan.engine.phasing import Profile, phase_year, quarters_of, selling_day_weights
from xlplan.spec.loader import LoadedPlan
from xlplan.spec.models import Plan
from xlplan.tracking.calendar import FiscalCalendar
from xlplan.tracking.phased_targets import split_days

ONION = {
    "id": "onion", "name": "Onion", "fiscal_year": 2027,
    "currency": {"code": "CNY", "smallest_unit": 1},
    "north_star": {"baseline": 80_000_000, "target": 100_000_000},
    "units": [{"code": "CO", "name": "Company"}],
    "products": [{"code": "CORE", "name": "Core products", "mix": 0.6, "price": 2500},
                 {"code": "SERV", "name": "Derived services", "mix": 0.4, "price": 16650}],
    "channels": [
        {"code": "ONLINE", "name": "Online", "share": 0.7},
        {"code": "OFFLINE", "name": "Offline", "share": 0.3},
        {"code": "LIVE", "name": "Livestream", "parent": "ONLINE", "share": 0.5714285714},
        {"code": "MARKET", "name": "Marketplace", "parent": "ONLINE", "share": 0.4285714286},
        {"code": "DIST", "name": "Distributors", "parent": "OFFLINE", "share": 0.6666666667},
        {"code": "STORE", "name": "Own stores", "parent": "OFFLINE", "share": 0.3333333333},
    ],
    "calendar": {"method": "months", "month_weights": [1] * 12, "normalise": True},
}


def test_onion_layers_of_the_hundred_million_example() -> None:
    dec = decompose(Plan.model_validate(ONION))
    cube = dec.cube[0]  # products × channels × months
    assert dec.channels == ["LIVE", "MARKET", "DIST", "STORE"]
    # financial layer: 100,000,000 / 12 → 8,333,333 (four months carry one extra unit)
    monthly = phase_year([dec.org_targets["CO"]], dec.profile)[0]
    assert sorted(set(monthly.tolist())) == [8_333_333, 8_333_334]
    assert int(cube.sum()) == 100_000_000
    # business layer: core = 60% = 2,000 units × 2,500 = 5,000,000 a month
    core = cube[0].sum(axis=0)
    assert set(core.tolist()) == {5_000_000}
    # channel layer, core product, a month: online 3,500,000 = livestream 2,000,000 +
    # marketplace 1,500,000; offline 1,500,000 = distributors 1,000,000 + own stores 500,000
    assert cube[0, :, 0].tolist() == [2_000_000, 1_500_000, 1_000_000, 500_000]
    # services ≈ 200 orders × 16,650 = 3,330,000 (3,333,333 with the exact 40%)
    assert abs(int(cube[1].sum(axis=0)[4]) - 200 * 16_650) < 5_000


def test_quarter_profile_then_months_within(small: LoadedPlan) -> None:
    # small plan: Q1 weights 80/70/100 (Jan/Feb/Mar), quarters 28/32/27/13
    months = phase_year([1_000_000_000], Profile((0.28, 0.32, 0.27, 0.13),
                                                 (80, 70, 100, *[1] * 9)))
    assert quarters_of(months).tolist() == [[280_000_000, 320_000_000, 270_000_000,
                                             130_000_000]]
    assert months[0, :3].tolist() == [89_600_000, 78_400_000, 112_000_000]


def test_days_and_weeks_tie_to_the_month() -> None:
    cal = FiscalCalendar(2027, 1)
    weights = [np.asarray(selling_day_weights(y, m, [0, 1, 2, 3, 4, 5], [dt.date(2027, 1, 1)])[1])
               for y, m in cal.months]
    months = np.array([[800_000, *[0] * 11]], dtype=np.int64)
    days = dict(zip(cal.days, split_days(months, weights, cal)[0].tolist(), strict=True))
    january = {d: a for d, a in days.items() if d.month == 1}
    assert sum(january.values()) == 800_000
    assert days[dt.date(2027, 1, 1)] == 0  # holiday
    assert days[dt.date(2027, 1, 3)] == 0  # Sunday, not a selling day
    # 25 selling days: 800,000 / 25 = 32,000 each, exactly
    assert {a for a in january.values() if a} == {32_000}
    weeks = [sum(days[d] for d in cal.days[w.first:w.last + 1]) for w in cal.weeks]
    assert sum(weeks) == 800_000
    # the first week is cut at the year's start (Fri 1 holiday, Sat 2 sells, Sun 3 closed)
    assert weeks[:6] == [32_000, 6 * 32_000, 6 * 32_000, 6 * 32_000, 6 * 32_000, 0]


def test_every_margin_ties(small: LoadedPlan) -> None:
    dec = decompose(small.plan)
    t = dec.org_targets
    assert t["CO"] == 1_300_000_000
    assert t["EAST"] + t["WEST"] == t["CO"]
    assert t["EAST-1"] + t["EAST-2"] == t["EAST"]
    assert dec.cube.sum(axis=(1, 2, 3)).tolist() == [t[u] for u in dec.units]
    regional = decompose(small.plan, level=1)
    assert regional.units == ["EAST", "WEST"]
    assert regional.cube.sum(axis=(1, 2, 3)).tolist() == [t["EAST"], t["WEST"]]


def test_example_plan_decomposes_and_ties(example: LoadedPlan) -> None:
    from xlplan.spec.prior_year import read_prior_year

    prior = read_prior_year(example)
    dec = decompose(example.plan, prior)
    assert int(dec.cube.sum()) == 13_000_000_000  # 130,000,000.00 in cents
    assert dec.cube.min() >= 0


def test_bridge_shows_the_uncovered_gap(small: LoadedPlan) -> None:
    b = bridge(small.plan)
    # 13,000,000 − 10,000,000 = 3,000,000 increment of revenue; levers 1,200,000 + 1,000,000;
    # the 500,000 supply-chain saving is a cost lever: a profit increment, listed apart
    assert (b.increment, b.covered, b.gap) == (300_000_000, 220_000_000, 80_000_000)
    assert [(s.id, s.amount) for s in b.apart] == [("L3", 50_000_000)]
    steps = b.steps()
    assert steps[0].amount + sum(s.amount for s in steps[1:-1]) == steps[-1].amount


@settings(max_examples=150, deadline=None)
@given(total=st.integers(0, 10**12),
       quarters=st.lists(st.floats(0.01, 100), min_size=4, max_size=4),
       within=st.lists(st.floats(0.01, 100), min_size=12, max_size=12))
def test_phasing_is_exact_at_every_level(total: int, quarters: list[float],
                                         within: list[float]) -> None:
    months = phase_year([total], Profile(tuple(quarters), tuple(within)))
    assert int(months.sum()) == total
    q = quarters_of(months)[0]
    direct = phase_year([total], Profile(tuple(quarters), (1.0,) * 12))
    assert q.tolist() == quarters_of(direct)[0].tolist()  # quarter split independent of months
    assert np.all(months >= 0)


def test_efficiency_levers_cover_a_profit_increment(small: LoadedPlan) -> None:
    """docs/METHOD.md: operating efficiency counts toward a profit increment."""
    profit = small.plan.model_copy(update={"north_star": small.plan.north_star.model_copy(
        update={"metric": "gross_profit"})})
    b = bridge(profit)
    assert (b.covered, b.gap, b.apart) == (270_000_000, 30_000_000, [])
