"""Largest-remainder splits as native formulas, on a locked "Rounding" sheet.

Each split is a block: a header row with the total (in minor units, e.g.
cents), the whole steps to hand out, the deficit and the leftover; then one row
per child with its weight, quota, floor, remainder, tie-break order, rank and
result. The formulas are exactly :mod:`xlplan.engine.allocate`'s arithmetic, in
the same order, so the spreadsheet and the engine give the same units; the
engine's :class:`~xlplan.engine.allocate.Trace` is cached in every cell.

Visible sheets show ``=Rounding!H12*0.01``: the amount in currency, with the
workings one click away for anyone who wants to see why a cent went where.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from xlplan.engine.allocate import Trace, trace_rows
from xlplan.i18n import data, msg
from xlplan.workbook.book import Book, ref

SHEET = msg("Rounding")
HEADERS = [msg("Split / child"), msg("Weight · total"), msg("Quota · units"),
           msg("Floor · deficit"), msg("Remainder · leftover"), msg("Tie order"), msg("Rank"),
           msg("Result (minor units)")]


class Split(NamedTuple):
    """One written split: where its results are, and what they are."""

    refs: list[str]  # sheet-qualified refs of the result cells (minor units)
    amounts: list[int]  # the engine's results, cached in those cells


class Splitter:
    """Writes split blocks one under another on the Rounding sheet."""

    def __init__(self, book: Book):
        self.book = book
        self.sheet = book.sheet(SHEET)
        self.prefix = book.quote(SHEET)
        self.row = 2
        self.sheet.label(0, 0, msg("How each amount is rounded to the cent (largest "
                                   "remainder): children always add up exactly to their "
                                   "parent."), "bold")
        for col, text in enumerate(HEADERS):
            self.sheet.label(1, col, text, "header")
        self.sheet.widths({0: 34, 1: 18, 2: 18, 3: 16, 4: 18, 5: 9, 6: 7, 7: 20})
        self.sheet.ws.freeze_panes(2, 1)

    def split(self, label: str, total_formula: str, total: int,
              weights: Sequence[tuple[str | None, float]], children: Sequence[str],
              order: Sequence[int], step: int = 1, trace: Trace | None = None) -> Split:
        """Write one split; return its result refs and amounts (minor units).

        ``total_formula`` computes the total in minor units; ``weights`` are
        (formula or None for a given number, value) pairs, one per child. ``trace`` is
        this split's engine trace when the caller computed many at once
        (:meth:`~xlplan.engine.allocate.Trace.row`); it must be for ``total``.
        """
        s, h, k = self.sheet, self.row, len(children)
        if trace is None:
            tr = trace_rows([total], [w for _, w in weights], step=step, order=order)
        elif int(trace.units[0]) * step + int(trace.leftover[0]) != total:
            raise ValueError(f"internal: {self.book.words(label)}: trace of another total")
        else:
            tr = trace
        first, last = h + 1, h + k
        col = {name: i for i, name in enumerate("ABCDEFGH")}

        def rng(c: str) -> str:
            return f"${c}${first + 1}:${c}${last + 1}"

        s.label(h, 0, label, "bold")
        hb = s.formula(h, 1, total_formula, total, "calc")
        hc = s.formula(h, 2, f"INT({hb}/{step})", int(tr.units[0]), "calc")
        s.formula(h, 3, f"{hc}-SUM({rng('D')})", int(tr.deficit[0]), "calc")
        s.formula(h, 4, f"{hb}-{hc}*{step}", int(tr.leftover[0]), "calc")
        hc_abs, hd_abs, he_abs = (f"${c}${h + 1}" for c in "CDE")
        results = []
        for i in range(k):
            r = first + i
            s.label(r, 0, data("  " + self.book.words(children[i])))  # a code or a period
            formula, value = weights[i]
            if formula is None:
                s.given(r, col["B"], value, "calc")
            else:
                s.formula(r, col["B"], formula, value, "calc")
            b, c, d, e, f, g = (ref(r, col[x]) for x in "BCDEFG")
            s.formula(r, col["C"], f"IF(SUM({rng('B')})=0,0,{hc_abs}*{b}/SUM({rng('B')}))",
                      float(tr.quota[0, i]), "calc")
            s.formula(r, col["D"], f"INT({c})", float(tr.floor[0, i]), "calc")
            s.formula(r, col["E"], f"ROUND({c}-{d},9)", float(tr.rem[0, i]), "calc")
            s.given(r, col["F"], order[i], "integer")
            # one SUMPRODUCT, no "--" on arrays: the formulas package reads that as 0
            s.formula(r, col["G"], f"1+SUMPRODUCT(({rng('E')}>{e})+({rng('E')}={e})*"
                                   f"({rng('F')}<{f}))",
                      int(tr.rank[0, i]) + 1, "integer")
            result = f"({d}+IF({g}<={hd_abs},1,0))"
            if step != 1:
                result = f"{result}*{step}+IF({g}=1,{he_abs},0)"
            s.formula(r, col["H"], result, int(tr.result[0, i]), "calc")
            results.append(f"{self.prefix}{ref(r, col['H'], absolute=True)}")
        self.row = last + 2
        return Split(results, tr.result[0].tolist())
