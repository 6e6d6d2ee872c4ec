"""Commitment letters (目标承诺书): what a unit's letter commits it to, and its signature.

A letter is written for each approved unit (:mod:`xlplan.workbook.letter` writes it); the
manager types a name and a date into its two input cells, signs the printed letter and
sends the workbook back. Reading it back records a ``signed`` audit event.

What was signed is identified by the letter's *figures*: the numbers it commits the unit
to (the year's target and its months, each key result's and KPI's target), hashed. The
hash, not the plan's spec hash, decides whether a signature still holds: a revision of the
plan that leaves this unit's numbers alone (a new unit elsewhere, a changed deadline) does
not call for a new letter, and one that changes them does, which ``letter_states`` reports
as ``needs re-signing``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from xlplan.engine.numbers import PlanNumbers
from xlplan.engine.phasing import fiscal_months
from xlplan.i18n import LANGUAGES, Words, msg
from xlplan.season.audit import Event, now, operating_system_user, record

RECORD_SHEET = "LetterRecord"
LETTER_SHEET = msg("Letter")  # shown in the letter's language (信函 …); found by key
# the record's rows (B column); the sign-off cells' places move with the letter's length
RECORD_KEYS = ("kind", "plan", "unit", "spec_hash", "figures", "letter", "name_cell",
               "date_cell")
A1 = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")
KIND = "xlplan commitment letter"


class LetterError(ValueError):
    """A letter that cannot be read or recorded; the message names the file and cell."""


@dataclass(frozen=True)
class KeyResultLine:
    objective: str
    id: str
    text: str
    start: float
    target: float
    unit: str
    due: dt.date


@dataclass(frozen=True)
class KpiLine:
    code: str
    name: str
    perspective: str
    target: float
    unit: str


@dataclass(frozen=True)
class Figures:
    """Everything a unit's letter says, numbers in minor units (integers)."""

    plan_id: str
    plan_name: str
    year: int
    currency: str
    smallest_unit: Decimal
    unit: str
    unit_name: str
    manager: str
    target: int
    months: tuple[int, ...]
    month_labels: tuple[str, ...]
    krs: tuple[KeyResultLine, ...]
    kpis: tuple[KpiLine, ...]

    def major(self, minor: int) -> float:
        """Minor units as the money a cell shows (exact decimal, then the nearest float)."""
        return float(Decimal(int(minor)) * self.smallest_unit)

    @property
    def quarters(self) -> tuple[int, int, int, int]:
        m = self.months
        return (sum(m[0:3]), sum(m[3:6]), sum(m[6:9]), sum(m[9:12]))

    def fingerprint(self) -> str:
        """SHA-256 of the numbers the unit commits to (what a signature stands for)."""
        doc = {"unit": self.unit, "target": self.target, "months": list(self.months),
               "krs": [[k.id, k.start, k.target, k.due.isoformat()] for k in self.krs],
               "kpis": [[k.code, k.target] for k in self.kpis]}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    def letter_id(self) -> str:
        return f"{self.plan_id}-{self.unit}-{self.fingerprint()[:12]}"


def figures_of(numbers: PlanNumbers, unit: str) -> Figures:
    """The unit's letter figures from the plan's numbers (the same the workbooks show)."""
    plan = numbers.plan
    units = {u.code: u for u in plan.units}
    if unit not in units:
        raise LetterError(f"unknown unit {unit!r}")
    months = tuple(int(v) for v in numbers.months[unit])
    if sum(months) != numbers.targets[unit]:  # the engine's invariant, relied on by the letter
        raise AssertionError(f"{unit}: months sum to {sum(months)}, target "
                             f"{numbers.targets[unit]}")
    labels = tuple(f"{y}-{m:02d}" for y, m in fiscal_months(plan.fiscal_year, plan.first_month))
    krs = tuple(KeyResultLine(o.title, k.id, k.text, k.start, k.target, k.unit, k.due)
                for o in plan.okrs if o.unit == unit for k in o.krs)
    kpis = tuple(KpiLine(k.code, k.name, str(getattr(k.perspective, "value", k.perspective)),
                         k.target, k.unit) for k in plan.bsc.kpis)
    u = units[unit]
    return Figures(plan.id, plan.name, plan.fiscal_year, plan.currency.code,
                   plan.currency.smallest_unit, unit, u.name, u.manager,
                   int(numbers.targets[unit]), months, labels, krs, kpis)


def approved_units(con: duckdb.DuckDBPyConnection, plan_id: str, units: list[str]) -> list[str]:
    """The units (in ``units`` order) whose latest review decision is approval."""
    from xlplan.season.audit import has_trail

    if not has_trail(con):
        return []
    rows = con.execute("SELECT unit FROM review_state WHERE plan_id = ? AND action = 'approve'",
                       [plan_id]).fetchall()
    approved = {str(r[0]) for r in rows}
    return [u for u in units if u in approved]


# -- signed letters coming back --------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """What a signed letter says: its record and the two sign-off cells."""

    path: Path
    sha256: str
    record: dict[str, str]
    name: str
    signed_on: dt.date
    numbers: dict[str, tuple[Any, str | None]]  # Letter cell → (value, formula) as read
    date1904: bool = False


def excel_date(value: Any, date1904: bool) -> dt.date | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        base = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
        return base + dt.timedelta(days=int(value))
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def letter_sheet_names() -> list[str]:
    """The names the letter sheet shows in each language (a letter is read back whichever
    language it was written in)."""
    return [Words(language)(LETTER_SHEET) for language in LANGUAGES]


