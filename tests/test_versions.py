"""Versions of the plan's numbers in the database: the budget, per-unit re-forecasts as of
two dates from the synthetic year, the actuals; the plan file is never rewritten."""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import EXAMPLE, SMALL, TEMPLATES
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate.run import consolidate
from xlplan.engine.numbers import PlanNumbers
from xlplan.libreoffice import read_values
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking.synthetic import generate, write_files
from xlplan.tracking.synthetic import main as synthetic_main
from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample

runner = CliRunner()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The small plan, six months of synthetic actuals imported, budget approved, and
    forecasts as of 2027-03-31 (q1) and 2027-06-30 (h1)."""
    folder = tmp_path_factory.mktemp("versions")
    plan = folder / "plan.yaml"
    shutil.copyfile(SMALL, plan)
    shutil.copyfile(TEMPLATES / "small-prior-year.csv", folder / "small-prior-year.csv")
    before = sha(plan)
    loaded = load_plan(plan)
    files = write_files(generate(loaded.plan, read_prior_year(loaded)), folder / "actuals",
                        loaded.plan.id)
    first_half = [p for p in files if p.stem[-7:] <= "2027-06"]
    db = folder / "xlplan.duckdb"
    for args in (["actuals", str(plan), *map(str, first_half), "--db", str(db)],
                 ["version", "approve", str(plan), "--db", str(db)],
                 ["reforecast", str(plan), "--as-of", "2027-03-31", "--db", str(db),
                  "--name", "q1"],
                 ["reforecast", str(plan), "--as-of", "2027-06-30", "--db", str(db),
                  "--name", "h1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return plan, db, before


def test_versions_lists_budget_both_forecasts_and_actual(
        season: tuple[Path, Path, str]) -> None:
    plan, db, before = season
    result = runner.invoke(app, ["versions", str(plan), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert {d["name"]: d["kind"] for d in docs} == {
        "budget": "budget", "forecast-q1": "forecast", "forecast-h1": "forecast",
        "actual": "actual"}
    assert set(docs[0]) == {"name", "kind", "revision", "as_of", "created", "total"}
    by_name = {d["name"]: d for d in docs}
    assert by_name["forecast-q1"]["as_of"] == "2027-03-31"
    assert by_name["budget"]["revision"] == load_plan(plan).spec_hash
    assert by_name["budget"]["total"] == 13_000_000.0  # the north-star target
    assert sha(plan) == before  # the plan file is never rewritten


def test_forecast_months_that_ended_are_each_units_actuals(
        season: tuple[Path, Path, str]) -> None:
    _, db, _ = season
    con = duckdb.connect(str(db), read_only=True)
    try:
        # the actuals, straight from the imported rows: each rep's revenue counts for its
        # region (EAST-1 → EAST), by fiscal month
        actual = dict(((u, m), round(v, 2)) for u, m, v in con.execute(
            "SELECT split_part(unit, '-', 1), month, sum(value) FROM actuals WHERE "
            "measure='revenue' GROUP BY ALL").fetchall())
        for name, closed in (("forecast-q1", 3), ("forecast-h1", 6)):
            got = dict(((u, m), round(v, 2)) for u, m, v in con.execute(
                "SELECT unit, month, sum(value) FROM version_values WHERE name=? "
                "GROUP BY ALL", [name]).fetchall())
            months = sorted({m for _, m in got})
            assert len(months) == 12
            for unit in ("EAST", "WEST"):
                for m in months[:closed]:
                    assert got[(unit, m)] == actual[(unit, m)] > 0
    finally:
        con.close()


def test_each_version_total_is_the_sum_of_its_cells_to_the_cent(
        season: tuple[Path, Path, str]) -> None:
    _, db, _ = season
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT v.name, v.total_minor, sum(x.value_minor), count(*) FROM "
                           "plan_versions v JOIN plan_version_values x USING (plan_id, name) "
                           "GROUP BY ALL").fetchall()
        budget_cells = con.execute("SELECT unit, sum(value_minor) FROM version_values WHERE "
                                   "name='budget' GROUP BY unit ORDER BY unit").fetchall()
    finally:
        con.close()
    assert len(rows) == 4
    for _, total, cells, count in rows:
        assert total == cells and count == 2 * 3 * 2 * 12  # units × products × channels × months
    assert sum(v for _, v in budget_cells) == 1_300_000_000  # minor units of 13,000,000.00


def test_bad_version_requests_are_refused_with_the_reason(
        season: tuple[Path, Path, str]) -> None:
    plan, db, _ = season
    again = runner.invoke(app, ["reforecast", str(plan), "--as-of", "2027-03-31", "--db",
                                str(db), "--name", "q1"])
    assert again.exit_code == 1
    assert "version 'forecast-q1' of plan small-2027 exists already: pass --replace" in \
        again.output
    assert runner.invoke(app, ["reforecast", str(plan), "--as-of", "2027-03-31", "--db",
                               str(db), "--name", "q1", "--replace"]).exit_code == 0
    early = runner.invoke(app, ["reforecast", str(plan), "--as-of", "2027-01-20", "--db",
                                str(db), "--name", "jan"])
    assert early.exit_code == 1
    assert "revenue actuals from 2027-01-01 to 2027-06-30" in early.output
    late = runner.invoke(app, ["reforecast", str(plan), "--as-of", "2027-09-30", "--db",
                               str(db), "--name", "q3"])
    assert late.exit_code == 1 and "2027-06-30" in late.output


@pytest.mark.slow
def test_consolidated_report_shows_the_gap_against_the_latest_forecast(
        season: tuple[Path, Path, str], built: list[Built], tmp_path: Path) -> None:
    """East sends its workbook; the report of the plan's history database (which holds the
    budget and two forecasts) puts the latest forecast (h1, as of June 30) and the
    commitment's gap against it beside the gap against the budget."""
    plan, db, _ = season
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (east,) = [b for b in built if b.unit == "EAST"]
    filled = fill_sample(east.path, inbox / "east.xlsx", seed=7)
    outcome = consolidate(plan, inbox, tmp_path / "out", db=db, workers=1)
    assert outcome.units["EAST"] == "accepted"
    con = duckdb.connect(str(db), read_only=True)
    try:
        h1 = {(u, p, c, m): v for u, p, c, m, v in con.execute(
            "SELECT unit, product, channel, month, value FROM version_values WHERE "
            "name='forecast-h1'").fetchall()}
    finally:
        con.close()
    assert outcome.views is not None and outcome.views.forecast == "forecast-h1"
    gap = outcome.views.gap
    assert list(gap.columns[-2:]) == ["forecast", "forecast_gap"]
    assert len(gap) == len(h1) == 2 * 3 * 2 * 12
    months = {f"M{m:02d}": f"2027-{m:02d}" for m in range(1, 13)}  # fiscal year = calendar
    for row in gap.itertuples():
        assert row.forecast == pytest.approx(h1[(row.unit, row.product, row.channel,
                                                  months[row.month])], abs=1e-6)
        if row.unit == "EAST":
            assert row.forecast_gap == pytest.approx(row.commitment - row.forecast, abs=1e-6)
            assert row.gap == pytest.approx(row.commitment - row.target, abs=1e-6)
        else:  # West sent nothing: no commitment, no gap of either kind
            assert math.isnan(row.commitment) and math.isnan(row.forecast_gap)
    east_total = sum(v for k, v in h1.items() if k[0] == "EAST")
    committed = filled.totals["commitment"]  # what the sample fill typed in
    org = outcome.views.org.set_index("code")
    assert org.loc["EAST", "forecast"] == pytest.approx(east_total, abs=1e-6)
    assert org.loc["EAST", "forecast_gap"] == pytest.approx(committed - east_total, abs=0.01)
    assert org.loc["CO", "forecast"] == pytest.approx(sum(h1.values()), abs=1e-6)
    sheets = read_values(outcome.output)
    (note,) = [v for c, v in sheets["Gap"].items() if c == "A2"]
    assert "Forecast: version forecast-h1 (re-forecast as of 2027-06-30" in note
    headers = [v for c, v in sheets["Org roll-up"].items() if re.fullmatch(r"[A-Z]+4", c)]
    assert headers[-2:] == ["Forecast (CNY)", "Gap to forecast (CNY)"]


