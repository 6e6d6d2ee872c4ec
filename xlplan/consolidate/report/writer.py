"""The consolidated workbook's pen: sheets in the plan's language, tables of frames with
headers from the catalog, every number formatted (amounts in the plan's display unit),
widths from the text as shown, status colours with a legend, print set-up.

The sheet writers (:mod:`.sheets`, :mod:`.summary`) say *what* a column is (a
:class:`Column`: a frame column, its header message, its kind); this module decides how
each kind looks, so that every table of the report looks alike.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from xlplan.engine.phasing import fiscal_months
from xlplan.i18n import Data, Msg, Words, amount_unit, data, display_width, month_label, msg
from xlplan.spec.models import Plan
from xlplan.workbook.book import close_workbook, quote_sheet
from xlplan.workbook.styles import CJK_FONT, HEADER_FILL, MONEY, RATIO, SCALED, WHOLE, shown_number

STATUS_FILL = {"G": "#C6EFCE", "Y": "#FFEB9C", "O": "#F8CBAD", "R": "#FFC7CE"}
FILE_FILL = {"accepted": "#C6EFCE", "warnings": "#FFEB9C", "missing": "#D9D9D9",
             "rejected": "#FFC7CE", "superseded": "#EDEDED", "incomplete": "#E4DFEC"}
SEASON_FILL = {"approved": "#C6EFCE", "submitted": "#DDEBF7", "resubmitted": "#DDEBF7",
               "late": "#FFEB9C", "returned": "#F8CBAD", "rejected": "#FFC7CE",
               "missing": "#D9D9D9", "incomplete": "#E4DFEC"}

# the strong tone of each fill, for a legend's coloured square
GLYPH = {"#C6EFCE": "#00B050", "#FFEB9C": "#FFC000", "#F8CBAD": "#ED7D31", "#FFC7CE": "#C00000",
         "#D9D9D9": "#808080", "#EDEDED": "#BFBFBF", "#E4DFEC": "#7030A0", "#DDEBF7": "#2F75B5"}
# what each state in the data is called in the workbook (the data keeps its English codes)
FILE_WORDS: dict[str, Msg] = {
    "accepted": msg("accepted"), "warnings": msg("accepted with warnings"),
    "incomplete": msg("incomplete"), "rejected": msg("rejected"), "missing": msg("missing"),
    "superseded": msg("superseded")}
SEASON_WORDS: dict[str, Msg] = {
    "not_sent": msg("not sent"), "sent": msg("sent"), "submitted": msg("submitted"),
    "late": msg("late"), "incomplete": msg("incomplete"), "returned": msg("returned"),
    "resubmitted": msg("resubmitted"), "rejected": msg("rejected"), "approved": msg("approved"),
    "missing": msg("missing")}
LEVEL_WORDS: dict[str, Msg] = {"error": msg("error"), "warning": msg("warning"),
                               "info": msg("note")}
PERSPECTIVE_WORDS: dict[str, Msg] = {
    "financial": msg("Financial"), "customer": msg("Customer"),
    "process": msg("Internal process"), "learning": msg("Learning and growth")}
YES_NO: dict[bool, Msg] = {True: msg("yes"), False: msg("no")}

NUMERIC = {"money", "number", "int", "pct", "score", "date", "datetime", "month"}
TOP = 3  # the table's header row (0: title, 1: note, 2: legend)
WRAP_AT = 60  # text wider than this wraps in a column this wide
LINE = 15  # points per line of text


@dataclass(frozen=True)
class Column:
    """A column of a table: the frame's column ``key``, its header, and its kind:
    code / data (as written) / money (the display unit) / number / int / pct / score /
    date / datetime / month (M01…M12 as the fiscal month) / word (``words`` maps a value to
    a message) / status (a word or a light letter, coloured)."""

    key: str
    header: Msg
    kind: str = "data"
    words: Mapping[Any, str] | None = None  # a Msg, or data shown as it is
    fills: Mapping[str, str] | None = field(default=None)


class Writer:
    """One consolidated workbook being written, in the plan's language and display unit."""

    def __init__(self, path: Path, plan: Plan):
        self.plan = plan
        self.language = plan.workbooks.language
        self.words = Words(self.language)
        options: dict[str, Any] = {"nan_inf_to_errors": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False}
        if self.language == "zh":
            options["default_format_properties"] = {"font_name": CJK_FONT}
        self.wb = xlsxwriter.Workbook(str(path), options)
        self.wb.set_calc_mode("auto")
        self.wb.set_size(1400, 900)
        self.amount_unit: Msg | Data = amount_unit(plan.currency.code,
                                                   plan.workbooks.amount_display)
        scaled = SCALED[plan.workbooks.amount_display]
        self.money_format = scaled[MONEY]
        self.whole_format = scaled[WHOLE]
        self.month_format = 'yyyy"年"m"月"' if self.language == "zh" else "mmm yyyy"
        self.months = {f"M{i + 1:02d}": dt.datetime(y, m, 1) for i, (y, m) in
                       enumerate(fiscal_months(plan.fiscal_year, plan.first_month))}
        font = {"font_name": CJK_FONT} if self.language == "zh" else {}
        base: dict[str, dict[str, Any]] = {
            "title": {"bold": True, "font_size": 14, "font_color": HEADER_FILL},
            "note": {"italic": True, "font_color": "#595959"},
            "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL,
                       "text_wrap": True, "valign": "vcenter", "border": 1},
            "section": {"bold": True, "font_size": 12, "font_color": HEADER_FILL, "bottom": 2,
                        "bottom_color": HEADER_FILL},
            "bold": {"bold": True},
            "money": {"num_format": self.money_format},
            "money_bold": {"num_format": self.money_format, "bold": True},
            "whole": {"num_format": self.whole_format},
            "whole_bold": {"num_format": self.whole_format, "bold": True},
            "number": {"num_format": "#,##0.0#"},
            "int": {"num_format": "#,##0"},
            "int_bold": {"num_format": "#,##0", "bold": True},
            "pct": {"num_format": RATIO},
            "pct_bold": {"num_format": RATIO, "bold": True},
            "score": {"num_format": "0.0"},
            "date": {"num_format": "yyyy-mm-dd"},
            "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
            "month": {"num_format": self.month_format, "align": "left"},
            "wrap": {"text_wrap": True, "valign": "top"},
            "data": {}, "code": {}, "word": {}, "status": {"align": "center"},
            "link": {"font_color": "#0563C1", "underline": 1},
            "gap_money": {"num_format": self.money_format, "bold": True, "font_color": "#C00000",
                          "bg_color": "#FCE4D6"},
            "gap_label": {"bold": True, "font_color": "#C00000", "bg_color": "#FCE4D6"},
            "headline": {"num_format": self.money_format, "bold": True, "font_size": 12},
        }
        self.fmt: dict[str, Format] = {k: self.wb.add_format({**font, **v})
                                       for k, v in base.items()}
        self.fills: dict[str, Format] = {}
        self.sheet_names: dict[str, str] = {}  # a sheet's stable key → its name as shown

    # -- words -------------------------------------------------------------------------------

    def __call__(self, text: str) -> str:
        """``text`` as the reader sees it (a message translated, data as it is)."""
        return self.words(text)

    def money(self, header: Msg) -> Msg:
        """A money column's header with the display unit: 目标（万元）, Target (CNY)."""
        return msg("{name} ({unit})", name=header, unit=self.amount_unit)

    def months_label(self, key: str) -> Msg:
        """The fiscal month ``key`` (M01…M12) as a heading: Mar 2027, 2027年3月."""
        when = self.months[key]
        return month_label(when.year, when.month)

    def fill(self, colour: str, bold: bool = False) -> Format:
        key = f"{colour}{bold}"
        if key not in self.fills:
            self.fills[key] = self.wb.add_format({"bg_color": colour, "bold": bold,
                                                  "align": "center"})
        return self.fills[key]

    # -- sheets ------------------------------------------------------------------------------

    def sheet(self, key: Msg) -> Worksheet:
        """A new sheet named ``key`` in the workbook's language (``key`` stays its stable
        name, for links between sheets)."""
        name = self(key)[:31]
        self.sheet_names[str(key)] = name
        return self.wb.add_worksheet(name)

    def link(self, key: str, row: int, col: int = 0) -> str:
        """An internal hyperlink target: the cell (row, col) of sheet ``key``."""
        return f"internal:{quote_sheet(self.sheet_names[key])}{xl_rowcol_to_cell(row, col)}"

    def heading(self, ws: Worksheet, title: Msg, note: str | None = None) -> None:
        ws.write_string(0, 0, self(title), self.fmt["title"])
        if note:
            ws.write_string(1, 0, self(note), self.fmt["note"])

    def legend(self, ws: Worksheet, row: int, items: Sequence[tuple[str, str]],
               col: int = 0) -> None:
        """One cell saying what each colour means (a coloured ■ before each meaning): one
        cell, so that it never widens or crowds the table's columns below it."""
        parts: list[Any] = [self.fmt["bold"], self(msg("Legend:")) + " "]
        for colour, words in items:
            parts += [self.glyph(colour), "■ ", self.fmt["data"], self(words) + "    "]
        ws.write_rich_string(row, col, *parts)

    def glyph(self, colour: str) -> Format:
        """A font in the strong tone of a status fill, for the legend's squares."""
        key = f"glyph{colour}"
        if key not in self.fills:
            self.fills[key] = self.wb.add_format({"font_color": GLYPH.get(colour, colour),
                                                  "bold": True, "font_size": 13})
        return self.fills[key]

    def light_legend(self) -> list[tuple[str, str]]:
        """What G, Y, O and R mean by the plan's bands (shortfall from 100%)."""
        b = self.plan.status_bands

        def pct(x: float) -> Data:
            return data(f"{(1 - x) * 100:.0f}%")

        return [(STATUS_FILL["G"], msg("G on track (≥ {floor})", floor=pct(b.yellow))),
                (STATUS_FILL["Y"], msg("Y watch (≥ {floor})", floor=pct(b.orange))),
                (STATUS_FILL["O"], msg("O at risk (≥ {floor})", floor=pct(b.red))),
                (STATUS_FILL["R"], msg("R off track (< {floor})", floor=pct(b.red)))]

    def print_setup(self, ws: Worksheet, repeat: int | None = None, one_page: bool = False
                    ) -> None:
        """A4 landscape, one page wide (``one_page``: one page in all), the sheet name and
        page number in the footer, the header row repeated on every page."""
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.fit_to_pages(1, 1 if one_page else 0)
        ws.set_footer(self(msg("&L&A&RPage &P of &N")))
        if repeat is not None:
            ws.repeat_rows(repeat)

    # -- tables ------------------------------------------------------------------------------

    def values(self, frame: pd.DataFrame, column: Column) -> list[Any]:
        """A column's cells as written: numbers as floats (blank for NaN), dates as
        datetimes, words translated, text as text."""
        series = frame[column.key] if column.key in frame else pd.Series(
            [None] * len(frame), index=frame.index, dtype=object)
        kind = column.kind
        if kind in ("money", "number", "int", "pct", "score"):
            numbers = pd.to_numeric(series, errors="coerce").astype(float)
            return [None if math.isnan(v) else v for v in numbers.tolist()]
        if kind in ("date", "datetime"):
            when = pd.to_datetime(series.replace("", None), errors="coerce", utc=True)
            when = when.dt.tz_localize(None)
            return [None if pd.isna(v) else v.to_pydatetime() for v in when]
        if kind == "month":
            return [self.months.get(str(v)) for v in series.tolist()]
        if kind in ("word", "status"):
            shown = {k: self(v) for k, v in (column.words or {}).items()}
            return [None if v is None or v != v or v == "" else shown.get(v, str(v))
                    for v in series.tolist()]
        return [None if v is None or v != v or v == "" else str(v) for v in series.tolist()]

    def width(self, column: Column, cells: list[Any]) -> float:
        """The column's width: its widest value as shown (CJK counting double), at least
        its header's longest word; long text is capped and wraps."""
        header = self(column.header)
        want = max([display_width(w) for w in header.split()] + [6])
        kind = column.kind
        numbers = [abs(v) for v in cells if isinstance(v, float)]
        if kind == "money" and numbers:
            want = max(want, len(shown_number(self.money_format, max(numbers)) or "") + 2)
        elif kind in ("number", "int", "score") and numbers:
            want = max(want, len(f"{max(numbers):,.2f}") + 2)
        elif kind == "pct" and numbers:
            want = max(want, len(f"{max(numbers) * 100:,.1f}%") + 2)
        elif kind == "date":
            want = max(want, 11)
        elif kind == "datetime":
            want = max(want, 17)
        elif kind == "month":
            want = max(want, 10)
        else:
            texts = {v for v in cells if isinstance(v, str)}
            longest = sorted(texts, key=len, reverse=True)[:50]
            want = max([want] + [display_width(t) + 2 for t in longest])
        return float(min(want, WRAP_AT))

    def wraps(self, column: Column, width: float, cells: list[Any]) -> bool:
        return column.kind not in NUMERIC and width >= WRAP_AT and any(
            isinstance(v, str) and display_width(v) > width for v in cells)

    def table(self, key: Msg, frame: pd.DataFrame, columns: Sequence[Column], name: str,
              title: Msg, note: str | None = None, freeze: int = 0,
              legend: Sequence[tuple[str, str]] = ()) -> Worksheet:
        """A sheet holding one Excel table of ``frame`` under a title, a note and a legend."""
        ws = self.sheet(key)
        self.heading(ws, title, note)
        if legend:
            self.legend(ws, 2, legend)
        cells = [self.values(frame, c) for c in columns]
        n = max(len(frame), 1)
        rows = [list(r) for r in zip(*cells, strict=True)] if len(frame) else [
            [None] * len(columns)]
        formats = []
        for i, (column, values) in enumerate(zip(columns, cells, strict=True)):
            width = self.width(column, values)
            style = "wrap" if self.wraps(column, width, values) else column.kind
            fmt = self.fmt.get(style, self.fmt["data"])
            formats.append(fmt)
            ws.set_column(i, i, width)
        ws.add_table(TOP, 0, TOP + n, len(columns) - 1, {
            "name": name, "style": "Table Style Light 9",
            "columns": [{"header": self(c.header), "format": f,
                         "header_format": self.fmt["header"]}
                        for c, f in zip(columns, formats, strict=True)],
            "data": rows})
        ws.set_row(TOP, LINE * 2)
        for c, column in enumerate(columns):
            if column.kind == "status" and len(frame):
                self.colour_states(ws, TOP + 1, TOP + n, c, column)
        ws.freeze_panes(TOP + 1, freeze)
        self.print_setup(ws, repeat=TOP)
        return ws

    def colour_states(self, ws: Worksheet, first: int, last: int, col: int,
                      column: Column) -> None:
        """Each state its colour (conditional formats on the words as shown)."""
        fills = column.fills or STATUS_FILL
        for state, colour in fills.items():
            shown = self((column.words or {}).get(state, data(state)))
            ws.conditional_format(first, col, last, col, {
                "type": "cell", "criteria": "==", "value": f'"{shown}"',
                "format": self.wb.add_format({"bg_color": colour})})

    def close(self) -> None:
        close_workbook(self.wb)
