"""The XLPLAN_* functions: importable without Excel, plain callables, the engine's numbers.

Hand-worked cases come from docs/METHOD.md (and the engine's own docstrings); random
inputs (hypothesis) are checked against the engine's *scalar* reference
functions and independent sums, to the cent and shape for shape.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlplan import udf_core
from xlplan.engine.allocate import allocate_rows
from xlplan.engine.bsc import kpi_score
from xlplan.engine.okr import kr_progress, objective_progress
from xlplan.engine.phasing import FOUR_FOUR_FIVE, Profile, phase_year
from xlplan.engine.variance import attainment, status
from xlplan.spec.models import StatusBands
from xlplan.udfs import (
    FUNCTIONS,
    XLPLAN_ALLOCATE,
    XLPLAN_ATTAINMENT,
    XLPLAN_BSC_SCORE,
    XLPLAN_KR_PROGRESS,
    XLPLAN_OKR_PROGRESS,
    XLPLAN_ROLLUP,
    XLPLAN_SPREAD,
    XLPLAN_STATUS,
    XLPLAN_VARIANCE,
)

CENT = 0.005
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def flat(block: list[list[Any]]) -> list[Any]:
    return [x for row in block for x in row]


def shape(block: list[list[Any]]) -> tuple[int, int]:
    assert len({len(row) for row in block}) == 1, "ragged result"
    return len(block), len(block[0])


def to_the_cent(got: list[list[Any]], expected: np.ndarray) -> None:
    assert shape(got) == expected.shape
    for g, e in zip(flat(got), expected.ravel().tolist(), strict=True):
        assert isinstance(g, float), g
        assert abs(g - e) < CENT, (g, e)


def cell(x: float) -> float | str:
    """The engine's NaN as a worksheet cell shows it."""
    return "" if math.isnan(x) else x


# --------------------------------------------------------------------------- import


