"""Where each part of a plan lives in the plan setup workbook (plan.xlsx).

The setup workbook is a second way to write the plan file, for people who work
in Excel rather than YAML. Every field of :class:`~xlplan.spec.models.Plan` has
one home here, so the conversion is lossless both ways:

* a *settings* table (Setting | Value | Default | What it is) holds the plan's
  single values, one row per dotted key as the YAML spells it
  (``north_star.target``, ``allocation.maturity_factors.mature``);
* a *list* table holds one plan list, one row per item, one column per field
  (nested fields such as ``factors.priority`` are columns too);
* a *child* table holds a list inside the items of another list (key results
  under objectives, plans under risks, milestones under actions), each row
  naming its parent's id in the first column;
* a *values* table holds a list of numbers or dates (quarter and month weights,
  holidays), with a position column where order matters.

A blank cell means "not given": the plan's default applies, as when a key is
left out of the YAML. A short list inside one field (a unit's attainment
history, the KRs an objective aligns to, selling weekdays) is written in one
cell, separated by semicolons.

Tables sit side by side on a sheet, never one above another, so each may grow
downwards. The reader finds a table by its header row, so rows may be added,
sorted or left empty in between, and columns of a person's own inserted.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import PydanticUndefined

import xlplan.spec.models as m
from xlplan.i18n import LANGUAGES, Msg, Words, data, msg, pmsg

Kind = Literal["text", "number", "int", "date", "bool", "numbers", "ints", "texts", "dates"]
MARKER = "xlplan plan setup"  # cell A1 of the About sheet
LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class FieldType:
    """What a cell holds: its kind and, for a closed list, the allowed values."""

    kind: Kind
    choices: tuple[str, ...] = ()
    optional: bool = False


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` and ``| None``, and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _scalar_kind(annotation: Any) -> FieldType:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return FieldType("text", tuple(str(e.value) for e in annotation))
    if typing.get_origin(annotation) is Literal:
        return FieldType("text", tuple(str(a) for a in typing.get_args(annotation)))
    if annotation is bool:
        return FieldType("bool", ("TRUE", "FALSE"))
    if annotation is int:
        return FieldType("int")
    if annotation in (float, Decimal):
        return FieldType("number")
    if annotation is dt.date:
        return FieldType("date")
    return FieldType("text")


LIST_KINDS: dict[str, Kind] = {"number": "numbers", "int": "ints", "date": "dates",
                               "text": "texts"}


def field_type(annotation: Any) -> FieldType:
    """The cell type of a model field's annotation."""
    inner, optional = _unwrap(annotation)
    if typing.get_origin(inner) is list:
        item = _scalar_kind(_unwrap(typing.get_args(inner)[0])[0])
        return FieldType(LIST_KINDS[item.kind], item.choices, optional)
    scalar = _scalar_kind(inner)
    return FieldType(scalar.kind, scalar.choices, optional)


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    inner, _ = _unwrap(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner
    return None


def _dict_keys(annotation: Any) -> tuple[type[enum.Enum], Any] | None:
    inner, _ = _unwrap(annotation)
    if typing.get_origin(inner) is dict:
        key, value = typing.get_args(inner)
        if isinstance(key, type) and issubclass(key, enum.Enum):
            return key, value
    return None


@dataclass(frozen=True)
class Setting:
    """One row of a settings table: a dotted key, its type, default and help."""

    key: str
    type: FieldType
    default: str
    help: str

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))


