"""Last year's actuals as the engine reads them (the reading is :mod:`xlplan.spec.prior_year`).

Apart from the reader so that the engine, which needs only this class, does not
import plan loading and file reading (the Excel functions bundle the engine for
xlwings Lite, where only what the functions need may travel).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PriorYear:
    """Prior-year actuals, amounts in minor units (int64), month = fiscal month 1..12."""

    frame: pd.DataFrame
    file: str
    left_out: tuple[str, ...] = ()  # warnings: rows of codes no longer in the plan, not read

    def revenue_by(self, *columns: str) -> pd.Series:
        return self.frame.groupby(list(columns))["revenue"].sum()
