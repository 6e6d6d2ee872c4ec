"""Read an actuals export (CSV or Excel) and check every row against the plan.

A finance system exports one row per date (or month), unit, product, channel,
measure and value; its headers are mapped to those roles by
``tracking.columns`` in the plan or ``--column ROLE=NAME`` on the command line.
Every problem is reported at once, each with the file, the row as a
spreadsheet numbers it (the header is row 1), the column and, for Excel, the
cell: a wrong or missing column, an empty or unknown code (with the nearest
known one), text where a number belongs, a date that is not a date or lies
outside the fiscal year, a row given twice, a month value beside daily values
of the same thing. A file with any problem yields nothing (:class:`ActualsError`),
so it is never half-imported.

Values: thousands separators and spaces are ignored; a trailing ``%`` divides
by 100 (an export may print a rate as 5%). Money (revenue, spend, return) is
rounded to the currency's smallest unit, half away from zero, as Excel rounds.
Dates: ``2027-03-05`` (also with ``/`` or ``.``, or a time of 00:00), a date
cell in Excel, or a month ``2027-03`` for a month value.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.rounding import excel_round_array
from xlplan.spec.models import ActualsColumns, Plan
from xlplan.tracking.actuals import MONTH_ROW, whole
from xlplan.tracking.actuals import rows as records
from xlplan.tracking.calendar import FiscalCalendar
from xlplan.tracking.excel_export import read_cells
from xlplan.tracking.measures import Vocabulary

ROLES = ("date", "period", "unit", "product", "channel", "measure", "value")
REQUIRED = ("unit", "measure", "value")
OPTIONAL = ("product", "channel")
EXCEL = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
MAX_REPORTED = 50
KEY = ["unit", "product", "channel", "measure", "period"]

_DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")


@dataclass(frozen=True)
class RowProblem:
    """One problem in an actuals file: row (1 = header), column name and cell."""

    row: int | None
    column: str | None
    message: str
    cell: str | None = None

    def render(self, file: str) -> str:
        where = f"{file}:{self.row}" if self.row else file
        col = ""
        if self.column:
            col = f"column {self.column!r}" + (f" (cell {self.cell})" if self.cell else "")
            col += ": "
        return f"{where}: {col}{self.message}"


class ActualsError(Exception):
    """An actuals file that cannot be imported, with every problem found in it."""

    def __init__(self, file: str, problems: list[RowProblem]):
        self.file = file
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        shown = self.problems[:MAX_REPORTED]
        lines = [f"{self.file}: {len(self.problems)} problem(s), nothing imported",
                 *(f"  {p.render(self.file)}" for p in shown)]
        if len(self.problems) > len(shown):
            lines.append(f"  … and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Table:
    """A file's cells as text, the row number of its header, and the sheet (Excel)."""

    frame: pd.DataFrame  # header names as columns (as written), cells as str
    header_row: int
    sheet: str | None = None


@dataclass(frozen=True)
class ActualsFile:
    """A checked actuals file: its SHA-256 and its rows.

    ``rows`` has the columns of :mod:`xlplan.tracking.actuals` plus ``row`` (the
    file's row number), ``period`` (``YYYY-MM-DD`` or ``YYYY-MM``), ``date``
    (the day, or None for a month value) and ``month_key`` (``YYYY-MM``).
    """

    path: Path
    sha256: str
    rows: pd.DataFrame


def columns_with(base: ActualsColumns, overrides: Mapping[str, str]) -> ActualsColumns:
    """The plan's column names with ``ROLE=NAME`` overrides (ValueError on an unknown role)."""
    unknown = [r for r in overrides if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown column role(s) {', '.join(unknown)}; the roles are "
                         f"{', '.join(ROLES)}")
    return base.model_copy(update=dict(overrides))


