"""The plan spec: every kind of mistake is reported with its line, its path and
what was expected; the shipped example plans load; presets and the JSON Schema.

Bad plans are made from small-plan.yaml by text edits, so the expected line of
each problem is found in the edited text (never hard-coded).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import math
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from xlplan.spec import Problem, json_schema
from xlplan.spec.loader import LoadedPlan, PlanError, load_plan, load_plan_text

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
SMALL = TEMPLATES / "small-plan.yaml"
EXAMPLE = TEMPLATES / "example-plan.yaml"
SMALL_TEXT = SMALL.read_text(encoding="utf-8")
FILE = "plan.yaml"


# ---------------------------------------------------------------- helpers

def edit(old: str, new: str, text: str = SMALL_TEXT) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the plan"
    return text.replace(old, new)


def line_of(text: str, snippet: str) -> int:
    """1-based number of the only line of ``text`` containing ``snippet``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(found) == 1, f"{snippet!r} is on lines {found}"
    return found[0]


def load_error(text: str) -> PlanError:
    with pytest.raises(PlanError) as info:
        load_plan_text(text, FILE)
    return info.value


def expect(text: str, path: str, line: int, *fragments: str) -> Problem:
    """Loading ``text`` fails with a problem at ``path`` on ``line`` whose message
    contains every fragment; the rendered error names the line and the path."""
    err = load_error(text)
    at_path = [p for p in err.problems if p.where() == path]
    assert at_path, f"no problem at {path}; got:\n{err}"
    problem = at_path[0]
    assert problem.line == line, f"{path}: line {problem.line}, expected {line}\n{err}"
    for fragment in fragments:
        assert fragment in problem.message, f"{fragment!r} not in {problem.message!r}"
    assert f"{FILE}:{line}: {path}: {problem.message}" in str(err)
    return problem


def paths(text: str) -> list[str]:
    return [p.where() for p in load_error(text).problems]


def test_the_base_of_every_bad_plan_is_valid() -> None:
    loaded = load_plan_text(SMALL_TEXT, FILE)
    assert loaded.plan.id == "small-2027"


# ---------------------------------------------------------------- references

def test_unknown_parent_unit() -> None:
    text = edit("name: Rep Wu, parent: EAST,", "name: Rep Wu, parent: EASTT,")
    expect(text, "units[4].parent", line_of(text, "Rep Wu"), "unknown parent unit", "'EASTT'")


def test_unit_that_is_its_own_parent() -> None:
    text = edit("name: Rep Wu, parent: EAST,", "name: Rep Wu, parent: EAST-2,")
    expect(text, "units[4].parent", line_of(text, "Rep Wu"), "'EAST-2' is its own parent")


def test_kr_aligned_to_a_missing_kr_id() -> None:
    text = edit("aligned_to: [KR1.1]", "aligned_to: [KR9.9]")
    expect(text, "okrs[1].aligned_to[0]", line_of(text, "aligned_to"),
           "unknown key result", "'KR9.9'")


def test_okr_unit_unknown() -> None:
    text = edit("    unit: EAST\n", "    unit: NORTH\n")
    expect(text, "okrs[1].unit", line_of(text, "unit: NORTH"), "unknown unit 'NORTH'")


def test_action_referencing_an_unknown_lever() -> None:
    text = edit("{id: A2, lever: L2,", "{id: A2, lever: L9,")
    expect(text, "actions[1].lever", line_of(text, "{id: A2,"), "unknown lever 'L9'")


# ---------------------------------------------------------------- duplicates

