"""The detail sheets of the consolidated workbook: tracker, files, gap, the org roll-up
(an outline with subtotal formulas), by product and channel, OKR, BSC, budget, the inputs.

Each writer returns where a unit's rows start, so the summary can link to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from xlplan.consolidate.examine import where
from xlplan.consolidate.outcome import Outcome
from xlplan.consolidate.report.writer import (
    FILE_FILL,
    FILE_WORDS,
    LEVEL_WORDS,
    PERSPECTIVE_WORDS,
    SEASON_FILL,
    SEASON_WORDS,
    STATUS_FILL,
    TOP,
    YES_NO,
    Column,
    Writer,
)
from xlplan.consolidate.views import MONTHS, Forecast, Views, with_gap
from xlplan.engine.numbers import PlanNumbers
from xlplan.i18n import Msg, data, display_width, msg, pmsg
from xlplan.workbook.styles import shown_number

# stable keys of the sheets (their names as shown follow the language)
SUMMARY, TRACKER, FILES, GAP, ORG = (msg("Summary"), msg("Tracker"), msg("Files"), msg("Gap"),
                                     msg("Org roll-up"))
BY_PRODUCT, BY_CHANNEL, OKR, BSC, BUDGET, DATA, CHART_DATA = (
    msg("By product"), msg("By channel"), msg("OKR"), msg("BSC"), msg("Budget"), msg("Data"),
    msg("Chart data"))
LIGHT = Column("status", msg("Light"), "status", {k: data(k) for k in STATUS_FILL}, STATUS_FILL)


@dataclass
class Anchors:
    """Where each unit's rows start (0-based sheet rows), for the summary's links."""

    gap: dict[str, int] = field(default_factory=dict)
    org: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Names:
    """The plan's names of its codes, to show beside them."""

    units: dict[str, str]
    products: dict[str, str]
    channels: dict[str, str]

    @classmethod
    def of(cls, numbers: PlanNumbers) -> Names:
        plan = numbers.plan
        return cls({c: u.name for c, u in numbers.tree.units.items()},
                   {p.code: p.name for p in plan.products},
                   {c.code: c.name for c in plan.channels})


def first_rows(codes: pd.Series) -> dict[str, int]:
    """The sheet row of each code's first row in a table written at :data:`TOP`."""
    firsts: dict[str, int] = {}
    for i, code in enumerate(codes.tolist()):
        firsts.setdefault(str(code), TOP + 1 + i)
    return firsts


def tracker(w: Writer, outcome: Outcome) -> None:
    columns = [Column("unit", msg("Unit"), "code"), Column("name", msg("Name")),
               Column("status", msg("File decision"), "status", FILE_WORDS, FILE_FILL),
               Column("season", msg("Season status"), "status", SEASON_WORDS, SEASON_FILL),
               Column("late", msg("Late"), "word", YES_NO),
               Column("file", msg("File")), Column("modified", msg("Saved"), "datetime"),
               Column("files", msg("Files received"), "int"),
               Column("superseded", msg("Superseded files"), "int"),
               Column("sent", msg("Sent"), "datetime"),
               Column("first_submitted", msg("First submitted"), "datetime"),
               Column("last_submitted", msg("Last submitted"), "datetime"),
               Column("reviewed", msg("Reviewed"), "datetime"),
               Column("reviewed_by", msg("Reviewed by")),
               Column("approved", msg("Approved"), "datetime"),
               Column("approved_by", msg("Approved by")),
               Column("comment", msg("Comment")),
               Column("after_approval", msg("Files after approval"), "int"),
               Column("reasons", msg("Reasons"))]
    frame = outcome.tracker
    if "reasons" in frame:  # the one reason the tracker itself gives, in the language
        frame = frame.assign(reasons=frame["reasons"].replace(
            {"no workbook received": w(msg("no workbook received"))}))
    w.table(TRACKER, frame, columns, "Tracker", msg("Submission tracker"),
            msg("File decision: accepted, accepted with warnings (see the reasons), incomplete "
                "(intact, but a completeness rule is unmet: not counted), rejected or missing. "
                "Season status: where the unit stands (sent, submitted, late, returned, "
                "approved …; xlplan review and xlplan log)."), freeze=2,
            legend=[(FILE_FILL[k], FILE_WORDS[k]) for k in FILE_FILL])


