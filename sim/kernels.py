"""Compiled loops (numba) for the few passes a week makes over every family or child (issue 13).

Why. A vectorised numpy expression makes one pass over memory per operation and a temporary
array for most of them: the splitmix64 hash behind every keyed draw (sim/draws.py) is ten
passes, and at full scale each family-sized temporary is tens of megabytes. A loop compiled by
numba does the same arithmetic element by element in one pass with no temporaries.

Exactness. Every kernel here computes bit for bit what the numpy code it replaces computes:
integer arithmetic on ``uint64`` wraps in both; conversions of integers below 2**53 to
``float64`` are exact; the floating-point operations are the same IEEE operations in the same
order (numba's default, not ``fastmath``, so nothing is reassociated or fused). The numpy
definitions are kept beside them (``*_reference``) and tests/test_exact.py compares the two.

The inverse normal of the weekly need shock is scipy's ``special.ndtri`` (Cephes) recompiled
here with its coefficients and its order of operations (:func:`ndtri`, equal to scipy's on
every one of the 2**32 uniforms a keyed pair can give); the shock uses it rounded to float32,
which :func:`need_draws` computes directly, taking the tails from a table wherever the
table's value rounds to the same float32 however it errs within a margin far wider than its
error, and from the exact function otherwise (also checked on all 2**32 uniforms).

The inverse normal's kernels use numpy's error model (``error_model="numpy"``): a division
by zero gives inf or nan, as in numpy, rather than raising, so numba adds no check before each
division and the compiler can vectorise a loop with one (none of theirs divides by zero: the
values are the same either way).

All kernels are compiled on first use and cached on disk (``cache=True``), so only the first
run after an install or a change pays the compilation.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numpy.polynomial import chebyshev

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_COUNTER = np.uint64(0xD6E8FEB86659FD93)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_M53 = 2.0**-53
_TWO_M32 = 2.0**-32


@njit(cache=True, nogil=True, inline="always")
def _mix(x):
    """The splitmix64 finaliser of one ``uint64`` (sim/draws.py: mix64)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


@njit(cache=True, nogil=True)
def keyed_bits(ids, key, counter, use_counter, out):
    """``out[i]``: the 64 bits of the keyed draw of ``ids[i]`` (``uint64`` ids, ``key`` a
    ``uint64``; ``counter``, ``uint64``, folded in when ``use_counter``)."""
    for i in range(ids.shape[0]):
        x = ids[i] * _GOLDEN + key
        if use_counter:
            x ^= counter[i] * _COUNTER
        out[i] = _mix(x)
    return out


@njit(cache=True, nogil=True)
def keyed_uniform(ids, key, counter, use_counter, out):
    """``out[i]``: the keyed uniform of ``ids[i]``: the top 53 bits of the hash, plus a half,
    over 2**53 (the operations of ``Draws.uniform``, in its order)."""
    for i in range(ids.shape[0]):
        x = ids[i] * _GOLDEN + key
        if use_counter:
            x ^= counter[i] * _COUNTER
        u = _unit53(_mix(x))
        out[i] = u
    return out


@njit(cache=True, nogil=True, inline="always")
def _unit53(x):
    """The uniform of one hash ``x``: its top 53 bits plus a half, over 2**53 (the operations of
    ``Draws.uniform``, in its order)."""
    u = np.float64(x >> _S11)
    u += 0.5
    u *= _TWO_M53
    return u


@njit(cache=True, nogil=True, inline="always")
def _halves(x):
    """The two 32-bit uniforms of one hash ``x``: its high and low halves, each centred in its
    cell, ``(h + 0.5) * 2**-32`` in the reference's order of operations (``Draws.pair``)."""
    hi = np.float64(x >> _S32)
    hi += 0.5
    hi *= _TWO_M32
    lo = np.float64(x & _LOW32)
    lo += 0.5
    lo *= _TWO_M32
    return hi, lo


@njit(cache=True, nogil=True)
def keyed_pair(ids, key, hi_out, lo_out):
    """The two 32-bit uniforms of one hash of ``ids[i]`` (``Draws.pair``)."""
    for i in range(ids.shape[0]):
        hi_out[i], lo_out[i] = _halves(_mix(ids[i] * _GOLDEN + key))


#: Coefficients of scipy's ``special.ndtri`` (Cephes ndtri.c, S. L. Moshier, as translated
#: in scipy's xsf/cephes/ndtri.h; BSD licence): the rational approximations for
#: |y - 0.5| <= 3/8 (P0/Q0), for sqrt(-2 log y) in [2, 8) (P1/Q1) and in [8, 64) (P2/Q2).
#: The Q polynomials' leading coefficient, 1, is implicit (p1evl).
_NDTRI_P0 = np.array([-5.99633501014107895267E1, 9.80010754185999661536E1,
                      -5.66762857469070293439E1, 1.39312609387279679503E1,
                      -1.23916583867381258016E0])
_NDTRI_Q0 = np.array([1.95448858338141759834E0, 4.67627912898881538453E0,
                      8.63602421390890590575E1, -2.25462687854119370527E2,
                      2.00260212380060660359E2, -8.20372256168333339912E1,
                      1.59056225126211695515E1, -1.18331621121330003142E0])
_NDTRI_P1 = np.array([4.05544892305962419923E0, 3.15251094599893866154E1,
                      5.71628192246421288162E1, 4.40805073893200834700E1,
                      1.46849561928858024014E1, 2.18663306850790267539E0,
                      -1.40256079171354495875E-1, -3.50424626827848203418E-2,
                      -8.57456785154685413611E-4])
_NDTRI_Q1 = np.array([1.57799883256466749731E1, 4.53907635128879210584E1,
                      4.13172038254672030440E1, 1.50425385692907503408E1,
                      2.50464946208309415979E0, -1.42182922854787788574E-1,
                      -3.80806407691578277194E-2, -9.33259480895457427372E-4])
_NDTRI_P2 = np.array([3.23774891776946035970E0, 6.91522889068984211695E0,
                      3.93881025292474443415E0, 1.33303460815807542389E0,
                      2.01485389549179081538E-1, 1.23716634817820021358E-2,
                      3.01581553508235416007E-4, 2.65806974686737550832E-6,
                      6.23974539184983293730E-9])
_NDTRI_Q2 = np.array([6.02427039364742014255E0, 3.67983563856160859403E0,
                      1.37702099489081330271E0, 2.16236993594496635890E-1,
                      1.34204006088543189037E-2, 3.28014464682127739104E-4,
                      2.89247864745380683936E-6, 6.79019408009981274425E-9])
_EXP_M2 = 0.13533528323661269189  # exp(-2)
_SQRT_2PI = 2.50662827463100050242E0


@njit(cache=True, nogil=True, inline="always")
def _polevl(x, coef):
    """Cephes polevl: the polynomial with coefficients ``coef`` (highest degree first), by
    Horner's rule in its order of operations."""
    ans = coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@njit(cache=True, nogil=True, inline="always")
def _p1evl(x, coef):
    """Cephes p1evl: as :func:`_polevl` with an implicit leading coefficient 1."""
    ans = x + coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@njit(cache=True, nogil=True, error_model="numpy")
def ndtri(y0):
    """The standard normal quantile of ``y0``: scipy's ``special.ndtri`` (Cephes), the same
    float64 operations in the same order, so bit for bit its value (tests/test_exact.py
    compares the two; ``log`` and ``sqrt`` are the C library's, as scipy's). Compiled here so
    the weekly need shock needs no separate pass of scipy over every family (issue 13)."""
    if y0 == 0.0:
        return -np.inf
    if y0 == 1.0:
        return np.inf
    if y0 < 0.0 or y0 > 1.0 or y0 != y0:
        return np.nan
    code = True
    y = y0
    if y > 1.0 - _EXP_M2:
        y = 1.0 - y
        code = False
    if y > _EXP_M2:
        return _ndtri_central(y)
    x = _ndtri_tail(y)
    if code:
        x = -x
    return x


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _ndtri_central(y):
    """:func:`ndtri` of ``y`` in (exp(-2), 1 - exp(-2)): its rational approximation."""
    y = y - 0.5
    y2 = y * y
    x = y + y * (y2 * _polevl(y2, _NDTRI_P0) / _p1evl(y2, _NDTRI_Q0))
    return x * _SQRT_2PI


@njit(cache=True, nogil=True, error_model="numpy")
def _ndtri_tail(y):
    """-:func:`ndtri` of ``y`` in (0, exp(-2)] (positive): Cephes' tail, its operations."""
    x = np.sqrt(-2.0 * np.log(y))
    x0 = x - np.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * _polevl(z, _NDTRI_P1) / _p1evl(z, _NDTRI_Q1)
    else:
        x1 = z * _polevl(z, _NDTRI_P2) / _p1evl(z, _NDTRI_Q2)
    return x0 - x1


