"""The OKR sheet: progress from the latest key-result readings against time passed."""

from __future__ import annotations

import math

from xlplan.i18n import data, msg
from xlplan.tracking.actuals import rows
from xlplan.tracking.board.base import BoardWriter, none_if_nan
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import ref
from xlplan.workbook.highlights import add_data_bar
from xlplan.workbook.okr import nan_blank

OKR = msg("OKR")
OKR_HEADERS = [msg("Objective"), msg("Unit"), msg("Key result id"), msg("Start value"),
               msg("Target"), msg("Current"), msg("From actuals"), msg("Progress"),
               msg("Time passed"), msg("KR roll-up"), msg("Objective progress"),
               msg("Objective roll-up")]




def write_okr(w: BoardWriter, result: TrackResult) -> None:
    s = w.book.sheet(OKR)
    s.label(0, 0, msg("OKR progress as of {date}", date=data(result.as_of.isoformat())), "title")
    s.label(1, 0, msg("Current = the latest reading imported for the KR (measure = KR id), else "
                      "the plan's. Progress = (current − start) ÷ (target − start), held to "
                      "0–100%; time passed = share of the way from the fiscal start to the KR's "
                      "due date."), "subtitle")
    head = 3
    for c, text in enumerate(OKR_HEADERS):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)
    okr = result.okr
    for i, rec in enumerate(rows(okr)):
        r = head + 1 + i
        s.label(r, 0, data(rec.objective))
        s.label(r, 1, data(str(rec.unit) or result.targets.root))
        s.label(r, 2, data(rec.kr))
        s.given(r, 3, float(rec.start), "number")
        s.given(r, 4, float(rec.target), "number")
        s.given(r, 5, None if math.isnan(rec.current) else float(rec.current), "number")
        s.label(r, 6, msg("yes") if rec.reading else msg("no"))
        start, target, current = ref(r, 3), ref(r, 4), ref(r, 5)
        s.formula(r, 7, formulas.kr_progress(start, target, current),
                  nan_blank(float(rec.progress)), "ratio")
        s.given(r, 8, float(rec.expected), "ratio")
        s.given(r, 9, none_if_nan(float(rec.kr_rollup)), "ratio")
        s.given(r, 10, none_if_nan(float(rec.objective_progress)), "ratio")
        s.given(r, 11, none_if_nan(float(rec.objective_rollup)), "ratio")
    last = head + max(len(okr), 1)
    if len(okr):
        add_data_bar(s, head + 1, 7, last, 1)
        # behind schedule: progress more than the yellow band below the time passed
        band = w.refs.bands["yellow"]
        p, e = ref(head + 1, 7), ref(head + 1, 8)
        s.ws.conditional_format(head + 1, 7, last, 7, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({p}),{p}<{e}-{band})",
            "format": w.book.wb.add_format({"font_color": "#C00000", "bold": True})})
    s.widths({0: 10, 1: 10, 2: 10, 3: 12, 4: 12, 5: 12, 6: 8, 7: 10, 8: 10, 9: 10, 10: 12, 11: 12})
    s.ws.freeze_panes(head + 1, 3)
    s.print_setup()
