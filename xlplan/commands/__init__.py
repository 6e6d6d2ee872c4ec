"""CLI commands that live in their own modules.

Each module here defines its commands on ``xlplan.cli.app`` when imported
(``from xlplan.cli import app``); ``xlplan.cli`` imports this package last,
so the core commands come first in ``--help``. One line per module below.
"""

from __future__ import annotations

MODULES: tuple[str, ...] = (
    "addin",
    "consolidate",
    "tracking",
)


def load() -> None:
    """Import every command module (each registers its commands on the app)."""
    import importlib

    for name in MODULES:
        importlib.import_module(f"xlplan.commands.{name}")
