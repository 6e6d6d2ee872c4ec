"""Reissue: the current revision's unit workbooks with each unit's inputs already in.

When the plan changes mid-season, a manager should not type 800 cells again. For
every unit, the inputs of the last file xlplan accepted from it (under whichever
revision) are mapped by key onto the current template (see
:mod:`xlplan.consolidate.carry`) and the workbook is built with them filled in. A unit
with nothing accepted gets a fresh workbook.

A reissued workbook also has a ``Changes`` sheet listing what changed for that unit
since the workbook it last sent: the plan revision's summary, its annual target, input
rules that changed, rows added and rows dropped. The sheet is written after the
manifest, so it is no part of the template (consolidation ignores it): the template
stays what the plan alone gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from xlplan.consolidate import revisions
from xlplan.consolidate.carry import Revisions, carry, gone_rows, key_of, keyed
from xlplan.consolidate.examine import NOTES_SHEET, template_manifest
from xlplan.i18n import Data, Msg, Words, data, msg
from xlplan.season.returned import Returned, returned, write_review
from xlplan.workbook.book import Book, Value
from xlplan.workbook.build import Built, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import InputRule
from xlplan.workbook.sheets import shown_in

CHANGES_SHEET = NOTES_SHEET
ENGLISH = Words("en")


@dataclass(frozen=True)
class LastSent:
    """The last accepted file of a unit and its inputs (old template cells)."""

    unit: str
    sha256: str
    path: str
    spec_hash: str  # the revision it counted under
    built_from: str  # the revision it was built from
    values: dict[tuple[str, str], Value]
    inputs: list[dict[str, Any]]  # sheet, cell, item, period of each fact


def last_sent(con: duckdb.DuckDBPyConnection, plan_id: str) -> dict[str, LastSent]:
    """unit → its last accepted submission (by xlplan's arrival order, any revision)."""
    rows = con.execute("""
        SELECT unit, arg_max(sha256, arrival), arg_max(spec_hash, arrival),
               arg_max(path, arrival), arg_max(coalesce(built_from, spec_hash), arrival)
        FROM submissions WHERE plan_id=? AND status IN ('accepted', 'warnings')
          AND unit IS NOT NULL GROUP BY unit""", [plan_id]).fetchall()
    out = {}
    for unit, sha, spec, path, built_from in rows:
        facts = con.execute("SELECT sheet, cell, item, period, value_num, value_text FROM facts "
                            "WHERE plan_id=? AND spec_hash=? AND sha256=?",
                            [plan_id, spec, sha]).fetchall()
        values: dict[tuple[str, str], Value] = {}
        inputs = []
        for sheet, cell, item, period, num, txt in facts:
            values[(sheet, cell)] = num if num is not None else txt
            inputs.append({"sheet": sheet, "cell": cell, "item": item, "period": period})
        out[str(unit)] = LastSent(str(unit), sha, path, spec, built_from, values, inputs)
    return out


def typed(value: Value, rule: InputRule) -> Value:
    """A stored fact as the input cell takes it (dates were stored as ISO text)."""
    if rule.kind == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if rule.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Reissued:
    unit: str
    built: Built
    carried: int  # inputs filled in
    from_file: str = ""  # the file they came from ("" when the unit sent nothing)
    not_carried: list[str] = field(default_factory=list)  # why, per input left out
    changes: list[Msg] = field(default_factory=list)  # the Changes sheet's lines

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "path": str(self.built.path), "carried": self.carried,
                "from": self.from_file or None, "not_carried": self.not_carried,
                "changes": [ENGLISH(line) for line in self.changes]}


def reissue(ctx: BuildContext, con: duckdb.DuckDBPyConnection, out_dir: Path,
            units: list[str] | None = None,
            progress: Callable[[str], None] | None = None) -> list[Reissued]:
    """Write the current workbooks of ``units`` (default: every input unit) into
    ``out_dir``/units with their last accepted inputs filled in."""
    chosen = units if units is not None else ctx.input_units
    unknown = [u for u in chosen if u not in ctx.input_units]
    if unknown:
        raise ValueError(f"not units that fill a workbook: {', '.join(unknown)} "
                         f"(these do: {', '.join(ctx.input_units)})")
    sent = last_sent(con, ctx.plan.id)
    older = Revisions(revisions.stored(con, ctx.plan.id), ctx.loaded.path)
    done = []
    for unit in chosen:
        current = template_manifest(ctx, unit).inputs
        last = sent.get(unit)
        if last is None:
            done.append(Reissued(unit, build_unit(ctx, out_dir, unit), 0))
        else:
            done.append(_with_inputs(ctx, out_dir, unit, current, last, older,
                                     returned(con, ctx.plan.id, unit)))
        if progress:
            progress(unit)
    return done


