"""Completeness rules: when a submission says everything it must, defined once.

Beside the input rules (:mod:`xlplan.workbook.input_rules`, one cell at a time), these
rules look at several inputs together: which groups must be filled, which splits must
tie, which dates must come in order, which values must lie between others. Each rule has
two faces made from the same definition:

- an Excel condition (TRUE when the rule is met), which the Guide's readiness block
  shows live as the manager types (:mod:`xlplan.workbook.readiness`), and the macros'
  pre-flight reads from there;
- a Python check over the typed inputs, which consolidation runs on a submission (a
  rule unmet makes it ``incomplete``: intact and readable, but not yet a plan).

The rules are made from the template's input cells (the dry run of the unit's build at
consolidation, the writer's own record in the workbook) and the plan, never from the
file. Which groups are required is the plan's ``workbooks.required``.

Every word a rule shows is a catalog message (:mod:`xlplan.i18n`): the problems in
:data:`MESSAGES` (filled in by :func:`say`), the groups in :data:`GROUPS`, and each rule's
``what``; a Chinese workbook's Guide and a Chinese submission's findings show them in
Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from xlplan.engine.rounding import excel_round
from xlplan.i18n import Msg, data, msg
from xlplan.workbook.book import Value, quote_sheet
from xlplan.workbook.context import BuildContext

MESSAGES = {
    "required": msg("{group}: {blank} of {cells} cells blank (first {first}); expected a "
                    "value in each"),
    "one_line": msg("{group}: no complete line (item, pool and amount); expected at least "
                    "one"),
    "tie": msg("{group} ({cells}) adds up to {total}, the unit's target is {target}: off by "
               "{off}; expected it to tie to the cent"),
    "order": msg("{what}: {second_name} {second} is before {first_name} {first}; expected "
                 "{first_name} ≤ {second_name}"),
    "between": msg("{what}: current {value} is far outside start {start} → target {target}; "
                   "expected it between {low} and {high}"),
    "ready": msg("Ready: every completeness rule is met"),
    "problems": msg("{n} problems:"),
    "unmet": msg("unmet"),
}
GROUPS = {"commitments": msg("Commitments"), "people": msg("People split"),
          "bsc": msg("BSC actuals of closed periods"), "budget": msg("Budget request lines"),
          "okr": msg("OKR key results"), "actions": msg("Actions"), "risks": msg("Risks")}


def say(key: str, **fields: Any) -> Msg:
    """The problem :data:`MESSAGES` ``key`` with its fields (plan data, numbers as shown,
    or messages), shown in the workbook's language."""
    return Msg(MESSAGES[key], fields)


@dataclass(frozen=True)
class Cell:
    """One input cell of the template: where it is and what it means."""

    sheet: str
    cell: str
    item: str
    period: str

    def key(self) -> tuple[str, str]:
        return self.sheet, self.cell

    def ref(self) -> str:
        """Sheet-qualified, absolute (``People!$F$5``), for formulas on another sheet."""
        col = self.cell.rstrip("0123456789")
        return f"{quote_sheet(self.sheet)}${col}${self.cell[len(col):]}"


def _blank(value: Value) -> bool:
    return value is None or value == ""


