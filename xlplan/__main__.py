"""``python -m xlplan``: the command line (same as the ``xlplan`` script)."""

from xlplan.cli import main

if __name__ == "__main__":  # build processes started by "spawn" import this module again
    main()
