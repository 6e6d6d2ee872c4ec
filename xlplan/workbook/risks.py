"""The Risks sheet: the top risks with their level, impact, owner and plans A/B/C.

docs/METHOD.md (风险预案): each top risk has a level (red/orange/yellow), an impact, and
up to three plans, each with an action, a cost and an expected effect. The
plan's risks are locked rows in every workbook; a unit workbook adds a few
blocks where the manager records the unit's own risks (level from a drop-down,
costs ≥ 0). Levels are coloured by conditional formatting, so a level a manager
picks is coloured too, and the cost of each risk's plans and the number of
risks per level are live formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlplan.engine.rounding import to_minor
from xlplan.i18n import data, msg
from xlplan.spec.models import Level
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.commitments import excel_sum, number
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import AMOUNT, TEXT, InputRule
from xlplan.workbook.layout import amounts_in, fit_row
from xlplan.workbook.scope import Scope

SHEET = msg("Risks")
UNIT_RISKS = 3
PLAN_NAMES = ("A", "B", "C")
HEADERS: list[str] = [msg("Id"), msg("Risk"), msg("Level"), msg("Impact"), msg("Owner"),
                      msg("Plan"), msg("Action"), msg("Cost"), msg("Effect"),
                      msg("Cost of plans")]
COL = {name: i for i, name in enumerate(HEADERS)}
WIDTHS: dict[int, float] = {0: 12, 1: 32, 2: 9, 3: 30, 4: 14, 5: 6, 6: 40, 7: 14, 8: 30, 9: 15}
LEVEL_COLOURS = {  # fill, font
    Level.red.value: ("#FFC7CE", "#9C0006"),
    Level.orange.value: ("#F8CBAD", "#843C0C"),
    Level.yellow.value: ("#FFEB9C", "#9C5700"),
}
LEVEL_RULE = InputRule("list", None, choices=tuple(lv.value for lv in Level), title=msg("Level"),
                       message=msg("red: stop the loss; orange: intervene; yellow: watch."))


@dataclass(frozen=True)
class Block:
    """Where one risk landed: its first and last row, its level and its plans' costs."""

    first: int
    last: int
    level: str
    costs: list[float]


