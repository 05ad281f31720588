"""Common random numbers: every random decision about an individual is a keyed draw.

Why. A stochastic model compared with itself under a policy should differ only where the
policy acts. With sequential streams (``rng.random(n)`` for everyone each week) one family's
changed path (an extra early-help place, a child who stays home) changes how many numbers the
stream hands out, and from then on every other family receives different numbers: the two
arms of a comparison draw different luck, and the difference drowns in noise. Klein et al.
(2024), "Noise-free comparison of stochastic agent-based simulations using common random
numbers" (Institute for Disease Modeling; the Starsim framework), make each agent's draw a
function of (seed, decision, time step, agent id) instead, so a draw belongs to the agent and
the decision, not to the order of the computation; they report more than a tenfold cut in the
replications needed for a given precision.

How. A draw here is a counter-based hash: the 64-bit key of (seed, mechanism, week,
sub-stream) is combined with each individual's stable 64-bit ``uid`` and mixed by the
splitmix64 finaliser (Steele, Lea and Flood 2014; the finaliser of Java's SplittableRandom),
all in vectorised numpy ``uint64`` arithmetic (wrapping multiplication is the point of it).
So:

- a draw is computed only for the individuals who face the decision (the eligible), in any
  order, any number of times, with the same answer; nothing is consumed;
- one family's path never moves another family's draw for the same mechanism and week;
- the draw a family gets does not depend on how many rows the tables hold, so births and
  arrivals (whose ids are derived from their parents' or the arrival's own key, never from a
  row number) do not shift anyone.

Uniforms have 53 random bits and lie strictly inside (0, 1), so ``log(u)`` and the inverse
normal CDF are finite; :meth:`Draws.pair` gives two uniforms of 32 bits each from one hash
where a mechanism needs two independent numbers per individual (half the cost). Normal draws
are the inverse CDF of a keyed uniform (``scipy.special.ndtri``), gamma and Poisson draws
likewise, so a change in a rate or a mean moves only the individuals near the threshold
(monotone coupling), which is what keeps the arms' paths together.

Aggregate decisions that concern no individual (the market: provider openings and
locations, building the population's structure) use sequential numpy streams of their own
(``model.streams``); they never share numbers with these draws.

(The module is ``sim/draws.py`` rather than ``sim/random.py`` so that running a file inside
``sim/`` as a script can never shadow the standard library's ``random``.)

Mechanism names are plain strings ("need.shock", "casework.review"): every call site that
decides something different uses its own name, so two decisions about one individual in one
week are independent.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import special

from sim import kernels

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_COUNTER = np.uint64(0xD6E8FEB86659FD93)
_MASK = (1 << 64) - 1
#: The week key of draws made while a model is being built (never a simulated week).
BUILD_WEEK = -(2**40)


def mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, in place on a ``uint64`` array (returned for chaining)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def _mix_int(x: int) -> int:
    """:func:`mix64` on one Python integer (for keys: cheaper than a one-element array)."""
    x &= _MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    x ^= x >> 31
    return x


_NAME_KEYS: dict[str, int] = {}


def name_key(name: str) -> int:
    """A stable 64-bit key for a mechanism's name (blake2b, so it does not depend on Python's
    per-process string hashing and is the same on every machine and run)."""
    k = _NAME_KEYS.get(name)
    if k is None:
        k = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
        _NAME_KEYS[name] = k
    return k


def _as_ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids).astype(np.uint64, copy=True))


def _ids_view(ids) -> np.ndarray:
    """``ids`` as ``uint64`` for the compiled kernels, which only read them: no copy of an
    array of uids (already ``uint64``); others (row ordinals) are converted, wrapping as
    numpy's ``astype`` does."""
    a = np.asarray(ids)
    if a.dtype != np.uint64 or a.ndim != 1 or not a.flags.c_contiguous:
        # (contiguous too: numba would otherwise reuse a strided specialisation for every call)
        a = np.ascontiguousarray(a.astype(np.uint64).reshape(-1))
    return a


