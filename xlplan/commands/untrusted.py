"""Text that came from a file or a file name, made safe to print.

A cell holding ``[/]`` or ``[link=…]`` is rich markup, and a file name holding ESC is a
terminal escape sequence: printed as they are, the first crashes the command and the
second recolours, clears or retitles the user's terminal. Everything the CLI prints that
a submission, a database row or a file name supplied goes through :func:`text` (a rich
``Text``, never parsed as markup) or :func:`clean` (plain strings, for stderr).
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional overrides
# that make text display in another order than it reads
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """``value`` as a string with every control character shown as its escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"),
                        str(value))


def text(value: object, style: str = "") -> Text:
    """``value`` cleaned, as rich Text: printed literally, whatever brackets it holds."""
    return Text(clean(value), style=style)
