"""The consolidated workbook as an executive reads it: the summary first, headers in words
(no snake_case), every number formatted in the display unit, names beside codes, the org
roll-up an outline of subtotal formulas holding the engine's numbers, links that land on
the unit's rows, and the words of the plan's language."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import column_index_from_string, range_boundaries
from report_books import CJK, consolidated, header_cells, text_cells

from xlplan.consolidate.outcome import FileOutcome, Outcome
from xlplan.consolidate.report import sheets
from xlplan.consolidate.report.writer import Writer
from xlplan.consolidate.views import MONTHS
from xlplan.i18n import msg
from xlplan.spec.loader import load_plan

from conftest import SMALL  # isort: skip


@pytest.fixture(scope="module")
def en(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return consolidated(tmp_path_factory.mktemp("en"), "en", "yuan")


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return consolidated(tmp_path_factory.mktemp("zh"), "zh", "wan")


def test_the_workbook_opens_on_the_summary(en: Outcome, zh: Outcome) -> None:
    for outcome, name in ((en, "Summary"), (zh, "总览")):
        wb = openpyxl.load_workbook(outcome.output, read_only=True)
        assert wb.sheetnames[0] == name
        assert wb.active.title == name  # the workbook view's activeTab
        wb.close()


def test_no_header_shows_snake_case(en: Outcome, zh: Outcome) -> None:
    for outcome in (en, zh):
        wb = openpyxl.load_workbook(outcome.output)
        headers = [(ws.title, c.coordinate, str(c.value)) for ws in wb.worksheets
                   for c in header_cells(ws) if c.value is not None]
        wb.close()
        assert len(headers) > 100
        assert [h for h in headers if "_" in h[2]] == []
        assert "_" not in "".join(wb.sheetnames)


def _numeric_cells(path: Path) -> list[tuple[str, str, str]]:
    """(sheet, cell, number format) of every number, date and numeric formula."""
    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                numeric = isinstance(c.value, int | float) and not isinstance(c.value, bool)
                formula = isinstance(c.value, str) and c.value.startswith("=")
                if numeric or formula or getattr(c, "is_date", False):
                    out.append((ws.title, c.coordinate, c.number_format))
    wb.close()
    return out


def test_numbers_are_formatted_and_amounts_in_the_display_unit(en: Outcome, zh: Outcome
                                                               ) -> None:
    for outcome, money in ((en, "#,##0.00"), (zh, "0\\.0,")):
        cells = _numeric_cells(outcome.output)
        general = [c for c in cells if c[2] == "General"]
        assert len(cells) > 1500
        assert len(general) <= 0.01 * len(cells), general[:10]
        formats = {c[2] for c in cells}
        assert money in formats and "0.0%" in formats
    zh_headers = [v for _, _, v in text_cells(zh.output) if "（万元）" in v]
    assert len(zh_headers) > 20  # the unit is in the headers: 目标（万元）


def _names(plan_path: Path) -> dict[str, str]:
    plan = load_plan(plan_path).plan
    return {**{u.code: u.name for u in plan.units}, **{p.code: p.name for p in plan.products},
            **{c.code: c.name for c in plan.channels}}


CODE_HEADERS = {"Unit", "Product", "Channel", "Code"}
NAME_HEADERS = {"Name", "Product name", "Channel name"}


def test_every_code_shown_has_its_name_beside_it(en: Outcome) -> None:
    names = _names(SMALL)
    wb = openpyxl.load_workbook(en.output)
    checked = 0
    for ws in wb.worksheets:
        for head in header_cells(ws):
            if head.value not in CODE_HEADERS:
                continue
            beside = ws.cell(head.row, head.column + 1)
            assert beside.value in NAME_HEADERS, (ws.title, head.coordinate, beside.value)
            for r in range(head.row + 1, ws.max_row + 1):
                code = ws.cell(r, head.column).value
                if code is None or code not in names:
                    continue
                assert str(ws.cell(r, head.column + 1).value).strip() == names[code], (
                    ws.title, r)
                checked += 1
    wb.close()
    assert checked > 1000


def _plan_data(outcome: Outcome) -> set[str]:
    """Every text that comes from the plan or the submissions (shown as written)."""
    plan = load_plan(SMALL).plan
    texts = {plan.name, plan.north_star.metric}
    texts |= {u.name for u in plan.units} | {p.name for p in plan.products}
    texts |= {c.name for c in plan.channels} | {lever.name for lever in plan.levers}
    texts |= {k.name for k in plan.bsc.kpis}
    facts = pd.read_csv(outcome.output.with_suffix(".csv"), encoding="utf-8-sig")
    texts |= {str(v) for v in facts["value_text"].dropna()}
    texts |= {str(f["message"]) for f in (n for fo in outcome.files for n in fo.findings)}
    return {t.strip() for t in texts}


SENTENCE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")  # two English words: a phrase


def test_zh_words_are_chinese_and_en_has_no_chinese(en: Outcome, zh: Outcome) -> None:
    """zh: a text cell with an English phrase is plan data (the small plan is English);
    every title, note and header is Chinese. en: no CJK at all (the plan is English)."""
    data = _plan_data(zh)
    cells = text_cells(zh.output)
    english = [c for c in cells if SENTENCE.search(c[2]) and not CJK.search(c[2])
               and c[2].strip() not in data and not c[2].startswith(("Legend", "G "))]
    assert english == []
    wb = openpyxl.load_workbook(zh.output)
    fixed = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets
             for c in [ws["A1"], *header_cells(ws)] if isinstance(c.value, str)
             and not re.fullmatch(r"[A-Z0-9 .\-–()%≥<]*", c.value)]  # OKR, KPI, SHA-256 …
    wb.close()
    assert len(fixed) > 100
    assert [f for f in fixed if not CJK.search(f[2])] == []
    assert all(CJK.search(name) or name in ("OKR",) for name in wb.sheetnames)
    assert [c for c in text_cells(en.output) if CJK.search(c[2])] == []


def _follow(wb: Any, location: str) -> tuple[str, str]:
    sheet, cell = location.rsplit("!", 1)
    return sheet.strip("'"), cell


def test_summary_links_land_on_the_units_rows(en: Outcome) -> None:
    wb = openpyxl.load_workbook(en.output)
    ws = wb["Summary"]
    landed = []
    for row in ws.iter_rows():
        for c in row:
            if c.hyperlink is None:
                continue
            unit = ws.cell(c.row, 5).value  # E: the unit's code
            sheet, cell = _follow(wb, c.hyperlink.location)
            target = wb[sheet][cell]
            assert target.column == 1  # the row's start, and the row is the unit's:
            assert unit in [wb[sheet].cell(target.row, k).value for k in (1, 2)], (
                c.coordinate, c.hyperlink.location)
            landed.append(sheet)
    wb.close()
    assert sorted(landed) == sorted(["Gap", "Org roll-up", "Files"] * 2)


def test_org_roll_up_is_an_outline_of_subtotals_with_the_engines_values(en: Outcome) -> None:
    assert en.views is not None
    org = en.views.org.reset_index(drop=True)
    wb = openpyxl.load_workbook(en.output)
    cached = openpyxl.load_workbook(en.output, data_only=True)
    ws, values = wb["Org roll-up"], cached["Org roll-up"]
    header = [c.value for c in ws[4]]
    target_col = header.index("Target (CNY)") + 1
    march = header.index("Mar 2027 (CNY)") + 1
    for i, node in enumerate(org.to_dict("records")):
        r = 5 + i
        assert ws.cell(r, 1).value == node["code"]
        assert (ws.row_dimensions[r].outlineLevel or 0) == node["level"]
        below = [j for j in range(i + 1, len(org)) if org.loc[j, "level"] > node["level"]]
        target = ws.cell(r, target_col).value
        if node["level"] < org["level"].max():
            first, last = 5 + i + 1, 5 + i + len(below)
            min_col, min_row, _, max_row = range_boundaries(
                re.fullmatch(r"=SUBTOTAL\(9,(\w+:\w+)\)", target).group(1))  # type: ignore
            assert (min_col, min_row, max_row) == (target_col, first, last)
        assert values.cell(r, target_col).value == pytest.approx(node["target"], abs=1e-6)
        assert values.cell(r, march).value == pytest.approx(node["M03"], abs=1e-6)
        assert values.cell(r, header.index("Commitment (CNY)") + 1).value == pytest.approx(
            node["commitment"], abs=1e-6)
    assert str(ws.cell(5, march).value).startswith("=SUBTOTAL(9,")
    assert ws.sheet_properties.outlinePr.summaryBelow is False
    wb.close()
    cached.close()
    assert column_index_from_string("A") == 1 and MONTHS[2] == "M03"


def test_files_sheet_shows_a_findings_words_in_the_language(tmp_path: Path) -> None:
    """A finding that carries its words (a catalog message) is shown translated; one
    without, as its English message (data)."""
    plan = load_plan(SMALL).plan
    zh_plan = plan.model_copy(update={"workbooks": plan.workbooks.model_copy(
        update={"language": "zh"})})
    findings = [{"level": "error", "sheet": "Targets", "cell": "C4", "message": "changed",
                 "words": msg("rejected")},
                {"level": "warning", "sheet": "", "cell": "", "message": "plain English"}]
    outcome = Outcome("small-2027", [FileOutcome(tmp_path / "a.xlsx", "ab" * 32, "EAST",
                                                 "rejected", findings, True)],
                      {"EAST": "rejected"}, tmp_path / "out.xlsx", tmp_path / "db")
    w = Writer(tmp_path / "files.xlsx", zh_plan)
    from xlplan.engine.numbers import PlanNumbers

    rows = sheets.files(w, outcome, sheets.Names.of(PlanNumbers(zh_plan)))
    w.close()
    ws = openpyxl.load_workbook(tmp_path / "files.xlsx")["文件"]
    header = [c.value for c in ws[4]]
    message = header.index("说明") + 1
    assert [ws.cell(r, message).value for r in (5, 6)] == ["已拒绝", "plain English"]
    assert ws.cell(5, header.index("发现") + 1).value == "错误"
    assert rows == {"EAST": 4}  # 0-based: the first row under the header (row 5)


def test_consolidate_language_overrides_the_plans(en: Outcome, tmp_path: Path) -> None:
    """``xlplan consolidate --language zh`` on an English plan: the workbook is Chinese,
    the CSVs keep their machine columns."""
    from typer.testing import CliRunner

    from xlplan.cli import app

    folder = en.output.parent.parent
    result = CliRunner().invoke(app, ["consolidate", str(folder / SMALL.name),
                                      str(folder / "inbox"), "-o", str(tmp_path),
                                      "--language", "zh"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / en.output.name, read_only=True)
    assert wb.sheetnames[:5] == ["总览", "提交跟踪", "文件", "组织汇总", "差额"]
    wb.close()
    gap = pd.read_csv(tmp_path / f"{en.output.stem}-gap.csv", encoding="utf-8-sig", nrows=1)
    assert list(gap.columns[:4]) == ["unit", "product", "channel", "month"]
