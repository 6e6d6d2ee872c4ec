"""An Excel export's cells as text, read by calamine in a child process with a memory cap.

A finance system's export comes from outside, and calamine (Rust) aborts the
whole process when an allocation fails: a 2 KB sheet whose cells claim A1 and
XFD1048576 asks for a grid of 17 billion cells (about 550 GB) and takes down
whoever read it. So the sheet is read in a child (:mod:`xlplan.capped`, as the
consolidator reads submissions) with a cap on its address space and a
deadline; a child that dies or overruns becomes a :class:`ValueError` saying
so, for the importer to report against the file.

The child imports neither pandas nor numpy (with pyarrow installed, pandas
alone reserves about 1 GB of address space): it sends back plain lists of
strings, and the importer builds its table from them.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from dataclasses import dataclass
from typing import IO

from xlplan.capped import CappedChild, ChildDied, child_streams, receive, send

# A full sheet (1,048,576 rows of 7 columns) read within 1.5 GB, in 67 to 104 s on two
# busy cores: the cap leaves room, and the deadline stops a stuck reader, not a big file.
MEMORY_BYTES = 2_000_000_000  # address space of the reader process
TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Grid:
    """One sheet's cells as text (stripped; "" for an empty cell), from its first row."""

    sheet: str
    rows: list[list[str]]


class NoSheet(ValueError):
    """The workbook has no sheet of the name asked for (the message lists those it has)."""


def cell_text(value: object) -> str:
    """A cell as the importer parses it: a date as 2027-03-05, a whole number without .0."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def read_grid(data: bytes, sheet: str | None) -> Grid:
    """The sheet (default: the first) read in this process: only for the child.

    :class:`NoSheet` when the workbook has no such sheet.
    """
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    name = sheet if sheet is not None else book.sheet_names[0]
    if name not in book.sheet_names:
        raise NoSheet(f"no sheet {name!r}; the workbook has {', '.join(book.sheet_names)}")
    values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    values.reverse()
    rows: list[list[str]] = []
    while values:  # a row's values are freed as its text is made: 200,000 rows then fit
        # in a 300 MB cap, which they did not when the text was a second grid beside them
        rows.append([cell_text(v).strip() for v in values.pop()])
    return Grid(name, rows)


def _answer(data: bytes, sheet: str | None, memory_bytes: int) -> tuple[str, list[list[str]]] | str:
    """The child's answer: (sheet, rows), or why not as a message. Plain builtins, not a
    Grid: the child runs this module as ``__main__``, whose classes the parent cannot
    unpickle."""
    try:
        grid = read_grid(data, sheet)
    except NoSheet as exc:
        return str(exc)
    except MemoryError:
        return f"reading needs more than {memory_bytes // 2**20:,} MB of memory: refused"
    except ImportError as exc:
        return ("reading Excel needs the python-calamine package, a dependency of xlplan; "
                f"reinstall xlplan (pip install -e . in the checkout): {exc}")
    except Exception as exc:  # calamine's errors: not a workbook, a broken part, ...
        return f"not a readable Excel workbook ({type(exc).__name__}: {exc})"
    return grid.sheet, grid.rows


def _serve(incoming: IO[bytes], outgoing: IO[bytes], memory_bytes: int) -> None:
    """Child main loop: answer each (data, sheet) until None or end of input."""
    send(outgoing, "ready")
    while True:
        try:
            asked = receive(incoming)
        except EOFError:
            return
        if asked is None:
            return
        data, sheet = asked
        send(outgoing, _answer(data, sheet, memory_bytes))


def read_cells(data: bytes, sheet: str | None, memory_bytes: int = MEMORY_BYTES,
               timeout_s: float = TIMEOUT_S) -> Grid:
    """The sheet's cells as text, read in a capped child process.

    ValueError, saying why, when the workbook cannot be read, has no such sheet,
    needs more memory or time than allowed, or kills its reader.
    """
    child = CappedChild(__name__, [str(memory_bytes)])
    failed = True
    try:
        try:
            answer = child.ask((data, sheet), timeout_s)
        except RuntimeError:
            raise ValueError("the Excel reader process did not start") from None
        except TimeoutError:
            raise ValueError(f"reading took longer than {timeout_s:g} s and was stopped"
                             ) from None
        except ChildDied as died:
            raise ValueError(f"the Excel reader died on this file ({died.how}): a malformed "
                             "or hostile workbook") from None
        failed = False
    finally:
        child.stop(kill=failed)
    if isinstance(answer, str):
        raise ValueError(answer)
    name, rows = answer
    return Grid(name, rows)


def main(argv: list[str]) -> None:
    """Entry point of the reader process: ``MEMORY_BYTES``; messages on stdin/stdout."""
    memory_bytes = int(argv[0])
    incoming, outgoing = child_streams(memory_bytes)
    _serve(incoming, outgoing, memory_bytes)


if __name__ == "__main__":
    main(sys.argv[1:])
