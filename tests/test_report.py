"""Specification of ``cscsim report``: one self-contained HTML page that opens offline.

Runs are small (2% of the North East for 2 years); the sweep is the synthetic kind of
test_sweep.py (records written directly, no model), so the file takes a few seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim import run
from sim.workflows.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"years": 2, "scale": 0.02, "region": "North East"}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report")
    run(**SMALL, seed=2, out=root / "a")
    run(ROOT / "policies/scenarios/within_20_miles.toml", **SMALL, seed=2, out=root / "b")
    return root / "a", root / "b"


def offline(page: str) -> bool:
    """Nothing fetched when the page opens: no scripts, no external sources or stylesheets."""
    return ("<script" not in page and not re.search(r"(src|href)=\"(https?:)?//", page)
            and "@import" not in page)


def test_a_runs_report_is_one_offline_page_with_its_figures_tables_and_manifest(two_runs):
    a, _ = two_runs
    assert main(["report", str(a)]) == 0
    page = (a / "report.html").read_text()
    assert offline(page)
    assert page.count("data:image/png;base64,") >= 1
    assert "Headline indicators by year" in page and "per 10,000 children" in page
    assert "default: North East, scale 0.02, seed 2, 2024-2025" in page
    assert "&#34;seed&#34;: 2" in page or '"seed": 2' in page  # the manifest, escaped
    assert "Placements by kind" in page and "Authorities in 2025" in page


def test_two_runs_with_one_seed_are_compared_as_a_pair(two_runs, tmp_path):
    a, b = two_runs
    out = tmp_path / "cmp.html"
    assert main(["report", str(a), str(b), "--out", str(out)]) == 0
    page = out.read_text()
    assert offline(page) and "yes (same seed)" in page
    assert "Within 20 miles" in page and "B against A in 2025" in page


def test_a_sweeps_report_embeds_the_analysis(tmp_path):
    from tests.test_sweep import _synthetic_sweep

    folder = _synthetic_sweep(tmp_path, "morris", "samples = 4\nlevels = 4")
    assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    assert offline(page) and "Morris screening" in page and "Design points" in page
    assert not (folder / "analysis").exists()  # the sweep folder gains only the page


@pytest.mark.parametrize(("args", "message"), [
    (["missing"], "missing: no such folder"),
    (["."], "is neither a run's folder"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, monkeypatch, args,
                                                           message):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_cannot_be_one_side_of_a_comparison(two_runs, tmp_path, capsys):
    from tests.test_sweep import _synthetic_sweep

    folder = _synthetic_sweep(tmp_path, "morris", "samples = 4\nlevels = 4")
    assert main(["report", str(two_runs[0]), str(folder)]) == 2
    assert "needs two run folders" in capsys.readouterr().err
    assert not (folder / "report.html").exists()
