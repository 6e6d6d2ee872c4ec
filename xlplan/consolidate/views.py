"""The consolidated figures, as DataFrames: roll-ups, the top-down vs bottom-up gap,
OKR and BSC roll-ups, budget requests. Pure pandas over the accepted facts and
the engine's targets; the report writer only lays them out.

Facts come from :func:`xlplan.consolidate.store.current_facts`: one row per
accepted input (unit, sheet, cell, item, period, value_num, value_text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlplan.engine.bsc import kpi_score, month_actual, mtd_rule
from xlplan.engine.decompose import split_unit_targets
from xlplan.engine.okr import kr_progress, objective_progress
from xlplan.engine.variance import attainment_array, status_array
from xlplan.workbook.context import BuildContext

MONTHS = [f"M{m:02d}" for m in range(1, 13)]


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


def build_views(ctx: BuildContext, facts: pd.DataFrame, accepted: list[str]) -> Views:
    commitments = commitment_cube(ctx, facts, accepted)
    gap = gap_frame(ctx, commitments)
    return Views(commitments, gap, org_rollup(ctx, gap), _by(gap, "product"),
                 _by(gap, "channel"), okr_frame(ctx, facts), bsc_frame(ctx, facts),
                 budget_frame(ctx, facts))


def commitment_cube(ctx: BuildContext, facts: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """Bottom-up commitments of the accepted units: unit × product × channel × month."""
    columns = ["unit", "product", "channel", "month", "value"]
    if not len(facts):
        return pd.DataFrame(columns=columns)
    rows = facts[facts["item"].str.startswith("commitment:") & facts["unit"].isin(units)]
    parts = rows["item"].str.split(":", expand=True)
    return pd.DataFrame({"unit": rows["unit"], "product": parts[1] if len(rows) else [],
                         "channel": parts[2] if len(rows) else [], "month": rows["period"],
                         "value": rows["value_num"].astype(float)}, columns=columns)


def _targets(ctx: BuildContext) -> pd.DataFrame:
    """Top-down targets of every input unit by product × channel leaf × month, in money."""
    units = ctx.input_units
    cube = split_unit_targets(np.array([ctx.targets[u] for u in units]), ctx.plan, ctx.prior)
    products = [p.code for p in ctx.plan.products]
    channels = ctx.channels.leaves()
    index = pd.MultiIndex.from_product([units, products, channels, MONTHS],
                                       names=["unit", "product", "channel", "month"])
    minor = np.asarray(cube, dtype=np.int64).reshape(-1)
    return pd.DataFrame({"target_minor": minor}, index=index).reset_index()


def gap_frame(ctx: BuildContext, commitments: pd.DataFrame) -> pd.DataFrame:
    """Top-down target vs bottom-up commitment for every unit × product × channel × month.

    Units without an accepted submission have no commitment (NaN, no light),
    never a commitment of 0 that would read as a 100% gap.
    """
    targets = _targets(ctx)
    su = float(ctx.su)
    merged = targets.merge(commitments.rename(columns={"value": "commitment"}),
                           on=["unit", "product", "channel", "month"], how="left")
    submitted = set(commitments["unit"])
    has_unit = merged["unit"].isin(submitted)
    merged.loc[has_unit, "commitment"] = merged.loc[has_unit, "commitment"].fillna(0.0)
    merged["target"] = merged.pop("target_minor") * su
    return with_gap(merged, ctx)[["unit", "product", "channel", "month", "target",
                                  "commitment", "gap", "attainment", "status"]]


def with_gap(frame: pd.DataFrame, ctx: BuildContext) -> pd.DataFrame:
    """``frame`` (target, commitment columns) with gap, attainment and status added."""
    frame = frame.copy()
    frame["gap"] = frame["commitment"] - frame["target"]
    frame["attainment"] = attainment_array(frame["commitment"], frame["target"])
    frame["status"] = status_array(frame["attainment"], ctx.plan.status_bands)
    return frame


def _by(gap: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Totals by one dimension and month (commitments of the submitted units only)."""
    table = gap.groupby([dim, "month"], sort=False)[["target", "commitment"]].sum(
        min_count=1).reset_index()
    return table


def org_rollup(ctx: BuildContext, gap: pd.DataFrame) -> pd.DataFrame:
    """Every org node from the company down to the input units: commitments by month
    summed from the input units below it, against the top-down target."""
    by_unit = gap.pivot_table(index="unit", columns="month", values="commitment",
                              aggfunc=lambda s: s.sum(min_count=1), dropna=False)
    targets = gap.groupby("unit")["target"].sum()
    inputs = set(ctx.input_units)
    rows = []
    tree = ctx.tree

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
        rows.append(row)
        if code in inputs:
            continue
    frame = pd.DataFrame(rows)
    return with_gap(frame, ctx)


