"""Built workbooks, checked as a user's spreadsheet would see them.

Every formula cell of the master and of every unit workbook, freshly built and
after `fill-sample`, is recalculated by LibreOffice (headless, OOXMLRecalcMode=0)
and compared with the engine's value to the cent. The small plan is also
recalculated with the `formulas` package. Structure: inputs unlocked and
validated, everything else locked, targets tie to the master, and the manifest's
fingerprint matches the file.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import EXAMPLE, SMALL

from xlplan.libreoffice import LibreOffice, read_values
from xlplan.spec.loader import load_plan
from xlplan.spec.prior_year import read_prior_year
from xlplan.workbook.build import Built, build_all, build_unit
from xlplan.workbook.context import BuildContext
from xlplan.workbook.fill import fill_sample
from xlplan.workbook.manifest import SHEET as MANIFEST
from xlplan.workbook.manifest import file_fingerprints, read_manifest
from xlplan.workbook.verify import compare


@dataclass
class BuiltPlan:
    ctx: BuildContext
    fresh: list[Built]
    filled: list[Built]

    @property
    def all(self) -> list[Built]:
        return self.fresh + self.filled


def build_and_fill(plan: Path, out: Path) -> BuiltPlan:
    loaded = load_plan(plan)
    ctx = BuildContext(loaded, read_prior_year(loaded))
    fresh = build_all(ctx, out / "build")
    filled = []
    for b in fresh:
        if b.unit is not None:
            result = fill_sample(b.path, out / "filled" / b.path.name, seed=3)
            assert result.built is not None
            filled.append(result.built)
    return BuiltPlan(ctx, fresh, filled)


@pytest.fixture(scope="module")
def small_built(tmp_path_factory: pytest.TempPathFactory) -> BuiltPlan:
    return build_and_fill(SMALL, tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def example_built(tmp_path_factory: pytest.TempPathFactory) -> BuiltPlan:
    return build_and_fill(EXAMPLE, tmp_path_factory.mktemp("example"))


def recalculated(office: LibreOffice, built: list[Built], out: Path) -> dict[Path, Any]:
    """LibreOffice's values of each workbook, by its path."""
    groups: dict[str, list[Built]] = {}
    for b in built:  # fresh and filled copies share names: recalculate them apart
        groups.setdefault(b.path.parent.name, []).append(b)
    values = {}
    for name, group in groups.items():
        done = office.recalculate([b.path for b in group], out / name)
        for b in group:
            values[b.path] = read_values(done[b.path])
    return values


def assert_engine_equals_libreoffice(office: LibreOffice, plan: BuiltPlan, out: Path) -> int:
    return assert_all_equal(plan.all, recalculated(office, plan.all, out))


def assert_all_equal(books: list[Built], values: dict[Path, Any]) -> int:
    """Every formula cell of ``books`` equals the recalculated value; returns how many."""
    checked = 0
    problems = []
    for b in books:
        expected = b.book.expected_values()
        checked += len(expected)
        problems += [f"{b.path.name} {m}" for m in compare(expected, values[b.path])]
    assert not problems, f"{len(problems)} cells differ, first: {problems[:10]}"
    return checked


@pytest.mark.slow
@pytest.mark.libreoffice
def test_small_plan_every_formula_cell_equals_the_engine(small_built: BuiltPlan,
                                                         small_values: dict[Path, Any]) -> None:
    checked = assert_all_equal(small_built.all, small_values)
    assert checked > 3000  # master, 2 units, 2 filled units: not a vacuous check


