"""Build the master workbook and one input workbook per unit.

Which sheets each workbook gets is decided here and nowhere else; each sheet
kind lives in its own module with the signature ``write(book, ctx, scope)``
where ``scope`` is a :class:`Scope` (the master, or one unit).
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlplan.children import isolated_spawns
from xlplan.files import replaced
from xlplan.lru import Recent
from xlplan.spec.loader import in_language
from xlplan.workbook.book import Book, Cell, Value
from xlplan.workbook.context import BuildContext
from xlplan.workbook.manifest import Manifest, write_manifest
from xlplan.workbook.scope import Scope, SheetWriter
from xlplan.workbook.splitter import Splitter


@dataclass
class Built:
    path: Path
    unit: str | None
    manifest: Manifest
    # the record of cells (expected values, inputs), closed; None when the workbook was
    # built in another process (``build_all(workers=...)``), whose record stays there
    book: Book | None


def context_in(ctx: BuildContext, language: str) -> BuildContext:
    """``ctx`` for workbooks in ``language`` (a submission is predicted in the language it
    was built in). A shallow copy keeps every computed number: none depends on words."""
    if ctx.plan.workbooks.language == language:
        return ctx
    kept = ctx.__dict__.setdefault("_in_language", {})  # one copy a language, kept
    if language not in kept:
        other = copy.copy(ctx)
        other.loaded = in_language(ctx.loaded, language)
        kept[language] = other
    return kept[language]


def master_sheets(with_functions: bool = False) -> list[tuple[str, SheetWriter]]:
    """The master's sheets; ``with_functions`` adds the Live sheet (XLPLAN_* functions)."""
    from xlplan.workbook import sheets

    return sheets.MASTER_WITH_FUNCTIONS if with_functions else sheets.MASTER


def unit_sheets() -> list[tuple[str, SheetWriter]]:
    from xlplan.workbook import sheets

    return sheets.UNIT


def _run_writers(book: Book, ctx: BuildContext, unit: str | None,
                 writers: list[tuple[str, SheetWriter]], manifest: bool = True,
                 prefix: _Prefix | None = None) -> Manifest | None:
    """Every sheet, then the manifest (last, so its fingerprint covers the others).
    ``prefix``: the leading writers' work, recorded before (see :func:`predict_unit`)."""
    for name, _ in writers:  # fix the tab order first
        book.sheet(name)
    scope = Scope(unit, Splitter(book))
    skip = 0
    if prefix is not None:
        book.cells = list(prefix.cells)
        scope.refs = dict(prefix.refs)
        scope.splitter.row = prefix.splitter_row
        skip = prefix.writers
    for _, writer in writers[skip:]:
        writer(book, ctx, scope)
    for sheet in book.sheets.values():
        sheet.print_setup()
        sheet.protect()
    written = write_manifest(book, ctx, unit or "") if manifest else None
    book.wb.worksheets()[0].activate()
    return written


def _write(path: Path, ctx: BuildContext, unit: str | None,
           writers: list[tuple[str, SheetWriter]],
           fill: dict[tuple[str, str], Value] | None = None,
           shown: dict[tuple[str, str], Value] | None = None,
           after: Callable[[Book], None] | None = None) -> Built:
    """Write to a temporary file beside ``path`` and rename it into place. ``after``
    writes more after the manifest (so it is no part of the template)."""
    with replaced(path) as tmp:
        book = Book(tmp, password=ctx.plan.workbooks.protect_password, fill=fill or {},
                    language=ctx.plan.workbooks.language,
                    amounts=ctx.plan.workbooks.amount_display,
                    shown=shown or {})
        manifest = _run_writers(book, ctx, unit, writers)
        assert manifest is not None
        if after is not None:
            after(book)
        book.close()
    book.path = path
    return Built(path, unit, manifest, book)


@dataclass(frozen=True)
class _Prefix:
    """The state after the leading writers that never asked for an input's value."""

    writers: int  # how many
    cells: tuple[Cell, ...]
    refs: dict[str, Any]
    splitter_row: int


TEMPLATES_KEPT = 64  # units whose template a process keeps (a unit's files often come together)
_PREFIXES: Recent[tuple[str, str, str], _Prefix] = Recent(TEMPLATES_KEPT)


def _template_prefix(ctx: BuildContext, unit: str) -> _Prefix:
    """Run a unit's writers once with no inputs and keep what the input-blind ones wrote.

    A writer that never looked at an input (``Book.lookups`` unchanged; every input read
    goes through ``Sheet.filled`` or ``Sheet.input``) writes the same cells whatever was
    typed, and so does every writer before it; the first one that looks ends the prefix.
    For a unit workbook that is Guide and Targets with its Rounding blocks: most cells.
    """
    key = (ctx.loaded.spec_hash, ctx.plan.workbooks.language, unit)
    kept = _PREFIXES.get(key)
    if kept is None:
        book = Book(None, password=ctx.plan.workbooks.protect_password,
                    language=ctx.plan.workbooks.language)
        writers = unit_sheets()
        for name, _ in writers:
            book.sheet(name)
        scope = Scope(unit, Splitter(book))
        snapshot = _Prefix(0, (), {}, 0)
        for count, (_, writer) in enumerate(writers, start=1):
            before = book.lookups
            writer(book, ctx, scope)
            if book.lookups != before or book.inputs:
                break
            snapshot = _Prefix(count, tuple(book.cells), dict(scope.refs), scope.splitter.row)
        kept = _PREFIXES.put(key, snapshot)
    return kept


