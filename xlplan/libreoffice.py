"""Headless LibreOffice: recalculate workbooks with a real spreadsheet engine, and render them.

Used by the tests to check that the formulas in our generated workbooks, recalculated by
LibreOffice Calc, give the engine's numbers::

    with LibreOffice() as lo:
        out = lo.recalculate([book], tmp_path / "recalc")
    values = read_values(out[book])          # {"Sheet": {"A1": 6, ...}}

Three traps this module handles:

* **Cached values.** XlsxWriter stores a cached result for every formula. LibreOffice's
  default (``OOXMLRecalcMode`` = 1, "never recalculate") keeps those cached values when it
  loads an .xlsx, whoever wrote it, so a "recalculated" copy would just repeat our own
  numbers. Each :class:`LibreOffice` gets a private user profile whose
  ``user/registrymodifications.xcu`` sets ``OOXMLRecalcMode`` and ``ODFRecalcMode`` to 0
  ("always recalculate").
* **Short batches.** A long ``soffice --convert-to`` run was seen to stop early with exit
  status 0 (247 of 300 files). Files are converted in small batches, the outputs are
  counted, and missing ones are retried one by one; a file that still fails raises
  :class:`LibreOfficeError` naming it. ``soffice`` also exits 0 when it cannot load a file.
* **Shared profiles.** Two soffice processes with the same profile collide (the second hands
  its work to the first, or fails on the lock). One profile directory per
  :class:`LibreOffice` object, so parallel test workers (pytest-xdist) are independent.

An object is not meant to be used from several threads at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path
from types import TracebackType
from typing import Self
from xml.etree import ElementTree

import openpyxl

__all__ = [
    "LibreOffice",
    "LibreOfficeError",
    "find_soffice",
    "read_values",
    "render_png",
]

XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
PDF_FILTER = "pdf:calc_pdf_Export"
# One page per sheet, cropped to the used area (LibreOffice ≥ 6.4; JSON options ≥ 7.4).
PDF_ONE_PAGE_PER_SHEET = PDF_FILTER + ':{"SinglePageSheets":{"type":"boolean","value":"true"}}'

_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}</oor:items>
"""
_ITEM = (
    '<item oor:path="/org.openoffice.Office.{path}"><prop oor:name="{name}" oor:op="fuse">'
    "<value>{value}</value></prop></item>\n"
)
# 0 = always recalculate on load, 1 = never (LibreOffice's default), 2 = ask.
_ALWAYS_RECALCULATE = (
    ("Calc/Formula/Load", "OOXMLRecalcMode", "0"),
    ("Calc/Formula/Load", "ODFRecalcMode", "0"),
)
_QUIET = (("Common/Misc", "FirstRun", "false"),)

_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class LibreOfficeError(RuntimeError):
    """soffice failed to convert ``path``; ``stderr`` is what it printed."""

    def __init__(self, path: Path, message: str, stderr: str = "") -> None:
        self.path = path
        self.stderr = stderr
        detail = f"\nsoffice stderr:\n{stderr.strip()}" if stderr.strip() else ""
        super().__init__(f"{path.name}: {message}{detail}")


