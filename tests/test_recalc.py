"""`xlplan recalc`: formulas recalculated headlessly, XLPLAN_* functions included.

The example master built with --with-functions: its Live sheet, evaluated by the
formulas package through the xlplan functions, gives the engine's numbers (the
values cached in the file, and each unit's target and light computed here from
the engine directly). A changed cached value is reported, and --check fails.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from conftest import EXAMPLE, SMALL
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.engine.okr import kr_progress, objective_progress
from xlplan.engine.variance import attainment, status
from xlplan.recalc import Recalc, RecalcError, recalc, require_formulas
from xlplan.spec.loader import in_language, load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_master
from xlplan.workbook.context import BuildContext
from xlplan.workbook.live import ORG_HEAD, SHEET

pytestmark = pytest.mark.slow  # the formulas package recalculates whole workbooks

runner = CliRunner()


@pytest.fixture(scope="module")
def example_master(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildContext, Built]:
    loaded = in_language(load_plan(EXAMPLE), "en")  # the example is zh; these check numbers
    ctx = BuildContext(loaded, read_prior_year(loaded))
    return ctx, build_master(ctx, tmp_path_factory.mktemp("example"), with_functions=True)


@pytest.fixture(scope="module")
def live(example_master: tuple[BuildContext, Built]) -> Recalc:
    return recalc(example_master[1].path, [SHEET])


def test_live_sheet_evaluates_to_the_cached_engine_values(
        example_master: tuple[BuildContext, Built], live: Recalc) -> None:
    _, built = example_master
    expected = {k for k, _ in built.book.expected_values().items() if k[0] == SHEET}
    assert live.sheets == [SHEET]
    assert set(live.values) == expected  # every formula cell of the sheet, spilled ones too
    assert live.differences == []


def test_live_sheet_gives_the_engines_targets_and_lights(
        example_master: tuple[BuildContext, Built], live: Recalc) -> None:
    """Independently of the cache: each unit's roll-up is its target, its light the engine's."""
    ctx, _ = example_master
    assert ctx.prior is not None
    prior = {str(k): int(v) for k, v in ctx.prior.revenue_by("unit").items()}
    got = {cell: value for (sheet, cell), value in live.values.items()}
    for i, code in enumerate(ctx.tree.walk()):
        row = ORG_HEAD + 2 + i  # 1-based row of the unit
        target = ctx.money(ctx.targets[code])
        assert got[f"E{row}"] == pytest.approx(target, abs=0.005), code  # XLPLAN_ROLLUP
        assert got[f"G{row}"] == "✓"  # ties to the Targets sheet
        last_year = sum(ctx.money(prior.get(leaf, 0)) for leaf in ctx.tree.leaves_under(code))
        assert got[f"I{row}"] == pytest.approx(last_year, abs=0.005), code
        assert got[f"J{row}"] == pytest.approx(last_year - target, abs=0.005)
        att = attainment(last_year, target)
        assert got[f"K{row}"] == pytest.approx(att, rel=1e-9)
        assert got[f"L{row}"] == status(att, ctx.plan.status_bands)
    first_kr = ORG_HEAD + len(ctx.targets) + 5  # 1-based: after the org block and a header
    krs = [kr for o in ctx.plan.okrs for kr in o.krs]
    for i, kr in enumerate(krs):  # XLPLAN_KR_PROGRESS, one block
        assert got[f"G{first_kr + i}"] == pytest.approx(
            kr_progress(kr.start, kr.target, kr.current), abs=1e-12), kr.id
    row = first_kr
    for o in ctx.plan.okrs:  # XLPLAN_OKR_PROGRESS, one cell per objective
        own = [kr_progress(kr.start, kr.target, kr.current) for kr in o.krs]
        assert got[f"H{row}"] == pytest.approx(
            objective_progress(own, [kr.weight for kr in o.krs]), abs=1e-12), o.id
        row += len(o.krs)


def _sheet_xml(path: Path, sheet: str) -> str:
    """The part name of a sheet in an .xlsx (through workbook.xml and its relationships)."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+" r:id="(rId\d+)"', book)
    assert rid, sheet
    target = re.search(rf'Id="{rid[1]}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid[1]}"', rels)
    assert target
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


def with_cached_value(src: Path, dst: Path, sheet: str, cell: str, value: float) -> Path:
    """A copy of ``src`` whose cached value of ``cell`` is ``value`` (formulas untouched)."""
    part = _sheet_xml(src, sheet)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                xml = data.decode()
                new = re.sub(rf'(<c r="{cell}"[^>]*>(?:<f[^>]*>[^<]*</f>|<f[^>]*/>)?<v>)'
                             r'[^<]*(</v>)', rf"\g<1>{value!r}\g<2>", xml, count=1)
                assert new != xml, f"{cell} not found"
                data = new.encode()
            zout.writestr(item, data)
    return dst


