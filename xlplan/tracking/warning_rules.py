"""The warnings (预警): which rule fired, where, how badly, since when, and who decides.

Rules (each named in the ``rule`` field):

* ``week-under``: a unit's revenue for an ISO week more than
  ``warnings.weekly_under`` (15%) under target; level = the week's light;
* ``consecutive-weeks``: that for ``warnings.consecutive_weeks`` (2) weeks in a
  row → a review meeting (:func:`xlplan.engine.variance.consecutive_under`:
  fires when the streak reaches N, again at 2N …); orange, red if a week of
  the streak was red;
* ``month-status``: a unit's (or the company's) revenue for a month that has
  ended shows a yellow, orange or red light (``status_bands``);
* ``kpi-status``: the same for a KPI's month value (direction-aware);
* ``budget-tolerance``: a budget line's spend for a month beyond
  ``budget.tolerance`` (±5%): a root-cause note within 48 hours. Over budget
  takes the light of spend read as lower-is-better (7% over → yellow, at least
  yellow); under budget is yellow;
* ``roi-freeze``: a line's year-to-date ROI below ``budget.roi_floor`` (1.5):
  frozen; red.

Consecutive periods in which a rule fires for the same place are one warning
(an *episode*): ``since`` is the start of its first period, ``fired`` the end
of that period (the day the rule could first see it), ``until`` the end of
its last one, ``open`` whether it still fires in the latest period evaluated,
``level`` the worst level reached. Only positive shortfalls warn; being ahead
of plan is not a warning.

Who decides (docs/METHOD.md: a regional manager may use up to 10% of the reserve,
above that HQ): the money at stake (a revenue shortfall, an overrun, the budget
a freeze holds back) is taken as the draw on the reserve that would close it,
and :func:`xlplan.engine.budget.reserve_decision` against the unit's reserve
pool (an action line: the company reserve) says "region" or "HQ". A KPI has
no money at stake: its unit's manager decides; the company's KPIs, HQ.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from xlplan.engine.budget import reserve_decision
from xlplan.engine.variance import consecutive_under, status
from xlplan.i18n import Msg, Words, data, msg
from xlplan.spec.models import Plan
from xlplan.tracking.actuals import rows
from xlplan.tracking.calendar import FiscalCalendar
from xlplan.tracking.phased_targets import RevenueTargets
from xlplan.tracking.scorecard import Scorecard
from xlplan.tracking.spend import SpendResult

Level = Literal["yellow", "orange", "red"]
LEVEL_OF_LIGHT: dict[str, Level] = {"Y": "yellow", "O": "orange", "R": "red"}
RANK = {"yellow": 1, "orange": 2, "red": 3}
RULES = ("week-under", "consecutive-weeks", "month-status", "kpi-status", "budget-tolerance",
         "roi-freeze")
# the words a workbook shows for the codes above (the codes stay in --json and the CLI)
RULE_WORDS = {"week-under": msg("week-under"), "consecutive-weeks": msg("consecutive-weeks"),
              "month-status": msg("month-status"), "kpi-status": msg("kpi-status"),
              "budget-tolerance": msg("budget-tolerance"), "roi-freeze": msg("roi-freeze")}
LEVEL_WORDS = {"yellow": msg("yellow"), "orange": msg("orange"), "red": msg("red")}
DECIDES_WORDS = {"region": msg("region"), "HQ": msg("HQ")}
ENGLISH = Words("en")  # the warnings as --json and the CLI print them


@dataclass(frozen=True)
class Said:
    """A warning's sentences as catalog messages (shown in the workbook's language)."""

    what: Msg
    threshold: Msg
    decider: Msg


@dataclass(frozen=True)
class Alert:
    """One warning (an episode of one rule at one place). ``what``, ``threshold`` and
    ``decider`` are English (for --json and the CLI); the workbook shows the catalog messages
    they were made from (``said``), in its language."""

    rule: str
    what: str
    where: str  # unit code or budget line key
    where_name: str
    measure: str
    level: Level
    since: dt.date
    fired: dt.date
    until: dt.date
    open: bool
    value: float  # attainment, deviation or ROI at the worst period
    threshold: str  # the rule as set in the plan
    at_stake: int  # minor units
    decides: Literal["region", "HQ"]
    decider: str
    periods: int
    said: Said

    def to_json(self, smallest_unit: Decimal) -> dict[str, Any]:
        return {
            "rule": self.rule, "level": self.level, "what": self.what, "where": self.where,
            "where_name": self.where_name, "measure": self.measure,
            "since": self.since.isoformat(), "fired": self.fired.isoformat(),
            "until": self.until.isoformat(), "open": self.open,
            "value": None if math.isnan(self.value) else round(self.value, 6),
            "threshold": self.threshold,
            "at_stake": float(Decimal(self.at_stake) * smallest_unit),
            "decides": self.decides, "decider": self.decider, "periods": self.periods,
        }


@dataclass(frozen=True)
class Event:
    """One period in which a rule fired."""

    index: int  # position of the period in its series (consecutive = adjacent)
    start: dt.date
    end: dt.date
    level: Level
    value: float
    at_stake: int


def worse(a: Level, b: Level) -> Level:
    return a if RANK[a] >= RANK[b] else b


def episodes(events: Sequence[Event]) -> list[list[Event]]:
    """Events (in period order) grouped into runs of adjacent periods."""
    out: list[list[Event]] = []
    for e in events:
        if out and out[-1][-1].index + 1 == e.index:
            out[-1].append(e)
        else:
            out.append([e])
    return out


class Deciders:
    """Who decides for a unit or a line, from the reserve and the money at stake."""

    def __init__(self, plan: Plan, targets: RevenueTargets, spend: SpendResult):
        self.plan = plan
        self.tree = targets.tree
        self.authority = plan.budget.regional_reserve_authority if plan.budget else 0.10
        self.reserve = {ln.key: ln.reserve for ln in spend.lines}
        self.owner = {ln.key: ln.owner for ln in spend.lines}
        root = self.tree.units[self.tree.root]
        self.hq = msg("HQ ({manager})", manager=data(root.manager)) if root.manager else \
            msg("HQ")

    def decide(self, key: str, at_stake: int, has_money: bool = True
               ) -> tuple[Literal["region", "HQ"], Msg]:
        if key == self.tree.root:
            return "HQ", self.hq
        if key.startswith("action:"):
            who = reserve_decision(max(at_stake, 0), self.reserve.get(key, 0), self.authority)
            owner = self.owner.get(key, "")
            return (who, msg("action owner ({owner})", owner=data(owner)) if owner else
                    msg("action owner")) \
                if who == "region" else ("HQ", self.hq)
        unit = self.tree.units[key]
        if has_money:
            who = reserve_decision(max(at_stake, 0), self.reserve.get(key, 0), self.authority)
        else:
            who = "region"
        if who == "HQ":
            return "HQ", self.hq
        return "region", msg("regional manager ({manager})", manager=data(unit.manager)) \
            if unit.manager else msg("regional manager")


def _alert(rule: str, run: list[Event], *, last_index: int, what: Msg, where: str,
           where_name: str, measure: str, threshold: Msg, deciders: Deciders,
           has_money: bool = True, level: Level | None = None,
           fired: dt.date | None = None) -> Alert:
    worst = run[0]
    for e in run:
        if RANK[e.level] > RANK[worst.level]:
            worst = e
    at_stake = sum(e.at_stake for e in run)
    decides, decider = deciders.decide(where, at_stake, has_money)
    return Alert(rule, ENGLISH(what), where, where_name, measure, level or worst.level,
                 run[0].start, fired or run[0].end, run[-1].end, run[-1].index == last_index,
                 worst.value, ENGLISH(threshold), at_stake, decides, ENGLISH(decider), len(run),
                 Said(what, threshold, decider))


def _light_level(light: str) -> Level | None:
    return LEVEL_OF_LIGHT.get(light)


def revenue_alerts(plan: Plan, compare: pd.DataFrame, units: Sequence[str], names: dict[str, str],
                   deciders: Deciders) -> list[Alert]:
    """``week-under``, ``consecutive-weeks`` and ``month-status`` for each unit."""
    metric = plan.north_star.metric
    out: list[Alert] = []
    for unit in units:
        mine = compare[compare["unit"] == unit]
        weeks = mine[(mine["grain"] == "week") & mine["actual"].notna()]
        if not weeks.empty:
            out += _week_alerts(plan, weeks, unit, names[unit], metric, deciders)
        months = mine[(mine["grain"] == "month") & ~mine["partial"]]
        events = []
        for i, row in enumerate(rows(months)):
            level = _light_level(str(row.status))
            if level is not None:
                events.append(Event(i, row.start, row.end, level, float(row.attainment),
                                    max(int(row.target) - int(row.actual), 0)))
        bands = plan.status_bands
        for run in episodes(events):
            worst = min(e.value for e in run)
            out.append(_alert(
                "month-status", run, last_index=len(months) - 1,
                what=msg("{metric} at {share:.1%} of target for {months} month(s)",
                         metric=data(metric.capitalize()), share=worst, months=len(run)),
                where=unit, where_name=names[unit], measure=metric,
                threshold=msg("monthly shortfall beyond {yellow:.0%} / {orange:.0%} / "
                              "{red:.0%} → yellow / orange / red", yellow=bands.yellow,
                              orange=bands.orange, red=bands.red),
                deciders=deciders))
    return out


def _week_alerts(plan: Plan, weeks: pd.DataFrame, unit: str, name: str, metric: str,
                 deciders: Deciders) -> list[Alert]:
    rules = plan.warnings
    att = weeks["attainment"].to_numpy(dtype=float)
    streak = consecutive_under(att.tolist(), rules.consecutive_weeks, rules.weekly_under)
    week_rows = rows(weeks)
    shortfall = [max(int(r.target) - int(r.actual), 0) for r in week_rows]
    events = [Event(i, r.start, r.end, worse("yellow", _light_level(str(r.status)) or "yellow"),
                    float(r.attainment), shortfall[i])
              for i, r in enumerate(week_rows) if streak.under[i]]
    out = []
    for run in episodes(events):
        worst = min(e.value for e in run)
        out.append(_alert(
            "week-under", run, last_index=len(week_rows) - 1,
            what=msg("{metric} more than {under:.0%} under target for {weeks} week(s), worst "
                     "week at {worst:.1%}", metric=data(metric.capitalize()),
                     under=rules.weekly_under, weeks=len(run), worst=worst),
            where=unit, where_name=name, measure=metric,
            threshold=msg("weekly shortfall > {under:.0%}", under=rules.weekly_under),
            deciders=deciders))
    # one review per streak: fires when the streak reaches N weeks (and again at 2N …)
    by_streak: dict[int, list[int]] = {}
    for i in streak.fired:
        by_streak.setdefault(i - streak.streaks[i] + 1, []).append(i)
    for start, fires in by_streak.items():
        end = start
        while end + 1 < len(week_rows) and streak.under[end + 1]:
            end += 1
        run = [e for e in events if start <= e.index <= end]
        level = worse("orange", max((e.level for e in run), key=RANK.__getitem__))
        out.append(_alert(
            "consecutive-weeks", run, last_index=len(week_rows) - 1,
            what=msg("{metric} more than {under:.0%} under target {weeks} weeks in a row: "
                     "review meeting", metric=data(metric.capitalize()),
                     under=rules.weekly_under, weeks=streak.streaks[fires[0]]),
            where=unit, where_name=name, measure=metric,
            threshold=msg("{weeks} consecutive weeks > {under:.0%} under → review",
                          weeks=rules.consecutive_weeks, under=rules.weekly_under),
            deciders=deciders, level=level, fired=week_rows[fires[0]].end))
    return out


def kpi_alerts(plan: Plan, cards: Scorecard, names: dict[str, str], deciders: Deciders
               ) -> list[Alert]:
    """``kpi-status``: each unit's KPI months (ended) with a yellow, orange or red light."""
    kpis = {k.code: k for k in plan.bsc.kpis}
    cal = FiscalCalendar.of(plan)
    out: list[Alert] = []
    frame = cards.months[~cards.months["partial"]]
    bands = plan.status_bands
    for (unit, code), group in frame.groupby(["unit", "kpi"], sort=False):
        k = kpis[str(code)]
        events = []
        for row in rows(group):
            level = _light_level(str(row.status))
            if level is not None:
                span = cal.month_span(int(row.month))
                events.append(Event(int(row.month), span.start, span.end, level,
                                    float(row.attainment), 0))
        last = int(group["month"].max())
        for run in episodes(events):
            worst = min(e.value for e in run)
            values = group.set_index("month")["value"]
            out.append(_alert(
                "kpi-status", run, last_index=last,
                what=msg("{kpi} ({direction}) at {share:.1%} of target {target}: {latest} in "
                         "the latest month", kpi=data(k.name),
                         direction=BETTER[k.direction.value], share=worst,
                         target=data(_fmt(k.target, k.unit)),
                         latest=data(_fmt(float(values[run[-1].index]), k.unit))),
                where=str(unit), where_name=names[str(unit)], measure=k.code,
                threshold=msg("shortfall beyond {yellow:.0%} / {orange:.0%} / {red:.0%} → "
                              "yellow / orange / red", yellow=bands.yellow,
                              orange=bands.orange, red=bands.red),
                deciders=deciders, has_money=False))
    return out


