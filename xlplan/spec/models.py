"""The plan spec: typed models of one plan file, with defaults from docs/METHOD.md.

Amounts are written in the plan in major units (yuan, euros) and converted to
integer minor units by the engine. Structural problems (types, ranges) are found
by pydantic; cross-references, sums and cycles by :mod:`xlplan.spec.checks`,
which reports every problem at once.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xlplan.i18n import msg

NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Money = Annotated[Decimal, Field(ge=0, description=msg("An amount in major units (e.g. yuan)."))]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class Model(BaseModel):
    """Base: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LeverKind(StrEnum):
    market_penetration = "market_penetration"
    product_extension = "product_extension"
    market_expansion = "market_expansion"
    new_business = "new_business"
    efficiency = "efficiency"


class Tier(StrEnum):
    core = "core"
    emerging = "emerging"
    long_tail = "long_tail"


class BCG(StrEnum):
    star = "star"
    cash_cow = "cash_cow"
    question_mark = "question_mark"
    dog = "dog"


class Maturity(StrEnum):
    incubating = "incubating"
    growing = "growing"
    mature = "mature"


class Direction(StrEnum):
    # Upper-case members: a member named ``lower`` would shadow ``str.lower``.
    HIGHER = "higher"
    LOWER = "lower"


class Perspective(StrEnum):
    financial = "financial"
    customer = "customer"
    process = "process"
    learning = "learning"


class Level(StrEnum):
    red = "red"
    orange = "orange"
    yellow = "yellow"


class Currency(Model):
    code: str = Field("CNY", min_length=3, max_length=3, description=msg("ISO 4217 code."))
    smallest_unit: Decimal = Field(
        Decimal("0.01"), gt=0, description=msg("Smallest amount money is kept in (0.01 = cents).")
    )
    symbol: str = "¥"


class NorthStar(Model):
    metric: str = Field("revenue", description=msg("What the increment is measured in."))
    baseline: Money
    target: Money


class Lever(Model):
    id: Code
    kind: LeverKind
    name: str
    amount: Money
    owner: str = ""
    note: str = ""


class Factors(Model):
    """Allocation factors of one org unit; each stays visible in the workbook."""

    priority: float = Field(1.0, gt=0,
                            description=msg("Strategic priority, focus regions 1.3-1.5."))
    maturity: Maturity = Maturity.growing
    new_hire_share: Share = 0.0
    attainment_history: list[NonNeg] = Field(
        default_factory=list,
        description=msg("Attainment (actual/target) of past years, oldest first.")
    )


# an address as mail servers take it: no spaces, one @, a dot in the domain
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")


class Unit(Model):
    code: Code
    name: str
    parent: Code | None = None
    manager: str = ""
    email: str = Field("", description=msg("The manager's email address: xlplan send mails the "
                                       "unit's workbook there, xlplan remind chases it."))
    kind: str = Field("unit", description=msg("company, department, region, team, person …"))
    base: NonNeg = Field(1.0, description=msg("Base potential: market size or last year's share."))
    factors: Factors = Field(default_factory=Factors)
    weight: NonNeg | None = Field(None, description=msg("Explicit weight (method: weights)."))
    hold: Money | None = Field(None, description=msg("A fixed target; siblings share the rest."))

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str) -> str:
        value = value.strip()
        if value and not EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an email address (name@example.com)")
        return value


class AllocationMethod(StrEnum):
    factors = "factors"
    even = "even"
    prior_year = "prior_year"
    weights = "weights"


class AllocationRules(Model):
    """How a parent's target is split over its children (docs/METHOD.md defaults)."""

    method: AllocationMethod = AllocationMethod.factors
    maturity_factors: dict[Maturity, float] = Field(
        default_factory=lambda: {
            Maturity.incubating: 0.8,
            Maturity.growing: 1.0,
            Maturity.mature: 1.2,
        }
    )
    new_hire_threshold: Share = 0.40
    new_hire_factor: float = Field(0.9, gt=0)
    history_years: int = Field(3, ge=1)
    history_uplift: float = Field(0.15, ge=0,
                                  description=msg("Over target every year → × (1+uplift)."))
    rounding_step: Money | None = Field(
        None, description=msg("Round unit targets to this step (default: the smallest unit).")
    )


