"""Is this file safe to parse? Checks on the bytes and the zip index, before any XML.

A submission is whatever someone saved or renamed: a CSV called .xlsx, an
encrypted workbook (an OLE file), an old .xls, a zip bomb, a zip with ``../``
names. Each is refused here with a reason a person can act on, by looking at
the content (never the extension) and at the zip's central directory (never
trusting what it declares: sizes are checked again while reading, and a part
can never be read past its limit).
"""

from __future__ import annotations

import os
import posixpath
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from xlplan.i18n import Msg, Words, data, msg

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Limits:
    """What a submission may be. Generated unit workbooks are far below every limit."""

    max_file_bytes: int = 50_000_000
    max_entries: int = 1_000
    max_part_bytes: int = 100_000_000  # one XML part, uncompressed
    max_total_bytes: int = 400_000_000  # all parts, uncompressed
    max_ratio: float = 100.0  # uncompressed / compressed, for parts over ratio_floor
    ratio_floor: int = 1_000_000
    max_cells: int = 2_000_000  # cells present in the whole workbook
    max_cell_chars: int = 32_767  # Excel's own limit for a cell
    timeout_s: float = 60.0  # per file, in the reader process
    memory_bytes: int = 1_500_000_000  # address space of the reader process
    max_findings: int = 200  # per file, then one finding "… and N more"
    max_message_chars: int = 2_000  # any finding's text, stored or printed


class Refused(Exception):
    """The file cannot be read as a workbook at all; ``str()`` says why, for a person (in
    English; raised with a catalog message, ``args[0]`` is that message)."""

    def __str__(self) -> str:
        return Words()(self.args[0]) if self.args and isinstance(self.args[0], str) else \
            super().__str__()


@dataclass
class Package:
    """An opened .xlsx zip whose index passed the checks."""

    path: Path
    zip: zipfile.ZipFile
    limits: Limits
    names: set[str] = field(default_factory=set)
    # what the workbook carries that xlplan never runs or opens (MACRO_PARTS: macros, links)
    flags: list[Msg] = field(default_factory=list)
    handle: IO[bytes] | None = None  # the file the zip reads (closed with the package)

    def has(self, name: str) -> bool:
        return name in self.names

    def open(self, name: str) -> _Bounded:
        """A part as a stream; reading past its declared size or a bad CRC raises Refused."""
        try:
            return _Bounded(self.zip.open(name), self.limits.max_part_bytes, name)
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError,
                ValueError) as exc:
            raise Refused(msg("part {part} cannot be read ({problem})", part=data(name),
                              problem=data(exc))) from None

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def close(self) -> None:
        self.zip.close()
        if self.handle is not None:
            self.handle.close()


class _Bounded:
    """A part's stream that stops at a limit and turns zip errors into Refused."""

    def __init__(self, raw: IO[bytes], limit: int, name: str):
        self.raw, self.left, self.name = raw, limit, name

    def read(self, size: int = -1) -> bytes:
        want = self.left + 1 if size < 0 else min(size, self.left + 1)
        try:
            chunk = self.raw.read(want)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise Refused(msg("part {part} is damaged ({problem})", part=data(self.name),
                              problem=data(exc))) from None
        self.left -= len(chunk)
        if self.left < 0:
            raise Refused(msg("part {part} is larger than {limit} bytes uncompressed: refused "
                              "as a possible zip bomb", part=data(self.name),
                              limit=data(f"{self.left + len(chunk):,}")))
        return chunk

    def __enter__(self) -> _Bounded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


def sniff(head: bytes) -> str:
    """What the first bytes say the file is."""
    if not head:
        return "empty"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype html", b"<table")):
        return "html"
    if text.startswith(b"<?xml"):
        return "xml"
    if head.startswith(b"PK"):
        return "zip-odd"
    return "other"


def _check_names(infos: list[zipfile.ZipInfo]) -> None:
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        norm = posixpath.normpath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or norm.startswith("..") or "\\" in name or ":" in name:
            raise Refused(msg("the zip holds an unsafe entry name {entry}: refused",
                              entry=data(repr(name))))
        key = name.lower()
        if key in seen:
            raise Refused(msg("the zip holds the entry {entry} twice: refused (a reader could "
                              "see either copy)", entry=data(repr(name))))
        seen.add(key)


