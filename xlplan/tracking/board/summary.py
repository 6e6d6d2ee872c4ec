"""The Board sheet: headline, attainment by unit and month with the status heat map,
target vs actual chart, attainment by unit."""

from __future__ import annotations

import math

from xlplan.i18n import Msg, data, msg
from xlplan.tracking.board.base import BoardWriter, fit_column
from xlplan.tracking.track import TrackResult
from xlplan.tracking.warning_rules import LEVEL_WORDS
from xlplan.workbook import formulas
from xlplan.workbook.book import Book, ref
from xlplan.workbook.formulas import quoted
from xlplan.workbook.highlights import add_status_colours, write_status_bands
from xlplan.workbook.styles import HEADER_FILL

SHEET = msg("Board")
MONTHS = 12
YEAR = MONTHS + 1  # column N
TO_DATE = MONTHS + 2  # column O
HEADLINE = 4
BANDS = HEADLINE + 15  # the status bands block, below the headline figures (13 rows at most)
TABLES = 27
TARGET_COLOUR, ACTUAL_COLOUR, FORECAST_COLOUR = "#5B9BD5", "#ED7D31", "#7030A0"
CHART_HEIGHT = 380


class BoardSheet(BoardWriter):
    """The Board sheet."""

    def __init__(self, book: Book, result: TrackResult):
        super().__init__(book, result)
        self.s = book.sheet(SHEET)
        self.cal = result.calendar
        self.through = result.through
        self.open_month = (int(self.cal.month_of_day[self.through])
                           if self.through >= 0 and
                           self.cal.month_span(int(self.cal.month_of_day[self.through])).last
                           > self.through else None)
        # the status bands, under the headline; every sheet's lights read these cells
        self.band_rows = {key: BANDS + 1 + i for i, key in enumerate(("yellow", "orange", "red"))}
        self.local_bands = {k: ref(r_, 1, absolute=True) for k, r_ in self.band_rows.items()}
        self.refs.bands = {k: f"{book.quote(SHEET)}{v}" for k, v in self.local_bands.items()}
        self.row_labels: list[str] = []  # what column A shows, to size it

    def title(self) -> None:
        s, r, plan = self.s, self.r, self.plan
        s.label(0, 0, msg("{plan}: tracking board as of {date}", plan=data(plan.name),
                          date=data(r.as_of.isoformat())), "title")
        through = r.through_date
        actuals = (msg("Revenue actuals through {date}.", date=data(through.isoformat()))
                   if through else msg("No revenue actuals yet."))
        s.label(1, 0, msg("{actuals} Amounts in {currency}. Attainment = actual ÷ target; the "
                          "light follows the status bands below.", actuals=actuals,
                          currency=self.amounts()), "subtitle")
        s.label(2, 0, msg("Made by xlplan track from the plan and the imported actuals; every "
                          "derived figure is a formula."), "subtitle")

    def bands(self) -> None:
        cells, labels = write_status_bands(
            self.book, SHEET, self.s, BANDS, self.plan.status_bands,
            msg("Lights: G on track, Y watch, O intervene, R stop the loss."))
        assert cells == self.local_bands  # the formulas above were written against these
        self.row_labels.extend(labels)

    def status(self, cell: str) -> str:
        return formulas.status_light(cell, self.local_bands)

    def _header(self, top: int, title: Msg, last: list[Msg]) -> int:
        s = self.s
        s.label(top, 0, title, "section")
        head = top + 1
        labels = self.month_labels()
        if self.open_month is not None:
            day = self.cal.days[self.through]
            labels[self.open_month] = msg("{month} (to {day})", month=labels[self.open_month],
                                          day=day.day)
        for c, text in enumerate([msg("Unit"), *labels, *last]):
            s.label(head, c, text, "header")
        s.ws.set_row(head, 30)
        return head

    def tables(self) -> tuple[int, int, int, int]:
        """Target, actual and attainment by unit and month; returns the three header rows and
        the row after."""
        s, r = self.s, self.r
        n = len(self.units)
        # --- targets
        t_head = self._header(TABLES, msg("Target by unit and month ({currency})",
                                          currency=self.amounts()),
                              [msg("Year"), msg("To date")])
        t_rows = {u: t_head + 1 + i for i, u in enumerate(self.units)}
        root = r.targets.root
        for u, row in t_rows.items():
            s.label(row, 0, self.unit_label(u), "bold" if u == root else "label")
            self.row_labels.append(self.unit_label(u))
            ytd = r.row(u, "ytd")
            if u == root:
                first, last = t_head + 1, t_head + n - 1
                for c in range(1, TO_DATE + 1):
                    if c <= MONTHS:
                        minor = int(r.targets.months[u][c - 1])
                    elif c == YEAR:
                        minor = r.targets.annual[u]
                    else:
                        minor = int(ytd["target"]) if ytd is not None else 0
                    s.formula(row, c, f"SUM({ref(first, c)}:{ref(last, c)})", self.money(minor),
                              "money0_bold")
                continue
            for m in range(MONTHS):
                s.given(row, 1 + m, self.money(int(r.targets.months[u][m])), "money0")
            s.formula(row, YEAR, f"SUM({ref(row, 1)}:{ref(row, MONTHS)})",
                      self.money(r.targets.annual[u]), "money0")
            s.given(row, TO_DATE, self.money(int(ytd["target"]) if ytd is not None else 0),
                    "money0")
        after = t_head + n + 1
        if r.forecast is not None:
            s.label(after, 0, msg("Company forecast"), "bold")
            for m in range(MONTHS):
                s.given(after, 1 + m, self.money(int(r.forecast[root][m])), "money0")
            s.formula(after, YEAR, f"SUM({ref(after, 1)}:{ref(after, MONTHS)})",
                      self.money(int(r.forecast[root].sum())), "money0")
            self.forecast_row: int | None = after
            after += 1
        else:
            self.forecast_row = None
        s.label(after, 0, msg("To date: the target of the days through the data-through day."),
                "note")
        # --- actuals
        a_head = self._header(after + 2, msg("Actual by unit and month ({currency})",
                                             currency=self.amounts()), [msg("Year to date")])
        a_rows = {u: a_head + 1 + i for i, u in enumerate(self.units)}
        for u, row in a_rows.items():
            s.label(row, 0, self.unit_label(u), "bold" if u == root else "label")
            style = "money0_bold" if u == root else "money0"
            for m, amount in enumerate(r.month_actuals(u)):
                value = None if amount is None else self.money(amount)
                if u == root:
                    rng = f"{ref(a_head + 1, 1 + m)}:{ref(a_head + n - 1, 1 + m)}"
                    s.formula(row, 1 + m, formulas.sum_if_any(rng),
                              "" if value is None else value, style)
                else:
                    s.given(row, 1 + m, value, style)
            ytd = r.row(u, "ytd")
            rng = f"{ref(row, 1)}:{ref(row, MONTHS)}"
            s.formula(row, YEAR, formulas.sum_if_any(rng),
                      "" if ytd is None else self.money(int(ytd["actual"])), style)
        # --- attainment
        c_head = self._header(a_head + n + 2, msg("Attainment (actual ÷ target) and status"),
                              [msg("Year to date"), msg("Variance to date"), msg("Status")])
        for i, u in enumerate(self.units):
            row, tr, ar = c_head + 1 + i, t_rows[u], a_rows[u]
            self.refs.rows[u] = row
            s.label(row, 0, self.unit_label(u), "bold" if u == root else "label")
            bold = "ratio_bold" if u == root else "ratio"
            months = r.compare[(r.compare["unit"] == u) & (r.compare["grain"] == "month")]
            att = months["attainment"].tolist()
            for m in range(MONTHS):
                a, t = ref(ar, 1 + m), ref(tr, 1 + m)
                if m == self.open_month:
                    closed_t = f"SUM({ref(tr, 1)}:{ref(tr, m)})" if m else "0"
                    t = f"({ref(tr, TO_DATE)}-{closed_t})"
                value = att[m] if m < len(att) else math.nan
                s.formula(row, 1 + m, formulas.attainment(a, t), value, bold)
            ytd = r.row(u, "ytd")
            a, t = ref(ar, YEAR), ref(tr, TO_DATE)
            y_att = s.formula(row, YEAR, formulas.attainment(a, t),
                              math.nan if ytd is None else float(ytd["attainment"]), bold)
            s.formula(row, YEAR + 1, formulas.variance(a, t),
                      "" if ytd is None else self.money(int(ytd["actual"]) - int(ytd["target"])),
                      "money0_bold" if u == root else "money0")
            s.formula(row, YEAR + 2, self.status(y_att),
                      "" if ytd is None else str(ytd["status"]), "status")
        last = c_head + n
        self.heat(s, c_head + 1, 1, last, YEAR)
        add_status_colours(self.book, SHEET, ref(c_head + 1, YEAR + 2), ref(last, YEAR + 2))
        s.label(last + 1, 0, msg("The running month is compared with its target to date; the "
                                 "year to date with the target through the data-through day."),
                "note")
        self.t_head, self.a_head, self.c_head = t_head, a_head, c_head
        return t_head, a_head, c_head, last + 3

    def headline(self, warnings: tuple[str, str], extra: dict[str, tuple[str, float | str, str]]
                 ) -> None:
        """Headline figures as formulas on the tables (and counts on the Warnings sheet)."""
        s, r = self.s, self.r
        root = r.targets.root
        tr = self.t_head + len(self.units)
        ar = self.a_head + len(self.units)
        row = self.refs.rows[root]
        ytd = r.row(root, "ytd")
        s.label(HEADLINE, 0, msg("Headline"), "section")
        s.label(HEADLINE, 1, data(""), "section")
        items: list[tuple[str, Msg, str, float | str, str]] = [
            ("annual", msg("Annual target"), ref(tr, YEAR), self.money(r.targets.annual[root]),
             "headline"),
        ]
        if self.forecast_row is not None and r.forecast is not None:
            items.append(("forecast", msg("Annual forecast (re-forecast plan)"),
                          ref(self.forecast_row, YEAR),
                          self.money(int(r.forecast[root].sum())), "headline"))
        items += [
            ("ytd_target", msg("Target to date"), ref(tr, TO_DATE),
             self.money(int(ytd["target"])) if ytd is not None else 0.0, "headline"),
            ("ytd_actual", msg("Actual to date"), ref(ar, YEAR),
             self.money(int(ytd["actual"])) if ytd is not None else "", "headline"),
            ("ytd_variance", msg("Variance to date"), ref(row, YEAR + 1),
             self.money(int(ytd["actual"]) - int(ytd["target"])) if ytd is not None else "",
             "headline"),
            ("ytd_attainment", msg("Attainment to date"), ref(row, YEAR),
             float(ytd["attainment"]) if ytd is not None else "", "headline_ratio"),
            ("ytd_status", msg("Light"), ref(row, YEAR + 2),
             str(ytd["status"]) if ytd is not None else "", "status"),
        ]
        r_ = HEADLINE + 1
        for key, text, cell, value, style in items:
            s.label(r_, 0, text)
            self.row_labels.append(text)
            self.refs.ytd[key] = s.formula(r_, 1, cell, value, style)
            r_ += 1
        add_status_colours(self.book, SHEET, self.refs.ytd["ytd_status"],
                           self.refs.ytd["ytd_status"])
        levels = [a.level for a in r.alerts]
        opens = [a.level for a in r.alerts if a.open]
        rng, open_rng = warnings
        opened = quoted(self.words(msg("open")))
        for level in ("red", "orange", "yellow"):
            word = LEVEL_WORDS[level]
            label = msg("Warnings {level}: all, open", level=word)
            s.label(r_, 0, label)
            self.row_labels.append(label)
            shown = quoted(self.words(word))
            s.formula(r_, 1, f"COUNTIF({rng},{shown})", levels.count(level), "integer")
            s.formula(r_, 2, f"COUNTIFS({rng},{shown},{open_rng},{opened})",
                      opens.count(level), "integer")
            r_ += 1
        for name, (cell, value, style) in extra.items():
            s.label(r_, 0, name)
            self.row_labels.append(name)
            s.formula(r_, 1, cell, value, style)
            r_ += 1

    def charts(self) -> None:
        wb, r = self.book.wb, self.r
        root = r.targets.root
        tr = self.t_head + len(self.units)
        ar = self.a_head + len(self.units)
        largest = self.money(int(max(r.targets.months[root].max(), 1)))
        chart = wb.add_chart({"type": "column"})
        name = self.s.name
        chart.add_series({"name": self.words(msg("Target")),
                          "categories": [name, self.t_head, 1, self.t_head, MONTHS],
                          "values": [name, tr, 1, tr, MONTHS],
                          "fill": {"color": TARGET_COLOUR}, "border": {"none": True}, "gap": 60})
        chart.add_series({"name": self.words(msg("Actual")),
                          "categories": [name, self.t_head, 1, self.t_head, MONTHS],
                          "values": [name, ar, 1, ar, MONTHS],
                          "fill": {"color": ACTUAL_COLOUR}, "border": {"none": True}})
        if self.forecast_row is not None:
            line = wb.add_chart({"type": "line"})
            line.add_series({"name": self.words(msg("Forecast")),
                             "categories": [name, self.t_head, 1, self.t_head, MONTHS],
                             "values": [name, self.forecast_row, 1, self.forecast_row, MONTHS],
                             "line": {"color": FORECAST_COLOUR, "width": 2.25},
                             "marker": {"type": "circle", "size": 5,
                                        "fill": {"color": FORECAST_COLOUR},
                                        "border": {"color": FORECAST_COLOUR}}})
            chart.combine(line)
        chart.set_title({"name": self.words(msg("Company: target vs actual by month")),
                         "name_font": {"size": 11, "bold": True}})
        chart.set_y_axis({**self.money_axis(largest),
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_x_axis({"num_font": {"size": 8, "rotation": -45}})
        chart.set_legend({"position": "bottom", "font": {"size": 8}})
        chart.set_size({"width": 640, "height": CHART_HEIGHT})
        self.s.ws.insert_chart(HEADLINE, 4, chart, {"x_offset": 8, "y_offset": 2})
        first = self.refs.rows[self.units[0]]
        last = self.refs.rows[root]
        bar = wb.add_chart({"type": "bar"})
        bar.add_series({"name": self.words(msg("Attainment to date")),
                        "categories": [name, first, 0, last, 0],
                        "values": [name, first, YEAR, last, YEAR],
                        "fill": {"color": HEADER_FILL}, "border": {"none": True}, "gap": 50,
                        "data_labels": {"value": True, "num_format": "0%",
                                        "font": {"size": 8}}})
        bar.set_title({"name": self.words(msg("Attainment to date by unit")),
                       "name_font": {"size": 11, "bold": True}})
        bar.set_legend({"none": True})
        bar.set_y_axis({"reverse": True, "crossing": "max", "num_font": {"size": 8}})
        bar.set_x_axis({"num_format": "0%", "num_font": {"size": 8}, "min": 0,
                        "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        bar.set_size({"width": 460, "height": CHART_HEIGHT})
        self.s.ws.insert_chart(HEADLINE, 11, bar, {"x_offset": 8, "y_offset": 2})

    def finish(self, last_row: int) -> None:
        s = self.s
        s.widths({**{c: 12.5 for c in range(1, MONTHS + 1)}, YEAR: 14, TO_DATE: 14,
                  TO_DATE + 1: 9})
        fit_column(s, 0, self.row_labels, 26)
        s.ws.hide_gridlines(2)
        s.ws.freeze_panes(3, 1)
        s.print_setup()
        s.ws.print_area(0, 0, last_row, TO_DATE + 1)
        s.ws.activate()
