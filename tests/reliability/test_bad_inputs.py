"""The bad-input matrix: each broken or hostile file built here, each with the decision
and the reason it must get, all consolidated in one run beside a good submission."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from summary import SMALL, STATS
from tamper import edit_part, rewrite, set_cell, sheet_part

from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.report import neutralise
from xlplan.consolidate.run import consolidate
from xlplan.i18n import Msg, Words
from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample

Make = Callable[[Path, Path], Path]  # (a good filled workbook, destination) → the bad file


@dataclass(frozen=True)
class Case:
    name: str
    make: Make
    status: str  # rejected | warnings | accepted
    says: str  # a piece of the first relevant finding
    sheet: str = ""  # the sheet the finding names, when there is one
    cell: str = ""
    suffix: str = ".xlsx"  # the file's extension in the inbox


def _bytes(data: bytes) -> Make:
    def make(_good: Path, dst: Path) -> Path:
        dst.write_bytes(data)
        return dst
    return make


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Make:
    def make(_good: Path, dst: Path) -> Path:
        with zipfile.ZipFile(dst, "w", method) as z:
            for name, data in entries.items():
                z.writestr(name, data)
        return dst
    return make


def _truncated(good: Path, dst: Path) -> Path:
    data = good.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def _bad_crc(good: Path, dst: Path) -> Path:
    """Stored (uncompressed) copy with one byte of a sheet flipped: the CRC no longer fits."""
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename), zipfile.ZIP_STORED)
    data = bytearray(dst.read_bytes())
    at = data.find(b"<sheetData>")
    data[at + 1] ^= 0x20
    dst.write_bytes(bytes(data))
    return dst


def _lying_size(good: Path, dst: Path) -> Path:
    """The central directory declares a sheet far smaller than it is."""
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename), zipfile.ZIP_STORED)
    data = bytearray(dst.read_bytes())
    name = b"xl/worksheets/sheet3.xml"
    header = data.rfind(name) - 46  # the central directory entry (the name's last occurrence)
    assert data[header:header + 4] == b"PK\x01\x02"
    data[header + 24:header + 28] = (10).to_bytes(4, "little")  # uncompressed size
    dst.write_bytes(bytes(data))
    return dst


def _many_entries(good: Path, dst: Path) -> Path:
    return rewrite(good, dst, {}, add={f"xl/media/pad{i}.txt": b"x" for i in range(1001)})


def _bomb(good: Path, dst: Path) -> Path:
    return rewrite(good, dst, {}, add={"xl/media/zeros.bin": b"\0" * 20_000_000})


def _duplicate_entry(good: Path, dst: Path) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the very thing we want
        return rewrite(good, dst, {}, add={"xl/styles.xml": b"<styleSheet/>"})


def _dotdot(good: Path, dst: Path) -> Path:
    return rewrite(good, dst, {}, add={"../../evil.txt": b"x"})


def _no_content_types(good: Path, dst: Path) -> Path:
    return rewrite(good, dst, {}, drop=("[Content_Types].xml",))


BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')


def _doctype(part: str, head: bytes) -> Make:
    def make(good: Path, dst: Path) -> Path:
        def edit(data: bytes) -> bytes:
            return head + re.sub(rb"^<\?xml[^>]*\?>", b"", data)
        return rewrite(good, dst, {part: edit})
    return make


def _doctype_in(part: str, head: str, codec: str, bom: bytes = b"") -> Make:
    """A part re-encoded (``codec``) with ``head`` (declaration, DOCTYPE) in front."""
    def make(good: Path, dst: Path) -> Path:
        def edit(data: bytes) -> bytes:
            rest = re.sub(rb"^<\?xml[^>]*\?>", b"", data).decode()
            return bom + (head + rest).encode(codec)
        return rewrite(good, dst, {part: edit})
    return make


# UTF-16 without a byte-order mark: the parser finds it by its zero bytes, and expands the
# entity into the shared strings (an input's text) unless the DOCTYPE is refused
UTF16_ENTITY = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sst [<!ENTITY e '
                '"expanded">]>')


def _strict(good: Path, dst: Path) -> Path:
    return edit_part(good, dst, "xl/workbook.xml",
                     b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                     b"http://purl.oclc.org/ooxml/spreadsheetml/main")


def _add(name: str, data: bytes = b"x") -> Make:
    def make(good: Path, dst: Path) -> Path:
        return rewrite(good, dst, {}, add={name: data})
    return make


def _cell(sheet: str, cell: str, xml: str) -> Make:
    def make(good: Path, dst: Path) -> Path:
        return set_cell(good, dst, sheet, cell, xml)
    return make


def _sheet_xml(sheet: str, old: bytes, new: bytes) -> Make:
    def make(good: Path, dst: Path) -> Path:
        return edit_part(good, dst, sheet_part(good, sheet), old, new)
    return make


def _sheet_re(sheet: str, pattern: bytes, repl: bytes) -> Make:
    def make(good: Path, dst: Path) -> Path:
        def edit(data: bytes) -> bytes:
            new, n = re.subn(pattern, repl, data, count=1)
            assert n == 1, pattern
            return new
        return rewrite(good, dst, {sheet_part(good, sheet): edit})
    return make


def _append_row(sheet: str, row_xml: str) -> Make:
    return _sheet_xml(sheet, b"</sheetData>", row_xml.encode() + b"</sheetData>")


def _duplicate_cell(good: Path, dst: Path) -> Path:
    part = sheet_part(good, "Guide")

    def edit(data: bytes) -> bytes:
        m = re.search(rb'<c r="A1"[^>]*>.*?</c>', data)
        assert m
        return data.replace(m.group(0), m.group(0) * 2, 1)
    return rewrite(good, dst, {part: edit})


def _many_bad_cells(good: Path, dst: Path) -> Path:
    """20,000 cells with invalid references in a 100 KB file: each was a finding, and 2
    million of them (370 KB) took 5 minutes and 3.3 GB."""
    return _append_row("Guide", '<row r="900">' + '<c r="!"/>' * 20_000 + "</row>")(good, dst)


def _long_sheet_name(good: Path, dst: Path) -> Path:
    """A 2 MB sheet name: every finding naming it was 2 MB, printed and stored whole."""
    import random

    noise = "".join(random.Random(2).choices("abcdefghijklmnopqrstuvwxyz", k=2_000_000))

    def edit(data: bytes) -> bytes:  # random letters: not a zip bomb by its ratio
        return data.replace(b'<sheet name="Risks"', b'<sheet name="Risks' + noise.encode()
                            + b'"', 1)
    return rewrite(good, dst, {"xl/workbook.xml": edit})


def _xlsb(_good: Path, dst: Path) -> Path:
    """What Excel writes as .xlsb: a zip with binary parts (xl/workbook.bin)."""
    return _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00",
                 "xl/worksheets/sheet1.bin": b"\x81\x01\x00"})(_good, dst)


def _ods(_good: Path, dst: Path) -> Path:
    """An OpenDocument spreadsheet (LibreOffice's own format)."""
    return _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                 "content.xml": b"<office:document-content/>",
                 "META-INF/manifest.xml": b"<manifest/>"}, zipfile.ZIP_STORED)(_good, dst)


