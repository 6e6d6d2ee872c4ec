"""The master's Live sheet (``xlplan build --with-functions``): the plan through XLPLAN_*.

The other sheets compute everything with native formulas, so they work with no
add-in. This sheet shows the same figures through the xlplan functions
(:mod:`xlplan.udfs`), for finance users who have the add-in (xlwings Lite or
classic xlwings) and want a roll-up or a light as one function over a range:

* **Org roll-up.** Every unit with its parent; the leaves' targets (linked to
  the Targets sheet) rolled up with ``XLPLAN_ROLLUP``, tied to each unit's
  target on the Targets sheet; last year's revenue rolled up the same way; and
  last year against this year's target with ``XLPLAN_VARIANCE``,
  ``XLPLAN_ATTAINMENT`` and ``XLPLAN_STATUS`` (how much of the target last
  year's run-rate already covers, with the plan's status bands).
* **OKR progress.** Every key result's progress (``XLPLAN_KR_PROGRESS``) and
  each objective's (``XLPLAN_OKR_PROGRESS``), as on the OKR sheet.

Each function is called once per block (a range in, a spilled array out), as a
dynamic-array formula. Its cached values are the engine's (:mod:`xlplan.engine`
functions on the same numbers), so a reader without the add-in still sees the
right numbers until Excel recalculates, and ``xlplan recalc`` can check the
functions against the engine. Without the add-in, Excel shows #NAME? here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from xlplan.engine.okr import kr_progress, objective_progress
from xlplan.engine.rollup import rollup
from xlplan.engine.variance import attainment_array, status_array, variance_array
from xlplan.i18n import data, msg, pmsg
from xlplan.workbook.book import Book, Cell, Sheet, Value, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.scope import Scope

SHEET = msg("Live")
BANDS_ROW = 4  # the status bands: B5:D5
ORG_HEAD = 7  # header row of the org roll-up
READING = msg("For users of the xlplan add-in (xlwings Lite: xlplan addin lite; Windows: xlplan "
              "addin conf). Each column named after an XLPLAN_ function is one call of it; "
              "without the add-in Excel shows #NAME? there, while every other sheet uses "
              "native formulas and needs nothing. Refresh: the XlplanRefresh macro "
              "(macros/XlplanRefresh.bas) or Ctrl+Alt+F9.")
TICK, CROSS = "✓", "✗"
HEADER_HEIGHT = 32  # two lines of header text
ORG_HEADERS = [msg("Code"), msg("Parent"), msg("Unit"), msg("Own target (leaves)"),
               msg("Target: {function}", function=data("XLPLAN_ROLLUP")), msg("Targets sheet"),
               msg("Ties"), msg("Own last year (leaves)"),
               msg("Last year: {function}", function=data("XLPLAN_ROLLUP")),
               msg("Last year − target: {function}", function=data("XLPLAN_VARIANCE")),
               msg("Last year ÷ target: {function}", function=data("XLPLAN_ATTAINMENT")),
               msg("Light: {function}", function=data("XLPLAN_STATUS"))]
LAST_YEAR = 7  # first of the last-year columns (left out when the plan has no prior year)
OKR_HEADERS = [msg("Objective"), pmsg("key result id", "Key result"), msg("Weight"), msg("Start"),
               msg("Target"), msg("Current"),
               msg("Progress: {function}", function=data("XLPLAN_KR_PROGRESS")),
               msg("Objective: {function}", function=data("XLPLAN_OKR_PROGRESS"))]
WIDTHS: dict[int, float] = {0: 12, 1: 12, 2: 28, 3: 16, 4: 18, 5: 16, 6: 10, 7: 16, 8: 18,
                            9: 18, 10: 16, 11: 12}


def _cached(value: float | str) -> Value:
    """A value as the cell caches it: NaN (no value) is "", as the functions return it."""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, np.generic):
        return value.item()
    return value


def spill(s: Sheet, row: int, col: int, formula: str, values: Sequence[Sequence[float | str]],
          style: str) -> str:
    """A dynamic-array formula at (row, col) whose result spills over ``values``' shape.

    The anchor cell holds the formula; every cell of the range caches the
    engine's value (the other cells of a spilled range hold only a value in the
    file). Each is recorded as a formula cell with that expected value; returns
    the A1 range of the result.
    """
    cached = [[_cached(v) for v in line] for line in values]
    rows, cols = len(cached), len(cached[0])
    text = formula if formula.startswith("=") else f"={formula}"
    fmt = s.book.styles[style]
    s.ws.write_dynamic_array_formula(row, col, row + rows - 1, col + cols - 1, text, fmt,
                                     cached[0][0])
    for i, line in enumerate(cached):
        for j, value in enumerate(line):
            if i or j:
                if isinstance(value, int | float):
                    s.ws.write_number(row + i, col + j, float(value), fmt)
                else:
                    s.ws.write_string(row + i, col + j, str(value), fmt)
            content = text if not (i or j) else value
            s.book.cells.append(Cell(s.name, ref(row + i, col + j), "formula", content, value))
    return f"{ref(row, col)}:{ref(row + rows - 1, col + cols - 1)}"


def _column(first: int, count: int, col: int) -> str:
    return f"{ref(first, col)}:{ref(first + count - 1, col)}"


def write_live(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The Live sheet (master only): org roll-up and variance, then OKR progress."""
    s = book.sheet(SHEET)
    s.heading(msg("{plan}: live figures through the xlplan functions",
                  plan=data(ctx.plan.name)), READING)
    bands = ctx.plan.status_bands
    s.label(BANDS_ROW - 1, 0, msg("Status bands"), "bold")
    s.ws.set_row(BANDS_ROW - 1, HEADER_HEIGHT)
    for j, (label, value) in enumerate(((msg("Yellow beyond"), bands.yellow),
                                        (msg("Orange beyond"), bands.orange),
                                        (msg("Red beyond"), bands.red))):
        s.label(BANDS_ROW - 1, 1 + j, label, "header")
        s.given(BANDS_ROW, 1 + j, value, "ratio")
    s.label(BANDS_ROW, 0, msg("Shortfall (1 − attainment)"))
    band_ref = f"{ref(BANDS_ROW, 1, True)}:{ref(BANDS_ROW, 3, True)}"
    end = _org(s, ctx, scope, band_ref)
    _okrs(s, ctx, end + 2)
    s.widths(WIDTHS)
    s.ws.freeze_panes(ORG_HEAD + 1, 3)


