"""The board's Versions sheet (``xlplan track --compare``): the budget, a re-forecast and
the actuals side by side by unit and month with their variances, every formula recalculating
in LibreOffice to the engine's value.

The small plan with its synthetic first half-year (the default seed), the budget approved and a
re-forecast as of 2027-03-31 kept as forecast-q1; the board as of 2027-06-15.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import SMALL, TEMPLATES, differences
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking import store, versions
from xlplan.tracking.board import write_board
from xlplan.tracking.synthetic import generate, write_files
from xlplan.tracking.track import TrackResult, track
from xlplan.tracking.version_compare import Comparison, compare_versions
from xlplan.workbook.book import Book

pytestmark = pytest.mark.slow
runner = CliRunner()
AS_OF = dt.date(2027, 6, 15)
MONTH_COLS = "CDEFGHIJKLMN"


@dataclass
class Made:
    plan: Path
    db: Path
    result: TrackResult
    cmp: Comparison
    path: Path
    book: Book
    values: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    folder = tmp_path_factory.mktemp("board-versions")
    plan = folder / "plan.yaml"
    shutil.copyfile(SMALL, plan)
    shutil.copyfile(TEMPLATES / "small-prior-year.csv", folder / "small-prior-year.csv")
    loaded = load_plan(plan)
    prior = read_prior_year(loaded)
    files = write_files(generate(loaded.plan, prior), folder / "actuals",
                        loaded.plan.id)
    db = folder / "xlplan.duckdb"
    for args in (["actuals", str(plan), *[str(p) for p in files if p.stem[-7:] <= "2027-06"],
                  "--db", str(db)],
                 ["version", "approve", str(plan), "--db", str(db)],
                 ["reforecast", str(plan), "--as-of", "2027-03-31", "--db", str(db),
                  "--name", "q1"]):
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
    con = store.connect(db, read_only=True)
    try:
        frame = store.load_actuals(con, loaded.plan)
    finally:
        con.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = {n: versions.load(con, loaded.plan.id, n) for n in ("budget", "forecast-q1")}
    finally:
        con.close()
    result = track(loaded.plan, frame, AS_OF, prior)
    cmp = compare_versions(result, ["budget", "forecast-q1"], stored)
    path, book = write_board(result, folder / "out", cmp)
    return Made(plan, db, result, cmp, path, book, read_values(path))


def rows_of(sheet: dict[str, Any], unit_label: str) -> dict[str, int]:
    """Row label (column B) → row number, for the block of one unit (column A)."""
    (top,) = [int(c[1:]) for c, v in sheet.items() if c[0] == "A" and v == unit_label]
    out = {}
    r = top
    while f"B{r}" in sheet and (r == top or f"A{r}" not in sheet):
        out[sheet[f"B{r}"]] = r
        r += 1
    return out


def test_the_sheet_shows_budget_forecast_actual_and_variances(made: Made) -> None:
    sheet = made.values["Versions"]
    labels = list(rows_of(sheet, "East region"))
    assert labels == ["budget", "forecast-q1", "Actual", "forecast-q1 − budget",
                      "Actual − budget", "Actual − forecast-q1"]
    targets = made.result.targets
    for unit in made.result.units:
        label = "Company" if unit == targets.root else made.result.names[unit]
        rows = rows_of(sheet, label)
        budget = [sheet[f"{c}{rows['budget']}"] for c in MONTH_COLS]
        # the budget is the plan's month targets of each unit
        assert budget == pytest.approx([int(x) / 100 for x in targets.months[unit]], abs=0.005)
        actual = [sheet.get(f"{c}{rows['Actual']}") for c in MONTH_COLS]
        month_actuals = made.result.month_actuals(unit)
        # as of June 15, five months have ended: June is not shown (versions are whole months)
        assert made.cmp.ended == 5
        assert actual[:5] == pytest.approx([a / 100 for a in month_actuals[:5]], abs=0.005)
        assert actual[5:] == [None] * 7
        forecast = [sheet[f"{c}{rows['forecast-q1']}"] for c in MONTH_COLS]
        # the re-forecast as of March 31 took the actuals of January to March
        assert forecast[:3] == pytest.approx(actual[:3], abs=0.005)
        gap = [sheet.get(f"{c}{rows['Actual − forecast-q1']}") for c in MONTH_COLS]
        assert gap[:3] == pytest.approx([0, 0, 0], abs=0.005)
        assert gap[3:5] == pytest.approx([a - f for a, f in zip(actual[3:5], forecast[3:5],
                                                                strict=True)], abs=0.01)
        assert gap[5:] == [None] * 7
        assert sheet[f"O{rows['Actual − forecast-q1']}"] == pytest.approx(sum(gap[:5]),
                                                                          abs=0.01)
        assert sheet[f"O{rows['forecast-q1 − budget']}"] == pytest.approx(
            sum(forecast) - sum(budget), abs=0.01)
    company = rows_of(sheet, "Company")
    assert sheet[f"O{company['budget']}"] == pytest.approx(13_000_000.0)  # the target


def test_track_compare_on_the_command_line(made: Made, tmp_path: Path) -> None:
    done = runner.invoke(app, ["track", str(made.plan), "-o", str(tmp_path), "--db",
                               str(made.db), "--as-of", "2027-06-15", "--compare",
                               "budget,forecast-q1,actual"])
    assert done.exit_code == 0, done.output
    values = read_values(tmp_path / "small-2027-board-2027-06-15.xlsx")["Versions"]
    assert list(rows_of(values, "East region"))[:3] == ["budget", "forecast-q1", "Actual"]
    bad = runner.invoke(app, ["track", str(made.plan), "-o", str(tmp_path), "--db",
                              str(made.db), "--compare", "budget,forecast-q9"])
    assert bad.exit_code == 1
    assert (f"{made.db}: no version 'forecast-q9' of plan small-2027; there are: budget, "
            "forecast-q1, actual (the actuals)") in bad.stderr
    one = runner.invoke(app, ["track", str(made.plan), "-o", str(tmp_path), "--db",
                              str(made.db), "--compare", "budget"])
    assert one.exit_code == 2 and "two or three different version names" in one.output


def test_track_json_carries_the_comparison(made: Made, tmp_path: Path) -> None:
    """``--compare … --json`` gives what the Versions sheet shows: each version's months by
    unit in major units, and each variance with its total; months the actuals have not
    ended are null. Checked against the plan's month targets (the budget) and the sums."""
    done = runner.invoke(app, ["track", str(made.plan), "-o", str(tmp_path), "--db",
                               str(made.db), "--as-of", "2027-06-15", "--compare",
                               "budget,forecast-q1", "--json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)["comparison"]
    assert doc["versions"] == ["budget", "forecast-q1", "actual"] and doc["months_ended"] == 5
    targets = made.result.targets
    for unit in made.result.units:
        budget = list(doc["months"]["budget"][unit].values())
        assert budget == pytest.approx([int(x) / 100 for x in targets.months[unit]], abs=0.005)
    root = targets.root
    assert sum(doc["months"]["budget"][root].values()) == pytest.approx(13_000_000.0)
    (gap,) = [v for v in doc["variances"] if (v["later"], v["earlier"], v["unit"]) ==
              ("actual", "forecast-q1", root)]
    months = list(gap["months"].values())
    assert months[5:] == [None] * 7
    actual = list(doc["months"]["actual"][root].values())
    forecast = list(doc["months"]["forecast-q1"][root].values())
    assert months[:5] == pytest.approx([a - f for a, f in zip(actual[:5], forecast[:5],
                                                              strict=True)], abs=0.01)
    assert gap["total"] == pytest.approx(sum(months[:5]), abs=0.01)


@pytest.mark.libreoffice
def test_every_formula_with_compare_recalculates_to_the_engine(
        made: Made, office: LibreOffice, tmp_path: Path) -> None:
    values = read_values(office.recalculate([made.path], tmp_path)[made.path])
    expected = made.book.expected_values()
    on_sheet = [k for k in expected if k[0] == "Versions"]
    # each region: 3 years of its rows (budget, forecast, actual) + variances 12 + 1
    # (forecast − budget) and 5 + 1 twice (against the five months of actuals) = 28; the
    # company adds its rows up, 12 + 12 + 5 more: 2 × 28 + 28 + 29 = 113
    assert len(on_sheet) == 113
    wrong = differences(values, expected)
    assert not wrong, f"{len(wrong)} of {len(expected)} differ, first: {wrong[:8]}"