class Product(Model):
    code: Code
    name: str
    line: Tier = Tier.core
    bcg: BCG | None = None
    price: Money | None = None
    mix: NonNeg | None = Field(None, description=msg("Share of revenue in the product split."))
    market_growth: float | None = Field(None, description=msg("For BCG classification."))
    relative_share: NonNeg | None = Field(None, description=msg("For BCG classification."))


class Channel(Model):
    code: Code
    name: str
    parent: Code | None = None
    share: Share = Field(description=msg("Share among its siblings."))


class SeasonalityMethod(StrEnum):
    quarters = "quarters"
    months = "months"
    prior_year = "prior_year"
    four_four_five = "4-4-5"


class Calendar(Model):
    method: SeasonalityMethod = SeasonalityMethod.quarters
    quarter_weights: list[NonNeg] = Field(
        default_factory=lambda: [0.25, 0.25, 0.25, 0.25], min_length=4, max_length=4
    )
    month_weights: list[NonNeg] | None = Field(
        None, min_length=12, max_length=12,
        description=msg("Weights of the twelve fiscal months (method months), or within-quarter "
        "relative weights (method quarters)."),
    )
    normalise: bool = Field(False, description=msg("Scale weights that do not sum to 1."))
    selling_weekdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6],
        description=msg("Days of week that sell (0 = Monday)."),
    )
    holidays: list[dt.date] = Field(default_factory=list)


class Pools(Model):
    base: Share = 0.60
    incentive: Share = 0.30
    reserve: Share = 0.10


class Budget(Model):
    total: Money
    company_reserve: Share = Field(0.10, description=msg("Held back at HQ for shocks, 10-15%."))
    pools: Pools = Field(default_factory=Pools)
    bcg_weights: dict[BCG, NonNeg] = Field(
        default_factory=lambda: {
            BCG.star: 0.60,
            BCG.cash_cow: 0.25,
            BCG.question_mark: 0.10,
            BCG.dog: 0.05,
        }
    )
    roi_floor: float = Field(1.5, ge=0)
    tolerance: Share = 0.05
    regional_reserve_authority: Share = Field(
        0.10, description=msg("A regional manager may use up to this share of the reserve.")
    )


class KeyResult(Model):
    id: Code
    text: str
    start: float
    target: float
    current: float | None = None
    unit: str = ""
    due: dt.date
    weight: NonNeg = 1.0
    owner: str = ""
    resources: str = ""
    risk_plan: str = ""


class Objective(Model):
    id: Code
    title: str
    owner: str = ""
    unit: Code | None = Field(None, description=msg("Org unit that owns it (default: the root)."))
    aligned_to: list[Code] = Field(default_factory=list, description=msg("KR ids one level up."))
    krs: list[KeyResult] = Field(min_length=1, max_length=5)


class Kpi(Model):
    code: Code
    name: str
    perspective: Perspective
    unit: str = ""
    direction: Direction = Direction.HIGHER
    target: float
    floor: float | None = Field(
        None,
        description=msg("Value that scores 0 (default 0, or twice the target if lower is better).")
    )
    weight: NonNeg = 1.0
    frequency: Literal["daily", "weekly", "monthly"] = "monthly"
    aggregate: Literal["sum", "average", "last"] | None = Field(
        None, description=msg("How a daily KPI's days make its month: sum (a flow, such as cash), "
                          "average (a level, such as a rate), last (a stock, such as "
                          "headcount). Default: sum for money, average otherwise."))
    maximum: float | None = Field(
        None, description=msg("The largest plausible value (a share's is 1, i.e. 100 %): a "
                          "value typed above it is refused."))


class Bsc(Model):
    preset: Literal["retail", "saas", "services"] | None = None
    kpis: list[Kpi] = Field(default_factory=list)


class StatusBands(Model):
    """Shortfall beyond each band (1 - attainment) turns the light that colour."""

    yellow: Share = 0.05
    orange: Share = 0.15
    red: Share = 0.30


class WarningRules(Model):
    consecutive_weeks: int = Field(2, ge=1)
    weekly_under: Share = 0.15
    monthly_budget_tolerance: Share = 0.05
    year_end_bar: Share = 0.95
    reforecast_raise: Share = Field(
        0.05, description=msg("Raise of the next quarter after a beat."))
    beat_threshold: Share = 0.10


class RiskPlan(Model):
    name: str
    action: str
    cost: Money = Decimal(0)
    effect: str = ""


class Risk(Model):
    id: Code
    title: str
    level: Level
    impact: str = ""
    owner: str = ""
    plans: list[RiskPlan] = Field(default_factory=list, max_length=3)