def _duplicate_sheet_name(good: Path, dst: Path) -> Path:
    def edit(data: bytes) -> bytes:
        return re.sub(rb'<sheet name="Risks"', b'<sheet name="Actions"', data)
    return rewrite(good, dst, {"xl/workbook.xml": edit})


def _hidden(good: Path, dst: Path) -> Path:
    return edit_part(good, dst, "xl/workbook.xml", b'<sheet name="Guide" sheetId="1"',
                     b'<sheet name="Guide" sheetId="1" state="hidden"')


def _merge_over_inputs(good: Path, dst: Path) -> Path:
    return _sheet_xml("Commitments", b"</sheetData>",
                      b'</sheetData><mergeCells count="1"><mergeCell ref="B5:D5"/></mergeCells>'
                      )(good, dst)


def _date1904(good: Path, dst: Path) -> Path:
    """The 1904 date system, with every date cell (given and typed) written in it."""
    shift = 1462  # days from the 1900 to the 1904 epoch

    def workbook(data: bytes) -> bytes:
        data, n = re.subn(rb"<workbookPr", b'<workbookPr date1904="1"', data)
        assert n == 1
        return data

    def dates(data: bytes) -> bytes:
        # XlsxWriter writes given dates as numbers with a date style; shift those that look
        # like this fiscal year's dates (serials 46000–47500) by the epoch difference
        return re.sub(rb"<v>(4[67]\d{3})</v>", lambda m: b"<v>%d</v>" % (int(m[1]) - shift),
                      data)
    parts = {"xl/workbook.xml": workbook}
    with zipfile.ZipFile(good) as z:
        parts |= {n: dates for n in z.namelist() if n.startswith("xl/worksheets/")}
    return rewrite(good, dst, parts)


