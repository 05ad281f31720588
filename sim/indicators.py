"""The one definition of every reported indicator.

Indicators are of three kinds:

- ``flow``: counted over the simulated year (52 weeks), like DfE's "during the year" figures;
- ``stock``: counted at the year's last week, like DfE's "at 31 March" snapshots;
- ``ratio``: a rate or share computed from two of the above, identically for one authority and
  for the whole region (numerators and denominators are summed first, never averaged).

Counts and money are for the simulated sample (``run.scale`` of the area's families): divide by
the scale for an estimate of the whole area. ``docs/indicators.md`` is generated from
:data:`INDICATORS` (``cscsim indicators``) and a test keeps it in step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import kernels
from sim.parameters import SCHEDULABLE
from sim.population import IS_FOSTER_FAMILY, WEEKS_PER_YEAR, Case, Kind, Legal


@dataclass(frozen=True)
class Indicator:
    name: str
    kind: str  # flow, stock, ratio
    unit: str
    definition: str
    num: str = ""
    den: str = ""
    per: float = 1.0


_I = Indicator
KIND_NAMES = [k.name.lower() for k in Kind]
#: The first year of age of each band after the first (AGE_BANDS, DfE's bands).
AGE_EDGES = np.array([1, 5, 10, 16])
AGE_BANDS = {
    "under_1": "under 1",
    "1_4": "1 to 4",
    "5_9": "5 to 9",
    "10_15": "10 to 15",
    "16_plus": "16 or over",
}

INDICATORS: tuple[Indicator, ...] = (
    _I(
        "children",
        "stock",
        "children",
        "children under 18 living in the area's families, at "
        "home or looked after (children adopted or under a special guardianship order leave the "
        "birth family's count)",
    ),
    _I(
        "cla",
        "stock",
        "children",
        "children looked after (DfE: in the care of the authority) at year end",
    ),
    _I(
        "cla_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children looked after per 10,000 children",
        "cla",
        "children",
        1e4,
    ),
    _I(
        "care_entries",
        "flow",
        "children",
        "children who started to be looked after during the "
        "year (DfE 'starts'; a child entering twice counts twice; includes UASC)",
    ),
    _I(
        "care_entries_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "care entries per 10,000 children at year end",
        "care_entries",
        "children",
        1e4,
    ),
    _I(
        "uasc_entries",
        "flow",
        "children",
        "unaccompanied asylum-seeking children who started "
        "to be looked after (the exogenous inflow)",
    ),
    *(
        _I(f"entries_age_{b}", "flow", "children", f"care entries aged {label} at entry")
        for b, label in AGE_BANDS.items()
    ),
    *(
        _I(
            f"share_starts_age_{b}",
            "ratio",
            "share",
            f"share of care entries aged {label}",
            f"entries_age_{b}",
            "care_entries",
        )
        for b, label in AGE_BANDS.items()
    ),
    _I("care_exits", "flow", "children", "children who ceased to be looked after during the year"),
    *(
        _I(f"exits_{r}", "flow", "children", f"care exits by {r.replace('_', ' ')}")
        for r in ("reunified", "sgo", "adopted", "aged_out")
    ),
    _I("exits_left", "flow", "children", "care exits at 16 or 17 not going home (DfE: moved "
       "into independent living, or ceased for any other reason)"),
    _I(
        "care_exits_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children who ceased to be looked after per 10,000 children at year end (DfE 'ceased')",
        "care_exits",
        "children",
        1e4,
    ),
    _I(
        "adoptions_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children adopted from care per 10,000 children at year end",
        "exits_adopted",
        "children",
        1e4,
    ),
    _I(
        "sgo_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children who ceased to be looked after under a special guardianship order per 10,000 "
        "children at year end",
        "exits_sgo",
        "children",
        1e4,
    ),
    _I("exits_aged_16_17", "flow", "children", "care exits aged 16 or 17 on ceasing, for any "
       "reason"),
    _I("exits_within_2_weeks", "flow", "children", "care exits after under two weeks in care "
       "(the period of care that ended)"),
    _I("exits_within_1_year", "flow", "children", "care exits after under a year in care "
       "(the period of care that ended)"),
    *(
        _I(name, "ratio", "share",
           f"share of the children who ceased to be looked after who {who}", num, "care_exits")
        for name, num, who in (
            ("share_exits_16_17", "exits_aged_16_17",
             "were 16 or 17 on ceasing (DfE's age on ceasing)"),
            ("share_exits_at_18", "exits_aged_out", "ceased on their 18th birthday"),
            ("share_exits_within_2_weeks", "exits_within_2_weeks",
             "had been looked after for under two weeks (DfE's duration of the latest period "
             "of care)"),
            ("share_exits_within_1_year", "exits_within_1_year",
             "had been looked after for under a year (DfE's duration of the latest period of "
             "care)"),
            ("share_exits_home", "exits_reunified",
             "went home to their family (DfE's reason 'returned home to live with parents or "
             "relatives')"),
        )
    ),
    _I(
        "referrals",
        "flow",
        "referrals",
        "referrals to children's social care, one per child "
        "living at home in the referred family (DfE counts referrals of children)",
    ),
    _I(
        "referrals_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "referrals per 10,000 children",
        "referrals",
        "children",
        1e4,
    ),
    _I("referrals_health_visitors", "flow", "referrals", "referrals made by health visitors"),
    _I(
        "s47_enquiries",
        "flow",
        "enquiries",
        "Section 47 enquiries, one per child at home in the family",
    ),
    _I(
        "s47_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "Section 47 enquiries per 10,000 children",
        "s47_enquiries",
        "children",
        1e4,
    ),
    _I(
        "assessments",
        "flow",
        "children",
        "children whose referral was accepted for a social-work assessment (one per child at "
        "home in the family)",
    ),
    _I(
        "adolescent_crises",
        "flow",
        "children",
        "teenagers whose harm outside the home brought them into care (the model's crises)",
    ),
    _I(
        "icpc",
        "flow",
        "children",
        "children subject to an initial child protection conference after a Section 47 "
        "enquiry (one per child at home in the family)",
    ),
    _I(
        "icpc_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "initial child protection conferences per 10,000 children",
        "icpc",
        "children",
        1e4,
    ),
    _I("cpp_starts", "flow", "plans", "children who became the subject of a child protection plan"),
    _I(
        "cpp_starts_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children who became the subject of a plan per 10,000 children",
        "cpp_starts",
        "children",
        1e4,
    ),
    _I(
        "cpp_starts_repeat",
        "flow",
        "plans",
        "of the children who became the subject of a plan, those who had been on a plan "
        "before (DfE CIN table D3: a second or subsequent plan)",
    ),
    _I(
        "share_cpp_starts_repeat",
        "ratio",
        "share",
        "share of the children who became the subject of a plan who had been on one before "
        "(DfE CIN table D3)",
        "cpp_starts_repeat",
        "cpp_starts",
    ),
    _I(
        "cpp_ended",
        "flow",
        "plans",
        "children whose child protection plan ended (at a review conference, or on coming "
        "into care), counted as the children at home in the family",
    ),
    _I(
        "cpp_ended_2y",
        "flow",
        "plans",
        "of the plans ended, those that had lasted two years or more (DfE CIN table D7)",
    ),
    _I(
        "share_cpp_ended_2y",
        "ratio",
        "share",
        "share of the plans ended that had lasted two years or more (DfE CIN table D7)",
        "cpp_ended_2y",
        "cpp_ended",
    ),
    _I(
        "cpp_ended_3m",
        "flow",
        "plans",
        "of the plans ended, those that had lasted three months or less (DfE CIN table D7)",
    ),
    _I(
        "share_cpp_ended_3m",
        "ratio",
        "share",
        "share of the plans ended that had lasted three months or less (DfE CIN table D7)",
        "cpp_ended_3m",
        "cpp_ended",
    ),
    _I(
        "cpp_ended_3_6m",
        "flow",
        "plans",
        "of the plans ended, those that had lasted more than three months and up to six (DfE "
        "CIN table D7)",
    ),
    _I(
        "share_cpp_ended_3_6m",
        "ratio",
        "share",
        "share of the plans ended that had lasted more than three months and up to six (DfE "
        "CIN table D7)",
        "cpp_ended_3_6m",
        "cpp_ended",
    ),
    _I(
        "cpp_ended_1_2y",
        "flow",
        "plans",
        "of the plans ended, those that had lasted a year or more but less than two (DfE CIN "
        "table D7)",
    ),
    _I(
        "share_cpp_ended_1_2y",
        "ratio",
        "share",
        "share of the plans ended that had lasted a year or more but less than two (DfE CIN "
        "table D7)",
        "cpp_ended_1_2y",
        "cpp_ended",
    ),
    _I(
        "cin",
        "stock",
        "children",
        "children in need at year end (DfE CIN census): children at "
        "home in a family under assessment, with a child-in-need case, on a plan or with a "
        "sibling in care, plus all children looked after and children in need because of "
        "their own disability (ODD 7.5)",
    ),
    _I(
        "cin_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children in need per 10,000 children",
        "cin",
        "children",
        1e4,
    ),
    _I(
        "cpp",
        "stock",
        "children",
        "children at home who are the subject of a child protection plan at year end",
    ),
    _I(
        "cpp_rate_per_10k",
        "ratio",
        "per 10,000 children",
        "children on plans per 10,000 children",
        "cpp",
        "children",
        1e4,
    ),
    _I("early_help_started", "flow", "families", "families starting an early-help episode"),
    _I("early_help_places", "stock", "families", "early-help places the year's budget buys"),
    _I("early_help_waiting", "stock", "families", "families waiting for early help at year end"),
    _I(
        "hv_contacts",
        "flow",
        "contacts",
        "health-visitor contacts delivered: the five mandated "
        "contacts (antenatal and new-birth counted at birth) plus weeks of targeted visits",
    ),
    _I(
        "placement_breakdowns",
        "flow",
        "placements",
        "placements ending unplanned (a breakdown: the child moves)",
    ),
    _I(
        "placement_moves",
        "flow",
        "moves",
        "moves from one placement to another during care: breakdowns plus planned moves out "
        "of emergency placements into registered ones, on to supported accommodation and to "
        "prospective adopters",
    ),
    _I("placed_for_adoption", "flow", "children",
       "children placed with prospective adopters (under a placement order, still looked "
       "after until the adoption order; care.placed_for_adoption_weeks, 0 = off)"),
    _I("home_step_ups", "flow", "children",
       "children of 10-17 moved up to a children's home after their foster placement broke "
       "down (care.step_up_probability)"),
    _I("care_weeks", "flow", "child-weeks", "weeks spent in care by all children in the year"),
    _I(
        "placement_breakdown_rate",
        "ratio",
        "per child-year in care",
        "placement breakdowns per child-year spent in care",
        "placement_breakdowns",
        "care_years",
    ),
    _I(
        "share_3plus_placements_in_year",
        "ratio",
        "share",
        "share of children looked after at year end "
        "who had 3 or more placements during the year (DfE placement stability measure)",
        "cla_3plus",
        "cla",
    ),
    _I(
        "share_over_20_miles",
        "ratio",
        "share",
        "share of children looked after at year end "
        "placed more than 20 road miles from their home neighbourhood, as DfE records it: an "
        "unaccompanied asylum-seeking child has no home in England, so its distance is 'not "
        "known' and it counts in the denominator but never as over 20 miles",
        "cla_over_20",
        "cla",
    ),
    _I(
        "share_out_of_area",
        "ratio",
        "share",
        "share of children looked after at year end placed outside their home authority",
        "cla_out_of_area",
        "cla",
    ),
    _I(
        "mean_distance_miles",
        "ratio",
        "miles",
        "mean road miles from home neighbourhood to placement of children looked after at year "
        "end whose home is known (all but unaccompanied asylum-seeking children)",
        "cla_miles",
        "cla_distance_known",
    ),
    _I(
        "for_profit_share",
        "ratio",
        "share",
        "share of children looked after at year end placed "
        "with a for-profit provider (including emergency placements)",
        "cla_for_profit",
        "cla",
    ),
    _I(
        "sibling_separation_share",
        "ratio",
        "share",
        "of children looked after at year end with "
        "a sibling in care, the share living apart from at least one of them",
        "cla_separated",
        "cla_with_sibling_in_care",
    ),
    _I(
        "family_contact_lost_share",
        "ratio",
        "share",
        "share of children looked after at year "
        "end whose contact with their birth family has lapsed",
        "cla_contact_lost",
        "cla",
    ),
    *(
        _I(
            f"share_{k}",
            "ratio",
            "share",
            f"share of children looked after at year end in a {k.replace('_', ' ')} placement",
            f"cla_{k}",
            "cla",
        )
        for k in KIND_NAMES
    ),
    *(
        _I(
            f"share_home_after_{k}_breakdown",
            "ratio",
            "share",
            f"share of the children in a children's home at year end whose placement there "
            f"followed the breakdown of a {label} (Ofsted, 'Why do children go into children's "
            f"homes?', 2022, of the children in the homes it visited in late 2019: {pct})",
            f"cla_home_after_{k}_breakdown",
            "cla_childrens_home",
        )
        for k, label, pct in (("foster", "foster placement", "41%"),
                              ("home", "children's home placement", "15%"))
    ),
    _I("spend_early_help_gbp", "flow", "GBP", "spending on early-help places"),
    _I("spend_social_work_gbp", "flow", "GBP", "spending on social workers"),
    _I(
        "spend_placements_gbp",
        "flow",
        "GBP",
        "spending on placements (weekly prices, kinship allowances and emergency placements)",
    ),
    _I("spend_total_gbp", "flow", "GBP", "early help + social work + placements"),
    _I(
        "budget_gbp",
        "flow",
        "GBP",
        "the year's budget: early help + social work + placements, accrued week by week at "
        "the lever values in force",
    ),
    _I(
        "overspend_gbp",
        "flow",
        "GBP",
        "spending above the year's budget (zero if within it); "
        "the crisis trap takes a share of it from next year's early help",
    ),
    _I(
        "spend_policy_gbp",
        "flow",
        "GBP",
        "the cost of what the scenario's [[policies]] bought that year (places, FTE, "
        "allowances, funding at their unit costs; recruitment and homes when bought), in the "
        "authority they are for (docs/policies.md); zero without policies. A memo item: not "
        "in spend_total_gbp, budget_gbp or overspend_gbp (the grant pays for it), and the "
        "part that buys early-help places or social-work posts also shows in "
        "spend_early_help_gbp or spend_social_work_gbp, where the model costs them",
    ),
    _I(
        "provider_profit_gbp",
        "flow",
        "GBP",
        "for-profit providers' operating profit on the placements commissioned (price less cost)",
    ),
    _I(
        "early_help_spend_per_child_gbp",
        "ratio",
        "GBP per child",
        "early-help spending per child",
        "spend_early_help_gbp",
        "children",
    ),
    _I(
        "placement_spend_per_child_gbp",
        "ratio",
        "GBP per child",
        "placement spending per child",
        "spend_placements_gbp",
        "children",
    ),
    _I("providers_entered", "flow", "providers", "for-profit providers opening in the year"),
    # --- court and legal status ----------------------------------------------------------
    _I("proceedings_issued", "flow", "families", "care proceedings issued (one per family)"),
    _I("care_orders", "flow", "families", "final hearings that made a care order"),
    _I("hearing_sgos", "flow", "families", "final hearings that made a special guardianship "
       "order to a relative instead of a care order"),
    *(
        _I(f"cla_age_{b}", "stock", "children", f"children looked after aged {label} at year "
           "end")
        for b, label in AGE_BANDS.items()
    ),
    *(
        _I(f"share_cla_age_{b}", "ratio", "share",
           f"share of children looked after at year end aged {label} (DfE's age at 31 March)",
           f"cla_age_{b}", "cla")
        for b, label in AGE_BANDS.items()
    ),
    _I("cla_s20", "stock", "children", "children looked after under section 20 (voluntary "
       "accommodation) at year end"),
    _I("cla_interim", "stock", "children", "children looked after under an interim care order "
       "(proceedings not yet decided) at year end"),
    _I(
        "share_s20",
        "ratio",
        "share",
        "share of children looked after at year end accommodated under section 20",
        "cla_s20",
        "cla",
    ),
    # --- population ---------------------------------------------------------------------
    _I("births", "flow", "children", "live births into the area's families during the year"),
    _I(
        "children_0_17",
        "stock",
        "children",
        "children aged 0-17 in the area at year end, as ONS counts them: at home, looked "
        "after, or adopted or under special guardianship (they stay, with a new family); not "
        "those who moved away",
    ),
    # --- repeat involvement -------------------------------------------------------------
    _I(
        "rereferrals_12m",
        "flow",
        "referrals",
        "referrals of children whose family was last referred within the previous 12 months",
    ),
    _I(
        "rereferral_share_12m",
        "ratio",
        "share",
        "share of referrals within 12 months of a previous referral (DfE's re-referral rate)",
        "rereferrals_12m",
        "referrals",
    ),
    _I(
        "care_reentries",
        "flow",
        "children",
        "care entries of children who had been looked after before (re-entry after going home "
        "or a breakdown of special guardianship)",
    ),
    _I(
        "care_reentries_12m",
        "flow",
        "children",
        "care entries of children who had gone home from care in the previous 12 months",
    ),
    _I(
        "reentry_share_12m",
        "ratio",
        "share",
        "children coming back into care within 12 months of going home, per child going home "
        "in the year (a steady-state estimate of the share of returns home that end within a "
        "year, the measure of Goldacre et al., 2022)",
        "care_reentries_12m",
        "exits_reunified",
    ),
    # --- social-work workforce (agents/workforce.py) ------------------------------------
    _I(
        "sw_fte",
        "stock",
        "FTE",
        "child and family social workers employed by the authorities at year end (DfE's "
        "workforce census FTE; agency workers excluded)",
    ),
    _I("sw_agency", "stock", "FTE", "agency social workers covering vacancies at year end"),
    _I("sw_posts", "stock", "FTE", "funded social-worker posts at year end, filled or vacant"),
    _I("sw_leavers", "flow", "FTE", "employed social workers who left during the year"),
    _I("sw_open_cases", "stock", "children", "children with an open social-work case at year "
       "end: at home in a family being assessed, in need or on a plan, or looked after"),
    _I("sw_case_holders", "stock", "FTE", "case-holding social workers (employed and agency) "
       "at year end"),
    _I(
        "sw_agency_share",
        "ratio",
        "share",
        "agency workers as a share of social workers at work at year end (DfE's agency rate)",
        "sw_agency",
        "sw_working",
    ),
    _I(
        "sw_vacancy_rate",
        "ratio",
        "share",
        "vacant posts as a share of funded posts at year end (DfE's vacancy rate)",
        "sw_vacancies",
        "sw_posts",
    ),
    _I(
        "sw_turnover_rate",
        "ratio",
        "share",
        "leavers during the year per employed social worker at year end (DfE's turnover rate)",
        "sw_leavers",
        "sw_fte",
    ),
    _I(
        "sw_caseload",
        "ratio",
        "children per case-holder",
        "children with an open case per case-holding social worker (DfE's average caseload)",
        "sw_open_cases",
        "sw_case_holders",
    ),
)
BY_NAME = {i.name: i for i in INDICATORS}
#: Flows the model counts week by week (spend_total_gbp is derived from its parts).
FLOWS = tuple(i.name for i in INDICATORS if i.kind == "flow" and i.name != "spend_total_gbp")
#: Helper counts that only feed ratios, written after the indicators (see
#: :func:`helper_columns`) so that ratios can be recombined for any group of rows.
HELPERS = (
    "care_years",
    "cla_3plus",
    "cla_over_20",
    "cla_out_of_area",
    "cla_miles",
    "cla_distance_known",
    "cla_for_profit",
    "cla_separated",
    "cla_with_sibling_in_care",
    "cla_contact_lost",
    *(f"cla_{k}" for k in KIND_NAMES),
    "cla_home_after_foster_breakdown",
    "cla_home_after_home_breakdown",
    "sw_working",
    "sw_vacancies",
)
COLUMNS = tuple(i.name for i in INDICATORS)
#: Inputs written beside the indicators: each schedulable key's value in force that year.
INPUTS = tuple(sorted(SCHEDULABLE))


def helper_columns() -> tuple[str, ...]:
    """The numerators and denominators of ratios that are not indicators themselves, in the
    order the ratios are defined. They are written to both annual CSVs: a ratio for a group of
    authorities (or years) is the sum of its numerator over the rows divided by the sum of its
    denominator, and without these columns some ratios could not be recombined."""
    parts = (x for i in INDICATORS if i.kind == "ratio" for x in (i.num, i.den))
    return tuple(dict.fromkeys(x for x in parts if x not in COLUMNS))


def disabled_in_need(model) -> np.ndarray:
    """Which children (rows) are in need because of their own disability (ODD 7.5): a child
    under 18 whose fixed draw (a keyed draw of its uid, so the same children in every year
    and every arm of a comparison) is below ``social_work.disability_cin_per_10k`` / 10,000.
    Their need is lasting and does not come from the family's need, so the casework
    mechanisms do not produce it; only the count of children in need at 31 March includes
    them (they are not in the flows, the workload or the early-help queue)."""
    c = model.pop.children
    share = model.params.social_work.disability_cin_per_10k / 1e4
    if share <= 0:
        return np.zeros(c.n, bool)
    u = model.draws.uniform("child.disability_need", c.uid, week=0)
    return c.active & (c.age < 18 * WEEKS_PER_YEAR) & (u < share)


def in_need_at_home(model) -> np.ndarray:
    """Which children (rows) at home count as in need at year end (the ``cin`` indicator, with
    every child looked after): a child whose family is being assessed, is a child in need, on
    a plan or has a child in care, or who is in need because of its own disability. The one
    definition every table of children in need uses (by authority, by neighbourhood)."""
    c, f = model.pop.children, model.pop.families
    home = c.active & ~c.in_care
    return home & ((f.case[c.family] >= Case.ASSESSMENT) | disabled_in_need(model))


def _child_counts(model) -> dict[str, np.ndarray]:
    """The snapshot's four counts over every child by authority (children, those at home in
    need, on a plan, under 18 and not moved away), in one compiled pass over the children
    (sim/kernels.py: year_end_counts), not four masks, a gather of every child's authority
    and four bincounts (0.5 CPU s a year at full scale): :func:`_child_counts_reference`."""
    c, f = model.pop.children, model.pop.families
    share = model.params.social_work.disability_cin_per_10k / 1e4
    counts = np.zeros((4, model.n_la), np.int64)
    kernels.year_end_counts(c.active, c.in_care, c.family, c.age, c.moved_away, c.uid,
                            np.uint64(model.draws.key("child.disability_need", week=0)),
                            float(share), f.case, f.la, int(Case.ASSESSMENT),
                            int(Case.PROTECTION_PLAN), 18 * WEEKS_PER_YEAR, counts)
    counts = counts.astype(float)
    return {"children": counts[0], "cin_at_home": counts[1], "cpp": counts[2],
            "children_0_17": counts[3]}


def _child_counts_reference(model) -> dict[str, np.ndarray]:
    """:func:`_child_counts` as numpy masks and bincounts (the definition)."""
    c, f = model.pop.children, model.pop.families
    la_c = f.la[c.family]
    home = c.active & ~c.in_care

    def per_la(mask):
        return np.bincount(la_c[mask], minlength=model.n_la).astype(float)

    return {
        "children": per_la(c.active | c.in_care),
        "cin_at_home": per_la(in_need_at_home(model)),
        "cpp": per_la(home & (f.case[c.family] == Case.PROTECTION_PLAN)),
        "children_0_17": per_la((c.age < 18 * WEEKS_PER_YEAR) & ~c.moved_away),
    }


def snapshot(model) -> dict[str, np.ndarray]:
    """Year-end stocks and the helper counts behind ratios, per authority."""
    from sim.placements import separated

    c, f, pl = model.pop.children, model.pop.families, model.pop.placements
    n = model.n_la
    care = np.flatnonzero(c.in_care)
    lac, ids = f.la[c.family[care]], c.placement[care]
    by_child = _child_counts(model)

    def care_count(mask, weights=None):
        return np.bincount(
            lac[mask], weights=None if weights is None else weights[mask], minlength=n
        ).astype(float)

    all_care = np.ones(len(care), bool)
    # DfE records no distance for an unaccompanied asylum-seeking child (no home in England).
    known = ~f.uasc[c.family[care]]
    sib_in_care = np.bincount(c.family[care], minlength=f.n)[c.family[care]] > 1
    out = {
        "children": by_child["children"],
        "cla": care_count(all_care),
        "cin": by_child["cin_at_home"] + care_count(all_care),
        "cpp": by_child["cpp"],
        "early_help_places": np.array([la.early_help_places for la in model.authorities], float),
        "early_help_waiting": np.bincount(
            f.la[f.case == Case.EARLY_HELP_WAITING], minlength=n
        ).astype(float),
        "cla_3plus": care_count(c.placements_year[care] >= 3),
        "cla_over_20": care_count(known & (pl.miles[ids] > 20)),
        "cla_out_of_area": care_count(pl.out_of_area[ids]),
        "cla_miles": care_count(known, pl.miles[ids].astype(float)),
        "cla_distance_known": care_count(known),
        "cla_for_profit": care_count(pl.for_profit[ids]),
        "cla_with_sibling_in_care": care_count(sib_in_care),
        "cla_separated": care_count(separated(model, care)),
        "cla_contact_lost": care_count(c.contact_lost[care]),
    }
    for k, name in enumerate(KIND_NAMES):
        out[f"cla_{name}"] = care_count(pl.kind[ids] == k)
    band = np.searchsorted(AGE_EDGES, c.age[care] // WEEKS_PER_YEAR, side="right")
    for b, name in enumerate(AGE_BANDS):
        out[f"cla_age_{name}"] = care_count(band == b)
    in_home, after = pl.kind[ids] == Kind.CHILDRENS_HOME, pl.after_breakdown[ids]
    out["cla_home_after_foster_breakdown"] = care_count(
        in_home & (after >= 0) & IS_FOSTER_FAMILY[np.maximum(after, 0)])
    out["cla_home_after_home_breakdown"] = care_count(in_home & (after == Kind.CHILDRENS_HOME))
    wf, sw = model.workforce, model.params.social_work
    out |= {
        "cla_s20": care_count(c.legal[care] == Legal.S20),
        "cla_interim": care_count(c.legal[care] == Legal.INTERIM),
        "children_0_17": by_child["children_0_17"],
        "sw_fte": wf.employed.astype(float),
        "sw_agency": wf.agency.astype(float),
        "sw_working": wf.working.astype(float),
        "sw_posts": wf.posts.astype(float),
        "sw_vacancies": wf.vacancies.astype(float),
        "sw_open_cases": model.open_children().astype(float),
        "sw_case_holders": wf.working * sw.case_holding_share,
    }
    return out


def derive(df: pd.DataFrame) -> pd.DataFrame:
    """Add every ratio indicator to a frame of counts (one row per authority, or a total)."""
    df = df.copy()
    df["care_years"] = df["care_weeks"] / WEEKS_PER_YEAR
    df["spend_total_gbp"] = (
        df["spend_early_help_gbp"] + df["spend_social_work_gbp"] + df["spend_placements_gbp"]
    )
    for ind in INDICATORS:
        if ind.kind == "ratio":
            den = df[ind.den].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                df[ind.name] = np.where(den > 0, df[ind.num] / den * ind.per, np.nan)
    return df.copy()  # one block: the ratios were added one at a time (pandas warns on more)


def year_tables(model, flows: dict[str, np.ndarray], year: int) -> tuple[pd.DataFrame, pd.Series]:
    """The year's rows: one per authority (with its deprivation) and one for the region."""
    la = pd.DataFrame({**{k: flows[k] for k in FLOWS}, **snapshot(model)})
    total = derive(la.sum(axis=0).to_frame().T).iloc[0]
    la = derive(la)
    r = model.region
    la.insert(0, "deprivation_decile", r.la_deprivation_decile)
    la.insert(0, "deprivation_score", r.la_deprivation)
    la.insert(0, "authority", r.la_name)
    la.insert(0, "gss_code", r.la_code)
    la.insert(0, "year", year)
    helpers = list(helper_columns())
    la = la[["year", "gss_code", "authority", "deprivation_score", "deprivation_decile", *COLUMNS,
             *helpers]]
    # The year's value of every schedulable input, so a schedule can be read off the output.
    inputs = {key: float(model.params.get(key)) for key in INPUTS}
    la = la.assign(**inputs)
    total = pd.concat([pd.Series({"year": year}), total[[*COLUMNS, *helpers]],
                       pd.Series(inputs)])
    return la, total