def predict_unit(ctx: BuildContext, unit: str, fill: dict[tuple[str, str], Value],
                 manifest: bool = True) -> tuple[Book, Manifest | None]:
    """What a unit's workbook holds when its inputs are ``fill``, without writing it:
    every locked cell, every formula's value and (unless ``manifest=False``, which saves
    the fingerprinting: locked cells do not depend on inputs) the manifest.

    Without the manifest, the input-blind leading writers are not run again: their
    cells come from :func:`_template_prefix` (the same cells, a fraction of the time).
    """
    book = Book(None, password=ctx.plan.workbooks.protect_password, fill=fill,
                language=ctx.plan.workbooks.language)
    prefix = None if manifest else _template_prefix(ctx, unit)
    return book, _run_writers(book, ctx, unit, unit_sheets(), manifest, prefix)


def master_path(out_dir: Path, ctx: BuildContext) -> Path:
    return out_dir / f"{ctx.plan.id}-master.xlsx"


def unit_path(out_dir: Path, ctx: BuildContext, unit: str) -> Path:
    return out_dir / "units" / f"{ctx.plan.id}-{unit}.xlsx"


def build_master(ctx: BuildContext, out_dir: Path, with_functions: bool = False) -> Built:
    return _write(master_path(out_dir, ctx), ctx, None, master_sheets(with_functions))


def build_unit(ctx: BuildContext, out_dir: Path, unit: str,
               fill: dict[tuple[str, str], Value] | None = None, path: Path | None = None,
               shown: dict[tuple[str, str], Value] | None = None,
               after: Callable[[Book], None] | None = None) -> Built:
    """A unit's workbook; ``fill`` gives input values (by sheet and cell) to build it with
    (``shown``: other values for some inputs, left uncalculated; see :class:`Book`;
    ``after``: a sheet written after the manifest, see :func:`_write`)."""
    return _write(path or unit_path(out_dir, ctx, unit), ctx, unit, unit_sheets(), fill, shown,
                  after)


def build_all(ctx: BuildContext, out_dir: Path, units: Iterable[str] | None = None,
              progress: Callable[[str], None] | None = None, with_functions: bool = False,
              workers: int = 1) -> list[Built]:
    """The master and the unit workbooks (all input units unless ``units`` is given), in
    that order.

    ``with_functions`` gives the master a Live sheet that uses the XLPLAN_* functions
    (for users with the add-in); unit workbooks never get it.

    ``workers`` > 1 writes the workbooks in that many processes (each workbook is
    independent; the CLI uses one per core). Those ``Built`` carry no ``book``, so memory
    stays flat however many units there are. Where processes are spawned rather than
    forked (Windows, macOS), the calling script needs an ``if __name__ == "__main__":``
    guard, as for any ``multiprocessing`` use.
    """
    todo = workbooks_to_build(ctx, units)
    workers = min(workers, len(todo))
    if workers <= 1:
        built = []
        for unit in todo:
            built.append(build_one(ctx, out_dir, unit, with_functions))
            if progress:
                progress(unit or "master")
        return built
    return _build_in_processes(ctx, out_dir, todo, with_functions, workers, progress)


def workbooks_to_build(ctx: BuildContext, units: Iterable[str] | None) -> list[str | None]:
    """The master (None), then the units asked for (every input unit by default);
    ValueError naming any that fills no workbook."""
    chosen = list(units) if units is not None else ctx.input_units
    unknown = [u for u in chosen if u not in ctx.input_units]
    if unknown:
        raise ValueError(f"not units that fill a workbook: {', '.join(unknown)} "
                         f"(these do: {', '.join(ctx.input_units)})")
    return [None, *chosen]


def build_one(ctx: BuildContext, out_dir: Path, unit: str | None,
               with_functions: bool) -> Built:
    if unit is None:
        return build_master(ctx, out_dir, with_functions)
    return build_unit(ctx, out_dir, unit)


_WORKER_CTX: list[BuildContext] = []  # the context a build process was started with


def _start_worker(ctx: BuildContext) -> None:
    """Keep the context, out of the garbage collector's sight: it lives as long as the
    process, and every full collection would walk it again (a build allocates millions
    of objects, so there are many collections)."""
    _WORKER_CTX[:] = [ctx]
    gc.collect()
    gc.freeze()


def _build_in_worker(out_dir: Path, unit: str | None, with_functions: bool) -> Built:
    """One workbook, in a build process; its record of cells stays here (see build_all)."""
    return replace(build_one(_WORKER_CTX[0], out_dir, unit, with_functions), book=None)


def _build_in_processes(ctx: BuildContext, out_dir: Path, todo: list[str | None],
                        with_functions: bool, workers: int,
                        progress: Callable[[str], None] | None) -> list[Built]:
    """``build_all`` over ``workers`` processes. The engine's results are computed here,
    once, so that the processes start with them instead of each computing them again. The
    first failure stops the build: workbooks not yet started are not written, and every
    workbook goes through a temporary file, so none is left half-written."""
    ctx.compute_all()
    done: dict[str | None, Built] = {}
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(ctx,)) as pool:
        with isolated_spawns():  # started here, from the folder xlplan is run in
            pending: set[Future[Built]] = {pool.submit(_build_in_worker, out_dir, unit,
                                                       with_functions) for unit in todo}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    built = future.result()  # a worker's exception is raised here
                    done[built.unit] = built
                    if progress:
                        progress(built.unit or "master")
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return [done[unit] for unit in todo]