def _manifest_rule(cell: str, rule: str, sheet: str, xml: str) -> Make:
    """Widen the rule the hidden manifest lists for ``cell``, then type ``xml`` into the cell
    (a submission vouching for itself: the template's rule must still apply)."""
    def make(good: Path, dst: Path) -> Path:
        def edit(data: bytes) -> bytes:
            pattern = rf'("cell":"{cell}","item":"[^"]*","period":"[^"]*","rule":)\{{[^}}]*\}}'
            new, n = re.subn(pattern.encode(), lambda m: m.group(1) + rule.encode(), data,
                             count=1)
            assert n == 1, cell
            return new
        middle = good.with_name(f"{dst.stem}-manifest.xlsx")
        rewrite(good, middle, {"xl/sharedStrings.xml": edit})
        return set_cell(middle, dst, sheet, cell, xml)
    return make


def _text(cell: str, text: str) -> str:
    """An inline-string cell (``\\r`` kept as a character reference, as Excel writes it)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("\r", "&#13;")
    return f'<c r="{cell}" t="inlineStr"><is><t>{escaped}</t></is></c>'


INJECTION = "=HYPERLINK(\"http://evil.example\",\"click\")"
CR_INJECTION = "notes\r=cmd|' /C calc'!A0"

CASES = [
    Case("empty", _bytes(b""), "rejected", "empty"),
    Case("csv renamed", _bytes(b"unit,value\nEAST,100\n"), "rejected", "not an .xlsx"),
    Case("html renamed", _bytes(b"<html><body><table><tr><td>1</td></tr></table>"),
         "rejected", "HTML"),
    Case("truncated zip", _truncated, "rejected", "damaged or truncated"),
    Case("bad CRC", _bad_crc, "rejected", "CRC"),
    Case("lying size", _lying_size, "rejected", "sheet3.xml"),
    Case("ratio over 100", _bomb, "rejected", "possible zip bomb"),
    Case("over 1,000 entries", _many_entries, "rejected", "entries (limit 1,000)"),
    Case("duplicate entry", _duplicate_entry, "rejected", "twice"),
    Case("../ entry", _dotdot, "rejected", "unsafe entry name"),
    Case("no [Content_Types].xml", _no_content_types, "rejected", "[Content_Types].xml"),
    Case("entity bomb", _doctype("xl/sharedStrings.xml", BOMB), "rejected", "DTD or entities"),
    Case("XXE", _doctype("xl/workbook.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe '
                         b'SYSTEM "file:///etc/passwd">]>'), "rejected", "DTD or entities"),
    Case("any DOCTYPE", _doctype("docProps/core.xml", b'<?xml version="1.0"?><!DOCTYPE x>'),
         "rejected", "DTD"),
    Case("encrypted", _bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 1024), "rejected",
         "encrypted"),
    Case(".xls renamed", _bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\1" * 2048), "rejected",
         "old .xls"),
    Case("Strict OOXML", _strict, "rejected", "Strict Open XML"),
    Case("VBA in .xlsx", _add("xl/vbaProject.bin"), "rejected", "VBA macros"),
    Case("XLM macro sheet", _add("xl/macrosheets/sheet1.xml"), "rejected", "XLM"),
    Case("external links", _add("xl/externalLinks/externalLink1.xml"), "warnings",
         "links to other workbooks"),
    Case("cell at XFD1048576", _append_row(
        "Guide", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'), "warnings",
        "XFD1048576", "Guide", "XFD1048576"),
    Case("tiny file claiming A1 and XFD1048576", _zip({
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml'
                           b'/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
                           b'officeDocument/2006/relationships"><sheets><sheet name="S" '
                           b'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<Relationships xmlns="http://schemas.openxmlformats.'
                                      b'org/package/2006/relationships"><Relationship Id="rId1"'
                                      b' Target="worksheets/sheet1.xml" Type="x"/>'
                                      b'</Relationships>',
        "xl/worksheets/sheet1.xml": b'<worksheet xmlns="http://schemas.openxmlformats.org/'
                                    b'spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/>'
                                    b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
                                    b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
                                    b'</sheetData></worksheet>'}),
         "rejected", "not a workbook built by xlplan"),
    Case("wrong <dimension>", _sheet_xml("Commitments", b'<dimension ref="',
                                         b'<dimension ref="A1"/><x ref="'), "accepted", ""),
    Case("row past Excel's limit", _append_row(
        "Guide", '<row r="1048577"><c r="A1048577"><v>1</v></c></row>'), "rejected",
        "outside Excel's grid", "Guide", "A1048577"),
    Case("column past Excel's limit", _append_row(
        "Guide", '<row r="900"><c r="XFE900"><v>1</v></c></row>'), "rejected",
        "outside Excel's grid", "Guide", "XFE900"),
    Case("cell over 32,767 characters", _cell(
        "OKR", "B12", '<c r="B12" t="inlineStr"><is><t>' + "x" * 40_000 + "</t></is></c>"),
        "rejected", "32,767", "OKR", "B12"),
    Case("shared string out of range", _cell("Guide", "A1", '<c r="A1" t="s"><v>99999</v></c>'),
         "rejected", "shared string", "Guide", "A1"),
    Case("duplicate cells", _duplicate_cell, "rejected", "written twice", "Guide", "A1"),
    Case("duplicate sheet names", _duplicate_sheet_name, "rejected", "two sheets named"),
    Case("hidden sheet", _hidden, "warnings", "hidden", "Guide"),
    Case("merged cells over inputs", _merge_over_inputs, "rejected", "merged", "Commitments",
         "C5"),
    Case("error value in an input", _cell("Commitments", "C5",
                                          '<c r="C5" t="e"><v>#DIV/0!</v></c>'),
         "rejected", "#DIV/0!", "Commitments", "C5"),
    Case("formula without cached value in an input", _cell(
        "Commitments", "C5", '<c r="C5"><f>1+1</f></c>'), "warnings", "saved no result",
        "Commitments", "C5"),
    Case("formula without cached value (derived cell)", _sheet_re(
        "Commitments", rb"(<f>SUM\(C5:N5\)</f>)<v>[^<]*</v>", rb"\1"), "warnings",
        "1 formula is saved without results", "Commitments", "O5"),
    Case("text in a number input", _cell("Commitments", "C5",
                                         '<c r="C5" t="inlineStr"><is><t>abc</t></is></c>'),
         "rejected", "is text", "Commitments", "C5"),
    Case("NaN in a number input", _cell("Commitments", "C5", '<c r="C5"><v>NaN</v></c>'),
         "rejected", "nan", "Commitments", "C5"),
    Case("1904 date system", _date1904, "accepted", ""),
    Case("DOCTYPE in UTF-16 without a BOM", _doctype_in(
        "xl/sharedStrings.xml", UTF16_ENTITY, "utf-16-le"), "rejected", "DTD or entities"),
    Case("DOCTYPE in UTF-16 big-endian with a BOM", _doctype_in(
        "docProps/core.xml", '<?xml version="1.0"?><!DOCTYPE x>', "utf-16-be", b"\xfe\xff"),
        "rejected", "DTD"),
    Case("part in EBCDIC", _doctype_in("docProps/core.xml", '<?xml version="1.0" '
                                       'encoding="cp500"?>', "ascii"), "rejected",
         "declares the encoding cp500"),
    Case("20,000 bad cells", _many_bad_cells, "rejected", "more", "Guide"),
    Case("2 MB sheet name", _long_sheet_name, "rejected", "is missing", "Risks"),
    Case(".xlsb", _xlsb, "rejected", "Excel binary workbook (.xlsb)", suffix=".xlsb"),
    Case(".ods", _ods, "rejected", "OpenDocument spreadsheet (.ods)", suffix=".ods"),
    Case(".xls", _bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\2" * 2048), "rejected",
         "old Excel 97-2003 workbook (.xls)", suffix=".xls"),
    Case("formula-injection text", _cell("OKR", "B12", '<c r="B12" t="inlineStr"><is><t>'
                                         + INJECTION.replace('"', "&quot;") + "</t></is></c>"),
         "accepted", ""),
    # issue 23: nothing a submission says about itself is trusted
    Case("manifest allows a negative amount", _manifest_rule(
        "C5", '{"kind":"number","title":"Amount"}', "Commitments", '<c r="C5"><v>-5000</v></c>'),
        "rejected", "is not a number ≥ 0", "Commitments", "C5"),
    Case("manifest allows a KR weight of 50", _manifest_rule(
        "L12", '{"kind":"ratio","minimum":0.0,"maximum":100.0}', "OKR",
        '<c r="L12"><v>50</v></c>'), "rejected", "is not a ratio", "OKR", "L12"),
    Case("manifest makes an amount text", _manifest_rule(
        "C5", '{"kind":"text"}', "Commitments", _text("C5", "lots")), "rejected", "is text",
        "Commitments", "C5"),
    Case("formula in an input saved with another value", _cell(
        "Commitments", "C5", '<c r="C5"><f>1+1</f><v>5000000</v></c>'), "warnings", "=1+1",
        "Commitments", "C5"),
    Case("formula with a function in an input", _cell(
        "Commitments", "C5", '<c r="C5"><f>SUM(1,2)</f><v>3</v></c>'), "rejected",
        "type the value", "Commitments", "C5"),
    Case("formula pointing to another cell", _cell(
        "Commitments", "C5", '<c r="C5"><f>Guide!A1*0+7</f><v>7</v></c>'), "rejected",
        "type the value", "Commitments", "C5"),
    Case("formula pointing to another workbook", _cell(
        "Commitments", "C5", '<c r="C5"><f>[1]Sheet1!A1</f><v>100</v></c>'), "rejected",
        "another workbook", "Commitments", "C5"),
    Case("formula pointing to a workbook by path", _cell(
        "Commitments", "C5", "<c r=\"C5\"><f>'C:\\plans\\[x.xlsx]S'!A1+1</f><v>100</v></c>"),
        "rejected", "another workbook", "Commitments", "C5"),
    Case("amount over the validation's 1e15", _cell(
        "Commitments", "C5", '<c r="C5"><v>1E16</v></c>'), "rejected", "1e+15", "Commitments",
        "C5"),
    Case("amount of 1e28", _cell("Commitments", "C5", '<c r="C5"><v>1E28</v></c>'),
         "rejected", "1e+15", "Commitments", "C5"),
    Case("signed number under -1e15", _cell("OKR", "G12", '<c r="G12"><v>-2E15</v></c>'),
         "rejected", "-1e+15", "OKR", "G12"),
    Case("text date with trailing words", _cell(
        "OKR", "K12", _text("K12", "2027-03-15 or maybe april")), "rejected", "not a date",
        "OKR", "K12"),
    Case("text date 2027/3/15", _cell("OKR", "K12", _text("K12", "2027/3/15")), "accepted",
         ""),
    Case("text date 2027年3月15日", _cell("OKR", "K12", _text("K12", "2027年3月15日")),
         "accepted", ""),
    Case("carriage return then a formula in a text", _cell(
        "OKR", "B12", _text("B12", CR_INJECTION)), "accepted", ""),
]


@pytest.fixture(scope="module")
def matrix(built: list[Built], tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Outcome, dict[str, Path]]:
    """Every case's file plus one good submission, consolidated in one run."""
    east = next(b for b in built if b.unit == "EAST")
    folder = tmp_path_factory.mktemp("matrix")
    good = fill_sample(east.path, folder / "good.xlsx", seed=3).workbook
    inbox = folder / "inbox"
    inbox.mkdir()
    files = {}
    for i, case in enumerate(CASES):
        files[case.name] = case.make(good, inbox / f"case{i:02d}{case.suffix}")
    outcome = consolidate(SMALL, inbox, folder / "out", workers=2)
    STATS["cases"] += len(CASES)
    return outcome, files


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decision_and_reason(case: Case, matrix: tuple[Outcome, dict[str, Path]]) -> None:
    outcome, files = matrix
    got = next(f for f in outcome.files if f.path == files[case.name])
    status = got.status
    if status == "superseded":  # accepted, but another accepted file of EAST is newer
        status = "warnings" if got.findings else "accepted"
    assert status == case.status, (case.name, got.findings[:3])
    if case.says:
        hit = [f for f in got.findings if case.says in f["message"]]
        assert hit, (case.says, got.findings[:3])
        if case.sheet:
            assert any(f["sheet"] == case.sheet and (not case.cell or f["cell"] == case.cell)
                       for f in hit), hit
    else:
        assert all(f["level"] == "warning" for f in got.findings)


