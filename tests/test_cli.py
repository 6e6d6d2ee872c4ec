"""The xlplan command line: commands, formats and exit codes (0 ok, 1 bad input, 2 usage)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import SMALL
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import PlanError, load_plan_text

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_a_plan_that_validates(tmp_path: Path) -> None:
    code, out, _ = run("init", str(tmp_path / "p"))
    assert code == 0 and "plan.yaml" in out
    code, out, _ = run("validate", str(tmp_path / "p" / "plan.yaml"))
    assert code == 0 and "ok" in out and "uncovered gap 800,000.00" in out
    assert "L3 (efficiency, 500,000.00) counts toward a profit increment" in out


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run("init", str(tmp_path))[0] == 0
    code, _, err = run("init", str(tmp_path))
    assert code == 1 and "--force" in err
    assert run("init", str(tmp_path), "--force")[0] == 0


def test_validate_reports_every_problem_with_line_and_path(tmp_path: Path) -> None:
    bad = SMALL.read_text().replace("parent: CO\n    kind: region\n    manager: Liu Yang",
                                    "parent: XX\n    kind: region\n    manager: Liu Yang")
    bad = bad.replace("amount: 500000", "amount: -500000")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    code, out, err = run("validate", str(path))
    assert code == 1 and out == ""
    assert "units[2].parent: unknown parent unit 'XX'" in err
    assert "levers[2].amount" in err
    assert f"{path}:" in err


def test_targets_csv_totals_to_the_north_star() -> None:
    code, out, _ = run("targets", str(SMALL), "--by", "org,quarter", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["org"] for r in rows} == {"EAST", "WEST"}
    assert sum(float(r["amount"]) for r in rows) == pytest.approx(13_000_000.00, abs=0.001)


def test_targets_json_by_month_at_company_level() -> None:
    code, out, _ = run("targets", str(SMALL), "--by", "month", "--format", "json",
                       "--level", "0")
    assert code == 0
    doc = json.loads(out)
    assert doc["level"] == 0 and len(doc["rows"]) == 12
    # Q1 = 28% of 13,000,000 = 3,640,000, split 80/70/100 over Jan/Feb/Mar
    q1 = [r["amount"] for r in doc["rows"][:3]]
    assert sum(q1) == pytest.approx(3_640_000.00, abs=0.001)
    assert q1[0] == pytest.approx(3_640_000 * 80 / 250, abs=0.5)


def test_usage_errors_exit_2() -> None:
    assert run("targets", str(SMALL), "--by", "colour")[0] == 2
    assert run("targets", str(SMALL), "--level", "9")[0] == 2
    assert run("nonsense")[0] == 2
    assert run("targets")[0] == 2


def test_missing_plan_exits_1() -> None:
    code, _, err = run("validate", "no-such-plan.yaml")
    assert code == 1 and "file not found" in err


def test_schema_is_json_with_the_plan_keys() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0 and {"units", "products", "channels", "north_star"} <= set(
        schema["properties"])


def test_a_key_given_twice_is_an_error_with_both_lines() -> None:
    text = "id: a\nname: A\nfiscal_year: 2027\nfiscal_year: 2026\n"
    with pytest.raises(PlanError) as err:
        load_plan_text(text, "dup.yaml")
    assert "dup.yaml:4: fiscal_year: key 'fiscal_year' is given twice (first on line 3)" in str(
        err.value)


def test_build_json_and_fill_sample(tmp_path: Path) -> None:
    code, out, _ = run("build", str(SMALL), "-o", str(tmp_path), "--json")
    assert code == 0
    doc = json.loads(out)
    assert Path(doc["master"]).is_file() and set(doc["units"]) == {"EAST", "WEST"}
    code, out, _ = run("fill-sample", doc["units"]["EAST"], "-o", str(tmp_path / "f.xlsx"),
                       "--seed", "5", "--json")
    assert code == 0
    filled = json.loads(out)
    # the People split always ties to EAST's target (8,626,097.13)
    assert filled["unit"] == "EAST" and filled["totals"]["split"] == 8_626_097.13
    assert run("build", str(SMALL), "-o", str(tmp_path), "--units", "NOPE")[0] == 2


def test_build_that_cannot_write_names_the_path(tmp_path: Path) -> None:
    """A failure in a build process comes back as the command's error: exit 1, the path."""
    (tmp_path / "units").write_text("a file where the units folder goes")
    code, _, err = run("build", str(SMALL), "-o", str(tmp_path), "--workers", "2")
    assert code == 1
    assert f"cannot write to {tmp_path / 'units'}" in err and "Traceback" not in err


def test_fill_sample_rejects_a_file_that_is_not_ours(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    code, _, err = run("fill-sample", str(junk), "-o", str(tmp_path / "x.xlsx"))
    assert code == 1 and "junk.xlsx" in err
