"""Counters the reliability tests fill and conftest prints at the end of the run."""

from __future__ import annotations

from collections import Counter
from typing import Any

STATS: Counter[str] = Counter()
NOTES: dict[str, Any] = {}
SMALL = __import__("pathlib").Path(__file__).resolve().parents[2] / "workbook_templates" / \
    "small-plan.yaml"
