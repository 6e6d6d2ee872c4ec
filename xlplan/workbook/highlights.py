"""Conditional formats the sheets share: status letters in their colour, the attainment heat
map, progress bars.

The colours live in :data:`~xlplan.workbook.styles.STATUS_COLOURS` and the heat map's
criteria in :func:`~xlplan.workbook.formulas.heat_criteria`, so a light reads the same on
every sheet of every workbook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xlplan.i18n import Msg, data, msg
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


BAND_ROWS = (("yellow", msg("On track: shortfall up to"), "G"),
             ("orange", msg("Watch: shortfall up to"), "Y"),
             ("red", msg("Intervene: shortfall up to"), "O"))
BEYOND = msg("Stop the loss: beyond that")


def write_status_bands(book: Book, sheet_key: str, s: Sheet, top: int, bands: Any,
                       note: Msg) -> tuple[dict[str, str], list[Msg]]:
    """The traffic-light bands block at row ``top``: each band's shortfall limit (a locked
    plan figure that the status formulas refer to) beside the letter it lights, then R
    beyond, coloured as the lights are, and ``note`` under them. Returns the limit cells
    (band → absolute reference on this sheet) and the row labels written (to size the
    column)."""
    s.label(top, 0, msg("Status lights"), "section")
    s.label(top, 1, msg("Shortfall"), "section")
    s.label(top, 2, msg("Light"), "section")
    cells = {}
    for i, (key, text, light) in enumerate(BAND_ROWS):
        row = top + 1 + i
        s.label(row, 0, text)
        s.given(row, 1, getattr(bands, key), "ratio")
        s.label(row, 2, data(light), "status")  # the letter the status cells show
        cells[key] = ref(row, 1, absolute=True)
    s.label(top + 4, 0, BEYOND)
    s.label(top + 4, 2, data("R"), "status")
    s.label(top + 5, 0, note, "note")
    add_status_colours(book, sheet_key, ref(top + 1, 2), ref(top + 4, 2))
    return cells, [text for _, text, _ in BAND_ROWS] + [BEYOND]
