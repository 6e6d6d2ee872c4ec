"""Write a re-forecast as a plan file that ``xlplan validate`` accepts.

The new file is the original plan's YAML with four changes, everything else
(units, products, OKRs, budget, the BSC preset …) as written:

* ``name`` says it is a re-forecast and as of when;
* ``north_star.target`` is the re-forecast annual (unchanged when the annual
  is kept);
* ``calendar`` phases by ``months`` with the re-forecast month amounts as
  weights (``normalise: true``), so the engine splits every unit's target the
  re-forecast way; ``quarter_weights`` go (months carry the profile);
* ``prior_year.file`` points to the same file from the new location.

The plan id stays, so the actuals already stored for the plan still belong to
it (``xlplan track PLAN --forecast PLAN2`` shows budget, forecast and actual
side by side). Comments of the original are not kept: the header says where
the file came from. The text is validated before it is written (a temporary
file, then renamed).
"""

from __future__ import annotations

import copy
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from xlplan.spec.loader import LoadedPlan, load_plan_text
from xlplan.tracking.reforecast import Reforecast


def _amount(minor: int, su: Decimal) -> int | float:
    value = Decimal(minor) * su
    return int(value) if value == value.to_integral_value() else float(value)


def plan_data(loaded: LoadedPlan, rf: Reforecast, out: Path) -> dict[str, Any]:
    """The re-forecast plan as YAML data (the original's raw data, changed as documented)."""
    if loaded.path is None:
        raise ValueError("the plan was not read from a file")
    su = loaded.plan.currency.smallest_unit
    data = copy.deepcopy(loaded.data)  # as written, YAML or setup workbook
    name = str(data.get("name", loaded.plan.name)).split(" (re-forecast")[0]
    data["name"] = f"{name} (re-forecast as of {rf.as_of.isoformat()})"
    north = dict(data["north_star"])
    north["target"] = _amount(rf.annual_after, su)
    data["north_star"] = north
    cal = dict(data.get("calendar") or {})
    cal.pop("quarter_weights", None)
    cal["method"] = "months"
    cal["month_weights"] = [_amount(int(x), su) for x in rf.months]
    cal["normalise"] = True
    data["calendar"] = cal
    prior = data.get("prior_year")
    if isinstance(prior, dict) and "file" in prior:
        source = (loaded.base_dir / str(prior["file"])).resolve()
        data["prior_year"] = {**prior, "file": os.path.relpath(source,
                                                               out.resolve().parent)}
    return data


def header(loaded: LoadedPlan, rf: Reforecast) -> str:
    su = loaded.plan.currency.smallest_unit
    lines = [
        f"Re-forecast of {loaded.path} as of {rf.as_of.isoformat()}, written by xlplan "
        "reforecast.",
        f"{rf.closed} month(s) closed and set to their actuals; "
        + ("annual target kept" if rf.keep_annual else "annual target re-set") +
        f": {Decimal(rf.annual_before) * su:,} → {Decimal(rf.annual_after) * su:,}.",
    ]
    if rf.note:
        lines.append(rf.note[0].upper() + rf.note[1:] + ".")
    lines.append("calendar.month_weights are the company's re-forecast months.")
    return "".join(f"# {line}\n" for line in lines)


def write_plan(loaded: LoadedPlan, rf: Reforecast, out: Path) -> str:
    """Write the re-forecast plan to ``out``; returns its text (validated first)."""
    data = plan_data(loaded, rf, out)
    text = header(loaded, rf) + yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                               default_flow_style=None, width=4096)
    load_plan_text(text, str(out), out.resolve())  # PlanError here is a bug, not user input
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return text
