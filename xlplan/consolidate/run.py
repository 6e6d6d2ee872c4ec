"""One consolidation run: inbox → examined files → history → consolidated workbook.

The steps, each safe to interrupt: list and hash the inbox; examine the files
not seen before (in reader processes); store each file's rows in one
transaction as soon as its examination is done; then derive the tracker from
the database (so files from earlier runs count too) and write the output
through a temporary file. A run killed at any point leaves the database with
whole files only, and the output either old or new.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from xlplan.consolidate import revisions, store
from xlplan.consolidate.examine import Examination
from xlplan.consolidate.outcome import FileOutcome, Outcome, file_status, tracker_frame
from xlplan.consolidate.package import Limits
from xlplan.consolidate.report import write_report
from xlplan.consolidate.views import Forecast, forecast_of
from xlplan.consolidate.workers import examine_all
from xlplan.engine.numbers import PlanNumbers
from xlplan.season import status as season
from xlplan.spec.loader import LoadedPlan, load_plan
from xlplan.spec.models import Plan
from xlplan.spec.prior_year import read_prior_year

# Who examines the files: given the new files, the plan, the limits and the plan's earlier
# revisions (a JSON file, or None), it yields one Examination per file, in any order.
# Reader processes on this machine by default (workers.examine_all);
# xlplan.consolidate.cluster.ClusterExaminer on Dask workers.
Examiner = Callable[[list[Path], LoadedPlan, Limits | None, Path | None],
                    Iterable[Examination]]


def local_examiner(workers: int | None) -> Examiner:
    """Reader processes on this machine, ``workers`` of them (default one per core)."""
    def examine(paths: list[Path], plan: LoadedPlan, limits: Limits | None,
                older: Path | None) -> Iterable[Examination]:
        assert plan.path is not None  # loaded from its file
        return examine_all(paths, plan.path, workers, limits, revisions=older)
    return examine


class OutputError(RuntimeError):
    """The output folder or database cannot be written: the run could not happen."""


def inbox_files(inbox: Path) -> list[Path]:
    """Every file a person put in the inbox (recursively), whatever its extension; not
    hidden files and not Excel's ``~$`` lock files, which are never submissions."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"{inbox}: the inbox folder does not exist")
    out = []
    for path in sorted(inbox.rglob("*")):
        rel = path.relative_to(inbox)
        if any(part.startswith((".", "~$")) for part in rel.parts) or not path.is_file():
            continue
        out.append(path)
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def output_path(out_dir: Path, plan_id: str) -> Path:
    return out_dir / f"{plan_id}-consolidated.xlsx"


def check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".xlplan-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write the output here ({exc.strerror or exc})"
                          ) from None


def consolidate(plan_path: Path, inbox: Path, out_dir: Path, db: Path | None = None,
                workers: int | None = None, limits: Limits | None = None,
                progress: Callable[[str], None] | None = None,
                started: Callable[[int], None] | None = None,
                examiner: Examiner | None = None) -> Outcome:
    """Run a consolidation; see the module docstring. Raises PlanError, OutputError,
    store.DatabaseBusy / DatabaseError, FileNotFoundError when it cannot run at all.

    ``examiner``: who reads the files (default: ``workers`` reader processes here). Only
    the reading moves; this process alone writes the history, one file at a time."""
    loaded = load_plan(plan_path)
    prior = read_prior_year(loaded)
    numbers = PlanNumbers(loaded.plan, prior)
    plan_id, spec = loaded.plan.id, loaded.spec_hash
    check_writable(out_dir)
    db = db or out_dir / "xlplan.duckdb"
    paths = inbox_files(inbox)
    hashes = {p: sha256_of(p) for p in paths}
    con = store.connect(db)
    try:
        revisions.record_file(con, loaded, "consolidate")
        run_id = store.start_run(con, plan_id, spec, inbox)
        seen = store.already_seen(con, plan_id, spec)
        todo: dict[str, Path] = {}
        for path in paths:
            if hashes[path] not in seen and hashes[path] not in todo:
                todo[hashes[path]] = path
        if started:
            started(len(todo))
        new_hashes: set[str] = set()
        by_path = {p: h for h, p in todo.items()}
        received = arrival_order(todo)
        first = store.next_arrival(con)
        with earlier_revisions(con, plan_id, spec) as older:
            examine = examiner or local_examiner(workers)
            for result in examine(list(todo.values()), loaded, limits, older):
                sha = by_path[result.path]
                place, when = received[sha]
                store.store(con, plan_id, spec, sha, result.path.stat().st_size, run_id,
                            result, first + place, when)
                new_hashes.add(sha)
                if progress:
                    progress(result.path.name)
        outcome = _outcome(con, loaded, numbers, paths, hashes, new_hashes, out_dir, db)
        outcome.plan_warnings = prior.left_out if prior is not None else ()
        facts = store.current_facts(con, plan_id)
        forecast = latest_forecast(con, loaded.plan)
        outcome.views = write_report(outcome, numbers, facts, outcome.output,  # and its CSVs
                                     forecast)
        store.finish_run(con, run_id, outcome.output, len(paths), len(new_hashes))
        return outcome
    finally:
        con.close()


