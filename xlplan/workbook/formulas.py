"""The worksheet formulas the writers share: one builder for each shape.

Every sheet that shows a light, an attainment, a tie check or a budget flag writes
the formula through these builders, so the master, the unit workbooks and the
tracking board carry the same text for the same question, and the one test
(tests/test_architecture.py) that evaluates each builder in a spreadsheet holds
all of them to the engine (:mod:`xlplan.engine.variance`, :mod:`xlplan.engine.bsc`,
:mod:`xlplan.engine.okr`).

Arguments are formula text: a cell (``"B7"``, ``"Board!$B$20"``), a range or an
expression. Results are formula text without the leading ``=``. Two conventions
come from :mod:`xlplan.engine.variance`: the engine's NaN ("no value") is the
sheet's ``""``, and ratios are compared after ``ROUND(x, 9)`` so a band's edge
falls where the engine puts it. Guards are nested ``IF`` because Excel's
``AND``/``OR`` do not short-circuit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xlplan.spec.models import StatusBands

COMPARE_DIGITS = 9  # engine.variance.COMPARE_DIGITS, as a formula literal
TICK, CROSS = '"✓"', '"✗"'  # a tie check's answers (formula text: quoted)


def quoted(text: str) -> str:
    """``text`` as a formula string literal (``"`` doubled)."""
    return '"' + text.replace('"', '""') + '"'


def band_values(bands: StatusBands) -> dict[str, str]:
    """The plan's status bands as formula literals, for sheets that do not show them in cells."""
    return {key: f"{getattr(bands, key)}" for key in ("yellow", "orange", "red")}


# --------------------------------------------------------------------------- status lights


def shortfall(att: str) -> str:
    """``ROUND(1-att,9)``: how far an attainment is below plan, as engine.variance.shortfall.

    Raw ``1-0.95`` is ``0.050000000000000044``; rounded to nine decimals an attainment of
    exactly 95% meets a 5% band, as in the engine.
    """
    return f"ROUND(1-{att},{COMPARE_DIGITS})"


def _ladder(att: str, bands: Mapping[str, str]) -> str:
    """G/Y/O/R of an attainment known to be a number: an edge belongs to the better colour."""
    short = shortfall(att)
    return (f'IF({short}<={bands["yellow"]},"G",IF({short}<={bands["orange"]},"Y",'
            f'IF({short}<={bands["red"]},"O","R")))')


def status_light(att: str, bands: Mapping[str, str]) -> str:
    """engine.variance.status of an attainment cell: G/Y/O/R, ``""`` without an attainment.

    ``IF(ISNUMBER(att),IF(ROUND(1-att,9)<=yellow,"G",IF(…<=orange,"Y",IF(…<=red,"O","R"))),"")``
    (``bands``: ``yellow``/``orange``/``red`` as cells or literals).
    """
    return f'IF(ISNUMBER({att}),{_ladder(att, bands)},"")'


def status_light_of(actual: str, plan: str, bands: Mapping[str, str]) -> str:
    """engine.variance.status of ``actual/plan`` (higher is better); ``""`` for a zero plan.

    ``IF(plan=0,"",IF(ROUND(1-actual/plan,9)<=yellow,"G",…))``: for rows that keep no
    attainment cell of their own (the Commitments sheet).
    """
    return f'IF({plan}=0,"",{_ladder(f"{actual}/{plan}", bands)})'


def heat_criteria(corner: str, bands: Mapping[str, str]) -> dict[str, str]:
    """Conditional-format criteria colouring an attainment cell by its light.

    ``corner`` is the top-left cell of the range (relative, so each cell tests itself). One
    criterion per light, ``=AND(ISNUMBER(x),test)``, the tests the bands of
    :func:`status_light` taken one at a time: a blank cell gets no colour.
    """
    return {light: f"=AND(ISNUMBER({corner}),{test})"
            for light, test in _band_tests(shortfall(corner), bands).items()}


def kpi_heat_criteria(actual: str, target: str, direction: str,
                      bands: Mapping[str, str]) -> dict[str, str]:
    """:func:`heat_criteria` of a KPI value against its target, the attainment worked out in
    the criterion (:func:`kpi_attainment`): colours the BSC sheet's day inputs, which keep
    no attainment cell of their own. A blank value or target gets no colour."""
    att = f'IF({direction}="lower",2-{actual}/{target},{actual}/{target})'
    guard = f"AND(ISNUMBER({actual}),ISNUMBER({target}))"
    return {light: f"=IF({guard},IF({target}=0,FALSE,{test}),FALSE)"
            for light, test in _band_tests(shortfall(att), bands).items()}


def _band_tests(short: str, b: Mapping[str, str]) -> dict[str, str]:
    """The test of each light on a shortfall, the bands taken one at a time."""
    return {"G": f"{short}<={b['yellow']}",
            "Y": f"AND({short}>{b['yellow']},{short}<={b['orange']})",
            "O": f"AND({short}>{b['orange']},{short}<={b['red']})",
            "R": f"{short}>{b['red']}"}


# --------------------------------------------------------------------------- attainment


def attainment(actual: str, target: str) -> str:
    """engine.variance.attainment (higher is better) of a cell that may be empty.

    ``IF(actual="","",IF(target=0,"",actual/target))``: no actual or no target, no ratio.
    """
    return f'IF({actual}="","",IF({target}=0,"",{actual}/{target}))'


def kpi_attainment(actual: str, target: str, direction: str) -> str:
    """engine.variance.attainment with the direction in a cell (``"lower"``/``"higher"``).

    ``IF(ISNUMBER(a),IF(t=0,"",IF(d="lower",2-a/t,a/t)),"")``: lower is better costs a
    percent of attainment per percent over target.
    """
    a, t = actual, target
    return f'IF(ISNUMBER({a}),IF({t}=0,"",IF({direction}="lower",2-{a}/{t},{a}/{t})),"")'


def kpi_score(actual: str, target: str, floor: str, direction: str) -> str:
    """engine.bsc.kpi_score: a ramp from the floor (0) to the target (10), a step when they meet.

    ``IF(ISNUMBER(a),IF(t=f,IF(IF(d="lower",a<=t,a>=t),10,0),10*MIN(1,MAX(0,(a-f)/(t-f)))),"")``
    """
    a, t, f, d = actual, target, floor, direction
    return (f'IF(ISNUMBER({a}),IF({t}={f},IF(IF({d}="lower",{a}<={t},{a}>={t}),10,0),'
            f'10*MIN(1,MAX(0,({a}-{f})/({t}-{f})))),"")')


def ratio(part: str, whole: str) -> str:
    """``IF(whole=0,"",part/whole)``: a share or ratio, blank (the engine's NaN) over nothing."""
    return f'IF({whole}=0,"",{part}/{whole})'


def variance(actual: str, target: str) -> str:
    """engine.variance.variance of a cell that may be empty: ``IF(actual="","",actual-target)``."""
    return f'IF({actual}="","",{actual}-{target})'


def sum_if_any(cells: str) -> str:
    """``IF(COUNT(cells)=0,"",SUM(cells))``: no actuals is blank, not a total of 0."""
    return f'IF(COUNT({cells})=0,"",SUM({cells}))'


# --------------------------------------------------------------------------- checks


def tie_check(parts: str, whole: str, digits: int | str, ties: str = TICK,
              differs: str = CROSS) -> str:
    """``IF(ROUND(parts-whole,digits)=0,ties,differs)``: do the parts add up to the whole?

    Compared to the smallest currency unit (``digits`` decimals) so float noise in a SUM of
    cents does not read as a difference. ``ties``/``differs`` are formula text (quoted
    strings, or an expression that says by how much).
    """
    return f"IF(ROUND({parts}-{whole},{digits})=0,{ties},{differs})"


# --------------------------------------------------------------------------- budget


def deviation(spend: str, budget: str, blank_spend: bool = False) -> str:
    """engine.variance.budget_check's deviation: ``IF(budget=0,"",spend/budget-1)``.

    ``blank_spend`` adds ``spend=""`` to the guard (``IF(OR(spend="",budget=0),…)``) for a
    month nobody has reported yet.
    """
    guard = f'OR({spend}="",{budget}=0)' if blank_spend else f"{budget}=0"
    return f'IF({guard},"",{spend}/{budget}-1)'


FLAGS = {"over": "over", "under": "under", "within": "within"}  # engine.variance's flags


def _sign_flag(spend: str, flags: Mapping[str, str] = FLAGS) -> str:
    """The flag against a zero budget: any spend is over, a refund under."""
    over, under, within = (quoted(flags[k]) for k in ("over", "under", "within"))
    return f"IF({spend}>0,{over},IF({spend}<0,{under},{within}))"


def _tolerance_flag(rounded: str, tolerance: str, flags: Mapping[str, str] = FLAGS) -> str:
    """The flag of a deviation already rounded to nine decimals: beyond ±tolerance."""
    over, under, within = (quoted(flags[k]) for k in ("over", "under", "within"))
    return f"IF({rounded}>{tolerance},{over},IF({rounded}<-{tolerance},{under},{within}))"


def budget_flag(spend: str, budget: str, tolerance: str, flags: Mapping[str, str] = FLAGS
                ) -> str:
    """engine.variance.budget_check's flag from spend and budget cells (blank spend: blank).

    ``IF(spend="","",IF(budget=0,<sign of spend>,<ROUND(spend/budget-1,9) against ±tol>))``;
    ``flags``: the words shown for over, under and within (a workbook in another language).
    """
    dev = f"ROUND({spend}/{budget}-1,{COMPARE_DIGITS})"
    return (f'IF({spend}="","",IF({budget}=0,{_sign_flag(spend, flags)},'
            f"{_tolerance_flag(dev, tolerance, flags)}))")


def budget_flag_of(deviation_cell: str, spend: str, tolerance: str) -> str:
    """engine.variance.budget_check's flag from a :func:`deviation` cell beside it.

    ``IF(ISNUMBER(dev),<ROUND(dev,9) against ±tol>,<sign of spend>)``: a blank deviation
    means a zero budget.
    """
    dev = f"ROUND({deviation_cell},{COMPARE_DIGITS})"
    return (f"IF(ISNUMBER({deviation_cell}),{_tolerance_flag(dev, tolerance)},"
            f"{_sign_flag(spend)})")


def frozen(roi: str, floor: str, word: str) -> str:
    """engine.budget's ROI freeze: ``IF(ISNUMBER(roi),IF(ROUND(roi,9)<floor,word,""),"")``."""
    return (f'IF(ISNUMBER({roi}),IF(ROUND({roi},{COMPARE_DIGITS})<{floor},{quoted(word)},""),'
            f'"")')


# --------------------------------------------------------------------------- OKR


def kr_progress(start: str, target: str, current: str) -> str:
    """KR progress as :func:`xlplan.engine.okr.kr_progress` (clipped, no reading → 0).

    Unlike the engine's ``NA()`` for target = start, the sheet shows ``""``
    (the engine's NaN), and also for a row whose start or target is not filled.
    """
    return (f'IF(OR(NOT(ISNUMBER({start})),NOT(ISNUMBER({target}))),"",IF({target}={start},"",'
            f"IF(ISNUMBER({current}),MIN(1,MAX(0,({current}-{start})/({target}-{start}))),0)))")


def objective_progress(progress: str, weight: str) -> str:
    """Objective progress over the KRs that have a progress, as engine.okr.weighted_mean.

    ``SUMPRODUCT`` counts the ``""`` of an unfilled KR as 0 and ``ISNUMBER(…)*1``
    drops its weight, so half-filled objectives average only their measurable KRs.
    """
    num = f"ISNUMBER({progress})*1"  # not --ISNUMBER: the formulas package reads -- as 0
    return (f'IF(COUNT({progress})=0,"",IF(SUMPRODUCT({num},{weight})=0,AVERAGE({progress}),'
            f"SUMPRODUCT({num},{weight},{progress})/SUMPRODUCT({num},{weight})))")


# --------------------------------------------------------------------------- BSC


def kpi_aggregate(rule: str, ranges: Sequence[str]) -> str:
    """engine.bsc.month_actual / year_actual of ``sum`` or ``average`` over one or more
    ranges (a month's days, or every month's days so far): ``""`` when none is filled.

    ``IF(COUNT(r1,r2)=0,"",SUM(r1,r2))``; ``AVERAGE`` averages the values filled, blank
    cells skipped, as the engine does."""
    cells = ",".join(ranges)
    fn = {"sum": "SUM", "average": "AVERAGE"}[rule]
    return f'IF(COUNT({cells})=0,"",{fn}({cells}))'


def last_filled(days: str) -> str:
    """engine.bsc.month_actual ``last``: the last number in a one-row range, ``""`` if none.

    ``INDEX(days,1,<column of the last number>)``; SUMPRODUCT makes MAX an array formula
    without Ctrl+Shift+Enter."""
    first = days.partition(":")[0]
    return (f'IF(COUNT({days})=0,"",INDEX({days},1,SUMPRODUCT(MAX(ISNUMBER({days})*'
            f'COLUMN({days})))-COLUMN({first})+1))')


def last_so_far(this: str, earlier: str | None) -> str:
    """engine.bsc.year_actual ``last``: this month's value if it has one, else the
    year-to-date of the month before if it has one (``None`` in the first month), else ``""``.

    ``IF(ISNUMBER(this),this,IF(ISNUMBER(earlier),earlier,""))``: an empty cell as
    ``earlier`` is no value, not the 0 a bare reference to it would give."""
    before = '""' if earlier is None else number_or_blank(earlier)
    return f"IF(ISNUMBER({this}),{this},{before})"


def number_or_blank(cell: str) -> str:
    """``IF(ISNUMBER(cell),cell,"")``: a typed value as is, anything else as no value."""
    return f'IF(ISNUMBER({cell}),{cell},"")'