@njit(cache=True, nogil=True, error_model="numpy")
def ndtri_array(y, out):
    """``out[i] = ndtri(y[i])`` (for tests and callers with an array)."""
    for i in range(y.shape[0]):
        out[i] = ndtri(y[i])
    return out


#: The tail of the inverse normal as a table (:func:`ndtri32`): for y in [2**E0, 2**(E1+1))
#: (after Cephes' reflection, y <= exp(-2) < 2**-2), each binade cut into 2**K segments, on
#: each a Chebyshev interpolant of degree DEG of -ndtri (at DEG + 1 Chebyshev nodes, worked
#: out here from :func:`ndtri` itself), kept as the coefficients of its powers of the
#: segment's variable t in [-1, 1] (converted in extended precision), evaluated by Estrin's
#: scheme. Its error (largest 2.0e-14 on 8 million points of the table, the 4 million
#: smallest pair uniforms among them) is far inside ``_TAIL_MARGIN``; where a value's float32
#: rounding is not settled within that margin, or y is below the table, the exact function
#: decides. The table's value is thus never the answer unless it rounds as the exact one
#: does, however it was evaluated (checked once over all 1,162,521,230 pair uniforms in the
#: tails: every one equals float32 of scipy's).
_TAIL_E0, _TAIL_E1, _TAIL_K, _TAIL_DEG = -40, -3, 5, 6
_TAIL_MARGIN = 1e-12


def _tail_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each segment's centre, inverse half-width and the coefficients of its interpolant's
    powers of t, lowest first (segments in order of the float64 bits of y: binade, then the
    top ``_TAIL_K`` bits of the mantissa)."""
    k, deg = _TAIL_K, _TAIL_DEG
    e = np.repeat(np.arange(_TAIL_E0, _TAIL_E1 + 1), 2**k)
    j = np.tile(np.arange(2**k), _TAIL_E1 - _TAIL_E0 + 1)
    lo = np.ldexp(1.0 + j / 2**k, e)
    hi = np.ldexp(1.0 + (j + 1) / 2**k, e)
    centre, half = (lo + hi) / 2, (hi - lo) / 2  # (exact: a few bits of mantissa)
    theta = np.pi * (np.arange(deg + 1) + 0.5) / (deg + 1)
    y = centre[:, None] + half[:, None] * np.cos(theta)[None, :]
    g = -ndtri_array(y.ravel(), np.empty(y.size)).reshape(y.shape)
    coef = 2.0 / (deg + 1) * g @ np.cos(np.outer(theta, np.arange(deg + 1)))
    coef[:, 0] /= 2
    powers = np.array([chebyshev.cheb2poly(c.astype(np.longdouble)) for c in coef])
    return centre, 1.0 / half, np.ascontiguousarray(powers.astype(np.float64))


_TAIL: list = []


def tail_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_tail_table`, worked out on first use and kept."""
    if not _TAIL:
        _TAIL.extend(_tail_table())
    return _TAIL[0], _TAIL[1], _TAIL[2]


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _ndtri32_tail(y, bits, centre, inv_half, coef):
    """float32(-ndtri(y)) for y in (0, exp(-2)] with float64 ``bits``: the table's value when
    its float32 rounding is settled within the margin, else the exact tail's."""
    e = np.int64(bits >> np.uint64(52)) - 1023
    inside = e >= _TAIL_E0
    # (Below the table, segment 0 is read and its value discarded: a branch around the
    # interpolation here stops the compiler unrolling it, and costs five times as much.)
    s = ((max(e, _TAIL_E0) - _TAIL_E0) << _TAIL_K) | np.int64(
        (bits >> np.uint64(52 - _TAIL_K)) & np.uint64((1 << _TAIL_K) - 1))
    t = (y - centre[s]) * inv_half[s]
    # Estrin's scheme (degree 6): three short chains the processor runs side by side, where
    # Clenshaw's recurrence was one chain of six steps, each waiting on the last (the need
    # week's draws at full scale 22.4 -> 17.7 ms: a quarter of the draws are tails).
    t2 = t * t
    t4 = t2 * t2
    g = ((coef[s, 0] + coef[s, 1] * t) + t2 * (coef[s, 2] + coef[s, 3] * t)) + t4 * (
        (coef[s, 4] + coef[s, 5] * t) + t2 * coef[s, 6])
    lo = np.float32(g - _TAIL_MARGIN)
    if inside and lo == np.float32(g + _TAIL_MARGIN):
        return lo
    return np.float32(_ndtri_tail(y))


@njit(cache=True, nogil=True, error_model="numpy")
def ndtri32_array(y, out, centre, inv_half, coef):
    """``out[i] = float32(ndtri(y[i]))`` for y in (0, 1), to the bit, by :func:`ndtri32`'s
    route (tests/test_exact.py compares it with scipy's)."""
    yb = np.empty(1)
    bb = yb.view(np.uint64)
    for i in range(y.shape[0]):
        v = y[i]
        if v > _EXP_M2 and v <= 1.0 - _EXP_M2:
            out[i] = np.float32(_ndtri_central(v))
        else:
            neg = v <= 1.0 - _EXP_M2
            w = v if neg else 1.0 - v
            yb[0] = w
            z = _ndtri32_tail(w, bb[0], centre, inv_half, coef)
            out[i] = -z if neg else z
    return out


_BLOCK = 64  # (a block's tails are one 64-bit word's set bits)


