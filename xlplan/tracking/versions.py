"""Versions of the plan's numbers, kept in the history database (never in the plan file).

A version is a named set of numbers per unit × product × channel × month, in minor
units:

- ``budget``: the targets of the plan revision that was approved
  (``xlplan version approve``);
- ``forecast-<name>``: a re-forecast as of a date (``xlplan reforecast --name``): for
  each unit that fills a workbook, the months that have ended take that unit's
  actuals, and the rest of its year is re-phased by the plan's rule with the
  quarter-beat raise applied to the unit (:func:`xlplan.tracking.reforecast.reforecast`
  with ``unit``); within a month, the amount goes over product × channel by the unit's
  actuals (months ended) or its targets (months to come), largest remainder, so every
  cell adds up to its month and the months to the year to the minor unit;
- ``actual``: the revenue actuals as they stand (recomputed by :func:`actual_cells`).

Tables ``plan_versions`` and ``plan_version_values``; views ``versions`` and
``version_values`` (amounts in major units beside the minor ones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from xlplan.engine.allocate import allocate
from xlplan.spec.models import Plan
from xlplan.tracking.actuals import minor, roll_up
from xlplan.tracking.compare import RevenueActuals
from xlplan.tracking.phased_targets import RevenueTargets
from xlplan.tracking.reforecast import ReforecastError, reforecast

SCHEMA = """
CREATE TABLE IF NOT EXISTS plan_versions (
    plan_id VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    spec_hash VARCHAR NOT NULL, as_of DATE, created TIMESTAMP NOT NULL,
    total_minor BIGINT NOT NULL, smallest_unit DOUBLE NOT NULL, note VARCHAR,
    PRIMARY KEY (plan_id, name));
CREATE TABLE IF NOT EXISTS plan_version_values (
    plan_id VARCHAR NOT NULL, name VARCHAR NOT NULL, unit VARCHAR NOT NULL,
    product VARCHAR NOT NULL, channel VARCHAR NOT NULL, month VARCHAR NOT NULL,
    value_minor BIGINT NOT NULL);
CREATE OR REPLACE VIEW versions AS
    SELECT plan_id, name, kind, spec_hash AS revision, as_of, created,
           total_minor * smallest_unit AS total, note FROM plan_versions;
CREATE OR REPLACE VIEW version_values AS
    SELECT v.plan_id, v.name, x.unit, x.product, x.channel, x.month, x.value_minor,
           x.value_minor * v.smallest_unit AS value
    FROM plan_version_values x JOIN plan_versions v USING (plan_id, name);
"""
BUDGET = "budget"
FORECAST_PREFIX = "forecast-"


class VersionError(ValueError):
    """A version that cannot be made or stored, with the reason."""


@dataclass(frozen=True)
class Version:
    """A version's numbers: (unit, product, channel, month key) → minor units."""

    name: str
    kind: str  # budget | forecast | actual
    spec_hash: str
    as_of: dt.date | None
    cells: dict[tuple[str, str, str, str], int]
    note: str = ""

    @property
    def total(self) -> int:
        return sum(self.cells.values())


def budget(targets: RevenueTargets, spec_hash: str) -> Version:
    """The targets of a revision, per input unit × product × channel × month."""
    return Version(BUDGET, "budget", spec_hash, None, _cells(targets, targets.cube))


def _cells(targets: RevenueTargets, cube: dict[str, np.ndarray]
           ) -> dict[tuple[str, str, str, str], int]:
    """Each input unit's products × channels × months grid as keyed cells."""
    cal = targets.calendar
    cells = {}
    for unit in targets.input_units:
        for p, product in enumerate(targets.products):
            for c, channel in enumerate(targets.channels):
                for m in range(12):
                    cells[(unit, product, channel, cal.month_key(m))] = int(cube[unit][p, c, m])
    return cells


