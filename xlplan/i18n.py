"""Words a person sees in a workbook, in the plan's language (gettext catalogs).

Writers never put a sentence of their own into a cell: they write a :class:`Msg`
(``msg("Annual target")``), a catalog message whose id is its English text, and the
:class:`~xlplan.workbook.book.Book` translates it into the workbook's language when it
writes the cell. Plan data (unit names, OKR texts) is shown as the plan writes it and is
marked so with :func:`data`. Why English ids and not keys: the writers stay readable,
Babel extracts them (``msg`` is its keyword), and ``en`` is then the catalog that copies
each id, which a test checks like any other.

Catalogs are the standard gettext ones, ``xlplan/locale/<lang>/LC_MESSAGES/xlplan.po``,
compiled to ``.mo`` beside them (``python scripts/catalog.py``, which uses Babel, a
development dependency); at run time only the standard library's :mod:`gettext` reads
them. The message is kept apart from its translation until the cell is written, so a
writer can use a message as a dictionary key (``col["Target"]``) whatever the language.
"""

from __future__ import annotations

import functools
import gettext
import unicodedata
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
DOMAIN = "xlplan"
LOCALE_DIR = Path(__file__).parent / "locale"


class Msg(str):
    """A catalog message: equal to (and hashed as) its English id, so it works as a key;
    ``fields`` fill its ``{name}`` places when it is shown (a field may itself be a
    :class:`Msg`, translated too, or plan data shown as it is)."""

    __slots__ = ("context", "fields")
    fields: dict[str, Any]
    context: str

    def __new__(cls, msgid: str, fields: dict[str, Any] | None = None,
                context: str = "") -> Msg:
        made = super().__new__(cls, msgid)
        made.fields = fields or {}
        made.context = context
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # build processes pickle cells and refs
        return (Msg, (str(self), self.fields, self.context))

    def __eq__(self, other: object) -> bool:
        """A message without fields equals its id (``col["Target"]``); with fields, the
        fields count too ("Attainment y-1" is not "Attainment y-2")."""
        if not self.fields:
            return str.__eq__(self, other)
        return (isinstance(other, Msg) and str.__eq__(self, other)
                and self.fields == other.fields)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        if not self.fields:
            return str.__hash__(self)
        return hash((str(self), tuple(sorted((k, str(v)) for k, v in self.fields.items()))))


class Data(str):
    """Text from the plan (a unit's name, an OKR, a code), shown as the plan writes it."""

    __slots__ = ()


def msg(msgid: str, /, **fields: Any) -> Msg:
    """A catalog message (Babel's extraction keyword: the first argument is the id)."""
    return Msg(msgid, fields)


def pmsg(context: str, msgid: str, /, **fields: Any) -> Msg:
    """A catalog message whose id means something else elsewhere (gettext's context, as
    ``pgettext``): "Products" is a sheet here (产品) and a count there (产品数). It still
    equals its id, so it works as a key."""
    return Msg(msgid, fields, context)


def data(text: object) -> Data:
    """Plan data, or a code, shown as it is in every language."""
    return Data("" if text is None else str(text))


@functools.cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (one of :data:`LANGUAGES`)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


class Words:
    """Shows messages in one language (what a :class:`Book` translates with)."""

    def __init__(self, language: str = DEFAULT_LANGUAGE):
        self.language = language
        self._catalog = catalog(language)

    def __call__(self, text: str) -> str:
        """The text as a person sees it: a message translated (its fields too), anything
        else as it is (whether that is allowed in a cell is :class:`Book`'s question)."""
        if not isinstance(text, Msg):
            return str(text)
        shown = (self._catalog.pgettext(text.context, str(text)) if text.context
                 else self._catalog.gettext(str(text)))
        if not text.fields:
            return shown
        return shown.format(**{k: self._field(v) for k, v in text.fields.items()})

    def _field(self, value: Any) -> Any:
        """A field as shown: text translated, a tuple of texts shown one by one and joined
        by "; " (a list of cells in a finding), anything else (a number) as it is."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, tuple):
            return "; ".join(str(self._field(v)) for v in value)
        return value


def display_width(text: str) -> int:
    """How many columns ``text`` takes in a cell: a wide (CJK) character counts two, as
    spreadsheet column widths count them."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


MONTHS = (msg("Jan"), msg("Feb"), msg("Mar"), msg("Apr"), msg("May"), msg("Jun"),
          msg("Jul"), msg("Aug"), msg("Sep"), msg("Oct"), msg("Nov"), msg("Dec"))


def month_label(year: int, month: int) -> Msg:
    """A month as a heading: Mar 2027 in English, 2027年3月 in Chinese."""
    return msg("{month} {year}", month=MONTHS[month - 1], year=year)


def quarter_label(quarter: int) -> Msg:
    """A fiscal quarter as a heading: Q1 in English, 一季度 in Chinese."""
    return (msg("Q1"), msg("Q2"), msg("Q3"), msg("Q4"))[quarter - 1]


def amount_unit(currency: str, display: str = "yuan") -> Msg | Data:
    """What amounts are counted in, for notes and headers: the currency (CNY), or thousands
    or ten-thousands of it (workbooks.amount_display: 千元, 万元 for yuan)."""
    if display == "thousand":
        return msg("thousand yuan") if currency == "CNY" else msg(
            "thousand {currency}", currency=data(currency))
    if display == "wan":
        return msg("ten thousand yuan") if currency == "CNY" else msg(
            "ten thousand {currency}", currency=data(currency))
    return data(currency)


def to_json(text: Any) -> Any:
    """A message (its id and fields, nested messages too), plan data or plain text as JSON
    values, so that a message kept in a database is shown later in any language."""
    if isinstance(text, Msg):
        out = {"msg": str(text), "fields": {k: to_json(v) for k, v in text.fields.items()}}
        return out | {"context": text.context} if text.context else out
    if isinstance(text, Data):
        return {"data": str(text)}
    if isinstance(text, tuple):
        return {"list": [to_json(v) for v in text]}
    return text


def from_json(value: Any) -> Any:
    """What :func:`to_json` made, as it was (a :class:`Msg`, :class:`Data`, text, a number)."""
    if isinstance(value, dict) and "msg" in value:
        return Msg(str(value["msg"]), {k: from_json(v) for k, v in
                                       (value.get("fields") or {}).items()},
                   str(value.get("context") or ""))
    if isinstance(value, dict) and "data" in value:
        return Data(str(value["data"]))
    if isinstance(value, dict) and "list" in value:
        return tuple(from_json(v) for v in value["list"])
    return value
