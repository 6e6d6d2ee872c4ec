"""A seeded year of synthetic actuals, for demos, benchmarks and the tracking tests.

The year follows the plan with a few things going on that the warnings must
catch, and nothing else:

* **seasonality**: revenue follows the plan's own profile (quarters, months,
  selling days and holidays) with a weekday pattern on top (Saturdays sell
  more than Mondays), and a little seeded noise;
* **Q1 beat**: every unit sells ``q1_beat`` (12%) above plan in the first
  quarter, past the re-forecast rule's 10% threshold (so Q2 is raised);
* **a unit behind**: ``behind_unit`` sells ``behind_by`` (20%) under target
  for ``behind_weeks`` (3) ISO weeks from the first Monday of fiscal month
  ``behind_month`` (4, so April), the "N consecutive weeks" rule's case;
* **an overspent line**: ``overspent_unit``'s budget line spends
  ``overspent_by`` (7%) over budget in ``overspent_months`` (April–June);
* **a lower-is-better KPI going wrong**: ``bad_kpi`` (the first daily
  lower-is-better KPI, e.g. stock-outs) at ``bad_factor`` × its target (1.2:
  6% against 5%) at ``bad_unit`` in fiscal month ``bad_month`` (June).

Every other KPI sits 5% on the good side of its target, every other budget
line within ±2% of its budget, and actions return 2–3 times their spend, so
no other warning should fire. Units left ``None`` are chosen by position
among the workbook-level units (the 2nd is behind, the 7th, or last,
overspends, the last has the bad KPI): for the example plan that is Northeast,
Guangdong and Southwest.

Files: one CSV per fiscal month, ``<plan-id>-actuals-YYYY-MM.csv``, with the
columns ``date, period, unit, product, channel, measure, value`` (``date`` for
daily rows, ``period`` for month values)::

    python -m xlplan.tracking.synthetic PLAN -o DIR [--seed 7] [--noise 0.02]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xlplan.engine.allocate import allocate_rows
from xlplan.engine.bsc import mtd_rule
from xlplan.spec.models import Direction, Kpi, Plan
from xlplan.spec.prior_year import PriorYear
from xlplan.tracking.calendar import FiscalCalendar
from xlplan.tracking.phased_targets import RevenueTargets, revenue_targets
from xlplan.tracking.spend import budget_lines

FILE_COLUMNS = ["date", "period", "unit", "product", "channel", "measure", "value"]
WEEKDAY_PATTERN = (0.92, 0.95, 0.97, 1.0, 1.06, 1.10, 1.0)  # Monday … Sunday, before scaling
KPI_MARGIN = 0.05  # KPIs sit this far on the good side of their target


@dataclass(frozen=True)
class Scenario:
    """What happens in the synthetic year (module docstring)."""

    seed: int = 7
    noise: float = 0.02  # standard deviation of the daily revenue noise
    q1_beat: float = 0.12
    behind_unit: str | None = None
    behind_month: int = 3  # fiscal month index (0 = first)
    behind_weeks: int = 3
    behind_by: float = 0.20
    overspent_unit: str | None = None
    overspent_months: tuple[int, ...] = (3, 4, 5)
    overspent_by: float = 0.07
    bad_kpi: str | None = None
    bad_unit: str | None = None
    bad_month: int = 5
    bad_factor: float = 1.2

    def resolved(self, plan: Plan, targets: RevenueTargets) -> Scenario:
        """The scenario with every unit and KPI chosen (module docstring)."""
        units = targets.input_units
        lower = [k for k in plan.bsc.kpis if k.direction == Direction.LOWER]
        daily = [k for k in lower if k.frequency == "daily"]
        picks: list[Kpi] = daily or lower
        pick = picks[0] if picks else None
        return dataclasses.replace(
            self,
            behind_unit=self.behind_unit or units[min(1, len(units) - 1)],
            overspent_unit=self.overspent_unit or units[min(6, len(units) - 1)],
            bad_unit=self.bad_unit or units[-1],
            bad_kpi=self.bad_kpi or (pick.code if pick is not None else None))

    def behind_days(self, calendar: FiscalCalendar) -> tuple[int, int]:
        """First and last day index of the weeks the behind unit falls back."""
        span = calendar.month_span(self.behind_month)
        first = next(i for i in range(span.first, span.last + 1)
                     if calendar.days[i].weekday() == 0)
        return first, min(first + 7 * self.behind_weeks - 1, len(calendar.days) - 1)


def _weekday_factors(plan: Plan) -> np.ndarray:
    """The weekday pattern scaled to average 1 over the plan's selling weekdays."""
    pattern = np.array(WEEKDAY_PATTERN)
    selling = plan.calendar.selling_weekdays
    return pattern / pattern[selling].mean() if selling else pattern


