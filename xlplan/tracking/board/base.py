"""What every sheet of the tracking board shares: styles, the cells sheets refer to, money.

Every number on the board is the engine's (:mod:`xlplan.tracking.track`): given figures are
written as constants, derived ones as native formulas with the engine's value cached,
through the :class:`~xlplan.workbook.book.Book` recorder, so the file reads right before any
recalculation and the tests can hold every formula cell to the engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlplan.engine.rounding import major_float
from xlplan.i18n import Data, Msg, data, display_width, month_label, msg
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet
from xlplan.workbook.dashboard import axis_format
from xlplan.workbook.highlights import add_heat_map
from xlplan.workbook.layout import amounts_in
from xlplan.workbook.styles import RATIO

# the words the board shows for the engine's codes (budget flags and the ROI freeze)
FLAG_WORDS = {"over": msg("over"), "under": msg("under"), "within": msg("within"),
              "frozen": msg("frozen")}

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

    def unit_label(self, unit: str) -> Msg | Data:
        return msg("Company") if unit == self.r.targets.root else data(self.names[unit])

    def words(self, text: str) -> str:
        """A message as the board shows it (chart titles, series names, formula strings)."""
        return self.book.words(text)

    def flags(self) -> dict[str, str]:
        """The budget flags as this board shows them (written by formulas as strings)."""
        return {code: self.words(word) for code, word in FLAG_WORDS.items()}

    def month_labels(self) -> list[Msg]:
        """The fiscal months as headings (Mar 2027, 2027年3月)."""
        return [month_label(y, m) for y, m in self.r.calendar.months]

    def money_axis(self, largest: float) -> dict[str, Any]:
        """A chart's money axis: its title (the currency) and a short number format (K, M;
        千, 百万 in Chinese), whatever workbooks.amount_display the cells use."""
        short = axis_format(largest)
        if self.book.language == "zh":
            short = short.replace('"M"', '"百万"').replace('"K"', '"千"')
        return {"name": self.words(msg("Amount ({currency})",
                                       currency=data(self.plan.currency.code))),
                "name_font": {"size": 8, "bold": False}, "num_format": short,
                "num_font": {"size": 8}}

    def amounts(self) -> Msg | Data:
        """What amounts are shown in (CNY, 千元, 万元: workbooks.amount_display)."""
        return amounts_in(self.plan)

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


def week_label(label: str) -> Msg:
    """An ISO week (``2027-W14``) as a heading: W14 2027, 2027年第14周."""
    year, week = label.split("-W")
    return msg("W{week} {year}", week=data(week), year=data(year))


def fit_column(s: Sheet, col: int, texts: Iterable[Any], least: float, most: float = 60
               ) -> float:
    """Set column ``col`` as wide as the widest of ``texts`` as the sheet shows them (a CJK
    character counts two), at least ``least``, at most ``most``; returns the width."""
    widest = max((display_width(s.book.words(t)) for t in texts if isinstance(t, str)),
                 default=0)
    width = min(max(least, widest * 1.1 + 1), most)
    s.ws.set_column(col, col, width)
    return width


def none_if_nan(x: float) -> float | None:
    """The engine's NaN ("no value") as an empty cell."""
    return None if math.isnan(x) else x
