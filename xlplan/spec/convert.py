"""Convert a plan between its two ways of being written: YAML and the setup workbook.

Both directions go through the validated model, keeping only what the plan
gives (``exclude_unset``): a default left out of the YAML stays a blank cell,
and a blank cell stays out of the YAML, so the model read back is the same.
The BSC preset stays a preset (its KPIs are not copied in as the plan's own).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from xlplan.spec.loader import LoadedPlan
from xlplan.spec.models import Plan


def written(loaded: LoadedPlan) -> dict[str, Any]:
    """The plan as its author wrote it: typed values, no defaults, no preset KPIs."""
    return Plan.model_validate(loaded.data).model_dump(exclude_unset=True)


def export_setup(loaded: LoadedPlan, out: Path) -> Path:
    """Write the plan as a setup workbook, in the plan's language (``workbooks.language``,
    or the ``--language`` given: :func:`~xlplan.spec.loader.in_language`)."""
    from xlplan.spec.setup_writer import write_setup

    return write_setup(written(loaded), out, loaded.plan.workbooks.language)


def _plain(value: Any) -> Any:
    """Plan data as YAML writes it plainly: amounts as numbers, enums as their values."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def yaml_text(loaded: LoadedPlan, source: str) -> str:
    """The plan as YAML text, headed by where it came from."""
    body = yaml.safe_dump(_plain(written(loaded)), sort_keys=False, allow_unicode=True,
                          default_flow_style=None, width=4096)
    return f"# Written by `xlplan plan import` from {source}.\n{body}"