def files(w: Writer, outcome: Outcome, names: Names) -> dict[str, int]:
    """Every file and each of its findings (the message in the workbook's language where
    the finding carries its words)."""
    rows = []
    for f in outcome.files:
        base = {"file": f.path.name, "unit": f.unit, "unit_name": names.units.get(f.unit, ""),
                "status": f.status, "examined": "new" if f.new else "seen",
                "sha256": f.sha256[:16]}
        if not f.findings:
            rows.append({**base, "level": "", "where": "", "message": ""})
        for n in f.findings:
            words = n.get("words")
            text = w(words) if isinstance(words, Msg) else w(data(n["message"]))
            rows.append({**base, "level": n["level"], "where": where(n["sheet"], n["cell"]),
                         "message": text})
    frame = pd.DataFrame(rows, columns=["file", "unit", "unit_name", "status", "examined",
                                        "sha256", "level", "where", "message"])
    columns = [Column("file", msg("File")), Column("unit", msg("Unit"), "code"),
               Column("unit_name", msg("Name")),
               Column("status", msg("File decision"), "status", FILE_WORDS, FILE_FILL),
               Column("examined", msg("Examined"), "word",
                      {"new": msg("this run"), "seen": msg("an earlier run")}),
               Column("sha256", msg("SHA-256 (start)"), "code"),
               Column("level", msg("Finding"), "word", LEVEL_WORDS),
               Column("where", msg("Sheet and cell"), "code"), Column("message", msg("Message"))]
    w.table(FILES, frame, columns, "Files", msg("Every file in the inbox and what was found"),
            freeze=1, legend=[(FILE_FILL[k], FILE_WORDS[k]) for k in FILE_FILL])
    return first_rows(frame["unit"]) if len(frame) else {}


def _gap_columns(w: Writer, frame: pd.DataFrame, detail: bool) -> list[Column]:
    columns = [Column("unit", msg("Unit"), "code"), Column("unit_name", msg("Name"))]
    if detail:
        columns += [Column("product", msg("Product"), "code"),
                    Column("product_name", msg("Product name")),
                    Column("channel", msg("Channel"), "code"),
                    Column("channel_name", msg("Channel name"))]
    columns += [Column("month", msg("Month"), "month"),
                Column("target", w.money(msg("Target")), "money"),
                Column("commitment", w.money(msg("Commitment")), "money"),
                Column("gap", w.money(msg("Gap")), "money"),
                Column("attainment", msg("Attainment"), "pct"), LIGHT]
    if "forecast" in frame:
        columns += [Column("forecast", w.money(msg("Forecast")), "money"),
                    Column("forecast_gap", w.money(msg("Gap to forecast")), "money")]
    return columns


def gap(w: Writer, views: Views, numbers: PlanNumbers, names: Names, csv_name: str,
        limit: int, against: Msg | None) -> dict[str, int]:
    """Target vs commitment per unit × product × channel × month; or, past ``limit`` cells
    shown, per unit × month, with the detail in the gap CSV. The detail has a row per
    unit, product, channel leaf and month (576 a unit in the example plan): at 500 units
    XlsxWriter held it in 514 MB, and past 1,820 units it would not fit in a sheet."""
    frame = views.gap
    columns = _gap_columns(w, frame, detail=True)
    note: Msg = msg("Per unit × product × channel × month. {bands}", bands=BANDS_NOTE)
    if len(frame) * len(columns) > limit:
        sums = ["target", "commitment", *(["forecast"] if "forecast" in frame else [])]
        frame = with_gap(frame.groupby(["unit", "month"], sort=False)[sums]
                         .sum(min_count=1).reset_index(), numbers)
        if "forecast" in frame:
            forecast = frame.pop("forecast")
            frame["forecast"], frame["forecast_gap"] = forecast, frame["commitment"] - forecast
        columns = _gap_columns(w, frame, detail=False)
        note = msg("Per unit × month, products and channels summed: the {rows} rows by unit × "
                   "product × channel × month are in {csv}, beside this file. {bands}",
                   rows=data(f"{len(views.gap):,}"), csv=data(csv_name), bands=BANDS_NOTE)
    else:
        frame = frame.assign(product_name=frame["product"].map(names.products),
                             channel_name=frame["channel"].map(names.channels))
    frame = frame.assign(unit_name=frame["unit"].map(names.units))
    if against is not None:
        note = msg("{note} {forecast}", note=note, forecast=against)
    w.table(GAP, frame, columns, "Gap", msg("Top-down target vs bottom-up commitment"),
            note, freeze=2, legend=w.light_legend())
    return first_rows(frame["unit"]) if len(frame) else {}