def _counter(counter) -> tuple[np.ndarray, bool]:
    if counter is None:
        return _NO_COUNTER, False
    return np.ascontiguousarray(np.asarray(counter).astype(np.uint64).reshape(-1)), True


_NO_COUNTER = np.zeros(0, np.uint64)


class Draws:
    """The keyed draws of one run (``model.draws``): a function of the root seed only.

    ``week`` is the simulated week the draws belong to; the model sets it at the start of
    every step (and to :data:`BUILD_WEEK` while building). It carries no other state, so it
    pickles with a model (sim/snapshot.py) and a run continued from a snapshot draws exactly
    what the run that burnt in itself draws."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._seed_key = _mix_int(_mix_int(self.seed) ^ name_key("cscsim"))
        self.week = BUILD_WEEK

    def key(self, mechanism: str, week: int | None = None, sub: int = 0) -> int:
        """The 64-bit key of (seed, mechanism, week, sub-stream)."""
        w = self.week if week is None else int(week)
        k = _mix_int(self._seed_key ^ name_key(mechanism))
        k = _mix_int(k + (w & _MASK) * 0xD1B54A32D192ED03)
        return _mix_int(k + (int(sub) & _MASK) * 0x8CB92BA72F3D8DD7)

    def bits(self, mechanism: str, ids, week: int | None = None, sub: int = 0,
             counter: np.ndarray | None = None) -> np.ndarray:
        """64 random bits for each id (``uint64``), a pure function of the key and the id.
        ``counter``: a per-id count folded in (e.g. a child's placements so far this year),
        for a decision one individual can face more than once in a week."""
        a = _ids_view(ids)
        cnt, use = _counter(counter)
        out = np.empty(a.shape, np.uint64)
        return kernels.keyed_bits(a, np.uint64(self.key(mechanism, week, sub)), cnt, use, out)

    def cells(self, mechanism: str, rows, cols, week: int | None = None, sub: int = 0,
              out: np.ndarray | None = None) -> np.ndarray:
        """A matrix of uniforms in (0, 1), one per (row id, column id) pair: e.g. a sibling
        group (its uid) against a provider's site, where a verdict belongs to the pair and not
        to the order the matching asks in. ``out``: a float64 buffer of that shape to fill."""
        a = self.bits(mechanism, rows, week, sub)
        b = _as_ids(cols)
        b *= _M2
        b += np.uint64(0x2545F4914F6CDD1D)
        mix64(b)
        x = a.reshape(-1, 1) ^ b.reshape(1, -1)
        mix64(x)
        x >>= np.uint64(11)
        u = out if out is not None else np.empty(x.shape, np.float64)
        np.copyto(u, x, casting="unsafe")
        u += 0.5
        u *= 2.0**-53
        return u

    def uniform(self, mechanism: str, ids, week: int | None = None, sub: int = 0,
                counter: np.ndarray | None = None) -> np.ndarray:
        """One uniform in (0, 1) per id (53 random bits): the top 53 bits of :meth:`bits`,
        plus a half, over 2**53 (one compiled pass, sim/kernels.py)."""
        a = _ids_view(ids)
        cnt, use = _counter(counter)
        out = np.empty(a.shape, np.float64)
        return kernels.keyed_uniform(a, np.uint64(self.key(mechanism, week, sub)), cnt, use, out)

    def pair(self, mechanism: str, ids, week: int | None = None,
             sub: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Two independent uniforms in (0, 1) per id (32 random bits each) from one hash:
        the high and the low half, each plus a half, over 2**32."""
        a = _ids_view(ids)
        hi, lo = np.empty(a.shape, np.float64), np.empty(a.shape, np.float64)
        kernels.keyed_pair(a, np.uint64(self.key(mechanism, week, sub)), hi, lo)
        return hi, lo

    def normal(self, mechanism: str, ids, week: int | None = None, sub: int = 0,
               counter: np.ndarray | None = None) -> np.ndarray:
        """One standard normal per id: the inverse normal CDF of a keyed uniform."""
        u = self.uniform(mechanism, ids, week, sub, counter)
        return special.ndtri(u, out=u)

    def gamma(self, mechanism: str, ids, shape: float, scale: float,
              week: int | None = None, sub: int = 0) -> np.ndarray:
        """Gamma(shape, scale) draws per id by the inverse CDF of a keyed uniform."""
        return scale * special.gammaincinv(shape, self.uniform(mechanism, ids, week, sub))

    def poisson(self, mechanism: str, mean: float, week: int | None = None,
                sub: int = 0) -> int:
        """One Poisson count (an aggregate: births this week, arrivals) by the inverse CDF of a
        keyed uniform, so a slightly larger mean gives the same count or one more: the arms of
        a comparison whose means differ a little almost always get the same count."""
        if mean <= 0:
            return 0
        return poisson_quantile(float(self.uniform(mechanism, [0], week, sub)[0]), mean)

    def choice(self, mechanism: str, ids, p: np.ndarray, week: int | None = None,
               sub: int = 0) -> np.ndarray:
        """An index drawn with probabilities ``p`` for each id (inverse CDF of a keyed
        uniform; ``p`` is normalised here)."""
        cdf = np.cumsum(np.asarray(p, dtype=np.float64))
        u = self.uniform(mechanism, ids, week, sub) * cdf[-1]
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)

    def integers(self, mechanism: str, ids, high, week: int | None = None,
                 sub: int = 0, counter: np.ndarray | None = None) -> np.ndarray:
        """An integer in [0, high) per id (``high`` a number or an array per id)."""
        u = self.uniform(mechanism, ids, week, sub, counter)
        high = np.asarray(high)
        return np.minimum((u * high).astype(np.int64), np.maximum(high - 1, 0))

    def child_ids(self, mechanism: str, parent, week: int | None = None,
                  sub: int = 0) -> np.ndarray:
        """New uids derived from ``parent`` keys (a family's uid for a baby; an ordinal for an
        arrival): the same parent, mechanism and week give the same id in every scenario."""
        x = self.bits(mechanism, parent, week, sub)
        x[x == 0] = 1  # 0 is the tables' fill value: never a real id
        return x



