"""Read the prior-year actuals a plan points to (CSV or Excel) into minor units.

The file is finance's export: one row per unit × product × channel × month with
revenue, cost and cash. Every bad row is reported with its file and row number;
nothing is half-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from xlplan.spec.loader import LoadedPlan, PlanError
from xlplan.spec.models import AllocationMethod

REQUIRED = ["unit", "product", "channel", "month", "revenue", "cost", "cash"]
AMOUNTS = ["revenue", "cost", "cash"]
MAX_REPORTED = 50


class DataFileError(Exception):
    """A data file with problems, each naming the row and column."""

    def __init__(self, file: str, problems: list[str]):
        self.file = file
        self.problems = problems
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        lines = [f"{file}: {len(problems)} problem(s)", *(f"  {file}:{p}" for p in shown)]
        if more:
            lines.append(f"  … and {more} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class PriorYear:
    """Prior-year actuals, amounts in minor units (int64), month = fiscal month 1..12."""

    frame: pd.DataFrame
    file: str

    def revenue_by(self, *columns: str) -> pd.Series:
        return self.frame.groupby(list(columns))["revenue"].sum()


def _read_table(path: Path, sheet: str | None) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, sheet_name=sheet or 0, dtype=str, engine="openpyxl")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_prior_year(loaded: LoadedPlan) -> PriorYear | None:
    """The plan's prior-year actuals, validated against its codes; None if it has none."""
    spec = loaded.plan.prior_year
    if spec is None:
        return None
    path = (loaded.base_dir / spec.file).resolve()
    name = str(path)
    if not path.is_file():
        raise DataFileError(name, ["1: file not found (plan key prior_year.file)"])
    try:
        raw = _read_table(path, spec.sheet)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataFileError(name, [f"1: cannot read: {exc}"]) from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise DataFileError(name, [f"1: missing column(s) {missing}; expected {REQUIRED}"])
    plan = loaded.plan
    known = {
        "unit": {u.code for u in plan.units},
        "product": {p.code for p in plan.products},
        "channel": {c.code for c in plan.channels},
    }
    unit = plan.currency.smallest_unit
    problems: list[str] = []
    rows: dict[str, list[object]] = {c: [] for c in [*REQUIRED, "segment"]}
    for i, rec in enumerate(raw.to_dict("records"), start=2):  # row 1 is the header
        ok = True
        for col, codes in known.items():
            if str(rec[col]).strip() not in codes:
                problems.append(f"{i}: column {col}: unknown {col} {rec[col]!r}")
                ok = False
        try:
            month = int(str(rec["month"]).strip())
            if not 1 <= month <= 12:
                raise ValueError
        except ValueError:
            problems.append(f"{i}: column month: expected a fiscal month 1-12, "
                            f"got {rec['month']!r}")
            ok = False
        amounts = {}
        for col in AMOUNTS:
            try:
                value = Decimal(str(rec[col]).strip().replace(",", ""))
                units = value / unit
                if units != units.to_integral_value():
                    raise InvalidOperation
                amounts[col] = int(units)
            except InvalidOperation:
                problems.append(f"{i}: column {col}: expected an amount in steps of {unit}, "
                                f"got {rec[col]!r}")
                ok = False
        if ok:
            for col in known:
                rows[col].append(str(rec[col]).strip())
            rows["month"].append(month)
            for col in AMOUNTS:
                rows[col].append(amounts[col])
            rows["segment"].append(str(rec.get("segment") or "").strip())
    if problems:
        raise DataFileError(name, problems)
    frame = pd.DataFrame(rows).astype({c: "int64" for c in AMOUNTS} | {"month": "int64"})
    prior = PriorYear(frame, name)
    _check_history(loaded, prior, spec.file)
    return prior


def _check_history(loaded: LoadedPlan, prior: PriorYear, file: str) -> None:
    """Allocation by prior year gives a unit with no prior-year revenue a 0 target, which
    nobody means: refuse, naming each such unit and the ways out."""
    plan = loaded.plan
    if plan.allocation.method != AllocationMethod.prior_year:
        return
    revenue = prior.revenue_by("unit")
    parents = {u.parent for u in plan.units if u.parent is not None}
    problems = [
        loaded.problem(("units", i, "code"),
                       f"unit {u.code!r} has no prior-year revenue in {file}, so allocation "
                       "method prior_year gives it a 0 target: add its rows to that file, give "
                       "it a hold (a fixed target), or choose another allocation.method")
        for i, u in enumerate(plan.units)
        if u.code not in parents and u.hold is None and int(revenue.get(u.code, 0)) <= 0
    ]
    if problems:
        raise PlanError(str(loaded.path) if loaded.path else "<plan>", problems)
