"""Examine one submitted file: what it is, whose it is, whether it is intact, what it says.

The manifest says which plan and unit a workbook claims to be; everything else
is checked against a dry run of the build for that unit with the submission's
own inputs (:func:`xlplan.workbook.build.predict_unit`), not against what the
manifest claims, so an edited manifest cannot vouch for an edited sheet:

- every locked cell (label, given number, formula) must be what the template
  has, at the same address (a changed label, a number over a formula, an
  inserted row, a renamed sheet all show here, each with its sheet and cell);
- every input must pass its rule (the one the workbook's validation used, from the
  template: the manifest's copy is only compared with it); an input holding a formula
  counts at the result xlplan computes, never at the value the file saved for it;
- every formula's cached value must be what the engine computes from the
  inputs (a difference means manual calculation or a stale file).

Runs in a reader process (see :mod:`xlplan.consolidate.workers`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlplan import TEMPLATE_VERSION
from xlplan.consolidate.carry import Revisions, carry, gone_rows
from xlplan.consolidate.formula_meaning import same_formula
from xlplan.consolidate.input_formula import RefusedFormula, evaluate
from xlplan.consolidate.package import CODE, Limits, Package, Refused, open_package
from xlplan.consolidate.xlsx import RawBook, RawCell, RawSheet, cell_position, events
from xlplan.i18n import LANGUAGES, Data, Msg, Words, data, msg
from xlplan.lru import Recent
from xlplan.workbook.book import Value, normalise
from xlplan.workbook.build import TEMPLATES_KEPT, context_in, predict_unit
from xlplan.workbook.completeness import Rule, cells_of, rules_for, unmet
from xlplan.workbook.completeness import setting as completeness_setting
from xlplan.workbook.context import BuildContext
from xlplan.workbook.input_rules import InputRule
from xlplan.workbook.manifest import SHEET as MANIFEST_SHEET
from xlplan.workbook.manifest import Manifest, join_chunks, manifest_of

Level = Literal["error", "incomplete", "warning"]
NOTES_SHEET = msg("Changes")  # what xlplan reissue lists for the manager: no template part
Status = Literal["accepted", "warnings", "incomplete", "rejected"]
SHOWN = 5  # differing cells named per sheet and kind before "and N more"


def where(sheet: str, cell: str) -> str:
    """How a finding names its place: ``sheet!cell``, the sheet alone, or nothing."""
    return f"{sheet}!{cell}" if sheet and cell else sheet


ENGLISH = Words("en")


@dataclass(frozen=True)
class Finding:
    """What consolidation found in a file. ``message`` is the English text (what the CLI
    prints, ``--json`` gives and the history's ``message`` column keeps); ``words`` is the
    same as a catalog message (:class:`~xlplan.i18n.Msg`), which a workbook shows in its
    language. A text made by no catalog message (a library's error) is kept as data."""

    level: Level
    sheet: str
    cell: str
    message: str
    words: Msg | Data | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.words is None:
            object.__setattr__(self, "words", data(self.message))

    @classmethod
    def of(cls, level: Level, words: str, sheet: str = "", cell: str = "") -> Finding:
        """A finding from its words: a message (shown in English as ``message``), or any
        text, kept as it is."""
        kept = words if isinstance(words, Msg | Data) else data(words)
        return cls(level, sheet, cell, ENGLISH(kept), kept)

    def where(self) -> str:
        return where(self.sheet, self.cell)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "sheet": self.sheet, "cell": self.cell,
                "message": self.message, "words": self.words}


@dataclass(frozen=True)
class Fact:
    """One accepted input: what the manager typed, where, and what it means."""

    sheet: str
    cell: str
    item: str
    period: str
    number: float | None
    text: str | None


@dataclass
class Examination:
    path: Path
    plan_id: str = ""
    unit: str = ""
    modified: str = ""  # when the file was last saved (docProps/core.xml), ISO
    built_from: str = ""  # the spec hash of the plan revision its manifest names
    findings: list[Finding] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    seconds: float = 0.0  # time the examination took (the reader's own clock)

    @property
    def status(self) -> Status:
        if any(f.level == "error" for f in self.findings):
            return "rejected"
        if any(f.level == "incomplete" for f in self.findings):
            return "incomplete"
        return "warnings" if self.findings else "accepted"

    def error(self, words: str, sheet: str = "", cell: str = "") -> None:
        """An error: ``words`` a catalog message (or, from a library, plain text)."""
        self.findings.append(Finding.of("error", words, sheet, cell))

    def warn(self, words: str, sheet: str = "", cell: str = "") -> None:
        self.findings.append(Finding.of("warning", words, sheet, cell))


Stage = Callable[[str, "Examination"], None]  # told what is being done, and by whom


def examine(path: Path, ctx: BuildContext, limits: Limits | None = None,
            older: Revisions | None = None, stage: Stage | None = None) -> Examination:
    """Everything consolidation needs to decide on one file. Never raises for bad files.
    ``older``: the plan's earlier revisions, whose workbooks are carried over (see
    :mod:`xlplan.consolidate.carry`); without them such a workbook is refused.
    ``stage`` is told each step (and the unit, once the manifest says it), so that a
    reader process stopped for its time or memory can say where it was."""
    started = time.perf_counter()
    result = Examination(path)
    stage = stage or (lambda _what, _result: None)
    stage("reading the zip", result)
    try:
        package = open_package(path, limits)
    except Refused as exc:
        result.error(refusal(exc))
        result.seconds = time.perf_counter() - started
        return result
    try:
        _examine_package(package, ctx, result, stage, older)
    except Refused as exc:
        result.error(refusal(exc))
    finally:
        package.close()
    result.seconds = time.perf_counter() - started
    return result


def refusal(exc: Refused) -> str:
    """A refusal's words: the catalog message it was raised with, else its text."""
    words = exc.args[0] if exc.args else ""
    return words if isinstance(words, Msg | Data) else str(exc)


def _examine_package(package: Package, ctx: BuildContext, result: Examination,
                     stage: Stage, older: Revisions | None = None) -> None:
    from xlplan.consolidate.xlsx import read_book

    for what in package.flags:
        if what in CODE:
            result.error(msg("the workbook carries {what}: never run, never opened by xlplan; "
                             "send the macro-free .xlsx (the Submit macro saves one)", what=what))
        else:
            result.warn(msg("the workbook carries {what}: never run, never opened by xlplan",
                            what=what))
    result.modified = _modified(package)
    book = read_book(package, lambda what: stage(what, result))
    for sheet, cell, message in book.problems:
        result.error(message, sheet, cell)
    for raw in book.sheets.values():
        for cell, message in raw.problems:
            result.error(message, raw.name, cell)
    manifest = _manifest(book, result)
    if manifest is None:
        return
    result.built_from = manifest.spec_hash
    source = _revision(manifest, ctx, older, result, stage)
    if source is None or not _identity(manifest, ctx, source, package.path, result):
        return
    stage("comparing with the template" if source is ctx else
          "comparing with the template of the plan revision it was built from", result)
    # predicted in the language it was built in: a zh and an en book consolidate together
    language = manifest.language
    values = _check_against_plan(book, manifest, context_in(source, language), result)
    if source is not ctx and values is not None and result.status != "rejected":
        stage("carrying its inputs onto the current template", result)
        _carry_over(manifest.unit, context_in(source, language), context_in(ctx, language),
                    values, result)


def _modified(package: Package) -> str:
    """dcterms:modified from docProps/core.xml (Excel sets it on every save)."""
    part = "docProps/core.xml"
    if not package.has(part):
        return ""
    with package.open(part) as stream:
        for event, elem in events(stream, part):
            if event == "end" and str(elem.tag).endswith("}modified"):
                return (elem.text or "").strip()
    return ""


def _manifest(book: RawBook, result: Examination) -> Manifest | None:
    sheet = book.sheets.get(MANIFEST_SHEET)
    if sheet is None:
        result.error(msg("not a workbook built by xlplan: the hidden sheet {sheet} (its "
                         "manifest) is missing", sheet=data(MANIFEST_SHEET)))
        return None
    try:
        manifest = manifest_from(sheet)
    except (KeyError, ValueError, TypeError) as exc:
        result.error(msg("the manifest is damaged ({problem})",
                         problem=data(f"{type(exc).__name__}: {exc}")), MANIFEST_SHEET)
        return None
    if sheet.state != "veryHidden":
        result.warn(msg("the manifest sheet is {state} (xlplan writes it very hidden)",
                        state=data(sheet.state)), MANIFEST_SHEET)
    return manifest


def manifest_from(sheet: RawSheet) -> Manifest:
    """The manifest in the key/value columns A:B of the manifest sheet (KeyError,
    ValueError when damaged)."""
    rows: dict[int, dict[str, Any]] = {}
    for ref, cell in sheet.cells.items():
        col = ref.rstrip("0123456789")
        row = int(ref[len(col):])
        if col in ("A", "B") and row > 1:
            rows.setdefault(row, {})[col] = cell.value
    pairs = [(str(r.get("A") or ""), str(r.get("B") or "")) for _, r in sorted(rows.items())]
    return Manifest.from_rows(join_chunks([p for p in pairs if p[0]]))


def _revision(manifest: Manifest, ctx: BuildContext, older: Revisions | None,
              result: Examination, stage: Stage) -> BuildContext | None:
    """The build context of the revision the file was built from: the current plan's, or
    an earlier revision's rebuilt from the history's record. None (with the reason) when
    xlplan has no record of that revision."""
    if manifest.spec_hash == ctx.loaded.spec_hash or manifest.plan_id != ctx.plan.id:
        return ctx  # another plan's file is refused by _identity
    if older is None or manifest.spec_hash not in older:
        result.error(msg("built from another version of the plan (spec hash {built}…, the "
                         "plan now has {now}…) of which this history has no record (xlplan "
                         "build --db or a consolidation records each revision): rebuild and "
                         "resend this unit's workbook", built=data(manifest.spec_hash[:12]),
                         now=data(ctx.loaded.spec_hash[:12])), MANIFEST_SHEET)
        return None
    stage("rebuilding the plan revision it was built from", result)
    try:
        return older.context(manifest.spec_hash)
    except Exception as exc:  # a stored revision that no longer loads is a finding
        result.error(msg("could not rebuild revision {built}… of the plan, which this "
                         "workbook was built from ({problem})",
                         built=data(manifest.spec_hash[:12]), problem=data(exc)),
                     MANIFEST_SHEET)
        return None


def _identity(manifest: Manifest, ctx: BuildContext, source: BuildContext, path: Path,
              result: Examination) -> bool:
    """Right plan and template; a unit that fills a workbook in the revision it was built
    from and still does in the current one. False: stop here."""
    plan = ctx.plan
    result.plan_id, result.unit = manifest.plan_id, manifest.unit
    if manifest.plan_id != plan.id:
        result.error(msg("belongs to plan {claimed}, not {plan}",
                         claimed=data(repr(manifest.plan_id)), plan=data(repr(plan.id))),
                     MANIFEST_SHEET)
        return False
    if not manifest.unit:
        result.error(msg("this is the master workbook, not a unit's submission"),
                     MANIFEST_SHEET)
        return False
    if source is not ctx and manifest.unit in source.input_units and \
            manifest.unit not in ctx.input_units:
        result.error(msg("unit {unit} is no longer in the plan (the revision this workbook "
                         "was built from had it; its earlier submissions stay in the history)",
                         unit=data(repr(manifest.unit))), MANIFEST_SHEET)
        return False
    if manifest.unit not in source.input_units:
        result.error(msg("unit {unit} does not fill a workbook in this plan (these do: "
                         "{units})", unit=data(repr(manifest.unit)),
                         units=data(", ".join(ctx.input_units))), MANIFEST_SHEET)
        return False
    if manifest.template_version != TEMPLATE_VERSION:
        result.error(msg("built with template version {built}, this xlplan reads {reads}: "
                         "send a workbook from the current build",
                         built=data(manifest.template_version), reads=data(TEMPLATE_VERSION)),
                     MANIFEST_SHEET)
        return False
    named = units_named(path.name, ctx.input_units)
    if named and manifest.unit not in named:
        result.warn(msg("the file name says {named} but the workbook is {unit}'s (filed "
                        "under its manifest's unit)", named=data(named[0]),
                        unit=data(manifest.unit)))
    return True


def units_named(file_name: str, units: Sequence[str]) -> list[str]:
    """The units whose code the file name holds as a word: after its start or ``-``, ``_``
    or a space, and before ``-``, ``_``, a space, ``.`` or its end (``plan-R-007.xlsx``
    names R-007, not R-00). In the order of ``units``.

    Every piece of the name between such boundaries is looked up in a set. A regex per unit
    did the same, but past Python's cache of 512 patterns each file recompiled every one:
    99 ms a file at 2,000 units.
    """
    starts = [0] + [i + 1 for i, ch in enumerate(file_name) if ch in "-_ "]
    ends = [i for i, ch in enumerate(file_name) if ch in "-_ ."] + [len(file_name)]
    pieces = {file_name[a:b] for a in starts for b in ends if b > a}
    return [u for u in units if u in pieces]


def _check_against_plan(book: RawBook, manifest: Manifest, ctx: BuildContext,
                        result: Examination) -> dict[tuple[str, str], Value] | None:
    """Read every input by the template's rules, recompute, compare. The input cells and
    their rules come from the dry run of the unit's template, never from the file's own
    manifest: a manifest that lists other cells or wider rules is reported as edited.
    Returns the inputs read (None when the template could not be rebuilt or recomputed)."""
    try:
        expected_manifest = template_manifest(ctx, manifest.unit)
    except Exception as exc:  # a rebuild failure is a finding, not a crash
        result.error(msg("could not rebuild the unit's template ({problem})", problem=data(exc)))
        return None
    values: dict[tuple[str, str], Value] = {}
    merged = {name: _merged_cells(sheet) for name, sheet in book.sheets.items()}
    for spec in expected_manifest.inputs:
        key = (spec["sheet"], spec["cell"])
        raw = book.sheets.get(spec["sheet"])
        cell = raw.cells.get(spec["cell"]) if raw else None
        if spec["cell"] in merged.get(spec["sheet"], set()):
            result.error(msg("input cell is covered by merged cells (its value is hidden); "
                             "unmerge it"), spec["sheet"], spec["cell"])
        rule = InputRule.from_json(spec["rule"])
        value, problem, note = _typed(cell, rule, book.date1904)
        problem = problem or rule.problem(value)
        label = data(f"{spec['item']} {spec['period']}".strip())
        if problem:
            result.error(msg("{input}: {problem}", input=label, problem=problem),
                         spec["sheet"], spec["cell"])
            continue
        if note:
            result.warn(msg("{input}: {problem}", input=label, problem=note),
                        spec["sheet"], spec["cell"])
        values[key] = value
    try:
        predicted, _ = predict_unit(ctx, manifest.unit, values, manifest=False)
    except Exception as exc:  # a recompute failure is a finding, not a crash
        result.error(msg("could not recompute the workbook from its inputs ({problem})",
                         problem=data(exc)))
        return None
    _compare_manifest(manifest, expected_manifest, result)
    _compare_structure(book, predicted.cells, set(values) | {
        (i["sheet"], i["cell"]) for i in expected_manifest.inputs}, result)
    if result.status != "rejected":
        for unmet_rule, broken in unmet(completeness_rules(ctx, manifest.unit), values):
            result.findings.append(Finding.of("incomplete", broken, unmet_rule.sheet,
                                              unmet_rule.cell))
        _add_facts(result, expected_manifest, values)
    return values


def _carry_over(unit: str, source: BuildContext, ctx: BuildContext,
                values: dict[tuple[str, str], Value], result: Examination) -> None:
    """A file of an earlier revision, intact against that revision's template: its inputs
    by key onto the current template (see :mod:`xlplan.consolidate.carry`)."""
    try:
        current = template_manifest(ctx, unit)
    except Exception as exc:  # a rebuild failure is a finding, not a crash
        result.error(msg("could not rebuild the unit's current template ({problem})",
                         problem=data(exc)))
        return
    carried = carry(unit, template_manifest(source, unit).inputs, values, current.inputs,
                    ctx.plan)
    for row in gone_rows(carried.gone):
        first = row[0]
        cells = first.old["cell"] if len(row) == 1 else \
            f"{first.old['cell']}…{row[-1].old['cell']} ({len(row)} inputs)"
        shown = "; ".join(f"{g.old['period'] or g.old['item']} {ENGLISH(_show(g.value))}"
                          for g in row[:3]) + ("; …" if len(row) > 3 else "")
        result.warn(msg("{item} at {cells}, from the plan revision this workbook was built "
                        "from, is not carried over: {why} ({values})",
                        item=data(first.old["item"]), cells=data(cells), why=first.words,
                        values=data(shown)),
                    first.old["sheet"], first.old["cell"])
    for bad in carried.failing:
        label = data(f"{bad.new['item']} {bad.new['period']}".strip())
        problem = bad.words
        if (bad.new["sheet"], bad.new["cell"]) == (bad.old["sheet"], bad.old["cell"]):
            words = msg("{input}: under the current plan's rule, {problem}", input=label,
                        problem=problem)
        else:
            words = msg("{input} (now {cell}): under the current plan's rule, {problem}",
                        input=label, cell=data(where(bad.new["sheet"], bad.new["cell"])),
                        problem=problem)
        result.error(words, bad.old["sheet"], bad.old["cell"])
    if carried.new:
        new = carried.new[0]
        what = data(f"{new['item']} {new['period']}".rstrip())
        result.warn(msg("the current plan asks for inputs this workbook's revision did not "
                        "have: {input} and {more} more (missing here; xlplan reissue writes the "
                        "current workbook with this file's inputs)", input=what,
                        more=data(len(carried.new) - 1)) if len(carried.new) > 1 else
                    msg("the current plan asks for inputs this workbook's revision did not "
                        "have: {input} (missing here; xlplan reissue writes the current "
                        "workbook with this file's inputs)", input=what),
                    new["sheet"], new["cell"])
    result.facts = []
    if result.status != "rejected":
        _add_facts(result, current, carried.values, current.inputs)


def _add_facts(result: Examination, template: Manifest, values: dict[tuple[str, str], Value],
               inputs: list[dict[str, Any]] | None = None) -> None:
    """The inputs that hold something, as facts (at the cells of ``inputs``, by default the
    template's). A fact names its sheet by the stable key (Commitments, not 承诺): a zh
    and an en book give the same facts."""
    stable = {shown: key for key, shown in template.sheet_names.items()}
    for spec in template.inputs if inputs is None else inputs:
        value = values.get((spec["sheet"], spec["cell"]))
        if value is None or value == "":
            continue
        number = float(value) if isinstance(value, int | float) and not isinstance(
            value, bool) else None
        text = None if number is not None else (value.isoformat() if isinstance(
            value, dt.date) else str(value))
        result.facts.append(Fact(stable.get(spec["sheet"], spec["sheet"]), spec["cell"],
                                 spec["item"], spec["period"], number, text))


def _compare_manifest(manifest: Manifest, expected: Manifest, result: Examination) -> None:
    """The file's manifest against the template's: any difference is tampering (the
    template's version is what was used)."""
    if expected.sheets != manifest.sheets or expected.fingerprint != manifest.fingerprint:
        result.error(msg("the manifest was edited: its fingerprints are not the template's"),
                     MANIFEST_SHEET)
        return
    listed = [i if isinstance(i, dict) else {} for i in manifest.inputs]
    if [(i["sheet"], i["cell"], i["item"], i["period"]) for i in expected.inputs] != \
            [(i.get("sheet"), i.get("cell"), i.get("item"), i.get("period")) for i in listed]:
        result.error(msg("the manifest was edited: its list of input cells is not the "
                         "template's"), MANIFEST_SHEET)
        return
    changed = [f"{want['sheet']}!{want['cell']}" for want, got in
               zip(expected.inputs, listed, strict=True)
               if want["rule"] != got.get("rule")]
    if changed:
        first = data(changed[0])
        result.error(msg("the manifest was edited: the input rule of {cell} and {more} more is "
                         "not the template's (the template's rules were applied)", cell=first,
                         more=data(len(changed) - 1)) if len(changed) > 1 else
                     msg("the manifest was edited: the input rule of {cell} is not the "
                         "template's (the template's rules were applied)", cell=first),
                     MANIFEST_SHEET)


_TEMPLATES: Recent[tuple[str, str, str], Manifest] = Recent(TEMPLATES_KEPT)


def template_manifest(ctx: BuildContext, unit: str) -> Manifest:
    """The manifest a unit's workbook is built with: its fingerprints and input cells do
    not depend on what is typed, so it is computed once per unit and plan version, from
    the same dry run a submission gets (the one that reuses the input-blind writers' cells:
    in a consolidation where each unit sends one file, this is most of the work)."""
    key = (ctx.loaded.spec_hash, ctx.plan.workbooks.language, unit)
    kept = _TEMPLATES.get(key)
    if kept is None:
        book = predict_unit(ctx, unit, {}, manifest=False)[0]
        kept = _TEMPLATES.put(key, manifest_of(book, ctx, unit))
    return kept


_RULES: Recent[tuple[str, str, str], list[Rule]] = Recent(TEMPLATES_KEPT)


def completeness_rules(ctx: BuildContext, unit: str) -> list[Rule]:
    """The unit's completeness rules, from the template's input cells and the plan (the
    same rules the workbook's readiness block shows), once per unit and plan version."""
    key = (ctx.loaded.spec_hash, ctx.plan.workbooks.language, unit)  # sheet names differ
    kept = _RULES.get(key)
    if kept is None:
        inputs = cells_of(template_manifest(ctx, unit).inputs)
        kept = _RULES.put(key, rules_for(inputs, completeness_setting(ctx, unit)))
    return kept


def templates_made() -> int:
    """How many unit templates this process has made (see :func:`template_manifest`)."""
    return _TEMPLATES.made


def _merged_cells(sheet: RawSheet) -> set[str]:
    """Cells hidden under a merge (every cell of a merged range but its first)."""
    from xlplan.consolidate.xlsx import col_letters, col_number

    out: set[str] = set()
    for rng in sheet.merged:
        m = re.match(r"([A-Z]+)(\d+):([A-Z]+)(\d+)$", rng)
        if not m:
            continue
        c1, r1, c2, r2 = col_number(m[1]), int(m[2]), col_number(m[3]), int(m[4])
        if (r2 - r1 + 1) * (c2 - c1 + 1) > 100_000:
            continue  # a huge merge cannot be over a handful of inputs without covering them
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    out.add(f"{col_letters(c)}{r}")
    return out


EXCEL_EPOCH = dt.date(1899, 12, 30)
EPOCH_1904 = dt.date(1904, 1, 1)


def _typed(cell: RawCell | None, rule: InputRule, date1904: bool
           ) -> tuple[Value, Msg | None, Msg | None]:
    """An input's value as its rule reads it: (value, why it cannot be read, a note)."""
    if cell is not None and cell.formula:
        return _from_formula(cell, rule)
    if cell is None or cell.value is None or cell.value == "":
        return None, None, None
    if cell.error:
        return None, msg("the cell shows the error {error}", error=data(cell.value)), None
    value = cell.value
    if rule.kind == "date":
        if isinstance(value, float) and not isinstance(value, bool):
            if not (math.isfinite(value) and 0 < value < 2_958_466):
                return None, msg("{value} is not a date", value=data(repr(value))), None
            epoch = EPOCH_1904 if date1904 else EXCEL_EPOCH
            return epoch + dt.timedelta(days=int(value)), None, None
        day = date_from_text(str(value))
        if day is None:
            return None, msg("{value} is not a date (type it as a date, or as 2027-03-15, "
                             "2027/3/15 or 2027年3月15日)", value=data(repr(str(value)[:40]))), None
        return day, None, None
    if rule.kind in ("text", "list"):
        if isinstance(value, float):
            return (str(int(value)) if value.is_integer() else repr(value)), None, None
        return str(value), None, None
    if isinstance(value, str):
        return None, msg("{value} is text, expected {expected}", value=data(repr(value[:40])),
                         expected=rule.expectation()), None
    return value, None, None


def _from_formula(cell: RawCell, rule: InputRule) -> tuple[Value, Msg | None, Msg | None]:
    """A formula in an input: its own result when it is arithmetic of numbers (the value
    the file saved for it is never used), otherwise refused."""
    formula = cell.formula or ""
    shown = data(formula if len(formula) <= 60 else formula[:57] + "…")
    if rule.kind not in ("number", "integer", "ratio"):
        return None, msg("holds the formula {formula}: type the value, not a formula",
                         formula=shown), None
    try:
        value = evaluate(formula)
    except RefusedFormula as exc:
        return None, msg("holds the formula {formula}, which {problem}: an input takes a "
                         "number or arithmetic of numbers (e.g. =1200*12); type the value",
                         formula=shown, problem=data(exc)), None
    saved = cell.value
    result = data(f"{value:g}")
    if isinstance(saved, float) and not isinstance(saved, bool) and not _close(value, saved):
        return value, None, msg("holds the formula {formula}: consolidated as its result "
                                "{result} (the file saved {saved} for it, which was not used)",
                                formula=shown, result=result, saved=data(f"{saved:g}"))
    if saved is None:
        return value, None, msg("holds the formula {formula}: consolidated as its result "
                                "{result} (the file saved no result for it)",
                                formula=shown, result=result)
    return value, None, msg("holds the formula {formula}: consolidated as its result {result}",
                            formula=shown, result=result)


_DATE_TEXT = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T00:00(?::00(?:\.0+)?)?Z?)?"  # ISO (a "d" cell: midnight)
    r"|(\d{4})/(\d{1,2})/(\d{1,2})"  # 2027/3/15
    r"|(\d{4})年(\d{1,2})月(\d{1,2})日")  # 2027年3月15日


