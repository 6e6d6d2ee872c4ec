"""The actuals table every tracking module reads: one row per unit × product × channel ×
measure × day (or month).

Columns (:data:`COLUMNS`): ``unit``, ``product`` and ``channel`` (``""`` when not
given), ``measure`` (the plan's spelling, see :mod:`xlplan.tracking.measures`),
``day`` (index in the fiscal year, ``-1`` for a month value), ``month`` (fiscal
month 0–11) and ``value`` (money in major units, as in the plan; KPI and KR
values as they are). Money is turned into integer minor units where it is
added up (:func:`minor`), never summed as floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xlplan.engine.org import OrgTree

COLUMNS = ["unit", "product", "channel", "measure", "day", "month", "value"]
MONTH_ROW = -1


def empty() -> pd.DataFrame:
    """An actuals table with no rows (and the right dtypes)."""
    return pd.DataFrame({"unit": pd.Series(dtype=object), "product": pd.Series(dtype=object),
                         "channel": pd.Series(dtype=object), "measure": pd.Series(dtype=object),
                         "day": pd.Series(dtype=np.int64), "month": pd.Series(dtype=np.int64),
                         "value": pd.Series(dtype=float)})


def minor(values: pd.Series | np.ndarray, smallest_unit: float) -> np.ndarray:
    """Amounts in major units → int64 minor units (they were rounded to the unit on import)."""
    return np.rint(np.asarray(values, dtype=float) / smallest_unit).astype(np.int64)


def ancestors(tree: OrgTree) -> dict[str, list[str]]:
    """Each unit with itself and every unit above it: a unit's actuals count for all of them."""
    out: dict[str, list[str]] = {}
    for code, unit in tree.units.items():
        chain = [code]
        while unit.parent is not None:
            chain.append(unit.parent)
            unit = tree.units[unit.parent]
        out[code] = chain
    return out


def roll_up(frame: pd.DataFrame, tree: OrgTree) -> pd.DataFrame:
    """``frame`` with each row repeated for every unit above its own (column ``unit``)."""
    if frame.empty:
        return frame
    chains = ancestors(tree)
    repeat = frame["unit"].map(lambda u: len(chains[u])).to_numpy(dtype=np.int64)
    out = frame.iloc[np.repeat(np.arange(len(frame)), repeat)].reset_index(drop=True)
    out["unit"] = [a for u in frame["unit"] for a in chains[u]]
    return out


# pandas-stubs types a cell as a union of every scalar pandas can hold, which mypy cannot
# narrow; these three say what the tracking tables hold (numbers, and rows of them).


def num(value: Any) -> float:
    """A numeric cell as a float."""
    return float(value)


def whole(value: Any) -> int:
    """An integer cell (minor units, a month, a day) as an int."""
    return int(value)


def rows(frame: pd.DataFrame) -> list[Any]:
    """The rows of ``frame`` as named tuples (fields by column name)."""
    return list(frame.itertuples(index=False))