def _excel(data: bytes, sheet: str | None) -> Table:
    """The sheet as a table; read in a capped child process (:mod:`.excel_export`), so a
    hostile workbook is an error for its file, not the end of the import."""
    grid = read_cells(data, sheet)
    header = next((i for i, row in enumerate(grid.rows) if any(row)), None)
    if header is None:
        return Table(pd.DataFrame(), 1, grid.sheet)
    names = grid.rows[header]
    body = [row + [""] * (len(names) - len(row)) for row in grid.rows[header + 1:]]
    frame = pd.DataFrame([r[:len(names)] for r in body], columns=names, dtype=object)
    frame.index = pd.RangeIndex(header + 2, header + 2 + len(frame))
    return Table(frame, header + 1, grid.sheet)


def _csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")  # Chinese finance systems often export GBK
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                        skip_blank_lines=False)
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    return Table(frame, 1)


def read_table(path: Path, data: bytes, sheet: str | None = None) -> Table:
    """The file's cells as text (ValueError when it is not a readable table)."""
    if path.suffix.lower() in EXCEL:
        return _excel(data, sheet)
    try:
        return _csv(data)
    except pd.errors.EmptyDataError:
        return Table(pd.DataFrame(), 1)
    except pd.errors.ParserError as exc:
        raise ValueError(f"not a readable CSV file: {exc}") from None


def resolve(table: Table, columns: ActualsColumns) -> tuple[dict[str, str], list[RowProblem]]:
    """Role → the file's header for that role, or problems naming what is missing."""
    by_name: dict[str, str] = {}
    for name in table.frame.columns:
        by_name.setdefault(str(name).strip().lower(), str(name))
    found: dict[str, str] = {}
    for role in ROLES:
        wanted = str(getattr(columns, role)).strip().lower()
        if wanted in by_name:
            found[role] = by_name[wanted]
    missing = [r for r in REQUIRED if r not in found]
    if "date" not in found and "period" not in found:
        missing.insert(0, "date or period")
    if not missing:
        return found, []
    expect = ", ".join(f"{r} ({getattr(columns, r)!r})" if r in ROLES else
                       f"date ({columns.date!r}) or period ({columns.period!r})"
                       for r in missing)
    has = ", ".join(repr(str(c)) for c in table.frame.columns) or "no columns"
    return found, [RowProblem(table.header_row, None,
                              f"missing column(s) {expect}; the file has {has}. Map the "
                              "file's headers in the plan (tracking.columns) or with "
                              "--column ROLE=NAME")]


