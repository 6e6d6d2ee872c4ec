"""Reader processes: each file is examined in a child with a memory limit and a timeout.

A hostile or broken file must never take the consolidation down with it: a
reader library once aborted the whole process on a 2 KB file. So every file
is examined in a child process (started with ``spawn``: no inherited database
handle or threads) with a cap on its address space, and the parent waits for
each answer with a deadline. A child that dies or overruns is killed and
replaced; its file gets a rejection saying so, and the other files go on.

One child per core reads in parallel; each keeps the plan's build context
(and with it the plan's numbers) between files, so the plan is loaded and its
numbers computed once per child, not once per file.

The process machinery (``python -m`` children, length-prefixed pickles over
stdin/stdout, the answer thread with a deadline, the memory cap) is
:mod:`xlplan.capped`, shared with the actuals importer's Excel reader.
"""

from __future__ import annotations

import gc
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from xlplan.capped import Answers, CappedChild, ChildDied, child_streams, receive, send
from xlplan.consolidate.carry import Revisions
from xlplan.consolidate.examine import (
    ENGLISH,
    Examination,
    Finding,
    Level,
    examine,
    templates_made,
)
from xlplan.consolidate.names import shown
from xlplan.consolidate.package import Limits
from xlplan.i18n import Data, Msg, Words, data, msg

_Answers = Answers  # its name here before the machinery moved to xlplan.capped


def _child(incoming: IO[bytes], outgoing: IO[bytes], plan_path: str, limits: Limits,
           revisions_path: str = "") -> None:
    """Child main loop: load the plan once (if given), then answer each request until None:
    a path to examine (``("note", stage, unit)`` messages as it goes, then the Examination),
    or ``("book", path)`` for :mod:`xlplan.consolidate.diff` (its book and manifest).
    ``plan_path``: the plan file, or a plan shipped to a cluster worker (xlplan.spec.shipped);
    ``revisions_path``: a JSON file of the plan's earlier revisions (spec hash → text)."""
    from xlplan.spec.shipped import open_plan_source
    from xlplan.workbook.context import BuildContext

    ctx, older = None, None
    if plan_path:
        loaded, prior = open_plan_source(Path(plan_path))  # a plan file, or one shipped
        ctx = BuildContext(loaded, prior)
        ctx.compute_all()  # the plan's numbers once, before the first file (and the freeze)
        if revisions_path:
            older = Revisions.from_file(Path(revisions_path), loaded.path)
    keep_out_of_gc()
    send(outgoing, "ready")
    made = templates_made()
    while True:
        try:
            request = receive(incoming)
        except EOFError:
            return
        if request is None:
            return
        if isinstance(request, tuple):
            send(outgoing, _read_book(request[1], limits))
            continue
        assert ctx is not None
        path = request

        def stage(what: str, result: Examination) -> None:
            send(outgoing, ("note", what, result.unit))
        try:
            result = examine(Path(path), ctx, limits, older, stage)
        except MemoryError:
            result = Examination(Path(path))
            result.error(msg("reading needs more than {limit} MB of memory: refused",
                             limit=data(f"{limits.memory_bytes // 2**20:,}")))
        except Exception as exc:  # one file's failure is that file's finding
            result = Examination(Path(path))
            result.error(msg("the reader failed on this file ({problem})",
                             problem=data(f"{type(exc).__name__}: {exc}")))
        send(outgoing, bounded(result, limits))
        if templates_made() != made:  # a unit's template was just made: it is kept
            made = templates_made()
            keep_out_of_gc()


