"""Outputs written whole through a temporary file that no output glob matches, and the
temporary files of killed writers removed by the next writer (only those)."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest

from xlplan.files import remove_abandoned, replaced, temp_pattern

WRITER = """
import sys, time
from pathlib import Path
from xlplan.files import replaced
with replaced(Path(sys.argv[1])) as tmp:
    tmp.write_text("half")
    print(tmp.name, flush=True)
    time.sleep(60)
"""


def _writer(path: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process in the middle of writing ``path``; its temporary file."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    return proc, path.parent / proc.stdout.readline().strip()


def test_the_temporary_file_is_hidden_and_no_output_glob_matches_it(tmp_path: Path) -> None:
    path = tmp_path / "huaxin-2027-consolidated.xlsx"
    with replaced(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".huaxin-2027-consolidated.xlsx")
        assert temp_pattern(path).fullmatch(tmp.name)
        assert not any(fnmatch.fnmatch(tmp.name, g) for g in ("*.xlsx", "*.csv", "*.XLSX"))
        assert not list(tmp_path.glob("*.xlsx"))
        tmp.write_text("new")
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_error_keeps_the_old_file_and_removes_the_temporary_one(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError), replaced(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_writers_file_goes_at_the_next_write_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "plan-consolidated.xlsx"
    proc, left = _writer(path)
    proc.kill()
    proc.wait()
    assert left.exists()  # a killed process cannot clean up
    lookalikes = [".plan-consolidated.xlsx.tmp-1234567",  # 7 digits
                  ".plan-consolidated.xlsx.tmp-1234567g",  # not hex
                  ".other.xlsx.tmp-12345678",  # another output's
                  "plan-consolidated.xlsx.tmp-12345678",  # not hidden: not ours
                  ".plan-consolidated.xlsx.tmp-12345678.bak",
                  "plan-consolidated-old.xlsx"]
    for name in lookalikes:
        (tmp_path / name).write_text("keep")
    with replaced(path) as tmp:
        tmp.write_text("whole")
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*lookalikes, path.name])
    assert path.read_text() == "whole"


def test_a_live_writers_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "unit.xlsx"
    proc, busy = _writer(path)
    try:
        assert remove_abandoned(path) == []
        with replaced(path) as tmp:
            tmp.write_text("mine")
        assert busy.read_text() == "half" and path.read_text() == "mine"
    finally:
        proc.kill()
        proc.wait()
    assert remove_abandoned(path) == [busy] and not busy.exists()