def test_import_works_without_excel_and_functions_are_plain_callables() -> None:
    code = ("import sys, xlplan.udfs as u; "
            "r = u.XLPLAN_ALLOCATE(100, [[1, 1, 1]], 1); "
            "assert r == [[34.0, 33.0, 33.0]], r; "
            "assert 'xlwings' in sys.modules; "
            "heavy = {'duckdb', 'openpyxl', 'xlsxwriter', 'python_calamine', 'typer', 'rich'}; "
            "print(sorted(heavy & set(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"  # docs/DESIGN.md principle 7: nothing heavier than pandas


def test_every_function_is_registered_once_and_has_its_core() -> None:
    assert list(FUNCTIONS) == list(udf_core.CORE)
    for name, face in FUNCTIONS.items():
        assert face.__name__ == name and callable(face)
        assert face.__doc__ and len(face.__doc__) < 256  # Excel shows it as the description


# --------------------------------------------------------------------------- hand-worked


def test_allocate_hundred_over_three() -> None:
    # docs/METHOD.md: 100 over 1:1:1 in whole units is 34/33/33, the extra unit to the first
    assert XLPLAN_ALLOCATE(100, [[1, 1, 1]], 1) == [[34.0, 33.0, 33.0]]
    # the default step is the cent: 33.33 each, the cent left over to the first
    assert XLPLAN_ALLOCATE(100, [[1, 1, 1]]) == [[33.34, 33.33, 33.33]]
    # a column of weights gives a column
    assert XLPLAN_ALLOCATE([[100]], [[1], [1], [1]], [[1]]) == [[34.0], [33.0], [33.0]]


def test_allocate_domain_examples() -> None:
    # a quarter of 2,500,000 → Jan 800,000, Feb 700,000, Mar 1,000,000
    assert XLPLAN_ALLOCATE(2_500_000, [[80, 70, 100]]) == [[800_000.0, 700_000.0, 1_000_000.0]]
    # the pyramid: 100,000,000 → sales 60,000,000 (60:40) → East 30,000,000 → 15 reps 2,000,000
    assert XLPLAN_ALLOCATE(100_000_000, [[60, 40]]) == [[60_000_000.0, 40_000_000.0]]
    assert XLPLAN_ALLOCATE(30_000_000, [[1] * 15]) == [[2_000_000.0] * 15]


def test_allocate_many_totals_holds_and_a_row_of_totals() -> None:
    assert XLPLAN_ALLOCATE([[100], [10]], [[1, 1, 1]], 1) == [[34.0, 33.0, 33.0],
                                                             [4.0, 3.0, 3.0]]
    # a held child keeps its amount; the rest is split over the others
    assert XLPLAN_ALLOCATE(100, [[1, 1, 1]], 1, [[None, 50, None]]) == [[25.0, 50.0, 25.0]]
    # totals across a row: each column of the result splits one total
    assert XLPLAN_ALLOCATE([[100, 10]], [[1], [1], [1]], 1) == [[34.0, 4.0], [33.0, 3.0],
                                                               [33.0, 3.0]]


def test_spread_domain_examples() -> None:
    # annual 100,000,000 → monthly 8,333,333.33 (to the cent; four months carry a cent more)
    months = flat(XLPLAN_SPREAD(100_000_000, "months"))
    assert months == [8_333_333.34] * 4 + [8_333_333.33] * 8
    # the example quarter profile 28% / 32% / 27% / 13%
    assert XLPLAN_SPREAD(10_000_000, [[28, 32, 27, 13]]) == [[2_800_000.0, 3_200_000.0,
                                                              2_700_000.0, 1_300_000.0]]
    assert XLPLAN_SPREAD(2_500_000, [[80], [70], [100]]) == [[800_000.0], [700_000.0],
                                                             [1_000_000.0]]
    # 4-4-5: equal quarters, then weeks 4:4:5 within each
    assert flat(XLPLAN_SPREAD(1300, "4-4-5")) == [100.0, 100.0, 125.0] * 4
    assert XLPLAN_SPREAD([[100], [200]], "quarters") == [[25.0] * 4, [50.0] * 4]


def test_rollup_of_the_pyramid() -> None:
    reps = [f"E{i:02d}" for i in range(15)]
    codes = ["CO", "SALES", "OTHER", "EAST", "WEST", *reps]
    parents = ["", "CO", "CO", "SALES", "SALES", *["EAST"] * 15]
    own = [None, None, 40_000_000, None, 30_000_000, *[2_000_000] * 15]
    got = flat(XLPLAN_ROLLUP([[c] for c in codes], [[p] for p in parents], [[v] for v in own]))
    total = dict(zip(codes, got, strict=True))
    assert total["EAST"] == 30_000_000 and total["SALES"] == 60_000_000
    assert total["CO"] == 100_000_000 and total["OTHER"] == 40_000_000
    assert total["E00"] == 2_000_000


def test_rollup_rows_in_any_order_padding_and_several_columns() -> None:
    codes = [["b"], ["a"], [None], ["c"]]
    parents = [["a"], [None], [None], ["a"]]
    values = [[1.5, 10], [None, None], [None, None], [2.25, 20]]
    assert XLPLAN_ROLLUP(codes, parents, values) == [[1.5, 10.0], [3.75, 30.0], ["", ""],
                                                     [2.25, 20.0]]


def test_variance_attainment_and_lights() -> None:
    assert XLPLAN_VARIANCE([[105, None]], [[100, 100]]) == [[5.0, ""]]
    assert XLPLAN_ATTAINMENT(95, 100) == [[0.95]]
    # lower is better: CAC 220 against 200 costs 10 points of attainment
    assert XLPLAN_ATTAINMENT(220, 200, "lower") == [[pytest.approx(0.9)]]
    assert XLPLAN_ATTAINMENT(10, 0) == [[""]]  # no attainment against a zero plan
    # 95% is the bar: exactly 5% short is still green; 15% short yellow; 30% orange
    assert XLPLAN_STATUS([[95, 85, 84, 70, 69, None]], 100) == [["G", "Y", "O", "O", "R", ""]]
    assert XLPLAN_STATUS(90, 100, None, [[0.1, 0.2, 0.3]]) == [["G"]]
    # per-row directions: 10% over plan is ahead when higher is better, 10% short when lower
    assert XLPLAN_STATUS([[110], [110]], [[100], [100]], [["higher"], ["lower"]]) == [["G"],
                                                                                     ["Y"]]


def test_okr_progress() -> None:
    # repurchase 30% → 40%, now 33%: 0.3; lead time 10 → 5 days, now 8: 0.4; no reading: 0
    got = XLPLAN_KR_PROGRESS([[0.30], [10], [0]], [[0.40], [5], [6]], [[0.33], [8], [None]])
    assert got == [[pytest.approx(0.3)], [pytest.approx(0.4)], [0.0]]
    assert XLPLAN_OKR_PROGRESS([[0.3, 0.4]], [[0.5, 0.5]]) == [[pytest.approx(0.35)]]
    # one objective per row; blank pairs are not key results
    assert XLPLAN_OKR_PROGRESS([[0.5, 1.0, None], [0.2, None, None]],
                               [[1, 3, None], [1, None, None]]) == [[0.875], [0.2]]


def test_bsc_scores() -> None:
    # CAC 220 against target 200, floor 400 (twice the target): 10 × 180/200 = 9
    assert XLPLAN_BSC_SCORE(220, 200, None, "lower") == [[pytest.approx(9.0)]]
    # repurchase 24% against 30% from 0: 8; over target scores 10, not more
    assert XLPLAN_BSC_SCORE([[0.24, 0.45]], 0.30, None, "higher") == [[pytest.approx(8.0),
                                                                      10.0]]
    assert XLPLAN_BSC_SCORE(None, 200, 400, "lower") == [[""]]  # not scored, not 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("function", "args", "says"), [
    (XLPLAN_ALLOCATE, (100, [[1, "abc", 1]]), "weights (row 1, column 2) is 'abc'"),
    (XLPLAN_ALLOCATE, (100, [[1, 1], [1, 1]]), "weights must be one row or one column"),
    (XLPLAN_ALLOCATE, (-5, [[1, 1]]), "must not be negative"),
    (XLPLAN_ALLOCATE, (100, [[0, 0]]), "weights sum to zero"),
    (XLPLAN_ALLOCATE, (100, [[1, 1]], 0), "rounding_step must be positive"),
    (XLPLAN_ALLOCATE, (100, [[1, True]]), "is True: expected a number"),
    (XLPLAN_SPREAD, (100, "weeks"), "expected weights or one of quarters, months, 4-4-5"),
    (XLPLAN_ROLLUP, ([["a"], ["b"]], [["b"], ["a"]], [[1], [2]]), "cycle"),
    (XLPLAN_ROLLUP, ([["a"], ["a"]], [[None], [None]], [[1], [2]]), "appears twice"),
    (XLPLAN_ROLLUP, ([["a"], ["b"]], [[None], ["z"]], [[1], [2]]), "unknown parent 'z'"),
    (XLPLAN_VARIANCE, ([[1, 2, 3]], [[1, 2]]), "do not fit together"),
    (XLPLAN_STATUS, (90, 100, "sideways"), "expected higher or lower"),
    (XLPLAN_STATUS, (90, 100, None, [[0.3, 0.2, 0.1]]), "yellow ≤ orange ≤ red"),
    (XLPLAN_OKR_PROGRESS, ([[0.5, 0.2]], [[1, None]]), "has progress but no weight"),
    (XLPLAN_BSC_SCORE, (5, 10, 20, "higher"), "wrong side of its target"),
])
def test_bad_arguments_give_a_clear_message_not_a_traceback(
        function: Callable[..., Any], args: tuple[Any, ...], says: str) -> None:
    got = function(*args)
    assert shape(got) == (1, 1)
    message = got[0][0]
    assert isinstance(message, str)
    assert message.startswith(f"#VALUE! {function.__name__}: "), message
    assert says in message, message
    assert "Traceback" not in message