def okr_frame(ctx: BuildContext, facts: pd.DataFrame) -> pd.DataFrame:
    """Each key result the units filled in: progress (engine) and what it aligns to."""
    rows = facts[facts["item"].str.startswith("okr:")] if len(facts) else facts
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

    def progress(r: pd.Series) -> float:
        if not all(isinstance(r[k], int | float) and not pd.isna(r[k])
                   for k in ("start", "target")):
            return math.nan
        current = r["current"] if isinstance(r["current"], int | float) else None
        try:
            return kr_progress(float(r["start"]), float(r["target"]), current)
        except (ValueError, ZeroDivisionError):
            return math.nan

    krs["progress"] = krs.apply(progress, axis=1)
    krs["weight"] = pd.to_numeric(krs["weight"], errors="coerce")
    obj = {}
    for key, group in krs.groupby(["unit", "objective"]):
        scored = group[group["progress"].notna()]
        obj[key] = (objective_progress(list(scored["progress"]),
                                       list(scored["weight"].fillna(0.0)))
                    if len(scored) else math.nan)
    krs["objective_progress"] = [obj[(u, o)] for u, o in zip(krs["unit"], krs["objective"],
                                                             strict=True)]
    krs["title"] = [titles["title"].get((u, o)) if "title" in titles else None
                    for u, o in zip(krs["unit"], krs["objective"], strict=True)]
    return krs.rename(columns={"code": "kr"})[
        ["unit", "objective", "title", "kr", "key_result", "start", "target", "current",
         "weight", "progress", "aligned_to", "objective_progress"]]


def bsc_frame(ctx: BuildContext, facts: pd.DataFrame) -> pd.DataFrame:
    """Each unit's KPI month values (latest month reported) scored by the engine."""
    rows = facts[facts["item"].str.startswith("bsc:")] if len(facts) else facts
    out = []
    kpis = {k.code: k for k in ctx.plan.bsc.kpis}
    if not len(rows):
        return pd.DataFrame(columns=["unit", "kpi", "name", "perspective", "month", "actual",
                                     "target", "score"])
    rows = rows.assign(kpi=rows["item"].str.slice(4), month=rows["period"].str.slice(0, 7))
    for (unit, code, month), group in rows.groupby(["unit", "kpi", "month"]):
        kpi = kpis.get(str(code))
        if kpi is None:
            continue
        rule = mtd_rule(kpi, ctx.plan.currency.code, ctx.plan.currency.symbol)
        month_value = group.loc[group["period"].str.len() == 7, "value_num"]
        days = group.loc[group["period"].str.len() == 10, "value_num"].tolist()
        actual = month_actual(rule, days, month_value.iloc[0] if len(month_value) else None)
        score = math.nan
        if actual is not None and not math.isnan(actual):
            try:
                score = kpi_score(actual, kpi.target, kpi.floor, kpi.direction)
            except ValueError:
                score = math.nan
        out.append({"unit": unit, "kpi": code, "name": kpi.name,
                    "perspective": kpi.perspective.value, "month": month, "actual": actual,
                    "target": kpi.target, "score": score})
    return pd.DataFrame(out)


def budget_frame(ctx: BuildContext, facts: pd.DataFrame) -> pd.DataFrame:
    """Each unit's requested budget (request lines and reserve draw) against its allocation."""
    alloc = ctx.budget_allocation
    if alloc is None:
        return pd.DataFrame(columns=["unit", "allocation", "requested", "reserve_draw",
                                     "difference"])
    su = float(ctx.su)
    rows = facts[facts["item"].str.startswith("budget:")] if len(facts) else facts
    out = []
    for unit in ctx.input_units:
        mine = rows[rows["unit"] == unit] if len(rows) else rows
        amounts = mine[mine["item"].str.endswith(":amount")]["value_num"].sum() if len(
            mine) else 0.0
        draw = mine[mine["item"] == "budget:reserve_draw"]["value_num"].sum() if len(
            mine) else 0.0
        given = alloc.units[unit] * su
        out.append({"unit": unit, "allocation": given, "requested": float(amounts),
                    "reserve_draw": float(draw), "difference": float(amounts) - given})
    return pd.DataFrame(out)