def poisson_quantile(u: float, mean: float) -> int:
    """The smallest k with P(X <= k) >= u for X ~ Poisson(mean): started from the normal
    approximation and stepped to the exact answer with the CDF (``scipy.special.pdtr``), a
    few scalar calls rather than importing scipy.stats."""
    if mean <= 0:
        return 0
    k = max(0, int(np.floor(mean + np.sqrt(mean) * special.ndtri(u))))
    while special.pdtr(k, mean) < u:
        k += 1
    while k > 0 and special.pdtr(k - 1, mean) >= u:
        k -= 1
    return k


# --- the numpy definitions the compiled kernels replace (tests/test_exact.py) ---------------


def bits_reference(key: int, ids, counter=None) -> np.ndarray:
    """:meth:`Draws.bits` as vectorised numpy (the definition the kernel must equal)."""
    x = _as_ids(ids)
    x *= _GOLDEN
    x += np.uint64(key)
    if counter is not None:
        x ^= np.asarray(counter).astype(np.uint64) * _COUNTER
    return mix64(x)


def uniform_reference(key: int, ids, counter=None) -> np.ndarray:
    """:meth:`Draws.uniform` as vectorised numpy."""
    x = bits_reference(key, ids, counter)
    x >>= np.uint64(11)
    u = x.astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    return u


def pair_reference(key: int, ids) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Draws.pair` as vectorised numpy."""
    x = bits_reference(key, ids)
    hi = (x >> np.uint64(32)).astype(np.float64)
    lo = (x & np.uint64(0xFFFFFFFF)).astype(np.float64)
    hi += 0.5
    hi *= 2.0**-32
    lo += 0.5
    lo *= 2.0**-32
    return hi, lo
