"""Commitment letters on the small plan: EAST approved, WEST not. A letter for the approved
unit only, its numbers the engine's (months given, quarters and year as formulas that
LibreOffice recalculates to the same values), the sign-off read back as an audit event,
and a revision that raises the target asking for the letter to be signed again."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from conftest import SMALL, TEMPLATES, require_tool, same_value
from test_season_review import _sha256, cli, deliver, events

from xlplan.consolidate.run import consolidate
from xlplan.engine.numbers import PlanNumbers
from xlplan.libreoffice import LibreOffice, read_values
from xlplan.season.letter_sheet import write_letter
from xlplan.season.letters import RECORD_KEYS, figures_of
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample


def numbers_of(plan: Path) -> PlanNumbers:
    loaded = load_plan(plan)
    return PlanNumbers(loaded.plan, read_prior_year(loaded))


@pytest.fixture
def season(built: list[Built], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A history where EAST's submission is approved and WEST sent nothing."""
    monkeypatch.setenv("XLPLAN_TODAY", "2026-12-20")
    east = next(b for b in built if b.unit == "EAST")
    filled = fill_sample(east.path, tmp_path / "EAST-v1.xlsx", seed=7).workbook
    deliver(tmp_path / "inbox", filled, "2026-12-10")
    consolidate(SMALL, tmp_path / "inbox", tmp_path / "out", workers=1)
    db = tmp_path / "out" / "xlplan.duckdb"
    cli("review", SMALL, "EAST", "approve", "--db", db, "--by", "Li Na")
    return db


def letters(plan: Path, db: Path, *args: Any, ok: bool = True) -> Any:
    result = cli("letters", plan, "--db", db, *args, ok=ok)
    return json.loads(result.stdout) if ok and "--json" in args else result


def record_of(path: Path) -> dict[str, str]:
    book = openpyxl.load_workbook(path)
    sheet = book["LetterRecord"]
    assert sheet.sheet_state == "hidden"
    return {k: str(sheet[f"B{i}"].value) for i, k in enumerate(RECORD_KEYS, start=1)}


def sign(letter: Path, to: Path, name: str | None, day: dt.date) -> Path:
    """The manager types a name and date into the letter's sign-off cells and saves it."""
    rec = record_of(letter)
    book = openpyxl.load_workbook(letter)
    book["Letter"][rec["name_cell"]] = name
    book["Letter"][rec["date_cell"]] = dt.datetime.combine(day, dt.time())
    book.save(to)
    return to


def test_letters_for_the_approved_units_only(season: Path, tmp_path: Path) -> None:
    doc = letters(SMALL, season, "-o", tmp_path / "letters", "--no-pdf", "--json")
    assert [w["unit"] for w in doc["written"]] == ["EAST"]
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == ["letter-EAST.xlsx"]

    numbers = numbers_of(SMALL)
    book = openpyxl.load_workbook(tmp_path / "letters" / "letter-EAST.xlsx")
    sheet = book["Letter"]
    assert (sheet.page_setup.orientation, str(sheet.page_setup.paperSize)) == ("portrait", "9")
    assert sheet["B4"].value == "East region (EAST)"
    months = [sheet[f"B{r}"].value for r in range(11, 23)]
    assert months == [int(m) / 100 for m in numbers.months["EAST"]]  # minor units → CNY
    assert [sheet[f"A{r}"].value for r in (11, 22)] == ["Jan 2027", "Dec 2027"]
    assert sheet["D11"].value == "=SUM(B11:B13)" and sheet["D14"].value == "=SUM(B20:B22)"
    assert sheet["B7"].value == "=SUM(D11:D14)"
    text = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(t.startswith("KR2.1 East repurchase") for t in text)  # EAST's own key result
    assert not any(t.startswith("KR1.1") for t in text)  # the company's, not EAST's
    assert any("signed again" in t for t in text)  # the dynamic-update clause
    cached = openpyxl.load_workbook(tmp_path / "letters" / "letter-EAST.xlsx", data_only=True)
    year = cached["Letter"]["B7"].value
    assert year == numbers.targets["EAST"] / 100 == pytest.approx(sum(months))
    assert record_of(tmp_path / "letters" / "letter-EAST.xlsx")["unit"] == "EAST"


