"""The hidden manifest sheet: who a workbook is for, and a fingerprint of what is locked.

Consolidation reads it back to check the plan, the unit, the template version
and the spec hash, and to find the input cells and their rules; the fingerprint
of every locked cell (per sheet) shows any label or formula changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan import TEMPLATE_VERSION
from xlplan.workbook.book import Book, digest_lines, fingerprint_line
from xlplan.workbook.context import BuildContext

SHEET = "_xlplan"
KEYS = ("plan_id", "plan_name", "spec_hash", "plan_path", "unit", "template_version",
        "built_at", "fingerprint", "sheets", "inputs")


@dataclass(frozen=True)
class Manifest:
    plan_id: str
    plan_name: str
    spec_hash: str
    plan_path: str  # where the plan was when built (fill-sample and consolidate look there)
    unit: str  # "" for the master
    template_version: str
    built_at: str
    fingerprint: str
    sheets: dict[str, str]  # sheet → fingerprint of its locked cells
    inputs: list[dict[str, Any]]  # sheet, cell, item, period, rule
    # the words' language, and each sheet's stable key → the name it shows; written only
    # for a language other than en (whose names are the keys), so en books stay as they were
    language: str = "en"
    sheet_names: dict[str, str] = field(default_factory=dict)

    def sheet_named(self, key: str) -> str:
        """The name the workbook shows for the sheet of stable ``key`` ("Commitments")."""
        return self.sheet_names.get(key, key)

    @classmethod
    def from_rows(cls, rows: dict[str, str]) -> Manifest:
        """From the key → value cells of a manifest sheet (raises KeyError/ValueError)."""
        return cls(
            plan_id=rows["plan_id"], plan_name=rows["plan_name"], spec_hash=rows["spec_hash"],
            plan_path=rows.get("plan_path") or "",
            unit=rows.get("unit") or "", template_version=rows["template_version"],
            built_at=rows["built_at"], fingerprint=rows["fingerprint"],
            sheets=json.loads(rows["sheets"]), inputs=json.loads(rows["inputs"]),
            language=rows.get("language") or "en",
            sheet_names=json.loads(rows.get("sheet_names") or "{}"),
        )


CELL_LIMIT = 32_000  # Excel holds at most 32,767 characters in a cell


def _chunks(text: str) -> list[str]:
    """A long value over several rows (``inputs``, ``inputs#1``, …)."""
    return [text[i:i + CELL_LIMIT] for i in range(0, len(text), CELL_LIMIT)] or [""]


def join_chunks(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Key → value from manifest rows, joining ``key#n`` continuation rows in order."""
    out: dict[str, str] = {}
    for key, value in pairs:
        base, _, part = key.partition("#")
        if part:
            if base not in out:
                raise ValueError(f"continuation row {key} without its first row")
            out[base] += value
        else:
            out[key] = value
    return out


def manifest_of(book: Book, ctx: BuildContext, unit: str) -> Manifest:
    """The manifest of a book whose sheets are all written (a dry run needs no file)."""
    total, by_sheet = book.fingerprints()
    return Manifest(
        plan_id=ctx.plan.id, plan_name=ctx.plan.name, spec_hash=ctx.loaded.spec_hash,
        plan_path=str(ctx.loaded.path or ""),
        unit=unit, template_version=TEMPLATE_VERSION,
        built_at=ctx.built_at.isoformat(timespec="seconds"), fingerprint=total,
        sheets={n: h for n, h in by_sheet.items() if n != SHEET},
        inputs=[{"sheet": c.sheet, "cell": c.cell, "item": c.item, "period": c.period,
                 "rule": c.rule.to_json()} for c in book.inputs],
        language=book.language,
        sheet_names={} if book.language == "en" else
        {str(key): sheet.name for key, sheet in book.sheets.items()},
    )


def write_manifest(book: Book, ctx: BuildContext, unit: str) -> Manifest:
    """Write the manifest (last, so the fingerprint covers every other sheet)."""
    manifest = manifest_of(book, ctx, unit)
    ws = book.wb.add_worksheet(SHEET)
    ws.write_row(0, 0, ["key", "value"])
    row = 1
    for key in KEYS if manifest.language == "en" else (*KEYS, "language", "sheet_names"):
        value = getattr(manifest, key)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                               separators=(",", ":"))
        for part, chunk in enumerate(_chunks(text)):
            ws.write_string(row, 0, key if part == 0 else f"{key}#{part}")
            ws.write_string(row, 1, chunk)
            row += 1
    ws.very_hidden()
    ws.protect(book.password)
    return manifest


class ManifestError(ValueError):
    """A workbook without a readable xlplan manifest."""


def read_manifest(path: Path) -> Manifest:
    """The manifest of a workbook xlplan wrote (openpyxl, read-only: values only)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a bad file
        raise ManifestError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        if SHEET not in wb.sheetnames:
            raise ManifestError(f"{path}: no xlplan manifest (sheet {SHEET} is missing): "
                                "not a workbook built by xlplan build")
        try:
            pairs = [(str(k), str(v or "")) for k, v, *_ in
                     wb[SHEET].iter_rows(min_row=2, max_col=2, values_only=True) if k]
            return Manifest.from_rows(join_chunks(pairs))
        except (KeyError, ValueError) as exc:
            raise ManifestError(f"{path}: sheet {SHEET}: manifest is damaged ({exc})") from exc
    finally:
        wb.close()


def file_fingerprints(path: Path, manifest: Manifest) -> dict[str, str]:
    """Fingerprint of each sheet's locked cells as the file holds them now.

    Every non-empty cell that is not an input counts, so a changed label or
    formula, a number typed over a formula, or an inserted row (which moves
    cells) changes the sheet's fingerprint. Compare with ``manifest.sheets``.
    """
    import openpyxl

    inputs = {(i["sheet"], i["cell"]) for i in manifest.inputs}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        out = {}
        for ws in wb.worksheets:
            if ws.title == SHEET:
                continue
            ws.reset_dimensions()
            lines = []
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None or value == "":
                        continue
                    coordinate = cell.coordinate
                    if (ws.title, coordinate) not in inputs:
                        lines.append(fingerprint_line(ws.title, coordinate, value))
            out[ws.title] = digest_lines(lines)
        return out
    finally:
        wb.close()
