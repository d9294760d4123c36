"""Compiled per-cell sender statistics (numba): one pass over per-sender totals.

The corridor panel's ``senders`` and ``top_senders`` statistics come from one
table of per-sender totals (one row per cell and sender: the cell's packed key,
the sender's total and row count), which polars builds with a single hash
group-by. :func:`cell_senders` then reads that table once, in any order, and keeps
per cell its number of senders, the sums of the totals and counts, and its
``top`` largest totals in a small sorted buffer. The cells are found through an
open-addressing hash table on their keys (linear probing, at most half full), so
nothing is sorted. Polars' ``top_k`` inside a group-by builds a list per cell
(0.7 s of processor time for the 10M-row benchmark's 6.1M per-sender rows, then a
sort and three reads of each list); this pass takes about 0.2 s.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["cell_senders"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]

_EMPTY = -1  # a free slot of the hash table (slots hold indices of cells, from 0)


@numba.njit(cache=True, nogil=True, inline="always")
def _above(value: float, other: float) -> bool:
    """``value`` ranks above ``other`` as polars orders floats: NaN above everything."""
    if np.isnan(value):
        return not np.isnan(other)
    return value > other


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(key: int) -> int:
    """A 64-bit finaliser (splitmix64's) of ``key``: neighbouring keys land far apart."""
    z = np.uint64(key)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return int(z ^ (z >> np.uint64(31)))


@numba.njit(cache=True, nogil=True)
def _slot(slot_keys: I64, used: B1, key: int) -> int:
    """The slot of ``key`` in the table, or the free slot where it goes."""
    mask = slot_keys.size - 1
    slot = _mix(key) & mask
    while used[slot] and slot_keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True, nogil=True)
def _fill(  # noqa: PLR0917 - numba kernels take arrays positionally
    cells: I64,
    totals: F64,
    counts: I64,
    start: int,
    slot_keys: I64,
    used: B1,
    counted: I64,
    summed: F64,
    m: int,
) -> tuple[int, int]:
    """Add rows from ``start`` on into the table until it would be over half full.

    Returns the first row not added and the number of cells. The arrays are never
    reassigned here, so the loop updates no reference counts (growing the table in the
    same loop made it three times slower).
    """
    top = summed.shape[1] - 1
    limit = slot_keys.size // 2
    mask = slot_keys.size - 1
    for i in range(start, cells.size):
        key = cells[i]
        slot = _mix(key) & mask  # _slot, written out: a call would count references
        while used[slot] and slot_keys[slot] != key:
            slot = (slot + 1) & mask
        if not used[slot]:
            if m == limit:
                return i, m
            used[slot] = True
            slot_keys[slot] = key
            m += 1
        value = totals[i]
        seen = counted[slot, 0]
        counted[slot, 0] = seen + 1
        counted[slot, 1] += counts[i]
        summed[slot, 0] += value
        # insert into the descending buffer of the cell's largest totals (columns 1..top)
        k = min(seen, top)
        if k == top:
            if not _above(value, summed[slot, top]):
                continue
            k -= 1
        while k > 0 and _above(value, summed[slot, k]):
            summed[slot, k + 1] = summed[slot, k]
            k -= 1
        summed[slot, k + 1] = value
    return cells.size, m


@numba.njit(cache=True, nogil=True)
def cell_senders(cells: I64, totals: F64, counts: I64, top: int) -> tuple[I64, I64, F64, I64, F64]:
    """Per-cell sender statistics from per-sender rows, in one pass.

    Parameters
    ----------
    cells, totals, counts
        One entry per (cell, sender): the cell's key, the sender's total and the
        sender's number of rows. Any order.
    top
        How many of the largest totals to keep per cell.

    Returns
    -------
    keys, n_senders, amount, n_rows, largest
        One entry per distinct cell, in no particular order: its key, its number of
        senders (rows in), the sum of its totals, the sum of its counts, and its
        ``top`` largest totals, largest first (0.0 where it has fewer senders), as
        a (cells, top) array.
    """
    # Each slot holds a cell's key and its statistics side by side (a row of ``counted``:
    # senders, rows; a row of ``summed``: amount, then the largest totals), so a row of
    # input touches a few cache lines. At most half the slots are used.
    capacity = 1024
    slot_keys = np.empty(capacity, dtype=np.int64)
    used = np.zeros(capacity, dtype=np.bool_)
    counted = np.zeros((capacity, 2), dtype=np.int64)
    summed = np.zeros((capacity, 1 + top), dtype=np.float64)
    start, m = _fill(cells, totals, counts, 0, slot_keys, used, counted, summed, 0)
    while start < cells.size:  # half full: twice the slots, every cell placed again
        capacity *= 2
        old_keys, old_used, old_counted, old_summed = slot_keys, used, counted, summed
        slot_keys = np.empty(capacity, dtype=np.int64)
        used = np.zeros(capacity, dtype=np.bool_)
        counted = np.zeros((capacity, 2), dtype=np.int64)
        summed = np.zeros((capacity, 1 + top), dtype=np.float64)
        for old in np.flatnonzero(old_used):
            new = _slot(slot_keys, used, old_keys[old])
            used[new] = True
            slot_keys[new] = old_keys[old]
            counted[new] = old_counted[old]
            summed[new] = old_summed[old]
        start, m = _fill(cells, totals, counts, start, slot_keys, used, counted, summed, m)
    taken = np.flatnonzero(used)
    return (
        slot_keys[taken],
        counted[taken, 0],
        summed[taken, 0],
        counted[taken, 1],
        summed[taken, 1:],
    )