BANDS_NOTE = msg("Lights by the plan's bands; blank where the unit has not submitted.")


def forecast_note(forecast: Forecast | None) -> Msg | None:
    """What the forecast columns are (nothing without a forecast)."""
    if forecast is None:
        return None
    return msg("Forecast: version {name} (re-forecast as of {as_of}, the latest in the history "
               "database); gap to forecast = commitment − forecast, beside gap = commitment − "
               "target (the budget).", name=data(forecast.name), as_of=data(forecast.as_of))


def org(w: Writer, views: Views, against: Msg | None) -> dict[str, int]:
    """The org tree as an Excel outline: company, then each node's children below it,
    grouped by outline level so a reader collapses it to any level. A node above the input
    units holds SUBTOTAL formulas over the rows below it (SUBTOTAL skips the subtotals of
    the nodes between, so each input unit counts once); each formula carries the engine's
    value as its cached result."""
    frame = views.org.reset_index(drop=True)
    ws = w.sheet(ORG)
    note: Msg = msg("Each node sums the accepted input units below it (subtotal formulas); "
                    "blank = nothing submitted yet. Use the outline buttons (1 2 3 …) at the "
                    "left to show a level.")
    if against is not None:
        note = msg("{note} {forecast}", note=note, forecast=against)
    w.heading(ws, msg("Commitments rolled up through the org tree"), note)
    w.legend(ws, 2, w.light_legend())
    forecast = "forecast" in frame
    columns: list[tuple[str, Msg, str]] = [
        ("code", msg("Code"), "code"), ("name", msg("Name"), "data"),
        ("units", pmsg("count", "Units"), "int"), ("submitted", msg("Submitted"), "int"),
        *((m, msg("{month} ({unit})", month=w.months_label(m), unit=w.amount_unit), "money")
          for m in MONTHS),
        ("commitment", w.money(msg("Commitment")), "money_bold"),
        ("target", w.money(msg("Target")), "money_bold"),
        ("gap", w.money(msg("Gap")), "money"), ("attainment", msg("Attainment"), "pct"),
        ("status", msg("Light"), "status")]
    if forecast:
        columns += [("forecast", w.money(msg("Forecast")), "money"),
                    ("forecast_gap", w.money(msg("Gap to forecast")), "money")]
    col = {key: i for i, (key, _, _) in enumerate(columns)}
    for i, (_, header, _) in enumerate(columns):
        ws.write_string(TOP, i, w(header), w.fmt["header"])
    ws.set_row(TOP, 15 * 2)
    depth = frame["level"].astype(int).tolist()
    records = frame.to_dict("records")
    n = len(records)
    summed = ["units", "submitted", *MONTHS, "target", *(["forecast"] if forecast else [])]
    widest: dict[int, float] = {}
    for r, row in enumerate(records):
        at = TOP + 1 + r
        end = r + 1
        while end < n and depth[end] > depth[r]:
            end += 1
        parent = end > r + 1  # rows r+1 … end-1 are below this node

        def cell(key: str) -> str:
            return xl_rowcol_to_cell(at, col[key])  # noqa: B023 (used within the loop)

        bold = depth[r] == 0
        ws.write_string(at, col["code"], str(row["code"]), w.fmt["bold" if bold else "data"])
        ws.write_string(at, col["name"], "  " * depth[r] + str(row["name"]),
                        w.fmt["bold" if bold else "data"])
        for key in summed:
            value = row.get(key)
            if value is None or value != value:
                continue
            style = ("int" if key in ("units", "submitted") else
                     "whole" if key in MONTHS else "money")
            fmt = w.fmt[f"{style}_bold" if bold else style]
            if parent:
                first = xl_rowcol_to_cell(at + 1, col[key])
                last = xl_rowcol_to_cell(TOP + end, col[key])
                ws.write_formula(at, col[key], f"=SUBTOTAL(9,{first}:{last})", fmt, value)
            else:
                ws.write_number(at, col[key], value, fmt)
            if style != "int":
                widest[col[key]] = max(widest.get(col[key], 0.0), abs(float(value)))
        commitment = row["commitment"]
        if commitment == commitment:
            first_month = xl_rowcol_to_cell(at, col[MONTHS[0]])
            ws.write_formula(at, col["commitment"], f"=SUM({first_month}:{cell(MONTHS[-1])})",
                             w.fmt["money_bold"], commitment)
            ws.write_formula(at, col["gap"], f"={cell('commitment')}-{cell('target')}",
                             w.fmt["money_bold" if bold else "money"], row["gap"])
            if row["attainment"] == row["attainment"]:
                ws.write_formula(at, col["attainment"],
                                 f"={cell('commitment')}/{cell('target')}",
                                 w.fmt["pct_bold" if bold else "pct"], row["attainment"])
            for key in ("commitment", "gap"):
                widest[col[key]] = max(widest.get(col[key], 0.0), abs(float(row[key])))
        if row["status"]:
            ws.write_string(at, col["status"], str(row["status"]), w.fmt["status"])
        if forecast and row["forecast_gap"] == row["forecast_gap"]:
            ws.write_formula(at, col["forecast_gap"],
                             f"={cell('commitment')}-{cell('forecast')}", w.fmt["money"],
                             row["forecast_gap"])
        options = {"level": min(depth[r], 7)}
        if depth[r] > 2:
            options["hidden"] = True
        if depth[r] == 2 and parent:
            options["collapsed"] = True
        if depth[r]:
            ws.set_row(at, None, None, options)
    last = TOP + max(n, 1)
    if n:
        w.colour_states(ws, TOP + 1, last, col["status"], LIGHT)
    ws.outline_settings(True, False, True, False)  # the summary row above its detail
    names = [str(w(data(" " * 2 * d + str(v)))) for d, v in zip(depth, frame["name"],
                                                                  strict=True)]
    ws.set_column(col["code"], col["code"], max([8] + [len(str(c)) + 2 for c in frame["code"]]))
    ws.set_column(col["name"], col["name"], min(50, max([14] + [display_width(t) + 2
                                                                for t in names])))
    for key, i in col.items():
        if key in ("code", "name"):
            continue
        width = 9.0 if key in ("units", "submitted", "status", "attainment") else 10.0
        if i in widest:
            shown = w.whole_format if key in MONTHS else w.money_format
            width = max(width, len(shown_number(shown, widest[i]) or "") * 1.1 + 3)
        ws.set_column(i, i, width)
    ws.autofilter(TOP, 0, last, len(columns) - 1)
    ws.freeze_panes(TOP + 1, 2)
    w.print_setup(ws, repeat=TOP)
    return {str(c): TOP + 1 + i for i, c in enumerate(frame["code"])}


