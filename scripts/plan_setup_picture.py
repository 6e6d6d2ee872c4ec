"""Redraw docs/pictures/plan-setup.png: the Units sheet of the small plan's setup workbook.

    python scripts/plan_setup_picture.py [-o docs/pictures/plan-setup.png] [--dpi 80]

Writes the setup workbook of workbook_templates/small-plan.yaml (as `xlplan plan export`
does), renders its Units sheet with LibreOffice (formulas recalculated, so the check cells
show LibreOffice's results) and pdftoppm, and copies the picture into place.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    from xlplan.libreoffice import render_png
    from xlplan.spec.convert import export_setup
    from xlplan.spec.loader import load_plan
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
    from xlplan.libreoffice import render_png
    from xlplan.spec.convert import export_setup
    from xlplan.spec.loader import load_plan

SHEET = "Units"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs/pictures/plan-setup.png")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xlplan-setup-") as scratch:
        book = export_setup(load_plan(ROOT / "workbook_templates/small-plan.yaml"),
                            Path(scratch) / "plan.xlsx")
        [image] = render_png(book, Path(scratch) / "png", sheets=[SHEET], dpi=args.dpi)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
