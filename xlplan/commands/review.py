"""The review loop: ``xlplan review``, ``xlplan log``, ``xlplan send``, ``xlplan remind``.

Every command here writes or reads the audit trail of the history database
(:mod:`xlplan.season.audit`); the logic is in :mod:`xlplan.season`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.table import Table

from xlplan.commands.app import PlanArg, app, console, fail, open_plan, print_table
from xlplan.commands.consolidate import default_db
from xlplan.commands.untrusted import text
from xlplan.consolidate import store
from xlplan.season import audit

DbOption = Annotated[Path | None, typer.Option(
    "--db", help="The history database (default: $XLPLAN_DB, else ./xlplan.duckdb).",
    show_default=False)]
UnitArg = Annotated[str, typer.Argument(help="The unit's code.", metavar="UNIT",
                                        show_default=False)]


class Action(StrEnum):
    approve = "approve"
    return_ = "return"
    reject = "reject"
    reopen = "reopen"


@contextmanager
def history(db: Path | None, read_only: bool = False, create: bool = False
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The history database, which must exist (consolidation makes it; ``send``, the first
    step of a season, may create it), or exit 1."""
    path = db or default_db()
    if not path.is_file() and not create:
        raise fail(f"{path}: no history database here; pass --db DIR/xlplan.duckdb "
                   "(xlplan consolidate writes one into its output folder)")
    try:
        con = store.connect(path, read_only=read_only)
    except (store.DatabaseBusy, store.DatabaseError) as exc:
        raise fail(str(exc)) from None
    try:
        yield con
    finally:
        con.close()


def unit_cells(loaded: Any, prior: Any, unit: str) -> set[tuple[str, str]]:
    """(sheet, cell) of everything xlplan writes in the unit's workbook (its dry run)."""
    from xlplan.workbook.build import predict_unit
    from xlplan.workbook.context import BuildContext

    book, _ = predict_unit(BuildContext(loaded, prior), unit, {}, manifest=False)
    return {(c.sheet, c.ref) for c in book.cells}


@app.command("review")
def review_cmd(
    plan: PlanArg,
    unit: UnitArg,
    action: Annotated[Action, typer.Argument(help="approve, return, reject or reopen.",
                                             show_default=False)],
    db: DbOption = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who decides (default: the operating-system user).",
        show_default=False)] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="Why; the unit sees it.",
                                                show_default=False)] = None,
    note: Annotated[list[str] | None, typer.Option(
        "--note", help="A note on one cell, 'SHEET!CELL: text' (repeatable; return/reject).",
        show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="The submission reviewed (default: the unit's current file).",
        show_default=False)] = None,
) -> None:
    """Approve, return (for changes), reject or reopen a unit's submission.

    Acts on the unit's current counted file; every decision is an audit event.
    Approval locks the file: a newer one waits until the unit is reopened."""
    from xlplan.consolidate.run import file_sha256
    from xlplan.season.review import ReviewError, check_notes, decide, parse_note

    loaded, prior = open_plan(plan)
    units = _input_units(loaded, prior)
    if unit not in units:
        raise fail(f"unknown unit {unit!r}: the units that fill a workbook are "
                   f"{', '.join(units)}")
    try:
        notes = tuple(parse_note(n) for n in note or [])
        if notes:
            check_notes(list(notes), unit_cells(loaded, prior, unit), unit)
        named = None
        if file is not None:
            if not file.is_file():
                raise ReviewError(f"{file}: no such file")
            try:
                named = (file, file_sha256(file))
            except ValueError as exc:
                raise ReviewError(str(exc)) from None
        with history(db) as con:
            event = decide(con, loaded.plan.id, loaded.spec_hash, unit, action.value,
                           by or audit.operating_system_user(), comment, notes, named)
    except ReviewError as exc:
        raise fail(str(exc)) from None
    console.print(text(f"{unit}: {event.action} by {event.actor}"
                       + (f" ({len(event.notes)} cell notes)" if event.notes else "")))


def _input_units(loaded: Any, prior: Any) -> list[str]:
    from xlplan.engine.numbers import PlanNumbers

    return list(PlanNumbers(loaded.plan, prior).input_units)


