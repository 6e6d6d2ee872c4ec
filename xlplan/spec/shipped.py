"""A plan as bytes that travel: its text and its prior-year file, for machines without them.

A cluster worker has xlplan installed but not the plan's folder. What it needs
to decide a file exactly as this machine would is the plan's text (the spec
hash is the hash of that text, so the same text gives the same decisions) and
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
from dataclasses import dataclass
from pathlib import Path

from xlplan.spec.checks import Problem
from xlplan.spec.loader import LoadedPlan, PlanError, load_plan, load_plan_text
from xlplan.spec.prior_year import PriorYear, prior_year_path, read_prior_year

SUFFIX = ".xlplan-plan"


@dataclass(frozen=True)
class ShippedPlan:
    """The plan's text and path, and its prior-year file's bytes (None if it names none)."""

    text: str
    path: str
    prior_year: bytes | None

    @classmethod
    def of(cls, loaded: LoadedPlan) -> ShippedPlan:
        """The plan as loaded here. Its file is read again: if it changed since it was
        loaded, the text would not be the one the caller validated, so that is refused."""
        if loaded.path is None:
            raise ValueError("a plan loaded from text has no file to ship")
        text = loaded.path.read_text(encoding="utf-8")
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != loaded.spec_hash:
            raise PlanError(str(loaded.path), [Problem(
                (), "the plan file changed while xlplan was running: run again")])
        prior = prior_year_path(loaded)
        return cls(text, str(loaded.path), prior.read_bytes() if prior else None)

    @property
    def key(self) -> str:
        """Names this plan and prior year exactly (workers keep one copy per key)."""
        digest = hashlib.sha256(self.text.encode("utf-8"))
        digest.update(self.prior_year or b"")
        return digest.hexdigest()

    def load(self) -> tuple[LoadedPlan, PriorYear | None]:
        """The plan and its prior-year actuals, as :func:`load_plan` and
        :func:`read_prior_year` give them on the machine that shipped it."""
        loaded = load_plan_text(self.text, self.path, Path(self.path))
        return loaded, read_prior_year(loaded, self.prior_year)

    def save(self, path: Path) -> Path:
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        return path


def open_plan_source(path: Path) -> tuple[LoadedPlan, PriorYear | None]:
    """A plan file, or a shipped plan saved by :meth:`ShippedPlan.save` (which only
    xlplan itself writes, into a folder of its own), with its prior-year actuals."""
    if path.suffix == SUFFIX:
        shipped = pickle.loads(path.read_bytes())
        assert isinstance(shipped, ShippedPlan)
        return shipped.load()
    loaded = load_plan(path)
    return loaded, read_prior_year(loaded)