@pytest.mark.parametrize(
    ("old", "new", "path", "fragments"),
    [
        ("{code: WEST-2, name: Rep Ma", "{code: WEST-1, name: Rep Ma", "units[6].code",
         ("duplicate unit code 'WEST-1'", "first used at units[5].code")),
        ("{code: S-1, name: Service plan", "{code: P-A, name: Service plan", "products[2].code",
         ("duplicate product code 'P-A'", "first used at products[0].code")),
        ("{code: OFFLINE, name: Offline", "{code: ONLINE, name: Offline", "channels[1].code",
         ("duplicate channel code 'ONLINE'", "first used at channels[0].code")),
        ("{id: KR2.1, text: East", "{id: KR1.2, text: East", "okrs[1].krs[0].id",
         ("duplicate key result id 'KR1.2'", "first used at okrs[0].krs[1].id")),
        ("{id: L3, kind: efficiency", "{id: L1, kind: efficiency", "levers[2].id",
         ("duplicate lever id 'L1'", "first used at levers[0].id")),
    ],
    ids=["unit", "product", "channel", "key-result", "lever"],
)
def test_duplicate_codes(old: str, new: str, path: str, fragments: tuple[str, ...]) -> None:
    text = edit(old, new)
    expect(text, path, line_of(text, new), *fragments)


# ---------------------------------------------------------------- cycles

def test_unit_parent_cycle() -> None:
    old = "  - code: EAST\n    name: East region\n    parent: CO\n"
    text = edit(old, old.replace("parent: CO", "parent: EAST-1"))
    expect(text, "units[1].code", line_of(text, "- code: EAST"),
           "unit parents form a cycle", "EAST → EAST-1 → EAST")


def test_top_unit_in_a_cycle_leaves_no_top_unit() -> None:
    text = edit("{code: CO, name: Small Co., kind: company, manager: CEO}",
                "{code: CO, name: Small Co., kind: company, manager: CEO, parent: EAST}")
    expect(text, "units", line_of(text, "units:"), "expected exactly one top unit", "found none")
    expect(text, "units[0].code", line_of(text, "{code: CO,"), "cycle", "CO → EAST → CO")


def test_channel_parent_cycle() -> None:
    old = "  - {code: OFFLINE, name: Offline, share: 0.3}\n"
    text = edit(old, old + "  - {code: WEB, name: Web, parent: APP, share: 1.0}\n"
                           "  - {code: APP, name: App, parent: WEB, share: 1.0}\n")
    expect(text, "channels[2].code", line_of(text, "{code: WEB,"),
           "channel parents form a cycle", "WEB → APP → WEB")


def test_okr_alignment_cycle() -> None:
    # O2 supports KR1.1 of O1; making O1 support KR2.1 of O2 closes the loop.
    text = edit("    owner: CEO\n    krs:", "    owner: CEO\n    aligned_to: [KR2.1]\n    krs:")
    expect(text, "okrs[0].aligned_to", line_of(text, "aligned_to: [KR2.1]"),
           "objectives align in a cycle", "O1 → O2 → O1")


def test_objective_aligned_to_its_own_kr_is_a_cycle() -> None:
    text = edit("    owner: CEO\n    krs:", "    owner: CEO\n    aligned_to: [KR1.2]\n    krs:")
    expect(text, "okrs[0].aligned_to", line_of(text, "aligned_to: [KR1.2]"), "O1 → O1")


# ---------------------------------------------------------------- sums

def test_top_channel_shares_not_summing_to_one() -> None:
    text = edit("name: Offline, share: 0.3}", "name: Offline, share: 0.2}")
    expect(text, "channels[0].share", line_of(text, "{code: ONLINE,"),
           "shares of top-level channels sum to 0.9", "expected 1")


def test_child_channel_shares_not_summing_to_one() -> None:
    old = "  - {code: OFFLINE, name: Offline, share: 0.3}\n"
    text = edit(old, old + "  - {code: LIVE, name: Live, parent: ONLINE, share: 0.5}\n"
                           "  - {code: MKT, name: Market, parent: ONLINE, share: 0.4}\n")
    expect(text, "channels[2].share", line_of(text, "{code: LIVE,"),
           "channels under 'ONLINE' sum to 0.9", "expected 1")


