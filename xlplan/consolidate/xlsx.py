"""Read a workbook's cells in one bounded pass: value, formula and type of each.

Consolidation needs, for every cell present, the cached value *and* the formula
(to see a number typed over a formula, a changed label, an inserted row). No
library gives both in one pass: openpyxl reads one or the other, and calamine
gives values only and builds a dense grid (a file claiming a cell at
XFD1048576 asks it for 17 billion cells). So this module streams each sheet's
XML through the C parser after refusing any DTD (so no entity can be
declared), keeps only the cells present, and checks as it goes what Excel
itself would never write: references past
Excel's limits, cells given twice, shared-string indexes out of range, text
over 32,767 characters. It ignores ``<dimension>`` (which may lie) and reads
every row.

It runs only on packages that passed :func:`xlplan.consolidate.package.open_package`.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple
from xml.etree import ElementTree

from xlplan.consolidate.package import Package, Refused
from xlplan.i18n import data, msg

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
M = f"{{{MAIN}}}"
MAX_ROW, MAX_COL = 1_048_576, 16_384
CellValue = float | str | bool | None
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_PLAIN_REF = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}$")
V, F, C, ROW = f"{M}v", f"{M}f", f"{M}c", f"{M}row"
MERGE, PROTECTION = f"{M}mergeCell", f"{M}sheetProtection"
_NOT_NUMBERS = frozenset({"s", "inlineStr", "b", "e", "str", "d"})  # cell types (t="…")


class RawCell(NamedTuple):
    """One cell as read (a named tuple: a file holds tens of thousands)."""

    value: CellValue  # the cached value (a formula's result), None when blank
    formula: str | None = None  # "=SUM(A1:A3)" as written, shared formulas expanded
    error: bool = False  # value is an error literal (#DIV/0!)


@dataclass
class RawSheet:
    name: str
    state: str  # visible | hidden | veryHidden
    cells: dict[str, RawCell] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    protected: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)  # (cell, message)


@dataclass
class RawBook:
    sheets: dict[str, RawSheet]
    date1904: bool
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # sheet, cell, message

    def sheet_names(self) -> list[str]:
        return list(self.sheets)


@functools.lru_cache(maxsize=4096)
def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class _NoDoctype:
    """A part's bytes, passed through once its prolog is known to hold no DOCTYPE.

    XML allows a document type declaration (the only place entities can be
    declared: entity bombs, external entities) only in the prolog, before the
    root element; so checking the prolog is enough, and the rest of the part
    streams to the C parser untouched. (defusedxml's parser does the same job
    in pure Python, about three times slower on a sheet.)

    The prolog is read in the part's own encoding, found as the parser finds it (a
    byte-order mark; UTF-16 without one by its zero bytes; else the declaration). Parts
    in anything but UTF-8 or UTF-16 are refused: Office writes neither, and a prolog the
    check cannot read is a prolog it cannot vouch for.
    """

    def __init__(self, raw: Any, part: str):
        self.raw, self.part = raw, part
        self.head = b""
        self.checked = False

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size if size and size > 0 else 1 << 16)
        if not self.checked:
            self.head += data
            self._check(eof=not data)
        return data

    def _text(self, eof: bool) -> bytes | None:
        """The head as UTF-8 bytes, None while too short to tell its encoding."""
        head = self.head
        if len(head) < 4 and not eof:
            return None
        if head.startswith((b"\xff\xfe\0\0", b"\0\0\xfe\xff", b"\0\0\0<", b"<\0\0\0")):
            raise Refused(msg("part {part} is in UTF-32: refused (Excel writes UTF-8)",
                              part=data(self.part)))
        for marks, codec in (((b"\xff\xfe", b"<\0"), "utf-16-le"),
                             ((b"\xfe\xff", b"\0<"), "utf-16-be")):
            if head.startswith(marks):
                head = head[:len(head) // 2 * 2].decode(codec, errors="replace").encode()
                break
        else:
            if head and head[:1] not in (b"<", b"\xef", b" ", b"\t", b"\r", b"\n"):
                raise Refused(msg("part {part} is not in UTF-8 or UTF-16 (it starts with "
                                  "{start}): refused (Excel writes UTF-8)",
                                  part=data(self.part), start=data(head[:4].hex(" "))))
        text = head.removeprefix("\ufeff".encode())
        if text.startswith(b"<?xml"):
            end = text.find(b"?>")
            if end < 0:
                return None if not eof and len(text) < 1 << 10 else text
            declared = _ENCODING.search(text[:end])
            if declared and declared.group(1).lower().replace(b"_", b"-") not in _READ:
                raise Refused(msg("part {part} declares the encoding {encoding}: refused "
                                  "(xlplan reads UTF-8 and UTF-16 parts; Excel writes UTF-8)",
                                  part=data(self.part), encoding=data(
                                      declared.group(1)[:40].decode("ascii", "replace"))))
        return text

    def _check(self, eof: bool) -> None:
        text = self._text(eof)
        if text is None:
            return
        i = 0
        while True:
            j = text.find(b"<", i)
            if j < 0 or len(text) < j + 4:
                break  # more bytes needed
            if text[j + 1:j + 2] == b"?":
                end = text.find(b"?>", j)
                if end < 0:
                    break
                i = end + 2
            elif text[j:j + 4] == b"<!--":
                end = text.find(b"-->", j + 4)
                if end < 0:
                    break
                i = end + 3
            elif text[j + 1:j + 2] == b"!":
                raise Refused(msg("part {part} declares a DTD or entities (<!DOCTYPE …>): "
                                  "refused (XML bombs and external entities hide there)",
                                  part=data(self.part)))
            else:
                self.checked, self.head = True, b""  # the root element: the prolog is clean
                return
        if eof:
            self.checked = True
        elif len(self.head) > 1 << 20:
            raise Refused(msg("part {part} has a prolog over 1 MB before its first element",
                              part=data(self.part)))


_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_READ = {b"utf-8", b"utf8", b"utf-16", b"utf-16le", b"utf-16be", b"us-ascii", b"ascii"}


def events(stream: Any, part: str,
           kinds: tuple[Literal["start", "end"], ...] = ("start", "end")) -> Any:
    """(event, element) pairs of a part; a DOCTYPE anywhere is refused (see _NoDoctype), and
    without one no entity can be declared (an undeclared one is not well-formed XML)."""
    try:
        yield from ElementTree.iterparse(_NoDoctype(stream, part), events=kinds)
    except SyntaxError as exc:  # ParseError
        raise Refused(msg("part {part} is not well-formed XML ({problem})", part=data(part),
                          problem=data(exc))) from None


def _root_namespace(package: Package, part: str) -> str:
    with package.open(part) as stream:
        for _event, elem in events(stream, part):
            return str(elem.tag)[1:].partition("}")[0] if str(elem.tag).startswith("{") else ""
    return ""


def _relationships(package: Package, part: str) -> dict[str, str]:
    """rId → target part name, for the part ``part`` (e.g. xl/workbook.xml)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if not package.has(rels):
        return {}
    out = {}
    with package.open(rels) as stream:
        for event, elem in events(stream, rels):
            if event == "end" and elem.tag == f"{{{PKG_REL}}}Relationship":
                target = elem.get("Target", "")
                if elem.get("TargetMode") == "External":
                    continue
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
                out[elem.get("Id", "")] = path
    return out