def test_every_rejection_names_the_file(matrix: tuple[Outcome, dict[str, Path]]) -> None:
    """The tracker and JSON carry the path beside every reason."""
    outcome, _ = matrix
    for f in outcome.files:
        doc = f.to_json()
        assert Path(doc["path"]).name.startswith("case")
        if f.status == "rejected":
            assert doc["findings"] and all(x["message"] for x in doc["findings"])


def test_findings_and_messages_are_bounded(matrix: tuple[Outcome, dict[str, Path]]) -> None:
    """Whatever a file holds, it makes at most 200 findings (then one saying how many more)
    and no text over 2,000 characters, in the outcome and in the database."""
    outcome, files = matrix
    many = next(f for f in outcome.files if f.path == files["20,000 bad cells"])
    assert 20 < len(many.findings) <= 201
    assert re.search(r"… and 19,\d{3} more cells", "".join(f["message"] for f in many.findings))
    for f in outcome.files:
        assert len(f.findings) <= 201, f.path
        assert all(len(n[k]) <= 2_000 for n in f.findings for k in ("message", "sheet", "cell"))
    con = duckdb.connect(str(outcome.database), read_only=True)
    longest = con.execute("SELECT max(length(message)), max(length(sheet)), "
                          "(SELECT max(length(reason)) FROM submissions) FROM findings"
                          ).fetchone()
    con.close()
    assert longest is not None and max(longest) <= 3 * 2_000 + 20


