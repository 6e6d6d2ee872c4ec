"""What one workbook covers, and the cells its sheets share with each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xlplan.workbook.book import Book
from xlplan.workbook.context import BuildContext
from xlplan.workbook.splitter import Splitter


@dataclass
class Scope:
    """``unit`` is None for the master. ``refs`` carries cells later sheets refer to
    (e.g. "targets": each unit's target cell; "cube": the unit's month cells)."""

    unit: str | None
    splitter: Splitter
    refs: dict[str, Any] = field(default_factory=dict)

    @property
    def is_master(self) -> bool:
        return self.unit is None


SheetWriter = Callable[[Book, BuildContext, Scope], None]
