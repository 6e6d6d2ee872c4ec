"""The tracking engine on a tiny plan whose numbers can be worked by hand.

Tiny Co. has two regions, NORTH and SOUTH, each with a target of 365,000.00 split
evenly (allocation even), phased by month weights equal to the days of each month
and sold every day of the week: every region's target is exactly 1,000.00 a day,
7,000.00 a week and 31,000.00 in January. The budget of 365,000.00 (no company
reserve) gives each region 182,500.00, i.e. 500.00 a day, with a reserve pool of
18,250.00 (a regional manager may draw 1,825.00). Action A1 has 59,000.00 over
January and February: 1,000.00 a day.

2027-01-01 is a Friday: ISO week 2026-W53 is Jan 1–3, 2027-W01 Jan 4–10, W02
Jan 11–17, W03 Jan 18–24, W04 Jan 25–31.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from xlplan.spec.loader import LoadedPlan, PlanError, load_plan_text
from xlplan.tracking.actuals import COLUMNS
from xlplan.tracking.reader import read_actuals
from xlplan.tracking.reforecast import raise_for, reforecast
from xlplan.tracking.track import TrackError, TrackResult, track
from xlplan.tracking.warning_rules import Alert

TINY = """\
id: tiny-2027
name: Tiny Co. 2027
fiscal_year: 2027
currency: {code: CNY, smallest_unit: 0.01}
north_star: {metric: revenue, baseline: 600000, target: 730000}
units:
  - {code: CO, name: Tiny Co., kind: company, manager: Boss}
  - {code: NORTH, name: North, parent: CO, manager: Nora}
  - {code: SOUTH, name: South, parent: CO, manager: Sam}
