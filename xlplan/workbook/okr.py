"""The OKR sheet: the OKR decomposition table (OKR拆解表), with live progress formulas.

One row per key result: objective, KR text, start / target / current, unit of
measure, due date, weight, owner, resources, risk plan, what it aligns to, and
the progress formulas of :mod:`xlplan.engine.okr` (KR progress clipped to
[0, 1]; objective progress = KR-weighted average).

Master: every objective of the plan, locked. Unit workbook: the company's
objectives (and those of the unit's parent levels) for context, the unit's own
objectives from the plan, then empty objectives for the unit and its people to
fill in. Each input KR aligns to a KR one level up through a drop-down, so a
manager cannot align to a KR that does not exist, and a check column says
whether each KR is measurable and dated (docs/METHOD.md: "improve user experience"
is not a KR).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from xlplan.engine.okr import kr_progress, weighted_mean
from xlplan.engine.phasing import fiscal_months
from xlplan.i18n import data, msg
from xlplan.spec.models import Objective
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, Sheet, ref
from xlplan.workbook.context import BuildContext
from xlplan.workbook.highlights import add_data_bar
from xlplan.workbook.input_rules import TEXT, InputRule
from xlplan.workbook.layout import fit_row
from xlplan.workbook.scope import Scope

SHEET = msg("OKR")
INPUT_OBJECTIVES = 3
KRS_PER_INPUT_OBJECTIVE = 3
LIST_LIMIT = 255  # characters Excel allows in a literal drop-down list

HEADERS: list[str] = [
    msg("Objective"), msg("Objective title"), msg("Org unit"), msg("O owner"), msg("KR"),
    msg("Key result"), msg("Start"), msg("Target"), msg("Current"), msg("Measure"), msg("Due"),
    msg("Weight"), msg("KR owner"), msg("Resources needed"), msg("Risk plan"), msg("Aligned to"),
    msg("KR progress"), msg("O progress"), msg("Check")]
COL = {name: i for i, name in enumerate(HEADERS)}
WIDTHS: dict[int, float] = {0: 11, 1: 30, 2: 10, 3: 13, 4: 10, 5: 40, 6: 11, 7: 11, 8: 11,
                            9: 9, 10: 11, 11: 8, 12: 13, 13: 32, 14: 32, 15: 12, 16: 10,
                            17: 10, 18: 26}

NUMBER_ANY = InputRule("number", None, title=msg("Number"),
                       message=msg("A number: start, target or current value of the KR "
                                   "(negative allowed)."))
WEIGHT = InputRule("ratio", 0.0, 1.0, title=msg("KR weight"),
                   message=msg("Weight of the KR in its objective, 0 to 1. Blank counts as 0; "
                               "if every weight is 0 the KRs count equally."))

MISSING = "needs start, target and due"


def fiscal_span(ctx: BuildContext) -> tuple[dt.date, dt.date]:
    """First and last day of the plan's fiscal year (the range a due date must fall in)."""
    months = fiscal_months(ctx.plan.fiscal_year, ctx.plan.first_month)
    (y0, m0), (y1, m1) = months[0], months[-1]
    return dt.date(y0, m0, 1), dt.date(y1, m1, calendar.monthrange(y1, m1)[1])


def nan_blank(value: float) -> float | str:
    """The engine's NaN ("no value") as the sheet shows it: an empty string."""
    return "" if isinstance(value, float) and math.isnan(value) else value


def objective_value(progresses: Sequence[float | str], weights: Sequence[float]) -> float | str:
    """What :func:`~xlplan.workbook.formulas.objective_progress` gives: the engine's weighted
    mean of the numeric KRs."""
    pairs = [(p, w) for p, w in zip(progresses, weights, strict=True) if not isinstance(p, str)]
    if not pairs:
        return ""
    return nan_blank(weighted_mean([p for p, _ in pairs], [w for _, w in pairs]))


def check_formula(row: int) -> str:
    """"ok" when a KR is measurable and dated; blank for a row nobody has started."""
    s, t, d = (ref(row, COL[k]) for k in ("Start", "Target", "Due"))
    filled = f"{ref(row, COL['Key result'])}:{ref(row, COL['Aligned to'])}"
    return (f'IF(COUNTA({filled})=0,"",IF(AND(ISNUMBER({s}),ISNUMBER({t}),{s}<>{t},'
            f'ISNUMBER({d})),"ok","{MISSING}"))')


def is_number(value: object) -> bool:
    """ISNUMBER of a cell holding ``value`` (a date is a number in a worksheet)."""
    return isinstance(value, int | float | dt.date) and not isinstance(value, bool)


