"""Scenario files: TOML loading and validation with one clear message per mistake.

A scenario file sets any parameter of :mod:`sim.parameters` by section::

    name = "Double early help"
    description = "Early-help places doubled from year 1"

    [levers]
    early_help_capacity = 2.0

Everything not set keeps its default. A file may build on another (``extends =
"england_baseline.toml"``, relative to the file): the other file's values come first, this
file's sections override them key by key, and its ``[[policies]]`` (timed, targeted reforms;
docs/policies.md) are added after the other's. Mistakes raise :class:`ConfigError`, whose
message names the key, the value and what is allowed; the CLI turns it into exit code 2 before
anything is written.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sim.parameters import BY_NAME, SCHEDULABLE, SECTIONS, defaults
from sim.schedule import Schedule, resolve

META_KEYS = ("name", "description")
#: Top-level keys that are not sections of parameters.
POLICIES_KEY, EXTENDS_KEY = "policies", "extends"


class ConfigError(ValueError):
    """A scenario or experiment that cannot be run, with a message meant for its author."""


@dataclass
class Scenario:
    """A fully resolved set of parameters (every key present) plus a name and description."""

    values: dict[str, dict[str, Any]] = field(default_factory=defaults)
    name: str = "default"
    description: str = ""
    #: ``[[policies]]`` tables, checked (policies/base.py: parse_policy), in the file's order.
    policies: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        # A schedule read back from its TOML/JSON form (a manifest, a worker's task) is a dict.
        for section in self.values.values():
            for key, value in section.items():
                if isinstance(value, dict):
                    section[key] = Schedule.parse(value, lambda v, _y: float(v))
        # Read-only views of each section, built once: the model reads parameters every week.
        self._sections = {s: SimpleNamespace(**v) for s, v in self.values.items()}

    def __getattr__(self, section: str) -> SimpleNamespace:
        sections = self.__dict__.get("_sections", {})
        if section in sections:
            return sections[section]
        raise AttributeError(section)

    def get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return self.values[section][key]

    def with_overrides(self, overrides: dict[str, Any], where: str = "override") -> Scenario:
        """A copy with ``{"section.key": value}`` applied and validated."""
        values = {s: dict(v) for s, v in self.values.items()}
        for dotted, value in overrides.items():
            if value is None:
                continue
            param = _lookup(dotted, where)
            values[param.section][param.key] = check_value(dotted, value, where)
        _check_replay(values["run"], where)
        return Scenario(values, self.name, self.description, self.policies)

    def with_policies(self, policies: list[dict[str, Any]], where: str = "policies") -> Scenario:
        """A copy with these ``[[policies]]`` tables (checked) in place of its own."""
        return Scenario({s: dict(v) for s, v in self.values.items()}, self.name,
                        self.description, parse_policies(policies, where))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (schedules as ``{"year": value}`` tables), as a scenario file has it;
        ``policies`` only when there are some (so a scenario without them is written, hashed
        and cached exactly as before policies existed)."""
        values = {
            s: {k: v.to_dict() if isinstance(v, Schedule) else v for k, v in body.items()}
            for s, body in self.values.items()
        }
        out = {"name": self.name, "description": self.description, **values}
        if self.policies:
            out[POLICIES_KEY] = [dict(p) for p in self.policies]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "scenario") -> Scenario:
        """The scenario :meth:`to_dict` wrote (a manifest's, a worker's task)."""
        values = {s: dict(v) for s, v in d.items()
                  if s not in (*META_KEYS, POLICIES_KEY)}
        return cls(values, d.get("name", "default"), d.get("description", ""),
                   parse_policies(d.get(POLICIES_KEY, []), where))

    def schedules(self) -> dict[str, Schedule]:
        """The keys given as schedules, by dotted name."""
        return {
            f"{s}.{k}": v
            for s, body in self.values.items()
            for k, v in body.items()
            if isinstance(v, Schedule)
        }

    def at_year(self, year: int) -> Scenario:
        """This scenario with every schedule resolved to its value in ``year`` (the model's
        parameters for that year); the same object when nothing is scheduled."""
        if not self.schedules():
            return self
        values = {s: {k: resolve(v, year) for k, v in b.items()} for s, b in self.values.items()}
        return Scenario(values, self.name, self.description, self.policies)


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str) -> str:
    """A message on one line: line breaks inside it (e.g. from a key name) are escaped."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _lookup(dotted: str, where: str):
    if dotted in BY_NAME:
        return BY_NAME[dotted]
    section = dotted.split(".", 1)[0]
    if section not in SECTIONS:
        raise ConfigError(
            f"{where}: unknown section [{section}]{_suggest(section, list(SECTIONS))} "
            f"Allowed sections: {', '.join(SECTIONS)}."
        )
    raise ConfigError(
        f"{where}: unknown key {dotted!r}{_suggest(dotted, list(BY_NAME))} "
        f"(`cscsim params` lists every key)"
    )


def _check_replay(run: dict[str, Any], where: str) -> None:
    """``run.replay_from`` against ``run.start_year``: a replay runs from an earlier year up to
    year 1 (sim/model.py)."""
    replay, start = run["replay_from"], run["start_year"]
    if replay and not 1990 <= replay <= start:
        raise ConfigError(f"{where}: run.replay_from = {replay} is not allowed: 0 (no replay) or "
                          f"a reporting year from 1990 to run.start_year ({start}); a replay "
                          f"runs from an earlier year up to year 1")


def check_value(dotted: str, value: Any, where: str = "scenario") -> Any:
    """Return ``value`` converted to the parameter's type, or raise a ConfigError that says why."""
    p = BY_NAME[dotted]
    if isinstance(value, Schedule):
        value = value.to_dict()
    if isinstance(value, dict):
        if dotted not in SCHEDULABLE:
            raise ConfigError(
                f"{where}: {dotted} takes one value, not a schedule by year "
                f"(`cscsim params` marks the keys that accept schedules)"
            )
        try:
            return Schedule.parse(
                value, lambda v, y: check_value(dotted, v, f"{where} ({y})")
            )
        except ValueError as e:
            if isinstance(e, ConfigError):
                raise
            raise ConfigError(f"{where}: {dotted}: {e}") from None
    bad = f"{where}: {dotted} = {shown(value)} is not allowed: {p.allowed()}"
    if p.choices is not None:
        if value not in p.choices:
            raise ConfigError(bad + _suggest(str(value), list(p.choices)))
        return value
    if isinstance(p.default, bool):
        if not isinstance(value, bool):
            raise ConfigError(bad)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(bad)
    if isinstance(value, float) and not math.isfinite(value):  # TOML's nan and inf
        raise ConfigError(bad)
    if isinstance(p.default, int) and isinstance(value, float) and not value.is_integer():
        raise ConfigError(bad)
    if not (p.lo <= value <= p.hi):
        unit = f" ({p.unit})" if p.unit else ""
        raise ConfigError(f"{where}: {dotted} = {shown(value)} is out of range: "
                          f"{p.allowed()}{unit}")
    return int(value) if isinstance(p.default, int) else float(value)


