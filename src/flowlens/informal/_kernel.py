"""Compiled Monte Carlo kernel (numba): each (destination, period) group on its own core.

Every quantity of a corridor-period is its recorded flow times a vector over the
draws fixed by its profile (corridor, exposed share, ramp progress, cost). The
vectors are summarised once per profile (mean, and percentiles by in-place
selection), each cell's statistics are its profile's scaled by its flow, and the
draws are added to the per-draw sums of the cell's (destination, period) group. Nothing of size
cells x draws is ever allocated. ``flowlens.informal._estimate`` holds the same
model in numpy (the reference the tests compare with).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_CORRIDOR = np.uint64(0xD1B54A32D192ED03)
_MIX_DRAW = np.uint64(0x94D049BB133111EB)
_MIX_OUT = np.uint64(0xBF58476D1CE4E5B9)
_UNIT = 9007199254740992.0  # 2 ** 53: the top 53 bits of a hash as a uniform in (0, 1)


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
    u1 = ((a >> np.uint64(11)).astype(np.float64) + 0.5) / _UNIT
    u2 = ((b >> np.uint64(11)).astype(np.float64) + 0.5) / _UNIT
    normal: F64 = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normal


@numba.njit(cache=True, nogil=True)
def hashed_normal(seed: int, key: np.uint64, draw: int) -> float:
    """A standard normal that depends only on (seed, key, draw): Box-Muller on two hashed uniforms.

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
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


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


