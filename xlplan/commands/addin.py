"""``xlplan addin lite|conf`` (the files that put the XLPLAN_* functions into Excel) and
``xlplan recalc`` (check a workbook's cached values against its formulas, headlessly).

Registered on ``xlplan.commands.app.app`` when :mod:`xlplan.commands` loads this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from xlplan.addin import CONF_FILE, CONF_STEPS, LITE_STEPS, write_conf, write_lite
from xlplan.commands.app import app, console, fail, print_table

addin_app = typer.Typer(help="Files that put the XLPLAN_* functions into Excel (xlwings).",
                        no_args_is_help=True)
app.add_typer(addin_app, name="addin")

Force = Annotated[bool, typer.Option(help="Overwrite existing files.")]


@addin_app.command()
def lite(
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for main.py and "
                                                         "requirements.txt.")] = Path("."),
    force: Force = False,
) -> None:
    """Write xlwings Lite's main.py (xlplan bundled in) and requirements.txt."""
    try:
        main, requirements = write_lite(out, force=force)
    except FileExistsError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    console.print(f"wrote {main} and {requirements}\n", markup=False)
    console.print(LITE_STEPS.format(main=main, requirements=requirements), markup=False)


@addin_app.command()
def conf(
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write it.")] = Path(CONF_FILE),
    interpreter: Annotated[str | None, typer.Option(
        help="The python.exe Excel should run (default: this Python on Windows, else "
             "the add-in's own setting).")] = None,
    force: Force = False,
) -> None:
    """Write the xlwings.conf that registers xlplan.udfs with the classic xlwings add-in."""
    try:
        path = write_conf(out, interpreter, force=force)
    except FileExistsError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    console.print(f"wrote {path}:\n{path.read_text(encoding='utf-8')}", markup=False)
    note = ("" if "INTERPRETER_WIN" in path.read_text(encoding="utf-8") else
            "\n     It names no Python: set Interpreter on the xlwings ribbon tab, or rerun with"
            "\n     --interpreter C:\\path\\to\\python.exe.")
    console.print(CONF_STEPS.format(conf=path, interpreter_note=note), markup=False)


@app.command()
def recalc(
    workbook: Annotated[Path, typer.Argument(help="The .xlsx workbook to recalculate.",
                                             metavar="WORKBOOK", show_default=False)],
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if any cached value "
                                                        "differs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Report as JSON.")] = False,
    sheet: Annotated[list[str] | None, typer.Option(
        help="Only this sheet and the cells it refers to (repeatable; faster).")] = None,
) -> None:
    """Recalculate every formula headlessly and report cells whose cached value differs.

    Uses the formulas package (pip install "xlplan\\[recalc]") with the XLPLAN_*
    functions registered, so Live-sheet cells evaluate too. It is slow, about
    22 s for 3,000 formula cells: use it on small workbooks or one sheet
    (--sheet Live). Money is compared to the cent.
    """
    from xlplan.recalc import RecalcError
    from xlplan.recalc import recalc as run

    if not workbook.is_file():
        raise fail(f"{workbook}: file not found")
    try:
        result = run(workbook, sheet or None)
    except RecalcError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        console.print(f"{workbook}: recalculated {result.formula_cells} formula cells "
                      f"({', '.join(result.sheets)}) in {result.seconds:.1f} s; "
                      f"{len(result.differences)} differ from the cached values", markup=False)
        if result.differences:
            view = Table("sheet", "cell", "cached", "recalculated")
            for d in result.differences:
                view.add_row(escape(d.sheet), d.cell, escape(repr(d.cached)),
                             escape(repr(d.recalculated)))
            print_table(view)
    if check and result.differences:
        first = result.differences[0]
        raise fail(f"{workbook}: {len(result.differences)} formula cell(s) differ from their "
                   f"cached values, first {first}")
