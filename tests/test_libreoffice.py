"""The LibreOffice harness: recalculation really happens, batches are counted, pictures render.

One LibreOffice profile per module (the `office` fixture): its first start takes a second or
two, later calls well under a second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import xlsxwriter
from conftest import ROOT, require_tool

from xlplan.libreoffice import LibreOffice, LibreOfficeError, read_values, render_png

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]  # every test here drives soffice

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_wrong_cache(path: Path) -> Path:
    """Formulas whose cached values are deliberately wrong: only a recalculation fixes them."""
    book = xlsxwriter.Workbook(str(path))
    main = book.add_worksheet("Main")
    data = book.add_worksheet("Data Sheet")
    main.write("A1", 2)
    main.write("A2", 3)
    main.write_formula("A3", "=A1*A2", None, 999)
    # Excel and LibreOffice round half away from zero on the decimal value: 2.68.
    # (Python's round(2.675, 2) is 2.67: the binary double is just below 2.675.)
    main.write_formula("A4", "=ROUND(2.675,2)", None, 0)
    data.write("B1", 10)
    main.write_formula("A5", "='Data Sheet'!B1*2", None, 999)
    main.write_row("C1", [1, 2, 3])
    main.write_row("C2", [4, 5, 6])
    main.write_formula("A6", "=SUMPRODUCT(C1:E1,C2:E2)", None, 999)
    book.close()
    return path


RIGHT = {"A3": 6, "A4": 2.68, "A5": 20, "A6": 32}
CACHED = {"A3": 999, "A4": 0, "A5": 999, "A6": 999}


def main_formulas(path: Path) -> dict[str, object]:
    cells = read_values(path)["Main"]
    return {ref: cells.get(ref) for ref in RIGHT}


def test_recalculation_replaces_wrong_cached_values(office: LibreOffice, tmp_path: Path) -> None:
    book = write_wrong_cache(tmp_path / "wrong.xlsx")
    # Without recalculation the check would read our own (here: wrong) numbers back.
    assert main_formulas(book) == CACHED
    out = office.recalculate([book], tmp_path / "recalc")
    assert out == {book: tmp_path / "recalc" / "wrong.xlsx"}
    assert main_formulas(out[book]) == RIGHT
    values = read_values(out[book])
    assert values["Main"]["A1"] == 2
    assert values["Data Sheet"] == {"B1": 10}


def test_without_the_setting_cached_values_survive(tmp_path: Path) -> None:
    """The profile setting is what makes it work.

    LibreOffice 7.4's default OOXMLRecalcMode is 1 ("never recalculate"), and it applies to
    our files too: XlsxWriter writes Application "Microsoft Excel" in docProps/app.xml, which
    LibreOffice counts as a known-good generator, but the cached values survived just the
    same when that was changed to "xlplan" or left empty (checked by hand).
    """
    require_tool("soffice")
    book = write_wrong_cache(tmp_path / "wrong.xlsx")
    with LibreOffice(always_recalculate=False) as lo:
        registry = (lo.profile / "user" / "registrymodifications.xcu").read_text()
        assert "OOXMLRecalcMode" not in registry
        out = lo.recalculate([book], tmp_path / "kept")
    assert main_formulas(out[book]) == CACHED


def test_profile_keeps_the_setting(office: LibreOffice) -> None:
    # soffice rewrites registrymodifications.xcu on exit; the setting must still be there.
    registry = (office.profile / "user" / "registrymodifications.xcu").read_text()
    assert 'oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value>' in registry
    assert 'oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value>' in registry


def write_small(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"book{i:02d}.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        sheet.write("A1", i)
        sheet.write_formula("A2", "=A1*10+1", None, -1)
        book.close()
        paths.append(path)
    return paths


def test_batches_are_counted(office: LibreOffice, tmp_path: Path) -> None:
    paths = write_small(tmp_path / "in", 25)
    out = office.recalculate(paths, tmp_path / "out")
    assert len(out) == 25
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in paths]
    for i, path in enumerate(paths):
        assert read_values(out[path])["Sheet1"] == {"A1": i, "A2": i * 10 + 1}


def test_a_batch_that_stops_early_is_retried(
    office: LibreOffice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulate soffice exiting 0 before the end of a batch: the missing file is redone."""
    real_run = office._run
    calls: list[list[str]] = []

    def stops_early(sources: list[Path], out_dir: Path, spec: str) -> str:
        calls.append([s.name for s in sources])
        return real_run(sources[:-1] if len(sources) > 1 else sources, out_dir, spec)

    monkeypatch.setattr(office, "_run", stops_early)
    paths = write_small(tmp_path / "in", 2)
    out = office.recalculate(paths, tmp_path / "out")
    assert calls == [["book00.xlsx", "book01.xlsx"], ["book01.xlsx"]]
    for i, path in enumerate(paths):
        assert read_values(out[path])["Sheet1"]["A2"] == i * 10 + 1


