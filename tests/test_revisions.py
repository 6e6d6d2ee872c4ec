"""Plan revisions mid-season: the plan is edited after the workbooks went out (deadline
moved, north-star target raised 5 %, a region added, a product dropped) and the inbox of
workbooks built from the first revision is consolidated against the edited plan."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import SMALL, TEMPLATES
from tamper import rewrite
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate import revisions, store
from xlplan.consolidate.carry import InputKey, keyed
from xlplan.consolidate.diff import diff_inputs
from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.reissue import Reissued
from xlplan.consolidate.run import consolidate
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample
from xlplan.workbook.manifest import read_manifest

runner = CliRunner()


def edit_plan(text: str) -> str:
    """The season's edits, as finance makes them in the file."""
    edits = [
        ("deadline: 2026-12-15", "deadline: 2027-01-10"),
        ("target: 13000000}", "target: 13650000}"),  # +5 %
        ("  - {code: P-B, name: New device, line: emerging, bcg: star, price: 1800, "
         "mix: 0.25}\n", ""),
        ("price: 2500, mix: 0.6}", "price: 2500, mix: 0.85}"),
        ("  - {code: EAST-1,", "  - {code: NORTH, name: North region, parent: CO, kind: region,"
                               " manager: Zhao Yi, base: 1}\n  - {code: EAST-1,"),
        ("prior_year: {file: small-prior-year.csv}", "prior_year: {file: edited-prior.csv}"),
    ]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def facts_of(db: Path, spec: str) -> dict[tuple[str, str, str], float]:
    """(unit, item, period) → value of the inputs that count under a plan revision."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT f.unit, f.item, f.period, f.value_num FROM facts f JOIN "
                           "winners w USING (plan_id, spec_hash, sha256) WHERE f.spec_hash=? "
                           "AND f.value_num IS NOT NULL", [spec]).fetchall()
    finally:
        con.close()
    return {(u, i, p): v for u, i, p, v in rows}


@dataclass
class Season:
    folder: Path
    plan: Path
    books: dict[str, Built]
    inbox: Path
    db: Path
    first: Outcome
    second: Outcome
    old_spec: str
    new_spec: str


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Season:
    folder = tmp_path_factory.mktemp("season")
    plan = folder / "plan.yaml"
    shutil.copyfile(SMALL, plan)
    shutil.copyfile(TEMPLATES / "small-prior-year.csv", folder / "small-prior-year.csv")
    with (TEMPLATES / "small-prior-year.csv").open(encoding="utf-8") as fh, \
            (folder / "edited-prior.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for i, row in enumerate(csv.reader(fh)):
            if i == 0 or row[1] != "P-B":
                writer.writerow(row)
    loaded = load_plan(plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    built = build_all(ctx, folder / "books")
    db = folder / "out" / "xlplan.duckdb"
    con = store.connect(db)
    revisions.record_file(con, loaded, "build")  # as xlplan build does
    con.close()
    inbox = folder / "inbox"
    books = {b.unit: b for b in built if b.unit}
    for unit, b in books.items():
        fill_sample(b.path, inbox / f"small-{unit}.xlsx", seed=11)
    first = consolidate(plan, inbox, folder / "out", workers=1)
    plan.write_text(edit_plan(plan.read_text(encoding="utf-8")), encoding="utf-8")
    second = consolidate(plan, inbox, folder / "out", workers=1)
    return Season(folder, plan, books, inbox, db, first, second, loaded.spec_hash,
                  load_plan(plan).spec_hash)


def test_every_unit_with_an_accepted_file_still_counts(season: Season) -> None:
    assert season.first.units == {"EAST": "accepted", "WEST": "accepted"}
    # before revisions, each file was "built from another version of the plan": rejected
    assert season.second.units == {"EAST": "accepted", "WEST": "accepted", "NORTH": "missing"}
    for f in season.second.files:
        assert f.status == "warnings"
        # findings only for the dropped product's inputs: one per row, naming the old cells
        assert [(x["sheet"], x["cell"]) for x in f.findings] == [
            ("Commitments", "C7"), ("Commitments", "C8")]
        for x in f.findings:
            assert x["level"] == "warning"
            assert "commitment:P-B:" in x["message"]
            assert ("C7…N7" if x["cell"] == "C7" else "C8…N8") in x["message"]
            assert "product P-B is no longer in the plan" in x["message"]


def test_totals_equal_the_carried_inputs_to_the_cent(season: Season) -> None:
    before = facts_of(season.db, season.old_spec)
    after = facts_of(season.db, season.new_spec)
    carried = {k: v for k, v in before.items() if not k[1].startswith("commitment:P-B:")}
    assert len(before) - len(carried) == 2 * 2 * 12  # two units × two channels × twelve months
    assert after == carried
    for unit in ("EAST", "WEST"):
        total = sum(v for (u, i, _), v in after.items() if u == unit and
                    i.startswith("commitment:"))
        expected = sum(v for (u, i, _), v in carried.items() if u == unit and
                       i.startswith("commitment:"))
        assert round(total, 2) == round(expected, 2) > 0


def test_the_decision_names_the_revision_and_history_keeps_both(season: Season) -> None:
    con = duckdb.connect(str(season.db), read_only=True)
    try:
        rows = con.execute("SELECT spec_hash, built_from, status FROM submissions ORDER BY "
                           "arrival").fetchall()
        revs = con.execute("SELECT revision, spec_hash, seen_by, summary FROM revisions "
                           "ORDER BY revision").fetchall()
    finally:
        con.close()
    assert [(r[0], r[1]) for r in rows] == [(season.old_spec, season.old_spec)] * 2 + [
        (season.new_spec, season.old_spec)] * 2
    assert [r[:3] for r in revs] == [(1, season.old_spec, "build"),
                                     (2, season.new_spec, "consolidate")]
    summary = revs[1][3]
    for part in ("north_star.target: 13000000 → 13650000", "units added: NORTH",
                 "products removed: P-B", "workbooks.deadline: 2026-12-15 → 2027-01-10"):
        assert part in summary


def test_a_tampered_old_file_is_still_rejected(season: Season, tmp_path: Path) -> None:
    """The old file's locked cells are checked against ITS revision's template (rebuilt
    from the stored plan text), not the current one."""
    db = tmp_path / "xlplan.duckdb"
    shutil.copyfile(season.db, db)
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def edit(xml: bytes) -> bytes:
        target = b">Service plan</t>"
        assert target in xml
        return xml.replace(target, b">Service plan (edited)</t>", 1)

    rewrite(season.inbox / "small-EAST.xlsx", inbox / "small-EAST.xlsx",
            {"xl/sharedStrings.xml": edit})
    outcome = consolidate(season.plan, inbox, tmp_path / "out", db=db, workers=1)
    f = outcome.files[0]
    assert f.status == "rejected"
    assert any("locked cell changed" in x["message"] for x in f.findings)
    assert outcome.units["EAST"] == "accepted"  # the intact file from before still counts


def test_a_revision_the_history_never_saw_is_refused_with_the_reason(
        season: Season, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(season.inbox / "small-WEST.xlsx", inbox / "small-WEST.xlsx")
    outcome = consolidate(season.plan, inbox, tmp_path / "out", db=tmp_path / "new.duckdb",
                          workers=1)
    f = outcome.files[0]
    assert f.status == "rejected"
    assert "of which this history has no record" in f.findings[0]["message"]


def test_input_keys_are_unique_and_survive_the_edit(season: Season) -> None:
    """Every template's inputs have distinct keys (so carrying over is one to one), and the
    keys of rows the edit kept are the same keys at new addresses."""
    loaded = load_plan(season.plan)
    new = BuildContext(loaded, read_prior_year(loaded))
    from xlplan.consolidate.examine import template_manifest

    for unit, b in season.books.items():
        old_keys = keyed(unit, b.manifest.inputs)
        assert len(old_keys) == len(b.manifest.inputs)
        new_inputs = template_manifest(new, unit).inputs
        new_keys = keyed(unit, new_inputs)
        assert len(new_keys) == len(new_inputs)
        gone = set(old_keys) - set(new_keys)
        assert gone == {InputKey(unit, "Commitments", f"commitment:P-B:{c}", f"M{m:02d}")
                        for c in ("ONLINE", "OFFLINE") for m in range(1, 13)}
        assert set(new_keys) <= set(old_keys)
        moved = [k for k in new_keys if new_keys[k]["cell"] != old_keys[k]["cell"]]
        assert moved  # the rows below the dropped product moved up: keys, not addresses


@pytest.fixture(scope="module")
def reissued(season: Season, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reissued]:
    from xlplan.consolidate.reissue import reissue

    loaded = load_plan(season.plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    con = store.connect(season.db, read_only=True)
    try:
        return {r.unit: r for r in reissue(ctx, con, tmp_path_factory.mktemp("reissued"))}
    finally:
        con.close()


def test_reissue_changes_no_carried_input(season: Season, reissued: dict[str, Reissued]) -> None:
    """xlplan diff OLD_SUBMISSION REISSUED: only the dropped product's inputs differ."""
    assert reissued["NORTH"].carried == 0 and not reissued["NORTH"].from_file
    for unit in ("EAST", "WEST"):
        changes = diff_inputs(season.inbox / f"small-{unit}.xlsx", reissued[unit].built.path)
        assert len(changes) == 24
        assert {(c.item.rsplit(":", 1)[0], c.after) for c in changes} == {
            ("commitment:P-B", None)}
        assert all(c.before not in (None, "") for c in changes)
        old = read_manifest(season.inbox / f"small-{unit}.xlsx")
        carried_keys = len(keyed(unit, old.inputs)) - 24
        assert reissued[unit].carried <= carried_keys
        assert reissued[unit].carried == len(
            [k for k in facts_of(season.db, season.new_spec) if k[0] == unit]) + sum(
            1 for f in _text_facts(season.db, season.new_spec) if f == unit)


