"""The ``xlplan`` command line: the entry point.

The commands live in :mod:`xlplan.commands`, one module per group, all on the
app of :mod:`xlplan.commands.app`; see there for the exit codes.
"""

from __future__ import annotations

from xlplan import commands
from xlplan.commands.app import app

commands.load()

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
