"""Write the plan setup workbook (plan.xlsx) from plan data, with XlsxWriter.

Each section of the plan is an Excel Table (see :mod:`xlplan.spec.setup_layout`),
with a drop-down for every closed list, an input message on every column, and
check cells above the tables (shares sum to 1, levers cover the increment,
every parent exists). The check cells are formulas for the person typing: the
reader never reads them (a file saved by LibreOffice keeps no results of them).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from xlplan.spec.setup_layout import (
    ABOUT,
    HEADER_ROW,
    LIST_SEPARATOR,
    MARKER,
    SHEETS,
    TABLES,
    Column,
    FieldType,
    Setting,
    Sheet,
    Table,
)

VALID_ROWS = 500  # drop-downs and messages reach this many rows below a header
WIDTHS = {"text": 16, "number": 13, "int": 9, "date": 12, "bool": 9, "numbers": 18,
          "ints": 16, "texts": 22, "dates": 22}
WIDE = {"Name": 26, "Title": 40, "Text": 44, "Task": 34, "Action": 36, "What it is": 60,
        "Setting": 40, "Value": 22, "Default": 18, "Note": 30, "Impact": 26, "Effect": 26,
        "Resources": 28, "Risk plan": 32, "Milestone": 26}


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.note = book.add_format({"italic": True, "font_color": "#595959"})
        self.check_label = book.add_format({"bold": True, "font_color": "#1F4E79"})
        self.check = book.add_format({"font_color": "#1F4E79"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.key = book.add_format({"font_name": "Consolas"})
        self.help = book.add_format({"font_color": "#595959", "text_wrap": False})
        # the tables' own style is not drawn by every program: a header that stands out anyway
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7",
                                       "bottom": 1, "border_color": "#9BC2E6"})

    # values -------------------------------------------------------------------------------
    def value(self, ws: Worksheet, row: int, col: int, value: Any, ftype: FieldType) -> None:
        if value is None:
            return
        if isinstance(value, list):
            ws.write_string(row, col, f"{LIST_SEPARATOR} ".join(_text(v) for v in value))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day),
                              self.date)
        elif isinstance(value, int | float | Decimal) and ftype.kind in ("number", "int"):
            ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value)
        else:
            ws.write_string(row, col, _text(value))

    # validation ---------------------------------------------------------------------------
    def validation(self, ws: Worksheet, first: int, last: int, col: int, title: str,
                   message: str, ftype: FieldType, source: str | None = None,
                   open_list: bool = False) -> None:
        rule: dict[str, Any] = {"validate": "any"}
        if source is not None:
            rule = {"validate": "list", "source": source, "error_type": "stop",
                    "error_title": title[:32], "error_message":
                    f"Pick a value from the list ({source.lstrip('=')})."[:255]}
        elif ftype.choices:
            rule = {"validate": "list", "source": list(ftype.choices),
                    "error_type": "information" if open_list else "stop",
                    "error_title": title[:32],
                    "error_message": ("Expected one of: " + ", ".join(ftype.choices))[:255]}
        rule |= {"input_title": title[:32], "input_message": message[:255],
                 "ignore_blank": True}
        if ftype.kind == "date":
            ws.set_column(col, col, None, self.date)
        ws.data_validation(first, col, last, col, rule)

    # tables -------------------------------------------------------------------------------
    def settings(self, ws: Worksheet, table: Table, data: dict[str, Any]) -> None:
        col = table.first_col
        rows = table.settings
        ws.add_table(HEADER_ROW, col, HEADER_ROW + len(rows), col + 3, {
            "name": table.name, "style": "Table Style Light 9",
            "columns": [{"header": h, "header_format": self.header} for h in table.headers]})
        for i, setting in enumerate(rows, start=HEADER_ROW + 1):
            ws.write_string(i, col, setting.key, self.key)
            self.value(ws, i, col + 1, _get(data, setting.path), setting.type)
            ws.write_string(i, col + 2, setting.default, self.help)
            ws.write_string(i, col + 3, _help(setting), self.help)
            self.validation(ws, i, i, col + 1, setting.key.split(".")[-1], _help(setting),
                            setting.type)
        for offset, header in enumerate(table.headers):
            ws.set_column(col + offset, col + offset, WIDE.get(header, 16))

    def rows(self, ws: Worksheet, table: Table, items: list[Any]) -> None:
        col = table.first_col
        last_row = HEADER_ROW + max(len(items), 1)
        columns: list[dict[str, Any]] = [{"header": c.header, "header_format": self.header}
                                         for c in table.columns]
        extra = EXTRA_COLUMNS.get(table.name, [])
        columns += [{"header": h, "formula": f, "header_format": self.header} for h, f in extra]
        ws.add_table(HEADER_ROW, col, last_row, col + len(columns) - 1, {
            "name": table.name, "style": "Table Style Light 9", "columns": columns})
        for r, item in enumerate(items, start=HEADER_ROW + 1):
            for c, column in enumerate(table.columns):
                self.value(ws, r, col + c, _cell_value(item, column), column.type)
        for c, column in enumerate(table.columns):
            source = _source(column.source) if column.source else None
            self.validation(ws, HEADER_ROW + 1, HEADER_ROW + VALID_ROWS, col + c, column.header,
                            column.help, column.type, source, column.open_list)
            ws.set_column(col + c, col + c, WIDE.get(column.header,
                                                     WIDTHS[column.type.kind]))
        for k, (header, _) in enumerate(extra):
            ws.set_column(col + len(table.columns) + k, col + len(table.columns) + k,
                          max(12, len(header) + 2))

    def sheet(self, sheet: Sheet, data: dict[str, Any]) -> None:
        ws = self.book.add_worksheet(sheet.name)
        ws.write_string(0, 0, sheet.title, self.title)
        ws.write_string(1, 0, sheet.note, self.note)
        checks = CHECKS.get(sheet.name, [])
        for k, (label, formula) in enumerate(checks):
            ws.write_string(2, 3 * k, label, self.check_label)
            ws.write_formula(2, 3 * k + 1, formula, self.check)
        for table in sheet.tables:
            if table.role == "settings":
                self.settings(ws, table, data)
            else:
                self.rows(ws, table, flatten(table, data))
        ws.freeze_panes(HEADER_ROW + 1, 0)

    def about(self) -> None:
        ws = self.book.add_worksheet(ABOUT)
        ws.write_string(0, 0, MARKER, self.title)
        lines = [
            "This workbook is an xlplan plan: one sheet per section, each an Excel Table.",
            "Type into the tables; a blank cell means 'not given' (the default applies).",
            "Drop-downs list the allowed values; click a cell to see what it holds.",
            "The check cells at the top of a sheet show whether shares sum to 1, levers",
            "cover the increment and every parent exists.",
            "Lists in one cell (attainment history, aligned key results, weekdays) are",
            "separated by semicolons: 1.02; 0.97.",
            "Then: xlplan validate plan.xlsx, xlplan build plan.xlsx -o out/ …",
            "To keep the plan in version control: xlplan plan import plan.xlsx -o plan.yaml",
        ]
        for i, line in enumerate(lines, start=2):
            ws.write_string(i, 0, line)
        ws.set_column(0, 0, 90)


def _text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _help(setting: Setting) -> str:
    return setting.help or setting.key.replace(".", " › ").replace("_", " ")


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(data, dict):
            matches = [k for k in data if _text(k) == part]
            if not matches:
                return None
            data = data[matches[0]]
        else:
            return None
    return data


def _cell_value(item: Any, column: Column) -> Any:
    return _get(item, column.path)


def flatten(table: Table, data: dict[str, Any]) -> list[Any]:
    """The rows of a non-settings table: items, (parent id, child) pairs, or scalars."""
    if table.role == "list":
        return list(_get(data, table.path) or [])
    if table.role == "values":
        values = list(_get(data, table.path) or [])
        if table.index_header:
            size = max(len(values), table.size)
            padded = [*values, *([None] * (size - len(values)))]
            return [{"__index__": i, "__value__": v} for i, v in enumerate(padded, start=1)]
        return [{"__value__": v} for v in values]
    parents = data.get(table.path[0]) or []
    out: list[Any] = []
    for parent in parents:
        for child in parent.get(table.path[1]) or []:
            if table.role == "child":
                out.append({"__parent__": parent.get(table.parent_key), **child})
            else:
                out.append({"__parent__": parent.get(table.parent_key), "__value__": child})
    return out


def _source(table_name: str) -> str:
    """A drop-down source: the first column of ``table_name``, over the rows it may grow to."""
    table = next(t for t in TABLES if t.name == table_name)
    col = xl_col_to_name(table.first_col)
    first, last = HEADER_ROW + 2, HEADER_ROW + 1 + VALID_ROWS
    sheet = f"'{table.sheet}'" if " " in table.sheet else table.sheet
    return f"={sheet}!${col}${first}:${col}${last}"


def _setting(table: str, key: str) -> str:
    return f'INDEX({table}[Value],MATCH("{key}",{table}[Setting],0))'


def _sum_is_one(label: str, total: str, given: str, blank: str) -> str:
    return (f'=IF({given}=0,"{blank}",IF(ABS({total}-1)<0.000001,"OK: {label} sum to 1",'
            f'"{label} sum to "&ROUND({total},6)&", not 1"))')


_POOLS = 'SUMIFS(BudgetSettings[Value],BudgetSettings[Setting],"budget.pools.*")'
_POOLS_N = 'COUNTIFS(BudgetSettings[Setting],"budget.pools.*",BudgetSettings[Value],"<>")'
_BCG = 'SUMIFS(BudgetSettings[Value],BudgetSettings[Setting],"budget.bcg_weights.*")'
_BCG_N = 'COUNTIFS(BudgetSettings[Setting],"budget.bcg_weights.*",BudgetSettings[Value],"<>")'
_GAP = (f'({_setting("PlanSettings", "north_star.target")}-'
        f'{_setting("PlanSettings", "north_star.baseline")}-SUM(Levers[Amount]))')

# Check cells at the top of a sheet: (label, formula). Informative only, never read back.
CHECKS: dict[str, list[tuple[str, str]]] = {
    "Levers": [("Increment", f'={_setting("PlanSettings", "north_star.target")}-'
                             f'{_setting("PlanSettings", "north_star.baseline")}'),
               ("Levers cover", f'=IF({_GAP}<=0,"OK: levers cover the increment",'
                                f'"not covered: "&TEXT({_GAP},"#,##0"))')],
    "Units": [("Parents", '=IF(SUMPRODUCT((Units[Parent]<>"")*(COUNTIF(Units[Code],'
                          'Units[Parent])=0))=0,"OK: every parent is a unit",SUMPRODUCT('
                          '(Units[Parent]<>"")*(COUNTIF(Units[Code],Units[Parent])=0))'
                          '&" parent(s) not in Code")'),
              ("Top unit", '=IF(COUNTIFS(Units[Code],"<>",Units[Parent],"")=1,'
                           '"OK: one top unit",COUNTIFS(Units[Code],"<>",Units[Parent],"")'
                           '&" units have no parent; expected 1")')],
    "Products": [("Mix", _sum_is_one("mixes", "SUM(Products[Mix])", "COUNT(Products[Mix])",
                                     "no mix given"))],
    "Channels": [("Top-level shares", _sum_is_one(
        "top-level shares", 'SUMIFS(Channels[Share],Channels[Parent],"")',
        'COUNTIFS(Channels[Parent],"",Channels[Code],"<>")', "no channels"))],
    "Calendar": [("Quarter weights", _sum_is_one(
        "quarter weights", "SUM(QuarterWeights[Quarter weight])",
        "COUNT(QuarterWeights[Quarter weight])", "default: 0.25 each")),
        ("Month weights", '=IF(COUNT(MonthWeights[Month weight])=0,"none given",'
                          '"sum "&ROUND(SUM(MonthWeights[Month weight]),6))')],
    "Budget": [("Pools", _sum_is_one("pools", _POOLS, _POOLS_N, "default: 0.6 / 0.3 / 0.1")),
               ("BCG weights", _sum_is_one("BCG weights", _BCG, _BCG_N,
                                           "default: 0.6 / 0.25 / 0.1 / 0.05"))],
}

# Formula columns added to a table (shown, never read back).
EXTRA_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "Objectives": [("Key results", "=COUNTIFS(KeyResults[Objective],[@ID])"),
                   ("KR weights", "=SUMIFS(KeyResults[Weight],KeyResults[Objective],[@ID])")],
}


def write_setup(data: dict[str, Any], path: Path) -> Path:
    """Write ``data`` (a plan as the YAML holds it) as a setup workbook at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})
    writer = _Writer(book)
    writer.about()
    for sheet in SHEETS:
        writer.sheet(sheet, data)
    book.close()
    return path

