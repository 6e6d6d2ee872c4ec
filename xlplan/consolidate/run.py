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
import math
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlplan.consolidate import revisions, store
from xlplan.consolidate.examine import ENGLISH, Examination, units_named
from xlplan.consolidate.names import shown
from xlplan.consolidate.outcome import FileOutcome, Outcome, file_status, tracker_frame
from xlplan.consolidate.package import Limits
from xlplan.consolidate.report import write_report
from xlplan.consolidate.views import Forecast, forecast_of
from xlplan.consolidate.workers import examine_all
from xlplan.engine.numbers import PlanNumbers
from xlplan.i18n import Data, Msg, data, msg
from xlplan.season import status as season
from xlplan.spec.loader import LoadedPlan, in_language, load_plan
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


@dataclass(frozen=True)
class Entry:
    """One thing found in the inbox, as listed (never followed, never opened).

    ``refusal`` is set when it is decided without reading it: not a regular file, a link,
    larger than the limit. ``transient`` marks decisions about this run only (the file
    vanished or changed while the run was going): they are reported, never stored, so the
    file is examined when it is there again."""

    path: Path
    size: int = 0
    stamp: tuple[int, int, int] = (0, 0, 0)  # inode, size, modification time (ns)
    refusal: str = ""
    transient: bool = False

    def refused(self, why: str, transient: bool = False) -> Entry:
        return replace(self, refusal=why, transient=transient)


GONE = msg("was removed or renamed while the run was going: not decided (run again to read "
           "it)")
CHANGED = msg("changed while the run was going: not decided (run again to read it)")
_KINDS = ((stat.S_ISFIFO, msg("a named pipe (FIFO)")), (stat.S_ISSOCK, msg("a socket")),
          (stat.S_ISCHR, msg("a character device")), (stat.S_ISBLK, msg("a block device")))


def inbox_entries(inbox: Path, limits: Limits) -> list[Entry]:
    """Every entry a person put in the inbox (recursively), whatever it is, each decided
    from its ``lstat`` alone when it cannot be a workbook to read: a FIFO is never opened
    (that blocks), a link is never followed, a file over the size limit is never read. Not
    hidden entries and not Excel's ``~$`` lock files, which are never submissions."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"{shown(inbox)}: the inbox folder does not exist")
    root = inbox.resolve()
    out: list[Entry] = []
    folders = [inbox]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                names = sorted(e.name for e in listing)
        except OSError as exc:
            if folder != inbox:
                out.append(Entry(folder).refused(msg("this folder cannot be listed ({problem})",
                                                     problem=data(exc.strerror or exc)),
                                                 transient=True))
                continue
            raise FileNotFoundError(f"{shown(inbox)}: the inbox cannot be listed "
                                    f"({exc.strerror or exc})") from None
        for name in names:
            if name.startswith((".", "~$")):
                continue
            path = folder / name
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                out.append(Entry(path).refused(GONE, transient=True))
                continue
            except OSError as exc:
                out.append(Entry(path).refused(msg("cannot be read ({problem})",
                                                   problem=data(exc.strerror or exc)),
                                               transient=True))
                continue
            if stat.S_ISDIR(st.st_mode):
                folders.append(path)
                continue
            entry = Entry(path, st.st_size, (st.st_ino, st.st_size, st.st_mtime_ns))
            if stat.S_ISLNK(st.st_mode):
                out.append(entry.refused(_link(path, root)))
            elif not stat.S_ISREG(st.st_mode):
                kind = next((what for test, what in _KINDS if test(st.st_mode)),
                            msg("not a regular file"))
                out.append(entry.refused(msg("this is {kind}, not a file: not read",
                                             kind=kind)))
            elif st.st_size > limits.max_file_bytes:
                out.append(entry.refused(msg("the file is {size} bytes (limit {limit}): "
                                             "refused without reading it",
                                             size=data(f"{st.st_size:,}"),
                                             limit=data(f"{limits.max_file_bytes:,}"))))
            else:
                out.append(entry)
    return sorted(out, key=lambda e: os.fsencode(e.path))


def _link(path: Path, root: Path) -> str:
    """Why a symbolic link is not read: links are never followed (a link could point
    anywhere the person running xlplan may read)."""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return msg("a link to {target}, which does not exist: not read",
                   target=data(shown(os.readlink(path))))
    except (RuntimeError, OSError) as exc:  # a loop: RuntimeError before 3.13
        return msg("a link that cannot be followed ({problem}): not read",
                   problem=data(getattr(exc, "strerror", None) or exc))
    if target.is_relative_to(root):
        return msg("a link to {target} in the inbox (which is examined itself): the link is "
                   "not read", target=data(shown(target.relative_to(root))))
    return msg("a link to {target}, outside the inbox: not followed", target=data(shown(target)))


def sha256_of(entry: Entry, limits: Limits) -> tuple[str, Entry]:
    """The file's SHA-256, read through a descriptor that is checked to be the regular file
    listed (never a FIFO or link swapped in since: those are refused, not opened for
    reading, and never read past the size limit). An empty hash and the entry, refused,
    when it cannot be."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | \
        getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(entry.path, flags)
    except FileNotFoundError:
        return "", entry.refused(GONE, transient=True)
    except OSError as exc:
        return "", entry.refused(msg("cannot be read ({problem})",
                                     problem=data(exc.strerror or exc)), transient=True)
    digest = hashlib.sha256()
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_ino != entry.stamp[0]:
            return "", entry.refused(CHANGED, transient=True)
        left = limits.max_file_bytes + 1
        while chunk := os.read(fd, min(1 << 20, left)):
            digest.update(chunk)
            left -= len(chunk)
            if left <= 0:
                return "", entry.refused(CHANGED, transient=True)
    except OSError as exc:
        return "", entry.refused(msg("cannot be read ({problem})",
                                     problem=data(exc.strerror or exc)), transient=True)
    finally:
        os.close(fd)
    return digest.hexdigest(), entry