def parse_policies(tables: Any, where: str = "scenario") -> tuple[dict[str, Any], ...]:
    """Check a scenario's ``[[policies]]`` array (policies/base.py: parse_policy)."""
    from policies.base import parse_policy

    if not isinstance(tables, list | tuple):
        raise ConfigError(f"{where}: policies must be an array of tables: write each as "
                          f"[[policies]] followed by its keys (docs/policies.md)")
    return tuple(parse_policy(t, i, where) for i, t in enumerate(tables, start=1))


def parse_scenario(data: dict[str, Any], where: str = "scenario") -> Scenario:
    """Validate a parsed TOML mapping and resolve it against the defaults."""
    overrides: dict[str, Any] = {}
    meta = {"name": "default", "description": ""}
    policies: tuple[dict[str, Any], ...] = ()
    for section, body in data.items():
        if section == POLICIES_KEY:
            policies = parse_policies(body, where)
            continue
        if section == EXTENDS_KEY:
            raise ConfigError(f"{where}: extends is read from scenario files only (give the "
                              f"file to load_scenario)")
        if section in META_KEYS:
            if not isinstance(body, str):
                raise ConfigError(f"{where}: {section} must be a string, not {body!r}")
            meta[section] = body
            continue
        if not isinstance(body, dict):
            if section in SECTIONS:
                raise ConfigError(f"{where}: [{section}] must be a table of keys")
            _lookup(f"{section}.x", where)  # raises with the right suggestion
            raise ConfigError(
                f"{where}: unknown top-level key {section!r}; allowed: "
                f"{', '.join(META_KEYS)}, {EXTENDS_KEY}, [[{POLICIES_KEY}]] and the sections "
                f"{', '.join(SECTIONS)}"
            )
        for key, value in body.items():
            dotted = f"{section}.{key}"
            _lookup(dotted, where)
            overrides[dotted] = value
    return Scenario(name=meta["name"], description=meta["description"],
                    policies=policies).with_overrides(overrides, where)


#: Scenario and experiment files are a few kilobytes; anything larger than this is not one
#: (``/dev/zero``, a results file given by mistake) and is refused before it is read in full.
MAX_FILE_BYTES = 1_000_000


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every way it can be unreadable into a ConfigError."""
    if not str(path).strip():
        raise ConfigError("the file name is empty: give the path of a TOML file")
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a TOML file") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes, so not a scenario or "
                          f"experiment file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: cannot read: not UTF-8 text ({e.reason} at byte "
                          f"{e.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: malformed TOML: {e}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise ConfigError(f"{path}: malformed TOML: nested too deeply") from None


def load_scenario(path: str | Path | None = None) -> Scenario:
    """The default scenario, or the file at ``path`` resolved against it."""
    if path is None:
        return Scenario()
    return parse_scenario(_extended(Path(path), ()), where=str(path))


def _extended(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The file's TOML with the file it ``extends`` (if any) merged underneath: sections key by
    key, the other's ``[[policies]]`` first, this file's name and description."""
    data = load_toml(path)
    parent = data.pop(EXTENDS_KEY, None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ConfigError(f"{path}: extends must be the path of another scenario file, "
                          f"relative to this one")
    base_path = (path.parent / parent).resolve()
    if base_path in seen or base_path == path.resolve():
        raise ConfigError(f"{path}: extends {parent!r} makes a loop of scenario files")
    base = _extended(base_path, (*seen, path.resolve()))
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v)
                              for k, v in base.items()}
    for key, value in data.items():
        if key == POLICIES_KEY and isinstance(value, list):
            merged[key] = [*base.get(POLICIES_KEY, []), *value]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
