"""Headless recalculation: evaluate a workbook's formulas with the ``formulas`` package.

``xlplan recalc`` answers "do the numbers Excel saved in this file still follow
from its formulas?" without Excel or LibreOffice: every formula cell is
recalculated by the `formulas` package and compared with its cached value (to
the cent, :func:`xlplan.workbook.verify.same`). The ``XLPLAN_*`` functions are
registered in it under their own names and as ``_xldudf_XLPLAN_…`` (the name
Excel stores for an add-in's function), calling :mod:`xlplan.udfs` itself, so
Live-sheet cells evaluate too.

It is slow: the package compiles every formula into a graph, about 22 s for
3,000 formula cells measured here. Keep it for checks of small workbooks or of
one sheet (``--sheet Live`` loads that sheet and only the cells it refers to);
the consolidator recomputes submissions with the engine instead.

``formulas`` is an optional dependency (``pip install 'xlplan[recalc]'``).
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from openpyxl.utils.cell import range_boundaries
from xlsxwriter.utility import xl_rowcol_to_cell

from xlplan.workbook.verify import same

UDF_PREFIX = "_XLDUDF_"
_KEY = re.compile(r"^'?\[(?P<book>[^\]]*)\](?P<sheet>.*?)'?!(?P<ref>[A-Z]+\d+(?::[A-Z]+\d+)?)$")


class RecalcError(Exception):
    """The workbook cannot be recalculated (missing package, unreadable file, unknown sheet)."""


@dataclass(frozen=True)
class Difference:
    """A formula cell whose cached value is not what its formula gives now."""

    sheet: str
    cell: str
    cached: Any
    recalculated: Any

    def __str__(self) -> str:
        return (f"{self.sheet}!{self.cell}: cached {self.cached!r}, "
                f"recalculated {self.recalculated!r}")


@dataclass
class Recalc:
    path: Path
    sheets: list[str]
    formula_cells: int
    seconds: float
    differences: list[Difference] = field(default_factory=list)
    values: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    """(sheet, cell) → recalculated value of every formula cell checked."""

    def to_json(self) -> dict[str, Any]:
        return {"workbook": str(self.path), "sheets": self.sheets,
                "formula_cells": self.formula_cells, "seconds": round(self.seconds, 2),
                "differences": [{"sheet": d.sheet, "cell": d.cell, "cached": _json(d.cached),
                                 "recalculated": _json(d.recalculated)}
                                for d in self.differences]}


def _json(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def require_formulas() -> ModuleType:
    """The ``formulas`` package, or a :class:`RecalcError` saying how to install it."""
    try:
        import formulas
    except ImportError:
        raise RecalcError("xlplan recalc needs the formulas package (the extra 'recalc'): "
                          "in the xlplan checkout, pip install -e \".[recalc]\" (or pip "
                          "install 'xlplan[recalc]' where xlplan comes from a package "
                          "index)") from None
    return formulas


# --------------------------------------------------------------------------- the functions


def _cell(x: Any) -> Any:
    """A value as the formulas package passes it, as Excel would pass it to xlwings."""
    import schedula as sh

    if x is sh.EMPTY:
        return None
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, str):
        return str(x)  # XlError is a str: "#N/A"
    return x


def _argument(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        block = x.reshape(1, -1) if x.ndim < 2 else x
        return [[_cell(v) for v in row] for row in block.tolist()]
    return _cell(x)


def _adapter(face: Callable[..., list[list[Any]]]) -> Callable[..., Any]:
    """One XLPLAN function for the formulas package: plain arguments in, an array out."""
    formulas = require_formulas()

    def run(*args: Any) -> Any:
        return np.asarray(face(*(_argument(a) for a in args)), dtype=object)

    run.__name__ = face.__name__
    return formulas.functions.wrap_func(run)


def register_functions() -> list[str]:
    """Put every XLPLAN_* function into the formulas package (also as ``_xldudf_`` names)."""
    from xlplan.udfs import FUNCTIONS

    table = require_formulas().get_functions()
    names = []
    for name, face in FUNCTIONS.items():
        table[name] = table[UDF_PREFIX + name] = _adapter(face)
        names += [name, UDF_PREFIX + name]
    return names


# --------------------------------------------------------------------------- the workbook


def _cells(ref: str) -> Iterable[str]:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    for r in range(int(min_row or 1), int(max_row or 1) + 1):
        for c in range(int(min_col or 1), int(max_col or 1) + 1):
            yield xl_rowcol_to_cell(r - 1, c - 1)


def formula_cells(path: Path, sheets: Sequence[str] | None = None) -> dict[tuple[str, str], Any]:
    """(sheet, cell) → cached value of every formula cell, array results cell by cell."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path)
        cached = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a bad file
        raise RecalcError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    out: dict[tuple[str, str], Any] = {}
    for ws in book.worksheets:
        if sheets is not None and ws.title not in sheets:
            continue
        values = cached[ws.title]
        arrays = getattr(ws, "array_formulae", {})
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    out[(ws.title, c.coordinate)] = values[c.coordinate].value
        for ref in arrays.values():
            for cell in _cells(ref):
                out[(ws.title, cell)] = values[cell].value
    return out