def file_sha256(path: Path, limits: Limits | None = None) -> str:
    """The SHA-256 of one file named by the person running xlplan (``xlplan review
    --file``): a link is followed to its file, which is then hashed as an inbox file is
    (a FIFO or device never opened for reading, nothing read past the size limit).
    ValueError saying why when it cannot be."""
    limits = limits or Limits()
    try:
        target = path.resolve(strict=True)
        st = os.lstat(target)
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"{shown(path)}: cannot be read "
                         f"({getattr(exc, 'strerror', None) or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{shown(path)}: not a regular file")
    if st.st_size > limits.max_file_bytes:
        raise ValueError(f"{shown(path)}: the file is {st.st_size:,} bytes (limit "
                         f"{limits.max_file_bytes:,})")
    sha, entry = sha256_of(Entry(target, st.st_size, (st.st_ino, st.st_size, st.st_mtime_ns)),
                           limits)
    if entry.refusal:
        raise ValueError(f"{shown(path)}: {ENGLISH(entry.refusal)}")
    return sha


def unchanged(entry: Entry) -> bool:
    """The file is still the one listed (same inode, size and time)."""
    try:
        st = os.lstat(entry.path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_ino, st.st_size, st.st_mtime_ns) == entry.stamp


def unread_key(entry: Entry) -> str:
    """The history key of an entry decided without reading it (it has no content hash):
    its place and what was seen there, so the same entry is not stored again."""
    seen = os.fsencode(entry.path) + b"\0" + ENGLISH(entry.refusal).encode()
    return "unread-" + hashlib.sha256(seen).hexdigest()


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
                examiner: Examiner | None = None, language: str | None = None) -> Outcome:
    """Run a consolidation; see the module docstring. ``language`` (en or zh; None: the
    plan's ``workbooks.language``) is the consolidated workbook's. Raises PlanError, OutputError,
    store.DatabaseBusy / DatabaseError, FileNotFoundError when it cannot run at all.
    Whatever the inbox holds, every entry gets a decision and the run completes.

    ``examiner``: who reads the files (default: ``workers`` reader processes here). Only
    the reading moves; this process alone writes the history, one file at a time."""
    loaded = in_language(load_plan(plan_path), language)
    prior = read_prior_year(loaded)
    numbers = PlanNumbers(loaded.plan, prior)
    plan_id, spec = loaded.plan.id, loaded.spec_hash
    limits = limits or Limits()
    check_writable(out_dir)
    db = db or out_dir / "xlplan.duckdb"
    entries = []
    hashes: dict[Path, str] = {}
    for entry in inbox_entries(inbox, limits):
        if not entry.refusal:
            hashes[entry.path], entry = sha256_of(entry, limits)
        if entry.refusal and not entry.transient:
            hashes[entry.path] = unread_key(entry)
        entries.append(entry)
    con = store.connect(db)
    try:
        revisions.record_file(con, loaded, "consolidate")
        run_id = store.start_run(con, plan_id, spec, inbox)
        seen = store.already_seen(con, plan_id, spec)
        todo: dict[str, Entry] = {}
        new_hashes: set[str] = set()
        for entry in entries:
            sha = hashes.get(entry.path, "")
            if not sha or sha in seen or sha in todo or sha in new_hashes:
                continue
            if entry.refusal:  # decided without reading: stored as such
                unread = Examination(entry.path)
                unread.error(entry.refusal)
                _name_unit(unread, numbers)
                store.store(con, plan_id, spec, sha, entry.size, run_id, unread,
                            store.next_arrival(con))
                new_hashes.add(sha)
            else:
                todo[sha] = entry
        if started:
            started(len(todo))
        by_path = {e.path: (h, e) for h, e in todo.items()}
        received = arrival_order({h: e.path for h, e in todo.items()})
        first = store.next_arrival(con)
        with earlier_revisions(con, plan_id, spec) as older:
            examine = examiner or local_examiner(workers)
            for result in examine([e.path for e in todo.values()], loaded, limits, older):
                sha, entry = by_path[result.path]
                if not unchanged(entry):  # what was read may not be what was hashed
                    entries[entries.index(entry)] = entry.refused(
                        GONE if not os.path.lexists(entry.path) else CHANGED, transient=True)
                    continue
                _name_unit(result, numbers)
                place, when = received[sha]
                store.store(con, plan_id, spec, sha, entry.size, run_id, result,
                            first + place, when)
                new_hashes.add(sha)
                if progress:
                    progress(shown(result.path.name))
        outcome = _outcome(con, loaded, numbers, entries, hashes, new_hashes, out_dir, db)
        outcome.plan_warnings = prior.left_out if prior is not None else ()
        facts = store.current_facts(con, plan_id)
        forecast = latest_forecast(con, loaded.plan)
        outcome.views = write_report(outcome, numbers, facts, outcome.output,  # and its CSVs
                                     forecast)
        store.finish_run(con, run_id, outcome.output, len(entries), len(new_hashes))
        return outcome
    finally:
        con.close()