COHORT_FLAGS = {
    "referred": 1,
    "assessed": 16,
    "child_in_need": 2,
    "protection_plan": 4,
    "in_care": 8,
}


def cohort_at_18(model) -> dict[str, float] | None:
    """For children born during the run who have reached 18 (or would have, had they not been
    adopted or left under a special guardianship order): the share ever referred, ever a child
    in need, ever on a plan and ever in care. ``None`` if the run is too short for anyone born
    in it to reach 18 (it needs more than 18 simulated years)."""
    c, r = model.pop.children, model.pop.retired
    elapsed = model.week + 1
    born_in_run = c.age < elapsed
    cohort = born_in_run & (c.age >= 18 * WEEKS_PER_YEAR) & ~model.pop.families.uasc[c.family]
    # and the children retired (sim/population.py: compact), of the age they would be now
    age = model.week - r["birth_week"]
    gone = (age < elapsed) & (age >= 18 * WEEKS_PER_YEAR) & ~r["uasc"]
    n = int(cohort.sum()) + int(gone.sum())
    if n == 0:
        return None
    ever = np.concatenate([c.ever[cohort], r["ever"][gone]])
    out = {"children": float(n)}
    for name, bit in COHORT_FLAGS.items():
        out[f"ever_{name}"] = float(np.mean((ever & bit) > 0))
    return out