def actual_cube(frame: pd.DataFrame, targets: RevenueTargets, measure: str,
                smallest_unit: float) -> dict[str, np.ndarray]:
    """Revenue actuals per input unit as products × channels × 12 months (minor units);
    rows without a product or channel known to the plan count in the first one."""
    shape = (len(targets.products), len(targets.channels), 12)
    out = {u: np.zeros(shape, dtype=np.int64) for u in targets.input_units}
    rows = frame[frame["measure"] == measure]
    if rows.empty:
        return out
    rows = roll_up(rows, targets.tree)
    rows = rows[rows["unit"].isin(out)]
    p_index = {p: i for i, p in enumerate(targets.products)}
    c_index = {c: i for i, c in enumerate(targets.channels)}
    amounts = minor(rows["value"], smallest_unit)
    for unit, product, channel, month, amount in zip(
            rows["unit"], rows["product"], rows["channel"], rows["month"], amounts,
            strict=True):
        out[str(unit)][p_index.get(str(product), 0), c_index.get(str(channel), 0),
                       int(month)] += int(amount)
    return out


def actuals_range(revenue: RevenueActuals, targets: RevenueTargets) -> str:
    """The dates the revenue actuals cover, in words."""
    cal = targets.calendar
    if revenue.last_day < 0:
        return "no revenue actuals at all"
    firsts = [int(np.flatnonzero(d)[0]) for d in revenue.days.values() if d.any()]
    months = [int(np.flatnonzero(m)[0]) for m in revenue.months_only.values() if m.any()]
    first = min(firsts + [cal.month_span(m).first for m in months])
    return f"revenue actuals from {cal.days[first]} to {cal.days[revenue.last_day]}"


