"""The consolidated figures, as DataFrames: roll-ups, the top-down vs bottom-up gap,
OKR and BSC roll-ups, budget requests. Pure pandas over the accepted facts and
the plan's numbers (:class:`xlplan.engine.numbers.PlanNumbers`); the report
writer only lays them out.

Facts come from :func:`xlplan.consolidate.store.current_facts`: one row per
accepted input (unit, sheet, cell, item, period, value_num, value_text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlplan.engine.bsc import kpi_score, month_actual, mtd_rule
from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.okr import kr_progress, objective_progress
from xlplan.engine.variance import attainment_array, status_array

MONTHS = [f"M{m:02d}" for m in range(1, 13)]
FORECAST_COLUMNS = ["forecast", "forecast_gap"]  # beside the budget's, with a forecast


@dataclass
class Views:
    commitments: pd.DataFrame  # unit, product, channel, M01..M12, total (money)
    gap: pd.DataFrame  # unit, product, channel, month, target, commitment, gap, attainment…
    org: pd.DataFrame  # every org node: level, code, name, M01..M12, total, target, gap
    by_product: pd.DataFrame
    by_channel: pd.DataFrame
    okr: pd.DataFrame
    bsc: pd.DataFrame
    budget: pd.DataFrame
    forecast: str = ""  # the forecast version beside the budget (gap and org), if any


@dataclass(frozen=True)
class Forecast:
    """The latest re-forecast (a version in the history database) in the gap's layout:
    ``frame`` has unit, product, channel, month (M01…M12) and forecast (money)."""

    name: str
    as_of: str
    frame: pd.DataFrame


def forecast_of(name: str, as_of: str, cells: dict[tuple[str, str, str, str], int],
                month_keys: list[str], su: float) -> Forecast:
    """A version's cells (unit, product, channel, ``YYYY-MM`` → minor units) in the gap's
    layout; ``month_keys``: the ``YYYY-MM`` of each fiscal month."""
    month = {key: MONTHS[m] for m, key in enumerate(month_keys)}
    keys = [k for k in cells if k[3] in month]
    frame = pd.DataFrame({"unit": [k[0] for k in keys], "product": [k[1] for k in keys],
                          "channel": [k[2] for k in keys],
                          "month": [month[k[3]] for k in keys],
                          "forecast": np.array([cells[k] for k in keys], dtype=np.int64) * su},
                         columns=["unit", "product", "channel", "month", "forecast"])
    return Forecast(name, as_of, frame)


def build_views(numbers: PlanNumbers, facts: pd.DataFrame, accepted: list[str],
                forecast: Forecast | None = None) -> Views:
    commitments = commitment_cube(numbers, facts, accepted)
    gap = gap_frame(numbers, commitments, forecast)
    return Views(commitments, gap, org_rollup(numbers, gap), _by(gap, "product"),
                 _by(gap, "channel"), okr_frame(numbers, facts), bsc_frame(numbers, facts),
                 budget_frame(numbers, facts), forecast.name if forecast else "")


def facts_of(facts: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The facts whose item starts with ``prefix``, with plain text columns.

    :func:`~xlplan.consolidate.store.current_facts` reads the repeated text columns as
    categoricals; grouping by a categorical depends on pandas' ``observed`` default, which
    pandas 3 changed, so each view gets ordinary columns (references to the same strings,
    8 bytes a value).
    """
    if not len(facts):
        return facts
    rows = facts[facts["item"].str.startswith(prefix)]
    categorical = [c for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)]
    return rows.astype({c: object for c in categorical})


def commitment_cube(numbers: PlanNumbers, facts: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """Bottom-up commitments of the accepted units: unit × product × channel × month."""
    columns = ["unit", "product", "channel", "month", "value"]
    if not len(facts):
        return pd.DataFrame(columns=columns)
    rows = facts_of(facts, "commitment:")
    rows = rows[rows["unit"].isin(units)]
    # split each distinct item once ("commitment:PRODUCT:CHANNEL"), not each row
    parts = {item: item.split(":") for item in rows["item"].unique()}
    return pd.DataFrame({"unit": rows["unit"],
                         "product": rows["item"].map({i: p[1] for i, p in parts.items()}),
                         "channel": rows["item"].map({i: p[2] for i, p in parts.items()}),
                         "month": rows["period"], "value": rows["value_num"].astype(float)},
                        columns=columns)


def _targets(numbers: PlanNumbers) -> pd.DataFrame:
    """Top-down targets of every input unit by product × channel leaf × month, in money."""
    units = numbers.input_units
    index = pd.MultiIndex.from_product([units, numbers.products, numbers.channel_leaves, MONTHS],
                                       names=["unit", "product", "channel", "month"])
    minor = np.concatenate([numbers.cube[u].reshape(-1) for u in units]) if units else \
        np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"target_minor": minor.astype(np.int64)}, index=index).reset_index()