def _money(minor: np.ndarray, decimals: int) -> list[str]:
    scale = 10 ** decimals
    return [f"{int(v) // scale}.{int(v) % scale:0{decimals}d}" if decimals else str(int(v))
            for v in minor]


def _decimals(plan: Plan) -> int:
    return max(0, -int(plan.currency.smallest_unit.normalize().as_tuple().exponent))


def revenue_rows(plan: Plan, targets: RevenueTargets, scenario: Scenario,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Daily revenue by unit × product × channel (module docstring)."""
    cal = targets.calendar
    weekday = _weekday_factors(plan)[[d.weekday() for d in cal.days]]
    q1 = np.where(cal.month_of_day < 3, 1.0 + scenario.q1_beat, 1.0)
    first, last = scenario.behind_days(cal)
    combos = [(p, c) for p in targets.products for c in targets.channels]
    frames = []
    decimals = _decimals(plan)
    for unit in targets.input_units:
        factor = weekday * q1 * (1.0 + scenario.noise * rng.standard_normal(len(cal.days)))
        if unit == scenario.behind_unit:
            factor[first:last + 1] *= 1.0 - scenario.behind_by
        daily = np.rint(targets.days[unit] * np.maximum(factor, 0.0)).astype(np.int64)
        for m in range(12):
            span = cal.month_span(m)
            idx = np.arange(span.first, span.last + 1)
            idx = idx[daily[idx] > 0]
            if not len(idx):
                continue
            weights = targets.cube[unit][:, :, m].reshape(-1).astype(float)
            split = allocate_rows(daily[idx], weights)  # days × (products·channels)
            keep = split > 0
            day_i, combo_i = np.nonzero(keep)
            frames.append(pd.DataFrame({
                "date": [cal.days[idx[i]].isoformat() for i in day_i], "period": "",
                "unit": unit, "product": [combos[j][0] for j in combo_i],
                "channel": [combos[j][1] for j in combo_i], "measure": plan.north_star.metric,
                "value": _money(split[keep], decimals)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FILE_COLUMNS)


def _good(kpi: Kpi) -> float:
    return kpi.target * (1 - KPI_MARGIN if kpi.direction == Direction.LOWER else 1 + KPI_MARGIN)


def kpi_rows(plan: Plan, targets: RevenueTargets, scenario: Scenario,
             rng: np.random.Generator) -> pd.DataFrame:
    """KPI actuals of each workbook-level unit: daily KPIs by selling day, others by month."""
    cal = targets.calendar
    selling = set(plan.calendar.selling_weekdays)
    holidays = set(plan.calendar.holidays)
    rows = []
    for unit in targets.input_units:
        for k in plan.bsc.kpis:
            rule = mtd_rule(k, plan.currency.code, plan.currency.symbol)
            for m in range(12):
                value = _good(k)
                if k.code == scenario.bad_kpi and unit == scenario.bad_unit and \
                        m == scenario.bad_month:
                    value = k.target * scenario.bad_factor
                span = cal.month_span(m)
                if rule == "month":
                    jitter = 1 + 0.005 * rng.standard_normal()
                    rows.append(("", cal.month_key(m), unit, k.code, value * jitter))
                    continue
                days = [i for i in range(span.first, span.last + 1)
                        if cal.days[i].weekday() in selling and cal.days[i] not in holidays]
                per_day = value / len(days) if rule == "sum" and days else value
                for i in days:
                    jitter = 1 + 0.01 * rng.standard_normal()
                    rows.append((cal.days[i].isoformat(), "", unit, k.code, per_day * jitter))
    return pd.DataFrame([(d, p, u, "", "", code, f"{v:.6g}") for d, p, u, code, v in rows],
                        columns=FILE_COLUMNS)


def spend_rows(plan: Plan, targets: RevenueTargets, scenario: Scenario,
               rng: np.random.Generator) -> pd.DataFrame:
    """Monthly spend of every budget line (and returns of the actions)."""
    cal = targets.calendar
    decimals = _decimals(plan)
    rows = []
    for line in budget_lines(targets):
        for m in range(12):
            budget = int(line.budget[m])
            if budget == 0:
                continue
            if line.kind == "unit" and line.key == scenario.overspent_unit and \
                    m in scenario.overspent_months:
                factor = 1.0 + scenario.overspent_by
            else:
                factor = 1.0 + rng.uniform(-0.02, 0.02)
            spent = round(budget * factor)
            rows.append((cal.month_key(m), line.key if line.kind == "unit" else targets.root,
                         line.spend_measure, spent))
            if line.kind == "action":
                ret = round(spent * rng.uniform(2.0, 3.0))
                rows.append((cal.month_key(m), targets.root, line.return_measure, ret))
    values = _money(np.array([r[3] for r in rows], dtype=np.int64), decimals)
    return pd.DataFrame([("", p, u, "", "", meas, v) for (p, u, meas, _), v in
                         zip(rows, values, strict=True)], columns=FILE_COLUMNS)


def kr_rows(plan: Plan, targets: RevenueTargets) -> pd.DataFrame:
    """A reading of every key result at each month end until it is due, on pace."""
    cal = targets.calendar
    rows = []
    for o in plan.okrs:
        unit = o.unit or targets.root
        for kr in o.krs:
            span_days = max((kr.due - cal.start).days, 1)
            for m in range(12):
                end = cal.month_span(m).end
                if end > kr.due:
                    break
                share = min(1.0, (end - cal.start).days / span_days)
                value = kr.start + (kr.target - kr.start) * share
                rows.append(("", cal.month_key(m), unit, "", "", kr.id, f"{value:.6g}"))
    return pd.DataFrame(rows, columns=FILE_COLUMNS)


def generate(plan: Plan, prior: PriorYear | None = None, scenario: Scenario | None = None
             ) -> pd.DataFrame:
    """A year of actuals in the file layout (:data:`FILE_COLUMNS`, all text), seeded."""
    targets = revenue_targets(plan, prior)
    chosen = (scenario or Scenario()).resolved(plan, targets)
    rng = np.random.default_rng(chosen.seed)
    frames = [revenue_rows(plan, targets, chosen, rng), kpi_rows(plan, targets, chosen, rng),
              spend_rows(plan, targets, chosen, rng), kr_rows(plan, targets)]
    out = pd.concat(frames, ignore_index=True)
    return out


def month_of_rows(frame: pd.DataFrame) -> pd.Series:
    """``YYYY-MM`` of each row (its date's month, or its period)."""
    return frame["date"].where(frame["date"] != "", frame["period"]).str[:7]


def write_files(frame: pd.DataFrame, out_dir: Path, plan_id: str) -> list[Path]:
    """One CSV per month (``<plan-id>-actuals-YYYY-MM.csv``), in month order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    months = month_of_rows(frame)
    for key in sorted(months.unique()):
        path = out_dir / f"{plan_id}-actuals-{key}.csv"
        frame[months == key].to_csv(path, index=False)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m xlplan.tracking.synthetic PLAN -o DIR``: write a year of actuals."""
    from xlplan.spec.loader import PlanError, load_plan
    from xlplan.spec.prior_year import DataFileError, read_prior_year

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("plan", type=Path)
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=Scenario.seed)
    parser.add_argument("--noise", type=float, default=Scenario.noise)
    args = parser.parse_args(argv)
    try:
        loaded = load_plan(args.plan)
        prior = read_prior_year(loaded)
    except (PlanError, DataFileError) as exc:
        print(exc, file=sys.stderr)
        return 1
    frame = generate(loaded.plan, prior, Scenario(seed=args.seed, noise=args.noise))
    for path in write_files(frame, args.out, loaded.plan.id):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