@pytest.mark.slow
def test_two_reforecasts_of_the_example_plans_synthetic_year(tmp_path: Path) -> None:
    """The issue's check, as a person runs it: the example plan's synthetic year (seed 7),
    imported; the budget approved; re-forecasts as of 2027-03-31 and 2027-06-30."""
    plan = tmp_path / "plan.yaml"
    shutil.copyfile(EXAMPLE, plan)
    shutil.copyfile(TEMPLATES / "example-prior-year.csv", tmp_path / "example-prior-year.csv")
    before = sha(plan)
    assert synthetic_main([str(plan), "-o", str(tmp_path / "year"), "--seed", "7"]) == 0
    files = sorted((tmp_path / "year").glob("*.csv"))
    assert len(files) == 12
    db = tmp_path / "xlplan.duckdb"
    for args in (["actuals", str(plan), *map(str, files), "--db", str(db)],
                 ["version", "approve", str(plan), "--db", str(db)],
                 ["reforecast", str(plan), "--as-of", "2027-03-31", "--db", str(db),
                  "--name", "q1"],
                 ["reforecast", str(plan), "--as-of", "2027-06-30", "--db", str(db),
                  "--name", "h1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["versions", str(plan), "--db", str(db), "--json"])
    assert listed.exit_code == 0, listed.output
    docs = {d["name"]: d for d in json.loads(listed.output)}
    kinds = {name: d["kind"] for name, d in docs.items()}
    assert {k: kinds[k] for k in ("budget", "forecast-q1", "forecast-h1")} == {
        "budget": "budget", "forecast-q1": "forecast", "forecast-h1": "forecast"}
    loaded = load_plan(plan)
    parent = {u.code: u.parent for u in loaded.plan.units}
    inputs = set(PlanNumbers(loaded.plan, read_prior_year(loaded)).input_units)

    def input_unit(code: str) -> str:
        """The workbook-level unit a row counts for (its own, or the one above it)."""
        while code not in inputs:
            up = parent[code]
            assert up is not None, code
            code = up
        return code

    con = duckdb.connect(str(db), read_only=True)
    try:
        actual: dict[tuple[str, str], int] = {}
        for unit, month, value in con.execute(
                "SELECT unit, month, sum(value) FROM actuals WHERE measure='revenue' "
                "GROUP BY ALL").fetchall():
            key = (input_unit(unit), month)
            actual[key] = actual.get(key, 0) + round(value * 100)
        for name, ended in (("forecast-q1", 3), ("forecast-h1", 6)):
            cells = dict(((u, m), v) for u, m, v in con.execute(
                "SELECT unit, month, sum(value_minor) FROM plan_version_values WHERE name=? "
                "GROUP BY ALL", [name]).fetchall())
            assert {u for u, _ in cells} == inputs
            months = sorted({m for _, m in cells})
            assert months == [f"2027-{m:02d}" for m in range(1, 13)]
            for unit in inputs:
                for m in months[:ended]:  # the months that ended are the unit's actuals
                    assert cells[(unit, m)] == actual[(unit, m)], (name, unit, m)
            (total, summed) = con.execute(
                "SELECT v.total_minor, sum(x.value_minor) FROM plan_versions v JOIN "
                "plan_version_values x USING (plan_id, name) WHERE name=? GROUP BY ALL",
                [name]).fetchone() or (None, None)
            assert total == summed == sum(cells.values())  # to the cent (minor units)
            assert round(docs[name]["total"] * 100) == total  # as xlplan versions lists it
    finally:
        con.close()
    assert sha(plan) == before