def test_an_error_cell_in_an_argument_comes_back_as_that_error() -> None:
    assert XLPLAN_ALLOCATE(100, [[1, "#N/A", 1]]) == [["#N/A"]]
    assert XLPLAN_VARIANCE([["#DIV/0!"]], 100) == [["#DIV/0!"]]
    assert XLPLAN_ROLLUP([["#REF!"]], [[None]], [[1]]) == [["#REF!"]]


def test_an_unexpected_failure_is_still_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(udf_core, "variance", broken)
    assert XLPLAN_VARIANCE(1, 1) == [["#VALUE! XLPLAN_VARIANCE: unexpected ZeroDivisionError: "
                                      "boom"]]


# --------------------------------------------------------------------------- random inputs

CENTS = st.integers(min_value=0, max_value=10**12)
WEIGHT = st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda x: round(x, 6))


def weights_strategy(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[list[float]]:
    return st.lists(WEIGHT, min_size=min_size, max_size=max_size).filter(
        lambda w: math.fsum(w) > 0)


@SETTINGS
@given(totals=st.lists(CENTS, min_size=1, max_size=5), weights=weights_strategy(),
       step=st.sampled_from([1, 100, 10_000]), column=st.booleans())
def test_allocate_is_the_engine_to_the_cent(totals: list[int], weights: list[float], step: int,
                                            column: bool) -> None:
    expected = allocate_rows(totals, weights, step=step) / 100
    if len(totals) == 1:  # one total: the result runs along the weights
        w = [[x] for x in weights] if column else [weights]
        got = XLPLAN_ALLOCATE(totals[0] / 100, w, step / 100)
        to_the_cent(got, expected.T if column else expected)
        assert abs(math.fsum(flat(got)) - totals[0] / 100) < CENT  # ties to the total
    else:  # a column of totals, one row of weights for all
        got = XLPLAN_ALLOCATE([[t / 100] for t in totals], [weights], step / 100)
        to_the_cent(got, expected)
        for row, total in zip(got, totals, strict=True):
            assert abs(math.fsum(row) - total / 100) < CENT


@SETTINGS
@given(amounts=st.lists(CENTS, min_size=1, max_size=4),
       kind=st.sampled_from(["quarters4", "months12", "q+m16", "plain", "4-4-5"]),
       data=st.data())
def test_spread_is_the_engine_to_the_cent(amounts: list[int], kind: str,
                                          data: st.DataObject) -> None:
    profile: Any
    if kind == "quarters4":
        w = data.draw(weights_strategy(4, 4))
        expected, profile = allocate_rows(amounts, w), [w]
    elif kind == "months12":
        w = data.draw(weights_strategy(12, 12))
        expected, profile = phase_year(amounts, Profile(None, tuple(w))), [w]
    elif kind == "q+m16":
        q = data.draw(weights_strategy(4, 4))
        m = [x for _ in range(4) for x in data.draw(weights_strategy(3, 3))]
        expected, profile = phase_year(amounts, Profile(tuple(q), tuple(m))), [q + m]
    elif kind == "plain":
        w = data.draw(weights_strategy(1, 7).filter(lambda x: len(x) not in (12, 16)))
        expected, profile = allocate_rows(amounts, w), [w]
    else:
        expected = phase_year(amounts, Profile((1.0,) * 4, FOUR_FOUR_FIVE * 4))
        profile = "4-4-5"
    got = XLPLAN_SPREAD([[a / 100] for a in amounts], profile)
    to_the_cent(got, expected / 100)


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[str], list[str], list[float]]:
    n = draw(st.integers(min_value=1, max_value=30))
    parents = [""] + [f"n{draw(st.integers(0, i - 1))}" for i in range(1, n)]
    values = draw(st.lists(st.integers(0, 10**9).map(lambda c: c / 100), min_size=n, max_size=n))
    codes = [f"n{i}" for i in range(n)]
    order = draw(st.permutations(range(n)))  # rows in any order
    return ([codes[i] for i in order], [parents[i] for i in order], [values[i] for i in order])


