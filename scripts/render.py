"""Render every sheet of a workbook to PNG pictures, the way LibreOffice Calc prints it.

Keep one rendering script in the repo so anyone can redo a picture (for docs, a review or
a bug report) the same way:

    python scripts/render.py WORKBOOK.xlsx -o OUTDIR [--dpi 80] [--sheet NAME ...]

Formulas are recalculated by LibreOffice first, so the pictures show LibreOffice's numbers,
not the values cached in the file. Each visible sheet becomes one picture (a single page
cropped to the sheet's used area, charts included): OUTDIR/<stem>-<NN>-<sheet>.png. The
paths are printed one per line. Needs LibreOffice (soffice) and poppler-utils (pdftoppm).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from xlplan.libreoffice import LibreOfficeError, render_png
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from xlplan.libreoffice import LibreOfficeError, render_png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path, help="the .xlsx to render")
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--dpi", type=int, default=80, help="resolution (default 80)")
    parser.add_argument("--sheet", action="append", dest="sheets", metavar="NAME",
                        help="render only this sheet (repeatable; default every visible one)")
    args = parser.parse_args(argv)
    if not args.workbook.is_file():
        parser.error(f"no such file: {args.workbook}")
    try:
        images = render_png(args.workbook, args.out, sheets=args.sheets, dpi=args.dpi)
    except (LibreOfficeError, FileNotFoundError, ValueError) as error:
        print(f"render: {error}", file=sys.stderr)
        return 1
    for image in images:
        print(image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