def test_shares_written_to_ten_decimals_are_accepted() -> None:
    old = "  - {code: OFFLINE, name: Offline, share: 0.3}\n"
    text = edit(old, old + "  - {code: LIVE, name: Live, parent: ONLINE, share: 0.5714285714}\n"
                           "  - {code: MKT, name: Market, parent: ONLINE, share: 0.4285714286}\n")
    assert [c.code for c in load_plan_text(text).plan.channels][-2:] == ["LIVE", "MKT"]


def test_quoted_numbers_do_not_escape_the_sum_check() -> None:
    # pydantic reads "0.2" as 0.2, so the sum check must too.
    text = edit("{code: OFFLINE, name: Offline, share: 0.3}",
                '{code: OFFLINE, name: Offline, share: "0.2"}')
    expect(text, "channels[0].share", line_of(text, "{code: ONLINE,"), "sum to 0.9")


def test_product_mixes_not_summing_to_one() -> None:
    text = edit("price: 16650, mix: 0.15}", "price: 16650, mix: 0.05}")
    expect(text, "products", line_of(text, "products:"), "product mixes sum to 0.9", "expected 1")


def test_quarter_weights_not_summing_to_one() -> None:
    text = edit("quarter_weights: [0.28, 0.32, 0.27, 0.13]", "quarter_weights: [28, 32, 27, 13]")
    expect(text, "calendar.quarter_weights", line_of(text, "quarter_weights"),
           "quarter weights sum to 100", "expected 1", "calendar.normalise: true")


def test_quarter_weights_accepted_when_normalise_is_set() -> None:
    text = edit("quarter_weights: [0.28, 0.32, 0.27, 0.13]",
                "quarter_weights: [28, 32, 27, 13]\n  normalise: true")
    cal = load_plan_text(text).plan.calendar
    assert cal.normalise is True
    assert cal.quarter_weights == [28, 32, 27, 13]


def test_pools_not_summing_to_one() -> None:
    text = edit("pools: {base: 0.6, incentive: 0.3, reserve: 0.1}",
                "pools: {base: 0.6, incentive: 0.3, reserve: 0.2}")
    expect(text, "budget.pools", line_of(text, "pools:"), "budget pools sum to 1.1", "expected 1")


def test_partial_pools_are_summed_with_the_defaults() -> None:
    # base 0.7 + default incentive 0.3 + default reserve 0.1 = 1.1
    text = edit("pools: {base: 0.6, incentive: 0.3, reserve: 0.1}", "pools: {base: 0.7}")
    expect(text, "budget.pools", line_of(text, "pools:"), "sum to 1.1")


# ---------------------------------------------------------------- values and dates

def test_negative_lever_amount() -> None:
    text = edit("amount: 500000", "amount: -5")
    expect(text, "levers[2].amount", line_of(text, "amount: -5"),
           "greater than or equal to 0", "-5")


def test_kr_due_date_outside_the_fiscal_year() -> None:
    text = edit("due: 2027-09-30", "due: 2028-03-31")
    expect(text, "okrs[0].krs[1].due", line_of(text, "due: 2028-03-31"),
           "due date 2028-03-31 is outside the fiscal year", "2027-01-01 to 2027-12-31")


def test_fiscal_year_starting_in_april_runs_into_the_next_year() -> None:
    text = edit("first_month: 1", "first_month: 4")
    text = edit("start: 2027-01-15, end: 2027-03-31", "start: 2027-04-15, end: 2027-05-31", text)
    text = edit("start: 2027-02-01, end: 2027-06-30", "start: 2027-05-01, end: 2027-06-30", text)
    text = edit("due: 2027-09-30", "due: 2028-03-31", text)  # last day: fine
    text = edit("due: 2027-12-31, weight: 0.6", "due: 2027-03-31, weight: 0.6", text)
    expect(text, "okrs[0].krs[0].due", line_of(text, "due: 2027-03-31"),
           "outside the fiscal year 2027-04-01 to 2028-03-31")
    assert "okrs[0].krs[1].due" not in paths(text)


