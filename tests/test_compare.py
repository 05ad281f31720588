"""``cscsim compare``, as specifications: paired runs on common seeds, its files and columns,
zero difference for a scenario against itself, and one-line refusals that write nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.workflows.cli import main
from sim.workflows.compare import CHILD_COLUMNS, COMPARE_COLUMNS, FILES

TINY = ["--reps", "2", "--scale", "0.01", "--years", "1", "--region", "North East",
        "--quiet"]


def _scenario(tmp_path, name: str, body: str = "") -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\ndescription = "test"\n{body}')
    return str(path)


def test_a_scenario_against_itself_differs_by_exactly_zero(tmp_path):
    base = _scenario(tmp_path, "base")
    same = _scenario(tmp_path, "same")
    out = tmp_path / "out"
    assert main(["compare", base, same, *TINY, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    table = pd.read_csv(out / "compare.csv")
    assert list(table.columns) == list(COMPARE_COLUMNS)
    by_year = table[table.year != "all"]
    assert (by_year.paired_difference == 0).all()
    assert (by_year.base_mean.fillna(0) == by_year.scenario_mean.fillna(0)).all()
    assert {"care_entries", "cla", "spend_total_gbp"} <= set(by_year.indicator)
    assert set(table[table.year == "all"].indicator) >= {"care_entries", "spend_total_gbp",
                                                         "cost_per_care_entry_averted_gbp"}
    la = pd.read_csv(out / "compare_by_la.csv")
    assert list(la.columns) == ["scenario", "authority", *COMPARE_COLUMNS[1:]]
    assert (la.paired_difference == 0).all() and la.authority.nunique() == 12
    kids = pd.read_csv(out / "children.csv")
    assert list(kids.columns) == list(CHILD_COLUMNS) and len(kids) == 0


def test_a_policy_shows_its_children_and_its_cost(tmp_path):
    """Twice the early help: paired differences with intervals, the spending difference, and
    children whose paths differ, named by uids that exist in both arms' runs."""
    base = _scenario(tmp_path, "base")
    more = _scenario(tmp_path, "more", "[levers]\nearly_help_capacity = 2.0\n")
    out = tmp_path / "out"
    args = ["--reps", "2", "--scale", "0.04", "--years", "2", "--region", "North East",
            "--quiet", "--workers", "2"]
    assert main(["compare", base, more, *args, "--out", str(out)]) == 0
    table = pd.read_csv(out / "compare.csv")
    spend = table[(table.indicator == "spend_early_help_gbp") & (table.year == "all")].iloc[0]
    assert spend.paired_difference > 0 and spend.ci_low > 0
    kids = pd.read_csv(out / "children.csv")
    assert len(kids) > 0 and set(kids.scenario) == {"more"}
    assert set(kids.what) <= {"care entry averted", "entered care (not in base)",
                              "fewer placement moves", "more placement moves",
                              "family contact kept", "family contact lost"}


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys):
    base = _scenario(tmp_path, "base")
    out = tmp_path / "out"
    cases = [
        [base, str(tmp_path / "missing.toml")],
        [base, _scenario(tmp_path, "typo", "[levers]\nearly_help_capacit = 2.0\n")],
        [base, _scenario(tmp_path, "elsewhere", '[run]\nregion = "North East"\n')],
    ]
    for args in cases:
        more = ["--reps", "1", "--scale", "0.01", "--years", "1", "--quiet"]
        assert main(["compare", *args, *more, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("cscsim: error:") and "\n" not in err
        assert not out.exists()
    # An unusable --out: a file where the folder should be.
    (tmp_path / "file").write_text("x")
    assert main(["compare", base, base, *TINY, "--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "x"


def test_compare_is_a_cscsim_command(tmp_path):
    import subprocess
    import sys

    # The console script installed beside this interpreter (the project's venv).
    script = Path(sys.executable).with_name("cscsim")
    r = subprocess.run([str(script), "compare", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--reps" in r.stdout


def test_a_comparison_cut_short_is_completed_with_resume_running_only_what_was_missing(
        tmp_path, monkeypatch):
    """A crash after some runs leaves no result files, only the finished runs; ``--resume``
    runs the rest and writes the same tables as a comparison that never stopped."""
    import sim.workflows.compare as cmp

    base = _scenario(tmp_path, "base")
    more = _scenario(tmp_path, "more", "[levers]\nearly_help_capacity = 2.0\n")
    clean = tmp_path / "clean"
    assert main(["compare", base, more, *TINY, "--out", str(clean)]) == 0

    real, calls = cmp.run_arm, []

    def crash_on_third(task):
        calls.append(task[:2])
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the third run
        return real(task)

    monkeypatch.setattr(cmp, "run_arm", crash_on_third)
    cut = tmp_path / "cut"
    assert main(["compare", base, more, *TINY, "--out", str(cut)]) != 0
    assert not (cut / "compare.csv").exists()
    assert len(list((cut / cmp.PARTS).glob("*.pkl"))) == 2

    calls.clear()
    monkeypatch.setattr(cmp, "run_arm", lambda task: calls.append(task[:2]) or real(task))
    assert main(["compare", base, more, *TINY, "--out", str(cut), "--resume"]) == 0
    assert len(calls) == 2  # only the two runs that had not finished
    assert not (cut / cmp.PARTS).exists()
    for name in ("compare.csv", "compare_by_la.csv", "children.csv"):
        assert (cut / name).read_bytes() == (clean / name).read_bytes(), name
