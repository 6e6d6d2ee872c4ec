"""Balanced scorecard: KPI scores, perspective and total scores, hand-worked and as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlplan.engine.bsc import bsc_scores, default_floor, kpi_score, kpi_score_array
from xlplan.spec.models import Kpi

NAN = float("nan")


def kpi(code: str, perspective: str, target: float, direction: str = "higher",
        weight: float = 1.0, floor: float | None = None) -> Kpi:
    return Kpi(code=code, name=code, perspective=perspective, target=target,
               direction=direction, weight=weight, floor=floor)


# --------------------------------------------------------------------------- kpi_score


def test_cac_220_against_200_scores_nine() -> None:
    # Lower is better, default floor 2 × 200 = 400: 10 × (220 − 400)/(200 − 400)
    # = 10 × (−180)/(−200) = 9.0
    assert default_floor(200, "lower") == 400
    assert kpi_score(220, 200, direction="lower") == pytest.approx(9.0)


def test_lower_is_better_clips() -> None:
    assert kpi_score(180, 200, direction="lower") == 10.0   # beat target: no bonus
    assert kpi_score(400, 200, direction="lower") == 0.0    # at the floor
    assert kpi_score(500, 200, direction="lower") == 0.0    # past the floor


def test_higher_is_better_cash_flow() -> None:
    # Default floor 0: 10 × 400,000 / 500,000 = 8.0
    assert default_floor(500_000) == 0
    assert kpi_score(400_000, 500_000) == pytest.approx(8.0)
    assert kpi_score(600_000, 500_000) == 10.0
    assert kpi_score(-1, 500_000) == 0.0


def test_explicit_floor() -> None:
    # NPS target 7, floor 3, actual 5: 10 × (5 − 3)/(7 − 3) = 5.0
    assert kpi_score(5, 7, floor=3) == pytest.approx(5.0)
    # Delivery ≤ 72 h, floor 96 h, actual 84 h: 10 × (84 − 96)/(72 − 96) = 5.0
    assert kpi_score(84, 72, floor=96, direction="lower") == pytest.approx(5.0)


def test_target_equal_to_floor_is_a_step() -> None:
    # Defect rate target 0 (floor 2 × 0 = 0): met → 10, otherwise 0.
    assert kpi_score(0, 0, direction="lower") == 10.0
    assert kpi_score(0.001, 0, direction="lower") == 0.0
    assert kpi_score(0, 0) == 10.0
    assert kpi_score(-1, 0) == 0.0


def test_floor_on_the_wrong_side_is_an_error() -> None:
    with pytest.raises(ValueError, match="wrong side"):
        kpi_score(5, 7, floor=9)
    with pytest.raises(ValueError, match="wrong side"):
        kpi_score(5, 7, floor=3, direction="lower")
    with pytest.raises(ValueError, match="wrong side"):
        kpi_score_array([5], [7], [9])


def test_missing_actual_is_unscored() -> None:
    assert math.isnan(kpi_score(None, 7))
    assert math.isnan(kpi_score(NAN, 7))


def test_kpi_score_array_mixed() -> None:
    out = kpi_score_array([220, 400_000, 5, NAN], [200, 500_000, 7, 7],
                          [NAN, NAN, 3, NAN], ["lower", "higher", "higher", "higher"])
    np.testing.assert_allclose(out[:3], [9.0, 8.0, 5.0])
    assert math.isnan(out[3])


finite = st.floats(-1e9, 1e9)


@given(st.lists(st.tuples(st.one_of(finite, st.just(NAN)), finite,
                          st.one_of(st.none(), finite), st.sampled_from(["higher", "lower"])),
                min_size=1, max_size=30))
def test_kpi_score_array_equals_scalar_and_stays_in_range(
        rows: list[tuple[float, float, float | None, str]]) -> None:
    ok = []
    for a, t, f, d in rows:
        try:
            ok.append((a, t, f, d, kpi_score(a, t, f, d)))
        except ValueError:
            continue  # floor on the wrong side
    if not ok:
        return
    actuals = [r[0] for r in ok]
    floors = [NAN if r[2] is None else r[2] for r in ok]
    vec = kpi_score_array(actuals, [r[1] for r in ok], floors, [r[3] for r in ok])
    np.testing.assert_array_equal(vec, np.array([r[4] for r in ok]))
    scored = vec[~np.isnan(vec)]
    assert np.all((scored >= 0) & (scored <= 10))
    assert np.array_equal(np.isnan(vec), np.isnan(np.array(actuals)))


# --------------------------------------------------------------------------- bsc_scores


def scorecard() -> list[Kpi]:
    return [
        kpi("cash_flow", "financial", 500_000),
        kpi("high_margin_share", "financial", 0.40),
        kpi("cac", "customer", 200, "lower"),
        kpi("nps", "customer", 7, weight=2),
        kpi("delivery_hours", "process", 72, "lower"),
    ]


def test_bsc_hand_worked() -> None:
    actuals = {"cash_flow": 400_000, "high_margin_share": 0.30, "cac": 220, "nps": 7,
               "typo_code": 1.0}
    result = bsc_scores(scorecard(), actuals)
    scores = dict(zip(result.kpis["code"], result.kpis["score"], strict=True))
    # cash flow 8.0; margin share 10 × 0.30/0.40 = 7.5; CAC 9.0; NPS 10.
    assert scores["cash_flow"] == pytest.approx(8.0)
    assert scores["high_margin_share"] == pytest.approx(7.5)
    assert scores["cac"] == pytest.approx(9.0)
    assert scores["nps"] == pytest.approx(10.0)
    assert math.isnan(scores["delivery_hours"])
    # financial (8 + 7.5)/2 = 7.75; customer (1 × 9 + 2 × 10)/3 = 29/3.
    assert result.perspective_score("financial") == pytest.approx(7.75)
    assert result.perspective_score("customer") == pytest.approx(29 / 3)
    # process has a KPI but no actual: NaN, reported.
    assert math.isnan(result.perspective_score("process"))
    assert math.isnan(result.perspective_score("learning"))  # no KPIs at all
    assert result.perspectives["perspective"].tolist() == ["financial", "customer", "process"]
    process = result.perspectives.set_index("perspective").loc["process"]
    assert (process["kpis"], process["scored"], process["weight"]) == (1, 0, 0.0)
    # total by KPI weight over the scored: (8 + 7.5 + 9 + 2 × 10)/5 = 44.5/5 = 8.9
    assert result.total == pytest.approx(8.9)
    assert result.unscored == ["delivery_hours"]
    assert result.unknown == ["typo_code"]


def test_bsc_effective_floor_is_reported() -> None:
    result = bsc_scores(scorecard(), {"cac": 220})
    floors = dict(zip(result.kpis["code"], result.kpis["floor"], strict=True))
    assert floors["cac"] == 400
    assert floors["cash_flow"] == 0


def test_bsc_none_and_nan_actuals_are_unscored() -> None:
    result = bsc_scores(scorecard(), {"cash_flow": None, "cac": NAN, "nps": 7})
    assert result.unscored == ["cash_flow", "high_margin_share", "cac", "delivery_hours"]
    assert result.total == pytest.approx(10.0)


def test_bsc_zero_weights_use_plain_mean() -> None:
    kpis = [kpi("a", "financial", 10, weight=0), kpi("b", "financial", 10, weight=0)]
    result = bsc_scores(kpis, {"a": 10, "b": 5})
    # (10 + 5)/2 = 7.5
    assert result.total == pytest.approx(7.5)
    assert result.perspective_score("financial") == pytest.approx(7.5)


def test_bsc_nothing_scored() -> None:
    result = bsc_scores(scorecard(), {})
    assert math.isnan(result.total)
    assert len(result.unscored) == 5


def test_bsc_duplicate_codes() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        bsc_scores([kpi("a", "financial", 1), kpi("a", "customer", 1)], {})


@given(st.dictionaries(st.sampled_from(["cash_flow", "high_margin_share", "cac", "nps",
                                        "delivery_hours"]),
                       st.floats(-1e7, 1e7), max_size=5))
def test_bsc_scores_always_in_range(actuals: dict[str, float]) -> None:
    result = bsc_scores(scorecard(), actuals)
    assert set(result.unscored) == {k.code for k in scorecard()} - set(actuals)
    if actuals:
        assert 0.0 <= result.total <= 10.0
    else:
        assert math.isnan(result.total)
    for s in result.perspectives["score"].dropna():
        assert 0.0 <= s <= 10.0


def test_aggregate_is_the_kpis_field_with_a_default_from_its_unit() -> None:
    """sum / average / last as the KPI says; unset: money adds up, anything else averages."""
    from xlplan.engine.bsc import day_rule, month_actual, mtd_rule

    heads = Kpi(code="heads", name="Headcount", perspective="learning", unit="people",
                target=40, frequency="daily", aggregate="last")
    cash = Kpi(code="cash", name="Cash", perspective="financial", unit="CNY", target=1,
               frequency="daily")
    rate = Kpi(code="rate", name="Rate", perspective="process", unit="%", target=0.1,
               frequency="daily")
    assert [day_rule(k, "CNY") for k in (heads, cash, rate)] == ["last", "sum", "average"]
    assert mtd_rule(heads.model_copy(update={"frequency": "monthly"}), "CNY") == "month"
    days = [38.0, None, "", 41.0, None]
    assert month_actual("last", days, None) == 41.0
    assert month_actual("sum", days, None) == 79.0
    assert month_actual("average", days, None) == 39.5


@pytest.mark.libreoffice
def test_a_last_day_kpi_recalculates_as_the_engine(tmp_path: object) -> None:
    """The sheet's LOOKUP(9.99E+307, days) gives the last day filled, in LibreOffice as in
    the engine (days 1, 2 and 5 filled: day 5's value; blanks between are skipped)."""
    import dataclasses
    from pathlib import Path

    from conftest import SMALL, require_tool
    from xlsxwriter.utility import xl_col_to_name

    from xlplan.libreoffice import LibreOffice, read_values
    from xlplan.spec.loader import load_plan
    from xlplan.workbook import bsc as bsc_sheet
    from xlplan.workbook.build import build_unit
    from xlplan.workbook.context import BuildContext
    from xlplan.workbook.verify import compare

    require_tool("soffice")
    loaded = load_plan(SMALL)
    kpis = [k.model_copy(update={"aggregate": "last"}) if k.code == "stock_out" else k
            for k in loaded.plan.bsc.kpis]
    plan = loaded.plan.model_copy(update={"bsc": loaded.plan.bsc.model_copy(
        update={"kpis": kpis})})
    ctx = BuildContext(dataclasses.replace(loaded, plan=plan), None)
    blank = build_unit(ctx, Path(str(tmp_path)) / "blank", "EAST")
    where = {i.period: (i.sheet, i.cell) for i in blank.book.inputs  # type: ignore[union-attr]
             if i.item == "bsc:stock_out"}
    fill = {where["2027-01-01"]: 0.04, where["2027-01-02"]: 0.06, where["2027-01-05"]: 0.03}
    built = build_unit(ctx, Path(str(tmp_path)) / "filled", "EAST", fill=fill)
    assert built.book is not None
    row = where["2027-01-01"][1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    expected = built.book.expected_values()
    mtd = xl_col_to_name(bsc_sheet.COL["MTD actual"])
    assert expected[("BSC", f"{mtd}{row}")] == 0.03  # MTD actual: the last day filled
    with LibreOffice() as office:
        values = read_values(office.recalculate([built.path], Path(str(tmp_path)) / "lo")[
            built.path])
    bsc = {k: v for k, v in expected.items() if k[0] == "BSC"}
    assert compare(bsc, values) == []
