"""Small layout helpers shared by sheet writers.

Excel does not grow a row for wrapped text that XlsxWriter writes, and
LibreOffice draws the overflow over the next row; a row that holds long wrapped
text therefore gets an explicit height estimated from its text and column widths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from xlplan.i18n import Data, Msg, amount_unit, display_width
from xlplan.spec.models import Plan
from xlplan.workbook.book import Sheet

LINE_HEIGHT = 15.0  # points per line at the default 11 pt font
CHARS_PER_WIDTH = 1.15  # characters of average text per unit of column width


def fit_row(sheet: Sheet, row: int, texts: Iterable[tuple[str, float]]) -> None:
    """Give ``row`` the height its longest wrapped text needs (``(text, column width)``;
    a message is measured as the sheet shows it, a CJK character as two)."""
    lines = 1
    for text, width in texts:
        per_line = max(1, int(width * CHARS_PER_WIDTH))
        shown = sheet.book.words(text)
        lines = max(lines, sum(math.ceil(max(1, display_width(part)) / per_line)
                               for part in shown.splitlines() or [""]))
    if lines > 1:
        sheet.ws.set_row(row, LINE_HEIGHT * lines)


def decimals(smallest_unit: Decimal) -> int:
    """Decimal places of the currency's smallest unit (0.01 → 2), for ROUND in formulas."""
    return max(0, -int(smallest_unit.normalize().as_tuple().exponent))


def amounts_in(plan: Plan) -> Msg | Data:
    """What the plan's amounts are shown in (CNY, 千元, 万元: ``workbooks.amount_display``)."""
    return amount_unit(plan.currency.code, plan.workbooks.amount_display)
