"""``xlplan consolidate``, ``xlplan status`` and ``xlplan diff``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from xlplan.cluster import ClusterError, connected
from xlplan.commands.app import (
    LanguageOption,
    PlanArg,
    SchedulerOption,
    app,
    console,
    fail,
    print_table,
    progress_bar,
    warn,
)
from xlplan.commands.untrusted import text
from xlplan.consolidate import store
from xlplan.consolidate.examine import where
from xlplan.consolidate.outcome import Outcome, tracker_frame
from xlplan.consolidate.report import OutputFull
from xlplan.consolidate.run import OutputError, consolidate
from xlplan.season import status as season
from xlplan.season.answered import NoteAnswer, answers
from xlplan.spec.loader import PlanError, load_plan
from xlplan.spec.prior_year import DataFileError

DbOption = Annotated[Path | None, typer.Option(
    "--db", help="The history database (DuckDB). consolidate: default DIR/xlplan.duckdb.",
    show_default=False)]
STATUS_STYLE = {"accepted": "green", "warnings": "yellow", "rejected": "red",
                "incomplete": "magenta",
                "missing": "bright_black", "superseded": "bright_black"}


@app.command("consolidate")
def consolidate_cmd(
    plan: PlanArg,
    inbox: Annotated[Path, typer.Argument(help="Folder of submitted workbooks (any names).",
                                          metavar="INBOX", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("out"),
    db: DbOption = None,
    workers: Annotated[int | None, typer.Option(
        help="Reader processes (default: one per core).", min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    scheduler: SchedulerOption = None,
    ship_files: Annotated[bool, typer.Option(
        "--ship-files", help="With --scheduler: send each file's bytes to the workers (for "
                             "workers that do not see INBOX at the same path).")] = False,
    language: LanguageOption = None,
) -> None:
    """Read the submitted workbooks, check them, merge them, keep history, report.

    Every file gets a decision (accepted, accepted with warnings, rejected,
    superseded) with reasons naming sheet and cell. Rejections are results:
    the exit code is 0 whenever the run completed, 1 when it could not run
    (bad plan, missing inbox, unwritable output, database busy, cluster unusable).

    With --scheduler the files are read on Dask workers (INBOX a folder every
    worker sees at the same path, or --ship-files); this machine still keeps the
    history, so the decisions and numbers are those of a local run.
    """
    if ship_files and not scheduler:
        raise typer.BadParameter("only with --scheduler", param_hint="--ship-files")
    bar: dict[str, Any] = {}
    words = language.value if language else None

    def started(count: int) -> None:
        bar["step"], bar["stop"] = progress_bar(count, "reading")

    def step(name: str) -> None:
        bar["step"](name)

    try:
        if scheduler:
            outcome = _on_cluster(scheduler, ship_files, plan, inbox, out, db, step, started,
                                  words)
        else:
            outcome = consolidate(plan, inbox, out, db, workers, progress=step,
                                  started=started, language=words)
    except (PlanError, DataFileError, ClusterError) as exc:
        raise fail(str(exc)) from None
    except (OutputError, OutputFull, store.DatabaseBusy, store.DatabaseError,
            FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    finally:
        if "stop" in bar:
            bar["stop"]()
    warn(outcome.plan_warnings)
    if as_json:
        sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    print_outcome(outcome)


def _on_cluster(scheduler: str, ship_files: bool, plan: Path, inbox: Path, out: Path,
                db: Path | None, step: Any, started: Any, language: str | None) -> Outcome:
    from xlplan.consolidate.cluster import ClusterExaminer

    with connected(scheduler) as client:
        return consolidate(plan, inbox, out, db, progress=step, started=started,
                           examiner=ClusterExaminer(client, ship_files), language=language)


def print_outcome(outcome: Outcome) -> None:
    """The tracker, then each file that has findings, then where the report is."""
    _print_tracker(outcome.tracker, f"Submissions for {outcome.plan_id}")
    new = sum(f.new for f in outcome.files)
    console.print(f"{len(outcome.files)} files in the inbox ({new} new, "
                  f"{len(outcome.files) - new} seen before)")
    for f in outcome.files:  # every string from a file or a file name printed as text
        if f.findings and f.new:
            style = STATUS_STYLE.get(f.status, "")
            console.print(Text(f.status, style=style), text(f.path), sep=": ")
            for n in f.findings[:6]:
                place = where(n["sheet"], n["cell"])
                console.print(text(f"  {n['level']}: {place + ': ' if place else ''}"
                                   f"{n['message']}"))
            if len(f.findings) > 6:
                console.print(f"  … {len(f.findings) - 6} more (see the Files sheet)")
    console.print(text(f"report: {outcome.output}\ndatabase: {outcome.database}"))


def _print_tracker(tracker: Any, title: str) -> None:
    view = Table(title=text(title), title_justify="left")
    for col in ("unit", "name", "status", "season", "file", "modified", "reasons"):
        view.add_column(col, overflow="fold", max_width=60 if col == "reasons" else None)
    for row in tracker.itertuples():
        style = STATUS_STYLE.get(row.status, "")
        view.add_row(text(row.unit), text(row.name), Text(row.status, style=style),
                     text(str(getattr(row, "season", ""))), text(row.file),
                     text(str(row.modified)[:19]), text(row.reasons))
    print_table(view)


def default_db() -> Path:
    """``--db`` when not given: $XLPLAN_DB, else xlplan.duckdb in the current folder."""
    return Path(os.environ.get("XLPLAN_DB") or "xlplan.duckdb")


@app.command("status")
def status_cmd(
    plan: PlanArg,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tracker as JSON.")] = False,
) -> None:
    """Print the submission tracker from the history database (without reading files).

    ``--db`` defaults to $XLPLAN_DB, else ./xlplan.duckdb (consolidate writes
    DIR/xlplan.duckdb: pass that)."""
    try:
        loaded = load_plan(plan)
    except PlanError as exc:
        raise fail(str(exc)) from None
    path = db or default_db()
    if not path.is_file():
        raise fail(f"{path}: no history database here; pass --db DIR/xlplan.duckdb "
                   "(xlplan consolidate writes one into its output folder)")
    from xlplan.engine.numbers import PlanNumbers
    from xlplan.spec.prior_year import read_prior_year

    numbers = PlanNumbers(loaded.plan, read_prior_year(loaded))
    try:
        con = store.connect(path, read_only=True)
    except (store.DatabaseBusy, store.DatabaseError) as exc:
        raise fail(str(exc)) from None
    try:
        subs = store.submissions(con, loaded.plan.id, loaded.spec_hash)
        notes = store.findings(con, loaded.plan.id, loaded.spec_hash)
        tracker = season.annotate(con, tracker_frame(numbers, subs, notes), subs,
                                  loaded.plan.id, loaded.plan.workbooks.deadline)
        replies = answers(con, loaded.plan.id, loaded.spec_hash)
    except ValueError as exc:  # $XLPLAN_TODAY not a date
        raise fail(str(exc)) from None
    finally:
        con.close()
    if as_json:
        units = [{**u, "notes": [a.to_json() for a in replies.get(str(u["unit"]), [])]}
                 for u in tracker.to_dict(orient="records")]
        doc = {"plan": loaded.plan.id, "units": units}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if subs.empty:
        console.print(text(f"nothing consolidated yet for {loaded.plan.id} (this plan version) "
                           f"in {path}"))
    _print_tracker(tracker, f"Submissions for {loaded.plan.id} ({path})")
    _print_answers(replies)


def _print_answers(replies: dict[str, list[NoteAnswer]]) -> None:
    """Under the tracker: each returned unit's cell notes, answered by its new file or not."""
    for unit, notes in replies.items():
        console.print(text(f"{unit}: the reviewer's notes on the returned file"))
        for a in notes:
            said = "answered" if a.answered else "not answered"
            console.print(text(f"  {a.note.sheet}!{a.note.cell}: {a.note.text} ({a.by}) — "),
                          Text(said, style="green" if a.answered else "red"), sep="")


@app.command("diff")
def diff_cmd(
    old: Annotated[Path, typer.Argument(help="The earlier submission.", metavar="OLD.xlsx",
                                        show_default=False)],
    new: Annotated[Path, typer.Argument(help="The later submission.", metavar="NEW.xlsx",
                                        show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the changes as JSON.")] = False,
) -> None:
    """List the input cells that changed between two submissions of one unit."""
    from xlplan.consolidate.diff import DiffError, diff_inputs

    try:
        changes = diff_inputs(old, new)
    except DiffError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps([c.to_json() for c in changes], ensure_ascii=False,
                                    indent=2, default=str) + "\n")
        return
    if not changes:
        console.print("no input changed")
        return
    view = Table(title=f"{len(changes)} input cells changed", title_justify="left")
    for col in ("cell", "item", "period", "before", "after"):
        view.add_column(col, overflow="fold")
    for c in changes:
        view.add_row(text(f"{c.sheet}!{c.cell}"), text(c.item), text(c.period),
                     text(c.show(c.before)), text(c.show(c.after)))
    print_table(view)