def _shared_strings(package: Package, part: str | None) -> list[str]:
    if not part or not package.has(part):
        return []
    out: list[str] = []
    limit = package.limits.max_cells
    with package.open(part) as stream:
        texts: list[str] = []
        skip = 0
        for event, elem in events(stream, part):
            tag = elem.tag
            if tag == f"{M}rPh":  # phonetic guide text is not part of the value
                skip += 1 if event == "start" else -1
            elif event == "end" and tag == f"{M}t" and not skip:
                texts.append(elem.text or "")
            elif event == "end" and tag == f"{M}si":
                out.append("".join(texts))
                texts = []
                elem.clear()
                if len(out) > limit:
                    raise Refused(msg("{part} holds more than {limit} strings",
                                      part=data(part), limit=data(f"{limit:,}")))
    return out


def read_book(package: Package, stage: Callable[[str], None] | None = None) -> RawBook:
    """Every sheet's cells, or Refused when the workbook's structure cannot be read.
    ``stage`` is told each step ("parsing sheet 'Risks'"), so a reader stopped for its
    time or memory can say where."""
    stage = stage or (lambda _what: None)
    stage("reading the workbook's structure")
    if _root_namespace(package, "xl/workbook.xml") == STRICT:
        raise Refused(msg("this workbook is saved as 'Strict Open XML', which xlplan does not "
                          "read: save it as 'Excel Workbook (.xlsx)' and send it again"))
    rels = _relationships(package, "xl/workbook.xml")
    sheets: list[tuple[str, str, str]] = []  # name, state, part
    date1904 = False
    shared_part = next((p for p in rels.values() if p.endswith("sharedStrings.xml")), None)
    problems: list[tuple[str, str, str]] = []
    with package.open("xl/workbook.xml") as stream:
        for event, elem in events(stream, "xl/workbook.xml"):
            if event != "end":
                continue
            if elem.tag == f"{M}workbookPr":
                date1904 = elem.get("date1904", "0") in ("1", "true")
            elif elem.tag == f"{M}sheet":
                name = elem.get("name", "")
                part = rels.get(elem.get(f"{{{REL}}}id", ""), "")
                sheets.append((name, elem.get("state", "visible"), part))
    stage("reading the shared strings")
    strings = _shared_strings(package, shared_part)
    book = RawBook({}, date1904, problems)
    budget = [package.limits.max_cells]
    for name, state, part in sheets:
        if name.lower() in {n.lower() for n in book.sheets}:
            problems.append((name, "", msg("the workbook has two sheets named {sheet}; only "
                                           "the first is read", sheet=data(repr(name)))))
            continue
        sheet = RawSheet(name, state)
        book.sheets[name] = sheet
        if not part.startswith("xl/worksheets/"):
            continue  # a chart sheet or dialog sheet: no cells
        if not package.has(part):
            problems.append((name, "", msg("sheet {sheet} points to a missing part {part}",
                                           sheet=data(repr(name)), part=data(part))))
            continue
        stage(f"parsing sheet {name[:60]!r}")
        _read_sheet(package, part, sheet, strings, budget)
    return book