@SETTINGS
@given(tree=trees())
def test_rollup_is_each_nodes_subtree_sum(tree: tuple[list[str], list[str], list[float]]) -> None:
    codes, parents, values = tree
    got = flat(XLPLAN_ROLLUP([[c] for c in codes], [[p] for p in parents],
                             [[v] for v in values]))
    parent_of = dict(zip(codes, parents, strict=True))
    for code, total in zip(codes, got, strict=True):
        under = []
        for other, value in zip(codes, values, strict=True):
            node = other
            while node and node != code:
                node = parent_of[node]
            if node == code:
                under.append(value)
        assert abs(total - sum(under)) < CENT


MAYBE = st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
POSITIVE = st.floats(min_value=0.01, max_value=1e9, allow_nan=False)
# plans as budgets are: none yet, zero, or at least a cent (a plan of 1e-168 makes the engine's
# scalar status() overflow Decimal's precision in excel_round; the array version copes)
PLAN = st.one_of(st.none(), st.just(0.0), POSITIVE, POSITIVE.map(lambda x: -x))


@st.composite
def blocks(draw: st.DrawFn, *elements: st.SearchStrategy[Any]) -> list[list[list[Any]]]:
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return [draw(st.lists(st.lists(e, min_size=cols, max_size=cols), min_size=rows,
                          max_size=rows)) for e in elements]


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