def _nearest(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == value.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parse_period(text: str, cal: FiscalCalendar) -> tuple[str, dt.date | None, int] | str:
    """(period key, day or None, fiscal month) of a date/period cell, or an error message."""
    m = _DAY.match(text)
    if m:
        try:
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return f"{text!r} is not a valid date"
        if not cal.contains(day):
            return f"date {day} is outside the fiscal year {cal.start} to {cal.end}"
        return day.isoformat(), day, int(cal.month_of_day[cal.day_index(day)])
    m = _MONTH.match(text)
    if m:
        key = f"{int(m[1]):04d}-{int(m[2]):02d}"
        month = cal.month_index(key)
        if not 1 <= int(m[2]) <= 12:
            return f"{text!r} is not a valid month"
        if month is None:
            return (f"month {key} is outside the fiscal year {cal.month_key(0)} to "
                    f"{cal.month_key(11)}")
        return key, None, month
    if not text:
        return "date is empty"
    return f"expected a date (2027-03-05) or a month (2027-03), got {text!r}"


def _budget_units(plan: Plan) -> set[str]:
    """Units that book to a unit budget line: the workbook level and below."""
    numbers = PlanNumbers(plan)  # only the tree and the workbook level are computed
    return {u for u in numbers.tree.units if numbers.tree.depth(u) >= numbers.input_level}


class _Checker:
    """Collects problems while a table is checked column by column."""

    def __init__(self, table: Table, found: dict[str, str]):
        self.table, self.found = table, found
        self.problems: list[RowProblem] = []
        self.bad = pd.Series(False, index=table.frame.index)

    def cell(self, row: int, role: str) -> str | None:
        if self.table.sheet is None or role not in self.found:
            return None
        col = list(self.table.frame.columns).index(self.found[role])
        return f"{self.table.sheet}!{xl_col_to_name(col)}{row}"

    def add(self, rows: pd.Index, role: str, messages: pd.Series | list[str] | str) -> None:
        if not len(rows):
            return
        texts = [messages] * len(rows) if isinstance(messages, str) else list(messages)
        column = self.found.get(role, role)
        for r, text in zip(rows, texts, strict=True):
            self.problems.append(RowProblem(int(r), column, text, self.cell(int(r), role)))
        self.bad.loc[rows] = True


def check(table: Table, plan: Plan, columns: ActualsColumns) -> tuple[pd.DataFrame,
                                                                      list[RowProblem]]:
    """The rows of ``table`` as actuals (see :class:`ActualsFile`), and every problem."""
    found, problems = resolve(table, columns)
    if problems:
        return pd.DataFrame(), problems
    raw = table.frame
    blank = raw.apply(lambda col: col.astype(str).str.strip() == "").all(axis=1)
    raw = raw[~blank]
    text = {role: (raw[found[role]].astype(str).str.strip() if role in found
                   else pd.Series("", index=raw.index)) for role in ROLES}
    ck = _Checker(Table(raw, table.header_row, table.sheet), found)
    cal = FiscalCalendar.of(plan)
    vocab = Vocabulary.of(plan)
    codes = {"unit": [u.code for u in plan.units], "product": [p.code for p in plan.products],
             "channel": [c.code for c in plan.channels]}
    for role, known in codes.items():
        s = text[role]
        wrong = s[~s.isin(known) & ((s != "") | (role == "unit"))]
        ck.add(wrong.index, role, [f"{role} is empty" if not v else
                                   f"unknown {role} {v!r}{_nearest(v, known)}" for v in wrong])
    # measures
    measures = {v: vocab.resolve(v) for v in text["measure"].unique()}
    unknown = text["measure"][text["measure"].map(lambda v: measures[v] is None)]
    ck.add(unknown.index, "measure", [
        "measure is empty" if not v else
        f"unknown measure {v!r}{_nearest(v, vocab.names())}; expected {vocab.describe()}"
        for v in unknown])
    names = {v: (m.name if m else "") for v, m in measures.items()}
    kinds = {v: (m.kind if m else "") for v, m in measures.items()}
    canonical = text["measure"].map(names)
    kind = text["measure"].map(kinds)
    money = kind.isin(["revenue", "spend", "return"])
    unit_lines = canonical.isin(["spend", "return"])
    if unit_lines.any():
        if plan.budget is None:
            ck.add(unit_lines[unit_lines].index, "measure",
                   "the plan has no budget section: spend and return cannot be tracked")
        else:
            allowed = _budget_units(plan)
            wrong = text["unit"][unit_lines & text["unit"].isin(codes["unit"])
                                 & ~text["unit"].isin(list(allowed))]
            ck.add(wrong.index, "unit", [f"{v!r} has no budget line: spend and return are "
                                         "booked to units at the workbook level or below "
                                         "(or to an action: spend:<action id>)" for v in wrong])
    # dates
    source = text["date"].where(text["date"] != "", text["period"])
    role_of = pd.Series(np.where(text["date"] != "", "date", "period" if "period" in found
                                 else "date"), index=raw.index)
    parsed = {v: _parse_period(v, cal) for v in source.unique()}
    wrong = source[source.map(lambda v: isinstance(parsed[v], str))]
    for role in ("date", "period"):
        rows = wrong[role_of[wrong.index] == role]
        ck.add(rows.index, role, [str(parsed[v]) for v in rows])
    # values
    cleaned = text["value"].str.replace(r"[,\s\u00a0]", "", regex=True)
    percent = cleaned.str.endswith("%")
    numbers = pd.to_numeric(cleaned.str.removesuffix("%"), errors="coerce").astype(float)
    numbers = numbers.where(~percent, numbers / 100.0)
    wrong = text["value"][numbers.isna() | ~np.isfinite(numbers.fillna(0.0))]
    ck.add(wrong.index, "value", ["value is empty" if not v else
                                  f"expected a number, got {v!r}" for v in wrong])
    decimals = max(0, -int(plan.currency.smallest_unit.normalize().as_tuple().exponent))
    numbers = numbers.where(~money, pd.Series(excel_round_array(numbers.fillna(0.0).to_numpy(),
                                                                decimals), index=raw.index))
    good = ~ck.bad
    periods = source[good].map(lambda v: parsed[v])
    rows = pd.DataFrame({
        "row": raw.index[good].astype(np.int64),
        "unit": text["unit"][good], "product": text["product"][good],
        "channel": text["channel"][good], "measure": canonical[good],
        "period": periods.map(lambda p: p[0]), "date": periods.map(lambda p: p[1]),
        "month": periods.map(lambda p: p[2]).astype(np.int64),
        "value": numbers[good].astype(float)})
    rows["day"] = [cal.day_index(d) if d is not None else MONTH_ROW for d in rows["date"]]
    rows["month_key"] = [cal.month_key(m) for m in rows["month"]]
    ck.problems += _duplicates(rows, found)
    ck.problems += _mixed(rows, found)
    ck.problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return rows.reset_index(drop=True), ck.problems


def _duplicates(rows: pd.DataFrame, found: dict[str, str]) -> list[RowProblem]:
    dup = rows.duplicated(KEY, keep=False)
    out = []
    first_of: dict[tuple[str, ...], int] = {}
    for rec in records(rows[dup]):
        key = (rec.unit, rec.product, rec.channel, rec.measure, rec.period)
        if key in first_of:
            out.append(RowProblem(int(rec.row), None,
                                  f"duplicate of row {first_of[key]}: the same unit, product, "
                                  f"channel, measure and period ({rec.period})"))
        else:
            first_of[key] = int(rec.row)
    return out


def _mixed(rows: pd.DataFrame, found: dict[str, str]) -> list[RowProblem]:
    """A month value and daily values of the same thing would count twice."""
    key = ["unit", "product", "channel", "measure", "month_key"]
    monthly = rows[rows["day"] == MONTH_ROW]
    if monthly.empty:
        return []
    daily = rows[rows["day"] != MONTH_ROW].groupby(key)["row"].min()
    out = []
    for rec in records(monthly):
        k = (rec.unit, rec.product, rec.channel, rec.measure, rec.month_key)
        if k in daily.index:
            out.append(RowProblem(int(rec.row), found.get("period", found.get("date")),
                                  f"a value for the month {rec.month_key} and daily values "
                                  f"(row {whole(daily[k])}) of the same unit, product, channel and "
                                  "measure: give one or the other"))
    return out


def read_actuals(path: Path, plan: Plan, columns: ActualsColumns,
                 sheet: str | None = None) -> ActualsFile:
    """Read and check one file; :class:`ActualsError` lists every problem."""
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ActualsError(name, [RowProblem(None, None, "file not found")]) from None
    except OSError as exc:
        raise ActualsError(name, [RowProblem(None, None, f"cannot read: {exc.strerror}")]
                           ) from None
    digest = hashlib.sha256(data).hexdigest()
    try:
        table = read_table(path, data, sheet if sheet is not None else plan.tracking.sheet)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ActualsError(name, [RowProblem(None, None, f"cannot read: {exc}")]) from None
    rows, problems = check(table, plan, columns)
    if problems:
        raise ActualsError(name, problems)
    if rows.empty:
        raise ActualsError(name, [RowProblem(table.header_row + 1, None, "no rows of data")])
    return ActualsFile(path, digest, rows)
