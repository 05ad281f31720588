"""Small vectorised helpers shared by the mechanisms."""

from __future__ import annotations

import numpy as np


def unique_ints(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` of a 1-D array of integers (its distinct values, ascending, in its
    dtype), by a sort and a comparison of neighbours. numpy 2's ``np.unique`` finds the
    distinct values by hashing before it sorts them, fifteen times slower at the tens of
    thousands of rows the week's lists of families have (3 ms against 0.2 ms for 35,000
    family rows at full scale). Other dtypes go to ``np.unique``."""
    x = np.asarray(x)
    if x.ndim != 1 or x.dtype.kind not in "iu":
        return np.unique(x)
    x = np.sort(x)
    if len(x) == 0:
        return x
    keep = np.empty(len(x), bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def union_ints(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.union1d(a, b)`` of two 1-D arrays of integers (see :func:`unique_ints`)."""
    return unique_ints(np.concatenate((a, b)))


def first_per_group(
    group: np.ndarray, capacity: np.ndarray, order: np.ndarray, size: np.ndarray | None = None
) -> np.ndarray:
    """Mask of the items each group can take, in ``order``, until its ``capacity`` is used.

    Items are taken whole (an item of ``size`` 3 needs 3 units of room); an item that does not
    fit is skipped and so is everything after it in that group (first come, first served).
    """
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=bool)
    size = np.ones(n, dtype=np.int64) if size is None else np.asarray(size, dtype=np.int64)
    idx = np.lexsort((order, group))
    g, s = group[idx], size[idx]
    cum = np.cumsum(s)
    starts = np.r_[True, g[1:] != g[:-1]]
    before = np.maximum.accumulate(np.where(starts, cum - s, 0))
    ok = (cum - before) <= capacity[g]
    mask = np.zeros(n, dtype=bool)
    mask[idx] = ok
    return mask


def _uniforms(u: np.random.Generator | np.ndarray, shape) -> np.ndarray:
    """``u`` itself (uniforms, e.g. keyed draws of sim/draws.py), or that many from a stream."""
    if isinstance(u, np.random.Generator):
        return u.random(shape)
    return np.asarray(u, dtype=float)


def weighted_sample(u: np.random.Generator | np.ndarray, weights: np.ndarray,
                    k: int) -> np.ndarray:
    """``k`` distinct indices drawn with probability proportional to ``weights``.

    Efraimidis-Spirakis keys (u^(1/w)), so it stays fast for millions of candidates. ``u``:
    one uniform per candidate, keyed by the candidate's uid (sim/draws.py) where the
    candidates are individuals, so a candidate's chance does not depend on who else is a
    candidate or in which order they are listed; or a stream, for aggregate choices.
    """
    k = int(min(k, np.count_nonzero(weights > 0)))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.log(_uniforms(u, len(weights))) / weights
    return np.argpartition(-keys, k - 1)[:k]


def stochastic_round(u: np.random.Generator | np.ndarray, x: np.ndarray | float) -> np.ndarray:
    """Round to an integer up or down at random so the expected value is ``x`` (``u``: one
    uniform per element, or a stream)."""
    x = np.asarray(x, dtype=float)
    lo = np.floor(x)
    return (lo + (_uniforms(u, x.shape) < (x - lo))).astype(np.int64)


def weekly_probability(yearly_rate: np.ndarray | float) -> np.ndarray | float:
    """The chance that an event with this yearly hazard happens within one week."""
    return -np.expm1(-np.asarray(yearly_rate, dtype=float) / 52.0)


class Scratch:
    """Work arrays reused from week to week, by name.

    At full scale a family-sized float64 temporary is 60 MB; numpy gets arrays that large
    from the C library as fresh mappings and hands them back when freed, so each one faulted
    its pages in again every week (a quarter of a national run's time went to the kernel).
    Writing into arrays kept here (numpy's ``out=``) does the same arithmetic without that.
    A buffer is valid until the next ``get`` of its name; the pool is not pickled."""

    def __init__(self) -> None:
        self._bufs: dict[str, np.ndarray] = {}

    def get(self, name: str, n: int, dtype: type | np.dtype) -> np.ndarray:
        """An uninitialised array of ``n`` elements (room kept for the tables' growth)."""
        buf = self._bufs.get(name)
        if buf is None or len(buf) < n or buf.dtype != np.dtype(dtype):
            buf = np.empty(n + n // 8 + 1024, dtype)
            self._bufs[name] = buf
        return buf[:n]

    def zeroed(self, name: str, n: int, dtype: type | np.dtype) -> np.ndarray:
        """An array of ``n`` zeros that the caller returns to zero after use, clearing only
        the entries it set (a mask of every family marked at a few thousand rows a week,
        then, were it made afresh each week, a whole array to clear)."""
        buf = self._bufs.get(name)
        if buf is None or len(buf) < n or buf.dtype != np.dtype(dtype):
            buf = np.zeros(n + n // 8 + 1024, dtype)
            self._bufs[name] = buf
        return buf[:n]

    def __getstate__(self) -> dict:
        return {"_bufs": {}}


def scratch(model) -> Scratch:
    """The model's pool of work arrays (made on first use)."""
    pool = model.__dict__.get("_scratch")
    if pool is None:
        pool = model.__dict__["_scratch"] = Scratch()
    return pool
