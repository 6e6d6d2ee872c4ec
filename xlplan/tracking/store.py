"""Actuals in DuckDB: each file imported once, whole or not at all.

Tables (created if missing, beside consolidation's in the same database):

* ``actual_files``: one row per imported file, keyed by plan and SHA-256, so
  importing the same bytes again (under any name) changes nothing;
* ``actuals``: its rows (unit, product, channel, measure, period, value), with
  the file's hash and row number, so every number can be traced to its line.

A file goes in one transaction. Before it, its rows are checked against what
is stored: a row for the same unit, product, channel, measure and period as a
row of another file is a duplicate (named by file and row on both sides), as
is a month value beside daily values of the same month. With ``replace`` the
new file's rows win instead: the stored rows they collide with are deleted in
the same transaction.

Tracking also reads consolidation's view ``current_facts`` when it exists: the
BSC inputs managers typed into their unit workbooks (item ``bsc:<KPI code>``,
period a day or a month) join the actuals as that KPI's values. A value
imported from a file wins over a workbook value for the same unit, KPI and
period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from xlplan import database
from xlplan.spec.models import Plan
from xlplan.tracking.actuals import COLUMNS, MONTH_ROW, empty
from xlplan.tracking.calendar import FiscalCalendar
from xlplan.tracking.reader import ActualsError, ActualsFile, RowProblem

SCHEMA = """
CREATE TABLE IF NOT EXISTS actual_files (
    plan_id VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL,
    rows INTEGER NOT NULL, replaced INTEGER NOT NULL, imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, sha256));
CREATE TABLE IF NOT EXISTS actuals (
    plan_id VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, row_no INTEGER NOT NULL,
    unit VARCHAR NOT NULL, product VARCHAR NOT NULL, channel VARCHAR NOT NULL,
    measure VARCHAR NOT NULL, period VARCHAR NOT NULL, day DATE, month VARCHAR NOT NULL,
    value DOUBLE NOT NULL);
