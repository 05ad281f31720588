"""The same seed gives byte-identical outputs; a different seed gives different ones."""

from __future__ import annotations

import filecmp

from sim.workflows.cli import main

ARGS = ["--years", "1", "--scale", "0.02", "--quiet"]
CSVS = ("annual.csv", "annual_by_la.csv", "placements.csv")


def test_same_seed_same_bytes_different_seed_different(tmp_path):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert main(["run", "--out", str(tmp_path / name), "--seed", seed, *ARGS]) == 0
    for f in CSVS:
        assert filecmp.cmp(tmp_path / "a" / f, tmp_path / "b" / f, shallow=False), f
        assert not filecmp.cmp(tmp_path / "a" / f, tmp_path / "c" / f, shallow=False), f
