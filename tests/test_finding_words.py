"""Findings in the workbook's language: each finding carries its words as a catalog message
(``words``) beside its English ``message``, names the sheet as the submission shows it, and
keeps its words through the reader processes and the history database."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import SMALL, require_tool
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate import store
from xlplan.consolidate.examine import Finding, examine
from xlplan.consolidate.run import consolidate
from xlplan.i18n import Data, Msg, Words, from_json, msg, to_json
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.spec.loader import in_language, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import sample_inputs
from xlplan.workbook.manifest import read_manifest
from xlplan.workbook.verify import compare

CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"\d[\d,.]*\d|\d")
EN, ZH = Words("en"), Words("zh")
runner = CliRunner()


@pytest.fixture(scope="module")
def zh_ctx() -> BuildContext:
    loaded = in_language(load_plan(SMALL), "zh")
    return BuildContext(loaded, read_prior_year(loaded))


@pytest.fixture(scope="module")
def zh_west(zh_ctx: BuildContext, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """WEST's blank workbook, built in Chinese."""
    folder = tmp_path_factory.mktemp("zh-west")
    return build_unit(zh_ctx, folder, "WEST", path=folder / "small-WEST.xlsx")


def _numbers(text: str) -> list[str]:
    return sorted(NUMBER.findall(text))


def _same_facts_in_two_languages(finding: Finding) -> str:
    """The finding's words in Chinese: Chinese text with the English message's numbers and
    cells (the English words are the message itself)."""
    assert isinstance(finding.words, Msg)
    assert EN(finding.words) == finding.message
    chinese = ZH(finding.words)
    assert CJK.search(chinese), chinese
    assert _numbers(chinese) == _numbers(finding.message), (chinese, finding.message)
    return chinese


def test_a_blank_chinese_workbook_is_incomplete_in_chinese_words(
        ctx: BuildContext, zh_west: Built) -> None:
    result = examine(zh_west.path, ctx)  # the plan's own context is English: the book is zh
    assert result.status == "incomplete"
    by_sheet = {f.sheet: f for f in result.findings}
    assert {"承诺", "人员分解"} <= by_sheet.keys()  # named as the workbook shows them
    commitments, people = by_sheet["承诺"], by_sheet["人员分解"]
    assert (commitments.cell, people.cell) == ("C5", "F5")
    assert commitments.message == ("Commitments: 72 of 72 cells blank (first C5); expected a "
                                   "value in each")
    assert ZH(commitments.words) == "承诺：72 个单元格中有 72 个为空（第一个为 C5）；每个都应填写"
    for finding in result.findings:
        assert finding.level == "incomplete"
        _same_facts_in_two_languages(finding)


def test_a_chinese_split_raised_by_a_cent_names_the_chinese_sheet(
        ctx: BuildContext, zh_ctx: BuildContext, zh_west: Built, tmp_path: Path) -> None:
    manifest = read_manifest(zh_west.path)
    fill = sample_inputs(zh_ctx, manifest, seed=7)
    [split] = [i for i in manifest.inputs if i["item"] == "split:WEST-1"]
    key = (split["sheet"], split["cell"])
    fill[key] = round(float(fill[key]) + 0.01, 2)  # type: ignore[arg-type]
    path = build_unit(zh_ctx, tmp_path, "WEST", fill=fill, path=tmp_path / "small-WEST.xlsx").path
    result = examine(path, ctx)
    assert result.status == "incomplete"
    [finding] = result.findings
    assert (finding.sheet, finding.cell) == ("人员分解", "F5")
    target = ctx.money(ctx.targets["WEST"])
    assert finding.message == (f"People split (F5:F6) adds up to {target + 0.01:,.2f}, the "
                               f"unit's target is {target:,.2f}: off by 0.01; expected it to "
                               "tie to the cent")
    assert ZH(finding.words) == (f"人员分解（F5:F6）合计为 {target + 0.01:,.2f}，本单位目标为 "
                                 f"{target:,.2f}：相差 0.01；应精确到分与目标一致")
    _same_facts_in_two_languages(finding)
    # the reader processes send findings pickled: the words come through
    assert ZH(pickle.loads(pickle.dumps(finding)).words) == ZH(finding.words)


