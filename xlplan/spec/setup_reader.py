"""Read a plan setup workbook (plan.xlsx) into the plan's raw data, cell by cell.

The result is the same plain structure the YAML loader gets from a plan file,
plus where each value came from (``("units", 3, "parent")`` → ``Units!C8``), so
one set of checks serves both files and every problem names its sheet and cell.

The file may have been saved by Excel or LibreOffice after editing: tables are
found by their header row (rows may be added, sorted, or left empty between
entries; columns inserted before a table move it right); columns by their header
(a column a person adds, inside a table or beside it, is ignored); only
typed values are read, never the results of the check formulas. The file is
read through the same safe path as a submission (:mod:`xlplan.consolidate.package`
checks the bytes and the zip, :mod:`xlplan.consolidate.xlsx` reads the XML with
no DTD allowed), within small limits: a setup workbook is a few hundred cells.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.consolidate.package import Limits, Refused, open_package
from xlplan.consolidate.xlsx import RawBook, RawCell, cell_position, col_letters, read_book
from xlplan.i18n import LANGUAGES, Msg, Words
from xlplan.spec.checks import PathKey, Problem
from xlplan.spec.friendly import did_you_mean
from xlplan.spec.setup_layout import (
    HEADER_ROW,
    LIST_SEPARATOR,
    SHEETS,
    TABLES,
    Column,
    FieldType,
    Table,
    header_keys,
    sheet_keys,
)

LIMITS = Limits(max_file_bytes=10_000_000, max_entries=200, max_part_bytes=50_000_000,
                max_total_bytes=100_000_000, max_cells=500_000)
PARENT_NOUN = {"KeyResults": "objective", "RiskPlans": "risk", "Milestones": "action"}
REQUIRED_SHEETS = ("Plan", "Units")


# LibreOffice saves a typed TRUE as the formula TRUE(): a program that keeps no formula
# results (openpyxl) may save it again as the bare formula, which still says TRUE
BOOLEAN_FORMULAS = {"TRUE()": True, "FALSE()": False, "TRUE": True, "FALSE": False}


def language_of(sheet_names: Iterable[str]) -> str:
    """The language a setup workbook was written in: the one whose sheet names it shows
    most (en when none: messages then name sheets by their keys, as en shows them)."""
    names = set(sheet_names)
    counts = {language: sum(Words(language)(s.name) in names for s in SHEETS)
              for language in LANGUAGES}
    english = counts.pop("en")
    best = max(counts, key=lambda language: counts[language])
    return best if counts[best] > english else "en"


class SetupError(Exception):
    """The file is not a plan setup workbook at all (one problem, no cell)."""


@dataclass
class SetupRead:
    """A setup workbook as plan data, with the cell of every value and the problems the
    reading itself found (a parent that is not in its table, an unknown setting …)."""

    data: dict[str, Any]
    cells: dict[PathKey, str] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # cell → reading order
    problems: list[Problem] = field(default_factory=list)

    def cell_of(self, path: PathKey) -> str | None:
        """The cell of ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.cells:
                return self.cells[key]
            key = key[:-1]
        return self.cells.get(())


def _ref(sheet: str, row: int, col: int) -> str:
    name = f"'{sheet}'" if not sheet.replace("_", "").isalnum() else sheet
    return f"{name}!{col_letters(col + 1)}{row + 1}"


class _Grid:
    """A sheet's cells by (row, column), 0-based."""

    def __init__(self, cells: dict[str, RawCell]):
        self.at: dict[tuple[int, int], RawCell] = {}
        for ref, cell in cells.items():
            pos = cell_position(ref)
            if pos is not None:
                self.at[(pos[0] - 1, pos[1] - 1)] = cell
        self.max_row = max((r for r, _ in self.at), default=-1)

    def text(self, row: int, col: int) -> str:
        cell = self.at.get((row, col))
        if cell is None or cell.value is None:
            return ""
        return str(cell.value).strip()


