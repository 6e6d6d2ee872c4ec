"""What changed between two submissions of one unit: input cells only, before → after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplan.consolidate.carry import key_of, keyed
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
    """Inputs whose value differs (blank and empty text count as the same), matched by their
    key (unit, sheet, item, period), not their address, so two workbooks of different plan
    revisions compare row by row. An input only the old one has is listed with its old cell
    (after: blank); one only the new one has, with its new cell."""
    old_book, old_manifest = _read(old)
    new_book, new_manifest = _read(new)
    if (old_manifest.plan_id, old_manifest.unit) != (new_manifest.plan_id, new_manifest.unit):
        raise DiffError(f"not two submissions of one unit: {old} is "
                        f"{old_manifest.plan_id}/{old_manifest.unit or 'master'}, {new} is "
                        f"{new_manifest.plan_id}/{new_manifest.unit or 'master'}")
    changes = []
    unit = new_manifest.unit
    old_keyed = keyed(unit, [i for i in old_manifest.inputs if isinstance(i, dict)])
    new_keys = set()
    for spec in new_manifest.inputs:
        key = key_of(unit, spec)
        new_keys.add(key)
        was = old_keyed.get(key)
        before = _value(old_book, was["sheet"], was["cell"]) if was else None
        after = _value(new_book, spec["sheet"], spec["cell"])
        if before != after:
            changes.append(Change(spec["sheet"], spec["cell"], spec["item"], spec["period"],
                                  before, after))
    for key, spec in old_keyed.items():
        before = _value(old_book, spec["sheet"], spec["cell"])
        if key not in new_keys and before is not None:
            changes.append(Change(spec["sheet"], spec["cell"], spec["item"], spec["period"],
                                  before, None))
    return changes


def _value(book: RawBook, sheet: str, cell: str) -> CellValue:
    raw = book.sheets.get(sheet)
    found = raw.cells.get(cell) if raw else None
    value = found.value if found else None
    return None if value == "" else value
