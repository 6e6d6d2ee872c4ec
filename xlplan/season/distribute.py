"""Who gets which message: the workbooks going out (``send``) and the reminders
(``remind``), each delivered and recorded unit by unit.

A unit's message is its own step: the server's acceptance is followed by the unit's
audit event in one transaction; a failure is reported for that unit and the others go
on. ``send`` skips a unit whose workbook (the same bytes) was sent before, so a second run
sends only what did not go; ``remind`` skips a unit already reminded that day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from xlplan.season import audit
from xlplan.season.mail import MailError, Outgoing, Server, connected, deliver, write_eml
from xlplan.season.status import NEEDS_REMINDER
from xlplan.season.words import MESSAGES, say
from xlplan.spec.models import Plan


@dataclass
class Result:
    unit: str
    outcome: str  # sent | written | already sent | reminded today | no email | failed
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"unit": self.unit, "outcome": self.outcome, "detail": self.detail}


def _fields(plan: Plan, unit: str) -> dict[str, Any]:
    u = next(x for x in plan.units if x.code == unit)
    wb = plan.workbooks
    return {"plan": plan.name or plan.id, "year": plan.fiscal_year, "unit": unit,
            "unit_name": u.name, "manager": u.manager or u.name,
            "deadline": wb.deadline.isoformat() if wb.deadline else "",
            "submit_to": wb.submit_to}


def send_message(plan: Plan, unit: str, workbook: Path, sender_name: str) -> Outgoing:
    """The message that carries a unit's workbook, in the plan's language."""
    lang, f = plan.workbooks.language, _fields(plan, unit)
    deadline = say(lang, "deadline", **f) if plan.workbooks.deadline else \
        say(lang, "no_deadline")
    submit = say(lang, "submit_to", **f) if plan.workbooks.submit_to else ""
    u = next(x for x in plan.units if x.code == unit)
    body = say(lang, "send.body", **f, deadline_words=deadline, submit_words=submit,
               sender=sender_name)
    return Outgoing(unit, u.email, u.manager, say(lang, "send.subject", **f), body, workbook)


def remind_message(plan: Plan, unit: str, status: str, details: list[str],
                   sender_name: str) -> Outgoing:
    """A reminder saying what the unit still owes (its findings, the reviewer's words)."""
    lang, f = plan.workbooks.language, _fields(plan, unit)
    u = next(x for x in plan.units if x.code == unit)
    line = say(lang, "deadline_line", **f) if plan.workbooks.deadline else ""
    body = say(lang, "remind.body", **f, need=say(lang, f"need.{status}", **f),
               details="\n".join(f"  - {d}" for d in details), deadline_line=line,
               sender=sender_name)
    shown = say(lang, f"status.{status}") if f"status.{status}" in MESSAGES else status
    return Outgoing(unit, u.email, u.manager, say(lang, "remind.subject", **f, status=shown),
                    body)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def already_sent(con: duckdb.DuckDBPyConnection | None, plan_id: str) -> set[tuple[str, str]]:
    """(unit, workbook SHA-256) of every workbook sent."""
    if con is None or not audit.has_trail(con):
        return set()
    rows = con.execute("SELECT unit, sha256 FROM audit_events WHERE plan_id = ? AND "
                       "event = 'sent'", [plan_id]).fetchall()
    return {(str(u), str(s)) for u, s in rows}


def reminded_on(con: duckdb.DuckDBPyConnection | None, plan_id: str, day: dt.date) -> set[str]:
    if con is None or not audit.has_trail(con):
        return set()
    rows = con.execute("SELECT DISTINCT unit FROM audit_events WHERE plan_id = ? AND "
                       "event = 'reminded' AND CAST(happened_at AS DATE) = ?",
                       [plan_id, day]).fetchall()
    return {str(r[0]) for r in rows}


def distribute(todo: list[tuple[Outgoing, str | None]], event: str, plan_id: str,
               sender: str, actor: str, con: duckdb.DuckDBPyConnection | None,
               server: Server | None, dry_run: Path | None,
               progress: Callable[[Result], None] | None = None) -> list[Result]:
    """Deliver each message (or write it as .eml under ``dry_run``) and record each delivery
    as ``event`` (``sent`` / ``reminded``) with the attachment's SHA-256 (the second item
    of each pair). One server session; a unit that fails does not stop the others."""
    results: list[Result] = []

    def done(result: Result) -> None:
        results.append(result)
        if progress:
            progress(result)

    if dry_run is not None:
        for outgoing, _ in todo:
            done(Result(outgoing.unit, "written", str(write_eml(dry_run, outgoing, sender))))
        return results
    if not todo:
        return results
    assert server is not None and con is not None
    with connected(server) as smtp:
        for outgoing, sha in todo:
            try:
                message_id = deliver(smtp, outgoing, sender)
            except (smtplib.SMTPException, OSError) as exc:
                audit.record(con, audit.Event("send_failed", plan_id, actor, outgoing.unit,
                                              sha, comment=f"{event}: {exc}"))
                done(Result(outgoing.unit, "failed", str(exc)))
                if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
                    raise MailError(f"the mail server went away after {len(results)} "
                                    f"messages: {exc}") from None
                continue
            audit.record(con, audit.Event(event, plan_id, actor, outgoing.unit, sha,
                                          comment=f"to {outgoing.to}",
                                          detail={"message_id": message_id,
                                                  "subject": outgoing.subject}))
            done(Result(outgoing.unit, "sent" if event == "sent" else "reminded", outgoing.to))
    return results


def needs_reminder(season: str) -> bool:
    return season in NEEDS_REMINDER
