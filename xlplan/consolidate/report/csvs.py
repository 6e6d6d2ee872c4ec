"""The two CSVs beside the consolidated workbook (every accepted input, the full gap): for
machines, so snake_case English columns whatever the workbook's language, and text made
safe for a spreadsheet that opens them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from xlplan.files import replaced

INJECTION_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def facts_csv_path(path: Path) -> Path:
    """Where every accepted input goes, beside the workbook."""
    return path.with_suffix(".csv")


def gap_csv_path(path: Path) -> Path:
    """Where the full gap (unit × product × channel × month) goes, beside the workbook."""
    return path.with_name(f"{path.stem}-gap.csv")


def neutralise(text: str) -> str:
    """A text cell as CSV may carry it safely: a leading ``'`` on every line that a
    spreadsheet would read as a formula (``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(…)``; OWASP's
    advice for CSV injection). Every line, not just the first: a spreadsheet starts a new
    row, or a new formula, after a bare carriage return as after a line feed. Numbers are
    never text here, so ``-5`` is not touched."""
    parts = _LINE_BREAK.split(text)
    for i in range(0, len(parts), 2):  # the lines; the odd places hold the breaks
        if parts[i].startswith(INJECTION_START) or (i == 0 and len(parts) > 1 and
                                                     not parts[0]):
            parts[i] = "'" + parts[i]
    return "".join(parts)


def write_facts_csv(facts: pd.DataFrame, path: Path) -> None:
    """The consolidated inputs as CSV (UTF-8 with BOM, for Excel), text neutralised."""
    write_csv(facts_frame(facts), path)


def facts_frame(facts: pd.DataFrame) -> pd.DataFrame:
    """The inputs as the CSV holds them: without the plan id, text neutralised."""
    out = facts.drop(columns=["plan_id"], errors="ignore").copy()
    if "value_text" in out:
        out["value_text"] = out["value_text"].map(
            lambda v: neutralise(v) if isinstance(v, str) else v)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (UTF-8 with BOM, for Excel), through a temporary file renamed into
    place."""
    with replaced(path) as tmp:
        to_csv(frame, tmp)


def to_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (UTF-8 with BOM, for Excel). Rows end in CR LF, as RFC 4180 and
    Excel write them: the csv module quotes a field holding any character of the line
    ending, so with pandas' default ``\\n`` a bare ``\\r`` went out unquoted and split the
    row in two for a spreadsheet."""
    frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
