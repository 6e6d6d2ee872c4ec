"""The ``XLPLAN_*`` Excel functions: xlwings decorators over :mod:`xlplan.udf_core`.

This module is only the face: names, argument descriptions and xlwings
options. The logic (checking arguments, calling the engine, shaping results)
is in :mod:`xlplan.udf_core`, so there is one copy of it for every runtime:

* **classic xlwings add-in** (Windows): ``UDF Modules`` = ``xlplan.udfs`` in
  ``xlwings.conf`` (``xlplan addin conf`` writes it), then *Import Functions*;
* **xlwings Lite** (Windows, Mac, Excel on the web): ``xlplan addin lite``
  writes a ``main.py`` that bundles xlplan and imports these functions;
* **plain Python**: outside those runtimes (Linux, the tests, ``xlplan
  recalc``) xlwings' decorators return the function unchanged, so
  ``XLPLAN_ALLOCATE(100, [1, 1, 1], 1)`` is an ordinary call.

Argument names are Excel's too, and classic xlwings writes them into VBA,
so none may be a VBA keyword: the allocation step is ``rounding_step`` (as in
the plan file), not ``step``.

Every range argument is read with ``ndim=2`` (always a list of rows, even for
one cell) and ``err_to_str=True`` (an error cell arrives as ``"#N/A"`` and is
returned as such). Results are lists of rows, which spill. The docstrings are
the descriptions Excel shows, so they speak to the person typing the formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xlwings import arg, func

from xlplan import udf_core as core
from xlplan.udf_core import Grid

CATEGORY = "xlplan"
RANGE: dict[str, Any] = {"ndim": 2, "err_to_str": True}


@func(category=CATEGORY)
@arg("total", doc="The amount to split: one cell, or a column of totals.", **RANGE)
@arg("weights", doc="The weights: one row or column (or one row per total).", **RANGE)
@arg("rounding_step", doc="Optional. Amounts are multiples of this (default 0.01).", **RANGE)
@arg("holds", doc="Optional. Fixed amounts, same shape as the result; blank = not held.",
     **RANGE)
def XLPLAN_ALLOCATE(total: Any, weights: Any, rounding_step: Any = None,
                    holds: Any = None) -> Grid:
    """Splits a total over weights so that the parts add up exactly to the total."""
    return core.call("XLPLAN_ALLOCATE", core.allocate, total, weights, rounding_step, holds)


@func(category=CATEGORY)
@arg("amount", doc="The amount to spread: one cell, or a column of amounts.", **RANGE)
@arg("profile", doc='Period weights (4 quarters, 12 months, 4+12) or "quarters", '
                    '"months", "4-4-5".', **RANGE)
def XLPLAN_SPREAD(amount: Any, profile: Any) -> Grid:
    """Spreads an amount over periods (quarters, months, 4-4-5), exact to the cent."""
    return core.call("XLPLAN_SPREAD", core.spread, amount, profile)


@func(category=CATEGORY)
@arg("codes", doc="The node codes: one column.", **RANGE)
@arg("parents", doc="Each node's parent code; blank for a top node.", **RANGE)
@arg("values", doc="Each node's own value (one or more columns); blank = 0.", **RANGE)
def XLPLAN_ROLLUP(codes: Any, parents: Any, values: Any) -> Grid:
    """Totals every node of a tree: its own value plus everything below it."""
    return core.call("XLPLAN_ROLLUP", core.rollup, codes, parents, values)


@func(category=CATEGORY)
@arg("actual", doc="Actual values.", **RANGE)
@arg("plan", doc="Plan values (same size, or one cell).", **RANGE)
def XLPLAN_VARIANCE(actual: Any, plan: Any) -> Grid:
    """Actual minus plan, cell by cell (blank if either is blank)."""
    return core.call("XLPLAN_VARIANCE", core.variance, actual, plan)


@func(category=CATEGORY)
@arg("actual", doc="Actual values.", **RANGE)
@arg("plan", doc="Plan values (same size, or one cell).", **RANGE)
@arg("direction", doc='Optional. "higher" (default) or "lower" is better; one or per cell.',
     **RANGE)
def XLPLAN_ATTAINMENT(actual: Any, plan: Any, direction: Any = None) -> Grid:
    """Attainment: actual / plan, or 2 - actual / plan when lower is better."""
    return core.call("XLPLAN_ATTAINMENT", core.attainment, actual, plan, direction)


@func(category=CATEGORY)
@arg("actual", doc="Actual values.", **RANGE)
@arg("plan", doc="Plan values (same size, or one cell).", **RANGE)
@arg("direction", doc='Optional. "higher" (default) or "lower" is better.', **RANGE)
@arg("bands", doc="Optional. Shortfalls for yellow, orange, red (default 0.05, 0.15, 0.3).",
     **RANGE)
def XLPLAN_STATUS(actual: Any, plan: Any, direction: Any = None, bands: Any = None) -> Grid:
    """The traffic light of each attainment: G, Y, O or R (blank without one)."""
    return core.call("XLPLAN_STATUS", core.status, actual, plan, direction, bands)


@func(category=CATEGORY)
@arg("start", doc="Each key result's start value.", **RANGE)
@arg("target", doc="Each key result's target value.", **RANGE)
@arg("current", doc="Each key result's current value (blank = no reading, 0%).", **RANGE)
def XLPLAN_KR_PROGRESS(start: Any, target: Any, current: Any) -> Grid:
    """Key-result progress: (current - start) / (target - start), held to 0..1."""
    return core.call("XLPLAN_KR_PROGRESS", core.kr_progress, start, target, current)


@func(category=CATEGORY)
@arg("progress", doc="Key-result progress: one row or column, or one objective per row.",
     **RANGE)
@arg("weights", doc="Key-result weights, same shape (or one cell for equal weights).",
     **RANGE)
def XLPLAN_OKR_PROGRESS(progress: Any, weights: Any) -> Grid:
    """Objective progress: the weighted average of its key results' progress."""
    return core.call("XLPLAN_OKR_PROGRESS", core.okr_progress, progress, weights)


