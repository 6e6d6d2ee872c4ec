"""Load a plan file: YAML → typed :class:`Plan`, with errors that point at lines.

A finance user edits the YAML by hand, so every problem is reported at once,
each with the line in the file, the path in the plan (``units[3].parent``) and
what was expected. Structural problems come from pydantic; cross-references,
sums and cycles from :mod:`xlplan.spec.checks`, run on the raw data so they are
found even when another part of the file has a type error.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from xlplan.spec.checks import Problem, check_plan
from xlplan.spec.friendly import indentation_problem, number_hint, tab_problems
from xlplan.spec.models import Plan
from xlplan.spec.presets import apply_presets

PathKey = tuple[str | int, ...]
T = TypeVar("T")


class PlanError(Exception):
    """A plan file that cannot be used, with every problem found in it."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.file}: {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  {p.render(self.file)}" for p in self.problems)])


@dataclass
class LoadedPlan:
    """A validated plan and where it came from.

    ``data`` is the plan as written (before defaults and presets), for tools that
    write a changed copy of it; ``lines`` (YAML) or ``cells`` (setup workbook) say
    where each part of it is.
    """

    plan: Plan
    path: Path | None
    spec_hash: str
    lines: dict[PathKey, int] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    cells: dict[PathKey, str] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def problem(self, path: PathKey, message: str) -> Problem:
        """A problem at ``path`` of this plan, placed at its line or cell."""
        if self.cells:
            return Problem(path, message, None, nearest(self.cells, path))
        return Problem(path, message, line_of(self.lines, path))


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and sequence item."""


def _index_lines(node: yaml.Node, path: PathKey, out: dict[PathKey, int],
                 duplicates: list[Problem]) -> None:
    """Record the line of every key and item; note keys given twice in one mapping
    (YAML would silently keep the last one, hiding the first)."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        split = _split_numbers(node.value)
        for k, (key_node, value_node) in enumerate(node.value):
            key = key_node.value
            line = key_node.start_mark.line + 1
            if k in split:
                if split[k]:
                    duplicates.append(Problem((*path, key), split[k], line))
                continue
            if key in seen:
                duplicates.append(Problem((*path, key), f"key {key!r} is given twice "
                                          f"(first on line {seen[key]}); keep one", line))
            seen.setdefault(key, line)
            out[(*path, key)] = line
            _index_lines(value_node, (*path, key), out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), out, duplicates)


_GROUP = re.compile(r"^\d{3}(\.\d+)?$")
_HEAD = re.compile(r"^[-+]?\d{1,3}$")


def _plain_scalar(node: yaml.Node, pattern: re.Pattern[str]) -> bool:
    return (isinstance(node, yaml.ScalarNode) and node.style is None
            and bool(pattern.match(node.value)))


def _split_numbers(pairs: list[tuple[yaml.Node, yaml.Node]]) -> dict[int, str]:
    """A number with thousands separators inside ``{…}`` (``target: 14,000,000``) reads as
    ``target: 14`` and keys ``000``, ``000``: find those pairs. Returns {pair index: message}
    (the message on the pair of the key the number belongs to, "" on the split-off keys)."""
    out: dict[int, str] = {}
    k = 0
    while k < len(pairs):
        value_node = pairs[k][1]
        groups = []
        j = k + 1
        while j < len(pairs) and _plain_scalar(pairs[j][0], _GROUP) \
                and isinstance(pairs[j][1], yaml.ScalarNode) and pairs[j][1].value == "":
            groups.append(pairs[j][0].value)
            j += 1
        if groups and _plain_scalar(value_node, _HEAD):
            number = value_node.value + "".join(groups)
            out[k] = f"write numbers without thousands separators: {number}"
            out.update({g: "" for g in range(k + 1, j)})
            k = j
        else:
            k += 1
    return out


def nearest(places: dict[PathKey, T], path: Iterable[str | int]) -> T | None:
    """The place (line, cell) of ``path``, or of its nearest ancestor that has one."""
    key = tuple(path)
    while key:
        if key in places:
            return places[key]
        key = key[:-1]
    return places.get(())


def line_of(lines: dict[PathKey, int], path: Iterable[str | int]) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    return nearest(lines, path)


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML text; syntax errors become a :class:`PlanError` with the line, in plain
    words for tabs and keys indented off their block."""
    tabs = tab_problems(text)
    if tabs:
        raise PlanError(file, [Problem((), message, line) for line, message in tabs])
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        plain = indentation_problem(text, line) if line else None
        if plain is not None:
            raise PlanError(file, [Problem((), plain[1], plain[0])]) from exc
        raise PlanError(file, [Problem((), f"not valid YAML: {exc.problem}", line)]) from exc
    except yaml.YAMLError as exc:
        raise PlanError(file, [Problem((), f"not valid YAML: {exc}")]) from exc
    lines: dict[PathKey, int] = {}
    duplicates: list[Problem] = []
    if node is not None:
        _index_lines(node, (), lines, duplicates)
    if duplicates:
        raise PlanError(file, duplicates)
    return data, lines


def _with_presets(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``data`` with the BSC preset merged in, and how many preset KPIs come first.

    The preset's KPIs are put before the plan's own, so an error in the plan's
    ``bsc.kpis[0]`` is found at ``bsc.kpis[n]``: :func:`_own_kpi_loc` maps it back.
    """
    bsc = data.get("bsc")
    if not isinstance(bsc, dict) or not isinstance(bsc.get("kpis") or [], list):
        return data, 0  # not mergeable; pydantic reports the type of bsc / bsc.kpis
    merged = apply_presets(data)
    if merged is data:
        return data, 0
    return merged, len(merged["bsc"]["kpis"]) - len(bsc.get("kpis") or [])


