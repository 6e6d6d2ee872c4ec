"""What a consolidation run decided: each file's decision and each unit's state.

Kept apart from :mod:`xlplan.consolidate.run` (which makes the decisions) so that the
report writer and the CLI can read an outcome without importing the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xlplan.consolidate.examine import where
from xlplan.consolidate.views import Views
from xlplan.engine.numbers import PlanNumbers

UnitState = str  # accepted | missing | rejected


@dataclass
class FileOutcome:
    path: Path
    sha256: str
    unit: str
    status: str  # accepted | warnings | rejected | superseded
    findings: list[dict[str, str]]
    new: bool  # examined in this run (False: seen before, taken from the history)

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "unit": self.unit or None, "status": self.status,
                "findings": [{k: f[k] for k in ("sheet", "cell", "message", "level")}
                             for f in self.findings], "sha256": self.sha256, "new": self.new}


@dataclass
class Outcome:
    plan_id: str
    files: list[FileOutcome]
    units: dict[str, UnitState]
    output: Path
    database: Path
    tracker: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    views: Views | None = field(repr=False, default=None)  # the report's figures
    plan_warnings: tuple[str, ...] = ()  # e.g. prior-year rows of codes no longer in the plan

    def to_json(self) -> dict[str, Any]:
        return {"files": [f.to_json() for f in self.files], "units": self.units,
                "output": str(self.output), "database": str(self.database)}


def file_status(row: dict[Any, Any]) -> str:
    if row["status"] in ("accepted", "warnings") and not row["counts"]:
        return "superseded"
    return str(row["status"])


def tracker_frame(numbers: PlanNumbers, subs: pd.DataFrame,
                  notes: dict[str, list[dict[str, str]]]) -> pd.DataFrame:
    """One row per unit that fills a workbook: its state, file, time and reasons."""
    rows = []
    by_unit = {str(u): g for u, g in subs.groupby("unit", sort=False)}  # not a filter per unit
    for unit in numbers.input_units:
        mine = by_unit.get(unit, subs.iloc[:0])
        winner = mine[mine["counts"]]
        rejected = mine[mine["status"] == "rejected"]
        superseded = int(((mine["status"] != "rejected") & ~mine["counts"]).sum())
        if len(winner):
            row = winner.iloc[0]
            status = str(row["status"])
        elif len(rejected):
            row, status = rejected.iloc[0], "rejected"
        else:
            rows.append({"unit": unit, "name": numbers.tree.units[unit].name, "status": "missing",
                         "file": "", "modified": "", "files": 0, "superseded": 0,
                         "reasons": "no workbook received"})
            continue
        reasons = "; ".join(
            ": ".join(filter(None, (where(n["sheet"], n["cell"]), n["message"])))
            for n in notes.get(str(row["sha256"]), [])[:5])
        rows.append({"unit": unit, "name": numbers.tree.units[unit].name, "status": status,
                     "file": Path(str(row["path"])).name, "modified": row["modified"] or "",
                     "files": len(mine), "superseded": superseded, "reasons": reasons})
    return pd.DataFrame(rows)
