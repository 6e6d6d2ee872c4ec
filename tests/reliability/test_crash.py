"""Crash safety, full disks, unwritable outputs and two runs at once.

Consolidation is killed with SIGKILL at random moments (seeded), in a
subprocess, again and again on the same database; after each kill the
database must open and pass its integrity checks, the report must be the old
one or a new whole one, and a final run must hold every file exactly once.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from summary import SMALL, STATS
from tamper import rewrite

from xlplan.consolidate import store
from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample

pytestmark = pytest.mark.slow  # 50 SIGKILLed runs and full consolidations

KILLS = 50
SEED = 20271124


@pytest.fixture(scope="module")
def inbox(built: list[Built], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six distinct submissions (two units, three saves each)."""
    folder = tmp_path_factory.mktemp("crash")
    box = folder / "inbox"
    box.mkdir()
    for b in built:
        if not b.unit:
            continue
        for seed in range(3):
            f = fill_sample(b.path, folder / f"{b.unit}-{seed}.xlsx", seed=seed)
            rewrite(f.workbook, box / f"{b.unit}-{seed}.xlsx", {})
    return box


def _command(inbox: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "xlplan", "consolidate", str(SMALL), str(inbox), "-o",
            str(out), "--workers", "1", "--json"]


def _check(out: Path) -> tuple[int, int]:
    """The database opens and is consistent; the report, if any, is a whole workbook."""
    db = out / "xlplan.duckdb"
    if db.exists():
        con = store.connect(db)
        problems = store.integrity(con)
        row = con.execute("SELECT (SELECT count(*) FROM submissions), "
                          "(SELECT count(*) FROM facts)").fetchone()
        con.close()
        assert not problems, problems
        assert row is not None
        counts = (int(row[0]), int(row[1]))
    else:
        counts = (0, 0)
    for path in out.glob("*-consolidated.xlsx"):
        with zipfile.ZipFile(path) as z:  # a torn file would not open or would fail its CRCs
            assert z.testzip() is None
    return counts


def test_sigkill_at_random_points_loses_and_duplicates_nothing(inbox: Path, tmp_path: Path
                                                               ) -> None:
    rng = random.Random(SEED)
    out = tmp_path / "out"
    start = time.monotonic()
    subprocess.run(_command(inbox, tmp_path / "timing"), check=True, capture_output=True)
    full = time.monotonic() - start
    previous = (0, 0)
    for _ in range(KILLS):
        proc = subprocess.Popen(_command(inbox, out), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.0, full))
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its reader processes
        proc.wait()
        counts = _check(out)
        assert counts[0] >= previous[0], "a stored submission disappeared"
        previous = counts
        STATS["kills"] += 1
    done = subprocess.run(_command(inbox, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(out / "xlplan.duckdb"), read_only=True)
    stored = dict(con.execute("SELECT sha256, count(*) FROM submissions GROUP BY sha256"
                              ).fetchall())
    facts = dict(con.execute("SELECT sha256, count(*) FROM facts GROUP BY sha256").fetchall())
    con.close()
    expected = {hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    assert set(stored) == expected and set(stored.values()) == {1}
    # every file's facts are whole: as many as a clean run stores for it
    clean = duckdb.connect(str(tmp_path / "timing" / "xlplan.duckdb"), read_only=True)
    clean_facts = dict(clean.execute("SELECT sha256, count(*) FROM facts GROUP BY sha256"
                                     ).fetchall())
    clean.close()
    assert facts == clean_facts
    STATS["lost"] += len(expected - set(stored))


def test_two_runs_at_once_one_stops_with_a_clear_message(inbox: Path, tmp_path: Path) -> None:
    db = tmp_path / "shared.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
        " time.sleep(60)"), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(store.DatabaseBusy, match="in use by another xlplan run"):
            store.connect(db, wait_s=0.5)
        second = subprocess.run([*_command(inbox, tmp_path / "out"), "--db", str(db)],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and "in use by another xlplan run" in second.stderr
    finally:
        holder.kill()
        holder.wait()
    con = store.connect(db)  # the lock is gone: usable, and nothing was written
    assert store.integrity(con) == []
    row = con.execute("SELECT count(*) FROM submissions").fetchone()
    con.close()
    assert row == (0,)


def _db_digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def test_unwritable_output_leaves_the_database_unchanged(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = subprocess.run(_command(inbox, out), capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    db = out / "xlplan.duckdb"
    before = _db_digest(db)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    again = subprocess.run([*_command(inbox, blocker / "out"), "--db", str(db)],
                           capture_output=True, text=True)
    assert again.returncode == 1 and "cannot write" in again.stderr
    assert _db_digest(db) == before


def test_disk_full_while_writing_the_report(inbox: Path, tmp_path: Path) -> None:
    """The file size limit stands in for a full disk: writes past it fail with EFBIG."""
    out = tmp_path / "out"
    ok = subprocess.run(_command(inbox, out), capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    db = out / "xlplan.duckdb"
    report = next(out.glob("*-consolidated.xlsx"))
    old_report = report.read_bytes()
    limit = len(old_report) // 3  # the database is unchanged in size; the report cannot fit
    box = tmp_path / "box"
    box.mkdir()
    for f in inbox.iterdir():
        (box / f.name).write_bytes(f.read_bytes())
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
            "from xlplan.cli import main; sys.argv[0] = 'xlplan'; main()")
    full = subprocess.run([sys.executable, "-c", code, *_command(box, out)[3:]],
                          capture_output=True, text=True)
    assert full.returncode == 1, (full.stdout, full.stderr)
    assert "disk full writing" in full.stderr and "Traceback" not in full.stderr
    assert report.read_bytes() == old_report  # the old report is whole
    assert not list(out.glob(".*"))  # no temporary file left behind
    con = store.connect(db)
    assert store.integrity(con) == []
    con.close()