def date_from_text(text: str) -> dt.date | None:
    """A date typed as text, in one of the forms a plan's managers write (ISO 2027-03-15,
    2027/3/15, 2027年3月15日) and nothing else: the whole text must be the date, so
    ``2027-03-15 or maybe april`` is not read as the 15th of March."""
    match = _DATE_TEXT.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _file_content(cell: RawCell | None) -> Value:
    if cell is None:
        return None
    return cell.formula if cell.formula is not None else cell.value


def _same(expected: Value, got: Value, date1904: bool = False) -> bool:
    if isinstance(expected, dt.date) and isinstance(got, float):
        epoch_got = (EPOCH_1904 if date1904 else EXCEL_EPOCH) + dt.timedelta(days=int(got))
        return epoch_got == (expected.date() if isinstance(expected, dt.datetime) else expected)
    if expected in (None, "") and got in (None, ""):
        return True
    return normalise(expected) == normalise(got)


def _close(expected: Value, cached: Value) -> bool:
    """A cached formula value equals the engine's (to a part in 10^9: far below a cent)."""
    if isinstance(expected, bool) or isinstance(cached, bool):
        return expected == cached
    if isinstance(expected, int | float) and isinstance(cached, int | float):
        if not math.isfinite(float(expected)):
            return False
        return abs(float(expected) - float(cached)) <= max(1e-6, 1e-9 * abs(float(expected)))
    if expected in (None, "") and cached in (None, ""):
        return True
    return normalise(expected) == normalise(cached)


