"""Inputs that change over time: a value given by year, interpolated between the years given.

A scenario may give a schedulable key (``cscsim params`` marks them) a schedule instead of one
value::

    [levers]
    early_help_capacity = { 2010 = 2.0, 2016 = 1.2, 2021 = 1.0 }

Years are DfE reporting years (2011 means the year ending 31 March 2011). Between two given
years the value is interpolated linearly; before the first and after the last it is held flat.
The model resolves every schedule once a year, as the year begins, so a year's value is the
one in force for its 52 weeks and is the one written to ``annual.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class Schedule:
    """Values by year; ``at(year)`` interpolates linearly and holds flat outside the years."""

    years: tuple[int, ...]
    values: tuple[float, ...]

    def at(self, year: int) -> float:
        return float(np.interp(year, self.years, self.values))

    def to_dict(self) -> dict[str, float]:
        """The TOML/JSON form: ``{"2010": 2.0, ...}`` (keys are strings in both)."""
        return {str(y): v for y, v in zip(self.years, self.values, strict=True)}

    @classmethod
    def parse(cls, raw: Mapping[Any, Any], check) -> Schedule:
        """A schedule from a ``{year: value}`` mapping. ``check(value, year)`` converts and
        validates each value (raising with a message naming the key); years must be whole
        numbers from 1990 to 2100. Raises ValueError with the reason for a bad year."""
        if not raw:
            raise ValueError("a schedule needs at least one year")
        pairs = []
        for year, value in raw.items():
            text = str(year).strip()
            if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
                raise ValueError(
                    f"schedule year {str(year)!r} is not a year from {FIRST_YEAR} to {LAST_YEAR}"
                )
            pairs.append((int(text), check(value, int(text))))
        pairs.sort()
        years = tuple(y for y, _ in pairs)
        if len(set(years)) != len(years):
            raise ValueError("a schedule gives the same year twice")
        return cls(years, tuple(float(v) for _, v in pairs))


def resolve(value: Any, year: int) -> Any:
    """A parameter's value in ``year``: a schedule's value then, anything else as it is."""
    return value.at(year) if isinstance(value, Schedule) else value