def write_risks(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The plan's risks (locked) and, in a unit workbook, input blocks for the unit's own."""
    s = book.sheet(SHEET)
    plan = ctx.plan
    s.label(0, 0, msg("{plan}: top risks and plans A/B/C", plan=data(plan.name)),
            "title")
    currency = amounts_in(plan)
    s.label(1, 0, msg("Red: stop the loss; orange: intervene; yellow: watch. Costs in "
                      "{currency}.", currency=currency) if scope.is_master else
            msg("Red: stop the loss; orange: intervene; yellow: watch. Costs in {currency}. "
                "Record your unit's own risks in the yellow rows: pick a level, then up to "
                "three plans.", currency=currency), "subtitle")
    counts_row, head = 3, 8
    for c, text in enumerate(HEADERS):
        s.label(head, c, text, "header")
    r = head + 1
    blocks: list[Block] = []
    for risk in plan.risks:
        first = r
        s.label(r, COL["Id"], data(risk.id), "top")
        s.label(r, COL["Risk"], data(risk.title), "wrap")
        s.label(r, COL["Level"], data(risk.level.value), "status_top")
        s.label(r, COL["Impact"], data(risk.impact), "wrap")
        s.label(r, COL["Owner"], data(risk.owner), "top")
        costs = []
        for p in risk.plans:
            cost = ctx.given_money(to_minor(p.cost, ctx.su))
            s.label(r, COL["Plan"], data(p.name), "status_top")
            s.label(r, COL["Action"], data(p.action), "wrap")
            s.given(r, COL["Cost"], cost, "money_top")
            s.label(r, COL["Effect"], data(p.effect), "wrap")
            texts = [(p.action, WIDTHS[COL["Action"]]), (p.effect, WIDTHS[COL["Effect"]])]
            if r == first:
                texts += [(risk.title, WIDTHS[COL["Risk"]]), (risk.impact, WIDTHS[COL["Impact"]])]
            fit_row(s, r, texts)
            costs.append(cost)
            r += 1
        if not risk.plans:
            fit_row(s, r, [(risk.title, WIDTHS[COL["Risk"]]),
                           (risk.impact, WIDTHS[COL["Impact"]])])
        r = max(r, first + 1)
        blocks.append(Block(first, r - 1, risk.level.value, costs))
    if not scope.is_master:
        for n in range(1, UNIT_RISKS + 1):
            blocks.append(_input_block(s, r, f"{scope.unit}-R{n}"))
            r = blocks[-1].last + 1
    for block in blocks:
        if block.costs:
            s.formula(block.first, COL["Cost of plans"],
                      f"SUM({ref(block.first, COL['Cost'])}:{ref(block.last, COL['Cost'])})",
                      excel_sum(block.costs), "money_top")
    first, last = head + 1, r - 1
    s.label(r, 0, msg("Total"), "bold")
    all_costs = [c for b in blocks for c in b.costs]
    if blocks:
        s.formula(r, COL["Cost"], f"SUM({ref(first, COL['Cost'])}:{ref(last, COL['Cost'])})",
                  excel_sum(all_costs), "money_bold")
        _level_colours(book, s, first, last)
    else:
        s.label(head + 1, 0, msg("The plan lists no risks."), "subtitle")
    _level_counts(s, counts_row, blocks, (first, last))
    _level_colours(book, s, counts_row + 1, counts_row + len(LEVEL_COLOURS), 0)
    s.widths(WIDTHS)
    s.ws.freeze_panes(head + 1, 2)


def _input_block(s: Sheet, r: int, rid: str) -> Block:
    """One risk the manager records: title, level, impact, owner, then plans A, B, C."""
    key = f"risk:{rid}"
    s.label(r, COL["Id"], data(rid))
    s.input(r, COL["Risk"], None, TEXT, item=f"{key}:title", style="input_wrap")
    s.input(r, COL["Level"], None, LEVEL_RULE, item=f"{key}:level", style="input_status")
    s.input(r, COL["Impact"], None, TEXT, item=f"{key}:impact", style="input_wrap")
    s.input(r, COL["Owner"], None, TEXT, item=f"{key}:owner", style="input_label")
    level = s.filled(r, COL["Level"])
    costs = []
    for i, name in enumerate(PLAN_NAMES):
        pr = r + i
        s.label(pr, COL["Plan"], data(name), "status")
        s.input(pr, COL["Action"], None, TEXT, item=f"{key}:plan-{name}:action",
                style="input_wrap")
        s.input(pr, COL["Cost"], None, AMOUNT, item=f"{key}:plan-{name}:cost")
        s.input(pr, COL["Effect"], None, TEXT, item=f"{key}:plan-{name}:effect",
                style="input_wrap")
        costs.append(number(s.filled(pr, COL["Cost"])))
    return Block(r, r + len(PLAN_NAMES) - 1, str(level) if level else "", costs)


def _level_colours(book: Book, s: Sheet, first: int, last: int, c: int = COL["Level"]) -> None:
    """Colour level words red / orange / yellow wherever they are (given or typed)."""
    for level, (fill, font) in LEVEL_COLOURS.items():
        s.ws.conditional_format(first, c, last, c, {
            "type": "cell", "criteria": "==", "value": f'"{level}"',
            "format": book.wb.add_format({"bg_color": fill, "font_color": font, "bold": True})})


def _level_counts(s: Sheet, row: int, blocks: list[Block], span: tuple[int, int]) -> None:
    """How many risks sit at each level (COUNTIF over the level column)."""
    first, last = span
    s.label(row, 0, msg("Risks by level"), "bold")
    c = COL["Level"]
    levels = f"{ref(first, c, True)}:{ref(last, c, True)}"
    for i, level in enumerate(LEVEL_COLOURS):
        r = row + 1 + i
        s.label(r, 0, data(level), "status")
        count = sum(1 for b in blocks if b.level.casefold() == level)
        if blocks:
            s.formula(r, 1, f'COUNTIF({levels},"{level}")', count, "count")
        else:
            s.given(r, 1, 0, "count")