def test_action_dates_outside_the_fiscal_year_and_reversed() -> None:
    text = edit("start: 2027-02-01, end: 2027-06-30", "start: 2027-07-01, end: 2028-01-31")
    expect(text, "actions[1].end", line_of(text, "end: 2028-01-31"),
           "end date 2028-01-31 is outside the fiscal year")
    text = edit("start: 2027-02-01, end: 2027-06-30", "start: 2027-07-01, end: 2027-06-30")
    expect(text, "actions[1].end", line_of(text, "start: 2027-07-01"),
           "ends (2027-06-30) before it starts (2027-07-01)")


def test_kr_whose_target_equals_its_start() -> None:
    text = edit("start: 6, target: 8", "start: 6, target: 6")
    expect(text, "okrs[0].krs[1].target", line_of(text, "start: 6, target: 6"),
           "target equals start")


# ---------------------------------------------------------------- structure

def test_unknown_key_typo() -> None:
    text = edit("    manager: Liu Yang", "    managr: Liu Yang")
    expect(text, "units[2].managr", line_of(text, "managr"), "unknown key", "spelling")


def test_typo_in_a_required_key_reports_both_sides() -> None:
    text = edit("baseline: 10000000, target: 13000000}", "baseline: 10000000, targte: 13000000}")
    line = line_of(text, "north_star:")
    expect(text, "north_star.targte", line, "unknown key")
    expect(text, "north_star.target", line, "required key is missing")


@pytest.mark.parametrize(
    ("old", "new", "path", "fragments"),
    [
        ("fiscal_year: 2027", "fiscal_year: twenty", "fiscal_year",
         ("valid integer", "'twenty'")),
        ("{code: OFFLINE, name: Offline, share: 0.3}",
         "{code: OFFLINE, name: Offline, share: lots}", "channels[1].share",
         ("valid number", "'lots'")),
        ("quarter_weights: [0.28, 0.32, 0.27, 0.13]", "quarter_weights: 5",
         "calendar.quarter_weights", ("valid list", "got 5")),
        ("name: Rep Zhou, parent: EAST,", "name: Rep Zhou, parent: [EAST],",
         "units[3].parent", ("valid string",)),
        ("aligned_to: [KR1.1]", "aligned_to: KR1.1", "okrs[1].aligned_to",
         ("valid list", "'KR1.1'")),
        ("{id: A2, lever: L2,", "{id: A2, lever: [L2],", "actions[1].lever", ("valid string",)),
        ("due: 2027-09-30", "due: Q3", "okrs[0].krs[1].due", ("valid date", "'Q3'")),
        ("level: red", "level: crimson", "risks[0].level", ("'red', 'orange' or 'yellow'",)),
    ],
    ids=["int", "number", "list", "code-as-list", "aligned-as-string", "lever-as-list", "date",
         "enum"],
)
def test_wrong_type(old: str, new: str, path: str, fragments: tuple[str, ...]) -> None:
    text = edit(old, new)
    expect(text, path, line_of(text, new), *fragments)
    # One mistake, one problem: no crash, no echo from the cross-field checks.
    assert paths(text) == [path]


def test_invalid_yaml_reports_the_line() -> None:
    old = "    kind: region\n    manager: Chen Jie\n"
    text = edit(old, "    kind: region\n   manager: Chen Jie\n")  # indented one space short
    expect(text, "(plan)", line_of(text, "   manager: Chen Jie"), "is indented 3 spaces",
           "indent it 4 spaces")


def test_invalid_yaml_stray_brace() -> None:
    text = edit("price: 2500, mix: 0.6}", "price: 2500, mix: 0.6}}")
    expect(text, "(plan)", line_of(text, "mix: 0.6}}"), "not valid YAML", "'}'")


def test_a_plan_must_be_a_mapping() -> None:
    expect("- id: x\n- name: y\n", "(plan)", 1, "must be a mapping")


def test_missing_required_key_at_the_top() -> None:
    text = edit("name: Small Co. 2027 operating plan\n", "")
    expect(text, "name", line_of(text, "id: small-2027"), "required key is missing")