def gap_frame(numbers: PlanNumbers, commitments: pd.DataFrame,
              forecast: Forecast | None = None) -> pd.DataFrame:
    """Top-down target vs bottom-up commitment for every unit × product × channel × month;
    with a ``forecast``, also the forecast and the commitment's gap against it
    (``forecast_gap``).

    Units without an accepted submission have no commitment (NaN, no light),
    never a commitment of 0 that would read as a 100% gap.
    """
    targets = _targets(numbers)
    su = float(numbers.su)
    merged = targets.merge(commitments.rename(columns={"value": "commitment"}),
                           on=["unit", "product", "channel", "month"], how="left")
    submitted = set(commitments["unit"])
    has_unit = merged["unit"].isin(submitted)
    merged.loc[has_unit, "commitment"] = merged.loc[has_unit, "commitment"].fillna(0.0)
    merged["target"] = merged.pop("target_minor") * su
    columns = ["unit", "product", "channel", "month", "target", "commitment", "gap",
               "attainment", "status"]
    if forecast is not None:
        merged = merged.merge(forecast.frame, on=["unit", "product", "channel", "month"],
                              how="left")
        merged["forecast_gap"] = merged["commitment"] - merged["forecast"]
        columns += ["forecast", "forecast_gap"]
    return with_gap(merged, numbers)[columns]


def with_gap(frame: pd.DataFrame, numbers: PlanNumbers) -> pd.DataFrame:
    """``frame`` (target, commitment columns) with gap, attainment and status added."""
    frame = frame.copy()
    frame["gap"] = frame["commitment"] - frame["target"]
    frame["attainment"] = attainment_array(frame["commitment"], frame["target"])
    frame["status"] = status_array(frame["attainment"], numbers.plan.status_bands)
    return frame