def _header_run(grid: _Grid, row: int, col: int, keys: dict[str, str]) -> dict[str, int]:
    """The headers from ``col`` rightwards up to the first empty cell, by their stable keys
    (case-folded; ``keys`` maps each way a header is shown to its key: a header of the
    person's own keeps its words)."""
    columns: dict[str, int] = {}
    while grid.text(row, col):
        shown = grid.text(row, col).casefold()
        columns.setdefault(keys.get(shown, shown).casefold(), col)
        col += 1
    return columns


def _header_of(grid: _Grid, table: Table) -> tuple[int, int, dict[str, int]] | None:
    """The header row, first column and columns of ``table`` on its sheet.

    The writer puts each table's first header in a known column, but a person may insert
    columns (their own notes) before or between tables, which moves them right: any cell
    holding the first header may start the table, the one whose row holds the most of its
    headers winning (ties: the writer's column, then the top-most)."""
    keys = header_keys(table)
    first = table.headers[0].casefold()
    wanted = {h.casefold() for h in table.headers}
    best: tuple[tuple[int, bool, int], int, int, dict[str, int]] | None = None
    for row, col in sorted(grid.at):
        shown = grid.text(row, col).casefold()
        if keys.get(shown, shown).casefold() != first:
            continue
        columns = _header_run(grid, row, col, keys)
        score = (len(wanted & columns.keys()), col == table.first_col, -row)
        if best is None or score > best[0]:
            best = (score, row, col, columns)
    return None if best is None else best[1:]


def _serial_date(serial: float, date1904: bool) -> dt.date:
    base = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    return base + dt.timedelta(days=int(serial))


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _scalar(value: Any, kind: str, date1904: bool) -> Any:
    """A cell value as the plan's YAML would hold it (type errors are left to pydantic)."""
    if isinstance(value, str):
        value = value.strip()
        return value if value != "" else None
    if isinstance(value, bool):
        if kind == "text":
            return "TRUE" if value else "FALSE"
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if kind == "date" and 0 < value < 2_958_466:
            return _serial_date(value, date1904)
        if kind == "bool" and value in (0.0, 1.0):
            return bool(value)
        if kind == "text":
            return str(_number(value))
        return _number(value)
    return value


ITEM_KIND = {"numbers": "number", "ints": "int", "dates": "date", "texts": "text"}


def convert(value: Any, ftype: FieldType, date1904: bool) -> Any:
    """A cell as plan data of ``ftype``: lists split on semicolons (commas too for codes
    and whole numbers, which cannot hold a decimal comma)."""
    if ftype.kind not in ITEM_KIND:
        return _scalar(value, ftype.kind, date1904)
    item = ITEM_KIND[ftype.kind]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if item in ("text", "int") and LIST_SEPARATOR not in text:
            parts = text.split(",")
        else:
            parts = text.split(LIST_SEPARATOR)
        return [_scalar(p, item, date1904) for p in parts if p.strip()]
    one = _scalar(value, item, date1904)
    return None if one is None else [one]


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


