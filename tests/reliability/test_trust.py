"""Issue 23, trust nothing a submission says about itself: which file counts for a unit
(arrival, not the file's own date), copies under another unit's name, text and file names
on the terminal, and a full disk while the report set is written."""

from __future__ import annotations

import builtins
import errno
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from summary import SMALL, STATS
from tamper import rewrite, set_cell, sheet_part
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate import store
from xlplan.consolidate.run import consolidate
from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample

runner = CliRunner()


@dataclass(frozen=True)
class Filled:
    east1: Path
    east2: Path
    west: Path


@pytest.fixture(scope="module")
def filled(built: list[Built], tmp_path_factory: pytest.TempPathFactory) -> Filled:
    folder = tmp_path_factory.mktemp("trust")
    east = next(b for b in built if b.unit == "EAST").path
    west = next(b for b in built if b.unit == "WEST").path
    return Filled(fill_sample(east, folder / "east1.xlsx", seed=1).workbook,
                  fill_sample(east, folder / "east2.xlsx", seed=2).workbook,
                  fill_sample(west, folder / "west.xlsx", seed=3).workbook)


def _claiming(src: Path, dst: Path, modified: str | None) -> Path:
    """A copy whose docProps/core.xml claims ``modified`` as its last save (None: no date)."""
    def edit(data: bytes) -> bytes:
        tag = b"" if modified is None else (
            b'<dcterms:modified xsi:type="dcterms:W3CDTF">' + modified.encode()
            + b"</dcterms:modified>")
        new, n = re.subn(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", tag, data)
        assert n == 1
        return new
    return rewrite(src, dst, {"docProps/core.xml": edit})


# -- hole 2: the file that counts is the one xlplan received last ---------------------------

@pytest.mark.parametrize("claim", ["2099-12-31T23:59:59Z", "garbage", None],
                         ids=["future date", "garbage date", "no date"])
def test_a_later_file_wins_whatever_the_earlier_one_claims(
        claim: str | None, filled: Filled, tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    old = _claiming(filled.east1, inbox / "small-2027-EAST-v1.xlsx", claim)
    first = consolidate(SMALL, inbox, out, workers=1)
    assert first.tracker.set_index("unit").loc["EAST", "file"] == old.name
    new = shutil.copyfile(filled.east2, inbox / "small-2027-EAST-v2.xlsx")
    second = consolidate(SMALL, inbox, out, workers=1)
    assert second.tracker.set_index("unit").loc["EAST", "file"] == new.name
    assert {f.path.name: f.status for f in second.files}[old.name] == "superseded"
    STATS["cases"] += 1


def test_in_one_run_the_file_received_last_wins(filled: Filled, tmp_path: Path) -> None:
    """Two files of a unit in one run: the filesystem's time of receipt decides, not the
    date the older file claims for itself."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    old = _claiming(filled.east1, inbox / "small-2027-EAST-b.xlsx", "2099-12-31T23:59:59Z")
    new = shutil.copyfile(filled.east2, inbox / "small-2027-EAST-a.xlsx")
    import os

    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    outcome = consolidate(SMALL, inbox, tmp_path / "out", workers=1)
    assert outcome.tracker.set_index("unit").loc["EAST", "file"] == new.name
    STATS["cases"] += 1


OLD_SCHEMA = """
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY, plan_id VARCHAR NOT NULL, spec_hash VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, inbox VARCHAR, output VARCHAR,
    files INTEGER, new_files INTEGER);
CREATE TABLE submissions (
    plan_id VARCHAR NOT NULL, spec_hash VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    unit VARCHAR, claimed_plan VARCHAR, path VARCHAR NOT NULL, size BIGINT,
    modified VARCHAR, seen_at TIMESTAMP NOT NULL, run_id INTEGER, status VARCHAR NOT NULL,
    reason VARCHAR, PRIMARY KEY (plan_id, spec_hash, sha256));
INSERT INTO runs VALUES (1, 'p', 's', '2027-01-05 09:00', NULL, NULL, NULL, 1, 1),
                        (2, 'p', 's', '2027-01-06 09:00', NULL, NULL, NULL, 1, 1);
INSERT INTO submissions VALUES
    ('p', 's', 'aaa', 'EAST', 'p', '/in/old.xlsx', 1, '2099-12-31T00:00:00Z',
     '2027-01-05 09:00', 1, 'accepted', NULL),
    ('p', 's', 'bbb', 'EAST', 'p', '/in/new.xlsx', 1, '2027-01-06T08:00:00Z',
     '2027-01-06 09:00', 2, 'accepted', NULL);
"""


def test_a_database_from_before_arrival_order_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(OLD_SCHEMA)
    con.close()
    con = store.connect(db)
    winner = con.execute("SELECT sha256 FROM winners WHERE unit = 'EAST'").fetchall()
    arrivals = con.execute("SELECT sha256, arrival FROM submissions ORDER BY sha256").fetchall()
    con.close()
    assert winner == [("bbb",)]
    assert [a for _, a in arrivals] == sorted(a for _, a in arrivals) and arrivals[0][1] < \
        arrivals[1][1]


# -- hole 5: a byte-for-byte copy is named ---------------------------------------------------

def test_a_copy_under_another_units_name_names_the_original(filled: Filled, tmp_path: Path
                                                            ) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    shutil.copyfile(filled.east1, inbox / "small-2027-EAST.xlsx")
    shutil.copyfile(filled.east1, inbox / "small-2027-WEST.xlsx")
    outcome = consolidate(SMALL, inbox, out, workers=1)
    copy = next(f for f in outcome.files if f.path.name == "small-2027-WEST.xlsx")
    assert any(n["level"] == "warning" and "small-2027-EAST.xlsx" in n["message"]
               for n in copy.findings), copy.findings
    later = tmp_path / "later"
    later.mkdir()
    shutil.copyfile(filled.east1, later / "small-2027-WEST-final.xlsx")
    again = consolidate(SMALL, later, out, workers=1)
    assert any("small-2027-EAST.xlsx" in n["message"] for n in again.files[0].findings), \
        again.files[0].findings
    STATS["cases"] += 2


# -- hole 7: nothing from a file is markup or an escape code on the terminal ------------------

def test_file_text_and_names_are_printed_as_they_are(filled: Filled, tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    name = "small-2027-EAST-\x1b[31m[bold]red.xlsx"  # no "/" in a file name

    def edit(data: bytes) -> bytes:
        row = b'<row r="900"><c r="A900" t="inlineStr"><is><t>[/] [bold]x</t></is></c></row>'
        return data.replace(b"</sheetData>", row + b"</sheetData>", 1)
    rewrite(filled.east1, inbox / name, {sheet_part(filled.east1, "Guide"): edit})
    result = runner.invoke(app, ["consolidate", str(SMALL), str(inbox), "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "[/] [bold]x" in result.output
    assert "\\x1b[31m[bold]red.xlsx" in result.output
    status = runner.invoke(app, ["status", str(SMALL), "--db", str(out / "xlplan.duckdb")])
    assert status.exit_code == 0, status.exception
    assert "\x1b" not in status.output and "[bold]red.xlsx" in status.output
    typed = set_cell(filled.east1, tmp_path / "typed.xlsx", "OKR", "B12",
                     '<c r="B12" t="inlineStr"><is><t>[/] [link=x]y</t></is></c>')
    diff = runner.invoke(app, ["diff", str(filled.east1), str(typed)])
    assert diff.exit_code == 0, diff.exception
    assert "[/] [link=x]y" in diff.output
    STATS["cases"] += 3


# -- hole 13: a full disk leaves the previous report set whole --------------------------------

class _Filling:
    """A file object that takes ``room[0]`` more bytes, then fails as a full disk does."""

    def __init__(self, raw: Any, room: list[int]):
        self._raw, self._room = raw, room

    def write(self, data: Any) -> int:
        size = len(data)
        if size > self._room[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room[0] -= size
        return int(self._raw.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()

    def __iter__(self) -> Any:
        return iter(self._raw)


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix in (".xlsx", ".csv")}


@pytest.fixture(scope="module")
def sizes(filled: Filled, tmp_path_factory: pytest.TempPathFactory) -> list[int]:
    """Bytes of each output of a run with EAST and WEST, in the order they are written."""
    folder = tmp_path_factory.mktemp("sizes")
    inbox = folder / "inbox"
    inbox.mkdir()
    shutil.copyfile(filled.east1, inbox / "e.xlsx")
    shutil.copyfile(filled.west, inbox / "w.xlsx")
    outcome = consolidate(SMALL, inbox, folder / "out", workers=1)
    report = outcome.output
    return [p.stat().st_size for p in (report, report.with_suffix(".csv"),
                                       report.with_name(f"{report.stem}-gap.csv"))]


LEVELS = {"nothing": lambda s: 0, "half the workbook": lambda s: s[0] // 2,
          "workbook and half the inputs CSV": lambda s: s[0] + s[1] // 2,
          "all but the end of the gap CSV": lambda s: s[0] + s[1] + s[2] // 2,
          "one byte short": lambda s: sum(s) - 1}


@pytest.mark.parametrize("level", list(LEVELS))
def test_disk_full_at_any_point_leaves_the_previous_set_whole(
        level: str, filled: Filled, sizes: list[int], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    shutil.copyfile(filled.east1, inbox / "e.xlsx")
    consolidate(SMALL, inbox, out, workers=1)
    before = _outputs(out)
    assert len(before) == 3
    shutil.copyfile(filled.west, inbox / "w.xlsx")
    room = [LEVELS[level](sizes)]
    real_open = builtins.open

    def filling_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        writing = any(ch in mode for ch in "wax+")
        if writing and isinstance(file, str | Path) and Path(file).parent == out:
            return _Filling(handle, room)
        return handle
    monkeypatch.setattr(builtins, "open", filling_open)
    monkeypatch.setattr(io, "open", filling_open)
    result = runner.invoke(app, ["consolidate", str(SMALL), str(inbox), "-o", str(out),
                                 "--workers", "1"])
    monkeypatch.undo()
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, \
        (result.exception, result.output)
    assert re.search(r"disk full writing \S*" + re.escape(str(out)), result.stderr), \
        result.stderr
    assert _outputs(out) == before  # all three old, none new
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "xlplan.duckdb"]), \
        list(out.iterdir())
    con = store.connect(out / "xlplan.duckdb")
    assert store.integrity(con) == []
    con.close()
    again = consolidate(SMALL, inbox, out, workers=1)  # room again: the new set, whole
    assert _outputs(out) != before and again.units["WEST"] != "missing"
    STATS["cases"] += 1
