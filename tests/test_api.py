"""Specification of the analyst's API (``from sim import run, load``) and the README's use of it.

Runs are small (2% of the North East for 2 years, about a second each).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load, run
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"years": 2, "scale": 0.02, "region": "North East"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "run"
    return run(**SMALL, seed=3, out=out), out


def test_the_readmes_python_snippet_runs_and_shows_a_childs_journey(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    snippet = next(b for b in blocks if "from sim import run" in b)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)
    assert len(scope["child"].history) > 0
    assert {"care_entry", "placement"} <= set(scope["child"].history["event"])
    assert len(scope["r"].annual) == 2


def test_a_saved_run_loads_back_to_the_same_tables(saved):
    live, out = saved
    back = load(out)
    pd.testing.assert_frame_equal(back.annual, live.annual, check_dtype=False, check_exact=False,
                                  rtol=1e-9)
    assert len(back.by_authority) == len(live.by_authority)
    assert back.title == live.title and "seed 3" in back.title


def test_a_loaded_child_has_the_same_placements_as_the_live_one(saved):
    live, out = saved
    back = load(out)
    j = int(live.placements.child_id.iloc[-1])
    here, there = live.child(j), back.child(j)
    assert len(there.placements) == len(here.placements) >= 1
    starts = there.history[there.history.event == "placement"]["week"].tolist()
    assert starts == sorted(here.placements["start"].tolist())


def test_compare_gives_the_paired_difference_by_year(saved):
    live, _ = saved
    same = live.compare(live, ["cla", "cla_rate_per_10k"])
    assert same.attrs["paired"] and (same["difference"] == 0).all()
    assert list(same.columns) == ["year", "indicator", "this", "other", "difference",
                                  "relative", "paired"]
    other = run(**SMALL, seed=4)
    diff = live.compare(other, ["cla"])
    assert not diff.attrs["paired"]
    assert np.allclose(diff["difference"], other.annual["cla"].to_numpy()
                       - live.annual["cla"].to_numpy())


def test_the_summary_figure_names_the_run(saved):
    live, _ = saved
    fig = live.plot()
    assert fig._suptitle.get_text() == live.title
    assert "North East, scale 0.02, seed 3" in live.title


def test_load_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(ConfigError, match="no such folder"):
        load(tmp_path / "missing")
    with pytest.raises(ConfigError, match="not a run's folder"):
        load(tmp_path)


def test_overrides_are_checked_like_a_scenario_file():
    with pytest.raises(ConfigError, match=r"levers\.early_help_capacityy"):
        run(**SMALL, overrides={"levers.early_help_capacityy": 2.0})


def test_the_teaching_page_renders_as_widgets_for_jupyter():
    """Jupyter shows an element through ipywidgets; rendering it headless builds the page."""
    import reacton

    from sim.workflows.app import notebook

    element = notebook(scale=0.01)
    assert hasattr(element, "_ipython_display_")
    box, rc = reacton.render(element, handle_error=False)
    try:
        assert "GridLayout" in repr(box) or box.children
    finally:
        rc.close()