def _default_text(info: Any, sub: str | None = None) -> str:
    if info.default is not PydanticUndefined:
        value = info.default
    elif info.default_factory is not None:
        value = info.default_factory()
    else:
        return "(required)"
    if sub is not None:
        value = value.get(next(k for k in value if str(k.value) == sub)) if value else None
    if value is None:
        return ""
    if isinstance(value, list):
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def settings_of(model: type[BaseModel], prefix: str = "") -> list[Setting]:
    """Every single value under ``model``, as dotted keys (sub-models and enum-keyed
    dictionaries expanded; lists of models are left to list tables)."""
    out = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _sub_model(info.annotation)
        keyed = _dict_keys(info.annotation)
        inner, _ = _unwrap(info.annotation)
        if sub is not None:
            out += settings_of(sub, f"{key}.")
        elif keyed is not None:
            enum_type, value_type = keyed
            for member in enum_type:
                out.append(Setting(f"{key}.{member.value}", field_type(value_type),
                                   _default_text(info, str(member.value)),
                                   info.description or ""))
        elif typing.get_origin(inner) is list and _sub_model(typing.get_args(inner)[0]):
            continue
        else:
            out.append(Setting(key, field_type(info.annotation), _default_text(info),
                               info.description or ""))
    return out


def _annotation_at(model: type[BaseModel], path: tuple[str, ...]) -> Any:
    info = model.model_fields[path[0]]
    if len(path) == 1:
        return info.annotation
    sub = _sub_model(info.annotation)
    assert sub is not None, path
    return _annotation_at(sub, path[1:])


@dataclass(frozen=True)
class Column:
    """One column of a list or child table: its header and the field it holds."""

    header: str
    path: tuple[str, ...]  # inside the item: ("factors", "priority")
    type: FieldType
    help: str
    source: str | None = None  # a table whose first column gives this column's choices
    open_list: bool = False  # choices suggested, other values allowed (unit kinds)


def _columns(model: type[BaseModel], spec: list[tuple[str, str]],
             sources: dict[str, str] | None = None,
             helps: dict[str, str] | None = None) -> tuple[Column, ...]:
    sources, helps = sources or {}, helps or {}
    out = []
    for header, key in spec:
        path = tuple(key.split("."))
        annotation = _annotation_at(model, path)
        info = _field_info(model, path)
        ftype = field_type(annotation)
        default = _default_text(info)
        text = helps.get(key) or info.description or ""
        if default and default != "(required)":
            text = msg("{text} Blank = {default}.", text=text, default=data(default))
        elif default == "(required)":
            text = msg("{text} Required.", text=text)
        out.append(Column(header, path, ftype, text, sources.get(key)))
    return tuple(out)


def _field_info(model: type[BaseModel], path: tuple[str, ...]) -> Any:
    info = model.model_fields[path[0]]
    if len(path) == 1:
        return info
    sub = _sub_model(info.annotation)
    assert sub is not None
    return _field_info(sub, path[1:])


@dataclass(frozen=True)
class Table:
    """An Excel Table of the setup workbook.

    ``role`` says how its rows become plan data: ``settings`` (dotted keys),
    ``list`` (items of ``path``), ``child`` (items of ``path[-1]`` inside the
    items of ``path[0]``, matched on the parent's ``parent_key``), ``values``
    (a list of scalars at ``path``), ``child_values`` (a list of scalars inside
    the items of ``path[0]``).
    """

    name: str
    sheet: str
    role: Literal["settings", "list", "child", "values", "child_values"]
    path: tuple[str, ...]
    columns: tuple[Column, ...] = ()
    settings: tuple[Setting, ...] = ()
    first_col: int = 0
    parent_key: str = ""  # child tables: the parent item's id field
    index_header: str | None = None  # values tables: the position column
    size: int = 0  # values tables with a position column: positions written even when blank
    note: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        if self.role == "settings":
            return SETTINGS_HEADERS
        return tuple(c.header for c in self.columns)


SETTINGS_HEADERS = (msg("Setting"), msg("Value"), msg("Default"), msg("What it is"))


@dataclass(frozen=True)
class Sheet:
    """A sheet of the setup workbook: its name is its stable key (the English id of the
    message it shows), its title and note are messages too."""

    name: Msg
    title: Msg
    note: Msg
    tables: tuple[Table, ...] = field(default_factory=tuple)


