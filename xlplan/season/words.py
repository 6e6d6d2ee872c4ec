"""The season's words for people (emails; the review block of a returned workbook; the
commitment letter), catalog messages shown in the plan's ``workbooks.language``.

Each is named by a key (``send.subject``) so that the code says which word it wants, and is
a :func:`~xlplan.i18n.msg` whose English text is its id, so the words live in the project's
gettext catalogs with every other (``python scripts/catalog.py``; a test fails on one left
untranslated).
"""

from __future__ import annotations

from xlplan.i18n import LANGUAGES, Msg, Words, msg, pmsg

MESSAGES: dict[str, Msg] = {
    "send.subject": msg("{plan}: your {year} plan workbook for {unit}"),
    "send.body": msg(
        "Dear {manager},\n\nattached is the {year} operating plan workbook of {unit_name}"
        " ({unit}).\nFill in the yellow input cells (the Guide sheet says where) and send"
        " it back {deadline_words}{submit_words}.\nSave it as .xlsx; do not rename sheets"
        " or insert rows.\n\nThank you,\n{sender}\n"),
    "deadline": msg("by {deadline}"),
    "no_deadline": msg("as soon as you can"),
    "submit_to": msg(" to {submit_to}"),
    "remind.subject": msg("{plan}: reminder for {unit} ({status})"),
    # what the reminder subject calls each state a unit can be reminded in
    "status.missing": msg("missing"),
    "status.late": msg("late"),
    "status.incomplete": msg("incomplete"),
    "status.returned": msg("returned"),
    "remind.body": msg(
        "Dear {manager},\n\n{need}\n{details}\n{deadline_line}\n\nThank you,\n{sender}\n"),
    "need.missing": msg(
        "we have not received the {year} plan workbook of {unit_name} ({unit}), and the"
        " deadline has passed."),
    "need.late": msg(
        "the {year} plan workbook of {unit_name} ({unit}) arrived after the deadline; it"
        " is being reviewed."),
    "need.incomplete": msg(
        "the {year} plan workbook of {unit_name} ({unit}) is not complete yet. Please"
        " complete it and send it again:"),
    "need.returned": msg(
        "the {year} plan workbook of {unit_name} ({unit}) was returned for changes."
        " Please make them and send it again:"),
    "deadline_line": msg("The deadline was {deadline}."),
    "comment": msg("Reviewer's comment: {comment}"),
    "review.title": msg("Returned for changes"),
    "review.by": msg("Reviewed by {actor} on {at}"),
    "review.notes": msg("Notes on cells (highlighted, hover to read):"),
    "letter.title": msg("{year} target commitment letter"),
    "letter.subtitle": msg("{plan}: the unit's targets for the year, as approved"),
    "letter.unit": msg("Unit"),
    "letter.manager": msg("Manager"),
    "letter.currency": msg("Currency"),
    "letter.year_target": msg("Target for the year"),
    "letter.phasing": msg("Quarterly and monthly phasing"),
    "letter.month": msg("Month"),
    "letter.quarter": msg("Quarter"),
    "letter.target": msg("Target"),
    "letter.krs": pmsg("letter", "Key results"),
    "letter.objective": pmsg("letter", "Objective"),
    "letter.kr": pmsg("letter", "Key result"),
    "letter.start": msg("From"),
    "letter.unit_of": msg("Unit"),
    "letter.due": msg("Due"),
    "letter.no_krs": msg("(no key results are assigned to this unit)"),
    "letter.kpis": msg("Balanced scorecard KPIs"),
    "letter.kpi": msg("KPI"),
    "letter.perspective": msg("Perspective"),
    "letter.clause": msg(
        "These targets are those of the plan as approved. When a revision of the plan"
        " changes this unit's targets, this letter is replaced by a new one, to be signed"
        " again; until then the targets above stand."),
    "letter.sign": msg("Signatures"),
    "letter.signed_by": msg("Unit manager (name)"),
    "letter.signed_on": msg("Date signed"),
    "letter.issuer": msg("For the company (name, date)"),
    "letter.fill": msg(
        "Type your name and the date in the yellow cells, sign the printed letter, and"
        " send this workbook back."),
}


def message(key: str, **fields: object) -> Msg:
    """The message ``key`` with its fields, for a :class:`~xlplan.workbook.book.Book` to show
    in its language (plan data in the fields is shown as it is)."""
    found = MESSAGES[key]
    return Msg(str(found), dict(fields), found.context)


def say(language: str, key: str, **fields: object) -> str:
    """The message ``key`` in ``language`` (English for a language xlplan does not have)."""
    return Words(language if language in LANGUAGES else "en")(message(key, **fields))