def numeric(value: object) -> float | None:
    """A cell's number, or None for a blank or text (no date is typed in these cells)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def excel_number(value: object) -> float:
    """A cell as SUMPRODUCT sees it: a number, anything else 0."""
    return numeric(value) or 0.0


def input_progress(start: object, target: object, current: object) -> float | str:
    """What :func:`~xlplan.workbook.formulas.kr_progress` gives for typed cells: the engine's
    kr_progress."""
    s, t = numeric(start), numeric(target)
    if s is None or t is None:
        return ""
    return nan_blank(kr_progress(s, t, numeric(current)))


def check_value(start: float | None, target: float | None, due: object,
                anything: bool) -> str:
    """What :func:`check_formula` gives; ``anything``: some cell of the KR row is filled."""
    if not anything:
        return ""
    ok = start is not None and target is not None and start != target and due is not None
    return "ok" if ok else MISSING


@dataclass
class _Table:
    """Writes objective blocks under one header; remembers the rows for formatting."""

    sheet: Sheet
    row: int
    first: int = 0

    def section(self, text: str) -> None:
        self.sheet.label(self.row, 0, text, "bold")
        self.row += 1

    def objective(self, o: Objective) -> None:
        """A plan objective: every cell given and locked, progress as formulas."""
        s = self.sheet
        rows = list(range(self.row, self.row + len(o.krs)))
        progress: list[float | str] = []
        for r, kr in zip(rows, o.krs, strict=True):
            s.label(r, COL["Objective"], data(o.id))
            s.label(r, COL["KR"], data(kr.id))
            s.label(r, COL["Key result"], data(kr.text), "wrap")
            s.given(r, COL["Start"], kr.start)
            s.given(r, COL["Target"], kr.target)
            s.given(r, COL["Current"], kr.current)
            s.label(r, COL["Measure"], data(kr.unit))
            s.given(r, COL["Due"], kr.due, "date")
            s.given(r, COL["Weight"], kr.weight, "factor")
            s.label(r, COL["KR owner"], data(kr.owner))
            s.label(r, COL["Resources needed"], data(kr.resources), "wrap")
            s.label(r, COL["Risk plan"], data(kr.risk_plan), "wrap")
            value = nan_blank(kr_progress(kr.start, kr.target, kr.current))
            progress.append(value)
            self.progress_bar(r, value)
            s.formula(r, COL["Check"], check_formula(r),
                      check_value(kr.start, kr.target, kr.due, True), "label")
            fit_row(s, r, [(kr.text, WIDTHS[COL["Key result"]]),
                           (kr.resources, WIDTHS[COL["Resources needed"]]),
                           (kr.risk_plan, WIDTHS[COL["Risk plan"]]),
                           (o.title if r == rows[0] else "", WIDTHS[COL["Objective title"]])])
        top = rows[0]
        s.label(top, COL["Objective title"], data(o.title), "wrap")
        s.label(top, COL["Org unit"], data(o.unit))
        s.label(top, COL["O owner"], data(o.owner))
        s.label(top, COL["Aligned to"], data(", ".join(o.aligned_to)))
        self._objective(rows, objective_value(progress, [kr.weight for kr in o.krs]))
        self.row += len(rows)

    def blank_objective(self, oid: str, unit: str, choices: InputRule,
                        span: tuple[dt.date, dt.date]) -> None:
        """An empty objective of input rows for the unit (or one of its people) to fill."""
        s = self.sheet
        due = InputRule("date", None, start=span[0], end=span[1], title=msg("Due date"),
                        message=msg("The date the KR is due, within the fiscal year "
                                    "({start} to {end}).", start=data(span[0]),
                                    end=data(span[1])))
        rows = list(range(self.row, self.row + KRS_PER_INPUT_OBJECTIVE))
        progress: list[float | str] = []
        weights: list[float] = []
        top = rows[0]
        s.label(top, COL["Org unit"], data(unit))
        s.input(top, COL["Objective title"], None, TEXT, item=f"okr:{oid}:title",
                style="input_wrap")
        s.input(top, COL["O owner"], None, TEXT, item=f"okr:{oid}:owner", style="input_label")
        for j, r in enumerate(rows, start=1):
            kr = f"{oid}.{j}"
            s.label(r, COL["Objective"], data(oid))
            s.label(r, COL["KR"], data(kr))
            for key, rule, style in (
                    ("Key result", TEXT, "input_wrap"), ("Start", NUMBER_ANY, "input_number"),
                    ("Target", NUMBER_ANY, "input_number"),
                    ("Current", NUMBER_ANY, "input_number"),
                    ("Measure", TEXT, "input_label"), ("Due", due, "input_date"),
                    ("Weight", WEIGHT, "input_factor"), ("KR owner", TEXT, "input_label"),
                    ("Resources needed", TEXT, "input_wrap"), ("Risk plan", TEXT, "input_wrap"),
                    ("Aligned to", choices, "input_label")):
                field = key.lower().replace(" ", "_")
                s.input(r, COL[key], None, rule, item=f"okr:{kr}:{field}", style=style)
            start, target, current, due_date = (s.filled(r, COL[k]) for k in (
                "Start", "Target", "Current", "Due"))
            value = input_progress(start, target, current)
            progress.append(value)
            weights.append(excel_number(s.filled(r, COL["Weight"])))
            self.progress_bar(r, value)
            typed = any(s.filled(r, c) not in (None, "")
                        for c in range(COL["Key result"], COL["Aligned to"] + 1))
            s.formula(r, COL["Check"], check_formula(r),
                      check_value(numeric(start), numeric(target), due_date
                                  if is_number(due_date) else None, typed), "label")
        self._objective(rows, objective_value(progress, weights))
        self.row += len(rows)

    def progress_bar(self, r: int, value: float | str) -> None:
        self.sheet.formula(r, COL["KR progress"],
                           formulas.kr_progress(*(ref(r, COL[k]) for k in ("Start", "Target",
                                                                              "Current"))),
                           value, "ratio")

    def _objective(self, rows: list[int], value: float | str) -> None:
        pc, wc = COL["KR progress"], COL["Weight"]
        progress = f"{ref(rows[0], pc)}:{ref(rows[-1], pc)}"
        weight = f"{ref(rows[0], wc)}:{ref(rows[-1], wc)}"
        self.sheet.formula(rows[0], COL["O progress"],
                           formulas.objective_progress(progress, weight), value, "ratio")


def _ancestors(ctx: BuildContext, unit: str) -> list[str]:
    """The unit's parents up to (not including) the root, nearest first."""
    out, parent = [], ctx.tree.units[unit].parent
    while parent is not None and parent != ctx.tree.root:
        out.append(parent)
        parent = ctx.tree.units[parent].parent
    return out


