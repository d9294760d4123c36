"""Compiled Monte Carlo kernel (numba): the (destination, period) groups in blocks on threads.

Every quantity of a corridor-period is its recorded flow times a vector over the
draws fixed by its profile (corridor, exposed share, ramp progress, cost). The
vectors are summarised once per profile (mean, and percentiles by in-place
selection), each cell's statistics are its profile's scaled by its flow, and the
draws are added to the per-draw sums of the cell's (destination, period) group. Nothing of size
cells x draws is ever allocated. ``flowlens.informal._estimate`` holds the same
model in numpy (the reference the tests compare with).

The blocks run on threads through :func:`flowlens._jit.in_blocks`. They do not borrow
their arrays (:func:`flowlens._jit.borrowed`): their loops over draws pass helpers
scalars only, and borrowing every array measured no gain (7.4-8.0 s of processor time
either way, 24,000 cells x 1,000 draws).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from flowlens._jit import in_blocks
from flowlens.surge._baselines import AMOUNT_CV, SUM_CV

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_CORRIDOR = np.uint64(0xD1B54A32D192ED03)
_MIX_DRAW = np.uint64(0x94D049BB133111EB)
_MIX_OUT = np.uint64(0xBF58476D1CE4E5B9)
_UNIT = 9007199254740992.0  # 2 ** 53: the top 53 bits of a hash as a uniform in (0, 1)
SWITCH_CV2 = SUM_CV * SUM_CV
"""Relative variance of a compound Poisson sum of one expected transfer, 1 + AMOUNT_CV ** 2:
the sampling noise of a flow that changes channel is this over the transfers that move."""
SWITCH_STREAMS = 3
"""Independent pairs of uniforms per cell and draw for the flow that changes channel: the
drivers' move, the scenario's flow out of formal channels and its flow into them."""
COUNT_LIMIT = 40.0
"""Expected transfers that move above which their count is no longer drawn one by one: the
sum's lognormal of the same mean and variance is then close (its skew below 0.3)."""
_COUNT_CAP = 400
"""Largest count drawn one by one (at most ``COUNT_LIMIT`` expected: beyond reach)."""


@numba.njit(cache=True, nogil=True)
def _splitmix(x: np.uint64) -> np.uint64:
    x ^= x >> np.uint64(30)
    x *= _MIX_OUT
    x ^= x >> np.uint64(27)
    x *= _MIX_DRAW
    x ^= x >> np.uint64(31)
    return x


def hashed_normals(seed: int, draws: int, keys: U64) -> F64:
    """``hashed_normal`` for every (key, draw) at once, in numpy (the reference path)."""
    u1, u2 = hashed_uniform_pairs(seed, draws, keys)
    normal: F64 = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normal


def hashed_uniform_pairs(seed: int, draws: int, keys: U64) -> tuple[F64, F64]:
    """``hashed_uniforms`` for every (key, draw) at once, in numpy (the reference path)."""

    def mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        x = x ^ (x >> np.uint64(30))
        x = x * _MIX_OUT
        x = x ^ (x >> np.uint64(27))
        x = x * _MIX_DRAW
        return x ^ (x >> np.uint64(31))

    with np.errstate(over="ignore"):
        base = (
            np.uint64(seed) * _GOLDEN
            + keys.astype(np.uint64)[:, None] * _MIX_CORRIDOR
            + np.arange(draws, dtype=np.uint64)[None, :] * np.uint64(2) * _MIX_DRAW
        )
        a = mix(base)
        b = mix(base + _MIX_DRAW)
    u1: F64 = ((a >> np.uint64(11)).astype(np.float64) + 0.5) / _UNIT
    u2: F64 = ((b >> np.uint64(11)).astype(np.float64) + 0.5) / _UNIT
    return u1, u2