@SETTINGS
@given(b=blocks(MAYBE, PLAN, st.sampled_from(["higher", "lower", None])))
def test_variance_attainment_status_are_the_engine_cell_by_cell(
        b: list[list[list[Any]]]) -> None:
    actual, plan, direction = b
    var = XLPLAN_VARIANCE(actual, plan)
    att = XLPLAN_ATTAINMENT(actual, plan, direction)
    bands = StatusBands(yellow=0.05, orange=0.2, red=0.4)
    light = XLPLAN_STATUS(actual, plan, direction, [[0.05, 0.2, 0.4]])
    assert shape(var) == shape(att) == shape(light) == (len(actual), len(actual[0]))
    for r, row in enumerate(actual):
        for c, a in enumerate(row):
            p, d = plan[r][c], direction[r][c] or "higher"
            expected_var = _num(a) - _num(p)
            assert var[r][c] == cell(expected_var) or abs(var[r][c] - expected_var) < CENT
            ratio = attainment(_num(a), _num(p), d)
            assert att[r][c] == cell(ratio) or att[r][c] == pytest.approx(ratio, rel=1e-12)
            assert light[r][c] == status(ratio, bands)


@SETTINGS
@given(b=blocks(MAYBE, MAYBE, MAYBE))
def test_kr_progress_is_the_engine_cell_by_cell(b: list[list[list[Any]]]) -> None:
    start, target, current = b
    got = XLPLAN_KR_PROGRESS(start, target, current)
    assert shape(got) == (len(start), len(start[0]))
    for r, row in enumerate(start):
        for c, s in enumerate(row):
            expected = kr_progress(_num(s), _num(target[r][c]), _num(current[r][c]))
            assert got[r][c] == cell(expected) or got[r][c] == pytest.approx(expected, rel=1e-12)


@SETTINGS
@given(b=blocks(st.floats(0, 1), st.floats(0, 10).map(lambda x: round(x, 3))))
def test_okr_progress_is_the_engine_per_objective(b: list[list[list[Any]]]) -> None:
    progress, weights = b
    got = XLPLAN_OKR_PROGRESS(progress, weights)
    if len(progress) == 1 or len(progress[0]) == 1:  # one objective
        expected = [objective_progress(flat(progress), flat(weights))]
    else:
        expected = [objective_progress(p, w) for p, w in zip(progress, weights, strict=True)]
    assert shape(got) == (len(expected), 1)
    for g, e in zip(flat(got), expected, strict=True):
        assert g == pytest.approx(e, rel=1e-12)


@SETTINGS
@given(b=blocks(MAYBE, POSITIVE, st.sampled_from([None, 0.0, 3e9]),
                st.sampled_from(["higher", "lower"])))
def test_bsc_score_is_the_engine_cell_by_cell(b: list[list[list[Any]]]) -> None:
    actual, target, floor, direction = b
    # a floor must sit on the right side of the target: 0 for higher, far above for lower
    floor = [[None if (f is not None and (f > t) != (d == "lower")) else f
              for f, t, d in zip(fr, tr, dr, strict=True)]
             for fr, tr, dr in zip(floor, target, direction, strict=True)]
    got = XLPLAN_BSC_SCORE(actual, target, floor, direction)
    assert shape(got) == (len(actual), len(actual[0]))
    for r, row in enumerate(actual):
        for c, a in enumerate(row):
            f = floor[r][c]
            expected = kpi_score(_num(a), target[r][c], f, direction[r][c])
            assert got[r][c] == cell(expected) or got[r][c] == pytest.approx(expected, abs=1e-9)


def test_numpy_arrays_and_flat_lists_are_accepted_too() -> None:
    """Plain Python callers may pass arrays or flat lists (a flat list is one row)."""
    assert XLPLAN_ALLOCATE(np.float64(100), np.array([1.0, 1.0, 1.0]), 1) == [[34.0, 33.0,
                                                                              33.0]]
    assert XLPLAN_VARIANCE([3, 4], [1, 1]) == [[2.0, 3.0]]


def test_rollup_of_whole_numbers_takes_the_integer_road_with_the_same_bits() -> None:
    """Amounts in minor units are summed in int64 up the tree; the result must equal the
    fsum road's bit for bit (whole numbers below 2^53 are exact either way)."""
    import random

    from xlplan.engine import rollup as r

    rng = random.Random(7)
    codes = [f"N{i}" for i in range(400)]
    parents = [None] + [f"N{rng.randrange(i)}" for i in range(1, 400)]
    whole = np.array([[rng.randrange(10**9) for _ in range(12)] for _ in codes], dtype=float)
    assert r._whole_and_small(whole) and not r._whole_and_small(whole + 0.5)
    members = r.subtrees(r.parent_index(codes, parents))
    fsummed = np.array([[math.fsum(whole[i, j] for i in rows) for j in range(12)]
                        for rows in members])
    assert np.array_equal(r.rollup(codes, parents, whole), fsummed)
    assert np.array_equal(r.rollup(codes[::-1], parents[::-1], whole[::-1]), fsummed[::-1])
