"""Documentation generated from code stays in step with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.indicators import INDICATORS
from sim.parameters import PARAMS
from sim.workflows.cli import params_markdown

ROOT = Path(__file__).resolve().parents[1]


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
        "share_3plus_placements_in_year",
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


def test_the_data_dictionary_files_match_the_code():
    from sim.workflows.datadict import csv_text
    from sim.workflows.datadict import markdown as dictionary

    assert (ROOT / "docs/indicators.md").read_text() == dictionary()
    assert (ROOT / "docs/indicators.csv").read_text() == csv_text()


def test_every_column_of_every_run_file_is_in_the_data_dictionary(run_model, tmp_path):
    from sim.output import write_run
    from sim.workflows.datadict import columns

    write_run(run_model, tmp_path / "run", {})
    documented: dict[str, set[str]] = {}
    for c in columns():
        for f in c.files.split(", "):
            documented.setdefault(f, set()).add(c.name)
    for name in ("annual.csv", "annual_by_la.csv", "placements.csv", "children.csv"):
        header = (tmp_path / "run" / name).read_text().splitlines()[0].split(",")
        missing = set(header) - documented[name]
        assert not missing, f"{name}: {sorted(missing)} not documented in docs/indicators.md"


def test_every_ratio_recombines_from_the_authorities_rows(run_model):
    """A ratio for a group of authorities is the sum of its numerator over their rows divided
    by the sum of its denominator; both are columns of annual_by_la.csv."""
    by_la, region = run_model.annual_by_la_frame(), run_model.annual_frame()
    summed = by_la.groupby("year").sum(numeric_only=True).reset_index()
    for i in INDICATORS:
        if i.kind == "ratio":
            den = summed[i.den].to_numpy(float)
            mine = np.where(den > 0, summed[i.num] / np.where(den > 0, den, 1) * i.per, np.nan)
            assert np.allclose(mine, region[i.name], equal_nan=True), i.name