def _plain(value: Any) -> Any:
    """A recalculated value as a reader of the file sees it: empty → None, errors as text."""
    value = _cell(value)
    return None if value == "" else value


def _recalculated(solution: Any, names: dict[str, str]) -> dict[tuple[str, str], Any]:
    """(sheet, cell) → value from a formulas solution; single cells first, then ranges."""
    single: dict[tuple[str, str], Any] = {}
    ranged: dict[tuple[str, str], Any] = {}
    for key, result in solution.items():
        match = _KEY.match(str(key))
        if not match or not hasattr(result, "value"):
            continue
        sheet = names.get(match["sheet"].upper(), match["sheet"])
        ref = match["ref"]
        block = np.asarray(result.value, dtype=object)
        if ":" not in ref:
            single[(sheet, ref)] = block.reshape(-1)[0] if block.size else None
            continue
        cells = list(_cells(ref))
        flat = block.reshape(-1).tolist()
        if len(flat) == len(cells):
            for cell, value in zip(cells, flat, strict=True):
                ranged.setdefault((sheet, cell), value)
    return {**ranged, **single}


def recalc(path: Path, sheets: Sequence[str] | None = None) -> Recalc:
    """Recalculate ``path`` (every sheet, or only ``sheets`` and what they refer to)."""
    formulas = require_formulas()
    import openpyxl

    start = time.perf_counter()
    try:
        titles = openpyxl.load_workbook(path, read_only=True).sheetnames
    except Exception as exc:
        raise RecalcError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    chosen = list(titles) if not sheets else list(sheets)
    unknown = [s for s in chosen if s not in titles]
    if unknown:
        raise RecalcError(f"{path}: no sheet {', '.join(unknown)} (sheets: {', '.join(titles)})")
    cached = formula_cells(path, chosen if sheets else None)
    register_functions()
    model = formulas.ExcelModel()
    with contextlib.redirect_stderr(io.StringIO()):  # formulas draws progress bars
        if sheets:
            book = openpyxl.load_workbook(path, read_only=True)
            ranges = [f"'[{path.resolve()}]{name}'!{_used(book[name])}" for name in chosen]
            book.close()
            model.from_ranges(*ranges)
        else:
            model.loads(str(path.resolve()))
        model.finish()
        solution = model.calculate()
    values = _recalculated(solution, {t.upper(): t for t in titles})
    differences, now = [], {}
    for (sheet, cell), before in cached.items():
        after = now[(sheet, cell)] = _plain(values.get((sheet, cell)))
        if not same(before, after):
            differences.append(Difference(sheet, cell, before, after))
    differences.sort(key=lambda d: (titles.index(d.sheet), *_position(d.cell)))
    return Recalc(path, chosen, len(cached), time.perf_counter() - start, differences, now)


def _position(cell: str) -> tuple[int, int]:
    """(row, column) of an A1 reference, for reading order."""
    col, row, _, _ = range_boundaries(cell)
    return int(row or 0), int(col or 0)


def _used(ws: Any) -> str:
    """The used range of a read-only worksheet, from the file's dimension record."""
    return str(ws.calculate_dimension())
