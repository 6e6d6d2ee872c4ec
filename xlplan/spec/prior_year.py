"""Read the prior-year actuals a plan points to (CSV or Excel) into minor units.

The file is finance's export: one row per unit × product × channel × month with
revenue, cost and cash. Every bad row is reported with its file and row number;
nothing is half-read.

A plan edited mid-season (a product, channel or unit dropped) still points to last
year's file, which has rows for what was dropped: those rows are left out and listed
(:attr:`PriorYear.left_out`, printed as warnings by the commands that load the plan)
rather than refusing the plan, so the file needs no filtered copy. Allocation by
prior year still refuses a unit left with no rows (:func:`_check_history`).
"""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from xlplan.spec.history import PriorYear
from xlplan.spec.loader import LoadedPlan, PlanError
from xlplan.spec.models import AllocationMethod

REQUIRED = ["unit", "product", "channel", "month", "revenue", "cost", "cash"]
AMOUNTS = ["revenue", "cost", "cash"]
MAX_REPORTED = 50

__all__ = ["DataFileError", "PriorYear", "read_prior_year"]


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


def _read_table(path: Path, sheet: str | None, data: bytes | None = None) -> pd.DataFrame:
    source = path if data is None else io.BytesIO(data)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(source, sheet_name=sheet or 0, dtype=str, engine="openpyxl")
    return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def prior_year_path(loaded: LoadedPlan) -> Path | None:
    """Where the plan's prior-year file is (beside the plan file unless absolute)."""
    spec = loaded.plan.prior_year
    return None if spec is None else (loaded.base_dir / spec.file).resolve()


def read_prior_year(loaded: LoadedPlan, data: bytes | None = None) -> PriorYear | None:
    """The plan's prior-year actuals, validated against its codes; None if it has none.

    ``data``: the file's bytes, read elsewhere (a cluster worker gets them shipped with
    the plan, having no plan folder); errors still name the file by its path."""
    spec = loaded.plan.prior_year
    path = prior_year_path(loaded)
    if spec is None or path is None:
        return None
    name = str(path)
    if data is None and not path.is_file():
        raise DataFileError(name, ["1: file not found (plan key prior_year.file)"])
    try:
        raw = _read_table(path, spec.sheet, data)
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
    dropped: dict[tuple[str, str], list[int]] = {}  # (column, code) → row numbers
    dropped_revenue: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(raw.to_dict("records"), start=2):  # row 1 is the header
        ok = True
        gone = next(((col, str(rec[col]).strip()) for col, codes in known.items()
                     if str(rec[col]).strip() not in codes), None)
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
        if ok and gone is not None:
            dropped.setdefault(gone, []).append(i)
            dropped_revenue[gone] = dropped_revenue.get(gone, 0) + amounts["revenue"]
        elif ok:
            for col in known:
                rows[col].append(str(rec[col]).strip())
            rows["month"].append(month)
            for col in AMOUNTS:
                rows[col].append(amounts[col])
            rows["segment"].append(str(rec.get("segment") or "").strip())
    if problems:
        raise DataFileError(name, problems)
    frame = pd.DataFrame(rows).astype({c: "int64" for c in AMOUNTS} | {"month": "int64"})
    left_out = tuple(_left_out_warning(spec.file, col, code, dropped[(col, code)],
                                       dropped_revenue[(col, code)], loaded)
                     for col, code in dropped)
    prior = PriorYear(frame, name, left_out)
    _check_history(loaded, prior, spec.file)
    return prior


def _left_out_warning(file: str, column: str, code: str, row_numbers: list[int],
                      revenue: int, loaded: LoadedPlan) -> str:
    """One line naming a code the plan no longer has, its rows and their revenue (the total
    shows at a glance whether the rows are a dropped line or a mistyped code)."""
    su = loaded.plan.currency.smallest_unit
    shown = ", ".join(str(r) for r in row_numbers[:8]) + (", …" if len(row_numbers) > 8 else "")
    return (f"{file}: {len(row_numbers)} prior-year row(s) of {column} {code!r}, which is not "
            f"in the plan, left out (rows {shown}; revenue "
            f"{Decimal(revenue) * su:,} {loaded.plan.currency.code})")


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