class Segment(Model):
    code: Code
    name: str
    retention: Share | None = None
    arpu_growth: float | None = None
    new_customers: int | None = Field(None, ge=0)


class Action(Model):
    id: Code
    lever: Code
    task: str
    owner: str = ""
    start: dt.date
    end: dt.date
    milestones: list[str] = Field(default_factory=list)
    budget: Money = Decimal(0)


class PriorYear(Model):
    file: str = Field(description=msg("CSV or Excel file, relative to the plan file."))
    sheet: str | None = None


InputGroup = Literal["commitments", "people", "bsc", "budget", "okr", "actions", "risks"]
DEFAULT_REQUIRED: tuple[InputGroup, ...] = ("commitments", "people", "bsc", "budget")


class Workbooks(Model):
    input_level: int | None = Field(
        None,
        description=msg("Depth of the units that get a workbook (default: one above the leaves).")
    )
    deadline: dt.date | None = None
    submit_to: str = ""
    protect_password: str = ""
    language: Literal["en", "zh"] = Field(
        "en", description=msg("What the workbooks' words are in: en (English) or zh (简体中文)."))
    amount_display: Literal["yuan", "thousand", "wan"] = Field(
        "yuan", description=msg("How amounts are shown: yuan (元), thousand (千元) or wan (万元); "
                            "only the number format changes, values stay exact to the cent."))
    required: list[InputGroup] = Field(
        default_factory=lambda: list(DEFAULT_REQUIRED),
        description=msg("Input groups a submission must fill to be complete (BSC: the periods "
                    "that end before the deadline)."))


class ActualsColumns(Model):
    """Column names of an actuals export, by role (a finance system's headers vary).

    ``date`` holds a day (2027-03-05); ``period`` a day or a month (2027-03): a file
    needs one of the two. ``product`` and ``channel`` may be absent (blank for every
    row). Matching ignores case and surrounding spaces.
    """

    date: str = Field("date", min_length=1)
    period: str = Field("period", min_length=1)
    unit: str = Field("unit", min_length=1)
    product: str = Field("product", min_length=1)
    channel: str = Field("channel", min_length=1)
    measure: str = Field("measure", min_length=1, description=msg("Revenue, a KPI code, a KR id, "
                         "spend / return (optionally spend:<action id>)."))
    value: str = Field("value", min_length=1)


class Reforecast(Model):
    """The rolling re-forecast rule (docs/METHOD.md: Q1 beat by 10% → Q2 raised 5–8%).

    A quarter beaten by at least ``warnings.beat_threshold`` raises the next one by
    ``share_of_beat`` × the beat, held between ``warnings.reforecast_raise`` and
    ``raise_max`` (defaults: a 10% beat raises 5%, a 16% beat or more 8%).
    """

    raise_max: Share = Field(0.08, description=msg("Largest raise of the next quarter."))
    share_of_beat: NonNeg = Field(
        0.5, description=msg("Raise = this × the beat, within the bounds."))


class Tracking(Model):
    """Follow-through (跟踪与迭代): how actuals are read and the plan rolls forward."""

    columns: ActualsColumns = Field(default_factory=ActualsColumns)
    sheet: str | None = Field(None, description=msg("Excel exports: the sheet to read "
                              "(default: the first)."))
    reforecast: Reforecast = Field(default_factory=Reforecast)


class Plan(Model):
    """One annual operating plan."""

    id: Code
    name: str
    fiscal_year: int = Field(ge=1900, le=2200)
    first_month: int = Field(1, ge=1, le=12)
    currency: Currency = Field(default_factory=Currency)
    north_star: NorthStar
    levers: list[Lever] = Field(default_factory=list)
    units: list[Unit] = Field(min_length=1)
    allocation: AllocationRules = Field(default_factory=AllocationRules)
    products: list[Product] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    calendar: Calendar = Field(default_factory=Calendar)
    budget: Budget | None = None
    okrs: list[Objective] = Field(default_factory=list)
    bsc: Bsc = Field(default_factory=Bsc)
    status_bands: StatusBands = Field(default_factory=StatusBands)
    warnings: WarningRules = Field(default_factory=WarningRules)
    risks: list[Risk] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    prior_year: PriorYear | None = None
    workbooks: Workbooks = Field(default_factory=Workbooks)
    tracking: Tracking = Field(default_factory=Tracking)