def _compare_structure(book: RawBook, cells: list[Any], inputs: set[tuple[str, str]],
                       result: Examination) -> None:
    """Locked cells against the template; cached values against the engine."""
    by_sheet: dict[str, list[Any]] = {}
    for cell in cells:
        by_sheet.setdefault(cell.sheet, []).append(cell)
    expected_names = [n for n in by_sheet if n != MANIFEST_SHEET]
    notes = {Words(language)(NOTES_SHEET) for language in LANGUAGES}  # any language's
    extra = [n for n in book.sheets if n not in by_sheet and n != MANIFEST_SHEET
             and n not in notes]
    for name in expected_names:
        if name not in book.sheets:
            result.error(msg("sheet {sheet} is missing (renamed to {extra}?): it was renamed or "
                             "deleted", sheet=data(repr(name)), extra=data(repr(extra[0])))
                         if extra else
                         msg("sheet {sheet} is missing: it was renamed or deleted",
                             sheet=data(repr(name))), name)
    for name in extra:
        result.warn(msg("extra sheet {sheet} is not part of the template (ignored)",
                        sheet=data(repr(name))), name)
    for name in expected_names:
        raw = book.sheets.get(name)
        if raw is None:
            continue
        changed: list[tuple[str, Msg]] = []
        stale: list[tuple[str, Msg]] = []
        respelled: list[str] = []
        uncached: list[str] = []
        expected_refs = set()
        got_cells = raw.cells
        for cell in by_sheet[name]:
            # the loop runs for every template cell of every file: the usual case (equal,
            # same type) is decided by == alone, anything else by _same / _close
            expected_refs.add(cell.ref)
            if cell.kind == "input":
                continue
            got = got_cells.get(cell.ref)
            content = _file_content(got)
            want = cell.content
            if not (content == want and type(content) is type(want)) and \
                    not _same(want, content, book.date1904):
                if cell.kind == "formula" and got is not None and got.formula is not None \
                        and same_formula(str(want), got.formula):
                    respelled.append(f"{cell.ref}: {_show(got.formula)}")
                else:
                    changed.append((cell.ref, msg(
                        "{cell}: template has {expected}, the file has {got}",
                        cell=data(cell.ref), expected=_show(want), got=_show(content))))
                    continue
            if cell.kind == "formula":
                cached = got.value if got else None
                if cached is None and cell.expected not in (None, ""):
                    uncached.append(cell.ref)
                elif cached != cell.expected and not _close(cell.expected, cached):
                    stale.append((cell.ref, msg(
                        "{cell}: the file shows {got}, its inputs give {expected}",
                        cell=data(cell.ref), got=_show(cached), expected=_show(cell.expected))))
        unexpected = [ref for ref in got_cells.keys() - expected_refs
                      if (name, ref) not in inputs and _file_content(got_cells[ref]) not in
                      (None, "")]
        unexpected.sort(key=lambda ref: cell_position(ref) or (0, 0))  # row, then column
        _report(result, "error", name, changed, msg(
            "locked cell changed (label, number or formula; a row or column inserted or "
            "deleted moves them all)"))
        _report(result, "warning", name, [
            (r, data(f"{r}: {_show(_file_content(raw.cells[r]))}")) for r in unexpected],
            msg("text or numbers outside the template's cells (ignored)"))
        if respelled:
            result.warn(msg("{count} spelled as another spreadsheet program writes them "
                            "(numbers, function names, spaces or quotes), with the template's "
                            "meaning: {first}", count=_count(len(respelled)),
                            first=data(respelled[0])),
                        name, respelled[0].partition(":")[0])
        if uncached:
            result.warn(msg("{count} saved without results (as a program that does not "
                            "calculate, e.g. a Python library, saves them; first {first}): the "
                            "engine recomputed them", count=_count(len(uncached)),
                            first=data(uncached[0])), name, uncached[0])
        _report(result, "warning", name, stale, msg(
            "stale value (saved without recalculating, e.g. with manual calculation): the "
            "consolidation uses the recomputed numbers"))
        if not raw.protected:
            result.warn(msg("sheet protection was removed"), name)
        if raw.state != "visible":
            result.warn(msg("the sheet is {state} (the template shows it)",
                            state=data(raw.state)), name)


