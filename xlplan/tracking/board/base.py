"""What every sheet of the tracking board shares: styles, the cells sheets refer to, money.

Every number on the board is the engine's (:mod:`xlplan.tracking.track`): given figures are
written as constants, derived ones as native formulas with the engine's value cached,
through the :class:`~xlplan.workbook.book.Book` recorder, so the file reads right before any
recalculation and the tests can hold every formula cell to the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from xlplan.engine.rounding import major_float
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet
from xlplan.workbook.highlights import add_heat_map
from xlplan.workbook.styles import RATIO

# Top-aligned twins of shared styles, for rows that hold wrapped text (the shared set has
# money_top and status_top but not these).
EXTRA_STYLES = {
    "ratio_top": {"num_format": RATIO, "valign": "top"},
    "integer_top": {"num_format": "0", "valign": "top"},
    "wrap_top": {"text_wrap": True, "valign": "top"},
    "bold_top": {"bold": True, "valign": "top"},
}


def add_styles(book: Book) -> None:
    """Register :data:`EXTRA_STYLES` with the book's styles (looked up by name like the rest)."""
    cache = book.styles._cache  # Styles looks a name up here before its shared table
    for name, props in EXTRA_STYLES.items():
        if name not in cache:
            cache[name] = book.wb.add_format(props)


@dataclass
class Refs:
    """Cells other sheets and the headline refer to."""

    bands: dict[str, str] = field(default_factory=dict)  # absolute, on Board
    rows: dict[str, int] = field(default_factory=dict)  # unit → row of the attainment table
    ytd: dict[str, str] = field(default_factory=dict)  # headline key → cell


class BoardWriter:
    """Shared helpers of the board's sheets: money, bands, names."""

    def __init__(self, book: Book, result: TrackResult, refs: Refs | None = None):
        self.book, self.r = book, result
        self.plan = result.plan
        self.su: Decimal = self.plan.currency.smallest_unit
        self.refs = refs if refs is not None else Refs()
        self.names = result.names
        self.units = result.units

    def money(self, minor: int | float) -> float:
        """Minor units as the double nearest the decimal amount (what a cell holds)."""
        return major_float(minor, self.su)

    def unit_label(self, unit: str) -> str:
        return "Company" if unit == self.r.targets.root else self.names[unit]

    def status(self, cell: str) -> str:
        return formulas.status_light(cell, self.refs.bands)

    def heat(self, s: Sheet, first_row: int, first_col: int, last_row: int, last_col: int,
             ) -> None:
        """Colour attainment cells by their light (the status heat map)."""
        add_heat_map(self.book, s, first_row, first_col, last_row, last_col, self.refs.bands)


@dataclass
class Extra:
    """What the Board's headline needs from the other sheets."""

    warnings: tuple[str, str] = ("", "")  # the level and state columns of the Warnings sheet
    headline: dict[str, tuple[str, float | str, str]] = field(default_factory=dict)


def none_if_nan(x: float) -> float | None:
    """The engine's NaN ("no value") as an empty cell."""
    return None if math.isnan(x) else x
