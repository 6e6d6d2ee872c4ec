"""File names as people and tools leave them, shown and stored without breaking anything.

On Linux a file name is bytes: ``unzip`` of a Chinese archive leaves names in GBK
(``b"\\xb1\\xb1\\xbe\\xa9.xlsx"``), which Python hands over with lone surrogates that no
database, workbook or terminal accepts. A name may also hold control characters (a
newline, a terminal escape). So every name is *shown* as text that is always valid and
printable (undecodable bytes as ``\\xNN``, control characters as ``\\xNN``), and *kept*
as its exact bytes where the text is not the name itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown(path: Path | str) -> str:
    """The path as safe, printable text (equal to ``str(path)`` for ordinary names)."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256
                        else f"\\u{ord(m.group(0)):04x}", text)


def exact_bytes(path: Path | str) -> bytes | None:
    """The path's bytes when :func:`shown` is not the path itself (None otherwise)."""
    return None if shown(path) == str(path) else os.fsencode(path)