def _with_inputs(ctx: BuildContext, out_dir: Path, unit: str, current: list[dict[str, Any]],
                 last: LastSent, older: Revisions, review: Returned | None = None
                 ) -> Reissued:
    """The unit's workbook with its inputs carried; a returned unit's also carries the
    reviewer's comment and cell notes (:mod:`xlplan.season.returned`)."""
    rules = {key_of(unit, s): InputRule.from_json(s["rule"]) for s in current}
    words = Words(ctx.plan.workbooks.language)
    inputs = []  # the last file's inputs, on its sheets as this workbook names them
    values = {}  # as the current template's cells take them (a date was stored as text)
    for spec in last.inputs:
        here = {**spec, "sheet": shown_in(words, spec["sheet"])}
        value = last.values[(spec["sheet"], spec["cell"])]
        rule = rules.get(key_of(unit, here))
        values[(here["sheet"], here["cell"])] = typed(value, rule) if rule else value
        inputs.append(here)
    carried = carry(unit, inputs, values, current, ctx.plan)
    fill = carried.values
    not_carried = [f"{g[0].old['item']}: {g[0].why}" for g in gone_rows(carried.gone)]
    not_carried += [f"{f.new['item']} {f.new['period']}: {f.problem}" for f in carried.failing]
    lines = changes_since(ctx, unit, last, current, older)

    def after(book: Book) -> None:
        write_changes(book, ctx, unit, lines)
        if review is not None:
            write_review(book, review)

    built = build_unit(ctx, out_dir, unit, fill=fill, after=after)
    return Reissued(unit, built, len(fill), last.path, not_carried, lines)


def changes_since(ctx: BuildContext, unit: str, last: LastSent, current: list[dict[str, Any]],
                  older: Revisions) -> list[Msg]:
    """What changed for ``unit`` between the revision its last file was built from and the
    current one, in lines a manager reads (catalog messages: the workbook's language)."""
    if last.built_from == ctx.loaded.spec_hash:
        return [msg("The plan has not changed since the workbook you last sent: your inputs "
                    "are filled in as you sent them.")]
    record = older.stored.get(last.built_from)
    if record is None:
        return [msg("The plan changed since the workbook you last sent (xlplan has no record "
                    "of that revision, so the changes cannot be listed).")]
    before = older.context(last.built_from)
    plan = revisions.changed(record["text"], _current_text(ctx))
    lines = [msg("What changed in the plan:")]
    lines += [msg("  · {change}", change=c) for c in plan[:revisions.SHOWN]]
    if len(plan) > revisions.SHOWN:
        lines.append(msg("  · and {count} more", count=len(plan) - revisions.SHOWN))
    if not plan:
        lines.append(msg("  · {change}", change=revisions.NO_VALUE_CHANGED))
    old_target = before.targets.get(unit)
    new_target = ctx.targets[unit]
    if old_target != new_target:
        shown: Msg | Data = msg("none") if old_target is None else data(
            f"{before.money(old_target):,.2f}")
        lines.append(msg("Your annual target: {old} → {new}", old=shown,
                         new=data(f"{ctx.money(new_target):,.2f}")))
    old_inputs = template_manifest(before, unit).inputs
    old_keyed, new_keyed = keyed(unit, old_inputs), keyed(unit, current)
    rules = sorted({s["item"] for k, s in new_keyed.items()
                    if k in old_keyed and old_keyed[k]["rule"] != s["rule"]})
    if rules:
        lines.append(msg("Input rules changed for: {items}", items=_listed(rules, 10)))
    added = sorted({s["item"] for k, s in new_keyed.items() if k not in old_keyed})
    if added:
        lines.append(msg("New rows to fill in: {items}", items=_listed(added, 20)))
    dropped = sorted({s["item"] for k, s in old_keyed.items() if k not in new_keyed})
    if dropped:
        lines.append(msg("Rows no longer in the plan (your entries there were not carried): "
                         "{items}", items=_listed(dropped, 20)))
    return lines


def _listed(items: list[str], most: int) -> Msg | Data:
    """Row names (plan data) joined, past ``most`` with "and N more"."""
    shown = data(", ".join(items[:most]))
    if len(items) <= most:
        return shown
    return msg("{items} and {count} more", items=shown, count=len(items) - most)


def _current_text(ctx: BuildContext) -> str:
    path = ctx.loaded.path
    return Path(path).read_text(encoding="utf-8") if path else ""


def write_changes(book: Book, ctx: BuildContext, unit: str, lines: list[Msg]) -> None:
    """The Changes sheet (after the manifest: no part of the template), shown on opening,
    in the workbook's language."""
    ws = book.wb.add_worksheet(book.words(CHANGES_SHEET))
    styles, words = book.styles, book.words
    ws.set_column(0, 0, 120)
    ws.write_string(0, 0, words(msg("What changed for {unit} since the workbook you last sent",
                                    unit=data(unit))), styles["title"])
    ws.write_string(1, 0, words(msg("Your inputs from that workbook are filled in; check the "
                                    "rows below, then send the workbook back as before.")),
                    styles["subtitle"])
    for i, line in enumerate(lines):
        ws.write_string(3 + i, 0, words(line), styles["wrap"])
    ws.protect(book.password)
    ws.activate()
