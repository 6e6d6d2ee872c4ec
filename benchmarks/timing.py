"""What every benchmark measures with: one timed call, and peak memory."""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections.abc import Callable


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, after a full collection (so garbage left by the
    previous contender is not collected on this one's clock)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB of this process, or (``RUSAGE_CHILDREN``) of the largest
    finished child process."""
    kb = resource.getrusage(who).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024  # bytes on macOS
