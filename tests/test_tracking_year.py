"""A synthetic year of the example plan: the right warnings fire at the right dates with the
right levels, and nowhere else; the re-forecast raises Q2 after a Q1 beat.

The year (xlplan.tracking.synthetic, seed 7): Q1 12% above plan everywhere; Northeast (R-NE)
20% under target in ISO weeks 14-16 (April 5-25); Guangdong's (R-GD) budget line 7% over in
April-June; Southwest's (R-SW) stock-outs (lower is better, target 5%) at 6% in June.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import EXAMPLE
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import LoadedPlan, load_plan
from xlplan.spec.prior_year import PriorYear, read_prior_year
from xlplan.tracking import store
from xlplan.tracking.actuals import COLUMNS
from xlplan.tracking.phased_targets import revenue_targets
from xlplan.tracking.reader import check
from xlplan.tracking.reforecast import raise_for, reforecast
from xlplan.tracking.synthetic import Scenario, generate, write_files
from xlplan.tracking.track import TrackResult, track

pytestmark = pytest.mark.slow  # the example plan's synthetic year, shared

runner = CliRunner()
APR = [dt.date(2027, 4, d) for d in (1, 5, 11, 18, 25, 30)]
EXPECTED = {  # (rule, where, measure): (level, since, fired, until, periods)
    ("week-under", "R-NE", "revenue"): ("orange", APR[1], APR[2], APR[4], 3),
    ("consecutive-weeks", "R-NE", "revenue"): ("orange", APR[1], APR[3], APR[4], 3),
    ("month-status", "R-NE", "revenue"): ("yellow", APR[0], APR[5], APR[5], 1),
    ("budget-tolerance", "R-GD", "spend"): ("yellow", APR[0], APR[5], dt.date(2027, 6, 30), 3),
    ("kpi-status", "R-SW", "stock_out"): ("orange", dt.date(2027, 6, 1), dt.date(2027, 6, 30),
                                          dt.date(2027, 6, 30), 1),
}


@pytest.fixture(scope="module")
def loaded() -> tuple[LoadedPlan, PriorYear | None]:
    lp = load_plan(EXAMPLE)
    return lp, read_prior_year(lp)


def as_actuals(frame: pd.DataFrame, lp: LoadedPlan) -> pd.DataFrame:
    """The generator's text rows checked as an import would check them."""
    from xlplan.tracking.reader import Table

    table = Table(frame.set_axis(pd.RangeIndex(2, 2 + len(frame))), 1)
    rows, problems = check(table, lp.plan, lp.plan.tracking.columns)
    assert problems == []
    return rows[COLUMNS]


@pytest.fixture(scope="module")
def year(loaded: tuple[LoadedPlan, PriorYear | None]) -> pd.DataFrame:
    lp, prior = loaded
    return as_actuals(generate(lp.plan, prior), lp)


@pytest.fixture(scope="module")
def year_end(loaded: tuple[LoadedPlan, PriorYear | None], year: pd.DataFrame) -> TrackResult:
    lp, prior = loaded
    return track(lp.plan, year, dt.date(2027, 12, 31), prior)


def summary(result: TrackResult) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {(a.rule, a.where, a.measure): (a.level, a.since, a.fired, a.until, a.periods)
            for a in result.alerts}


def test_the_scenario_warnings_and_no_others(year_end: TrackResult) -> None:
    assert summary(year_end) == EXPECTED


def test_another_seed_gives_the_same_warnings(loaded: tuple[LoadedPlan, PriorYear | None]
                                              ) -> None:
    lp, prior = loaded
    frame = as_actuals(generate(lp.plan, prior, Scenario(seed=2024)), lp)
    result = track(lp.plan, frame, dt.date(2027, 12, 31), prior)
    assert summary(result) == EXPECTED


def test_warnings_fire_on_their_day(loaded: tuple[LoadedPlan, PriorYear | None],
                                    year: pd.DataFrame) -> None:
    lp, prior = loaded

    def rules(day: dt.date) -> set[str]:
        return {a.rule for a in track(lp.plan, year, day, prior).alerts}

    assert rules(dt.date(2027, 4, 10)) == set()  # week 14 has not ended
    assert rules(dt.date(2027, 4, 11)) == {"week-under"}
    assert rules(dt.date(2027, 4, 17)) == {"week-under"}  # one week is not yet a streak
    assert rules(dt.date(2027, 4, 18)) == {"week-under", "consecutive-weeks"}
    assert rules(dt.date(2027, 4, 30)) == {"week-under", "consecutive-weeks", "month-status",
                                           "budget-tolerance"}
    mid = track(lp.plan, year, dt.date(2027, 4, 20), prior)
    week = next(a for a in mid.alerts if a.rule == "week-under")
    assert week.open and week.until == APR[3]  # still firing at the latest week


