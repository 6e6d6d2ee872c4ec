"""The tracking board: its numbers are the engine's, its formulas recalculate to them in
LibreOffice, and its charts render (checked by the colours of their bars in the PNG).

The example plan with the synthetic year (seed 7) as of 2027-06-15 (June and Q2 running),
beside the re-forecast made as of 2027-03-31.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLE, differences, require_tool
from test_tracking_year import as_actuals

from xlplan.i18n import Words, msg
from xlplan.libreoffice import LibreOffice, read_values, render_png
from xlplan.spec.loader import in_language, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.tracking.board import SHEETS as BOARD_SHEETS
from xlplan.tracking.board import write_board
from xlplan.tracking.board.bsc import SCORE_COLOURS
from xlplan.tracking.board.summary import ACTUAL_COLOUR, FORECAST_COLOUR, TARGET_COLOUR
from xlplan.tracking.plan_file import write_plan
from xlplan.tracking.reforecast import reforecast
from xlplan.tracking.synthetic import generate
from xlplan.tracking.track import TrackResult, track
from xlplan.workbook.book import Book
from xlplan.workbook.layout import amounts_in
from xlplan.workbook.styles import STATUS_COLOURS

pytestmark = pytest.mark.slow  # one board of the example plan's year, shared

AS_OF = dt.date(2027, 6, 15)
EN = Words("en")
# the sheets as the English board names them (Versions only with --compare)
SHEETS = [EN(key) for key in BOARD_SHEETS if key != "Versions"]
REVIEW = EN(BOARD_SHEETS[6])


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrackResult, Path, Book]:
    tmp = tmp_path_factory.mktemp("board")
    lp = in_language(load_plan(EXAMPLE), "en")  # the example is zh; these check numbers
    prior = read_prior_year(lp)
    year = as_actuals(generate(lp.plan, prior), lp)
    march = track(lp.plan, year, dt.date(2027, 3, 31), prior)
    rf = reforecast(lp.plan, march.targets, march.revenue, dt.date(2027, 3, 31))
    write_plan(lp, rf, tmp / "plan2.yaml")
    forecast = load_plan(tmp / "plan2.yaml").plan
    result = track(lp.plan, year, AS_OF, prior, forecast)
    path, book = write_board(result, tmp / "out")
    return result, path, book


@pytest.fixture(scope="module")
def cached(made: tuple[TrackResult, Path, Book]) -> dict[str, dict[str, Any]]:
    return read_values(made[1])


def table_rows(sheet: dict[str, Any], title: str, n: int) -> list[int]:
    """1-based rows of the ``n`` rows under the header below the section ``title``."""
    (top,) = [int(cell[1:]) for cell, v in sheet.items() if cell[0] == "A" and cell[1:].isdigit()
              and v == title]
    return list(range(top + 2, top + 2 + n))


def col(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]


def close(a: Any, b: float) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return a in (None, "")
    return isinstance(a, int | float) and abs(a - b) <= 1e-9 * max(1.0, abs(b))


# --------------------------------------------------------------------------- the file


def test_the_board_file(made: tuple[TrackResult, Path, Book]) -> None:
    result, path, _ = made
    assert path.name == "huaxin-2027-board-2027-06-15.xlsx"
    assert not list(path.parent.glob("*.tmp*"))  # written aside, then renamed
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        workbook = z.read("xl/workbook.xml").decode()
    assert len(charts) == 5  # Board 2 (one with the forecast line), BSC 2, Budget 1
    assert [workbook.index(f'name="{s}"') for s in SHEETS] == sorted(
        workbook.index(f'name="{s}"') for s in SHEETS)
    assert result.through_date == AS_OF


def test_board_tables_are_the_engines_numbers(made: tuple[TrackResult, Path, Book],
                                              cached: dict[str, dict[str, Any]]) -> None:
    result, _, _ = made
    board = cached["Board"]
    units = result.units
    unit = amounts_in(result.plan)  # the example shows amounts in 万 (ten thousand yuan)
    assert EN(unit) == "ten thousand yuan"
    targets = table_rows(board, EN(msg("Target by unit and month ({currency})", currency=unit)),
                         len(units))
    actuals = table_rows(board, EN(msg("Actual by unit and month ({currency})", currency=unit)),
                         len(units))
    attained = table_rows(board, "Attainment (actual ÷ target) and status", len(units))
    for u, tr, ar, cr in zip(units, targets, actuals, attained, strict=True):
        months = result.targets.months[u]
        assert [board[f"{col(1 + m)}{tr}"] for m in range(12)] == pytest.approx(
            [int(x) / 100 for x in months], abs=0.005)
        ytd = result.row(u, "ytd")
        assert ytd is not None
        assert close(board[f"O{tr}"], int(ytd["target"]) / 100)
        got = [board.get(f"{col(1 + m)}{ar}") for m in range(12)]
        assert got[:6] == pytest.approx([a / 100 for a in result.month_actuals(u)[:6]],
                                        abs=0.005)
        assert got[6:] == [None] * 6
        rows = result.compare[(result.compare["unit"] == u) & (result.compare["grain"] ==
                                                               "month")]
        for m, att in enumerate(rows["attainment"]):
            assert close(board[f"{col(1 + m)}{cr}"], float(att)), (u, m)
        assert close(board[f"N{cr}"], float(ytd["attainment"]))
        assert close(board[f"O{cr}"], (int(ytd["actual"]) - int(ytd["target"])) / 100)
        assert board[f"P{cr}"] == ytd["status"]
    assert board["A" + str(targets[-1])] == "Company"


def test_headline_and_warnings_sheet(made: tuple[TrackResult, Path, Book],
                                     cached: dict[str, dict[str, Any]]) -> None:
    result, _, _ = made
    board = cached["Board"]
    head = result.headline()
    labels = {v: int(c[1:]) for c, v in board.items() if c[0] == "A" and isinstance(v, str)}
    assert close(board[f"B{labels['Annual target']}"], head["annual_target"])
    assert close(board[f"B{labels['Annual forecast (re-forecast plan)']}"],
                 head["forecast_annual"])
    assert close(board[f"B{labels['Actual to date']}"], head["ytd_actual"])
    ytd = result.row(result.targets.root, "ytd")
    assert ytd is not None and close(board[f"B{labels['Attainment to date']}"],
                                     float(ytd["attainment"]))
    assert head["ytd_attainment"] == pytest.approx(float(ytd["attainment"]), abs=1e-6)
    # on June 15 June has not ended: the stock-out warning is not there yet; Guangdong's
    # overspend (April, May) is still open
    assert board[f"B{labels['Warnings orange: all, open']}"] == head["warnings"]["orange"] == 2
    assert board[f"C{labels['Warnings orange: all, open']}"] == head["open_warnings"]["orange"] == 0
    assert board[f"B{labels['Warnings yellow: all, open']}"] == head["warnings"]["yellow"] == 2
    assert board[f"C{labels['Warnings yellow: all, open']}"] == head["open_warnings"]["yellow"] == 1
    warnings = cached["Warnings"]
    for i, a in enumerate(result.alerts):
        r = 5 + i
        assert (warnings[f"B{r}"], warnings[f"D{r}"], warnings[f"F{r}"]) == (a.level, a.where,
                                                                             a.rule)
        assert warnings[f"H{r}"].date() == a.since and warnings[f"I{r}"].date() == a.fired
        assert warnings[f"K{r}"] == ("open" if a.open else "closed")
        assert warnings[f"O{r}"] == a.decider
    assert f"A{5 + len(result.alerts)}" not in warnings


def test_bsc_budget_and_review_sheets(made: tuple[TrackResult, Path, Book],
                                      cached: dict[str, dict[str, Any]]) -> None:
    result, _, _ = made
    bsc = cached["BSC"]
    root = result.targets.root
    (total,) = [int(c[1:]) for c, v in bsc.items() if c[0] == "A" and v == "Total"]
    assert close(bsc[f"E{total}"], result.cards.scores[root].total)
    kpis = result.plan.bsc.kpis
    heat = table_rows(bsc, "Status by unit × KPI (year-to-date attainment)", len(result.units))
    ytd = result.cards.ytd.set_index(["unit", "kpi"])
    for u, r in zip(result.units, heat, strict=True):
        for c, k in enumerate(kpis):
            assert close(bsc[f"{col(1 + c)}{r}"], float(ytd.loc[(u, k.code), "attainment"]))
    budget = cached["Budget"]
    (gd,) = [int(c[1:]) for c, v in budget.items() if c[0] == "A" and v == "R-GD"]
    line = result.spend.ytd().set_index("line").loc["R-GD"]
    assert close(budget[f"P{gd}"], int(line["budget"]) / 100)
    assert close(budget[f"P{gd + 1}"], int(line["spend"]) / 100)
    assert [budget[f"{col(3 + m)}{gd + 3}"] for m in range(5)] == ["within"] * 3 + ["over"] * 2
    review = cached[REVIEW]
    rows = table_rows(review, "Attainment by quarter", len(result.units))
    for u, r in zip(result.units, rows, strict=True):
        q1 = result.row(u, "quarter", "Q1")
        assert q1 is not None and close(review[f"B{r}"], float(q1["attainment"]))
    # Q2 is running on June 15: the review is of Q1 and its causes are drafted
    assert any(isinstance(v, str) and v.startswith("Quarterly review: Q1 2027")
               for v in review.values())


# --------------------------------------------------------------------------- LibreOffice


@pytest.mark.libreoffice
def test_every_formula_recalculates_to_the_engine(made: tuple[TrackResult, Path, Book],
                                                  office: LibreOffice, tmp_path: Path) -> None:
    _, path, book = made
    values = read_values(office.recalculate([path], tmp_path)[path])
    expected = book.expected_values()
    wrong = differences(values, expected)
    assert len(expected) > 1000
    assert not wrong, f"{len(wrong)} of {len(expected)} differ, first: {wrong[:8]}"



def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def pixels(png: Path) -> np.ndarray:
    """An 8-bit RGB PNG (as pdftoppm writes) as an H × W × 3 array."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    out = np.zeros((height, stride), dtype=np.int64)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int64)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) % 256
        else:  # sub, average and Paeth depend on the pixel to the left: byte by byte
            cur = np.zeros(stride, dtype=np.int64)
            for x in range(stride):
                a = int(cur[x - 3]) if x >= 3 else 0
                b, c = int(prev[x]), int(prev[x - 3]) if x >= 3 else 0
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[x] = (int(line[x]) + pred) % 256
        out[y] = cur
        prev = cur
    return out.reshape(height, width, 3)


