"""Shared small models: big enough for mechanisms to show, small enough for CI."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from sim.config import Scenario
from sim.model import CareSystem


@pytest.fixture(scope="session", autouse=True)
def warm_start_cache(tmp_path_factory) -> Iterator[Path]:
    """Teaching warm starts (sim/snapshot.py) are kept for the session in a folder of its own,
    not the user's cache: tests that run the same preset share one, and leave nothing behind."""
    import os

    from sim.snapshot import CACHE_ENV

    folder = tmp_path_factory.mktemp("warm-starts")
    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old


def small(**overrides) -> Scenario:
    """The default scenario at 2% of the North West for 2 years, with any overrides."""
    base = {"run.scale": 0.02, "run.years": 2, "run.seed": 7}
    base.update({k.replace("__", "."): v for k, v in overrides.items()})
    return Scenario().with_overrides(base)


@pytest.fixture(scope="session")
def run_model() -> CareSystem:
    """One finished small run, shared by tests that only read results."""
    model = CareSystem(small())
    model.run()
    return model


def load_script(name: str) -> ModuleType:
    """A script of ``scripts/`` (not a package) imported as a module, for its functions."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
