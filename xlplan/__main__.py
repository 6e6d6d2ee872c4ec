"""``python -m xlplan``: the command line (same as the ``xlplan`` script)."""

from xlplan.cli import main

main()
