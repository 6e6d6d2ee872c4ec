"""A plan edited mid-season still points to last year's actuals: rows of a product, channel
or unit the plan no longer has are left out with a warning (rows and revenue), not a
refusal; allocation by prior year still refuses a unit those rows leave with no history."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import SMALL, TEMPLATES
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import PlanError, load_plan
from xlplan.spec.prior_year import read_prior_year

TEXT = SMALL.read_text(encoding="utf-8")
PRIOR = TEMPLATES / "small-prior-year.csv"
# P-B leaves the plan and P-A takes its share of the mix
DROP_P_B = ("  - {code: P-A, name: Core device, line: core, bcg: cash_cow, price: 2500, mix: 0.6}\n"
            "  - {code: P-B, name: New device, line: emerging, bcg: star, price: 1800, "
            "mix: 0.25}\n",
            "  - {code: P-A, name: Core device, line: core, bcg: cash_cow, price: 2500, "
            "mix: 0.85}\n")
PRIOR_YEAR_ALLOCATION = ("budget:\n", "allocation: {method: prior_year}\n\nbudget:\n")


def csv_rows() -> list[dict[str, str]]:
    with PRIOR.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def plan_with(tmp_path: Path, *edits: tuple[str, str], prior: str | None = None) -> Path:
    text = TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    target = tmp_path / "small-prior-year.csv"
    if prior is None:
        shutil.copyfile(PRIOR, target)
    else:
        target.write_text(prior, encoding="utf-8")
    return plan


def test_rows_of_a_dropped_product_are_left_out_and_reported(tmp_path: Path) -> None:
    rows = csv_rows()
    p_b = [i + 2 for i, r in enumerate(rows) if r["product"] == "P-B"]  # row 1: header
    revenue = sum(Decimal(r["revenue"]) for r in rows if r["product"] == "P-B")
    assert len(p_b) == 96 and revenue > 0  # 4 reps × 2 channels × 12 months
    plan = plan_with(tmp_path, DROP_P_B)
    prior = read_prior_year(load_plan(plan))
    assert prior is not None
    assert len(prior.frame) == len(rows) - 96
    assert set(prior.frame["product"]) == {"P-A", "S-1"}
    kept = sum(Decimal(r["revenue"]) for r in rows if r["product"] != "P-B")
    assert Decimal(int(prior.frame["revenue"].sum())) / 100 == kept
    shown = ", ".join(map(str, p_b[:8]))
    assert prior.left_out == (
        f"small-prior-year.csv: 96 prior-year row(s) of product 'P-B', which is not in the "
        f"plan, left out (rows {shown}, …; revenue {revenue:,} CNY)",)
    result = CliRunner().invoke(app, ["validate", str(plan)])
    assert result.exit_code == 0, result.output
    assert f"warning: {prior.left_out[0]}" in result.stderr
    assert "ok" in result.stdout


def test_a_dropped_unit_with_prior_year_allocation_is_left_out(tmp_path: Path) -> None:
    """WEST-2 leaves the plan: its rows are not needed (no unit of the plan is left without
    history), so even allocation by prior year goes on."""
    rows = csv_rows()
    revenue = sum(Decimal(r["revenue"]) for r in rows if r["unit"] == "WEST-2")
    plan = plan_with(tmp_path, PRIOR_YEAR_ALLOCATION, (
        "  - {code: WEST-2, name: Rep Ma, parent: WEST, kind: person, factors: "
        "{maturity: incubating}}\n", ""))
    prior = read_prior_year(load_plan(plan))
    assert prior is not None and "WEST-2" not in set(prior.frame["unit"])
    (line,) = prior.left_out
    assert line.startswith("small-prior-year.csv: 72 prior-year row(s) of unit 'WEST-2', "
                           "which is not in the plan, left out")
    assert line.endswith(f"; revenue {revenue:,} CNY)")


def test_allocation_still_refuses_a_unit_whose_only_history_was_dropped(
        tmp_path: Path) -> None:
    """WEST-2 sold only P-B last year; with P-B gone it has no history for prior-year
    allocation: the error naming the unit stays."""
    rows = csv_rows()
    kept = [r for r in rows if r["unit"] != "WEST-2" or r["product"] == "P-B"]
    lines = [",".join(rows[0].keys())] + [",".join(r.values()) for r in kept]
    plan = plan_with(tmp_path, PRIOR_YEAR_ALLOCATION, DROP_P_B,
                     prior="\n".join(lines) + "\n")
    with pytest.raises(PlanError) as info:
        read_prior_year(load_plan(plan))
    assert "unit 'WEST-2' has no prior-year revenue in small-prior-year.csv, so allocation " \
        "method prior_year gives it a 0 target" in str(info.value)
    result = CliRunner().invoke(app, ["validate", str(plan)])
    assert result.exit_code == 1 and "unit 'WEST-2' has no prior-year revenue" in result.stderr
    # without prior-year allocation the same files go through, with the warning
    plan = plan_with(tmp_path, DROP_P_B, prior="\n".join(lines) + "\n")
    assert read_prior_year(load_plan(plan)) is not None


def test_other_bad_rows_are_still_errors(tmp_path: Path) -> None:
    """A row of a dropped product with a bad amount is still a problem with its row."""
    text = PRIOR.read_text(encoding="utf-8").splitlines()
    (i,) = [n for n, line in enumerate(text) if line.startswith("EAST-1,P-B,ONLINE,1,")]
    text[i] = "EAST-1,P-B,ONLINE,1,12.345,1,1"
    plan = plan_with(tmp_path, DROP_P_B, prior="\n".join(text) + "\n")
    result = CliRunner().invoke(app, ["validate", str(plan)])
    assert result.exit_code == 1
    assert f"{i + 1}: column revenue: expected an amount in steps of 0.01, got '12.345'" in \
        result.stderr