@app.command("log")
def log_cmd(
    plan: PlanArg,
    db: DbOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit's events.",
                                             show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON.")] = False,
) -> None:
    """Print the audit trail: every event of the season, in order."""
    loaded, _ = open_plan(plan)
    with history(db, read_only=True) as con:
        frame = audit.log(con, loaded.plan.id, unit)
    rows = [_event_json(r) for r in frame.to_dict("records")]
    if as_json:
        sys.stdout.write(json.dumps({"plan": loaded.plan.id, "events": rows},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    view = Table(title=text(f"Audit trail of {loaded.plan.id}"), title_justify="left")
    for col in ("#", "when", "event", "action", "by", "unit", "file", "comment"):
        view.add_column(col, overflow="fold", max_width=70 if col == "comment" else None)
    for r in rows:
        said = "; ".join([r["comment"] or "", *r["notes"]]).strip("; ")
        view.add_row(str(r["seq"]), r["at"][:16], r["event"], text(r["action"] or ""),
                     text(r["actor"]), text(r["unit"] or ""), (r["sha256"] or "")[:12],
                     text(said))
    print_table(view)


def _event_json(row: dict[Any, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return None if value is None or (isinstance(value, float) and value != value) \
            else value

    notes = row.get("notes")
    return {"seq": int(row["seq"]), "at": str(row["happened_at"]), "event": row["event"],
            "action": plain(row["action"]), "actor": row["actor"], "unit": plain(row["unit"]),
            "sha256": plain(row["sha256"]), "comment": plain(row["comment"]),
            "detail": json.loads(row["detail"]) if plain(row["detail"]) else None,
            "notes": [str(n) for n in notes] if notes is not None and len(notes) else []}


SmtpOption = Annotated[str | None, typer.Option(
    "--smtp", help="The mail server, HOST:PORT (STARTTLS and login when it offers them).",
    show_default=False)]
FromOption = Annotated[str | None, typer.Option(
    "--from", help="The sender's address (default: the plan's workbooks.submit_to).",
    show_default=False)]
UserOption = Annotated[str, typer.Option(
    "--user", help="Log in as this user; the password is read from $XLPLAN_SMTP_PASSWORD.")]
DryRunOption = Annotated[Path | None, typer.Option(
    "--dry-run", help="Write each message as DIR/<UNIT>.eml instead of sending it.",
    show_default=False)]


def _sender(loaded: Any, given: str | None) -> str:
    from xlplan.season.mail import MailError, check_address

    address = given or loaded.plan.workbooks.submit_to
    if not address:
        raise fail("--from: no sender address (and the plan has no workbooks.submit_to)")
    try:
        return check_address(address, "--from" if given else "workbooks.submit_to")
    except MailError as exc:
        raise fail(str(exc)) from None


def _server(smtp: str | None, user: str, dry_run: Path | None) -> Any:
    from xlplan.season.mail import MailError, parse_server

    if dry_run is not None:
        return None
    if not smtp:
        raise fail("--smtp HOST:PORT is needed (or --dry-run DIR to write the messages)")
    try:
        return parse_server(smtp, user)
    except MailError as exc:
        raise fail(str(exc)) from None


def _deliver(todo: list[Any], event: str, loaded: Any, sender: str, db: Path | None,
             server: Any, dry_run: Path | None, skipped: list[Any], as_json: bool) -> None:
    """Send (or write) the messages, print each unit's outcome; exit 1 if any failed."""
    from xlplan.season.distribute import Result, distribute
    from xlplan.season.mail import MailError

    def show(result: Result) -> None:
        if not as_json:
            console.print(text(f"{result.unit}: {result.outcome}"
                               + (f" ({result.detail})" if result.detail else "")))

    for r in skipped:
        show(r)
    actor = audit.operating_system_user()
    try:
        if dry_run is not None:
            results = distribute(todo, event, loaded.plan.id, sender, actor, None, None,
                                 dry_run, show)
        else:
            with history(db, create=event == "sent") as con:
                results = distribute(todo, event, loaded.plan.id, sender, actor, con, server,
                                     None, show)
    except MailError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the messages: {exc}") from None
    if as_json:
        sys.stdout.write(json.dumps([r.to_json() for r in [*skipped, *results]],
                                    ensure_ascii=False, indent=2) + "\n")
    if any(r.outcome == "failed" for r in results):
        raise typer.Exit(1)


@app.command("send")
def send_cmd(
    plan: PlanArg,
    build: Annotated[Path, typer.Option("--build", help="The folder xlplan build wrote.",
                                        show_default=False)],
    smtp: SmtpOption = None,
    sender: FromOption = None,
    units: Annotated[list[str] | None, typer.Option(
        "--units", help="Only these units (repeatable).", show_default=False)] = None,
    dry_run: DryRunOption = None,
    db: DbOption = None,
    user: UserOption = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcomes as JSON.")] = False,
) -> None:
    """Mail each unit's manager their workbook, with the deadline and how to submit.

    Each message sent is an audit event; a workbook already sent (the same file) is
    not sent again, and a unit whose message failed is sent on the next run."""
    from xlplan.season.distribute import Result, already_sent, send_message, sha256_file
    from xlplan.workbook.build import unit_path
    from xlplan.workbook.context import BuildContext

    loaded, prior = open_plan(plan)
    ctx = BuildContext(loaded, prior)
    chosen = list(units or ctx.input_units)
    unknown = [u for u in chosen if u not in ctx.input_units]
    if unknown:
        raise fail(f"--units: not units that fill a workbook: {', '.join(unknown)} "
                   f"(these do: {', '.join(ctx.input_units)})")
    from_addr, server = _sender(loaded, sender), _server(smtp, user, dry_run)
    emails = {u.code: u.email for u in loaded.plan.units}
    sent: set[tuple[str, str]] = set()
    if (db or default_db()).is_file():
        with history(db, read_only=True) as con:
            sent = already_sent(con, loaded.plan.id)
    todo, skipped = [], []
    for unit in chosen:
        path = unit_path(build, ctx, unit)
        if not path.is_file():
            raise fail(f"{path}: no workbook for {unit} in {build} (run xlplan build -o "
                       f"{build})")
        sha = sha256_file(path)
        if not emails.get(unit):
            skipped.append(Result(unit, "no email", "the plan gives no email for this unit"))
        elif (unit, sha) in sent:
            skipped.append(Result(unit, "already sent", path.name))
        else:
            todo.append((send_message(loaded.plan, unit, path, from_addr), sha))
    _deliver(todo, "sent", loaded, from_addr, db, server, dry_run, skipped, as_json)


@app.command("remind")
def remind_cmd(
    plan: PlanArg,
    smtp: SmtpOption = None,
    sender: FromOption = None,
    dry_run: DryRunOption = None,
    db: DbOption = None,
    user: UserOption = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcomes as JSON.")] = False,
) -> None:
    """Mail the units that are late, missing, incomplete or returned, saying what is needed
    (the findings, the reviewer's comment and cell notes). Once a day per unit."""
    from xlplan.consolidate.examine import where
    from xlplan.i18n import Words
    from xlplan.season.distribute import Result, remind_message, reminded_on
    from xlplan.season.status import NEEDS_REMINDER, season_frame, today

    loaded, prior = open_plan(plan)
    units = _input_units(loaded, prior)
    from_addr, server = _sender(loaded, sender), _server(smtp, user, dry_run)
    try:
        day = today()
    except ValueError as exc:
        raise fail(str(exc)) from None
    with history(db, read_only=True) as con:
        subs = store.submissions(con, loaded.plan.id, loaded.spec_hash)
        found = store.findings(con, loaded.plan.id, loaded.spec_hash)
        trail = audit.log(con, loaded.plan.id)
        done_today = reminded_on(con, loaded.plan.id, audit.now().date())  # the clock's day
    frame = season_frame(units, subs, trail, loaded.plan.workbooks.deadline, day)
    emails = {u.code: u.email for u in loaded.plan.units}
    todo, skipped = [], []
    for row in frame.to_dict("records"):
        unit, status = str(row["unit"]), str(row["season"])
        if status not in NEEDS_REMINDER:
            continue
        if not emails.get(unit):
            skipped.append(Result(unit, "no email", status))
            continue
        if unit in done_today:
            skipped.append(Result(unit, "reminded today", status))
            continue
        details = _what_is_needed(unit, status, subs, found, trail, where,
                                  Words(loaded.plan.workbooks.language))
        todo.append((remind_message(loaded.plan, unit, status, details, from_addr), None))
    _deliver(todo, "reminded", loaded, from_addr, db, server, dry_run, skipped, as_json)


def _what_is_needed(unit: str, status: str, subs: Any, found: dict[str, Any], trail: Any,
                    where: Any, words: Any) -> list[str]:
    """The lines under a reminder: the latest file's findings (incomplete), in the
    reminder's language (``words``), the reviewer's comment and cell notes (returned)."""
    lines: list[str] = []
    if status == "returned":
        mine = trail[(trail["unit"] == unit) & (trail["event"] == "reviewed")]
        if len(mine):
            last = mine.iloc[-1]
            if last["comment"]:
                lines.append(str(last["comment"]))
            notes = last["notes"]
            lines += [str(n) for n in (notes if notes is not None else [])]
    if status == "incomplete":
        mine = subs[subs["unit"] == unit].sort_values("arrival", ascending=False)
        if len(mine):
            for n in found.get(str(mine.iloc[0]["sha256"]), [])[:10]:
                place = where(n["sheet"], n["cell"])
                lines.append(f"{place + ': ' if place else ''}{words(n['words'])}")
    return lines
