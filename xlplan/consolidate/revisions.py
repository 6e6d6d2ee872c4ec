"""Plan revisions: every state of a plan file that workbooks are built from.

A plan changes during the season (the deadline moves, a region is added, a product
is dropped). Each state of the plan file is a *revision*, identified by its content
hash (the spec hash a workbook's manifest carries) and recorded in the history
database the first time ``xlplan build`` or ``xlplan consolidate`` sees it, with the
plan's text, when it was first seen and a short summary of what changed against the
revision recorded before it.

The text is kept so that a workbook built from an earlier revision can still be
checked against *its* template: consolidation rebuilds that template by a dry run of
the stored text (the trust model: the template comes from xlplan's records, never
from the file).

Table ``plan_revisions``; view ``revisions`` (without the text).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from xlplan.i18n import Msg, Words, data, msg
from xlplan.spec.loader import LoadedPlan

SCHEMA = """
CREATE TABLE IF NOT EXISTS plan_revisions (
    plan_id VARCHAR NOT NULL, spec_hash VARCHAR NOT NULL, seq INTEGER NOT NULL,
    first_seen TIMESTAMP NOT NULL, seen_by VARCHAR NOT NULL, path VARCHAR,
    summary VARCHAR NOT NULL, plan_text VARCHAR NOT NULL,
    PRIMARY KEY (plan_id, spec_hash));
CREATE OR REPLACE VIEW revisions AS
    SELECT plan_id, seq AS revision, spec_hash, first_seen, seen_by, path, summary
    FROM plan_revisions;
"""
SHOWN = 8  # changes named in a summary before "and N more"


@dataclass(frozen=True)
class Revision:
    plan_id: str
    spec_hash: str
    seq: int  # 1 for the first revision of the plan this database saw
    first_seen: dt.datetime
    summary: str
    text: str


def record(con: duckdb.DuckDBPyConnection, loaded: LoadedPlan, text: str, seen_by: str
           ) -> Revision:
    """The revision of ``loaded`` (whose file holds ``text``), recorded if new."""
    kept = get(con, loaded.plan.id, loaded.spec_hash)
    if kept is not None:
        return kept
    before = latest(con, loaded.plan.id)
    summary = "first revision seen" if before is None else summarise(before.text, text)
    seq = before.seq + 1 if before else 1
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("INSERT INTO plan_revisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [loaded.plan.id, loaded.spec_hash, seq, now, seen_by,
                 str(loaded.path) if loaded.path else None, summary, text])
    return Revision(loaded.plan.id, loaded.spec_hash, seq, now, summary, text)


def record_file(con: duckdb.DuckDBPyConnection, loaded: LoadedPlan, seen_by: str) -> Revision:
    """:func:`record` for a plan loaded from its file (the text is read again: the spec
    hash is of exactly these bytes)."""
    if loaded.path is None:
        raise ValueError("a plan without a file has no revision to record")
    text = Path(loaded.path).read_text(encoding="utf-8")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != loaded.spec_hash:
        raise ValueError(f"{loaded.path}: the plan file changed while xlplan was reading it; "
                         "run again")
    return record(con, loaded, text, seen_by)


_COLUMNS = "plan_id, spec_hash, seq, first_seen, summary, plan_text"


def get(con: duckdb.DuckDBPyConnection, plan_id: str, spec_hash: str) -> Revision | None:
    row = con.execute(f"SELECT {_COLUMNS} FROM plan_revisions WHERE plan_id=? AND spec_hash=?",
                      [plan_id, spec_hash]).fetchone()
    return Revision(*row) if row else None


def latest(con: duckdb.DuckDBPyConnection, plan_id: str) -> Revision | None:
    row = con.execute(f"SELECT {_COLUMNS} FROM plan_revisions WHERE plan_id=? "
                      "ORDER BY seq DESC LIMIT 1", [plan_id]).fetchone()
    return Revision(*row) if row else None


def stored(con: duckdb.DuckDBPyConnection, plan_id: str) -> dict[str, dict[str, str]]:
    """spec hash → {"text", "path"} of every recorded revision of a plan (the path: where
    the plan file was when first seen, so a revision's prior-year file is found beside it)."""
    rows = con.execute("SELECT spec_hash, plan_text, path FROM plan_revisions WHERE "
                       "plan_id=?", [plan_id]).fetchall()
    return {str(h): {"text": str(t), "path": str(p or "")} for h, t, p in rows}


def changed(old_text: str, new_text: str) -> list[Msg]:
    """What changed between two plan texts, a message each: values that changed (by their
    path in the plan, list items named by their code or id), items added and removed (the
    paths and values are the plan's own text; the words around them, the catalog's)."""
    return _diff(_safe(old_text), _safe(new_text), "")


def summarise(old_text: str, new_text: str) -> str:
    """:func:`changed` in one English line (the history's summary of a revision)."""
    changes = [ENGLISH(c) for c in changed(old_text, new_text)]
    if not changes:
        return ENGLISH(NO_VALUE_CHANGED)
    more = f"; and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return "; ".join(changes[:SHOWN]) + more


NO_VALUE_CHANGED = msg("layout or comments only (no value changed)")
ENGLISH = Words("en")


def _safe(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _name(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in ("code", "id", "name"):
            if isinstance(item.get(key), str | int):
                return str(item[key])
    return None


def _diff(old: Any, new: Any, path: str) -> list[Msg]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Msg] = []
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(msg("{path} removed", path=data(sub)))
            elif key not in old:
                out.append(msg("{path} added", path=data(sub)))
            else:
                out += _diff(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        old_names, new_names = [_name(i) for i in old], [_name(i) for i in new]
        if None not in old_names and None not in new_names and \
                len(set(old_names)) == len(old) and len(set(new_names)) == len(new):
            by_old = dict(zip(old_names, old, strict=True))
            by_new = dict(zip(new_names, new, strict=True))
            out = []
            gone = [n for n in old_names if n not in by_new]
            came = [n for n in new_names if n not in by_old]
            if gone:
                out.append(msg("{path} removed: {names}", path=data(path),
                               names=data(", ".join(str(n) for n in gone))))
            if came:
                out.append(msg("{path} added: {names}", path=data(path),
                               names=data(", ".join(str(n) for n in came))))
            for name in old_names:
                if name in by_new:
                    out += _diff(by_old[name], by_new[name], f"{path}[{name}]")
            return out
    if old != new:
        return [msg("{path}: {old} → {new}", path=data(path), old=data(_short(old)),
                    new=data(_short(new)))]
    return []


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"
