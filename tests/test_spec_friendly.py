"""The mistakes finance people make in a YAML plan, each with the exact message they get."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SMALL, TEMPLATES

from xlplan.spec.friendly import did_you_mean, number_hint
from xlplan.spec.loader import PlanError, load_plan, load_plan_text
from xlplan.spec.prior_year import read_prior_year

TEXT = SMALL.read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as info:
        load_plan_text(text, "plan.yaml")
    return str(info.value).splitlines()[1:]


def edited(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, old
    return TEXT.replace(old, new)


def line_no(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_thousands_separators_in_a_flow_mapping() -> None:
    # YAML reads {target: 13,000,000} as target 13 and two keys '000': not what was meant
    text = edited("target: 13000000}", "target: 13,000,000}")
    assert problems(text) == [f"  plan.yaml:{line_no(text, 'north_star')}: north_star.target: "
                              "write numbers without thousands separators: 13000000"]


def test_thousands_separators_in_a_block() -> None:
    text = edited("  total: 1500000", "  total: 1,500,000")
    assert problems(text) == [f"  plan.yaml:{line_no(text, 'total: 1,5')}: budget.total: "
                              "write numbers without thousands separators: 1500000"]


def test_a_percent_sign_where_a_share_is_expected() -> None:
    text = edited("company_reserve: 0.10", "company_reserve: 12.5%")
    assert problems(text) == [f"  plan.yaml:{line_no(text, '12.5%')}: budget.company_reserve: "
                              "write percentages as decimals: 0.125 for 12.5%"]


def test_wan_and_yi_where_an_amount_is_expected() -> None:
    text = edited("  total: 1500000", "  total: 150万")
    assert problems(text) == [f"  plan.yaml:{line_no(text, '150万')}: budget.total: "
                              "write the whole number: 1500000 for 150万"]
    text = edited("  total: 1500000", "  total: 1,500万")  # separators as in a report
    assert problems(text) == [f"  plan.yaml:{line_no(text, '1,500万')}: budget.total: "
                              "write the whole number: 15000000 for 1,500万"]
    text = TEXT.replace("baseline: 10000000, target: 13000000",
                        "baseline: 0.1亿, target: 1300万元")
    line = line_no(text, "north_star")
    assert problems(text) == [
        f"  plan.yaml:{line}: north_star.baseline: write the whole number: 10000000 for 0.1亿",
        f"  plan.yaml:{line}: north_star.target: write the whole number: 13000000 for 1300万元"]


def test_a_tab_says_which_line_and_how_far_to_indent() -> None:
    text = edited("    name: East region", "\tname: East region")
    n = line_no(text, "East region")
    assert problems(text) == [f"  plan.yaml:{n}: (plan): line {n} is indented with a tab, but "
                              f"YAML accepts only spaces: indent it 4 spaces (like the key on "
                              f"line {n - 1})"]


def test_a_tab_after_a_block_key_is_indented_one_step_in() -> None:
    text = edited("  total: 1500000", "\ttotal: 1500000")
    n = line_no(text, "total: 1500000")
    assert problems(text) == [f"  plan.yaml:{n}: (plan): line {n} is indented with a tab, but "
                              f"YAML accepts only spaces: indent it 2 spaces (two more than "
                              f"line {n - 1}, whose block it starts)"]


@pytest.mark.parametrize(("spaces", "expected"), [(5, 4), (3, 4)])
def test_a_key_off_its_block_is_named_in_plain_words(spaces: int, expected: int) -> None:
    text = edited("    name: East region", " " * spaces + "name: East region")
    n = line_no(text, "East region")
    assert problems(text) == [f"  plan.yaml:{n}: (plan): line {n} is indented {spaces} spaces, "
                              f"but the keys it lines up with are indented {expected} (line "
                              f"{n - 1}): indent it {expected} spaces; keys of one block must "
                              "start in the same column"]


def test_a_key_indented_one_space_too_far_in_a_mapping() -> None:
    text = edited("  company_reserve: 0.10", "   company_reserve: 0.10")
    n = line_no(text, "company_reserve")
    assert problems(text) == [f"  plan.yaml:{n}: (plan): line {n} is indented 3 spaces, but the "
                              f"keys it lines up with are indented 2 (line {n - 1}): indent it 2 "
                              "spaces; keys of one block must start in the same column"]


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("Rep Zhou, parent: EAST", "Rep Zhou, parent: EAS", "units[3].parent",
     "unknown parent unit 'EAS' (did you mean 'EAST'?)"),
    ("lever: L2,", "lever: L22,", "actions[1].lever", "unknown lever 'L22' (did you mean 'L2'?)"),
    ("aligned_to: [KR1.1]", "aligned_to: [KR11]", "okrs[1].aligned_to[0]",
     "aligned to unknown key result 'KR11' (did you mean 'KR1.1'?)"),
    ("    unit: EAST\n", "    unit: EASTT\n", "okrs[1].unit",
     "unknown unit 'EASTT' (did you mean 'EAST'?)"),
    ("{code: OFFLINE, name: Offline, share: 0.3}",
     "{code: OFFLINE, name: Offline, share: 0.3, parent: ONLNE}", "channels[1].parent",
     "unknown parent channel 'ONLNE' (did you mean 'ONLINE'?)"),
])
def test_did_you_mean_for_unknown_codes(old: str, new: str, where: str, message: str) -> None:
    text = edited(old, new)
    got = [p for p in problems(text) if where in p]
    assert got == [f"  plan.yaml:{line_no(text, new.strip().splitlines()[0])}: {where}: {message}"]


def test_did_you_mean_only_when_something_is_close() -> None:
    assert did_you_mean("EAS", ["EAST", "WEST"]) == " (did you mean 'EAST'?)"
    assert did_you_mean("east", ["EAST"]) == " (did you mean 'EAST'?)"
    assert did_you_mean("NORTH", ["EAST", "WEST"]) == ""


def test_key_result_weights_that_do_not_sum_to_one() -> None:
    text = edited("weight: 0.4,", "weight: 0.3,")
    assert problems(text) == [
        f"  plan.yaml:{line_no(text, 'KR1.1,')}: okrs[0].krs[0].weight: weights of the key "
        "results of objective 'O1' sum to 0.9, expected 1 (or leave out every weight for "
        "equal weights)"]


def test_key_results_without_weights_mean_equal_weights() -> None:
    text = TEXT.replace(", weight: 0.6", "").replace(", weight: 0.4", "")
    assert load_plan_text(text).plan.okrs[0].krs[1].weight == 1.0


def test_one_weight_given_counts_the_others_as_one() -> None:
    text = edited(", weight: 0.4", "")  # KR1.2 counts 1: 0.6 + 1 = 1.6
    assert problems(text) == [
        f"  plan.yaml:{line_no(text, 'KR1.1,')}: okrs[0].krs[0].weight: weights of the key "
        "results of objective 'O1' sum to 1.6, expected 1 (or leave out every weight for "
        "equal weights)"]


def test_prior_year_allocation_with_a_unit_without_history(tmp_path: Path) -> None:
    """Allocation by prior year gives a unit with no prior-year rows a 0 target: refused."""
    rows = (TEMPLATES / "small-prior-year.csv").read_text(encoding="utf-8").splitlines()
    kept = [r for r in rows if not r.startswith("WEST-2,")]
    assert len(kept) < len(rows)
    (tmp_path / "small-prior-year.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    text = TEXT.replace("budget:\n", "allocation: {method: prior_year}\n\nbudget:\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as info:
        read_prior_year(load_plan(plan))
    assert str(info.value).splitlines()[1:] == [
        f"  {plan}:{line_no(text, 'WEST-2')}: units[6].code: unit 'WEST-2' has no prior-year "
        "revenue in small-prior-year.csv, so allocation method prior_year gives it a 0 target: "
        "add its rows to that file, give it a hold (a fixed target), or choose another "
        "allocation.method"]
    # a hold is the documented way out
    held = text.replace("factors: {maturity: incubating}}", "factors: {maturity: incubating}, "
                        "hold: 100000}")
    plan.write_text(held, encoding="utf-8")
    assert read_prior_year(load_plan(plan)) is not None


def test_prior_year_allocation_with_full_history_passes(tmp_path: Path) -> None:
    shutil.copy(TEMPLATES / "small-prior-year.csv", tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(TEXT.replace("budget:\n", "allocation: {method: prior_year}\n\nbudget:\n"),
                    encoding="utf-8")
    assert read_prior_year(load_plan(plan)) is not None


@pytest.mark.parametrize(("given", "hint"), [
    ("14,000,000", "write numbers without thousands separators: 14000000"),
    ("-1,234.5", "write numbers without thousands separators: -1234.5"),
    ("30%", "write percentages as decimals: 0.3 for 30%"),
    ("1400万", "write the whole number: 14000000 for 1400万"),
    ("1,400万", "write the whole number: 14000000 for 1,400万"),
    ("1,4万", None),
    ("1.5亿", "write the whole number: 150000000 for 1.5亿"),
    ("14000000", None), ("1,2", None), ("Rep Zhou", None), (12, None),
])
def test_number_hints(given: object, hint: str | None) -> None:
    assert number_hint(given) == hint