def test_wrong_dimension_still_reads_every_row(matrix: tuple[Outcome, dict[str, Path]]
                                               ) -> None:
    outcome, files = matrix
    con = duckdb.connect(str(outcome.database), read_only=True)
    counts = dict(con.execute(
        "SELECT path, count(*) FROM facts JOIN submissions USING (plan_id, spec_hash, sha256) "
        "WHERE item LIKE 'commitment:%' GROUP BY path").fetchall())
    con.close()
    wrong = counts[str(files["wrong <dimension>"])]
    assert wrong == counts[str(files["1904 date system"])] == 72


def test_1904_dates_are_read_in_their_own_system(matrix: tuple[Outcome, dict[str, Path]]
                                                 ) -> None:
    outcome, files = matrix
    con = duckdb.connect(str(outcome.database), read_only=True)
    dates = con.execute(
        "SELECT value_text FROM facts JOIN submissions USING (plan_id, spec_hash, sha256) "
        "WHERE path = ? AND item LIKE '%:due'", [str(files["1904 date system"])]).fetchall()
    con.close()
    assert dates and all(d[0].startswith("2027-") for d in dates)


def test_injection_is_stored_as_text_and_neutralised_in_csv(
        matrix: tuple[Outcome, dict[str, Path]]) -> None:
    outcome, files = matrix
    con = duckdb.connect(str(outcome.database), read_only=True)
    stored = con.execute(
        "SELECT value_text FROM facts JOIN submissions USING (plan_id, spec_hash, sha256) "
        "WHERE path = ? AND cell = 'B12' AND sheet = 'OKR'",
        [str(files["formula-injection text"])]).fetchone()
    con.close()
    assert stored == (INJECTION,)
    assert neutralise(INJECTION) == "'" + INJECTION and neutralise("-5 units") == "'-5 units"
    assert neutralise("plain") == "plain"


