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
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from xlplan.i18n import DEFAULT_LANGUAGE, Msg, Words, display_width, msg
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
    sheet_label,
)
from xlplan.workbook.book import quote_sheet
from xlplan.workbook.styles import CJK_FONT

VALID_ROWS = 500  # drop-downs and messages reach this many rows below a header
WIDTHS = {"text": 16, "number": 13, "int": 9, "date": 12, "bool": 9, "numbers": 18,
          "ints": 16, "texts": 22, "dates": 22}
WIDE = {"Name": 26, "Title": 40, "Text": 44, "Task": 34, "Action": 36, "What it is": 60,
        "Setting": 40, "Value": 22, "Default": 18, "Note": 30, "Impact": 26, "Effect": 26,
        "Resources": 28, "Risk plan": 32, "Milestone": 26}


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook, words: Words):
        self.book = book
        self.words = words
        self.checks = checks(words)
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
        words = self.words
        if source is not None:
            rule = {"validate": "list", "source": source, "error_type": "stop",
                    "error_title": title[:32], "error_message": words(msg(
                        "Pick a value from the list ({cells}).",
                        cells=source.lstrip("=")))[:255]}
        elif ftype.choices:
            rule = {"validate": "list", "source": list(ftype.choices),
                    "error_type": "information" if open_list else "stop",
                    "error_title": title[:32], "error_message": words(msg(
                        "Expected one of: {choices}",
                        choices=", ".join(ftype.choices)))[:255]}
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
            "columns": [{"header": self.words(h), "header_format": self.header}
                        for h in table.headers]})
        for i, setting in enumerate(rows, start=HEADER_ROW + 1):
            ws.write_string(i, col, setting.key, self.key)
            self.value(ws, i, col + 1, _get(data, setting.path), setting.type)
            ws.write_string(i, col + 2, setting.default, self.help)
            ws.write_string(i, col + 3, self.help_of(setting), self.help)
            self.validation(ws, i, i, col + 1, setting.key.split(".")[-1],
                            self.help_of(setting), setting.type)
        for offset, header in enumerate(table.headers):
            ws.set_column(col + offset, col + offset, WIDE.get(header, 16))

    def help_of(self, setting: Setting) -> str:
        return self.words(setting.help).strip() if setting.help else \
            setting.key.replace(".", " › ").replace("_", " ")

    def rows(self, ws: Worksheet, table: Table, items: list[Any]) -> None:
        col = table.first_col
        last_row = HEADER_ROW + max(len(items), 1)
        columns: list[dict[str, Any]] = [
            {"header": self.words(c.header), "header_format": self.header}
            for c in table.columns]
        extra = extra_columns(self.words).get(table.name, [])
        columns += [{"header": h, "formula": f, "header_format": self.header} for h, f in extra]
        ws.add_table(HEADER_ROW, col, last_row, col + len(columns) - 1, {
            "name": table.name, "style": "Table Style Light 9", "columns": columns})
        for r, item in enumerate(items, start=HEADER_ROW + 1):
            for c, column in enumerate(table.columns):
                self.value(ws, r, col + c, _cell_value(item, column), column.type)
        for c, column in enumerate(table.columns):
            source = _source(column.source, self.words) if column.source else None
            self.validation(ws, HEADER_ROW + 1, HEADER_ROW + VALID_ROWS, col + c,
                            self.words(column.header), self.words(column.help).strip(),
                            column.type, source, column.open_list)
            ws.set_column(col + c, col + c, max(
                WIDE.get(column.header, WIDTHS[column.type.kind]),
                display_width(self.words(column.header)) + 3))
        for k, (header, _) in enumerate(extra):
            ws.set_column(col + len(table.columns) + k, col + len(table.columns) + k,
                          max(12, display_width(header) + 2))

    def sheet(self, sheet: Sheet, data: dict[str, Any]) -> None:
        ws = self.book.add_worksheet(self.words(sheet.name))
        ws.write_string(0, 0, self.words(sheet.title), self.title)
        ws.write_string(1, 0, self.words(sheet.note), self.note)
        for k, (label, formula) in enumerate(self.checks.get(sheet.name, [])):
            ws.write_string(2, 3 * k, label, self.check_label)
            ws.write_formula(2, 3 * k + 1, formula, self.check)
        for table in sheet.tables:
            if table.role == "settings":
                self.settings(ws, table, data)
            else:
                self.rows(ws, table, flatten(table, data))
        ws.freeze_panes(HEADER_ROW + 1, 0)

    def about(self) -> None:
        ws = self.book.add_worksheet(self.words(ABOUT))
        ws.write_string(0, 0, MARKER, self.title)
        lines = [
            msg("This workbook is an xlplan plan: one sheet per section, each an Excel Table."),
            msg("Type into the tables; a blank cell means 'not given' (the default applies)."),
            msg("Drop-downs list the allowed values; click a cell to see what it holds."),
            msg("The check cells at the top of a sheet show whether shares sum to 1, levers "
                "cover the increment and every parent exists."),
            msg("Lists in one cell (attainment history, aligned key results, weekdays) are "
                "separated by semicolons: 1.02; 0.97."),
            msg("Then: xlplan validate plan.xlsx, xlplan build plan.xlsx -o out/ …"),
            msg("To keep the plan in version control: xlplan plan import plan.xlsx -o "
                "plan.yaml"),
        ]
        for i, line in enumerate(lines, start=2):
            ws.write_string(i, 0, self.words(line))
        ws.set_column(0, 0, 90)


