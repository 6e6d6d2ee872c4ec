"""What changed between two submissions of one unit: input cells only, before → after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplan.consolidate.examine import manifest_from
from xlplan.consolidate.package import Refused, open_package
from xlplan.consolidate.xlsx import CellValue, RawBook, read_book
from xlplan.workbook.manifest import SHEET as MANIFEST_SHEET
from xlplan.workbook.manifest import Manifest


class DiffError(ValueError):
    """One of the files is not a readable unit workbook, or they are not the same unit."""


@dataclass(frozen=True)
class Change:
    sheet: str
    cell: str
    item: str
    period: str
    before: CellValue
    after: CellValue

    def to_json(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "cell": self.cell, "item": self.item,
                "period": self.period, "before": self.before, "after": self.after}

    @staticmethod
    def show(value: CellValue) -> str:
        if value is None or value == "":
            return "(blank)"
        return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _read(path: Path) -> tuple[RawBook, Manifest]:
    try:
        package = open_package(path)
        try:
            book = read_book(package)
        finally:
            package.close()
    except Refused as exc:
        raise DiffError(f"{path}: {exc}") from None
    sheet = book.sheets.get(MANIFEST_SHEET)
    if sheet is None:
        raise DiffError(f"{path}: not a workbook built by xlplan (no manifest)")
    try:
        return book, manifest_from(sheet)
    except (KeyError, ValueError) as exc:
        raise DiffError(f"{path}: sheet {MANIFEST_SHEET}: manifest is damaged ({exc})") from None


def diff_inputs(old: Path, new: Path) -> list[Change]:
    """Input cells whose value differs (blank and empty text count as the same)."""
    old_book, old_manifest = _read(old)
    new_book, new_manifest = _read(new)
    if (old_manifest.plan_id, old_manifest.unit) != (new_manifest.plan_id, new_manifest.unit):
        raise DiffError(f"not two submissions of one unit: {old} is "
                        f"{old_manifest.plan_id}/{old_manifest.unit or 'master'}, {new} is "
                        f"{new_manifest.plan_id}/{new_manifest.unit or 'master'}")
    changes = []
    for spec in new_manifest.inputs:
        before = _value(old_book, spec["sheet"], spec["cell"])
        after = _value(new_book, spec["sheet"], spec["cell"])
        if before != after:
            changes.append(Change(spec["sheet"], spec["cell"], spec["item"], spec["period"],
                                  before, after))
    return changes


def _value(book: RawBook, sheet: str, cell: str) -> CellValue:
    raw = book.sheets.get(sheet)
    found = raw.cells.get(cell) if raw else None
    value = found.value if found else None
    return None if value == "" else value
