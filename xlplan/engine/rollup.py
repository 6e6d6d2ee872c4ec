"""Roll-up over a tree given as (code, parent) rows: every node's total of its subtree.

The consolidated view of an org (company ← department ← region ← person) or of
a channel tree is the same question: what does each node add up to, counting
its own value and everything below it. The tree comes as flat rows, the way a
worksheet holds it (a code column and a parent column), so the same function
serves the engine and the ``XLPLAN_ROLLUP`` worksheet function.

Each total is ``math.fsum`` over the node's subtree: correctly rounded, so it
does not depend on the order of the rows, and a parent's total equals the sum
of its leaves to the last bit that a double can hold (money to the cent by a
wide margin). The cost is the sum of the subtree sizes (rows × depth), which is
small for organisations (a few levels) and large only for long chains. Whole
numbers (amounts in minor units) take a faster road with the same bits: int64
sums up the tree, a level at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


class TreeError(ValueError):
    """Rows that do not form a tree: a repeated code, an unknown parent, a cycle."""


def parent_index(codes: Sequence[str], parents: Sequence[str | None]) -> npt.NDArray[np.int64]:
    """Row of each row's parent (-1 for a top node, whose parent is None or "").

    Raises :class:`TreeError` naming the first repeated code, unknown parent or cycle.
    """
    if len(codes) != len(parents):
        raise TreeError(f"{len(codes)} codes but {len(parents)} parents")
    row: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code in row:
            raise TreeError(f"code {code!r} appears twice (rows {row[code] + 1} and {i + 1})")
        row[code] = i
    up = np.full(len(codes), -1, dtype=np.int64)
    for i, parent in enumerate(parents):
        if parent is None or parent == "":
            continue
        if parent not in row:
            raise TreeError(f"row {i + 1} ({codes[i]!r}): unknown parent {parent!r}")
        up[i] = row[parent]
    _check_acyclic(codes, up)
    return up


def _check_acyclic(codes: Sequence[str], up: npt.NDArray[np.int64]) -> None:
    """Walk up from every row; meeting a row of the current walk again is a cycle."""
    parent = up.tolist()
    state = [0] * len(parent)  # 0 unseen, 1 on the current walk, 2 done
    for start in range(len(parent)):
        walk = []
        node = start
        while node != -1 and state[node] == 0:
            state[node] = 1
            walk.append(node)
            node = parent[node]
        if node != -1 and state[node] == 1:
            chain = [codes[n] for n in walk[walk.index(node):]] + [codes[node]]
            raise TreeError(f"parents form a cycle: {' → '.join(chain)}")
        for n in walk:
            state[n] = 2


def subtrees(up: npt.NDArray[np.int64]) -> list[list[int]]:
    """Rows of each node's subtree (itself and every descendant), in row order."""
    parent = up.tolist()
    members: list[list[int]] = [[] for _ in parent]
    for i in range(len(parent)):
        node = i
        while node != -1:
            members[node].append(i)
            node = parent[node]
    return members


def rollup(codes: Sequence[str], parents: Sequence[str | None],
           values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Each node's own value plus all of its descendants' (one column or several).

    ``values`` has one row per code: shape (N,) or (N, k) for k measures
    (e.g. twelve months), rolled up column by column. A top node's parent is
    None or "". Values must be finite numbers (a missing value is the caller's
    choice to make: 0 for "nothing of its own"). Returns floats of the shape of
    ``values``.

    Excel (a code column C, a parent column P, values V, no helper columns
    possible for arbitrary depth): only the ``XLPLAN_ROLLUP`` function; a
    fixed-depth tree can use ``SUMIFS`` level by level.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim not in (1, 2) or v.shape[0] != len(codes):
        raise TreeError(f"values must have one row per code ({len(codes)}), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise TreeError("values must be finite numbers")
    up = parent_index(codes, parents)
    columns = v.reshape(len(codes), -1)
    if _whole_and_small(columns):
        return _integer_rollup(up, columns).reshape(v.shape)
    members = subtrees(up)
    out = np.empty(columns.shape, dtype=float)
    for j, column in enumerate(columns.T.tolist()):
        pick = column.__getitem__
        out[:, j] = [column[rows[0]] if len(rows) == 1 else math.fsum(map(pick, rows))
                     for rows in members]
    return out.reshape(v.shape)


def _whole_and_small(columns: npt.NDArray[np.float64]) -> bool:
    """Whole numbers whose column totals stay below 2^53: integer sums are exact there, so
    they equal ``math.fsum`` bit for bit, whatever the order (amounts in minor units)."""
    if columns.size == 0 or not np.all(columns == np.round(columns)):
        return False
    return bool(np.abs(columns).sum(axis=0).max() < 2.0 ** 53)


def _integer_rollup(up: npt.NDArray[np.int64], columns: npt.NDArray[np.float64]
                    ) -> npt.NDArray[np.float64]:
    """Subtree sums in int64, leaves first: each level adds its totals to its parents'."""
    depth = np.zeros(len(up), dtype=np.int64)
    node = up.copy()
    while np.any(node >= 0):  # one step up the tree per pass, for every row at once
        moving = node >= 0
        depth[moving] += 1
        node[moving] = up[node[moving]]
    totals = columns.astype(np.int64)
    for level in range(int(depth.max(initial=0)), 0, -1):
        rows = np.flatnonzero(depth == level)
        np.add.at(totals, up[rows], totals[rows])
    return totals.astype(float)