def test_missing_required_key_in_a_list_item() -> None:
    text = edit("{code: WEST-1, name: Rep Sun, parent: WEST,", "{code: WEST-1, parent: WEST,")
    expect(text, "units[5].name", line_of(text, "{code: WEST-1,"), "required key is missing")


def test_more_than_one_top_unit() -> None:
    old = "  - code: WEST\n    name: West region\n    parent: CO\n"
    text = edit(old, "  - code: WEST\n    name: West region\n")
    expect(text, "units", line_of(text, "units:"),
           "expected exactly one top unit (no parent)", "found CO, WEST")


# ---------------------------------------------------------------- all at once

def test_several_problems_are_all_reported_at_once() -> None:
    text = edit("{code: WEST-2, name: Rep Ma", "{code: WEST-1, name: Rep Ma")  # duplicate
    text = edit("amount: 500000", "amount: -5", text)  # negative (pydantic)
    text = edit("due: 2027-09-30", "due: 2026-06-30", text)  # outside the year
    text = edit("fiscal_year: 2027\n", "fiscal_year: 2027\nfiscle_year: 2027\n", text)  # typo
    err = load_error(text)
    assert Counter(p.where() for p in err.problems) == Counter(
        ["fiscle_year", "levers[2].amount", "units[6].code", "okrs[0].krs[1].due"])
    assert str(err).startswith(f"{FILE}: 4 problem(s)")
    lines = [p.line or 0 for p in err.problems]
    assert lines == sorted(lines)
    assert lines == [line_of(text, "fiscle_year"), line_of(text, "amount: -5"),
                     line_of(text, "Rep Ma"), line_of(text, "due: 2026-06-30")]


def test_a_type_error_does_not_hide_cross_field_problems() -> None:
    text = edit("name: Small Co. 2027 operating plan", "name: [Small, Co]")
    text = edit("{code: OFFLINE, name: Offline", "{code: ONLINE, name: Offline", text)
    assert sorted(paths(text)) == ["channels[1].code", "name"]


