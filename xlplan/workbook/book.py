"""A workbook being written, and the record of every cell in it.

Sheet writers never call XlsxWriter directly: they call :class:`Sheet`, which
writes the cell *and* records what it is (label, given number, formula with the
engine's value, or input with its rule). That one record gives:

- the manifest's fingerprint of locked cells (tampering is detected later);
- the list of input cells and their rules (consolidation reads only those);
- the engine's expected value of every formula cell, cached in the file (so
  any reader sees correct numbers before Excel recalculates) and checked by
  the tests against LibreOffice's recalculation.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _json_string
from pathlib import Path
from typing import Any, Literal, NamedTuple

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from xlplan.i18n import DEFAULT_LANGUAGE, Data, Msg, Words, msg
from xlplan.workbook.input_rules import InputCell, InputRule
from xlplan.workbook.styles import CJK_FONT, Styles

Kind = Literal["label", "given", "formula", "input"]
Value = float | int | str | bool | dt.date | None


class Cell(NamedTuple):
    """One written cell (a named tuple: a build records tens of thousands of them)."""

    sheet: str
    ref: str  # "B7"
    kind: Kind
    content: Value  # label text, given number, formula text, or an input's initial value
    expected: Value = None  # the engine's value of a formula cell

    def fingerprint_line(self) -> str:
        return fingerprint_line(self.sheet, self.ref, self.content)


def normalise(content: Value) -> Value:
    """One form for a cell's content however it was read: numbers as float, dates as ISO."""
    if isinstance(content, dt.datetime):
        content = content.date() if content.time() == dt.time() else content
    if isinstance(content, dt.date):
        return content.isoformat()
    if isinstance(content, bool):
        return content
    if isinstance(content, int | float):
        # 15 significant digits: what Excel keeps, and the same number whether it comes
        # from the builder (4095686.2600000002) or back from the file (4095686.26)
        return format(float(content), ".15g")
    return content


def fingerprint_line(sheet: str, cell: str, content: Value) -> str:
    """The line a locked cell adds to a fingerprint (sheet, cell, normalised content): the
    JSON array ``json.dumps([sheet, cell, content], ensure_ascii=False)`` writes, put
    together from json's own string encoder (a build makes one line per locked cell, and
    ``json.dumps`` for each was a tenth of the build)."""
    content = normalise(content)
    text = _json_string(content) if isinstance(content, str) else json.dumps(content)
    return f"[{_json_string(sheet)}, {_json_string(cell)}, {text}]"


def digest_lines(lines: Iterable[str]) -> str:
    """SHA-256 of fingerprint lines, in sorted order (independent of writing order)."""
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def close_workbook(wb: Any) -> None:
    """Close an XlsxWriter workbook; a failed write (disk full, no permission) comes out as
    the OSError it is, not XlsxWriter's FileCreateError, so callers report it as such."""
    try:
        wb.close()
    except xlsxwriter.exceptions.FileCreateError as exc:
        cause = exc.args[0] if exc.args else None
        raise cause if isinstance(cause, OSError) else OSError(str(exc)) from None


@functools.lru_cache(maxsize=1 << 16)
def ref(row: int, col: int, absolute: bool = False) -> str:
    """A1 reference of zero-based (row, col) (cached: the writers ask for the same cells
    many times, and a dry run of a build is mostly this)."""
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def quote_sheet(name: str) -> str:
    """A sheet name as a formula prefix: Targets! or 'My sheet'! ('目标'!: a name in another
    script is quoted, as Excel writes it)."""
    return f"{name}!" if name.isascii() and name.isalnum() else f"'{name}'!"


