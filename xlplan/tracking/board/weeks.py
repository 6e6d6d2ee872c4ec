"""The Weeks sheet: the weekly view that the consecutive-weeks rule reads."""

from __future__ import annotations

import math

from xlplan.tracking.board.base import BoardWriter
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import ref

WEEKS = "Weeks"


def write_weeks(w: BoardWriter, result: TrackResult) -> None:
    """Unit × ISO week: target, actual, attainment with the heat map (weeks that ended)."""
    book = w.book
    s = book.sheet(WEEKS)
    cmp = result.compare[result.compare["grain"] == "week"]
    labels = list(dict.fromkeys(cmp["label"]))
    s.label(0, 0, "Revenue by ISO week", "title")
    rule = result.plan.warnings
    s.label(1, 0, f"Weeks that have ended. The rule: {rule.consecutive_weeks} consecutive weeks "
                  f"more than {rule.weekly_under:.0%} under target → a review meeting.",
            "subtitle")
    if not labels:
        s.label(3, 0, "No complete week with daily actuals yet.", "note")
        return
    top = 3
    blocks = {}
    for name in ("Target", "Actual", "Attainment"):
        s.label(top, 0, name, "section")
        head = top + 1
        s.label(head, 0, "Unit", "header")
        for c, label in enumerate(labels):
            s.label(head, 1 + c, label, "header")
        blocks[name] = head
        top = head + len(w.units) + 2
    for i, u in enumerate(w.units):
        mine = cmp[cmp["unit"] == u].set_index("label")
        t_row, a_row, c_row = (blocks[n] + 1 + i for n in ("Target", "Actual", "Attainment"))
        for row in (t_row, a_row, c_row):
            s.label(row, 0, w.unit_label(u), "bold" if u == result.targets.root else "label")
        for c, label in enumerate(labels):
            rec = mine.loc[label]
            s.given(t_row, 1 + c, w.money(int(rec["target"])), "money0")
            actual = float(rec["actual"])
            s.given(a_row, 1 + c, None if math.isnan(actual) else w.money(actual), "money0")
            a, t = ref(a_row, 1 + c), ref(t_row, 1 + c)
            s.formula(c_row, 1 + c, formulas.attainment(a, t),
                      float(rec["attainment"]), "ratio")
    first = blocks["Attainment"] + 1
    w.heat(s, first, 1, first + len(w.units) - 1, len(labels))
    s.widths({0: 24, **{c: 10 for c in range(1, len(labels) + 1)}})
    s.ws.freeze_panes(0, 1)
    s.ws.set_landscape()
    s.ws.fit_to_pages(1, 0)
