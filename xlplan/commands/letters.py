"""``xlplan letters``: commitment letters for the approved units, their signatures back,
and which letters need signing again. The logic is in :mod:`xlplan.season.letters`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xlplan.commands.app import PlanArg, app, console, fail, open_plan, print_table
from xlplan.commands.review import DbOption, history
from xlplan.commands.untrusted import text


@app.command("letters")
def letters_cmd(
    plan: PlanArg,
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Write the approved units' letters into this folder.",
        show_default=False)] = None,
    signed: Annotated[list[Path] | None, typer.Option(
        "--signed", help="A signed letter sent back, or a folder of them (repeatable): "
                         "record who signed and when.",
        show_default=False)] = None,
    status: Annotated[bool, typer.Option(
        "--status", help="Show each unit's letter: awaiting signature, signed, needs "
                         "re-signing.")] = False,
    pdf: Annotated[bool, typer.Option(
        "--pdf/--no-pdf", help="Also print each letter to PDF (when LibreOffice is "
                               "installed).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Write, record and follow the approved units' commitment letters (目标承诺书).

    -o DIR writes one printable letter per approved unit (and its PDF); --signed FILE
    records each signed letter as an audit event; --status shows whose letter needs
    signing (again: a revision that changes a unit's targets calls for a new letter)."""
    from xlplan.engine.numbers import PlanNumbers
    from xlplan.season.letters import LetterError

    if not (out or signed or status):
        raise fail("say what to do: -o DIR (write letters), --signed FILE (record a "
                   "signature) or --status")
    loaded, prior = open_plan(plan)
    numbers = PlanNumbers(loaded.plan, prior)
    doc: dict[str, Any] = {"plan": loaded.plan.id}
    try:
        if out is not None:
            doc["written"] = _write(loaded, numbers, db, out, pdf, as_json)
        if signed:
            doc["signed"] = _record(loaded, numbers, db, signed, as_json)
    except LetterError as exc:
        raise fail(str(exc)) from None
    if status:
        from xlplan.season.letters import letter_states

        with history(db, read_only=True) as con:
            doc["letters"] = letter_states(con, numbers, loaded.plan.id)
        if not as_json:
            view = Table(title=text(f"Commitment letters of {loaded.plan.id}"),
                         title_justify="left")
            for col in ("unit", "letter", "signed by", "on", "letter signed"):
                view.add_column(col, overflow="fold")
            for r in doc["letters"]:
                view.add_row(r["unit"], r["state"], text(r["signed_by"]), r["signed_on"],
                             r["signed_letter"])
            print_table(view)
    if as_json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def _write(loaded: Any, numbers: Any, db: Path | None, out: Path, pdf: bool, quiet: bool
           ) -> list[dict[str, str]]:
    from xlplan.season.letter_sheet import letter_name, write_letter
    from xlplan.season.letters import approved_units, figures_of

    with history(db, read_only=True) as con:
        units = approved_units(con, loaded.plan.id, list(numbers.input_units))
    if not units:
        raise fail("no unit is approved yet, so there is no letter to write "
                   "(xlplan review PLAN UNIT approve)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"{out}: cannot make the folder ({exc})") from None
    language = loaded.plan.workbooks.language
    written = []
    for unit in units:
        figures = figures_of(numbers, unit)
        path = out / letter_name(figures)
        try:
            write_letter(figures, loaded.spec_hash, language, path,
                         loaded.plan.workbooks.protect_password)
        except OSError as exc:
            raise fail(f"{path}: cannot write the letter ({exc})") from None
        written.append({"unit": unit, "letter": figures.letter_id(), "xlsx": str(path)})
        if not quiet:
            console.print(text(f"{unit}: {path}"))
    if pdf:
        _print_pdfs(written, out, quiet)
    return written


def _print_pdfs(written: list[dict[str, str]], out: Path, quiet: bool) -> None:
    """Each letter as PDF beside it, when LibreOffice is here (otherwise said, not failed:
    the workbook prints the same from Excel)."""
    from xlplan.libreoffice import LibreOffice, LibreOfficeError, find_soffice

    if find_soffice() is None:
        if not quiet:
            console.print("LibreOffice is not installed: no PDFs (print the workbooks)")
        return
    with LibreOffice() as lo:
        for row in written:
            try:
                row["pdf"] = str(lo.to_pdf(Path(row["xlsx"]), out))
            except LibreOfficeError as exc:
                typer.echo(f"warning: no PDF of {row['xlsx']}: {exc}", err=True)


def _record(loaded: Any, numbers: Any, db: Path | None, given: list[Path], quiet: bool
            ) -> list[dict[str, str]]:
    """Record each signed letter (a folder: every .xlsx in it, the letters inbox). A letter
    that cannot be recorded is reported and the others still are; exit 1 if any failed."""
    from xlplan.season.letters import LetterError

    files: list[Path] = []
    for path in given:
        files += sorted(path.glob("*.xlsx")) if path.is_dir() else [path]
    done, failed = [], []
    with history(db) as con:
        for path in files:
            try:
                done.append(_record_one(con, loaded, numbers, path))
            except LetterError as exc:
                failed.append(str(exc))
                typer.echo(f"error: {exc}", err=True)
                continue
            if not quiet:
                d = done[-1]
                console.print(text(f"{d['unit']}: {d['outcome']} by {d['signed_by']} on "
                                   f"{d['signed_on']}"))
    if failed:
        raise fail(f"{len(failed)} of {len(files)} letters not recorded (see above)")
    return done


def _record_one(con: Any, loaded: Any, numbers: Any, path: Path) -> dict[str, str]:
    from xlplan.season.letter_sheet import changed_numbers
    from xlplan.season.letters import LetterError, figures_of, read_signed, record_signature

    if not path.is_file():
        raise LetterError(f"{path}: no such file")
    sig = read_signed(path)
    unit = sig.record["unit"]
    current = figures_of(numbers, unit) if unit in numbers.input_units else None
    if current is not None and sig.record["figures"] == current.fingerprint():
        wrong = changed_numbers(sig, current)
        if wrong:
            raise LetterError(f"{path}: sheet Letter: numbers changed after the letter was "
                              f"written: {'; '.join(wrong[:5])}; not recorded (sign the "
                              "letter as issued)")
    outcome = record_signature(con, sig, loaded.plan.id, current)
    return {"file": str(path), "unit": unit, "signed_by": sig.name,
            "signed_on": sig.signed_on.isoformat(), "outcome": outcome}
