"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): send each unit its workbook,
remind exactly the units that owe something, a failed or killed send retried and never
marked sent, login, an unreachable server, .eml dry runs, a bad address in the plan."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import SMALL
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate.run import consolidate
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import build_all
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample

runner = CliRunner()
TODAY = "2026-12-20"
EMAILS = {"EAST": "chen.jie@example.com", "WEST": "liu.yang@example.com"}


class Inbox:
    """What the local server received; ``refuse``: recipients it answers 550."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(
            envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def to(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small plan with the managers' addresses, and its workbooks built."""
    folder = tmp_path_factory.mktemp("mailplan")
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    for unit in data["units"]:
        if unit["code"] in EMAILS:
            unit["email"] = EMAILS[unit["code"]]
    shutil.copy(SMALL.with_name("small-prior-year.csv"), folder)
    plan = folder / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    loaded = load_plan(plan)
    build_all(BuildContext(loaded, read_prior_year(loaded)), folder / "build", workers=1)
    return {"plan": plan, "build": folder / "build"}


def cli(*args: Any, ok: bool = True, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, [str(a) for a in args],
                           env={"XLPLAN_TODAY": TODAY, **(env or {})})
    if ok:
        assert result.exit_code == 0, result.output + str(result.exception)
    return result


def sent_events(db: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [(str(u), str(e)) for u, e in con.execute(
            "SELECT unit, event FROM audit_log WHERE event IN ('sent', 'send_failed', "
            "'reminded') ORDER BY seq").fetchall()]
    finally:
        con.close()


def test_send_mails_each_unit_its_workbook_once(tmp_path: Path, season: dict[str, Path],
                                                smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    db = tmp_path / "xlplan.duckdb"
    cli("send", season["plan"], "--build", season["build"], "--smtp", f"127.0.0.1:{port}",
        "--db", db)
    assert inbox.to() == ["Chen Jie <chen.jie@example.com>", "Liu Yang <liu.yang@example.com>"]
    for msg in inbox.messages:
        unit = "EAST" if "chen.jie" in str(msg["To"]) else "WEST"
        (part,) = list(msg.iter_attachments())
        built = season["build"] / "units" / f"small-2027-{unit}.xlsx"
        assert part.get_filename() == built.name
        assert part.get_content() == built.read_bytes()  # the right workbook, byte for byte
        body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "by 2026-12-15" in body and "finance@example.com" in body
        assert str(msg["From"]) == "finance@example.com" and unit in str(msg["Subject"])
    assert sent_events(db) == [("EAST", "sent"), ("WEST", "sent")]
    again = cli("send", season["plan"], "--build", season["build"], "--smtp",
                f"127.0.0.1:{port}", "--db", db, "--json")
    assert [r["outcome"] for r in json.loads(again.stdout)] == ["already sent"] * 2
    assert len(inbox.messages) == 2


def test_a_refused_recipient_is_reported_and_sent_on_the_next_run(
        tmp_path: Path, season: dict[str, Path], smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    db = tmp_path / "xlplan.duckdb"
    inbox.refuse = {EMAILS["WEST"]}
    failed = cli("send", season["plan"], "--build", season["build"], "--smtp",
                 f"127.0.0.1:{port}", "--db", db, ok=False)
    assert failed.exit_code == 1 and "WEST: failed" in failed.output
    assert sent_events(db) == [("EAST", "sent"), ("WEST", "send_failed")]
    inbox.refuse = set()
    cli("send", season["plan"], "--build", season["build"], "--smtp", f"127.0.0.1:{port}",
        "--db", db)
    assert inbox.to() == ["Chen Jie <chen.jie@example.com>", "Liu Yang <liu.yang@example.com>"]
    assert sent_events(db)[-1] == ("WEST", "sent")


def test_unreachable_server_and_bad_addresses_record_nothing(
        tmp_path: Path, season: dict[str, Path]) -> None:
    db = tmp_path / "xlplan.duckdb"
    port = free_port()  # nothing listens there
    down = cli("send", season["plan"], "--build", season["build"], "--smtp",
               f"127.0.0.1:{port}", "--db", db, ok=False)
    assert down.exit_code == 1 and f"cannot reach the mail server 127.0.0.1:{port}" in down.output
    assert sent_events(db) == []
    bad_from = cli("send", season["plan"], "--build", season["build"], "--smtp",
                   f"127.0.0.1:{port}", "--db", db, "--from", "finance at example", ok=False)
    assert bad_from.exit_code == 1 and "'finance at example' is not an email address" in \
        bad_from.output
    data = yaml.safe_load(season["plan"].read_text(encoding="utf-8"))
    data["units"][1]["email"] = "chen.jie(at)example.com"
    broken = tmp_path / "plan.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    shutil.copy(SMALL.with_name("small-prior-year.csv"), tmp_path)
    out = cli("send", broken, "--build", season["build"], "--dry-run", tmp_path / "eml",
              ok=False)
    assert out.exit_code == 1 and "chen.jie(at)example.com" in out.output
    assert "is not an email address" in out.output


def test_dry_run_writes_eml_files_and_sends_nothing(tmp_path: Path, season: dict[str, Path]
                                                   ) -> None:
    cli("send", season["plan"], "--build", season["build"], "--dry-run", tmp_path / "eml",
        "--units", "WEST", "--db", tmp_path / "none.duckdb")
    (eml,) = sorted((tmp_path / "eml").iterdir())
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert eml.name == "WEST.eml" and "liu.yang@example.com" in str(msg["To"])
    (part,) = list(msg.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_content() == (season["build"] / "units" / "small-2027-WEST.xlsx"
                                  ).read_bytes()
    assert not (tmp_path / "none.duckdb").exists()


def test_login_with_the_password_from_the_environment(
        tmp_path: Path, season: dict[str, Path]) -> None:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any
              ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) in (
            (b"finance", b"s3cret"), ("finance", "s3cret"))
        return AuthResult(success=good)

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check,
                            auth_required=True, auth_require_tls=False,
                            auth_exclude_mechanism=["LOGIN"])  # smtplib uses PLAIN
    controller.start()
    try:
        args = ["send", season["plan"], "--build", season["build"], "--smtp",
                f"127.0.0.1:{port}", "--db", tmp_path / "x.duckdb", "--user", "finance"]
        # no password in the environment: nothing is tried (aiosmtpd answers a wrong one
        # only after its anti-guessing delay, so that case is not timed here)
        unset = cli(*args, ok=False)
        assert unset.exit_code == 1 and "XLPLAN_SMTP_PASSWORD" in unset.output
        assert inbox.messages == []
        cli(*args, env={"XLPLAN_SMTP_PASSWORD": "s3cret"})
        assert len(inbox.messages) == 2
    finally:
        controller.stop()


def test_remind_mails_exactly_the_units_that_owe_something(
        tmp_path: Path, season: dict[str, Path], smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    plan, out = season["plan"], tmp_path / "out"
    db = out / "xlplan.duckdb"
    filled = fill_sample(season["build"] / "units" / "small-2027-EAST.xlsx",
                         tmp_path / "in" / "EAST.xlsx", seed=3, plan_path=plan)
    stamp = dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC).timestamp()
    os.utime(filled.workbook, (stamp, stamp))
    os.environ["XLPLAN_TODAY"] = TODAY
    try:
        consolidate(plan, tmp_path / "in", out, workers=1)
    finally:
        del os.environ["XLPLAN_TODAY"]
    cli("remind", plan, "--smtp", f"127.0.0.1:{port}", "--db", db)
    assert inbox.to() == ["Liu Yang <liu.yang@example.com>"]  # WEST missing; EAST on time
    body = inbox.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "have not received" in body and "WEST" in body
    cli("review", plan, "EAST", "return", "--db", db, "--comment", "Q1 too low", "--note",
        "Commitments!D5: why below target?")
    done = cli("remind", plan, "--smtp", f"127.0.0.1:{port}", "--db", db, "--json")
    outcomes = {r["unit"]: r["outcome"] for r in json.loads(done.stdout)}
    assert outcomes == {"EAST": "reminded", "WEST": "reminded today"}
    body = inbox.messages[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "returned for changes" in body and "Q1 too low" in body
    assert "Commitments!D5: why below target?" in body
    assert sent_events(db) == [("WEST", "reminded"), ("EAST", "reminded")]


KILLED_SEND = """
import sys, time
from xlplan.season import distribute
ready, calls, original = sys.argv[1], [], distribute.deliver
def slow(smtp, outgoing, sender):
    calls.append(outgoing.unit)
    if len(calls) == 2:              # the first unit is sent and recorded
        open(ready, "w").close()
        time.sleep(60)
    return original(smtp, outgoing, sender)
distribute.deliver = slow
from xlplan.cli import main
sys.argv = ["xlplan", *sys.argv[2:]]
main()
"""


def test_a_send_killed_midway_resumes_with_what_was_not_sent(
        tmp_path: Path, season: dict[str, Path], smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    db, ready = tmp_path / "xlplan.duckdb", tmp_path / "ready"
    args = ["send", str(season["plan"]), "--build", str(season["build"]), "--smtp",
            f"127.0.0.1:{port}", "--db", str(db)]
    child = subprocess.Popen([sys.executable, "-c", KILLED_SEND, str(ready), *args])
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert sent_events(db) == [("EAST", "sent")] and len(inbox.messages) == 1
    cli("send", *args[1:])
    assert inbox.to() == ["Chen Jie <chen.jie@example.com>", "Liu Yang <liu.yang@example.com>"]
    assert sent_events(db) == [("EAST", "sent"), ("WEST", "sent")]


def test_a_chinese_reminder_gives_the_findings_in_chinese(tmp_path: Path) -> None:
    """A zh plan's reminder to a unit whose file is incomplete lists the findings in
    Chinese, each at its sheet as the workbook shows it (the history keeps their words)."""
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    for unit in data["units"]:
        if unit["code"] in EMAILS:
            unit["email"] = EMAILS[unit["code"]]
    data["workbooks"]["language"] = "zh"
    shutil.copy(SMALL.with_name("small-prior-year.csv"), tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    loaded = load_plan(plan)
    build_all(BuildContext(loaded, read_prior_year(loaded)), tmp_path / "build", workers=1)
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(tmp_path / "build" / "units" / "small-2027-EAST.xlsx", inbox / "EAST.xlsx")
    out = tmp_path / "out"
    os.environ["XLPLAN_TODAY"] = TODAY
    try:
        assert consolidate(plan, inbox, out, workers=1).units["EAST"] == "incomplete"
    finally:
        del os.environ["XLPLAN_TODAY"]
    cli("remind", plan, "--dry-run", tmp_path / "eml", "--db", out / "xlplan.duckdb")
    mail = email.message_from_bytes((tmp_path / "eml" / "EAST.eml").read_bytes(),
                                    policy=email.policy.default)
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "承诺!C5: 承诺：72 个单元格中有 72 个为空（第一个为 C5）；每个都应填写" in body, body
    assert "人员分解!F5: 人员分解：2 个单元格中有 2 个为空" in body, body
    assert str(mail["Subject"]).endswith("提醒（不完整）"), \
        mail["Subject"]  # the state in the subject is in the plan's language too
