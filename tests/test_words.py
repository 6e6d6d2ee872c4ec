"""The words of the workbooks: catalogs complete and compiled, every fixed text cell a catalog
message, Chinese where the plan says zh, and an unknown language a plan error."""

from __future__ import annotations

import importlib.util
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from conftest import ROOT, SMALL

from xlplan.i18n import LANGUAGES, Msg, Words, data, display_width, msg
from xlplan.spec.loader import PlanError, in_language, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.book import Book
from xlplan.workbook.build import _run_writers, master_sheets, predict_unit
from xlplan.workbook.context import BuildContext

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# sheets whose writers take every word from the catalog (the others are listed in the
# report of issue 16 as still to do; the list only grows)
DONE = {"Guide", "Targets", "Commitments", "People", "Rounding", "OKR", "BSC", "Budget", "Actions",
        "Risks", "Review", "Increment", "Dashboard", "Live"}


def _catalog_script():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("catalog", ROOT / "scripts" / "catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_hold_every_message_and_are_compiled() -> None:
    """What Babel extracts from the code is exactly what each .po holds, and each .mo is
    that .po compiled: a message added to a writer without updating the catalogs fails."""
    catalog = _catalog_script()
    for language in LANGUAGES:
        po = catalog.po_path(language).read_bytes()
        assert catalog.po_bytes(catalog.updated(language, catalog.template())) == po, (
            f"{language}: run python scripts/catalog.py")
        assert catalog.po_path(language).with_suffix(".mo").read_bytes() == \
            catalog.mo_bytes(po, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    """No empty or fuzzy translation; each keeps the id's {fields}; zh ones are Chinese."""
    path = ROOT / "xlplan" / "locale" / language / "LC_MESSAGES" / "xlplan.po"
    cat = read_po(io.BytesIO(path.read_bytes()), locale=language)
    messages = [m for m in cat if m.id]
    assert len(messages) > 100
    for m in messages:
        assert m.string and not m.fuzzy, f"{language}: {m.id!r} has no translation"
        assert _fields(m.string) == _fields(m.id), f"{language}: {m.id!r} → {m.string!r}"
        if language == "zh":
            letters = re.sub(r"\{\w+\}|&[A-Z]", "", m.string)
            assert CJK.search(letters) or not re.search("[A-Za-z]", letters), m.string
        else:
            assert m.string == m.id


def test_a_message_is_shown_in_the_book_language() -> None:
    title = msg("{plan}: targets by unit", plan=data("华新 2027"))
    assert Words("en")(title) == "华新 2027: targets by unit"
    assert Words("zh")(title) == "华新 2027：各单位目标"
    assert Words("zh")(msg("{month} {year}", month=msg("Mar"), year=2027)) == "2027年3月"
    # a message is its id as a key, so writers index columns by it in any language
    assert {msg("Target"): 1}["Target"] == 1
    assert msg("Attainment y-{n}", n=1) != msg("Attainment y-{n}", n=2)
    assert display_width("目标（万元）") == 12 and display_width("Target") == 6


def test_a_literal_in_a_cell_is_listed_as_unmarked() -> None:
    book = Book(None, language="zh")
    s = book.sheet("Guide")
    s.label(0, 0, msg("Deadline"))
    s.label(1, 0, data("R-NORTH"))
    s.label(2, 0, "Deadline")
    assert book.unmarked == [("Guide", "A3", "Deadline")]
    assert [c.content for c in book.cells] == ["截止日期", "R-NORTH", "Deadline"]


def _book(language: str, unit: bool) -> Book:
    """A dry run of the small plan's first unit workbook, or of its master (with the Live
    sheet of --with-functions)."""
    loaded = in_language(load_plan(SMALL), language)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    if unit:
        return predict_unit(ctx, ctx.input_units[0], {})[0]
    book = Book(None, language=language)
    _run_writers(book, ctx, None, master_sheets(with_functions=True), manifest=False)
    return book


@pytest.mark.parametrize("unit", [True, False], ids=["unit", "master"])
def test_workbook_words_come_from_the_catalog_in_both_languages(unit: bool) -> None:
    """Every fixed text cell of the done sheets is a catalog message or plan data; a cell
    that reads differently in zh than in en is Chinese in zh and has no CJK in en; one that
    reads the same is plan data (the small plan is English)."""
    en, zh = _book("en", unit), _book("zh", unit)
    keys = {}
    for book in (en, zh):
        key_of = {sheet.name: str(key) for key, sheet in book.sheets.items()}
        assert [u for u in book.unmarked if key_of[u[0]] in DONE] == []
        keys[book.language] = {(key_of[c.sheet], c.ref): c.content for c in book.cells
                               if c.kind == "label" and key_of[c.sheet] in DONE}
    labels, shown = keys["en"], keys["zh"]
    assert labels.keys() == shown.keys() and len(labels) > 100
    assert {s.name for s in zh.sheets.values()} >= {"填写说明", "目标", "舍入", "预算"}
    translated = 0
    for key, english in labels.items():
        chinese = shown[key]
        assert not CJK.search(str(english)), key
        if chinese != english:
            translated += 1
            assert CJK.search(str(chinese)), (key, chinese)
    assert translated > 50
    assert shown[("Targets", "A4")] == ("年度目标" if unit else "分配参数")


def test_validation_words_follow_the_language() -> None:
    from xlplan.workbook.input_rules import AMOUNT

    zh = AMOUNT.validation(Words("zh"))
    assert (zh["input_title"], zh["error_title"], zh["error_message"]) == (
        "金额", "输入无效", "≥ 0 的数字")
    assert AMOUNT.validation()["error_message"] == AMOUNT.describe() == "a number ≥ 0"
    assert isinstance(AMOUNT.title, Msg)


def test_unknown_language_or_display_unit_is_a_plan_error(tmp_path: Path) -> None:
    text = SMALL.read_text(encoding="utf-8").replace(
        "workbooks:\n", "workbooks:\n  language: fr\n  amount_display: lakh\n", 1)
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    for name in ("small-prior-year.csv",):
        (tmp_path / name).write_bytes((SMALL.parent / name).read_bytes())
    with pytest.raises(PlanError) as err:
        load_plan(plan)
    line = text.splitlines().index("  language: fr") + 1
    assert f"plan.yaml:{line}: workbooks.language: Input should be 'en' or 'zh'" in str(err.value)
    assert (f"plan.yaml:{line + 1}: workbooks.amount_display: Input should be 'yuan', "
            "'thousand' or 'wan'") in str(err.value)


def test_a_zh_and_an_en_submission_give_the_same_facts(tmp_path: Path) -> None:
    """Sheet names follow the language; consolidation finds them through the manifest and
    records facts by the sheets' stable keys, so the two languages consolidate together."""
    from xlplan.consolidate.examine import examine
    from xlplan.workbook.build import build_unit
    from xlplan.workbook.fill import fill_sample
    from xlplan.workbook.manifest import read_manifest

    loaded = load_plan(SMALL)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    unit = ctx.input_units[0]
    facts = {}
    for language in LANGUAGES:
        other = BuildContext(in_language(loaded, language), ctx.prior)
        built = build_unit(other, tmp_path / language, unit)
        sent = tmp_path / language / f"{loaded.plan.id}-{unit}-sent.xlsx"
        fill_sample(built.path, sent, seed=5)
        manifest = read_manifest(sent)
        assert manifest.language == language
        found = examine(sent, ctx)
        assert found.status == "accepted", found
        facts[language] = sorted(found.facts, key=repr)
        if language == "zh":
            assert manifest.sheet_named("Commitments") == "承诺"
            assert {f.sheet for f in found.facts} <= set(manifest.sheet_names)
    assert facts["zh"] == facts["en"] and len(facts["en"]) > 300
