"""Write sample_budgets/demo.xlsx: a hand-made portfolio small enough to check by hand.

Twelve missions in six zones, eight resources, one quarter (2027-Q1), two funding
sources of which one is earmarked. What is scarce and what a planner should expect to
see short is described in sample_budgets/README.md, with every mission's full cost.

Usage, from the project root::

    .venv/bin/python sample_budgets/make_demo.py [--out sample_budgets/demo.xlsx]

Unit costs are the generator's (US$ per quarter): an infantry soldier US$9,400 (three
quarters of the ~US$50,000 a year all-in cost of a UN peacekeeper), a military
observer US$24,000, a mediator US$58,000, a linguist US$19,000, medical staff
US$23,000, an armoured personnel carrier US$28,000, a utility helicopter US$1.65 m (a
Mi-8 class charter at ~US$6.6 m a year), a comms kit US$6,500.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

try:
    from optimiser.samples.generate import write_workbook
except ModuleNotFoundError:  # run from a source tree without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from optimiser.samples.generate import write_workbook

HERE = Path(__file__).resolve().parent
PERIOD = "2027-Q1"

MISSIONS = [
    # mission_id, name, zone_id, type, priority, weight, must_fund, min_coverage, running_cost
    (
        "GAO-BN",
        "UN Mission in Mali — infantry battalion, Gao",
        "SAH",
        "peacekeeping",
        1,
        3,
        True,
        0.8,
        900_000,
    ),
    (
        "GAO-MST",
        "Mediation support team — Inter-Malian dialogue",
        "SAH",
        "mediation",
        2,
        1,
        False,
        0,
        150_000,
    ),
    ("KIV-COY", "MONUSCO — infantry company, North Kivu", "GLK", "peacekeeping", 2, 2, False, 0.5, 300_000),
    ("KIV-CMT", "Ceasefire monitoring team, North Kivu", "GLK", "monitoring", 1, 1, False, 0, 200_000),
    ("MOG-HOSP", "Mobile field hospital, Mogadishu", "HOA", "humanitarian", 2, 1.5, False, 0, 350_000),
    (
        "MOG-NEO",
        "Non-combatant evacuation standby, Mogadishu",
        "HOA",
        "crisis_response",
        3,
        1,
        False,
        0,
        150_000,
    ),
    (
        "LIT-COY",
        "UNIFIL — infantry company, south of the Litani",
        "LEV",
        "peacekeeping",
        3,
        1.5,
        False,
        0,
        250_000,
    ),
    (
        "LBN-MST",
        "Mediation support team — Lebanon–Israel border talks",
        "LEV",
        "mediation",
        2,
        1,
        False,
        0,
        120_000,
    ),
    (
        "KOS-TRN",
        "Military training mission, Kosovo Security Force",
        "BAL",
        "capacity_building",
        4,
        1,
        False,
        0,
        100_000,
    ),
    ("GEO-CMT", "Ceasefire monitoring team, Georgia ABL", "CAU", "monitoring", 2, 1, False, 0, 120_000),
    (
        "CAU-MST",
        "Mediation support team — South Caucasus peace talks",
        "CAU",
        "mediation",
        3,
        1,
        False,
        0,
        90_000,
    ),
    ("KOS-BMT", "Border monitoring team, Kosovo", "BAL", "monitoring", 4, 1, False, 0, 80_000),
]

ZONES = [
    # zone_id, name, region, risk, personnel_cap, hazard_multiplier
    ("SAH", "Mali — Gao and Ménaka", "Sahel", "extreme", 550, 1.5),
    ("GLK", "DR Congo — North Kivu", "Great Lakes", "extreme", None, 1.3),
    ("HOA", "Somalia — Mogadishu", "Horn of Africa", "extreme", None, 1.4),
    ("LEV", "Lebanon — south of the Litani", "Levant", "high", None, 1.2),
    ("BAL", "Kosovo", "Balkans", "low", None, 1.0),
    ("CAU", "Georgia — administrative boundary lines", "Caucasus", "medium", None, 1.1),
]

RESOURCES = [
    # resource_id, name, kind, unit, unit_cost, available, reserve_share, integer
    ("INF", "Infantry (formed units)", "personnel", "person", 9_400, 1_150, 0.1, True),
    ("MILOBS", "Military observers", "personnel", "person", 24_000, 40, 0, True),
    ("MED", "Mediators and political officers", "personnel", "person", 58_000, 6, 0, True),
    ("LING", "Linguists and interpreters", "personnel", "person", 19_000, 8, 0, True),
    ("MEDIC", "Medical staff (doctors, nurses, paramedics)", "personnel", "person", 23_000, 50, 0, True),
    ("APC", "Armoured personnel carriers", "equipment", "vehicle", 28_000, 60, 0, True),
    ("HELO", "Utility helicopters (Mi-8/Mi-17 class)", "equipment", "helicopter", 1_650_000, 1, 0, True),
    ("COMMS", "Tactical communications kits", "equipment", "kit", 6_500, None, 0, True),
]

REQUIREMENTS = {
    "GAO-BN": {"INF": 600, "MEDIC": 12, "APC": 30, "COMMS": 20},
    "GAO-MST": {"MED": 2, "LING": 2, "COMMS": 2},
    "KIV-COY": {"INF": 180, "MEDIC": 6, "APC": 12, "HELO": 1},
    "KIV-CMT": {"MILOBS": 16, "LING": 3, "MEDIC": 2, "COMMS": 8},
    "MOG-HOSP": {"MEDIC": 14, "INF": 30, "APC": 4},
    "MOG-NEO": {"INF": 80, "MEDIC": 4, "HELO": 1},
    "LIT-COY": {"INF": 150, "MEDIC": 4, "APC": 10},
    "LBN-MST": {"MED": 2, "LING": 2},
    "KOS-TRN": {"INF": 40, "MEDIC": 2, "LING": 1},
    "GEO-CMT": {"MILOBS": 12, "LING": 2, "COMMS": 6},
    "CAU-MST": {"MED": 2, "LING": 1},
    "KOS-BMT": {"MILOBS": 10, "LING": 2, "COMMS": 4},
}

FUNDING = [
    # source_id, name, amount, period, eligible_types
    ("CORE", "Core operations budget", 15_000_000, None, None),
    ("UNREIMB", "UN assessed contributions reimbursement", 4_000_000, PERIOD, "peacekeeping, monitoring"),
]


def demo_tables() -> dict[str, pd.DataFrame]:
    """The demo portfolio as sheet title -> table, columns as SPEC section 2 names them."""
    missions = pd.DataFrame(
        [
            {
                "mission_id": mid,
                "name": name,
                "zone_id": zone,
                "type": kind,
                "priority": priority,
                "weight": weight,
                "must_fund": must,
                "min_coverage": minimum,
                "max_coverage": 1.0,
                "running_cost": running,
                "start_period": None,
                "end_period": None,
                # plans over time (SPEC 3.1): blank, the defaults; one period, so no rule applies
                "continuity": None,
                "min_run": None,
                "running_now": None,
                "startup_cost": None,
                "closure_cost": None,
                "max_step": None,
            }
            for mid, name, zone, kind, priority, weight, must, minimum, running in MISSIONS
        ]
    )
    zones = pd.DataFrame(
        ZONES, columns=["zone_id", "name", "region", "risk", "personnel_cap", "hazard_multiplier"]
    )
    resources = pd.DataFrame(
        RESOURCES,
        columns=["resource_id", "name", "kind", "unit", "unit_cost", "available", "reserve_share", "integer"],
    )
    requirements = pd.DataFrame(
        [(m, r, q) for m, needs in REQUIREMENTS.items() for r, q in needs.items()],
        columns=["mission_id", "resource_id", "quantity"],
    )
    funding = pd.DataFrame(
        [(s, n, a, p, t, None, None) for s, n, a, p, t in FUNDING],
        columns=[
            "source_id",
            "name",
            "amount",
            "period",
            "eligible_types",
            "eligible_zones",
            "eligible_regions",
        ],
    )
    periods = pd.DataFrame([(PERIOD, "January–March 2027")], columns=["period_id", "name"])
    settings = pd.DataFrame(
        [("currency", "USD"), ("mip_gap", 0.005), ("time_limit_s", 60)], columns=["key", "value"]
    )
    return {
        "Missions": missions,
        "Zones": zones,
        "Resources": resources,
        "Requirements": requirements,
        "Funding": funding,
        "Periods": periods,
        "Settings": settings,
    }


def main(argv: list[str] | None = None) -> int:
    """Write the demo workbook (default sample_budgets/demo.xlsx)."""
    parser = argparse.ArgumentParser(description="Write the hand-made demo portfolio workbook.")
    parser.add_argument("--out", type=Path, default=HERE / "demo.xlsx", help="the .xlsx file to write")
    args = parser.parse_args(argv)
    title = ["Demo portfolio, one quarter (2027-Q1): small enough to check by hand; US$ per quarter"]
    path = write_workbook(demo_tables(), args.out, titles={"Missions": title})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