def find_soffice() -> str | None:
    """Path of the LibreOffice executable (``soffice`` or ``libreoffice`` on PATH), or None."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    mac = Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")
    return str(mac) if mac.exists() else None


class LibreOffice:
    """A headless LibreOffice with its own throw-away user profile (a context manager).

    ``always_recalculate=False`` leaves LibreOffice's own load setting in place (cached
    formula values kept); it exists so a test can show that the setting matters.
    """

    def __init__(
        self,
        soffice: str | None = None,
        *,
        always_recalculate: bool = True,
        batch_size: int = 10,
        timeout: float = 180.0,
    ) -> None:
        found = soffice or find_soffice()
        if found is None:
            raise FileNotFoundError("LibreOffice (soffice) is not installed")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.soffice = found
        self.always_recalculate = always_recalculate
        self.batch_size = batch_size
        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="xlplan-lo-profile-"))
        items = _QUIET + (_ALWAYS_RECALCULATE if always_recalculate else ())
        user = self.profile / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(
            _REGISTRY.format(items="".join(
                _ITEM.format(path=p, name=n, value=v) for p, n, v in items)),
            encoding="utf-8",
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Delete the private profile."""
        shutil.rmtree(self.profile, ignore_errors=True)

    # -- conversions -------------------------------------------------------------------------

    def recalculate(self, paths: list[Path], out_dir: Path) -> dict[Path, Path]:
        """Load each workbook, recalculate every formula, save it as ``out_dir/<name>.xlsx``.

        Returns ``{input: output}``. ``out_dir`` must not be an input's own folder
        (the output has the same name and would overwrite it).
        """
        return self._convert(paths, out_dir, XLSX_FILTER, ".xlsx")

    def to_pdf(self, path: Path, out_dir: Path, *, one_page_per_sheet: bool = False) -> Path:
        """Print the workbook (recalculated) to ``out_dir/<stem>.pdf``.

        ``one_page_per_sheet`` makes each sheet a single page cropped to its used cells,
        which suits pictures better than paper pages (a chart is not cut in two). In 7.4
        hidden sheets get a page too, an empty sheet a page almost 0 pt high, and text that
        overflows past the last used column is clipped at the page edge.
        """
        spec = PDF_ONE_PAGE_PER_SHEET if one_page_per_sheet else PDF_FILTER
        return self._convert([path], out_dir, spec, ".pdf")[path]

    def _convert(
        self, paths: list[Path], out_dir: Path, spec: str, suffix: str
    ) -> dict[Path, Path]:
        out_dir = Path(out_dir).resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        targets: dict[Path, Path] = {}
        for given in paths:
            src = Path(given).resolve()
            if not src.is_file():
                raise FileNotFoundError(src)
            target = out_dir / (src.stem + suffix)
            if target == src:
                raise ValueError(f"{src.name}: out_dir would overwrite the input")
            if target in targets.values():
                raise ValueError(f"two inputs would both be written to {target.name}")
            target.unlink(missing_ok=True)  # a stale output must not count as done
            targets[src] = target
        sources = list(targets)
        errors: dict[Path, str] = {}
        for start in range(0, len(sources), self.batch_size):
            batch = sources[start:start + self.batch_size]
            stderr = self._run(batch, out_dir, spec)
            errors.update((src, stderr) for src in batch)
        # soffice can stop early or skip a file and still exit 0: count, retry one by one.
        for src in sources:
            if not _produced(targets[src]):
                errors[src] = self._run([src], out_dir, spec)
                if not _produced(targets[src]):
                    raise LibreOfficeError(src, f"no {suffix} output in {out_dir}", errors[src])
        return {Path(given): targets[Path(given).resolve()] for given in paths}

    def _run(self, sources: list[Path], out_dir: Path, spec: str) -> str:
        """One soffice call; returns its stderr (a timeout is reported there, not raised)."""
        command = [
            self.soffice,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless", "--invisible", "--nologo", "--nodefault",
            "--norestore", "--nolockcheck",
            "--convert-to", spec, "--outdir", str(out_dir),
            *(str(s) for s in sources),
        ]
        # A new session, so a timeout can kill soffice.bin too, not just the launcher.
        with subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", start_new_session=True,
        ) as process:
            try:
                _, stderr = process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                _, stderr = process.communicate()
                return stderr + f"\n(soffice timed out after {self.timeout:g} s and was killed)"
        if process.returncode != 0:
            stderr += f"\n(soffice exit status {process.returncode})"
        return stderr


