"""Building in several processes gives the same files as building in one, and the
fingerprint lines keep the exact form of ``json.dumps`` they were made faster from."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.spec.loader import load_plan
from xlplan.workbook.book import fingerprint_line, normalise
from xlplan.workbook.build import build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import AMOUNT, InputRule


def sheet_parts(path: Path) -> dict[str, bytes]:
    """Every part but docProps (which carries the time of writing)."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def test_two_processes_write_the_same_workbooks_as_one(ctx: BuildContext,
                                                       tmp_path: Path) -> None:
    seen: list[str] = []
    one = build_all(ctx, tmp_path / "one")
    two = build_all(ctx, tmp_path / "two", progress=seen.append, workers=2)
    assert [b.unit for b in two] == [b.unit for b in one] == [None, *ctx.input_units]
    assert sorted(seen) == sorted(["master", *ctx.input_units])
    for a, b in zip(one, two, strict=True):
        assert a.book is not None and b.book is None  # the record stays in the worker
        assert b.path == tmp_path / "two" / a.path.relative_to(tmp_path / "one")
        assert sheet_parts(a.path) == sheet_parts(b.path), a.path.name
        assert a.manifest == b.manifest


def test_a_failing_workbook_stops_the_build_with_its_error(ctx: BuildContext,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "units").write_text("a file where the units folder goes")
    with pytest.raises(OSError):
        build_all(ctx, out, workers=2)
    assert not list(out.glob(".*.xlsx")), "a temporary file was left behind"


def test_unknown_units_are_refused_before_any_process_starts(ctx: BuildContext,
                                                            tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NOPE"):
        build_all(ctx, tmp_path, units=["NOPE"], workers=2)
    assert not list(tmp_path.iterdir())


contents = st.one_of(st.none(), st.booleans(), st.integers(-10**18, 10**18),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(), st.dates())


@given(st.text(), st.text(), contents)
def test_fingerprint_line_is_the_json_array(sheet: str, cell: str,
                                            content: float | str | dt.date | None) -> None:
    assert fingerprint_line(sheet, cell, content) == json.dumps(
        [sheet, cell, normalise(content)], ensure_ascii=False)


def test_rule_json_is_a_fresh_copy_each_time() -> None:
    first = AMOUNT.to_json()
    first["minimum"] = -1
    assert AMOUNT.to_json()["minimum"] == 0.0
    rule = InputRule("list", None, choices=("a", "b"))
    assert InputRule.from_json(rule.to_json()) == rule


@pytest.mark.slow
def test_build_processes_also_work_when_spawned(tmp_path: Path) -> None:
    """Windows and macOS start processes with "spawn" (a fresh interpreter, the context
    pickled over): the same workbooks must come out."""
    import subprocess
    import sys

    from conftest import SMALL

    script = (
        "import datetime as dt, multiprocessing, sys\n"
        "from pathlib import Path\n"
        "from xlplan.spec.loader import load_plan\n"
        "from xlplan.workbook.build import build_all\n"
        "from xlplan.workbook.context import BuildContext\n"
        "if __name__ == '__main__':\n"
        "    multiprocessing.set_start_method('spawn')\n"
        "    ctx = BuildContext(load_plan(Path(sys.argv[1])), None, dt.datetime(2027, 1, 1))\n"
        "    for b in build_all(ctx, Path(sys.argv[2]), workers=2):\n"
        "        print(b.path)\n")
    (tmp_path / "spawned.py").write_text(script)
    done = subprocess.run([sys.executable, str(tmp_path / "spawned.py"), str(SMALL),
                           str(tmp_path / "spawned")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    written = [Path(line) for line in done.stdout.split()]
    one = build_all(BuildContext(load_plan(SMALL), None, dt.datetime(2027, 1, 1)),
                    tmp_path / "one")
    assert [p.name for p in written] == [b.path.name for b in one]
    for path, b in zip(written, one, strict=True):
        assert sheet_parts(path) == sheet_parts(b.path), path.name