# The dynamic-array functions XlsxWriter's Worksheet._prepare_formula prefixes with _xlfn.
# (its 29 substitutions, including its own ``\SINGLE\(``), as one pattern.
_DYNAMIC = re.compile(
    r"\b(?:ANCHORARRAY|BYCOL|BYROW|CHOOSECOLS|CHOOSEROWS|DROP|EXPAND|FILTER|HSTACK|LAMBDA|"
    r"MAKEARRAY|MAP|RANDARRAY|REDUCE|SCAN|SEQUENCE|SORT|SORTBY|SWITCH|TAKE|TEXTSPLIT|TOCOL|"
    r"TOROW|UNIQUE|VSTACK|WRAPCOLS|WRAPROWS|XLOOKUP)\(|\SINGLE\(")


class FastWorksheet(Worksheet):
    """XlsxWriter's worksheet, skipping formula preparation when it would change nothing.

    ``_prepare_formula`` runs 29 regular-expression substitutions on every formula; a
    build writes tens of thousands of formulas that use none of those functions, and the
    substitutions were a third of the build's time. One search for any of them decides:
    no hit, the formula is returned as the original would return it; a hit, the original
    runs. (``tests/test_workbooks.py`` checks both give the same text.)
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if self.use_future_functions or expand_future_functions:
            return str(super()._prepare_formula(formula, expand_future_functions))
        text = formula[1:] if formula.startswith("{") else formula
        text = text[1:] if text.startswith("=") else text
        text = text[:-1] if text.endswith("}") else text
        if "_xlfn." in text or not _DYNAMIC.search(text):
            return text
        return str(super()._prepare_formula(formula, expand_future_functions))


class Sheet:
    """One worksheet: typed writes that are also recorded."""

    def __init__(self, book: Book, ws: Worksheet, name: str):
        self.book = book
        self.ws = ws
        self.name = name
        self.widest: dict[int, float] = {}  # column → width its widest money number needs

    def _measure(self, col: int, value: Value, style: str) -> None:
        """Remember how wide a money number is as shown, so its column never shows ###."""
        if self.book.path is None or isinstance(value, bool) or not isinstance(value,
                                                                              int | float):
            return
        width = self.book.styles.width_of(style, float(value))
        if width is not None and width > self.widest.get(col, 0.0):
            self.widest[col] = width

    def _record(self, row: int, col: int, kind: Kind, content: Value,
                expected: Value = None) -> None:
        self.book.cells.append(Cell(self.name, ref(row, col), kind, content, expected))

    def label(self, row: int, col: int, text: str, style: str = "label") -> None:
        """Fixed text: a catalog :class:`~xlplan.i18n.Msg`, shown in the book's language,
        or plan data marked with :func:`~xlplan.i18n.data`; anything else is written as it
        is and listed in ``Book.unmarked`` (a test keeps that list empty)."""
        shown = self.book.words(text)
        if not isinstance(text, Msg | Data) and text != "":
            self.book.unmarked.append((self.name, ref(row, col), text))
        self.ws.write_string(row, col, shown, self.book.styles[style])
        self._record(row, col, "label", shown)

    def heading(self, title: str, *notes: str) -> None:
        """A sheet's title in A1 and its notes (what the sheet is, how to read it) below."""
        self.label(0, 0, title, "title")
        for i, note in enumerate(notes, start=1):
            self.label(i, 0, note, "subtitle")

    def given(self, row: int, col: int, value: float | int | dt.date | None,
              style: str = "number") -> None:
        """A locked constant from the plan (a factor, a prior-year figure)."""
        if value is None:
            self.ws.write_blank(row, col, None, self.book.styles[style])
        elif isinstance(value, dt.date):
            self.ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()),
                                   self.book.styles[style])
        else:
            self.ws.write_number(row, col, float(value), self.book.styles[style])
            self._measure(col, value, style)
        self._record(row, col, "given", value)

    def formula(self, row: int, col: int, formula: str, expected: Value,
                style: str = "money") -> str:
        """A native formula with the engine's value cached; returns its A1 reference."""
        text = formula if formula.startswith("=") else f"={formula}"
        if isinstance(expected, float) and expected != expected:  # NaN: the cell shows ""
            expected = ""
        self.ws.write_formula(row, col, text, self.book.styles[style], expected)
        self._measure(col, expected, style)
        self._record(row, col, "formula", text, expected)
        return ref(row, col)

    def filled(self, row: int, col: int) -> Value:
        """The value an input cell is built with (None when blank).

        Writers compute the engine's value of every formula from these, so a
        workbook rebuilt with a submission's inputs predicts every cached value.
        """
        self.book.lookups += 1
        return self.book.fill.get((self.name, ref(row, col)))

    def input(self, row: int, col: int, value: Value, rule: InputRule, *, item: str,
              period: str = "", style: str = "input_money", validate: bool = True) -> None:
        """An unlocked, validated input cell, listed in the manifest.

        ``value`` is the default; a value in ``book.fill`` for this cell wins.
        ``validate=False``: the caller validates it with others in one :meth:`validate`.
        """
        key = (self.name, ref(row, col))
        self.book.lookups += 1
        value = self.book.shown.get(key, self.book.fill.get(key, value))
        fmt = self.book.styles[style]
        if value is None or value == "":
            self.ws.write_blank(row, col, None, fmt)
        elif isinstance(value, dt.date):
            self.ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
        elif isinstance(value, str):
            self.ws.write_string(row, col, value, fmt)
        else:
            self.ws.write_number(row, col, float(value), fmt)
            self._measure(col, value, style)
        if validate:
            self.ws.data_validation(row, col, row, col, rule.validation(self.book.words))
        self._record(row, col, "input", value)
        self.book.inputs.append(InputCell(self.name, ref(row, col), item, period, rule))

    def validate(self, ranges: list[tuple[int, int, int, int]], rule: InputRule) -> None:
        """One data validation over many ranges of inputs (first row, first column, last
        row, last column): a sheet of thousands of like inputs (the BSC's days) carries one
        validation per rule, not one per cell, so it stays small to write and to read."""
        if not ranges or self.book.path is None:
            return
        sqref = " ".join(f"{ref(r0, c0)}:{ref(r1, c1)}" for r0, c0, r1, c1 in ranges)
        self.ws.data_validation(*ranges[0], {**rule.validation(self.book.words),
                                             "multi_range": sqref})

    def widths(self, widths: dict[int, float]) -> None:
        for col, width in widths.items():
            self.ws.set_column(col, col, width)

    def fit_numbers(self) -> None:
        """Widen each column its money numbers do not fit (never narrow one): a number too
        wide for its column shows as ### in Excel and LibreOffice."""
        for col, width in sorted(self.widest.items()):
            info = self.ws.col_info.get(col)
            pixels = int(width * self.ws.max_digit_width + 0.5) + self.ws.cell_padding
            current = info.width if info is not None and info.width is not None else 64
            if current < pixels:
                self.ws.set_column_pixels(col, col, pixels,
                                          info.column_format if info is not None else None,
                                          {"hidden": info.hidden, "level": info.level,
                                           "collapsed": info.collapsed} if info else None)

    def print_setup(self) -> None:
        """Landscape, one page wide (as long as it needs), A4, the sheet name and page
        number in the footer: every sheet prints readably without anyone setting it up."""
        self.ws.set_landscape()
        self.ws.set_paper(9)
        self.ws.fit_to_pages(1, 0)
        self.ws.set_footer(self.book.words(msg("&L&A&RPage &P of &N")))

    def protect(self) -> None:
        self.ws.protect(self.book.password, {"format_columns": True, "format_rows": True,
                                             "select_locked_cells": True,
                                             "select_unlocked_cells": True})