@numba.njit(cache=True, nogil=True)
def hashed_uniforms(seed: int, key: np.uint64, draw: int) -> tuple[float, float]:
    """Two uniforms in (0, 1) that depend only on (seed, key, draw).

    ``key`` is what the stream belongs to (``flowlens.informal._keys``: a corridor
    or a corridor-period), never a position.
    """
    base = (
        np.uint64(seed) * _GOLDEN
        + np.uint64(key) * _MIX_CORRIDOR
        + np.uint64(draw) * np.uint64(2) * _MIX_DRAW
    )
    a = _splitmix(base)
    b = _splitmix(base + _MIX_DRAW)
    u1 = (float(a >> np.uint64(11)) + 0.5) / _UNIT
    u2 = (float(b >> np.uint64(11)) + 0.5) / _UNIT
    return u1, u2


@numba.njit(cache=True, nogil=True)
def hashed_normal(seed: int, key: np.uint64, draw: int) -> float:
    """A standard normal that depends only on (seed, key, draw): Box-Muller on ``hashed_uniforms``."""
    u1, u2 = hashed_uniforms(seed, key, draw)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True, nogil=True)
def switch_noise(moved: float, n_formal: float, thinned: bool, u1: float, u2: float) -> float:
    """A mean-one random factor on ``moved``, flow that changes channel (per unit of recorded flow).

    The flow that moves is the sum of a few transfers, each of the cell's mean
    formal amount on average with a coefficient of variation ``AMOUNT_CV``. Their
    number is drawn: binomial when they are a random part of the ``n_formal``
    recorded transfers (``thinned``, each moving with probability ``moved``),
    Poisson of mean ``n_formal * moved`` otherwise (transfers that were not
    recorded); given the number N, their amounts' sum is a lognormal of mean N and
    relative variance ``AMOUNT_CV ** 2 / N`` (times ``1 - N / n_formal`` when
    thinned: drawn from the recorded ones). The factor is that sum over its
    expectation: exactly 0 when no transfer moves. Above ``COUNT_LIMIT`` expected
    transfers, a lognormal of the same variance, ``SWITCH_CV2 / (n_formal * moved)``
    (times ``1 - moved`` when thinned). ``u1`` and ``u2`` are independent
    uniforms; 1 without counts or without flow that moves.
    """
    if n_formal <= 0.0 or moved <= 0.0:
        return 1.0
    expected = n_formal * moved
    if thinned and moved >= 1.0:
        return 1.0  # every recorded transfer moves
    if expected > COUNT_LIMIT:
        relvar = SWITCH_CV2 / expected
        if thinned:
            relvar *= 1.0 - moved
        s2 = math.log1p(relvar)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        return math.exp(math.sqrt(s2) * z - 0.5 * s2)
    # the count by inverse CDF: P(k + 1) / P(k) is (n - k) / (k + 1) * q / (1 - q)
    # (binomial) or expected / (k + 1) (Poisson)
    if thinned:
        p = math.exp(n_formal * math.log1p(-moved))
        top = min(math.floor(n_formal), _COUNT_CAP)
    else:
        p = math.exp(-expected)
        top = _COUNT_CAP
    below = 0.0
    k = 0
    while below + p < u1 and k < top:
        below += p
        if thinned:
            p *= (n_formal - k) / (k + 1.0) * (moved / (1.0 - moved))
        else:
            p *= expected / (k + 1.0)
        k += 1
    if k == 0:
        return 0.0
    v = min(max((u1 - below) / p, 1e-300), 1.0) if p > 0.0 else 0.5  # uniform within the bin
    relvar = AMOUNT_CV * AMOUNT_CV / k
    if thinned:
        relvar *= max(1.0 - k / n_formal, 0.0)
    s2 = math.log1p(relvar)
    z = math.sqrt(-2.0 * math.log(v)) * math.cos(2.0 * math.pi * u2)
    return k / expected * math.exp(math.sqrt(s2) * z - 0.5 * s2)


@numba.njit(cache=True, nogil=True, inline="always")
def drawn_share(share: float, base: float, sd: float, z: float) -> float:
    """The exposed share of one draw: the pooled channel share ``base`` moved on the logit
    scale by ``sd * z`` (its sampling uncertainty), times what ``share`` adds to it (the
    scenario's ramp progress and reach). ``share`` itself where ``sd`` is 0."""
    if sd <= 0.0 or base <= 0.0 or base >= 1.0:
        return share
    logit = math.log(base / (1.0 - base)) + sd * z
    return share / base / (1.0 + math.exp(-logit))