@func(category=CATEGORY)
@arg("actual", doc="KPI actuals (blank = not scored).", **RANGE)
@arg("target", doc="KPI targets (score 10).", **RANGE)
@arg("thresholds", doc="The values that score 0 (blank: 0, or 2 x target if lower is "
                       "better).", **RANGE)
@arg("direction", doc='"higher" or "lower" is better; one or per KPI.', **RANGE)
def XLPLAN_BSC_SCORE(actual: Any, target: Any, thresholds: Any, direction: Any) -> Grid:
    """Balanced-scorecard KPI scores, 0 to 10, on a line from threshold to target."""
    return core.call("XLPLAN_BSC_SCORE", core.bsc_score, actual, target, thresholds, direction)


FUNCTIONS: dict[str, Callable[..., Grid]] = {
    f.__name__: f for f in (
        XLPLAN_ALLOCATE, XLPLAN_SPREAD, XLPLAN_ROLLUP, XLPLAN_VARIANCE, XLPLAN_ATTAINMENT,
        XLPLAN_STATUS, XLPLAN_KR_PROGRESS, XLPLAN_OKR_PROGRESS, XLPLAN_BSC_SCORE)
}
"""Every function by its Excel name (the add-in files, recalc and the tests use this)."""

__all__ = [
    "FUNCTIONS", "XLPLAN_ALLOCATE", "XLPLAN_ATTAINMENT", "XLPLAN_BSC_SCORE", "XLPLAN_KR_PROGRESS",
    "XLPLAN_OKR_PROGRESS", "XLPLAN_ROLLUP", "XLPLAN_SPREAD", "XLPLAN_STATUS", "XLPLAN_VARIANCE",
]
