"""Write ``<plan-id>-consolidated.xlsx`` and its two CSVs.

The workbook is for people: in the plan's language (``workbooks.language``), amounts in
its display unit, a summary sheet first (where the plan stands), then the tracker, the
files and their findings, the org roll-up as an outline, the gap, the roll-ups by product
and channel, OKR, BSC, budget and every input. The CSVs are for machines (snake_case
English columns). All three are written to temporaries beside the outputs and renamed into
place together, so a reader never sees half a file or a mix of two runs.

Modules: :mod:`.writer` (how a table looks), :mod:`.sheets` (the detail sheets),
:mod:`.summary` (the first sheet and its charts), :mod:`.csvs` (the CSVs).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.report import sheets
from xlplan.consolidate.report.csvs import (
    facts_csv_path,
    facts_frame,
    gap_csv_path,
    neutralise,
    to_csv,
    write_csv,
    write_facts_csv,
)
from xlplan.consolidate.report.summary import summary
from xlplan.consolidate.report.writer import Writer
from xlplan.consolidate.views import Forecast, Views, build_views
from xlplan.engine.numbers import PlanNumbers
from xlplan.files import replaced_together

__all__ = ["DATA_CELLS", "GAP_CELLS", "OutputFull", "facts_csv_path", "gap_csv_path",
           "neutralise", "to_csv", "write_csv", "write_facts_csv", "write_report"]

DATA_CELLS = 1_000_000  # above this many cells shown, the inputs are in the CSV only
GAP_CELLS = 1_000_000  # above this, the Gap sheet sums products and channels

NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class OutputFull(RuntimeError):
    """An output could not be written (disk full, …); the previous set is unchanged."""


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Name the output in an error while its temporary is written (a write error carries
    no file name, and the temporary's would mean nothing to a person)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise OutputFull(f"disk full writing {path} ({exc.strerror or exc}); the previous "
                             "report and CSVs are unchanged") from None
        raise OutputFull(f"cannot write {path} ({exc.strerror or exc}); the previous report "
                         "and CSVs are unchanged") from None


def write_report(outcome: Outcome, numbers: PlanNumbers, facts: pd.DataFrame, path: Path,
                 forecast: Forecast | None = None) -> Views:
    """The consolidated workbook and its two CSVs (every input, the full gap), all three
    written as temporaries and renamed into place only when all are written: a reader sees
    the old set or the new set, never a mix (OutputFull when one cannot be written). With
    a ``forecast`` (the latest re-forecast in the database) the Gap and Org roll-up sheets
    show the gap against it beside the gap against the budget."""
    accepted = [u for u, s in outcome.units.items() if s == "accepted"]
    views = build_views(numbers, facts, accepted, forecast)
    outputs = [path, facts_csv_path(path), gap_csv_path(path)]
    with _writing(path), replaced_together(outputs) as (book, facts_csv, gap_csv):
        with _writing(path):
            workbook(outcome, numbers, facts, views, book, path, forecast)
        with _writing(outputs[1]):
            to_csv(facts_frame(facts), facts_csv)
        with _writing(outputs[2]):
            to_csv(views.gap, gap_csv)
    return views


def workbook(outcome: Outcome, numbers: PlanNumbers, facts: pd.DataFrame, views: Views,
             tmp: Path, path: Path, forecast: Forecast | None = None) -> None:
    """The consolidated workbook into ``tmp`` (``path``: where it will be). The summary
    sheet is made first (it is the first tab) and written last, when the rows it links
    to are known."""
    w = Writer(tmp, numbers.plan)
    names = sheets.Names.of(numbers)
    first = w.sheet(sheets.SUMMARY)
    sheets.tracker(w, outcome)
    anchors = sheets.Anchors()
    anchors.files = sheets.files(w, outcome, names)
    against = sheets.forecast_note(forecast)
    # the org roll-up before the gap: LibreOffice's one-page-a-sheet PDF (the pictures)
    # shrinks the sheet after a sheet taller than a PDF page (the Gap of a few units up)
    anchors.org = sheets.org(w, views, against)
    anchors.gap = sheets.gap(w, views, numbers, names, gap_csv_path(path).name, GAP_CELLS,
                             against)
    sheets.by_dimension(w, views, numbers, names)
    sheets.okr(w, views, names)
    sheets.bsc(w, views, names)
    sheets.budget(w, views, names)
    sheets.inputs(w, facts, names, facts_csv_path(path).name, DATA_CELLS)
    summary(w, first, outcome, numbers, views, names, anchors)
    w.close()