def _fact(outcome: Outcome, path: Path, sheet: str, cell: str) -> tuple[object, ...] | None:
    con = duckdb.connect(str(outcome.database), read_only=True)
    row = con.execute(
        "SELECT value_num, value_text FROM facts JOIN submissions USING (plan_id, spec_hash, "
        "sha256) WHERE path = ? AND sheet = ? AND cell = ?", [str(path), sheet, cell]
    ).fetchone()
    con.close()
    return row


def test_a_widened_manifest_rule_is_reported_as_tampering(
        matrix: tuple[Outcome, dict[str, Path]]) -> None:
    outcome, files = matrix
    for name in ("manifest allows a negative amount", "manifest allows a KR weight of 50"):
        got = next(f for f in outcome.files if f.path == files[name])
        assert any("rule" in f["message"] and f["sheet"] == "_xlplan" for f in got.findings
                   ), got.findings


def test_a_formula_input_counts_at_its_own_result_not_its_saved_value(
        matrix: tuple[Outcome, dict[str, Path]]) -> None:
    outcome, files = matrix
    path = files["formula in an input saved with another value"]
    assert _fact(outcome, path, "Commitments", "C5") == (2.0, None)


def test_text_dates_in_the_usual_forms_are_read_exactly(
        matrix: tuple[Outcome, dict[str, Path]]) -> None:
    outcome, files = matrix
    for name in ("text date 2027/3/15", "text date 2027年3月15日"):
        assert _fact(outcome, files[name], "OKR", "K12") == (None, "2027-03-15"), name