BETTER = {"higher": msg("higher is better"), "lower": msg("lower is better")}


def _fmt(value: float, unit: str) -> str:
    """A KPI value as people read it: 5.00% for a rate, 72 h, 500,000 CNY."""
    if unit == "%":
        return f"{value:.2%}"
    return f"{value:,.4g}" + (f" {unit}" if unit else "")


def spend_alerts(plan: Plan, spend: SpendResult, deciders: Deciders) -> list[Alert]:
    """``budget-tolerance`` and ``roi-freeze`` for each tracked line (months that ended)."""
    out: list[Alert] = []
    if spend.months.empty or plan.budget is None:
        return out
    tol, floor = plan.budget.tolerance, plan.budget.roi_floor
    cal = FiscalCalendar.of(plan)
    lines = {ln.key: ln for ln in spend.lines}
    closed = spend.months[spend.months["closed"]]
    for key, group in closed.groupby("line", sort=False):
        line = lines[str(key)]
        last = int(group["month"].max()) if not group.empty else -1
        over, frozen = [], []
        for row in rows(group):
            span = cal.month_span(int(row.month))
            if row.flag != "within":
                light = status(float(row.attainment), plan.status_bands) if row.flag == "over" \
                    else "Y"
                level = worse("yellow", _light_level(light) or "yellow")
                over.append(Event(int(row.month), span.start, span.end, level,
                                  float(row.deviation), max(int(row.spend) - int(row.budget), 0)))
            if row.frozen:
                spent = int(group[group["month"] <= row.month]["spend"].sum())
                remaining = max(int(line.budget.sum()) - spent, 0)
                frozen.append(Event(int(row.month), span.start, span.end, "red", float(row.roi),
                                    remaining))
        for run in episodes(over):
            worst = max(run, key=lambda e: abs(e.value))
            what = msg("Spend {deviation:+.1%} against budget for {months} month(s): "
                       "root-cause note due within 48 hours", deviation=worst.value,
                       months=len(run))
            out.append(_alert("budget-tolerance", run, last_index=last, what=what, where=line.key,
                              where_name=line.name, measure=line.spend_measure,
                              threshold=msg("monthly spend vs budget beyond ±{tolerance:.0%}",
                                            tolerance=tol),
                              deciders=deciders))
        for run in episodes(frozen):
            # what a freeze holds back is the budget left after the latest month, once
            run = [Event(e.index, e.start, e.end, e.level, e.value,
                         e.at_stake if e is run[-1] else 0) for e in run]
            out.append(_alert("roi-freeze", run, last_index=last,
                              what=msg("Year-to-date ROI {roi:.2f} below {floor:g}: line "
                                       "frozen", roi=run[-1].value, floor=floor),
                              where=line.key, where_name=line.name,
                              measure=line.return_measure,
                              threshold=msg("ROI < {floor:g} → freeze", floor=floor),
                              deciders=deciders))
    return out


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """By the day they fired, the worst first on a day, then by place and rule."""
    def key(a: Alert) -> tuple[Any, ...]:
        return a.fired, -RANK[a.level], a.where, RULES.index(a.rule), a.measure

    return sorted(alerts, key=key)

