"""The Guide's readiness block: every completeness rule, live, and a summary.

Written after every other sheet of a unit workbook (it needs their input cells), below
the Guide's text: one row per rule of :mod:`xlplan.workbook.completeness` (where, the
rule in words, and a status formula that shows ``unmet`` while the rule is broken), and a
summary cell named ``Readiness`` ("Ready: …" or "3 problems: People!F5 …"; in a Chinese
workbook "3 个问题： 人员!F5 …": every word from the catalog) that the macros' pre-flight
reads. The cached values are the rules' own Python checks over the inputs the workbook is
built with, so a rebuilt submission predicts them exactly.
"""

from __future__ import annotations

from xlplan.i18n import Msg, data, msg
from xlplan.lru import Recent
from xlplan.workbook.book import Book, ref
from xlplan.workbook.completeness import MESSAGES, Rule, cells_of, rules_for, setting, unmet
from xlplan.workbook.context import BuildContext
from xlplan.workbook.guide import SHEET
from xlplan.workbook.scope import Scope

TOP = 12  # the block's first row (below the Guide's text)
LISTED = 60  # rules the summary names by cell, at most (keeps its formula short)
NAME = "Readiness"
COUNT = "\x00"  # stands for the count of unmet rules in the summary's message
LABELS = {"title": msg("Readiness"), "where": msg("Where"), "rule": msg("Rule"),
          "status": msg("Status"),
          "note": msg("Each rule below turns 'unmet' while what you typed breaks it; the "
                      "summary says whether the workbook is ready to submit (consolidation "
                      "checks the same rules).")}


def write_readiness(book: Book, ctx: BuildContext, scope: Scope) -> None:
    if scope.unit is None:
        return
    s = book.sheet(SHEET)
    rules = _rules(book, ctx, scope.unit, scope.refs["cube"].annual_ref)
    book.lookups += 1  # what follows depends on the inputs
    values = {(i.sheet, i.cell): book.fill.get((i.sheet, i.cell)) for i in book.inputs}
    broken = {id(rule) for rule, _ in unmet([rule for rule, _ in rules], values)}
    s.label(TOP, 0, LABELS["title"], "bold")
    s.label(TOP + 1, 0, LABELS["note"], "subtitle")
    head = TOP + 3
    for c, key in enumerate(("where", "rule", "status")):
        s.label(head, c, LABELS[key], "header")
    first = head + 1
    unmet_word = book.words(MESSAGES["unmet"])
    for i, (rule, condition) in enumerate(rules):
        r = first + i
        s.label(r, 0, data(f"{rule.sheet}!{rule.cell}"))
        s.label(r, 1, rule.what if isinstance(rule.what, Msg) else data(rule.what))
        s.formula(r, 2, f'IF({condition},"",{_quoted(unmet_word)})',
                  unmet_word if id(rule) in broken else "", "bold")
    last = first + max(len(rules), 1) - 1
    status = f"{ref(first, 2)}:{ref(last, 2)}"
    count = f'SUMPRODUCT(({status}<>"")*1)'
    named = "&".join(f'IF({ref(first + i, 2)}<>""," "&{ref(first + i, 0)},"")'
                     for i in range(min(len(rules), LISTED))) or '""'
    ready = book.words(MESSAGES["ready"])
    # "{n} problems:" in the book's language, split around the count the formula puts in
    before, _, after = book.words(Msg(MESSAGES["problems"], {"n": COUNT})).partition(COUNT)
    n = len(broken)
    listed = "".join(f" {rule.sheet}!{rule.cell}" for rule, _ in rules[:LISTED]
                     if id(rule) in broken)
    expected = ready if n == 0 else f"{before}{n}{after}{listed}"
    problems = "&".join(filter(None, (before and _quoted(before), count,
                                      after and _quoted(after), named)))
    s.formula(TOP, 1, f'IF({count}=0,{_quoted(ready)},{problems})', expected, "bold")
    book.define(NAME, f"{book.quote(SHEET)}{ref(TOP, 1, absolute=True)}")  # 填写说明 in zh
    s.widths({2: 12})


KEPT = 64  # units whose rules a process keeps (as build.TEMPLATES_KEPT; no import: a cycle)
_KEPT: Recent[tuple[str, str, str], list[tuple[Rule, str]]] = Recent(KEPT)


def _rules(book: Book, ctx: BuildContext, unit: str, target_ref: str
           ) -> list[tuple[Rule, str]]:
    """The unit's rules with their Excel conditions. They depend on the template's input
    cells and the plan, not on what is typed, so they are made once per unit and plan
    version (consolidation rebuilds a unit's workbook for every file it examines)."""
    key = (ctx.loaded.spec_hash, ctx.plan.workbooks.language, unit)  # sheet names differ
    kept = _KEPT.get(key)
    if kept is None:
        rules = rules_for(cells_of(book.inputs), setting(ctx, unit, target_ref))
        kept = _KEPT.put(key, [(rule, rule.condition()) for rule in rules])
    return kept


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
