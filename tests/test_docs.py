"""Documentation generated from code stays in step with it."""

from __future__ import annotations

from pathlib import Path

from sim.cli import params_markdown
from sim.indicators import INDICATORS, markdown
from sim.parameters import PARAMS

ROOT = Path(__file__).resolve().parents[1]


def test_indicators_doc_matches_the_code():
    assert (ROOT / "docs/indicators.md").read_text() == markdown()


def test_parameters_doc_matches_the_code():
    assert (ROOT / "docs/parameters.md").read_text() == params_markdown()


def test_every_parameter_says_where_its_default_comes_from():
    for p in PARAMS:
        assert p.basis in {"published", "derived", "calibrated", "assumption"}, p.name
        if p.basis in {"published", "derived"}:
            assert p.source, f"{p.name} is {p.basis} but cites nothing"
        assert p.doc, p.name


def test_the_annual_csv_has_the_columns_users_were_promised(run_model):
    promised = [
        "year",
        "children",
        "cla",
        "cla_rate_per_10k",
        "care_entries",
        "care_entries_rate_per_10k",
        "care_exits",
        "referrals",
        "s47_enquiries",
        "cin",
        "cin_rate_per_10k",
        "cpp",
        "cpp_rate_per_10k",
        "early_help_started",
        "hv_contacts",
        "placement_breakdowns",
        "placement_breakdown_rate",
        "share_3plus_placements",
        "share_over_20_miles",
        "share_out_of_area",
        "mean_distance_miles",
        "for_profit_share",
        "sibling_separation_share",
        "family_contact_lost_share",
        "spend_early_help_gbp",
        "spend_social_work_gbp",
        "spend_placements_gbp",
        "overspend_gbp",
        "provider_profit_gbp",
    ]
    assert set(promised) <= set(run_model.annual_frame().columns)
    assert {i.name for i in INDICATORS} <= set(run_model.annual_by_la_frame().columns)


def test_the_odd_protocol_names_every_mechanism():
    odd = (ROOT / "docs/ODD.md").read_text().lower()
    for mechanism in (
        "crisis trap",
        "market",
        "health visit",
        "early help",
        "front door",
        "kinship",
        "breakdown",
        "reunification",
        "adoption",
        "sibling",
        "contact",
        "births",
        "unaccompanied",
        "pre-birth",
        "threshold",
    ):
        assert mechanism in odd, mechanism