def read_signed(path: Path) -> Signature:
    """The record and sign-off cells of a returned letter, read by consolidation's bounded
    reader (zip checks, no DOCTYPE, cell limits): a letter comes from outside like any
    submission."""
    from xlplan.consolidate.package import Refused, open_package
    from xlplan.consolidate.run import file_sha256
    from xlplan.consolidate.xlsx import read_book

    try:
        package = open_package(path)
        try:
            book = read_book(package)
        finally:
            package.close()
    except Refused as exc:
        raise LetterError(f"{path}: cannot be read as a workbook ({exc})") from None
    sheet = book.sheets.get(RECORD_SHEET)
    shown = next((name for name in letter_sheet_names() if name in book.sheets), LETTER_SHEET)
    letter = book.sheets.get(shown)
    if sheet is None or letter is None:
        raise LetterError(f"{path}: not a commitment letter (no sheets {LETTER_SHEET!r} and "
                          f"{RECORD_SHEET!r})")
    record_: dict[str, str] = {}
    for row, key in enumerate(RECORD_KEYS, start=1):
        cell = sheet.cells.get(f"B{row}")
        record_[key] = "" if cell is None or cell.value is None else str(cell.value)
    if record_["kind"] != KIND:
        raise LetterError(f"{path}: sheet {RECORD_SHEET}!B1 should say {KIND!r}")
    name_cell, date_cell = record_["name_cell"], record_["date_cell"]
    for key in ("name_cell", "date_cell"):
        if not A1.match(record_[key]):
            row = RECORD_KEYS.index(key) + 1
            raise LetterError(f"{path}: sheet {RECORD_SHEET}, cell B{row}: expected a cell "
                              f"reference, found {record_[key]!r}")
    name_raw = letter.cells.get(name_cell)
    name = "" if name_raw is None or name_raw.value is None else str(name_raw.value).strip()
    if not name:
        raise LetterError(f"{path}: sheet {shown}, cell {name_cell}: expected the "
                          "signer's name, found nothing")
    date_raw = letter.cells.get(date_cell)
    day = excel_date(None if date_raw is None else date_raw.value, book.date1904)
    if day is None:
        raise LetterError(f"{path}: sheet {shown}, cell {date_cell}: expected the date "
                          f"signed, found {None if date_raw is None else date_raw.value!r}")
    numbers = {ref: (cell.value, cell.formula) for ref, cell in letter.cells.items()
               if cell.formula or isinstance(cell.value, float)}
    try:
        sha = file_sha256(path)
    except ValueError as exc:
        raise LetterError(f"{path}: {exc}") from None
    return Signature(path, sha, record_, name, day, numbers, book.date1904)


def record_signature(con: duckdb.DuckDBPyConnection, sig: Signature, plan_id: str,
                     current: Figures | None) -> str:
    """Append the ``signed`` event (once per file); what happened, in words.

    ``current``: the unit's figures in the plan as it is now, to say whether the signed
    letter is still the current one (a letter of replaced figures is recorded all the
    same: it was signed, and the status says it needs re-signing)."""
    if sig.record["plan"] != plan_id:
        raise LetterError(f"{sig.path}: a letter of plan {sig.record['plan']!r}, not {plan_id!r}")
    if current is None:
        raise LetterError(f"{sig.path}: unit {sig.record['unit']!r} is not in the plan")
    seen = con.execute("SELECT count(*) FROM audit_events WHERE plan_id = ? AND event = "
                       "'signed' AND sha256 = ?", [plan_id, sig.sha256]).fetchone()
    if seen and seen[0]:
        return "already recorded"
    up_to_date = sig.record["figures"] == current.fingerprint()
    record(con, Event("signed", plan_id, sig.name, sig.record["unit"], sig.sha256,
                      comment=f"signed on {sig.signed_on.isoformat()}",
                      detail={"letter": sig.record["letter"], "figures": sig.record["figures"],
                              "spec_hash": sig.record["spec_hash"],
                              "signed_on": sig.signed_on.isoformat(),
                              "file": sig.path.name, "recorded_by": operating_system_user()}),
           now())
    return "signed" if up_to_date else "signed (an out-of-date letter: needs re-signing)"


def letter_states(con: duckdb.DuckDBPyConnection, numbers: PlanNumbers, plan_id: str
                  ) -> list[dict[str, Any]]:
    """Each input unit's letter: ``not approved``, ``awaiting signature``, ``signed`` or
    ``needs re-signing`` (its latest signature is of other figures than the plan's now)."""
    from xlplan.season.audit import has_trail

    units = list(numbers.input_units)
    approved = set(approved_units(con, plan_id, units))
    signed: dict[str, dict[str, Any]] = {}
    if has_trail(con):
        for unit, actor, at, detail in con.execute(
                "SELECT unit, actor, happened_at, detail FROM audit_events WHERE plan_id = ? "
                "AND event = 'signed' ORDER BY seq", [plan_id]).fetchall():
            signed[str(unit)] = {"by": actor, "recorded": str(at), **json.loads(detail or "{}")}
    out = []
    for unit in units:
        figures = figures_of(numbers, unit)
        last = signed.get(unit)
        state = "not approved" if unit not in approved else "awaiting signature"
        if last is not None:
            state = "signed" if last.get("figures") == figures.fingerprint() \
                else "needs re-signing"
        out.append({"unit": unit, "state": state, "letter": figures.letter_id(),
                    "signed_by": (last or {}).get("by", ""),
                    "signed_on": (last or {}).get("signed_on", ""),
                    "signed_letter": (last or {}).get("letter", "")})
    return out