@numba.njit(cache=True, parallel=True)
def _ratio_table(  # noqa: PLR0917 - numba kernels take arrays positionally
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
    n_corridors = ratio.size
    draws = z_shared.size
    table = np.empty((n_corridors, draws))
    summary = np.empty((n_corridors, 1 + probs.size))
    for c in numba.prange(n_corridors):
        total = 0.0
        for d in range(draws):
            z = log_sd_shared[c] * z_shared[d]
            if log_sd_own[c] > 0.0:
                z += log_sd_own[c] * hashed_normal(seed, corridor_key[c], d)
            value = max(ratio[c] * math.exp(z) - offset[c], 0.0)
            table[c, d] = value
            total += value
        summary[c, 0] = total / draws
        buf = table[c].copy()
        out = np.empty(probs.size)
        _quantiles(buf, probs, out)
        summary[c, 1:] = out
    return table, summary


@numba.njit(cache=True, nogil=True, inline="always")
def _displaced_share(
    share: float, progress: float, withdrawn: float, deterred: float, inverse_cost: float
) -> float:
    """Share of a cell's recorded flow displaced in one draw: capacity withdrawn, then cost-deterred."""
    w = share * withdrawn
    # a free corridor (cost 0, inverse inf) takes the limit: any rise deters in full
    rise = deterred * inverse_cost if deterred > 0.0 else 0.0
    k = progress * min(1.0, rise)
    return w + (1.0 - w) * k


@numba.njit(cache=True, parallel=True)
def _profile_stats(  # noqa: PLR0917 - numba kernels take arrays positionally
    share: F64,
    progress: F64,
    cost: F64,
    corridor: I64,
    table: F64,
    withdrawn: F64,
    deterred: F64,
    split: F64,
    probs: F64,
) -> F64:
    """Mean and percentiles of formal, informal and lost per unit of recorded flow, per profile.

    A profile is what a cell's draws depend on besides its recorded flow f:
    (corridor, exposed share, ramp progress, cost). Every quantity is f times a
    vector over the draws that only the profile fixes, and scaling by f >= 0 keeps
    the order of the draws, so the percentiles are selected once per profile
    rather than once per cell.
    """
    n_profiles = share.size
    draws = withdrawn.size
    n_q = probs.size
    stats = np.empty((3, 1 + n_q, n_profiles))
    for i in numba.prange(n_profiles):
        buf = np.empty((3, draws))
        out = np.empty(n_q)
        c = corridor[i]
        inverse_cost = 1.0 / cost[i] if cost[i] > 0.0 else math.inf
        for d in range(draws):
            displaced = _displaced_share(
                share[i], progress[i], withdrawn[d], deterred[d], inverse_cost
            )
            buf[0, d] = 1.0 - (1.0 - split[d, 1]) * displaced
            buf[1, d] = table[c, d] + split[d, 0] * displaced
            buf[2, d] = split[d, 2] * displaced
        for q in range(3):
            row = buf[q]
            total = 0.0
            for d in range(draws):
                total += row[d]
            stats[q, 0, i] = total / draws
            _quantiles(row, probs, out)
            for qi in range(n_q):
                stats[q, 1 + qi, i] = out[qi]
    return stats


@numba.njit(cache=True, parallel=True)
def _simulate_groups(  # noqa: PLR0917 - numba kernels take arrays positionally
    formal: F64,
    exposed_share: F64,
    progress: F64,
    cost: F64,
    corridor: I64,
    profile: I64,
    profile_stats: F64,
    table: F64,
    ratio_summary: F64,
    group_start: I64,
    withdrawn: F64,
    deterred: F64,
    split: F64,
    noise_sd: F64,
    cell_key: U64,
    noise_seed: int,
    probs: F64,
) -> tuple[F64, F64]:
    """Each cell's statistics (its profile's, scaled by its flow) and each group's per-draw sums.

    A cell with sampling noise (``noise_sd > 0``) has its baseline informal flow
    multiplied, per draw, by a mean-one lognormal of its own (keyed by
    ``cell_key[j]``: its corridor and period): its informal and total flows are
    then summarised cell by cell.
    """
    n_cells = formal.size
    n_groups = group_start.size - 1
    draws = withdrawn.size
    n_stats = profile_stats.shape[1]
    stats = np.empty((4, n_stats, n_cells))
    sums = np.zeros((n_groups, 4, draws))
    for g in numba.prange(n_groups):
        noisy = np.empty((2, draws))
        out = np.empty(probs.size)
        for j in range(group_start[g], group_start[g + 1]):
            c = corridor[j]
            f = formal[j]
            for si in range(n_stats):
                stats[3, si, j] = f * (1.0 + ratio_summary[c, si])
                for q in range(3):
                    stats[q, si, j] = f * profile_stats[q, si, profile[j]]
            share = exposed_share[j]
            p = progress[j]
            sd = noise_sd[j]
            inverse_cost = 1.0 / cost[j] if cost[j] > 0.0 else math.inf
            for d in range(draws):
                displaced = f * _displaced_share(share, p, withdrawn[d], deterred[d], inverse_cost)
                informal = f * table[c, d]
                if sd > 0.0:
                    informal *= math.exp(
                        sd * hashed_normal(noise_seed, cell_key[j], d) - 0.5 * sd * sd
                    )
                    noisy[0, d] = informal + split[d, 0] * displaced
                    noisy[1, d] = f + informal
                sums[g, 0, d] += f - (1.0 - split[d, 1]) * displaced
                sums[g, 1, d] += informal + split[d, 0] * displaced
                sums[g, 2, d] += split[d, 2] * displaced
                sums[g, 3, d] += f + informal
            if (
                sd > 0.0
            ):  # the noise is the cell's own: its informal and total flows summarised here
                for row, q in ((0, 1), (1, 3)):
                    total = 0.0
                    for d in range(draws):
                        total += noisy[row, d]
                    stats[q, 0, j] = total / draws
                    _quantiles(noisy[row], probs, out)
                    for qi in range(probs.size):
                        stats[q, 1 + qi, j] = out[qi]
    return stats, sums


def _profiles(exposed_share: F64, progress: F64, cost: F64, corridor: I64) -> tuple[I64, I64]:
    """The distinct (corridor, share, progress, cost) rows: each cell's profile, and one cell per profile."""
    rows = np.stack([corridor.astype(np.float64), exposed_share, progress, cost], axis=1)
    _, first, index = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return index.reshape(-1).astype(np.int64), first.astype(np.int64)


def simulate_compiled(  # noqa: PLR0917 - numba kernels take arrays positionally
    formal: F64,
    exposed_share: F64,
    progress: F64,
    cost: F64,
    corridor: I64,
    ratio: F64,
    offset: F64,
    log_sd_shared: F64,
    log_sd_own: F64,
    group_start: I64,
    withdrawn: F64,
    deterred: F64,
    split: F64,
    z_shared: F64,
    seed: int,
    probs: F64,
    noise_sd: F64,
    corridor_key: U64,
    cell_key: U64,
) -> tuple[F64, F64]:
    """(stats[quantity, 1 + len(probs), cell], sums[group, quantity, draw]); see _estimate for the model.

    Memory: the corridors' ratio per draw (8 bytes x corridors x draws) and the group
    sums (32 bytes x groups x draws); nothing of size cells x draws.
    """
    table, summary = _ratio_table(
        ratio, offset, log_sd_shared, log_sd_own, z_shared, corridor_key, seed, probs
    )
    profile, first = _profiles(exposed_share, progress, cost, corridor)
    profile_stats = _profile_stats(
        exposed_share[first],
        progress[first],
        cost[first],
        corridor[first],
        table,
        withdrawn,
        deterred,
        split,
        probs,
    )
    return _simulate_groups(
        formal,
        exposed_share,
        progress,
        cost,
        corridor,
        profile,
        profile_stats,
        table,
        summary,
        group_start,
        withdrawn,
        deterred,
        split,
        noise_sd,
        cell_key,
        noise_seed(seed),
        probs,
    )


def noise_seed(seed: int) -> int:
    """The seed of the cells' sampling noise: apart from the corridors' stream of the same seed."""
    return (seed * 2654435761 + 0x5DEECE66D) % (1 << 62)