def _settings(name: str, sheet: str, prefixes: list[str], first_col: int = 0,
              skip: tuple[str, ...] = ()) -> Table:
    rows: list[Setting] = []
    for prefix in prefixes:
        top = prefix.split(".")[0]
        info = m.Plan.model_fields[top]
        sub = _sub_model(info.annotation)
        if sub is None:
            rows.append(Setting(prefix, field_type(info.annotation), _default_text(info),
                                info.description or ""))
        else:
            rows += settings_of(sub, f"{prefix}.")
    rows = [r for r in rows if not any(r.key == s or r.key.startswith(f"{s}.") for s in skip)]
    return Table(name, sheet, "settings", (), settings=tuple(rows), first_col=first_col)


UNIT_KINDS = ("company", "department", "region", "team", "person")


def _units() -> Table:
    cols = _columns(m.Unit, [
        (msg("Code"), "code"), (msg("Name"), "name"), (msg("Parent"), "parent"),
        (msg("Manager"), "manager"),
        (msg("Email"), "email"), (msg("Kind"), "kind"), (pmsg("unit weight", "Base"), "base"),
        (msg("Priority"), "factors.priority"),
        (msg("Maturity"), "factors.maturity"), (msg("New hire share"), "factors.new_hire_share"),
        (msg("Attainment history"), "factors.attainment_history"), (msg("Weight"), "weight"),
        (msg("Hold"), "hold")],
        sources={"parent": "Units"},
        helps={"code": msg("Short code of the unit (letters, digits, - _ .)."),
               "parent": msg("Code of the unit above; blank for the top unit (one only)."),
               "factors.attainment_history": msg(
                   "Past years' attainment (actual/target), oldest first, separated by ; "
                   "e.g. 1.02; 0.97."),
               "factors.new_hire_share": msg("Share of staff new this year (0-1).")})
    cols = tuple(Column(c.header, c.path, FieldType("text", UNIT_KINDS), c.help, None, True)
                 if c.header == "Kind" else c for c in cols)
    return Table("Units", "Units", "list", ("units",), cols)


