"""Completeness: a submission that is intact but does not yet say what a plan must is
``incomplete``: stored (diff and history see it), not counted, shown apart, and every
unmet rule is a finding naming sheet and cell and what is expected."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate.examine import examine
from xlplan.consolidate.run import consolidate
from xlplan.i18n import Words
from xlplan.workbook.book import Value
from xlplan.workbook.build import Built, build_unit
from xlplan.workbook.completeness import Cell, Order, Setting, Tie, rules_for, unmet
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import sample_inputs
from xlplan.workbook.manifest import read_manifest

runner = CliRunner()


@pytest.fixture(scope="module")
def west(built: list[Built]) -> Built:
    return next(b for b in built if b.unit == "WEST")


def submission(ctx: BuildContext, west: Built, folder: Path,
               change: dict[str, Value] | None = None) -> Path:
    """WEST's sample submission, with ``change`` (item, or item@period → value) typed over
    it."""
    manifest = read_manifest(west.path)
    fill = sample_inputs(ctx, manifest, seed=7)
    for spec in manifest.inputs:
        for key in (spec["item"], f"{spec['item']}@{spec['period']}"):
            if change and key in change:
                fill[(spec["sheet"], spec["cell"])] = change[key]
    folder.mkdir(parents=True, exist_ok=True)
    return build_unit(ctx, folder, "WEST", fill=fill, path=folder / "small-WEST.xlsx").path


def cell_of(west: Built, item: str) -> tuple[str, str]:
    spec = next(i for i in read_manifest(west.path).inputs if i["item"] == item)
    return spec["sheet"], spec["cell"]


def test_the_sample_is_complete(ctx: BuildContext, west: Built, tmp_path: Path) -> None:
    assert examine(submission(ctx, west, tmp_path), ctx).status == "accepted"


def test_a_blank_workbook_is_incomplete_naming_the_required_groups(
        ctx: BuildContext, west: Built) -> None:
    result = examine(west.path, ctx)
    assert result.status == "incomplete"
    found = [(f.level, f.sheet, f.cell, f.message) for f in result.findings]
    assert ("incomplete", "Commitments", "C5", "Commitments: 72 of 72 cells blank (first C5); "
            "expected a value in each") in found
    assert ("incomplete", "People", "F5", "People split: 2 of 2 cells blank (first F5); "
            "expected a value in each") in found
    assert any(f[1] == "Budget" and "no complete line" in f[3] for f in found)
    assert not result.facts


def test_a_split_raised_by_a_cent_is_incomplete(ctx: BuildContext, west: Built,
                                                tmp_path: Path) -> None:
    manifest = read_manifest(west.path)
    fill = sample_inputs(ctx, manifest, seed=7)
    sheet, cell = cell_of(west, "split:WEST-1")
    raised = round(float(fill[(sheet, cell)]) + 0.01, 2)  # type: ignore[arg-type]
    result = examine(submission(ctx, west, tmp_path, {"split:WEST-1": raised}), ctx)
    assert result.status == "incomplete"
    [finding] = result.findings
    target = ctx.money(ctx.targets["WEST"])
    assert (finding.sheet, finding.cell) == ("People", "F5")
    assert finding.message == (f"People split (F5:F6) adds up to {target + 0.01:,.2f}, the "
                               f"unit's target is {target:,.2f}: off by 0.01; expected it to "
                               "tie to the cent")


def test_an_action_that_ends_before_it_starts_is_incomplete(ctx: BuildContext, west: Built,
                                                            tmp_path: Path) -> None:
    result = examine(submission(ctx, west, tmp_path, {
        "action:WEST-1:start": dt.date(2027, 6, 1), "action:WEST-1:end": dt.date(2027, 5, 31)}),
        ctx)
    assert result.status == "incomplete"
    [finding] = result.findings
    assert (finding.sheet, finding.cell) == cell_of(west, "action:WEST-1:end")
    assert finding.message == ("Action WEST-1: end 2027-05-31 is before start 2027-06-01; "
                               "expected start ≤ end")


def test_rules_by_hand() -> None:
    """The two faces of a rule, on cells made up here."""
    a, b = Cell("People", "F5", "split:A", "year"), Cell("People", "F6", "split:B", "year")
    tie = Tie("tie", "People", "F5", "ties", "Split", (a, b), 100.0, "Targets!$C$4")
    assert tie.condition() == "ROUND(SUM(People!$F$5:$F$6)-Targets!$C$4,2)=0"
    assert tie.problem({a.key(): 60.0, b.key(): 40.0}) is None
    assert tie.problem({a.key(): 0.1 + 0.2, b.key(): 99.7}) is None  # float noise below a cent
    assert "off by -0.01" in Words()(tie.problem({a.key(): 60.0, b.key(): 39.99}) or "")
    s, e = Cell("Actions", "E9", "action:X:start", ""), Cell("Actions", "F9", "action:X:end", "")
    order = Order("order", "Actions", "F9", "Action X: start ≤ end", s, e)
    assert order.condition() == ("OR(NOT(ISNUMBER(Actions!$E$9)),NOT(ISNUMBER(Actions!$F$9)),"
                                 "Actions!$E$9<=Actions!$F$9)")
    assert order.problem({s.key(): dt.date(2027, 1, 2), e.key(): dt.date(2027, 1, 2)}) is None
    assert order.problem({s.key(): dt.date(2027, 1, 2)}) is None  # blank: not judged here
    rules = rules_for([a, b, s, e], Setting(("people",), 100.0, "Targets!$C$4", None))
    assert [r.kind for r in rules] == ["required", "tie", "order"]
    assert [p for _, p in unmet(rules, {a.key(): 100.0, b.key(): 0.0})] == []


def test_incomplete_is_stored_not_counted_and_shown_apart(
        ctx: BuildContext, west: Built, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    submission(ctx, west, inbox, {"action:WEST-1:start": dt.date(2027, 6, 1),
                                  "action:WEST-1:end": dt.date(2027, 5, 31)})
    out = tmp_path / "out"
    result = runner.invoke(app, ["consolidate", str(SMALL), str(inbox), "-o", str(out),
                                 "--json", "--workers", "1"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["units"]["WEST"] == "incomplete"
    [f] = doc["files"]
    assert f["status"] == "incomplete"
    assert [x["level"] for x in f["findings"]] == ["incomplete"]
    con = duckdb.connect(str(out / "xlplan.duckdb"), read_only=True)
    stored = con.execute("SELECT count(*) FROM facts").fetchone()
    counted = con.execute("SELECT count(*) FROM current_facts").fetchone()
    con.close()
    assert stored and stored[0] > 300 and counted == (0,)
    status = runner.invoke(app, ["status", str(SMALL), "--db", str(out / "xlplan.duckdb"),
                                 "--json"])
    units = {u["unit"]: u for u in json.loads(status.stdout)["units"]}
    assert units["WEST"]["status"] == "incomplete"
    assert "Actions!F" in units["WEST"]["reasons"]


def test_an_incomplete_file_after_an_accepted_one_does_not_replace_it(
        ctx: BuildContext, west: Built, tmp_path: Path) -> None:
    good = submission(ctx, west, tmp_path / "a")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "small-WEST-1.xlsx").write_bytes(good.read_bytes())
    first = consolidate(SMALL, inbox, tmp_path / "out", workers=1)
    assert first.units["WEST"] == "accepted"
    (inbox / "small-WEST-2.xlsx").write_bytes(west.path.read_bytes())  # the blank template
    second = consolidate(SMALL, inbox, tmp_path / "out", workers=1)
    assert second.units["WEST"] == "accepted"
    assert {f.path.name: f.status for f in second.files} == {
        "small-WEST-1.xlsx": "accepted", "small-WEST-2.xlsx": "incomplete"}


def test_the_guide_shows_each_rule_live_and_a_summary(ctx: BuildContext, west: Built,
                                                      tmp_path: Path) -> None:
    """The readiness block's cached values are the rules' checks: a blank workbook names
    its four unmet rules, the sample none. (LibreOffice and the formulas package recompute
    the same values: test_workbooks holds every formula cell to them.)"""
    import openpyxl

    def guide(path: Path) -> tuple[object, list[tuple[object, ...]]]:
        book = openpyxl.load_workbook(path, data_only=True)
        ws = book["Guide"]
        assert book.defined_names["Readiness"].attr_text == "Guide!$B$13"
        rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=17, max_col=3)
                if row[0].value]
        return ws["B13"].value, rows

    summary, rows = guide(west.path)
    assert summary == "4 problems: Commitments!C5 People!F5 People!F5 Budget!B21"
    assert [r for r in rows if r[2]] == [
        ("Commitments!C5", "Commitments: every cell filled", "unmet"),
        ("People!F5", "People split: every cell filled", "unmet"),
        ("People!F5", "People split ties to the unit's target to the cent", "unmet"),
        ("Budget!B21", "Budget request lines: at least one complete line", "unmet")]
    assert len(rows) > 10  # the action orders and KR ranges are there, met while blank
    summary, rows = guide(submission(ctx, west, tmp_path))
    assert summary == "Ready: every completeness rule is met"
    assert not [r for r in rows if r[2]]


def test_a_share_kpi_takes_a_share_not_a_whole_number(ctx: BuildContext, west: Built,
                                                      tmp_path: Path) -> None:
    """defect_rate is a % KPI: its actual is a share (0.4 % typed as 0.4% is 0.004); 40
    typed where 40 % was meant is refused with the cell named, as Excel's validation
    refuses it; the sample's values are shares."""
    spec = next(i for i in read_manifest(west.path).inputs
                if i["item"] == "bsc:defect_rate")
    assert spec["rule"]["kind"] == "ratio" and spec["rule"]["maximum"] == 1.0
    fill = sample_inputs(ctx, read_manifest(west.path), seed=7)
    assert 0 <= float(fill[(spec["sheet"], spec["cell"])]) <= 1  # type: ignore[arg-type]
    result = examine(submission(ctx, west, tmp_path,
                                {f"bsc:defect_rate@{spec['period']}": 40.0}), ctx)
    assert result.status == "rejected"
    [error] = [f for f in result.findings if f.level == "error"]
    assert (error.sheet, error.cell) == (spec["sheet"], spec["cell"])
    assert "40 is not a ratio (e.g. 0.35) from 0 to 1" in error.message
