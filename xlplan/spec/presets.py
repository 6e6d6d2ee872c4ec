"""Industry presets for the balanced scorecard, with docs/METHOD.md's numbers.

A preset adds its KPIs to the plan's own; a KPI the plan defines with the same
code wins, so a team can start from a preset and override one target.
"""

from __future__ import annotations

import copy
from typing import Any


def _kpi(code: str, name: str, perspective: str, unit: str, direction: str, target: float,
         weight: float = 1.0, frequency: str = "monthly") -> dict[str, Any]:
    return {"code": code, "name": name, "perspective": perspective, "unit": unit,
            "direction": direction, "target": target, "weight": weight, "frequency": frequency}


COMMON = [
    _kpi("cash_flow", "Monthly operating cash flow", "financial", "CNY", "higher", 500_000),
    _kpi("high_margin_share", "High-margin product revenue share", "financial", "%", "higher",
         0.40),
    _kpi("cac", "Customer acquisition cost", "customer", "CNY", "lower", 200),
    _kpi("nps", "Net promoter score", "customer", "pts", "higher", 7),
    _kpi("delivery_hours", "Order-to-delivery time", "process", "h", "lower", 72),
    _kpi("defect_rate", "Defect rate", "process", "%", "lower", 0.01),
    _kpi("key_attrition", "Key staff attrition", "learning", "%", "lower", 0.10),
]

PRESETS: dict[str, list[dict[str, Any]]] = {
    "retail": [
        *COMMON,
        _kpi("member_repurchase", "Member repurchase rate", "customer", "%", "higher", 0.40),
        _kpi("stock_turns", "Stock turns per year", "process", "x", "higher", 12),
        _kpi("stock_out", "Stock-out rate", "process", "%", "lower", 0.05, frequency="daily"),
    ],
    "saas": [
        *COMMON,
        _kpi("rd_share", "R&D spend share", "learning", "%", "higher", 0.25),
        _kpi("win_rate", "Win rate", "customer", "%", "higher", 0.30),
        _kpi("renewal_12m", "12-month renewal rate", "customer", "%", "higher", 0.70),
    ],
    "services": [
        *COMMON,
        _kpi("table_turns", "Table turns per day", "process", "x", "higher", 3, frequency="daily"),
        _kpi("output_per_head", "Output per head per day", "financial", "CNY", "higher", 5000,
             frequency="daily"),
        _kpi("waste", "Waste rate", "process", "%", "lower", 0.03),
    ],
}


def apply_presets(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` with the BSC preset's KPIs merged in (plan's own KPIs win)."""
    bsc = data.get("bsc")
    if not isinstance(bsc, dict) or bsc.get("preset") not in PRESETS:
        return data
    own = [k for k in bsc.get("kpis") or [] if isinstance(k, dict)]
    own_codes = {k.get("code") for k in own}
    merged = [copy.deepcopy(k) for k in PRESETS[bsc["preset"]] if k["code"] not in own_codes]
    out = dict(data)
    out["bsc"] = {**bsc, "kpis": [*merged, *(bsc.get("kpis") or [])]}
    return out