def _tables() -> tuple[Sheet, ...]:
    plan_settings = _settings("PlanSettings", "Plan", ["id", "name", "fiscal_year", "first_month",
                                                       "currency", "north_star", "prior_year"])
    levers = Table("Levers", "Levers", "list", ("levers",), _columns(m.Lever, [
        (msg("ID"), "id"), (msg("Kind"), "kind"), (msg("Name"), "name"), (msg("Amount"), "amount"),
        (msg("Owner"), "owner"), (msg("Note"), "note")]))
    allocation = _settings("AllocationSettings", "Allocation", ["allocation"])
    products = Table("Products", "Products", "list", ("products",), _columns(m.Product, [
        (msg("Code"), "code"), (msg("Name"), "name"), (msg("Line"), "line"),
        (msg("BCG class"), "bcg"),
        (msg("Price"), "price"), (msg("Mix"), "mix"), (msg("Market growth"), "market_growth"),
        (msg("Relative share"), "relative_share")]))
    channels = Table("Channels", "Channels", "list", ("channels",), _columns(m.Channel, [
        (msg("Code"), "code"), (msg("Name"), "name"), (msg("Parent"), "parent"),
        (msg("Share"), "share")],
        sources={"parent": "Channels"},
        helps={"parent": msg("Code of the channel above; blank for a top-level channel.")}))
    calendar = _settings("CalendarSettings", "Calendar", ["calendar"],
                         skip=("calendar.quarter_weights", "calendar.month_weights",
                               "calendar.holidays"))
    number, date = FieldType("number"), FieldType("date")
    index = FieldType("int")
    quarters = Table("QuarterWeights", "Calendar", "values", ("calendar", "quarter_weights"), (
        Column(msg("Quarter"), ("__index__",), index, msg("Fiscal quarter 1-4.")),
        Column(msg("Quarter weight"), ("__value__",), number,
               msg("Share of the year's target in this quarter."))),
        first_col=5, index_header="Quarter", size=4)
    months = Table("MonthWeights", "Calendar", "values", ("calendar", "month_weights"), (
        Column(msg("Month"), ("__index__",), index, msg("Fiscal month 1-12.")),
        Column(msg("Month weight"), ("__value__",), number,
               msg("Weight of the month (method months), or its weight within its "
                   "quarter (method quarters)."))),
        first_col=8, index_header="Month", size=12)
    holidays = Table("Holidays", "Calendar", "values", ("calendar", "holidays"), (
        Column(msg("Holiday"), ("__value__",), date, msg("A day that does not sell.")),),
        first_col=11)
    budget = _settings("BudgetSettings", "Budget", ["budget"])
    objectives = Table("Objectives", "OKRs", "list", ("okrs",), _columns(m.Objective, [
        (msg("ID"), "id"), (msg("Title"), "title"), (msg("Owner"), "owner"), (msg("Unit"), "unit"),
        (msg("Aligned to"), "aligned_to")], sources={"unit": "Units"},
        helps={"aligned_to": msg("Key result ids one level up, separated by ;")}))
    krs = Table("KeyResults", "Key results", "child", ("okrs", "krs"), (
        Column(msg("Objective"), ("__parent__",), FieldType("text"),
               msg("ID of the objective (OKRs sheet)."), "Objectives"),
        *_columns(m.KeyResult, [
            (msg("ID"), "id"), (msg("Text"), "text"), (msg("Start"), "start"),
            (msg("Target"), "target"),
            (msg("Current"), "current"), (msg("Unit"), "unit"), (msg("Due"), "due"),
            (msg("Weight"), "weight"),
            (msg("Owner"), "owner"), (msg("Resources"), "resources"),
            (msg("Risk plan"), "risk_plan")],
            helps={"weight": msg("Weights of an objective's key results sum to 1; leave "
                                 "all blank for equal weights.")})), parent_key="id")
    bsc = _settings("BscSettings", "BSC", ["bsc"])
    kpis = Table("Kpis", "BSC", "list", ("bsc", "kpis"), _columns(m.Kpi, [
        (msg("Code"), "code"), (msg("Name"), "name"), (msg("Perspective"), "perspective"),
        (msg("Unit"), "unit"),
        (msg("Direction"), "direction"), (msg("Target"), "target"), (msg("Floor"), "floor"),
        (msg("Weight"), "weight"), (msg("Frequency"), "frequency"), (msg("Aggregate"), "aggregate"),
        (msg("Maximum"), "maximum")]),
        first_col=5)
    risks = Table("Risks", "Risks", "list", ("risks",), _columns(m.Risk, [
        (msg("ID"), "id"), (msg("Title"), "title"), (msg("Level"), "level"),
        (msg("Impact"), "impact"),
        (msg("Owner"), "owner")]))
    risk_plans = Table("RiskPlans", "Risks", "child", ("risks", "plans"), (
        Column(msg("Risk"), ("__parent__",), FieldType("text"), msg("ID of the risk."), "Risks"),
        *_columns(m.RiskPlan, [(msg("Plan"), "name"), (msg("Action"), "action"),
        (msg("Cost"), "cost"),
                               (msg("Effect"), "effect")],
                  helps={"name": msg("A, B or C (up to three plans a risk).")})),
        first_col=6, parent_key="id")
    actions = Table("Actions", "Actions", "list", ("actions",), _columns(m.Action, [
        (msg("ID"), "id"), (msg("Lever"), "lever"), (msg("Task"), "task"), (msg("Owner"), "owner"),
        (msg("Start"), "start"), (msg("End"), "end"), (msg("Budget"), "budget")],
        sources={"lever": "Levers"}))
    milestones = Table("Milestones", "Actions", "child_values", ("actions", "milestones"), (
        Column(pmsg("action id", "Action"), ("__parent__",), FieldType("text"),
               msg("ID of the action."), "Actions"),
        Column(msg("Milestone"), ("__value__",), FieldType("text"),
               msg("One milestone, in order."))),
        first_col=8, parent_key="id")
    segments = Table("Segments", "Segments", "list", ("segments",), _columns(m.Segment, [
        (msg("Code"), "code"), (msg("Name"), "name"), (msg("Retention"), "retention"),
        (msg("ARPU growth"), "arpu_growth"), (msg("New customers"), "new_customers")]))
    warnings = _settings("WarningSettings", "Warnings", ["status_bands", "warnings"])
    workbooks = _settings("WorkbookSettings", "Workbooks", ["workbooks"])
    tracking = _settings("TrackingSettings", "Tracking", ["tracking"])
    return (
        Sheet(pmsg("setup sheet", "Plan"), msg("The plan and its north star"),
              msg("What the plan is, its year and currency, and the increment it aims at."),
              (plan_settings,)),
        Sheet(msg("Levers"), msg("Growth levers"),
              msg("Where the increment comes from: the levers' amounts should cover the "
                  "north star's target minus its baseline."), (levers,)),
        Sheet(msg("Units"), msg("Org units and their allocation factors"),
              msg("One row per unit; the top unit has no parent."), (_units(),)),
        Sheet(msg("Allocation"), msg("How a parent's target is split over its children"),
              msg("Blank values take the default."), (allocation,)),
        Sheet(pmsg("setup sheet", "Products"), pmsg("setup sheet", "Products"),
              msg("The product split: mixes sum to 1 when given."), (products,)),
        Sheet(msg("Channels"), msg("Channels"),
              msg("Shares of the channels under one parent sum to 1."), (channels,)),
        Sheet(msg("Calendar"), msg("Calendar and seasonality"),
              msg("Quarter weights sum to 1 (or set calendar.normalise to TRUE)."),
              (calendar, quarters, months, holidays)),
        Sheet(msg("Budget"), msg("Budget"),
              msg("Leave every value blank for a plan without a budget."), (budget,)),
        Sheet(msg("OKRs"), msg("Objectives"),
              msg("Each objective has 1-5 key results (sheet Key results)."), (objectives,)),
        Sheet(pmsg("setup sheet", "Key results"), pmsg("setup sheet", "Key results"),
              msg("One row per key result, under its objective."), (krs,)),
        Sheet(msg("BSC"), msg("Balanced scorecard"),
              msg("A preset adds its KPIs; a KPI listed here with the same code wins."),
              (bsc, kpis)),
        Sheet(msg("Risks"), msg("Risks and their plans"),
              msg("Up to three plans (A, B, C) a risk."), (risks, risk_plans)),
        Sheet(msg("Actions"), msg("Actions"), msg("Each action belongs to a lever."),
              (actions, milestones)),
        Sheet(msg("Segments"), msg("Customer segments"), msg("Optional."), (segments,)),
        Sheet(msg("Warnings"), msg("Warnings and status bands"),
              msg("Blank values take the default."), (warnings,)),
        Sheet(msg("Workbooks"), msg("Unit workbooks"), msg("Blank values take the default."),
              (workbooks,)),
        Sheet(msg("Tracking"), msg("Tracking"),
              msg("Column names of the actuals export, and the re-forecast rule."),
              (tracking,)),
    )


SHEETS: tuple[Sheet, ...] = _tables()
TABLES: tuple[Table, ...] = tuple(t for s in SHEETS for t in s.tables)
HEADER_ROW = 4  # 0-based row of every table's header (rows above: title, note, checks)
ABOUT = msg("About")


def header_keys(table: Table) -> dict[str, str]:
    """Each way the table's headers are shown, in any language (case-folded), → the header's
    stable key (its English id): the reader finds a column by what it shows, whichever
    language the workbook was written in."""
    out: dict[str, str] = {}
    for language in LANGUAGES:
        words = Words(language)
        for header in table.headers:
            out.setdefault(words(header).casefold(), str(header))
    return out


def sheet_label(key: str) -> Msg:
    """The message a sheet of stable ``key`` shows as its name ("Units" → 组织单位)."""
    return next(name for name in (ABOUT, *(s.name for s in SHEETS)) if name == key)


def sheet_keys() -> dict[str, str]:
    """Each name a setup sheet shows in any language (case-folded) → its stable key."""
    return {Words(language)(name).casefold(): str(name) for language in LANGUAGES
            for name in (ABOUT, *(s.name for s in SHEETS))}
