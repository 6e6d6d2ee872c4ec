"""PlanNumbers: the plan's numbers, computed once, for the writers, consolidation and tracking.

Checked on the bundled example plan (with its prior-year actuals) against the
plan's own figures (north star 130,000,000.00, budget 9,000,000.00 with a 12%
company reserve and 60/30/10 pools), against the engine functions the writers,
consolidation and tracking called before (so nothing moved by a minor unit), for
a pickle round trip, and for what the engine module imports.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLE, ROOT

from xlplan.engine.budget import split_budget, unit_budgets, unit_pools
from xlplan.engine.decompose import decompose, org_targets, prior_month_profile
from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.phasing import phase_year, profile_from_calendar
from xlplan.i18n import Words
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking.phased_targets import revenue_targets
from xlplan.tracking.spend import budget_lines
from xlplan.workbook.context import BuildContext

NORTH_STAR = 13_000_000_000  # 130,000,000.00 in cents
BUDGET = 900_000_000  # 9,000,000.00


@pytest.fixture(scope="module")
def numbers() -> PlanNumbers:
    loaded = load_plan(EXAMPLE)
    prior = read_prior_year(loaded)
    assert prior is not None  # the example plan splits by last year's actuals too
    return PlanNumbers(loaded.plan, prior)


def test_targets_tie_from_the_north_star_down(numbers: PlanNumbers) -> None:
    tree = numbers.tree
    assert numbers.targets[tree.root] == NORTH_STAR
    assert set(numbers.targets) == set(tree.units)
    for code in tree.walk():
        kids = tree.children[code]
        if kids:
            assert sum(numbers.targets[k] for k in kids) == numbers.targets[code], code
    assert numbers.input_units == ["R-NORTH", "R-NE", "R-NW", "R-SH", "R-JZ", "R-CENTRAL",
                                   "R-GD", "R-FJ", "R-SW"]
    assert sum(numbers.targets[u] for u in numbers.input_units) == NORTH_STAR


def test_cube_ties_to_every_unit_and_every_parent_cell_by_cell(numbers: PlanNumbers) -> None:
    tree = numbers.tree
    shape = (len(numbers.products), len(numbers.channel_leaves), 12)
    assert shape == (12, 4, 12)
    for code in tree.walk():
        cube = numbers.cube[code]
        assert cube.shape == shape and cube.dtype == np.int64 and cube.min() >= 0
        assert int(cube.sum()) == numbers.targets[code], code
        assert numbers.months[code].tolist() == cube.sum(axis=(0, 1)).tolist()
        kids = tree.children[code]
        if kids and code not in numbers.split_units:
            assert np.array_equal(cube, np.sum([numbers.cube[k] for k in kids], axis=0)), code
    assert int(numbers.cube[tree.root].sum()) == NORTH_STAR


def test_a_regions_march_target_follows_the_seasonality(numbers: PlanNumbers) -> None:
    # Q1 takes 28% and March 100 of Q1's 80 + 70 + 100: 2,284,186,402 × 0.28 × 0.4
    # = 255,828,877.0 before rounding; each of the 12 × 4 product-channel cells is
    # phased on its own, so the month is within a minor unit a cell of that.
    region = "R-NORTH"
    march = numbers.fiscal_month(2027, 3)
    assert march == 2
    exact = Fraction(numbers.targets[region]) * Fraction(28, 100) * Fraction(100, 250)
    got = int(numbers.months[region][march])
    assert abs(got - exact) <= len(numbers.products) * len(numbers.channel_leaves)
    assert got == int(numbers.cube[region][:, :, march].sum())


def test_budget_allocation_ties_to_the_budget(numbers: PlanNumbers) -> None:
    alloc = numbers.budget_allocation
    assert alloc is not None
    assert alloc.split.total == BUDGET
    assert alloc.split.company_reserve == 108_000_000  # 12% of 9,000,000.00
    assert alloc.split.distributable == 792_000_000
    assert list(alloc.units) == numbers.input_units
    assert sum(alloc.units.values()) == alloc.split.distributable
    for unit, amount in alloc.units.items():
        share = Fraction(alloc.split.distributable * numbers.targets[unit], NORTH_STAR)
        assert abs(amount - share) < 1, unit  # largest remainder: within a minor unit
        pools = alloc.pools[unit]
        assert sum(pools.values()) == amount
        for name, weight in (("base", Fraction(6, 10)), ("incentive", Fraction(3, 10)),
                             ("reserve", Fraction(1, 10))):
            assert abs(pools[name] - amount * weight) < 1, (unit, name)
        months = numbers.budget_months[unit]
        assert months.dtype == np.int64 and int(months.sum()) == amount


def test_same_numbers_as_the_engine_functions_used_before(numbers: PlanNumbers) -> None:
    """What BuildContext, consolidation's views and tracking's spend computed themselves."""
    plan, prior = numbers.plan, numbers.prior
    assert numbers.targets == org_targets(plan, prior)
    level = decompose(plan, prior, level=numbers.input_level)
    assert level.units == numbers.input_units
    assert level.products == numbers.products and level.channels == numbers.channel_leaves
    assert np.array_equal(level.cube, np.stack([numbers.cube[u] for u in numbers.input_units]))
    assert numbers.profile == profile_from_calendar(plan.calendar, prior_month_profile(prior))
    assert numbers.product_weights == level.product_weights
    budget = plan.budget
    assert budget is not None
    split = split_budget(BUDGET, budget.company_reserve, budget.pools)
    units = unit_budgets(split.distributable, {u: numbers.targets[u]
                                               for u in numbers.input_units})
    alloc = numbers.budget_allocation
    assert alloc is not None
    assert alloc.split == split and alloc.units == units
    assert alloc.pools == {u: dict(unit_pools(a, budget.pools)) for u, a in units.items()}
    phased = phase_year(np.array(list(units.values()), dtype=np.int64), numbers.profile)
    assert np.array_equal(np.stack([numbers.budget_months[u] for u in units]), phased)


def test_tracking_reads_the_same_numbers(numbers: PlanNumbers) -> None:
    targets = revenue_targets(numbers.plan, numbers.prior)
    assert targets.annual == numbers.targets
    for unit in numbers.tree.units:
        assert targets.months[unit].tolist() == numbers.months[unit].tolist()
        days = targets.days[unit]
        for m in range(12):
            span = targets.calendar.month_span(m)
            assert int(days[span.first:span.last + 1].sum()) == int(numbers.months[unit][m])
    alloc = numbers.budget_allocation
    assert alloc is not None
    lines = {ln.key: ln for ln in budget_lines(targets) if ln.kind == "unit"}
    assert list(lines) == numbers.input_units
    for unit, line in lines.items():
        assert line.budget.tolist() == numbers.budget_months[unit].tolist()
        assert line.reserve == alloc.pools[unit]["reserve"]


def _computed(numbers: PlanNumbers) -> dict[str, Any]:
    """Every number, arrays as lists so that ``==`` compares them whole."""
    out: dict[str, Any] = {}
    for name in ("tree", "input_level", "input_units", "targets", "bridge", "channels",
                 "products", "channel_leaves", "product_weights", "profile", "split_units",
                 "budget_allocation"):
        out[name] = getattr(numbers, name)
    for name in ("cube", "months", "budget_months"):
        out[name] = {u: a.tolist() for u, a in getattr(numbers, name).items()}
    return out


def test_pickle_round_trip_keeps_every_number(numbers: PlanNumbers) -> None:
    numbers.compute_all()
    copy = pickle.loads(pickle.dumps(numbers, protocol=pickle.HIGHEST_PROTOCOL))
    kept = set(vars(copy))
    # the copy arrives with the numbers computed: a process that receives it computes none
    assert {"targets", "cube", "budget_allocation", "bridge", "profile"} <= kept
    assert copy.plan == numbers.plan
    assert _computed(copy) == _computed(numbers)


def test_build_context_reads_the_numbers_through(numbers: PlanNumbers) -> None:
    ctx = BuildContext(load_plan(EXAMPLE), numbers.prior, numbers=numbers)
    assert ctx.numbers is numbers
    assert ctx.targets is numbers.targets and ctx.tree is numbers.tree
    assert ctx.budget_allocation is numbers.budget_allocation
    fresh = BuildContext(load_plan(EXAMPLE), numbers.prior)
    fresh.compute_all()
    computed = set(vars(fresh.numbers))
    # what writers read is computed before the build processes start; the whole cube not
    assert {"targets", "tree", "bridge", "channels", "product_weights", "profile",
            "budget_allocation", "input_units"} <= computed
    assert "cube" not in computed
    assert fresh.targets == numbers.targets and Words("en")(fresh.month_labels[2]) == "Mar 2027"


FORBIDDEN = ("xlplan.workbook", "xlplan.consolidate", "xlplan.tracking", "xlplan.cli",
             "xlplan.commands", "duckdb", "openpyxl", "xlsxwriter")


def test_the_engine_module_imports_nothing_of_the_writers_or_readers() -> None:
    script = "import sys, xlplan.engine.numbers; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    modules = done.stdout.split()
    assert "xlplan.engine.numbers" in modules
    bad = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []
