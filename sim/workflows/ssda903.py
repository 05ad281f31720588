"""SSDA903, the children-looked-after return every English authority sends DfE each year.

Two commands speak it, so that the model's runs and a council's own data meet in the format the
sector already uses (docs/ssda903.md has every mapping and its reasons):

- ``cscsim export ssda903 RUN_DIR --out DIR [--authority NAME]`` writes a run's children looked
  after as 903 files, one folder per collection year (``header.csv``, ``episodes.csv``,
  ``uasc.csv``, ``previous_permanence.csv``), with DfE's column names and codes;
- ``cscsim targets ssda903 DIR --authority NAME --out FILE`` reads an authority's own 903
  folders and writes its calibration targets (children in care by placement type, starts by
  age, endings by reason, moves, distances where the postcodes allow), which
  ``cscsim calibrate --targets FILE --region NAME`` fits. The files are read on the machine they
  are on and nothing else is sent anywhere: a council's data never leaves its machine.

The calendar: model week ``w`` begins on 1 April of collection year ``start_year + w // 52``
plus ``7 * (w % 52)`` days, so each simulated year is one collection year and its last week ends
before 31 March. Within a week, events keep the model's order on separate days (see
:data:`DAY`), and a child born in week ``b`` was born on the day that week begins, so ages in
whole years read from the dates equal the model's. Identifiers, postcodes and URNs are visibly
synthetic; sex and ethnicity, which the model does not have, are drawn deterministically from
the child's id.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError

WEEKS = 52
DEFAULT_START_YEAR = 2024
DATE_FORMAT = "%d/%m/%Y"

# --- DfE's layout and code lists (the 903 guidance; docs/ssda903.md) ---------------------------

HEADER = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODES = [
    "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
    "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
]  # fmt: skip
UASC = ["CHILD", "SEX", "DOB", "DUC"]
PREV_PERM = ["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"]
TABLES = {
    "header.csv": HEADER,
    "episodes.csv": EPISODES,
    "uasc.csv": UASC,
    "previous_permanence.csv": PREV_PERM,
}

CODES = {
    "SEX": {"1", "2"},
    "RNE": {"S", "L", "P", "T", "B", "U"},
    "LS": {"C1", "C2", "D1", "E1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3"},
    "CIN": {f"N{i}" for i in range(1, 9)},
    "PLACE": {
        "A3", "A4", "A5", "A6", "H5", "K1", "K2", "K3", "P1", "P2", "P3", "R1", "R2", "R3",
        "R5", "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
    },
    "PLACE_PROVIDER": {"PR0", "PR1", "PR2", "PR3", "PR4", "PR5"},
    "REC": {
        "E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E41", "E43", "E44", "E45", "E46",
        "E47", "E48", "E5", "E6", "E7", "E8", "E9", "E14", "E15", "E16", "E17", "X1",
    },
    "REASON_PLACE_CHANGE": {
        "CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD", "LAREQ",
        "PLACE", "CUSTOD", "OTHER",
    },
}  # fmt: skip
#: Fields that may be blank in an episode row (the rest must be filled).
OPTIONAL = {"DEC", "REC", "REASON_PLACE_CHANGE", "PLACE_PROVIDER", "HOME_POST", "PL_POST", "URN"}

# --- the model's kinds and endings as 903 codes --------------------------------------------------

#: Placement kind -> PLACE. Kinship care is fostering by connected persons (U3); the model has
#: no long-term or fostering-for-adoption distinction, so U3 and U6 throughout. Supported
#: accommodation is H5 by default (both sector tools know it); K3 ("registered supported
#: accommodation", in DfE's newer guidance) with ``--supported-code K3``.
#: The model's legal statuses (placements.csv ``legal_status``) as 903 LS codes: section 20
#: accommodation V2, an interim care order C1, a full care order C2, a placement order E1.
LS_OF_LEGAL = {"s20": "V2", "interim": "C1", "care_order": "C2", "placement_order": "E1"}
PLACE_OF_KIND = {
    "kinship": "U3",
    "inhouse_foster": "U6",
    "ifa": "U6",
    "childrens_home": "K2",
    "supported": "H5",
    "emergency": "Z1",  # no registered place free: an unregistered or emergency placement
    "with_parents": "P1",
    # with prospective adopters who were not its foster carers, under a placement order
    "placed_for_adoption": "A4",
}
#: Ending -> REC (moves end an episode, not the period: X1).
REC_OF_END = {
    "breakdown": "X1",
    "moved": "X1",
    "reunified": "E4A",  # home as part of the care plan
    "sgo": "E45",  # special guardianship to the former (kinship) foster carers
    "adopted": "E11",
}
#: Why a placement changed, on the episode that ends with the move: planned moves are the care
#: plan; the model does not say who ended a breakdown, so OTHER.
REASON_OF_END = {"breakdown": "OTHER", "moved": "CARPL"}
#: Day of the week each event happens on (the model's order within a week).
DAY = {"entry": 1, "breakdown": 2, "exit": 3, "move_emergency": 4, "move_on": 5, "aged_out": 1}

#: Reading 903 files back: PLACE (and provider) -> the model's kind, endings -> the model's.
KIND_OF_PLACE = {
    **dict.fromkeys(("U1", "U2", "U3"), "kinship"),
    **dict.fromkeys(("K1", "K2", "R1"), "childrens_home"),
    **dict.fromkeys(("H5", "K3", "P2"), "supported"),
    "Z1": "emergency",
    "P1": "with_parents",
    **dict.fromkeys(("A3", "A4", "A5", "A6"), "placed_for_adoption"),
}
FOSTER_OTHER = ("U4", "U5", "U6")  # in-house if the provider is the authority (PR1), else IFA
REUNIFIED = {"E4A", "E4B", "E13"}
SGO = {"E41", "E43", "E44", "E45", "E46", "E47", "E48"}
ADOPTED = {"E11", "E12"}
PLACEMENT_CHANGE = {"P", "B", "T", "U"}
PLANNED = {"CARPL", "PLACE"}
AGE_BANDS = (
    ("under_1", 0, 1),
    ("1_4", 1, 5),
    ("5_9", 5, 10),
    ("10_15", 10, 16),
    ("16_plus", 16, 99),
)

#: Ethnicity (DfE's codes), drawn per child with these weights: roughly England's children looked
#: after (DfE 2024, rounded), so the files look like a return; the model has no ethnicity.
ETHNIC_WEIGHTS = {
    "WBRI": 0.64, "WIRI": 0.003, "WOTH": 0.06, "WIRT": 0.005, "WROM": 0.007, "MWBC": 0.03,
    "MWBA": 0.015, "MWAS": 0.012, "MOTH": 0.035, "AIND": 0.006, "APKN": 0.012, "ABAN": 0.006,
    "AOTH": 0.025, "BCRB": 0.015, "BAFR": 0.035, "BOTH": 0.02, "CHNE": 0.002, "OOTH": 0.04,
    "REFU": 0.003, "NOBT": 0.009,
}  # fmt: skip
MALE_SHARE = 0.56  # of children looked after (DfE 2024)
POSTCODE = re.compile(r"^ZZ(\d{3}) (\d)([A-Z]{2})$")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters real inward codes use


class Ssda903Error(ConfigError):
    """Bad 903 input: one line naming the file, row and field (the CLI exits 2)."""


# --- calendar and synthetic values ---------------------------------------------------------------


def week_start(week: np.ndarray, start_year: int) -> np.ndarray:
    """The date (datetime64[D]) model week ``week`` begins: 1 April of its collection year plus
    seven days a week, so week 51 ends by 30 March and every year starts afresh on 1 April."""
    week = np.asarray(week, dtype=np.int64)
    year = start_year + np.floor_divide(week, WEEKS)
    april = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(90, "D")
    # 1 April is day 90 of a common year and 91 of a leap year.
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return (
        april + leap.astype("timedelta64[D]") + (7 * np.mod(week, WEEKS)).astype("timedelta64[D]")
    )


def _unit(ids: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per id (splitmix64): the same child always gets the same."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53


def synthetic_sex(ids: np.ndarray) -> np.ndarray:
    return np.where(_unit(ids, 1) < MALE_SHARE, "1", "2")


def synthetic_ethnicity(ids: np.ndarray) -> np.ndarray:
    codes = np.array(list(ETHNIC_WEIGHTS))
    cum = np.cumsum(list(ETHNIC_WEIGHTS.values()))
    return codes[
        np.minimum(np.searchsorted(cum / cum[-1], _unit(ids, 2), side="right"), len(codes) - 1)
    ]


def child_code(ids: np.ndarray) -> np.ndarray:
    """CHILD: 'SIM' and the model's id (a real authority's own ids are never like this)."""
    return np.array([f"SIM{int(i):07d}" for i in ids])


def upn(ids: np.ndarray) -> np.ndarray:
    """UPN in DfE's format (a letter and 12 digits) with authority number 999, which no real
    authority has: Z999 and the model's id."""
    return np.array([f"Z999{int(i):09d}" for i in ids])


