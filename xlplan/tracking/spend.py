"""Budget lines: spend against budget by month (±5% tolerance) and the ROI < 1.5 freeze.

Two kinds of line:

* **unit lines**: each workbook-level unit's budget, the master's split
  (:attr:`xlplan.engine.numbers.PlanNumbers.budget_allocation`), spread over the
  months like the revenue target (budget follows the plan's seasonality,
  :attr:`~xlplan.engine.numbers.PlanNumbers.budget_months`); an overrun draws on
  the unit's reserve pool;
* **action lines**: each battle-map action's budget, spread evenly over the
  action's days; an overrun draws on the company reserve held at HQ.

Spend booked to a rep counts for the rep's unit line. A line is checked only
once it has spend (a plan that does not track action spend gets no "under
budget" noise from it), and only for months that have ended by the
data-through day. Each month's check is :func:`xlplan.engine.variance.budget_check_array`
with the plan's ``budget.tolerance``; the ROI is year-to-date return ÷
year-to-date spend, frozen below ``budget.roi_floor``
(:func:`xlplan.engine.budget.request_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from xlplan.engine.allocate import allocate_rows
from xlplan.engine.budget import RequestLine, request_lines
from xlplan.engine.rounding import to_minor
from xlplan.engine.variance import attainment_array, budget_check_array, status_array
from xlplan.spec.models import Plan
from xlplan.tracking.actuals import MONTH_ROW, minor
from xlplan.tracking.measures import RETURN, SPEND
from xlplan.tracking.phased_targets import RevenueTargets

MONTH_COLUMNS = ["line", "month", "closed", "budget", "spend", "return", "deviation", "flag",
                 "attainment", "status", "roi", "frozen"]


@dataclass(frozen=True)
class BudgetLine:
    """One line of the budget: a unit's allocation or an action's budget (minor units)."""

    key: str  # unit code, or "action:<id>"
    kind: Literal["unit", "action"]
    name: str
    owner: str
    unit: str  # the unit whose manager answers for it (an action's: the company)
    budget: np.ndarray  # 12 months
    reserve: int  # what an overrun draws on

    @property
    def spend_measure(self) -> str:
        return SPEND if self.kind == "unit" else f"{SPEND}:{self.key.removeprefix('action:')}"

    @property
    def return_measure(self) -> str:
        return RETURN if self.kind == "unit" else f"{RETURN}:{self.key.removeprefix('action:')}"


def budget_lines(targets: RevenueTargets) -> list[BudgetLine]:
    """The plan's budget lines (none without a ``budget`` section)."""
    numbers = targets.numbers
    plan, alloc = numbers.plan, numbers.budget_allocation
    if alloc is None:
        return []
    su = numbers.su
    cal = targets.calendar
    lines = []
    for u in targets.input_units:
        unit = targets.tree.units[u]
        lines.append(BudgetLine(u, "unit", unit.name, unit.manager, u, numbers.budget_months[u],
                                alloc.pools[u]["reserve"]))
    root = targets.tree.root
    for a in plan.actions:
        weights = np.array([1.0 if a.start <= d <= a.end else 0.0 for d in cal.days])
        amount = to_minor(a.budget, su)
        months = np.zeros(12, dtype=np.int64)
        if amount and weights.any():
            days = allocate_rows([amount], weights)[0]
            np.add.at(months, cal.month_of_day, days)
        lines.append(BudgetLine(f"action:{a.id}", "action", f"{a.id} {a.task}", a.owner, root,
                                months, alloc.split.company_reserve))
    return lines


def _line_of_unit(targets: RevenueTargets) -> dict[str, str]:
    """Unit code → the unit line it books to (itself or its workbook-level ancestor)."""
    out: dict[str, str] = {}
    lines = set(targets.input_units)
    for code in targets.tree.units:
        u: str | None = code
        while u is not None and u not in lines:
            u = targets.tree.units[u].parent
        if u is not None:
            out[code] = u
    return out