@pytest.mark.slow
@pytest.mark.libreoffice
def test_example_plan_every_formula_cell_equals_the_engine(office: LibreOffice,
                                                           example_built: BuiltPlan,
                                                           tmp_path: Path) -> None:
    checked = assert_engine_equals_libreoffice(office, example_built, tmp_path)
    assert checked > 100_000


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_check_catches_a_wrong_cached_value(office: LibreOffice, small_built: BuiltPlan,
                                                tmp_path: Path) -> None:
    """Build a workbook whose recorded engine value is wrong in one cell: it must be caught."""
    ctx = small_built.ctx
    built = build_unit(ctx, tmp_path / "wrong", "EAST")
    expected = built.book.expected_values()
    target_cells = [k for k, v in expected.items() if k[0] == "Targets" and isinstance(v, float)
                    and v > 1000]
    victim = target_cells[len(target_cells) // 2]
    # The file itself caches the right value; LibreOffice recalculates it; we claim 1 cent more.
    expected[victim] = expected[victim] + 0.01
    values = recalculated(office, [built], tmp_path / "recalc")[built.path]
    mismatches = compare(expected, values)
    assert [(m.sheet, m.cell) for m in mismatches] == [victim]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_really_recalculates_our_workbooks(office: LibreOffice,
                                                      small_built: BuiltPlan,
                                                      tmp_path: Path) -> None:
    """Corrupt the cached values in the file: after recalculation they are right again."""
    built = next(b for b in small_built.fresh if b.unit == "EAST")
    broken = tmp_path / "broken.xlsx"
    wb = openpyxl.load_workbook(built.path)  # openpyxl writes formulas with no cached value
    wb.save(broken)
    before = read_values(broken)
    cells = [k for k, v in built.book.expected_values().items() if isinstance(v, float) and v]
    assert all(before.get(s, {}).get(c) is None for s, c in cells)
    after = recalculated(office, [_as_built(built, broken)], tmp_path / "out")[broken]
    assert compare(built.book.expected_values(), after) == []


def _as_built(b: Built, path: Path) -> Built:
    return Built(path, b.unit, b.manifest, b.book)


@pytest.mark.slow
def test_small_plan_with_the_formulas_package(small_built: BuiltPlan) -> None:
    import formulas  # a dev dependency: installed by the test command
    for b in [small_built.fresh[0], small_built.fresh[1], small_built.filled[0]]:
        solution = formulas.ExcelModel().loads(str(b.path)).finish().calculate()
        values: dict[str, dict[str, Any]] = {}
        for key, ranges in solution.items():
            name = str(key)
            if "!" not in name or ":" in name.rsplit("!", 1)[1]:
                continue
            sheet, cell = name.rsplit("!", 1)
            sheet_name = sheet.strip("'").split("]", 1)[1]
            value = ranges.value[0, 0]
            values.setdefault(sheet_name.upper(), {})[cell.upper()] = _plain(value)
        expected = {(s.upper(), c): v for (s, c), v in b.book.expected_values().items()}
        mismatches = compare(expected, values)
        assert not mismatches, f"{b.path.name}: {[str(m) for m in mismatches[:5]]}"


def _plain(value: Any) -> Any:
    """formulas' values as a reader sees them (empty → None, numpy → Python)."""
    if hasattr(value, "item"):
        value = value.item()
    if type(value).__name__ in ("_XlEmpty", "XlEmpty") or str(value) == "empty":
        return None
    return value


@pytest.fixture(scope="module")
def small_values(office: LibreOffice, small_built: BuiltPlan,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Any]:
    return recalculated(office, small_built.all, tmp_path_factory.mktemp("small-recalc"))


@pytest.mark.slow
@pytest.mark.libreoffice
def test_targets_tie_to_the_master(small_built: BuiltPlan, small_values: dict[Path, Any]
                                   ) -> None:
    """With LibreOffice's numbers: unit targets are the master's, and add up to the company."""
    master = next(b for b in small_built.fresh if b.unit is None)
    master_targets = master_unit_targets(small_values[master.path])
    total = 0.0
    for b in small_built.fresh:
        if b.unit is None:
            continue
        values = small_values[b.path]
        annual = values["Targets"]["C4"]
        assert annual == pytest.approx(master_targets[b.unit], abs=0.005)
        commitments = values["Commitments"]
        total_row = max(int(c[1:]) for c in commitments if c.startswith("A")
                        and commitments[c] == "Total")
        assert commitments[f"P{total_row}"] == pytest.approx(annual, abs=0.005)  # Σ months
        people_total = [v for c, v in values["People"].items() if c.startswith("E")
                        and isinstance(v, float)]
        assert max(people_total) == pytest.approx(annual, abs=0.005)  # the team split ties
        total += annual
    assert total == pytest.approx(master_targets[small_built.ctx.tree.root], abs=0.005)


def master_unit_targets(values: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Unit code → target from the master's Targets sheet (column A codes, 'Target' column)."""
    sheet = values["Targets"]
    header_row = next(int(c[1:]) for c, v in sheet.items() if v == "Target")
    target_col = next(c.rstrip("0123456789") for c, v in sheet.items() if v == "Target")
    return {str(v): sheet[f"{target_col}{c[1:]}"] for c, v in sheet.items()
            if c.startswith("A") and c[1:].isdigit() and int(c[1:]) > header_row
            and f"{target_col}{c[1:]}" in sheet}


def test_inputs_unlocked_and_validated_everything_else_locked(small_built: BuiltPlan) -> None:
    for b in small_built.fresh:
        manifest = read_manifest(b.path)
        inputs = {(i["sheet"], i["cell"]) for i in manifest.inputs}
        if b.unit is not None:
            assert len(inputs) > 50
        wb = openpyxl.load_workbook(b.path)
        for ws in wb.worksheets:
            if ws.title == MANIFEST:
                assert ws.sheet_state == "veryHidden"
                continue
            assert ws.protection.sheet, f"{ws.title} is not protected"
            validated = set()
            for dv in ws.data_validations.dataValidation:
                for rng in dv.sqref.ranges:
                    for row in ws.iter_rows(min_row=rng.min_row, max_row=rng.max_row,
                                            min_col=rng.min_col, max_col=rng.max_col):
                        validated.update(c.coordinate for c in row)
            for row in ws.iter_rows():
                for cell in row:
                    key = (ws.title, cell.coordinate)
                    if key in inputs:
                        assert not cell.protection.locked, f"input {key} is locked"
                        assert cell.coordinate in validated, f"input {key} has no validation"
                    elif cell.value is not None:
                        assert cell.protection.locked, f"{key} is not an input but unlocked"


def test_manifest_fingerprint_matches_the_file(small_built: BuiltPlan) -> None:
    for b in small_built.all:
        manifest = read_manifest(b.path)
        assert manifest.plan_id == "small-2027" and manifest.unit == (b.unit or "")
        assert file_fingerprints(b.path, manifest) == manifest.sheets


def test_fingerprint_sees_a_changed_label_and_an_overwritten_formula(small_built: BuiltPlan,
                                                                    tmp_path: Path) -> None:
    b = next(x for x in small_built.fresh if x.unit == "EAST")
    manifest = read_manifest(b.path)
    copy = tmp_path / "tampered.xlsx"
    shutil.copy(b.path, copy)
    wb = openpyxl.load_workbook(copy)
    wb["Targets"]["A4"] = "Annual target (changed)"
    formula_cell = next(c for c in b.book.cells if c.sheet == "Commitments" and
                        c.kind == "formula")
    wb["Commitments"][formula_cell.ref] = 123.0
    wb.save(copy)
    now = file_fingerprints(copy, manifest)
    changed = {s for s in manifest.sheets if now[s] != manifest.sheets[s]}
    assert changed == {"Targets", "Commitments"}


def test_fast_formula_preparation_matches_xlsxwriter(built: list[Built]) -> None:
    """FastWorksheet skips XlsxWriter's 29 substitutions only where they change nothing."""
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from xlplan.workbook.book import FastWorksheet

    wb = xlsxwriter.Workbook(io.BytesIO())
    plain = wb.add_worksheet("plain")
    fast = wb.add_worksheet("fast", worksheet_class=FastWorksheet)
    assert isinstance(plain, Worksheet) and isinstance(fast, FastWorksheet)
    formulas = {c.content for b in built for c in b.book.cells if c.kind == "formula"}
    formulas |= {"=XLOOKUP(A1,B:B,C:C)", "=SORT(A1:A3)", "{=SUM(A1:A3)}", "=_xlfn.SORT(A1:A3)",
                 "=xSINGLE(A1)", "=FILTER(A1:A3,A1:A3>0)+SUM(B1)", "=SORTBY(A1:A3,B1:B3)"}
    assert len(formulas) > 100
    for formula in formulas:
        assert fast._prepare_formula(str(formula)) == plain._prepare_formula(str(formula))
    fast.use_future_functions = plain.use_future_functions = True
    for formula in ("=STDEV.S(A1:A3)", "=CONCAT(A1,B1)"):
        assert fast._prepare_formula(formula) == plain._prepare_formula(formula)
    wb.close()


def test_every_sheet_prints_landscape_one_page_wide(built: list[Built]) -> None:
    """Print set-up is on every sheet (the manifest aside): landscape, fit to one page
    wide, a footer with the sheet name and page number."""
    import re
    import zipfile

    for b in built:
        with zipfile.ZipFile(b.path) as z:
            parts = [n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
            xml = [z.read(n).decode() for n in parts]
        sheets = [x for x in xml if "<oddFooter>" in x]
        assert len(sheets) == len(parts) - 1, b.path.name  # all but the manifest
        for x in sheets:
            assert 'orientation="landscape"' in x and 'fitToHeight="0"' in x
            assert "&amp;A" in x and "&amp;P" in x
