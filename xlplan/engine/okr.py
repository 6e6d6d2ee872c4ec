"""OKR progress (OKR拆解): key-result progress, objective progress, and the roll-up.

docs/METHOD.md: progress of a KR = (current − start) / (target − start), clipped to
[0, 1] for scoring; progress of an O = weight-averaged KR progress; parents see
the roll-up. Each function documents the worksheet formula the OKR sheet
carries, in the same order of operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.spec.models import Objective

NAN = float("nan")

ROLLUP_COLUMNS = [
    "objective", "unit", "aligned_to", "kr", "weight", "start", "target", "current",
    "progress", "aligned_objectives", "aligned_count", "aligned_progress", "kr_rollup",
    "objective_progress", "objective_rollup",
]


def kr_progress(start: float, target: float, current: float | None, clip: bool = True) -> float:
    """Progress of one key result: ``(current - start) / (target - start)``.

    Works for KRs that go down as well (start 10 days, target 5 days: the
    denominator is negative, so a fall from 10 to 8 is 0.4). With ``clip``
    the result is held to [0, 1] for scoring (over-delivery scores 1, going
    backwards 0); without it the raw ratio is returned, e.g. for a chart.

    * ``current`` None or NaN (no reading yet) → 0: nothing is shown as done
      until someone reports it. (In Excel an empty cell would count as 0 in
      the subtraction, so the sheet guards it with ``ISNUMBER``.)
    * ``target == start`` → NaN: progress cannot be measured. The plan
      checks reject such a KR (``xlplan.spec.checks``); NaN rather than an
      exception keeps a roll-up of many submissions running and shows the KR
      as blank.

    Excel (one formula): ``=IF(target=start,NA(),IF(ISNUMBER(current),``
    ``MIN(1,MAX(0,(current-start)/(target-start))),0))``
    (unclipped: ``(current-start)/(target-start)`` in place of the ``MIN(1,MAX(0,…))``).
    """
    s, t = float(start), float(target)
    if t == s or math.isnan(s) or math.isnan(t):
        return NAN
    if current is None or math.isnan(current):
        return 0.0
    ratio = (float(current) - s) / (t - s)
    return min(1.0, max(0.0, ratio)) if clip else ratio


def kr_progress_array(start: npt.ArrayLike, target: npt.ArrayLike, current: npt.ArrayLike,
                      clip: bool = True) -> npt.NDArray[np.float64]:
    """Vectorised :func:`kr_progress` (NaN in ``current`` means no reading → 0)."""
    s = np.asarray(start, dtype=float)
    t = np.asarray(target, dtype=float)
    c = np.asarray(current, dtype=float)
    span = t - s
    undefined = (span == 0) | np.isnan(span)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = (c - s) / np.where(undefined, 1.0, span)
    if clip:
        ratio = np.minimum(1.0, np.maximum(0.0, ratio))
    out = np.where(np.isnan(c), 0.0, ratio)
    return np.asarray(np.where(undefined, np.nan, out), dtype=float)


def weighted_mean(values: Iterable[float], weights: Iterable[float]) -> float:
    """``Σ w·v / Σ w``; when every weight is 0, the plain mean; when empty, NaN.

    The shared averaging rule of OKR objectives and BSC perspectives. Zero
    weights all round mean "no preference", not "nothing counts", so the
    plain mean is used rather than a division by zero. A NaN value makes the
    result NaN (as an error cell does in SUMPRODUCT). Sums are ``math.fsum``
    (correctly rounded, so independent of the order of the rows). Weights
    must be finite and not negative.

    Excel: ``=IF(SUM(W)=0,AVERAGE(V),SUMPRODUCT(W,V)/SUM(W))``
    """
    v = [float(x) for x in values]
    w = [float(x) for x in weights]
    if len(v) != len(w):
        raise ValueError(f"{len(v)} values but {len(w)} weights")
    if any(not math.isfinite(x) or x < 0 for x in w):
        raise ValueError("weights must be finite and not negative")
    if not v:
        return NAN
    total_weight = math.fsum(w)
    if total_weight == 0:
        return math.fsum(v) / len(v)
    return math.fsum(wi * vi for wi, vi in zip(w, v, strict=True)) / total_weight


def objective_progress(progresses: Sequence[float], weights: Sequence[float] | None = None,
                       ) -> float:
    """Progress of an objective: the KR progresses averaged by KR weight.

    ``weights`` None means equal weights. All weights zero → plain mean (see
    :func:`weighted_mean`); a NaN KR progress (target = start) makes the
    objective NaN rather than silently dropping the KR.

    Excel: ``=IF(SUM(W)=0,AVERAGE(P),SUMPRODUCT(W,P)/SUM(W))``
    """
    return weighted_mean(progresses, [1.0] * len(progresses) if weights is None else weights)


def _index(objectives: Sequence[Objective]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """KR id → owning objective id, and KR id → ids of the objectives aligned to it."""
    owner: dict[str, str] = {}
    seen: set[str] = set()
    for o in objectives:
        if o.id in seen:
            raise ValueError(f"duplicate objective id {o.id!r}")
        seen.add(o.id)
        for kr in o.krs:
            if kr.id in owner:
                raise ValueError(f"duplicate key result id {kr.id!r}")
            owner[kr.id] = o.id
    children: dict[str, list[str]] = {k: [] for k in owner}
    for o in objectives:
        for parent_kr in dict.fromkeys(o.aligned_to):  # aligned twice to one KR counts once
            if parent_kr not in owner:
                raise ValueError(f"objective {o.id!r} is aligned to unknown key result "
                                 f"{parent_kr!r}")
            children[parent_kr].append(o.id)
    return owner, children


def okr_rollup(objectives: Sequence[Objective]) -> pd.DataFrame:
    """The OKR table with roll-up: one row per key result, in plan order.

    Columns:

    * ``objective``, ``unit``, ``aligned_to`` (this objective's parent KR ids,
      comma-separated), ``kr``, ``weight``, ``start``, ``target``, ``current``;
    * ``progress``: the KR's own progress, :func:`kr_progress` (clipped;
      no reading → 0);
    * ``aligned_objectives`` / ``aligned_count``: the objectives one level
      down that support this KR;
    * ``aligned_progress``: the plain mean of those objectives' *rolled-up*
      progress (NaN when none). Plain, not weighted: supporting objectives
      carry no weight relative to each other in the plan, and an objective
      that supports several KRs counts fully in each of them;
    * ``kr_rollup``: ``aligned_progress`` when any objective supports the KR,
      else its own ``progress``. So the roll-up is built from the leaves: a
      KR that others deliver is measured by their progress;
    * ``objective_progress``: the objective's own progress, the KR weight
      average of ``progress`` (:func:`objective_progress`);
    * ``objective_rollup``: the same average over ``kr_rollup``. For an
      objective no one aligns to, it equals ``objective_progress``.

    Own and rolled-up figures sit side by side on purpose: a parent KR
    measured at 40% while its supporting objectives report 80% means either
    the bets do not move the KR or the measurements lag. Rolled-up progress
    recurses through any number of levels (company → department →
    individual).

    Errors (``ValueError``): duplicate objective or KR ids, alignment to an
    unknown KR, and alignment cycles (an objective supporting, directly or
    through others, one of its own KRs).

    Excel (one table of KR rows, ``T``; alignment links as a second table ``L``
    with one row per (child objective, parent KR) holding the child's
    rolled-up progress):
    ``aligned_count:    =COUNTIFS(L[parent_kr],[@kr])``
    ``aligned_progress: =IF([@aligned_count]=0,"",AVERAGEIFS(L[child_rollup],L[parent_kr],[@kr]))``
    ``kr_rollup:        =IF([@aligned_count]=0,[@progress],[@aligned_progress])``
    ``objective_rollup: =IF(SUMIFS(T[weight],T[objective],[@objective])=0,``
    ``AVERAGEIFS(T[kr_rollup],T[objective],[@objective]),``
    ``SUMPRODUCT((T[objective]=[@objective])*T[weight]*T[kr_rollup])/SUMIFS(T[weight],T[objective],[@objective]))``
    """
    _, children = _index(objectives)
    by_id = {o.id: o for o in objectives}
    own_kr = {kr.id: kr_progress(kr.start, kr.target, kr.current) for o in objectives
              for kr in o.krs}
    rolled: dict[str, float] = {}
    aligned: dict[str, float] = {}

    def rollup(obj_id: str, path: tuple[str, ...]) -> float:
        if obj_id in rolled:
            return rolled[obj_id]
        if obj_id in path:
            chain = " → ".join([*path[path.index(obj_id):], obj_id])
            raise ValueError(f"objectives are aligned in a cycle: {chain}")
        o = by_id[obj_id]
        values = []
        for kr in o.krs:
            kids = children[kr.id]
            if kids:
                kid_values = [rollup(k, (*path, obj_id)) for k in kids]
                aligned[kr.id] = math.fsum(kid_values) / len(kid_values)
                values.append(aligned[kr.id])
            else:
                values.append(own_kr[kr.id])
        rolled[obj_id] = objective_progress(values, [kr.weight for kr in o.krs])
        return rolled[obj_id]

    rows = []
    for o in objectives:
        o_roll = rollup(o.id, ())
        o_own = objective_progress([own_kr[kr.id] for kr in o.krs], [kr.weight for kr in o.krs])
        for kr in o.krs:
            kids = children[kr.id]
            rows.append({
                "objective": o.id,
                "unit": o.unit or "",
                "aligned_to": ", ".join(o.aligned_to),
                "kr": kr.id,
                "weight": float(kr.weight),
                "start": float(kr.start),
                "target": float(kr.target),
                "current": NAN if kr.current is None else float(kr.current),
                "progress": own_kr[kr.id],
                "aligned_objectives": ", ".join(kids),
                "aligned_count": len(kids),
                "aligned_progress": aligned.get(kr.id, NAN),
                "kr_rollup": aligned[kr.id] if kids else own_kr[kr.id],
                "objective_progress": o_own,
                "objective_rollup": o_roll,
            })
    return pd.DataFrame(rows, columns=ROLLUP_COLUMNS)