@dataclass(frozen=True)
class SpendResult:
    """Budget lines with their months and year to date (closed months)."""

    lines: list[BudgetLine]
    months: pd.DataFrame  # MONTH_COLUMNS, one row per tracked line and started month
    tracked: list[str]  # keys of lines with spend
    through: int  # data-through day of spend (-1: no spend at all)
    tolerance: float = 0.05

    def ytd(self) -> pd.DataFrame:
        """Per tracked line: budget, spend and return of the closed months, deviation, flag."""
        if not self.tracked:
            return pd.DataFrame({"line": pd.Series(dtype=object),
                                 **{c: pd.Series(dtype=np.int64) for c in ("budget", "spend",
                                                                           "return")},
                                 "deviation": pd.Series(dtype=float),
                                 "flag": pd.Series(dtype=object)})
        closed = self.months[self.months["closed"].astype(bool)]
        sums = closed.groupby("line", sort=False)[["budget", "spend", "return"]].sum()
        sums = sums.reindex(self.tracked).fillna(0).astype(np.int64)
        deviation, flag = budget_check_array(sums["spend"], sums["budget"], self.tolerance)
        out = sums.reset_index()
        out["deviation"] = deviation
        out["flag"] = flag
        return out


def spend_vs_budget(frame: pd.DataFrame, targets: RevenueTargets, as_of: int) -> SpendResult:
    """Monthly spend against budget for every line with spend, to the data-through day."""
    plan = targets.numbers.plan
    lines = budget_lines(targets)
    budget = plan.budget
    tolerance = budget.tolerance if budget is not None else 0.05
    empty = pd.DataFrame(columns=MONTH_COLUMNS)
    if not lines:
        return SpendResult(lines, empty, [], -1, tolerance)
    cal = targets.calendar
    su = float(plan.currency.smallest_unit)
    by_unit = _line_of_unit(targets)
    rows = frame[frame["measure"].isin([SPEND, RETURN])
                 | frame["measure"].str.startswith(f"{SPEND}:")
                 | frame["measure"].str.startswith(f"{RETURN}:")]
    rows = rows[(rows["day"] <= as_of)
                & (rows["month"] <= int(cal.month_of_day[max(as_of, 0)]))]
    if rows.empty:
        return SpendResult(lines, empty, [], -1, tolerance)
    rows = rows.assign(amount=minor(rows["value"], su))
    is_unit = rows["measure"].isin([SPEND, RETURN])
    rows = rows.assign(
        line=np.where(is_unit, rows["unit"].map(by_unit).fillna(""),
                      "action:" + rows["measure"].str.split(":", n=1).str[1]),
        what=np.where(rows["measure"].str.startswith(SPEND), "spend", "return"))
    ends = np.array([cal.month_span(m).last for m in range(12)])
    covered = np.where(rows["day"] == MONTH_ROW, ends[rows["month"].to_numpy()], rows["day"])
    spent = rows[rows["what"] == "spend"]
    if spent.empty:
        return SpendResult(lines, empty, [], -1, tolerance)
    through = min(as_of, int(covered[(rows["what"] == "spend").to_numpy()].max()))
    sums = rows.groupby(["line", "what", "month"])["amount"].sum()
    tracked = [ln.key for ln in lines if ln.key in set(spent["line"])]
    last_month = int(cal.month_of_day[through])
    records = []
    for ln in lines:
        if ln.key not in tracked:
            continue
        for m in range(last_month + 1):
            records.append((ln.key, m, cal.month_span(m).last <= through, int(ln.budget[m]),
                            int(sums.get((ln.key, "spend", m), 0)),
                            int(sums.get((ln.key, "return", m), 0))))
    months = pd.DataFrame(records, columns=MONTH_COLUMNS[:6])
    deviation, flag = budget_check_array(months["spend"], months["budget"], tolerance)
    months["deviation"] = deviation
    months["flag"] = flag
    months["attainment"] = attainment_array(months["spend"], months["budget"], "lower")
    months["status"] = status_array(months["attainment"].to_numpy(dtype=float),
                                    plan.status_bands)
    months["roi"], months["frozen"] = _cumulative_roi(months, plan)
    return SpendResult(lines, months, tracked, through, tolerance)


def _cumulative_roi(months: pd.DataFrame, plan: Plan) -> tuple[list[float], list[bool]]:
    """Year-to-date ROI at each month of each line (NaN without returns), and the freeze."""
    floor = plan.budget.roi_floor if plan.budget is not None else 1.5
    spend = months.groupby("line", sort=False)["spend"].cumsum()
    ret = months.groupby("line", sort=False)["return"].cumsum()
    has_return = months.groupby("line", sort=False)["return"].transform(
        lambda s: s.ne(0).cumsum() > 0)
    table = request_lines([RequestLine(str(k), "", max(int(s), 0), int(r)) for k, s, r in
                           zip(months["line"], spend, ret, strict=True)], floor)
    roi = [float(r) if h else float("nan") for r, h in zip(table["roi"], has_return,
                                                           strict=True)]
    frozen = [bool(f) and bool(h) for f, h in zip(table["frozen"], has_return, strict=True)]
    return roi, frozen