@intrinsic
def _prefetch(typingctx, arr, i):
    """Ask the processor to bring ``arr[i]`` into the cache (LLVM's prefetch, for reading, kept
    close): a hint only, which changes no value and never faults. A loop over a list of rows
    of a table of millions (the open cases, the children in care) waits on memory at every
    row; asking for the row :data:`_AHEAD` places on as each row is read overlaps the waits
    (casework's reviews at full scale, 6.6 -> 3.1 ms a week). Each loop writes its prefetches
    out: a shared helper for three columns, inlined, made England's 10 years cost 147.7-155.7
    CPU s against 131.2-135.7 (fourteenth session)."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


_AHEAD = 64  # (rows ahead a loop over a list of rows asks for: :func:`_prefetch`)


def _llvm_bit_count(builder, name: str, word, zero_is_undefined: bool):
    """Emit a call of LLVM's ``llvm.cttz`` or ``llvm.ctlz`` on a 64-bit ``word`` (the code of
    :func:`_cttz` and :func:`_ctlz`, run when numba compiles a caller)."""
    i64 = ir.IntType(64)
    fn = builder.module.declare_intrinsic(name, [i64], ir.FunctionType(i64, [i64, ir.IntType(1)]))
    return builder.call(fn, [word, ir.Constant(ir.IntType(1), int(zero_is_undefined))])


@intrinsic
def _cttz(typingctx, w):
    """LLVM's count of trailing zeros of a ``uint64`` (one ``tzcnt`` instruction), which numba
    does not expose; undefined for zero (every caller has a non-zero word)."""
    def codegen(context, builder, signature, args):
        return _llvm_bit_count(builder, "llvm.cttz", args[0], zero_is_undefined=True)

    return types.int64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def _low_bit(w):
    """The index of the lowest set bit of a non-zero ``uint64`` ``w``: its count of trailing
    zeros. (It was the exponent of its lowest bit alone converted to float64, which is the
    same index: at full scale the week's lists of 5 million teenagers and 3 million
    under-fives were found 2.5 times as fast this way, 12.6 -> 5.2 ms for the teenagers'.)"""
    return _cttz(w)


def _low_bit_reference(w: int) -> int:
    """:func:`_low_bit` in Python (the definition)."""
    return (w & -w).bit_length() - 1


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _need_block(ub, key, centre, inv_half, coef, us, ys, zs):
    """The weekly ``need`` pairs of one block of uids ``ub``: the first uniforms into ``us``,
    the standard normals of the second, as float32, into ``zs`` (``ys``: work space, the
    block's second uniforms); see :func:`need_draws`."""
    nb = ub.shape[0]
    yb = ys.view(np.uint64)
    for k in range(nb):
        us[k], ys[k] = _halves(_mix(ub[k] * _GOLDEN + key))
    # Every draw's central value, in a loop the compiler vectorises (the tails' values,
    # wrong but finite, are overwritten below); then the tails, a bit each in a word.
    for k in range(nb):
        zs[k] = np.float32(_ndtri_central(ys[k]))
    w = np.uint64(0)
    for k in range(nb):
        v = ys[k]
        w |= np.uint64(not (v > _EXP_M2 and v <= 1.0 - _EXP_M2)) << np.uint64(k)
    while w:
        k = _low_bit(w)
        w &= w - np.uint64(1)
        v = ys[k]
        neg = v <= 1.0 - _EXP_M2
        x = v if neg else 1.0 - v
        ys[k] = x
        z = _ndtri32_tail(x, yb[k], centre, inv_half, coef)
        zs[k] = -z if neg else z


@njit(cache=True, nogil=True, error_model="numpy")
def need_draws(uid, key, centre, inv_half, coef, u_out, z_out):
    """The weekly ``need`` pair of every family row (``Draws.pair`` of ``uid`` with ``key``):
    its first uniform into ``u_out`` and the standard normal of its second, rounded to
    float32 as the rule uses it (``float32(special.ndtri(v))`` to the bit), into ``z_out``
    (the week's rule uses :func:`need_week`: these draws and the update in one pass). The
    normals are made block by block: the uniforms of a block in a small array that stays in
    the cache, then their inverse, the central part by Cephes' own formula for every draw (a
    branch-free loop the compiler vectorises; a branch on the tails in it kept it scalar,
    three times slower) and the tails (where scipy takes two logarithms, a quarter of the
    draws) by :func:`_ndtri32_tail`, found as the set bits of a word (one bit a draw, set in
    a loop the compiler vectorises).

    Why so. The block's arrays are read through slices (``uid[b0:b1]``), not ``uid[b0 + k]``:
    numba cannot tell that ``b0 + k`` is not negative and checks it, which kept the loops from
    being vectorised. And a list of the tails kept by ``tails[nt] = k; nt += is_tail`` (every
    store made) cost more than the tails themselves: a store a draw, each waiting on the
    last one's count; the word's set bits are visited one by one instead."""
    n = uid.shape[0]
    ys = np.empty(_BLOCK)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        _need_block(uid[b0:b1], key, centre, inv_half, coef, u_out[b0:b1], ys, z_out[b0:b1])


@njit(cache=True, nogil=True, error_model="numpy")
def need_week(uid, key, centre, inv_half, coef, active, trio, poor, propensity, need, support,
              onset_w, end_w, poverty_effect, trio_effect, tau, shock_scale):
    """One week of toxic trio and need for every family row, in place (agents/family.py:
    evolve_need): :func:`need_draws` and :func:`need_update` block by block of 64 families,
    the block's draws kept in small arrays that stay in the cache rather than written to
    two arrays of every family and read back (84 MB at full scale). The same operations in
    the same order as the two. At full scale (week 6's families, thread CPU) the draws alone
    cost 47 ms as one loop keeping a list of the tails, 33 by blocks with the tails as a
    word's bits; the draws and the update 60 and 45 in two passes, 40 in this one."""
    n = uid.shape[0]
    ys = np.empty(_BLOCK)
    us = np.empty(_BLOCK)
    zs = np.empty(_BLOCK, np.float32)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        nb = b1 - b0
        _need_block(uid[b0:b1], key, centre, inv_half, coef, us[:nb], ys, zs[:nb])
        _need_update(active[b0:b1], us, zs, trio[b0:b1], poor[b0:b1], propensity[b0:b1],
                     need[b0:b1], support[b0:b1], onset_w, end_w, poverty_effect, trio_effect,
                     tau, shock_scale)


@njit(cache=True, nogil=True, inline="always")
def _need_update(active, u, z, trio, poor, propensity, need, support, onset_w, end_w,
                poverty_effect, trio_effect, tau, shock_scale):
    """One week of toxic trio and need for the family rows of ``active`` (and the other
    columns), in place, from the rows' draws ``u`` and ``z`` (:func:`need_draws`; at least as
    long as ``active``); families not active take 1.0 and no shock. Each line is one of the
    numpy operations it replaces, with numpy's types: float64 arithmetic, the shock's normal
    in float32, need stored as float32. (No branch and no look-up: a loop the compiler
    vectorises.)"""
    for i in range(active.shape[0]):
        a = active[i]
        ui = u[i] if a else 1.0
        zi = z[i] if a else np.float32(0.0)
        t = trio[i]
        start = (not t) & (ui < onset_w)
        end = t & (ui < end_w)
        t = (t | start) & (not end)
        trio[i] = t
        long_run = np.float64(poor[i]) * poverty_effect
        long_run += np.float64(t) * trio_effect
        long_run += np.float64(propensity[i])
        shock = np.float64(zi) * shock_scale
        old = np.float64(need[i])
        step = long_run - old
        step /= tau
        step = old + step
        step += shock
        step -= np.float64(support[i])
        need[i] = np.float32(step)


@njit(cache=True, nogil=True)
def need_update(active, u, z, trio, poor, propensity, need, support, onset_w, end_w,
                poverty_effect, trio_effect, tau, shock_scale):
    """:func:`_need_update` of every family row, from :func:`need_draws`' arrays."""
    _need_update(active, u, z, trio, poor, propensity, need, support, onset_w, end_w,
                 poverty_effect, trio_effect, tau, shock_scale)


@njit(cache=True, nogil=True, inline="always")
def _census_child(a, ic, g, young_weeks, under5_weeks):
    """One child's part of the census (:func:`census_from`), active ``a``, in care ``ic``,
    ``g`` weeks old: whether it is at home, whether it keeps its family live (active or in
    care) and young (at home under ``young_weeks``), and whether it is an under-five at home.
    (Scalars only: a helper given the arrays, even inlined, was five times slower, their
    reference counts kept up row by row.)"""
    home = a & (not ic)
    return home, a | ic, home & (g < young_weeks), home & (g < under5_weeks)


@njit(cache=True, nogil=True)
def census_from(start, n5, active, in_care, family, age, under5_weeks, live, at_home_mask,
                at_home, under5, case, min_case, family_la, open_by_la):
    """The census (sim/population.py: HomeCensus) of the child rows from ``start`` on, the
    list of under-fives already holding ``n5`` rows: the families with a child active or in
    care (``live``), the children at home (``at_home_mask``) and their number by family
    (``at_home``), the list of those at home under ``under5_weeks`` old, in row order, and, if
    ``open_by_la`` is not empty, added to it by their family's authority, the children in care
    and those at home whose family's ``case`` is at least ``min_case``. Returns the list's new
    length. (From row 0, with ``live`` and ``at_home`` zeroed: a whole census; from the first
    row the week added, the rest of the one :func:`age_and_census` made.)

    Written without branches on the data but the last (a child in fifteen at most): every
    store is made, the list's end moves by 0 or 1, as children's states are mixed row by row
    and mispredicted branches cost more than the stores."""
    count_open = open_by_la.shape[0] > 0
    for j in range(start, active.shape[0]):
        ic = in_care[j]
        fam = family[j]
        home, keeps, _, is5 = _census_child(active[j], ic, age[j], 0, under5_weeks)
        live[fam] |= keeps
        at_home_mask[j] = home
        at_home[fam] += home
        under5[n5] = j
        n5 += is5
        if count_open and (ic or (home and case[fam] >= min_case)):
            open_by_la[family_la[fam]] += 1
    return n5


#: The census's word of a family while :func:`age_and_census` counts its children: those at
#: home in the low bits, those of them under five in the next, and two flags, live (a child
#: active or in care) and young (a child at home under the births' age), so that each child
#: updates its family with one read and one write, not four (an array each);
#: :func:`census_aged_families` unpacks them (and finds any count that overflowed its bits:
#: the counts' totals are then short, and a whole census is made instead).
_LIVE_BIT = 30
_YOUNG_BIT = 29
_UNDER5_SHIFT = 14
_COUNT_BITS = (1 << _UNDER5_SHIFT) - 1  # (each count's field)
_COUNT_ONES = np.int32(1 | (1 << _UNDER5_SHIFT))  # (the two counts' bits of a child's word)


@njit(cache=True, nogil=True)
def census_aged_families(words, live, at_home, young, case, min_case, family_la, open_by_la,
                         under5_by_la):
    """After :func:`age_and_census`, family by family, the census's arrays from the words:
    ``live``, the children at home (``at_home``, which may be ``words`` itself: unpacked in
    place) and ``young`` (set where flagged); each family's under-fives at home added to its
    authority's count in ``under5_by_la``; and, if ``open_by_la`` is not empty, the family's
    children at home added to its authority's count if its ``case`` is at least ``min_case``
    (read now, as the ageing pass would have: the children's sum of
    :func:`open_children_by_la`, family by family, the same integers). Returns the totals of
    the two counts unpacked (the children at home, the under-fives at home), which fall short
    of the children's if a count overflowed its field.

    Block by block of 64 families: the words unpacked in a loop the compiler vectorises, the
    families with an open case or an under-five at home as the bits of two words, then
    visited one by one. (Family by family with a branch on the case, 16 ms a week at full
    scale.)"""
    count_open = open_by_la.shape[0] > 0
    n = words.shape[0]
    n_home = 0
    n5 = 0
    u5b = np.empty(_BLOCK, np.int32)  # (the block's under-five counts: at_home may be words)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        wb = words[b0:b1]
        lb = live[b0:b1]
        yb = young[b0:b1]
        hb = at_home[b0:b1]
        cb = case[b0:b1]
        w_open = np.uint64(0)
        w5 = np.uint64(0)
        for q in range(b1 - b0):
            w = wb[q]
            lb[q] = (w >> _LIVE_BIT) & 1
            yb[q] |= np.bool_((w >> _YOUNG_BIT) & 1)
            h = w & _COUNT_BITS
            u5 = (w >> _UNDER5_SHIFT) & _COUNT_BITS
            hb[q] = h
            u5b[q] = u5
            n_home += h
            n5 += u5
            w_open |= np.uint64(cb[q] >= min_case) << np.uint64(q)
            w5 |= np.uint64(u5 > 0) << np.uint64(q)
        while w5:
            k = _low_bit(w5)
            w5 &= w5 - np.uint64(1)
            under5_by_la[family_la[b0 + k]] += u5b[k]
        while count_open and w_open:
            i = b0 + _low_bit(w_open)
            w_open &= w_open - np.uint64(1)
            open_by_la[family_la[i]] += at_home[i]
    return n_home, n5


@njit(cache=True, nogil=True)
def age_and_census(age, care_weeks, in_care, active, adult_weeks, adults, family, young_weeks,
                   under5_weeks, words, at_home_mask, family_la, open_by_la, is_contact, due):
    """Everyone a week older (saturating at the int16 maximum), a week more in care for those
    looked after, the active children who reach ``adult_weeks`` made inactive and listed in
    ``adults``; and, in the same pass, :func:`census_from` of the aged rows as the census will
    stand once the children turning 18 in care have left care (the week's next rule:
    sim/model.py, step), into each family's word (``words``, zeroed by the caller;
    :func:`census_aged_families` unpacks them), which also flags a child active, not in care
    and under ``young_weeks`` (births' families), and the children in care counted in
    ``open_by_la`` (if not empty; those at home in a family with an open case are added as
    the words are unpacked): one read of the children's columns, not two. And health
    visiting's part (agents/health_visitor.py: visit, :func:`young_by_la`) of the under-fives
    at home, rather than their list: counted in their families' words (by authority as the
    words are unpacked), and those with a mandated contact due at their age
    (``is_contact[age] > 0``; ``is_contact`` longer than ``under5_weeks``) listed in
    ``due``, in row order. Returns how many turned 18, how many contacts are due, how many
    children are active, at home, and at home under five. The rows the week adds later are
    counted by :func:`census_from`.

    Block by block of 64 children: each child's age, state and word in a loop the compiler
    vectorises (the block's columns read through slices: see :func:`need_draws`), the few
    answers that are lists (18th birthdays, children in care, the under-fives at home) as the
    bits of three words, visited bit by bit; then the words added to the families one by one.
    A child's weeks in care and its active flag are written only where they change (one
    child in a hundred), so most of their pages are read but not written back. (One loop
    doing it all, a list's end moved by 0 or 1 each child: 49 ms a week at full scale,
    against 38-40.) Health visiting's own pass over the list of the under-fives cost 22 ms a
    week at full scale within the week: their families' authorities read one by one, a
    random read of memory each (most under-fives are rows added since the start, in the
    order of their births)."""
    count_open = open_by_la.shape[0] > 0
    k = 0
    nd = 0
    n_active = 0
    n_home = 0
    n5 = 0
    n = age.shape[0]
    fw = np.empty(_BLOCK, np.int32)  # each child's flags for its family's word, and at home
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        nb = b1 - b0
        ag = age[b0:b1]
        icb = in_care[b0:b1]
        acb = active[b0:b1]
        hm = at_home_mask[b0:b1]
        w_adult = np.uint64(0)
        w_care = np.uint64(0)
        w5 = np.uint64(0)
        na = 0
        nh = 0
        n5b = 0
        for q in range(nb):
            g = ag[q]
            g += g < 32767
            ag[q] = g
            ic = icb[q]
            a = acb[q]
            adult = a & (g >= adult_weeks)
            a = a & (not adult)
            ic_after = ic & (not adult)  # (leaves care at 18 before the census is read)
            home, keeps, young, is5 = _census_child(a, ic_after, g, young_weeks, under5_weeks)
            hm[q] = home
            fw[q] = ((np.int32(young) << _YOUNG_BIT) | (np.int32(keeps) << _LIVE_BIT)
                     | (np.int32(is5) << _UNDER5_SHIFT) | np.int32(home))
            sh = np.uint64(q)
            w_adult |= np.uint64(adult) << sh
            w_care |= np.uint64(ic) << sh
            w5 |= np.uint64(is5) << sh
            na += a
            nh += home
            n5b += is5
        n_active += na
        n_home += nh
        n5 += n5b
        fb = family[b0:b1]
        for q in range(nb):
            fam = fb[q]
            x = fw[q]
            words[fam] = (words[fam] | (x & ~_COUNT_ONES)) + (x & _COUNT_ONES)
        w_open = w_care & ~w_adult  # (in care after the 18th birthdays' exits)
        while w_care:
            j = b0 + _low_bit(w_care)
            w_care &= w_care - np.uint64(1)
            care_weeks[j] += 1
        while w_adult:
            j = b0 + _low_bit(w_adult)
            w_adult &= w_adult - np.uint64(1)
            active[j] = False
            adults[k] = j
            k += 1
        while count_open and w_open:
            j = b0 + _low_bit(w_open)
            w_open &= w_open - np.uint64(1)
            open_by_la[family_la[family[j]]] += 1
        while w5:
            q = _low_bit(w5)
            w5 &= w5 - np.uint64(1)
            due[nd] = b0 + q
            nd += is_contact[ag[q]] > 0
    return k, nd, n_active, n_home, n5


@njit(cache=True, nogil=True)
def mark_young_at_home(active, in_care, age, family, below_weeks, flags):
    """``flags[family]`` set for every child active, not in care and under ``below_weeks``
    (``flags`` zeroed by the caller); branch-free, as :func:`census_from`."""
    for j in range(active.shape[0]):
        flags[family[j]] |= active[j] & (not in_care[j]) & (age[j] < below_weeks)


@intrinsic
def _ctlz(typingctx, w):
    """LLVM's count of leading zeros of a ``uint64`` (64 for zero), which numba does not
    expose; in a loop the compiler vectorises, one instruction for eight (AVX-512)."""
    def codegen(context, builder, signature, args):
        return _llvm_bit_count(builder, "llvm.ctlz", args[0], zero_is_undefined=False)

    return types.int64(types.uint64), codegen


_LOG2E = 1.4426950408889634  # log2(e)
#: Below 2**_FLOOR_EXP a draw is always kept (:func:`crisis_candidates`; float64 chances).
_FLOOR_EXP = -50
#: The same for :func:`referral_candidates` (float32 chances).
_REFERRAL_FLOOR = -15


@njit(cache=True, nogil=True, inline="always")
def _unit53_log2_floor(x):
    """A lower bound of log2(u) for the uniform of hash ``x`` finer than
    :func:`_unit53_exponent`: e + m / 8, m the three bits of h below its leading one, as
    u >= 2**e (1 + m / 8) and log2(1 + t) >= t on [0, 1]; within 0.21 of log2(u)."""
    h = x >> _S11
    lz = _ctlz(h)
    m = ((h << np.uint64(min(lz, 63))) >> np.uint64(60)) & np.uint64(7)
    return np.float64(10 - lz) + np.float64(m) * 0.125


@njit(cache=True, nogil=True, inline="always")
def _unit53_exponent(x):
    """floor(log2(u)) of the uniform of hash ``x`` (:func:`_unit53`), or one less where
    rounding carries u up to a power of two: the top 53 bits h give u = (h + 0.5) / 2**53
    and 2**(floor(log2 h)) <= h <= u * 2**53 (h = 0: u = 2**-54, and 64 leading zeros give
    -54 too). So u >= 2**e always."""
    return 10 - _ctlz(x >> _S11)


@njit(cache=True, nogil=True)
def referral_candidates(active, case, at_home, need, uid, key, max_case, last_referral,
                        known_since, threshold, slope, log2_rate, log2_known, log2_background,
                        rows, us):
    """The families open to referral (active, case at most ``max_case``, a child at home)
    whose keyed ``referral`` uniform (:func:`keyed_uniform`) may be below their weekly chance
    of a referral (agents/family.py: referrals); writes their rows (in row order) and
    uniforms to ``rows`` and ``us`` and returns how many. Every family whose uniform is below
    its chance is among them; the caller works out the exact chance for these few only.

    The test, as :func:`crisis_candidates`'. The chance is ``1 - exp(-(a + b) / 52)`` in
    float32, a = rate K exp(slope (need - threshold)) (K: the known-family effect for a
    family referred since week ``known_since``, else 1) and b the background rate: never
    above ``(a + b) / 52`` but for rounding (a relative 10**-6, and 2**-23 where it is tiny:
    one less a float32 near one), and a + b <= 2 max(a, b). The exponent, worked out here in
    float64, is within 10**-4 of the float32 one while it is below 80 in size (else the
    family is kept). ``log2_rate`` and ``log2_known`` are log2(rate K / 52) + 1.01 for the
    two K (K at least 1), ``log2_background`` log2(b / 52) + 1.01 (-inf for a term not above
    zero). A family is kept where a lower bound of log2(u) (:func:`_unit53_log2_floor`) is
    below ``slope (need - threshold) log2(e)`` plus its K's term, or below
    ``log2_background``, or below -15. One not kept has u >= 2.01 max(a, b) / 52 and
    u >= 2**-15, above the chance (the margin, 0.01 max(a, b) / 52, passes 2**-23 where
    max(a, b) / 52 exceeds 2**-23 / 0.01, and below that the floor holds). About twice the
    families referred are kept, their own K counted.

    Block by block of 64 families: every family's draw and test in a loop the compiler
    vectorises (its need, uid and last referral read through slices: see
    :func:`need_draws`), each family's answer a bit of a word; then the families whose bit
    is set (about one in a thousand) are checked for being open to referral and listed,
    their uniform made again. (A family's draw is made whether it is open or not: a test of
    its three flags in the vectorised loop kept it scalar, and costs more than the draws it
    saves. A table of bounds by need for the larger K, read by a gather: 11 ms a week at
    full scale, year 5; this test, 8.3 ms.)"""
    n = active.shape[0]
    m = 0
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        nb = need[b0:b1]
        ub = uid[b0:b1]
        lb = last_referral[b0:b1]
        w = np.uint64(0)
        for k in range(b1 - b0):
            e = _unit53_log2_floor(_mix(ub[k] * _GOLDEN + key))
            arg = (np.float64(nb[k]) - threshold) * slope
            inside = abs(arg) < 80.0  # (false for NaN)
            scale = log2_known if lb[k] >= known_since else log2_rate
            keep = ((e < arg * _LOG2E + scale) | (e < log2_background)
                    | (e < _REFERRAL_FLOOR) | (not inside))
            w |= np.uint64(keep) << np.uint64(k)
        while w:
            i = b0 + _low_bit(w)
            w &= w - np.uint64(1)
            if active[i] & (case[i] <= max_case) & (at_home[i] > 0):
                rows[m] = i
                us[m] = _unit53(_mix(uid[i] * _GOLDEN + key))
                m += 1
    return m


@njit(cache=True, nogil=True)
def crisis_candidates(home, age, teen_weeks, family, need, risk, uid, key, age_slope, weight,
                      log2_scale, rows, us):
    """The teenagers (children marked at ``home``, at least ``teen_weeks`` old) whose keyed
    ``adolescent`` uniform may be below their weekly chance of a crisis (agents/family.py:
    adolescent_crises), with the uniforms; returns how many. Every teenager whose uniform is
    below the chance is among them (in row order); the caller works out the exact chance for
    these few only.

    The test. The chance is ``1 - exp(-rate e**lh / 52)``, never above ``x = rate e**lh / 52``
    but for rounding: at most 2**-52 above it where x is tiny (the chance is one less a
    float64 near one) and a relative 2**-52 otherwise; ``lh``, worked out here in float64,
    is within 10**-3 of the rule's (its family part in float32) while the family part's two
    terms are below 1000 in size (else the teenager is kept). A teenager is kept where
    ``e < log2(x) + 1`` (``log2_scale`` is ``log2(rate / 52) + 1`` and a hair), e being
    floor(log2(u)) from the hash's leading zeros (:func:`_unit53_exponent`), or where
    ``e < -50``. One not kept has u >= 2**e >= max(2 x, 2**-50) >= x + 2**-51, above the
    chance. At most four times the teenagers with a crisis are kept (a factor 2 for the
    margin, up to 2 for the floor), so the exact chances cost nothing; no table, logarithm
    or exponential is needed for the test.

    Block by block of 64 children: the teenagers at home as a word's bits (a loop the
    compiler vectorises), their families' needs into a small buffer one by one (the
    compiler would make these gathers, which this processor does slowly), then every
    child's draw and test in a vectorised loop reading the block's columns through slices
    (see :func:`need_draws`; a child not a teenager costs a lane, not a branch), and the
    kept rows as the set bits of a word. At full scale (year 5, week 6) 34 -> 14 ms a week,
    against the list of the teenagers with five gathers each and a table of bounds."""
    n = uid.shape[0]
    m = 0
    nbuf = np.zeros(_BLOCK, np.float32)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        hb = home[b0:b1]
        ag = age[b0:b1]
        wt = np.uint64(0)
        for q in range(b1 - b0):
            wt |= np.uint64(hb[q] & (ag[q] >= teen_weeks)) << np.uint64(q)
        if wt == 0:
            continue
        fb = family[b0:b1]
        w = wt
        while w:
            k = _low_bit(w)
            w &= w - np.uint64(1)
            nbuf[k] = need[fb[k]]
        ub = uid[b0:b1]
        rb = risk[b0:b1]
        wc = np.uint64(0)
        for q in range(b1 - b0):
            e = _unit53_exponent(_mix(ub[q] * _GOLDEN + key))
            nd = np.float64(nbuf[q])  # (stale in a lane not a teenager's: not kept below)
            wn = weight * (nd if nd > 0.0 else 0.0)
            r = np.float64(rb[q])
            lh = (np.float64(ag[q]) / 52.0 - 11.0) * age_slope + (wn + r)
            inside = (abs(wn) < 1000.0) & (abs(r) < 1000.0)  # (false for NaN)
            keep = (np.float64(e) < lh * _LOG2E + log2_scale) | (e < _FLOOR_EXP) | (not inside)
            wc |= np.uint64(keep) << np.uint64(q)
        wc &= wt
        while wc:
            j = b0 + _low_bit(wc)
            wc &= wc - np.uint64(1)
            rows[m] = j
            us[m] = _unit53(_mix(uid[j] * _GOLDEN + key))
            m += 1
    return m


@njit(cache=True, nogil=True)
def open_children_by_la(home, in_care, family, case, min_case, family_la, counts):
    """``counts[la]`` plus, for each child, one if it is marked at ``home`` and its family's
    case is at least ``min_case``, and one if it is in care, by its family's authority (the
    two counts of sim/model.py: open_children, added as they were)."""
    # Rows come in long runs of one authority: the count is kept in a register through a run
    # (adding into ``counts`` row by row chains every row on the last one's store).
    cur = -1
    acc = 0
    for j in range(home.shape[0]):
        fam = family[j]
        la = family_la[fam]
        if la != cur:
            if cur >= 0:
                counts[cur] += acc
            cur = la
            acc = 0
        acc += (home[j] & (case[fam] >= min_case)) + np.int64(in_care[j])
    if cur >= 0:
        counts[cur] += acc


@njit(cache=True, nogil=True)
def keyed_below(flags, uid, key, threshold, rows):
    """The rows ``i`` (in order) with ``flags[i]`` whose keyed uniform of ``uid[i]``
    (:func:`keyed_uniform`) is below ``threshold``, into ``rows``; returns how many: the
    ``np.flatnonzero(flags)[uniform(uid[...]) < threshold]`` of a rule with one chance for
    everyone eligible, without the lists of the eligible, their ids and their draws.

    Block by block of 64 rows, as :func:`referral_candidates`: every row's uniform and test
    in a loop the compiler vectorises (a draw nobody uses costs less than a branch on the
    flag), each answer a bit of a word, then the set bits listed (a row's index kept by
    ``rows[m] = i; m += kept``, a store a row, cost twice the draws; a full-length array of
    the uniforms between two passes, 56 MB at full scale, as much again: 25 -> 9 ms)."""
    n = flags.shape[0]
    m = 0
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        fb = flags[b0:b1]
        ub = uid[b0:b1]
        w = np.uint64(0)
        for k in range(b1 - b0):
            u = _unit53(_mix(ub[k] * _GOLDEN + key))
            w |= np.uint64(fb[k] & (u < threshold)) << np.uint64(k)
        while w:
            rows[m] = b0 + _low_bit(w)
            m += 1
            w &= w - np.uint64(1)
    return m


@njit(cache=True, nogil=True)
def young_by_la(young, family, age, family_la, is_contact, counts, due, la_due):
    """For the children ``young`` (agents/health_visitor.py: visit): ``counts[la]`` plus one
    for each, by its family's authority, and, in order, those with a mandated contact due at
    their age (``is_contact[age] > 0``) and their authorities into ``due`` and ``la_due``;
    returns how many are due. The count is kept in a register through each run of one
    authority (as :func:`open_children_by_la`: adding into ``counts`` child by child chains
    each child on the last one's store)."""
    m = 0
    cur = -1
    acc = 0
    for t in range(young.shape[0]):
        j = young[t]
        la = family_la[family[j]]
        if la != cur:
            if cur >= 0:
                counts[cur] += acc
            cur = la
            acc = 0
        acc += 1
        if is_contact[age[j]] > 0:
            due[m] = j
            la_due[m] = la
            m += 1
    if cur >= 0:
        counts[cur] += acc
    return m


@njit(cache=True, nogil=True)
def count_by_la(mask, family, family_la, counts):
    """``counts[la]`` plus one for each child in ``mask``, by its family's authority:
    ``np.bincount(family_la[family[mask]])`` without the two gathers."""
    cur = -1  # (a register through each run of one authority, as open_children_by_la)
    acc = 0
    for j in range(mask.shape[0]):
        la = family_la[family[j]]
        if la != cur:
            if cur >= 0:
                counts[cur] += acc
            cur = la
            acc = 0
        acc += mask[j]
    if cur >= 0:
        counts[cur] += acc


@njit(cache=True, nogil=True)
def group_rows(group, n_groups):
    """The rows ``0..len(group)-1`` grouped by ``group`` (values from 0), rows ascending
    within a group: ``np.argsort(group, kind="stable")``, as int32, and each group's start in
    it (``starts``, of length ``max(n_groups, group.max() + 1) + 1``: ``np.bincount``'s
    counts summed). A counting sort, two passes over the rows and one over the groups, with
    no temporary: numpy's comparison sort, its cast to int32 and the bincount's int64 copy of
    the rows (allocations of hundreds of megabytes at full scale, most of the cost in
    system time) made the index of children by family, rebuilt a few times a year, cost half
    a CPU second each time (sim/population.py: _ChildrenByFamily)."""
    n = group.shape[0]
    m = n_groups
    for j in range(n):
        if group[j] + 1 > m:
            m = group[j] + 1
    starts = np.zeros(m + 1, np.int64)
    for j in range(n):
        starts[group[j] + 1] += 1
    for g in range(m):
        starts[g + 1] += starts[g]
    order = np.empty(n, np.int32)
    for j in range(n):  # (each group's next slot kept in starts[g], shifted back after)
        g = group[j]
        order[starts[g]] = j
        starts[g] += 1
    for g in range(m, 0, -1):
        starts[g] = starts[g - 1]
    starts[0] = 0
    return order, starts


_TIE_ADD = np.uint64(0x2545F4914F6CDD1D)
_S16 = np.int64(65536)


@njit(cache=True, nogil=True)
def best_providers(rank, u_cat, u_node, u_la, size, cap, weight, a_tie, a_suit, cand, kind,
                   la_run, t_la, price, free, residential, share, pooled, coop, site_of, dist,
                   best, ok, order, bounds, sorted_):
    """Each sibling group's best provider this round of the matching (sim/placements.py:
    _best_providers, where the numpy version it replaces is kept as the definition): the
    score of every (group, provider) cell, built term by term with the same float64
    operations in the same order, and its first minimum, without the groups x providers
    matrices. A cell is ruled out (infinite) where the provider is LA-run elsewhere (outside
    the group's co-operative), a home that does not suit the group (a keyed draw of the group
    and the provider's site), or has less room than the group's size; ``ok`` is whether the
    best cell is finite.

    ``order`` and ``bounds`` (needs x candidates) hold, for each need whose ``sorted_`` flag
    is set, the candidates in the order of their lower bound and those bounds; a need this
    round's groups have and the arrays lack is sorted here and flagged. The bounds depend
    only on the candidates' kinds and prices, fixed through one matching's rounds, so the
    caller keeps the arrays across them and each need is sorted once a matching, not once
    a round (the sorts were most of a round's cost)."""
    n_p = cand.shape[0]
    b_tie = np.empty(n_p, np.uint64)
    for k in range(n_p):
        b_tie[k] = _mix(np.uint64(cand[k]) * _M2 + _TIE_ADD)
    inf = np.inf
    # Each cell's score is its rank * 1e6 plus its price plus terms never negative (the
    # distance cap's 1e7, miles * weight, the tie-break), so rank * 1e6 + price bounds it
    # from below, in floating point too (rounding is monotone). With providers visited in
    # the order of that bound, a group's search stops at the first provider whose bound
    # exceeds the best score found: it visits the few cheapest providers of its preferred
    # kind rather than every provider. The best is still the first minimum in the
    # candidates' order (a later cell of an equal score loses, whichever is visited first).
    # Prices or weights negative or not numbers: every cell is scored.
    prune = True
    for k in range(n_p):
        if not (price[k] >= 0):
            prune = False
    for g in range(u_cat.shape[0]):
        if not (weight[g] >= 0):
            prune = False
    n_cat = rank.shape[0]
    lb = np.empty(n_p)
    wanted = np.zeros(n_cat, np.bool_)  # (only the needs of this round's groups are sorted)
    for g in range(u_cat.shape[0]):
        wanted[u_cat[g]] = True
    for c in range(n_cat):
        if not wanted[c] or sorted_[c] or not prune:
            continue
        for k in range(n_p):
            lb[k] = rank[c, kind[k]] * 1e6 + np.float64(price[k])
        o = np.argsort(lb, kind="mergesort")
        for q in range(n_p):
            order[c, q] = o[q]
            bounds[c, q] = lb[o[q]]
        sorted_[c] = True
    for g in range(u_cat.shape[0]):
        node = u_node[g]
        la = u_la[g]
        cap_g = cap[g]
        w = weight[g]
        cat = u_cat[g]
        bs = inf
        bk = 0
        for q in range(n_p):
            if prune and bounds[cat, q] > bs:
                break  # (and every provider after it: their bounds are no lower)
            k = order[cat, q] if prune else q
            if free[k] < size[g]:
                continue  # (an infinite score: never the best)
            s = rank[cat, kind[k]]
            s *= 1e6
            elsewhere = la_run[k] and t_la[k] != la
            if pooled and elsewhere:
                ca = coop[t_la[k]]
                if ca == coop[la] and ca >= 0:
                    elsewhere = False
            if elsewhere or s == inf:
                continue
            site = site_of[cand[k], node]
            miles = dist[node, site]
            if miles > cap_g and cap_g > 0:
                s += 1e7
            s += np.float64(price[k])
            s += miles * w
            u = _unit53(_mix(a_tie[g] ^ b_tie[k]))
            s += u * 1e-3
            if residential[kind[k]]:
                y = np.uint64(cand[k] * _S16 + np.int64(site)) * _M2
                v = _unit53(_mix(y ^ a_suit[g]))
                if not (v < share):
                    continue
            if s < bs or (s == bs and k < bk):
                bs = s
                bk = k
        best[g] = bk
        ok[g] = np.isfinite(bs)


@njit(cache=True, nogil=True)
def support_lookup(table, la, case, hv_weeks, targeted_effect, out):
    """Each family's support this week (agents/local_authority.py: support_received): its
    authority's and case stage's entry of ``table`` (float64), plus ``targeted_effect``
    times whether it has targeted health visiting, stored as float32 (the numpy version's
    operations, in one pass)."""
    for i in range(la.shape[0]):
        s = table[la[i], case[i]]
        s += np.float64(hv_weeks[i] > 0) * targeted_effect
        out[i] = np.float32(s)


@njit(cache=True, nogil=True)
def _nonzero_bytes(words, tail, tail_start, out):
    """The rows of the non-zero bytes of ``words`` (eight bytes a word), then of ``tail``
    (rows from ``tail_start``), in order, into ``out``; returns how many. A zero word, the
    common case, is skipped at once."""
    m = 0
    for w in range(words.shape[0]):
        x = words[w]
        if x != 0:
            for b in range(8):
                out[m] = w * 8 + b
                m += ((x >> np.uint64(8 * b)) & np.uint64(0xFF)) != 0
    for i in range(tail.shape[0]):
        out[m] = tail_start + i
        m += tail[i] != 0
    return m


def flatnonzero_sparse(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(mask)`` for a boolean mask with few rows set (children in care among
    every child: under one in a hundred), reading it eight bytes at a time: a fraction of
    numpy's two passes (count, then fill)."""
    b = np.ascontiguousarray(mask).view(np.uint8)
    k = len(b) - len(b) % 8
    out = np.empty(len(b), np.int64)  # (only the pages written are touched)
    m = _nonzero_bytes(b[:k].view(np.uint64), b[k:], k, out)
    return out[:m].copy()


@njit(cache=True, nogil=True)
def merge_members(rows, touched, now, out):
    """A kept list of rows brought up to date (sim/population.py: _kept_up): the ascending
    ``rows`` merged with the ascending, unique ``touched``, each touched row kept or added
    where ``now`` says it is a member and dropped where not, into ``out`` (room for both);
    returns its length. One pass over the list, rather than numpy's delete then insert (two
    copies of it and a search)."""
    n = rows.shape[0]
    nt = touched.shape[0]
    i = 0
    k = 0
    m = 0
    while i < n or k < nt:
        if k >= nt or (i < n and rows[i] < touched[k]):
            out[m] = rows[i]
            m += 1
            i += 1
        else:
            if now[k]:
                out[m] = touched[k]
                m += 1
            if i < n and rows[i] == touched[k]:
                i += 1
            k += 1
    return m


@njit(cache=True, nogil=True)
def rows_between(x, lo, hi, rows):
    """The rows ``i`` with ``lo <= x[i] <= hi``, in order, into ``rows``; returns how many:
    ``np.flatnonzero((x >= lo) & (x <= hi))`` in one pass without the temporaries (a case
    stage among every family)."""
    m = 0
    for i in range(x.shape[0]):
        v = x[i]
        rows[m] = i
        m += (v >= lo) & (v <= hi)
    return m


def flatnonzero_between(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``np.flatnonzero((x >= lo) & (x <= hi))`` (:func:`rows_between`)."""
    rows = np.empty(len(x), np.int64)  # (only the pages written are touched)
    m = rows_between(x, lo, hi, rows)
    return rows[:m].copy()


@njit(cache=True, nogil=True)
def casework_due(known, case, case_weeks, assessment, min_weeks, done):
    """A week more in its stage for each family of ``known`` (``case_weeks`` in place, with
    numpy's int16 arithmetic), and those (in order) whose ``case`` is ``assessment`` with at
    least ``min_weeks`` in it, into ``done``; returns how many (agents/local_authority.py:
    casework, the numpy passes over the open cases it replaces, in one)."""
    m = 0
    n = known.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            _prefetch(case, known[r + _AHEAD])
            _prefetch(case_weeks, known[r + _AHEAD])
        i = known[r]
        case_weeks[i] += 1
        done[m] = i
        m += (case[i] == assessment) & (np.float64(case_weeks[i]) >= min_weeks)
    return m


@njit(cache=True, nogil=True)
def casework_reviews(known, uid, key, case, case_weeks, cin, cpp, min_weeks, chance,
                     plan_first, plan_every, out):
    """The families of ``known`` (in order) due a review this week, into ``out``; returns how
    many (casework's reviews). A child-in-need case (``cin``) with at least ``min_weeks`` in
    it is reviewed when its keyed uniform (:func:`keyed_uniform` of ``uid`` with ``key``) is
    below ``chance``; a plan (``cpp``) at its review conferences, ``plan_first`` weeks after
    it began and every ``plan_every`` weeks after that. The family's uid is read and its
    draw made only for a case that could be under review (a family's row in a column of
    millions is a cache miss a family; at full scale 6.6 -> 4.8 ms a week)."""
    m = 0
    n = known.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            _prefetch(case, known[r + _AHEAD])
            _prefetch(case_weeks, known[r + _AHEAD])
            _prefetch(uid, known[r + _AHEAD])
        i = known[r]
        c = case[i]
        w = np.int64(case_weeks[i])
        if c == cpp:
            due = w >= plan_first and (w - plan_first) % plan_every == 0
        else:
            due = (c == cin and np.float64(w) >= min_weeks
                   and _unit53(_mix(uid[i] * _GOLDEN + key)) < chance)
        if due:
            out[m] = i
            m += 1
    return m


@njit(cache=True, nogil=True)
def casework_high(known, case, need, in_court, cpp, level, out):
    """The families of ``known`` (in order) on a plan (``case == cpp``) whose ``need`` (as
    float64, exact) is at least ``level`` and who are not in court, into ``out``; returns
    how many (casework's candidates for proceedings). A family's need and court flag are
    read only where it is on a plan (a family's row of a column of millions is a cache miss
    a family)."""
    m = 0
    n = known.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            _prefetch(case, known[r + _AHEAD])
            _prefetch(need, known[r + _AHEAD])
            _prefetch(in_court, known[r + _AHEAD])
        i = known[r]
        if case[i] == cpp and np.float64(need[i]) >= level and not in_court[i]:
            out[m] = i
            m += 1
    return m


@njit(cache=True, nogil=True)
def early_help_lists(rows, case, case_weeks, la, helped, waiting_case, weeks, max_wait, ending,
                     gave_up, waiting, in_use):
    """One pass over the families ``rows`` (ascending; every family with either stage among
    them: those with an open case, sim/population.py: open_families) for the week's early
    help (agents/local_authority.py: early_help): in row order, those helped (``case ==
    helped``) for at least ``weeks`` (``ending``) and those waiting (``waiting_case``) for at
    least ``max_wait`` (``gave_up``), both to close; ``in_use[la]`` plus one for each family
    helped and not ending; and the families waiting and not giving up (``waiting``). Returns
    the three lists' lengths."""
    ne = 0
    ng = 0
    nw = 0
    n = rows.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            _prefetch(case, rows[r + _AHEAD])
        i = rows[r]
        c = case[i]
        if c == helped:  # (few families have either stage: well-predicted branches)
            if case_weeks[i] >= weeks:
                ending[ne] = i
                ne += 1
            else:
                in_use[la[i]] += 1
        elif c == waiting_case:
            if case_weeks[i] >= max_wait:
                gave_up[ng] = i
                ng += 1
            else:
                waiting[nw] = i
                nw += 1
    return ne, ng, nw


@njit(cache=True, nogil=True)
def care_week(care, uid, key, placement, age, teen_weeks, home_la, log_hazard, miles,
              with_siblings, teen_effect, distance_effect, separation_effect, contact_loss_rate,
              counts, u_break, u_lapse, log_h, lapse_h):
    """One pass over the children in care (``care``) for the week's placements
    (sim/placements.py: placement_week): ``counts[la]`` plus one for each child, by its
    placement's home authority (its family's); the keyed pair of ``uid`` (``Draws.pair``)
    into ``u_break`` and ``u_lapse``; the log breakdown hazard ``log_h`` and the contact lapse
    hazard ``lapse_h`` (float32).

    In the numpy expressions' dtypes and order: ``log_hazard`` (float32) + ``teen_effect`` *
    teen (float64) + ``distance_effect`` * miles / 20 (float32: ``distance_effect`` and
    ``contact_loss_rate`` come as float32, as numpy casts a Python float against a float32
    array) + ``separation_effect`` * apart (float64), summed left to right in float64.

    Cost. The children in care are a sparse scattering of the children's table, so each of
    its columns read costs a cache miss a child; this reads three (uid, placement, age), the
    rest from the placements' table, a hundredth of the size."""
    twenty = np.float32(20.0)
    n = care.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            i2 = care[r + _AHEAD]
            _prefetch(placement, i2)
            _prefetch(uid, i2)
            _prefetch(age, i2)
        i = care[r]
        j = placement[i]
        counts[home_la[j]] += 1
        hi, lo = _halves(_mix(uid[i] * _GOLDEN + key))
        u_break[r] = hi
        u_lapse[r] = lo
        m = miles[j]
        h = np.float64(log_hazard[j]) + teen_effect * (1.0 if age[i] >= teen_weeks else 0.0)
        h += np.float64(distance_effect * m / twenty)
        h += separation_effect * (0.0 if with_siblings[j] else 1.0)
        log_h[r] = h
        lapse_h[r] = contact_loss_rate * m / twenty


@njit(cache=True, nogil=True)
def care_exits(care, family, family_uid, uid, key_home, key_order, contact_lost, uasc,
               placement, kind, care_weeks, entry_age, p_home_by_week, p_lost_by_week,
               p_home_max, p_sgo, p_adopt, kinship, sgo_weeks, adopt_age, adopt_weeks,
               adopt_weeks_end, key_plan, p_plan, code):
    """One pass over the children in care (``care``) for the week's exits
    (sim/placements.py: _exits), the draws and every test but the assessment: ``code[r]``
    bit 1, the family's keyed uniform (``family_uid``, ``key_home``) is below the chance of
    going home after the child's weeks in care (``p_home_by_week``, or ``p_lost_by_week``
    where contact is lost; the last entry for every later week; ``p_home_max`` the largest of
    either) and the family is not an unaccompanied child's; bit 2, a special guardianship
    order from kinship care (the child's keyed uniform, ``key_order``, below ``p_sgo`` after
    ``sgo_weeks``); bit 4, an adoption (below ``p_adopt``, entered care under ``adopt_age``
    weeks old, in care ``adopt_weeks`` and fewer than ``adopt_weeks_end``, and with an adoption
    plan: the child's keyed uniform of ``key_plan``, the same key every week, below
    ``p_plan``). The uniforms are ``Draws.uniform``'s (no counter).

    The other columns are read only for a child whose draw is below the larger of the
    chances it is compared with (a few in a hundred): each is a cache miss a child in the
    children's table, and the answer is the same."""
    last = p_home_by_week.shape[0] - 1
    p_order_max = max(p_sgo, p_adopt)
    n = care.shape[0]
    for r in range(n):
        if r + 2 * _AHEAD < n:  # (the family's uid two steps on: its row first)
            _prefetch(family, care[r + 2 * _AHEAD])
        if r + _AHEAD < n:
            i2 = care[r + _AHEAD]
            _prefetch(family_uid, family[i2])
            _prefetch(uid, i2)
        i = care[r]
        fa = family[i]
        c = np.uint8(0)
        draw = _unit53(_mix(family_uid[fa] * _GOLDEN + key_home))
        if draw < p_home_max:
            w = min(care_weeks[i], last)
            p = p_lost_by_week[w] if contact_lost[i] else p_home_by_week[w]
            if draw < p and not uasc[fa]:
                c = np.uint8(1)
        u = _unit53(_mix(uid[i] * _GOLDEN + key_order))
        if u < p_order_max:
            w = care_weeks[i]
            if u < p_sgo and w >= sgo_weeks and kind[placement[i]] == kinship:
                c |= np.uint8(2)
            if (u < p_adopt and adopt_weeks <= w < adopt_weeks_end
                    and entry_age[i] < adopt_age
                    and _unit53(_mix(uid[i] * _GOLDEN + key_plan)) < p_plan):
                c |= np.uint8(4)
        code[r] = c


@njit(cache=True, nogil=True)
def planned_lists(care, placement, kind, short_term, family, family_uid, key, p_end, emergency,
                  emergency_out, due_out):
    """The week's first two lists of planned moves (sim/placements.py: _planned_moves), in one
    pass over the children in care (``care``): those in an emergency placement
    (``emergency_out``), and those in a bridging (short-term) placement whose family's keyed
    uniform (``family_uid``, ``key``; ``Draws.uniform``) is below ``p_end`` (``due_out``);
    returns the two lengths. The family's draw is made only for a child in a bridging
    placement (a few in a hundred), which is the same draw."""
    ne = 0
    nd = 0
    n = care.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            _prefetch(placement, care[r + _AHEAD])
        i = care[r]
        j = placement[i]
        if kind[j] == emergency:
            emergency_out[ne] = i
            ne += 1
        if short_term[j] and _unit53(_mix(family_uid[family[i]] * _GOLDEN + key)) < p_end:
            due_out[nd] = i
            nd += 1
    return ne, nd


@njit(cache=True, nogil=True)
def move_on_list(care, age, min_age, placement, kind, kinds, uid, key, p, out):
    """The 16-17-year-olds in care ready to move on to supported accommodation
    (sim/placements.py: _planned_moves): at least ``min_age`` weeks old, in a placement of one
    of ``kinds`` (a mask by kind), and the child's keyed uniform (``uid``, ``key``;
    ``Draws.uniform``) below ``p``; into ``out``, in the order of ``care``; returns how many.
    The placement and the draw are looked at only for a child old enough."""
    m = 0
    n = care.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            _prefetch(age, care[r + _AHEAD])
        i = care[r]
        if (age[i] >= min_age and kinds[kind[placement[i]]]
                and _unit53(_mix(uid[i] * _GOLDEN + key)) < p):
            out[m] = i
            m += 1
    return m


@njit(cache=True, nogil=True)
def refill_waiting(care, family, placement, kind, start, week, age, max_age, agency, mark, fam,
                   out):
    """The children in care whose family's every child in care could move to the authority's
    own foster carers (sim/placements.py: _refill_inhouse): each in agency foster care
    (``kind == agency``), under ``max_age`` weeks old and placed before ``week``; into
    ``out``, in the order of ``care``; returns how many. ``mark`` (one byte a family, all zero)
    is returned to zero; ``fam`` is work space, one a child in care."""
    n = care.shape[0]
    for r in range(n):
        if r + _AHEAD < n:
            i2 = care[r + _AHEAD]
            _prefetch(family, i2)
            _prefetch(placement, i2)
            _prefetch(age, i2)
        i = care[r]
        fa = family[i]
        fam[r] = fa
        j = placement[i]
        ok = kind[j] == agency and start[j] < week and age[i] < max_age
        if mark[fa] == 0:
            mark[fa] = 1 if ok else 2
        elif not ok:
            mark[fa] = 2
    m = 0
    for r in range(care.shape[0]):
        if mark[fam[r]] == 1:
            out[m] = care[r]
            m += 1
    for r in range(care.shape[0]):
        mark[fam[r]] = 0
    return m


@njit(cache=True, nogil=True)
def keep_in_place(col, keep):
    """The rows of ``col`` marked in ``keep`` (a mask of its first ``len(keep)`` rows) moved to
    its front, in their order, in place; returns how many: ``col[:k] = col[:n][keep]`` without
    the copy numpy's boolean index makes (sim/population.py: Table.keep, at each year's end;
    a row is only ever moved down, onto a row already read). At full scale the children's
    and families' tables, 36 columns of 7-12 million rows, cost 0.66 CPU s a year that way
    against 0.25 here."""
    m = 0
    for i in range(keep.shape[0]):
        col[m] = col[i]  # (every store made: faster than a branch where most rows are kept)
        m += keep[i]
    return m


@njit(cache=True, nogil=True)
def mark_groups(group, mask, marks):
    """``marks[group[j]]`` set for every ``j`` with ``mask[j]`` (``marks`` as given where no
    row marks it): ``marks |= np.bincount(group[mask], minlength=len(marks)).astype(bool)``
    without the gather and the counts (sim/population.py: compact, the families with a child
    kept)."""
    for j in range(group.shape[0]):
        marks[group[j]] |= mask[j]


@njit(cache=True, nogil=True)
def year_end_counts(active, in_care, family, age, moved_away, uid, key, share, case, family_la,
                    min_case, plan, adult_weeks, counts):
    """The year's stocks of children by their family's authority, in one pass over the
    children (sim/indicators.py: snapshot; the numpy definitions are its
    ``_child_counts_reference``): into the rows of ``counts`` (4 x authorities, added to),
    0, children active or in care; 1, children at home in need (their family's ``case`` at
    least ``min_case``, or their own disability: active, under ``adult_weeks`` and their keyed
    uniform of ``uid`` with ``key`` below ``share``); 2, children at home whose family's case
    is ``plan``; 3, children under ``adult_weeks`` who have not moved away. The keyed uniform
    is made only for a child at home in a family without an open case (the answer is the
    same). Counts are kept in registers through a run of rows of one authority, as in
    :func:`open_children_by_la`."""
    cur = -1
    a0 = 0
    a1 = 0
    a2 = 0
    a3 = 0
    for j in range(active.shape[0]):
        fam = family[j]
        la = family_la[fam]
        if la != cur:
            if cur >= 0:
                counts[0, cur] += a0
                counts[1, cur] += a1
                counts[2, cur] += a2
                counts[3, cur] += a3
            cur = la
            a0 = 0
            a1 = 0
            a2 = 0
            a3 = 0
        a = active[j]
        ic = in_care[j]
        home = a & (not ic)
        child = age[j] < adult_weeks
        a0 += a | ic
        c = case[fam]
        need = c >= min_case
        if home and not need and a and child and share > 0.0:
            need = _unit53(_mix(uid[j] * _GOLDEN + key)) < share
        a1 += home & need
        a2 += home & (c == plan)
        a3 += child & (not moved_away[j])
    if cur >= 0:
        counts[0, cur] += a0
        counts[1, cur] += a1
        counts[2, cur] += a2
        counts[3, cur] += a3


@njit(cache=True, nogil=True)
def renumber_kept(group, keep):
    """Each ``group[j]`` (in place) replaced by its row among the rows kept by ``keep``: the
    number of rows kept before it, ``(np.cumsum(keep) - 1)[group]`` wherever ``group[j]`` is
    kept (sim/population.py: compact, children's family rows, every child's family kept);
    without the cumulative sum's int64 array of every family (0.27 CPU s at full scale, most
    of it faulting in its pages) and the gather."""
    new = np.empty(keep.shape[0], np.int32)
    m = 0
    for i in range(keep.shape[0]):
        new[i] = m
        m += keep[i]
    for j in range(group.shape[0]):
        group[j] = new[group[j]]


@njit(cache=True, nogil=True)
def _positive_int16(words, tail, tail_start, out):
    """The rows of the positive values of an int16 column read as ``words`` (four values a
    word), then of ``tail`` (rows from ``tail_start``), in order, into ``out``; returns how
    many. A zero word, the common case, is skipped at once."""
    m = 0
    for w in range(words.shape[0]):
        x = words[w]
        if x != 0:
            for b in range(4):
                v = np.int16((x >> np.uint64(16 * b)) & np.uint64(0xFFFF))
                out[m] = w * 4 + b
                m += v > 0
    for i in range(tail.shape[0]):
        out[m] = tail_start + i
        m += tail[i] > 0
    return m


def flatnonzero_positive(x: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(x > 0)`` for an int16 column with few rows above zero (families on
    targeted health visiting: agents/health_visitor.py, visit), reading it four values at a
    time (at full scale, 7 million families, one in 400 on targeted visits: the comparison's
    mask and numpy's two passes over it, 1.8 ms a week, against 0.9)."""
    x = np.ascontiguousarray(x, dtype=np.int16)
    k = len(x) - len(x) % 4
    out = np.empty(len(x), np.int64)  # (only the pages written are touched)
    m = _positive_int16(x[:k].view(np.uint64), x[k:], k, out)
    return out[:m].copy()
