"""The tracking board (看板): ``<plan-id>-board-<date>.xlsx``, written from a :class:`TrackResult`.

Sheets, one module each, named in the plan's language (``workbooks.language``; each
module's sheet constant, a catalog message, is the sheet's stable key, :data:`SHEETS`):
**Board** (:mod:`.summary`: headline, attainment by unit and month with the status heat
map, target vs actual chart), **Warnings**, **Weeks** (the weekly view the
consecutive-weeks rule reads), **BSC** (company scorecard, unit × KPI heat map, the daily
report rolled up by month, score chart), **OKR**, **Budget** (spend vs budget by line and
month, ROI) and **Quarterly review** (复盘), and with ``--compare`` **Versions**
(:mod:`.versions`: stored versions and the actuals side by side with their variances).
Every word is a catalog message or plan data, written through the
:class:`~xlplan.workbook.book.Book` recorder (which lists any other string). What the
sheets share is in :mod:`.base`.

The file is written under a temporary name and renamed into place
(:func:`xlplan.files.replaced`).
"""

from __future__ import annotations

from pathlib import Path

from xlplan.files import replaced
from xlplan.i18n import msg
from xlplan.tracking.board.base import BoardWriter, Extra, Refs
from xlplan.tracking.board.bsc import BSC, write_bsc
from xlplan.tracking.board.budget import BUDGET, write_budget
from xlplan.tracking.board.okr import OKR, write_okr
from xlplan.tracking.board.review import SHEET as REVIEW
from xlplan.tracking.board.review import write_review
from xlplan.tracking.board.summary import SHEET as BOARD
from xlplan.tracking.board.summary import BoardSheet
from xlplan.tracking.board.versions import SHEET as VERSIONS
from xlplan.tracking.board.versions import write_versions
from xlplan.tracking.board.warnings import WARNINGS, write_warnings
from xlplan.tracking.board.weeks import WEEKS, write_weeks
from xlplan.tracking.track import TrackResult
from xlplan.tracking.version_compare import Comparison
from xlplan.workbook.book import Book

# the sheets' stable keys, in the order they are written (``Words(language)(key)`` is a
# sheet's name as the board shows it; ``Book.sheets`` is by these keys)
SHEETS = (BOARD, WARNINGS, WEEKS, BSC, OKR, BUDGET, REVIEW, VERSIONS)


def board_path(out_dir: Path, plan_id: str, as_of: str) -> Path:
    """``DIR/<plan-id>-board-<date>.xlsx``."""
    return out_dir / f"{plan_id}-board-{as_of}.xlsx"


def write_board(result: TrackResult, out_dir: Path, comparison: Comparison | None = None
                ) -> tuple[Path, Book]:
    """Write the board into ``out_dir`` (whole or not at all), with the Versions sheet when
    given a ``comparison``; returns its path and the record of its cells."""
    final = board_path(out_dir, result.plan.id, result.as_of.isoformat())
    with replaced(final) as tmp:
        book = Book(tmp, language=result.plan.workbooks.language,
                    amounts=result.plan.workbooks.amount_display)
        board = BoardSheet(book, result)
        board.title()
        board.bands()
        _, _, _, last = board.tables()
        extra = _write_other_sheets(book, result, board.refs)
        write_review(book, result, board.refs)
        if comparison is not None:
            write_versions(BoardWriter(book, result, board.refs), comparison)
        board.headline(extra.warnings, extra.headline)
        board.charts()
        board.finish(last)
        book.close()
    return final, book


def _write_other_sheets(book: Book, result: TrackResult, refs: Refs) -> Extra:
    """Warnings, Weeks, BSC, OKR and Budget; what the Board's headline needs from them."""
    w = BoardWriter(book, result, refs)
    extra = write_warnings(book, result)
    write_weeks(w, result)
    total, value = write_bsc(w, result)
    write_okr(w, result)
    budget = write_budget(w, result)
    extra.headline.update(budget)
    if total:
        extra.headline[msg("BSC score, company (0-10)")] = (total, value, "score")
    return extra
