"""The quarterly review sheet (季度复盘): goals, attainment, causes, adjustments, next focus.

docs/METHOD.md step 4 ends each quarter with a review that may re-plan. The sheet
comes pre-filled so the meeting starts from the numbers, not from gathering
them:

* **goals and attainment by quarter**: every unit's quarter targets and
  actuals (the running quarter to date), attainment as formulas;
* **the review of the latest quarter** (the last one that has ended, else the
  running one): per unit goal, actual, variance, attainment and light, the
  warnings that fired in the quarter as the first draft of the **causes**, an
  **adjustment** (the re-forecast rule for the company: a beat of 10% raises
  the next quarter 5–8%; for a unit, the gap to close over the rest of the
  year) and the **next-quarter focus** (its target, raised where the rule
  applies). The three text columns are yellow input cells: the team edits
  them in the meeting;
* KPIs and budget lines that warned in the quarter, and a block of decisions
  with owner and due date for the minutes.
"""

from __future__ import annotations

import math

from xlplan.engine.variance import status
from xlplan.i18n import data, msg, quarter_label
from xlplan.tracking.board.base import BoardWriter, Refs, add_styles, fit_column
from xlplan.tracking.quarter_review import adjustment, causes, quarter_rows, review_quarter
from xlplan.tracking.reforecast import raise_for
from xlplan.tracking.track import TrackResult
from xlplan.tracking.warning_rules import LEVEL_WORDS
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, ref
from xlplan.workbook.highlights import add_status_colours
from xlplan.workbook.layout import fit_row

SHEET = msg("Quarterly review")
CAUSE_WIDTH, ADJUST_WIDTH, FOCUS_WIDTH = 46, 40, 36