def _read_book(path: str, limits: Limits) -> tuple[Any, ...]:
    """``("book", RawBook, Manifest)`` or ``("refused", why)``: a submission's cells and
    manifest, for ``xlplan diff``."""
    from xlplan.consolidate.examine import manifest_from
    from xlplan.consolidate.package import Refused, open_package
    from xlplan.consolidate.xlsx import read_book
    from xlplan.workbook.manifest import SHEET

    try:
        package = open_package(Path(path), limits)
        try:
            book = read_book(package)
        finally:
            package.close()
        sheet = book.sheets.get(SHEET)
        if sheet is None:
            return ("refused", f"{shown(path)}: not a workbook built by xlplan (no manifest)")
        return ("book", book, manifest_from(sheet))
    except Refused as exc:
        return ("refused", cap(f"{shown(path)}: {exc}", limits))
    except (KeyError, ValueError, TypeError) as exc:
        return ("refused", cap(f"{shown(path)}: sheet {SHEET}: manifest is damaged ({exc})",
                               limits))
    except MemoryError:
        return ("refused", f"{shown(path)}: reading needs more than "
                           f"{limits.memory_bytes // 2**20:,} MB of memory: refused")
    except Exception as exc:
        return ("refused", cap(f"{shown(path)}: the reader failed on this file "
                               f"({type(exc).__name__}: {exc})", limits))


def cap(text: str, limits: Limits, most: int | None = None) -> str:
    """A message no longer than the limit (a file can make any message arbitrarily long:
    a sheet name, an entry name, a library's error text)."""
    most = most or limits.max_message_chars
    return text if len(text) <= most else text[:most - 30] + f"… ({len(text):,} characters)"


FIELD_SHARE = 5  # a message's text fields each get this share of the limit


