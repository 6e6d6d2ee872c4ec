"""The review loop on the small plan (units EAST and WEST, deadline 2026-12-15): review
decisions, approval locking the file that counts, statuses with dates and "late", the
audit trail in order, bad actions refused with nothing recorded, and a review killed
mid-transaction leaving the whole event or none."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import ROOT, SMALL
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate.run import consolidate
from xlplan.workbook.build import Built
from xlplan.workbook.fill import fill_sample

runner = CliRunner()
TODAY = "2026-12-20"  # five days past the small plan's deadline


@pytest.fixture(scope="module")
def versions(built: list[Built], tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, list[Path]]:
    """Three differently filled copies of each unit's workbook (seeds 7, 8, 9)."""
    folder = tmp_path_factory.mktemp("versions")
    return {b.unit: [fill_sample(b.path, folder / f"{b.unit}-v{i}.xlsx", seed=6 + i).workbook
                     for i in (1, 2, 3)] for b in built if b.unit}


def deliver(inbox: Path, src: Path, day: str) -> Path:
    """Put a file in the inbox as received on ``day`` (its time on the filesystem)."""
    inbox.mkdir(exist_ok=True)
    dst = inbox / src.name
    shutil.copyfile(src, dst)
    stamp = dt.datetime.fromisoformat(f"{day}T10:00:00+00:00").timestamp()
    os.utime(dst, (stamp, stamp))
    return dst


def cli(*args: str, ok: bool = True) -> Any:
    result = runner.invoke(app, [str(a) for a in args], env={"XLPLAN_TODAY": TODAY})
    if ok:
        assert result.exit_code == 0, result.output + str(result.exception)
    return result