def _produced(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


# -- reading and rendering -------------------------------------------------------------------


def read_values(path: Path) -> dict[str, dict[str, object]]:
    """Cached cell values of every worksheet: ``{sheet: {"A1": value}}``, empty cells left out.

    Formulas appear as their stored results (openpyxl ``data_only=True``): for a file from
    :meth:`LibreOffice.recalculate`, LibreOffice's results; errors read as strings ("#DIV/0!").
    """
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        values: dict[str, dict[str, object]] = {}
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # don't trust the file's <dimension> to bound the cells
            cells: dict[str, object] = {}
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        cells[cell.coordinate] = cell.value
            values[sheet.title] = cells
        return values
    finally:
        book.close()


def sheet_states(path: Path) -> list[tuple[str, str]]:
    """``[(sheet name, "visible" | "hidden" | "veryHidden")]`` in workbook order (incl. charts)."""
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    return [
        (sheet.get("name", ""), sheet.get("state", "visible"))
        for sheet in root.iter(f"{_SHEET_NS}sheet")
    ]


def render_png(
    xlsx: Path,
    out_dir: Path,
    sheets: list[str] | None = None,
    dpi: int = 80,
    *,
    office: LibreOffice | None = None,
) -> list[Path]:
    """Picture of each sheet: xlsx → PDF, one page per sheet (LibreOffice) → PNG (pdftoppm).

    Files are ``out_dir/<stem>-<NN>-<sheet>.png``, in workbook order. ``sheets`` picks sheets
    by name (default: every visible sheet). Formulas are recalculated first. Pass ``office``
    to reuse a running profile; otherwise a temporary one is made.
    """
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise FileNotFoundError("pdftoppm (poppler-utils) is not installed")
    xlsx, out_dir = Path(xlsx), Path(out_dir)
    states = sheet_states(xlsx)
    names = [name for name, _ in states]
    if sheets is None:
        wanted = [name for name, state in states if state == "visible"]
    else:
        unknown = [name for name in sheets if name not in names]
        if unknown:
            raise ValueError(f"{xlsx.name}: no sheet(s) {unknown}; it has {names}")
        wanted = list(sheets)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlplan-render-") as scratch:
        if office is None:
            with LibreOffice() as own:
                pdf = own.to_pdf(xlsx, Path(scratch), one_page_per_sheet=True)
        else:
            pdf = office.to_pdf(xlsx, Path(scratch), one_page_per_sheet=True)
        pages = _page_count(pdf)
        # LibreOffice 7.4 gives hidden sheets a page as well; be ready for versions that don't.
        if pages == len(states):
            order = names
        elif pages == len([n for n, s in states if s == "visible"]):
            order = [name for name, state in states if state == "visible"]
        else:
            raise LibreOfficeError(xlsx, f"PDF has {pages} pages for {len(states)} sheets")
        images: list[Path] = []
        for number, name in enumerate(order, start=1):
            if name not in wanted:
                continue
            safe = re.sub(r"[^\w.-]+", "_", name).strip("_") or "sheet"
            stem = out_dir / f"{xlsx.stem}-{names.index(name) + 1:02d}-{safe}"
            subprocess.run(  # -singlefile: writes exactly <stem>.png
                [pdftoppm, "-png", "-r", str(dpi), "-f", str(number), "-l", str(number),
                 "-singlefile", str(pdf), str(stem)],
                check=True, capture_output=True, timeout=120,
            )
            images.append(stem.parent / f"{stem.name}.png")
        missing = [name for name in wanted if name not in order]
        if missing:
            raise LibreOfficeError(xlsx, f"no page for sheet(s) {missing}")
    return images


def _page_count(pdf: Path) -> int:
    """Pages of a PDF, via poppler's pdfinfo (installed with pdftoppm)."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        raise FileNotFoundError("pdfinfo (poppler-utils) is not installed")
    info = subprocess.run(
        [pdfinfo, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    if match is None:
        raise LibreOfficeError(pdf, "pdfinfo did not report a page count", info)
    return int(match.group(1))
