"""``xlplan plan export`` and ``xlplan plan import``: a plan as YAML or as a setup workbook.

Finance users write the plan in Excel (the setup workbook); version control keeps
YAML. Both are the same plan: either converts to the other without loss, and every
command that takes a plan reads either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlplan.commands.app import LanguageOption, PlanArg, app, console, fail
from xlplan.files import replaced
from xlplan.spec.convert import export_setup, yaml_text
from xlplan.spec.loader import SETUP_SUFFIXES, LoadedPlan, PlanError, in_language, load_plan

plan_app = typer.Typer(help="Convert a plan between YAML and the Excel setup workbook.",
                       no_args_is_help=True)
app.add_typer(plan_app, name="plan")

OutOption = Annotated[Path, typer.Option("-o", "--out", help="The file to write.",
                                         show_default=False)]


def _load(plan: Path) -> LoadedPlan:
    try:
        return load_plan(plan)
    except PlanError as exc:
        raise fail(str(exc)) from None


@plan_app.command("export")
def export(plan: PlanArg, out: OutOption, language: LanguageOption = None) -> None:
    """Write the plan as a setup workbook (.xlsx) to fill in Excel, in the plan's language
    (workbooks.language) or --language's."""
    if out.suffix.lower() not in SETUP_SUFFIXES:
        raise typer.BadParameter(f"expected an .xlsx file name, got {out.name!r}",
                                 param_hint="--out")
    loaded = in_language(_load(plan), language.value if language else None)
    with replaced(out) as tmp:
        export_setup(loaded, tmp)
    console.print(f"wrote {out} — edit it in Excel, then run: xlplan validate {out}")


@plan_app.command("import")
def import_(plan: PlanArg, out: OutOption) -> None:
    """Write a plan (a setup workbook, or YAML) as a YAML plan file."""
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise typer.BadParameter(f"expected a .yaml file name, got {out.name!r}",
                                 param_hint="--out")
    loaded = _load(plan)
    text = yaml_text(loaded, plan.name)
    with replaced(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")