def test_load_plan_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad-plan.yaml"
    bad.write_text(edit("{id: A2, lever: L2,", "{id: A2, lever: L9,"), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(bad)
    line = line_of(bad.read_text(encoding="utf-8"), "{id: A2,")
    assert f"{bad}:{line}: actions[1].lever: unknown lever 'L9'" in str(info.value)


def test_load_plan_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="file not found"):
        load_plan(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- presets

def test_retail_preset_adds_its_kpis() -> None:
    kpis = {k.code: k for k in load_plan_text(SMALL_TEXT).plan.bsc.kpis}
    assert {"member_repurchase", "stock_turns", "stock_out", "cash_flow", "nps"} <= set(kpis)
    assert kpis["member_repurchase"].target == 0.40
    assert {k.perspective.value for k in kpis.values()} == {
        "financial", "customer", "process", "learning"}
    without = edit("bsc:\n  preset: retail\n", "")
    assert load_plan_text(without).plan.bsc.kpis == []


def test_a_plans_own_kpi_with_the_preset_code_wins() -> None:
    text = edit("bsc:\n  preset: retail\n", "bsc:\n  preset: retail\n  kpis:\n"
                "    - {code: member_repurchase, name: Member repurchase, perspective: customer,"
                " unit: \"%\", target: 0.45}\n"
                "    - {code: own_kpi, name: Our own, perspective: learning, target: 3}\n")
    kpis = load_plan_text(text).plan.bsc.kpis
    codes = [k.code for k in kpis]
    assert codes.count("member_repurchase") == 1
    assert next(k for k in kpis if k.code == "member_repurchase").target == 0.45
    assert "own_kpi" in codes and "stock_turns" in codes
    assert len(kpis) == len(load_plan_text(SMALL_TEXT).plan.bsc.kpis) + 1


def test_errors_in_own_kpis_point_at_their_own_line_beside_a_preset() -> None:
    text = edit("bsc:\n  preset: retail\n", "bsc:\n  preset: retail\n  kpis:\n"
                "    - {code: ok_kpi, name: Fine, perspective: process, target: 1}\n"
                "    - {code: bad_kpi, name: Bad, perspective: customer, target: high}\n"
                "    - {code: ok_kpi, name: Again, perspective: process, target: 2}\n")
    expect(text, "bsc.kpis[1].target", line_of(text, "bad_kpi"), "valid number", "'high'")
    expect(text, "bsc.kpis[2].code", line_of(text, "name: Again"),
           "duplicate KPI code 'ok_kpi'", "first used at bsc.kpis[0].code")


# ---------------------------------------------------------------- shipped plans

@pytest.fixture(scope="module")
def example() -> LoadedPlan:
    return load_plan(EXAMPLE)


@pytest.mark.parametrize("plan_file", [SMALL, EXAMPLE], ids=["small", "example"])
def test_shipped_plans_load(plan_file: Path) -> None:
    loaded = load_plan(plan_file)
    assert loaded.plan.fiscal_year == 2027
    assert loaded.plan.prior_year is not None
    assert (loaded.base_dir / loaded.plan.prior_year.file).is_file()


def test_example_plan_shape(example: LoadedPlan) -> None:
    plan = example.plan
    assert plan.currency.code == "CNY" and plan.currency.smallest_unit == Decimal("0.01")
    assert (plan.north_star.baseline, plan.north_star.target) == (100_000_000, 130_000_000)
    # Levers of every kind, leaving a visible uncovered gap.
    assert {lv.kind.value for lv in plan.levers} == {
        "market_penetration", "product_extension", "market_expansion", "new_business",
        "efficiency"}
    covered = sum(lv.amount for lv in plan.levers)
    gap = plan.north_star.target - plan.north_star.baseline - covered
    assert 2_000_000 <= gap <= 3_000_000
    # Org: company → departments → regions → 2-4 people.
    kinds = Counter(u.kind for u in plan.units)
    assert kinds["company"] == 1 and 2 <= kinds["department"] <= 3 and kinds["region"] >= 8
    by_code = {u.code: u for u in plan.units}
    regions = [u for u in plan.units if u.kind == "region"]
    assert all(by_code[r.parent].kind == "department" for r in regions if r.parent)
    for r in regions:
        people = [u for u in plan.units if u.parent == r.code]
        assert 2 <= len(people) <= 4 and all(p.kind == "person" for p in people)
    assert {r.factors.maturity.value for r in regions} == {"incubating", "growing", "mature"}
    assert any(r.factors.new_hire_share > 0.4 for r in regions)
    assert any(min(r.factors.attainment_history) > 1 for r in regions)
    assert any(max(r.factors.attainment_history) < 1 for r in regions)
    assert all(len(r.factors.attainment_history) == 3 for r in regions)
    # Products of every tier and BCG class; mixes sum to 1 with core about 60%.
    assert len(plan.products) >= 10
    assert {p.line.value for p in plan.products} == {"core", "emerging", "long_tail"}
    assert {p.bcg.value for p in plan.products if p.bcg} == {
        "star", "cash_cow", "question_mark", "dog"}
    mixes = [p.mix for p in plan.products]
    assert all(m is not None for m in mixes)
    assert math.isclose(math.fsum(m for m in mixes if m is not None), 1.0, abs_tol=1e-9)
    core = math.fsum(p.mix or 0 for p in plan.products if p.line.value == "core")
    assert 0.55 <= core <= 0.65
    # OKRs: three company objectives with 2-4 KRs; one objective aligned to two KRs.
    top = [o for o in plan.okrs if not o.aligned_to]
    assert len(top) == 3 and all(2 <= len(o.krs) <= 4 for o in top)
    assert any(len(o.aligned_to) == 2 for o in plan.okrs)
    assert {k.perspective.value for k in plan.bsc.kpis} == {
        "financial", "customer", "process", "learning"}
    assert [r.level.value for r in plan.risks] == ["red", "orange", "yellow"]
    assert all(len(r.plans) == 3 for r in plan.risks)
    assert 8 <= len(plan.actions) <= 12
    assert plan.workbooks.deadline == dt.date(2026, 12, 15)


# ---------------------------------------------------------------- prior-year actuals

def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_prior_year",
                                                  TEMPLATES / "make_prior_year.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("plan_file", [SMALL, EXAMPLE], ids=["small", "example"])
def test_prior_year_csv_matches_its_plan(plan_file: Path) -> None:
    loaded = load_plan(plan_file)
    plan = loaded.plan
    assert plan.prior_year is not None
    rows = _read_csv(loaded.base_dir / plan.prior_year.file)
    revenue = sum(Decimal(r["revenue"]) for r in rows)
    assert revenue == plan.north_star.baseline  # to the cent
    parents = {u.parent for u in plan.units} | {c.parent for c in plan.channels}
    leaves = {u.code for u in plan.units if u.code not in parents}
    leaf_channels = {c.code for c in plan.channels if c.code not in parents}
    keys = {(r["unit"], r["product"], r["channel"], int(r["month"])) for r in rows}
    assert len(keys) == len(rows) == len(leaves) * len(plan.products) * len(leaf_channels) * 12
    assert {k[0] for k in keys} == leaves and {k[2] for k in keys} == leaf_channels
    assert {k[1] for k in keys} == {p.code for p in plan.products}
    assert {k[3] for k in keys} == set(range(1, 13))
    for r in rows:
        assert all(len(r[c].split(".")[1]) == 2 for c in ("revenue", "cost", "cash"))
        assert Decimal(r["cost"]) < Decimal(r["revenue"])
        assert Decimal(r["cash"]) <= Decimal(r["revenue"])
    by_quarter = Counter[int]()
    for r in rows:
        by_quarter[(int(r["month"]) - 1) // 3] += int(Decimal(r["revenue"]))
    shares = [by_quarter[q] / float(revenue) for q in range(4)]
    assert all(abs(s - w) < 0.03 for s, w in zip(shares, [0.28, 0.32, 0.27, 0.13], strict=True))


def test_prior_year_csv_is_what_the_generator_writes(tmp_path: Path) -> None:
    """The committed CSV is reproducible from its plan (no drift)."""
    gen = _generator()
    out = tmp_path / "small.csv"
    assert gen.main([str(SMALL), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (TEMPLATES / "small-prior-year.csv").read_text(
        encoding="utf-8")
    plan = load_plan(SMALL).plan
    rows = gen.build_rows(plan, Decimal("1234.56"), seed=7, segments=False)
    assert sum(Decimal(str(r["revenue"])) for r in rows) == Decimal("1234.56")


def test_prior_year_generator_splits_segments_exactly(example: LoadedPlan) -> None:
    gen = _generator()
    rows = gen.build_rows(example.plan, Decimal("100000000"), segments=True)
    assert {r["segment"] for r in rows} == {"DIAMOND", "GOLD", "SILVER"}
    assert sum(Decimal(str(r["revenue"])) for r in rows) == Decimal("100000000")


# ---------------------------------------------------------------- JSON Schema

def _as_json(data: object) -> object:
    return json.loads(json.dumps(data, default=str))  # dates → "2027-12-31"


def test_json_schema_describes_the_example() -> None:
    schema: dict[str, Any] = json_schema()
    json.dumps(schema)  # serialisable
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"id", "fiscal_year", "north_star", "units", "products", "channels"} <= set(
        schema["required"])
    assert schema["additionalProperties"] is False
    raw = _as_json(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    bad = _as_json(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    assert isinstance(bad, dict)
    bad["fiscle_year"] = 2027
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is optional
        assert isinstance(raw, dict)
        assert set(raw) <= set(schema["properties"])
        assert "fiscle_year" not in schema["properties"]
        return
    validator = jsonschema.Draft202012Validator
    validator.check_schema(schema)
    validator(schema).validate(raw)
    assert not validator(schema).is_valid(bad)