@numba.njit(cache=True, nogil=True)
def _select(buf: F64, lo: int, hi: int, k: int) -> None:
    """Reorder buf[lo:hi] so that buf[k] is the value of rank k, smaller ones before it."""
    while hi - lo > 1:
        mid = (lo + hi - 1) // 2
        a, b, c = buf[lo], buf[mid], buf[hi - 1]
        pivot = max(min(a, b), min(max(a, b), c))  # median of three
        i, j = lo, hi - 1
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j + 1
        elif k >= i:
            lo = i
        else:
            return


@numba.njit(cache=True, nogil=True)
def _quantiles(buf: F64, probs: F64, out: F64) -> None:
    """numpy's default (linear) percentiles of buf, written to out; buf is reordered.

    Probabilities must be ascending; each is selected within the range left by the
    previous one, so later selections touch fewer values.
    """
    n = buf.size
    lo = 0
    for qi in range(probs.size):
        h = probs[qi] * (n - 1)
        below = math.floor(h)
        _select(buf, lo, n, below)
        value = buf[below]
        if below + 1 < n and h > below:
            nxt = buf[below + 1]
            for m in range(below + 2, n):  # the next rank is the smallest above
                nxt = min(nxt, buf[m])
            value += (h - below) * (nxt - value)
        out[qi] = value
        lo = below


def _ratio_table(  # noqa: PLR0917 - the kernel's arrays, positionally
    ratio: F64,
    offset: F64,
    log_sd_shared: F64,
    log_sd_own: F64,
    z_shared: F64,
    corridor_key: U64,
    seed: int,
    probs: F64,
) -> tuple[F64, F64]:
    """Each corridor's baseline ratio per draw, and its mean and percentiles over the draws.

    The corridor's own noise is keyed by ``corridor_key[c]`` (its origin and
    destination), not by its index ``c``.
    """
    table = np.empty((ratio.size, z_shared.size))
    summary = np.empty((ratio.size, 1 + probs.size))

    def run(block: int, n_blocks: int) -> None:
        _ratio_rows(
            block, n_blocks, ratio, offset, log_sd_shared, log_sd_own, z_shared, corridor_key,
            seed, probs, table, summary,
        )  # fmt: skip

    in_blocks(ratio.size, run)
    return table, summary


@numba.njit(cache=True, nogil=True)
def _ratio_rows(  # noqa: PLR0917 - numba kernels take arrays positionally
    block: int,
    n_blocks: int,
    ratio: F64,
    offset: F64,
    log_sd_shared: F64,
    log_sd_own: F64,
    z_shared: F64,
    corridor_key: U64,
    seed: int,
    probs: F64,
    table: F64,
    summary: F64,
) -> None:
    """Corridors block, block + n_blocks, ... of :func:`_ratio_table`, into ``table`` and ``summary``."""
    draws = z_shared.size
    buf = np.empty(draws)
    out = np.empty(probs.size)
    for c in range(block, ratio.size, n_blocks):
        total = 0.0
        for d in range(draws):
            z = log_sd_shared[c] * z_shared[d]
            if log_sd_own[c] > 0.0:
                z += log_sd_own[c] * hashed_normal(seed, corridor_key[c], d)
            value = max(ratio[c] * math.exp(z) - offset[c], 0.0)
            table[c, d] = value
            buf[d] = value
            total += value
        summary[c, 0] = total / draws
        _quantiles(buf, probs, out)
        for qi in range(probs.size):
            summary[c, 1 + qi] = out[qi]