def _check_sizes(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise Refused(msg("the zip entry {entry} is encrypted: refused",
                              entry=data(info.filename)))
        if info.file_size > limits.max_part_bytes:
            raise Refused(msg("the zip entry {entry} declares {size} bytes uncompressed (limit "
                              "{limit}): refused", entry=data(info.filename),
                              size=data(f"{info.file_size:,}"),
                              limit=data(f"{limits.max_part_bytes:,}")))
        if info.file_size > limits.ratio_floor:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise Refused(msg("the zip entry {entry} expands {ratio}× (limit {limit}×): "
                                  "refused as a possible zip bomb", entry=data(info.filename),
                                  ratio=data(f"{ratio:,.0f}"),
                                  limit=data(f"{limits.max_ratio:g}")))
        total += info.file_size
    if total > limits.max_total_bytes:
        raise Refused(msg("the zip expands to {size} bytes (limit {limit}): refused",
                          size=data(f"{total:,}"), limit=data(f"{limits.max_total_bytes:,}")))


MACRO_PARTS = (("xl/vbaproject.bin", msg("VBA macros (xl/vbaProject.bin)")),
               ("xl/macrosheets/", msg("an Excel 4.0 (XLM) macro sheet")),
               ("xl/activex/", msg("ActiveX controls")),
               ("xl/embeddings/", msg("embedded objects")),
               ("xl/externallinks/", msg("links to other workbooks")))
CODE = frozenset(what for part, what in MACRO_PARTS[:3])  # code: the file is refused


def _open_regular(path: Path) -> IO[bytes]:
    """The file for reading, only if it is a regular file: opened without following a
    link and without blocking (a FIFO put in its place would otherwise block forever),
    then checked on the open descriptor itself."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | \
        getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(msg("this is not a regular file (a pipe, socket or device): not read"))
    return os.fdopen(fd, "rb")


def read_regular(path: Path, limits: Limits) -> bytes:
    """The whole file, read as :func:`open_package` opens it (a regular file only, no link
    followed, never blocking on a FIFO swapped in) and never past the size limit: what the
    cluster client ships to a worker (``--ship-files``). Refused saying why otherwise."""
    try:
        handle = _open_regular(path)
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror or exc})") from None
    with handle:
        data = handle.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise Refused(f"the file is over {limits.max_file_bytes:,} bytes (the limit)")
    return data


OTHER_FORMATS = {  # what a zip holds → what it is
    "xl/workbook.bin": msg("this is an Excel binary workbook (.xlsb), which xlplan does not "
                           "read: open it in Excel and save it as 'Excel Workbook (.xlsx)', "
                           "then send it again"),
    "content.xml": msg("this is an OpenDocument spreadsheet (.ods), which xlplan does not "
                       "read: save it as 'Excel 2007-365 (.xlsx)' and send it again"),
}
OLD_XLS = msg("an old Excel 97-2003 workbook (.xls), which xlplan does not read: open it in "
              "Excel and save it as 'Excel Workbook (.xlsx)', then send it again")


def open_package(path: Path, limits: Limits | None = None) -> Package:
    """Open ``path`` as an .xlsx package, or raise Refused saying what it is instead."""
    limits = limits or Limits()
    try:
        handle = _open_regular(path)
    except OSError as exc:
        raise Refused(msg("cannot be read ({problem})", problem=data(exc.strerror or exc))
                      ) from None
    try:
        return _open_zip(path, handle, limits)
    except BaseException:
        handle.close()
        raise


def _open_zip(path: Path, handle: IO[bytes], limits: Limits) -> Package:
    try:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(8)
        handle.seek(0)
    except OSError as exc:
        raise Refused(msg("cannot be read ({problem})", problem=data(exc.strerror or exc))
                      ) from None
    kind = sniff(head)
    if kind == "empty":
        raise Refused(msg("the file is empty (0 bytes)"))
    if kind == "ole" and path.suffix.lower() == ".xls":
        raise Refused(OLD_XLS)
    if kind == "ole":
        raise Refused(msg("this is an encrypted (password-protected) workbook or an old .xls "
                          "file, not an .xlsx: remove the password (File › Info › Protect "
                          "Workbook) or save as 'Excel Workbook (.xlsx)', then send it again"))
    if kind == "html":
        raise Refused(msg("this is an HTML page saved with an .xlsx name, not a workbook"))
    if kind in ("xml", "other"):
        raise Refused(msg("this is not an .xlsx workbook (no zip signature; a text or CSV "
                          "file renamed?)"))
    if size > limits.max_file_bytes:
        raise Refused(msg("the file is {size} bytes (limit {limit})", size=data(f"{size:,}"),
                          limit=data(f"{limits.max_file_bytes:,}")))
    try:
        zf = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused(msg("the zip is damaged or truncated ({problem})", problem=data(exc))
                      ) from None
    try:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise Refused(msg("the zip holds {count} entries (limit {limit}): refused",
                              count=data(f"{len(infos):,}"),
                              limit=data(f"{limits.max_entries:,}")))
        _check_names(infos)
        _check_sizes(infos, limits)
        names = {i.filename for i in infos}
        other = next((what for part, what in OTHER_FORMATS.items() if part in names), None)
        if other and "xl/workbook.xml" not in names:
            raise Refused(other)
        if "[Content_Types].xml" not in names:
            raise Refused(msg("[Content_Types].xml is missing: not an Office Open XML package"))
        if "xl/workbook.xml" not in names:
            if any(n.startswith(("word/", "ppt/")) for n in names):
                raise Refused(msg("this is a Word or PowerPoint file, not a workbook"))
            raise Refused(msg("xl/workbook.xml is missing: not an Excel workbook"))
        package = Package(path, zf, limits, names, handle=handle)
        lower = {n.lower() for n in names}
        for prefix, what in MACRO_PARTS:
            if any(n.startswith(prefix) for n in lower):
                package.flags.append(what)
        return package
    except BaseException:
        zf.close()
        raise