"""
KEY_JOIN = ("a.plan_id = ? AND a.unit = n.unit AND a.product = n.product "
            "AND a.channel = n.channel AND a.measure = n.measure")
BSC_PREFIX = "bsc:"


class StoreError(RuntimeError):
    """The database cannot be used (busy, damaged, not DuckDB)."""


def connect(path: Path, read_only: bool = False, wait_s: float = 10.0
            ) -> duckdb.DuckDBPyConnection:
    """Open the database (creating it and the tables unless read-only); wait if it is busy."""
    try:
        return database.connect(path, SCHEMA, read_only, wait_s)
    except database.DatabaseError as exc:
        raise StoreError(str(exc)) from None


@dataclass(frozen=True)
class Imported:
    """What importing one file did."""

    path: Path
    sha256: str
    status: str  # "imported" or "already imported"
    rows: int
    replaced: int = 0
    first_imported: dt.datetime | None = None


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                      [name]).fetchone()
    return bool(row and row[0])


def _collisions(con: duckdb.DuckDBPyConnection, plan_id: str) -> pd.DataFrame:
    """Stored rows that the new rows (view ``new_rows``) duplicate or mix granularity with."""
    return con.execute(f"""
        SELECT n.row_no AS new_row, a.sha256, a.row_no AS old_row, a.period AS old_period,
               n.period AS new_period, coalesce(f.path, a.sha256) AS old_path
        FROM new_rows n JOIN actuals a ON {KEY_JOIN}
             AND (a.period = n.period
                  OR (a.month = n.month AND (a.day IS NULL) <> (n.day IS NULL)))
        LEFT JOIN actual_files f ON f.plan_id = a.plan_id AND f.sha256 = a.sha256
        ORDER BY n.row_no, a.row_no""", [plan_id]).df()


def import_file(con: duckdb.DuckDBPyConnection, plan: Plan, found: ActualsFile,
                replace: bool = False) -> Imported:
    """Store one checked file in one transaction (module docstring); ActualsError on clashes."""
    seen = con.execute("SELECT rows, imported_at FROM actual_files WHERE plan_id = ? AND "
                       "sha256 = ?", [plan.id, found.sha256]).fetchone()
    if seen is not None:
        return Imported(found.path, found.sha256, "already imported", int(seen[0]), 0, seen[1])
    rows = found.rows
    new = pd.DataFrame({
        "row_no": rows["row"].astype(np.int32), "unit": rows["unit"].astype(str),
        "product": rows["product"].astype(str), "channel": rows["channel"].astype(str),
        "measure": rows["measure"].astype(str), "period": rows["period"].astype(str),
        "day": pd.to_datetime(rows["date"]), "month": rows["month_key"].astype(str),
        "value": rows["value"].astype(float)})
    con.register("new_rows", new)
    try:
        con.begin()
        try:
            clashes = _collisions(con, plan.id)
            replaced = 0
            if len(clashes) and not replace:
                raise ActualsError(str(found.path), [_clash_problem(r) for r in
                                                     clashes.itertuples(index=False)])
            if len(clashes):
                before = _count(con, plan.id)
                con.execute(f"""DELETE FROM actuals a WHERE EXISTS (
                    SELECT 1 FROM new_rows n WHERE {KEY_JOIN}
                    AND (a.period = n.period
                         OR (a.month = n.month AND (a.day IS NULL) <> (n.day IS NULL))))""",
                            [plan.id])
                replaced = before - _count(con, plan.id)
            con.execute("""INSERT INTO actuals SELECT ?, ?, row_no, unit, product, channel,
                           measure, period, CAST(day AS DATE), month, value FROM new_rows""",
                        [plan.id, found.sha256])
            con.execute("INSERT INTO actual_files VALUES (?, ?, ?, ?, ?, ?)",
                        [plan.id, found.sha256, str(found.path), len(new), replaced,
                         dt.datetime.now(dt.UTC).replace(tzinfo=None)])
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.unregister("new_rows")
    return Imported(found.path, found.sha256, "imported", len(new), replaced)


def _count(con: duckdb.DuckDBPyConnection, plan_id: str) -> int:
    row = con.execute("SELECT count(*) FROM actuals WHERE plan_id = ?", [plan_id]).fetchone()
    return int(row[0]) if row else 0


def _clash_problem(r: Any) -> RowProblem:
    new_row, old_path, old_row = int(r.new_row), str(r.old_path), int(r.old_row)
    old_period, new_period = str(r.old_period), str(r.new_period)
    if old_period == new_period:
        text = (f"duplicate: {old_path} row {old_row} (already imported) has the same unit, "
                f"product, channel, measure and period {new_period}; use --replace to "
                "correct it with this file's value")
    else:
        text = (f"{new_period} mixes a month value and daily values of the same unit, product, "
                f"channel and measure: {old_path} row {old_row} ({old_period}) is already "
                "imported")
    return RowProblem(new_row, None, text)


def files(con: duckdb.DuckDBPyConnection, plan_id: str) -> pd.DataFrame:
    """The imported files of a plan, oldest first."""
    return con.execute("SELECT path, sha256, rows, replaced, imported_at FROM actual_files "
                       "WHERE plan_id = ? ORDER BY imported_at", [plan_id]).df()


def load_actuals(con: duckdb.DuckDBPyConnection, plan: Plan) -> pd.DataFrame:
    """Every actual of the plan as the table of :mod:`xlplan.tracking.actuals`, including the
    BSC inputs of consolidated unit workbooks when ``current_facts`` exists."""
    cal = FiscalCalendar.of(plan)
    frames = []
    if _has_table(con, "actuals"):
        rows = con.execute("SELECT unit, product, channel, measure, period, value FROM actuals "
                           "WHERE plan_id = ? ORDER BY sha256, row_no", [plan.id]).df()
        frames.append(_canonical(rows, cal))
    if _has_table(con, "current_facts"):
        facts = workbook_kpis(con, plan)
        if frames and not facts.empty:
            have = frames[0]
            keys = ["unit", "measure", "day", "month"]
            merged = facts.merge(have[keys].drop_duplicates(), on=keys, how="left",
                                 indicator=True)
            facts = facts[(merged["_merge"] == "left_only").to_numpy()]
        frames.append(facts)
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True)[COLUMNS] if frames else empty()


def workbook_kpis(con: duckdb.DuckDBPyConnection, plan: Plan) -> pd.DataFrame:
    """BSC inputs of the accepted unit workbooks (``current_facts``) as KPI actuals."""
    cal = FiscalCalendar.of(plan)
    try:
        facts = con.execute(
            "SELECT unit, substr(item, ?) AS measure, period, value_num AS value "
            "FROM current_facts WHERE plan_id = ? AND item LIKE ? AND value_num IS NOT NULL",
            [len(BSC_PREFIX) + 1, plan.id, BSC_PREFIX + "%"]).df()
    except duckdb.Error:
        return empty()
    kpis = {k.code for k in plan.bsc.kpis}
    units = {u.code for u in plan.units}
    facts = facts[facts["measure"].isin(list(kpis)) & facts["unit"].isin(list(units))]
    facts = facts.assign(product="", channel="")
    out = _canonical(facts, cal)
    return out


def _canonical(rows: pd.DataFrame, cal: FiscalCalendar) -> pd.DataFrame:
    """Rows with a text ``period`` → the actuals table (periods outside the year dropped)."""
    if rows.empty:
        return empty()
    period = rows["period"].astype(str)
    is_day = period.str.len() == 10
    day = pd.to_datetime(period.where(is_day), format="%Y-%m-%d", errors="coerce")
    start = pd.Timestamp(cal.start)
    day_index = ((day - start).dt.days).fillna(MONTH_ROW).astype(np.int64)
    month_keys = period.str[:7]
    lookup = {cal.month_key(m): m for m in range(12)}
    month = month_keys.map(lookup)
    keep = month.notna() & (~is_day | day.notna())
    out = pd.DataFrame({
        "unit": rows["unit"].astype(str), "product": rows["product"].astype(str),
        "channel": rows["channel"].astype(str), "measure": rows["measure"].astype(str),
        "day": np.where(is_day, day_index, MONTH_ROW),
        "month": month.fillna(0).astype(np.int64), "value": rows["value"].astype(float)})
    return out[keep.to_numpy()].reset_index(drop=True)
