"""The quarterly review's arithmetic (季度复盘): which quarter, its rows, drafted causes and
adjustments. Pure: the Review sheet of the board (:mod:`xlplan.tracking.board.review`)
lays these out."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from xlplan.engine.rounding import major_float
from xlplan.tracking.actuals import rows as records
from xlplan.tracking.track import TrackResult
from xlplan.tracking.warning_rules import Alert


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


def causes(alerts: list[Alert], unit: str, first: dt.date, last: dt.date) -> str:
    mine = [a for a in alerts if a.where == unit and a.since <= last and a.until >= first]
    if not mine:
        return "No warning fired in the quarter."
    return "\n".join(f"• {a.level}: {a.what} (since {a.since.isoformat()}, rule {a.rule})"
                     for a in mine)


def adjustment(result: TrackResult, unit: str, q: int, target: int,
                actual: float, beat_raise: float) -> tuple[str, str]:
    """Draft adjustment and next-quarter focus of one unit (see the Review sheet's docstring)."""
    su: Decimal = result.plan.currency.smallest_unit

    def money(minor: float) -> float:
        return major_float(minor, su)

    cur = result.plan.currency.code
    root = result.targets.root
    nxt = q + 1
    if math.isnan(actual):
        return "No actuals yet.", ""
    gap = target - actual
    if unit == root:
        if beat_raise:
            adjust = (f"Q{q + 1} beat its target by {actual / target - 1:.1%}: the rule raises "
                      f"Q{nxt + 1} by {beat_raise:.1%} (xlplan reforecast).")
        elif gap > 0:
            adjust = (f"Re-spread the shortfall of {money(gap):,.0f} {cur} over the rest of "
                      "the year (xlplan reforecast keeps the annual target).")
        else:
            adjust = "On plan: no re-forecast needed."
    elif gap > 0:
        adjust = f"Close {money(gap):,.0f} {cur} over the rest of the year."
    else:
        adjust = f"Ahead by {money(-gap):,.0f} {cur}: hold the pace."
    if nxt > 3:
        return adjust, "Year end: attainment against the year-end bar of " \
                       f"{result.plan.warnings.year_end_bar:.0%}."
    next_target = int(result.targets.months[unit][3 * nxt:3 * nxt + 3].sum())
    focus = f"Q{nxt + 1} target {money(next_target):,.0f} {cur}"
    if beat_raise:
        focus += f" (raised {beat_raise:.1%}: {money(next_target) * (1 + beat_raise):,.0f})"
    return adjust, focus + "."