@numba.njit(cache=True, nogil=True, inline="always")
def unit_values(  # noqa: PLR0917 - one cell-draw of the model, scalars for numba
    r: float,
    share: float,
    progress: float,
    inverse_cost: float,
    withdrawn: float,
    cost_rise: float,
    elasticity: float,
    beta: float,
    premium_change: float,
    informal_side: bool,
    to_informal: float,
    to_other: float,
    to_lost: float,
    n_formal: float,
    u: tuple[float, float, float, float, float, float],
) -> tuple[float, float, float]:
    """Formal, informal and lost flow per unit of recorded flow in one cell and draw.

    ``r`` is the baseline informal ratio of the draw. The drivers move flow between
    channels first (a logistic in the premium's change), the scenario then displaces
    formal flow (a closure: capacity withdrawn, then cost-deterred at a constant
    elasticity) or informal flow (formalisation: informal capacity withdrawn).
    With ``n_formal`` (the cell's recorded formal transfers, 0 if unknown), each
    flow that changes channel carries the sampling noise of the few transfers that
    make it (:func:`switch_noise`, driven by the uniforms ``u``: two for the drivers'
    move, two for the flow out of formal channels, two for the flow into them),
    never more than the flow it leaves.
    """
    f1 = 1.0
    if premium_change != 0.0 and beta != 0.0:
        f1 = (1.0 + r) / (1.0 + r * math.exp(beta * premium_change))
        if f1 < 1.0:  # a part of the recorded transfers goes informal
            f1 = 1.0 - min((1.0 - f1) * switch_noise(1.0 - f1, n_formal, True, u[0], u[1]), 1.0)
        elif f1 > 1.0:  # informal transfers come to formal channels
            f1 = 1.0 + min((f1 - 1.0) * switch_noise(f1 - 1.0, n_formal, False, u[0], u[1]), r)
    i1 = 1.0 + r - f1
    k = 0.0
    if cost_rise > 0.0 and elasticity > 0.0:
        # a free corridor (cost 0, inverse inf) takes the limit: any rise deters in full
        if math.isinf(inverse_cost):
            k = progress
        else:
            k = progress * -math.expm1(-elasticity * math.log1p(cost_rise * inverse_cost))
    w = share * withdrawn
    if informal_side:
        from_formal = f1 * k
        from_informal = i1 * w
        from_informal = min(
            from_informal * switch_noise(to_other * from_informal, n_formal, False, u[4], u[5]), i1
        )
    else:
        from_formal = f1 * (w + (1.0 - w) * k)
    # what leaves formal channels (to other formal providers stays recorded)
    from_formal = min(
        from_formal * switch_noise((1.0 - to_other) * from_formal, n_formal, True, u[2], u[3]), f1
    )
    if not informal_side:
        from_informal = 0.0
    displaced = from_formal + from_informal
    return (
        f1 - from_formal + to_other * displaced,
        i1 - from_informal + to_informal * displaced,
        to_lost * displaced,
    )


def _profile_stats(  # noqa: PLR0917 - the kernel's arrays, positionally
    share: F64,
    share_base: F64,
    share_sd: F64,
    progress: F64,
    cost: F64,
    premium_change: F64,
    corridor: I64,
    corridor_key: U64,
    share_seed_: int,
    table: F64,
    draws_: F64,
    split: F64,
    informal_side: bool,
    probs: F64,
) -> F64:
    """Mean and percentiles of formal, informal and lost per unit of recorded flow, per profile.

    A profile is what a cell's draws depend on besides its recorded flow f:
    (corridor, exposed share and its pooled base and spread, ramp progress, cost,
    premium change). Every quantity
    is f times a vector over the draws that only the profile fixes, and scaling by
    f >= 0 keeps the order of the draws, so the percentiles are selected once per
    profile rather than once per cell. ``draws_`` holds, per draw, the withdrawn
    share, the cost rise, the elasticity and the premium response (4, draws).
    """
    stats = np.empty((3, 1 + probs.size, share.size))

    def run(block: int, n_blocks: int) -> None:
        _profile_rows(
            block, n_blocks, share, share_base, share_sd, progress, cost, premium_change,
            corridor, corridor_key, share_seed_, table, draws_, split, informal_side, probs,
            stats,
        )  # fmt: skip

    in_blocks(share.size, run)
    return stats


