"""Realistic, feasible sample portfolios of missions, for demos, tests and benchmarks.

:func:`generate_portfolio` draws a portfolio in the workbook format of SPEC section 2
(one pandas DataFrame per sheet, columns exactly as :mod:`optimiser.schema` names
them) and :func:`write_workbook` writes it as a clean ``.xlsx``. Everything follows
from the seed (:func:`numpy.random.default_rng`), so a seed names a portfolio.

What a generated portfolio looks like
-------------------------------------
* Zones are real conflict areas and postings (Sahel, Great Lakes, Horn of Africa,
  Levant, Balkans, Caucasus, ...), with a risk level and a hazard multiplier that fits
  it (low 1.0-1.1, medium 1.1-1.25, high 1.25-1.45, extreme 1.45-1.6); about a third
  of the zones that have personnel carry a personnel cap.
* Resources are personnel (infantry, military observers, staff officers, mediators,
  linguists, medical staff, police, engineers, defence attachés, ...) and equipment
  (armoured vehicles, utility helicopters, comms kits, field hospitals, UAVs, ...), with
  costs per quarter in realistic magnitudes (see ``_PERSONNEL`` and ``_EQUIPMENT``).
  Some equipment has no availability limit: it is bought at its unit cost.
* Missions of every type, sized as such missions are: an infantry battalion of 450-850
  troops, a formed police unit of about 140 officers, a mediation support team of 3-10
  people, a defence section of 2-5. Priorities 1-5; about 12% are must-fund with a
  floor of 60-100%; about 18% of the rest have an on/off minimum of 30-50%.
* Funding: a core budget open to every mission, and earmarked sources (UN assessed
  contributions reimbursement for peacekeeping and monitoring, the Conflict, Stability
  and Security Fund for some regions, a defence engagement fund, a humanitarian reserve,
  ...), two of them with one row per period.
* Policies: a minimum budget share for one region, a maximum share for one mission
  type, a minimum average coverage for priority 1.

Feasible by construction, and short of everything
-------------------------------------------------
Money is sized to cover ``budget_ratio`` (about 72-82%) of the cost of running every
mission at full coverage, and two personnel types are scarce (50-62% of peak demand usable),
so the optimiser has real trade-offs to make. Feasibility is guaranteed by a witness
plan built alongside the portfolio: must-fund missions at their floors and every other
priority-1 mission at 60% coverage (rounded up to whole units). Every limited resource,
every zone cap and the core budget alone hold at least 15%, 10% and 10% more than the
witness needs (after reserves), whatever the scale. The region of the minimum-share
policy then gets missions added to the witness, within the capacity that is left, and
the policy values are set so that the witness keeps to them.

Public figures behind the costs (US$)
-------------------------------------
* UN reimbursement to troop- and police-contributing countries: US$1,428 per person
  per month since 1 July 2018 (GA resolution 72/285), i.e. US$4,284 a quarter.
* All-in cost per UN peacekeeper (budget / all personnel, MONUSCO 2017/18,
  UNFICYP 2015/16): about US$50,000 a year, US$12,500 a quarter. Here about three
  quarters of that is the soldier (``INF`` US$9,400 a quarter), the rest comes from
  equipment and the mission's running cost.
* UN peacekeeping budgets: MONUSCO 2017/18 US$1,141,848,100 for 16,071 troops;
  UNIFIL 2024/25 US$582,630,000 for about 10,500 troops; UNFICYP 2015/16
  US$54,374,700 for 860 troops; US$5.59 bn for 14 operations in 2024/25.
* UK defence engagement: the defence attaché network cost £41.3 m in 2011-12;
  forecast cost per defence section 2016-17 from £130,000 (Riga) to £1,453,000
  (Paris), e.g. Nairobi £822,000, Mogadishu £935,000, Kyiv £492,000. A generated
  defence section of 2-5 people costs about US$0.2-0.5 m a quarter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.schema import SHEETS

__all__ = ["generate_portfolio", "write_workbook"]


# ----------------------------------------------------------------------------------
# Catalogues
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ZoneSpec:
    zone_id: str
    country: str
    place: str
    region: str
    risk: str
    city: str  # where a defence section would sit
    un: str | None  # a UN peacekeeping mission deployed there, if any

    @property
    def name(self) -> str:
        return self.country if self.place == self.country else f"{self.country} — {self.place}"


# fmt: off
_ZONES: tuple[_ZoneSpec, ...] = tuple(
    _ZoneSpec(*row)
    for row in (
        # zone_id, country, place, region, risk, city of a defence section, UN mission
        ("MLI-GAO", "Mali", "Gao and Ménaka", "Sahel", "extreme", "Bamako", None),
        ("MLI-MOP", "Mali", "Mopti and Timbuktu", "Sahel", "extreme", "Bamako", None),
        ("BFA-EST", "Burkina Faso", "Est and Sahel regions", "Sahel", "extreme", "Ouagadougou", None),
        ("NER-TIL", "Niger", "Tillabéri", "Sahel", "high", "Niamey", None),
        ("TCD-LAC", "Chad", "Lake Chad basin", "Sahel", "high", "N'Djamena", None),
        ("MRT-HEC", "Mauritania", "Hodh Ech Chargui", "Sahel", "medium", "Nouakchott", None),
        ("NGA-BOR", "Nigeria", "Borno State", "West Africa", "extreme", "Abuja", None),
        ("NGA-ABV", "Nigeria", "Abuja", "West Africa", "medium", "Abuja", None),
        ("GHA-ACC", "Ghana", "Accra", "West Africa", "low", "Accra", None),
        ("SEN-DKR", "Senegal", "Dakar", "West Africa", "low", "Dakar", None),
        ("CIV-ABJ", "Côte d'Ivoire", "Abidjan", "West Africa", "low", "Abidjan", None),
        ("CAF-BGF", "Central African Republic", "Bangui", "Central Africa", "high", "Bangui", "MINUSCA"),
        ("CAF-OUH", "Central African Republic", "Ouham-Pendé", "Central Africa", "extreme", "Bangui",
         "MINUSCA"),
        ("CMR-NWR", "Cameroon", "North-West and South-West", "Central Africa", "high", "Yaoundé", None),
        ("COD-NKV", "DR Congo", "North Kivu", "Great Lakes", "extreme", "Kinshasa", "MONUSCO"),
        ("COD-SKV", "DR Congo", "South Kivu", "Great Lakes", "high", "Kinshasa", "MONUSCO"),
        ("COD-ITU", "DR Congo", "Ituri", "Great Lakes", "extreme", "Kinshasa", "MONUSCO"),
        ("BDI-GIT", "Burundi", "Burundi", "Great Lakes", "medium", "Gitega", None),
        ("UGA-KLA", "Uganda", "Kampala", "Great Lakes", "low", "Kampala", None),
        ("SOM-MOG", "Somalia", "Mogadishu", "Horn of Africa", "extreme", "Mogadishu", None),
        ("SOM-JUB", "Somalia", "Jubaland", "Horn of Africa", "extreme", "Mogadishu", None),
        ("SOM-HGS", "Somalia", "Hargeisa", "Horn of Africa", "medium", "Hargeisa", None),
        ("ETH-TIG", "Ethiopia", "Tigray", "Horn of Africa", "high", "Addis Ababa", None),
        ("ETH-ADD", "Ethiopia", "Addis Ababa", "Horn of Africa", "low", "Addis Ababa", None),
        ("KEN-NBO", "Kenya", "Nairobi", "Horn of Africa", "low", "Nairobi", None),
        ("DJI-DJI", "Djibouti", "Djibouti", "Horn of Africa", "low", "Djibouti", None),
        ("SDN-DAR", "Sudan", "Darfur", "Sudan and South Sudan", "extreme", "Port Sudan", None),
        ("SDN-KRT", "Sudan", "Khartoum", "Sudan and South Sudan", "extreme", "Khartoum", None),
        ("SSD-JUB", "South Sudan", "Juba", "Sudan and South Sudan", "high", "Juba", "UNMISS"),
        ("SSD-UPN", "South Sudan", "Upper Nile", "Sudan and South Sudan", "extreme", "Juba", "UNMISS"),
        ("ABY-ABY", "Abyei Area", "Abyei", "Sudan and South Sudan", "high", "Juba", "UNISFA"),
        ("LBY-TIP", "Libya", "Tripoli", "North Africa", "high", "Tripoli", None),
        ("LBY-BEN", "Libya", "Benghazi and Cyrenaica", "North Africa", "high", "Tripoli", None),
        ("ESH-LAA", "Western Sahara", "Laayoune", "North Africa", "medium", "Rabat", "MINURSO"),
        ("TUN-TUN", "Tunisia", "Tunis", "North Africa", "low", "Tunis", None),
        ("LBN-SOU", "Lebanon", "south of the Litani", "Levant", "high", "Beirut", "UNIFIL"),
        ("LBN-BEY", "Lebanon", "Beirut", "Levant", "medium", "Beirut", None),
        ("SYR-GOL", "Golan", "area of separation", "Levant", "high", "Damascus", "UNDOF"),
        ("SYR-NEA", "Syria", "north-east", "Levant", "extreme", "Damascus", None),
        ("JOR-AMM", "Jordan", "Amman", "Levant", "low", "Amman", None),
        ("IRQ-BGW", "Iraq", "Baghdad", "Levant", "high", "Baghdad", None),
        ("IRQ-EBL", "Iraq", "Kurdistan Region (Erbil)", "Levant", "medium", "Erbil", None),
        ("PSE-GAZ", "Gaza", "Gaza Strip", "Levant", "extreme", "Tel Aviv", None),
        ("CYP-BZN", "Cyprus", "buffer zone", "Eastern Mediterranean", "low", "Nicosia", "UNFICYP"),
        ("YEM-HOD", "Yemen", "Hodeidah", "Gulf and Yemen", "extreme", "Aden", None),
        ("YEM-ADE", "Yemen", "Aden", "Gulf and Yemen", "high", "Aden", None),
        ("SAU-RUH", "Saudi Arabia", "Riyadh", "Gulf and Yemen", "low", "Riyadh", None),
        ("GEO-ABL", "Georgia", "administrative boundary lines", "Caucasus", "medium", "Tbilisi", None),
        ("ARM-SYU", "Armenia", "Syunik border areas", "Caucasus", "medium", "Yerevan", None),
        ("AZE-KAR", "Azerbaijan", "Karabakh", "Caucasus", "medium", "Baku", None),
        ("UKR-KYV", "Ukraine", "Kyiv", "Eastern Europe", "high", "Kyiv", None),
        ("UKR-DON", "Ukraine", "eastern oblasts", "Eastern Europe", "extreme", "Kyiv", None),
        ("MDA-TRN", "Moldova", "Transnistria security zone", "Eastern Europe", "low", "Chișinău", None),
        ("LVA-RIX", "Latvia", "Riga", "Eastern Europe", "low", "Riga", None),
        ("XKX-PRN", "Kosovo", "Kosovo", "Balkans", "low", "Pristina", "UNMIK"),
        ("BIH-SJJ", "Bosnia and Herzegovina", "Sarajevo", "Balkans", "low", "Sarajevo", None),
        ("SRB-BEG", "Serbia", "Belgrade", "Balkans", "low", "Belgrade", None),
        ("AFG-KBL", "Afghanistan", "Kabul", "Central Asia", "extreme", "Kabul", None),
        ("TJK-BDR", "Tajikistan", "Afghan border", "Central Asia", "medium", "Dushanbe", None),
        ("KAS-LOC", "Kashmir", "line of control", "South Asia", "high", "Islamabad", "UNMOGIP"),
        ("PAK-ISB", "Pakistan", "Islamabad", "South Asia", "medium", "Islamabad", None),
        ("BGD-CXB", "Bangladesh", "Cox's Bazar", "South Asia", "medium", "Dhaka", None),
        ("MMR-RKH", "Myanmar", "Rakhine State", "South-East Asia", "extreme", "Yangon", None),
        ("PHL-BAR", "Philippines", "Bangsamoro (Mindanao)", "South-East Asia", "medium", "Manila", None),
        ("HTI-PAP", "Haiti", "Port-au-Prince", "Latin America and Caribbean", "extreme",
         "Port-au-Prince", None),
        ("COL-CAU", "Colombia", "Cauca", "Latin America and Caribbean", "high", "Bogotá", None),
    )
)
# fmt: on

_HAZARD_BANDS: dict[str, tuple[float, float]] = {
    "low": (1.0, 1.1),
    "medium": (1.1, 1.25),
    "high": (1.25, 1.45),
    "extreme": (1.45, 1.6),
}
_AFRICA = {
    "Sahel",
    "West Africa",
    "Central Africa",
    "Great Lakes",
    "Horn of Africa",
    "Sudan and South Sudan",
    "North Africa",
}


@dataclass(frozen=True)
class _ResourceSpec:
    resource_id: str
    name: str
    kind: str
    unit: str
    unit_cost: float  # US$ per unit per quarter
    integer: bool
    reserves: tuple[float, ...]  # reserve_share drawn from these
    ratio: tuple[float, float] | None  # usable (after reserve) / peak demand; None: bought
    scarce_candidate: bool = False


# Personnel, US$ per person per quarter (pay, allowances, rations, rotation travel).
# INF: three quarters of the ~US$12,500 all-in quarterly cost of a UN peacekeeper.
# MILOBS: UN mission subsistence allowance (~US$150/day) plus salary. MED: senior
# mediators and political officers (~US$230,000/year). DA: UK attaché network cost
# / attachés, less the office (which is the mission's running cost).
# fmt: off
_PERSONNEL: tuple[_ResourceSpec, ...] = tuple(
    _ResourceSpec(rid, name, "personnel", "person", cost, True, reserves, ratio, scarce)
    for rid, name, cost, reserves, ratio, scarce in (
        # id, name, US$/quarter, reserve shares, usable (after reserve) / peak demand, may be scarce
        ("INF", "Infantry (formed units)", 9_400, (0.1,), (0.9, 1.0), False),
        ("MILOBS", "Military observers", 24_000, (0.05,), (0.95, 1.1), True),
        ("STAFF", "Staff officers", 26_000, (0.0, 0.05), (0.95, 1.1), False),
        ("MED", "Mediators and political officers", 58_000, (0.0,), (0.95, 1.1), True),
        ("LING", "Linguists and interpreters", 19_000, (0.0, 0.05), (0.95, 1.1), True),
        ("MEDIC", "Medical staff (doctors, nurses, paramedics)", 23_000, (0.05, 0.1), (0.95, 1.1), True),
        ("POL", "Police officers", 10_500, (0.05, 0.1), (0.95, 1.1), False),
        ("ENG", "Military engineers", 11_500, (0.05,), (0.95, 1.1), True),
        ("DA", "Defence attachés and advisers", 70_000, (0.0,), (0.95, 1.1), False),
        ("LOG", "Logisticians", 10_000, (0.05,), (0.95, 1.1), False),
        ("TRAIN", "Military trainers and mentors", 17_000, (0.0,), (0.95, 1.1), False),
        ("CIVAFF", "Civil affairs officers", 29_000, (0.0,), (0.95, 1.1), False),
    )
)

# Equipment, US$ per unit per quarter (UN wet-lease rates and commercial charters in
# round figures: a Mi-8 class helicopter charter runs at about US$6.6 m a year).
# A ratio of None: no availability limit, bought at unit cost.
_EQUIPMENT: tuple[_ResourceSpec, ...] = tuple(
    _ResourceSpec(rid, name, "equipment", unit, cost, integer, reserves, ratio)
    for rid, name, unit, cost, integer, reserves, ratio in (
        ("APC", "Armoured personnel carriers", "vehicle", 28_000, True, (0.05, 0.1), (0.85, 1.0)),
        ("HELO", "Utility helicopters (Mi-8/Mi-17 class)", "helicopter", 1_650_000, True, (0.1, 0.15),
         (0.65, 0.85)),
        ("COMMS", "Tactical communications kits", "kit", 6_500, True, (0.0,), None),
        ("HOSP1", "Field hospital, role 1", "facility", 240_000, True, (0.0,), (0.85, 1.05)),
        ("LVEH", "Light vehicles (4x4)", "vehicle", 7_800, True, (0.0,), None),
        ("UAV", "Tactical UAV systems", "system", 420_000, True, (0.0,), (0.6, 0.85)),
        ("GEN", "Generators (100 kVA)", "generator", 3_900, True, (0.0,), None),
        ("HOSP2", "Field hospital, role 2", "facility", 1_150_000, True, (0.0,), (0.7, 0.9)),
        ("BOAT", "Riverine patrol boats", "boat", 95_000, True, (0.0,), (0.8, 1.05)),
        ("FUEL", "Fuel and lubricants", "kL", 1_150, False, (0.0,), None),
        ("WATER", "Water purification units", "unit", 12_000, True, (0.0,), (0.9, 1.1)),
        ("TRUCK", "Logistics trucks", "vehicle", 11_000, True, (0.05,), (0.9, 1.1)),
    )
)
# fmt: on
MAX_RESOURCES = len(_PERSONNEL) + len(_EQUIPMENT)


@dataclass(frozen=True)
class _Need:
    roles: tuple[str, ...]  # the first of these resources that the portfolio has
    lo: int
    hi: int
    prob: float = 1.0


def _n(roles: str, lo: int, hi: int, prob: float = 1.0) -> _Need:
    return _Need(tuple(roles.split("|")), lo, hi, prob)


@dataclass(frozen=True)
class _Template:
    type: str
    label: str  # format string: {un} {place} {country} {city}
    share: float  # how often, within its type
    needs: tuple[_Need, ...]
    running: tuple[float, float]  # US$ per quarter at full coverage
    weight: tuple[float, float]


_TEMPLATES: tuple[_Template, ...] = (
    # Peacekeeping: running cost covers camps, rations, rotations and support contracts.
    _Template(
        "peacekeeping",
        "{un} — infantry battalion, {place}",
        2.0,
        (
            _n("INF", 450, 850),
            _n("STAFF|INF", 12, 25),
            _n("MEDIC", 12, 25),
            _n("LOG|ENG", 25, 50),
            _n("ENG", 15, 35, 0.5),
            _n("APC", 18, 40),
            _n("LVEH", 15, 30),
            _n("COMMS", 25, 50),
            _n("GEN", 8, 20),
            _n("HOSP1", 1, 1, 0.6),
            _n("FUEL", 250, 600),
        ),
        (600_000, 1_500_000),
        (2.0, 3.0),
    ),
    _Template(
        "peacekeeping",
        "{un} — infantry company, {place}",
        2.5,
        (
            _n("INF", 120, 200),
            _n("STAFF|INF", 3, 6),
            _n("MEDIC", 3, 6),
            _n("APC", 6, 12),
            _n("LVEH", 4, 8),
            _n("COMMS", 8, 16),
            _n("FUEL", 60, 140),
        ),
        (150_000, 400_000),
        (1.0, 1.5),
    ),
    _Template(
        "peacekeeping",
        "{un} — formed police unit, {place}",
        1.5,
        (
            _n("POL|INF", 130, 160),
            _n("STAFF", 2, 4),
            _n("MEDIC", 2, 4),
            _n("APC", 4, 8),
            _n("LVEH", 8, 14),
            _n("COMMS", 12, 20),
        ),
        (150_000, 350_000),
        (1.0, 1.5),
    ),
    _Template(
        "peacekeeping",
        "{un} — engineering company, {place}",
        1.0,
        (
            _n("ENG|LOG|INF", 120, 180),
            _n("LOG", 10, 20),
            _n("MEDIC", 2, 4),
            _n("TRUCK|LVEH", 10, 20),
            _n("GEN", 6, 12),
            _n("FUEL", 80, 160),
        ),
        (300_000, 700_000),
        (1.0, 1.5),
    ),
    _Template(
        "peacekeeping",
        "{un} — aviation unit, {place}",
        0.8,
        (
            _n("HELO", 2, 3),
            _n("LOG|ENG|INF", 15, 30),
            _n("ENG", 4, 8),
            _n("STAFF", 3, 6),
            _n("FUEL", 300, 700),
        ),
        (200_000, 500_000),
        (1.0, 2.0),
    ),
    _Template(
        "peacekeeping",
        "{un} — level 2 hospital, {place}",
        0.6,
        (_n("MEDIC|INF", 35, 60), _n("LOG", 8, 15), _n("HOSP2|HOSP1", 1, 1), _n("GEN", 4, 8)),
        (150_000, 350_000),
        (1.0, 1.5),
    ),
    # Monitoring
    _Template(
        "monitoring",
        "Ceasefire monitoring team, {place}",
        3.0,
        (
            _n("MILOBS|STAFF|INF", 12, 45),
            _n("LING", 2, 6),
            _n("MEDIC", 1, 3),
            _n("STAFF", 2, 4),
            _n("LVEH", 6, 15),
            _n("COMMS", 8, 20),
            _n("UAV", 1, 1, 0.25),
        ),
        (120_000, 400_000),
        (0.8, 1.5),
    ),
    _Template(
        "monitoring",
        "Border monitoring mission, {place}",
        1.5,
        (
            _n("MILOBS|STAFF|INF", 20, 60),
            _n("POL", 5, 20, 0.6),
            _n("LING", 3, 8),
            _n("MEDIC", 1, 3),
            _n("LVEH", 8, 20),
            _n("COMMS", 10, 24),
            _n("BOAT", 2, 4, 0.3),
            _n("HELO", 1, 1, 0.15),
        ),
        (200_000, 600_000),
        (1.0, 2.0),
    ),
    _Template(
        "monitoring",
        "Joint verification mechanism, {place}",
        1.0,
        (
            _n("MILOBS|STAFF|INF", 8, 20),
            _n("CIVAFF", 2, 4),
            _n("LING", 2, 4),
            _n("LVEH", 3, 6),
            _n("COMMS", 4, 8),
            _n("HELO", 1, 1, 0.2),
        ),
        (100_000, 300_000),
        (0.8, 1.5),
    ),
    # Mediation: 3-10 people; running cost is travel, venues and workshops.
    _Template(
        "mediation",
        "Mediation support team — {place} peace talks",
        3.0,
        (
            _n("MED|CIVAFF|STAFF|INF", 2, 4),
            _n("LING", 1, 3),
            _n("CIVAFF", 1, 2, 0.5),
            _n("STAFF", 1, 1, 0.3),
            _n("COMMS", 1, 2),
        ),
        (80_000, 400_000),
        (0.8, 1.5),
    ),
    _Template(
        "mediation",
        "Special envoy's office, {country}",
        1.5,
        (
            _n("MED|CIVAFF|STAFF|INF", 1, 3),
            _n("LING", 1, 2),
            _n("CIVAFF", 1, 2),
            _n("STAFF", 1, 2),
            _n("LVEH", 1, 3),
            _n("COMMS", 2, 3),
        ),
        (120_000, 350_000),
        (1.0, 2.0),
    ),
    _Template(
        "mediation",
        "Track II dialogue facilitation, {place}",
        1.0,
        (_n("MED|CIVAFF|STAFF|INF", 2, 3), _n("LING", 1, 2)),
        (40_000, 150_000),
        (0.5, 1.0),
    ),
    # Defence attaché offices: 2-5 people; running cost is the office, housing, travel.
    _Template(
        "attache",
        "Defence section {city}",
        1.0,
        (
            _n("DA|STAFF|INF", 2, 3),
            _n("STAFF", 1, 1, 0.5),
            _n("LING", 1, 1, 0.3),
            _n("LVEH", 1, 2),
            _n("COMMS", 1, 2),
        ),
        (30_000, 150_000),
        (0.5, 1.5),
    ),
    # Humanitarian support
    _Template(
        "humanitarian",
        "Humanitarian support unit, {place}",
        2.0,
        (
            _n("LOG|ENG|INF", 15, 40),
            _n("MEDIC", 5, 15),
            _n("ENG", 5, 15),
            _n("TRUCK|LVEH", 5, 12),
            _n("WATER", 2, 6),
            _n("GEN", 3, 8),
        ),
        (300_000, 1_200_000),
        (1.0, 2.0),
    ),
    _Template(
        "humanitarian",
        "Mobile field hospital, {place}",
        1.5,
        (_n("MEDIC|INF", 20, 45), _n("LOG", 5, 12), _n("HOSP1", 1, 2), _n("GEN", 2, 4)),
        (150_000, 500_000),
        (1.0, 2.0),
    ),
    _Template(
        "humanitarian",
        "Civil-military coordination cell, {place}",
        1.0,
        (
            _n("CIVAFF|STAFF|INF", 3, 8),
            _n("STAFF", 2, 5),
            _n("LING", 1, 3),
            _n("LVEH", 2, 4),
            _n("COMMS", 3, 6),
        ),
        (50_000, 200_000),
        (0.5, 1.2),
    ),
    # Capacity building
    _Template(
        "capacity_building",
        "Military training mission, {country}",
        2.0,
        (
            _n("TRAIN|STAFF|INF", 15, 60),
            _n("STAFF", 3, 8),
            _n("LING", 2, 6),
            _n("MEDIC", 1, 3),
            _n("LVEH", 4, 10),
            _n("COMMS", 4, 10),
        ),
        (150_000, 700_000),
        (1.0, 2.0),
    ),
    _Template(
        "capacity_building",
        "Security sector reform advisory team, {country}",
        1.5,
        (_n("STAFF|INF", 4, 10), _n("CIVAFF", 2, 5), _n("POL", 2, 8, 0.6), _n("LING", 1, 3)),
        (80_000, 250_000),
        (0.7, 1.3),
    ),
    _Template(
        "capacity_building",
        "Police training team, {place}",
        1.0,
        (_n("POL|INF", 10, 30), _n("LING", 1, 4), _n("LVEH", 2, 5)),
        (60_000, 200_000),
        (0.7, 1.2),
    ),
    _Template(
        "capacity_building",
        "Demining and EOD training team, {place}",
        1.0,
        (_n("ENG|INF", 10, 25), _n("MEDIC", 1, 3), _n("LVEH", 3, 6), _n("GEN", 1, 3)),
        (80_000, 250_000),
        (0.8, 1.5),
    ),
    # Crisis response
    _Template(
        "crisis_response",
        "Rapid deployment company, {place}",
        1.5,
        (
            _n("INF", 100, 180),
            _n("MEDIC", 4, 10),
            _n("STAFF", 4, 8),
            _n("APC", 6, 12),
            _n("HELO", 1, 2, 0.6),
            _n("COMMS", 8, 16),
        ),
        (200_000, 600_000),
        (1.0, 2.0),
    ),
    _Template(
        "crisis_response",
        "Non-combatant evacuation standby, {place}",
        1.0,
        (_n("INF", 60, 120), _n("MEDIC", 4, 8), _n("LOG", 8, 15), _n("HELO", 1, 2), _n("LVEH", 6, 12)),
        (150_000, 400_000),
        (1.0, 1.5),
    ),
    _Template(
        "crisis_response",
        "Crisis response team, {place}",
        1.5,
        (
            _n("CIVAFF|STAFF|INF", 2, 4),
            _n("MED", 1, 2),
            _n("LING", 1, 3),
            _n("MEDIC", 1, 2),
            _n("COMMS", 2, 4),
        ),
        (40_000, 180_000),
        (0.7, 1.2),
    ),
)

# Type mix, id prefix, priority distribution (1..5) and zone affinity by risk.
_TYPES: dict[str, dict] = {
    "peacekeeping": {
        "share": 0.24,
        "code": "PKO",
        "priority": (0.2, 0.35, 0.25, 0.15, 0.05),
        "risk": {"low": 0.3, "medium": 1.0, "high": 2.0, "extreme": 2.0},
        "un": 4.0,
    },
    "monitoring": {
        "share": 0.15,
        "code": "MON",
        "priority": (0.15, 0.3, 0.3, 0.15, 0.1),
        "risk": {"low": 1.0, "medium": 2.0, "high": 2.0, "extreme": 1.0},
        "un": 2.0,
    },
    "mediation": {
        "share": 0.13,
        "code": "MED",
        "priority": (0.15, 0.25, 0.3, 0.2, 0.1),
        "risk": {"low": 0.5, "medium": 1.0, "high": 2.0, "extreme": 2.0},
        "un": 1.0,
    },
    "attache": {
        "share": 0.12,
        "code": "DA",
        "priority": (0.05, 0.15, 0.35, 0.3, 0.15),
        "risk": {"low": 3.0, "medium": 2.0, "high": 1.0, "extreme": 0.3},
        "un": 1.0,
    },
    "humanitarian": {
        "share": 0.12,
        "code": "HUM",
        "priority": (0.15, 0.3, 0.3, 0.15, 0.1),
        "risk": {"low": 0.2, "medium": 1.0, "high": 2.0, "extreme": 3.0},
        "un": 1.0,
    },
    "capacity_building": {
        "share": 0.14,
        "code": "CB",
        "priority": (0.05, 0.2, 0.3, 0.3, 0.15),
        "risk": {"low": 1.5, "medium": 2.0, "high": 2.0, "extreme": 0.5},
        "un": 1.0,
    },
    "crisis_response": {
        "share": 0.10,
        "code": "CR",
        "priority": (0.1, 0.3, 0.3, 0.2, 0.1),
        "risk": {"low": 0.5, "medium": 1.0, "high": 2.0, "extreme": 2.0},
        "un": 1.0,
    },
}
_TYPE_NAMES = tuple(_TYPES)


@dataclass(frozen=True)
class _SourceSpec:
    source_id: str
    name: str
    types: tuple[str, ...]  # eligible types (empty: any)
    regions: int  # draw this many eligible regions (0: none)
    zones: int  # draw this many eligible zones (0: none)
    share: tuple[float, float]  # amount / (budget_ratio x eligible demand)
    per_period: bool  # one row per period (else one blank-period row)


# fmt: off
_SOURCES: tuple[_SourceSpec, ...] = (
    # id, name, eligible types, regions, zones, amount/(ratio x eligible demand), per period
    _SourceSpec("CORE", "Core operations budget", (), 0, 0, (0.0, 0.0), False),
    # UN reimbursement (US$1,428/person/month) against a national cost of ~US$3,100-4,100.
    _SourceSpec("UNREIMB", "UN assessed contributions reimbursement", ("peacekeeping", "monitoring"),
                0, 0, (0.25, 0.35), True),
    _SourceSpec("CSSF", "Conflict, Stability and Security Fund", (), 3, 0, (0.2, 0.35), False),
    _SourceSpec("DEFENG", "Defence engagement fund", ("attache", "capacity_building"),
                0, 0, (0.3, 0.45), False),
    _SourceSpec("HUMRES", "Humanitarian reserve", ("humanitarian", "crisis_response"),
                0, 0, (0.25, 0.4), True),
    _SourceSpec("EPF", "European Peace Facility co-financing",
                ("peacekeeping", "capacity_building", "crisis_response"), 0, 6, (0.2, 0.4), False),
    _SourceSpec("STAB", "Stabilisation surge fund", ("mediation", "monitoring", "crisis_response"),
                0, 0, (0.2, 0.4), False),
)
# fmt: on

_QUARTER_NAMES = ("January–March", "April–June", "July–September", "October–December")


# ----------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------


# Plans over time (SPEC 3.1), by mission type: the chance it is deployed today (when active
# from the first quarter), closure (repatriation) and start-up (strategic deployment) money as
# shares of one quarter at full coverage, the most its coverage moves in a quarter, and the
# chance it is seasonal (continuity no). Repatriating a contingent costs of the order of a
# quarter of its running; deploying one somewhat more (movement of contingent-owned
# equipment, camp construction): see public_figures.md.
_TIMELINE: dict[str, dict] = {
    "peacekeeping": {"now": 0.85, "closure": (0.25, 0.45), "startup": (0.4, 0.7), "step": 0.25, "min_run": 2},
    "monitoring": {"now": 0.85, "closure": (0.15, 0.3), "startup": (0.2, 0.4), "step": None, "min_run": 2},
    "attache": {"now": 0.9, "closure": (0.05, 0.1), "startup": (0.1, 0.2)},
    "mediation": {"now": 0.6, "closure": (0.0, 0.05), "startup": (0.05, 0.15)},
    "humanitarian": {"now": 0.6, "closure": (0.1, 0.2), "startup": (0.15, 0.3)},
    "capacity_building": {"now": 0.5, "closure": (0.05, 0.1), "startup": (0.1, 0.2), "seasonal": 0.5},
    "crisis_response": {"now": 0.2, "closure": (0.1, 0.2), "startup": (0.2, 0.4)},
}


def _timeline_columns(rows, full_cost, people, witness, active, seed: int) -> list[dict]:
    """The plans-over-time columns of each mission, drawn from their own random stream (the
    other tables stay as they were). Missions of the witness plan (which runs them in every
    active quarter) get no start-up cost, so the witness stays feasible; large contingents
    (peacekeeping of 500 people or more at full strength) a max_step."""
    rng = np.random.default_rng([seed, 3_1])
    out = []
    for m, row in enumerate(rows):
        spec = _TIMELINE.get(row["type"], {"now": 0.5, "closure": (0.05, 0.1), "startup": (0.1, 0.2)})
        quarter = float(full_cost[m])
        from_first = bool(active[m, 0]) if active.shape[1] else True
        running_now = from_first and rng.random() < spec["now"]
        closure = _nice(quarter * float(rng.uniform(*spec["closure"])), 2) if running_now else 0.0
        startup = 0.0
        if not running_now and witness[m] <= 0:
            startup = _nice(quarter * float(rng.uniform(*spec["startup"])), 2)
        seasonal = rng.random() < spec.get("seasonal", 0.0)
        step = spec.get("step")
        large = step is not None and float(people[m]) >= 500
        out.append(
            {
                "continuity": not seasonal,
                "min_run": int(spec.get("min_run", 1)) if not running_now else 1,
                "running_now": running_now,
                "startup_cost": startup,
                "closure_cost": closure,
                "max_step": float(step) if large else None,
            }
        )
    return out


def _nice(x: float, sig: int = 3, up: bool = False) -> float:
    """``x`` to ``sig`` significant figures (rounded up if ``up``), as a whole number."""
    if x <= 0:
        return 0.0
    step = 10 ** max(0, math.floor(math.log10(x)) - sig + 1)
    return float((math.ceil(x / step - 1e-9) if up else round(x / step)) * step)


def _round_to(x: float, step: float) -> float:
    return round(x / step) * step


def _units(q: np.ndarray, cov: float, integer: np.ndarray) -> np.ndarray:
    """Units needed to cover ``cov`` of requirement ``q``: whole units where integer."""
    raw = q * cov
    return np.where(integer, np.ceil(raw - 1e-9), raw)


def _period_ids(periods: int, start_year: int) -> list[tuple[str, str]]:
    out = []
    for i in range(periods):
        year, quarter = start_year + i // 4, i % 4
        out.append((f"{year}-Q{quarter + 1}", f"{_QUARTER_NAMES[quarter]} {year}"))
    return out


def _pick_zones(rng: np.random.Generator, zones: int) -> list[_ZoneSpec]:
    catalogue = list(_ZONES)
    if zones <= len(catalogue):
        picked = sorted(rng.choice(len(catalogue), size=zones, replace=False).tolist())
        return [catalogue[i] for i in picked]
    keyed = [(i, 1, z) for i, z in enumerate(catalogue)]
    sector = 2
    while len(keyed) < zones:
        for i, z in enumerate(catalogue[: zones - len(keyed)]):
            sector_zone = _ZoneSpec(
                f"{z.zone_id}-{sector}",
                z.country,
                f"{z.place} (sector {sector})",
                z.region,
                z.risk,
                z.city,
                z.un,
            )
            keyed.append((i, sector, sector_zone))
        sector += 1
    return [z for _, _, z in sorted(keyed, key=lambda t: (t[0], t[1]))]


def _pick_resources(resources: int) -> list[_ResourceSpec]:
    if resources > MAX_RESOURCES:
        raise ValueError(f"resources must be at most {MAX_RESOURCES}, got {resources}")
    n_pers = min(len(_PERSONNEL), max(1, round(resources * 0.55)))
    n_equip = resources - n_pers
    if n_equip > len(_EQUIPMENT):
        n_pers, n_equip = resources - len(_EQUIPMENT), len(_EQUIPMENT)
    return list(_PERSONNEL[:n_pers]) + list(_EQUIPMENT[:n_equip])


def _affinity(type_name: str, zone: _ZoneSpec) -> float:
    spec = _TYPES[type_name]
    return spec["risk"][zone.risk] * (spec["un"] if zone.un else 1.0)


# ----------------------------------------------------------------------------------
# The generator
# ----------------------------------------------------------------------------------


def generate_portfolio(
    missions: int = 150,
    zones: int = 30,
    resources: int = 16,
    periods: int = 4,
    sources: int = 5,
    seed: int = 0,
    *,
    start_year: int = 2027,
    budget_ratio: float | None = None,
    scarce: int = 2,
    must_fund_share: float = 0.12,
    policies: bool = True,
) -> dict[str, pd.DataFrame]:
    """Draw a realistic, feasible portfolio in the workbook format of SPEC section 2.

    Parameters
    ----------
    missions, zones, resources, periods, sources : int
        Sizes, each at least 1. ``resources`` is at most 24 (12 personnel and 12
        equipment types; about 55% of the requested resources are personnel);
        ``zones`` beyond the 65 real areas of the catalogue are numbered sectors of
        them. Periods are quarters from ``start_year``: ``2027-Q1``, ``2027-Q2``, ...
        Sources beyond the seven of the catalogue are partner co-funding lines, each
        earmarked to one region.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same arguments give identical
        tables.
    start_year : int
        Year of the first quarter.
    budget_ratio : float, optional
        Total funding per period as a share of the cost of every active mission at full
        coverage (default: drawn from 0.72-0.82). The core budget is raised above this
        if the witness plan needs it (see the module docstring), so the realised share
        can be higher in very small portfolios.
    scarce : int
        How many personnel types are scarce (50-62% of peak demand usable after reserve).
    must_fund_share : float
        Share of missions that are must-fund (at least one), drawn from priorities 1-2.
    policies : bool
        Include the Policies sheet.

    Returns
    -------
    dict of str to pandas.DataFrame
        Sheet title (``"Missions"``, ``"Zones"``, ``"Resources"``, ``"Requirements"``,
        ``"Funding"``, ``"Periods"``, ``"Availability"``, ``"Policies"``,
        ``"Settings"``) to its table, with the columns of :mod:`optimiser.schema` in
        order. Yes/no columns hold booleans, blank cells missing values (``None`` or
        ``NaN``); money is US$ per quarter.

    Examples
    --------
    >>> tables = generate_portfolio(missions=20, zones=5, resources=8, periods=2, seed=1)
    >>> sorted(tables) == sorted(["Missions", "Zones", "Resources", "Requirements", "Funding",
    ...                           "Periods", "Availability", "Policies", "Settings"])
    True
    """
    for label, value in (
        ("missions", missions),
        ("zones", zones),
        ("resources", resources),
        ("periods", periods),
        ("sources", sources),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{label} must be a whole number of at least 1, got {value!r}")
    rng = np.random.default_rng(seed)
    if budget_ratio is None:
        budget_ratio = float(rng.uniform(0.72, 0.82))

    # Periods, zones, resources ------------------------------------------------------
    period_rows = _period_ids(periods, start_year)
    period_ids = [p for p, _ in period_rows]
    P = periods

    zone_specs = _pick_zones(rng, zones)
    hazards = []
    for z in zone_specs:
        lo, hi = _HAZARD_BANDS[z.risk]
        hazards.append(round(_round_to(float(rng.uniform(lo, hi)), 0.05), 2))
    haz = np.array(hazards)

    res_specs = _pick_resources(resources)
    R = len(res_specs)
    res_index = {r.resource_id: i for i, r in enumerate(res_specs)}
    personnel = np.array([r.kind == "personnel" for r in res_specs])
    integer = np.array([r.integer for r in res_specs])
    unit_cost = np.array([r.unit_cost for r in res_specs], dtype=float)
    first_personnel = next(r.resource_id for r in res_specs if r.kind == "personnel")

    # Missions ------------------------------------------------------------------------
    type_share = np.array([_TYPES[t]["share"] for t in _TYPE_NAMES])
    type_share = type_share / type_share.sum()
    aff = np.array([[_affinity(t, z) for z in zone_specs] for t in _TYPE_NAMES])  # types x zones

    mission_type: list[int] = []
    mission_zone: list[int] = []
    # every zone gets a mission first (while there are missions to place)
    first = rng.permutation(len(zone_specs))[: min(missions, len(zone_specs))]
    for zi in first:
        w = type_share * aff[:, zi]
        mission_type.append(int(rng.choice(len(_TYPE_NAMES), p=w / w.sum())))
        mission_zone.append(int(zi))
    for _ in range(missions - len(mission_type)):
        ti = int(rng.choice(len(_TYPE_NAMES), p=type_share))
        w = aff[ti]
        mission_type.append(ti)
        mission_zone.append(int(rng.choice(len(zone_specs), p=w / w.sum())))
    order = sorted(range(missions), key=lambda i: (mission_zone[i], mission_type[i], i))

    templates_by_type = {t: [tp for tp in _TEMPLATES if tp.type == t] for t in _TYPE_NAMES}
    rows: list[dict] = []
    req_rows: list[tuple[int, int, float]] = []  # mission index, resource index, quantity
    id_counter: dict[tuple[str, str], int] = {}
    name_counter: dict[str, int] = {}
    for i in order:
        tname = _TYPE_NAMES[mission_type[i]]
        zone = zone_specs[mission_zone[i]]
        tps = templates_by_type[tname]
        shares = np.array([tp.share for tp in tps])
        tp = tps[int(rng.choice(len(tps), p=shares / shares.sum()))]
        code = _TYPES[tname]["code"]
        key = (code, zone.zone_id)
        id_counter[key] = id_counter.get(key, 0) + 1
        mission_id = f"{code}-{zone.zone_id}-{id_counter[key]}"
        un = zone.un or f"UN Mission in {zone.country}"
        name = tp.label.format(un=un, place=zone.place, country=zone.country, city=zone.city)
        name_counter[name] = name_counter.get(name, 0) + 1
        if name_counter[name] > 1:
            name = f"{name} ({name_counter[name]})"
        m = len(rows)
        needs: dict[int, float] = {}
        for need in tp.needs:
            draw = int(rng.integers(need.lo, need.hi + 1))
            take = rng.random() < need.prob
            role = next((r for r in need.roles if r in res_index), None)
            if not take or role is None or res_index[role] in needs:
                continue
            if need.hi >= 400:
                draw = int(_round_to(draw, 10))
            elif need.hi >= 100:
                draw = int(_round_to(draw, 5))
            needs[res_index[role]] = float(draw)
        if not needs:  # a resource set too small for the template: a small team of the first personnel
            needs[res_index[first_personnel]] = float(tp.needs[0].lo)
        req_rows.extend((m, r, q) for r, q in needs.items())
        priority = int(rng.choice(5, p=_TYPES[tname]["priority"])) + 1
        weight = _round_to(float(rng.uniform(*tp.weight)), 0.25)
        running = _nice(float(rng.uniform(*tp.running)), 2)
        start = end = None
        if P >= 2:
            if rng.random() < 0.08:
                start = int(rng.integers(1, P))
            if rng.random() < 0.08:
                end = int(rng.integers(start or 0, P - 1)) if (start or 0) < P - 1 else None
        rows.append(
            {
                "mission_id": mission_id,
                "name": name,
                "zone": mission_zone[i],
                "type": tname,
                "priority": priority,
                "weight": weight,
                "running_cost": running,
                "start": start,
                "end": end,
            }
        )
    M = len(rows)
    Q = np.zeros((M, R))
    for m, r, q in req_rows:
        Q[m, r] = q
    zone_of = np.array([row["zone"] for row in rows], dtype=int)
    prio = np.array([row["priority"] for row in rows], dtype=int)
    running = np.array([row["running_cost"] for row in rows], dtype=float)
    active = np.zeros((M, P), dtype=bool)
    for m, row in enumerate(rows):
        s = row["start"] if row["start"] is not None else 0
        e = row["end"] if row["end"] is not None else P - 1
        active[m, s : e + 1] = True

    # Coverage rules: must-fund floors, on/off minimums, some phased maximums.
    n_must = max(1, round(must_fund_share * M))
    p1 = [m for m in rng.permutation(M).tolist() if prio[m] == 1]
    p2 = [m for m in rng.permutation(M).tolist() if prio[m] == 2]
    p3 = [m for m in rng.permutation(M).tolist() if prio[m] >= 3]
    must = set((p1 + p2 + p3)[:n_must])
    min_cov = np.zeros(M)
    max_cov = np.ones(M)
    for m in range(M):
        if m in must:
            min_cov[m] = float(rng.choice([0.6, 0.7, 0.75, 0.8, 0.9, 1.0]))
        elif rng.random() < 0.18:
            min_cov[m] = float(rng.choice([0.3, 0.4, 0.5]))
        if min_cov[m] < 1.0 and rng.random() < 0.08:
            max_cov[m] = max(min_cov[m], float(rng.choice([0.75, 0.8, 0.9])))

    # Costs: hazard multiplies personnel.
    uce = unit_cost[None, :] * np.where(personnel[None, :], haz[zone_of][:, None], 1.0)  # M x R
    full_cost = (Q * uce).sum(axis=1) + running  # per active period
    demand_cost = (active * full_cost[:, None]).sum(axis=0)  # per period

    # Witness plan, base: must-fund at floors, other priority-1 missions at 60%.
    wit = np.zeros(M)
    for m in range(M):
        if m in must:
            wit[m] = min_cov[m]
        elif prio[m] == 1:
            wit[m] = min(max_cov[m], max(0.6, min_cov[m]))
    timeline = _timeline_columns(rows, full_cost, (Q * personnel[None, :]).sum(axis=1), wit, active, seed)
    wit_units = np.array([_units(Q[m], wit[m], integer) for m in range(M)]) if M else np.zeros((0, R))
    base_need = np.einsum("mr,mp->rp", wit_units, active)  # R x P

    # Availability: scarcity from peak demand, raised to fit the witness.
    demand_units = np.einsum("mr,mp->rp", Q, active)  # R x P
    peak = demand_units.max(axis=1) if P else np.zeros(R)
    scarce_pool = [i for i, r in enumerate(res_specs) if r.scarce_candidate and peak[i] > 0]
    scarce_set = set(rng.permutation(scarce_pool)[: min(scarce, len(scarce_pool))].tolist())
    available = np.full(R, np.nan)
    reserve = np.zeros(R)
    for i, spec in enumerate(res_specs):
        reserve[i] = float(rng.choice(spec.reserves))
        if spec.ratio is None:
            continue
        lo, hi = (0.5, 0.62) if i in scarce_set else spec.ratio
        target = float(rng.uniform(lo, hi)) * peak[i] / (1.0 - reserve[i])
        floor = base_need[i].max() * 1.15 / (1.0 - reserve[i])
        value = max(target, floor, 1.0)
        step = 10 if value >= 2000 else 5 if value >= 200 else 1
        available[i] = math.ceil(value / step - 1e-9) * step
    avail_rp = np.repeat(available[:, None], P, axis=1)

    # Availability overrides: a rotation gap or maintenance in some quarters.
    overrides: list[tuple[int, int, float]] = []
    if P >= 2:
        limited = [i for i in range(R) if not np.isnan(available[i]) and peak[i] > 0]
        preferred = [i for i in limited if res_specs[i].resource_id in ("INF", "HELO", "LING", "MEDIC")]
        pool = preferred if len(preferred) >= 2 else limited
        for i in rng.permutation(pool)[: min(2, len(pool))].tolist():
            n_periods = int(rng.integers(1, min(2, P - 1) + 1))
            for p in sorted(rng.choice(P, size=n_periods, replace=False).tolist()):
                value = available[i] * float(rng.uniform(0.75, 0.9))
                floor = base_need[i, p] * 1.15 / (1.0 - reserve[i])
                value = math.ceil(max(value, floor) - 1e-9)
                if value < available[i]:
                    overrides.append((i, p, float(value)))
                    avail_rp[i, p] = value
    usable = np.where(np.isnan(avail_rp), np.inf, avail_rp * (1.0 - reserve[:, None]))  # R x P

    # Zone personnel caps on about a third of the zones that have personnel.
    Z = len(zone_specs)
    pers_units = Q[:, personnel].sum(axis=1)
    zone_demand = np.zeros((Z, P))
    zone_base = np.zeros((Z, P))
    wit_pers = wit_units[:, personnel].sum(axis=1) if M else np.zeros(0)
    for m in range(M):
        zone_demand[zone_of[m]] += pers_units[m] * active[m]
        zone_base[zone_of[m]] += wit_pers[m] * active[m]
    caps = np.full(Z, np.nan)
    for z in range(Z):
        draw, share = rng.random(), float(rng.uniform(0.55, 0.8))
        zpeak = zone_demand[z].max() if P else 0.0
        if draw >= 0.35 or zpeak < 20:
            continue
        cap = max(math.ceil(share * zpeak / 10) * 10, math.ceil((zone_base[z].max() * 1.1 + 1) / 10) * 10)
        if cap < zpeak:
            caps[z] = cap
    cap_z = np.where(np.isnan(caps), np.inf, caps)

    # Funding ---------------------------------------------------------------------------
    present_types = sorted({row["type"] for row in rows}, key=_TYPE_NAMES.index)
    region_of_zone = [z.region for z in zone_specs]
    mission_regions = sorted({region_of_zone[z] for z in zone_of}, key=lambda r: region_of_zone.index(r))
    mission_zone_ids = sorted({zone_specs[z].zone_id for z in zone_of})
    zone_region = {z.zone_id: z.region for z in zone_specs}
    mtype = np.array([row["type"] for row in rows])
    mregion = np.array([region_of_zone[z] for z in zone_of])
    mzone_id = np.array([zone_specs[z].zone_id for z in zone_of])
    total_target = budget_ratio * demand_cost  # per period

    source_specs = list(_SOURCES[:sources])
    extra_regions = list(rng.permutation(mission_regions)) if sources > len(_SOURCES) else []
    for k in range(sources - len(_SOURCES)):
        source_specs.append(
            _SourceSpec(f"PARTNER{k + 1}", f"Partner co-funding line {k + 1}", (), 1, 0, (0.1, 0.25), False)
        )
    earmarks: list[dict] = []
    for k, spec in enumerate(source_specs[1:], start=1):
        types = [t for t in spec.types if t in present_types]
        if spec.types and not types:
            types = [present_types[int(rng.integers(len(present_types)))]]
        regions: list[str] = []
        if spec.regions:
            if spec.source_id.startswith("PARTNER"):
                regions = [str(extra_regions[(k - len(_SOURCES)) % len(extra_regions)])]
            else:
                n = min(len(mission_regions), int(rng.integers(2, spec.regions + 2)))
                regions = sorted(
                    rng.choice(mission_regions, size=n, replace=False).tolist(), key=mission_regions.index
                )
        zone_list: list[str] = []
        if spec.zones:
            africa = [z for z in mission_zone_ids if zone_region[z] in _AFRICA]
            pool = africa or mission_zone_ids
            n = min(len(pool), spec.zones)
            zone_list = sorted(rng.choice(pool, size=n, replace=False).tolist())
        eligible = np.ones(M, dtype=bool)
        if types:
            eligible &= np.isin(mtype, types)
        if regions:
            eligible &= np.isin(mregion, regions)
        if zone_list:
            eligible &= np.isin(mzone_id, zone_list)
        eligible_demand = (active * (full_cost * eligible)[:, None]).sum(axis=0)  # per period
        share = float(rng.uniform(*spec.share))
        if spec.per_period:
            amounts = [share * budget_ratio * d * float(rng.uniform(0.9, 1.1)) for d in eligible_demand]
        else:
            amounts = [share * budget_ratio * float(eligible_demand.mean())] * P
        earmarks.append(
            {
                "spec": spec,
                "types": types,
                "regions": regions,
                "zones": zone_list,
                "amounts": np.array(amounts),
            }
        )
    earmarked = sum((e["amounts"] for e in earmarks), np.zeros(P))
    limit = 0.5 * total_target
    scale = (
        min(1.0, float(np.min(np.where(earmarked > 0, limit / np.maximum(earmarked, 1e-9), np.inf))))
        if P
        else 1.0
    )
    for e in earmarks:
        e["amounts"] = np.array([_nice(a * scale, 3) for a in e["amounts"]])
    earmarked = sum((e["amounts"] for e in earmarks), np.zeros(P))

    wit_cost = (wit_units * uce).sum(axis=1) + running * wit  # per active period
    base_money = (active * wit_cost[:, None]).sum(axis=0)
    core = _nice(
        max(float(np.mean(total_target - earmarked)), 1.1 * float(base_money.max()), 1.0), 3, up=True
    )

    # Witness, extended within what is left: first missions of the policy region (to
    # back its minimum share), then missions of other types than the biggest (to hold
    # the biggest type's share down, so that its maximum share can bite).
    used = np.einsum("mr,mp->rp", wit_units, active)
    zone_used = zone_base.copy()
    money_used = base_money.copy()

    def try_add(m: int) -> None:
        for cov in (max_cov[m], 0.5):
            if cov < min_cov[m] or cov <= 0:
                continue
            u = _units(Q[m], cov, integer)
            cost = float((u * uce[m]).sum() + running[m] * cov)
            add = np.outer(u, active[m])
            pers = float(u[personnel].sum())
            z = zone_of[m]
            if (
                np.all(used + add <= usable + 1e-9)
                and np.all(zone_used[z] + pers * active[m] <= cap_z[z] + 1e-9)
                and np.all(money_used + cost * active[m] <= core / 1.02)
            ):
                wit[m] = cov
                used[...] += add
                zone_used[z] += pers * active[m]
                money_used[...] += cost * active[m]
                return

    region_demand = {
        r: float((active * (full_cost * (mregion == r))[:, None]).sum()) for r in mission_regions
    }
    type_demand = {t: float((active * (full_cost * (mtype == t))[:, None]).sum()) for t in present_types}
    biggest_type = max(present_types, key=lambda t: type_demand[t])
    ranked = sorted(mission_regions, key=lambda r: -region_demand[r])
    policy_region = ranked[int(rng.integers(min(3, len(ranked))))] if ranked else None
    if policies and policy_region is not None:
        shuffled = rng.permutation(M).tolist()
        first_pass = sorted(
            (m for m in shuffled if mregion[m] == policy_region and wit[m] == 0), key=prio.__getitem__
        )
        for m in first_pass:
            try_add(m)
        second_pass = sorted(
            (m for m in shuffled if mtype[m] != biggest_type and wit[m] == 0), key=prio.__getitem__
        )
        for m in second_pass:
            try_add(m)
    timeline = _timeline_columns(rows, full_cost, (Q * personnel[None, :]).sum(axis=1), wit, active, seed)
    wit_units = np.array([_units(Q[m], wit[m], integer) for m in range(M)]) if M else np.zeros((0, R))
    wit_cost = (wit_units * uce).sum(axis=1) + running * wit
    wit_spend = wit_cost * active.sum(axis=1)  # over all periods
    total_spend = float(wit_spend.sum())

    # Policies, kept by the witness ---------------------------------------------------
    policy_rows: list[dict] = []
    total_demand = float(demand_cost.sum())
    if policies and total_spend > 0 and total_demand > 0:
        if policy_region is not None and len(mission_regions) >= 2:
            wshare = float(wit_spend[mregion == policy_region].sum()) / total_spend
            dshare = region_demand[policy_region] / total_demand
            value = math.floor(min(wshare - 0.01, 0.85 * dshare) * 100) / 100
            if value >= 0.03:
                policy_rows.append(
                    {
                        "rule": "min_budget_share",
                        "scope_type": "region",
                        "scope_value": policy_region,
                        "value": value,
                    }
                )
        if len(present_types) >= 2:
            big = biggest_type
            wshare = float(wit_spend[mtype == big].sum()) / total_spend
            value = math.ceil(max(wshare + 0.02, 0.9 * type_demand[big] / total_demand) * 100) / 100
            if value < 0.98:
                policy_rows.append(
                    {"rule": "max_budget_share", "scope_type": "type", "scope_value": big, "value": value}
                )
        if np.any(prio == 1):
            policy_rows.append(
                {"rule": "min_average_coverage", "scope_type": "priority", "scope_value": "1", "value": 0.5}
            )

    # Tables --------------------------------------------------------------------------
    def frame(sheet: str, records: Sequence[Mapping[str, object]]) -> pd.DataFrame:
        cols = list(SHEETS[sheet].column_names)
        return pd.DataFrame([{c: rec.get(c) for c in cols} for rec in records], columns=cols)

    missions_df = frame(
        "missions",
        [
            {
                "mission_id": row["mission_id"],
                "name": row["name"],
                "zone_id": zone_specs[row["zone"]].zone_id,
                "type": row["type"],
                "priority": row["priority"],
                "weight": row["weight"],
                "must_fund": m in must,
                "min_coverage": float(min_cov[m]),
                "max_coverage": float(max_cov[m]),
                "running_cost": row["running_cost"],
                "start_period": period_ids[row["start"]] if row["start"] is not None else None,
                "end_period": period_ids[row["end"]] if row["end"] is not None else None,
                **timeline[m],
            }
            for m, row in enumerate(rows)
        ],
    )
    missions_df["priority"] = missions_df["priority"].astype(int)
    missions_df["must_fund"] = missions_df["must_fund"].astype(bool)
    zones_df = frame(
        "zones",
        [
            {
                "zone_id": z.zone_id,
                "name": z.name,
                "region": z.region,
                "risk": z.risk,
                "personnel_cap": caps[k],
                "hazard_multiplier": float(haz[k]),
            }
            for k, z in enumerate(zone_specs)
        ],
    )
    resources_df = frame(
        "resources",
        [
            {
                "resource_id": r.resource_id,
                "name": r.name,
                "kind": r.kind,
                "unit": r.unit,
                "unit_cost": float(r.unit_cost),
                "available": available[i],
                "reserve_share": float(reserve[i]),
                "integer": r.integer,
            }
            for i, r in enumerate(res_specs)
        ],
    )
    resources_df["integer"] = resources_df["integer"].astype(bool)
    requirements_df = frame(
        "requirements",
        [
            {"mission_id": rows[m]["mission_id"], "resource_id": res_specs[r].resource_id, "quantity": q}
            for m, r, q in req_rows
        ],
    )
    funding_records: list[dict] = [
        {"source_id": "CORE", "name": _SOURCES[0].name, "amount": core, "period": None}
    ]
    for e in earmarks:
        spec = e["spec"]
        lists = {
            "eligible_types": ", ".join(e["types"]) or None,
            "eligible_zones": ", ".join(e["zones"]) or None,
            "eligible_regions": ", ".join(e["regions"]) or None,
        }
        if spec.per_period:
            for p, amount in enumerate(e["amounts"]):
                funding_records.append(
                    {
                        "source_id": spec.source_id,
                        "name": spec.name,
                        "amount": float(amount),
                        "period": period_ids[p],
                    }
                    | lists
                )
        else:
            funding_records.append(
                {
                    "source_id": spec.source_id,
                    "name": spec.name,
                    "amount": float(e["amounts"][0]),
                    "period": None,
                }
                | lists
            )
    funding_df = frame("funding", funding_records)
    periods_df = frame("periods", [{"period_id": p, "name": n} for p, n in period_rows])
    availability_df = frame(
        "availability",
        [
            {"resource_id": res_specs[i].resource_id, "period_id": period_ids[p], "available": v}
            for i, p, v in sorted(overrides, key=lambda t: (t[0], t[1]))
        ],
    )
    policies_df = frame("policies", policy_rows)
    settings_df = frame(
        "settings",
        [
            {"key": "currency", "value": "USD"},
            {"key": "mip_gap", "value": 0.005},
            {"key": "time_limit_s", "value": 60},
        ],
    )
    tables = {
        "Missions": missions_df,
        "Zones": zones_df,
        "Resources": resources_df,
        "Requirements": requirements_df,
        "Funding": funding_df,
        "Periods": periods_df,
        "Availability": availability_df,
    }
    if policies:
        tables["Policies"] = policies_df
    tables["Settings"] = settings_df
    return tables


# ----------------------------------------------------------------------------------
# Writing a workbook
# ----------------------------------------------------------------------------------

_FORMATS: dict[str, str] = {
    "running_cost": "#,##0",
    "unit_cost": "#,##0",
    "amount": "#,##0",
    "available": "#,##0",
    "personnel_cap": "#,##0",
    "quantity": "#,##0.##",
    "min_coverage": "0%",
    "max_coverage": "0%",
    "reserve_share": "0%",
    "hazard_multiplier": "0.00",
    "weight": "0.00",
}


def _cell_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        value = float(value)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    return value


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    titles: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write sheet tables as a clean ``.xlsx`` workbook, as a planner would keep it.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Sheet title to table, in the order the sheets should appear (for example the
        result of :func:`generate_portfolio`).
    path : str or pathlib.Path
        Where to write; parent folders are created.
    titles : mapping of str to sequence of str, optional
        Lines written above a sheet's header row (a title, notes), followed by one
        blank row; the header then stays within the first 10 rows as SPEC section 2
        requires, so at most 8 lines.

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    Headers are bold, frozen and filtered; numbers are written as numbers with
    money (``#,##0``) and percentage formats; yes/no columns as ``yes``/``no``; blank
    cells stay empty. Text is never written as a formula: a value starting with ``=``
    is stored as a string.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    titles = titles or {}
    wb = Workbook()
    wb.remove(wb.active)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for sheet_name, df in tables.items():
        ws = wb.create_sheet(sheet_name)
        lines = list(titles.get(sheet_name, ()))
        if len(lines) > 8:
            raise ValueError(f"at most 8 title lines on sheet {sheet_name!r}, got {len(lines)}")
        for k, line in enumerate(lines, start=1):
            cell = ws.cell(row=k, column=1, value=line)
            cell.data_type = "s"
            cell.font = Font(bold=True, size=14) if k == 1 else Font(italic=True, color="555555")
        header_row = len(lines) + 2 if lines else 1
        columns = list(df.columns)
        widths = [len(str(c)) for c in columns]
        for j, col in enumerate(columns, start=1):
            cell = ws.cell(row=header_row, column=j, value=str(col))
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center")
        for i, record in enumerate(df.itertuples(index=False, name=None), start=header_row + 1):
            for j, (col, raw) in enumerate(zip(columns, record, strict=True), start=1):
                value = _cell_value(raw)
                if value is None:
                    continue
                cell = ws.cell(row=i, column=j, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula
                elif col in _FORMATS:
                    cell.number_format = _FORMATS[col]
                shown = f"{value:,.0f}" if isinstance(value, (int, float)) and col in _FORMATS else str(value)
                widths[j - 1] = max(widths[j - 1], len(shown))
        for j, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        if columns:
            last = get_column_letter(len(columns))
            ws.auto_filter.ref = f"A{header_row}:{last}{header_row + max(len(df), 1)}"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
