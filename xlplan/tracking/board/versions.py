"""The Versions sheet (``xlplan track --compare``): the compared versions and the actuals side
by side for each unit, month by month, with the variance of every later row against every
earlier one. Numbers from :mod:`xlplan.tracking.version_compare`.

Each unit is a block of rows: one per version, the actuals, then the variances. The
versions' months are given figures; the company's rows add up the units' rows, and every
variance and year is a formula with the engine's value cached.
"""

from __future__ import annotations

from xlplan.i18n import data, msg
from xlplan.tracking.board.base import BoardWriter, fit_column
from xlplan.tracking.version_compare import ACTUAL, Comparison
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, ref

SHEET = msg("Versions")
FIRST_MONTH = 2  # column C
YEAR = FIRST_MONTH + 12  # column O
HEAD = 5


def write_versions(w: BoardWriter, cmp: Comparison) -> None:
    """The Versions sheet of the board."""
    book: Book = w.book
    s = book.sheet(SHEET)
    r = w.r
    through = data(r.through_date.isoformat()) if r.through_date else msg("none yet")
    names = [msg("Actual") if n == ACTUAL else data(n) for n in cmp.rows]
    s.heading(msg("Versions side by side as of {as_of}: {names}", as_of=data(r.as_of.isoformat()),
                  names=data(", ".join(w.words(n) for n in names))),
              msg("Each unit's versions (xlplan versions lists those in the database) and its "
                  "actuals by month, then each later row less each earlier one. Amounts in "
                  "{currency}.", currency=w.amounts()),
              msg("Actual: the months ended by the data-through day ({through}); a variance "
                  "against the actuals covers those months, and so does its year.",
                  through=through))
    for i, (name, units) in enumerate(sorted(cmp.outside.items())):
        listed = ", ".join(f"{u} ({w.money(t):,.2f})" for u, t in sorted(units.items()))
        s.label(3 + i, 0, msg("{name}: units not in the current plan, not shown: {units}.",
                              name=data(name), units=data(listed)), "note")
    head = HEAD + len(cmp.outside)
    for c, text in enumerate([msg("Unit"), msg("Version"), *w.month_labels(), msg("Year")]):
        s.label(head, c, text, "header")
    by_name = dict(zip(cmp.rows, names, strict=True))
    labels = [*names, *(msg("{later} − {earlier}", later=by_name[a], earlier=by_name[b])
                        for a, b in cmp.pairs)]
    per_unit = len(labels)
    root = r.targets.root
    inputs = r.targets.input_units
    first = {u: head + 1 + i * per_unit for i, u in enumerate(r.units)}
    for u, top in first.items():
        bold = u == root
        s.label(top, 0, w.unit_label(u), "bold" if bold else "label")
        at = {name: top + i for i, name in enumerate(cmp.rows)}
        for name, row in at.items():
            s.label(row, 1, labels[row - top], "bold" if bold else "label")
            _version_row(w, cmp, name, u, row, [first[x] + row - top for x in inputs]
                         if bold else None)
        for k, (later, earlier) in enumerate(cmp.pairs):
            row = top + len(cmp.rows) + k
            s.label(row, 1, labels[row - top], "bold" if bold else "label")
            _variance_row(w, cmp, later, earlier, u, row, at[later], at[earlier])
    last = head + per_unit * len(r.units)
    s.widths({**{c: 12.5 for c in range(FIRST_MONTH, YEAR)}, YEAR: 14})
    fit_column(s, 0, [w.unit_label(u) for u in r.units], 22)
    fit_column(s, 1, labels, 30)
    s.ws.freeze_panes(head + 1, FIRST_MONTH)
    s.ws.hide_gridlines(2)
    s.print_setup()
    s.ws.print_area(0, 0, last, YEAR)


def _version_row(w: BoardWriter, cmp: Comparison, name: str, unit: str, row: int,
                 parts: list[int] | None) -> None:
    """A version's (or the actuals') months and year; ``parts``: for the company, the rows of
    the units it adds up."""
    s = w.book.sheet(SHEET)
    values = cmp.months[name][unit]
    shown = [m for m in range(12) if name != ACTUAL or m < cmp.ended]
    style = "money0_bold" if parts is not None else "money0"
    for m in shown:
        amount = w.money(int(values[m]))
        if parts is None:
            s.given(row, FIRST_MONTH + m, amount, style)
        else:
            cells = ",".join(ref(p, FIRST_MONTH + m) for p in parts)
            s.formula(row, FIRST_MONTH + m, f"SUM({cells})", amount, style)
    months = f"{ref(row, FIRST_MONTH)}:{ref(row, YEAR - 1)}"
    total = w.money(int(sum(int(values[m]) for m in shown)))
    if name == ACTUAL:
        s.formula(row, YEAR, formulas.sum_if_any(months), total if shown else "", style)
    else:
        s.formula(row, YEAR, f"SUM({months})", total, style)


def _variance_row(w: BoardWriter, cmp: Comparison, later: str, earlier: str, unit: str,
                  row: int, later_row: int, earlier_row: int) -> None:
    """``later − earlier`` by month (where both have the month) and over the year."""
    s = w.book.sheet(SHEET)
    style = "money0_bold" if unit == w.r.targets.root else "money0"
    diffs = cmp.variance(later, earlier, unit)
    for m, diff in enumerate(diffs):
        if diff is not None:
            col = FIRST_MONTH + m
            s.formula(row, col, f"{ref(later_row, col)}-{ref(earlier_row, col)}",
                      w.money(diff), style)
    months = f"{ref(row, FIRST_MONTH)}:{ref(row, YEAR - 1)}"
    known = [d for d in diffs if d is not None]
    s.formula(row, YEAR, formulas.sum_if_any(months), w.money(sum(known)) if known else "",
              style)
