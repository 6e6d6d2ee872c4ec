"""Cell styles shared by every sheet: inputs look like inputs, everything else is locked.

The input colour (light yellow fill, blue text) is the usual financial-model
convention and is explained on every Guide sheet.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

INPUT_FILL = "#FFF2CC"
INPUT_FONT = "#1F4E79"
HEADER_FILL = "#1F4E79"
MONEY = "#,##0.00"
WHOLE = "#,##0"  # money in whole currency units (the Dashboard)
RATIO = "0.0%"
GAP_FILL = "#FCE4D6"
GAP_FONT = "#C00000"
# amounts shown in thousands or ten-thousands (workbooks.amount_display): number formats
# only, the values stay exact to the cent. A trailing comma divides by 1,000; 万 (10,000)
# has no Excel scaling, so its format shows thousands with a literal point before the last
# digit (12,345,678 → 1234.6).
SCALED = {"yuan": {MONEY: MONEY, WHOLE: WHOLE},
          "thousand": {MONEY: "#,##0.0,", WHOLE: "#,##0,"},
          "wan": {MONEY: "0\\.0,", WHOLE: "0\\.0,"}}
# the font of a Chinese workbook: 等线 (DengXian), Office's own CJK font on Windows and Mac
CJK_FONT = "等线"
STATUS_COLOURS = {"G": "#C6EFCE", "Y": "#FFEB9C", "O": "#F8CBAD", "R": "#FFC7CE"}

BASE: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14, "font_color": HEADER_FILL},
    "subtitle": {"italic": True, "font_color": "#595959"},
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "text_wrap": True,
               "valign": "vcenter", "border": 1},
    "label": {},
    "bold": {"bold": True},
    "wrap": {"text_wrap": True, "valign": "top"},
    "money": {"num_format": MONEY},
    "money_bold": {"num_format": MONEY, "bold": True, "top": 1},
    "number": {"num_format": "#,##0.####"},
    "integer": {"num_format": "0"},
    "ratio": {"num_format": RATIO},
    "factor": {"num_format": "0.00##"},
    "date": {"num_format": "yyyy-mm-dd"},
    "status": {"align": "center", "bold": True},
    "calc": {"num_format": "0.#########", "font_color": "#7F7F7F"},
    "legend": {"bg_color": INPUT_FILL, "font_color": INPUT_FONT, "border": 1},
    # a locked cell among inputs that takes no value (e.g. a day of a monthly KPI)
    "na": {"bg_color": "#F2F2F2"},
    "score": {"num_format": "0.0"},
    # the uncovered gap of the increment bridge: always visible, never mistaken for a lever
    "gap_label": {"bold": True, "bg_color": GAP_FILL, "font_color": GAP_FONT, "top": 1,
                  "bottom": 1},
    "gap_money": {"num_format": MONEY, "bold": True, "bg_color": GAP_FILL, "font_color": GAP_FONT,
                  "top": 1, "bottom": 1},
    "gap_ratio": {"num_format": RATIO, "bold": True, "bg_color": GAP_FILL, "font_color": GAP_FONT,
                  "top": 1, "bottom": 1},
    "ratio_bold": {"num_format": RATIO, "bold": True, "top": 1},
    "count": {"num_format": "0", "align": "left"},
    # cells beside wrapped text align to the top of the row, as the wrapped text does
    "top": {"valign": "top"},
    "money_top": {"num_format": MONEY, "valign": "top"},
    "date_top": {"num_format": "yyyy-mm-dd", "valign": "top"},
    "status_top": {"align": "center", "bold": True, "valign": "top"},
    "date_calc": {"num_format": "yyyy-mm-dd", "font_color": "#7F7F7F", "font_size": 8},
    # the Dashboard: whole currency units, section headings, headline figures, check marks
    "money0": {"num_format": WHOLE},
    "money0_bold": {"num_format": WHOLE, "bold": True, "top": 1},
    "headline": {"num_format": WHOLE, "bold": True, "font_size": 12},
    "headline_ratio": {"num_format": RATIO, "bold": True, "font_size": 12},
    "headline_gap": {"num_format": WHOLE, "bold": True, "font_size": 12, "bg_color": GAP_FILL,
                     "font_color": GAP_FONT},
    "section": {"bold": True, "font_size": 12, "font_color": HEADER_FILL, "bottom": 2,
                "bottom_color": HEADER_FILL},
    "check": {"align": "center", "bold": True, "font_color": "#00B050"},
    "note": {"italic": True, "font_color": "#595959", "font_size": 9, "indent": 1},
}


def shown_number(num_format: str, value: float) -> str | None:
    """A money amount as ``num_format`` shows it (the formats of :data:`SCALED`), to size
    its column; None for any other format."""
    if num_format == MONEY:
        return f"{value:,.2f}"
    if num_format == WHOLE:
        return f"{value:,.0f}"
    if num_format == SCALED["thousand"][MONEY]:
        return f"{value / 1e3:,.1f}"
    if num_format == SCALED["thousand"][WHOLE]:
        return f"{value / 1e3:,.0f}"
    if num_format == SCALED["wan"][MONEY]:
        return f"{value / 1e4:.1f}"
    return None


class Styles:
    """Formats of one workbook, created once and looked up by name; ``input_*`` unlocked."""

    def __init__(self, workbook: Workbook, amounts: str = "yuan"):
        self._wb = workbook
        self._cache: dict[str, Format] = {}
        self._scaled = SCALED[amounts]

    def width_of(self, name: str, value: float) -> float | None:
        """Columns (digit widths) a money number takes in style ``name``, None for a style
        that is not money; bold and larger fonts take more."""
        style = self[name]  # the format as written (scaled), whoever registered it
        fmt = style.num_format
        text = shown_number(fmt, value) if isinstance(fmt, str) else None
        if text is None:
            return None
        scale = (style.font_size or 11) / 11 * (1.1 if style.bold else 1.0)
        return len(text) * scale + 1

    def __getitem__(self, name: str) -> Format:
        if name not in self._cache:
            is_input = name.startswith("input_")
            props = dict(BASE[name.removeprefix("input_")])
            if props.get("num_format") in self._scaled:
                props["num_format"] = self._scaled[props["num_format"]]
            if is_input:
                props |= {"bg_color": INPUT_FILL, "font_color": INPUT_FONT, "locked": False,
                          "border": 1, "border_color": "#BFBFBF"}
            self._cache[name] = self._wb.add_format(props)
        return self._cache[name]