def test_a_file_that_cannot_load_is_named(office: LibreOffice, tmp_path: Path) -> None:
    good = write_small(tmp_path / "in", 1)[0]
    bad = tmp_path / "in" / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    # A stale output from an earlier run must not count as converted.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "broken.xlsx").write_bytes(b"left over")
    with pytest.raises(LibreOfficeError, match=r"broken\.xlsx") as caught:
        office.recalculate([good, bad], tmp_path / "out")
    assert "could not be loaded" in caught.value.stderr  # soffice exited 0 all the same
    assert (tmp_path / "out" / "book00.xlsx").is_file()
    assert not (tmp_path / "out" / "broken.xlsx").exists()


def test_a_hung_soffice_is_killed(tmp_path: Path) -> None:
    require_tool("soffice")
    book = write_small(tmp_path / "in", 1)[0]
    with (
        LibreOffice(timeout=0.2) as lo,
        pytest.raises(LibreOfficeError, match=r"(?s)book00\.xlsx.*timed out"),
    ):
        lo.recalculate([book], tmp_path / "out")


def test_out_dir_must_not_be_the_input_folder(office: LibreOffice, tmp_path: Path) -> None:
    book = write_small(tmp_path, 1)[0]
    with pytest.raises(ValueError, match="overwrite"):
        office.recalculate([book], tmp_path)


def write_chart_book(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    plan = book.add_worksheet("Plan")
    secret = book.add_worksheet("Secret")
    notes = book.add_worksheet("Notes 2025")
    secret.hide()
    plan.write_row("A1", ["Month", "Revenue"])
    for month in range(1, 13):
        plan.write(month, 0, f"M{month}")
        plan.write_formula(month, 1, f"={month}*100", None, 0)  # cached 0: the chart needs recalc
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": "Revenue", "categories": "=Plan!$A$2:$A$13",
                      "values": "=Plan!$B$2:$B$13"})
    plan.insert_chart("D2", chart)
    secret.write("A1", "hidden")
    notes.write("A1", "notes")
    book.close()
    return path


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_render_png(office: LibreOffice, tmp_path: Path) -> None:
    require_tool("pdftoppm")
    book = write_chart_book(tmp_path / "chart.xlsx")
    images = render_png(book, tmp_path / "png", office=office)
    # One picture per visible sheet; the hidden one is left out.
    assert [p.name for p in images] == ["chart-01-Plan.png", "chart-03-Notes_2025.png"]
    width, height = png_size(images[0])
    # Table and chart on one page (checked by eye: bars 100..1200, recalculated), ~731x267.
    assert width > 500 and height > 200
    assert images[0].stat().st_size > 5_000

    only = render_png(book, tmp_path / "one", sheets=["Secret"], dpi=40, office=office)
    assert [p.name for p in only] == ["chart-02-Secret.png"]
    with pytest.raises(ValueError, match="Nope"):
        render_png(book, tmp_path / "none", sheets=["Nope"], office=office)


def test_render_script(tmp_path: Path) -> None:
    require_tool("soffice")
    require_tool("pdftoppm")
    book = write_chart_book(tmp_path / "chart.xlsx")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render.py"), str(book), "-o",
         str(tmp_path / "png"), "--dpi", "50"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    printed = [Path(line) for line in result.stdout.splitlines()]
    assert [p.name for p in printed] == ["chart-01-Plan.png", "chart-03-Notes_2025.png"]
    assert all(p.stat().st_size > 0 for p in printed)
