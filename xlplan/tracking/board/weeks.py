"""The Weeks sheet: the weekly view that the consecutive-weeks rule reads."""

from __future__ import annotations

import math

from xlplan.i18n import msg
from xlplan.tracking.board.base import BoardWriter, fit_column, week_label
from xlplan.tracking.track import TrackResult
from xlplan.workbook import formulas
from xlplan.workbook.book import ref

WEEKS = msg("Weeks")


def write_weeks(w: BoardWriter, result: TrackResult) -> None:
    """Unit × ISO week: target, actual, attainment with the heat map (weeks that ended)."""
    book = w.book
    s = book.sheet(WEEKS)
    cmp = result.compare[result.compare["grain"] == "week"]
    labels = list(dict.fromkeys(cmp["label"]))
    s.label(0, 0, msg("Revenue by ISO week ({currency})", currency=w.amounts()), "title")
    rule = result.plan.warnings
    s.label(1, 0, msg("Weeks that have ended. The rule: {weeks} consecutive weeks more than "
                      "{under:.0%} under target → a review meeting.",
                      weeks=rule.consecutive_weeks, under=rule.weekly_under), "subtitle")
    s.print_setup()
    if not labels:
        s.label(3, 0, msg("No complete week with daily actuals yet."), "note")
        return
    top = 3
    blocks: dict[str, int] = {}
    for name in (msg("Target"), msg("Actual"), msg("Attainment")):
        s.label(top, 0, name, "section")
        head = top + 1
        s.label(head, 0, msg("Unit"), "header")
        for c, label in enumerate(labels):
            s.label(head, 1 + c, week_label(label), "header")
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
    for c, label in enumerate(labels):  # 2027年第14周 is wider than W14 2027
        fit_column(s, 1 + c, [week_label(label)], 10)
    fit_column(s, 0, [w.unit_label(u) for u in w.units], 24)
    s.ws.freeze_panes(0, 1)
