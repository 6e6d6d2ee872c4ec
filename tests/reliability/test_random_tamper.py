"""Random mutations of built workbooks (hypothesis): every change to a locked cell is caught
and named; every valid value typed into an input is accepted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from summary import STATS
from tamper import set_cell

from xlplan.consolidate.examine import examine
from xlplan.workbook.book import Cell
from xlplan.workbook.build import Built
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import InputRule

pytestmark = pytest.mark.slow  # hundreds of random workbooks

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def east(built: list[Built]) -> Built:
    return next(b for b in built if b.unit == "EAST")


def _locked(east: Built) -> list[Cell]:
    return [c for c in east.book.locked_cells() if c.sheet != "_xlplan"]


def _xml(cell: str, value: object) -> str:
    if isinstance(value, str):
        text = value.replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>'
    return f'<c r="{cell}"><v>{value!r}</v></c>'


@SETTINGS
@given(data=st.data())
def test_any_locked_cell_change_is_caught(east: Built, ctx: BuildContext, tmp_path: Path,
                                          data: st.DataObject) -> None:
    cell = data.draw(st.sampled_from(_locked(east)))
    if isinstance(cell.content, str) and not cell.content.startswith("="):
        new: object = data.draw(st.text(alphabet="abcXYZ 12", min_size=1, max_size=12).filter(
            lambda t: t != cell.content and t.strip() == t))
    else:
        new = data.draw(st.floats(-1e9, 1e9, allow_nan=False).filter(
            lambda x: not isinstance(cell.content, int | float) or abs(x - float(
                cell.content)) > 1e-6 * max(1.0, abs(float(cell.content)))))
    bad = set_cell(east.path, tmp_path / "bad.xlsx", cell.sheet, cell.ref, _xml(cell.ref, new))
    result = examine(bad, ctx)
    assert result.status == "rejected", (cell, new)
    assert any(f.sheet == cell.sheet and (f.cell == cell.ref or cell.ref in f.message)
               for f in result.findings), (cell, result.findings)
    STATS["tampers"] += 1


def _valid(rule: InputRule, year: int) -> st.SearchStrategy[object]:
    if rule.kind == "list":
        return st.sampled_from(rule.choices)
    if rule.kind == "text":
        return st.text(alphabet="abc =+-@xyz", min_size=1, max_size=20).filter(
            lambda t: t.strip() == t)
    if rule.kind == "date":
        start = rule.start or dt.date(year, 1, 1)
        end = rule.end or dt.date(year, 12, 31)
        return st.dates(start, end)
    lo = rule.minimum if rule.minimum is not None else -1e9
    hi = rule.maximum if rule.maximum is not None else 1e9
    if rule.kind == "integer":
        return st.integers(int(lo), int(hi)).map(float)
    return st.floats(lo, hi, allow_nan=False).map(lambda x: round(x, 2)).filter(
        lambda x: lo <= x <= hi)


@SETTINGS
@given(data=st.data())
def test_any_valid_input_is_accepted(east: Built, ctx: BuildContext, tmp_path: Path,
                                     data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(east.manifest.inputs))
    rule = InputRule.from_json(spec["rule"])
    value = data.draw(_valid(rule, ctx.plan.fiscal_year))
    if isinstance(value, dt.date):
        value = float((value - dt.date(1899, 12, 30)).days)
    path = set_cell(east.path, tmp_path / "typed.xlsx", spec["sheet"], spec["cell"],
                    _xml(spec["cell"], value))
    result = examine(path, ctx)
    assert result.status != "rejected", (spec, value, result.findings)
    # what was typed is what is stored
    fact = next(f for f in result.facts if (f.sheet, f.cell) == (spec["sheet"], spec["cell"]))
    if isinstance(value, str):
        assert fact.text == value
    elif rule.kind == "date":
        assert fact.text == (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()
    elif rule.kind in ("text", "list"):
        assert fact.text is not None
    else:
        assert fact.number == value
    STATS["valid"] += 1
