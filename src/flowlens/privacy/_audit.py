"""The attacker's linear programs: how tightly the published tables bound each withheld value.

A reader of a suppressed table knows the published cells and totals, that every
row and column adds up to its total, and that amounts are never negative. For a
withheld value the smallest and largest values consistent with all of that are two
linear programs (the *feasible interval* of statistical disclosure control). This
module solves them with ``scipy.optimize.linprog`` (HiGHS), one pair per withheld
value, on the connected group of withheld values it belongs to (values in other
groups cannot move it, so they are left out and the programs stay small).

The table is the augmented one of :mod:`flowlens.privacy._suppress`: interior cells
and the grand total carry ``+value``, the row and column totals ``-value``, so that
every row and every column sums to zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from flowlens.errors import FlowlensError

__all__ = ["TOTAL", "feasible_intervals"]

TOTAL = -1
"""The index of the totals row and column in the augmented table."""


def feasible_intervals(table: pl.DataFrame) -> pl.DataFrame:
    """Solve min and max of every withheld entry of every slice.

    Parameters
    ----------
    table
        One row per entry of every slice's augmented table: ``_slice``, ``_r``,
        ``_c`` (``TOTAL`` for a margin), ``_value`` (the true value, >= 0) and
        ``_withheld`` (Boolean).

    Returns
    -------
    pl.DataFrame
        ``_slice``, ``_r``, ``_c``, ``_lower``, ``_upper`` for every withheld entry;
        ``_upper`` is ``inf`` when nothing published bounds the value from above.

    Examples
    --------
    >>> import polars as pl
    >>> table = pl.DataFrame({  # a 2 x 2 table: the four cells withheld, the totals published
    ...     "_slice": [1] * 9, "_r": [0, 0, 1, 1, 0, 1, -1, -1, -1], "_c": [0, 1, 0, 1, -1, -1, 0, 1, -1],
    ...     "_value": [5.0, 1.0, 7.0, 3.0, 6.0, 10.0, 12.0, 4.0, 16.0],
    ...     "_withheld": [True, True, True, True, False, False, False, False, False],
    ... })
    >>> out = feasible_intervals(table).sort("_r", "_c")
    >>> out.select("_lower", "_upper").rows()  # x00 + x01 = 6, x00 + x10 = 12, ...
    [(2.0, 6.0), (0.0, 4.0), (6.0, 10.0), (0.0, 4.0)]
    """
    withheld = table.filter("_withheld")
    if withheld.is_empty():
        return pl.DataFrame(
            schema={
                "_slice": pl.Int64,
                "_r": pl.Int64,
                "_c": pl.Int64,
                "_lower": pl.Float64,
                "_upper": pl.Float64,
            }
        )
    equations = _equations(table)
    component = _components(withheld)
    withheld = withheld.with_columns(_component=pl.Series(component, dtype=pl.Int64))
    lower = np.empty(withheld.height)
    upper = np.empty(withheld.height)
    for _, group in withheld.with_row_index("_at").group_by("_component", maintain_order=True):
        low, high = _solve_group(group, equations)
        at = group["_at"].to_numpy()
        lower[at], upper[at] = low, high
    return withheld.select("_slice", "_r", "_c").with_columns(
        _lower=pl.Series(lower), _upper=pl.Series(upper)
    )


def _sign() -> pl.Expr:
    margin = (pl.col("_r") == TOTAL) ^ (pl.col("_c") == TOTAL)
    return pl.when(margin).then(-1.0).otherwise(1.0)


def _equations(table: pl.DataFrame) -> dict[tuple[int, str, int], float]:
    """Right-hand side of each line's equation: minus the signed sum of its published entries."""
    signed = table.with_columns(
        _signed=pl.when("_withheld").then(0.0).otherwise(_sign() * pl.col("_value"))
    )
    rows = signed.group_by("_slice", "_r").agg(pl.col("_signed").sum())
    columns = signed.group_by("_slice", "_c").agg(pl.col("_signed").sum())
    found: dict[tuple[int, str, int], float] = {}
    for s, r, v in rows.iter_rows():
        found[(s, "r", r)] = -v
    for s, c, v in columns.iter_rows():
        found[(s, "c", c)] = -v
    return found


def _components(withheld: pl.DataFrame) -> Any:
    """Connected component of each withheld entry (rows and columns as nodes, entries as edges)."""
    from scipy.sparse import coo_array  # not at import time: `import flowlens` stays light
    from scipy.sparse.csgraph import connected_components

    nodes = withheld.select(
        _row=pl.struct("_slice", "_r").rank("dense") - 1,
        _column=pl.struct("_slice", "_c").rank("dense") - 1,
    )
    row = nodes["_row"].to_numpy().astype(np.int64)
    n_rows = int(row.max()) + 1
    column = nodes["_column"].to_numpy().astype(np.int64) + n_rows
    size = int(column.max()) + 1
    graph = coo_array((np.ones(row.size), (row, column)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return labels[row]


def _solve_group(
    group: pl.DataFrame, equations: dict[tuple[int, str, int], float]
) -> tuple[Any, Any]:
    """Min and max of each entry of one connected group of withheld entries."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_array

    group = group.with_columns(_s=_sign())
    slices = group["_slice"].to_list()
    lines = sorted(
        {(s, "r", r) for s, r in zip(slices, group["_r"].to_list(), strict=True)}
        | {(s, "c", c) for s, c in zip(slices, group["_c"].to_list(), strict=True)}
    )
    where = {line: i for i, line in enumerate(lines)}
    n = group.height
    sign = group["_s"].to_numpy()
    row_of = [where[(s, "r", r)] for s, r in zip(slices, group["_r"].to_list(), strict=True)]
    column_of = [where[(s, "c", c)] for s, c in zip(slices, group["_c"].to_list(), strict=True)]
    a_eq = coo_array(
        (np.concatenate([sign, sign]), (np.array(row_of + column_of), np.tile(np.arange(n), 2))),
        shape=(len(lines), n),
    ).tocsr()
    values = group["_value"].to_numpy()
    scale = max(
        float(np.abs(values).max()), float(np.abs([equations[k] for k in lines]).max()), 1.0
    )
    b_eq = np.array([equations[k] for k in lines]) / scale
    lower, upper = np.empty(n), np.empty(n)
    for j in range(n):
        objective = np.zeros(n)
        objective[j] = 1.0
        lower[j] = _bound(
            linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        )
        found = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        upper[j] = np.inf if found.status == 3 else -_bound(found)
    return lower * scale, upper * scale


def _bound(result: Any) -> float:
    if result.status != 0:
        msg = f"internal error: the disclosure audit's linear program failed ({result.message})"
        raise FlowlensError(msg)
    return float(result.fun)