def latest_forecast(con: Any, plan: Plan) -> Forecast | None:
    """The re-forecast with the latest as-of date kept in the history database, if any, in
    the gap's layout (the report shows the gap against it beside the budget's)."""
    from xlplan.tracking import versions
    from xlplan.tracking.calendar import FiscalCalendar

    version = versions.latest_forecast(con, plan.id)
    if version is None:
        return None
    cal = FiscalCalendar.of(plan)
    return forecast_of(version.name, version.as_of.isoformat() if version.as_of else "",
                       version.cells, [cal.month_key(m) for m in range(12)],
                       float(plan.currency.smallest_unit))


@contextlib.contextmanager
def earlier_revisions(con: Any, plan_id: str, spec: str) -> Iterator[Path | None]:
    """The plan's earlier revisions (spec hash → text and path) in a private temporary JSON file for
    the reader processes (they cannot open the database this run holds); None if none."""
    older = {h: r for h, r in revisions.stored(con, plan_id).items() if h != spec}
    if not older:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="xlplan-revisions-") as folder:
        path = Path(folder) / "revisions.json"
        path.write_text(json.dumps(older, ensure_ascii=False), encoding="utf-8")
        yield path


def copy_findings(path: Path, sha: str, unit: str, inbox_twins: list[Path], first: Path
                  ) -> list[dict[str, str]]:
    """A warning naming the other files with exactly these bytes: in this inbox, or the
    file under which xlplan first received them (a unit's workbook saved again under
    another unit's name is one submission, counted once, for the unit inside it)."""
    others = [p.name for p in inbox_twins if p != path]
    if first.name != path.name and first.name not in others:
        others.append(f"{first.name} (received earlier)")
    if not others:
        return []
    whose = f"{unit}'s workbook" if unit else "one file"
    return [{"level": "warning", "sheet": "", "cell": "",
             "message": f"the same bytes (SHA-256 {sha[:12]}…) as {', '.join(others[:5])}"
                        f"{' and more' if len(others) > 5 else ''}: a copy, counted once, as "
                        f"{whose}"}]


def arrival_order(todo: dict[str, Path]) -> dict[str, tuple[int, dt.datetime | None]]:
    """sha256 → (place, time on the filesystem) of the files new to this run: in the order
    the filesystem received them, ties broken by hash. The files' own "last saved" property
    plays no part (it is whatever the sender's program, or the sender, wrote)."""
    times: dict[str, dt.datetime | None] = {}
    for sha, path in todo.items():
        try:
            times[sha] = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(
                tzinfo=None)
        except (OSError, ValueError, OverflowError):
            times[sha] = None  # gone, or a time outside the calendar: first, then by hash
    order = sorted(todo, key=lambda sha: (times[sha] or dt.datetime.min, sha))
    return {sha: (i, times[sha]) for i, sha in enumerate(order)}


def _outcome(con: Any, loaded: LoadedPlan, numbers: PlanNumbers, paths: list[Path],
             hashes: dict[Path, str], new: set[str], out_dir: Path, db: Path) -> Outcome:
    plan_id = loaded.plan.id
    subs = store.submissions(con, plan_id, loaded.spec_hash)
    notes = store.findings(con, plan_id, loaded.spec_hash)
    by_sha = {str(row["sha256"]): row for row in subs.to_dict("records")}
    same: dict[str, list[Path]] = {}
    for path in paths:
        same.setdefault(hashes[path], []).append(path)
    files = []
    for path in paths:
        sha = hashes[path]
        found = by_sha.get(sha)
        if found is None:
            continue
        unit = str(found["unit"] or "")
        copies = copy_findings(path, sha, unit, same[sha], Path(str(found["path"])))
        files.append(FileOutcome(path, sha, unit, file_status(found),
                                 notes.get(sha, []) + copies, sha in new))
    tracker = season.annotate(con, tracker_frame(numbers, subs, notes), subs, plan_id,
                              loaded.plan.workbooks.deadline)
    units = {str(r["unit"]): {"warnings": "accepted"}.get(str(r["status"]), str(r["status"]))
             for r in tracker.to_dict("records")}
    return Outcome(plan_id, files, units, output_path(out_dir, plan_id), db, tracker)