def _num(value: Value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _day(value: Value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _money(x: float) -> str:
    return f"{x:,.2f}"


def _position(cell: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", cell)
    assert m, cell
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return int(m[2]), col


def _ranges(cells: Sequence[Cell]) -> list[str]:
    """The cells as few rectangles as runs give: runs along rows, then runs of rows with the
    same columns stacked (``People!$F$5:$F$7``, ``Commitments!$C$5:$N$52``)."""
    spans: list[tuple[str, int, int, int, int]] = []  # sheet, first row, last row, cols
    for c in sorted(cells, key=lambda c: (c.sheet, *_position(c.cell))):
        row, col = _position(c.cell)
        if spans:
            sheet, r0, r1, c0, c1 = spans[-1]
            if sheet == c.sheet and r0 == r1 == row and col == c1 + 1:
                spans[-1] = (sheet, r0, r1, c0, col)
                continue
        spans.append((c.sheet, row, row, col, col))
    stacked: list[tuple[str, int, int, int, int]] = []
    for span in spans:
        if stacked:
            sheet, r0, r1, c0, c1 = stacked[-1]
            if (sheet, c0, c1) == (span[0], span[3], span[4]) and span[1] == r1 + 1:
                stacked[-1] = (sheet, r0, span[2], c0, c1)
                continue
        stacked.append(span)
    out = []
    for sheet, r0, r1, c0, c1 in stacked:
        first = Cell(sheet, f"{xl_col_to_name(c0 - 1)}{r0}", "", "").ref()
        last = f"${xl_col_to_name(c1 - 1)}${r1}"
        out.append(first if (r0, c0) == (r1, c1) else f"{first}:{last}")
    return out



@dataclass(frozen=True)
class Rule:
    """A completeness rule: where a finding points, and both faces of the rule."""

    kind: str  # required | tie | order | range
    sheet: str
    cell: str
    what: str  # the rule in words (a catalog message), shown beside it on the Guide

    def condition(self) -> str:
        """Excel: TRUE when the rule is met."""
        raise NotImplementedError

    def problem(self, values: Mapping[tuple[str, str], Value]) -> str | None:
        """None when met, else what is there and what is expected (a catalog message)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Required(Rule):
    group: str = ""
    cells: tuple[Cell, ...] = ()

    def condition(self) -> str:
        return "+".join(f"COUNTBLANK({r})" for r in _ranges(self.cells)) + "=0"

    def problem(self, values: Mapping[tuple[str, str], Value]) -> str | None:
        blank = [c for c in self.cells if _blank(values.get(c.key()))]
        if not blank:
            return None
        return say("required", group=self.group, blank=data(len(blank)),
                   cells=data(len(self.cells)), first=data(blank[0].cell))


@dataclass(frozen=True)
class OneLine(Rule):
    """At least one line has every one of its cells filled (a budget request)."""

    group: str = ""
    lines: tuple[tuple[Cell, ...], ...] = ()

    def condition(self) -> str:
        return "OR(" + ",".join("AND(" + ",".join(f'{c.ref()}<>""' for c in line) + ")"
                                for line in self.lines) + ")"

    def problem(self, values: Mapping[tuple[str, str], Value]) -> str | None:
        if any(all(not _blank(values.get(c.key())) for c in line) for line in self.lines):
            return None
        return say("one_line", group=self.group)


@dataclass(frozen=True)
class Tie(Rule):
    """Typed amounts add up to a parent to the cent (the People split to the unit's
    target): the sum as the sheet adds it, rounded to the cent, as the People check."""

    group: str = ""
    cells: tuple[Cell, ...] = ()
    target: float = 0.0
    target_ref: str = ""

    def condition(self) -> str:
        return f"ROUND(SUM({','.join(_ranges(self.cells))})-{self.target_ref},2)=0"

    def problem(self, values: Mapping[tuple[str, str], Value]) -> str | None:
        total = 0.0
        for c in self.cells:  # left to right, as the sheet's SUM
            total += _num(values.get(c.key())) or 0.0
        off = excel_round(total - self.target, 2)
        if off == 0:
            return None
        cells = ",".join(r.replace("$", "").partition("!")[2] for r in _ranges(self.cells))
        return say("tie", group=self.group, cells=data(cells), total=data(_money(total)),
                   target=data(_money(self.target)), off=data(_money(off)))


@dataclass(frozen=True)
class Order(Rule):
    """Two dates in order (an action's start before its end); blank is not judged here."""

    first: Cell = Cell("", "", "", "")
    second: Cell = Cell("", "", "", "")
    first_name: str = msg("start")
    second_name: str = msg("end")
    subject: str = ""  # what the rule is of (``Action A1``): what a problem starts with

    def condition(self) -> str:
        a, b = self.first.ref(), self.second.ref()
        return f"OR(NOT(ISNUMBER({a})),NOT(ISNUMBER({b})),{a}<={b})"

    def problem(self, values: Mapping[tuple[str, str], Value]) -> str | None:
        a, b = _day(values.get(self.first.key())), _day(values.get(self.second.key()))
        if a is None or b is None or a <= b:
            return None
        return say("order", what=self.subject or data(self.what.partition(":")[0]),
                   first=data(a), second=data(b), first_name=self.first_name,
                   second_name=self.second_name)


@dataclass(frozen=True)
class Between(Rule):
    """A KR's current value within sensible bounds of its start and target: no further
    from the range start → target than the range is long (progress from −100 % to 200 %).
    A KR whose start equals its target, or with any of the three blank, is not judged."""

    value: Cell = Cell("", "", "", "")
    start: Cell = Cell("", "", "", "")
    target: Cell = Cell("", "", "", "")
    subject: str = ""  # what the rule is of (``KR O1.KR1``): what a problem starts with

    def condition(self) -> str:
        v, s, t = self.value.ref(), self.start.ref(), self.target.ref()
        return (f"OR(NOT(ISNUMBER({v})),NOT(ISNUMBER({s})),NOT(ISNUMBER({t})),{s}={t},"
                f"AND({v}>=MIN({s},{t})-ABS({t}-{s}),{v}<=MAX({s},{t})+ABS({t}-{s})))")

    def problem(self, values: Mapping[tuple[str, str], Value]) -> str | None:
        v, s, t = (_num(values.get(c.key())) for c in (self.value, self.start, self.target))
        if v is None or s is None or t is None or s == t:
            return None
        span = abs(t - s)
        low, high = min(s, t) - span, max(s, t) + span
        if low <= v <= high:
            return None
        return say("between", what=self.subject or data(self.what.partition(":")[0]),
                   value=data(f"{v:g}"), start=data(f"{s:g}"), target=data(f"{t:g}"),
                   low=data(f"{low:g}"), high=data(f"{high:g}"))


@dataclass(frozen=True)
class Setting:
    """What the rules need from the plan beyond the input cells."""

    required: tuple[str, ...]
    unit_target: float  # the unit's annual target in money (as the People sheet shows it)
    target_ref: str  # the cell that shows it, for the Excel face
    closed_by: dt.date | None  # BSC periods that end before this day must be filled


def _period_end(period: str) -> dt.date | None:
    try:
        if len(period) == 7:
            year, month = int(period[:4]), int(period[5:])
            following = dt.date(year + month // 12, month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return dt.date.fromisoformat(period)
    except ValueError:
        return None


def rules_for(inputs: Iterable[Cell], setting: Setting) -> list[Rule]:
    """Every completeness rule of a unit workbook with these input cells, in sheet order:
    required groups, ties, orders, ranges."""
    cells = list(inputs)
    by_kind: dict[str, list[Cell]] = {}
    for c in cells:
        by_kind.setdefault(c.item.partition(":")[0], []).append(c)
    rules: list[Rule] = []
    required = set(setting.required)

    def require(group: str, members: list[Cell]) -> None:
        if members and group in required:
            first = members[0]
            rules.append(Required("required", first.sheet, first.cell,
                                  msg("{group}: every cell filled", group=GROUPS[group]),
                                  GROUPS[group],
                                  tuple(members)))

    require("commitments", by_kind.get("commitment", []))
    people = by_kind.get("split", [])
    require("people", people)
    if people:
        rules.append(Tie("tie", people[0].sheet, people[0].cell,
                         msg("People split ties to the unit's target to the cent"),
                         GROUPS["people"], tuple(people), setting.unit_target,
                         setting.target_ref))
    closed = [c for c in by_kind.get("bsc", []) if setting.closed_by is not None and
              (end := _period_end(c.period)) is not None and end < setting.closed_by]
    require("bsc", closed)
    lines: dict[str, list[Cell]] = {}
    for c in by_kind.get("budget", []):
        parts = c.item.split(":")
        if len(parts) == 4 and parts[1] == "request" and parts[3] in ("item", "pool", "amount"):
            lines.setdefault(parts[2], []).append(c)
    if "budget" in required and lines:
        first = next(iter(lines.values()))[0]
        rules.append(OneLine("required", first.sheet, first.cell,
                             msg("{group}: at least one complete line",
                                 group=GROUPS["budget"]),
                             GROUPS["budget"], tuple(tuple(v) for v in lines.values())))
    for group, kind in (("okr", "okr"), ("actions", "action"), ("risks", "risk")):
        require(group, by_kind.get(kind, []))
    fields: dict[tuple[str, str], dict[str, Cell]] = {}
    for c in cells:
        kind, _, rest = c.item.partition(":")
        if kind in ("action", "okr"):
            owner, _, name = rest.rpartition(":")
            fields.setdefault((kind, owner), {})[name] = c
    for (kind, owner), f in fields.items():
        if kind == "action" and "start" in f and "end" in f:
            rules.append(Order("order", f["end"].sheet, f["end"].cell,
                               msg("Action {action}: start ≤ end", action=data(owner)),
                               f["start"], f["end"],
                               subject=msg("Action {action}", action=data(owner))))
        if kind == "okr" and {"start", "target", "current"} <= f.keys():
            rules.append(Between("range", f["current"].sheet, f["current"].cell,
                                 msg("KR {kr}: current within reach of start → target",
                                     kr=data(owner)),
                                 f["current"], f["start"], f["target"],
                                 subject=msg("KR {kr}", kr=data(owner))))
    return rules


def unmet(rules: Iterable[Rule], values: Mapping[tuple[str, str], Value]
          ) -> list[tuple[Rule, str]]:
    """The rules ``values`` break, each with what is wrong."""
    out = []
    for rule in rules:
        problem = rule.problem(values)
        if problem is not None:
            out.append((rule, problem))
    return out


def cells_of(inputs: Iterable[Any]) -> list[Cell]:
    """Cells from the manifest's input dicts or the book's :class:`InputCell` records."""
    out = []
    for i in inputs:
        if isinstance(i, dict):
            out.append(Cell(i["sheet"], i["cell"], i["item"], i["period"]))
        else:
            out.append(Cell(i.sheet, i.cell, i.item, i.period))
    return out


def setting(ctx: BuildContext, unit: str, target_ref: str = "") -> Setting:
    """The plan's side of a unit's rules. BSC periods count as closed when they end before
    the plan's submission deadline (a date every reader agrees on, unlike "today")."""
    return Setting(tuple(ctx.plan.workbooks.required), ctx.money(ctx.targets[unit]),
                   target_ref, ctx.plan.workbooks.deadline)
