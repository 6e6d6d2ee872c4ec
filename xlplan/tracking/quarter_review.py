"""The quarterly review's arithmetic (季度复盘): which quarter, its rows, drafted causes and
adjustments. Pure: the Review sheet of the board (:mod:`xlplan.tracking.board.review`)
lays these out."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from xlplan.engine.rounding import major_float
from xlplan.i18n import Data, Msg, data, msg, quarter_label
from xlplan.tracking.actuals import rows as records
from xlplan.tracking.track import TrackResult
from xlplan.tracking.warning_rules import LEVEL_WORDS, RULE_WORDS, Alert


def review_quarter(result: TrackResult) -> tuple[int, bool]:
    """The quarter to review (0-based) and whether it has ended."""
    if result.through < 0:
        return 0, False
    cal = result.calendar
    day = cal.days[result.through]
    ended = [q for q in range(4) if cal.quarter_span(q).end <= day]
    if ended:
        return ended[-1], True
    return int(cal.month_of_day[result.through]) // 3, False


def quarter_rows(result: TrackResult, unit: str) -> dict[str, tuple[int, float, bool]]:
    c = result.compare
    rows = c[(c["unit"] == unit) & (c["grain"] == "quarter")]
    return {str(r.label): (int(r.target), float(r.actual), bool(r.partial))
            for r in records(rows)}


def causes(alerts: list[Alert], unit: str, first: dt.date, last: dt.date) -> Msg:
    """The warnings that fired for ``unit`` in the quarter, one line each: the first draft of
    the review's causes (a message, shown in the workbook's language)."""
    mine = [a for a in alerts if a.where == unit and a.since <= last and a.until >= first]
    if not mine:
        return msg("No warning fired in the quarter.")
    lines = [msg("• {level}: {what} (since {since}, rule {rule})", level=LEVEL_WORDS[a.level],
                 what=a.said.what, since=data(a.since.isoformat()), rule=RULE_WORDS[a.rule])
             for a in mine]
    return joined(lines)


def joined(lines: list[Msg]) -> Msg:
    """Messages one per line, as one message (each translated when it is shown)."""
    text = lines[-1]
    for line in reversed(lines[:-1]):
        text = msg("{line}\n{rest}", line=line, rest=text)
    return text


def adjustment(result: TrackResult, unit: str, q: int, target: int,
               actual: float, beat_raise: float) -> tuple[Msg, Msg | Data]:
    """Draft adjustment and next-quarter focus of one unit (see the Review sheet's docstring)."""
    su: Decimal = result.plan.currency.smallest_unit

    def money(minor: float) -> float:
        return major_float(minor, su)

    cur = data(result.plan.currency.code)
    root = result.targets.root
    nxt = q + 1
    if math.isnan(actual):
        return msg("No actuals yet."), data("")
    gap = target - actual
    adjust: Msg
    if unit == root:
        if beat_raise:
            adjust = msg("{quarter} beat its target by {beat:.1%}: the rule raises {next} by "
                         "{rise:.1%} (xlplan reforecast).", quarter=quarter_label(q + 1),
                         beat=actual / target - 1, next=quarter_label(nxt + 1), rise=beat_raise)
        elif gap > 0:
            adjust = msg("Re-spread the shortfall of {gap:,.0f} {currency} over the rest of the "
                         "year (xlplan reforecast keeps the annual target).", gap=money(gap),
                         currency=cur)
        else:
            adjust = msg("On plan: no re-forecast needed.")
    elif gap > 0:
        adjust = msg("Close {gap:,.0f} {currency} over the rest of the year.", gap=money(gap),
                     currency=cur)
    else:
        adjust = msg("Ahead by {gap:,.0f} {currency}: hold the pace.", gap=money(-gap),
                     currency=cur)
    if nxt > 3:
        return adjust, msg("Year end: attainment against the year-end bar of {bar:.0%}.",
                           bar=result.plan.warnings.year_end_bar)
    next_target = int(result.targets.months[unit][3 * nxt:3 * nxt + 3].sum())
    if beat_raise:
        return adjust, msg("{quarter} target {amount:,.0f} {currency} (raised {rise:.1%}: "
                           "{raised:,.0f}).", quarter=quarter_label(nxt + 1),
                           amount=money(next_target), currency=cur, rise=beat_raise,
                           raised=money(next_target) * (1 + beat_raise))
    return adjust, msg("{quarter} target {amount:,.0f} {currency}.",
                       quarter=quarter_label(nxt + 1), amount=money(next_target), currency=cur)
