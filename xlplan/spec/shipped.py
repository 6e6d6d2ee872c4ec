"""A plan as bytes that travel: its text and its prior-year file, for machines without them.

A cluster worker has xlplan installed but not the plan's folder. What it needs
to decide a file exactly as this machine would is the plan file (YAML, or a
setup workbook; the worker checks it gives the same spec hash) and
the prior-year actuals the plan names (they feed the targets). Both are read
here once and shipped; the worker loads them with :meth:`ShippedPlan.load`,
under the plan's own path, so every manifest and message it writes names the
same files as a local run's would.

A reader process is given a plan as a file path; a shipped plan is saved as a
pickle with the suffix :data:`SUFFIX`, and :func:`open_plan_source` opens
either kind.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from xlplan.spec.checks import Problem
from xlplan.spec.loader import (
    SETUP_SUFFIXES,
    LoadedPlan,
    PlanError,
    load_plan,
    load_plan_text,
)
from xlplan.spec.prior_year import PriorYear, prior_year_path, read_prior_year

SUFFIX = ".xlplan-plan"


@dataclass(frozen=True)
class ShippedPlan:
    """The plan file's bytes (YAML or a setup workbook), its path and hash here, and its
    prior-year file's bytes (None if it names none)."""

    data: bytes
    path: str
    spec_hash: str
    prior_year: bytes | None

    @classmethod
    def of(cls, loaded: LoadedPlan) -> ShippedPlan:
        """The plan as loaded here (its file is read again; :meth:`load` checks it is
        still the plan the caller validated)."""
        if loaded.path is None:
            raise ValueError("a plan loaded from text has no file to ship")
        prior = prior_year_path(loaded)
        return cls(loaded.path.read_bytes(), str(loaded.path), loaded.spec_hash,
                   prior.read_bytes() if prior else None)

    @property
    def key(self) -> str:
        """Names this plan and prior year exactly (workers keep one copy per key)."""
        digest = hashlib.sha256(self.data)
        digest.update(b"\0" + (self.prior_year or b""))
        return digest.hexdigest()

    def load(self) -> tuple[LoadedPlan, PriorYear | None]:
        """The plan and its prior-year actuals, as :func:`load_plan` and
        :func:`read_prior_year` give them on the machine that shipped it."""
        path = Path(self.path)
        if is_setup_file_bytes(self.data, self.path):
            with tempfile.TemporaryDirectory(prefix="xlplan-plan-") as folder:
                here = Path(folder) / path.name
                here.write_bytes(self.data)
                loaded = replace(load_plan(here), path=path)
        else:
            loaded = load_plan_text(self.data.decode("utf-8"), self.path, path)
        if loaded.spec_hash != self.spec_hash:
            raise PlanError(self.path, [Problem(
                (), "the plan file changed while xlplan was running: run again")])
        return loaded, read_prior_year(loaded, self.prior_year)

    def save(self, path: Path) -> Path:
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        return path


def is_setup_file_bytes(data: bytes, name: str) -> bool:
    """:func:`xlplan.spec.loader.is_setup_file` for bytes: by the name, or a zip's magic."""
    return Path(name).suffix.lower() in SETUP_SUFFIXES or data[:4] == b"PK\x03\x04"


def open_plan_source(path: Path) -> tuple[LoadedPlan, PriorYear | None]:
    """A plan file, or a shipped plan saved by :meth:`ShippedPlan.save` (which only
    xlplan itself writes, into a folder of its own), with its prior-year actuals."""
    if path.suffix == SUFFIX:
        shipped = pickle.loads(path.read_bytes())
        assert isinstance(shipped, ShippedPlan)
        return shipped.load()
    loaded = load_plan(path)
    return loaded, read_prior_year(loaded)