def _by(gap: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Totals by one dimension and month (commitments of the submitted units only)."""
    table = gap.groupby([dim, "month"], sort=False)[["target", "commitment"]].sum(
        min_count=1).reset_index()
    return table


def org_rollup(numbers: PlanNumbers, gap: pd.DataFrame) -> pd.DataFrame:
    """Every org node from the company down to the input units: commitments by month
    summed from the input units below it, against the top-down target."""
    by_unit = gap.pivot_table(index="unit", columns="month", values="commitment",
                              aggfunc=lambda s: s.sum(min_count=1), dropna=False)
    targets = gap.groupby("unit")["target"].sum()
    forecasts = gap.groupby("unit")["forecast"].sum(min_count=1) if "forecast" in gap else None
    inputs = set(numbers.input_units)
    rows = []
    tree = numbers.tree

    def leaves(code: str) -> list[str]:
        if code in inputs:
            return [code]
        return [u for child in tree.children[code] for u in leaves(child)]

    depth = {tree.root: 0}
    for code in tree.walk():
        for child in tree.children[code]:
            depth[child] = depth[code] + 1
        below = leaves(code)
        if not below:
            continue
        months = by_unit.reindex(below)
        row: dict[str, object] = {"level": depth[code], "code": code,
                                  "name": tree.units[code].name,
                                  "units": len(below),
                                  "submitted": int(months.notna().any(axis=1).sum())}
        for m in MONTHS:
            row[m] = months[m].sum(min_count=1) if m in months else math.nan
        row["commitment"] = months.sum(axis=1, min_count=1).sum(min_count=1)
        row["target"] = float(targets.reindex(below).sum())
        if forecasts is not None:
            row["forecast"] = forecasts.reindex(below).sum(min_count=1)
            row["forecast_gap"] = row["commitment"] - row["forecast"]  # type: ignore[operator]
        rows.append(row)
        if code in inputs:
            continue
    frame = with_gap(pd.DataFrame(rows), numbers)
    if forecasts is None:
        return frame
    rest = [c for c in frame.columns if c not in FORECAST_COLUMNS]
    return frame[[*rest, *FORECAST_COLUMNS]]


def okr_frame(numbers: PlanNumbers, facts: pd.DataFrame) -> pd.DataFrame:
    """Each key result the units filled in: progress (engine) and what it aligns to."""
    rows = facts_of(facts, "okr:")
    if not len(rows):
        return pd.DataFrame(columns=["unit", "objective", "title", "kr", "key_result", "start",
                                     "target", "current", "weight", "progress", "aligned_to",
                                     "objective_progress"])
    parts = rows["item"].str.split(":", expand=True)
    values = rows.assign(code=parts[1], field=parts[2])
    value = values["value_num"].astype(object).where(values["value_num"].notna(),
                                                     values["value_text"])
    wide = values.assign(value=value).pivot_table(index=["unit", "code"], columns="field",
                                                  values="value", aggfunc="first").reset_index()
    titles = wide[wide["code"].str.count(r"\.") == 0].set_index(["unit", "code"])
    krs = wide[wide["code"].str.contains(r"\.")].copy()
    if not len(krs):
        return pd.DataFrame()
    krs["objective"] = krs["code"].str.rsplit(".", n=1).str[0]
    for col in ("start", "target", "current", "weight", "key_result", "aligned_to"):
        if col not in krs:
            krs[col] = None

    def progress(start: object, target: object, current: object) -> float:
        if not (isinstance(start, int | float) and isinstance(target, int | float)) or (
                math.isnan(start) or math.isnan(target)):
            return math.nan
        now = current if isinstance(current, int | float) else None
        try:
            return kr_progress(float(start), float(target), now)
        except (ValueError, ZeroDivisionError):
            return math.nan

    # plain Python over the rows: a few thousand key results at a few hundred units, where
    # a pandas apply, groupby or MultiIndex lookup per row costs a millisecond or so each
    krs["progress"] = [progress(*r) for r in zip(krs["start"], krs["target"], krs["current"],
                                                 strict=True)]
    krs["weight"] = pd.to_numeric(krs["weight"], errors="coerce")
    keys = list(zip(krs["unit"], krs["objective"], strict=True))
    scored: dict[tuple[str, str], tuple[list[float], list[float]]] = {k: ([], []) for k in keys}
    for key, done, weight in zip(keys, krs["progress"], krs["weight"].fillna(0.0), strict=True):
        if not math.isnan(done):
            scored[key][0].append(done)
            scored[key][1].append(weight)
    obj = {k: objective_progress(p, w) if p else math.nan for k, (p, w) in scored.items()}
    krs["objective_progress"] = [obj[k] for k in keys]
    title_of = titles["title"].to_dict() if "title" in titles else {}
    krs["title"] = [title_of.get(k) for k in keys]
    return krs.rename(columns={"code": "kr"})[
        ["unit", "objective", "title", "kr", "key_result", "start", "target", "current",
         "weight", "progress", "aligned_to", "objective_progress"]]


def bsc_frame(numbers: PlanNumbers, facts: pd.DataFrame) -> pd.DataFrame:
    """Each unit's KPI month values (latest month reported) scored by the engine.

    Plain Python over the rows, grouped in a dict: a pandas groupby visits tens of
    thousands of (unit, KPI, month) groups at a few hundred units, at ~0.2 ms each."""
    columns = ["unit", "kpi", "name", "perspective", "month", "actual", "target", "score"]
    rows = facts_of(facts, "bsc:")
    if not len(rows):
        return pd.DataFrame(columns=columns)
    kpis = {k.code: k for k in numbers.plan.bsc.kpis}
    groups: dict[tuple[str, str, str], tuple[list[object], list[object]]] = {}
    for unit, item, period, value in zip(rows["unit"].tolist(), rows["item"].tolist(),
                                         rows["period"].tolist(), rows["value_num"].tolist(),
                                         strict=True):
        months, days = groups.setdefault((unit, item[4:], period[:7]), ([], []))
        if len(period) == 7:
            months.append(value)
        elif len(period) == 10:
            days.append(value)
    out = []
    for (unit, code, month), (months, days) in sorted(groups.items()):
        kpi = kpis.get(code)
        if kpi is None:
            continue
        rule = mtd_rule(kpi, numbers.plan.currency.code, numbers.plan.currency.symbol)
        actual = month_actual(rule, days, months[0] if months else None)
        score = math.nan
        if actual is not None and not math.isnan(actual):
            try:
                score = kpi_score(actual, kpi.target, kpi.floor, kpi.direction)
            except ValueError:
                score = math.nan
        out.append({"unit": unit, "kpi": code, "name": kpi.name,
                    "perspective": kpi.perspective.value, "month": month, "actual": actual,
                    "target": kpi.target, "score": score})
    return pd.DataFrame(out, columns=columns)


def budget_frame(numbers: PlanNumbers, facts: pd.DataFrame) -> pd.DataFrame:
    """Each unit's requested budget (request lines and reserve draw) against its allocation."""
    alloc = numbers.budget_allocation
    if alloc is None:
        return pd.DataFrame(columns=["unit", "allocation", "requested", "reserve_draw",
                                     "difference"])
    su = float(numbers.su)
    rows = facts_of(facts, "budget:")
    amounts = _sum_by_unit(rows[rows["item"].str.endswith(":amount")] if len(rows) else rows)
    draws = _sum_by_unit(rows[rows["item"] == "budget:reserve_draw"] if len(rows) else rows)
    out = []
    for unit in numbers.input_units:
        requested, draw = amounts.get(unit, 0.0), draws.get(unit, 0.0)
        given = alloc.units[unit] * su
        out.append({"unit": unit, "allocation": given, "requested": requested,
                    "reserve_draw": draw, "difference": requested - given})
    return pd.DataFrame(out)


def _sum_by_unit(rows: pd.DataFrame) -> dict[str, float]:
    """Sum of ``value_num`` per unit, blanks skipped (a unit with only blanks sums to 0)."""
    if not len(rows):
        return {}
    sums = rows.groupby(rows["unit"].astype(str))["value_num"].sum()
    return {str(unit): float(total) for unit, total in sums.items()}
