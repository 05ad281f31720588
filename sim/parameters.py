"""Every parameter of the model, once: default, unit, allowed range and the default's source.

``basis`` says what kind of source the default has:

- ``published``: a figure read in the named publication;
- ``derived``: arithmetic on published figures (the arithmetic is in ``source``);
- ``calibrated``: set by fitting the model to targets (see ``cscsim calibrate``);
- ``assumption``: a modelling judgement, stated so it can be challenged and swept.

Scenario files (TOML) override any of these, section by section; ``cscsim params`` prints them.
Rates are per family, per child or per 10,000 children, so they do not depend on ``run.scale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.region import REGIONS


@dataclass(frozen=True)
class Param:
    section: str
    key: str
    default: Any
    unit: str
    lo: float | None = None
    hi: float | None = None
    basis: str = "assumption"
    source: str = ""
    doc: str = ""
    choices: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if isinstance(self.default, bool):
            return "true or false"
        kind = "a whole number" if isinstance(self.default, int) else "a number"
        return f"{kind} from {self.lo:g} to {self.hi:g}"


A = "assumption"
DFE_CLA = "DfE, Children looked after in England including adoptions, 2024"
DFE_CIN = "DfE, Characteristics of children in need, 2024"
CMA = "CMA, Children's social care market study, interim report (2021), 2020 prices"
WORKFORCE = "DfE, Children's social work workforce, census at 30 September 2023"
FIT_STABILITY = ("cscsim calibrate, run 8, with the share with 3+ placements among the targets; "
                 "raised by hand in run 9 (docs/calibration.md)")
FIT = "cscsim calibrate to England's published figures (docs/calibration.md)"

# One parameter per entry reads better than one argument per line.
# fmt: off
PARAMS: tuple[Param, ...] = (
    # --- run -------------------------------------------------------------------------------
    Param("run", "region", "North West", "", basis=A, choices=("England", *REGIONS),
          source="a region small enough to run in seconds; 'England' for all 153 authorities",
          doc="the authorities simulated; the region is closed (placements stay inside it)"),
    Param("run", "years", 10, "years", 1, 100, A, "ten years shows the loops turning",
          "simulated years (52 weeks each)"),
    Param("run", "burn_in_years", 0, "years", 0, 50, A,
          "none for teaching and experiments, which start from the drawn stocks; the England "
          "baseline sets it (docs/calibration.md)",
          "years simulated before year 1 and not reported, so year 1 starts from the model's own "
          "steady state rather than from the drawn initial stocks"),
    Param("run", "start_year", 2024, "DfE reporting year", 1990, 2100, A,
          "2024 is the year of the calibration snapshot (April 2023 to March 2024)",
          "the reporting year of year 1 (2024 = the year ending 31 March 2024); annual.csv's "
          "year is this calendar, and schedules are read on it"),
    Param("run", "replay_from", 0, "DfE reporting year", 0, 2100, A,
          "0 (none); the 2010 start and the history-fitted forward baseline replay from 2008 "
          "(policies/scenarios/england_2010.toml, england_history_baseline.toml)",
          "a reporting year before ``start_year``: the warm start is run at its values, then "
          "the years from it to year 1 follow their schedules, unreported, so year 1 begins "
          "from the state that history left"),
    Param("run", "seed", 1, "", 0, 2**32 - 1, A, "any seed; runs are reproducible from it",
          "root random seed; every decision about an individual is a keyed draw of it "
          "(sim/draws.py)"),
    Param("run", "scale", 0.1, "share of families", 0.0005, 1.0, A,
          "a 10% sample runs the North West in seconds",
          "share of the area's families simulated; capacities and budgets scale with it"),
    Param("run", "record_events", True, "", basis=A, source="needed for family and child histories",
          doc="keep the event log behind model.family(i).history and model.child(j).history"),
    # --- population ------------------------------------------------------------------------
    Param("population", "children_per_family", 1.7, "children", 1.0, 4.0, "derived",
          "about 12 million children in about 7 million families (ARCHITECTURE.md figures)",
          "mean dependent children per family at the start"),
    Param("population", "child_population_index", 1.0, "ratio", 0.5, 1.5, "derived",
          "1: the 11.95 million children of 2023-24 (sim/region.py: CHILD_SHARE); the 2010 "
          "start sets DfE's 2010 denominator over it (11,176,482 / 11,950,000)",
          "children at the start relative to 2023-24's, each authority's sample scaled alike "
          "(counts in England's units are the sample over run.scale)"),
    Param("population", "birth_rate", 0.047, "births per child per year", 0.0, 0.2, "derived",
          "ONS, Births in England and Wales 2023 (about 563,000 in England) / 11.95m children",
          "births per child under 18 per year"),
    Param("population", "net_migration_rate", 0.013, "per child per year", -0.1, 0.1, "derived",
          "the residual of England's child population change, 2019-2023: DfE's ONS denominators "
          "grew 0.28% a year (11.76m to 11.89m) while births (ONS) were 5.08% of children a "
          "year, which in the model's stationary age structure (sim/demography.py: "
          "age_gradient) means 1.01% a year turning 18 beyond births; 0.28 + 1.01 = 1.3%. With "
          "2023-24's births (4.7%) the child population then falls about 0.5% a year, as "
          "falling births imply",
          "net migration of children: families with children arriving (positive) or leaving "
          "(negative), as a share of the child population a year"),
    Param("population", "first_birth_share", 0.42, "share of births", 0.0, 1.0, A,
          "ONS birth-order statistics put first births near 40%", "births that found a new family"),
    Param("population", "kin_network_mean", 0.5, "0-1", 0.0, 1.0, A, "",
          "mean strength of a family's kin and community network (kinship care needs it)"),
    # --- need ------------------------------------------------------------------------------
    Param("need", "poverty_low", 0.15, "share of families", 0.0, 1.0, A,
          "anchored on DWP HBAI 2022-23: about 30% of children in relative poverty (AHC)",
          "share of families in poverty in low-deprivation neighbourhoods"),
    Param("need", "poverty_medium", 0.28, "share of families", 0.0, 1.0, A, "as poverty_low",
          "share of families in poverty in medium-deprivation neighbourhoods"),
    Param("need", "poverty_high", 0.47, "share of families", 0.0, 1.0, A, "as poverty_low",
          "share of families in poverty in high-deprivation neighbourhoods"),
    Param("need", "deprivation_effect", 0.706955, "need units from least to most deprived", 0.0,
          5.0, "calibrated", FIT + " (run 7); the gradient it makes is checked against the Child "
          "Welfare Inequalities Project (children in England's most deprived 10% of "
          "neighbourhoods over ten times as likely to be looked after or on a plan as those in "
          "the least deprived 10%; Bywaters et al., Nuffield Foundation)",
          "rise in a family's lasting propensity to need from the least to "
          "the most deprived street, beyond what poverty explains"),
    Param("need", "propensity_sd", 0.420043, "need units", 0.0, 3.0, "calibrated",
          FIT + " (run 7), with re-referrals among the targets",
          "spread between families of a lasting propensity to need (it lasts as long as the "
          "family)"),
    Param("need", "toxic_trio_prevalence", 0.12, "share of families", 0.0, 1.0, A,
          "parental mental ill-health, substance misuse or domestic abuse; order of magnitude of "
          "the Children's Commissioner's vulnerability estimates",
          "share of families with a toxic-trio factor, at formation and at any time (factors "
          "end at the rate that keeps the share steady)"),
    Param("need", "toxic_trio_onset", 0.01, "per family per year", 0.0, 1.0, A, "",
          "chance a family without a toxic-trio factor acquires one in a year; one with a factor "
          "loses it at onset x (1 - prevalence) / prevalence a year"),
    Param("need", "poverty_effect", 0.818887, "need units", 0.0, 5.0, "calibrated",
          FIT,
          "rise in a family's long-run need from poverty"),
    Param("need", "toxic_trio_effect", 1.60442, "need units", 0.0, 5.0, "calibrated",
          FIT,
          "rise in long-run need from a toxic-trio factor"),
    Param("need", "persistence_weeks", 26, "weeks", 1, 520, A, "",
          "how long a departure from a family's long-run need takes to fade (mean reversion time)"),
    Param("need", "noise_sd", 0.6, "need units", 0.0, 3.0, A, "",
          "spread of the week-to-week wandering of need around its long-run level"),
    Param("need", "adolescent_risk_rate", 2.71125e-05, "per teenager per year", 0.0, 0.2,
          "calibrated", FIT,
          "base yearly hazard of a crisis outside the home (exploitation, breakdown) for 11-17s"),
    Param("need", "adolescent_age_slope", 0.528922, "log-hazard per year of age", -1.0, 1.0,
          "calibrated", FIT,
          "how a teenager's risk of crisis changes with each year over 11"),
    Param("need", "adolescent_family_weight", 0.7, "per need unit", 0.0, 3.0, A, "",
          "how much family need raises a teenager's risk of crisis (log-hazard per need unit)"),
    # --- health visiting ------------------------------------------------------------------
    Param("health_visiting", "fte_per_10k_children", 5.6, "FTE per 10,000 children", 0.0, 50.0,
          "derived", "Institute of Health Visiting: 6,688 FTE in April 2023 / 11.95m children",
          "health-visitor FTE"),
    Param("health_visiting", "recommended_caseload", 250, "children under 5 per FTE", 50, 2000,
          "published", "Institute of Health Visiting: at most 250 children per health visitor",
          "caseload at which spotting is at its best"),
    Param("health_visiting", "full_coverage_caseload", 500, "children under 5 per FTE", 50, 5000, A,
          "", "caseload above which mandated contacts start to be missed"),
    Param("health_visiting", "spot_probability", 0.6, "probability", 0.0, 1.0, A, "",
          "chance a contact spots need above the spotting level at the recommended caseload"),
    Param("health_visiting", "caseload_elasticity", 1.0, "", 0.0, 3.0, A, "",
          "how fast spotting falls as caseload rises: p = p0 (recommended/caseload)^e"),
    Param("health_visiting", "spot_level", 0.9, "need units", -3.0, 6.0, A, "",
          "need a health visitor can notice"),
    Param("health_visiting", "refer_level", 1.8, "need units", -3.0, 6.0, A, "",
          "need above which what is spotted is referred to the front door, not early help"),
    Param("health_visiting", "targeted_per_fte", 25, "families per FTE", 0, 500, A, "",
          "families one FTE can give targeted visits at once"),
    Param("health_visiting", "targeted_weeks", 12, "weeks", 1, 104, A, "",
          "length of a course of targeted visits"),
    Param("health_visiting", "targeted_effect", 0.01, "need units per week", 0.0, 0.5, A, "",
          "need reduced by a week of targeted visits"),
    # --- front door and social work -------------------------------------------------------
    Param("social_work", "referral_rate", 0.120119, "per family per year", 0.0, 20.0, "calibrated",
          FIT,
          "yearly referral hazard of a family whose need is at the front-door threshold"),
    Param("social_work", "referral_slope", 1.61764, "per need unit", 0.0, 5.0, "calibrated", FIT,
          "log-hazard rise in referrals per unit of need"),
    Param("social_work", "background_referral_rate", 0.00385678, "per family per year", 0.0, 1.0,
          "calibrated", FIT,
          "referrals that reflect worry, not need (most end in no further action)"),
    Param("social_work", "known_family_effect", 4.0, "x", 1.0, 20.0, "calibrated",
          FIT + " (run 9), to DfE's re-referral share: 22% of referrals come within 12 months "
          "of a previous one (Characteristics of children in need 2023-24)",
          "multiplier on a family's referral hazard for 12 months after a referral: the "
          "school, health visitor or police officer who referred it stay alert to it"),
    Param("social_work", "threshold", 1.90361, "need units", -3.0, 6.0, "calibrated",
          FIT, "need a referral must show to be accepted for assessment"),
    Param("social_work", "threshold_drift", 0.8, "need units per unit of overload", 0.0, 5.0, A, "",
          "rise in the threshold per unit by which social-work workload exceeds capacity"),
    Param("social_work", "assessment_noise", 0.4, "need units", 0.0, 3.0, A, "",
          "error in an assessment's reading of need at normal workload"),
    Param("social_work", "overload_noise", 1.0, "", 0.0, 5.0, A, "",
          "extra assessment error per unit of overload (weaker assessments)"),
    Param("social_work", "enquiry_noise", 0.5, "share of assessment_noise", 0.0, 2.0, A, "",
          "error in a Section 47 enquiry's reading of need (which decides whether a "
          "conference is held), as a share of an assessment's: an enquiry gathers evidence "
          "(interviews, checks with police and health) that an assessment does not"),
    Param("social_work", "conference_noise", 1.0, "share of assessment_noise", 0.0, 4.0, A,
          "1: an assessment's error (assumption); a probe of 2.5 on the seventeenth session's "
          "run 28 gave 0.79-0.83 plans per conference, against England's 0.87-1.0 in 2010-2015 "
          "(docs/calibration.md)",
          "error in an initial conference's reading of need (which decides whether it makes "
          "a plan), as a share of an assessment's"),
    Param("social_work", "assessment_weeks", 6, "weeks", 1, 26, A,
          "DfE's 45-working-day limit for assessments", "length of an assessment"),
    Param("social_work", "disability_cin_per_10k", 32.0, "per 10,000 children", 0.0, 200.0,
          "derived",
          "DfE Characteristics of children in need 2015-16: a child's disability or illness "
          "was the primary need of 9.6% of children assessed (the share is stable: children "
          "in need at 31 March with a disability recorded were 12.6% in 2020 and 12.3% in "
          "2022, DfE CIN table B2, some of them in need for abuse or neglect) x 333 per "
          "10,000 in need at 31 March 2024",
          "children in need at 31 March because of their own disability (Children Act 1989 "
          "s17; support such as short breaks), not through the family's need: each child's "
          "fixed draw says whether it is one (ODD 7.5)"),
    Param("social_work", "cin_level", 1.86721, "need units", -3.0, 6.0, "calibrated",
          FIT, "assessed need that makes a child in need"),
    Param("social_work", "s47_level", 2.48482, "need units", -3.0, 8.0, "calibrated",
          FIT, "assessed need that starts a Section 47 enquiry"),
    Param("social_work", "s47_practice_shift", 0.0, "need units", -2.0, 3.0, A,
          "0 today; scheduled in the history (england_2010.toml), its 2010 and 2017 points "
          "fitted by cscsim calibrate --history. Why it moved: S47 enquiries rose 89,300 -> "
          "185,450 2010-2017 while referrals were flat (DfE CIN); ADCS Safeguarding "
          "Pressures phase 8 (2022): enquiries +184% since 2007-08 against referrals +21%; "
          "Bilson and Martin, BJSW 2017, 'Referrals and child protection in England'",
          "how much higher than today the assessed need that starts a Section 47 enquiry "
          "stood (practice's shift to investigation lowered it; ODD 7.5)"),
    Param("social_work", "conference_practice_share", 0.0, "x s47_practice_shift", 0.0, 2.0,
          A, "0: off, as every fit before the twenty-fourth session was made (today the shift "
          "is 0, so it changes nothing in 2024). Why it may not be 0: England's initial "
          "conferences rose 43,900 -> 76,930 2010-2017 (+75%) while enquiries rose 89,300 -> "
          "185,450 (+108%; DfE CIN): conferences per enquiry fell from 0.49 to 0.41, where a "
          "shift of the enquiry threshold alone (run 41) took them from 0.57 to 0.34. The fit "
          "window's conferences say how much",
          "how much of the year's investigative-practice shift also stood on the threshold of "
          "an initial child protection conference (ODD 7.5): after the death of Peter Connelly "
          "became public (November 2008), practice grew readier both to investigate and to confer"),
    Param("social_work", "icpc_level", 2.8393, "need units", -3.0, 8.0, "calibrated",
          FIT + " (run 7; refitted with the other casework levels in the sixteenth session), "
          "to DfE CIN 2023: 74,380 initial conferences after 225,400 enquiries",
          "assessed need at which a Section 47 enquiry leads to an initial child protection "
          "conference"),
    Param("social_work", "cpp_level", 2.26095, "need units", -3.0, 8.0, "calibrated",
          FIT + " (sixteenth session, with plans ending at review conferences)",
          "assessed need at which a conference makes a plan, and below which a review "
          "conference ends it"),
    Param("social_work", "care_level", 3.21764, "need units", -3.0, 9.0, "calibrated",
          FIT, "need on a plan at which care proceedings are issued"),
    Param("social_work", "proceedings_rate", 0.116692, "per family per month", 0.0, 4.0,
          "calibrated", FIT,
          "hazard of proceedings while a family on a plan is above the care level"),
    Param("social_work", "proceedings_practice", 1.0, "x today", 0.0, 5.0, A,
          "1 today; scheduled in the history (england_2010.toml), its 2008, 2010 and 2017 "
          "points fitted by cscsim calibrate --history. Why it moved: care applications to "
          "Cafcass rose from 6,488 (2008-09) and 10,620 (2013-14) to 14,597 (2016-17), a "
          "record, faster than plans (Cafcass care demand statistics); the President of the "
          "Family Division said the reasons were little understood (Sir James Munby, 2016, as "
          "reported by Children & Young People Now)",
          "multiplier on the proceedings hazard of a family on a plan at the care level: how "
          "readily authorities went to court in the year, against today (ODD 7.5)"),
    Param("social_work", "young_child_proceedings_effect", 1.29987, "log-hazard", 0.0, 3.0,
          "calibrated", FIT + "; its direction from DfE CLA 2024, where under-5s are 31% of "
          "starts against 28% of children",
          "rise in the proceedings hazard of a family on a plan with a child under five at home"),
    Param("social_work", "pre_birth_level", 2.940824, "need units", -3.0, 9.0, "calibrated",
          FIT,
          "family need at which a newborn is removed at birth after a pre-birth assessment"),
    Param("social_work", "close_level", 1.410875, "need units", -3.0, 6.0, "calibrated", FIT,
          "need below which a child-in-need case is closed"),
    Param("social_work", "review_weeks", 13, "weeks", 1, 104, A, "",
          "mean time between reviews of a child-in-need case, which can close or escalate it"),
    Param("social_work", "plan_first_review_weeks", 13, "weeks", 1, 104, "published",
          "HM Government, Working Together to Safeguard Children (2018), ch. 1: the first "
          "child protection review conference within three months of the initial conference",
          "weeks from a plan's start to its first review conference, where it can end"),
    Param("social_work", "plan_review_interval_weeks", 26, "weeks", 1, 104, "published",
          "HM Government, Working Together to Safeguard Children (2018), ch. 1: further "
          "review conferences at intervals of not more than six months",
          "weeks between a plan's later review conferences"),
    Param("social_work", "early_review_rate", 0.0, "per plan per year", 0.0, 10.0, A,
          "0: off, as every fit before the twenty-third session was made. HM Government, "
          "Working Together to Safeguard Children (2018), ch. 1, sets the latest date of each "
          "review conference; how often one is brought forward is not published. DfE CIN "
          "table D7 says what it must do: 11.0% of the plans ending in 2024-25 had lasted "
          "more than three months and up to six, 43.5% six months to a year and 25.2% a year "
          "to two, where reviews at the timetable's weeks only ended 2-3%, 56% and 23% "
          "(docs/calibration.md, twenty-third session); the history fit reads those bands",
          "hazard that a plan past its first review conference has its review brought forward "
          "(the conference may then end it)"),
    Param("social_work", "first_review_end_chance", 1.0, "probability", 0.0, 1.0, A,
          "1: every plan whose first review reads need below cpp_level ends, as before the "
          "twenty-first session; DfE CIN table D7 says how many should (15.9% of the plans "
          "ending in 2024-25 had lasted three months or less, 18.7% in 2019-20): a probe of "
          "history run 38 at 0.35 ended 17-19% so; history run 39, which reads D7's bands, "
          "fitted 0.29 (not shipped; docs/calibration.md)",
          "chance that a first review conference that reads need below cpp_level ends the "
          "plan: a review looks for sustained change, and by the first the crisis that "
          "brought the plan has often faded while its causes remain"),
    Param("social_work", "plan_trio_resolution", 0.0, "probability", 0.0, 1.0, A,
          "0: off in every shipped scenario until a history fit that keeps the strict check "
          "adopts it; seventeenth session's run 28 fitted 0.48 (DfE CIN table D3's second or "
          "subsequent plans, 2010-2015) but its children in care rose 23% 2010-2024 against "
          "England's 30% (docs/calibration.md)",
          "chance that a plan ending at a review conference (risk read as reduced) has "
          "resolved a toxic-trio factor for good: the change work a plan commissions "
          "(domestic-abuse, substance-misuse and mental-health services), as an early-help "
          "episode's trio_resolution"),
    Param("social_work", "cin_effect", 0.012, "need units per week", 0.0, 0.5, A, "",
          "need reduced by a week of child-in-need support at normal workload"),
    Param("social_work", "cpp_effect", 0.02, "need units per week", 0.0, 0.5, A,
          "0.02 in every shipped scenario; cscsim calibrate --history may free it (twenty-"
          "seventh session): with it held, run 44's plans lasted 0.88-0.96 years on average "
          "(the stock at 31 March over the plans begun in the year) against England's "
          "0.80-0.82 (DfE CIN: 49,700 on plans at 31 March 2015 after 62,200 begun in the "
          "year; 49,420 after 61,840 in 2024-25)",
          "need reduced by a week on a child protection plan at normal workload (the change "
          "work the plan commissions), which decides how soon a review conference can end it"),
    Param("social_work", "posts_per_10k_children", 34.2, "FTE posts per 10,000 children", 1.0,
          200.0, "derived", WORKFORCE + ": 33,119 FTE employed with a vacancy rate of 18.9% = "
          "40,837 posts / 11.95m children",
          "funded child and family social-worker posts (filled or vacant)"),
    Param("social_work", "turnover_rate", 0.159, "per FTE per year", 0.0, 2.0, "published",
          WORKFORCE + ": turnover 15.9%",
          "share of employed social workers leaving a year at normal workload"),
    Param("social_work", "recruitment_rate", 0.682, "per vacant post per year", 0.0, 20.0,
          "derived", "steady state of the published turnover (15.9%) and vacancy rate (18.9%), "
          + WORKFORCE + ": r = turnover x (1 - vacancy) / vacancy",
          "rate at which a vacant post is filled (mean wait 1 / r years)"),
    Param("social_work", "recruitment_spread", 0.6, "log-sd", 0.0, 3.0, A,
          "chosen so that authorities' vacancy rates span from under 5% to over 40%, as DfE's "
          "workforce tables by authority do",
          "spread across authorities of how readily vacancies are filled (a fixed lognormal "
          "draw per authority)"),
    Param("social_work", "agency_cover", 0.93, "share of vacancies", 0.0, 1.0, "derived",
          WORKFORCE + ": agency rate 17.8% of 33,119 employed = 7,172 agency FTE, against "
          "7,718 vacancies", "share of vacant posts covered by agency social workers"),
    Param("social_work", "agency_premium", 0.5, "share of cost", 0.0, 3.0, A,
          "agency social workers are widely reported to cost up to half as much again",
          "extra cost of an agency social worker over an employed one"),
    Param("social_work", "burnout_effect", 1.0, "per unit of overload", 0.0, 10.0, A, "",
          "rise in turnover per unit by which workload exceeds capacity (turnover x (1 + e x "
          "overload))"),
    Param("social_work", "posts_need_weight", 0.5, "0-1", 0.0, 1.0, A,
          "funding formulas weigh need, but not fully",
          "how far an authority's posts follow its children in need at the start (0: its "
          "children only; 1: its children in need only)"),
    Param("social_work", "case_holding_share", 0.62, "share of FTE", 0.05, 1.0, "derived",
          WORKFORCE + ": average caseload 16.0; 399,460 children in need (DfE CIN 2024) over "
          "40,291 working FTE (employed + agency) is 9.9 each, so 9.9 / 16.0 of them hold cases",
          "share of working social workers who hold cases"),
    Param("social_work", "caseload", 18, "children per case-holder", 1, 100, A,
          "above the published average caseload (16.3, DfE 2023), so that the average "
          "authority works just within capacity",
          "children a case-holding social worker can hold before workload exceeds capacity"),
    Param("social_work", "cost_per_fte", 70_000, "GBP per year", 0, 500_000, A, "",
          "cost of a social worker with on-costs and overheads"),
    # --- early help ----------------------------------------------------------------------
    Param("early_help", "places_per_10k_children", 96, "families per 10,000 children", 0, 2000,
          "calibrated",
          "by hand (eighth session), to England's early-intervention spend per child (£159: NCB / "
          "Pro Bono Economics, £1.9bn in 2020-21): the places the base budget buys before the "
          "crisis trap's cut; the baseline's overspends took about a sixth of it, leaving spend "
          "near £159 a child and about 80 places per 10,000 in use, the figure "
          "cost_per_place_week is derived from (with each year budgeted afresh, ODD 7.11, "
          "they take about a tenth: £170 a child, validation of 26 November 2026)",
          "early-help places (families supported at once) at today's funding"),
    Param("early_help", "cost_per_place_week", 382, "GBP per week", 0, 10_000, "derived",
          "NCB / Pro Bono Economics: £1.9bn early intervention 2020-21 / (80 places per 10,000 "
          "x 11.95 million children) / 52", "cost of one early-help place for a week"),
    Param("early_help", "weeks", 26, "weeks", 1, 104, A, "", "length of an early-help episode"),
    Param("early_help", "effect", 0.03, "need units per week", 0.0, 0.5, A, "",
          "need reduced by a week of early help"),
    Param("early_help", "trio_resolution", 0.15, "probability", 0.0, 1.0, A, "",
          "chance a completed episode resolves a toxic-trio factor (a lasting effect)"),
    Param("early_help", "max_wait_weeks", 26, "weeks", 1, 520, A, "",
          "families leave the early-help waiting list after this long without a place"),
    Param("early_help", "level", 1.0, "need units", -3.0, 6.0, A, "",
          "need at which a family signposted from the front door is offered early help"),
    # --- care and placements -------------------------------------------------------------
    Param("care", "kinship_probability", 0.8, "probability", 0.0, 1.0, "calibrated",
          FIT,
          "chance of a kinship placement for a family with the strongest kin network"),
    Param("care", "kin_local_share", 0.55, "probability", 0.0, 1.0, "calibrated",
          FIT,
          "chance kinship carers live in the child's home neighbourhood (else one next to it)"),
    Param("care", "home_probability_teen", 0.42, "probability", 0.0, 1.0, "calibrated", FIT,
          "share of 10-17s entering care whose needs call for a children's home"),
    Param("care", "supported_probability", 0.585796, "probability", 0.0, 1.0, "calibrated", FIT,
          "share of 16-17s placed in supported accommodation rather than foster care"),
    Param("care", "move_on_rate", 0.4, "per child per year", 0.0, 5.0, A,
          "searched by cscsim calibrate (run 2 in docs/calibration.md), which kept this start",
          "hazard that a 16-17-year-old in foster or residential care makes a planned move to "
          "supported accommodation (semi-independent living), when a place is free"),
    Param("care", "uasc_per_10k_children", 5.9, "arrivals per 10,000 children per year", 0.0, 50.0,
          "derived", "DfE CLA 2023: 7,090 unaccompanied asylum-seeking children started / 11.95m",
          "unaccompanied asylum-seeking children arriving (an exogenous inflow)"),
    Param("care", "with_parents_probability", 0.28, "probability", 0.0, 1.0, "calibrated",
          FIT,
          "chance that children entering care through proceedings stay with parents under a "
          "care order"),
    Param("care", "reunification_level", 1.5, "need units", -3.0, 6.0, A, "",
          "family need below which children can go home"),
    Param("care", "reunification_rate", 1.05, "per child per year", 0.0, 20.0, "calibrated",
          FIT, "hazard of going home once the family's need is low enough"),
    Param("care", "contact_lost_reunification", 0.5, "x", 0.0, 1.0, A,
          "a child who has lost contact with family goes home less often; halved as a round "
          "figure",
          "multiplier on reunification_rate for a child whose contact with family has lapsed"),
    Param("care", "early_return_factor", 1.0, "x", 1.0, 200.0, A,
          "1: off, as every fit before the twenty-fifth session was made. England's short stays: "
          "of the 28,460 children who ceased to be looked after in 2012-13, 11% had been looked "
          "after for under two weeks and 46% for under a year (DfE SFR 36/2013, as summarised), "
          "where the model with one rate for every week had 0.4-0.9% and 28-35% (run 43's "
          "history, one seed at scale 0.02); at 50, falling over 4 weeks, the same run gave "
          "7.6-13.6% and 35-44%. The history fit reads the 2013 shares",
          "multiplier on reunification_rate in a child's first week in care, falling to 1 over "
          "care.early_return_weeks (a crisis that has passed: the child goes home soon)"),
    Param("care", "early_return_weeks", 4.0, "weeks", 0.5, 13.0, A,
          "4: a probe's value (twenty-fifth session); nothing changes while "
          "care.early_return_factor is 1",
          "how fast the early chance of going home falls to the usual: its excess shrinks by a "
          "factor e every this many weeks in care"),
    Param("care", "home_16_17_factor", 1.0, "x", 0.0, 1.0, A,
          "1: off, as every fit before the twenty-fifth session was made. England's children "
          "rarely cease to be looked after at 16 or 17, for any reason: 3,150 of the 28,460 "
          "who ceased in 2012-13 (11%; House of Commons Education Committee, 16 plus care "
          "options, 2014, from DfE) and 2,540 of the 28,010 in 2020-21 (9%; DfE, Children "
          "looked after in England 2021, national characteristics of children ceasing); most "
          "of the rest stay to 18, and 65% of those ceasing for DfE's 'other reasons' in 2021 "
          "left on their 18th birthday. With every age alike the model's children left at 16 "
          "or 17 two to three times as often (23% of its exits in 2018; run 41's history). "
          "The history fit reads the shares at 16-17 and on the 18th birthday in 2010 and 2013",
          "chance that a child aged 16 or 17 goes home when the family's return comes (a "
          "draw of the child's own; an older child may stay, to leave care at 18)"),
    Param("care", "return_breakdown_rate", 8.0, "per child per year", 0.0, 1000.0, "calibrated",
          "towards one in five children who went home re-entering care within a year "
          "(Goldacre et al., 2022, British Journal of Social Work 52(8), on DfE's SSDA903 data)",
          "hazard that a child back home comes into care again while the family's case is open "
          "and its need is at the care level"),
    Param("care", "return_breakdown_level", 2.4, "need units", -3.0, 9.0, "calibrated",
          "towards one in five children who went home re-entering care within a year "
          "(Goldacre et al., 2022); 2.12 until the twelfth session, when re-entry had crept to "
          "23.1% (bar 23.0%); at 2.2, 21.1% (26 of 26); 2.4 since the fifteenth, when returns "
          "home made in the burn-in came to be watched too (re-entry 22.9% at 2.2, 17.9% at "
          "2.4; validation of 26 November 2026, 26 of 26)",
          "family need at which a watched return home breaks down (started at the "
          "section 47 level: the harm that would prompt an enquiry)"),
    Param("care", "sgo_rate", 0.25, "per child per year", 0.0, 5.0, A, "",
          "hazard of a special guardianship or child arrangements order from a kinship placement"),
    Param("care", "sgo_practice", 1.0, "x today", 0.0, 5.0, A,
          "1 today; scheduled in the history (england_2010.toml), its 2010 and 2014 points "
          "fitted by cscsim calibrate --history. Why it moved: children leaving care under a "
          "special guardianship order rose from 1,290 (2009-10) and 1,780 (2010-11) to 3,520 "
          "(2014-15) (DfE, as reported by TACT and Children & Young People Now), as placement "
          "orders fell after the Re B-S judgment (2013) and courts preferred relatives",
          "multiplier on care.sgo_rate and court.sgo_at_hearing: how readily courts made "
          "special guardianship orders in the year, against today (ODD 7.5, 7.9)"),
    Param("care", "leaving_rate_16_17", 0.0, "per child per year", 0.0, 5.0, A,
          "0: off, as every fit so far was made without it. DfE counts children who cease to "
          "be looked after by moving into independent living or 'for any other reason' beside "
          "those who go home, are adopted or leave under an order (SSDA903 REC codes E5, E6, "
          "E8); in 2012-13 35% of the 28,460 who ceased went home (DfE SFR 36/2013 as "
          "summarised) and in 2017-18 31% of 29,860 (DfE, as reported by Family Law Week), "
          "where the model without this route sends 47-48% home (validate --history, run 27)",
          "hazard that a 16- or 17-year-old in care ceases to be looked after before 18 "
          "(independent living, or another reason), not going home"),
    Param("care", "placed_for_adoption_weeks", 0, "weeks", 0, 104, "published",
          "0: off (the adoption order at once), as the 2023-24 snapshot fit was made; the "
          "history's scenarios set 39. DfE, Children looked after in England 2019 (as reported "
          "by Family Law Week): 1 year 11 months on average from entering care to adoption, of "
          "which 6 months to the decision to place for adoption and 8 more to the match with "
          "adopters, which leaves about 9 months (39 weeks) from the match, and so the "
          "placement, to the order. A check: at 31 March 2013 about a third of the 10,177 "
          "children with an adoption plan (Ofsted's adoption data, 2012-13) were living with "
          "their new parents, about 3,460, against 3,980 adoptions that year (DfE): some 45 "
          "weeks each",
          "weeks a child placed with prospective adopters waits for the adoption order, still "
          "looked after (0: adopted at once)"),
    Param("care", "step_up_probability", 0.0, "probability", 0.0, 1.0, A,
          "0: off, as every fit so far was made without it. Ofsted, 'Why do children go into "
          "children's homes?' (13 April 2022): two thirds of the children in the homes studied "
          "came after an interruption in their previous care, 41% after a foster placement "
          "broke down; without this step a child who moves keeps the kind of care it had",
          "probability that a 10- to 17-year-old whose foster placement (kinship, in-house or "
          "agency) breaks down moves to a children's home rather than another foster family"),
    Param("care", "leaving_other_factor", 1.0, "ratio", 0.0, 1.0, A,
          "1: every placement alike, as when the route was added. 3,150 of the 28,460 children "
          "who ceased to be looked after in 2012-13 were 16 or 17 (House of Commons Education "
          "Committee, 16 plus care options, 2014, from DfE); that their move into independent "
          "living usually follows semi-independent (supported) accommodation is an "
          "assumption, not a published share; with one hazard for every placement, the "
          "route emptied children's homes (5% of children in care in 2024 against 11%; a "
          "probe at scale 0.02, twentieth session)",
          "hazard of leaving at 16 or 17 from a placement other than supported accommodation, "
          "as a share of the hazard from supported accommodation"),
    Param("care", "adoption_window_years", 17.0, "years", 0.25, 17.0, A,
          "17: off (no child who entered care under 4 is past it before 18), as every fit "
          "before the twenty-sixth session was made. England adopts its children early or not "
          "at all: 1 year 11 months on average from entering care to adoption (DfE, Children "
          "looked after in England 2019, as reported by Family Law Week; 2 years 3 months in "
          "2016 and 2022), 14 months to the match with adopters, where the model with one "
          "hazard for every year after the first adopted after 3.9-4.4 years in care, at 4.8-5.4 "
          "years old (run 43's history, one seed at scale 0.02), and held twice England's share "
          "of 1- to 4-year-olds in care (26% at 31 March 2021 against 14%, DfE)",
          "years after its first year in care during which a child who entered care under 4 "
          "may be matched with adopters; after them the child is not adopted"),
    Param("care", "adoption_plan_share", 1.0, "share", 0.0, 1.0, A,
          "1: every child who entered care under 4 may be adopted, as every fit before the "
          "twenty-sixth session was made. With a short window (care.adoption_window_years) "
          "most children who may be adopted are, whatever the hazard, so how many are adopted "
          "follows how many have a plan: England's adoptions rose from 3,200 (2009-10) to "
          "5,360 (2014-15) as courts made more placement orders, and fell after Re B-S (2013) "
          "as they made fewer (DfE; docs/calibration.md, run 44)",
          "share of the children who entered care under 4 who have an adoption plan (a draw "
          "of the child's own): only they are matched with adopters"),
    Param("care", "adoption_rate", 0.5, "per child per year", 0.0, 5.0, A,
          "a round figure, kept by the 2023-24 snapshot fit (england_baseline), where it adopts "
          "5.5-7.4 per 100 children in care against England's 3.6 (2,980 of 83,630; one run, "
          "scale 0.05, thirteenth session); the history fit sets today's level from the fit "
          "window's adoptions (run 19: 0.189, which the forward baseline carries; "
          "docs/calibration.md)",
          "hazard of adoption for a child who entered under 4, after a year in care"),
    Param("care", "initial_s20_share", 0.19, "share", 0.0, 1.0, "published",
          DFE_CLA + " (2023: 19% of children looked after at 31 March under section 20)",
          "share of the children in care at the start who are accommodated under section 20"),
    Param("care", "initial_persistent_weight", 2.0, "log-weight per need unit", 0.0, 10.0, A,
          "children in care at a moment are mostly from families whose need stays high",
          "weight of a family's long-run (persistent) need in drawing the children in care at "
          "the start (beside this week's need, weight 1)"),
    Param("care", "initial_risk_weight", 0.5, "log-weight per risk unit", 0.0, 10.0, A, "",
          "weight of a child's own risk (adolescent harm) in drawing the children in care at "
          "the start"),
    Param("care", "initial_max_care_years", 4, "years", 1, 18, A,
          "most children in care have been looked after under four years (DfE CLA: median "
          "duration of episodes is under a year; long stays are few)",
          "longest time in care drawn for the children in care at the start"),
    Param("care", "initial_case_need_weight", 2.5, "log-weight per need unit", 0.0, 10.0, A, "",
          "how strongly the families on plans and in need at the start are drawn from the "
          "highest-need families"),
    Param("care", "initial_cla_per_10k", 70.0, "per 10,000 children", 0.0, 500.0, "published",
          DFE_CLA + ": 70 per 10,000 at 31 March 2024", "children in care at the start"),
    Param("care", "initial_cpp_per_10k", 41.0, "per 10,000 children", 0.0, 500.0, "published",
          "DfE CIN 2025: 49,420 children on plans, about 41 per 10,000",
          "children on plans at the start"),
    Param("care", "initial_cin_per_10k", 333.0, "per 10,000 children", 0.0, 2000.0, "published",
          DFE_CIN + ": 332.9 per 10,000 (includes plans and children in care)",
          "children in need at the start"),
    # The age profile of the children in care at the start, as relative weights per age band
    # (each band's weight is divided by its years, so it is a weight per year of age).
    Param("care", "initial_age_share_under_1", 0.05, "share of children in care", 0.0, 1.0,
          "published", DFE_CLA + " (approximate age profile at 31 March)",
          "children in care at the start aged under 1 (relative to the other age bands)"),
    Param("care", "initial_age_share_1_4", 0.13, "share of children in care", 0.0, 1.0,
          "published", DFE_CLA + " (approximate)", "as initial_age_share_under_1, aged 1-4"),
    Param("care", "initial_age_share_5_9", 0.17, "share of children in care", 0.0, 1.0,
          "published", DFE_CLA + " (approximate)", "as initial_age_share_under_1, aged 5-9"),
    Param("care", "initial_age_share_10_15", 0.38, "share of children in care", 0.0, 1.0,
          "published", DFE_CLA + " (approximate)", "as initial_age_share_under_1, aged 10-15"),
    Param("care", "initial_age_share_16_17", 0.27, "share of children in care", 0.0, 1.0,
          "published", DFE_CLA + " (approximate)", "as initial_age_share_under_1, aged 16-17"),
    # Ages of unaccompanied children on arrival, as relative weights.
    Param("care", "uasc_age_share_14", 0.05, "share of arrivals", 0.0, 1.0, A,
          "four in five aged 16-17, in line with DfE's picture of unaccompanied children as "
          "mostly 16-17-year-old boys",
          "unaccompanied children arriving aged 14 (relative to the other ages)"),
    Param("care", "uasc_age_share_15", 0.15, "share of arrivals", 0.0, 1.0, A,
          "as uasc_age_share_14", "as uasc_age_share_14, aged 15"),
    Param("care", "uasc_age_share_16", 0.35, "share of arrivals", 0.0, 1.0, A,
          "as uasc_age_share_14", "as uasc_age_share_14, aged 16"),
    Param("care", "uasc_age_share_17", 0.45, "share of arrivals", 0.0, 1.0, A,
          "as uasc_age_share_14", "as uasc_age_share_14, aged 17"),
    # --- court ---------------------------------------------------------------------------
    Param("court", "proceedings_weeks", 40.0, "weeks", 1.0, 200.0, "published",
          "MoJ, Family Court Statistics Quarterly, July to September 2024: care and supervision "
          "cases took 40 weeks on average to a first disposal",
          "mean weeks from issuing care proceedings to the final hearing"),
    Param("court", "proceedings_shape", 4.0, "gamma shape", 0.5, 50.0, A,
          "MoJ reports about a third of cases within the 26-week limit at a 40-week mean; a "
          "gamma of shape 4 puts 27% under 26 weeks",
          "how tightly proceedings' lengths gather around their mean (gamma shape)"),
    Param("court", "interim_removal", 0.6, "probability", 0.0, 1.0, A,
          "most children in care proceedings are accommodated under interim orders before the "
          "final hearing; to be checked against Cafcass data",
          "chance that the children of a family in new proceedings are accommodated at once "
          "under interim care orders"),
    Param("court", "sgo_at_hearing", 0.0, "probability", 0.0, 1.0, A,
          "0: off, as every fit before the twenty-seventh session was made. Over 21,000 "
          "children were placed with special guardians following care proceedings from "
          "2010-11 (Nuffield Family Justice Observatory, Special guardianship: a review of the "
          "evidence, 2019); Wade et al. (2014, as reported by BASW) found almost a quarter of "
          "the 13,000 special guardianship orders of 2006-2012 made as an alternative to or an "
          "outcome of care proceedings. How often a hearing ends so is for the history fit to "
          "say, with the fit window's orders (DfE's children ceasing care under one)",
          "chance that a final hearing which would make a care order makes a special "
          "guardianship order to a relative instead, for a family with the strongest kin "
          "network (times the family's network and the year's care.sgo_practice; "
          "agents/court.py)"),
    Param("court", "s20_proceedings_rate", 1.0, "per family per year", 0.0, 10.0, "calibrated",
          "today's practice: the history's schedule (england_2010.toml: 0 until 2015) holds "
          "its 2017 point since; probes of the fit window and the 2023-24 share at scale 0.02 "
          "(1.0 against 3.0: section 20 in 2020 17.3% against 15.5%, England 17%) and run 22 "
          "of cscsim calibrate --history, where no trial beat it (held in runs 23-24; "
          "docs/calibration.md). Why "
          "it moved: Re N (Children) [2015] EWFC 112, where the President of "
          "the Family Division criticised long stays under section 20 without proceedings; "
          "children in care under section 20 fell from 27.8% (2015) to 17% (2020; DfE CLA, "
          "sim/data/drivers_england.csv: cla_s20_share)",
          "hazard a year that an authority issues care proceedings for a family with a child "
          "accommodated under section 20 for six months or more (not an unaccompanied child): "
          "at the final hearing the child comes under a care order, or stays accommodated if "
          "no order is made (agents/court.py: s20_proceedings)"),
    Param("placements", "breakdown_kinship", 0.05, "per placement per year", 0.0, 5.0, A, "",
          "base breakdown hazard of a kinship placement"),
    Param("placements", "breakdown_inhouse", 0.24, "per placement per year", 0.0, 5.0,
          "calibrated", FIT_STABILITY,
          "base breakdown hazard of an in-house foster placement"),
    Param("placements", "breakdown_ifa", 0.16, "per placement per year", 0.0, 5.0,
          "calibrated", FIT_STABILITY,
          "base breakdown hazard of an agency foster placement"),
    Param("placements", "breakdown_home", 0.38, "per placement per year", 0.0, 5.0,
          "calibrated", FIT_STABILITY,
          "base breakdown hazard of a children's home placement"),
    Param("placements", "breakdown_supported", 0.15, "per placement per year", 0.0, 5.0, A, "",
          "base breakdown hazard of supported accommodation"),
    Param("placements", "breakdown_emergency", 1.0, "per placement per year", 0.0, 10.0, A,
          "", "breakdown hazard of an emergency (unregistered) placement"),
    Param("placements", "breakdown_with_parents", 0.15, "per placement per year", 0.0, 5.0, A,
          "", "hazard that a placement with parents under a care order ends in a move"),
    Param("placements", "breakdown_adoptive", 0.034, "per placement per year", 0.0, 5.0,
          "published",
          "Adoption England and the University of East Anglia, 'Pre-adoption order "
          "disruptions in England' (2025): about 2.5% of placements with prospective adopters "
          "disrupt before the order (3%, 148 of 4,767, in 2012-13: Ofsted's adoption data); "
          "2.5% over a 39-week wait is 0.034 a year",
          "base breakdown hazard of a placement with prospective adopters (a disruption "
          "before the adoption order)"),
    Param("placements", "short_term_share", 0.924039, "share of sibling groups", 0.0, 1.0,
          "calibrated", FIT + " (run 7), to DfE's placement stability measure (about 10-11% "
          "of children in care had 3 or more placements in the year)",
          "children entering foster or residential care who first go to a short-term "
          "(bridging) placement while a long-term one is found"),
    Param("placements", "short_term_weeks", 16.5058, "weeks", 1.0, 104.0, "calibrated",
          FIT + " (run 8), started from a quarter, typical of short-term fostering",
          "mean time in a short-term placement before the planned move to a long-term one"),
    Param("placements", "inhouse_refill", True, "on/off", None, None, A,
          "practice: authorities place with their own carers first (Sufficiency reports: "
          "in-house carers are used before agencies)",
          "a free place with the authority's own foster carers goes at once to a child with no "
          "sibling in care who waits in a short-term agency placement"),
    Param("placements", "distance_effect", 0.25, "log-hazard per 20 miles", 0.0, 3.0, A,
          "research on distant placements (e.g. Ofsted 2022) links distance to instability",
          "rise in breakdown hazard with distance from home"),
    Param("placements", "teen_effect", 0.6, "log-hazard", 0.0, 3.0, A, "",
          "extra breakdown hazard for 11-17s"),
    Param("placements", "quality_effect", 1.0, "log-hazard per unit quality", 0.0, 5.0, A, "",
          "lower breakdown hazard with provider quality (0-1)"),
    Param("placements", "residential_suitable_share", 0.15, "share", 0.01, 1.0, "calibrated",
          FIT + " (runs 9-10), to the distance and children's-home targets (21% placed over "
          "20 miles, 45% out of area, 11.4% in homes); "
          "the CMA's children's social care market study (final report, March 2022) found a "
          "lack of placements 'of the right kind, in the right places' the market's main "
          "failing",
          "share of children's homes and supported-accommodation services that suit a given "
          "child (registration, age range, the children already living there); drawn per "
          "child, home site and week"),
    Param("placements", "fit_sd", 0.5, "log-hazard", 0.0, 3.0, A, "",
          "spread of how well a child and placement fit (drawn at matching)"),
    Param("placements", "separation_effect", 0.2, "log-hazard", 0.0, 3.0, A, "",
          "extra breakdown hazard for a child placed apart from siblings in care"),
    Param("placements", "contact_loss_rate", 0.5, "per child per year per 20 miles", 0.0, 10.0, A,
          "", "hazard that contact with birth family lapses, proportional to distance"),
    Param("placements", "inhouse_per_10k_children", 20.5, "places per 10,000 children", 0.0,
          500.0, "calibrated",
          "run 11, from the places in use: Sufficiency.org.uk FOI 2024, 27.9% of CLA in "
          "in-house foster care x 83,630 / 11.95m children = 19.5 (the approved places Ofsted "
          "counts as vacant or unavailable, Fostering in England 2023-24, cannot take the "
          "children waiting); the model's pools run about 95% full. With own carers first "
          "(inhouse_refill) the in-house share follows mostly from this input and the rate in "
          "care, so its check tests the pools fill, not why the share is what it is",
          "LA foster care places that can take the children the authority places (per child; "
          "they follow the authority's child population)"),
    Param("placements", "ifa_per_10k_children", 20.0, "places per 10,000 children", 0.0, 500.0,
          "derived", "Sufficiency.org.uk FOI 2024: 24.8% of CLA with IFAs x 83,630 / 85% / 11.95m",
          "independent fostering agency places"),
    Param("placements", "home_per_10k_children", 9.05, "places per 10,000 children", 0.0, 500.0,
          "derived", "Ofsted 2023: 10,818 children's home places / 11.95m",
          "children's home places"),
    Param("placements", "supported_per_10k_children", 8.0, "places per 10,000 children", 0.0,
          500.0, "derived", "Sufficiency.org.uk FOI 2024: 9.8% of CLA x 83,630 / 85% / 11.95m",
          "supported accommodation places (16-17s)"),
    Param("placements", "inhouse_outside_share", 0.05, "share of places", 0.0, 1.0,
          "calibrated", FIT,
          "share of an authority's own foster carers who live just across its boundary "
          "(in a neighbouring authority's neighbourhood next to one of its own)"),
    Param("placements", "home_size", 3.76, "places per home", 1.0, 20.0, "derived",
          "Ofsted 2023: 10,818 places in 2,880 homes", "places in a children's home"),
    Param("placements", "agency_size", 40, "foster places per branch", 1, 1000, A,
          "a fostering agency's local branch; round figure",
          "places per agency branch at full scale (the number of branches does not depend on "
          "run.scale; their size shrinks with it, down to min_pool)"),
    Param("placements", "supported_size", 10, "places per service", 1, 500, A, "round figure",
          "places per supported-accommodation service at full scale (as agency_size)"),
    Param("placements", "min_pool", 4, "places", 1, 100, A,
          "a children's home's size (home_size, 3.76), rounded up: a pool of one or two places "
          "is full most of the time and can never take a sibling group, so a small sample's "
          "placement mix would lean on children's homes (whose size does not shrink)",
          "the fewest places a simulated agency branch or supported service has"),
    Param("placements", "home_la_run_share", 0.75, "share of not-for-profit homes", 0.0, 1.0,
          A, "about three in four of the not-for-profit children's homes are run by authorities",
          "share of today's not-for-profit children's homes that are LA-run (they take only "
          "their own authority's children)"),
    Param("placements", "matching_rounds", 8, "rounds per week", 1, 100, A,
          "enough that a child is refused by only a few providers before an emergency bed; "
          "more rounds matter only where many sibling groups compete for few places",
          "rounds of offers a week between sibling groups needing a placement and providers "
          "with room; groups still unplaced after them go to emergency beds"),
    Param("placements", "emergency_quality", 0.3, "0-1", 0.0, 1.0, A,
          "unregistered placements are poor fits by design: below every registered provider's "
          "mean quality",
          "quality of an emergency placement (the breakdown hazard rises as quality falls)"),
    Param("placements", "price_inhouse", 450, "GBP per week", 0, 20_000, A,
          "allowances plus support; below agency prices", "cost of an in-house foster placement"),
    Param("placements", "price_ifa", 820, "GBP per week", 0, 20_000, "published", CMA,
          "price of an agency foster placement"),
    Param("placements", "price_home", 3830, "GBP per week", 0, 50_000, "published",
          CMA + " (largest providers)", "price of a children's home placement"),
    Param("placements", "price_supported", 1200, "GBP per week", 0, 20_000, A, "",
          "price of supported accommodation"),
    Param("placements", "price_kinship", 250, "GBP per week", 0, 5_000, A, "",
          "allowance and support for a kinship foster placement"),
    Param("placements", "price_with_parents", 150, "GBP per week", 0, 5_000, A, "",
          "support for a child placed with parents under a care order"),
    Param("placements", "other_costs_per_week", 1050, "GBP per child per week", 0, 10_000,
          "calibrated", FIT + "; towards Ofsted's £8.1bn spending on children looked after "
          "(2023-24) / 11.95m children",
          "costs of looking after a child beyond the placement (LA staff, reviews, education "
          "and health support)"),
    Param("placements", "price_index", 1.0, "x 2023-24 prices", 0.1, 10.0, A,
          "prices as in 2023-24 (the CMA and Ofsted figures above, uprated by the fit)",
          "multiplier on every placement price and cost (inflation); schedule it by year"),
    Param("placements", "price_emergency", 10_000, "GBP per week", 0, 100_000, A,
          "press reports of unregistered placements at £10,000+ a week",
          "price of an emergency placement when no registered place is free"),
    # --- market --------------------------------------------------------------------------
    Param("market", "margin_home", 0.23, "share of price", 0.0, 0.9, "published", CMA,
          "for-profit children's homes' operating margin"),
    Param("market", "margin_ifa", 0.19, "share of price", 0.0, 0.9, "published", CMA,
          "for-profit fostering agencies' operating margin"),
    Param("market", "margin_supported", 0.2, "share of price", 0.0, 0.9, A, "",
          "for-profit supported accommodation's operating margin"),
    Param("market", "target_occupancy", 0.85, "share", 0.1, 1.0, A, "",
          "occupancy providers price for"),
    Param("market", "price_response", 1.0, "price premium per unit of market occupancy above "
          "target", 0.0, 10.0, A, "the CMA (2022) found prices highest where places are "
          "scarcest; 1.0 means 10% dearer at 95% occupancy than at the 85% target",
          "how a for-profit provider's price follows the occupancy of its kind of placement "
          "across the market"),
    Param("market", "property_effect", 0.3, "share of cost", 0.0, 0.9, A, "",
          "how much cheaper it is to run a place in the cheapest (most deprived) areas"),
    Param("market", "property_deprivation_max", 50.0, "IMD average score", 10.0, 100.0, A,
          "IMD 2019 (MHCLG): authorities' average scores run from about 5 to 45",
          "the deprivation score at which an authority's half of the property-cost saving is "
          "full"),
    Param("market", "price_spread", 0.1, "log-sd", 0.0, 1.0, A, "",
          "spread of providers' list prices around their kind's price (lognormal)"),
    Param("market", "quality_spread", 0.1, "0-1", 0.0, 0.5, A, "",
          "spread of providers' quality around their owner's mean (normal, clipped to "
          "0.05-0.95)"),
    Param("market", "entry_rate", 0.03, "share of capacity per month", 0.0, 1.0, A, "",
          "for-profit places opening a month, as a share of the kind's capacity, when the kind "
          "is full and margins are twice the hurdle"),
    Param("market", "hurdle_margin", 0.15, "share of price", 0.0, 0.9, A, "",
          "margin a for-profit provider needs before it enters"),
    Param("market", "exit_occupancy", 0.5, "share", 0.0, 1.0, A, "",
          "occupancy below which a for-profit provider leaves after exit_months months"),
    Param("market", "exit_months", 6, "monthly reviews", 1, 120, A,
          "half a year of losses before a provider gives up",
          "consecutive monthly reviews (every 4 weeks) below exit_occupancy after which a "
          "for-profit provider closes"),
    Param("market", "quality_for_profit", 0.55, "0-1", 0.0, 1.0, A, "",
          "mean quality of for-profit providers"),
    Param("market", "quality_not_for_profit", 0.65, "0-1", 0.0, 1.0, A, "",
          "mean quality of LA and voluntary providers"),
    # --- budget --------------------------------------------------------------------------
    Param("budget", "placement_budget_margin", 0.0, "share", -0.5, 1.0, A, "",
          "placement budget above the first year's expected placement cost"),
    Param("budget", "crisis_trap_strength", 0.5, "share of overspend", 0.0, 2.0, A,
          "councils cut prevention to fund placements (LGA; Independent Review 2022)",
          "share of a year's overspend taken from next year's early help"),
    Param("budget", "early_help_floor", 0.3, "share of base", 0.0, 1.0, A, "",
          "early help never falls below this share of its base budget"),
    # --- unit costs of policies (policies/; docs/policies.md) -----------------------------
    # What a [[policies]] budget buys. Family help converts at early_help.cost_per_place_week
    # and social-work posts at social_work.cost_per_fte, the costs the model already charges.
    Param("policy_costs", "health_visitor_fte_year", 60_000, "GBP per FTE per year", 0,
          500_000, A, "NHS Agenda for Change band 6 pay 2023-24 (GBP 35,392 to 42,618) plus "
          "employer on-costs and overheads of about half; PSSRU's Unit Costs of Health and "
          "Social Care (Jones et al.) should replace it",
          "cost of one more health-visitor FTE for a year (health_visitors policies)"),
    Param("policy_costs", "kinship_allowance_week", 204, "GBP per child per week", 0, 2_000,
          "derived", "DfE, fostering national minimum allowance 2025-26, rest of England: "
          "GBP 170, 176, 194, 220 and 258 a week by age band (mean 204); the Independent "
          "Review (2022) asked for kinship allowances at the fostering rate",
          "allowance paid to a kinship carer for one child for a week (kinship_support "
          "policies)"),
    Param("policy_costs", "kinship_children_per_10k", 11.2, "children per 10,000 children",
          0.0, 500.0, "derived", DFE_CLA + ": 16% of 83,630 children looked after were in "
          "kinship foster care (13,380) / 11.95m children",
          "kinship placements today, against which kinship allowances are sized: each "
          "allowance funded is taken to make one more kinship placement possible (an "
          "assumption, docs/policies.md)"),
    Param("policy_costs", "foster_household_recruitment", 62_500, "GBP per household", 0,
          1_000_000, "derived", "HM Treasury, Spring Statement 2025: GBP 25m over 2026-27 and "
          "2027-28 to recruit 400 more fostering households, with peer support (reported by "
          "Community Care, 8 April 2025): 25m / 400",
          "cost of recruiting, assessing and supporting one more fostering household "
          "(foster_carers policies)"),
    Param("policy_costs", "places_per_foster_household", 1.3, "places per household", 0.1,
          10.0, "derived", "DfE CLA 2022: 57,540 children living with foster families, in "
          "almost 44,000 fostering households (Ofsted, Fostering in England 2022): 1.31",
          "foster places one recruited household adds"),
    Param("policy_costs", "childrens_home_place_capital", 250_000, "GBP per place", 0,
          5_000_000, A, "no published cost per place found; DfE's children's homes capital "
          "programme (GBP 259m, 2022 Spending Review) funds new LA places; a four-bed home at "
          "about GBP 1m to buy and adapt",
          "capital cost of one more LA-run children's home place (local_sufficiency and "
          "regional_commissioning policies)"),
    # --- levers (policies/) --------------------------------------------------------------
    Param("levers", "early_help_capacity", 1.0, "x today", 0.0, 5.0, A, "today's level",
          "multiplier on early-help places (policies/early_help.py)"),
    Param("levers", "health_visitor_fte", 1.0, "x today", 0.0, 5.0, A, "today's level",
          "multiplier on health-visitor FTE (policies/health_visiting.py)"),
    Param("levers", "distance_cap_miles", 0.0, "miles", 0.0, 500.0, A, "no cap today",
          "place within this distance unless impossible; 0 = nearest suitable bed anywhere"),
    Param("levers", "distance_weight", 4.0, "GBP per week per mile", 0.0, 1000.0,
          "calibrated", FIT,
          "how much more a week an authority pays to place a child a mile closer"),
    Param("levers", "local_sufficiency", 1.0, "x today", 0.0, 5.0, A, "today's level",
          "multiplier on LA foster and LA-run home places (policies/placement_distance.py)"),
    Param("levers", "for_profit_share", 0.8, "share", 0.0, 1.0, A,
          "Ofsted 2023: about 4 in 5 children's homes are private; applied to all non-LA kinds",
          "share of agency, home and supported places run for profit (policies/market.py)"),
    Param("levers", "profit_cap", 0.0, "share of price", 0.0, 0.9, A, "no cap today",
          "maximum for-profit margin; 0 = no cap (policies/market.py)"),
    Param("levers", "funding", 1.0, "x today", 0.0, 5.0, A, "today's level",
          "multiplier on every authority's budget (policies/funding.py)"),
    Param("levers", "poverty", 1.0, "x today", 0.0, 3.0, A, "today's level",
          "multiplier on the share of families in poverty (policies/poverty.py)"),
    Param("levers", "kinship_support", 1.0, "x today", 0.0, 3.0, A, "today's level",
          "multiplier on the chance of a kinship placement (policies/kinship.py)"),
)
# fmt: on

#: Keys a scenario may give as a schedule by year (sim/schedule.py): every lever and every
#: exogenous driver (population, poverty, arrivals, workforce, prices).
SCHEDULABLE: frozenset[str] = frozenset(
    p.name
    for p in PARAMS
    if isinstance(p.default, float)
    and (
        p.section == "levers"
        or p.name
        in {
            "population.birth_rate",
            "population.net_migration_rate",
            "care.uasc_per_10k_children",
            "social_work.posts_per_10k_children",
            "placements.price_index",
            "court.proceedings_weeks",
            "care.adoption_rate",
            "social_work.s47_practice_shift",
            "social_work.proceedings_practice",
            "court.s20_proceedings_rate",
            "care.sgo_practice",
            "care.adoption_plan_share",
        }
    )
)
BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.section for p in PARAMS))


def defaults() -> dict[str, dict[str, Any]]:
    """A fresh nested dict ``{section: {key: default}}``."""
    out: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for p in PARAMS:
        out[p.section][p.key] = p.default
    return out