def write_review(book: Book, result: TrackResult, refs: Refs) -> None:
    """The Review sheet (module docstring)."""
    w = BoardWriter(book, result, refs)
    add_styles(book)
    s = book.sheet(SHEET)
    cal = result.calendar
    q, ended = review_quarter(result)
    span = cal.quarter_span(q)
    root = result.targets.root
    quarter = quarter_label(q + 1)
    of = (msg("{quarter} {year}", quarter=quarter, year=data(span.start.year)) if ended else
          msg("{quarter} {year} (to date)", quarter=quarter, year=data(span.start.year)))
    s.label(0, 0, msg("Quarterly review: {quarter}", quarter=of), "title")
    s.label(1, 0, msg("Pre-filled from the actuals and the warnings; edit the yellow cells in "
                      "the meeting (causes, adjustments, next-quarter focus, decisions). Amounts "
                      "in {currency}.", currency=w.amounts()), "subtitle")
    # --- goals and attainment by quarter: three small tables (target, actual, attainment)
    n = len(w.units)
    quarters = {u: quarter_rows(result, u) for u in w.units}
    top = 3
    heads: dict[str, int] = {}
    titles = {"Goal (target)": msg("Goal (target) by quarter"),
              "Actual": msg("Actual by quarter"), "Attainment": msg("Attainment by quarter")}
    last_col = {"Goal (target)": [msg("Year"), msg("To date")], "Actual": [msg("Year to date")]}
    for block, title in titles.items():
        s.label(top, 0, title, "section")
        head = top + 1
        for c, text in enumerate([msg("Unit"), *(quarter_label(i) for i in range(1, 5)),
                                  *last_col.get(block, [])]):
            s.label(head, c, text, "header")
        heads[block] = head
        for k, u in enumerate(w.units):
            s.label(head + 1 + k, 0, w.unit_label(u), "bold" if u == root else "label")
        top = head + n + 2
    t_head, a_head, c_head = heads["Goal (target)"], heads["Actual"], heads["Attainment"]
    for k, u in enumerate(w.units):
        tr, ar, cr = t_head + 1 + k, a_head + 1 + k, c_head + 1 + k
        bold = u == root
        money = "money0_bold" if bold else "money0"
        ytd = result.row(u, "ytd")
        to_date = int(ytd["target"]) if ytd is not None else 0
        if bold:
            rng = f"{ref(t_head + 1, 6)}:{ref(t_head + n - 1, 6)}"
            s.formula(tr, 6, f"SUM({rng})", w.money(to_date), money)
        else:
            s.given(tr, 6, w.money(to_date), money)
        for i in range(4):
            c = 1 + i
            goal = int(result.targets.months[u][3 * i:3 * i + 3].sum())
            _, actual, partial = quarters[u].get(f"Q{i + 1}", (goal, math.nan, False))
            if bold:
                t_rng = f"{ref(t_head + 1, c)}:{ref(t_head + n - 1, c)}"
                a_rng = f"{ref(a_head + 1, c)}:{ref(a_head + n - 1, c)}"
                s.formula(tr, c, f"SUM({t_rng})", w.money(goal), money)
                s.formula(ar, c, formulas.sum_if_any(a_rng),
                          "" if math.isnan(actual) else w.money(actual), money)
            else:
                s.given(tr, c, w.money(goal), money)
                s.given(ar, c, None if math.isnan(actual) else w.money(actual), money)
            a, t = ref(ar, c), ref(tr, c)
            target = goal
            if partial:  # the running quarter: its target to date
                before = f"SUM({ref(tr, 1)}:{ref(tr, i)})" if i else "0"
                t = f"({ref(tr, 6)}-{before})"
                target = to_date - int(result.targets.months[u][:3 * i].sum())
            att = math.nan if math.isnan(actual) or not target else actual / target
            s.formula(cr, c, formulas.attainment(a, t), att,
                      "ratio_bold" if bold else "ratio")
        s.formula(tr, 5, f"SUM({ref(tr, 1)}:{ref(tr, 4)})", w.money(result.targets.annual[u]),
                  money)
        done = [v[1] for v in quarters[u].values() if not math.isnan(v[1])]
        s.formula(ar, 5, formulas.sum_if_any(f"{ref(ar, 1)}:{ref(ar, 4)}"),
                  w.money(sum(done)) if done else "", money)
    w.heat(s, c_head + 1, 1, c_head + n, 4)
    last = c_head + n
    s.label(last + 1, 0, msg("The running quarter is compared with its target to date."), "note")
    # --- the review of quarter q
    top = last + 3
    s.label(top, 0, msg("Review of {quarter}", quarter=quarter) if ended else
            msg("Review of {quarter} (to date)", quarter=quarter), "section")
    head = top + 1
    headers = [msg("Unit"), msg("Goal"), msg("Actual"), msg("Variance"), msg("Attainment"),
               msg("Status"), msg("Warnings"), msg("Causes (draft from the warnings)"),
               msg("Adjustments"), msg("Next-quarter focus")]
    for c, text in enumerate(headers):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)
    beat_raise = 0.0
    company = quarter_rows(result, root).get(f"Q{q + 1}")
    if company is not None and ended and company[0]:
        beat_raise = raise_for(company[1] / company[0] - 1.0, result.plan)
    for k, u in enumerate(w.units):
        r = head + 1 + k
        s.label(r, 0, w.unit_label(u), "bold_top" if u == root else "top")
        target, actual, _ = quarter_rows(result, u).get(
            f"Q{q + 1}", (int(result.targets.months[u][3 * q:3 * q + 3].sum()), math.nan, False))
        s.given(r, 1, w.money(target), "money_top")
        s.given(r, 2, None if math.isnan(actual) else w.money(actual), "money_top")
        a, t = ref(r, 2), ref(r, 1)
        s.formula(r, 3, formulas.variance(a, t),
                  "" if math.isnan(actual) else w.money(actual - target), "money_top")
        att = math.nan if math.isnan(actual) or not target else actual / target
        att_cell = s.formula(r, 4, formulas.attainment(a, t), att, "ratio_top")
        s.formula(r, 5, w.status(att_cell), status(att, result.plan.status_bands), "status_top")
        mine = [x for x in result.alerts if x.where == u and x.since <= span.end
                and x.until >= span.start]
        s.given(r, 6, len(mine), "integer_top")
        drafted = causes(result.alerts, u, span.start, span.end)
        adjust, focus = adjustment(result, u, q, target, actual, beat_raise)
        s.label(r, 7, drafted, "input_wrap")
        s.label(r, 8, adjust, "input_wrap")
        s.label(r, 9, focus, "input_wrap")
        fit_row(s, r, [(drafted, CAUSE_WIDTH), (adjust, ADJUST_WIDTH), (focus, FOCUS_WIDTH)])
    last = head + n
    add_status_colours(book, SHEET, ref(head + 1, 5), ref(last, 5))
    # --- KPIs and budget lines that warned
    top = last + 2
    s.label(top, 0, msg("KPIs and budget lines that warned in {quarter}", quarter=quarter),
            "section")
    others = [x for x in result.alerts if x.rule in ("kpi-status", "budget-tolerance",
                                                       "roi-freeze")
              and x.since <= span.end and x.until >= span.start]
    r = top + 1
    blank = data("")
    for c, word in enumerate([msg("Level"), msg("Unit or line"), msg("Measure name"), msg("What"),
                              blank, blank, blank, msg("Who decides")]):
        s.label(r, c, word, "header")
    for x in others:
        r += 1
        s.label(r, 0, LEVEL_WORDS[x.level], "status")
        s.label(r, 1, data(x.where))
        s.label(r, 2, data(x.measure))
        s.label(r, 3, x.said.what)
        s.label(r, 7, x.said.decider)
    if not others:
        r += 1
        s.label(r, 0, msg("None."), "note")
    # --- minutes
    top = r + 2
    s.label(top, 0, msg("Decisions (minutes)"), "section")
    for c, word in enumerate([msg("#"), msg("Decision"), blank, blank, blank, blank, blank,
                              msg("Owner"), msg("Due"), blank]):
        s.label(top + 1, c, word, "header")
    for i in range(5):
        s.given(top + 2 + i, 0, i + 1, "integer")
        s.label(top + 2 + i, 1, blank, "input_wrap")
        s.label(top + 2 + i, 7, blank, "input_wrap")
        s.label(top + 2 + i, 8, blank, "input_wrap")
    s.widths({1: 14, 2: 14, 3: 14, 4: 14, 5: 14, 6: 9, 7: CAUSE_WIDTH, 8: ADJUST_WIDTH,
              9: FOCUS_WIDTH})
    fit_column(s, 0, [w.unit_label(u) for u in w.units], 24)
    s.ws.freeze_panes(3, 1)
    s.print_setup()
