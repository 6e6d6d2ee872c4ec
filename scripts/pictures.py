"""Redraw docs/pictures/: one sheet of each workbook, from the bundled (Chinese) example plan.

    python scripts/pictures.py [-o docs/pictures] [--dpi 80]

In a temporary folder, through the command line as a user would run it: ``xlplan demo``
(the master, the unit workbooks, sample submissions and the consolidated workbook),
again on a copy of the plan in English (the consolidated workbook in both languages),
a synthetic half year of actuals and ``xlplan track`` (the tracking board), and
``xlplan plan export`` (the plan-setup workbook). Each picture is one sheet rendered by
LibreOffice (formulas recalculated) and pdftoppm, copied to ``<out>/<name>.png``.

Sheets are found by their stable key, never by the name they show in a language: through
the workbook's manifest when it has one, else the catalog's name for the key, else (the
consolidated org roll-up) the sheet holding the Excel table the roll-up writes.
:data:`PICTURES` is the list the docs may show (a test checks README and docs/ against it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    from xlplan.i18n import Msg, Words
    from xlplan.libreoffice import LibreOffice, render_png, sheet_states
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
    from xlplan.i18n import Msg, Words
    from xlplan.libreoffice import LibreOffice, render_png, sheet_states

AS_OF = "2027-06-15"  # the board mid-year: June and Q2 running
FIRST = "(first)"  # the workbook's first visible sheet, whatever it is called
ORG_TABLE = "OrgRollup"  # the Excel table of the consolidated org roll-up


@dataclass(frozen=True)
class Picture:
    name: str  # docs/pictures/<name>.png
    workbook: str  # which workbook (a key of the paths made by :func:`make_workbooks`)
    sheet: str  # the sheet's stable key, or FIRST
    what: str  # what it shows (for the docs)


PICTURES = (
    Picture("dashboard", "master", "Dashboard", "the master workbook's dashboard (仪表板)"),
    Picture("increment", "master", "Increment", "the master's increment bridge (增量)"),
    Picture("unit-targets", "unit", "Targets", "a unit workbook's targets (目标)"),
    Picture("consolidated", "consolidated", FIRST, "the consolidated workbook, first sheet"),
    Picture("consolidated-org", "consolidated", "Org roll-up",
            "the consolidated org roll-up"),
    Picture("consolidated-en", "consolidated-en", FIRST,
            "the consolidated workbook in English, first sheet"),
    Picture("consolidated-org-en", "consolidated-en", "Org roll-up",
            "the consolidated org roll-up in English"),
    Picture("board", "board", FIRST, "the tracking board, first sheet"),
    Picture("plan-setup", "setup", "Units", "the plan-setup workbook's units"),
)


def xlplan(*args: str | Path) -> None:
    """Run the command line as a user would (this checkout's package first on the path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    subprocess.run([sys.executable, "-m", "xlplan", *map(str, args)], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def _example(folder: Path, language: str) -> Path:
    """A copy of the bundled example plan (and its prior year) in ``language``."""
    folder.mkdir(parents=True, exist_ok=True)
    source = ROOT / "workbook_templates"
    shutil.copyfile(source / "example-prior-year.csv", folder / "example-prior-year.csv")
    text = (source / "example-plan.yaml").read_text(encoding="utf-8")
    if language != "zh":
        assert "\n  language: zh\n" in text
        text = text.replace("\n  language: zh\n", f"\n  language: {language}\n")
    plan = folder / "example-plan.yaml"
    plan.write_text(text, encoding="utf-8")
    return plan


def _actuals(plan: Path, out: Path) -> list[Path]:
    """Synthetic actuals of the year's first half, one CSV a month."""
    from xlplan.spec.loader import load_plan
    from xlplan.spec.prior_year import read_prior_year
    from xlplan.tracking.synthetic import generate, month_of_rows, write_files

    loaded = load_plan(plan)
    frame = generate(loaded.plan, read_prior_year(loaded))
    return write_files(frame[month_of_rows(frame) <= AS_OF[:7]], out, loaded.plan.id)


def make_workbooks(scratch: Path) -> dict[str, Path]:
    """Every workbook a picture shows, made through the command line."""
    zh = _example(scratch / "zh" / "plan", "zh")
    xlplan("demo", "--plan", zh, "-o", scratch / "zh")
    en = _example(scratch / "en" / "plan", "en")
    xlplan("demo", "--plan", en, "-o", scratch / "en")
    db = scratch / "board" / "xlplan.duckdb"
    xlplan("actuals", zh, *_actuals(zh, scratch / "actuals"), "--db", db)
    xlplan("track", zh, "-o", scratch / "board", "--db", db, "--as-of", AS_OF)
    xlplan("plan", "export", zh, "-o", scratch / "plan.xlsx")
    units = sorted((scratch / "zh" / "build" / "units").glob("*.xlsx"))
    return {
        "master": next((scratch / "zh" / "build").glob("*-master.xlsx")),
        "unit": units[0],
        "consolidated": next((scratch / "zh" / "consolidated").glob("*-consolidated.xlsx")),
        "consolidated-en": next((scratch / "en" / "consolidated").glob("*-consolidated.xlsx")),
        "board": next((scratch / "board").glob("*-board-*.xlsx")),
        "setup": scratch / "plan.xlsx",
    }


def _tables(path: Path) -> dict[str, str]:
    """Excel table name → the name of the sheet that holds it."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    return {table: ws.title for ws in book.worksheets for table in ws.tables}


def sheet_of(path: Path, key: str) -> str:
    """The name ``path`` shows for the sheet of stable ``key``."""
    visible = [name for name, state in sheet_states(path) if state == "visible"]
    if key == FIRST:
        return visible[0]
    from xlplan.workbook.manifest import SHEET, read_manifest

    names = {name for name, _ in sheet_states(path)}
    if SHEET in names:
        return read_manifest(path).sheet_named(key)
    if key == "Org roll-up" and ORG_TABLE in (tables := _tables(path)):
        return tables[ORG_TABLE]
    for language in ("zh", "en"):
        shown = Words(language)(Msg(key))
        if shown in names:
            return shown
    raise ValueError(f"{path.name}: no sheet for {key!r}; it has {visible}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "pictures")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlplan-pictures-") as folder:
        scratch = Path(folder)
        books = make_workbooks(scratch)
        with LibreOffice() as office:
            for picture in PICTURES:
                book = books[picture.workbook]
                sheet = sheet_of(book, picture.sheet)
                [image] = render_png(book, scratch / "png" / picture.name, sheets=[sheet],
                                     dpi=args.dpi, office=office)
                target = args.out / f"{picture.name}.png"
                shutil.copyfile(image, target)
                print(f"{target}: {book.name} {sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