def capped(words: Any, limits: Limits) -> Any:
    """A finding's words with each text in them capped to a share of the limit (the file's
    own text, kept as data, is what can be long; the catalog's ids are not), so that the
    English message they show stays whole under the limit."""
    if isinstance(words, Msg):
        return Msg(str(words), {k: capped(v, limits) for k, v in words.fields.items()},
                   words.context)
    if isinstance(words, Data):
        return data(cap(words, limits, limits.max_message_chars // FIELD_SHARE))
    if isinstance(words, tuple):
        return tuple(capped(w, limits) for w in words)
    return words


def _bounded_finding(finding: Finding, limits: Limits) -> Finding:
    """A finding with its texts capped: its message is what its capped words say in
    English (cut at the limit only if even they are longer)."""
    words = capped(finding.words, limits)
    if isinstance(words, Msg):
        message = cap(ENGLISH(words), limits)
    else:
        message = cap(finding.message, limits)
        words = data(message)
    return Finding(finding.level, cap(finding.sheet, limits), cap(finding.cell, limits),
                   message, words)


def bounded(result: Examination, limits: Limits) -> Examination:
    """The examination with at most ``max_findings`` findings (the rest counted in one
    more, at the level of the worst it stands for) and every text capped: what a file can
    make the run store and print is bounded, whatever the file holds."""
    findings = result.findings
    if len(findings) > limits.max_findings:
        rest = findings[limits.max_findings:]
        level: Level = "error" if any(f.level == "error" for f in rest) else "warning"
        findings = [*findings[:limits.max_findings],
                    Finding.of(level, msg("… and {count} more findings (only the first {kept} "
                                          "are kept)", count=data(f"{len(rest):,}"),
                                          kept=data(f"{limits.max_findings:,}")))]
    result.findings = [_bounded_finding(f, limits) for f in findings]
    result.unit, result.plan_id = cap(result.unit, limits), cap(result.plan_id, limits)
    result.built_from = cap(result.built_from, limits)  # the file's manifest says it
    return result


def keep_out_of_gc() -> None:
    """Move what this process keeps (the plan, each unit's template) out of the garbage
    collector's sight. Otherwise every full collection walks those tens of thousands of
    cells again while a file is read, which cost a quarter of each file's time."""
    gc.collect()
    gc.freeze()


def main(argv: list[str]) -> None:
    """Entry point of a reader process: ``PLAN LIMITS_JSON [REVISIONS_JSON_FILE]`` (PLAN
    empty: no plan, books only); messages on stdin/stdout."""
    plan_path, limits_json, *revisions = argv
    limits = Limits(**json.loads(limits_json))
    incoming, outgoing = child_streams(limits.memory_bytes)
    _child(incoming, outgoing, plan_path, limits, revisions[0] if revisions else "")


class _Slot:
    """One reader process; restarted after a crash or a timeout."""

    def __init__(self, plan: Path | None, limits: Limits, revisions: Path | None = None):
        self.plan, self.limits = plan, limits
        self.child = CappedChild("xlplan.consolidate.workers",
                                 [str(plan) if plan else "", json.dumps(asdict(limits))]
                                 + ([str(revisions)] if revisions else []))

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.child.proc

    def start(self) -> None:
        try:
            self.child.start()
        except RuntimeError:
            raise RuntimeError("a reader process did not start") from None

    def stop(self, kill: bool = False) -> None:
        self.child.stop(kill)

    def ask(self, request: Any) -> tuple[Any, str, str]:
        """Send one request; (the answer, "", unit) or (None, why there is none, the unit
        the child had read by then). The stages the child reports as it goes name where it
        stopped; the time limit holds for the whole request."""
        if self.child.proc is None:
            self.start()
        seen = {"stage": "starting to read", "unit": ""}

        def note(got: tuple[Any, ...]) -> None:
            seen["stage"], seen["unit"] = got[1], got[2] or seen["unit"]
        try:
            return self.child.ask(request, self.limits.timeout_s, note), "", seen["unit"]
        except TimeoutError:
            reason = msg("reading took longer than {limit} s and was stopped while {stage}: "
                         "refused", limit=data(f"{self.limits.timeout_s:g}"),
                         stage=data(seen["stage"]))
        except ChildDied as died:
            reason = msg("the reader process died on this file ({how}) while {stage}: a "
                         "malformed or hostile workbook; refused", how=data(died.how),
                         stage=data(seen["stage"]))
        self.stop(kill=True)
        return None, capped(reason, self.limits), seen["unit"]

    def examine(self, path: Path) -> Examination:
        answer, reason, unit = self.ask(str(path))
        if reason:
            failed = Examination(path, unit=unit)
            failed.error(reason)
            return failed
        result: Examination = answer
        return result


def read_books(paths: Iterable[Path], limits: Limits | None = None) -> Iterator[Any]:
    """``xlplan diff``'s reading: each file in one reader process under the same limits as
    consolidation's; yields ``("book", RawBook, Manifest)`` or ``("refused", why)``."""
    slot = _Slot(None, limits or Limits())
    try:
        for path in paths:
            answer, reason, _ = slot.ask(("book", str(path)))
            yield answer if not reason else ("refused", f"{shown(path)}: {Words()(reason)}")
    finally:
        slot.stop()


def examine_all(paths: Iterable[Path], plan: Path, workers: int | None = None,
                limits: Limits | None = None,
                done: Callable[[Examination], None] | None = None,
                revisions: Path | None = None) -> Iterator[Examination]:
    """Examine files in parallel child processes; yields results as they finish.
    ``revisions``: a JSON file of the plan's earlier revisions (spec hash → plan text), so
    their workbooks are carried over."""
    limits = limits or Limits()
    todo: queue.Queue[Path | None] = queue.Queue()
    items = list(paths)
    for path in items:
        todo.put(path)
    count = max(1, min(workers or os.cpu_count() or 1, len(items) or 1))
    for _ in range(count):
        todo.put(None)
    results: queue.Queue[Examination | BaseException] = queue.Queue()

    def run() -> None:
        slot = _Slot(plan, limits, revisions)
        try:
            while (path := todo.get()) is not None:
                results.put(slot.examine(path))
        except BaseException as exc:  # surfaced to the caller below
            results.put(exc)
        finally:
            slot.stop()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for _ in items:
        got = results.get()
        if isinstance(got, BaseException):
            raise got
        if done:
            done(got)
        yield got
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(sys.argv[1:])