@pytest.mark.libreoffice
@pytest.mark.slow
def test_letters_recalculate_to_the_engine(season: Path, tmp_path: Path, office: LibreOffice
                                           ) -> None:
    doc = letters(SMALL, season, "-o", tmp_path / "letters", "--json")
    written = Path(doc["written"][0]["xlsx"])
    pdf = Path(doc["written"][0]["pdf"])
    info = subprocess.run([require_tool("pdfinfo"), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)  # one page …
    size = re.search(r"^Page size:\s+([0-9.]+) x ([0-9.]+) pts", info, re.M)
    assert size and (round(float(size[1])), round(float(size[2]))) == (595, 842)  # … A4 upright
    loaded = load_plan(SMALL)
    figures = figures_of(numbers_of(SMALL), "EAST")
    (tmp_path / "zh").mkdir()
    chinese = write_letter(figures, loaded.spec_hash, "zh", tmp_path / "zh" / "letter-EAST-zh.xlsx")
    zh_book = openpyxl.load_workbook(chinese.path)
    assert zh_book.sheetnames == ["承诺书", "LetterRecord"]  # the record is hidden, for xlplan
    zh_sheet = zh_book["承诺书"]
    assert zh_sheet["A1"].value == "2027 年度目标承诺书"
    assert [zh_sheet[f"A{r}"].value for r in (4, 11, 22)] == ["单位", "2027年1月", "2027年12月"]
    assert zh_sheet["C11"].value == "一季度"
    assert chinese.book.unmarked == []  # every word a catalog message or plan data
    expected = write_letter(figures, loaded.spec_hash, "en", None).book.expected_values()
    assert len(expected) == 5  # four quarters and the year
    out = office.recalculate([written, chinese.path], tmp_path / "recalc")
    for path in (written, chinese.path):
        values = read_values(out[path])
        values["Letter"] = values.get("承诺书", values.get("Letter", {}))
        wrong = [(s, c, e, values[s].get(c)) for (s, c), e in expected.items()
                 if not same_value(e, values[s].get(c))]
        assert not wrong, f"{path}: {wrong}"
    assert expected[("Letter", "B7")] == numbers_of(SMALL).targets["EAST"] / 100


def test_sign_off_and_a_revision_that_changes_the_target(season: Path, tmp_path: Path) -> None:
    letter = Path(letters(SMALL, season, "-o", tmp_path / "letters", "--no-pdf",
                          "--json")["written"][0]["xlsx"])
    states = {r["unit"]: r["state"] for r in letters(SMALL, season, "--status",
                                                      "--json")["letters"]}
    assert states == {"EAST": "awaiting signature", "WEST": "not approved"}

    # the letters inbox: one without a name, one with January lowered, one signed
    back = tmp_path / "back"
    back.mkdir()
    rec = record_of(letter)
    sign(letter, back / "a-unsigned.xlsx", None, dt.date(2027, 1, 5))
    tampered = sign(letter, back / "b-tampered.xlsx", "Chen Jie", dt.date(2027, 1, 5))
    book = openpyxl.load_workbook(tampered)
    book["Letter"]["B11"] = book["Letter"]["B11"].value - 1000
    book.save(tampered)
    signed = sign(letter, back / "c-signed.xlsx", "Chen Jie", dt.date(2027, 1, 5))
    before = len(events(season))
    bad = letters(SMALL, season, "--signed", back, ok=False)
    assert bad.exit_code == 1 and "2 of 3 letters not recorded" in bad.output
    assert f"cell {rec['name_cell']}: expected the signer's name" in bad.output
    assert "b-tampered.xlsx: sheet Letter: numbers changed" in bad.output \
        and "B11 (expected" in bad.output
    trail = events(season)
    assert len(trail) == before + 1
    last = trail[-1]
    assert (last["event"], last["unit"], last["actor"], last["sha256"]) == (
        "signed", "EAST", "Chen Jie", _sha256(signed))
    assert last["detail"]["signed_on"] == "2027-01-05"
    assert last["detail"]["letter"] == rec["letter"]
    again = letters(SMALL, season, "--signed", signed, "--json")
    assert again["signed"][0]["outcome"] == "already recorded" and len(events(season)) == \
        before + 1
    status = {r["unit"]: r for r in letters(SMALL, season, "--status", "--json")["letters"]}
    assert (status["EAST"]["state"], status["EAST"]["signed_by"]) == ("signed", "Chen Jie")

    # a revision that leaves EAST's numbers alone keeps the signature; one raising them does not
    revised = tmp_path / "plan"
    revised.mkdir()
    shutil.copy(TEMPLATES / "small-prior-year.csv", revised)
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["workbooks"]["deadline"] = dt.date(2026, 12, 31)
    (revised / "later.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    state = letters(revised / "later.yaml", season, "--status", "--json")["letters"][0]
    assert (state["unit"], state["state"]) == ("EAST", "signed")
    data["north_star"]["target"] = 14_000_000
    (revised / "raised.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    assert numbers_of(revised / "raised.yaml").targets["EAST"] > \
        numbers_of(SMALL).targets["EAST"]
    state = letters(revised / "raised.yaml", season, "--status", "--json")["letters"][0]
    assert state["state"] == "needs re-signing" and state["letter"] != rec["letter"]

    # the new letter, signed, holds again
    new = Path(letters(revised / "raised.yaml", season, "-o", tmp_path / "new", "--no-pdf",
                       "--json")["written"][0]["xlsx"])
    resigned = sign(new, tmp_path / "resigned.xlsx", "Chen Jie", dt.date(2027, 3, 1))
    letters(revised / "raised.yaml", season, "--signed", resigned)
    state = letters(revised / "raised.yaml", season, "--status", "--json")["letters"][0]
    assert state["state"] == "signed" and state["signed_on"] == "2027-03-01"


def test_a_chinese_letter_is_signed_and_read_back(tmp_path: Path) -> None:
    """The letter's sheet shows its Chinese name; the signature is read back from it, and a
    missing name is reported at that sheet as the letter shows it."""
    from xlplan.season.letters import LetterError, read_signed
    from xlplan.season.words import say

    loaded = load_plan(SMALL)
    figures = figures_of(numbers_of(SMALL), "EAST")
    letter = write_letter(figures, loaded.spec_hash, "zh", tmp_path / "letter-EAST.xlsx").path
    rec = record_of(letter)
    book = openpyxl.load_workbook(letter)
    book["承诺书"][rec["name_cell"]] = "陈杰"
    book["承诺书"][rec["date_cell"]] = dt.datetime(2026, 12, 22)
    book.save(tmp_path / "signed.xlsx")
    sig = read_signed(tmp_path / "signed.xlsx")
    assert (sig.name, sig.signed_on, sig.record["unit"]) == ("陈杰", dt.date(2026, 12, 22), "EAST")
    book["承诺书"][rec["name_cell"]] = None
    book.save(tmp_path / "unsigned.xlsx")
    with pytest.raises(LetterError, match=f"sheet 承诺书, cell {rec['name_cell']}: expected "):
        read_signed(tmp_path / "unsigned.xlsx")
    # the season's mail words come from the same catalogs
    assert say("zh", "deadline", deadline="2026-12-15") == "于 2026-12-15 前交回"
    assert say("en", "deadline", deadline="2026-12-15") == "by 2026-12-15"
    assert say("fr", "letter.kr") == "Key result" and say("zh", "letter.kr") == "关键结果（KR）"