def markdown() -> str:
    """docs/indicators.md, generated from :data:`INDICATORS`."""
    lines = [
        "# Indicators",
        "",
        "Generated from `sim/indicators.py` by `cscsim indicators`; do not edit by hand.",
        "",
        "Every indicator is written to `annual.csv` (the region, one row per year) and "
        "`annual_by_la.csv` (one row per authority and year). *Flows* are counted over the "
        'simulated year (52 weekly steps); *stocks* at its last week (DfE\'s "at 31 March"); '
        "*ratios* divide a summed numerator by a summed denominator, the same way for an "
        "authority and for the region. Counts and money are for the simulated sample: divide "
        "by `run.scale` to estimate the whole area.",
        "",
        "| indicator | kind | unit | definition |",
        "|---|---|---|---|",
    ]
    for i in INDICATORS:
        d = i.definition
        if i.kind == "ratio":
            per = f" x {i.per:,.0f}" if i.per != 1 else ""
            d += f" (`{i.num}` / `{i.den}`{per})"
        lines.append(f"| `{i.name}` | {i.kind} | {i.unit} | {d} |")
    lines += [
        "",
        "Helper counts used only as numerators and denominators are written after the "
        "indicators in both files (listed under *Helper counts* below), so every ratio can be "
        "recombined for a group of authorities or years.",
        "",
        "Beside the indicators, both files carry the year's value of every input that accepts "
        "a schedule (`cscsim params` marks them), under its dotted name, e.g. "
        "`levers.early_help_capacity` and `population.birth_rate`; `year` is the DfE "
        "reporting year (2024 = April 2023 to March 2024), counted from `run.start_year`.",
        "",
        "Relationship breakdown is reported through four explicit measures: "
        "`placement_breakdowns` (and their rate), `placement_moves` with "
        "`share_3plus_placements_in_year`, `sibling_separation_share` and "
        "`family_contact_lost_share`.",
        "",
    ]
    return "\n".join(lines)
