"""Every command in README.md's ```bash blocks works as written.

The lines are run in README order, each with bash, in one empty folder (the commands
build on each other: ``xlplan init myplan`` writes the ``myplan/plan.yaml`` the later ones
use, ``xlplan build`` the workbooks ``fill-sample`` fills, and so on), with this
environment's ``xlplan`` and ``python`` first on the PATH. A line whose commands are joined
by ``&&`` runs without the parts in :data:`NOT_RUN`; every other command runs, so a
command added to README that does not work fails this test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

# The commands not run, and why. Each must still be in README (checked), so this list
# cannot outlive what it excuses.
NOT_RUN = {
    # install into the environment that runs these tests (installed already; it would
    # need the package index and would change the environment under the tests)
    "python -m pip install -e .": "install",
    'python -m pip install -q -e ".[dev]"': "install",
    # the rest of the test command itself (.ci/run runs that line word for word):
    # pytest inside pytest would run this test again
    "ruff check .": "the test command",
    "mypy": "the test command",
    "python -m pytest": "the test command",
}

# Sections whose blocks must be found (a renamed fence language must not silently run
# nothing).
SECTIONS = ("## Using it", "## Tracking through the year")

pytestmark = pytest.mark.slow


def bash_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(section heading, command lines) of each ```bash block, in order; comment-only and
    blank lines dropped, ``\\`` continuations joined."""
    blocks = []
    section = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line.strip()
        if line.strip() == "```bash":
            body: list[str] = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            joined = re.sub(r"\\\n", " ", "\n".join(body)).splitlines()
            blocks.append((section, [c.strip() for c in joined
                                     if c.strip() and not c.strip().startswith("#")]))
        i += 1
    return blocks


def runnable(line: str) -> str:
    """``line`` without the ``&&``-joined commands in NOT_RUN ('' if nothing is left)."""
    parts = [p.strip() for p in line.split("&&")]
    return " && ".join(p for p in parts if p not in NOT_RUN)


def test_the_readme_blocks_are_found_and_every_exclusion_is_in_them() -> None:
    blocks = bash_blocks(README.read_text(encoding="utf-8"))
    sections = {s for s, lines in blocks if lines}
    assert set(SECTIONS) <= sections
    parts = {p.strip() for _, lines in blocks for line in lines for p in line.split("&&")}
    assert set(NOT_RUN) <= parts, f"not in README any more: {set(NOT_RUN) - parts}"


def test_every_readme_command_exits_0(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    env.pop("CI", None)  # nothing here depends on it; keep the run as a user's
    ran = []
    for section, lines in bash_blocks(README.read_text(encoding="utf-8")):
        for line in lines:
            command = runnable(line)
            if not command:
                continue
            done = subprocess.run([bash, "-e", "-o", "pipefail", "-c", command], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, (f"README ({section}): {command}\nexit "
                                          f"{done.returncode}\n{done.stderr[-3000:]}")
            assert "Traceback" not in done.stderr, (command, done.stderr[-3000:])
            ran.append(command)
    assert any(c.startswith("xlplan track") and "--as-of" not in c for c in ran)
    # what the steps promise is there: the board of the run without --as-of (the synthetic
    # year's last day), the re-forecast plan, and both versions diff compared
    assert (tmp_path / "board" / "small-2027-board-2027-12-31.xlsx").is_file()
    assert (tmp_path / "myplan" / "plan-rf.yaml").is_file()
    assert (tmp_path / "EAST-v2.xlsx").is_file() and (tmp_path / "inbox" / "EAST.xlsx").is_file()
