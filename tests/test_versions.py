"""Versions of the plan's numbers in the database: the budget, per-unit re-forecasts as of
two dates from the synthetic year, the actuals; the plan file is never rewritten."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL, TEMPLATES
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking.synthetic import generate, write_files

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