class _Nothing:
    """Stands in for XlsxWriter objects in a dry run: every call is accepted and ignored."""

    def __getattr__(self, name: str) -> _Nothing:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> _Nothing:
        return self

    def __getitem__(self, key: Any) -> _Nothing:
        return self

    def __iter__(self) -> Any:
        return iter(())


@dataclass
class Book:
    """An XlsxWriter workbook plus the record of its cells; see the module docstring.

    With ``path=None`` the book is a dry run: the writers run and every cell is
    recorded, but no file is written. Consolidation uses this to predict a
    submission's every locked cell and formula value from its inputs, at a
    fraction of the cost of writing the file.
    """

    path: Path | None
    password: str = ""
    fill: dict[tuple[str, str], Value] = field(default_factory=dict)  # (sheet, A1) → input
    # what an input cell shows when it is not what the formulas were computed from: only to
    # make a stale workbook (typed after calculation was switched to manual) for demos
    shown: dict[tuple[str, str], Value] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    inputs: list[InputCell] = field(default_factory=list)
    lookups: int = 0  # how often a writer asked for an input's value (see predict_unit)
    language: str = DEFAULT_LANGUAGE  # what the fixed text is shown in (xlplan.i18n)
    amounts: str = "yuan"  # workbooks.amount_display: yuan, thousand or wan
    # label cells whose text was neither a catalog message nor marked plan data
    unmarked: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.words = Words(self.language)
        if self.path is None:
            self.wb: Any = _Nothing()
            self.styles: Any = _Nothing()
            self.sheets: dict[str, Sheet] = {}
            return
        options: dict[str, Any] = {
            "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        if self.language == "zh":
            options["default_format_properties"] = {"font_name": CJK_FONT}
        self.wb = xlsxwriter.Workbook(str(self.path), options)
        self.wb.set_calc_mode("auto")
        self.wb.set_size(1400, 900)
        self.styles = Styles(self.wb, self.amounts)
        self.sheets = {}

    def sheet(self, key: str) -> Sheet:
        """The sheet of ``key`` (a writer's stable name, a :class:`~xlplan.i18n.Msg`), made
        on first use and named in the book's language (Targets, 目标); ``sheets`` is by key,
        the cells and the manifest name the sheet as the workbook shows it."""
        if key not in self.sheets:
            name = self.words(key)
            self.sheets[key] = Sheet(self, self.wb.add_worksheet(
                name, worksheet_class=FastWorksheet), name)
        return self.sheets[key]

    def quote(self, key: str) -> str:
        """The formula prefix of the sheet of ``key`` as this book names it."""
        return quote_sheet(self.words(key))

    def define(self, name: str, target: str) -> None:
        """A workbook-level defined name (``=Targets!$B$3``)."""
        self.wb.define_name(name, target if target.startswith("=") else f"={target}")

    def locked_cells(self) -> list[Cell]:
        """Cells with locked content (blank given cells carry nothing and are left out)."""
        return [c for c in self.cells if c.kind != "input" and c.content not in (None, "")]

    def fingerprints(self) -> tuple[str, dict[str, str]]:
        """SHA-256 over every locked cell (labels, given numbers, formulas): of the whole
        book, and of each sheet (so a finding can name the sheet). One pass over the cells."""
        by_sheet: dict[str, list[str]] = {sheet.name: [] for sheet in self.sheets.values()}
        for cell in self.locked_cells():
            by_sheet.setdefault(cell.sheet, []).append(cell.fingerprint_line())
        every = [line for lines in by_sheet.values() for line in lines]
        return digest_lines(every), {name: digest_lines(lines) for name, lines in
                                     by_sheet.items()}

    def expected_values(self) -> dict[tuple[str, str], Any]:
        """(sheet, cell) → the engine's value, for every formula cell."""
        return {(c.sheet, c.ref): c.expected for c in self.cells if c.kind == "formula"}

    def close(self) -> None:
        """Write the file, then let XlsxWriter's in-memory copy go (it costs ~300 bytes a cell;
        the record of cells is what callers keep)."""
        for sheet in self.sheets.values():
            sheet.fit_numbers()
        close_workbook(self.wb)
        del self.wb, self.styles
        for sheet in self.sheets.values():
            del sheet.ws
