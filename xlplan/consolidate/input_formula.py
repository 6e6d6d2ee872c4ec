"""A formula typed into an input cell: its own result when it is plain arithmetic of
numbers, refused otherwise.

An input is a value. A manager may type ``=1200*12`` (Excel shows 14,400), but the value
a file saves for a formula is whatever the file says (``=1+1`` can be saved as 5,000,000),
so the consolidator computes the result itself and never takes the saved one. Only numbers,
``+ - * /``, a postfix ``%`` and parentheses are evaluated: anything else (a function,
another cell, another workbook) is refused, since its value would again be the file's word.
Tokens come from openpyxl's formula tokenizer, which follows Excel's grammar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from openpyxl.formula.tokenizer import Tokenizer

# a range that names a workbook: [1]Sheet!A1 (a link), 'C:\path\[book.xlsx]Sheet'!A1
_OTHER_BOOK = re.compile(r"\[[^\]]*\][^!]*!")


class RefusedFormula(ValueError):
    """The formula is not plain arithmetic of numbers; the message says why."""


def evaluate(formula: str) -> float:
    """The result of ``formula`` (``=…``) or RefusedFormula."""
    try:
        tokens = [t for t in Tokenizer(formula).items if t.type != "WHITE-SPACE"]
    except Exception as exc:  # the tokenizer raises bare errors on malformed text
        raise RefusedFormula("is not a formula Excel can read") from exc
    for token in tokens:
        if token.type == "OPERAND" and token.subtype == "RANGE" and _OTHER_BOOK.search(
                token.value):
            raise RefusedFormula("takes a value from another workbook")
    try:
        value, end = _sum(tokens, 0)
    except RecursionError:  # thousands of nested parentheses
        raise RefusedFormula("nests too deep") from None
    if end != len(tokens):
        raise RefusedFormula("is not plain arithmetic of numbers")
    if not math.isfinite(value):
        raise RefusedFormula("has no finite result")
    return value


def _is(tokens: Sequence[Any], at: int, kind: str, values: str) -> bool:
    return at < len(tokens) and tokens[at].type == kind and tokens[at].value in values


def _sum(tokens: Sequence[Any], at: int) -> tuple[float, int]:
    value, at = _product(tokens, at)
    while _is(tokens, at, "OPERATOR-INFIX", "+-"):
        sign = tokens[at].value
        right, at = _product(tokens, at + 1)
        value = value + right if sign == "+" else value - right
    return value, at


def _product(tokens: Sequence[Any], at: int) -> tuple[float, int]:
    value, at = _signed(tokens, at)
    while _is(tokens, at, "OPERATOR-INFIX", "*/"):
        op = tokens[at].value
        right, at = _signed(tokens, at + 1)
        if op == "/" and right == 0:
            raise RefusedFormula("divides by zero")
        value = value * right if op == "*" else value / right
    return value, at


def _signed(tokens: Sequence[Any], at: int) -> tuple[float, int]:
    if _is(tokens, at, "OPERATOR-PREFIX", "+-"):
        value, end = _signed(tokens, at + 1)
        return (-value if tokens[at].value == "-" else value), end
    value, at = _primary(tokens, at)
    while _is(tokens, at, "OPERATOR-POSTFIX", "%"):
        value, at = value / 100, at + 1
    return value, at


def _primary(tokens: Sequence[Any], at: int) -> tuple[float, int]:
    if at >= len(tokens):
        raise RefusedFormula("is not plain arithmetic of numbers")
    token = tokens[at]
    if token.type == "OPERAND" and token.subtype == "NUMBER":
        try:
            return float(token.value), at + 1
        except ValueError:
            raise RefusedFormula("is not plain arithmetic of numbers") from None
    if token.type == "PAREN" and token.subtype == "OPEN":
        value, at = _sum(tokens, at + 1)
        if not (at < len(tokens) and tokens[at].type == "PAREN" and tokens[at].subtype ==
                "CLOSE"):
            raise RefusedFormula("has an unclosed parenthesis")
        return value, at + 1
    raise RefusedFormula("is not plain arithmetic of numbers")
