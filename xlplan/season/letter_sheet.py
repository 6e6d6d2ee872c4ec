"""Write one commitment letter: a sheet set up for A4 printing, over the project's Book.

Every cell goes through :class:`xlplan.workbook.book.Book`, so each formula carries the
engine's value and a test can hold LibreOffice's recalculation to it. The months are
given numbers (the engine's phasing); each quarter is ``SUM`` of its three months and
the year ``SUM`` of the quarters, so the printed letter adds up in any spreadsheet.

The two sign-off cells (name, date) are the letter's only inputs; a hidden, locked
``LetterRecord`` sheet says which plan, unit, revision and figures the letter is of, so a
signed letter read back is matched to what it committed to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from xlplan.i18n import Msg, data, month_label, msg, quarter_label
from xlplan.season.letters import (
    KIND,
    LETTER_SHEET,
    RECORD_KEYS,
    RECORD_SHEET,
    Figures,
    Signature,
    excel_date,
)
from xlplan.season.words import message
from xlplan.workbook.book import Book, normalise, ref
from xlplan.workbook.input_rules import InputRule


@dataclass(frozen=True)
class Written:
    path: Path
    book: Book
    name_cell: str
    date_cell: str


SIGN_ROWS_AFTER = 2  # rows between the clause and the signature block


def _style(unit: str) -> str:
    """A percentage (unit "%", a ratio in the plan) prints as one: 0.4 → 40.0%."""
    return "ratio" if unit.strip() == "%" else "number"


def letter_name(figures: Figures) -> str:
    return f"letter-{figures.unit}.xlsx"


def write_letter(figures: Figures, spec_hash: str, language: str, path: Path | None,
                 password: str = "") -> Written:
    """Write ``figures`` as a letter at ``path`` (None: a dry run that only records cells)."""
    book = Book(path, language=language, password=password)
    s = book.sheet(LETTER_SHEET)

    def w(key: str, **fields: object) -> Msg:
        return message(key, **fields)

    s.label(0, 0, w("letter.title", year=figures.year), "title")
    s.label(1, 0, w("letter.subtitle", plan=data(figures.plan_name)), "subtitle")
    s.label(3, 0, w("letter.unit"), "bold")
    s.label(3, 1, data(f"{figures.unit_name} ({figures.unit})"))
    s.label(4, 0, w("letter.manager"), "bold")
    s.label(4, 1, data(figures.manager or ""))
    s.label(5, 0, w("letter.currency"), "bold")
    s.label(5, 1, data(figures.currency))
    s.label(6, 0, w("letter.year_target"), "bold")
    year_row = 6

    s.label(8, 0, w("letter.phasing"), "section")
    s.label(9, 0, w("letter.month"), "header")
    s.label(9, 1, w("letter.target"), "header")
    s.label(9, 2, w("letter.quarter"), "header")
    s.label(9, 3, w("letter.target"), "header")
    first = 10
    for i, (label, minor) in enumerate(zip(figures.month_labels, figures.months, strict=True)):
        year, month = label.split("-")  # YYYY-MM: shown as the language writes a month
        s.label(first + i, 0, month_label(int(year), int(month)))
        s.given(first + i, 1, figures.major(minor), "money")
    quarter_cells = []
    for q, minor in enumerate(figures.quarters):
        top, bottom = ref(first + 3 * q, 1), ref(first + 3 * q + 2, 1)
        s.label(first + q, 2, quarter_label(q + 1), "status")
        quarter_cells.append(s.formula(first + q, 3, f"=SUM({top}:{bottom})",
                                       figures.major(minor)))
    s.formula(year_row, 1, f"=SUM({quarter_cells[0]}:{quarter_cells[-1]})",
              figures.major(figures.target), "money_bold")

    row = first + 13
    s.label(row, 0, w("letter.krs"), "section")
    row += 1
    if figures.krs:
        for col, key in enumerate(("letter.objective", "letter.kr", "letter.start",
                                   "letter.target", "letter.unit_of", "letter.due")):
            s.label(row, col, w(key), "header")
        for kr in figures.krs:
            row += 1
            style = _style(kr.unit)
            s.label(row, 0, data(kr.objective))
            s.label(row, 1, data(f"{kr.id} {kr.text}"))
            s.given(row, 2, kr.start, style)
            s.given(row, 3, kr.target, style)
            s.label(row, 4, data(kr.unit))
            s.given(row, 5, kr.due, "date")
    else:
        s.label(row, 0, w("letter.no_krs"), "note")
    row += 2
    s.label(row, 0, w("letter.kpis"), "section")
    row += 1
    for col, key in enumerate(("letter.kpi", "letter.perspective", "letter.target",
                               "letter.unit_of")):
        s.label(row, col, w(key), "header")
    for kpi in figures.kpis:
        row += 1
        s.label(row, 0, data(f"{kpi.name} ({kpi.code})"))
        s.label(row, 1, data(kpi.perspective))
        s.given(row, 2, kpi.target, _style(kpi.unit))
        s.label(row, 3, data(kpi.unit))
    row += 2
    s.label(row, 0, w("letter.clause"), "wrap")
    if path is not None:
        s.ws.merge_range(row, 0, row, 5, None)  # the clause across the page, wrapped
        s.ws.set_row(row, 48)
    row += SIGN_ROWS_AFTER
    s.label(row, 0, w("letter.sign"), "section")
    s.label(row + 1, 0, w("letter.signed_by"), "bold")
    s.input(row + 1, 1, None, InputRule("text", minimum=None, required=True,
                                        title=w("letter.signed_by")),
            item="signed_by", style="input_label")
    s.label(row + 2, 0, w("letter.signed_on"), "bold")
    s.input(row + 2, 1, None, InputRule("date", minimum=None, required=True,
                                        start=dt.date(figures.year - 2, 1, 1),
                                        end=dt.date(figures.year + 1, 12, 31),
                                        title=w("letter.signed_on")),
            item="signed_on", style="input_date")
    s.label(row + 3, 0, w("letter.issuer"), "bold")
    s.label(row + 5, 0, w("letter.fill"), "note")
    name_cell, date_cell = ref(row + 1, 1), ref(row + 2, 1)

    r = book.sheet(RECORD_SHEET)
    values = {"kind": KIND, "plan": figures.plan_id, "unit": figures.unit,
              "spec_hash": spec_hash, "figures": figures.fingerprint(),
              "letter": figures.letter_id(), "name_cell": name_cell, "date_cell": date_cell}
    for i, key in enumerate(RECORD_KEYS):
        r.label(i, 0, data(key))
        r.label(i, 1, data(values[key]))
    if path is not None:
        s.widths({0: 44, 1: 34, 2: 12, 3: 16, 4: 8, 5: 12})
        s.ws.set_portrait()
        s.ws.set_paper(9)  # A4
        s.ws.fit_to_pages(1, 0)
        s.ws.set_margins(left=0.6, right=0.6, top=0.7, bottom=0.7)
        s.ws.set_footer(book.words(msg("&L{letter}&RPage &P of &N",
                                      letter=data(figures.letter_id()))))
        s.ws.print_area(0, 0, row + 5, 5)
        s.protect()
        r.ws.hide()
        r.protect()
        book.close()
    return Written(path or Path(), book, name_cell, date_cell)



def changed_numbers(sig: Signature, figures: Figures) -> list[str]:
    """The cells of a signed letter whose number or formula is not what the letter of
    ``figures`` has (empty: the signer signed these figures). The sign-off inputs aside,
    a letter's numbers are locked; one changed anyway must not pass as signed."""
    dry = write_letter(figures, sig.record["spec_hash"], "en", None).book
    written = {c.ref: c for c in dry.cells if c.sheet == LETTER_SHEET and c.kind != "input"}
    wrong = []
    for at, cell in written.items():
        value, formula = sig.numbers.get(at, (None, None))
        if cell.kind == "formula":
            if (formula or "").replace("$", "") != str(cell.content):
                wrong.append(f"{at} (expected {cell.content}, found {formula or value!r})")
        elif isinstance(cell.content, dt.date):
            if excel_date(value, sig.date1904) != cell.content:
                wrong.append(f"{at} (expected {cell.content}, found {value!r})")
        elif cell.kind == "given" and cell.content is not None \
                and normalise(value) != normalise(cell.content):
            wrong.append(f"{at} (expected {cell.content}, found {value!r})")
    extra = sorted(set(sig.numbers) - set(written) - {sig.record["name_cell"],
                                                      sig.record["date_cell"]})
    wrong += [f"{at} (a number where the letter has none)" for at in extra]
    return wrong
