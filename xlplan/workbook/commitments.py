"""Unit sheets the manager fills: Commitments (bottom-up plan) and People (the split).

Commitments sit next to the top-down target with a live gap and status light;
People splits the unit's target over its own team and must tie to the cent.
"""

from __future__ import annotations

from xlplan.engine.allocate import order_by_code
from xlplan.engine.rounding import excel_round
from xlplan.engine.variance import attainment, status
from xlplan.i18n import data, msg
from xlplan.spec.models import StatusBands
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.highlights import add_status_colours
from xlplan.workbook.input_rules import AMOUNT
from xlplan.workbook.scope import Scope
from xlplan.workbook.targets import UnitCube

COMMITMENTS = msg("Commitments")
PEOPLE = msg("People")


def number(value: object) -> float:
    """An input as Excel arithmetic sees it: blank is 0."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def excel_sum(values: list[float]) -> float:
    """SUM as a spreadsheet adds: left to right (LibreOffice compensates; amounts in cents
    rarely differ, and checks compare to the cent)."""
    total = 0.0
    for v in values:
        total += v
    return total


def light(actual: float, plan: float, bands: StatusBands) -> str:
    """The engine's light of ``actual`` against ``plan`` (higher is better): what
    :func:`~xlplan.workbook.formulas.status_light_of` gives on the sheet."""
    return status(attainment(actual, plan), bands)


def write_commitments(book: Book, ctx: BuildContext, scope: Scope) -> None:
    assert scope.unit is not None
    cube = scope.refs["cube"]
    assert isinstance(cube, UnitCube)
    s = book.sheet(COMMITMENTS)
    bands = ctx.plan.status_bands
    literals = formulas.band_values(bands)
    s.label(0, 0, msg("Bottom-up commitments: {unit}", unit=data(scope.unit)), "title")
    s.label(1, 0, msg("Type your own plan in the yellow cells; the target is the top-down one "
                      "from the Targets sheet. Gap = commitment − target; status by shortfall: "
                      "green ≤ {yellow}, yellow ≤ {orange}, orange ≤ {red}, red beyond.",
                      yellow=data(f"{bands.yellow:.0%}"), orange=data(f"{bands.orange:.0%}"),
                      red=data(f"{bands.red:.0%}")), "subtitle")
    head = 3
    headers = [msg("Product"), msg("Channel"), *ctx.month_labels, msg("Commitment"),
               msg("Target"), msg("Gap"), msg("Status")]
    for c, text in enumerate(headers):
        s.label(head, c, text, "header")
    row = head + 1
    first = row
    column_totals = [0.0] * 17  # what each SUM in the total row gives, by column
    for (product, channel), refs in cube.month_refs.items():
        s.label(row, 0, data(product))
        s.label(row, 1, data(channel))
        values = []
        for m in range(12):
            s.input(row, 2 + m, None, AMOUNT, item=f"commitment:{product}:{channel}",
                    period=f"M{m + 1:02d}")
            values.append(number(s.filled(row, 2 + m)))
        target = sum(ctx.money(v) for v in cube.expected[(product, channel)])
        committed = excel_sum(values)
        tot = s.formula(row, 14, f"SUM({ref(row, 2)}:{ref(row, 13)})", committed)
        tgt = s.formula(row, 15, "+".join(refs), target)
        s.formula(row, 16, f"{tot}-{tgt}", committed - target)
        s.formula(row, 17, formulas.status_light_of(tot, tgt, literals),
                  light(committed, target, bands), "status")
        for c, v in enumerate([*values, committed, target, committed - target], start=2):
            column_totals[c] += v
        row += 1
    last = row - 1
    s.label(row, 0, msg("Total"), "bold")
    for c in range(2, 17):
        s.formula(row, c, f"SUM({ref(first, c)}:{ref(last, c)})", column_totals[c],
                  "money_bold")
    s.formula(row, 17, formulas.status_light_of(ref(row, 14), ref(row, 15), literals),
              light(column_totals[14], column_totals[15], bands), "status")
    add_status_colours(book, COMMITMENTS, ref(first, 17), ref(row, 17))
    book.define("CommitmentInputs", f"{book.quote(COMMITMENTS)}${'C'}${first + 1}:"
                                    f"${'N'}${last + 1}")
    s.widths({0: 12, 1: 16, **{c: 12 for c in range(2, 14)}, 14: 15, 15: 15, 16: 14, 17: 8})
    s.ws.freeze_panes(head + 1, 2)


def write_people(book: Book, ctx: BuildContext, scope: Scope) -> None:
    assert scope.unit is not None
    tree, unit = ctx.tree, scope.unit
    kids = tree.children[unit]
    s = book.sheet(PEOPLE)
    s.label(0, 0, msg("Split of {unit}'s target over its team", unit=data(unit)), "title")
    s.label(1, 0, msg("Suggested = the plan's split by weight. Type your split in the yellow "
                      "cells: it must add up to the unit's annual target exactly."), "subtitle")
    head = 3
    for c, text in enumerate([msg("Code"), msg("Name"), msg("Kind"), msg("Weight"),
                              msg("Suggested"), msg("Your split"), msg("Difference")]):
        s.label(head, c, text, "header")
    annual_ref = scope.refs["cube"].annual_ref
    weights = [1.0] * len(kids)
    from xlplan.engine.org import child_weights

    if kids:
        bw = child_weights(tree, unit, ctx.plan.allocation)
        weights = [bw[k].weight for k in kids]
    q = book.quote(PEOPLE)
    rows = [head + 1 + i for i in range(len(kids))]
    typed: list[float] = []
    for i, k in enumerate(kids):
        r = rows[i]
        person = tree.units[k]
        s.label(r, 0, data(k))
        s.label(r, 1, data(person.name))
        s.label(r, 2, data(person.kind))
        s.given(r, 3, weights[i], "factor")
    if kids:
        res, split = scope.splitter.split(
            msg("{unit} → team", unit=data(unit)), f"ROUND({annual_ref}/{ctx.su_text},0)",
            ctx.targets[unit],
            [(f"{q}{ref(r, 3, True)}", w) for r, w in zip(rows, weights, strict=True)],
            kids, order_by_code(kids))
        for i, k in enumerate(kids):
            r = rows[i]
            s.formula(r, 4, f"{res[i]}*{ctx.su_text}", ctx.money(split[i]))
            s.input(r, 5, None, AMOUNT, item=f"split:{k}", period="year")
            mine = number(s.filled(r, 5))
            typed.append(mine)
            s.formula(r, 6, f"{ref(r, 5)}-{ref(r, 4)}", mine - ctx.money(split[i]))
    total = head + 1 + len(kids)
    s.label(total, 0, msg("Total"), "bold")
    if kids:
        s.formula(total, 4, f"SUM({ref(rows[0], 4)}:{ref(rows[-1], 4)})",
                  ctx.money(ctx.targets[unit]), "money_bold")
        s.formula(total, 5, f"SUM({ref(rows[0], 5)}:{ref(rows[-1], 5)})", excel_sum(typed),
                  "money_bold")
    unit_target = ctx.money(ctx.targets[unit])
    s.label(total + 1, 0, msg("Unit target"))
    s.formula(total + 1, 5, annual_ref, unit_target, "money_bold")
    s.label(total + 2, 0, msg("Check"))
    off = excel_sum(typed) - unit_target
    words = book.words
    ties, off_by = words(msg("ties")), words(msg("does not tie: off by "))
    verdict = ties if excel_round(off, 2) == 0 else f"{off_by}{off:,.2f}"
    typed_total, target_cell = ref(total, 5), ref(total + 1, 5)
    by = f'TEXT({typed_total}-{target_cell},"#,##0.00")'
    differs = f'{formulas.quoted(off_by)}&{by}'
    s.formula(total + 2, 5, formulas.tie_check(typed_total, target_cell, 2,
                                               formulas.quoted(ties), differs), verdict, "bold")
    s.widths({0: 12, 1: 22, 2: 10, 3: 10, 4: 16, 5: 16, 6: 14})
