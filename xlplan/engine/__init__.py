"""The planning engine: every number xlplan shows, computed once, exactly.

Pure Python over numpy and pandas: no Excel, no file readers or writers, so the
same code runs in the CLI, in the consolidator, and inside Excel through the
xlwings functions (docs/DESIGN.md, principle 7). Money is integer minor units.
"""

from xlplan.engine.allocate import AllocationError, allocate, allocate_rows
from xlplan.engine.decompose import Decomposition, decompose, org_targets
from xlplan.engine.increment import Bridge, bridge
from xlplan.engine.phasing import phase_year, profile_from_calendar

__all__ = [
    "AllocationError", "Bridge", "Decomposition", "allocate", "allocate_rows", "bridge",
    "decompose", "org_targets", "phase_year", "profile_from_calendar",
]