def statuses(db: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(cli("status", SMALL, "--db", db, "--json").stdout)
    return {u["unit"]: u for u in doc["units"]}


def events(db: Path) -> list[dict[str, Any]]:
    return list(json.loads(cli("log", SMALL, "--db", db, "--json").stdout)["events"])


def _sha256(path: Path) -> str:
    """The file's SHA-256, computed here (the history keys submissions by it)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counted(db: Path, unit: str) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT DISTINCT sha256 FROM current_facts WHERE unit = ?",
                           [unit]).fetchall()
    finally:
        con.close()
    assert len(rows) == 1
    return str(rows[0][0])


def test_the_review_loop(tmp_path: Path, versions: dict[str, list[Path]],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPLAN_TODAY", TODAY)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    db = out / "xlplan.duckdb"
    east, west = versions["EAST"], versions["WEST"]

    def run() -> None:
        consolidate(SMALL, inbox, out, workers=1)

    deliver(inbox, east[0], "2026-12-10")
    run()
    s = statuses(db)
    assert (s["EAST"]["season"], s["EAST"]["late"]) == ("submitted", False)
    assert s["EAST"]["first_submitted"] == "2026-12-10 10:00"
    assert (s["WEST"]["season"], s["WEST"]["late"]) == ("missing", True)  # past 12-15

    # a note on a cell that does not exist, a sheet that does not exist: refused, nothing kept
    before = len(events(db))
    bad = cli("review", SMALL, "EAST", "return", "--db", db, "--comment", "x",
              "--note", "Commitments!ZZ999: here", ok=False)
    assert bad.exit_code == 1 and "Commitments!ZZ999" in bad.output
    bad = cli("review", SMALL, "EAST", "return", "--db", db, "--comment", "x",
              "--note", "Plans!C5: here", ok=False)
    assert bad.exit_code == 1 and "no sheet 'Plans'" in bad.output
    bad = cli("review", SMALL, "NORTH", "approve", "--db", db, ok=False)
    assert bad.exit_code == 1 and "unknown unit 'NORTH'" in bad.output
    bad = cli("review", SMALL, "EAST", "reopen", "--db", db, ok=False)
    assert bad.exit_code == 1 and "EAST is not approved" in bad.output
    bad = cli("review", SMALL, "WEST", "approve", "--db", db, ok=False)
    assert bad.exit_code == 1 and "WEST has no accepted submission" in bad.output
    assert len(events(db)) == before

    cli("review", SMALL, "EAST", "return", "--db", db, "--by", "Li Na", "--comment",
        "Q1 too low", "--note", "Commitments!D5: why below target?",
        "--note", "Commitments!$E$5: check the channel")
    s = statuses(db)["EAST"]
    assert (s["season"], s["reviewed_by"], s["comment"]) == ("returned", "Li Na", "Q1 too low")
    again = cli("review", SMALL, "EAST", "return", "--db", db, "--comment", "again", ok=False)
    assert again.exit_code == 1 and "already returned" in again.output

    deliver(inbox, east[1], "2026-12-18")  # resubmitted after the deadline
    run()
    s = statuses(db)["EAST"]
    assert (s["season"], s["late"]) == ("resubmitted", False)  # first file was on time
    assert s["last_submitted"] == "2026-12-18 10:00"
    assert counted(db, "EAST") == _sha256(east[1])

    old = cli("review", SMALL, "EAST", "approve", "--db", db, "--file", east[0], ok=False)
    assert old.exit_code == 1 and "the current one is EAST-v2.xlsx" in old.output
    cli("review", SMALL, "EAST", "approve", "--db", db, "--by", "Li Na",
        "--file", inbox / east[1].name)
    assert statuses(db)["EAST"]["season"] == "approved"

    deliver(inbox, east[2], "2026-12-19")  # after approval: kept, does not count
    run()
    s = statuses(db)["EAST"]
    assert (s["season"], s["after_approval"], s["approved_by"]) == ("approved", 1, "Li Na")
    assert counted(db, "EAST") == _sha256(east[1])
    late = cli("review", SMALL, "EAST", "approve", "--db", db, "--file", east[2], ok=False)
    assert late.exit_code == 1 and "not EAST's current file" in late.output
    twice = cli("review", SMALL, "EAST", "approve", "--db", db, ok=False)
    assert twice.exit_code == 1 and "already approved" in twice.output
    back = cli("review", SMALL, "EAST", "return", "--db", db, "--comment", "x", ok=False)
    assert back.exit_code == 1 and "reopen it before you return it" in back.output

    cli("review", SMALL, "EAST", "reopen", "--db", db, "--by", "Wang Wei", "--comment",
        "v3 corrects a typo")
    assert counted(db, "EAST") == _sha256(east[2])  # the newest file counts again
    assert statuses(db)["EAST"]["season"] == "submitted"

    deliver(inbox, west[0], "2026-12-17")  # first file two days late
    run()
    s = statuses(db)["WEST"]
    assert (s["season"], s["late"]) == ("late", True)
    cli("review", SMALL, "WEST", "reject", "--db", db, "--comment", "wrong template")
    assert statuses(db)["WEST"]["season"] == "rejected"
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM current_facts WHERE unit='WEST'").fetchone() == (0,)
    con.close()
    refused = cli("review", SMALL, "WEST", "approve", "--db", db, "--file", west[0], ok=False)
    assert refused.exit_code == 1 and "rejected on" in refused.output

    trail = events(db)
    assert [e["seq"] for e in trail] == list(range(1, len(trail) + 1))
    said = [(e["event"], e["action"], e["unit"]) for e in trail]
    assert said == [
        ("received", None, "EAST"), ("decided", "accepted", "EAST"),
        ("reviewed", "return", "EAST"),
        ("received", None, "EAST"), ("decided", "accepted", "EAST"),
        ("reviewed", "approve", "EAST"),
        ("received", None, "EAST"), ("decided", "accepted", "EAST"),
        ("reopened", "reopen", "EAST"),
        ("received", None, "WEST"), ("decided", "accepted", "WEST"),
        ("reviewed", "reject", "WEST")]
    returned = trail[2]
    assert returned["notes"] == ["Commitments!D5: why below target?",
                                 "Commitments!E5: check the channel"]
    assert (returned["actor"], returned["sha256"]) == ("Li Na", _sha256(east[0]))
    assert trail[6]["comment"].startswith("received after approval")
    assert [e["event"] for e in events_of(db, "WEST")] == ["received", "decided", "reviewed"]


def events_of(db: Path, unit: str) -> list[dict[str, Any]]:
    out = cli("log", SMALL, "--db", db, "--unit", unit, "--json").stdout
    return list(json.loads(out)["events"])


def test_build_records_a_built_event_per_unit_workbook(tmp_path: Path) -> None:
    """The trail starts with the build: one ``built`` event per unit, naming the workbook's
    SHA-256 and the plan revision it was built from."""
    out = tmp_path / "out"
    cli("build", str(SMALL), "-o", str(out), "--workers", "1")
    built = [e for e in events(out / "xlplan.duckdb") if e["event"] == "built"]
    assert sorted(e["unit"] for e in built) == ["EAST", "WEST"]
    for e in built:
        path = out / "units" / f"small-2027-{e['unit']}.xlsx"
        assert e["sha256"] == _sha256(path)


def test_no_code_updates_or_deletes_audit_rows() -> None:
    """The trail is append-only: no statement in xlplan changes or removes its rows."""
    pattern = re.compile(r"(UPDATE|DELETE\s+FROM|TRUNCATE|DROP\s+TABLE)\s+(IF\s+EXISTS\s+)?"
                         r"(audit_events|audit_notes|audit_log)", re.I)
    hits = [f"{p}:{n}" for p in (ROOT / "xlplan").rglob("*.py")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]
    assert hits == []
    assert pattern.search("DELETE FROM audit_events WHERE seq = 1")  # the pattern bites


KILLED_REVIEW = """
import sys, time
from xlplan.season import audit
ready = sys.argv[1]
original = audit._insert_notes
def slow(con, seq, notes):
    original(con, seq, notes)   # the event and its notes are written, not committed
    open(ready, "w").close()
    time.sleep(60)
audit._insert_notes = slow
from xlplan.cli import main
sys.argv = ["xlplan", *sys.argv[2:]]
main()
"""


def test_a_review_killed_mid_transaction_leaves_no_half_event(
        tmp_path: Path, versions: dict[str, list[Path]]) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    deliver(inbox, versions["EAST"][0], "2026-12-10")
    consolidate(SMALL, inbox, out, workers=1)
    db = out / "xlplan.duckdb"
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_REVIEW, str(ready), "review", str(SMALL), "EAST",
         "return", "--db", str(db), "--comment", "no", "--note", "Commitments!D5: a",
         "--note", "Commitments!E5: b"], env={**os.environ, "XLPLAN_TODAY": TODAY})
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert child.poll() is None, "the review ended before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM audit_events WHERE event='reviewed'"
                           ).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM audit_notes").fetchone() == (0,)
    finally:
        con.close()
    cli("review", SMALL, "EAST", "return", "--db", db, "--comment", "no", "--note",
        "Commitments!D5: a")  # the database takes the next review whole
    trail = events(db)
    assert [e["event"] for e in trail] == ["received", "decided", "reviewed"]
    assert trail[-1]["notes"] == ["Commitments!D5: a"]


def test_a_reissued_returned_workbook_carries_the_comment_and_notes(
        tmp_path: Path, versions: dict[str, list[Path]], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    import openpyxl

    monkeypatch.setenv("XLPLAN_TODAY", TODAY)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    db = out / "xlplan.duckdb"
    deliver(inbox, versions["EAST"][0], "2026-12-10")
    consolidate(SMALL, inbox, out, workers=1)
    cli("review", SMALL, "EAST", "return", "--db", db, "--by", "Li Na", "--comment",
        "Q1 too low", "--note", "Commitments!D5: why below target?",
        "--note", "Commitments!E5: check the channel")
    cli("reissue", SMALL, "-o", tmp_path / "again", "--db", db, "--units", "EAST")
    (book_path,) = (tmp_path / "again").rglob("*EAST*.xlsx")
    wb = openpyxl.load_workbook(book_path)
    guide = wb["Guide"]["A1"].comment
    assert guide is not None and "Q1 too low" in guide.text and "Li Na" in guide.text
    ws = wb["Commitments"]
    assert ws["D5"].comment.text == "why below target?"
    assert ws["E5"].comment.text == "check the channel"
    assert ws["F5"].comment is None
    marked = {str(c) for cf in ws.conditional_formatting for c in cf.sqref.ranges}
    assert {"D5", "E5"} <= marked
    # the manager sends it back as it is: it is still the template, accepted, resubmitted
    deliver(inbox, book_path, "2026-12-14")
    consolidate(SMALL, inbox, out, workers=1)
    s = statuses(db)["EAST"]
    assert s["season"] == "resubmitted" and s["status"] in ("accepted", "warnings")
    assert counted(db, "EAST") == _sha256(inbox / book_path.name)


def test_the_next_submission_answers_the_notes_or_not(
        tmp_path: Path, versions: dict[str, list[Path]], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """Two notes on the returned file; the manager changes one noted cell and leaves the
    other: the review view says one is answered and one is not."""
    import openpyxl

    monkeypatch.setenv("XLPLAN_TODAY", TODAY)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    db = out / "xlplan.duckdb"
    first = versions["EAST"][0]
    deliver(inbox, first, "2026-12-10")
    consolidate(SMALL, inbox, out, workers=1)
    cli("review", SMALL, "EAST", "return", "--db", db, "--by", "Li Na", "--comment",
        "Q1 too low", "--note", "Commitments!D5: why below target?",
        "--note", "Commitments!E5: check the channel")
    assert statuses(db)["EAST"]["notes"] == []  # nothing to answer with yet

    book = openpyxl.load_workbook(first)
    ws = book["Commitments"]
    before_d5, before_e5 = ws["D5"].value, ws["E5"].value
    assert isinstance(before_d5, int | float) and isinstance(before_e5, int | float)
    ws["D5"].value = before_d5 + 1000  # answers D5, leaves E5 as it was
    answer = tmp_path / "EAST-answer.xlsx"
    book.save(answer)
    deliver(inbox, answer, "2026-12-14")
    consolidate(SMALL, inbox, out, workers=1)

    s = statuses(db)["EAST"]
    assert s["season"] == "resubmitted" and counted(db, "EAST") == _sha256(inbox / answer.name)
    con = duckdb.connect(str(db), read_only=True)  # the stored inputs are what the test wrote
    try:
        stored = dict(con.execute("SELECT cell, value_num FROM current_facts WHERE unit = "
                                  "'EAST' AND sheet = 'Commitments' AND cell IN ('D5', 'E5')"
                                  ).fetchall())
    finally:
        con.close()
    assert stored == {"D5": before_d5 + 1000, "E5": before_e5}
    assert s["notes"] == [
        {"cell": "Commitments!D5", "note": "why below target?", "by": "Li Na",
         "answered": True},
        {"cell": "Commitments!E5", "note": "check the channel", "by": "Li Na",
         "answered": False}]
    assert statuses(db)["WEST"]["notes"] == []
    shown = cli("status", SMALL, "--db", db).stdout
    assert "Commitments!D5: why below target? (Li Na) — answered" in shown
    assert "Commitments!E5: check the channel (Li Na) — not answered" in shown
