"""Cross-field checks of a plan: references, duplicates, cycles, sums, dates.

These run on the raw parsed YAML (plain dicts and lists), defensively, so that
they still report what they can when pydantic finds type errors elsewhere in
the file: the user gets every problem in one pass.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from xlplan.spec.friendly import did_you_mean

PathKey = tuple[str | int, ...]
SUM_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a plan file: at a line of a YAML file, or at a cell
    (``Units!C8``) of a setup workbook; the message is the same for both."""

    path: PathKey
    message: str
    line: int | None = None
    cell: str | None = None

    def where(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "(plan)"

    def render(self, file: str) -> str:
        if self.cell:
            return f"{file}: {self.cell}: {self.message}"
        if self.line:
            return f"{file}:{self.line}: {self.where()}: {self.message}"
        if not self.path:  # the file as a whole: nothing to point at
            return f"{file}: {self.message}"
        return f"{file}: {self.where()}: {self.message}"


def _hashable(value: Any) -> bool:
    """A scalar usable as a code; a list or mapping is a type error pydantic reports."""
    return not isinstance(value, dict | list | set)


def _items(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _duplicates(items: Iterable[tuple[PathKey, Any]], what: str) -> list[Problem]:
    seen: dict[Any, PathKey] = {}
    out = []
    for path, value in items:
        if value is None or not _hashable(value):
            continue
        if value in seen:
            first = _fmt(seen[value])
            out.append(Problem(path, f"duplicate {what} {value!r} (first used at {first})"))
        else:
            seen[value] = path
    return out


def _section(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A top-level section of the plan when it is a mapping (else the schema reports it)."""
    value = data.get(key)
    return value if isinstance(value, dict) else None


def _dup_field(items: list[tuple[int, dict[str, Any]]], prefix: PathKey, field: str,
               what: str) -> list[Problem]:
    """Duplicate values of ``field`` among ``items`` (found at ``prefix[i].field``)."""
    return _duplicates([((*prefix, i, field), item.get(field)) for i, item in items], what)


def _fmt(path: PathKey) -> str:
    return Problem(path, "").where()


def _cycles(parent_of: dict[str, str], path_of: dict[str, PathKey], what: str) -> list[Problem]:
    """Report each cycle in a parent relation once, at its first member."""
    out: list[Problem] = []
    reported: set[str] = set()
    for start in parent_of:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in parent_of and node not in seen:
            seen.append(node)
            node = parent_of.get(node)
        if node is not None and node in seen:
            cycle = seen[seen.index(node):]
            if not reported.intersection(cycle):
                reported.update(cycle)
                chain = " → ".join([*cycle, cycle[0]])
                out.append(Problem(path_of[cycle[0]], f"{what} form a cycle: {chain}"))
    return out


def _number(value: Any) -> float | None:
    """A number as pydantic reads it (lax mode also accepts numeric strings like "0.3")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _sum_check(path: PathKey, values: list[Any], what: str, hint: str = "") -> list[Problem]:
    nums = [_number(v) for v in values]
    if not nums or any(n is None for n in nums):
        return []
    total = math.fsum(n for n in nums if n is not None)
    if abs(total - 1.0) > SUM_TOLERANCE:
        return [Problem(path, f"{what} sum to {total:g}, expected 1{hint}")]
    return []


def _fiscal_range(data: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    year, first = _whole(data.get("fiscal_year")), _whole(data.get("first_month", 1))
    if year is None or first is None or not 1 <= first <= 12:
        return None
    if not 1900 <= year <= 2200:
        return None
    start = dt.date(year, first, 1)
    end_year, end_month = (year + 1, first) if first > 1 else (year + 1, 1)
    return start, dt.date(end_year, end_month, 1) - dt.timedelta(days=1)


def _whole(value: Any) -> int | None:
    number = _number(value)
    if number is None or not math.isfinite(number) or number != int(number):
        return None
    return int(number)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _parent_links(items: list[tuple[int, dict[str, Any]]], section: str, kind: str,
                  ) -> list[Problem]:
    """What a tree of coded items (units, channels) must get right: codes used once, each
    ``parent`` naming another item of the section, and no cycle of parents."""
    out = _dup_field(items, (section,), "code", f"{kind} code")
    codes = {item.get("code") for _, item in items if _hashable(item.get("code"))}
    parent_of: dict[str, str] = {}
    path_of: dict[str, PathKey] = {}
    for i, item in items:
        code, parent = item.get("code"), item.get("parent")
        if isinstance(code, str):
            path_of.setdefault(code, (section, i, "code"))
        if parent is None or not _hashable(parent):
            continue
        if parent not in codes:
            out.append(Problem((section, i, "parent"), f"unknown parent {kind} {parent!r}"
                                                          f"{did_you_mean(parent, codes)}"))
        elif parent == code:
            out.append(Problem((section, i, "parent"), f"{kind} {code!r} is its own parent"))
        elif isinstance(code, str):
            parent_of[code] = parent
    return out + _cycles(parent_of, path_of, f"{kind} parents")


def check_units(data: dict[str, Any]) -> list[Problem]:
    units = _items(data, "units")
    out = _parent_links(units, "units", "unit")
    roots = [u["code"] for _, u in units if isinstance(u.get("code"), str)
             and u.get("parent") is None]
    if units and len(roots) != 1:
        found = ", ".join(roots) if roots else "none"
        out.append(Problem(("units",), f"expected exactly one top unit (no parent), found {found}"))
    return out


def check_channels(data: dict[str, Any]) -> list[Problem]:
    channels = _items(data, "channels")
    out = _parent_links(channels, "channels", "channel")
    codes = {c.get("code") for _, c in channels if _hashable(c.get("code"))}
    groups: dict[Any, list[tuple[int, Any]]] = defaultdict(list)
    for i, c in channels:
        parent = c.get("parent")
        # under an unknown parent (reported above) there is no group whose shares to sum
        if _hashable(parent) and (parent is None or parent in codes):
            groups[parent].append((i, c.get("share")))
    for parent, members in groups.items():
        first = members[0][0]
        label = "top-level channels" if parent is None else f"channels under {parent!r}"
        out += _sum_check(("channels", first, "share"), [s for _, s in members],
                          f"shares of {label}")
    return out


def check_products(data: dict[str, Any]) -> list[Problem]:
    products = _items(data, "products")
    out = _dup_field(products, ("products",), "code", "product code")
    mixes = [p.get("mix") for _, p in products]
    given = [m for m in mixes if m is not None]
    if given and len(given) != len(mixes):
        missing = [p.get("code") for _, p in products if p.get("mix") is None]
        out.append(Problem(("products",), f"mix is given for some products but not for {missing}"))
    elif given:
        out += _sum_check(("products",), given, "product mixes")
    return out


def check_calendar(data: dict[str, Any]) -> list[Problem]:
    cal = _section(data, "calendar")
    if cal is None or cal.get("normalise") is True:
        return []
    hint = " (or set calendar.normalise: true)"
    out = []
    if isinstance(cal.get("quarter_weights"), list):
        out += _sum_check(("calendar", "quarter_weights"), cal["quarter_weights"],
                          "quarter weights", hint)
    if cal.get("method") == "months" and isinstance(cal.get("month_weights"), list):
        out += _sum_check(("calendar", "month_weights"), cal["month_weights"], "month weights",
                          hint)
    return out


def check_budget(data: dict[str, Any]) -> list[Problem]:
    budget = _section(data, "budget")
    if budget is None:
        return []
    out: list[Problem] = []
    pools = budget.get("pools")
    if isinstance(pools, dict) and pools:
        full = {"base": 0.6, "incentive": 0.3, "reserve": 0.1} | pools
        out += _sum_check(("budget", "pools"), list(full.values()), "budget pools")
    bcg = budget.get("bcg_weights")
    if isinstance(bcg, dict) and bcg:
        out += _sum_check(("budget", "bcg_weights"), list(bcg.values()), "BCG weights")
    return out


def check_okrs(data: dict[str, Any]) -> list[Problem]:
    objectives = _items(data, "okrs")
    out = _dup_field(objectives, ("okrs",), "id", "objective id")
    kr_owner: dict[str, str] = {}
    kr_paths = []
    for i, o in objectives:
        for j, kr in _items(o, "krs"):
            kr_paths.append((("okrs", i, "krs", j, "id"), kr.get("id")))
            if isinstance(kr.get("id"), str) and isinstance(o.get("id"), str):
                kr_owner.setdefault(kr["id"], o["id"])
    out += _duplicates(kr_paths, "key result id")
    units = {u.get("code") for _, u in _items(data, "units") if _hashable(u.get("code"))}
    span = _fiscal_range(data)
    aligned: dict[str, set[str]] = defaultdict(set)
    for i, o in objectives:
        unit = o.get("unit")
        if unit is not None and _hashable(unit) and unit not in units:
            out.append(Problem(("okrs", i, "unit"), f"unknown unit {unit!r}"
                                                    f"{did_you_mean(unit, units)}"))
        aligned_to = o.get("aligned_to")
        for k, target in enumerate(aligned_to if isinstance(aligned_to, list) else []):
            if not _hashable(target):
                continue
            if target not in kr_owner:
                out.append(Problem(("okrs", i, "aligned_to", k),
                                   f"aligned to unknown key result {target!r}"
                                   f"{did_you_mean(target, kr_owner)}"))
            elif isinstance(o.get("id"), str):
                aligned[o["id"]].add(kr_owner[target])
        for j, kr in _items(o, "krs"):
            due = _as_date(kr.get("due"))
            if span and due and not span[0] <= due <= span[1]:
                out.append(Problem(("okrs", i, "krs", j, "due"),
                                   f"due date {due} is outside the fiscal year "
                                   f"{span[0]} to {span[1]}"))
            if _number(kr.get("start")) is not None and kr.get("start") == kr.get("target"):
                out.append(Problem(("okrs", i, "krs", j, "target"),
                                   "target equals start: progress cannot be measured"))
    for i, o in objectives:
        out += _kr_weights(i, o)
    out += _graph_cycles(aligned, {o.get("id"): ("okrs", i, "aligned_to")
                                   for i, o in objectives if isinstance(o.get("id"), str)})
    return out


def _kr_weights(i: int, objective: dict[str, Any]) -> list[Problem]:
    """Key-result weights of an objective sum to 1 when any is given (a KR without one
    counts 1); none given means equal weights. The engine would average any weights, so a
    0.5 / 0.3 slip would pass unseen and quietly re-weight the objective."""
    krs = _items(objective, "krs")
    given = [j for j, kr in krs if kr.get("weight") is not None]
    if not given:
        return []
    weights = [kr.get("weight", 1.0) if kr.get("weight") is not None else 1.0 for _, kr in krs]
    name = objective.get("id")
    label = f"objective {name!r}" if isinstance(name, str) else "the objective"
    return _sum_check(("okrs", i, "krs", given[0], "weight"), weights,
                      f"weights of the key results of {label}",
                      " (or leave out every weight for equal weights)")


def _graph_cycles(edges: dict[str, set[str]], path_of: dict[Any, PathKey]) -> list[Problem]:
    """Cycles in OKR alignment (an objective may support several KRs above)."""
    out: list[Problem] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                chain = " → ".join([*cycle, nxt])
                out.append(Problem(path_of.get(cycle[0], ("okrs",)),
                                   f"objectives align in a cycle: {chain}"))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return out


def check_dates(data: dict[str, Any]) -> list[Problem]:
    span = _fiscal_range(data)
    out = []
    levers = {lv.get("id") for _, lv in _items(data, "levers") if _hashable(lv.get("id"))}
    for i, a in _items(data, "actions"):
        lever = a.get("lever")
        if lever is not None and _hashable(lever) and lever not in levers:
            out.append(Problem(("actions", i, "lever"), f"unknown lever {lever!r}"
                                                        f"{did_you_mean(lever, levers)}"))
        start, end = _as_date(a.get("start")), _as_date(a.get("end"))
        if start and end and end < start:
            out.append(Problem(("actions", i, "end"), f"ends ({end}) before it starts ({start})"))
        for key, day in (("start", start), ("end", end)):
            if span and day and not span[0] <= day <= span[1]:
                out.append(Problem(("actions", i, key), f"{key} date {day} is outside the fiscal "
                                   f"year {span[0]} to {span[1]}"))
    return out


def check_codes(data: dict[str, Any]) -> list[Problem]:
    out = []
    for key, field, what in (("levers", "id", "lever id"), ("risks", "id", "risk id"),
                             ("segments", "code", "segment code"), ("actions", "id", "action id")):
        out += _dup_field(_items(data, key), (key,), field, what)
    bsc = _section(data, "bsc")
    if bsc is not None:
        kpis = [(i, k) for i, k in enumerate(bsc.get("kpis") or []) if isinstance(k, dict)]
        out += _dup_field(kpis, ("bsc", "kpis"), "code", "KPI code")
    return out


def check_tracking(data: dict[str, Any]) -> list[Problem]:
    """The re-forecast raise bounds must not cross, and column names must not clash."""
    tracking = _section(data, "tracking")
    if tracking is None:
        return []
    out = []
    warnings = _section(data, "warnings")
    low = _number(warnings.get("reforecast_raise", 0.05)) if warnings is not None else 0.05
    rule = tracking.get("reforecast")
    high = _number(rule.get("raise_max")) if isinstance(rule, dict) else None
    if low is not None and high is not None and high < low:
        out.append(Problem(("tracking", "reforecast", "raise_max"),
                           f"raise_max {high:g} is below warnings.reforecast_raise {low:g}"))
    columns = tracking.get("columns")
    if isinstance(columns, dict):
        seen: dict[str, str] = {}
        for role, name in columns.items():
            if not isinstance(name, str):
                continue
            key = name.strip().lower()
            if key in seen:
                out.append(Problem(("tracking", "columns", role),
                                   f"column {name!r} is also the {seen[key]} column"))
            seen.setdefault(key, role)
    return out


CHECKS: list[Callable[[dict[str, Any]], list[Problem]]] = [
    check_units, check_channels, check_products, check_calendar, check_budget,
    check_okrs, check_dates, check_codes, check_tracking,
]


def check_plan(data: dict[str, Any]) -> list[Problem]:
    """Every cross-field problem of the raw plan data."""
    out: list[Problem] = []
    for check in CHECKS:
        out += check(data)
    return out
