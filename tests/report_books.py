"""Consolidated workbooks for the report tests, and readers of what a person sees in them.

``consolidated(tmp, language, amounts)`` builds the small (English) plan with its
workbooks in ``language`` and amounts shown in ``amounts``, fills two unit workbooks and
consolidates them; it returns the outcome (``outcome.output`` is the workbook).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
from conftest import SMALL

from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.run import consolidate
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
HEADER_FILL = "FF1F4E79"


def plan_in(tmp: Path, language: str, amounts: str) -> Path:
    """The small plan with its workbooks in ``language`` and amounts in ``amounts``."""
    text = SMALL.read_text(encoding="utf-8").replace(
        "workbooks:\n", f"workbooks:\n  language: {language}\n  amount_display: {amounts}\n", 1)
    tmp.mkdir(parents=True, exist_ok=True)
    plan = tmp / SMALL.name
    plan.write_text(text, encoding="utf-8")
    for extra in SMALL.parent.glob("small-prior*"):
        shutil.copyfile(extra, tmp / extra.name)
    return plan


def consolidated(tmp: Path, language: str, amounts: str) -> Outcome:
    plan = plan_in(tmp, language, amounts)
    loaded = load_plan(plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    built = build_all(ctx, tmp / "build")
    inbox = tmp / "inbox"
    for seed, unit in enumerate(b for b in built if b.unit is not None):
        fill_sample(unit.path, inbox / f"{loaded.plan.id}-{unit.unit}-sent.xlsx", seed=2 + seed)
    return consolidate(plan, inbox, tmp / "consolidated")


def header_cells(ws: Any) -> list[Any]:
    """The cells a reader takes for headers: every table's header row, and every cell in
    the header style (white on dark blue)."""
    cells = []
    for table in ws.tables.values():
        first = ws[table.ref.split(":")[0]]
        last = ws[table.ref.split(":")[1]]
        cells += [ws.cell(first.row, c) for c in range(first.column, last.column + 1)]
    for row in ws.iter_rows():
        cells += [c for c in row if c.value is not None and c.fill is not None
                  and c.fill.fgColor is not None and c.fill.fgColor.rgb == HEADER_FILL]
    return cells


def text_cells(path: Path) -> list[tuple[str, str, str]]:
    """(sheet, cell, text) of every text cell, formulas left out."""
    wb = openpyxl.load_workbook(path)
    try:
        return [(ws.title, c.coordinate, c.value) for ws in wb.worksheets
                for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and not c.value.startswith("=")]
    finally:
        wb.close()
