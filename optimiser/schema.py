"""The workbook format of SPEC section 2, written down once.

Every stage that knows the workbook's shape reads it from here: the reader (sheet and
header names), the validator (types, defaults, allowed values), the template writer
(headers, drop-down lists, instructions) and the workbook guide in the README.

Names are canonical: lower case with underscores. ``canonical("Mission ID")`` gives
``"mission_id"``; sheet names and headers in a planner's file match case-insensitively,
with spaces, hyphens and underscores treated alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column's cells are parsed."""

    ID = "id"  # text identifier, stripped; numbers written as ids ("101") become text
    TEXT = "text"  # free text
    NUMBER = "number"  # a real number; money and thousands separators allowed
    INTEGER = "integer"  # a whole number
    SHARE = "share"  # a number in [0, 1]; "40%" means 0.4
    BOOL = "bool"  # yes/no/y/n/true/false/1/0/x; blank means the column's default
    LIST = "list"  # comma-separated ids; blank means "any"
    CHOICE = "choice"  # one of Column.choices, matched case-insensitively


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its canonical name, kind, default and meaning."""

    name: str
    kind: Kind
    help: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Sheet:
    """One sheet: its canonical name, the column that identifies a row, and columns."""

    name: str
    title: str
    id_column: str
    columns: tuple[Column, ...]
    required: bool
    help: str

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


MISSION_TYPES = (
    "mediation",
    "peacekeeping",
    "monitoring",
    "attache",
    "humanitarian",
    "capacity_building",
    "crisis_response",
    "other",
)
RISKS = ("low", "medium", "high", "extreme")
RESOURCE_KINDS = ("personnel", "equipment")
POLICY_RULES = ("min_budget_share", "max_budget_share", "min_average_coverage")
SCOPE_TYPES = ("region", "zone", "type", "priority")
PRIORITIES = (1, 2, 3, 4, 5)
DEFAULT_PERIOD = "P1"

MISSIONS = Sheet(
    name="missions",
    title="Missions",
    id_column="mission_id",
    required=True,
    help="One row per mission: what it is, where, how much it matters.",
    columns=(
        Column("mission_id", Kind.ID, "Unique id of the mission.", required=True),
        Column("name", Kind.TEXT, "Display name (default: the mission_id)."),
        Column("zone_id", Kind.ID, "The zone it deploys to (a Zones.zone_id).", required=True),
        Column(
            "type",
            Kind.TEXT,
            "Category: mediation, peacekeeping, monitoring, attache, humanitarian, "
            "capacity_building, crisis_response or your own word.",
            default="other",
        ),
        Column(
            "priority",
            Kind.INTEGER,
            "1 (highest) to 5 (lowest).",
            required=True,
            minimum=1,
            maximum=5,
        ),
        Column(
            "weight",
            Kind.NUMBER,
            "Relative worth within its priority tier, above 0.",
            default=1.0,
            minimum=0.0,
        ),
        Column(
            "must_fund",
            Kind.BOOL,
            "yes: coverage is at least min_coverage in every active period.",
            default=False,
        ),
        Column(
            "min_coverage",
            Kind.SHARE,
            "Must-fund missions: the floor. Others: the smallest coverage worth running "
            "(each period the mission is off or at least this).",
            default=0.0,
        ),
        Column("max_coverage", Kind.SHARE, "Most coverage wanted, at least min_coverage.", default=1.0),
        Column(
            "running_cost",
            Kind.NUMBER,
            "Money per period at full coverage beyond its resources (leases, travel, operations).",
            default=0.0,
            minimum=0.0,
        ),
        Column("start_period", Kind.ID, "First active period (a Periods id; default: the first)."),
        Column("end_period", Kind.ID, "Last active period (a Periods id; default: the last)."),
        Column(
            "continuity",
            Kind.BOOL,
            "yes: within its active periods it runs in one unbroken stretch; once stopped it "
            "does not restart.",
            default=True,
        ),
        Column(
            "min_run",
            Kind.INTEGER,
            "Once started, it runs at least this many consecutive periods (fewer only where "
            "end_period comes first).",
            default=1,
            minimum=1,
        ),
        Column(
            "running_now", Kind.BOOL, "yes: it is deployed today, before the first period.", default=False
        ),
        Column(
            "startup_cost",
            Kind.NUMBER,
            "Money spent in the period it starts (deployment, set-up).",
            default=0.0,
            minimum=0.0,
        ),
        Column(
            "closure_cost",
            Kind.NUMBER,
            "Money spent in the first period it no longer runs, when it stops before its "
            "end_period (repatriation, closing down).",
            default=0.0,
            minimum=0.0,
        ),
        Column(
            "max_step",
            Kind.SHARE,
            "Most its coverage may change between two consecutive periods in which it runs, "
            "e.g. 25% (blank: no limit).",
        ),
    ),
)

# Where a rule of plans over time applies, a mission below 1% coverage is not running.
RUNNING_FLOOR = 0.01

# The Missions columns of SPEC section 3.1 (plans over time) and their defaults once
# validated: ``max_step`` NaN means no limit.
TIMELINE_DEFAULTS: dict[str, object] = {
    "continuity": True,
    "min_run": 1,
    "running_now": False,
    "startup_cost": 0.0,
    "closure_cost": 0.0,
    "max_step": float("nan"),
}

ZONES = Sheet(
    name="zones",
    title="Zones",
    id_column="zone_id",
    required=True,
    help="One row per zone of operations.",
    columns=(
        Column("zone_id", Kind.ID, "Unique id of the zone.", required=True),
        Column("name", Kind.TEXT, "Display name (default: the zone_id)."),
        Column("region", Kind.TEXT, "Grouping for policies and charts.", default="unassigned"),
        Column("risk", Kind.CHOICE, "low, medium, high or extreme.", default="medium", choices=RISKS),
        Column(
            "personnel_cap",
            Kind.NUMBER,
            "Most personnel deployed in the zone per period (blank: no cap).",
            minimum=0.0,
        ),
        Column(
            "hazard_multiplier",
            Kind.NUMBER,
            "Multiplies the unit cost of personnel deployed here (danger pay, insurance).",
            default=1.0,
            minimum=0.0,
        ),
    ),
)

RESOURCES = Sheet(
    name="resources",
    title="Resources",
    id_column="resource_id",
    required=True,
    help="One row per kind of person or equipment.",
    columns=(
        Column("resource_id", Kind.ID, "Unique id of the resource.", required=True),
        Column("name", Kind.TEXT, "Display name (default: the resource_id)."),
        Column("kind", Kind.CHOICE, "personnel or equipment.", required=True, choices=RESOURCE_KINDS),
        Column("unit", Kind.TEXT, "e.g. person, vehicle, kit.", default="unit"),
        Column("unit_cost", Kind.NUMBER, "Money per unit per period.", required=True, minimum=0.0),
        Column(
            "available",
            Kind.NUMBER,
            "Units available per period (blank: unlimited, bought at unit_cost).",
            minimum=0.0,
        ),
        Column(
            "reserve_share",
            Kind.SHARE,
            "Share of available held back as a rapid-reaction reserve, never allocated.",
            default=0.0,
        ),
        Column("integer", Kind.BOOL, "yes: allocated in whole units.", default=True),
    ),
)

REQUIREMENTS = Sheet(
    name="requirements",
    title="Requirements",
    id_column="mission_id",
    required=True,
    help="What each mission needs per period at full coverage. A pair appears at most once.",
    columns=(
        Column("mission_id", Kind.ID, "A Missions.mission_id.", required=True),
        Column("resource_id", Kind.ID, "A Resources.resource_id.", required=True),
        Column("quantity", Kind.NUMBER, "Units per period at full coverage.", required=True, minimum=0.0),
    ),
)

FUNDING = Sheet(
    name="funding",
    title="Funding",
    id_column="source_id",
    required=True,
    help="Money by source. A source may have one row per period; money is not carried over.",
    columns=(
        Column("source_id", Kind.ID, "Id of the funding source.", required=True),
        Column("name", Kind.TEXT, "e.g. Defence engagement fund (default: the source_id)."),
        Column("amount", Kind.NUMBER, "Money available.", required=True, minimum=0.0),
        Column("period", Kind.ID, "The period this amount belongs to (blank: every period)."),
        Column("eligible_types", Kind.LIST, "Mission types it may pay for (blank: any)."),
        Column("eligible_zones", Kind.LIST, "Zone ids it may pay for (blank: any)."),
        Column("eligible_regions", Kind.LIST, "Regions it may pay for (blank: any)."),
    ),
)

PERIODS = Sheet(
    name="periods",
    title="Periods",
    id_column="period_id",
    required=False,
    help="Planning periods in order (without this sheet: one period, P1).",
    columns=(
        Column("period_id", Kind.ID, "Unique id of the period.", required=True),
        Column("name", Kind.TEXT, "Display name (default: the period_id)."),
    ),
)

AVAILABILITY = Sheet(
    name="availability",
    title="Availability",
    id_column="resource_id",
    required=False,
    help="Overrides Resources.available for one resource in one period.",
    columns=(
        Column("resource_id", Kind.ID, "A Resources.resource_id.", required=True),
        Column("period_id", Kind.ID, "A Periods.period_id.", required=True),
        Column("available", Kind.NUMBER, "Units available in that period.", required=True, minimum=0.0),
    ),
)

POLICIES = Sheet(
    name="policies",
    title="Policies",
    id_column="rule",
    required=False,
    help="Portfolio rules over all periods together.",
    columns=(
        Column(
            "rule",
            Kind.CHOICE,
            "min_budget_share, max_budget_share or min_average_coverage.",
            required=True,
            choices=POLICY_RULES,
        ),
        Column(
            "scope_type",
            Kind.CHOICE,
            "region, zone, type or priority.",
            required=True,
            choices=SCOPE_TYPES,
        ),
        Column("scope_value", Kind.ID, "Which region, zone, type or priority.", required=True),
        Column("value", Kind.SHARE, "The share (0-1).", required=True),
    ),
)

BASELINE = Sheet(
    name="baseline",
    title="Baseline",
    id_column="mission_id",
    required=False,
    help="Today's plan: the coverage each mission has now, by period. With the settings "
    "max_change and change_penalty, a new plan stays close to it.",
    columns=(
        Column("mission_id", Kind.ID, "A Missions.mission_id.", required=True),
        Column("period_id", Kind.ID, "A Periods.period_id.", required=True),
        Column("coverage", Kind.SHARE, "Its coverage in today's plan (0-1).", required=True),
    ),
)

SETTINGS = Sheet(
    name="settings",
    title="Settings",
    id_column="key",
    required=False,
    help="Scenario levers; the command line's --set key=value overrides them.",
    columns=(
        Column("key", Kind.ID, "A setting name (see the list below).", required=True),
        Column("value", Kind.TEXT, "Its value.", required=True),
    ),
)

SHEETS: dict[str, Sheet] = {
    s.name: s
    for s in (
        MISSIONS,
        ZONES,
        RESOURCES,
        REQUIREMENTS,
        FUNDING,
        PERIODS,
        AVAILABILITY,
        POLICIES,
        BASELINE,
        SETTINGS,
    )
}


@dataclass(frozen=True)
class Setting:
    """One Settings key: a scenario lever."""

    key: str
    default: str
    help: str


SETTING_KEYS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("currency", "USD", "Label for money."),
        Setting("budget_scale", "1", "Multiplies every Funding amount."),
        Setting("personnel_scale", "1", "Multiplies available of every personnel resource."),
        Setting("equipment_scale", "1", "Multiplies available of every equipment resource."),
        Setting("reserve_share", "", "If set, replaces every resource's reserve_share."),
        Setting("priority_weights", "1:16,2:8,3:4,4:2,5:1", "Worth of one unit of value per tier."),
        Setting("priority_mode", "weighted", "weighted or strict."),
        Setting("diminishing_returns", "yes", "yes: the first half of coverage is worth twice the second."),
        Setting("integer", "yes", "no: every resource may be allocated in fractions (a faster plan)."),
        Setting("solver", "highs", "highs or cbc."),
        Setting("time_limit_s", "60", "Solver time limit in seconds."),
        Setting("mip_gap", "0.005",
                "How far below the best possible an integer plan may stop (0.005: 0.5%)."),
        Setting(
            "continuity",
            "yes",
            "no: no mission is held to one unbroken stretch (start-up and closure costs, min_run "
            "and max_step still apply).",
        ),
        Setting(
            "tier_tolerance",
            "",
            "Strict mode: share of its value a tier may give up for the tiers below "
            "(blank: 0 for a pure linear programme, else mip_gap).",
        ),
        Setting(
            "max_change",
            "",
            "Most a mission's coverage may move from the Baseline sheet, e.g. 0.2 (blank: no limit).",
        ),
        Setting(
            "change_penalty",
            "0",
            "Value given up per unit of coverage moved from the Baseline sheet (0: moving is free).",
        ),
    )
}

# Per-item levers, written ``prefix.<id>=value`` in Settings or with --set.
ITEM_LEVERS: dict[str, str] = {
    "source_scale": "Multiplies one funding source's amounts, e.g. source_scale.CORE=0.8.",
    "zone_cap": "Replaces one zone's personnel_cap, e.g. zone_cap.Z01=400 (blank: no cap).",
    "must_fund": "Replaces one mission's must_fund, e.g. must_fund.M07=yes.",
    "priority": "Replaces one mission's priority, e.g. priority.M07=2.",
    "min_coverage": "Replaces one mission's min_coverage, e.g. min_coverage.M07=0.5.",
    "max_coverage": "Replaces one mission's max_coverage, e.g. max_coverage.M07=0.8 (0: none).",
    "cancel": "yes: the mission gets coverage 0 in every period, must-fund or not, e.g. cancel.M07=yes.",
}


def canonical(name: object) -> str:
    """Canonical form of a sheet name or header: ``"Mission ID"`` -> ``"mission_id"``."""
    text = str(name).strip().lower()
    text = re.sub(r"[\s\-_]+", "_", text)
    return text.strip("_")


def column_letter(index: int) -> str:
    """Excel column letter for a 0-based column index: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