@pytest.mark.parametrize("cell", ["E10", "J12", "F9"])  # spilled, spilled, native formula
def test_check_reports_a_changed_cached_value_and_fails(
        example_master: tuple[BuildContext, Built], tmp_path: Path, cell: str) -> None:
    _, built = example_master
    tampered = with_cached_value(built.path, tmp_path / "tampered.xlsx", SHEET, cell, 12345.0)
    plain = runner.invoke(app, ["recalc", str(tampered), "--sheet", SHEET])
    assert plain.exit_code == 0  # without --check it reports and succeeds
    assert "1 differ" in plain.stdout and cell in plain.stdout and "12345.0" in plain.stdout
    checked = runner.invoke(app, ["recalc", str(tampered), "--sheet", SHEET, "--check",
                                  "--json"])
    assert checked.exit_code == 1
    doc = json.loads(checked.stdout)
    assert [(d["sheet"], d["cell"], d["cached"]) for d in doc["differences"]] == [
        (SHEET, cell, 12345.0)]
    assert f"{SHEET}!{cell}" in checked.stderr


def test_recalc_of_the_whole_small_master_agrees(tmp_path: Path) -> None:
    out = tmp_path / "build"
    built = runner.invoke(app, ["build", str(SMALL), "-o", str(out), "--with-functions",
                                "--json"])
    assert built.exit_code == 0, built.output
    master = Path(json.loads(built.stdout)["master"])
    result = runner.invoke(app, ["recalc", str(master), "--check", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["formula_cells"] > 500 and doc["differences"] == []
    assert SHEET in doc["sheets"] and "Targets" in doc["sheets"]


def test_add_in_function_names_as_excel_stores_them(tmp_path: Path) -> None:
    """Excel saves an add-in's function as _xldudf_NAME: those evaluate too."""
    path = tmp_path / "udf.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("S")
    ws.write_row(0, 0, [1, 1, 1])
    ws.write_dynamic_array_formula(1, 0, 1, 2, "=_xldudf_XLPLAN_ALLOCATE(100,A1:C1,1)", None, 34)
    ws.write_number(1, 1, 33)
    ws.write_number(1, 2, 30)  # wrong: the function gives 33
    ws.write_formula(2, 0, "=XLPLAN_VARIANCE(A2,A1)", None, 33)
    book.close()
    result = recalc(path)
    assert result.formula_cells == 4
    assert [(d.cell, d.cached, d.recalculated) for d in result.differences] == [("C2", 30, 33.0)]


def test_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = runner.invoke(app, ["recalc", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 1 and "file not found" in missing.stderr
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    unreadable = runner.invoke(app, ["recalc", str(bad)])
    assert unreadable.exit_code == 1 and "not a readable .xlsx" in unreadable.stderr
    book = tmp_path / "ok.xlsx"
    xlsxwriter.Workbook(str(book)).close()
    unknown = runner.invoke(app, ["recalc", str(book), "--sheet", "Nope"])
    assert unknown.exit_code == 1 and "no sheet Nope" in unknown.stderr
    usage = runner.invoke(app, ["recalc", str(book), "--wrong"])
    assert usage.exit_code == 2
    monkeypatch.setitem(sys.modules, "formulas", None)  # as if it were not installed
    with pytest.raises(RecalcError, match=re.escape("pip install 'xlplan[recalc]'")):
        require_formulas()
    no_package = runner.invoke(app, ["recalc", str(book)])
    assert no_package.exit_code == 1 and "xlplan[recalc]" in no_package.stderr


def test_help_says_it_is_slow() -> None:
    text = runner.invoke(app, ["recalc", "--help"]).output
    assert "22 s for 3,000 formula cells" in " ".join(text.split())


def test_live_sheet_without_prior_year_has_no_lights(tmp_path: Path) -> None:
    """No last year to compare with: the roll-up only, still the engine's numbers."""
    ctx = BuildContext(load_plan(SMALL), None)
    built = build_master(ctx, tmp_path, with_functions=True)
    cells = {c.ref for c in built.book.cells if c.sheet == SHEET and c.kind == "formula"}
    assert not any(ref.startswith(("I", "J", "K", "L")) for ref in cells)
    result = recalc(built.path, [SHEET])
    assert result.differences == []
    root = ctx.tree.root
    assert result.values[(SHEET, f"E{ORG_HEAD + 2}")] == pytest.approx(
        ctx.money(ctx.targets[root]), abs=0.005)
