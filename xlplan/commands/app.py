"""The ``xlplan`` Typer app and what every command module shares.

Exit codes: 0 success, 1 invalid input (the errors go to stderr, each naming
the file, line or cell), 2 usage errors (unknown option, missing argument).
Each module of :mod:`xlplan.commands` registers its commands on :data:`app`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xlplan.commands.untrusted import clean
from xlplan.spec.loader import LoadedPlan, PlanError, in_language, load_plan
from xlplan.spec.prior_year import DataFileError, PriorYear, read_prior_year

app = typer.Typer(
    help="Annual operating plans that live in Excel: plan spec, targets, workbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# never wrap a path mid-name; when the output is piped or captured (where rich assumes 80
# columns and would cut numbers in tables short), render 160 wide
console = Console(highlight=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else 160)

PlanArg = Annotated[Path, typer.Argument(
    help="The plan: a YAML file or a setup workbook (.xlsx).", metavar="PLAN",
    show_default=False)]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Run on a Dask distributed cluster: tcp://HOST:PORT of a running scheduler, or "
         "local:N for N worker processes here (needs xlplan[cluster]).", show_default=False)]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def print_table(view: Table) -> None:
    """A table on standard output (one place for how tables are shown)."""
    console.print(view)


def fail(message: str) -> typer.Exit:
    """Print an input error to stderr and return the exit for invalid input (1). Control
    characters (from a file name or a file's text) are shown escaped, never sent raw."""
    typer.echo(clean(message), err=True)
    return typer.Exit(1)


class Language(StrEnum):
    en = "en"
    zh = "zh"


LanguageOption = Annotated[Language | None, typer.Option(
    "--language", help="The workbooks' words: en or zh (default: the plan's "
                       "workbooks.language, else en).", show_default=False)]


def open_plan(path: Path, language: Language | None = None
              ) -> tuple[LoadedPlan, PriorYear | None]:
    """Load and validate a plan and its prior-year file, or exit 1 with every problem;
    ``language`` (``--language``) overrides the plan's ``workbooks.language``."""
    try:
        loaded = in_language(load_plan(path), language.value if language else None)
        prior = read_prior_year(loaded)
    except (PlanError, DataFileError) as exc:
        raise fail(str(exc)) from None
    warn(prior.left_out if prior is not None else ())
    return loaded, prior


def warn(lines: Iterable[str]) -> None:
    """Warnings about the input (the work goes on) on stderr, one a line."""
    for line in lines:
        typer.echo(clean(f"warning: {line}"), err=True)


def progress_bar(total: int, what: str) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A rich progress bar on a terminal (stderr), silence otherwise."""
    if not sys.stderr.isatty():
        return (lambda _name: None), (lambda: None)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task(what, total=total)
    bar.start()

    def step(name: str) -> None:
        bar.update(task, advance=1, description=f"{what} {name}")

    return step, bar.stop


WorkersOption = Annotated[int | None, typer.Option(
    help="Processes writing workbooks at once (default: one per core).", min=1)]