def _org(s: Sheet, ctx: BuildContext, scope: Scope, band_ref: str) -> int:
    """The org roll-up and last year against target; returns the last row written."""
    tree, targets = ctx.tree, ctx.targets
    refs: dict[str, str] = scope.refs["targets"]
    s.label(ORG_HEAD - 1, 0, msg("Org roll-up: leaves' targets and last year's revenue, "
                                 "rolled up"), "section")
    headers = ORG_HEADERS if ctx.prior is not None else ORG_HEADERS[:LAST_YEAR]
    for c, text in enumerate(headers):
        s.label(ORG_HEAD, c, text, "header")
    s.ws.set_row(ORG_HEAD, HEADER_HEIGHT)
    codes = tree.walk()
    first, n = ORG_HEAD + 1, len(codes)
    prior = ({} if ctx.prior is None else
             {str(k): int(v) for k, v in ctx.prior.revenue_by("unit").items()})
    own_target = np.zeros(n)
    own_prior = np.zeros(n)
    for i, code in enumerate(codes):
        r, unit = first + i, tree.units[code]
        s.label(r, 0, data(code))
        s.label(r, 1, data(unit.parent or ""))
        s.label(r, 2, data("  " * tree.depth(code) + (unit.name or code)))
        if not tree.children[code]:
            own_target[i] = ctx.money(targets[code])
            s.formula(r, 3, refs[code], float(own_target[i]))
            if code in prior:
                own_prior[i] = ctx.given_money(prior[code])
                s.given(r, 7, float(own_prior[i]), "money")
        s.formula(r, 5, refs[code], ctx.money(targets[code]))
    code_col, parent_col = _column(first, n, 0), _column(first, n, 1)
    parents = [tree.units[c].parent or "" for c in codes]
    rolled = rollup(codes, parents, own_target)
    spill(s, first, 4, f"XLPLAN_ROLLUP({code_col},{parent_col},{_column(first, n, 3)})",
          [[x] for x in rolled], "money")
    for i, code in enumerate(codes):
        r = first + i
        tie = abs(rolled[i] - ctx.money(targets[code])) < 0.005
        s.formula(r, 6, f'IF(ABS({ref(r, 4)}-{ref(r, 5)})<0.005,"{TICK}","{CROSS}")',
                  TICK if tie else CROSS, "check")
    if ctx.prior is None:  # no last year to hold the targets against: no lights either
        s.label(first + n, 0, msg("The plan has no prior-year actuals, so there is no last "
                                  "year to compare with."), "note")
        return first + n
    last_year = rollup(codes, parents, own_prior)
    spill(s, first, 8, f"XLPLAN_ROLLUP({code_col},{parent_col},{_column(first, n, 7)})",
          [[x] for x in last_year], "money")
    actual, plan = _column(first, n, 8), _column(first, n, 4)
    spill(s, first, 9, f"XLPLAN_VARIANCE({actual},{plan})",
          [[x] for x in variance_array(last_year, rolled)], "money")
    att = attainment_array(last_year, rolled)
    spill(s, first, 10, f"XLPLAN_ATTAINMENT({actual},{plan})", [[x] for x in att], "ratio")
    lights = status_array(att, ctx.plan.status_bands)
    spill(s, first, 11, f'XLPLAN_STATUS({actual},{plan},"higher",{band_ref})',
          [[str(x)] for x in lights], "status")
    return first + n


def _okrs(s: Sheet, ctx: BuildContext, head: int) -> None:
    """Each key result's progress (one block) and each objective's (one cell per objective)."""
    krs = [(o, kr) for o in ctx.plan.okrs for kr in o.krs]
    s.label(head - 1, 0, msg("OKR progress: key results and objectives"), "section")
    for c, text in enumerate(OKR_HEADERS):
        s.label(head, c, text, "header")
    s.ws.set_row(head, HEADER_HEIGHT)
    if not krs:
        s.label(head + 1, 0, msg("The plan has no OKRs."), "note")
        return
    first, n = head + 1, len(krs)
    progress = []
    for i, (o, kr) in enumerate(krs):
        r = first + i
        s.label(r, 0, data(o.id))
        s.label(r, 1, data(kr.id))
        s.given(r, 2, kr.weight, "factor")
        s.given(r, 3, kr.start, "number")
        s.given(r, 4, kr.target, "number")
        s.given(r, 5, kr.current, "number")
        progress.append(kr_progress(kr.start, kr.target, kr.current))
    spill(s, first, 6, f"XLPLAN_KR_PROGRESS({_column(first, n, 3)},{_column(first, n, 4)},"
                       f"{_column(first, n, 5)})", [[x] for x in progress], "ratio")
    r = first
    for o in ctx.plan.okrs:
        if not o.krs:
            continue
        k = len(o.krs)
        value = objective_progress(progress[r - first:r - first + k], [kr.weight for kr in o.krs])
        spill(s, r, 7, f"XLPLAN_OKR_PROGRESS({_column(r, k, 6)},{_column(r, k, 2)})",
              [[value]], "ratio")
        r += k