def forecast(plan: Plan, targets: RevenueTargets, revenue: RevenueActuals,
             cube: dict[str, np.ndarray], as_of: dt.date, name: str, spec_hash: str,
             keep_annual: bool = True) -> Version:
    """A re-forecast per input unit (module docstring). Raises VersionError."""
    cal = targets.calendar
    day = min(as_of, cal.end)
    closed = cal.closed_months(day) if day >= cal.start else 0
    if closed == 0 or revenue.last_day < 0:
        raise VersionError(f"as of {as_of} no fiscal month has ended with actuals to take "
                           f"({actuals_range(revenue, targets)}): choose an --as-of at or "
                           "after the end of a month those actuals cover")
    grids: dict[str, np.ndarray] = {}
    notes = []
    for unit in targets.input_units:
        try:
            rf = reforecast(plan, targets, revenue, as_of, keep_annual, unit)
        except ReforecastError as exc:
            raise VersionError(f"{exc} ({actuals_range(revenue, targets)})") from None
        if rf.note:
            notes.append(f"{unit}: {rf.note}")
        grid = np.zeros_like(targets.cube[unit])
        for m in range(12):
            weights = cube[unit][:, :, m] if m < rf.closed else targets.cube[unit][:, :, m]
            grid[:, :, m] = _split(int(rf.months[m]), weights)
        grids[unit] = grid
    return Version(name, "forecast", spec_hash, as_of, _cells(targets, grids), "; ".join(notes))


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` over a product × channel grid by ``weights`` (evenly when all are 0): the
    actual amounts themselves when they add up to ``total``."""
    flat = [float(x) for x in weights.ravel()]
    if not any(flat):
        flat = [1.0] * len(flat)
    return np.array(allocate(total, flat), dtype=np.int64).reshape(weights.shape)


def exists(con: duckdb.DuckDBPyConnection, plan_id: str, name: str) -> bool:
    return con.execute("SELECT 1 FROM plan_versions WHERE plan_id=? AND name=?",
                       [plan_id, name]).fetchone() is not None


def save(con: duckdb.DuckDBPyConnection, plan_id: str, version: Version, smallest_unit: float,
         replace: bool = False) -> None:
    """Store a version in one transaction; an existing name is an error unless ``replace``."""
    con.execute("BEGIN TRANSACTION")
    try:
        if exists(con, plan_id, version.name):
            if not replace:
                raise VersionError(f"version {version.name!r} of plan {plan_id} exists "
                                   "already: pass --replace to replace it")
            for table in ("plan_versions", "plan_version_values"):
                con.execute(f"DELETE FROM {table} WHERE plan_id=? AND name=?",
                            [plan_id, version.name])
        con.execute("INSERT INTO plan_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [plan_id, version.name, version.kind, version.spec_hash, version.as_of,
                     dt.datetime.now(dt.UTC).replace(tzinfo=None), version.total,
                     smallest_unit, version.note or None])
        keys = list(version.cells)
        frame = pd.DataFrame({
            "plan_id": plan_id, "name": version.name,
            "unit": [k[0] for k in keys], "product": [k[1] for k in keys],
            "channel": [k[2] for k in keys], "month": [k[3] for k in keys],
            "value_minor": np.array([version.cells[k] for k in keys], dtype=np.int64)})
        con.register("new_values", frame)
        con.execute("INSERT INTO plan_version_values SELECT * FROM new_values")
        con.unregister("new_values")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def listed(con: duckdb.DuckDBPyConnection, plan_id: str) -> list[dict[str, object]]:
    """The stored versions of a plan, oldest first, as ``xlplan versions --json`` prints."""
    rows = con.execute("SELECT name, kind, revision, as_of, created, total FROM versions "
                       "WHERE plan_id=? ORDER BY created, name", [plan_id]).fetchall()
    return [{"name": n, "kind": k, "revision": r, "as_of": a.isoformat() if a else None,
             "created": c.isoformat(timespec="seconds"), "total": round(float(t), 10)}
            for n, k, r, a, c, t in rows]


def actual_version(targets: RevenueTargets, cube: dict[str, np.ndarray],
                   revenue: RevenueActuals, spec_hash: str) -> Version:
    """The revenue actuals as they stand, per input unit × product × channel × month."""
    cal = targets.calendar
    through = cal.days[revenue.last_day] if revenue.last_day >= 0 else None
    return Version("actual", "actual", spec_hash, through, _cells(targets, cube))


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has the versions' tables (a database no version was kept in
    may not)."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                       "('plan_versions', 'plan_version_values')").fetchone() == (2,)


def stored_names(con: duckdb.DuckDBPyConnection, plan_id: str) -> list[str]:
    """The names of a plan's stored versions, oldest first ([] when none)."""
    if not _has_tables(con):
        return []
    return [str(n) for (n,) in con.execute(
        "SELECT name FROM plan_versions WHERE plan_id=? ORDER BY created, name",
        [plan_id]).fetchall()]


def load(con: duckdb.DuckDBPyConnection, plan_id: str, name: str) -> Version:
    """A stored version with its cells (VersionError naming the stored ones if unknown)."""
    head = con.execute("SELECT kind, spec_hash, as_of, note FROM plan_versions WHERE "
                       "plan_id=? AND name=?", [plan_id, name]).fetchone() \
        if _has_tables(con) else None
    if head is None:
        stored = stored_names(con, plan_id)
        raise VersionError(f"no version {name!r} of plan {plan_id}; stored: "
                           f"{', '.join(stored) if stored else 'none'}")
    kind, spec_hash, as_of, note = head
    rows = con.execute("SELECT unit, product, channel, month, value_minor FROM "
                       "plan_version_values WHERE plan_id=? AND name=?",
                       [plan_id, name]).fetchall()
    return Version(name, str(kind), str(spec_hash), as_of, {
        (str(u), str(p), str(c), str(m)): int(v) for u, p, c, m, v in rows}, note or "")


def latest_forecast(con: duckdb.DuckDBPyConnection, plan_id: str) -> Version | None:
    """The forecast with the latest as-of date (then the newest), or None."""
    if not _has_tables(con):
        return None
    row = con.execute("SELECT name FROM plan_versions WHERE plan_id=? AND kind='forecast' "
                      "ORDER BY as_of DESC, created DESC LIMIT 1", [plan_id]).fetchone()
    return load(con, plan_id, str(row[0])) if row else None


def unit_months(version: Version, month_keys: list[str]) -> dict[str, np.ndarray]:
    """A version's cells summed per unit and fiscal month (``month_keys``: the plan's
    ``YYYY-MM`` of each fiscal month); cells of other months are not counted."""
    index = {key: m for m, key in enumerate(month_keys)}
    out: dict[str, np.ndarray] = {}
    for (unit, _, _, month), value in version.cells.items():
        m = index.get(month)
        if m is not None:
            out.setdefault(unit, np.zeros(len(month_keys), dtype=np.int64))[m] += value
    return out