def _count(n: int) -> Msg:
    """``1 formula is``, ``3 formulas are``."""
    return msg("1 formula is") if n == 1 else msg("{n} formulas are", n=data(f"{n:,}"))


def _report(result: Examination, level: Level, sheet: str,
            lines: Sequence[tuple[str, Msg | Data]], what: Msg) -> None:
    """One finding for a sheet's cells of one kind: the first :data:`SHOWN` of them."""
    if not lines:
        return
    shown = tuple(line for _, line in lines[:SHOWN])
    words = msg("{what}: {cells}", what=what, cells=shown) if len(lines) <= SHOWN else \
        msg("{what}: {cells} (and {more} more)", what=what, cells=shown,
            more=data(f"{len(lines) - SHOWN}"))
    result.findings.append(Finding.of(level, words, sheet, lines[0][0]))


def _show(value: Value) -> str:
    """A cell's content in a finding: text quoted, amounts to the cent, nothing as a word
    (a :class:`Msg`, or :class:`Data`: both are ``str``, so it also goes into an f-string,
    as code, in English)."""
    if value is None or value == "":
        return msg("nothing")
    if isinstance(value, float):
        return data(f"{value:,.2f}" if abs(value) >= 1 else f"{value:g}")
    text = str(value)
    return data(repr(text if len(text) <= 60 else text[:57] + "…"))