def _own_kpi_loc(loc: PathKey, n_preset: int) -> PathKey:
    if n_preset and loc[:2] == ("bsc", "kpis") and len(loc) > 2 and isinstance(loc[2], int):
        if loc[2] < n_preset:
            return ("bsc", "preset")
        return ("bsc", "kpis", loc[2] - n_preset, *loc[3:])
    return loc


Locate = Callable[[PathKey], tuple[int | None, str | None]]


def _pydantic_problems(exc: ValidationError, locate: Locate,
                       n_preset: int = 0) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        loc = _own_kpi_loc(loc, n_preset)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; `xlplan schema` lists the keys)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and err["type"] not in ("missing",):
            given = err["input"]
            if number_hint(given) is not None:
                msg = str(number_hint(given))
            elif not isinstance(given, dict | list):
                msg = f"{msg}; got {given!r}"
        problems.append(Problem(loc, msg, *locate(loc)))
    return problems


def validate_data(data: dict[str, Any], file: str, locate: Locate,
                  found: list[Problem] | None = None,
                  order: Callable[[Problem], Any] = lambda p: (p.line or 0, p.where()),
                  ) -> Plan:
    """The validated plan of raw plan data, or :class:`PlanError` with every problem, each
    placed by ``locate`` (a line of a YAML file, a cell of a setup workbook)."""
    merged, n_preset = _with_presets(data)
    problems = list(found or [])
    problems += [  # on the plan's own data, so paths and places are the file's
        Problem(p.path, p.message, *locate(p.path)) for p in check_plan(data)
    ]
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(merged)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, locate, n_preset) + problems
    if problems or plan is None:
        problems.sort(key=order)
        raise PlanError(file, problems)
    return plan


def load_plan_text(text: str, file: str = "<plan>", path: Path | None = None) -> LoadedPlan:
    """Validate plan text; raise :class:`PlanError` listing every problem."""
    data, lines = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise PlanError(file, [Problem((), "a plan must be a mapping of keys (id:, name:, …)", 1)])
    plan = validate_data(data, file, lambda loc: (line_of(lines, loc), None))
    spec_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedPlan(plan=plan, path=path, spec_hash=spec_hash, lines=lines, data=data)


def content_hash(plan: Plan) -> str:
    """The hash of what a plan says (not how its file is laid out or saved)."""
    canonical = json.dumps(plan.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_setup(path: Path) -> LoadedPlan:
    """Read and validate a plan setup workbook (plan.xlsx).

    Its ``spec_hash`` is the hash of the plan's content, not of the file's bytes: Excel
    and LibreOffice rewrite the whole file on every save, and unit workbooks must not be
    turned away because the setup workbook was opened and saved unchanged.
    """
    from xlplan.spec.setup_reader import SetupError, read_setup  # reads with consolidate/

    file = str(path)
    try:
        read = read_setup(path)
    except SetupError as exc:
        raise PlanError(file, [Problem((), str(exc))]) from None

    def locate(loc: PathKey) -> tuple[int | None, str | None]:
        return None, read.cell_of(loc)

    def order(p: Problem) -> tuple[int, str]:
        return read.order.get(p.cell or "", -1), p.where()

    plan = validate_data(read.data, file, locate, read.problems, order)
    return LoadedPlan(plan=plan, path=path.resolve(), spec_hash=content_hash(plan),
                      data=read.data, cells=read.cells)


SETUP_SUFFIXES = (".xlsx", ".xlsm")


def is_setup_file(path: Path) -> bool:
    """A plan setup workbook by its name, or by its first bytes (a zip) whatever its name."""
    if path.suffix.lower() in SETUP_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def load_plan(path: str | Path) -> LoadedPlan:
    """Read and validate a plan file: YAML, or a setup workbook (.xlsx)."""
    p = Path(path)
    if p.is_file() and is_setup_file(p):
        return load_setup(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(str(p), [Problem((), "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise PlanError(str(p), [Problem((), f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        raise PlanError(str(p), [Problem((), f"cannot read: {exc.strerror}")]) from None
    return load_plan_text(text, str(p), p.resolve())


def in_language(loaded: LoadedPlan, language: str | None) -> LoadedPlan:
    """The plan with its workbooks in ``language`` (``--language``; None keeps the plan's).
    The spec hash stays: a workbook in either language is a workbook of the same plan."""
    if language is None or language == loaded.plan.workbooks.language:
        return loaded
    workbooks = loaded.plan.workbooks.model_copy(update={"language": language})
    return replace(loaded, plan=loaded.plan.model_copy(update={"workbooks": workbooks}))
