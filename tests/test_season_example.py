"""The whole season on the example plan (a copy, with each region's manager's address and where
to submit) in its own Chinese, against a real SMTP server on 127.0.0.1: build, send, four
regions submit before the deadline and three after, two never do; one is returned with two
cell notes, reissued and resubmitted; all but one of the submitted regions are approved; the
reminder goes to exactly the late and missing regions; a file sent after approval does not
replace the approved one; ``status --json`` and ``log --json`` say all of it, every event in
order; the approved regions get their commitment letters."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from conftest import EXAMPLE
from test_season_mail import Inbox, smtp  # noqa: F401  (the SMTP server fixture)
from test_season_review import _sha256
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.consolidate.run import consolidate
from xlplan.engine.numbers import PlanNumbers
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import build_unit, unit_path
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample

runner = CliRunner()
TODAY = "2026-12-20"
DEADLINE = dt.date(2026, 12, 15)


def cli(*args: Any) -> Any:
    result = runner.invoke(app, [str(a) for a in args], env={"XLPLAN_TODAY": TODAY})
    assert result.exit_code == 0, result.output + str(result.exception)
    return result


def deliver(inbox: Path, src: Path, day: str, name: str | None = None) -> Path:
    """Put a file in the inbox as xlplan received it on ``day`` (its filesystem time)."""
    inbox.mkdir(exist_ok=True)
    dst = inbox / (name or src.name)
    shutil.copyfile(src, dst)
    stamp = dt.datetime.fromisoformat(f"{day}T10:00:00+00:00").timestamp()
    os.utime(dst, (stamp, stamp))
    return dst


def address(unit: str) -> str:
    return f"{unit.lower()}@huaxin.example"


@pytest.mark.slow
def test_a_season_on_the_example_plan(tmp_path: Path, smtp: tuple[Inbox, int],  # noqa: F811
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPLAN_TODAY", TODAY)
    mail, port = smtp
    server = f"127.0.0.1:{port}"
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    plan = tmp_path / "plan.yaml"
    shutil.copy(EXAMPLE.with_name(data["prior_year"]["file"]), tmp_path)
    loaded = load_plan(EXAMPLE)
    regions = list(PlanNumbers(loaded.plan, read_prior_year(loaded)).input_units)
    assert len(regions) >= 6  # nine today: half of those who submit on time, two never
    for unit in data["units"]:
        if unit["code"] in regions:
            unit["email"] = address(unit["code"])
    data["workbooks"]["submit_to"] = "plans@huaxin.example"
    data["workbooks"]["deadline"] = DEADLINE
    assert data["workbooks"]["language"] == "zh"  # the season runs in the plan's Chinese
    plan.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    loaded = load_plan(plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    build, inbox, out = tmp_path / "build", tmp_path / "inbox", tmp_path / "out"
    db = out / "xlplan.duckdb"
    (build / "units").mkdir(parents=True)
    for unit in regions:  # the regions' workbooks (the master is not sent)
        build_unit(ctx, build, unit)
    expected: list[tuple[str, str | None, str]] = []  # (event, action, unit) of the trail

    # send: one message a region, its own workbook attached
    cli("send", plan, "--build", build, "--smtp", server, "--db", db)
    assert mail.to() == sorted(f"{m} <{address(u)}>" for u, m in
                               ((u.code, u.manager) for u in loaded.plan.units)
                               if u in regions)
    for msg in mail.messages:
        unit = next(u for u in regions if address(u) in str(msg["To"]))
        (part,) = [p for p in msg.iter_attachments()]
        assert part.get_payload(decode=True) == unit_path(build, ctx, unit).read_bytes()
        assert re.search("[\u4e00-\u9fff]", str(msg["Subject"])), msg["Subject"]  # zh
    expected += [("sent", None, u) for u in regions]

    # four on time, three late, two never (of the nine regions)
    k = len(regions) - 2
    on_time, late, missing = regions[:(k + 1) // 2], regions[(k + 1) // 2:k], regions[k:]
    filled = {u: fill_sample(unit_path(build, ctx, u), tmp_path / "filled" / f"{u}.xlsx",
                             seed=i, plan_path=plan).workbook
              for i, u in enumerate(on_time + late)}
    for u in on_time:
        deliver(inbox, filled[u], "2026-12-10")
    for u in late:
        deliver(inbox, filled[u], "2026-12-18")
    consolidate(plan, inbox, out, workers=1)
    trail = events(plan, db)
    arrivals = trail[len(expected):]
    assert sorted(e["unit"] for e in arrivals if e["event"] == "received") == \
        sorted(on_time + late)
    assert all(a["event"] == "received" and b["event"] == "decided" and a["unit"] == b["unit"]
               and b["action"] in ("accepted", "warnings")
               for a, b in zip(arrivals[::2], arrivals[1::2], strict=True))
    expected += [(e["event"], e["action"], e["unit"]) for e in arrivals]
    s = statuses(plan, db)
    assert {u: (s[u]["season"], s[u]["late"]) for u in regions} == {
        **{u: ("submitted", False) for u in on_time}, **{u: ("late", True) for u in late},
        **{u: ("missing", True) for u in missing}}

    # one returned with two cell notes, reissued with them, sent back as it is
    back = on_time[1]
    cli("review", plan, back, "return", "--db", db, "--by", "Li Na", "--comment",
        "Q1 below last year", "--note", "承诺!D5: why below target?",
        "--note", "承诺!E5: check the channel")
    expected.append(("reviewed", "return", back))
    assert statuses(plan, db)[back]["season"] == "returned"
    cli("reissue", plan, "-o", tmp_path / "again", "--db", db, "--units", back)
    (reissued,) = (tmp_path / "again").rglob(f"*{back}*.xlsx")
    book = openpyxl.load_workbook(reissued, read_only=True)
    assert book.sheetnames[0] == "填写说明" and "变更说明" in book.sheetnames
    book.close()
    deliver(inbox, reissued, "2026-12-19", f"{back}-again.xlsx")
    consolidate(plan, inbox, out, workers=1)
    expected += [("received", None, back), ("decided", "accepted", back)]
    assert statuses(plan, db)[back]["season"] == "resubmitted"

    # all but one of the submitted regions approved
    waiting = late[-1]
    approved = [u for u in on_time + late if u != waiting]
    for u in approved:
        cli("review", plan, u, "approve", "--db", db, "--by", "Chen Guoqiang")
    expected += [("reviewed", "approve", u) for u in approved]

    # the reminder: exactly the late and the missing regions (returned: none left)
    mail.messages.clear()
    cli("remind", plan, "--smtp", server, "--db", db)
    owing = [waiting, *missing]
    assert sorted(str(m["To"]).rsplit("<", 1)[1].rstrip(">") for m in mail.messages) == \
        sorted(address(u) for u in owing)
    expected += [("reminded", None, u) for u in owing]

    # a file after approval is kept but does not replace the approved one
    first = on_time[0]
    newer = fill_sample(unit_path(build, ctx, first), tmp_path / "filled" / f"{first}-2.xlsx",
                        seed=99, plan_path=plan).workbook
    deliver(inbox, newer, "2026-12-20")
    consolidate(plan, inbox, out, workers=1)
    expected += [("received", None, first), ("decided", "accepted", first)]
    s = statuses(plan, db)
    assert (s[first]["season"], s[first]["after_approval"]) == ("approved", 1)
    assert s[first]["approved_by"] == "Chen Guoqiang"
    assert {u: s[u]["season"] for u in regions} == {
        **{u: "approved" for u in approved}, waiting: "late",
        **{u: "missing" for u in missing}}

    trail = events(plan, db)
    assert [e["seq"] for e in trail] == list(range(1, len(trail) + 1))
    said = [(e["event"], e["action"], e["unit"]) for e in trail]
    accepted = {"warnings": "accepted"}  # a sample file may carry warnings: still counted
    assert [(e, accepted.get(a or "", a), u) for e, a, u in said] == expected
    returned = next(e for e in trail if e["event"] == "reviewed")
    assert returned["notes"] == ["承诺!D5: why below target?", "承诺!E5: check the channel"]
    assert trail[-2]["comment"].startswith("received after approval")
    assert trail[-2]["sha256"] == _sha256(inbox / newer.name)

    # the approved regions' commitment letters
    doc = json.loads(cli("letters", plan, "--db", db, "-o", tmp_path / "letters", "--no-pdf",
                         "--json").stdout)
    assert [w["unit"] for w in doc["written"]] == [u for u in regions if u in approved]


def statuses(plan: Path, db: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(cli("status", plan, "--db", db, "--json").stdout)
    return {u["unit"]: u for u in doc["units"]}


def events(plan: Path, db: Path) -> list[dict[str, Any]]:
    return list(json.loads(cli("log", plan, "--db", db, "--json").stdout)["events"])