@numba.njit(cache=True, nogil=True)
def _profile_rows(  # noqa: PLR0917 - numba kernels take arrays positionally
    block: int,
    n_blocks: int,
    share: F64,
    share_base: F64,
    share_sd: F64,
    progress: F64,
    cost: F64,
    premium_change: F64,
    corridor: I64,
    corridor_key: U64,
    share_seed_: int,
    table: F64,
    draws_: F64,
    split: F64,
    informal_side: bool,
    probs: F64,
    stats: F64,
) -> None:
    """Profiles block, block + n_blocks, ... of :func:`_profile_stats`, into ``stats``."""
    draws = draws_.shape[1]
    n_q = probs.size
    buf = np.empty((3, draws))
    out = np.empty(n_q)
    for i in range(block, share.size, n_blocks):
        c = corridor[i]
        inverse_cost = 1.0 / cost[i] if cost[i] > 0.0 else math.inf
        for d in range(draws):
            sh = share[i]
            if share_sd[i] > 0.0:
                z = hashed_normal(share_seed_, corridor_key[c], d)
                sh = drawn_share(sh, share_base[i], share_sd[i], z)
            formal, informal, lost = unit_values(
                table[c, d],
                sh,
                progress[i],
                inverse_cost,
                draws_[0, d],
                draws_[1, d],
                draws_[2, d],
                draws_[3, d],
                premium_change[i],
                informal_side,
                split[d, 0],
                split[d, 1],
                split[d, 2],
                0.0,
                (0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
            )
            buf[0, d] = formal
            buf[1, d] = informal
            buf[2, d] = lost
        for q in range(3):
            row = buf[q]
            total = 0.0
            for d in range(draws):
                total += row[d]
            stats[q, 0, i] = total / draws
            _quantiles(row, probs, out)
            for qi in range(n_q):
                stats[q, 1 + qi, i] = out[qi]


def _simulate_groups(  # noqa: PLR0917 - the kernel's arrays, positionally
    formal: F64,
    exposed_share: F64,
    share_base: F64,
    share_sd: F64,
    progress: F64,
    cost: F64,
    premium_change: F64,
    corridor: I64,
    corridor_key: U64,
    profile: I64,
    profile_stats: F64,
    table: F64,
    ratio_summary: F64,
    group_start: I64,
    draws_: F64,
    split: F64,
    informal_side: bool,
    noise_sd: F64,
    n_formal: F64,
    cell_key: U64,
    seeds: I64,
    predictive: bool,
    probs: F64,
) -> tuple[F64, F64]:
    """Each cell's statistics (its profile's, scaled by its flow) and each group's per-draw sums.

    A cell with sampling noise (``noise_sd > 0``) has its baseline informal ratio
    multiplied, per draw, by a mean-one lognormal of its own (keyed by
    ``cell_key[j]``: its corridor and period), and with transfer counts
    (``n_formal > 0``) the flow that changes channel its own noise (three more
    streams of the same key, ``switch_seeds``): its quantities are then summarised
    cell by cell. ``seeds`` holds the cells' noise seed, the three switch seeds and
    the share seed.

    ``predictive`` (with counts): the month is a fresh one. The draws' expected
    flows (no cell noise on the ratio, no switch noise) are multiplied by a
    mean-one lognormal of relative variance ``SUM_CV ** 2 / n`` (the recorded flow's
    own sampling error about its expectation; every quantity, so that they still
    add up), and the formal and the informal flow each by a fresh sum of about
    ``n`` times their flow per unit of transfers (:func:`switch_noise`, Poisson).
    The total is then formal + informal + lost of the draw.
    """
    stats = np.empty((4, profile_stats.shape[1], formal.size))
    sums = np.zeros((group_start.size - 1, 4, draws_.shape[1]))

    def run(block: int, n_blocks: int) -> None:
        _group_rows(
            block, n_blocks, formal, exposed_share, share_base, share_sd, progress, cost,
            premium_change, corridor, corridor_key, profile, profile_stats, table, ratio_summary,
            group_start, draws_, split, informal_side, noise_sd, n_formal, cell_key, seeds,
            predictive, probs, stats, sums,
        )  # fmt: skip

    in_blocks(group_start.size - 1, run)
    return stats, sums


@numba.njit(cache=True, nogil=True)
def _group_rows(  # noqa: PLR0917 - numba kernels take arrays positionally  # long: one compiled pass over draws and cells, the moved flow's noise inline
    block: int,
    n_blocks: int,
    formal: F64,
    exposed_share: F64,
    share_base: F64,
    share_sd: F64,
    progress: F64,
    cost: F64,
    premium_change: F64,
    corridor: I64,
    corridor_key: U64,
    profile: I64,
    profile_stats: F64,
    table: F64,
    ratio_summary: F64,
    group_start: I64,
    draws_: F64,
    split: F64,
    informal_side: bool,
    noise_sd: F64,
    n_formal: F64,
    cell_key: U64,
    seeds: I64,
    predictive: bool,
    probs: F64,
    stats: F64,
    sums: F64,
) -> None:
    """Groups block, block + n_blocks, ... of :func:`_simulate_groups`, into ``stats`` and ``sums``."""
    draws = draws_.shape[1]
    n_stats = profile_stats.shape[1]
    noisy = np.empty((4, draws))
    out = np.empty(probs.size)
    for g in range(block, group_start.size - 1, n_blocks):
        for j in range(group_start[g], group_start[g + 1]):
            c = corridor[j]
            f = formal[j]
            for si in range(n_stats):
                stats[3, si, j] = f * (1.0 + ratio_summary[c, si])
                for q in range(3):
                    stats[q, si, j] = f * profile_stats[q, si, profile[j]]
            sd = noise_sd[j]
            nf = n_formal[j]
            fresh = predictive and nf > 0.0
            level_sd = math.sqrt(math.log1p(SWITCH_CV2 / nf)) if fresh else 0.0
            inverse_cost = 1.0 / cost[j] if cost[j] > 0.0 else math.inf
            for d in range(draws):
                r = table[c, d]
                if sd > 0.0 and not fresh:
                    r *= math.exp(sd * hashed_normal(seeds[0], cell_key[j], d) - 0.5 * sd * sd)
                u = (0.5, 0.5, 0.5, 0.5, 0.5, 0.5)
                if nf > 0.0:
                    a1, a2 = hashed_uniforms(seeds[1], cell_key[j], d)
                    b1, b2 = hashed_uniforms(seeds[2], cell_key[j], d)
                    c1, c2 = hashed_uniforms(seeds[3], cell_key[j], d)
                    u = (a1, a2, b1, b2, c1, c2)
                sh = exposed_share[j]
                if share_sd[j] > 0.0:
                    z = hashed_normal(seeds[4], corridor_key[c], d)
                    sh = drawn_share(sh, share_base[j], share_sd[j], z)
                values = unit_values(
                    r,
                    sh,
                    progress[j],
                    inverse_cost,
                    draws_[0, d],
                    draws_[1, d],
                    draws_[2, d],
                    draws_[3, d],
                    premium_change[j],
                    informal_side,
                    split[d, 0],
                    split[d, 1],
                    split[d, 2],
                    0.0 if fresh else nf,
                    u,
                )
                if fresh:
                    level = math.exp(level_sd * hashed_normal(seeds[0], cell_key[j], d))
                    level *= math.exp(-0.5 * level_sd * level_sd)
                    unit_formal = values[0] * switch_noise(values[0], nf, False, u[2], u[3])
                    unit_informal = values[1] * switch_noise(values[1], nf, False, u[4], u[5])
                    values = (level * unit_formal, level * unit_informal, level * values[2])
                    whole = values[0] + values[1] + values[2]
                else:
                    whole = 1.0 + r
                for q in range(3):
                    sums[g, q, d] += f * values[q]
                    noisy[q, d] = f * values[q]
                sums[g, 3, d] += f * whole
                noisy[3, d] = f * whole
            if sd > 0.0 or nf > 0.0:  # the noise is the cell's own: summarised here
                for q in range(4):
                    total = 0.0
                    for d in range(draws):
                        total += noisy[q, d]
                    stats[q, 0, j] = total / draws
                    _quantiles(noisy[q], probs, out)
                    for qi in range(probs.size):
                        stats[q, 1 + qi, j] = out[qi]


def _profiles(  # noqa: PLR0917 - the columns of a profile
    exposed_share: F64,
    share_base: F64,
    share_sd: F64,
    progress: F64,
    cost: F64,
    premium_change: F64,
    corridor: I64,
) -> tuple[I64, I64]:
    """The distinct (corridor, share, its base and spread, progress, cost, premium) rows:
    each cell's profile, one cell per profile."""
    rows = np.stack(
        [
            corridor.astype(np.float64),
            exposed_share,
            share_base,
            share_sd,
            progress,
            cost,
            premium_change,
        ],
        axis=1,
    )
    _, first, index = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return index.reshape(-1).astype(np.int64), first.astype(np.int64)


@dataclass(frozen=True)
class Inputs:
    """What the compiled kernel reads: the cells, the corridors and one scenario's draws."""

    formal: F64
    exposed_share: F64
    share_base: F64  # the pooled channel share the exposed share is drawn around
    share_sd: F64  # its sampling spread on the logit scale (0: taken as known)
    progress: F64
    cost: F64
    premium_change: F64
    corridor: I64
    ratio: F64
    offset: F64
    log_sd_shared: F64
    log_sd_own: F64
    group_start: I64
    draws: F64  # (4, draws): withdrawn, cost rise, elasticity, premium response
    split: F64  # (draws, 3)
    informal_side: bool
    z_shared: F64
    noise_sd: F64
    n_formal: F64  # recorded formal transfers per cell, 0 where unknown
    corridor_key: U64
    cell_key: U64
    predictive: bool = False


def simulate_compiled(inputs: Inputs, seed: int, probs: F64) -> tuple[F64, F64]:
    """(stats[quantity, 1 + len(probs), cell], sums[group, quantity, draw]); see _estimate for the model.

    Memory: the corridors' ratio per draw (8 bytes x corridors x draws) and the group
    sums (32 bytes x groups x draws); nothing of size cells x draws.
    """
    x = inputs
    table, summary = _ratio_table(
        x.ratio, x.offset, x.log_sd_shared, x.log_sd_own, x.z_shared, x.corridor_key, seed, probs
    )
    profile, first = _profiles(
        x.exposed_share,
        x.share_base,
        x.share_sd,
        x.progress,
        x.cost,
        x.premium_change,
        x.corridor,
    )
    draws = np.ascontiguousarray(x.draws)
    split = np.ascontiguousarray(x.split)
    seeds = np.array([noise_seed(seed), *switch_seeds(seed), share_seed(seed)], dtype=np.int64)
    profile_stats = _profile_stats(
        x.exposed_share[first],
        x.share_base[first],
        x.share_sd[first],
        x.progress[first],
        x.cost[first],
        x.premium_change[first],
        x.corridor[first],
        x.corridor_key,
        int(seeds[4]),
        table,
        draws,
        split,
        x.informal_side,
        probs,
    )
    return _simulate_groups(
        x.formal,
        x.exposed_share,
        x.share_base,
        x.share_sd,
        x.progress,
        x.cost,
        x.premium_change,
        x.corridor,
        x.corridor_key,
        profile,
        profile_stats,
        table,
        summary,
        x.group_start,
        draws,
        split,
        x.informal_side,
        x.noise_sd,
        x.n_formal,
        x.cell_key,
        seeds,
        x.predictive,
        probs,
    )


def noise_seed(seed: int) -> int:
    """The seed of the cells' sampling noise: apart from the corridors' stream of the same seed."""
    return (int(seed) * 2654435761 + 0x5DEECE66D) % (1 << 62)  # int: a numpy seed would overflow


def switch_seeds(seed: int) -> I64:
    """The seeds of the switched flow's noise (drivers, out of and into formal channels).

    Apart from each other and from the corridors' and the cells' ratio streams.
    """
    base = noise_seed(seed)
    return np.array(
        [(base + (i + 1) * 0x2545F4914F6CDD1D) % (1 << 62) for i in range(SWITCH_STREAMS)],
        dtype=np.int64,
    )


def share_seed(seed: int) -> int:
    """The seed of the channel shares' sampling spread (one stream per corridor).

    Apart from the corridors', the cells' and the switched flow's streams.
    """
    return (noise_seed(seed) + (SWITCH_STREAMS + 1) * 0x2545F4914F6CDD1D) % (1 << 62)