def _name_unit(result: Examination, numbers: PlanNumbers) -> None:
    """A rejected file whose manifest was never read (refused, unreadable, the reader
    stopped) is filed under the unit its name names, when it names exactly one: the tracker
    then says that unit's file was rejected and why, not that nothing came."""
    if not result.unit and result.status == "rejected":
        named = units_named(result.path.name, numbers.input_units)
        if len(named) == 1:
            result.unit = named[0]


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
    """The plan's earlier revisions (spec hash → text and path) in a private temporary JSON
    file for the reader processes (they cannot open the database this run holds); None if
    none."""
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
    whose = msg("{unit}'s workbook", unit=data(unit)) if unit else msg("one file")
    sha_, files = data(sha[:12]), data(", ".join(others[:5]))
    words = msg("the same bytes (SHA-256 {sha}…) as {files} and more: a copy, counted once, "
                "as {whose}", sha=sha_, files=files, whose=whose) if len(others) > 5 else \
        msg("the same bytes (SHA-256 {sha}…) as {files}: a copy, counted once, as {whose}",
            sha=sha_, files=files, whose=whose)
    return [{"level": "warning", "sheet": "", "cell": "", "message": ENGLISH(words),
             "words": words}]


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


def _outcome(con: Any, loaded: LoadedPlan, numbers: PlanNumbers, entries: list[Entry],
             hashes: dict[Path, str], new: set[str], out_dir: Path, db: Path) -> Outcome:
    plan_id = loaded.plan.id
    subs = store.submissions(con, plan_id, loaded.spec_hash)
    notes = store.findings(con, plan_id, loaded.spec_hash)
    by_sha = {str(row["sha256"]): row for row in subs.to_dict("records")}
    same: dict[str, list[Path]] = {}
    for entry in entries:
        if entry.path in hashes and not entry.transient:
            same.setdefault(hashes[entry.path], []).append(Path(shown(entry.path)))
    files = []
    for entry in entries:
        sha = hashes.get(entry.path, "")
        found = by_sha.get(sha) if sha and not entry.transient else None
        if found is not None:
            unit = _text(found["unit"])
            copies = copy_findings(Path(shown(entry.path)), sha, unit, same[sha],
                                   Path(str(found["path"])))
            files.append(FileOutcome(Path(shown(entry.path)), sha, unit, file_status(found),
                                     notes.get(sha, []) + copies, sha in new))
        else:  # vanished or changed (this entry, or its identical twin) during the run
            named = units_named(entry.path.name, numbers.input_units)
            files.append(FileOutcome(Path(shown(entry.path)), "",
                                     named[0] if len(named) == 1 else "", "rejected",
                                     [_unread(entry.refusal or CHANGED)], True))
    tracker = season.annotate(con, tracker_frame(numbers, subs, notes), subs, plan_id,
                              loaded.plan.workbooks.deadline)
    units = {str(r["unit"]): {"warnings": "accepted"}.get(str(r["status"]), str(r["status"]))
             for r in tracker.to_dict("records")}
    return Outcome(plan_id, files, units, output_path(out_dir, plan_id), db, tracker)


def _unread(refusal: str) -> dict[str, Any]:
    """The finding of a file this run could not decide on (as the history gives findings)."""
    words = refusal if isinstance(refusal, Msg | Data) else data(refusal)
    return {"level": "error", "sheet": "", "cell": "", "message": ENGLISH(words),
            "words": words}


def _text(value: object) -> str:
    """A text column's value, blank for NULL (which pandas may hand over as NaN)."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        str(value)
