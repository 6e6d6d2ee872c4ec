"""Plain-words messages for the mistakes finance people make when typing a plan.

A parser's own words ("key '000' is given twice", "found character '\\t' that
cannot start any token") describe the parser, not the mistake. These helpers
recognise the usual mistakes (thousands separators, percent signs, 万 and 亿
where a number is expected, tabs, a key indented off its block, a misspelt
code) and say what to write instead. They are shared by the YAML loader and
the setup-workbook reader, so a mistake gets the same words in either file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
PERCENT = re.compile(r"^([-+]?\d+(\.\d+)?)\s*%$")
# 1400万, 1,400万 (separators as in a report), 0.1亿元
CHINESE_SCALE = re.compile(r"^([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(万|亿)\s*元?$")
SCALES = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


def did_you_mean(word: object, known: Iterable[object]) -> str:
    """`` (did you mean 'EAST'?)`` for the closest known code, or ``""`` when none is close."""
    if not isinstance(word, str):
        return ""
    names = [k for k in known if isinstance(k, str)]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if not close:
        close = [k for k in names if k.lower() == word.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _plain(number: Decimal) -> str:
    """A decimal as a person writes it: no exponent, no trailing zeros."""
    text = format(number.normalize(), "f")
    return text


def number_hint(given: object) -> str | None:
    """What to write instead of ``given`` when it is a number written the way a person
    would in a report (``14,000,000``, ``30%``, ``1400万``); None for anything else."""
    if not isinstance(given, str):
        return None
    text = given.strip()
    try:
        if THOUSANDS.match(text):
            return f"write numbers without thousands separators: {text.replace(',', '')}"
        if m := PERCENT.match(text):
            share = _plain(Decimal(m.group(1)) / 100)
            return f"write percentages as decimals: {share} for {text}"
        if m := CHINESE_SCALE.match(text):
            whole = _plain(Decimal(m.group(1).replace(",", "")) * SCALES[m.group(2)])
            return f"write the whole number: {whole} for {text}"
    except InvalidOperation:
        return None
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _levels_above(lines: list[str], index: int) -> list[tuple[int, int]]:
    """(indentation, line number) a line at ``index`` may line up with: the line just
    above (and the key after its ``- ``), then each enclosing block's keys."""
    out: list[tuple[int, int]] = []
    lowest: int | None = None
    for j in range(index - 1, -1, -1):
        line = lines[j]
        if not _content(line) or "\t" in line[:_indent(line) + 1]:
            continue
        ind = _indent(line)
        if lowest is not None and ind >= lowest:
            continue
        out.append((ind, j + 1))
        rest = line[ind:]
        if rest.startswith("- "):
            out.append((ind + 2 + _indent(rest[2:]), j + 1))
        lowest = ind
        if ind == 0:
            break
    return out


def _opens_block(line: str) -> bool:
    text = line.split(" #")[0].rstrip()
    return text.endswith(":") or text.endswith("- ") or text == "-"


def _expected(lines: list[str], index: int) -> tuple[int, str]:
    """The indentation the line at ``index`` should have, and why, in plain words."""
    above = next((j for j in range(index - 1, -1, -1) if _content(lines[j])
                  and "\t" not in lines[j][:_indent(lines[j]) + 1]), None)
    if above is None:
        return 0, "the first key of the file starts at the left edge"
    line = lines[above]
    ind = _indent(line)
    if _opens_block(line):
        return ind + 2, f"two more than line {above + 1}, whose block it starts"
    rest = line[ind:]
    if rest.startswith("- "):
        ind += 2 + _indent(rest[2:])
    return ind, f"like the key on line {above + 1}"


def tab_problems(text: str) -> list[tuple[int, str]]:
    """(line, message) for each line indented with a tab (YAML accepts only spaces)."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        lead = line[:len(line) - len(line.lstrip(" \t"))]
        if "\t" in lead and line.strip():
            spaces, why = _expected(lines, i)
            out.append((i + 1, f"line {i + 1} is indented with a tab, but YAML accepts only "
                               f"spaces: indent it {spaces} spaces ({why})"))
    return out


def indentation_problem(text: str, line_no: int) -> tuple[int, str] | None:
    """A plain-words (line, message) when the parser's error at ``line_no`` (1-based) comes
    from a key indented off its block; None when the indentation looks right."""
    lines = text.splitlines()
    for candidate in (line_no, line_no - 1, line_no + 1):
        i = candidate - 1
        if not 0 < i < len(lines) or not _content(lines[i]):
            continue
        ind = _indent(lines[i])
        above = next((j for j in range(i - 1, -1, -1) if _content(lines[j])), None)
        if above is None:
            continue
        if _opens_block(lines[above]) and ind > _indent(lines[above]):
            continue  # a new block may start at any deeper indentation
        levels = _levels_above(lines, i)
        if any(ind == lvl for lvl, _ in levels):
            continue
        lvl, where = min(levels, key=lambda item: (abs(item[0] - ind), -item[0]))
        return candidate, (f"line {candidate} is indented {ind} spaces, but the keys it lines "
                           f"up with are indented {lvl} (line {where}): indent it {lvl} "
                           "spaces; keys of one block must start in the same column")
    return None
