"""What changed between two submissions of one unit: input cells only, before → after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplan.consolidate.carry import InputKey, key_of
from xlplan.consolidate.names import shown
from xlplan.consolidate.package import Limits
from xlplan.consolidate.workers import read_books
from xlplan.consolidate.xlsx import CellValue, RawBook
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


def diff_inputs(old: Path, new: Path, limits: Limits | None = None) -> list[Change]:
    """Inputs whose value differs (blank and empty text count as the same), matched by their
    key (unit, sheet, item, period), not their address, so two workbooks of different plan
    revisions compare row by row. An input only the old one has is listed with its old cell
    (after: blank); one only the new one has, with its new cell.

    Both files are read in a reader process, with the memory cap and time limit that
    consolidation's readers have (:mod:`xlplan.consolidate.workers`): a hostile file
    cannot take ``xlplan diff`` down or keep it busy either."""
    read: list[tuple[RawBook, Manifest]] = []
    for answer in read_books([old, new], limits):
        if answer[0] != "book":
            raise DiffError(answer[1])
        read.append((answer[1], answer[2]))
    (old_book, old_manifest), (new_book, new_manifest) = read
    if (old_manifest.plan_id, old_manifest.unit) != (new_manifest.plan_id, new_manifest.unit):
        raise DiffError(f"not two submissions of one unit: {shown(old)} is "
                        f"{old_manifest.plan_id}/{old_manifest.unit or 'master'}, {shown(new)} "
                        f"is {new_manifest.plan_id}/{new_manifest.unit or 'master'}")
    changes = []
    unit = new_manifest.unit
    old_keyed = {_key(unit, old_manifest, spec): spec for spec in _entries(old, old_manifest)}
    new_keys = set()
    for spec in _entries(new, new_manifest):
        key = _key(unit, new_manifest, spec)
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


ENTRY_FIELDS = ("sheet", "cell", "item")


def _key(unit: str, manifest: Manifest, spec: dict[str, Any]) -> InputKey:
    """An input's key with its sheet's stable key, not the name the sheet shows: a zh and an
    en workbook of one unit (承诺 and Commitments) compare input by input."""
    stable = {shown_name: key for key, shown_name in manifest.sheet_names.items()}
    return key_of(unit, {**spec, "sheet": stable.get(spec["sheet"], spec["sheet"])})


def _entries(path: Path, manifest: Manifest) -> list[dict[str, Any]]:
    """The manifest's input entries, each checked to name a sheet, a cell and an item: the
    manifest travels inside the submitted file, so a tampered one is a clear error naming
    the file, not a KeyError."""
    for n, entry in enumerate(manifest.inputs, start=1):
        if not isinstance(entry, dict) or any(
                not isinstance(entry.get(f), str) or not entry.get(f) for f in ENTRY_FIELDS):
            raise DiffError(f"{shown(path)}: its manifest's input entry {n} is not a sheet, "
                            f"cell and item ({str(entry)[:80]}); the file was altered, so it "
                            "cannot be compared")
    return manifest.inputs


def _value(book: RawBook, sheet: str, cell: str) -> CellValue:
    raw = book.sheets.get(sheet)
    found = raw.cells.get(cell) if raw else None
    value = found.value if found else None
    return None if value == "" else value
