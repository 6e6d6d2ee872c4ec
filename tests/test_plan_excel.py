"""The plan setup workbook: lossless both ways, errors at Sheet!Cell, edits by a person
(openpyxl, LibreOffice), files that are not setup workbooks refused."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import typing
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import EXAMPLE, SMALL, TEMPLATES, require_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.spec import Plan
from xlplan.spec.convert import export_setup, written, yaml_text
from xlplan.spec.loader import LoadedPlan, PlanError, content_hash, load_plan, load_plan_text
from xlplan.spec.loader import LoadedPlan as Loaded
from xlplan.spec.presets import apply_presets
from xlplan.spec.setup_layout import TABLES
from xlplan.spec.setup_writer import write_setup

runner = CliRunner()


def round_trip(loaded: LoadedPlan, tmp: Path) -> tuple[LoadedPlan, LoadedPlan]:
    """yaml → xlsx → model, and xlsx → yaml → model."""
    book = export_setup(loaded, tmp / "plan.xlsx")
    from_book = load_plan(book)
    back = load_plan_text(yaml_text(from_book, book.name), "back.yaml")
    return from_book, back


@pytest.mark.parametrize("source", [SMALL, EXAMPLE], ids=["small", "example"])
def test_the_example_plans_round_trip_to_an_identical_model(source: Path, tmp_path: Path) -> None:
    loaded = load_plan(source)
    from_book, back = round_trip(loaded, tmp_path)
    assert from_book.plan == loaded.plan
    assert back.plan == loaded.plan
    # the preset stays a preset: its KPIs are not copied in as the plan's own
    assert written(from_book).get("bsc") == written(loaded).get("bsc")
    # same content, same hash, however the file was written
    assert from_book.spec_hash == content_hash(loaded.plan)


def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
        inner = args[0]
        if typing.get_origin(inner) is typing.Annotated:
            inner = typing.get_args(inner)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out += _leaves(inner, (*prefix, name))
        elif typing.get_origin(inner) is list and isinstance(typing.get_args(inner)[0], type) \
                and issubclass(typing.get_args(inner)[0], BaseModel):
            out += _leaves(typing.get_args(inner)[0], (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


def _homes() -> set[tuple[str, ...]]:
    homes = set()
    for table in TABLES:
        if table.role == "settings":
            for s in table.settings:
                path = s.path
                # enum-keyed dictionaries: one row per key, the field is the dictionary
                field_path = path[:-1] if path[-2:-1] in (("maturity_factors",),
                                                          ("bcg_weights",)) else path
                homes.add(field_path)
        elif table.role in ("values", "child_values"):
            homes.add(table.path)
        else:
            for c in table.columns:
                if c.path != ("__parent__",):
                    homes.add((*table.path, *c.path))
    return homes


def test_every_field_of_the_plan_has_a_home_in_the_workbook() -> None:
    missing = [".".join(p) for p in _leaves(Plan) if p not in _homes()]
    assert missing == []


# -- generated plans ------------------------------------------------------------------------

BASE = written(load_plan(SMALL))
NAMES = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"]),
                min_size=1, max_size=20).map(str.strip).filter(bool)
SHARE = st.integers(0, 100).map(lambda n: n / 100)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """The small plan changed within valid ranges: units added or dropped, optional parts
    toggled, weights and texts changed."""
    data = copy.deepcopy(BASE)
    data["name"] = draw(NAMES)
    extra = draw(st.integers(0, 3))
    for k in range(extra):
        parent = draw(st.sampled_from(["EAST", "WEST"]))
        unit: dict[str, Any] = {"code": f"{parent}-N{k}", "name": draw(NAMES), "parent": parent}
        if draw(st.booleans()):
            unit["factors"] = {"priority": draw(st.integers(5, 20)) / 10,
                               "maturity": draw(st.sampled_from(["incubating", "mature"])),
                               "attainment_history": draw(st.lists(SHARE, max_size=3))}
        if draw(st.booleans()):
            unit["kind"] = draw(st.sampled_from(["person", "team", "shop"]))
        data["units"].append(unit)
    if draw(st.booleans()):
        data.pop("prior_year")
        data.pop("budget")
    if draw(st.booleans()):
        data["calendar"]["method"] = "months"
        data["calendar"]["month_weights"] = [1.0 / 12] * 12
        data["calendar"]["normalise"] = True
        data["calendar"]["holidays"] = sorted(draw(st.sets(
            st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31)), max_size=3)))
    online = draw(st.integers(1, 99))
    data["channels"][0]["share"] = online / 100
    data["channels"][1]["share"] = (100 - online) / 100
    if draw(st.booleans()):
        data["bsc"] = {"kpis": [{"code": "nps", "name": "NPS", "perspective": "customer",
                                 "target": draw(st.integers(1, 10)),
                                 "direction": draw(st.sampled_from(["higher", "lower"]))}]}
    if draw(st.booleans()):
        data["segments"] = [{"code": "VIP", "name": draw(NAMES),
                             "retention": draw(SHARE), "new_customers": draw(st.integers(0, 99))}]
    if draw(st.booleans()):
        data["tracking"] = {"columns": {"unit": "Org", "value": "Amount"}, "sheet": "Data"}
        data["workbooks"] = {"language": "zh", "input_level": 1}
    if draw(st.booleans()):
        data["risks"][0]["plans"] = data["risks"][0]["plans"][:draw(st.integers(0, 3))]
        data["actions"][0]["milestones"] = draw(st.lists(NAMES, max_size=3))
    return data


def _as_loaded(data: dict[str, Any]) -> Loaded | None:
    try:
        plan = Plan.model_validate(apply_presets(data))
    except ValidationError:
        return None
    return Loaded(plan=plan, path=None, spec_hash="", data=data)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=plans())
def test_generated_plans_survive_xlsx_and_yaml(data: dict[str, Any], tmp_path: Path) -> None:
    loaded = _as_loaded(data)
    assert loaded is not None
    book = tmp_path / "plan.xlsx"
    write_setup(written(loaded), book)
    from_book = load_plan(book)
    assert from_book.plan == loaded.plan
    back = load_plan_text(yaml_text(from_book, "plan.xlsx"))
    assert back.plan == loaded.plan


# -- errors at Sheet!Cell -------------------------------------------------------------------

@pytest.fixture
def small_book(tmp_path: Path) -> Path:
    shutil.copy(TEMPLATES / "small-prior-year.csv", tmp_path)
    return export_setup(load_plan(SMALL), tmp_path / "plan.xlsx")


def edit_cells(path: Path, edits: dict[tuple[str, str], Any]) -> None:
    """Type into cells as a person would (openpyxl keeps the tables and drop-downs)."""
    book = openpyxl.load_workbook(path)
    for (sheet, ref), value in edits.items():
        book[sheet][ref] = value
    book.save(path)


def plan_problems(path: Path) -> list[str]:
    with pytest.raises(PlanError) as info:
        load_plan(path)
    return str(info.value).splitlines()


def test_problems_name_the_sheet_and_cell_with_the_yaml_wording(small_book: Path) -> None:
    assert openpyxl.load_workbook(small_book)["Units"]["A9"].value == "EAST-1"
    edit_cells(small_book, {("Units", "C9"): "EAS",
                            ("Plan", "B15"): "14,000,000",
                            ("Key results", "I6"): 0.5})
    assert openpyxl.load_workbook(small_book)["Plan"]["A15"].value == "north_star.target"
    assert plan_problems(small_book) == [
        f"{small_book}: 3 problem(s)",
        f"  {small_book}: Plan!B15: write numbers without thousands separators: 14000000",
        f"  {small_book}: Units!C9: unknown parent unit 'EAS' (did you mean 'EAST'?)",
        f"  {small_book}: 'Key results'!I6: weights of the key results of objective 'O1' sum "
        "to 0.9, expected 1 (or leave out every weight for equal weights)",
    ]
    # the same mistake in YAML: the same words, at a line
    text = SMALL.read_text(encoding="utf-8").replace("name: Rep Zhou, parent: EAST",
                                                     "name: Rep Zhou, parent: EAS")
    with pytest.raises(PlanError) as info:
        load_plan_text(text, "plan.yaml")
    assert "units[3].parent: unknown parent unit 'EAS' (did you mean 'EAST'?)" in str(info.value)


def test_reading_problems_of_the_tables_themselves(small_book: Path) -> None:
    edit_cells(small_book, {("Key results", "A7"): "O11",     # a KR under no objective
                            ("Allocation", "A20"): "allocation.metod",
                            ("Allocation", "B20"): "even",
                            ("Units", "F7"): "=1/0"})
    got = plan_problems(small_book)
    assert f"  {small_book}: 'Key results'!A7: unknown objective 'O11' (did you mean 'O1'?)" in got
    assert (f"  {small_book}: Allocation!A20: unknown setting 'allocation.metod' (did you mean "
            "'allocation.method'?)") in got
    assert (f"  {small_book}: Units!F7: holds a formula with no saved result: type the value "
            "(or open and save the file in Excel)") in got


def test_a_missing_required_value_points_at_its_cell(small_book: Path) -> None:
    edit_cells(small_book, {("Products", "B7"): None})
    assert plan_problems(small_book)[1:] == [
        f"  {small_book}: Products!B7: required key is missing"]


# -- edits in Excel: typed from scratch, sorted, empty rows ---------------------------------

def _clear_tables(book: openpyxl.Workbook) -> None:
    """Delete every entry below the table headers (row 5), as a person starting over."""
    for ws in book.worksheets[1:]:
        for row in ws.iter_rows(min_row=6):
            for cell in row:
                if ws.cell(5, cell.column).value not in (None, "Setting", "Default",
                                                         "What it is", "Quarter", "Month"):
                    cell.value = None


def test_a_plan_typed_from_scratch_into_the_starter_builds(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "new"), "--excel"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "new" / "plan.xlsx"
    book = openpyxl.load_workbook(path)
    _clear_tables(book)
    plan = book["Plan"]
    values = {"id": "shop-2028", "name": "Corner shops 2028", "fiscal_year": 2028,
              "north_star.baseline": 2000000, "north_star.target": 2600000}
    for row in range(6, plan.max_row + 1):
        key = plan.cell(row, 1).value
        if key in values:
            plan.cell(row, 2).value = values[key]
    units = book["Units"]
    units.append([])  # an empty row between entries
    for r, row in enumerate([["HQ", "Corner shops", None, "Ann", None, "company"],
                             ["S1", "Shop one", "HQ", "Bo", None, "team", 2],
                             [None],
                             ["S2", "Shop two", "HQ", "Cy", None, "team", 1, 1.2, "mature"]],
                            start=6):
        for c, value in enumerate(row, start=1):
            units.cell(r, c).value = value
    for r, row in enumerate([["T", "Tea", "core", None, 12, 0.7],
                             ["C", "Cake", "emerging", None, 30, 0.3]], start=6):
        for c, value in enumerate(row, start=1):
            book["Products"].cell(r, c).value = value
    book["Channels"]["A6"], book["Channels"]["B6"], book["Channels"]["D6"] = "SHOP", "Shop", 1
    weights = book["Calendar"]
    for q, w in enumerate([0.2, 0.3, 0.3, 0.2], start=6):
        weights.cell(q, 7).value = w
    book.save(path)
    loaded = load_plan(path)
    assert [u.code for u in loaded.plan.units] == ["HQ", "S1", "S2"]
    assert loaded.plan.units[2].factors.priority == 1.2
    assert loaded.plan.calendar.quarter_weights == [0.2, 0.3, 0.3, 0.2]
    assert loaded.plan.budget is None and loaded.plan.okrs == []
    result = runner.invoke(app, ["build", str(path), "-o", str(tmp_path / "out"), "--workers",
                                 "1", "--json"])
    assert result.exit_code == 0, result.output
    # workbooks go one level above the leaves: here the company
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.xlsx")) == [
        "shop-2028-HQ.xlsx", "shop-2028-master.xlsx"]


def test_sorted_rows_and_moved_quarters_read_the_same(small_book: Path) -> None:
    book = openpyxl.load_workbook(small_book)
    cal = book["Calendar"]
    rows = [[cal.cell(r, c).value for c in (6, 7)] for r in range(6, 10)]
    for r, (q, w) in zip(range(6, 10), reversed(rows), strict=True):  # sorted Z→A
        cal.cell(r, 6).value, cal.cell(r, 7).value = q, w
    book.save(small_book)
    assert load_plan(small_book).plan == load_plan(SMALL).plan


@pytest.mark.libreoffice
@pytest.mark.slow
def test_a_setup_workbook_saved_by_libreoffice_reads_the_same(tmp_path: Path) -> None:
    from xlplan.libreoffice import LibreOffice

    require_tool("soffice")
    loaded = load_plan(EXAMPLE)
    book = export_setup(loaded, tmp_path / "in" / "plan.xlsx")
    with LibreOffice() as lo:
        saved = lo.recalculate([book], tmp_path / "saved")[book]
    assert saved.read_bytes() != book.read_bytes()
    again = load_plan(saved)
    assert again.plan == loaded.plan
    assert again.spec_hash == load_plan(book).spec_hash


# -- files that are not setup workbooks -----------------------------------------------------

def test_another_workbook_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    other = tmp_path / "budget.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "Revenue"
    book.save(other)
    got = plan_problems(other)
    assert got[1].startswith(f"  {other}: this is not a plan setup workbook: it has no sheet "
                             "'Plan' or 'Units'")


@pytest.mark.parametrize(("content", "reason"), [
    (b"id,name\n1,2\n", "this is not an .xlsx workbook (no zip signature"),
    (b"", "the file is empty"),
    (b"PK\x03\x04 truncated", "the zip is damaged or truncated"),
])
def test_hostile_or_broken_files_never_crash(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)
    got = plan_problems(path)
    assert got[1].startswith(f"  {path}: cannot be read as a plan setup workbook: {reason}")


def test_an_entity_declaration_in_the_xml_is_refused(small_book: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(small_book) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY x "boom">]><worksheet',
                                    1)
            zout.writestr(item, data)
    got = plan_problems(bad)
    assert got[1].startswith(f"  {bad}: cannot be read as a plan setup workbook:")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1


# -- the commands ---------------------------------------------------------------------------

@pytest.mark.slow
def test_targets_and_build_from_xlsx_equal_those_from_yaml(tmp_path: Path) -> None:
    book = tmp_path / "p.xlsx"
    assert runner.invoke(app, ["plan", "export", str(EXAMPLE), "-o", str(book)]).exit_code == 0
    shutil.copy(TEMPLATES / "example-prior-year.csv", tmp_path)
    a = runner.invoke(app, ["targets", str(book), "--format", "json", "--by", "org,month"])
    b = runner.invoke(app, ["targets", str(EXAMPLE), "--format", "json", "--by", "org,month"])
    assert a.exit_code == 0 and a.output == b.output
    assert json.loads(a.output)["total"] == 130_000_000
    small = tmp_path / "small.xlsx"
    assert runner.invoke(app, ["plan", "export", str(SMALL), "-o", str(small)]).exit_code == 0
    shutil.copy(TEMPLATES / "small-prior-year.csv", tmp_path)
    for source, out in ((small, "bx"), (SMALL, "by")):
        result = runner.invoke(app, ["build", str(source), "-o", str(tmp_path / out),
                                     "--workers", "1"])
        assert result.exit_code == 0, result.output
    books = sorted((tmp_path / "bx").rglob("*.xlsx"))
    assert len(books) == 3
    for fx in books:
        fy = tmp_path / "by" / fx.relative_to(tmp_path / "bx")
        with zipfile.ZipFile(fx) as zx, zipfile.ZipFile(fy) as zy:
            assert zx.namelist() == zy.namelist()
            differ = [n for n in zx.namelist() if zx.read(n) != zy.read(n)]
            # timestamps, and the manifest's plan path and hash (in the shared strings)
            assert set(differ) <= {"docProps/core.xml", "xl/sharedStrings.xml"}
            sx = zx.read("xl/sharedStrings.xml").decode()
            sy = zy.read("xl/sharedStrings.xml").decode()
            for removed in (str(small), str(SMALL.resolve()), load_plan(small).spec_hash,
                            load_plan(SMALL).spec_hash):
                sx, sy = sx.replace(removed, ""), sy.replace(removed, "")
            assert _without_times(sx) == _without_times(sy)


def _without_times(text: str) -> str:
    import re

    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^<]*", "", text)


def test_export_and_import_commands_round_trip(tmp_path: Path) -> None:
    book, back = tmp_path / "plan.xlsx", tmp_path / "plan.yaml"
    assert runner.invoke(app, ["plan", "export", str(SMALL), "-o", str(book)]).exit_code == 0
    result = runner.invoke(app, ["plan", "import", str(book), "-o", str(back)])
    assert result.exit_code == 0, result.output
    assert back.read_text(encoding="utf-8").startswith(
        "# Written by `xlplan plan import` from plan.xlsx.\nid: small-2027\n")
    assert load_plan_text(back.read_text(encoding="utf-8")).plan == load_plan(SMALL).plan
    wrong = runner.invoke(app, ["plan", "export", str(SMALL), "-o", str(tmp_path / "p.yaml")])
    assert wrong.exit_code == 2


@pytest.mark.slow
def test_a_reforecast_of_a_setup_workbook_plan_equals_that_of_its_yaml(tmp_path: Path) -> None:
    from test_tracking_year import as_actuals

    from xlplan.spec.prior_year import read_prior_year
    from xlplan.tracking.plan_file import write_plan
    from xlplan.tracking.reforecast import reforecast
    from xlplan.tracking.synthetic import generate
    from xlplan.tracking.track import track

    shutil.copy(TEMPLATES / "small-prior-year.csv", tmp_path)
    from_yaml = load_plan(shutil.copy(SMALL, tmp_path / "plan.yaml"))  # same prior-year file
    from_book = load_plan(export_setup(from_yaml, tmp_path / "plan.xlsx"))
    prior = read_prior_year(from_yaml)
    year = as_actuals(generate(from_yaml.plan, prior), from_yaml)
    march = track(from_yaml.plan, year, dt.date(2027, 3, 31), prior)
    rf = reforecast(from_yaml.plan, march.targets, march.revenue, dt.date(2027, 3, 31))
    write_plan(from_yaml, rf, tmp_path / "a" / "plan2.yaml")
    write_plan(from_book, rf, tmp_path / "b" / "plan2.yaml")
    a, b = load_plan(tmp_path / "a" / "plan2.yaml"), load_plan(tmp_path / "b" / "plan2.yaml")
    assert a.plan == b.plan
    assert a.plan.calendar.month_weights is not None and a.plan.calendar.normalise
