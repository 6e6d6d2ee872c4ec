"""The Warnings sheet: one line per episode of a rule at one place."""

from __future__ import annotations

import math

from xlplan.engine.rounding import major_float
from xlplan.i18n import data, msg
from xlplan.tracking.board.base import Extra, add_styles
from xlplan.tracking.track import TrackResult
from xlplan.tracking.warning_rules import DECIDES_WORDS, LEVEL_WORDS, RULE_WORDS
from xlplan.workbook.book import Book
from xlplan.workbook.formulas import quoted
from xlplan.workbook.layout import amounts_in, fit_row

WARNINGS = msg("Warnings")
LEVEL_COLOURS = {"red": "#FFC7CE", "orange": "#F8CBAD", "yellow": "#FFEB9C"}
WARNING_HEADERS = [msg("#"), msg("Level"), msg("What"), msg("Unit or line"), msg("Name"),
                   msg("Rule"), msg("Rule that fired"), msg("Since"), msg("Fired"), msg("Until"),
                   msg("State"), msg("Value"), msg("At stake ({currency})"), msg("Decides"),
                   msg("Who decides"), msg("Periods")]
READING = msg("Each line is one episode of a rule at one place: since = start of its first "
              "period, fired = the day the rule could first see it, until = end of its last "
              "period; open = it still fires in the latest period. Who decides: a regional "
              "manager up to the plan's share of the unit's reserve, above that HQ.")
WIDTHS: dict[int, float] = {0: 4, 1: 8, 2: 52, 3: 12, 4: 18, 5: 17, 6: 30, 7: 11, 8: 11,
                            9: 11, 10: 7, 11: 8, 12: 14, 13: 8, 14: 24, 15: 7}


def write_warnings(book: Book, result: TrackResult) -> Extra:
    add_styles(book)
    s = book.sheet(WARNINGS)
    s.heading(msg("Warnings as of {date}", date=data(result.as_of.isoformat())), READING)
    head = 3
    currency = amounts_in(result.plan)
    for c, text in enumerate(WARNING_HEADERS):
        s.label(head, c, msg(text, currency=currency) if "{" in text else text, "header")
    s.ws.set_row(head, 30)
    su = result.plan.currency.smallest_unit
    for i, a in enumerate(result.alerts):
        r = head + 1 + i
        said = a.said
        s.given(r, 0, i + 1, "integer_top")
        s.label(r, 1, LEVEL_WORDS[a.level], "status_top")
        s.label(r, 2, said.what, "wrap_top")
        s.label(r, 3, data(a.where), "top")
        s.label(r, 4, data(a.where_name), "wrap_top")
        s.label(r, 5, RULE_WORDS[a.rule], "top")
        s.label(r, 6, said.threshold, "wrap_top")
        s.given(r, 7, a.since, "date_top")
        s.given(r, 8, a.fired, "date_top")
        s.given(r, 9, a.until, "date_top")
        s.label(r, 10, msg("open") if a.open else msg("closed"), "top")
        style = "ratio_top" if a.rule != "roi-freeze" else "top"
        s.given(r, 11, None if math.isnan(a.value) else a.value, style)
        s.given(r, 12, major_float(a.at_stake, su), "money_top")
        s.label(r, 13, DECIDES_WORDS[a.decides], "top")
        s.label(r, 14, said.decider, "wrap_top")
        s.given(r, 15, a.periods, "integer_top")
        fit_row(s, r, [(said.what, WIDTHS[2]), (a.where_name, WIDTHS[4]),
                       (said.threshold, WIDTHS[6]), (said.decider, WIDTHS[14])])
    last = head + max(len(result.alerts), 1)
    if not result.alerts:
        s.label(head + 1, 2, msg("No warnings: every rule is within its threshold."), "note")
    for level, colour in LEVEL_COLOURS.items():
        s.ws.conditional_format(head + 1, 1, last, 1, {
            "type": "cell", "criteria": "==", "value": quoted(book.words(LEVEL_WORDS[level])),
            "format": book.wb.add_format({"bg_color": colour, "bold": True})})
    s.ws.autofilter(head, 0, last, len(WARNING_HEADERS) - 1)
    s.widths(WIDTHS)
    s.ws.freeze_panes(head + 1, 0)
    s.print_setup()
    first, end = head + 2, last + 1  # 1-based rows of the level column
    sheet = book.quote(WARNINGS)
    return Extra((f"{sheet}$B${first}:$B${end}", f"{sheet}$K${first}:$K${end}"))
