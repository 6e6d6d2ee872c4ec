"""The CLI's commands, one module per group, each registering on :data:`xlplan.commands.app.app`.

:func:`load` imports them in the order ``xlplan --help`` lists them: the plan and
the workbooks first. :mod:`xlplan.cli` calls it; nothing here imports the CLI.
"""

from __future__ import annotations

import importlib

MODULES: tuple[str, ...] = (
    "plan",
    "plan_file",
    "build",
    "addin",
    "consolidate",
    "tracking",
    "season",
    "versions",
    "review",
)


def load() -> None:
    """Import every command module (each registers its commands on the app)."""
    for name in MODULES:
        importlib.import_module(f"xlplan.commands.{name}")