def _text_facts(db: Path, spec: str) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [u for (u,) in con.execute(
            "SELECT f.unit FROM facts f JOIN winners w USING (plan_id, spec_hash, sha256) "
            "WHERE f.spec_hash=? AND f.value_num IS NULL", [spec]).fetchall()]
    finally:
        con.close()


def test_a_reissued_workbook_comes_back_clean_and_says_what_changed(
        season: Season, reissued: dict[str, Reissued], tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(reissued["EAST"].built.path, read_only=True)
    lines = [str(r[0]) for r in wb["Changes"].iter_rows(values_only=True) if r[0]]
    wb.close()
    assert any(line.startswith("Your annual target: ") and " → " in line for line in lines)
    assert any("workbooks.deadline: 2026-12-15 → 2027-01-10" in line for line in lines)
    assert any(line.startswith("Rows no longer in the plan") and "commitment:P-B:ONLINE" in line
               for line in lines)
    db = tmp_path / "xlplan.duckdb"
    shutil.copyfile(season.db, db)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(reissued["EAST"].built.path, inbox / "small-EAST.xlsx")
    before = facts_of(db, season.new_spec)
    outcome = consolidate(season.plan, inbox, tmp_path / "out", db=db, workers=1)
    # the target moved, so the carried People split no longer ties to it: the one thing
    # the manager must redo (completeness, issue 18), named at its cell; nothing else
    [(status, findings)] = [(f.status, f.findings) for f in outcome.files]
    assert status == "incomplete"
    assert [(f["sheet"], f["cell"]) for f in findings] == [("People", "F5")]
    assert "expected it to tie to the cent" in findings[0]["message"]
    assert facts_of(db, season.new_spec) == before  # an incomplete file replaces no numbers


def test_a_unit_dropped_from_the_plan_keeps_its_history(season: Season, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    folder.mkdir()
    rows = (season.folder / "edited-prior.csv").read_text(encoding="utf-8").splitlines()
    (folder / "edited-prior.csv").write_text(  # last year's actuals have no WEST rows now
        "\n".join(r for r in rows if not r.startswith("WEST")) + "\n", encoding="utf-8")
    text = season.plan.read_text(encoding="utf-8")
    west = text.index("  - code: WEST\n")
    end = text.index("  - {code: EAST-1,")
    text = text[:west] + text[end:]
    text = "\n".join(line for line in text.splitlines() if "parent: WEST" not in line) + "\n"
    plan = folder / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    db = tmp_path / "xlplan.duckdb"
    shutil.copyfile(season.db, db)
    outcome = consolidate(plan, season.inbox, tmp_path / "out", db=db, workers=1)
    west_file = next(f for f in outcome.files if f.path.name == "small-WEST.xlsx")
    assert west_file.status == "rejected"
    assert "unit 'WEST' is no longer in the plan" in west_file.findings[0]["message"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        kept = con.execute("SELECT count(*) FROM submissions WHERE unit='WEST' AND status IN "
                           "('accepted', 'warnings')").fetchone()
    finally:
        con.close()
    assert kept == (2,)  # its accepted files under both earlier revisions are still there


def test_a_reissued_workbook_says_what_changed_in_its_language(season: Season, tmp_path: Path
                                                               ) -> None:
    """``reissue --language zh``: the Changes sheet is 变更说明, its lines are Chinese around
    the plan's own paths and values, and a zh reissue comes back with the same decision as
    the en one (the sheet is no part of the template in any language)."""
    db = tmp_path / "xlplan.duckdb"
    shutil.copyfile(season.db, db)
    done = runner.invoke(app, ["reissue", str(season.plan), "-o", str(tmp_path), "--db",
                               str(db), "--units", "EAST", "--language", "zh", "--json"])
    assert done.exit_code == 0, done.output
    [made] = json.loads(done.stdout)
    english = made["changes"]  # --json stays English
    assert any("workbooks.deadline: 2026-12-15 → 2027-01-10" in line for line in english)
    wb = openpyxl.load_workbook(made["path"], read_only=True)
    assert "Changes" not in wb.sheetnames
    lines = [str(r[0]) for r in wb["变更说明"].iter_rows(values_only=True) if r[0]]
    wb.close()
    assert lines[0] == "自您上次提交以来 EAST 的变化"
    assert "计划的变化：" in lines
    assert any("workbooks.deadline：2026-12-15 → 2027-01-10" in line for line in lines)
    assert any(line.startswith("您的年度目标：") for line in lines)
    assert len(lines) == len(english) + 2  # title and note above the same lines
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(made["path"], inbox / "small-EAST.xlsx")
    outcome = consolidate(season.plan, inbox, tmp_path / "out", db=db, workers=1)
    [(status, findings)] = [(f.status, f.findings) for f in outcome.files]
    assert status == "incomplete"
    assert [(f["sheet"], f["cell"]) for f in findings] == [("人员分解", "F5")]
