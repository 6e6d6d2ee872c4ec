"""Which sheets the master and the unit workbooks have, in tab order."""

from __future__ import annotations

import functools

from xlplan.i18n import LANGUAGES, Words, msg
from xlplan.workbook.actions import write_actions
from xlplan.workbook.book import Book
from xlplan.workbook.bsc import write_bsc
from xlplan.workbook.budget import write_budget
from xlplan.workbook.commitments import write_commitments, write_people
from xlplan.workbook.context import BuildContext
from xlplan.workbook.dashboard import write_dashboard
from xlplan.workbook.guide import write_guide
from xlplan.workbook.increment import write_increment
from xlplan.workbook.last_year import write_review
from xlplan.workbook.live import SHEET as LIVE
from xlplan.workbook.live import write_live
from xlplan.workbook.okr import write_okr
from xlplan.workbook.readiness import write_readiness
from xlplan.workbook.risks import write_risks
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
    (msg("Guide"), write_guide), (msg("Targets"), targets), (msg("Review"), write_review),
    (msg("Increment"), write_increment),
    (msg("OKR"), write_okr), (msg("BSC"), write_bsc), (msg("Budget"), write_budget),
    (msg("Actions"), write_actions), (msg("Risks"), write_risks),
    (msg("Dashboard"), write_dashboard),
    (ROUNDING, _nothing),
]
UNIT: list[tuple[str, SheetWriter]] = [
    (msg("Guide"), write_guide), (msg("Targets"), targets),
    (msg("Commitments"), write_commitments), (msg("People"), write_people),
    (msg("OKR"), write_okr), (msg("BSC"), write_bsc), (msg("Budget"), write_budget),
    (msg("Actions"), write_actions), (msg("Risks"), write_risks),
    (msg("Guide"), write_readiness),  # last: it checks the other sheets' inputs
    (ROUNDING, _nothing),
]
# ``xlplan build --with-functions``: the Live sheet (XLPLAN_* functions) after the Dashboard.
MASTER_WITH_FUNCTIONS: list[tuple[str, SheetWriter]] = [*MASTER[:-1], (LIVE, write_live),
                                                        MASTER[-1]]


@functools.cache
def _keys_by_name() -> dict[str, str]:
    return {Words(language)(key): str(key) for language in LANGUAGES
            for key, _ in (*MASTER_WITH_FUNCTIONS, *UNIT)}


def shown_in(words: Words, name: str) -> str:
    """A master or unit sheet's name as ``words``' language shows it, from its name in any
    language (承诺 → Commitments and back): a submission of one language carried into a
    workbook of another keeps every input on its sheet. A name xlplan never writes is
    returned as it is."""
    key = _keys_by_name().get(name)
    return name if key is None else words(msg(key))
