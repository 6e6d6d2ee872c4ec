"""Load a plan file: YAML → typed :class:`Plan`, with errors that point at lines.

A finance user edits the YAML by hand, so every problem is reported at once,
each with the line in the file, the path in the plan (``units[3].parent``) and
what was expected. Structural problems come from pydantic; cross-references,
sums and cycles from :mod:`xlplan.spec.checks`, run on the raw data so they are
found even when another part of the file has a type error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xlplan.spec.checks import Problem, check_plan
from xlplan.spec.models import Plan
from xlplan.spec.presets import apply_presets

PathKey = tuple[str | int, ...]


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
    """A validated plan and where it came from."""

    plan: Plan
    path: Path | None
    spec_hash: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and sequence item."""


def _index_lines(node: yaml.Node, path: PathKey, out: dict[PathKey, int],
                 duplicates: list[Problem]) -> None:
    """Record the line of every key and item; note keys given twice in one mapping
    (YAML would silently keep the last one, hiding the first)."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(Problem((*path, key), f"key {key!r} is given twice "
                                          f"(first on line {seen[key]}); keep one", line))
            seen.setdefault(key, line)
            out[(*path, key)] = line
            _index_lines(value_node, (*path, key), out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), out, duplicates)


def line_of(lines: dict[PathKey, int], path: Iterable[str | int]) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    key = tuple(path)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return lines.get(())


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML text; syntax errors become a :class:`PlanError` with the line."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
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


def _pydantic_problems(exc: ValidationError, lines: dict[PathKey, int],
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
            if not isinstance(given, dict | list):
                msg = f"{msg}; got {given!r}"
        problems.append(Problem(loc, msg, line_of(lines, loc)))
    return problems


def load_plan_text(text: str, file: str = "<plan>", path: Path | None = None) -> LoadedPlan:
    """Validate plan text; raise :class:`PlanError` listing every problem."""
    data, lines = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise PlanError(file, [Problem((), "a plan must be a mapping of keys (id:, name:, …)", 1)])
    merged, n_preset = _with_presets(data)
    problems = [  # on the plan's own data, so paths and lines are the file's
        Problem(p.path, p.message, line_of(lines, p.path)) for p in check_plan(data)
    ]
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(merged)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, lines, n_preset) + problems
    if problems or plan is None:
        problems.sort(key=lambda p: (p.line or 0, p.where()))
        raise PlanError(file, problems)
    spec_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedPlan(plan=plan, path=path, spec_hash=spec_hash, lines=lines)


def load_plan(path: str | Path) -> LoadedPlan:
    """Read and validate a plan file."""
    p = Path(path)
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