def test_the_behind_region_by_hand(year_end: TrackResult) -> None:
    # April 2027 has 25 selling days (Sundays and Qingming off); 17 of them, in weeks 14-16,
    # sold 20% under target: 1 - 0.2 × 17/25 = 86.4% (± the weekday pattern and noise)
    april = year_end.row("R-NE", "month", "Apr 2027")
    assert april is not None and float(april["attainment"]) == pytest.approx(0.864, abs=0.01)
    assert april["status"] == "Y"
    week = year_end.row("R-NE", "week", "2027-W15")
    assert week is not None and float(week["attainment"]) == pytest.approx(0.80, abs=0.03)
    q1 = year_end.row("HQ", "quarter", "Q1")
    assert q1 is not None and float(q1["attainment"]) == pytest.approx(1.12, abs=0.01)


def test_who_decides(year_end: TrackResult) -> None:
    by = {a.rule: a for a in year_end.alerts}
    # a KPI has no money at stake: the region's manager; an overrun of ~32,000 against a
    # regional limit of 10% of the reserve pool (~11,000): HQ
    assert by["kpi-status"].decider == "regional manager (邓宇)"
    assert by["budget-tolerance"].decides == "HQ"
    assert by["budget-tolerance"].decider == "HQ (陈国强)"


def test_reforecast_after_the_q1_beat(loaded: tuple[LoadedPlan, PriorYear | None],
                                      year_end: TrackResult) -> None:
    lp, _ = loaded
    rf = reforecast(lp.plan, year_end.targets, year_end.revenue, dt.date(2027, 3, 31))
    assert rf.beat is not None and rf.beat == pytest.approx(0.12, abs=0.01)
    assert rf.raise_ == pytest.approx(raise_for(rf.beat, lp.plan))
    assert 0.05 <= rf.raise_ <= 0.08
    q2 = rf.original[3:6]
    assert int(rf.months[3:6].sum()) == round(int(q2.sum()) * (1 + rf.raise_))
    assert rf.annual_after == rf.annual_before == 13_000_000_000
    assert rf.months[:3].tolist() == rf.actual[:3].tolist()


def test_the_whole_loop_through_the_cli(loaded: tuple[LoadedPlan, PriorYear | None],
                                        tmp_path: Path) -> None:
    lp, prior = loaded
    files = write_files(generate(lp.plan, prior), tmp_path / "actuals", lp.plan.id)
    assert len(files) == 12
    db = tmp_path / "board" / "xlplan.duckdb"
    result = runner.invoke(app, ["actuals", str(EXAMPLE), *map(str, files[:6]), "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    plan2 = tmp_path / "forecast" / "plan2.yaml"
    result = runner.invoke(app, ["reforecast", str(EXAMPLE), "--as-of", "2027-03-31",
                                 "-o", str(plan2), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["raised_months"] == ["2027-04", "2027-05", "2027-06"]
    assert doc["annual_after"] == doc["annual_before"] == 130_000_000.0
    result = runner.invoke(app, ["validate", str(plan2)])
    assert result.exit_code == 0, result.stderr + result.stdout
    # the re-forecast plan phases every unit by the re-forecast months
    forecast = load_plan(plan2)
    months = revenue_targets(forecast.plan, read_prior_year(forecast)).months["HQ"]
    wanted = [round(x * 100) for x in doc_months(doc)]
    assert all(abs(int(a) - b) <= 50 for a, b in zip(months, wanted, strict=True))  # cents
    result = runner.invoke(app, ["track", str(EXAMPLE), "-o", str(tmp_path / "board"),
                                 "--as-of", "2027-06-30", "--forecast", str(plan2), "--json"])
    assert result.exit_code == 0, result.stderr
    board = json.loads(result.stdout)
    assert board["headline"]["forecast_annual"] == pytest.approx(130_000_000.0, abs=1.0)
    assert Path(board["board"]).name == "huaxin-2027-board-2027-06-30.xlsx"
    assert {w["rule"] for w in board["warnings"]} == {r for r, _, _ in EXPECTED}
    # the example plan is zh: the board speaks Chinese, --json stays English
    assert openpyxl.load_workbook(board["board"], read_only=True).sheetnames[0] == "看板"
    assert not any(re.search("[\u4e00-\u9fff]", w["threshold"]) for w in board["warnings"])
    result = runner.invoke(app, ["track", str(EXAMPLE), "-o", str(tmp_path / "en"), "--db",
                                 str(db), "--as-of", "2027-06-30", "--language", "en", "--json"])
    assert result.exit_code == 0, result.stderr
    english = json.loads(result.stdout)
    assert english["warnings"] == board["warnings"]
    assert openpyxl.load_workbook(english["board"], read_only=True).sheetnames[:2] == [
        "Board", "Warnings"]
    con = store.connect(db, read_only=True)
    try:
        assert len(store.files(con, lp.plan.id)) == 6
    finally:
        con.close()


def doc_months(doc: dict[str, object]) -> list[float]:
    months = doc["months"]
    assert isinstance(months, list)
    return [float(m["forecast"]) for m in months]