def _text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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


def _source(table_name: str, words: Words) -> str:
    """A drop-down source: the first column of ``table_name``, over the rows it may grow to."""
    table = next(t for t in TABLES if t.name == table_name)
    col = xl_col_to_name(table.first_col)
    first, last = HEADER_ROW + 2, HEADER_ROW + 1 + VALID_ROWS
    return f"={quote_sheet(words(sheet_label(table.sheet)))}${col}${first}:${col}${last}"


SPECIAL = re.compile(r"([\[\]#'])")  # escaped in a structured reference's column name


class _Formulas:
    """The check formulas in the workbook's language: structured references name columns
    as their headers show them, and the texts the checks show are catalog messages."""

    def __init__(self, words: Words):
        self.words = words

    def col(self, table: str, header: str) -> str:
        """A structured reference: ``Units[Parent]`` (``Units[上级]`` in Chinese)."""
        name = SPECIAL.sub(r"'\1", self.words(Msg(header)))  # ' escapes [ ] # '
        return f"{table}[{name}]"

    def text(self, message: Msg) -> str:
        """A message as a string in a formula."""
        return '"' + self.words(message).replace('"', '""') + '"'

    def setting(self, table: str, key: str) -> str:
        return (f'INDEX({self.col(table, "Value")},MATCH("{key}",'
                f'{self.col(table, "Setting")},0))')

    def sum_is_one(self, label: Msg, total: str, given: str, blank: Msg) -> str:
        ok = self.text(msg("OK: {what} sum to 1", what=label))
        off = self.text(msg("{what} sum to {total}, not 1", what=label, total="\0"))
        before, after = off.split("\0")
        return (f'=IF({given}=0,{self.text(blank)},IF(ABS({total}-1)<0.000001,{ok},'
                f'{before}"&ROUND({total},6)&"{after}))')


