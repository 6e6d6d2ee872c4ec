"""Conditional formats the sheets share: status letters in their colour, the attainment heat
map, progress bars.

The colours live in :data:`~xlplan.workbook.styles.STATUS_COLOURS` and the heat map's
criteria in :func:`~xlplan.workbook.formulas.heat_criteria`, so a light reads the same on
every sheet of every workbook.
"""

from __future__ import annotations

from collections.abc import Mapping

from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.formulas import heat_criteria
from xlplan.workbook.styles import STATUS_COLOURS

BAR_COLOUR = "#9BC2E6"


def add_status_colours(book: Book, sheet_name: str, first: str, last: str) -> None:
    """Conditional-format status letters G/Y/O/R in a range (e.g. "E5", "E40")."""
    ws = book.sheets[sheet_name].ws
    for letter, colour in STATUS_COLOURS.items():
        ws.conditional_format(f"{first}:{last}", {
            "type": "cell", "criteria": "==", "value": f'"{letter}"',
            "format": book.wb.add_format({"bg_color": colour})})


def add_heat_map(book: Book, s: Sheet, first_row: int, first_col: int, last_row: int,
                 last_col: int, bands: Mapping[str, str]) -> None:
    """Colour each attainment cell of the range by its light (blank cells stay white)."""
    criteria = heat_criteria(ref(first_row, first_col), bands)
    for light, criterion in criteria.items():
        s.ws.conditional_format(first_row, first_col, last_row, last_col, {
            "type": "formula", "criteria": criterion,
            "format": book.wb.add_format({"bg_color": STATUS_COLOURS[light]})})


def add_data_bar(s: Sheet, first_row: int, col: int, last_row: int, top: int) -> None:
    """A bar in each cell of a column, from 0 to ``top`` (1 for progress, 10 for scores)."""
    s.ws.conditional_format(first_row, col, last_row, col, {
        "type": "data_bar", "bar_color": BAR_COLOUR, "min_type": "num", "min_value": 0,
        "max_type": "num", "max_value": top})
