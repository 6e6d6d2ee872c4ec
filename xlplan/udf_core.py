"""The plain-Python logic of the ``XLPLAN_*`` worksheet functions, in one place.

:mod:`xlplan.udfs` puts the xlwings decorators on these (the "face"); the
headless recalculation (:mod:`xlplan.recalc`) and the benchmarks call the same
faces. Here is everything between a worksheet range and the engine:

* **Arguments arrive as Excel sends them** through xlwings: a single value or
  a list of rows (``ndim=2``), with ``None`` for a blank cell and strings such
  as ``"#N/A"`` for an error cell (``err_to_str``). :func:`grid` turns any of
  these, or a numpy array or a flat Python list (a row), into a 2-D block.
* **The numbers are the engine's.** Each function checks and converts its
  blocks, then calls :mod:`xlplan.engine` once for the whole block (a range
  in, an array out: xlwings pays a round trip per call, not per cell).
  Amounts are split in whole steps of the smallest unit the arguments show
  (at least the cent), as integers, exactly as the engine splits minor units.
* **Results go back as a list of rows**, numbers as Python floats and "no
  value" (the engine's NaN) as ``""``, as the native formulas show it.
* **Nothing raises into a cell.** :func:`call` returns an error cell of the
  input (``"#N/A"`` in, ``"#N/A"`` out, as Excel propagates errors) or one
  cell ``"#VALUE! XLPLAN_…: what is wrong"`` naming the argument and the row
  and column inside it; never a Python traceback.

This module imports only numpy and the engine (docs/DESIGN.md, principle 7): it
runs inside xlwings Lite (Pyodide) too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from xlplan.engine.allocate import allocate as engine_allocate
from xlplan.engine.allocate import allocate_rows
from xlplan.engine.bsc import kpi_score_array
from xlplan.engine.okr import kr_progress_array, objective_progress
from xlplan.engine.phasing import FOUR_FOUR_FIVE, Profile, phase_year
from xlplan.engine.rollup import rollup as engine_rollup
from xlplan.engine.rounding import snap15
from xlplan.engine.variance import attainment_array, status_array, variance_array
from xlplan.spec.models import StatusBands

Grid = list[list[Any]]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
})
DEFAULT_STEP = 0.01
"""Allocation step when none is given: the cent (the plans' default smallest unit)."""
MONEY_DECIMALS = 2
"""Periods are split to at least the cent (more when the amount has more decimals)."""
MAX_DECIMALS = 9
EXACT_LIMIT = 2.0**53  # integers a double holds exactly
DIRECTIONS = ("higher", "lower")
NAMED_PROFILES = ("quarters", "months", "4-4-5")


class ArgError(ValueError):
    """A bad argument: the message says which argument, where, and what was expected."""


class CellError(Exception):
    """An argument holds an Excel error value; the function returns that same error."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------- arguments


def _plain(x: Any) -> Any:
    """A cell value as plain Python: numpy scalars unwrapped, "" as None (blank)."""
    if isinstance(x, np.generic):
        x = x.item()
    if x is None or (isinstance(x, str) and x == ""):
        return None
    return x


def cells(arg: str, value: Any) -> tuple[list[Any], tuple[int, int]]:
    """Any argument as its cells in reading order and its (rows, columns).

    A scalar is 1×1 and a flat list one row. Lists of rows (what xlwings sends)
    are flattened without going through numpy, which is the cheap way for big blocks.
    """
    if isinstance(value, np.ndarray):
        if value.ndim > 2:
            raise ArgError(f"{arg}: expected a range, got a {value.ndim}-dimensional array")
        rows, cols = (1, value.size) if value.ndim < 2 else value.shape
        return value.ravel().tolist(), (rows, cols)
    if isinstance(value, list | tuple):
        if not value:
            return [], (0, 0)
        if not isinstance(value[0], list | tuple):
            return list(value), (1, len(value))
        width = len(value[0])
        if any(len(row) != width for row in value):
            raise ArgError(f"{arg}: rows of different lengths")
        return [x for row in value for x in row], (len(value), width)
    return [value], (1, 1)


def grid(arg: str, value: Any) -> ObjArray:
    """Any argument as a 2-D object block (see :func:`cells`)."""
    flat, shape = cells(arg, value)
    nested = next((i for i, x in enumerate(flat) if isinstance(x, list | tuple)), None)
    if nested is not None:
        raise ArgError(f"{_where(arg, shape, nested)}: expected one value per cell")
    block = np.empty(len(flat), dtype=object)
    block[:] = flat
    return block.reshape(shape)


def _where(arg: str, shape: tuple[int, ...], flat_index: int) -> str:
    """``arg`` and, for a block, the row and column (1-based) of one of its cells."""
    if math.prod(shape) == 1:
        return arg
    r, c = divmod(flat_index, shape[1])
    return f"{arg} (row {r + 1}, column {c + 1})"


def numbers(arg: str, value: Any, *, blank: float | None) -> FloatArray:
    """A block of numbers as floats; blanks become ``blank`` (None: a blank is an error).

    Text, TRUE/FALSE and dates are errors rather than silently 0 or 1: a label
    pasted into a weight column must not become a weight. An error cell raises
    :class:`CellError` so the function returns it. Blocks of plain numbers (the
    usual case) convert in one numpy call; the cell-by-cell pass is only there
    to name the first bad cell.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.ndim <= 2:
        out = value.astype(float).reshape(cells(arg, value)[1])
    else:
        flat, shape = cells(arg, value)
        if not {type(x) for x in flat} <= {float, int, type(None)}:
            return _numbers_slowly(arg, grid(arg, value), blank)
        out = np.array(flat, dtype=float).reshape(shape)
    missing = np.isnan(out)
    if missing.any():
        if blank is None:
            i = int(np.flatnonzero(missing.ravel())[0])
            raise ArgError(f"{_where(arg, out.shape, i)} is blank: expected a number")
        out = np.where(missing, blank, out)
    if np.any(np.isinf(out)):
        raise ArgError(f"{arg}: numbers must be finite")
    return out


def _numbers_slowly(arg: str, block: ObjArray, blank: float | None) -> FloatArray:
    """:func:`numbers` cell by cell: finds the first text, date or error cell."""
    flat = block.ravel().tolist()
    out = np.empty(len(flat), dtype=float)
    for i, raw in enumerate(flat):
        x = _plain(raw)
        if x is None:
            if blank is None:
                raise ArgError(f"{_where(arg, block.shape, i)} is blank: expected a number")
            out[i] = blank
        elif isinstance(x, bool) or not isinstance(x, int | float):
            if isinstance(x, str) and x.strip() in EXCEL_ERRORS:
                raise CellError(x.strip())
            kind = "a date" if isinstance(x, dt.date) else repr(x)
            raise ArgError(f"{_where(arg, block.shape, i)} is {kind}: expected a number")
        else:
            out[i] = x  # a NaN from a Python caller counts as blank, below
    if blank is not None:
        out = np.where(np.isnan(out), blank, out)
    elif np.isnan(out).any():
        i = int(np.flatnonzero(np.isnan(out))[0])
        raise ArgError(f"{_where(arg, block.shape, i)} is blank: expected a number")
    if np.any(np.isinf(out)):
        raise ArgError(f"{arg}: numbers must be finite")
    return out.reshape(block.shape)


def texts(arg: str, value: Any) -> ObjArray:
    """A block of text keys (codes): numbers as their shortest text (101.0 → "101"), blank ""."""
    flat, shape = cells(arg, value)
    out = np.empty(shape, dtype=object)
    if {type(x) for x in flat} <= {str, type(None)}:  # the usual case, in one pass
        keys = ["" if x is None else x.strip() for x in flat]
        errors = EXCEL_ERRORS.intersection(keys)
        if errors:
            raise CellError(next(k for k in keys if k in errors))
        out.ravel()[:] = keys
        return out
    block = grid(arg, value)
    for i, raw in enumerate(flat):
        x = _plain(raw)
        if x is None:
            text = ""
        elif isinstance(x, str):
            text = x.strip()
            if text in EXCEL_ERRORS:
                raise CellError(text)
        elif isinstance(x, bool):
            raise ArgError(f"{_where(arg, block.shape, i)} is {x!r}: expected a code")
        elif isinstance(x, float) and x.is_integer():
            text = str(int(x))
        else:
            text = str(x)
        out.flat[i] = text
    return out


def directions(arg: str, value: Any) -> str | ObjArray:
    """"higher"/"lower" for every cell (blank: higher); one string when it is one cell."""
    if value is None:
        return "higher"
    block = texts(arg, value)
    flat = block.ravel().tolist()
    for i, text in enumerate(flat):
        name = text.lower() or "higher"
        if name not in DIRECTIONS:
            raise ArgError(f"{_where(arg, block.shape, i)} is {text!r}: expected higher or lower")
        block.flat[i] = name
    return str(block[0, 0]) if block.size == 1 else block


def single(arg: str, value: Any, default: float) -> float:
    """One number (blank or omitted: ``default``)."""
    if value is None:
        return default
    block = numbers(arg, value, blank=math.nan)
    if block.size != 1:
        raise ArgError(f"{arg}: expected one cell, got {_shape(block)}")
    x = float(block[0, 0])
    return default if math.isnan(x) else x


def _shape(block: np.ndarray) -> str:
    return f"{block.shape[0]}×{block.shape[1]}"


def _vector(block: np.ndarray) -> bool:
    return block.ndim == 2 and (block.shape[0] == 1 or block.shape[1] == 1)


def broadcast(**blocks: np.ndarray) -> tuple[int, ...]:
    """The common shape of element-wise arguments: equal shapes, or single cells, rows
    or columns that stretch (as Excel stretches them in array formulas)."""
    try:
        return tuple(np.broadcast_shapes(*(b.shape for b in blocks.values())))
    except ValueError:
        shapes = ", ".join(f"{name} is {_shape(b)}" for name, b in blocks.items())
        raise ArgError(f"the ranges do not fit together ({shapes}): use ranges of the same "
                       "size, or a single cell") from None


# --------------------------------------------------------------------------- results


def cells_of(values: npt.ArrayLike) -> Grid:
    """A result block as Excel gets it: Python floats, NaN as "" (no value)."""
    arr = np.asarray(values)
    if arr.ndim < 2:
        arr = arr.reshape(1, -1)
    if arr.dtype.kind in "fiu":
        out = arr.astype(float).astype(object)
        out[np.isnan(arr.astype(float))] = ""
        return out.tolist()
    return arr.astype(object).tolist()


def call(name: str, fn: Callable[..., Grid], *args: Any) -> Grid:
    """Run one function for Excel: its result, an input's error value, or a clear message.

    Every failure becomes one cell of text starting ``#VALUE!`` and naming the
    function (a traceback in a cell helps no one and hides the real cause).
    """
    try:
        return fn(*args)
    except CellError as exc:
        return [[exc.code]]
    except ValueError as exc:  # ArgError, and the engine's AllocationError / TreeError
        return [[f"#VALUE! {name}: {exc}"]]
    except Exception as exc:  # a bug: still a message, never a traceback in the cell
        return [[f"#VALUE! {name}: unexpected {type(exc).__name__}: {exc}"]]


# --------------------------------------------------------------------------- exact amounts


def decimals_needed(arg: str, values: FloatArray, at_least: int = 0) -> int:
    """Fewest decimals that write every value exactly, as Excel shows it (15 digits)."""
    v = values[np.isfinite(values)].ravel()
    for d in range(at_least, MAX_DECIMALS + 1):
        scaled = snap15(v * 10.0**d)
        if np.all(scaled == np.round(scaled)):
            return d
    raise ArgError(f"{arg}: more than {MAX_DECIMALS} decimals")


def to_units(arg: str, values: FloatArray, d: int) -> npt.NDArray[np.int64]:
    """Values as whole numbers of 10**-d (exact: ``d`` comes from :func:`decimals_needed`)."""
    scaled = np.round(snap15(values * 10.0**d))
    if np.any(np.abs(scaled) >= EXACT_LIMIT):
        raise ArgError(f"{arg}: too large to split exactly to {10.0**-d:g}")
    return scaled.astype(np.int64)


def from_units(units: np.ndarray, d: int) -> FloatArray:
    """Whole numbers of 10**-d back to amounts: the double nearest each decimal amount."""
    return np.asarray(units, dtype=float) / 10.0**d


# --------------------------------------------------------------------------- the functions


def allocate(total: Any, weights: Any, rounding_step: Any = None, holds: Any = None) -> Grid:
    """XLPLAN_ALLOCATE: split totals over weights; the parts add up exactly to each total.

    * ``total`` one cell: ``weights`` is one row or one column, and so is the result;
    * ``total`` a column of N cells: ``weights`` is one row (the same weights for
      every total) or N rows; the result has a row per total (a row of totals
      works the same way, turned by 90°);
    * ``rounding_step`` (default 0.01): amounts are whole multiples of it, except that
      what is left below one step goes to the largest remainder (the engine's
      rule); ``holds`` (the result's shape): a number keeps that child's amount.

    Engine: :func:`xlplan.engine.allocate.allocate_rows` (``allocate`` for rows
    with holds), on whole units of the finest decimal among the arguments.
    """
    t = numbers("total", total, blank=0.0)
    w = numbers("weights", weights, blank=0.0)
    s = single("rounding_step", rounding_step, DEFAULT_STEP)
    if s <= 0:
        raise ArgError(f"rounding_step must be positive, got {s:g}")
    h = None if holds is None else numbers("holds", holds, blank=math.nan)
    turned = t.shape[0] == 1 and t.shape[1] > 1  # a row of totals: work on columns
    if turned:
        t, w = t.T, w.T
        h = None if h is None else h.T
    if t.size == 1:
        if not _vector(w):
            raise ArgError(f"weights must be one row or one column, got {_shape(w)}")
        out_shape = w.shape
        rows_w = w.reshape(1, -1)
    elif t.shape[1] == 1:
        if w.shape[0] not in (1, t.shape[0]):
            raise ArgError(f"{t.shape[0]} totals but {w.shape[0]} rows of weights: give one "
                           "row of weights for all, or one row per total")
        rows_w = np.broadcast_to(w, (t.shape[0], w.shape[1]))
        out_shape = rows_w.shape
    else:
        raise ArgError(f"total must be one cell, one column or one row, got {_shape(t)}")
    if h is not None and h.shape != out_shape:
        raise ArgError(f"holds must have the result's shape {out_shape[0]}×{out_shape[1]}, "
                       f"got {_shape(h)}")
    held = np.zeros(rows_w.shape, dtype=float) if h is None else h.reshape(rows_w.shape)
    d = decimals_needed("total, rounding_step and holds", np.concatenate(
        [t.ravel(), [s], held[np.isfinite(held)]]))
    totals = to_units("total", t.ravel(), d)
    step_units = int(to_units("rounding_step", np.array([s]), d)[0])
    result = np.empty(rows_w.shape, dtype=np.int64)
    free = ~np.isfinite(held).any(axis=1) if h is not None else np.ones(len(totals), bool)
    if free.any():
        result[free] = allocate_rows(totals[free], rows_w[free], step=step_units)
    held_units = np.where(np.isfinite(held), held, 0.0)
    held_units = to_units("holds", held_units, d)
    for r in np.flatnonzero(~free):
        keep = {int(j): int(held_units[r, j]) for j in np.flatnonzero(np.isfinite(held[r]))}
        result[r] = engine_allocate(int(totals[r]), rows_w[r].tolist(), step=step_units,
                                    holds=keep)
    out = from_units(result, d).reshape(out_shape)
    return cells_of(out.T if turned else out)


def _profile(profile: Any) -> tuple[Profile | None, tuple[float, ...], bool]:
    """(engine Profile for a year, or None with plain weights; weights; result as a column)."""
    block = grid("profile", profile)
    if block.size == 1 and isinstance(_plain(block[0, 0]), str):
        text = str(block[0, 0]).strip()
        if text in EXCEL_ERRORS:
            raise CellError(text)
        name = text.lower()
        if name == "quarters":
            return None, (1.0, 1.0, 1.0, 1.0), False
        if name == "months":
            return Profile(None, (1.0,) * 12), (), False
        if name == "4-4-5":
            return Profile((1.0, 1.0, 1.0, 1.0), FOUR_FOUR_FIVE * 4), (), False
        raise ArgError(f"profile {name!r}: expected weights or one of "
                       f"{', '.join(NAMED_PROFILES)}")
    p = numbers("profile", profile, blank=0.0)
    if not _vector(p):
        raise ArgError(f"profile must be one row or one column, got {_shape(p)}")
    column = p.shape[1] == 1 and p.shape[0] > 1
    weights = tuple(float(x) for x in p.ravel())
    if len(weights) == 12:
        return Profile(None, weights), (), column
    if len(weights) == 16:  # four quarter weights, then three month weights per quarter
        return Profile(weights[:4], weights[4:]), (), column
    return None, weights, column


def spread(amount: Any, profile: Any) -> Grid:
    """XLPLAN_SPREAD: split amounts over periods; the periods add up exactly to each amount.

    ``profile``: 4 weights (quarters), 12 (months), 16 (4 quarter weights, then
    3 month weights within each quarter: the engine's quarters-then-months
    phasing), any other number of weights (a plain split, e.g. the three months
    of a quarter), or "quarters", "months", "4-4-5". ``amount``: one cell (the
    periods run along the profile; across for a name), a column (a row of
    periods per amount) or a row (a column of periods per amount). Periods are
    split to the cent, or finer if the amount has more decimals.

    Engine: :func:`xlplan.engine.phasing.phase_year` (12 months) or
    :func:`xlplan.engine.allocate.allocate_rows` (other profiles), on minor units.
    """
    a = numbers("amount", amount, blank=0.0)
    year, weights, column = _profile(profile)
    turned = a.shape[0] == 1 and a.shape[1] > 1
    if turned:
        a = a.T
    if a.shape[1] != 1:
        raise ArgError(f"amount must be one cell, one column or one row, got {_shape(a)}")
    d = decimals_needed("amount", a, at_least=MONEY_DECIMALS)
    units = to_units("amount", a.ravel(), d)
    split = phase_year(units, year) if year is not None else allocate_rows(units, weights)
    out = from_units(split, d)
    if a.size == 1 and column:
        out = out.T
    return cells_of(out.T if turned else out)


def rollup(codes: Any, parents: Any, values: Any) -> Grid:
    """XLPLAN_ROLLUP: every node's total (its own value plus everything below it).

    ``codes`` and ``parents`` are one column (or one row) each, a blank parent
    marking a top node; ``values`` has a row per code (one or more columns, e.g.
    twelve months) with blanks as 0. Rows with a blank code are padding and
    give blanks. Engine: :func:`xlplan.engine.rollup.rollup` (``math.fsum``).
    """
    c = texts("codes", codes)
    p = texts("parents", parents)
    v = numbers("values", values, blank=math.nan)
    if not _vector(c):
        raise ArgError(f"codes must be one column or one row, got {_shape(c)}")
    if p.shape != c.shape:
        raise ArgError(f"parents must have the shape of codes ({_shape(c)}), got {_shape(p)}")
    turned = c.shape[0] == 1 and c.shape[1] > 1
    if turned:
        c, p, v = c.T, p.T, v.T
    if v.shape[0] != c.shape[0]:
        raise ArgError(f"values must have a row per code ({c.shape[0]}), got {_shape(v)}")
    used = np.array([bool(x) for x in c.ravel()])
    for r in np.flatnonzero(~used):
        if p[r, 0] or np.isfinite(v[r]).any():
            raise ArgError(f"row {r + 1} has a parent or a value but no code")
    totals = np.full(v.shape, np.nan)
    totals[used] = engine_rollup([str(x) for x in c[used, 0]], [str(x) for x in p[used, 0]],
                                 np.nan_to_num(v[used], nan=0.0))
    return cells_of(totals.T if turned else totals)


def variance(actual: Any, plan: Any) -> Grid:
    """XLPLAN_VARIANCE: actual − plan, cell by cell; a blank on either side gives a blank.

    Engine: :func:`xlplan.engine.variance.variance_array`.
    """
    a = numbers("actual", actual, blank=math.nan)
    p = numbers("plan", plan, blank=math.nan)
    broadcast(actual=a, plan=p)
    return cells_of(variance_array(a, p))


def attainment(actual: Any, plan: Any, direction: Any = None) -> Grid:
    """XLPLAN_ATTAINMENT: actual ÷ plan, or 2 − actual ÷ plan where lower is better.

    A blank actual or a zero or blank plan gives a blank. ``direction``: one
    cell, or one per row, column or cell. Engine:
    :func:`xlplan.engine.variance.attainment_array`.
    """
    a = numbers("actual", actual, blank=math.nan)
    p = numbers("plan", plan, blank=math.nan)
    dirs = directions("direction", direction)
    shape = broadcast(actual=a, plan=p, **({} if isinstance(dirs, str) else {"direction": dirs}))
    return cells_of(np.broadcast_to(attainment_array(a, p, dirs), shape))


def _bands(value: Any) -> StatusBands:
    if value is None:
        return StatusBands()
    b = numbers("bands", value, blank=math.nan)
    if not _vector(b) or b.size != 3:
        raise ArgError(f"bands: expected three cells (yellow, orange, red), got {_shape(b)}")
    default = StatusBands()
    given = [default.yellow, default.orange, default.red]
    y, o, r = (given[i] if math.isnan(x) else float(x) for i, x in enumerate(b.ravel()))
    if not 0 <= y <= o <= r <= 1:
        raise ArgError(f"bands must be shares with yellow ≤ orange ≤ red, got {y:g}, {o:g}, "
                       f"{r:g}")
    return StatusBands(yellow=y, orange=o, red=r)


def status(actual: Any, plan: Any, direction: Any = None, bands: Any = None) -> Grid:
    """XLPLAN_STATUS: the G/Y/O/R light of the attainment ("" without one).

    ``bands``: the shortfall (1 − attainment) beyond which the light turns
    yellow, orange and red (default 5%, 15%, 30%); a band's edge belongs to the
    better colour. Engine: :func:`xlplan.engine.variance.status_array`.
    """
    a = numbers("actual", actual, blank=math.nan)
    p = numbers("plan", plan, blank=math.nan)
    dirs = directions("direction", direction)
    b = _bands(bands)
    shape = broadcast(actual=a, plan=p, **({} if isinstance(dirs, str) else {"direction": dirs}))
    att = np.broadcast_to(attainment_array(a, p, dirs), shape)
    return cells_of(status_array(att, b))


def kr_progress(start: Any, target: Any, current: Any) -> Grid:
    """XLPLAN_KR_PROGRESS: (current − start) ÷ (target − start), held to 0…1.

    A blank current (no reading yet) is 0; target = start gives a blank. Engine:
    :func:`xlplan.engine.okr.kr_progress_array`.
    """
    s = numbers("start", start, blank=math.nan)
    t = numbers("target", target, blank=math.nan)
    c = numbers("current", current, blank=math.nan)
    shape = broadcast(start=s, target=t, current=c)
    return cells_of(np.broadcast_to(kr_progress_array(s, t, c), shape))


def _objective(progress: FloatArray, weights: FloatArray, where: str) -> float:
    keep = ~(np.isnan(progress) & np.isnan(weights))
    if np.any(keep & np.isnan(weights)):
        raise ArgError(f"{where}: a key result has progress but no weight")
    p, w = progress[keep], weights[keep]
    if not len(p):
        return math.nan
    return objective_progress(p.tolist(), w.tolist())


def okr_progress(progress: Any, weights: Any) -> Grid:
    """XLPLAN_OKR_PROGRESS: an objective's progress, its key results' weighted average.

    One row or column of key results gives one cell; a block gives one
    objective per row (a column of results). Cells blank in both ranges are
    not key results (ragged rows); one weight cell weighs every result alike.
    Engine: :func:`xlplan.engine.okr.objective_progress` (all weights 0: plain mean).
    """
    p = numbers("progress", progress, blank=math.nan)
    w = numbers("weights", weights, blank=math.nan)
    w = np.broadcast_to(w, broadcast(progress=p, weights=w)) if w.size == 1 else w
    if w.shape != p.shape:
        raise ArgError(f"weights must have the shape of progress ({_shape(p)}), got {_shape(w)}")
    if _vector(p):
        return [[_blank(_objective(p.ravel(), w.ravel(), "progress"))]]
    return [[_blank(_objective(p[r], w[r], f"progress row {r + 1}"))] for r in range(p.shape[0])]


def _blank(x: float) -> float | str:
    return "" if math.isnan(x) else float(x)


def bsc_score(actual: Any, target: Any, thresholds: Any, direction: Any) -> Grid:
    """XLPLAN_BSC_SCORE: KPI scores 0–10, a straight line from the threshold to the target.

    ``thresholds``: the value that scores 0 (blank: 0, or twice the target when
    lower is better); a blank actual gives a blank (not scored, not 0).
    Engine: :func:`xlplan.engine.bsc.kpi_score_array`.
    """
    a = numbers("actual", actual, blank=math.nan)
    t = numbers("target", target, blank=math.nan)
    f = numbers("thresholds", thresholds, blank=math.nan)
    dirs = directions("direction", direction)
    extra = {} if isinstance(dirs, str) else {"direction": dirs}
    shape = broadcast(actual=a, target=t, thresholds=f, **extra)
    return cells_of(np.broadcast_to(kpi_score_array(a, t, f, dirs), shape))


CORE: dict[str, Callable[..., Grid]] = {
    "XLPLAN_ALLOCATE": allocate,
    "XLPLAN_SPREAD": spread,
    "XLPLAN_ROLLUP": rollup,
    "XLPLAN_VARIANCE": variance,
    "XLPLAN_ATTAINMENT": attainment,
    "XLPLAN_STATUS": status,
    "XLPLAN_KR_PROGRESS": kr_progress,
    "XLPLAN_OKR_PROGRESS": okr_progress,
    "XLPLAN_BSC_SCORE": bsc_score,
}
"""Excel name → plain function (the faces in :mod:`xlplan.udfs` wrap these with :func:`call`)."""
