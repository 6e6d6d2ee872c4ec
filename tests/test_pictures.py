"""The pictures in docs/pictures/ are exactly the ones scripts/pictures.py redraws and the
docs show: no picture the script forgets (it would go stale), none the docs miss, no
reference to a picture that is not there. Cheap: reads files, runs no LibreOffice."""

from __future__ import annotations

import importlib.util
import re
import sys

from conftest import ROOT

PICTURE = re.compile(r"docs/pictures/([\w.-]+)\.png")


def _script():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("pictures", ROOT / "scripts" / "pictures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_script_draws_what_the_docs_show() -> None:
    drawn = [p.name for p in _script().PICTURES]
    assert len(drawn) == len(set(drawn)) >= 6
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    shown = {name for doc in docs for name in PICTURE.findall(doc.read_text(encoding="utf-8"))}
    assert shown == set(drawn)
    on_disk = {p.stem for p in (ROOT / "docs" / "pictures").glob("*.png")}
    assert on_disk == set(drawn)


def test_each_picture_names_a_workbook_the_script_makes() -> None:
    script = _script()
    made = {"master", "unit", "consolidated", "consolidated-en", "board", "setup"}
    assert {p.workbook for p in script.PICTURES} == made
    # every workbook of issue 16 in Chinese: master, unit, consolidated, board, setup
    assert "Dashboard" in {p.sheet for p in script.PICTURES if p.workbook == "master"}