def count(image: np.ndarray, colour: str, tolerance: int = 6) -> int:
    return int((np.abs(image - np.array(rgb(colour))) <= tolerance).all(axis=2).sum())


@pytest.mark.libreoffice
def test_the_charts_render(made: tuple[TrackResult, Path, Book], office: LibreOffice,
                           tmp_path: Path) -> None:
    require_tool("pdftoppm")
    _, path, _ = made
    images = dict(zip(["Board", "BSC", "Budget"],
                      render_png(path, tmp_path, sheets=["Board", "BSC", "Budget"], dpi=40,
                                 office=office), strict=True))
    board = pixels(images["Board"])
    assert board.shape[1] > 600 and (board < 250).any(axis=2).mean() > 0.05  # not blank
    # target vs actual by month: both series' bars, and the forecast line
    assert count(board, TARGET_COLOUR) > 2000 and count(board, ACTUAL_COLOUR) > 1000
    assert count(board, FORECAST_COLOUR, 30) > 40
    # the heat map: green months, and Northeast's yellow April
    assert count(board, STATUS_COLOURS["G"]) > 5000 and count(board, STATUS_COLOURS["Y"]) > 200
    bsc = pixels(images["BSC"])
    for colour in SCORE_COLOURS[1:3]:  # the perspective bars (green, amber)
        assert count(bsc, colour) > 500
    budget = pixels(images["Budget"])
    assert count(budget, TARGET_COLOUR) > 2000 and count(budget, ACTUAL_COLOUR) > 2000
