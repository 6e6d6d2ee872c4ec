"""The reliability suite: counts what it tried and prints one summary line at the end."""

from __future__ import annotations

from typing import Any

from summary import NOTES, STATS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STATS:
        return
    slowest = NOTES.get("slowest")
    line = (f"reliability: {STATS['cases']} bad-input cases tried, {STATS['swept']} corpus "
            f"files swept, {STATS['kills']} kills survived, {STATS['tampers']} random tampers "
            f"caught, {STATS['valid']} random valid inputs accepted, "
            f"{'nothing lost' if not STATS['lost'] else str(STATS['lost']) + ' LOST'}")
    if slowest:
        line += f"; slowest corpus file {slowest[0]} ({slowest[1]:.2f} s)"
    if NOTES.get("decisions"):
        line += f"; corpus decisions {dict(NOTES['decisions'])}"
    terminalreporter.write_line(line)