def test_csv_quotes_line_breaks_and_neutralises_every_line(tmp_path: Path) -> None:
    """A bare carriage return is a line break to a spreadsheet: the field must be quoted
    and the line after it must not start a formula."""
    import csv

    import pandas as pd

    from xlplan.consolidate.report import write_facts_csv

    texts = [CR_INJECTION, "a\n+1", "a\r\n@SUM(1)", "\r=1", "fine\nline"]
    frame = pd.DataFrame({"plan_id": "p", "unit": "EAST", "item": "okr:x:title",
                          "value_num": [None] * len(texts), "value_text": texts})
    path = tmp_path / "facts.csv"
    write_facts_csv(frame, path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["value_text"] for r in rows] == [
        "notes\r'=cmd|' /C calc'!A0", "a\n'+1", "a\r\n'@SUM(1)", "'\r'=1", "fine\nline"]
    raw = path.read_bytes()
    for line in re.split(rb"\r\n|\r|\n", raw):
        assert not line.startswith((b"=", b"+", b"@", b"-")), line
    assert neutralise(CR_INJECTION) == "notes\r'=cmd|' /C calc'!A0"


def test_every_finding_has_catalog_words(matrix: tuple[Outcome, dict[str, Path]]) -> None:
    """Every finding of every bad input (read back from the history) carries a catalog
    message that shows as its English message in en and in Chinese in zh: a zh workbook's
    Files sheet and returned workbooks say them in Chinese."""
    outcome, _ = matrix
    english, chinese = Words("en"), Words("zh")
    findings = [finding for f in outcome.files for finding in f.findings]
    assert len(findings) > len(CASES)
    wrong = [(finding["message"], chinese(finding["words"])) for finding in findings
             if not isinstance(finding["words"], Msg)
             or english(finding["words"]) != finding["message"]
             or not re.search(r"[\u4e00-\u9fff]", chinese(finding["words"]))]
    assert not wrong, wrong