class _Reader:
    def __init__(self, book: RawBook, file: str):
        self.book, self.file = book, file
        self.out = SetupRead({})
        self.grids = {name: _Grid(sheet.cells) for name, sheet in book.sheets.items()}
        # each sheet by its stable key, whichever language it shows its name in
        keys = sheet_keys()
        self.sheet_names = {keys.get(name.casefold(), name).casefold(): name
                            for name in book.sheets}
        self.words = Words(language_of(book.sheets))

    def note(self, path: PathKey, ref: str) -> None:
        self.out.order.setdefault(ref, len(self.out.order))
        self.out.cells.setdefault(path, ref)

    def problem(self, ref: str, message: str, path: PathKey = ()) -> None:
        self.out.order.setdefault(ref, len(self.out.order))
        self.out.problems.append(Problem(path, message, None, ref))

    def value(self, sheet: str, grid: _Grid, row: int, col: int, ftype: FieldType
              ) -> tuple[Any, str]:
        ref = _ref(sheet, row, col)
        cell = grid.at.get((row, col))
        if cell is None:
            return None, ref
        if cell.error:
            self.problem(ref, f"holds the error {cell.value}: type a value")
            return None, ref
        if cell.formula is not None and cell.value is None:
            constant = BOOLEAN_FORMULAS.get(cell.formula.lstrip("=").upper())
            if constant is not None:
                return convert(constant, ftype, self.book.date1904), ref
            self.problem(ref, "holds a formula with no saved result: type the value "
                              "(or open and save the file in Excel)")
            return None, ref
        return convert(cell.value, ftype, self.book.date1904), ref

    # tables -------------------------------------------------------------------------------
    def locate(self, table: Table) -> tuple[str, _Grid, int, int, dict[str, int]] | None:
        """The sheet, grid, header row, first column and column of each header of ``table``."""
        name = self.sheet_names.get(table.sheet.casefold())
        if name is None:
            return None
        grid = self.grids[name]
        found = _header_of(grid, table)
        if found is None:
            ref = _ref(name, HEADER_ROW, table.first_col)
            self.problem(ref, f"the {table.name} table is missing: expected its header "
                              f"{self.words(table.headers[0])!r} in column "
                              f"{col_letters(table.first_col + 1)} (columns "
                              f"{', '.join(map(self.words, table.headers))})")
            return None
        header_row, first_col, columns = found
        missing = [self.words(h) for h in table.headers if h.casefold() not in columns]
        if missing:
            self.problem(_ref(name, header_row, first_col),
                         f"the {table.name} table has no column {', '.join(map(repr, missing))}"
                         f" (expected {', '.join(map(self.words, table.headers))})")
        return name, grid, header_row, first_col, columns

    def rows(self, table: Table) -> tuple[str | None, list[dict[str, tuple[Any, str]]]]:
        """The cell of the table's first header and its non-empty rows
        ({header: (value, cell)})."""
        found = self.locate(table)
        if found is None:
            return None, []
        name, grid, header_row, first_col, columns = found
        out = []
        for row in range(header_row + 1, grid.max_row + 1):
            values = {}
            for column in table.columns:
                col = columns.get(column.header.casefold())
                if col is None:
                    continue
                values[column.header] = self.value(name, grid, row, col, column.type)
            if any(v is not None for v, _ in values.values()):
                out.append(values)
        return _ref(name, header_row, first_col), out

    def settings(self, table: Table) -> None:
        found = self.locate(table)
        if found is None:
            return
        name, grid, header_row, _, columns = found
        key_col, value_col = columns.get("setting"), columns.get("value")
        if key_col is None or value_col is None:
            return
        known = {s.key: s for s in table.settings}
        seen: dict[str, str] = {}
        for row in range(header_row + 1, grid.max_row + 1):
            key = grid.text(row, key_col)
            key_ref = _ref(name, row, key_col)
            setting = known.get(key)
            if setting is None:
                value, ref = self.value(name, grid, row, value_col, FieldType("text"))
                if key and value is not None:
                    self.problem(key_ref, f"unknown setting {key!r}"
                                          f"{did_you_mean(key, known)}")
                elif not key and value is not None:
                    self.problem(ref, "a value without a setting name in column "
                                      f"{col_letters(key_col + 1)}")
                continue
            value, ref = self.value(name, grid, row, value_col, setting.type)
            self.note(setting.path, ref)
            for k in range(1, len(setting.path)):
                self.note(setting.path[:k], ref)
            if key in seen:
                if value is not None:
                    self.problem(key_ref, f"setting {key!r} is given twice (first in "
                                          f"{seen[key]}); keep one", setting.path)
                continue
            seen[key] = key_ref
            if value is not None:
                _set(self.out.data, setting.path, value)

    def items(self, table: Table) -> None:
        header, found_rows = self.rows(table)
        if header is not None:
            self.note(table.path, header)
        items = []
        for i, values in enumerate(found_rows):
            item: dict[str, Any] = {}
            path: PathKey = (*table.path, i)
            for column in table.columns:
                value, ref = values.get(column.header, (None, ""))
                if not ref:
                    continue
                self.note((*path, *column.path), ref)
                if column is table.columns[0]:
                    self.note(path, ref)
                if value is not None:
                    _set(item, column.path, value)
            items.append(item)
        if found_rows:
            _set(self.out.data, table.path, items)

    def values(self, table: Table) -> None:
        header, found_rows = self.rows(table)
        if header is not None:
            self.note(table.path, header)
        value_col = table.columns[-1]
        entries: list[tuple[Any, Any, str]] = []
        for values in found_rows:
            value, ref = values.get(value_col.header, (None, ""))
            if table.index_header is None:
                if value is not None:
                    entries.append((len(entries), value, ref))
                continue
            index, index_ref = values.get(table.index_header, (None, ""))
            if value is None:
                continue
            position = self.words(Msg(table.index_header)).lower()
            if not isinstance(index, int) or not 1 <= index <= (table.size or 10**6):
                self.problem(index_ref or ref, f"expected a {position} "
                                               f"1-{table.size}, got {index!r}")
                continue
            if any(e[0] == index for e in entries):
                self.problem(index_ref, f"{position} {index} is given twice")
                continue
            entries.append((index, value, ref))
        if not entries:
            return
        entries.sort(key=lambda e: e[0])
        _set(self.out.data, table.path, [v for _, v, _ in entries])
        for k, (_, _, ref) in enumerate(entries):
            self.note((*table.path, k), ref)

    def children(self, table: Table) -> None:
        parents = self.out.data.get(table.path[0])
        parents = parents if isinstance(parents, list) else []
        index_of: dict[Any, int] = {}
        for i, parent in enumerate(parents):
            index_of.setdefault(parent.get(table.parent_key), i)
        counts: dict[int, int] = defaultdict(int)
        noun = PARENT_NOUN.get(table.name, "parent")
        key_col = table.columns[0]
        for values in self.rows(table)[1]:
            parent, parent_ref = values.get(key_col.header, (None, ""))
            if parent is None:
                first_ref = next(ref for _, ref in values.values())
                self.problem(parent_ref or first_ref, f"which {noun}? give its ID in column "
                                                      f"{self.words(key_col.header)!r}")
                continue
            if parent not in index_of:
                self.problem(parent_ref, f"unknown {noun} {parent!r}"
                                         f"{did_you_mean(parent, index_of)}")
                continue
            i = index_of[parent]
            j = counts[i]
            counts[i] += 1
            path = (table.path[0], i, table.path[1], j)
            own = parents[i].setdefault(table.path[1], [])
            if table.role == "child_values":
                value, ref = values.get(table.columns[1].header, (None, parent_ref))
                self.note(path, ref)
                own.append(value)
                continue
            item: dict[str, Any] = {}
            self.note(path, parent_ref)
            for column in table.columns[1:]:
                value, ref = values.get(column.header, (None, ""))
                if ref:
                    self.note((*path, *column.path), ref)
                if value is not None:
                    _set(item, column.path, value)
            own.append(item)

    def read(self) -> SetupRead:
        for table in TABLES:
            if table.role == "settings":
                self.settings(table)
            elif table.role == "list":
                self.items(table)
            elif table.role == "values":
                self.values(table)
            else:
                self.children(table)
        return self.out


def read_setup(path: Path) -> SetupRead:
    """The plan data of a setup workbook; :class:`SetupError` when the file is not one."""
    try:
        package = open_package(path, LIMITS)
    except Refused as exc:
        raise SetupError(f"cannot be read as a plan setup workbook: {exc}") from None
    try:
        book = read_book(package)
    except Refused as exc:
        raise SetupError(f"cannot be read as a plan setup workbook: {exc}") from None
    finally:
        package.close()
    keys = sheet_keys()
    names = {keys.get(n.casefold(), n).casefold() for n in book.sheets}
    missing = [s for s in REQUIRED_SHEETS if s.casefold() not in names]
    if missing:
        expected = ", ".join(map(Words(language_of(book.sheets)), (s.name for s in SHEETS)))
        raise SetupError(f"this is not a plan setup workbook: it has no sheet "
                         f"{' or '.join(map(repr, missing))} (a setup workbook has the sheets "
                         f"{expected}; write one with `xlplan init DIR --excel` or `xlplan plan "
                         "export PLAN.yaml -o plan.xlsx`)")
    return _Reader(book, str(path)).read()


__all__ = ["Column", "SetupError", "SetupRead", "read_setup"]
