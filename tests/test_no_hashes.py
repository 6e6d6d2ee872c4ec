"""No number shows ``###``: the master, a unit workbook, the consolidated workbook and the
tracking board, in both languages with amounts in yuan and in 万元 (all four pairs), printed
to PDF by LibreOffice and searched as text (a number too wide for its column prints as ###)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SMALL, require_tool
from test_tracking_year import as_actuals

from xlplan.consolidate.run import consolidate
from xlplan.libreoffice import LibreOffice
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking.board import write_board
from xlplan.tracking.synthetic import generate
from xlplan.tracking.track import track
from xlplan.workbook.build import build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample

VARIANTS = {"en-yuan": ("en", "yuan"), "zh-wan": ("zh", "wan"), "en-wan": ("en", "wan"),
            "zh-yuan": ("zh", "yuan")}


def _plan(tmp: Path, language: str, amounts: str) -> Path:
    """The small plan with its workbooks in ``language`` and amounts shown in ``amounts``."""
    text = SMALL.read_text(encoding="utf-8").replace(
        "workbooks:\n", f"workbooks:\n  language: {language}\n  amount_display: {amounts}\n", 1)
    plan = tmp / SMALL.name
    plan.write_text(text, encoding="utf-8")
    for extra in SMALL.parent.glob("small-prior*"):
        shutil.copyfile(extra, tmp / extra.name)
    return plan


def _workbooks(tmp: Path, language: str, amounts: str) -> list[Path]:
    plan = _plan(tmp, language, amounts)
    loaded = load_plan(plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    built = build_all(ctx, tmp / "build")
    unit = next(b for b in built if b.unit is not None)
    inbox = tmp / "inbox"
    fill_sample(unit.path, inbox / f"{loaded.plan.id}-{unit.unit}-sent.xlsx", seed=2)
    outcome = consolidate(plan, inbox, tmp / "consolidated")
    report = outcome.output
    assert report.is_file()
    year = as_actuals(generate(loaded.plan, ctx.prior), loaded)
    result = track(loaded.plan, year, dt.date(2027, 6, 30), ctx.prior)
    board, _ = write_board(result, tmp / "board")
    master = next(b for b in built if b.unit is None)
    return [master.path, unit.path, report, board]


@pytest.mark.libreoffice
@pytest.mark.parametrize("variant", VARIANTS)
def test_no_number_prints_as_hashes(variant: str, tmp_path: Path) -> None:
    require_tool("soffice")
    pdftotext = require_tool("pdftotext")
    language, amounts = VARIANTS[variant]
    books = _workbooks(tmp_path, language, amounts)
    with LibreOffice() as office:
        for book in books:
            pdf = office.to_pdf(book, tmp_path / "pdf")
            text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout
            assert len(text) > 500, book.name
            assert "###" not in text, f"{book.name}: a number prints as ###"
