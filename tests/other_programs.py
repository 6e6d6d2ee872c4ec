"""Rewrite a workbook's XML the way other spreadsheet programs write it (tests only).

WPS, Numbers, Google Sheets and Python libraries keep every formula's meaning but not its
spelling: numbers re-spelled (``0.01`` as ``0.0099999999999999999998``, ``1E-2`` or the
double's whole decimal expansion), function names in lower case, runs of like formulas
stored once as a shared formula, the hidden manifest sheet shown. Formulas are re-spelled
token by token with openpyxl's tokenizer, so strings and sheet names are left alone.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from tamper import rewrite

from xlplan.consolidate.xlsx import col_number


def long_spelling(text: str, turn: int) -> str:
    """The same double spelled another way: three ways in turn."""
    value = float(text)
    if value == 0.01:
        return "0.0099999999999999999998"  # what one program wrote for every 0.01
    if turn % 3 == 0:
        return f"{value:.17E}"  # 1.00000000000000000E+00
    if turn % 3 == 1:
        return str(Decimal(value))  # the double's exact decimal expansion
    return f"{value:.20g}"


def respell(formula: str, counter: list[int]) -> str:
    """``formula`` (without ``=``) with every number re-spelled and functions lower-case."""
    out = []
    for token in Tokenizer("=" + formula).items:
        if token.type == Token.OPERAND and token.subtype == Token.NUMBER:
            counter[0] += 1
            out.append(long_spelling(token.value, counter[0]))
        elif token.type == Token.FUNC and token.subtype == Token.OPEN:
            out.append(token.value.lower())
        else:
            out.append(token.value)
    return "".join(out)


_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*)><f>([^<]*)</f>')


def _shared_runs(xml: bytes) -> bytes:
    """Runs of formulas along a row that are one formula copied right become a shared
    formula: the first keeps the text (``t="shared" ref=… si=…``), the others only the
    index, as Excel writes a filled-right range."""
    cells = [(m, m.group(1).decode(), int(m.group(2)), html.unescape(m.group(4).decode()))
             for m in _CELL.finditer(xml)]
    groups: list[list[int]] = []
    for i, (_, col, row, text) in enumerate(cells):
        if groups:
            j = groups[-1][0]
            _, col0, row0, text0 = cells[j]
            prev = cells[groups[-1][-1]]
            if row == row0 and col_number(col) == col_number(prev[1]) + 1 and \
                    Translator("=" + text0, origin=f"{col0}{row0}").translate_formula(
                        f"{col}{row}") == "=" + text:
                groups[-1].append(i)
                continue
        groups.append([i])
    replace: dict[int, bytes] = {}
    si = 0
    for group in groups:
        if len(group) < 2:
            continue
        first, last = cells[group[0]], cells[group[-1]]
        span = f"{first[1]}{first[2]}:{last[1]}{last[2]}"
        m = first[0]
        replace[m.start()] = (b'<c r="' + m.group(1) + m.group(2) + b'"' + m.group(3) +
                              f'><f t="shared" ref="{span}" si="{si}">'.encode() +
                              m.group(4) + b"</f>")
        for k in group[1:]:
            mk = cells[k][0]
            replace[mk.start()] = (b'<c r="' + mk.group(1) + mk.group(2) + b'"' + mk.group(3)
                                   + f'><f t="shared" si="{si}"/>'.encode())
        si += 1
    out, pos = [], 0
    for m, *_ in cells:
        if m.start() in replace:
            out += [xml[pos:m.start()], replace[m.start()]]
            pos = m.end()
    out.append(xml[pos:])
    return b"".join(out)


def as_other_programs_write(src: Path, dst: Path) -> Path:
    """``src`` as another program would save it after a manager typed nothing new."""
    import zipfile

    counter = [0]

    def formulas(xml: bytes) -> bytes:
        xml = _shared_runs(xml)

        def one(m: re.Match[bytes]) -> bytes:
            text = html.unescape(m.group(2).decode())
            return m.group(1) + html.escape(respell(text, counter), quote=False).encode() + \
                m.group(3)
        return re.sub(rb"(<f(?: [^>]*)?>)([^<]+)(</f>)", one, xml)

    def workbook(xml: bytes) -> bytes:
        return xml.replace(b'state="veryHidden"', b'state="hidden"')

    with zipfile.ZipFile(src) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    edits = {name: formulas for name in sheets} | {"xl/workbook.xml": workbook}
    out = rewrite(src, dst, edits)
    assert counter[0] > 0
    return out