allocation: {method: even}
products: [{code: P1, name: Product one}]
channels: [{code: WEB, name: Web, share: 1.0}]
calendar:
  method: months
  month_weights: [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  normalise: true
budget: {total: 365000, company_reserve: 0.0}
bsc:
  kpis:
    - {code: stock_out, name: Stock-out rate, perspective: process, unit: "%", direction: lower,
       target: 0.05, frequency: daily}
    - {code: nps, name: Net promoter score, perspective: customer, unit: pts, target: 8}
okrs:
  - id: O1
    title: Grow members
    owner: Boss
    krs:
      - {id: KR1, text: Members from 0 to 100, start: 0, target: 100, current: 10,
         due: 2027-12-31}
levers:
  - {id: L1, kind: market_penetration, name: Repurchase, amount: 100000}
actions:
  - {id: A1, lever: L1, task: Member drive, owner: Olga, start: 2027-01-01, end: 2027-02-28,
     budget: 59000}
workbooks: {input_level: 1}
"""
HEADER = "date,period,unit,product,channel,measure,value\n"


@pytest.fixture(scope="module")
def tiny() -> LoadedPlan:
    return load_plan_text(TINY, "tiny.yaml")


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def revenue(unit: str, first: dt.date, last: dt.date, per_day: float) -> str:
    return "".join(f"{d},,{unit},P1,WEB,revenue,{per_day:.2f}\n" for d in days(first, last))


JAN1, JAN31 = dt.date(2027, 1, 1), dt.date(2027, 1, 31)
FEB1, FEB28 = dt.date(2027, 2, 1), dt.date(2027, 2, 28)


def scenario() -> str:
    """January and February, as described in each test."""
    rows = [
        # NORTH: 1,000 a day, but 800 (20% under) in weeks W02 and W03 (Jan 11-24)
        revenue("NORTH", JAN1, dt.date(2027, 1, 10), 1000),
        revenue("NORTH", dt.date(2027, 1, 11), dt.date(2027, 1, 24), 800),
        revenue("NORTH", dt.date(2027, 1, 25), FEB28, 1000),
        # SOUTH: on target, except 850 a day (exactly 15% under) in W06 (Feb 8-14)
        revenue("SOUTH", JAN1, dt.date(2027, 2, 7), 1000),
        revenue("SOUTH", dt.date(2027, 2, 8), dt.date(2027, 2, 14), 850),
        revenue("SOUTH", dt.date(2027, 2, 15), FEB28, 1000),
        # budget lines: NORTH 7% over in January, exactly 5% over in February (within)
        ",2027-01,NORTH,,,spend,16585\n", ",2027-02,NORTH,,,spend,14700\n",
        ",2027-01,SOUTH,,,spend,15500\n", ",2027-02,SOUTH,,,spend,14000\n",
        # action A1: on budget, but returning 1.29× its spend in January → frozen
        ",2027-01,CO,,,spend:A1,31000\n", ",2027-01,CO,,,return:A1,40000\n",
        ",2027-02,CO,,,spend:A1,28000\n", ",2027-02,CO,,,return:A1,100000\n",
        # KPIs: NORTH's stock-outs at 6% (lower is better) in January, SOUTH at 4%
        "".join(f"{d},,NORTH,,,stock_out,6%\n" for d in days(JAN1, JAN31)),
        "".join(f"{d},,SOUTH,,,stock_out,0.04\n" for d in days(JAN1, JAN31)),
        ",2027-01,NORTH,,,nps,7.2\n", ",2027-01,SOUTH,,,nps,8.8\n",
        # the KR's reading at the end of January
        ",2027-01,CO,,,KR1,25\n",
    ]
    return HEADER + "".join(rows)


@pytest.fixture(scope="module")
def actuals(tiny: LoadedPlan, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("tiny") / "actuals.csv"
    path.write_text(scenario(), encoding="utf-8")
    return read_actuals(path, tiny.plan, tiny.plan.tracking.columns).rows[COLUMNS]


@pytest.fixture(scope="module")
def feb(tiny: LoadedPlan, actuals: pd.DataFrame) -> TrackResult:
    return track(tiny.plan, actuals, dt.date(2027, 2, 28))


def one(alerts: list[Alert], rule: str, where: str) -> Alert:
    found = [a for a in alerts if a.rule == rule and a.where == where]
    assert len(found) == 1, f"{rule} at {where}: {found}"
    return found[0]


# --------------------------------------------------------------------------- targets


def test_targets_are_a_thousand_a_day(feb: TrackResult) -> None:
    t = feb.targets
    assert t.annual == {"CO": 73_000_000, "NORTH": 36_500_000, "SOUTH": 36_500_000}
    assert set(t.days["NORTH"].tolist()) == {100_000}
    assert t.days["CO"][0] == 200_000
    assert t.months["NORTH"][1] == 2_800_000  # February: 28 days


def test_month_figures_by_hand(feb: TrackResult) -> None:
    jan = feb.row("NORTH", "month", "Jan 2027")
    assert jan is not None
    assert int(jan["target"]) == 3_100_000
    assert int(jan["actual"]) == 3_100_000 - 14 * 20_000  # 14 days at 800
    assert int(jan["variance"]) == -280_000
    assert float(jan["attainment"]) == pytest.approx(28_200 / 31_000)
    assert jan["status"] == "Y"  # 9.0% short: beyond 5%, within 15%
    company = feb.row("CO", "month", "Jan 2027")
    assert company is not None and int(company["actual"]) == 5_920_000
    assert company["status"] == "G"  # 4.5% short


def test_week_figures_and_the_exact_band_edge(feb: TrackResult) -> None:
    w02 = feb.row("NORTH", "week", "2027-W02")
    assert w02 is not None and int(w02["target"]) == 700_000 and int(w02["actual"]) == 560_000
    assert w02["status"] == "O"  # 20% short
    w06 = feb.row("SOUTH", "week", "2027-W06")
    assert w06 is not None and float(w06["attainment"]) == pytest.approx(0.85)
    assert w06["status"] == "Y"  # exactly 15% short is still the better colour
    first = feb.row("NORTH", "week", "2026-W53")  # Jan 1-3, cut at the year's start
    assert first is not None and int(first["target"]) == 300_000


def test_quarter_and_ytd_to_the_data_through_day(feb: TrackResult) -> None:
    assert feb.through_date == FEB28
    q1 = feb.row("NORTH", "quarter", "Q1")
    assert q1 is not None and bool(q1["partial"]) and int(q1["target"]) == 5_900_000
    ytd = feb.row("CO", "ytd")
    assert ytd is not None and int(ytd["target"]) == 11_800_000
    assert int(ytd["actual"]) == 11_800_000 - 280_000 - 7 * 15_000


def test_the_data_through_day_stops_at_the_last_actual(tiny: LoadedPlan,
                                                       actuals: pd.DataFrame) -> None:
    later = track(tiny.plan, actuals, dt.date(2027, 6, 30))
    assert later.through_date == FEB28  # no revenue after February: March is not a miss
    assert later.row("NORTH", "month", "Mar 2027") is None
    with pytest.raises(TrackError, match="before the fiscal year"):
        track(tiny.plan, actuals, dt.date(2026, 12, 31))


# --------------------------------------------------------------------------- warnings


def test_the_right_warnings_fire_and_no_others(feb: TrackResult) -> None:
    fired = sorted((a.rule, a.where, a.measure) for a in feb.alerts)
    assert fired == sorted([
        ("week-under", "NORTH", "revenue"),
        ("consecutive-weeks", "NORTH", "revenue"),
        ("month-status", "NORTH", "revenue"),
        ("kpi-status", "NORTH", "stock_out"),
        ("kpi-status", "NORTH", "nps"),
        ("budget-tolerance", "NORTH", "spend"),
        ("roi-freeze", "action:A1", "return:A1"),
    ])


def test_week_under_and_the_review_meeting(feb: TrackResult) -> None:
    week = one(feb.alerts, "week-under", "NORTH")
    assert (week.since, week.fired, week.until) == (dt.date(2027, 1, 11), dt.date(2027, 1, 17),
                                                     dt.date(2027, 1, 24))
    assert week.level == "orange" and week.periods == 2 and not week.open
    assert week.at_stake == 280_000
    review = one(feb.alerts, "consecutive-weeks", "NORTH")
    assert review.fired == dt.date(2027, 1, 24)  # the second week in a row
    assert review.since == dt.date(2027, 1, 11) and review.level == "orange"
    # 2,800.00 at stake against a limit of 10% of an 18,250.00 reserve: HQ decides
    assert (review.decides, review.decider) == ("HQ", "HQ (Boss)")


def test_month_status_is_yellow_for_nine_percent_short(feb: TrackResult) -> None:
    month = one(feb.alerts, "month-status", "NORTH")
    assert month.level == "yellow" and month.fired == JAN31
    assert month.value == pytest.approx(0.9096774)


def test_a_lower_is_better_kpi_over_its_target_warns(feb: TrackResult) -> None:
    stock = next(a for a in feb.alerts if a.rule == "kpi-status" and a.measure == "stock_out")
    assert stock.level == "orange" and stock.value == pytest.approx(0.8)  # 2 - 6%/5%
    assert stock.decides == "region" and stock.decider == "regional manager (Nora)"
    nps = next(a for a in feb.alerts if a.rule == "kpi-status" and a.measure == "nps")
    assert nps.level == "yellow" and nps.value == pytest.approx(0.9)


def test_budget_seven_percent_over_is_yellow_and_five_is_within(feb: TrackResult) -> None:
    over = one(feb.alerts, "budget-tolerance", "NORTH")
    assert over.level == "yellow" and over.value == pytest.approx(0.07)
    assert over.periods == 1 and over.until == JAN31 and not over.open  # Feb: exactly 5%
    assert over.at_stake == 108_500  # 1,085.00 within 1,825.00: the region decides
    assert over.decider == "regional manager (Nora)"


def test_roi_below_the_floor_freezes_the_line(feb: TrackResult) -> None:
    frozen = one(feb.alerts, "roi-freeze", "action:A1")
    assert frozen.level == "red" and frozen.fired == JAN31
    assert frozen.value == pytest.approx(40_000 / 31_000)
    assert frozen.until == JAN31  # February's return lifts the year-to-date ROI to 2.4
    assert frozen.decides == "HQ"  # no company reserve to draw on


def test_no_warning_on_plan(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = tmp_path / "on-plan.csv"
    path.write_text(HEADER + revenue("NORTH", JAN1, FEB28, 1000) +
                    revenue("SOUTH", JAN1, FEB28, 1000), encoding="utf-8")
    rows = read_actuals(path, tiny.plan, tiny.plan.tracking.columns).rows[COLUMNS]
    result = track(tiny.plan, rows, dt.date(2027, 2, 28))
    assert result.alerts == []
    ytd = result.row("CO", "ytd")
    assert ytd is not None and float(ytd["attainment"]) == 1.0 and ytd["status"] == "G"


# --------------------------------------------------------------------------- BSC, OKR, budget


def test_bsc_scores_by_hand(feb: TrackResult) -> None:
    north = feb.cards.scores["NORTH"]
    kpis = north.kpis.set_index("code")
    # January only (February has no KPI readings): the year to date is January
    assert kpis.loc["stock_out", "score"] == pytest.approx(8.0)  # (0.06-0.1)/(0.05-0.1)
    assert kpis.loc["nps", "score"] == pytest.approx(9.0)  # 7.2 / 8
    assert north.total == pytest.approx(8.5)
    company = feb.cards.ytd.set_index(["unit", "kpi"])
    assert company.loc[("CO", "stock_out"), "value"] == pytest.approx(0.05)  # mean of regions
    assert company.loc[("CO", "nps"), "status"] == "G"


def test_okr_progress_from_the_latest_reading(feb: TrackResult) -> None:
    row = feb.okr.set_index("kr").loc["KR1"]
    assert row["current"] == 25 and row["progress"] == pytest.approx(0.25)
    assert bool(row["reading"])
    assert row["expected"] == pytest.approx(58 / 364)  # Jan 1 → Feb 28 of Jan 1 → Dec 31


def test_spend_year_to_date(feb: TrackResult) -> None:
    ytd = feb.spend.ytd().set_index("line")
    assert int(ytd.loc["NORTH", "budget"]) == 2_950_000  # 59 days at 500.00
    assert int(ytd.loc["NORTH", "spend"]) == 1_658_500 + 1_470_000
    assert ytd.loc["action:A1", "flag"] == "within"
    head = feb.headline()
    assert head["budget_ytd"] == 59_000.0  # two regions, 59 days at 500.00
    assert head["spend_ytd"] == 16_585 + 14_700 + 15_500 + 14_000
    assert head["action_budget_ytd"] == head["action_spend_ytd"] == 59_000.0


# --------------------------------------------------------------------------- re-forecast


def test_the_raise_rule() -> None:
    plan = load_plan_text(TINY, "tiny.yaml").plan
    assert raise_for(0.10, plan) == pytest.approx(0.05)  # exactly the threshold
    assert raise_for(0.0999, plan) == 0.0
    assert raise_for(0.14, plan) == pytest.approx(0.07)
    assert raise_for(0.30, plan) == pytest.approx(0.08)  # held at raise_max


def test_q1_beaten_by_ten_percent_raises_q2_and_keeps_the_year(tiny: LoadedPlan,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "q1.csv"
    path.write_text(HEADER + revenue("NORTH", JAN1, dt.date(2027, 3, 31), 1100) +
                    revenue("SOUTH", JAN1, dt.date(2027, 3, 31), 1100), encoding="utf-8")
    rows = read_actuals(path, tiny.plan, tiny.plan.tracking.columns).rows[COLUMNS]
    result = track(tiny.plan, rows, dt.date(2027, 3, 31))
    rf = reforecast(tiny.plan, result.targets, result.revenue, dt.date(2027, 3, 31))
    assert rf.closed == 3 and rf.beat == pytest.approx(0.10)
    assert rf.raise_ == pytest.approx(0.05) and rf.raised == [3, 4, 5]
    assert rf.months[:3].tolist() == [6_820_000, 6_160_000, 6_820_000]  # 2,200.00 a day
    assert rf.months[3:6].tolist() == [6_300_000, 6_510_000, 6_300_000]  # 2,000 a day × 1.05
    assert rf.annual_after == rf.annual_before == 73_000_000
    rest = 73_000_000 - 19_800_000 - 19_110_000
    assert int(rf.months[6:].sum()) == rest  # the second half absorbs the beat and the raise
    carried = reforecast(tiny.plan, result.targets, result.revenue, dt.date(2027, 3, 31),
                         keep_annual=False)
    assert carried.annual_after == 73_000_000 + 1_800_000 + 910_000
    assert math.isclose(carried.months[6], 6_200_000)


# --------------------------------------------------------------------------- the plan's section


def test_the_tracking_section_is_checked() -> None:
    with pytest.raises(PlanError) as info:
        load_plan_text(TINY + "tracking:\n  reforecast: {raise_max: 0.03}\n"
                              "  columns: {date: Day, period: day, vlaue: amount}\n", "tiny.yaml")
    text = str(info.value)
    assert "tiny.yaml:37: tracking.reforecast.raise_max: raise_max 0.03 is below " \
           "warnings.reforecast_raise 0.05" in text
    assert "tiny.yaml:38: tracking.columns.period: column 'day' is also the date column" in text
    assert "tiny.yaml:38: tracking.columns.vlaue: unknown key" in text
    plan = load_plan_text(TINY + "tracking: {sheet: Export}\n", "tiny.yaml").plan
    assert plan.tracking.columns.value == "value" and plan.tracking.reforecast.raise_max == 0.08


def test_year_to_date_follows_the_kpi_aggregate() -> None:
    """A stock (aggregate: last, e.g. headcount at month end) is its latest month, as the
    BSC sheet's year-to-date is; a flow's mean month against the month target is its sum
    against the target times the months (10 + 12 + 14 = 36 of 3 × 12 = 100 %, as 12 of 12)."""
    from xlplan.tracking.scorecard import year_to_date

    assert year_to_date("last", [10.0, 12.0, 14.0]) == 14.0
    assert year_to_date("sum", [10.0, 12.0, 14.0]) == 12.0
    assert year_to_date("average", [10.0, 12.0, 14.0]) == 12.0
    assert math.isnan(year_to_date("last", []))
