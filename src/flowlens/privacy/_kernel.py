"""Compiled secondary suppression (numba): one pass per slice over its augmented table.

:func:`protect` takes the entries of every slice's augmented table (interior cells
and the totals), sorted by slice with the sensitive cells of a slice first, largest
first, as contiguous arrays plus offsets. Slice by slice, the entries go into a
small dense (rows + 1) x (columns + 1) table, and each sensitive cell in turn gets
the cheapest cycle of four withheld entries (itself, a partner in its row, one in
its column and the corner where those meet) that leaves it its protection interval
(the rules are in :mod:`flowlens.privacy._suppress`). An entry withheld already,
sensitive or chosen for an earlier cell, costs nothing; any other costs its value.
Candidates per line: the cheapest ``CANDIDATES`` that qualify, plus the line's
total, which always does. Nothing of size cells x line length is ever built: memory
is the entries' arrays and one dense table. One thread: on the 10M-row benchmark
panel (473,060 entries) the pass takes 0.27-0.31 s, the same as with numba's
``parallel=True`` on 2 loaded cores (0.28-0.32 s), which costs 4.5 s more to
compile and needs a thread-safe threading layer.

:func:`bridges` is the independent check: Tarjan's bridge-finding over the graph of
withheld entries (rows and columns as nodes), iterative, in one compiled pass.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["CANDIDATES", "bridges", "protect"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]

CANDIDATES = 16
"""Cheapest qualifying partners kept per row and per column of a sensitive cell (the
line's total comes on top, always). Entries withheld already cost nothing and come
first, so 16 leaves room to find a cycle that adds nothing; the search over the
16 x 16 pairs stops as soon as a cheaper one is impossible."""

_TOTAL = -1  # the totals' index in the input (flowlens.privacy._audit.TOTAL)


@numba.njit(cache=True, nogil=True)
def _keep_cheapest(  # noqa: PLR0917 - numba kernels take arrays positionally
    costs: F64, where: I64, count: int, capacity: int, cost: float, at: int
) -> int:
    """Insert ``(cost, at)`` into the ascending buffer if it is among the ``capacity`` cheapest."""
    if count == capacity:
        if cost >= costs[count - 1]:
            return count
        count -= 1
    k = count
    while k > 0 and costs[k - 1] > cost:
        costs[k] = costs[k - 1]
        where[k] = where[k - 1]
        k -= 1
    costs[k] = cost
    where[k] = at
    return count + 1


@numba.njit(cache=True, nogil=True)
def _slice_cycles(  # noqa: PLR0917 - arrays positionally  # long: the whole per-slice search in one compiled function
    rows: I64,
    columns: I64,
    values: F64,
    primary: B1,
    withheld: B1,
    lower: float,
    upper: float,
    row_map: I64,
    column_map: I64,
) -> bool:
    """Withhold, in ``withheld``, a protecting cycle for every sensitive entry of one slice."""
    n = rows.size
    # local indices: interior rows 0..n_rows-1 in order of appearance, the total last
    n_rows = 0
    n_columns = 0
    for e in range(n):
        r, c = rows[e], columns[e]
        if r != _TOTAL and row_map[r] < 0:
            row_map[r] = n_rows
            n_rows += 1
        if c != _TOTAL and column_map[c] < 0:
            column_map[c] = n_columns
            n_columns += 1
    size_r, size_c = n_rows + 1, n_columns + 1
    value = np.zeros((size_r, size_c))
    exists = np.zeros((size_r, size_c), dtype=np.bool_)
    held = np.zeros((size_r, size_c), dtype=np.bool_)
    local_r = np.empty(n, dtype=np.int64)
    local_c = np.empty(n, dtype=np.int64)
    for e in range(n):
        i = n_rows if rows[e] == _TOTAL else row_map[rows[e]]
        j = n_columns if columns[e] == _TOTAL else column_map[columns[e]]
        local_r[e], local_c[e] = i, j
        value[i, j] = values[e]
        exists[i, j] = True
        held[i, j] = primary[e]
    for e in range(n):  # leave the maps clean for the next slice
        if rows[e] != _TOTAL:
            row_map[rows[e]] = -1
        if columns[e] != _TOTAL:
            column_map[columns[e]] = -1
    capacity = CANDIDATES + 1
    row_cost, column_cost = np.empty(capacity), np.empty(capacity)
    row_at, column_at = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
    for e in range(n):
        if not primary[e]:
            break  # sensitive entries come first
        tr, tc, x = local_r[e], local_c[e], values[e]
        need_up, need_down = x * upper, x * lower
        # partners give up x * upper and take x * lower; in a line of the target a
        # cell can fall to zero and grow without end, the line's total the other way
        # round (it enters with the opposite sign), and it always has room: total >= x
        n_row = 0
        for j in range(n_columns):
            if j != tc and exists[tr, j] and value[tr, j] >= need_up:
                cost = 0.0 if held[tr, j] else value[tr, j]
                n_row = _keep_cheapest(row_cost, row_at, n_row, CANDIDATES, cost, j)
        cost = 0.0 if held[tr, n_columns] else value[tr, n_columns]
        n_row = _keep_cheapest(row_cost, row_at, n_row, capacity, cost, n_columns)
        n_column = 0
        for i in range(n_rows):
            if i != tr and exists[i, tc] and value[i, tc] >= need_up:
                cost = 0.0 if held[i, tc] else value[i, tc]
                n_column = _keep_cheapest(column_cost, column_at, n_column, CANDIDATES, cost, i)
        cost = 0.0 if held[n_rows, tc] else value[n_rows, tc]
        n_column = _keep_cheapest(column_cost, column_at, n_column, capacity, cost, n_rows)
        best, best_i, best_j = math.inf, -1, -1
        for a in range(n_row):
            if row_cost[a] >= best:
                break
            j = row_at[a]
            for b in range(n_column):
                pair = row_cost[a] + column_cost[b]
                if pair >= best:
                    break
                i = column_at[b]
                if not exists[i, j]:
                    continue
                # the corner takes x * upper and gives up x * lower: a cell or the
                # grand total grows freely and must hold x * lower; a total the reverse
                if (i == n_rows) != (j == n_columns):
                    fits = value[i, j] >= need_up
                else:
                    fits = value[i, j] >= need_down
                if fits:
                    total = pair + (0.0 if held[i, j] else value[i, j])
                    if total < best:
                        best, best_i, best_j = total, i, j
        if best_i < 0:
            return False
        held[tr, best_j] = True
        held[best_i, tc] = True
        held[best_i, best_j] = True
    for e in range(n):
        withheld[e] = held[local_r[e], local_c[e]]
    return True


@numba.njit(cache=True, nogil=True)
def _protect(  # noqa: PLR0917 - numba kernels take arrays positionally
    starts: I64,
    rows: I64,
    columns: I64,
    values: F64,
    primary: B1,
    lower: float,
    upper: float,
    n_labels: int,
) -> tuple[B1, B1]:
    n_slices = starts.size - 1
    withheld = np.zeros(rows.size, dtype=np.bool_)
    found = np.ones(n_slices, dtype=np.bool_)
    # label -> local index, once: each slice sets its own labels and resets them after
    row_map = np.full(n_labels, -1, dtype=np.int64)
    column_map = np.full(n_labels, -1, dtype=np.int64)
    for s in range(n_slices):
        a, b = starts[s], starts[s + 1]
        found[s] = _slice_cycles(
            rows[a:b],
            columns[a:b],
            values[a:b],
            primary[a:b],
            withheld[a:b],
            lower,
            upper,
            row_map,
            column_map,
        )
    return withheld, found


def protect(  # noqa: PLR0917 - arrays positionally, as the kernel takes them
    starts: I64,
    rows: I64,
    columns: I64,
    values: F64,
    primary: B1,
    levels: tuple[float, float],
) -> tuple[B1, B1]:
    """The entries to withhold, and per slice whether every sensitive cell found a cycle.

    Parameters
    ----------
    starts
        Offsets of the slices in the other arrays (``n_slices + 1``, from 0 to their length).
    rows, columns
        Row and column index of each entry (>= 0; -1 for a total).
    values
        Each entry's amount (>= 0).
    primary
        Whether the entry is sensitive; within a slice the sensitive entries come first
        (the order they are protected in: largest first withholds the big partners once).
    levels
        ``(lower, upper)`` protection, fractions of a sensitive value.

    Returns
    -------
    tuple of numpy.ndarray
        Whether each entry is withheld (the sensitive ones always), and per slice
        whether a qualifying cycle was found for every sensitive entry (always, in
        theory: the cycle through the totals qualifies).

    Examples
    --------
    >>> import numpy as np
    >>> # one 2 x 2 slice: cells (0,0) 5 sensitive, (0,1) 1, (1,0) 7, (1,1) 3, and its totals
    >>> rows = np.array([0, 0, 1, 1, 0, 1, -1, -1, -1])
    >>> columns = np.array([0, 1, 0, 1, -1, -1, 0, 1, -1])
    >>> values = np.array([5.0, 1.0, 7.0, 3.0, 6.0, 10.0, 12.0, 4.0, 16.0])
    >>> primary = np.array([True] + [False] * 8)
    >>> withheld, found = protect(np.array([0, 9]), rows, columns, values, primary, (0.1, 0.1))
    >>> withheld.nonzero()[0].tolist(), bool(found.all())  # the four cells: 1 + 7 + 3 = 11
    ([0, 1, 2, 3], True)
    """
    labels = max(int(rows.max(initial=0)), int(columns.max(initial=0))) + 1
    lower, upper = levels
    return _protect(starts, rows, columns, values, primary, lower, upper, labels)


@numba.njit(cache=True, nogil=True)
def _bridges(n_nodes: int, tail: I64, head: I64) -> B1:
    m = tail.size
    first = np.zeros(n_nodes + 1, dtype=np.int64)
    for e in range(m):
        first[tail[e] + 1] += 1
        first[head[e] + 1] += 1
    for v in range(n_nodes):
        first[v + 1] += first[v]
    fill = first[:-1].copy()
    neighbour = np.empty(2 * m, dtype=np.int64)
    via = np.empty(2 * m, dtype=np.int64)
    for e in range(m):
        neighbour[fill[tail[e]]], via[fill[tail[e]]] = head[e], e
        fill[tail[e]] += 1
        neighbour[fill[head[e]]], via[fill[head[e]]] = tail[e], e
        fill[head[e]] += 1
    found = np.zeros(m, dtype=np.bool_)
    order = np.full(n_nodes, -1, dtype=np.int64)
    low = np.zeros(n_nodes, dtype=np.int64)
    next_edge = first[:-1].copy()
    stack = np.empty(n_nodes, dtype=np.int64)
    came_by = np.empty(n_nodes, dtype=np.int64)
    clock = 0
    for root in range(n_nodes):
        if order[root] >= 0:
            continue
        order[root] = low[root] = clock
        clock += 1
        stack[0], came_by[0], depth = root, -1, 1
        while depth:
            v = stack[depth - 1]
            if next_edge[v] < first[v + 1]:
                k = next_edge[v]
                next_edge[v] += 1
                w, e = neighbour[k], via[k]
                if e == came_by[depth - 1]:
                    continue
                if order[w] < 0:
                    order[w] = low[w] = clock
                    clock += 1
                    stack[depth], came_by[depth] = w, e
                    depth += 1
                else:
                    low[v] = min(low[v], order[w])
            else:
                depth -= 1
                if depth:
                    parent = stack[depth - 1]
                    low[parent] = min(low[parent], low[v])
                    if low[v] > order[parent]:
                        found[came_by[depth]] = True
    return found


def bridges(n_nodes: int, tail: I64, head: I64) -> B1:
    """Which edges of an undirected graph lie on no cycle (Tarjan, iterative, compiled).

    Parameters
    ----------
    n_nodes
        Nodes are ``0 .. n_nodes - 1``.
    tail, head
        The two ends of each edge (no edge repeated).

    Returns
    -------
    numpy.ndarray
        Per edge, whether it is a bridge.

    Examples
    --------
    >>> import numpy as np
    >>> # a square 0-1-2-3-0 with a tail 3-4: only the tail is a bridge
    >>> bridges(5, np.array([0, 1, 2, 3, 3]), np.array([1, 2, 3, 0, 4])).tolist()
    [False, False, False, False, True]
    """
    return _bridges(n_nodes, tail, head)