def by_dimension(w: Writer, views: Views, numbers: PlanNumbers, names: Names) -> None:
    for key, frame, name, dim, codes in (
            (BY_PRODUCT, views.by_product, "ByProduct", "product", names.products),
            (BY_CHANNEL, views.by_channel, "ByChannel", "channel", names.channels)):
        table = with_gap(frame, numbers)
        table = table.assign(dim_name=table[dim].map(codes))
        header = msg("Product") if dim == "product" else msg("Channel")
        columns = [Column(dim, header, "code"), Column("dim_name", msg("Name")),
                   Column("month", msg("Month"), "month"),
                   Column("target", w.money(msg("Target")), "money"),
                   Column("commitment", w.money(msg("Commitment")), "money"),
                   Column("gap", w.money(msg("Gap")), "money"),
                   Column("attainment", msg("Attainment"), "pct"), LIGHT]
        title = (msg("Target vs commitment by product") if dim == "product" else
                 msg("Target vs commitment by channel"))
        w.table(key, table, columns, name, title,
                msg("Targets of every unit; commitments of the units that submitted."),
                freeze=2, legend=w.light_legend())


def okr(w: Writer, views: Views, names: Names) -> None:
    frame = views.okr
    if "unit" in frame:
        frame = frame.assign(unit_name=frame["unit"].map(names.units))
    columns = [Column("unit", msg("Unit"), "code"), Column("unit_name", msg("Name")),
               Column("objective", msg("Objective"), "code"), Column("title", msg("Title")),
               Column("kr", msg("Key result code"), "code"),
               Column("key_result", msg("Key result")),
               Column("start", msg("Start"), "number"), Column("target", msg("Target"), "number"),
               Column("current", msg("Current"), "number"),
               Column("weight", msg("Weight"), "pct"), Column("progress", msg("Progress"), "pct"),
               Column("aligned_to", msg("Aligned to"), "code"),
               Column("objective_progress", msg("Objective progress"), "pct")]
    w.table(OKR, frame, columns, "OkrRollup", msg("Key results the units set, with progress"),
            freeze=2)


