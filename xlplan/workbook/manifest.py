"""The hidden manifest sheet: who a workbook is for, and a fingerprint of what is locked.

Consolidation reads it back to check the plan, the unit, the template version
and the spec hash, and to find the input cells and their rules; the fingerprint
of every locked cell (per sheet) shows any label or formula changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from xlplan import TEMPLATE_VERSION
from xlplan.workbook.book import Book
from xlplan.workbook.context import BuildContext

SHEET = "_xlplan"
KEYS = ("plan_id", "plan_name", "spec_hash", "unit", "template_version", "built_at",
        "fingerprint", "sheets", "inputs")


@dataclass(frozen=True)
class Manifest:
    plan_id: str
    plan_name: str
    spec_hash: str
    unit: str  # "" for the master
    template_version: str
    built_at: str
    fingerprint: str
    sheets: dict[str, str]  # sheet → fingerprint of its locked cells
    inputs: list[dict[str, Any]]  # sheet, cell, item, period, rule

    @classmethod
    def from_rows(cls, rows: dict[str, str]) -> Manifest:
        """From the key → value cells of a manifest sheet (raises KeyError/ValueError)."""
        return cls(
            plan_id=rows["plan_id"], plan_name=rows["plan_name"], spec_hash=rows["spec_hash"],
            unit=rows.get("unit") or "", template_version=rows["template_version"],
            built_at=rows["built_at"], fingerprint=rows["fingerprint"],
            sheets=json.loads(rows["sheets"]), inputs=json.loads(rows["inputs"]),
        )


def write_manifest(book: Book, ctx: BuildContext, unit: str) -> Manifest:
    """Write the manifest (last, so the fingerprint covers every other sheet)."""
    sheets = [n for n in book.sheets if n != SHEET]
    manifest = Manifest(
        plan_id=ctx.plan.id, plan_name=ctx.plan.name, spec_hash=ctx.loaded.spec_hash,
        unit=unit, template_version=TEMPLATE_VERSION,
        built_at=ctx.built_at.isoformat(timespec="seconds"), fingerprint=book.fingerprint(),
        sheets={n: book.fingerprint(n) for n in sheets},
        inputs=[{"sheet": c.sheet, "cell": c.cell, "item": c.item, "period": c.period,
                 "rule": c.rule.to_json()} for c in book.inputs],
    )
    ws = book.wb.add_worksheet(SHEET)
    ws.write_row(0, 0, ["key", "value"])
    for i, key in enumerate(KEYS, start=1):
        value = getattr(manifest, key)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                               separators=(",", ":"))
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, text)
    ws.very_hidden()
    ws.protect(book.password)
    return manifest
