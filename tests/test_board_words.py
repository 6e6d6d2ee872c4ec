"""The tracking board's words: every fixed text cell, sheet name, chart title and footer is a
catalog message in the plan's language, plan data stays as the plan writes it, and the
warnings' and the quarterly review's sentences say the same numbers in Chinese as in English.

The small plan (English data) with its synthetic year as of 2027-06-30, with a Versions sheet
(the budget against the actuals), in ``en`` and in ``zh``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SMALL, differences
from test_tracking_year import as_actuals

from xlplan.i18n import LANGUAGES, Words
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.spec.loader import in_language, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking.board import SHEETS, write_board
from xlplan.tracking.quarter_review import adjustment, causes, quarter_rows, review_quarter
from xlplan.tracking.synthetic import generate
from xlplan.tracking.track import TrackResult, track
from xlplan.tracking.version_compare import ACTUAL, Comparison, months_ended
from xlplan.workbook.book import Book

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?%?")
AS_OF = dt.date(2027, 6, 30)


@dataclass
class Made:
    result: TrackResult
    path: Path
    book: Book


def _comparison(result: TrackResult) -> Comparison:
    """The budget against the actuals (what ``--compare budget,actual`` shows), and a unit the
    budget has that the board has not: every line of the Versions sheet is written."""
    units = result.units
    actual = {u: np.array([a or 0 for a in result.month_actuals(u)]) for u in units}
    return Comparison(rows=["budget", ACTUAL],
                      months={"budget": {u: result.targets.months[u] for u in units},
                              ACTUAL: actual},
                      ended=months_ended(result), pairs=[(ACTUAL, "budget")],
                      outside={"budget": {"GONE": 123_400}})


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Made]:
    tmp = tmp_path_factory.mktemp("board-words")
    made = {}
    for language in LANGUAGES:
        lp = in_language(load_plan(SMALL), language)
        prior = read_prior_year(lp)
        result = track(lp.plan, as_actuals(generate(lp.plan, prior), lp), AS_OF, prior)
        path, book = write_board(result, tmp / language, _comparison(result))
        made[language] = Made(result, path, book)
    return made


def _plan_data(result: TrackResult) -> set[str]:
    """Every text the board may show as the plan writes it: names, codes, KPI and OKR texts,
    budget lines, version names (budget), and the status letters G/Y/O/R (a legend in the
    language explains them)."""
    plan = result.plan
    texts = {"", "G", "Y", "O", "R", "budget", plan.north_star.metric, *result.names.values(),
             *result.units}
    for k in plan.bsc.kpis:
        texts |= {k.code, k.name, k.unit, k.perspective.value, k.direction.value}
    for column in ("objective", "unit", "kr"):
        texts |= {str(v) for v in result.okr[column]}
    for line in result.spend.lines:
        texts |= {line.key, line.name, line.spend_measure, line.return_measure}
    return texts


def _labels(book: Book) -> dict[tuple[str, str], Any]:
    """(sheet key, cell) → the text of every fixed text cell."""
    key_of = {sheet.name: str(key) for key, sheet in book.sheets.items()}
    return {(key_of[c.sheet], c.ref): c.content for c in book.cells if c.kind == "label"}


def test_no_literal_is_written(boards: dict[str, Made]) -> None:
    """Every text cell is a catalog message or marked plan data (Book.unmarked lists any
    other string a writer put in a cell)."""
    for made in boards.values():
        assert made.book.unmarked == []
        assert len(made.book.cells) > 1000


def test_sheet_names_follow_the_language(boards: dict[str, Made]) -> None:
    en, zh = boards["en"].book, boards["zh"].book
    assert list(en.sheets) == list(zh.sheets) == [k for k in SHEETS if k in en.sheets]
    assert len(en.sheets) == len(SHEETS)  # the Versions sheet too
    assert [s.name for s in en.sheets.values()] == [
        "Board", "Warnings", "Weeks", "BSC", "OKR", "Budget", "Quarterly review", "Versions"]
    for sheet in zh.sheets.values():
        assert CJK.search(sheet.name), sheet.name
    assert zh.sheets["Board"].name == "看板"


def test_every_fixed_text_is_chinese_in_zh_and_english_in_en(boards: dict[str, Made]) -> None:
    """A cell that reads differently in the two languages is Chinese in zh and has no CJK in
    en; a cell that reads the same is plan data (the small plan writes English)."""
    en, zh = _labels(boards["en"].book), _labels(boards["zh"].book)
    assert en.keys() == zh.keys()
    data = _plan_data(boards["en"].result)
    translated = 0
    for key, english in en.items():
        chinese = zh[key]
        assert not CJK.search(english), (key, english)
        if chinese == english:
            assert english in data, (key, english)
        else:
            translated += 1
            assert CJK.search(chinese), (key, chinese)
    assert translated > 300
    # every sheet has Chinese words, titles and headers alike
    assert {k[0] for k, v in zh.items() if CJK.search(v)} == {str(k) for k in SHEETS}
    assert zh[("Board", "A28")] == "各单位各月目标（CNY）"
    assert zh[("Board", "B29")] == "2027年1月" and en[("Board", "B29")] == "Jan 2027"


def test_charts_and_footers_speak_the_language(boards: dict[str, Made]) -> None:
    """Chart titles, series and axis titles, and the printed footer, in the file itself."""
    for language, made in boards.items():
        with zipfile.ZipFile(made.path) as z:
            charts = [z.read(n).decode() for n in z.namelist()
                      if n.startswith("xl/charts/chart")]
            sheets = [z.read(n).decode() for n in z.namelist()
                      if n.startswith("xl/worksheets/sheet")]
        assert len(charts) == 5  # Board 2, BSC 2, Budget 1
        titles = [re.findall(r"<a:t>([^<]*)</a:t>", c) for c in charts]
        assert all(titles)
        footers = [re.search(r"<oddFooter>([^<]*)</oddFooter>", s) for s in sheets]
        assert all(footers), language
        words = [t for ts in titles for t in ts] + [f.group(1) for f in footers if f]
        if language == "zh":
            assert all(CJK.search(w) for w in words), words
            assert "公司：各月目标与实际" in words
        else:
            assert not any(CJK.search(w) for w in words), words
            assert "Company: target vs actual by month" in words


def _numbers(text: str) -> list[str]:
    """The numbers a sentence states (a quarter's name, Q3 or 三季度, is a word, not one)."""
    return NUMBER.findall(re.sub(r"\bQ[1-4]\b", "", text))


def test_warnings_and_review_say_the_same_numbers(boards: dict[str, Made]) -> None:
    """Each warning's sentences and each unit's drafted causes, adjustment and focus: Chinese
    in zh, and the same numbers (as written, in the order each language puts them) as the
    English."""
    result = boards["zh"].result
    en, zh = Words("en"), Words("zh")
    assert len({a.rule for a in result.alerts}) >= 3
    for a in result.alerts:
        for said, english in ((a.said.what, a.what), (a.said.threshold, a.threshold),
                              (a.said.decider, a.decider)):
            assert en(said) == english  # what --json prints
            chinese = zh(said)
            assert CJK.search(chinese) and not CJK.search(english), chinese
            assert sorted(_numbers(chinese)) == sorted(_numbers(english)), (chinese, english)
    q, ended = review_quarter(result)
    span = result.calendar.quarter_span(q)
    assert (q, ended) == (1, True)  # June 30: Q2 has ended
    drafts = 0
    for u in result.units:
        target, actual, _ = quarter_rows(result, u)[f"Q{q + 1}"]
        texts = [causes(result.alerts, u, span.start, span.end),
                 *adjustment(result, u, q, target, actual, 0.0)]
        for text in texts:
            english, chinese = en(text), zh(text)
            assert CJK.search(chinese) and not CJK.search(english), chinese
            assert sorted(_numbers(chinese)) == sorted(_numbers(english)), (chinese, english)
            drafts += len(_numbers(english)) > 0
    assert drafts >= len(result.units) * 2
    # the drafted causes are one line per warning, the sheet shows them as written
    review = _labels(boards["zh"].book)
    shown = [v for (sheet, _), v in review.items() if sheet == "Quarterly review"]
    assert any(v.count("\n") >= 1 and "• " in v for v in shown)


@pytest.mark.libreoffice
def test_the_chinese_board_recalculates_to_the_engine(boards: dict[str, Made],
                                                      office: LibreOffice,
                                                      tmp_path: Path) -> None:
    """LibreOffice recalculates every formula of the zh board to the engine's value: the
    counts of warnings by level (COUNTIF on 红/橙/黄 and 未结束), the budget flags (超支,
    节余, 正常) and the G/Y/O/R lights."""
    made = boards["zh"]
    values = read_values(office.recalculate([made.path], tmp_path)[made.path])
    expected = made.book.expected_values()
    wrong = differences(values, expected)
    assert len(expected) > 400
    assert not wrong, f"{len(wrong)} of {len(expected)} differ, first: {wrong[:8]}"
    flags = {e for (s, _), e in expected.items() if s == "预算" and isinstance(e, str)}
    assert flags >= {"正常"} and not flags & {"over", "under", "within"}
    counts = [e for (s, c), e in expected.items() if s == "看板" and c.startswith(("B1", "C1"))
              and isinstance(e, int) and not math.isnan(e)]
    assert sum(counts) > 0  # the warnings are counted by their Chinese level words
