"""Policy levers and policies: one module per lever or reform, plus scenario files in
``scenarios/``.

A lever is a named parameter in the ``[levers]`` section that a policy-maker could move, the
same in every authority for the whole run (or on a schedule by year). A *policy* is a reform as
it is announced: a kind (family help, health visitors, kinship support, foster carers, local
sufficiency, a distance cap or preference, regional commissioning, a profit cap, social-work
posts, funding, poverty), the authorities it is for, start and end dates, and a size in its own
units or a budget converted at a published unit cost. Each module says what its lever stands
for in the real system and which mechanism it acts through, and defines the policy classes
(:class:`policies.base.Policy`) the model applies; ``[[policies]]`` tables in a scenario name
them by ``kind`` (docs/policies.md). The teaching app's sliders call :func:`set_lever`; setting
a lever validates the value exactly as a scenario file would.
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
    "fostering",
    "commissioning",
    "workforce",
)
LEVERS: dict[str, Lever] = {}
#: Every policy kind, by the ``kind`` a ``[[policies]]`` table gives.
KINDS: dict[str, type] = {}
for _name in MODULES:
    _module = import_module(f"policies.{_name}")
    for _lever in _module.LEVERS:
        LEVERS[_lever.key] = _lever
    for _cls in getattr(_module, "POLICIES", ()):
        KINDS[_cls.kind] = _cls


def set_lever(model, key: str, value: float) -> None:
    """Move a lever in a running model; it takes effect from the next week."""
    if key not in LEVERS:
        from sim.config import ConfigError

        raise ConfigError(f"unknown lever {key!r}; levers: {', '.join(LEVERS)}")
    change = {f"levers.{key}": value}
    model.inputs = model.inputs.with_overrides(change, where="lever")  # for later years
    model.params = model.params.with_overrides(change, where="lever")
    model.refresh_levers()


def preset_scenarios() -> dict[str, Path]:
    """The preset scenario files shipped in ``policies/scenarios``, by name."""
    folder = files("policies") / "scenarios"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}
