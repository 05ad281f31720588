"""Policy levers: one module per lever, plus preset scenario files in ``scenarios/``.

A lever is a named parameter in the ``[levers]`` section that a policy-maker could move. Each
module says what the lever stands for in the real system, which mechanism it acts through, and
why it can be moved mid-run (the teaching app's sliders call :func:`set_lever`). Setting a
lever validates the value exactly as a scenario file would.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from importlib.resources import files
from pathlib import Path


@dataclass(frozen=True)
class Lever:
    """A policy lever: its parameter key, a label for people, and the mechanism it moves."""

    key: str  # in the [levers] section
    label: str
    mechanism: str


MODULES = (
    "early_help",
    "health_visiting",
    "placement_distance",
    "market",
    "funding",
    "poverty",
    "kinship",
)
LEVERS: dict[str, Lever] = {}
for _name in MODULES:
    for _lever in import_module(f"policies.{_name}").LEVERS:
        LEVERS[_lever.key] = _lever


def set_lever(model, key: str, value: float) -> None:
    """Move a lever in a running model; it takes effect from the next week."""
    if key not in LEVERS:
        from sim.config import ConfigError

        raise ConfigError(f"unknown lever {key!r}; levers: {', '.join(LEVERS)}")
    change = {f"levers.{key}": value}
    model.inputs = model.inputs.with_overrides(change, where="lever")  # for later years
    model.params = model.params.with_overrides(change, where="lever")


def preset_scenarios() -> dict[str, Path]:
    """The preset scenario files shipped in ``policies/scenarios``, by name."""
    folder = files("policies") / "scenarios"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}
