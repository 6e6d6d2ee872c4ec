"""Input rules: one definition for the workbook's data validation and the consolidator.

A rule is written into the workbook as Excel data validation (so a manager gets
a drop-down or a range check while typing) and listed in the manifest. Consolidation
checks a submitted value against the very same rule, taken from its own dry run of the
unit's template, never from the file's manifest (which the file's sender can edit).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from xlplan.i18n import Msg, Words, data, msg

Kind = Literal["number", "integer", "ratio", "list", "date", "text"]
LIMIT = 1e15  # the largest magnitude a number input takes, in the validation and the check


@dataclass(frozen=True)
class InputRule:
    kind: Kind = "number"
    minimum: float | None = 0.0
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    start: dt.date | None = None
    end: dt.date | None = None
    title: str = ""
    message: str = ""

    def validation(self, words: Words | None = None) -> dict[str, Any]:
        """XlsxWriter ``data_validation`` options for this rule, its words shown by ``words``
        (the workbook's language; English when None)."""
        shown = words or Words()
        opts: dict[str, Any] = {"input_title": shown(self.title)[:32],
                                "input_message": shown(self.message)[:255],
                                "error_title": shown(msg("Not accepted")),
                                "ignore_blank": not self.required}
        if self.kind == "list":
            opts |= {"validate": "list", "source": list(self.choices)}
        elif self.kind == "date":
            opts |= {"validate": "date", "criteria": "between",
                     "minimum": self.start or dt.date(1900, 1, 1),
                     "maximum": self.end or dt.date(9999, 12, 31)}
        elif self.kind == "text":
            opts |= {"validate": "length", "criteria": "<=", "value": 32767}
        else:
            kind = "integer" if self.kind == "integer" else "decimal"
            lo, hi = self.bounds()
            opts |= {"validate": kind, "criteria": "between", "minimum": lo, "maximum": hi}
        opts["error_message"] = shown(self.expectation())
        return opts

    def bounds(self) -> tuple[float, float]:
        """The range a number input must lie in: the rule's own, within ±LIMIT. One
        definition for the workbook's validation and the consolidator's check, so a value
        Excel would refuse is never accepted from a file that skipped the validation (and
        no amount reaches the engine's decimals so large that they overflow)."""
        lo = -LIMIT if self.minimum is None else max(self.minimum, -LIMIT)
        hi = LIMIT if self.maximum is None else min(self.maximum, LIMIT)
        return lo, hi

    def expectation(self) -> Msg:
        """What is expected, as a catalog message (the validation pop-up's words)."""
        if self.kind == "list":
            return msg("one of: {choices}", choices=data(", ".join(self.choices)))
        if self.kind == "date":
            return msg("a date from {start} to {end}", start=data(self.start),
                       end=data(self.end))
        if self.kind == "text":
            return msg("text")
        what = {"integer": msg("a whole number"),
                "ratio": msg("a ratio (e.g. 0.35)")}.get(self.kind, msg("a number"))
        if self.minimum is not None and self.maximum is not None:
            return msg("{what} from {low} to {high}", what=what, low=data(f"{self.minimum:g}"),
                       high=data(f"{self.maximum:g}"))
        if self.minimum is not None:
            return msg("{what} ≥ {low}", what=what, low=data(f"{self.minimum:g}"))
        return what

    def describe(self) -> str:
        """What is expected, in English words (the CLI's findings and messages)."""
        return Words()(self.expectation())

    def check(self, value: Any) -> str | None:
        """None if ``value`` (as read from a cell) is acceptable, else what is wrong (in
        English words; :meth:`problem` is the catalog message)."""
        problem = self.problem(value)
        return None if problem is None else Words()(problem)

    def problem(self, value: Any) -> Msg | None:
        """None if ``value`` (as read from a cell) is acceptable, else what is wrong, as a
        catalog message (a finding shows it in the workbook's language)."""
        expected = self.expectation()
        if value is None or value == "":
            return msg("required: expected {expected}", expected=expected) \
                if self.required else None
        if self.kind == "list":
            return None if str(value) in self.choices else msg(
                "{value} is not {expected}", value=data(repr(value)), expected=expected)
        if self.kind == "text":
            return None
        if self.kind == "date":
            if not isinstance(value, dt.date):
                return msg("{value} is not a date", value=data(repr(value)))
            day = value.date() if isinstance(value, dt.datetime) else value
            if (self.start and day < self.start) or (self.end and day > self.end):
                return msg("{value} is not {expected}", value=data(day), expected=expected)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value) or (self.kind == "integer" and value != int(value)):
            return msg("{value} is not {expected}", value=data(repr(value)), expected=expected)
        if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum):
            return msg("{value} is not {expected}", value=data(f"{value:g}"), expected=expected)
        lo, hi = self.bounds()
        if value > hi:
            return msg("{value} is over {limit}, the largest number an input takes",
                       value=data(f"{value:g}"), limit=data(f"{hi:g}"))
        if value < lo:
            return msg("{value} is under {limit}, the smallest number an input takes",
                       value=data(f"{value:g}"), limit=data(f"{lo:g}"))
        return None

    def to_json(self) -> dict[str, Any]:
        """The rule as the manifest stores it (a fresh dict: callers may change it)."""
        return dict(_rule_json(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InputRule:
        data = dict(data)
        for key in ("start", "end"):
            if key in data:
                data[key] = dt.date.fromisoformat(data[key])
        if "choices" in data:
            data["choices"] = tuple(data["choices"])
        data.setdefault("minimum", None)
        return cls(**data)


@functools.lru_cache(maxsize=4096)
def _rule_json(rule: InputRule) -> dict[str, Any]:
    """A rule as JSON, once per distinct rule (a workbook's thousands of inputs share a
    few rules, and ``asdict`` per input was a tenth of a build)."""
    # "is" for False: a minimum of 0.0 equals False and must be kept
    out = {k: v for k, v in asdict(rule).items()
           if not (v is None or v is False or v == () or v == "")}
    for key in ("title", "message"):  # in English words: a manifest means the same in any book
        if key in out:
            out[key] = Words()(out[key])
    for key in ("start", "end"):
        if key in out:
            out[key] = out[key].isoformat()
    if "choices" in out:
        out["choices"] = list(out["choices"])
    return out


AMOUNT = InputRule("number", 0.0, title=msg("Amount"),
                   message=msg("An amount ≥ 0 in the plan currency."))
RATIO = InputRule("ratio", 0.0, 1.0, title=msg("Ratio"),
                  message=msg("A ratio from 0 to 1 (35% = 0.35)."))
TEXT = InputRule("text", None, title=msg("Text"))


@dataclass
class InputCell:
    """An input cell as the manifest lists it."""

    sheet: str
    cell: str
    item: str
    period: str
    rule: InputRule = field(default_factory=InputRule)