def _read_sheet(package: Package, part: str, sheet: RawSheet, strings: list[str],
                budget: list[int]) -> None:
    """Every cell of one sheet, streamed a row at a time (memory stays bounded whatever a
    file claims; a whole-tree parse measured no faster)."""
    reader = _Rows(sheet, strings, package.limits.max_cell_chars,
                   package.limits.max_findings // 4)  # room left for the other sheets
    try:
        _read_rows(package, part, sheet, reader, budget)
    finally:
        if reader.dropped:
            sheet.problems.append(("", msg("… and {count} more cells with problems like these "
                                           "(not listed)", count=data(f"{reader.dropped:,}"))))


def _read_rows(package: Package, part: str, sheet: RawSheet, reader: _Rows,
               budget: list[int]) -> None:
    with package.open(part) as stream:
        for _, elem in events(stream, part, ("end",)):
            if elem.tag == ROW:
                budget[0] -= reader.row(elem, budget[0])
                elem.clear()
                if budget[0] < 0:
                    raise Refused(msg("the workbook holds more than {limit} cells",
                                      limit=data(f"{package.limits.max_cells:,}")))
            elif elem.tag == MERGE:
                sheet.merged.append(elem.get("ref", ""))
            elif elem.tag == PROTECTION:
                sheet.protected = elem.get("sheet", "0") in ("1", "true")


@functools.lru_cache(maxsize=1 << 17)
def cell_position(ref: str) -> tuple[int, int] | None:
    """(row, column) of a plain reference ("B7") inside Excel's grid; None for anything
    else. Cached: the files of one unit hold the same references."""
    if not _PLAIN_REF.match(ref):
        return None
    letters = ref.rstrip("0123456789")
    row, col = int(ref[len(letters):]), col_number(letters)
    return (row, col) if row <= MAX_ROW and col <= MAX_COL else None


class _Rows:
    """Reads rows into a RawSheet. The per-cell path is kept short: it runs for every
    cell of every file (tens of thousands each) and was most of a file's examination."""

    def __init__(self, sheet: RawSheet, strings: list[str], max_chars: int,
                 max_problems: int = 200):
        self.sheet, self.strings, self.max_chars = sheet, strings, max_chars
        self.room, self.dropped = max_problems, 0  # problems kept before only counting
        self.at = (0, 0)  # the last cell's (row, column): where a cell without "r" goes
        self.shared: dict[str, tuple[str, str]] = {}  # si → (formula, origin)

    def problem(self, problem: tuple[str, str]) -> None:
        """A problem of a cell; past the first ``max_problems`` only counted (a small
        file can hold millions of bad cells, and each would be a finding)."""
        if self.room > 0:
            self.room -= 1
            self.sheet.problems.append(problem)
        else:
            self.dropped += 1

    def row(self, row: Any, room: int) -> int:
        """Read a row's cells, stopping past ``room`` of them; returns how many it read."""
        r = row.get("r")
        self.at = (int(r) if r and r.isdigit() else self.at[0] + 1, 0)
        count = 0
        for elem in row:
            if elem.tag == C:
                count += 1
                if count > room:
                    break
                self.cell(elem)
        return count

    def cell(self, elem: Any) -> None:
        ref = elem.get("r")
        at = cell_position(ref) if ref else None
        if at is None:
            ref, at = self._odd_position(ref)
            if at is None:
                return
        self.at = at
        v = f = None
        for child in elem:
            if child.tag == V:
                v = child.text
            elif child.tag == F:
                f = child
        kind = elem.get("t")
        value: CellValue = None
        error = False
        if kind is None or kind not in _NOT_NUMBERS:  # "n", or a type Excel does not write
            if v:
                try:
                    value = float(v)
                except ValueError:
                    self.problem((ref, msg("number cell holds {value}",
                                           value=data(repr(v[:40])))))
                    return
        elif kind == "s":
            if v is not None:
                try:
                    value = self.strings[int(v)]
                except (ValueError, IndexError):
                    self.problem((ref, msg("shared string {index} does not exist (the file "
                                           "has {count})", index=data(repr(v)),
                                           count=data(len(self.strings)))))
                    return
        elif kind == "inlineStr":
            value = "".join(t.text or "" for t in elem.iter(f"{M}t"))
        elif kind == "b":
            value = v in ("1", "true")
        elif kind == "e":
            value, error = v or "#N/A", True
        else:  # "str", "d": the text as written
            value = v or ""
        if isinstance(value, str) and len(value) > self.max_chars:
            self.problem((ref, msg("text of {length} characters (Excel's limit is {limit})",
                                   length=data(f"{len(value):,}"),
                                   limit=data(f"{self.max_chars:,}"))))
            value = value[:self.max_chars]
        formula = None if f is None else _formula(f, ref, self.shared)
        cells = self.sheet.cells
        if ref in cells:
            self.problem((ref, msg("cell is written twice in the file")))
        elif value is not None or formula is not None:
            cells[ref] = RawCell(value, formula, error)

    def _odd_position(self, ref: str | None) -> tuple[str, tuple[int, int] | None]:
        """A reference that is not plain ("$b$7"), past the grid, or left out (the cell
        then follows the previous one); None and a problem when it cannot be placed."""
        if ref:
            match = _REF.match(ref)
            if not match:
                self.problem((ref[:20], msg("cell reference {ref} is not valid",
                                            ref=data(repr(ref[:20])))))
                return ref, None
            row, col = int(match.group(2)), col_number(match.group(1))
        else:
            row, col = self.at[0], self.at[1] + 1
        self.at = (row, col)
        name = f"{col_letters(col)}{row}" if col <= 18_278 else "?"
        if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
            self.problem((name if name != "?" else f"?{row}",
                          msg("cell lies outside Excel's grid (1,048,576 rows × XFD columns)")))
            return name, None
        return name, (row, col)


def _formula(f: Any, ref: str, shared: dict[str, tuple[str, str]]) -> str:
    text = f.text or ""
    if f.get("t") == "shared":
        si = f.get("si", "")
        if text:
            shared[si] = (text, ref)
        elif si in shared:
            from openpyxl.formula.translate import Translator

            master, origin = shared[si]
            return Translator(f"={master}", origin=origin).translate_formula(ref)
    return f"={text}"
