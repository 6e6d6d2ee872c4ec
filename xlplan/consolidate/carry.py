"""Stable input keys, and carrying a submission's inputs onto another revision's template.

An input cell's address moves when the plan changes (a product dropped moves every
row below it up), so inputs are matched across revisions by a key that does not
depend on the address: the unit, the input group (the sheet), the row and column key
the writer gives the cell (``item``: ``commitment:P-A:ONLINE``, ``okr:KR1.1:current``,
``bsc:NPS``, ``split:EAST-1``, …) and its period (``M03``, ``2027-03``, ``year``).

A submission built from an earlier revision is first checked against that revision's
template (its locked content, its input rules); then :func:`carry` maps each of its
inputs by key onto the current template: a key that still exists carries over and is
checked again with the current rule; a key that is gone is reported with the old cell
and why; a key that is new is blank (reported so the manager fills it in).

Pure: plain data in, plain data out (the examination turns it into findings and facts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from xlplan.i18n import Msg, Words, data, msg
from xlplan.spec.loader import load_plan_text
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.book import Value
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import InputRule

Cell = tuple[str, str]  # sheet, cell


class InputKey(NamedTuple):
    """Where an input belongs, whatever its address: unit, input group, row/column key,
    period."""

    unit: str
    group: str  # the sheet
    item: str
    period: str

    def text(self) -> str:
        return "/".join(self)


def key_of(unit: str, spec: dict[str, Any]) -> InputKey:
    """The key of one manifest input entry (``sheet``, ``cell``, ``item``, ``period``)."""
    return InputKey(unit, str(spec["sheet"]), str(spec["item"]), str(spec.get("period") or ""))


def keyed(unit: str, inputs: list[dict[str, Any]]) -> dict[InputKey, dict[str, Any]]:
    """Manifest input entries by key (a template never has two cells with one key: a test
    holds every writer to it)."""
    return {key_of(unit, spec): spec for spec in inputs}


@dataclass(frozen=True)
class Gone:
    old: dict[str, Any]  # the old template's entry (sheet, cell, item, period)
    value: Value
    words: Msg  # why it is not carried (a catalog message)

    @property
    def why(self) -> str:
        """Why, in English words."""
        return Words()(self.words)


@dataclass(frozen=True)
class Failing:
    new: dict[str, Any]
    old: dict[str, Any]
    value: Value
    words: Msg  # what the current rule finds wrong (a catalog message)

    @property
    def problem(self) -> str:
        """What is wrong, in English words."""
        return Words()(self.words)


@dataclass
class Carried:
    """An older submission's inputs on the current template."""

    values: dict[Cell, Value] = field(default_factory=dict)  # current cell → value
    moved: int = 0  # carried to another address
    gone: list[Gone] = field(default_factory=list)
    failing: list[Failing] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)  # current entries with no old key


def carry(unit: str, old_inputs: list[dict[str, Any]], values: dict[Cell, Value],
          new_inputs: list[dict[str, Any]], plan: Plan) -> Carried:
    """Map ``values`` (the old template's cells) onto the new template by key; check each
    carried value with the new template's rule."""
    old, new = keyed(unit, old_inputs), keyed(unit, new_inputs)
    out = Carried()
    for key, spec in old.items():
        value = values.get((spec["sheet"], spec["cell"]))
        target = new.get(key)
        if target is None:
            if value is not None and value != "":
                out.gone.append(Gone(spec, value, why_gone(key, plan, set(new))))
            continue
        if value is None or value == "":
            continue
        problem = InputRule.from_json(target["rule"]).problem(value)
        if problem:
            out.failing.append(Failing(target, spec, value, problem))
            continue
        out.values[(target["sheet"], target["cell"])] = value
        if (target["sheet"], target["cell"]) != (spec["sheet"], spec["cell"]):
            out.moved += 1
    out.new = [spec for key, spec in new.items() if key not in old]
    return out


def gone_rows(gone: list[Gone]) -> list[list[Gone]]:
    """Inputs not carried, one list per row (sheet and item), in the old template's order:
    a dropped product is one finding per row, not one per month."""
    rows: dict[tuple[str, str], list[Gone]] = {}
    for g in gone:
        rows.setdefault((str(g.old["sheet"]), str(g.old["item"])), []).append(g)
    return list(rows.values())


def why_gone(key: InputKey, plan: Plan, current: set[InputKey]) -> Msg:
    """Why an input's key is not in the current template, in the plan's own words."""
    parts = key.item.split(":")
    kind = parts[0]
    products = {p.code for p in plan.products}
    channels = {c.code for c in plan.channels}
    if kind == "commitment" and len(parts) == 3:
        if parts[1] not in products:
            return msg("product {product} is no longer in the plan", product=data(parts[1]))
        if parts[2] not in channels:
            return msg("channel {channel} is no longer in the plan", channel=data(parts[2]))
    if kind == "split" and len(parts) == 2:
        return msg("{unit} is no longer a unit under {parent}", unit=data(parts[1]),
                   parent=data(key.unit))
    if kind == "okr" and len(parts) >= 2:
        return msg("OKR {okr} is no longer among {unit}'s objectives and key results",
                   okr=data(parts[1]), unit=data(key.unit))
    if kind == "bsc" and len(parts) == 2:
        return msg("KPI {kpi} is no longer on the scorecard (or no longer typed in)",
                   kpi=data(parts[1]))
    if any(k[:3] == key[:3] for k in current):
        return msg("period {period} is no longer one of this row's periods",
                   period=data(key.period))
    return msg("its row is not in the current plan's template")


class Revisions:
    """Build contexts of a plan's earlier revisions, made from their stored text on first
    use (a reader process keeps them, as it keeps the current plan's)."""

    def __init__(self, stored: dict[str, dict[str, str]], plan_path: Path | None):
        self.stored = stored  # spec hash → {"text", "path"} (revisions.stored)
        self.plan_path = plan_path  # the current plan's path
        self._made: dict[str, BuildContext] = {}

    @classmethod
    def from_file(cls, path: Path, plan_path: Path | None) -> Revisions:
        return cls(json.loads(path.read_text(encoding="utf-8")), plan_path)

    def __contains__(self, spec_hash: str) -> bool:
        return spec_hash in self.stored

    def context(self, spec_hash: str) -> BuildContext:
        """The build context of a recorded revision (raises PlanError, DataFileError,
        KeyError)."""
        kept = self._made.get(spec_hash)
        if kept is None:
            record = self.stored[spec_hash]
            # its prior-year file is read beside where the revision's plan file was, if that
            # folder is still there, else beside the current plan
            was = Path(record["path"]) if record.get("path") else None
            path = was if was is not None and was.parent.is_dir() else self.plan_path
            loaded = load_plan_text(record["text"], f"revision {spec_hash[:12]}", path)
            kept = self._made[spec_hash] = BuildContext(loaded, read_prior_year(loaded))
        return kept
