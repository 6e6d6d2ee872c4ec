"""Every real workbook in ../shared/corpus through the consolidator's reader: no crash, no
hang, a decision and a reason for each."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from summary import NOTES, SMALL, STATS

from xlplan.consolidate.package import Limits
from xlplan.consolidate.workers import examine_all

pytestmark = pytest.mark.slow  # the sweep of every corpus file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
BOUND_S = 30.0  # per file; the reader process is killed beyond it


def _files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() != ".md")


def test_corpus_sweep() -> None:
    files = _files()
    if not files:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the corpus is missing at {CORPUS}")
        pytest.skip(f"no corpus at {CORPUS}")
    decisions: Counter[str] = Counter()
    slowest = ("", 0.0)
    seen = set()
    for result in examine_all(files, SMALL, limits=Limits(timeout_s=BOUND_S)):
        seen.add(result.path)
        decisions[result.status] += 1
        assert result.findings, f"{result.path}: no reason given"
        message = result.findings[0].message
        assert message and len(message) > 10, result.path
        assert "reader process died" not in message, (result.path, message)
        assert "took longer" not in message, (result.path, message)
        assert "the reader failed" not in message, (result.path, message)  # an unhandled error
        if result.seconds > slowest[1]:
            slowest = (str(result.path.relative_to(CORPUS)), result.seconds)
    assert seen == set(files)
    STATS["swept"] += len(files)
    NOTES["slowest"] = slowest
    NOTES["decisions"] = decisions
    # none of these files was built by xlplan for this plan, so none may be accepted
    assert set(decisions) == {"rejected"}
