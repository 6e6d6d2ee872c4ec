"""Fill a unit workbook's inputs with plausible values, as a manager would.

For demos and tests: the values go only into the input cells the manifest
lists, and the workbook is rebuilt with them, so every formula's cached value is
the engine's (as if Excel had recalculated and saved it).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlplan.engine.allocate import allocate, order_by_code
from xlplan.engine.decompose import split_unit_targets
from xlplan.engine.org import child_weights
from xlplan.engine.rounding import major_float
from xlplan.i18n import Msg, Words
from xlplan.spec.loader import LoadedPlan, in_language, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.book import Value
from xlplan.workbook.build import Built, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import InputRule
from xlplan.workbook.manifest import Manifest, ManifestError, read_manifest


@dataclass
class Filled:
    workbook: Path
    unit: str
    cells: int
    totals: dict[str, float] = field(default_factory=dict)
    built: Built | None = None

    def to_json(self) -> dict[str, Any]:
        return {"workbook": str(self.workbook), "unit": self.unit, "filled": self.cells,
                "totals": {k: round(v, 2) for k, v in self.totals.items()}}


def plan_for(manifest: Manifest, workbook: Path, plan_path: Path | None) -> LoadedPlan:
    """The plan a workbook was built from; its spec hash must match the manifest's."""
    path = plan_path or (Path(manifest.plan_path) if manifest.plan_path else None)
    if path is None or not path.is_file():
        raise ManifestError(f"{workbook}: its plan file {manifest.plan_path or '(unknown)'} "
                            "is not found; pass --plan")
    loaded = load_plan(path)
    if loaded.spec_hash != manifest.spec_hash:
        raise ManifestError(f"{workbook}: was built from another version of {path} (spec hash "
                            f"{manifest.spec_hash[:12]}…, the file now has "
                            f"{loaded.spec_hash[:12]}…)")
    return loaded


def _generic(rule: InputRule, rng: random.Random, year: int) -> Value:
    if rule.kind == "list":
        return rng.choice(rule.choices) if rule.choices else None
    if rule.kind == "date":
        start = rule.start or dt.date(year, 1, 1)
        end = rule.end or dt.date(year, 12, 31)
        return start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    if rule.kind == "text":
        return "Sample entry"
    if rule.kind == "ratio":
        return round(rng.uniform(0.2, 0.9), 2)
    lo = rule.minimum if rule.minimum is not None else 0.0
    hi = rule.maximum if rule.maximum is not None else lo + 1000.0
    value = round(rng.uniform(lo, hi), 0 if rule.kind == "integer" else 2)
    return value


def sample_inputs(ctx: BuildContext, manifest: Manifest, seed: int) -> dict[tuple[str, str],
                                                                           Value]:
    """Plausible values for every input the manifest lists."""
    rng = random.Random(f"{seed}:{manifest.unit}")
    unit = manifest.unit
    cube = split_unit_targets(np.array([ctx.targets[unit]]), ctx.plan, ctx.prior)[0]
    products = {p.code: i for i, p in enumerate(ctx.plan.products)}
    channels = {c: i for i, c in enumerate(ctx.channels.leaves())}
    fill: dict[tuple[str, str], Value] = {}
    drift = rng.uniform(-0.08, 0.06)  # this manager commits a little under or over
    people = ctx.tree.children[unit]
    suggested: dict[str, int] = {}
    if people:
        w = child_weights(ctx.tree, unit, ctx.plan.allocation)
        split = allocate(ctx.targets[unit], [w[k].weight for k in people],
                         order=order_by_code(people))
        suggested = dict(zip(people, split, strict=True))
        if len(people) > 1:  # the manager moves a little between two people; still ties
            move = min(suggested[people[0]], int(0.02 * ctx.targets[unit]))
            suggested[people[0]] -= move
            suggested[people[1]] += move
    for spec in manifest.inputs:
        rule = InputRule.from_json(spec["rule"])
        item, period = spec["item"], spec["period"]
        kind, _, rest = item.partition(":")
        value: Value
        if kind == "commitment":
            product, _, channel = rest.partition(":")
            month = int(period[1:]) - 1
            target = major_float(int(cube[products[product], channels[channel], month]),
                                 ctx.su)
            value = float(round(target * (1 + drift + rng.gauss(0, 0.03))))
        elif kind == "split":
            # the manager pastes the Suggested cell's value (=Rounding!H*0.01), float for float
            value = ctx.money(suggested.get(rest, 0))
        else:
            value = _generic(rule, rng, ctx.plan.fiscal_year)
        fill[(spec["sheet"], spec["cell"])] = value
    _make_complete(manifest, fill, rng)
    return fill