def _subtree(ctx: BuildContext, unit: str) -> set[str]:
    out, stack = set(), [unit]
    while stack:
        code = stack.pop()
        out.add(code)
        stack.extend(ctx.tree.children[code])
    return out


def _align_rule(ids: list[str], company: list[str]) -> InputRule:
    """The drop-down of KR ids an input KR may align to.

    Every KR shown above (company, parent levels, the unit's own) if the list
    fits Excel's 255-character limit for literal lists, else the company KRs.
    """
    for choices in (ids, company):
        if len(",".join(choices)) <= LIST_LIMIT:
            return InputRule("list", None, choices=tuple(choices), title=msg("Aligned to"),
                             message=msg("The KR one level up that this KR supports (pick "
                                         "from the list)."))
    raise ValueError(f"the company KR ids are too many for an Excel drop-down "
                     f"({len(','.join(company))} characters, at most {LIST_LIMIT})")


def write_okr(book: Book, ctx: BuildContext, scope: Scope) -> None:
    """The OKR decomposition table; see the module docstring for what each workbook gets."""
    plan, tree = ctx.plan, ctx.tree
    s = book.sheet(SHEET)
    company = [o for o in plan.okrs if o.unit in (None, tree.root)]
    s.label(0, 0, msg("{plan}: OKR decomposition", plan=data(plan.name)), "title")
    s.label(1, 0, msg("KR progress = (current − start) ÷ (target − start), held to 0–100%; no "
                      "current value yet counts as 0. Objective progress = KR progress averaged "
                      "by KR weight. A KR must be measurable and dated: a start, a different "
                      "target, and a due date."), "subtitle")
    if scope.unit is not None:
        s.label(2, 0, msg("Fill the yellow cells: one objective per block, up to three KRs "
                          "each. ‘Aligned to’ is the KR one level up that your KR supports."),
                "subtitle")
    head = 4
    for c, text in enumerate(HEADERS):
        s.label(head, c, text, "header")
    s.ws.set_row(head, 30)
    table = _Table(s, head + 1)
    table.first = table.row
    if scope.unit is None:
        table.section(msg("Company objectives"))
        for o in company:
            table.objective(o)
        others = [o for o in plan.okrs if o not in company]
        if others:
            table.section(msg("Department, region and individual objectives"))
            for o in others:
                table.objective(o)
    else:
        unit = scope.unit
        ancestors = _ancestors(ctx, unit)
        mine = _subtree(ctx, unit)
        parents = [o for o in plan.okrs if o.unit in ancestors]
        own = [o for o in plan.okrs if o.unit in mine]
        table.section(msg("Company objectives (for context)"))
        for o in company:
            table.objective(o)
        if parents:
            table.section(msg("Objectives one level up (for context)"))
            for o in parents:
                table.objective(o)
        if own:
            table.section(msg("{unit}: objectives in the plan", unit=data(unit)))
            for o in own:
                table.objective(o)
        shown = [kr.id for o in (*company, *parents, *own) for kr in o.krs]
        rule = _align_rule(shown, [kr.id for o in company for kr in o.krs])
        table.section(msg("{unit}: your objectives (fill in)", unit=data(unit)))
        span = fiscal_span(ctx)
        for i in range(1, INPUT_OBJECTIVES + 1):
            table.blank_objective(f"{unit}-O{i}", unit, rule, span)
    last = max(table.row - 1, table.first)
    for key in ("KR progress", "O progress"):
        c = COL[key]
        add_data_bar(s, table.first, c, last, 1)
    c = COL["Check"]
    s.ws.conditional_format(table.first, c, last, c, {
        "type": "cell", "criteria": "==", "value": f'"{MISSING}"',
        "format": book.wb.add_format({"bg_color": "#FFC7CE"})})
    s.widths(WIDTHS)
    s.ws.freeze_panes(head + 1, COL["Key result"] + 1)
    s.ws.repeat_rows(head)
