"""Importing actuals: every bad file is reported by file, row and column and imports nothing;
the same file twice changes nothing; consolidated BSC inputs join the actuals.

The tiny plan of test_tracking_engine (two regions, NORTH and SOUTH, fiscal 2027).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest
from test_tracking_engine import HEADER, TINY
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec.loader import LoadedPlan, load_plan_text
from xlplan.tracking import store
from xlplan.tracking.reader import ActualsError, read_actuals

runner = CliRunner()
GOOD = HEADER + ("2027-01-04,,NORTH,P1,WEB,revenue,\"1,000.50\"\n"
                 "2027-01-04,,SOUTH,P1,WEB,revenue,999\n"
                 ",2027-01,NORTH,,,nps,7.5\n")


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny() -> LoadedPlan:
    return load_plan_text(TINY, "tiny.yaml")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def stored(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM actuals").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def problems(path: Path, tiny: LoadedPlan) -> list[str]:
    with pytest.raises(ActualsError) as info:
        read_actuals(path, tiny.plan, tiny.plan.tracking.columns)
    return [p.render(str(path)) for p in info.value.problems]


# --------------------------------------------------------------------------- good files


def test_a_good_file_is_imported_once(plan_file: Path, tmp_path: Path) -> None:
    src = write(tmp_path, "jan.csv", GOOD)
    db = tmp_path / "x.duckdb"
    code, out, err = run("actuals", str(plan_file), str(src), "--db", str(db))
    assert code == 0, err
    assert "imported" in out and "3 rows" in out
    assert stored(db) == 3
    copy = write(tmp_path, "copy-of-jan.csv", GOOD)  # same bytes, another name
    code, out, _ = run("actuals", str(plan_file), str(copy), "--db", str(db), "--json")
    assert code == 0
    assert json.loads(out)["files"][0]["status"] == "already imported"
    assert stored(db) == 3


def test_values_are_read_as_written(tiny: LoadedPlan, tmp_path: Path) -> None:
    rows = read_actuals(write(tmp_path, "a.csv", GOOD), tiny.plan,
                        tiny.plan.tracking.columns).rows
    assert rows["value"].tolist() == [1000.5, 999.0, 7.5]  # thousands separator dropped
    assert rows["row"].tolist() == [2, 3, 4]
    assert rows["period"].tolist() == ["2027-01-04", "2027-01-04", "2027-01"]
    assert rows["day"].tolist() == [3, 3, -1]


def test_the_default_database_is_in_the_current_folder(plan_file: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = write(tmp_path, "jan.csv", GOOD)
    assert run("actuals", str(plan_file), str(src))[0] == 0
    assert stored(tmp_path / "xlplan.duckdb") == 3


def test_columns_mapped_in_the_plan_and_on_the_command_line(tmp_path: Path) -> None:
    mapped = TINY + "tracking:\n  columns: {date: 日期, unit: 部门, measure: 指标, value: 金额}\n"
    plan_file = write(tmp_path, "mapped.yaml", mapped)
    src = write(tmp_path, "cn.csv", "日期,部门,product,channel,指标,金额\n"
                                    "2027-01-05,NORTH,P1,WEB,revenue,100\n")
    db = tmp_path / "x.duckdb"
    assert run("actuals", str(plan_file), str(src), "--db", str(db))[0] == 0
    other = write(tmp_path, "other.csv", "Day,Region,product,channel,measure,Amount\n"
                                         "2027-01-06,SOUTH,P1,WEB,revenue,100\n")
    code, _, err = run("actuals", str(plan_file), str(other), "--db", str(db),
                       "--column", "date=Day", "--column", "unit=Region",
                       "--column", "value=Amount", "--column", "measure=measure")
    assert code == 0, err
    assert stored(db) == 2
    code, _, err = run("actuals", str(plan_file), str(other), "--db", str(db),
                       "--column", "colour=Day")
    assert code == 2 and "unknown column role" in err


def test_an_excel_export_with_date_cells(tiny: LoadedPlan, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Export"
    ws.append(["Date", "Unit", "Product", "Channel", "Measure", "Value"])
    ws.append([dt.date(2027, 3, 1), "NORTH", "P1", "WEB", "revenue", 1234.5])
    ws.append([dt.datetime(2027, 3, 2), "SOUTH", "P1", "WEB", "revenue", 10])
    ws.append([dt.date(2027, 3, 3), "SOUTH", "P1", "WEB", "revenue", "n/a"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    found = problems(path, tiny)
    assert found == [f"{path}:4: column 'Value' (cell Export!F4): expected a number, "
                     "got 'n/a'"]
    ws.delete_rows(4)
    book.save(path)
    rows = read_actuals(path, tiny.plan, tiny.plan.tracking.columns).rows
    assert rows["period"].tolist() == ["2027-03-01", "2027-03-02"]
    assert rows["value"].tolist() == [1234.5, 10.0]


# --------------------------------------------------------------------------- bad files


def test_wrong_columns(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = write(tmp_path, "cols.csv", "day,unit,what,value\n2027-01-04,NORTH,revenue,1\n")
    (found,) = problems(path, tiny)
    assert found.startswith(f"{path}:1: missing column(s) date ('date') or period ('period'), "
                            "measure ('measure'); the file has 'day', 'unit', 'what', 'value'")
    assert "--column ROLE=NAME" in found


def test_text_in_numbers(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = write(tmp_path, "text.csv", HEADER + "2027-01-04,,NORTH,P1,WEB,revenue,12a\n"
                                                "2027-01-05,,NORTH,P1,WEB,revenue,\n")
    assert problems(path, tiny) == [
        f"{path}:2: column 'value': expected a number, got '12a'",
        f"{path}:3: column 'value': value is empty",
    ]


def test_unknown_codes(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", HEADER +
                 "2027-01-04,,NROTH,P1,WEB,revenue,1\n"
                 "2027-01-04,,NORTH,p1,WEB,revenue,1\n"
                 "2027-01-04,,NORTH,P1,TV,revenue,1\n"
                 "2027-01-04,,NORTH,P1,WEB,revenu,1\n"
                 ",2027-01,CO,,,spend,1\n")
    found = problems(path, tiny)
    assert found[0] == f"{path}:2: column 'unit': unknown unit 'NROTH' (did you mean 'NORTH'?)"
    assert found[1] == f"{path}:3: column 'product': unknown product 'p1' (did you mean 'P1'?)"
    assert found[2] == f"{path}:4: column 'channel': unknown channel 'TV'"
    assert found[3].startswith(f"{path}:5: column 'measure': unknown measure 'revenu' "
                               "(did you mean 'revenue'?); expected revenue; spend, return")
    assert found[4].startswith(f"{path}:6: column 'unit': 'CO' has no budget line")
    assert len(found) == 5


def test_dates_outside_the_year_or_not_dates(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = write(tmp_path, "dates.csv", HEADER +
                 "2026-12-31,,NORTH,P1,WEB,revenue,1\n"
                 ",2028-01,NORTH,,,nps,7\n"
                 "2027-02-30,,NORTH,P1,WEB,revenue,1\n"
                 "next monday,,NORTH,P1,WEB,revenue,1\n"
                 "2027/03/01,,NORTH,P1,WEB,revenue,1\n")
    assert problems(path, tiny) == [
        f"{path}:2: column 'date': date 2026-12-31 is outside the fiscal year 2027-01-01 to "
        "2027-12-31",
        f"{path}:3: column 'period': month 2028-01 is outside the fiscal year 2027-01 to "
        "2027-12",
        f"{path}:4: column 'date': '2027-02-30' is not a valid date",
        f"{path}:5: column 'date': expected a date (2027-03-05) or a month (2027-03), got "
        "'next monday'",
    ]  # 2027/03/01 is a date


def test_duplicates_in_a_file(tiny: LoadedPlan, tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", HEADER +
                 "2027-01-04,,NORTH,P1,WEB,revenue,1\n"
                 "2027-01-05,,NORTH,P1,WEB,revenue,1\n"
                 "2027-01-04,,NORTH,P1,WEB,revenue,2\n"
                 "2027-01-06,,SOUTH,,,stock_out,0.05\n"
                 ",2027-01,SOUTH,,,stock_out,0.05\n")
    found = problems(path, tiny)
    assert found[0].startswith(f"{path}:4: duplicate of row 2")
    assert found[1].startswith(f"{path}:6: column 'period': a value for the month 2027-01 and "
                               "daily values (row 5)")
    assert len(found) == 2


def test_a_bad_file_imports_nothing_and_the_others_still_do(plan_file: Path,
                                                            tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", GOOD)
    bad = write(tmp_path, "bad.csv", HEADER + "2027-01-04,,NORTH,P1,WEB,revenue,1\n"
                                              "2027-01-05,,NORTH,P1,WEB,revenue,x\n")
    db = tmp_path / "x.duckdb"
    code, out, err = run("actuals", str(plan_file), str(bad), str(good), "--db", str(db))
    assert code == 1
    assert f"{bad}: 1 problem(s), nothing imported" in err
    assert f"{bad}:3: column 'value': expected a number, got 'x'" in err
    assert f"imported {good}" in out
    assert stored(db) == 3  # the good file's rows, none of the bad file's


def test_duplicates_across_files_and_replace(plan_file: Path, tiny: LoadedPlan,
                                             tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    first = write(tmp_path, "first.csv", GOOD)
    assert run("actuals", str(plan_file), str(first), "--db", str(db))[0] == 0
    again = write(tmp_path, "again.csv", HEADER + "2027-01-05,,NORTH,P1,WEB,revenue,5\n"
                                                  "2027-01-04,,SOUTH,P1,WEB,revenue,1000\n"
                                                  "2027-01-09,,NORTH,,,nps,7.9\n")
    code, _, err = run("actuals", str(plan_file), str(again), "--db", str(db))
    assert code == 1
    assert (f"{again}:3: duplicate: {first} row 3 (already imported) has the same unit, "
            "product, channel, measure and period 2027-01-04") in err
    assert (f"{again}:4: 2027-01-09 mixes a month value and daily values of the same unit, "
            f"product, channel and measure: {first} row 4 (2027-01) is already imported") in err
    assert stored(db) == 3  # the transaction was rolled back: not even row 2 went in
    code, out, err = run("actuals", str(plan_file), str(again), "--db", str(db), "--replace")
    assert code == 0, err
    assert "replacing 2" in out
    con = store.connect(db, read_only=True)
    try:
        frame = store.load_actuals(con, tiny.plan)
    finally:
        con.close()
    south = frame[(frame["unit"] == "SOUTH") & (frame["measure"] == "revenue")]
    assert south["value"].tolist() == [1000.0]
    assert len(frame) == 4  # NORTH 01-04 kept, NORTH 01-05 added, SOUTH replaced, nps by day


def test_a_file_that_is_not_there(plan_file: Path, tmp_path: Path) -> None:
    code, _, err = run("actuals", str(plan_file), str(tmp_path / "nope.csv"),
                       "--db", str(tmp_path / "x.duckdb"))
    assert code == 1 and "nope.csv: file not found" in err


# --------------------------------------------------------------------------- consolidation


def _facts_view(con: duckdb.DuckDBPyConnection) -> None:
    """What consolidation leaves in the database, made by hand."""
    con.execute("""CREATE TABLE my_facts (plan_id VARCHAR, unit VARCHAR, sheet VARCHAR,
                   cell VARCHAR, item VARCHAR, period VARCHAR, value_num DOUBLE,
                   value_text VARCHAR, sha256 VARCHAR)""")
    con.executemany("INSERT INTO my_facts VALUES (?, ?, 'BSC', ?, ?, ?, ?, NULL, 'abc')", [
        ("tiny-2027", "NORTH", "R7", "bsc:stock_out", "2027-01-04", 0.06),
        ("tiny-2027", "NORTH", "S7", "bsc:stock_out", "2027-01-05", 0.08),
        ("tiny-2027", "SOUTH", "Q8", "bsc:nps", "2027-01", 9.0),
        ("tiny-2027", "NORTH", "Q8", "bsc:nps", "2027-01", 6.0),  # imported 7.5 wins
        ("tiny-2027", "NORTH", "C5", "commitment:P1:WEB", "2027-01", 12345.0),
        ("tiny-2027", "NORTH", "R9", "bsc:no_such_kpi", "2027-01-04", 1.0),
        ("other-plan", "NORTH", "R7", "bsc:stock_out", "2027-01-04", 0.5),
        ("tiny-2027", "NORTH", "R7", "bsc:stock_out", "2026-12-31", 0.5),  # not this year
    ])
    con.execute("CREATE VIEW current_facts AS SELECT * FROM my_facts")


def test_bsc_inputs_of_unit_workbooks_join_the_actuals(plan_file: Path, tiny: LoadedPlan,
                                                       tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert run("actuals", str(plan_file), str(write(tmp_path, "a.csv", GOOD)),
               "--db", str(db))[0] == 0
    con = store.connect(db)
    try:
        before = store.load_actuals(con, tiny.plan)
        assert set(before["measure"]) == {"revenue", "nps"}  # no view yet: just skipped
        _facts_view(con)
        frame = store.load_actuals(con, tiny.plan)
    finally:
        con.close()
    kpis = frame[frame["measure"].isin(["stock_out", "nps"])].sort_values(["unit", "measure",
                                                                          "day"])
    assert kpis[["unit", "measure", "day", "value"]].values.tolist() == [
        ["NORTH", "nps", -1, 7.5], ["NORTH", "stock_out", 3, 0.06],
        ["NORTH", "stock_out", 4, 0.08], ["SOUTH", "nps", -1, 9.0]]
    from xlplan.tracking.track import track
    result = track(tiny.plan, frame, dt.date(2027, 1, 31))
    ytd = result.cards.ytd.set_index(["unit", "kpi"])
    assert ytd.loc[("NORTH", "stock_out"), "value"] == pytest.approx(0.07)  # mean of the days
    assert ytd.loc[("NORTH", "stock_out"), "status"] == "R"  # 2 - 0.07/0.05 = 0.6


def test_track_without_actuals_says_where_it_looked(plan_file: Path, tmp_path: Path) -> None:
    code, _, err = run("track", str(plan_file), "-o", str(tmp_path / "board"))
    assert code == 1 and "no such database" in err and "xlplan actuals" in err


def test_a_board_from_workbook_kpis_alone(plan_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "board" / "xlplan.duckdb"  # where consolidate -o board keeps its history
    con = store.connect(db)
    try:
        _facts_view(con)
    finally:
        con.close()
    code, out, err = run("track", str(plan_file), "-o", str(tmp_path / "board"),
                         "--as-of", "2027-02-10", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["data_through"] is None and doc["headline"]["ytd_actual"] is None
    # January: NORTH's stock-outs average 7% (2 - 7%/5% = 60%: red) and the company's too (only
    # NORTH reports them); NPS 6 of 8 (75%: orange) at NORTH, the company's mean 7.5 (93.75%)
    assert [(w["rule"], w["where"], w["measure"], w["level"]) for w in doc["warnings"]] == [
        ("kpi-status", "CO", "stock_out", "red"), ("kpi-status", "NORTH", "stock_out", "red"),
        ("kpi-status", "NORTH", "nps", "orange"), ("kpi-status", "CO", "nps", "yellow")]
    assert all(w["open"] and w["fired"] == "2027-01-31" for w in doc["warnings"])
    assert doc["warnings"][0]["decider"] == "HQ (Boss)"
    assert Path(doc["board"]).is_file()


@pytest.mark.parametrize(("rows", "as_of"), [
    (GOOD, "2027-01-04"),  # the last day with revenue, not the later KPI reading
    (GOOD + ",2027-03,SOUTH,P1,WEB,revenue,5000\n", "2027-03-31"),  # a month row: its end
])
def test_track_without_as_of_reports_as_of_the_last_revenue_day(
        plan_file: Path, tmp_path: Path, rows: str, as_of: str) -> None:
    """Not today (which may lie outside the fiscal year): the last day the revenue actuals
    cover."""
    db = tmp_path / "x.duckdb"
    assert run("actuals", str(plan_file), str(write(tmp_path, "a.csv", rows)),
               "--db", str(db))[0] == 0
    code, out, err = run("track", str(plan_file), "-o", str(tmp_path / "board"), "--db",
                         str(db), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["as_of"] == doc["data_through"] == as_of
    assert Path(doc["board"]).name == f"tiny-2027-board-{as_of}.xlsx"


def test_track_without_as_of_or_revenue_says_so(plan_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "board" / "xlplan.duckdb"
    con = store.connect(db)
    try:
        _facts_view(con)  # KPI readings only
    finally:
        con.close()
    code, _, err = run("track", str(plan_file), "-o", str(tmp_path / "board"))
    assert code == 1
    assert "no revenue actuals for plan tiny-2027" in err and "pass --as-of" in err
    assert not list((tmp_path / "board").glob("*.xlsx"))


def test_reforecast_needs_the_months_it_closes(plan_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert run("actuals", str(plan_file), str(write(tmp_path, "a.csv", GOOD)),
               "--db", str(db))[0] == 0
    code, _, err = run("reforecast", str(plan_file), "--as-of", "2027-03-31", "-o",
                       str(tmp_path / "rf.yaml"), "--db", str(db))
    assert code == 1
    assert "--as-of 2027-03-31 closes Mar 2027, but the revenue actuals cover 2027-01-04" in err
    assert not (tmp_path / "rf.yaml").exists()
    code, _, err = run("reforecast", str(plan_file), "--as-of", "2027-03-31", "-o",
                       str(plan_file), "--db", str(db))
    assert code == 2 and "would overwrite the plan itself" in err
    code, _, err = run("reforecast", str(plan_file), "--as-of", "31/03/2027", "-o",
                       str(tmp_path / "rf.yaml"), "--db", str(db))
    assert code == 2 and "expected a date YYYY-MM-DD" in err