def checks(words: Words) -> dict[str, list[tuple[str, str]]]:
    """Check cells at the top of a sheet, by the sheet's key: (label, formula). Informative
    only, never read back."""
    f = _Formulas(words)
    target = f.setting("PlanSettings", "north_star.target")
    baseline = f.setting("PlanSettings", "north_star.baseline")
    gap = f"({target}-{baseline}-SUM({f.col('Levers', 'Amount')}))"
    budget_key, budget_value = f.col("BudgetSettings", "Setting"), \
        f.col("BudgetSettings", "Value")
    pools = f'SUMIFS({budget_value},{budget_key},"budget.pools.*")'
    pools_n = f'COUNTIFS({budget_key},"budget.pools.*",{budget_value},"<>")'
    bcg = f'SUMIFS({budget_value},{budget_key},"budget.bcg_weights.*")'
    bcg_n = f'COUNTIFS({budget_key},"budget.bcg_weights.*",{budget_value},"<>")'
    code, parent = f.col("Units", "Code"), f.col("Units", "Parent")
    orphans = f'SUMPRODUCT(({parent}<>"")*(COUNTIF({code},{parent})=0))'
    tops = f'COUNTIFS({code},"<>",{parent},"")'
    not_covered = f.text(msg("not covered: {amount}", amount="\0")).split("\0")
    parents_off = f.text(msg("{count} parent(s) not in Code", count="\0")).split("\0")
    tops_off = f.text(msg("{count} units have no parent; expected 1", count="\0")).split("\0")
    quarter = f.col("QuarterWeights", "Quarter weight")
    month = f.col("MonthWeights", "Month weight")
    month_sum = f.text(msg("sum {total}", total="\0")).split("\0")
    # (messages outside the f-strings below: Babel does not look inside an f-string)
    covered, parents_ok = f.text(msg("OK: levers cover the increment")), \
        f.text(msg("OK: every parent is a unit"))
    one_top, no_months = f.text(msg("OK: one top unit")), f.text(msg("none given"))
    share, channel_parent = f.col("Channels", "Share"), f.col("Channels", "Parent")
    shown = {key: words(label) for key, label in (
        ("Increment", msg("Increment")), ("Levers cover", msg("Levers cover")),
        ("Parents", msg("Parents")), ("Top unit", msg("Top unit")), ("Mix", msg("Mix")),
        ("Top-level shares", msg("Top-level shares")),
        ("Quarter weights", msg("Quarter weights")), ("Month weights", msg("Month weights")),
        ("Pools", msg("Pools")), ("BCG weights", msg("BCG weights")))}
    return {
        "Levers": [
            (shown["Increment"], f"={target}-{baseline}"),
            (shown["Levers cover"],
             f'=IF({gap}<=0,{covered},'
             f'{not_covered[0]}"&TEXT({gap},"#,##0")&"{not_covered[1]})')],
        "Units": [
            (shown["Parents"], f'=IF({orphans}=0,{parents_ok},'
                               f'{parents_off[0]}"&{orphans}&"{parents_off[1]})'),
            (shown["Top unit"], f'=IF({tops}=1,{one_top},'
                                f'{tops_off[0]}"&{tops}&"{tops_off[1]})')],
        "Products": [(shown["Mix"], f.sum_is_one(
            msg("mixes"), f"SUM({f.col('Products', 'Mix')})",
            f"COUNT({f.col('Products', 'Mix')})", msg("no mix given")))],
        "Channels": [(shown["Top-level shares"], f.sum_is_one(
            msg("top-level shares"), f'SUMIFS({share},{channel_parent},"")',
            f'COUNTIFS({channel_parent},"",{f.col("Channels", "Code")},"<>")',
            msg("no channels")))],
        "Calendar": [
            (shown["Quarter weights"], f.sum_is_one(
                msg("quarter weights"), f"SUM({quarter})", f"COUNT({quarter})",
                msg("default: 0.25 each"))),
            (shown["Month weights"], f'=IF(COUNT({month})=0,{no_months},'
                                     f'{month_sum[0]}"&ROUND(SUM({month}),6)&"{month_sum[1]})')],
        "Budget": [
            (shown["Pools"], f.sum_is_one(msg("pools"), pools, pools_n,
                                          msg("default: 0.6 / 0.3 / 0.1"))),
            (shown["BCG weights"], f.sum_is_one(msg("BCG weights"), bcg, bcg_n,
                                                msg("default: 0.6 / 0.25 / 0.1 / 0.05")))],
    }


def extra_columns(words: Words) -> dict[str, list[tuple[str, str]]]:
    """Formula columns added to a table (shown, never read back), by the table's name."""
    f = _Formulas(words)
    objective, weight = f.col("KeyResults", "Objective"), f.col("KeyResults", "Weight")
    own_id = "[@" + words(msg("ID")) + "]"
    return {"Objectives": [
        (words(msg("Key results")), f"=COUNTIFS({objective},{own_id})"),
        (words(msg("KR weights")), f"=SUMIFS({weight},{objective},{own_id})")]}


def write_setup(data: dict[str, Any], path: Path, language: str = DEFAULT_LANGUAGE) -> Path:
    """Write ``data`` (a plan as the YAML holds it) as a setup workbook at ``path``, its
    sheet names, headers, notes and messages in ``language`` (the plan data as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"strings_to_numbers": False, "strings_to_formulas": False,
                               "strings_to_urls": False}
    if language == "zh":  # a font with the Chinese glyphs, as the plan's other workbooks
        options["default_format_properties"] = {"font_name": CJK_FONT}
    book = xlsxwriter.Workbook(str(path), options)
    writer = _Writer(book, Words(language))
    writer.about()
    for sheet in SHEETS:
        writer.sheet(sheet, data)
    book.close()
    return path
