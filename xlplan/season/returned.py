"""A returned unit's reissued workbook carries the conversation: the reviewer's comment
as a note on the Guide's title and each cell note as an Excel note on its cell, the cell
highlighted.

Notes and conditional highlighting change no cell's content, so the workbook is still
exactly the template to consolidation (a note is neither a value nor a formula); they
are added after the manifest, like the Changes sheet of :mod:`xlplan.consolidate.reissue`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from xlplan.i18n import data
from xlplan.season.audit import Note, notes_of
from xlplan.season.words import message
from xlplan.workbook.book import Book

HIGHLIGHT = {"bg_color": "#FFD966", "border": 2, "border_color": "#C00000"}


@dataclass(frozen=True)
class Returned:
    """The review that sent a unit's file back."""

    actor: str
    at: str
    comment: str
    notes: tuple[Note, ...]


def returned(con: duckdb.DuckDBPyConnection, plan_id: str, unit: str) -> Returned | None:
    """The unit's latest decision, if it is a return (and nothing came after it)."""
    row = con.execute("SELECT seq, action, actor, strftime(happened_at, '%Y-%m-%d %H:%M'), "
                      "comment FROM audit_events WHERE plan_id = ? AND unit = ? AND event IN "
                      "('reviewed', 'reopened') ORDER BY seq DESC LIMIT 1",
                      [plan_id, unit]).fetchone()
    if row is None or row[1] != "return":
        return None
    return Returned(str(row[2]), str(row[3]), str(row[4] or ""),
                    tuple(notes_of(con, int(row[0]))))


def write_review(book: Book, review: Returned, guide: str = "Guide") -> None:
    """The comment on the Guide's title cell (shown open) and the notes on their cells, in
    the book's language; a note names its sheet as the book shows it (人员分解!F5 in a zh
    book, whichever name the reviewer's note was stored under)."""
    say = book.words
    shown = {sheet.name: sheet for sheet in book.sheets.values()}  # a zh book's 承诺 too
    placed = [(n, book.sheets.get(n.sheet) or shown.get(n.sheet)) for n in review.notes]
    head = say(message("review.title")) + ". " + say(
        message("review.by", actor=data(review.actor), at=data(review.at)))
    lines = [head]
    if review.comment:
        lines.append(say(message("comment", comment=data(review.comment))))
    if review.notes:
        lines.append(say(message("review.notes")))
        lines += [f"{sheet.name if sheet else n.sheet}!{n.cell}: {n.text}"
                  for n, sheet in placed]
    if guide in book.sheets:
        book.sheets[guide].ws.write_comment("A1", "\n".join(lines), {
            "visible": True, "author": review.actor, "x_scale": 3, "y_scale": 2.5})
    mark = book.wb.add_format(HIGHLIGHT)
    for n, sheet in placed:
        if sheet is None:
            continue
        ws = sheet.ws
        ws.write_comment(n.cell, n.text, {"author": review.actor, "x_scale": 2})
        ws.conditional_format(n.cell, {"type": "formula", "criteria": "TRUE",
                                       "format": mark})
