"""xlplan: annual operating plans that live in Excel.

The package is layered as docs/DESIGN.md describes: ``spec`` (the plan file) feeds
``engine`` (every number, pure Python), which feeds the workbook writers and the
consolidator; ``cli`` is the command line over all of them.
"""

__version__ = "0.1.0"
TEMPLATE_VERSION = "1"