def postcode(national_la: np.ndarray, band: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """A postcode no real place has (area ZZ): the authority's national index, its
    neighbourhood (0-2) and two letters telling addresses in one neighbourhood apart (AA is
    the family home; each placement of a child gets the next pair, so a new carer always has a
    new postcode). It decodes back to the model's neighbourhood (:func:`decode_postcode`)."""
    n = len(LETTERS)
    return np.array(
        [
            f"ZZ{int(a):03d} {int(b)}{LETTERS[int(v) // n % n]}{LETTERS[int(v) % n]}"
            for a, b, v in zip(national_la, band, variant, strict=True)
        ]
    )


def decode_postcode(code: str) -> tuple[int, int] | None:
    """(national authority index, neighbourhood band) of a synthetic postcode, else None."""
    m = POSTCODE.match(code.strip().upper()) if isinstance(code, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else None


# --- the exporter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """The parts of a run folder the export reads."""

    placements: pd.DataFrame
    children: pd.DataFrame
    region: str
    years: int
    scale: float
    start_year: int  # the run's calendar: DfE reporting year of simulated year 1


def read_run(run_dir: Path) -> Run:
    """Read a run folder written by ``cscsim run`` (one clear error if it is not one)."""
    run_dir = Path(run_dir)
    need = ("placements.csv", "children.csv", "manifest.json")
    for name in need:
        if not (run_dir / name).is_file():
            raise Ssda903Error(
                f"{run_dir / name}: not found; RUN_DIR must be a folder written by cscsim run "
                f"(it needs {', '.join(need)})"
            )
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
        run = manifest["scenario"]["run"]
    except (ValueError, KeyError, TypeError) as e:
        raise Ssda903Error(f"{run_dir / 'manifest.json'}: not a cscsim manifest ({e})") from None
    pl = pd.read_csv(run_dir / "placements.csv", dtype={"care_order": "boolean"})
    ch = pd.read_csv(run_dir / "children.csv")
    missing = {"placement_node", "la_run", "care_entry_week", "care_order"} - set(pl.columns)
    if missing:
        raise Ssda903Error(
            f"{run_dir / 'placements.csv'}: row 0 (header), field {sorted(missing)[0]}: missing; "
            "the run was written by an older cscsim, run it again"
        )
    return Run(
        pl,
        ch,
        str(run["region"]),
        int(run["years"]),
        float(run["scale"]),
        int(run.get("start_year", DEFAULT_START_YEAR + 1)),
    )


def national_index() -> dict[str, int]:
    """GSS code -> position in England's authority list (the postcodes' authority number)."""
    from sim.region import load_authorities

    return {r["gss_code"]: i for i, r in enumerate(load_authorities())}


def resolve_authority(name: str, allowed: list[dict] | None = None) -> dict:
    """An authority's row from its name or GSS code (case-insensitive), or one clear error."""
    from sim.region import load_authorities

    rows = allowed if allowed is not None else load_authorities()
    key = name.strip().lower()
    for r in rows:
        if key in (r["name"].lower(), r["gss_code"].lower()):
            return r
    where = "this run's region" if allowed is not None else "England's 153 authorities"
    raise Ssda903Error(
        f"--authority: unknown authority {name!r}; give a name or GSS code of one of {where} "
        f"(for example {rows[0]['name']!r})"
    )


def episodes_of_run(run: Run, start_year: int, supported_code: str = "H5") -> pd.DataFrame:
    """Every placement of the run as a 903 episode with real dates (one row per placement:
    every new episode is a new period (S) or a change of placement (P), except the move to
    prospective adopters, which changes the legal status too (B: to a placement order, E1,
    which stays for the rest of the period))."""
    pl = run.placements.sort_values(["child_id", "start_week", "placement_id"], kind="stable")
    pl = pl.reset_index(drop=True)
    ch = run.children.set_index("child_id")
    child = pl["child_id"].to_numpy()
    start = pl["start_week"].to_numpy(np.int64)
    end = pl["end_week"].to_numpy(dtype=float)
    reason = pl["end_reason"].to_numpy(dtype=object)
    kind = pl["provider_kind"].to_numpy(dtype=object)
    same_child = np.r_[False, child[1:] == child[:-1]]
    prev_end = np.r_[np.nan, end[:-1]]
    prev_reason = np.r_[None, reason[:-1]]
    continues = same_child & (prev_end == start) & np.isin(prev_reason, ["breakdown", "moved"])
    period = np.cumsum(~continues)
    birth = ch.loc[child, "birth_week"].to_numpy(np.int64)
    # Day of the week each placement ends on.
    end_day = np.full(len(pl), DAY["exit"])
    end_day[reason == "breakdown"] = DAY["breakdown"]
    end_day[(reason == "moved") & (kind == "emergency")] = DAY["move_emergency"]
    end_day[(reason == "moved") & (kind != "emergency")] = DAY["move_on"]
    end_day[reason == "aged_out"] = DAY["aged_out"]
    open_ = np.isnan(end)
    end_week = np.where(open_, 0, end).astype(np.int64)
    dec = week_start(end_week, start_year) + end_day.astype("timedelta64[D]")
    dec = np.where(open_, np.datetime64("NaT", "D"), dec)
    # A period begins the week the child came into care, which is the week its first placement
    # began, except for the initial stock (children in care when the run began), whose recorded
    # first placement may begin later: their episode begins with that placement, or, if it
    # began in the run's first week, with the entry (dated before the run).
    entered = pl["care_entry_week"].astype("Int64").fillna(pd.Series(start)).to_numpy(np.int64)
    first_week = np.where(continues | (start < 0), start, np.minimum(entered, start))
    decom = week_start(first_week, start_year) + np.timedelta64(DAY["entry"], "D")
    decom = np.where(continues, np.r_[np.datetime64("NaT", "D"), dec[:-1]], decom)
    # The period's legal status and category of need (the model's route into care).
    first = ~continues
    order = pl["care_order"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    uasc = ch.loc[child, "uasc"].to_numpy(bool)
    entry_years = (first_week - birth) // WEEKS
    ls_first = np.where(uasc, "V2", np.where(order, "C2", "V2"))
    if "legal_status" in pl.columns:  # the model's own legal status when the period began
        legal = pl["legal_status"].map(LS_OF_LEGAL).fillna("V2").to_numpy(dtype=object)
        ls_first = np.where(uasc, "V2", legal)
    cin_first = np.where(
        uasc,
        "N8",  # absent parenting
        np.where(
            order,
            "N1",  # abuse or neglect
            np.where(entry_years >= 11, "N4", "N1"),  # a teenager's crisis: family in acute stress
        ),
    )
    first_row = np.flatnonzero(first)[period - 1]
    ls, cin = ls_first[first_row], cin_first[first_row]
    adoptive = kind == "placed_for_adoption"
    placed = pd.Series(adoptive).groupby(period).cummax().to_numpy(bool)  # (in the period)
    ls = np.where(placed, "E1", ls)
    rne = np.where(continues, np.where(adoptive & ~np.r_[False, placed[:-1]], "B", "P"), "S")
    provider = pl["provider_id"].to_numpy(np.int64)
    la_run = pl["la_run"].astype(bool).to_numpy()
    for_profit = pl["for_profit"].astype(bool).to_numpy()
    place = np.array([PLACE_OF_KIND[k] for k in kind], dtype=object)
    place[place == "H5"] = supported_code
    prov = np.where(la_run, "PR1", np.where(for_profit, "PR4", "PR5")).astype(object)
    prov[kind == "kinship"] = "PR1"  # the authority's own connected-persons carers
    prov[kind == "with_parents"] = "PR0"
    prov[kind == "placed_for_adoption"] = "PR1"  # the authority's (regional) adoption agency
    prov[kind == "emergency"] = None  # Z1 has no provider
    rec = np.array([REC_OF_END.get(r) for r in reason], dtype=object)
    aged = reason == "aged_out"
    rec[aged] = np.where(
        np.isin(kind[aged], ["supported", "childrens_home", "emergency"]), "E5", "E17"
    )
    # Ceased at 16-17 not going home: into independent living from supported accommodation
    # (E5), else for another reason (E8).
    left = reason == "left"
    rec[left] = np.where(kind[left] == "supported", "E5", "E8")
    nat = national_index()
    la_nat = np.array([nat[g] for g in pl["home_authority"]])
    home_node = ch.loc[child, "home_node"].to_numpy(np.int64)
    pl_node = pl["placement_node"].to_numpy(np.int64)
    region_nat = _region_national(run.region)
    home_post = postcode(la_nat, home_node % 3, np.zeros(len(pl), int))
    seq = pl.groupby("child_id").cumcount().to_numpy()  # the child's placements, in order
    pl_post = postcode(region_nat[pl_node // 3], pl_node % 3, 1 + seq % (len(LETTERS) ** 2 - 1))
    home_post = np.where(uasc, None, home_post)  # no home in England: DfE records no distance
    pl_post = np.where(kind == "with_parents", home_post, pl_post)
    pl_post = np.where((kind == "with_parents") & uasc, None, pl_post)
    urn = np.where(provider >= 0, [f"SC{int(p):06d}" for p in np.maximum(provider, 0)], "XXXXXXX")
    urn = np.where(np.isin(place, ["H5", "P1", "Z1", "A4"]), None, urn).astype(object)
    return pd.DataFrame(
        {
            "child_id": child,
            "home_authority": pl["home_authority"].to_numpy(),
            "period": period,
            "DECOM": decom,
            "RNE": rne,
            "LS": ls,
            "CIN": cin,
            "PLACE": place,
            "PLACE_PROVIDER": prov,
            "DEC": dec,
            "REC": rec,
            "REASON_PLACE_CHANGE": np.array([REASON_OF_END.get(r) for r in reason], dtype=object),
            "HOME_POST": home_post,
            "PL_POST": pl_post,
            "URN": urn,
        }
    )


def _region_national(region: str) -> np.ndarray:
    """National authority index of each authority of ``region``, in the region's order."""
    from sim.region import load_authorities

    rows = load_authorities()
    nat = np.arange(len(rows))
    if region == "England":
        return nat
    return nat[[r["region"] == region for r in rows]]


def collection_tables(
    run: Run, episodes: pd.DataFrame, year: int, start_year: int
) -> dict[str, pd.DataFrame]:
    """The 903 tables of collection year ``year`` (1 April ``year`` to 31 March ``year + 1``):
    every episode open at some time in it, with endings after 31 March left blank as a return
    made that April would have them."""
    first_day, last_day = np.datetime64(date(year, 4, 1)), np.datetime64(date(year + 1, 3, 31))
    e = episodes[(episodes["DECOM"] <= last_day) & ~(episodes["DEC"] < first_day)].copy()
    after = e["DEC"] > last_day
    e.loc[after, "DEC"] = np.datetime64("NaT", "D")
    e.loc[after, ["REC", "REASON_PLACE_CHANGE"]] = None
    ids = np.unique(e["child_id"].to_numpy())
    ch = run.children.set_index("child_id").loc[ids]
    dob = week_start(ch["birth_week"].to_numpy(np.int64), start_year)
    sex = synthetic_sex(ids)
    header = pd.DataFrame(
        {
            "CHILD": child_code(ids),
            "SEX": sex,
            "DOB": _fmt(dob),
            "ETHNIC": synthetic_ethnicity(ids),
            "UPN": upn(ids),
            "MOTHER": np.where(sex == "2", "0", None),  # the model has no young mothers
            "MC_DOB": None,
        }
    )
    uasc_ids = ids[ch["uasc"].to_numpy(bool)]
    udob = dob[ch["uasc"].to_numpy(bool)]
    uasc = pd.DataFrame(
        {
            "CHILD": child_code(uasc_ids),
            "SEX": synthetic_sex(uasc_ids),
            "DOB": _fmt(udob),
            "DUC": _fmt(_add_years(udob, 18)),  # unaccompanied until 18
        }
    )
    starters = np.unique(e.loc[(e["RNE"] == "S") & (e["DECOM"] >= first_day), "child_id"])
    sdob = week_start(run.children.set_index("child_id").loc[starters, "birth_week"], start_year)
    prev = pd.DataFrame(
        {
            "CHILD": child_code(starters),
            "DOB": _fmt(sdob),
            "PREV_PERM": "Z1",  # no child in the model returns to care after adoption or an SGO
            "LA_PERM": None,
            "DATE_PERM": None,
        }
    )
    out = e.sort_values(["child_id", "DECOM"], kind="stable")
    out["CHILD"] = child_code(out["child_id"].to_numpy())
    out["DECOM"], out["DEC"] = _fmt(out["DECOM"].to_numpy()), _fmt(out["DEC"].to_numpy())
    return {
        "header.csv": header,
        "episodes.csv": out[EPISODES],
        "uasc.csv": uasc,
        "previous_permanence.csv": prev,
    }


def _fmt(d: np.ndarray) -> np.ndarray:
    s = pd.Series(pd.to_datetime(np.asarray(d, dtype="datetime64[D]")))
    return s.dt.strftime(DATE_FORMAT).where(s.notna(), None).to_numpy(dtype=object)


def _add_years(d: np.ndarray, years: int) -> np.ndarray:
    return (
        pd.to_datetime(np.asarray(d, dtype="datetime64[D]")) + pd.DateOffset(years=years)
    ).to_numpy()


def export(
    run_dir: Path,
    out: Path,
    authority: str | None = None,
    start_year: int = DEFAULT_START_YEAR,
    supported_code: str = "H5",
) -> list[Path]:
    """Write the run's 903 files: ``out/<year>/`` for one authority, or
    ``out/<GSS code>/<year>/`` for every authority of the run. ``<year>`` is the year the
    collection ends (DfE's "year ending 31 March"). All or nothing; returns the folders."""
    from sim.output import staged, write_csv

    run = read_run(run_dir)
    from sim.region import load_authorities

    in_region = [
        r for r in load_authorities() if run.region == "England" or r["region"] == run.region
    ]
    chosen = [resolve_authority(authority, in_region)] if authority else in_region
    episodes = episodes_of_run(run, start_year, supported_code)
    written = []
    with staged(out) as stage:
        for la in chosen:
            mine = episodes[episodes["home_authority"] == la["gss_code"]]
            base = stage if authority else stage / la["gss_code"]
            for k in range(run.years):
                year = start_year + k
                folder = base / str(year + 1)
                folder.mkdir(parents=True)
                for name, table in collection_tables(run, mine, year, start_year).items():
                    write_csv(table, folder / name)
                written.append(Path(out) / folder.relative_to(stage))
        readme = (
            f"SSDA903 files exported by cscsim from {Path(run_dir).resolve()} (region "
            f"{run.region}, scale {run.scale:g}); collection years {start_year}-"
            f"{start_year + run.years}; folders are named by the year each collection ends. "
            "Every identifier, postcode and URN is synthetic; see docs/ssda903.md.\n"
        )
        (stage / "README.txt").write_text(readme)
    return written


# --- reading 903 files ---------------------------------------------------------------------------


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise Ssda903Error(f"{path}: cannot be read as CSV ({e})") from None
    df.columns = [c.strip().upper() for c in df.columns]
    for col in columns:
        if col not in df.columns:
            raise Ssda903Error(f"{path}: row 0 (header), field {col}: missing column")
    df = df.apply(lambda s: s.str.strip())
    return df.replace("", None)


def _dates(df: pd.DataFrame, col: str, path: Path, required: bool) -> pd.Series:
    raw = df[col]
    parsed = pd.to_datetime(raw, format=DATE_FORMAT, errors="coerce")
    bad = (raw.notna() & parsed.isna()) | (required & raw.isna())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        what = "missing" if raw.iloc[i] is None else f"{raw.iloc[i]!r} is not a date (DD/MM/YYYY)"
        raise Ssda903Error(f"{path}: row {i + 1}, field {col}: {what}")
    return parsed


def _codes(df: pd.DataFrame, col: str, path: Path, optional: bool) -> None:
    raw = df[col]
    bad = ~raw.isin(CODES[col]) & ~(optional & raw.isna())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        value = raw.iloc[i]
        what = "missing" if value is None else f"unknown code {value!r}"
        raise Ssda903Error(
            f"{path}: row {i + 1}, field {col}: {what}; allowed: {', '.join(sorted(CODES[col]))}"
        )


@dataclass(frozen=True)
class Collection:
    """One collection year's header and episodes, checked."""

    year: int  # the year the collection ends (31 March)
    header: pd.DataFrame
    episodes: pd.DataFrame


def read_collection(folder: Path) -> Collection:
    """Read and check one year folder: every column, code and date, and dates in order."""
    year = int(folder.name)
    files = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for name in ("header.csv", "episodes.csv"):
        if name not in files:
            raise Ssda903Error(
                f"{folder / name}: not found; each year folder needs header.csv and episodes.csv"
            )
    hp, ep = files["header.csv"], files["episodes.csv"]
    header = _read_table(hp, HEADER)
    _codes(header, "SEX", hp, optional=False)
    header["DOB"] = _dates(header, "DOB", hp, required=True)
    if header["CHILD"].isna().any():
        i = int(np.flatnonzero(header["CHILD"].isna().to_numpy())[0])
        raise Ssda903Error(f"{hp}: row {i + 1}, field CHILD: missing")
    episodes = _read_table(ep, EPISODES)
    for col in ("RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "REC", "REASON_PLACE_CHANGE"):
        _codes(episodes, col, ep, optional=col in OPTIONAL)
    episodes["DECOM"] = _dates(episodes, "DECOM", ep, required=True)
    episodes["DEC"] = _dates(episodes, "DEC", ep, required=False)
    backwards = episodes["DEC"] < episodes["DECOM"]
    if backwards.any():
        i = int(np.flatnonzero(backwards.to_numpy())[0])
        raise Ssda903Error(
            f"{ep}: row {i + 1}, field DEC: dates out of order (DEC is before DECOM)"
        )
    dob = episodes["CHILD"].map(header.drop_duplicates("CHILD").set_index("CHILD")["DOB"])
    unknown = dob.isna()
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise Ssda903Error(
            f"{ep}: row {i + 1}, field CHILD: {episodes['CHILD'].iloc[i]!r} is not in {hp.name}"
        )
    early = episodes["DECOM"] < dob
    if early.any():
        i = int(np.flatnonzero(early.to_numpy())[0])
        raise Ssda903Error(
            f"{ep}: row {i + 1}, field DECOM: dates out of order (DECOM is before the child's DOB)"
        )
    ended = episodes["REC"].notna() & episodes["DEC"].isna()
    if ended.any():
        i = int(np.flatnonzero(ended.to_numpy())[0])
        raise Ssda903Error(f"{ep}: row {i + 1}, field DEC: missing (REC says the episode ended)")
    episodes["DOB"] = dob
    return Collection(year, header, episodes)


def read_folder(folder: Path) -> list[Collection]:
    """Every year folder (named by the year its collection ends) under ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Ssda903Error(f"{folder}: not a folder of SSDA903 year folders")
    years = sorted(p for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name))
    if not years:
        raise Ssda903Error(
            f"{folder}: no year folders (e.g. {folder}/2025/episodes.csv, named by the year the "
            "collection ends)"
        )
    return [read_collection(p) for p in years]


# --- targets from 903 files ----------------------------------------------------------------------


def _age(dob: pd.Series, when: pd.Series) -> np.ndarray:
    """Whole years of age on ``when`` (birthdays counted on the day)."""
    years = when.dt.year - dob.dt.year
    before = (when.dt.month < dob.dt.month) | (
        (when.dt.month == dob.dt.month) & (when.dt.day < dob.dt.day)
    )
    return (years - before).to_numpy()


def _kinds(e: pd.DataFrame) -> np.ndarray:
    kind = e["PLACE"].map(KIND_OF_PLACE).to_numpy(dtype=object)
    other_foster = e["PLACE"].isin(FOSTER_OTHER).to_numpy()
    own = (e["PLACE_PROVIDER"] == "PR1").to_numpy()
    kind[other_foster & own] = "inhouse_foster"
    kind[other_foster & ~own] = "ifa"
    return kind


def indicators_of(collection: Collection, authority: dict, distance) -> dict[str, float]:
    """The model's indicators for one authority and year, counted from its 903 episodes as the
    model counts them (docs/indicators.md): stocks at 31 March, flows during the year."""
    e = collection.episodes.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)
    first = pd.Timestamp(date(collection.year - 1, 4, 1))
    last = pd.Timestamp(date(collection.year, 3, 31))
    during = (e["DEC"].isna() | (e["DEC"] >= first)) & (e["DECOM"] <= last)
    e = e[during].reset_index(drop=True)
    open_end = e["DEC"].isna() | (e["DEC"] > last)
    out: dict[str, float] = {}
    stock = e[open_end].drop_duplicates("CHILD", keep="last")
    out["cla"] = float(len(stock))
    kinds = _kinds(stock)
    for k in PLACE_OF_KIND:
        out[f"cla_{k}"] = float(np.sum(kinds == k))
    # Placements during the year of each child in care at 31 March (episodes that began with a
    # new placement, or were open on 1 April).
    new_place = e["RNE"].isin({"S"} | PLACEMENT_CHANGE) | (e["DECOM"] < first)
    per_child = e[new_place].groupby("CHILD").size()
    out["cla_3plus"] = float((stock["CHILD"].map(per_child).fillna(0) >= 3).sum())
    starts = e[(e["RNE"] == "S") & (e["DECOM"] >= first)]
    out["care_entries"] = float(len(starts))
    age = _age(starts["DOB"], starts["DECOM"])
    for band, lo, hi in AGE_BANDS:
        out[f"entries_age_{band}"] = float(np.sum((age >= lo) & (age < hi)))
    ended = e[e["DEC"].notna() & (e["DEC"] >= first) & (e["DEC"] <= last)]
    exits = ended[ended["REC"] != "X1"]
    out["care_exits"] = float(len(exits))
    adult = _age(exits["DOB"], exits["DEC"]) >= 18
    out["exits_reunified"] = float(exits["REC"].isin(REUNIFIED).sum())
    out["exits_sgo"] = float(exits["REC"].isin(SGO).sum())
    out["exits_adopted"] = float(exits["REC"].isin(ADOPTED).sum())
    other = ~exits["REC"].isin(REUNIFIED | SGO | ADOPTED).to_numpy()
    out["exits_aged_out"] = float((adult & other).sum())
    out["exits_left"] = float((~adult & other).sum())
    nxt_child, nxt_rne = e["CHILD"].shift(-1), e["RNE"].shift(-1)
    moved = (
        (e["REC"] == "X1")
        & e["DEC"].between(first, last)
        & (nxt_child == e["CHILD"])
        & nxt_rne.isin(PLACEMENT_CHANGE)
    )
    out["placement_moves"] = float(moved.sum())
    out["placement_breakdowns"] = float((moved & ~e["REASON_PLACE_CHANGE"].isin(PLANNED)).sum())
    # Distance and location at 31 March, where the postcodes say where home and placement are.
    if distance is not None:
        located = [
            distance(h, p) for h, p in zip(stock["HOME_POST"], stock["PL_POST"], strict=True)
        ]
        miles = np.array([np.nan if m is None else m[0] for m in located], dtype=float)
        place_la = [distance.authority_of(p) for p in stock["PL_POST"]]
        known = np.isfinite(miles)
        out["cla_distance_known"] = float(known.sum())
        out["cla_over_20"] = float(np.sum(miles[known] > 20))
        out["cla_miles"] = float(miles[known].sum())
        out["cla_out_of_area"] = float(
            sum(1 for a in place_la if a is not None and a != authority["gss_code"])
        )
    return out


class SyntheticDistances:
    """Distances between cscsim's synthetic postcodes: each decodes to one of the model's
    neighbourhoods, and the model's road miles between them apply (float32, as the model keeps
    them); a child placed at the home postcode itself (with parents) is 0 miles away."""

    def __init__(self) -> None:
        from sim.region import england, load_authorities

        self.region = england("England")
        self.codes = [r["gss_code"] for r in load_authorities()]

    def _node(self, code) -> int | None:
        d = decode_postcode(code)
        if d is None or d[0] >= len(self.codes) or d[1] > 2:
            return None
        return 3 * d[0] + d[1]

    def __call__(self, home, place) -> tuple[float] | None:
        h, p = self._node(home), self._node(place)
        if h is None or p is None:
            return None
        if str(home).strip().upper() == str(place).strip().upper():
            return (0.0,)
        return (float(np.float32(self.region.distance[h, p])),)

    def authority_of(self, code) -> str | None:
        n = self._node(code)
        return None if n is None else self.codes[n // 3]


def derived(counts: dict[str, float], children: float | None) -> dict[str, float]:
    """Shares and rates from counts, defined exactly as sim/indicators.py defines them."""
    out = dict(counts)
    cla = counts["cla"]

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else float("nan")

    for k in PLACE_OF_KIND:
        out[f"share_{k}"] = ratio(counts[f"cla_{k}"], cla)
    out["share_3plus_placements_in_year"] = ratio(counts["cla_3plus"], cla)
    for band, _, _ in AGE_BANDS:
        out[f"share_starts_age_{band}"] = ratio(
            counts[f"entries_age_{band}"], counts["care_entries"]
        )
    if "cla_miles" in counts:
        out["share_over_20_miles"] = ratio(counts["cla_over_20"], cla)
        out["share_out_of_area"] = ratio(counts["cla_out_of_area"], cla)
        out["mean_distance_miles"] = ratio(counts["cla_miles"], counts["cla_distance_known"])
    if children:
        out["cla_rate_per_10k"] = cla / children * 1e4
        out["care_entries_rate_per_10k"] = counts["care_entries"] / children * 1e4
    return out


#: What each target is, for the targets file and the calibration loss (kind: share, rate or
#: count; counts are written for reference but not fitted, as they depend on the sample size).
TARGET_KINDS = {
    "cla_rate_per_10k": ("rate", "rates per 10,000"),
    "care_entries_rate_per_10k": ("rate", "rates per 10,000"),
    **{f"share_{k}": ("share", "placement mix") for k in PLACE_OF_KIND},
    **{f"share_starts_age_{b}": ("share", "starts by age") for b, _, _ in AGE_BANDS},
    "share_3plus_placements_in_year": ("share", "stability"),
    "share_over_20_miles": ("share", "distance"),
    "share_out_of_area": ("share", "distance"),
    "mean_distance_miles": ("rate", "distance"),
}
COUNTS = (
    "cla", "care_entries", "care_exits", "exits_reunified", "exits_sgo", "exits_adopted",
    "exits_aged_out", "exits_left", "placement_moves", "placement_breakdowns",
    *(f"entries_age_{b}" for b, _, _ in AGE_BANDS),
)  # fmt: skip


def targets_frame(folder: Path, authority: str, scale: float = 1.0) -> pd.DataFrame:
    """An authority's calibration targets, one row per indicator and collection year."""
    from sim.region import CHILD_SHARE

    la = resolve_authority(authority)
    collections = read_folder(folder)
    synthetic = all(
        decode_postcode(p) is not None
        for c in collections
        for p in c.episodes["PL_POST"].dropna().head(50)
    ) and any(c.episodes["PL_POST"].notna().any() for c in collections)
    distance = SyntheticDistances() if synthetic else None
    children = float(la["population_2020"]) * CHILD_SHARE * scale
    rows = []
    for c in collections:
        values = derived(indicators_of(c, la, distance), children)
        source = f"SSDA903 {Path(folder).name}/{c.year} (year ending 31 March {c.year})"
        for name in COUNTS:
            rows.append((c.year, name, values[name], "count", "counts", source))
        for name, (kind, group) in TARGET_KINDS.items():
            if name in values and np.isfinite(values[name]):
                rows.append((c.year, name, values[name], kind, group, source))
    df = pd.DataFrame(rows, columns=["year", "indicator", "value", "kind", "group", "source"])
    df.insert(0, "gss_code", la["gss_code"])
    df.insert(0, "authority", la["name"])
    return df


# --- the commands --------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    start_year = args.start_year
    if start_year is None:  # the run's own calendar: year 1 is the collection ending then
        start_year = read_run(Path(args.run_dir)).start_year - 1
    if start_year < 1991 or start_year > 2100:
        raise Ssda903Error(f"--start-year = {start_year} is out of range: 1991 to 2100")
    folders = export(
        Path(args.run_dir), Path(args.out), args.authority, start_year, args.supported_code
    )
    print(f"wrote {len(folders)} collection-year folders of SSDA903 files to {args.out}/")
    return 0


def cmd_targets(args: argparse.Namespace) -> int:
    from sim.output import write_csv

    if not 0 < args.scale <= 1:
        raise Ssda903Error(f"--scale = {args.scale} is out of range: above 0, at most 1")
    df = targets_frame(Path(args.dir), args.authority, args.scale)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        write_csv(df, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    fitted = df[df["kind"] != "count"]["indicator"].nunique()
    print(
        f"wrote {out}: {fitted} targets for {df['authority'].iloc[0]} over "
        f"{df['year'].nunique()} collection years"
    )
    return 0


def register(sub) -> None:
    exp = sub.add_parser("export", help="write a run in the sector's formats")
    fmt = exp.add_subparsers(dest="format", required=True, parser_class=type(exp))
    p = fmt.add_parser("ssda903", help="children looked after as DfE SSDA903 files")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by cscsim run")
    p.add_argument("--out", required=True, help="folder to write (one folder per year)")
    p.add_argument("--authority", help="one authority (name or GSS code); default: every one")
    p.add_argument(
        "--start-year",
        type=int,
        default=None,
        help="the year in which simulated year 1's collection begins on 1 April (default: the "
        "run's own calendar, run.start_year - 1)",
    )
    p.add_argument(
        "--supported-code",
        choices=("H5", "K3"),
        default="H5",
        help="PLACE code for supported accommodation (default H5; K3 in DfE's newer guidance)",
    )
    p.set_defaults(func=cmd_export)
    tgt = sub.add_parser("targets", help="calibration targets from an authority's own data")
    fmt = tgt.add_subparsers(dest="format", required=True, parser_class=type(tgt))
    q = fmt.add_parser("ssda903", help="from SSDA903 year folders")
    q.add_argument("dir", metavar="DIR", help="folder of year folders (e.g. DIR/2025/episodes.csv)")
    q.add_argument("--authority", required=True, help="the authority (name or GSS code)")
    q.add_argument("--out", required=True, help="targets file to write (CSV)")
    q.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="share of the authority's children the files cover (for files exported from a "
        "sampled run; default 1)",
    )
    q.set_defaults(func=cmd_targets)