def _make_complete(manifest: Manifest, fill: dict[tuple[str, str], Value],
                   rng: random.Random) -> None:
    """Keep the sample within the completeness rules (:mod:`xlplan.workbook.completeness`)
    that values drawn one cell at a time can break: an action's dates in order, a KR's
    current value between its start and its target."""
    rows: dict[str, dict[str, tuple[str, str]]] = {}
    for spec in manifest.inputs:
        kind, _, rest = spec["item"].partition(":")
        if kind in ("action", "okr"):
            owner, _, name = rest.rpartition(":")
            rows.setdefault(f"{kind}:{owner}", {})[name] = (spec["sheet"], spec["cell"])
    for row in rows.values():
        if "start" in row and "end" in row:
            a, b = fill.get(row["start"]), fill.get(row["end"])
            if isinstance(a, dt.date) and isinstance(b, dt.date) and b < a:
                fill[row["start"]], fill[row["end"]] = b, a
        if {"start", "target", "current"} <= row.keys():
            s, t = fill.get(row["start"]), fill.get(row["target"])
            if isinstance(s, int | float) and isinstance(t, int | float):
                fill[row["current"]] = round(s + rng.uniform(0.2, 0.9) * (t - s), 2)


def in_sheets_of(language: str, manifest: Manifest, fill: dict[tuple[str, str], Value]
                 ) -> dict[tuple[str, str], Value]:
    """Inputs keyed by the sheet names of the workbook's language, renamed to the sheet
    names of ``language`` (through each sheet's stable key: the cells stay where they are)."""
    if language == manifest.language:
        return fill
    key_of = {shown: key for key, shown in manifest.sheet_names.items()}
    words = Words(language)
    renamed = {name: words(Msg(key_of.get(name, name))) for name, _ in fill}
    return {(renamed[name], cell): value for (name, cell), value in fill.items()}


def fill_sample(workbook: Path, out: Path, seed: int = 0, plan_path: Path | None = None,
                stale: bool = False, language: str | None = None) -> Filled:
    """Fill ``workbook``'s inputs with sample values into ``out``.

    ``stale``: the first commitment is raised by 10% after calculation was
    switched to manual, so the cached totals no longer match the inputs (what
    consolidation must notice; for the demo). ``language``: the filled copy's words
    (``--language``; default the workbook's own), the same inputs in another language."""
    manifest = read_manifest(workbook)
    if not manifest.unit:
        raise ManifestError(f"{workbook}: is the master workbook; fill a unit workbook")
    language = language or manifest.language
    loaded = in_language(plan_for(manifest, workbook, plan_path), language)
    ctx = BuildContext(loaded, read_prior_year(loaded),
                       built_at=dt.datetime.fromisoformat(manifest.built_at))
    fill = in_sheets_of(language, manifest, sample_inputs(ctx, manifest, seed))
    shown: dict[tuple[str, str], Value] = {}
    if stale:
        first = next(i for i in manifest.inputs if i["item"].startswith("commitment:"))
        key = (first["sheet"], first["cell"])
        base = fill[key]
        shown[key] = float(round((base if isinstance(base, int | float) else 0) * 1.1 + 1000))
    built = build_unit(ctx, out.parent, manifest.unit, fill=fill, path=out, shown=shown)
    totals: dict[str, float] = {}
    for spec in manifest.inputs:
        key = (spec["sheet"], spec["cell"])
        value = shown.get(key, fill.get(key))
        if isinstance(value, int | float):
            key = spec["item"].partition(":")[0]
            totals[key] = totals.get(key, 0.0) + float(value)
    return Filled(out, manifest.unit, sum(v is not None for v in fill.values()), totals, built)
