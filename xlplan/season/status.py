"""Where each unit stands in the season: one set of statuses for ``xlplan status``, the
consolidated Tracker and ``--json``.

``not_sent``, ``sent`` (nothing received yet), ``submitted``, ``late`` (the first counted
file arrived after ``workbooks.deadline``), ``incomplete``, ``returned``,
``resubmitted`` (a new file after a return or a rejection), ``rejected`` (by a reviewer,
or every file refused by consolidation), ``approved``, ``missing`` (nothing received and
the deadline has passed). The ``late`` flag is true for the units that are late either
way: submitted after the deadline, or missing past it.

Derived, never stored: from the files the history holds (their decision and when xlplan
received them) and the audit trail (sends and reviews), so the status always agrees with
the record. "When" is xlplan's receipt of a file (its time on the filesystem as
consolidation read it), never a date the file claims.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

STATUSES = ("not_sent", "sent", "submitted", "late", "incomplete", "returned", "resubmitted",
            "rejected", "approved", "missing")
NEEDS_REMINDER = ("late", "missing", "incomplete", "returned")
COUNTED = ("accepted", "warnings")
COLUMNS = ["season", "late", "sent", "first_submitted", "last_submitted", "reviewed",
           "reviewed_by", "approved", "approved_by", "comment", "after_approval"]


def _when(row: Any) -> dt.datetime | None:
    for key in ("received", "seen_at"):
        value = row.get(key)
        if value is not None and not pd.isna(value):
            return pd.Timestamp(value).to_pydatetime()
    return None


def _day(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def unit_status(files: list[dict[Any, Any]], events: list[dict[Any, Any]], counted: str,
                deadline: dt.date | None, today: dt.date) -> dict[str, Any]:
    """One unit's status and dates. ``files``: its stored submissions (``status``,
    ``sha256``, ``received``/``seen_at``); ``events``: its audit events in order;
    ``counted``: the SHA-256 of the file that counts now ('' if none)."""
    past_deadline = deadline is not None and today > deadline
    received_seq = {}
    for e in events:
        if e["event"] == "received" and e["sha256"] not in received_seq:
            received_seq[e["sha256"]] = int(e["seq"])
    sent = next((e for e in events if e["event"] == "sent"), None)
    reviews = [e for e in events if e["event"] in ("reviewed", "reopened")]
    last = reviews[-1] if reviews else None
    approval = next((e for e in reversed(reviews) if e["action"] == "approve"), None)
    times = [t for t in (_when(f) for f in files) if t]
    good = sorted(t for t in (_when(f) for f in files if f["status"] in COUNTED) if t)
    late_file = bool(good and deadline is not None and good[0].date() > deadline)
    out: dict[str, Any] = {
        "late": late_file or (not files and past_deadline),
        "sent": _day(pd.Timestamp(sent["happened_at"]).to_pydatetime()) if sent else "",
        "first_submitted": _day(min(times)) if times else "",
        "last_submitted": _day(max(times)) if times else "",
        "reviewed": _day(pd.Timestamp(last["happened_at"]).to_pydatetime()) if last else "",
        "reviewed_by": last["actor"] if last else "",
        "approved": "", "approved_by": "", "comment": (last or {}).get("comment") or "",
        "after_approval": 0,
    }
    if not files:
        out["season"] = "missing" if past_deadline else "sent" if sent else "not_sent"
        return out
    if last is not None and last["action"] == "approve":
        assert approval is not None
        out["approved"] = _day(pd.Timestamp(approval["happened_at"]).to_pydatetime())
        out["approved_by"] = approval["actor"]
        out["after_approval"] = sum(1 for seq in received_seq.values() if seq > last["seq"])
        out["season"] = "approved"
        return out
    if last is not None and last["action"] in ("return", "reject"):
        newer = [f for f in files if received_seq.get(f["sha256"], 0) > last["seq"]]
        if any(f["status"] in COUNTED for f in newer):
            out["season"] = "resubmitted"
        elif any(f["status"] == "incomplete" for f in newer):
            out["season"] = "incomplete"
        else:
            out["season"] = "returned" if last["action"] == "return" else "rejected"
        return out
    if counted:
        out["season"] = "late" if late_file else "submitted"
    elif any(f["status"] == "incomplete" for f in files):
        out["season"] = "incomplete"
    else:
        out["season"] = "rejected"
    return out


def season_frame(units: list[str], subs: pd.DataFrame, events: pd.DataFrame,
                 deadline: dt.date | None, today: dt.date) -> pd.DataFrame:
    """One row per unit (in ``units`` order): ``unit`` and :data:`COLUMNS`."""
    files_by = {str(u): g.to_dict("records") for u, g in subs.groupby("unit", sort=False)} \
        if len(subs) else {}
    events_by = {str(u): g.to_dict("records") for u, g in events.groupby("unit", sort=False)} \
        if len(events) else {}
    rows = []
    for unit in units:
        files = files_by.get(unit, [])
        counted = next((str(f["sha256"]) for f in files if f.get("counts")), "")
        rows.append({"unit": unit, **unit_status(files, events_by.get(unit, []), counted,
                                                 deadline, today)})
    return pd.DataFrame(rows, columns=["unit", *COLUMNS])


def with_season(tracker: pd.DataFrame, subs: pd.DataFrame, events: pd.DataFrame,
                deadline: dt.date | None, today: dt.date) -> pd.DataFrame:
    """The tracker with each unit's season status and dates beside its file decision."""
    if tracker.empty:
        return tracker
    season = season_frame([str(u) for u in tracker["unit"]], subs, events, deadline, today)
    return tracker.merge(season, on="unit", how="left")


def today() -> dt.date:
    """The date the season is judged at: $XLPLAN_TODAY (YYYY-MM-DD, for rehearsals and
    tests) or the computer's date."""
    import os

    given = os.environ.get("XLPLAN_TODAY", "").strip()
    if not given:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(given)
    except ValueError:
        raise ValueError(f"XLPLAN_TODAY={given!r}: expected a date as YYYY-MM-DD") from None


def annotate(con: Any, tracker: pd.DataFrame, subs: pd.DataFrame, plan_id: str,
             deadline: dt.date | None, on: dt.date | None = None) -> pd.DataFrame:
    """:func:`with_season` over the plan's audit trail in ``con``."""
    from xlplan.season import audit

    return with_season(tracker, subs, audit.log(con, plan_id), deadline, on or today())
