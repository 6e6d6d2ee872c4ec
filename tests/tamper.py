"""Helpers that damage copies of workbooks the way people and tools do (tests only).

Edits happen on the zip's XML where a spreadsheet program would keep
everything else intact (a stale cached value, a number over a formula), and
through openpyxl where the structure changes (rows, sheets).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def rewrite(src: Path, dst: Path, edits: dict[str, Callable[[bytes], bytes]],
            add: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> Path:
    """Copy an .xlsx, passing the named parts through their edit functions."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename in edits:
                data = edits[info.filename](data)
            zout.writestr(info, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part of a sheet by name (xl/worksheets/sheetN.xml)."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}" sheetId="\d+"(?: state="\w+")? '
                    r'r:id="(rId\d+)"', book)
    assert rid, sheet
    target = re.search(rf'Id="{rid.group(1)}" [^>]*Target="([^"]+)"', rels)
    assert target
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def set_cached(path: Path, dst: Path, sheet: str, cell: str, value: float) -> Path:
    """Change a formula cell's cached value only (what manual calculation leaves)."""
    def edit(xml: bytes) -> bytes:
        pattern = rf'(<c r="{cell}"[^>]*>(?:<f>[^<]*</f>)?<v>)([^<]*)(</v>)'.encode()
        new, n = re.subn(pattern, lambda m: m.group(1) + repr(value).encode() + m.group(3), xml)
        assert n == 1, f"{sheet}!{cell} has no cached value to change"
        return new
    return rewrite(path, dst, {sheet_part(path, sheet): edit})


def formula_to_number(path: Path, dst: Path, sheet: str, cell: str, value: float) -> Path:
    """Type a number over a formula cell (the formula is gone, the style stays)."""
    def edit(xml: bytes) -> bytes:
        pattern = rf'<c r="{cell}"( s="\d+")?( t="\w+")?><f>[^<]*</f><v>[^<]*</v></c>'.encode()
        new, n = re.subn(pattern, lambda m: b'<c r="' + cell.encode() + b'"' + (m.group(1) or b"")
                         + b"><v>" + repr(value).encode() + b"</v></c>", xml)
        assert n == 1, f"{sheet}!{cell} is not a formula cell"
        return new
    return rewrite(path, dst, {sheet_part(path, sheet): edit})


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def set_cell(path: Path, dst: Path, sheet: str, cell: str, xml: str) -> Path:
    """Replace one cell's XML (``<c r="B5" …>…</c>``) with ``xml``."""
    def edit(data: bytes) -> bytes:
        pattern = rf'<c r="{cell}"(?: [^>]*?)?(?:/>|>.*?</c>)'.encode()
        new, n = re.subn(pattern, lambda _m: xml.encode(), data, count=1, flags=re.S)
        assert n == 1, f"{sheet}!{cell} not found"
        return new
    return rewrite(path, dst, {sheet_part(path, sheet): edit})


def edit_part(path: Path, dst: Path, part: str, old: bytes, new: bytes, count: int = 1) -> Path:
    """Replace bytes in one part (asserting they were there)."""
    def edit(data: bytes) -> bytes:
        assert old in data, (part, old)
        return data.replace(old, new, count)
    return rewrite(path, dst, {part: edit})
