"""Which sheets the master and the unit workbooks have, in tab order."""

from __future__ import annotations

from xlplan.workbook.book import Book
from xlplan.workbook.commitments import write_commitments, write_people
from xlplan.workbook.context import BuildContext
from xlplan.workbook.guide import write_guide
from xlplan.workbook.scope import Scope, SheetWriter
from xlplan.workbook.splitter import SHEET as ROUNDING
from xlplan.workbook.targets import write_master_targets, write_unit_targets


def targets(book: Book, ctx: BuildContext, scope: Scope) -> None:
    if scope.unit is None:
        scope.refs["targets"] = write_master_targets(book, scope.splitter, ctx)
    else:
        scope.refs["cube"] = write_unit_targets(book, scope.splitter, ctx, scope.unit)


def _nothing(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The Rounding sheet fills itself as the other sheets split amounts."""


MASTER: list[tuple[str, SheetWriter]] = [
    ("Guide", write_guide), ("Targets", targets), (ROUNDING, _nothing),
]
UNIT: list[tuple[str, SheetWriter]] = [
    ("Guide", write_guide), ("Targets", targets), ("Commitments", write_commitments),
    ("People", write_people), (ROUNDING, _nothing),
]
