"""Two formulas are the same when they mean the same: compared as parsed tokens, not text.

A manager's workbook may pass through Excel, WPS, LibreOffice, Numbers, Google Sheets or
a Python library before it comes back, and each writes a formula its own way:
``0.01`` as ``0.0099999999999999999998`` or ``1E-2``, ``SUM`` as ``sum``, ``STDEV.S`` as
``_xlfn.STDEV.S``, spaces after commas, ``'Rounding'!H5`` for ``Rounding!H5``, a run of
like formulas as one shared formula (which the reader expands). None of that changes
what the formula computes, so none of it may reject a submission; a changed reference,
operator, function or number still does.

The formula is split by openpyxl's tokenizer (the grammar of Excel's formula language,
strings and quoted sheet names included), and each token put in one spelling:

- numbers as the float they denote, to Excel's 15 significant digits;
- function names upper-case, without the ``_xlfn.`` / ``_xlws.`` prefixes that mark
  newer functions in the file format;
- references and names upper-case (Excel's names are case-blind), the sheet name
  unquoted (quotes are needed only for some names and change nothing);
- logical values and error codes upper-case; text exactly as written;
- white space dropped, except between two operands, where it is Excel's intersection
  operator.
"""

from __future__ import annotations

import functools
import re

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

Meaning = tuple[tuple[str, str], ...]
PREFIXES = ("_XLFN.", "_XLWS.")
# tokens after which, and before which, white space is the intersection operator
_ENDS_OPERAND = {(Token.OPERAND, t) for t in (Token.RANGE, Token.NUMBER, Token.TEXT,
                                              Token.LOGICAL, Token.ERROR)}


def _number(text: str) -> str:
    try:
        return format(float(text), ".15g")
    except ValueError:
        return text


def _reference(text: str) -> str:
    """``'Sheet name'!$A$1`` → ``SHEET NAME!$A$1``: the sheet unquoted, all upper-case."""
    sheet, bang, cells = text.rpartition("!")
    if bang and len(sheet) >= 2 and sheet[0] == "'" and sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return (sheet + bang + cells).upper()


def _function(text: str) -> str:
    name = text.upper()
    stripped = True
    while stripped:
        stripped = False
        for prefix in PREFIXES:
            if name.startswith(prefix):
                name, stripped = name[len(prefix):], True
    return name


def _spelling(token: Token) -> str:
    if token.type == Token.OPERAND:
        if token.subtype == Token.NUMBER:
            return _number(token.value)
        if token.subtype == Token.RANGE:
            return _reference(token.value)
        if token.subtype in (Token.LOGICAL, Token.ERROR):
            return token.value.upper()
        return token.value  # text: exactly as written
    if token.type == Token.FUNC and token.subtype == Token.OPEN:
        return _function(token.value)
    return token.value


def _is_operand_end(token: Token) -> bool:
    return (token.type, token.subtype) in _ENDS_OPERAND or (
        token.subtype == Token.CLOSE)


def _is_operand_start(token: Token) -> bool:
    return token.type == Token.OPERAND or token.subtype == Token.OPEN


_MANTISSA = re.compile(r"\d+(\.\d*)?[Ee]|\.\d+[Ee]")


def _join_exponents(items: list[Token]) -> list[Token]:
    """openpyxl's tokenizer reads an exponent only after a one-digit mantissa (``1.5E+3``):
    ``0.0E+00`` or ``12.5E-3`` come out as a name ``12.5E``, an operator and ``3``. Those
    three are one number again here."""
    out: list[Token] = []
    i = 0
    while i < len(items):
        token = items[i]
        if token.type == Token.OPERAND and token.subtype == Token.RANGE and \
                _MANTISSA.fullmatch(token.value) and i + 2 < len(items) and \
                items[i + 1].type == Token.OP_IN and items[i + 1].value in "+-" and \
                items[i + 2].subtype == Token.NUMBER and items[i + 2].value.isdigit():
            text = token.value + items[i + 1].value + items[i + 2].value
            out.append(Token(text, Token.OPERAND, Token.NUMBER))
            i += 3
            continue
        out.append(token)
        i += 1
    return out


@functools.lru_cache(maxsize=65536)
def meaning(formula: str) -> Meaning | None:
    """The formula's tokens in one spelling; None if it does not parse (then only the same
    text is the same formula). Cached: a template's formulas repeat across files."""
    text = formula if formula.startswith("=") else "=" + formula
    try:
        items = Tokenizer(text).items
    except (TokenizerError, ValueError, IndexError):
        return None
    items = _join_exponents(items)
    out: list[tuple[str, str]] = []
    for i, token in enumerate(items):
        if token.type == Token.WSPACE:
            before = items[i - 1] if i else None
            after = items[i + 1] if i + 1 < len(items) else None
            if before is not None and after is not None and _is_operand_end(before) and \
                    _is_operand_start(after):
                out.append((Token.OP_IN, " "))  # intersection
            continue
        kind, spelled = f"{token.type}:{token.subtype}", _spelling(token)
        if token.subtype == Token.RANGE and spelled in ("TRUE", "FALSE"):
            kind = f"{Token.OPERAND}:{Token.LOGICAL}"  # ``true``: the tokenizer reads a name
        out.append((kind, spelled))
    return tuple(out)


def same_formula(expected: str, got: str) -> bool:
    """``got`` computes what ``expected`` computes, however the writing program spelled it."""
    if expected == got:
        return True
    want, have = meaning(expected), meaning(got)
    return want is not None and want == have