def bsc(w: Writer, views: Views, names: Names) -> None:
    frame = views.bsc.assign(unit_name=views.bsc["unit"].map(names.units))
    columns = [Column("unit", msg("Unit"), "code"), Column("unit_name", msg("Name")),
               Column("kpi", msg("KPI"), "code"), Column("name", msg("KPI name")),
               Column("perspective", msg("Perspective"), "word", PERSPECTIVE_WORDS),
               Column("month", msg("Month"), "data"),
               Column("actual", msg("Actual"), "number"), Column("target", msg("Target"), "number"),
               Column("score", msg("Score (0–10)"), "score")]
    w.table(BSC, frame, columns, "BscScores",
            msg("Balanced scorecard: unit KPIs scored (0–10)"),
            msg("Actual and target in each KPI's own unit; the latest month reported."), freeze=2)


def budget(w: Writer, views: Views, names: Names) -> None:
    frame = views.budget.assign(unit_name=views.budget["unit"].map(names.units))
    columns = [Column("unit", msg("Unit"), "code"), Column("unit_name", msg("Name")),
               Column("allocation", w.money(pmsg("amount", "Allocation")), "money"),
               Column("requested", w.money(msg("Requested")), "money"),
               Column("reserve_draw", w.money(msg("Reserve draw")), "money"),
               Column("difference", w.money(msg("Difference")), "money")]
    w.table(BUDGET, frame, columns, "BudgetRequests", msg("Budget requests against allocations"),
            freeze=2)


def inputs(w: Writer, facts: pd.DataFrame, names: Names, csv_name: str, limit: int) -> None:
    """Every accepted input as a table; or, past ``limit`` cells (a plan with hundreds of
    units), a pointer to the CSV that holds them. XlsxWriter keeps about 220 bytes a cell
    until the file is closed: 436,000 inputs (500 units) took 775 MB and 19 s, for a copy
    of the CSV written beside the workbook anyway."""
    frame = facts.drop(columns=["plan_id"], errors="ignore")
    title = msg("Every accepted input (the file that counts for each unit)")
    columns = [Column("unit", msg("Unit"), "code"), Column("unit_name", msg("Name")),
               Column("sheet", msg("Sheet"), "code"), Column("cell", msg("Cell"), "code"),
               Column("item", msg("Item"), "code"), Column("period", msg("Period"), "code"),
               Column("value_num", msg("Number"), "number"),
               Column("value_text", msg("Text")), Column("sha256", msg("File SHA-256"), "code")]
    if len(frame) * len(columns) <= limit:
        frame = frame.assign(unit_name=frame["unit"].astype(object).map(names.units))
        w.table(DATA, frame, columns, "Consolidated", title, freeze=2)
        return
    ws: Worksheet = w.sheet(DATA)
    w.heading(ws, title, msg("{n} inputs: too many to keep this workbook light. They are all in "
                             "{csv}, beside this file (it opens in Excel), and in the history "
                             "database.", n=data(f"{len(frame):,}"), csv=data(csv_name)))
    w.print_setup(ws)