def test_the_cli_names_the_chinese_sheet(zh_west: Built, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(zh_west.path, inbox / "small-WEST.xlsx")
    result = runner.invoke(app, ["consolidate", str(SMALL), str(inbox), "-o",
                                 str(tmp_path / "out"), "--workers", "1"])
    assert "人员分解!F5" in result.output and "承诺!C5" in result.output, result.output
    assert "People!F5" not in result.output


def test_findings_read_back_from_the_history_keep_their_words(
        ctx: BuildContext, zh_west: Built, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(zh_west.path, inbox / "small-WEST.xlsx")
    fresh = examine(zh_west.path, ctx).findings
    first = consolidate(SMALL, inbox, tmp_path / "out", workers=1)
    again = consolidate(SMALL, inbox, tmp_path / "out", workers=1)  # seen: from the history
    [before], [after] = first.files, again.files
    assert before.new and not after.new
    for kept in (before, after):
        assert [f["message"] for f in kept.findings] == [f.message for f in fresh]
        assert [ZH(f["words"]) for f in kept.findings] == [ZH(f.words) for f in fresh]
        assert all(isinstance(f["words"], Msg) for f in kept.findings)


def test_a_history_written_before_the_words_column_opens_and_keeps_its_rows(
        zh_west: Built, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(zh_west.path, inbox / "small-WEST.xlsx")
    consolidate(SMALL, inbox, tmp_path / "out", workers=1)
    db = tmp_path / "out" / "xlplan.duckdb"
    old = duckdb.connect(str(db))  # as a database written before the column was
    old.execute("ALTER TABLE findings DROP COLUMN words")
    rows = old.execute("SELECT * FROM findings ORDER BY seq").fetchall()
    old.close()
    assert len(rows) >= 4
    con = store.connect(db)
    try:
        assert con.execute("SELECT * EXCLUDE (words) FROM findings ORDER BY seq"
                           ).fetchall() == rows
        plan_id = load_plan(SMALL).plan.id
        [kept] = store.findings(con, plan_id).values()
        assert [f["message"] for f in kept] == [r[-1] for r in rows]
        # no message id was kept for these: their English message is shown as it is
        assert all(isinstance(f["words"], Data) and ZH(f["words"]) == f["message"]
                   for f in kept)
    finally:
        con.close()
    again = consolidate(SMALL, inbox, tmp_path / "out", workers=1)  # the file is seen
    assert [f["message"] for f in again.files[0].findings] == [r[-1] for r in rows]


def test_a_message_goes_to_json_and_back() -> None:
    said = msg("{what}: {cells}", what=msg("sheet protection was removed"),
               cells=(msg("nothing"), Data("C5")))
    back = from_json(to_json(said))
    assert back == said and ZH(back) == ZH(said) == "工作表保护已被取消：空; C5"


@pytest.mark.libreoffice
def test_a_chinese_guide_says_its_readiness_in_chinese_and_libreoffice_agrees(
        zh_west: Built, tmp_path: Path) -> None:
    """The readiness block of a zh workbook: rule texts, status words and summary in
    Chinese; LibreOffice's recalculation of every formula cell equals the cached values."""
    require_tool("soffice")
    book = openpyxl.load_workbook(zh_west.path, data_only=True)
    guide = book["填写说明"]
    assert book.defined_names["Readiness"].attr_text == "'填写说明'!$B$13"  # as Excel quotes it
    summary = guide["B13"].value
    assert summary == "4 个问题： 承诺!C5 人员分解!F5 人员分解!F5 预算!B21"
    rows = [tuple(c.value for c in row) for row in guide.iter_rows(min_row=17, max_col=3)
            if row[0].value]
    assert [r for r in rows if r[2]] == [
        ("承诺!C5", "承诺：每个单元格都已填写", "未满足"),
        ("人员分解!F5", "人员分解：每个单元格都已填写", "未满足"),
        ("人员分解!F5", "人员分解合计与本单位目标一致（精确到分）", "未满足"),
        ("预算!B21", "预算申请行：至少一行完整", "未满足")]
    assert all(CJK.search(str(r[1])) for r in rows)  # the met rules too (actions, KRs)
    with LibreOffice() as office:
        done = office.recalculate([zh_west.path], tmp_path / "recalc")
    values = read_values(done[zh_west.path])
    expected = zh_west.book.expected_values()
    assert values["填写说明"]["B13"] == summary
    assert compare(expected, values) == []
    assert sum(1 for sheet, _ in expected if sheet == "填写说明") > 10


def test_a_returned_chinese_workbook_names_the_noted_sheets_as_it_shows_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review block of a reissued zh workbook: in Chinese, each note naming its sheet as
    the workbook shows it (the review names the sheet so too: 承诺, not Commitments)."""
    monkeypatch.setenv("XLPLAN_TODAY", "2026-12-20")
    plan = tmp_path / "small-plan.yaml"
    plan.write_text(SMALL.read_text(encoding="utf-8") + "  language: zh\n", encoding="utf-8")
    shutil.copy(SMALL.parent / "small-prior-year.csv", tmp_path)
    loaded = load_plan(plan)
    assert loaded.plan.workbooks.language == "zh"
    ctx = BuildContext(loaded, read_prior_year(loaded))
    blank = build_unit(ctx, tmp_path / "built", "EAST")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    filled = sample_inputs(ctx, read_manifest(blank.path), seed=7)
    build_unit(ctx, inbox, "EAST", fill=filled, path=inbox / "small-EAST.xlsx")
    out = tmp_path / "out"
    consolidate(plan, inbox, out, workers=1)
    db = str(out / "xlplan.duckdb")
    for args in (["review", str(plan), "EAST", "return", "--db", db, "--by", "Li Na",
                  "--comment", "Q1 too low", "--note", "承诺!D5: why below target?"],
                 ["reissue", str(plan), "-o", str(tmp_path / "again"), "--db", db,
                  "--units", "EAST"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "again").rglob("*EAST*.xlsx")
    book = openpyxl.load_workbook(path)
    comment = book["填写说明"]["A1"].comment
    assert comment is not None and CJK.search(comment.text.splitlines()[0]), comment.text
    assert "承诺!D5: why below target?" in comment.text
    assert book["承诺"]["D5"].comment.text == "why below target?"

