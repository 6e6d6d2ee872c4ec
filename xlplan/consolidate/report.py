"""Write ``<plan-id>-consolidated.xlsx``: tracker, data, roll-ups, gap, OKR, BSC, budget,
dashboard. Every block is an Excel table (filters, names), statuses are
coloured by conditional formats, charts are native. Written to a temporary
file beside the output and renamed into place, so a reader never sees half a
file and a crash leaves the previous report whole.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from xlplan.consolidate.examine import where
from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.views import (
    FORECAST_COLUMNS,
    MONTHS,
    Forecast,
    Views,
    build_views,
    with_gap,
)
from xlplan.engine.numbers import PlanNumbers
from xlplan.files import replaced, replaced_together
from xlplan.workbook.book import close_workbook

STATUS_FILL = {"G": "#C6EFCE", "Y": "#FFEB9C", "O": "#F8CBAD", "R": "#FFC7CE",
               "accepted": "#C6EFCE", "warnings": "#FFEB9C", "missing": "#D9D9D9",
               "rejected": "#FFC7CE", "superseded": "#EDEDED",
               "incomplete": "#E4DFEC"}


class _Writer:
    def __init__(self, path: Path):
        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True,
                                                  "strings_to_formulas": False,
                                                  "strings_to_urls": False,
                                                  "strings_to_numbers": False})
        self.fmt = {
            "title": self.wb.add_format({"bold": True, "font_size": 14}),
            "money": self.wb.add_format({"num_format": "#,##0.00"}),
            "pct": self.wb.add_format({"num_format": "0.0%"}),
            "wrap": self.wb.add_format({"text_wrap": True, "valign": "top"}),
            "note": self.wb.add_format({"italic": True, "font_color": "#595959"}),
        }
        self.fills = {k: self.wb.add_format({"bg_color": v}) for k, v in STATUS_FILL.items()}
        self.tables: dict[str, tuple[str, int, int, int]] = {}  # name → sheet, first, last, ncol

    def table(self, sheet: str, frame: pd.DataFrame, name: str, title: str,
              formats: dict[str, str] | None = None, widths: dict[str, float] | None = None,
              status: str | None = None, note: str = "") -> Any:
        """A sheet holding one Excel table of ``frame`` under a title."""
        ws = self.wb.add_worksheet(sheet)
        ws.write(0, 0, title, self.fmt["title"])
        if note:
            ws.write(1, 0, note, self.fmt["note"])
        top = 3
        cols = list(frame.columns)
        data = frame.astype(object).where(frame.notna(), None).values.tolist()
        n = max(len(data), 1)
        formats = formats or {}
        ws.add_table(top, 0, top + n, max(len(cols) - 1, 0), {
            "name": name, "style": "Table Style Light 9",
            "columns": [{"header": str(c), "format": self.fmt.get(formats.get(str(c), ""))}
                        for c in cols],
            "data": data or [[None] * len(cols)]})
        for i, col in enumerate(cols):
            width = (widths or {}).get(str(col), max(10, min(40, len(str(col)) + 4)))
            if formats.get(str(col)) == "money" and len(frame):
                # as wide as its widest amount: a number too wide shows as ###
                widest = pd.to_numeric(frame[col], errors="coerce").abs().max()
                if widest == widest:  # not NaN: the column has numbers
                    width = max(width, len(f"{-widest:,.2f}") + 2)
            ws.set_column(i, i, width, self.fmt.get(formats.get(str(col), "")))
        if status and status in cols and data:
            c = cols.index(status)
            for key, fill in self.fills.items():
                ws.conditional_format(top + 1, c, top + n, c, {
                    "type": "cell", "criteria": "==", "value": f'"{key}"', "format": fill})
        ws.freeze_panes(top + 1, 0)
        self.tables[name] = (sheet, top, top + n, len(cols))
        return ws

    def close(self) -> None:
        close_workbook(self.wb)


MONEY = "money"


class OutputFull(RuntimeError):
    """An output could not be written (disk full, …); the previous set is unchanged."""


NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Name the output in an error while its temporary is written (a write error carries
    no file name, and the temporary's would mean nothing to a person)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise OutputFull(f"disk full writing {path} ({exc.strerror or exc}); the previous "
                             "report and CSVs are unchanged") from None
        raise OutputFull(f"cannot write {path} ({exc.strerror or exc}); the previous report "
                         "and CSVs are unchanged") from None


def write_report(outcome: Outcome, numbers: PlanNumbers, facts: pd.DataFrame, path: Path,
                 forecast: Forecast | None = None) -> Views:
    """The consolidated workbook and its two CSVs (every input, the full gap), all three
    written as temporaries and renamed into place only when all are written: a reader sees
    the old set or the new set, never a mix (OutputFull when one cannot be written). With
    a ``forecast`` (the latest re-forecast in the database) the Gap and Org roll-up sheets
    show the gap against it beside the gap against the budget."""
    accepted = [u for u, s in outcome.units.items() if s == "accepted"]
    views = build_views(numbers, facts, accepted, forecast)
    outputs = [path, facts_csv_path(path), gap_csv_path(path)]
    with _writing(path), replaced_together(outputs) as (book, facts_csv, gap_csv):
        with _writing(path):
            _workbook(outcome, numbers, facts, views, book, path, forecast)
        with _writing(outputs[1]):
            to_csv(_facts_frame(facts), facts_csv)
        with _writing(outputs[2]):
            to_csv(views.gap, gap_csv)
    return views


def _workbook(outcome: Outcome, numbers: PlanNumbers, facts: pd.DataFrame, views: Views,
              tmp: Path, path: Path, forecast: Forecast | None = None) -> None:
    """The consolidated workbook into ``tmp`` (``path``: where it will be)."""
    w = _Writer(tmp)
    dashboard = w.wb.add_worksheet("Dashboard")
    _tracker(w, outcome)
    _files(w, outcome)
    against = forecast_note(forecast)
    _gap(w, views, numbers, gap_csv_path(path).name, against)
    org = views.org.copy()
    w.table("Org roll-up", org, "OrgRollup", "Commitments rolled up through the org tree",
            {**{m: MONEY for m in MONTHS}, "commitment": MONEY, "target": MONEY,
             "gap": MONEY, "attainment": "pct", **FORECAST_MONEY}, {"name": 24}, "status",
            "Each node sums the accepted input units below it; blank = nothing "
            "submitted yet." + against)
    for sheet, frame, name in (("By product", views.by_product, "ByProduct"),
                               ("By channel", views.by_channel, "ByChannel")):
        w.table(sheet, with_gap(frame, numbers), name, f"Target vs commitment {sheet.lower()}",
                {"target": MONEY, "commitment": MONEY, "gap": MONEY, "attainment": "pct"},
                status="status")
    w.table("OKR", views.okr, "OkrRollup", "Key results the units set, with progress",
            {"progress": "pct", "objective_progress": "pct"},
            {"title": 30, "key_result": 36})
    w.table("BSC", views.bsc, "BscScores", "Balanced scorecard: unit KPIs scored (0–10)",
            {"actual": MONEY, "target": MONEY}, {"name": 26})
    w.table("Budget", views.budget, "BudgetRequests",
            "Budget requests against allocations",
            {"allocation": MONEY, "requested": MONEY, "reserve_draw": MONEY,
             "difference": MONEY})
    _data(w, facts, facts_csv_path(path).name)
    _dashboard(w, dashboard, outcome, views)
    w.close()


DATA_CELLS = 1_000_000  # above this, the inputs are in the CSV only (see _data)


def _data(w: _Writer, facts: pd.DataFrame, csv_name: str) -> None:
    """Every accepted input as a table; or, past DATA_CELLS cells (a plan with hundreds of
    units), a pointer to the CSV that holds them. XlsxWriter keeps about 220 bytes a cell
    until the file is closed: 436,000 inputs (500 units) took 775 MB and 19 s, for a copy
    of the CSV written beside the workbook anyway."""
    data = facts.drop(columns=["plan_id"], errors="ignore")
    title = "Every accepted input (the file that counts for each unit)"
    if data.size <= DATA_CELLS:
        w.table("Data", data, "Consolidated", title, {"value_num": MONEY},
                {"sha256": 18, "item": 30})
        return
    ws = w.wb.add_worksheet("Data")
    ws.write(0, 0, title, w.fmt["title"])
    ws.write(1, 0, f"{len(data):,} inputs: too many to keep this workbook light. They are "
                   f"all in {csv_name}, beside this file (it opens in Excel), and in the "
                   "history database.", w.fmt["note"])

SHOWN_STATUSES = ("accepted", "warnings", "incomplete", "rejected", "missing")


def _tracker(w: _Writer, outcome: Outcome) -> None:
    frame = outcome.tracker
    w.table("Tracker", frame, "Tracker", "Submission tracker", widths={
        "name": 22, "file": 34, "modified": 22, "reasons": 90}, status="status",
        note="status: the file's decision, accepted / warnings (accepted, see reasons) / "
             "incomplete (intact, but a completeness rule is unmet: not counted) / "
             "rejected / missing; superseded counts older accepted files of the unit. season: "
             "where the unit stands (sent, submitted, late, returned, approved …; xlplan "
             "review and xlplan log).")


def _files(w: _Writer, outcome: Outcome) -> None:
    rows = []
    for f in outcome.files:
        base = {"file": f.path.name, "unit": f.unit, "status": f.status,
                "examined": "this run" if f.new else "earlier run", "sha256": f.sha256[:16]}
        if not f.findings:
            rows.append({**base, "level": "", "where": "", "message": ""})
        for n in f.findings:
            rows.append({**base, "level": n["level"], "where": where(n["sheet"], n["cell"]),
                         "message": n["message"]})
    frame = pd.DataFrame(rows, columns=["file", "unit", "status", "examined", "sha256", "level",
                                        "where", "message"])
    w.table("Files", frame, "Files", "Every file in the inbox and what was found",
            widths={"file": 36, "where": 18, "message": 100}, status="status")


GAP_CELLS = 1_000_000  # above this, the Gap sheet sums products and channels (see _gap)
BANDS_NOTE = "Status by the plan's bands (G ≥ 95% … R); blank where the unit has not submitted."


def facts_csv_path(path: Path) -> Path:
    """Where every accepted input goes, beside the workbook."""
    return path.with_suffix(".csv")


def gap_csv_path(path: Path) -> Path:
    """Where the full gap (unit × product × channel × month) goes, beside the workbook."""
    return path.with_name(f"{path.stem}-gap.csv")


FORECAST_MONEY = {c: MONEY for c in FORECAST_COLUMNS}


def forecast_note(forecast: Forecast | None) -> str:
    """What the forecast columns are (nothing without a forecast)."""
    if forecast is None:
        return ""
    return (f" forecast: version {forecast.name} (re-forecast as of {forecast.as_of}, the "
            "latest in the history database); forecast_gap = commitment − forecast, beside "
            "gap = commitment − target (the budget).")


def _gap(w: _Writer, views: Views, numbers: PlanNumbers, csv_name: str,
         against: str = "") -> None:
    """Target vs commitment per unit × product × channel × month; or, past GAP_CELLS cells,
    per unit × month, with the detail in the gap CSV. The detail has a row per unit,
    product, channel leaf and month (576 a unit in the example plan): at 500 units
    XlsxWriter held it in 514 MB, and past 1,820 units it would not fit in a sheet."""
    gap, note = views.gap, "Per unit × product × channel × month. " + BANDS_NOTE
    if gap.size > GAP_CELLS:
        sums = ["target", "commitment", *(["forecast"] if "forecast" in gap else [])]
        gap = with_gap(gap.groupby(["unit", "month"], sort=False)[sums]
                       .sum(min_count=1).reset_index(), numbers)
        if "forecast" in gap:
            forecast = gap.pop("forecast")
            gap["forecast"], gap["forecast_gap"] = forecast, gap["commitment"] - forecast
        note = (f"Per unit × month, products and channels summed: the {len(views.gap):,} "
                f"rows by unit × product × channel × month are in {csv_name}, beside this "
                f"file. " + BANDS_NOTE)
    w.table("Gap", gap, "Gap", "Top-down target vs bottom-up commitment",
            {"target": MONEY, "commitment": MONEY, "gap": MONEY, "attainment": "pct",
             **FORECAST_MONEY}, status="status", note=note + against)


def _dashboard(w: _Writer, ws: Any, outcome: Outcome, views: Views) -> None:
    ws.write(0, 0, f"Consolidation: {outcome.plan_id}", w.fmt["title"])
    counts = outcome.tracker["status"].value_counts() if len(outcome.tracker) else pd.Series(
        dtype=int)
    ws.write_row(2, 0, ["Status", "Units"])
    for i, key in enumerate(SHOWN_STATUSES):
        ws.write(3 + i, 0, key, w.fills[key])
        ws.write_number(3 + i, 1, int(counts.get(key, 0)))
    company = views.org.iloc[0] if len(views.org) else None
    ws.write_row(9, 0, ["Month", "Target (submitted units)", "Commitment"])
    by_month = views.gap.groupby("month")[["target", "commitment"]].sum(min_count=1)
    submitted = views.gap[views.gap["commitment"].notna()].groupby("month")["target"].sum()
    for i, m in enumerate(MONTHS):
        ws.write(10 + i, 0, m)
        ws.write_number(10 + i, 1, float(submitted.get(m, 0.0)), w.fmt["money"])
        value = by_month["commitment"].get(m) if m in by_month.index else None
        if value is not None and pd.notna(value):
            ws.write_number(10 + i, 2, float(value), w.fmt["money"])
    if company is not None:
        ws.write(24, 0, "Company target")
        ws.write_number(24, 1, float(company["target"]), w.fmt["money"])
        ws.write(25, 0, "Committed (accepted units)")
        commitment = company["commitment"]
        if pd.notna(commitment):
            ws.write_number(25, 1, float(commitment), w.fmt["money"])
    ws.set_column(0, 0, 26)
    ws.set_column(1, 2, 20)
    chart = w.wb.add_chart({"type": "column"})
    for col, name in ((1, "Target"), (2, "Commitment")):
        chart.add_series({"name": name, "categories": ["Dashboard", 10, 0, 21, 0],
                          "values": ["Dashboard", 10, col, 21, col]})
    chart.set_title({"name": "Target vs commitment by month (submitted units)"})
    chart.set_size({"width": 720, "height": 320})
    ws.insert_chart(2, 4, chart)
    pie = w.wb.add_chart({"type": "pie"})
    last = 2 + len(SHOWN_STATUSES)
    pie.add_series({"name": "Submissions", "categories": ["Dashboard", 3, 0, last, 0],
                     "values": ["Dashboard", 3, 1, last, 1],
                     "points": [{"fill": {"color": STATUS_FILL[k]}} for k in
                                SHOWN_STATUSES]})
    pie.set_title({"name": "Submissions"})
    pie.set_size({"width": 360, "height": 280})
    ws.insert_chart(19, 4, pie)
    units = views.org[views.org["code"].isin(outcome.units)]
    first = 28
    ws.write_row(first - 1, 0, ["Unit", "Commitment ÷ target"])
    for i, row in enumerate(units.to_dict("records")):
        ws.write(first + i, 0, str(row["name"]))
        if pd.notna(row["attainment"]):
            ws.write_number(first + i, 1, float(row["attainment"]), w.fmt["pct"])
    if len(units):
        bar = w.wb.add_chart({"type": "bar"})
        bar.add_series({"name": "Attainment",
                        "categories": ["Dashboard", first, 0, first + len(units) - 1, 0],
                        "values": ["Dashboard", first, 1, first + len(units) - 1, 1]})
        bar.set_title({"name": "Commitment ÷ target by unit"})
        bar.set_x_axis({"num_format": "0%"})
        bar.set_legend({"none": True})
        bar.set_size({"width": 480, "height": 320})
        ws.insert_chart(19, 10, bar)


INJECTION_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


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
    write_csv(_facts_frame(facts), path)


def _facts_frame(facts: pd.DataFrame) -> pd.DataFrame:
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
