"""Iterative proportional fitting (RAS) of a bilateral matrix to its row and column totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import input_errors
from flowlens.bilateral._common import KEYS, codes, table
from flowlens.errors import ParameterError

__all__ = ["RasResult", "ras"]


@dataclass(frozen=True)
class RasResult:
    """A matrix fitted to both margins, how well it fits, and the cells that moved most.

    Attributes
    ----------
    flows
        ``origin``, ``destination``, ``prior`` and ``value`` (fitted), the kind of
        table the prior came as.
    fit
        One row: ``iterations``, ``converged``, ``max_row_gap`` and
        ``max_column_gap`` (largest relative distance of a fitted margin from its
        target, over the margins that can be met), ``row_scale`` (the factor applied
        to the row totals to match the column totals' sum; 1.0 unless every row
        and column total was given and their sums differed).
    unmet
        Margins that cannot be met (a target > 0 on a row or column whose prior is
        all zero), or are still off after ``max_iter``: ``side`` (``origin`` or
        ``destination``), ``country``, ``target``, ``fitted``.
    moved
        The cells that moved most: ``origin``, ``destination``, ``prior``,
        ``value``, ``change`` (value - prior) and ``ratio`` (value / prior), largest
        absolute change first (the first ``top``).

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> prior = pl.DataFrame({"origin": ["USA", "ESP"], "destination": ["MEX", "MEX"],
    ...                       "amount_usd": [1.0, 1.0]})
    >>> fitted = fl.ras(prior, column_totals=pl.DataFrame({"destination": ["MEX"],
    ...                                                    "amount_usd": [4.0]}))
    >>> fitted.flows["amount_usd"].to_list(), fitted.fit["converged"].item()
    ([2.0, 2.0], True)
    """

    flows: Any
    fit: pl.DataFrame
    unmet: pl.DataFrame
    moved: pl.DataFrame

    def __repr__(self) -> str:
        row = self.fit.row(0, named=True)
        return (
            f"RasResult(iterations={row['iterations']}, converged={row['converged']}, "
            f"max_row_gap={row['max_row_gap']:.2e}, max_column_gap={row['max_column_gap']:.2e}, "
            f"unmet={self.unmet.height})"
        )


def _targets(frame: pl.DataFrame, key: str, index: pl.DataFrame, n: int) -> np.ndarray:
    """Targets aligned to ``index`` (NaN where none is given)."""
    out = np.full(n, np.nan)
    joined = index.join(frame, on=key, how="inner")
    out[joined["i"].to_numpy()] = joined["target"].to_numpy()
    return out


@input_errors("ras")
def ras(  # long: the fitting loop, its report and the cells that moved, in one pass
    prior: Any,
    *,
    row_totals: Any = None,
    column_totals: Any = None,
    value: str = fs.AMOUNT_USD,
    tol: float = 1e-9,
    max_iter: int = 1000,
    top: int = 20,
) -> RasResult:
    """Fit a bilateral matrix to sending (row) and receiving (column) totals by RAS.

    Iterative proportional fitting (biproportional scaling, "RAS"): each origin's
    cells are scaled to its row total, then each destination's to its column
    total, until both hold. A margin with no target is left free. The fitted matrix
    is the one closest to the prior (in the Kullback-Leibler sense) that meets both
    margins: the prior's pattern within the margins is kept, as migest's ``ipf2``
    does for migration flows.

    Parameters
    ----------
    prior
        ``origin``, ``destination``, ``value``: the prior matrix (for example an
        allocation by migrant stock). Zeros stay zero.
    row_totals
        ``origin``, ``value``: sending countries' outflow totals (e.g. KNOMAD's
        outflows of the year). Countries not listed are left free.
    column_totals
        ``destination``, ``value``: receiving countries' inflow totals.
    value
        The amount column of all three tables (default ``amount_usd``).
    tol
        Stop when every margin that can be met is is within ``tol`` (relative) of its target.
    max_iter
        At most this many row-and-column sweeps.
    top
        How many cells :attr:`RasResult.moved` lists.

    Returns
    -------
    RasResult
        ``flows`` (the kind the prior came as), ``fit``, ``unmet`` and ``moved``.

    Raises
    ------
    ParameterError
        Neither total given, ``tol`` not > 0, ``max_iter`` or ``top`` < 1.
    SchemaError
        A null key, or a NaN, infinite or negative amount.

    References
    ----------
    .. [1] M. Bacharach, *Biproportional Matrices and Input-Output Change*,
       Cambridge University Press, 1970.
    .. [2] G. J. Abel, migest: ``ipf2`` (R package), https://guyabel.github.io/migest/.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.bilateral import ras
    >>> prior = pl.DataFrame({"origin": ["USA", "USA", "ESP", "ESP"],
    ...                       "destination": ["MEX", "COL", "MEX", "COL"],
    ...                       "amount_usd": [1.0, 1.0, 1.0, 1.0]})
    >>> rows = pl.DataFrame({"origin": ["USA", "ESP"], "amount_usd": [3.0, 1.0]})
    >>> cols = pl.DataFrame({"destination": ["MEX", "COL"], "amount_usd": [2.0, 2.0]})
    >>> fitted = ras(prior, row_totals=rows, column_totals=cols)
    >>> fitted.flows.sort("origin", "destination")["amount_usd"].round(6).to_list()
    [0.5, 0.5, 1.5, 1.5]
    >>> fitted.fit["converged"].item()
    True
    """
    if row_totals is None and column_totals is None:
        msg = "ras needs row_totals=<table> or column_totals=<table> (or both)"
        raise ParameterError(msg)
    if not tol > 0 or max_iter < 1 or top < 1:
        msg = (
            f"tol={tol}, max_iter={max_iter}, top={top}: expected tol > 0, max_iter >= 1, top >= 1"
        )
        raise ParameterError(msg)
    source = from_any(prior, what="prior")
    cells = (
        codes(table(source.frame, "prior", *KEYS, value), *KEYS)
        .group_by(*KEYS)
        .agg(prior=pl.col(value).sum().cast(pl.Float64))
    )
    rows_in = _margin(row_totals, fs.ORIGIN, "row_totals", value)
    cols_in = _margin(column_totals, fs.DESTINATION, "column_totals", value)
    origins = _index(cells, rows_in, fs.ORIGIN)
    destinations = _index(cells, cols_in, fs.DESTINATION)
    at = cells.join(origins, on=fs.ORIGIN).join(destinations.rename({"i": "j"}), on=fs.DESTINATION)
    i, j = at["i"].to_numpy(), at["j"].to_numpy()
    matrix = np.zeros((origins.height, destinations.height))
    matrix[i, j] = at["prior"].to_numpy()
    r = _targets(rows_in, fs.ORIGIN, origins, origins.height)
    c = _targets(cols_in, fs.DESTINATION, destinations, destinations.height)
    row_scale = 1.0
    if not np.isnan(r).any() and not np.isnan(c).any() and r.sum() > 0:
        row_scale = float(c.sum() / r.sum())
        r = r * row_scale
    fitted, iterations, converged, gaps = _fit(matrix, r, c, tol, max_iter)
    out = at.with_columns(value=pl.Series(fitted[i, j]))
    unmet = pl.concat(
        [
            _unmet(fitted.sum(axis=1), r, origins, fs.ORIGIN, tol),
            _unmet(fitted.sum(axis=0), c, destinations, fs.DESTINATION, tol),
        ]
    )
    moved = (
        out.with_columns(change=pl.col("value") - pl.col("prior"))
        .with_columns(ratio=pl.col("value") / pl.col("prior"))
        .sort(pl.col("change").abs(), *KEYS, descending=[True, False, False])
        .head(top)
        .select(*KEYS, "prior", "value", "change", "ratio")
        .rename({"value": value})
    )
    fit = pl.DataFrame(
        {
            "iterations": [iterations],
            "converged": [converged],
            "max_row_gap": [gaps[0]],
            "max_column_gap": [gaps[1]],
            "row_scale": [row_scale],
        }
    )
    flows = out.select(*KEYS, "prior", pl.col("value").alias(value)).sort(*KEYS)
    return RasResult(flows=source.back(flows), fit=fit, unmet=unmet, moved=moved)


def _margin(frame: Any, key: str, what: str, value: str) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema={key: pl.String, "target": pl.Float64})
    checked = codes(table(frame, what, key, value), key)
    return checked.group_by(key).agg(target=pl.col(value).sum().cast(pl.Float64))


def _index(cells: pl.DataFrame, margin: pl.DataFrame, key: str) -> pl.DataFrame:
    names = pl.concat([cells.select(key), margin.select(key)]).unique().sort(key)
    return names.with_row_index("i").with_columns(pl.col("i").cast(pl.Int64))


def _fit(
    matrix: np.ndarray, r: np.ndarray, c: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int, bool, tuple[float, float]]:
    """Alternate row and column scaling; margins without a target or support stay free."""
    fitted = matrix.copy()
    rows = ~np.isnan(r) & (matrix.sum(axis=1) > 0)
    cols = ~np.isnan(c) & (matrix.sum(axis=0) > 0)
    gaps = (0.0, 0.0)
    for iteration in range(1, max_iter + 1):
        fitted[rows] *= (r[rows] / fitted[rows].sum(axis=1))[:, None]
        fitted[:, cols] *= c[cols] / fitted[:, cols].sum(axis=0)
        gaps = (_gap(fitted.sum(axis=1), r, rows), _gap(fitted.sum(axis=0), c, cols))
        if max(gaps) <= tol:
            return fitted, iteration, True, gaps
    return fitted, max_iter, False, gaps


def _gap(fitted: np.ndarray, target: np.ndarray, where: np.ndarray) -> float:
    if not where.any():
        return 0.0
    t = target[where]
    return float(np.max(np.abs(fitted[where] - t) / np.where(t > 0, t, 1.0)))


def _unmet(
    fitted: np.ndarray, target: np.ndarray, index: pl.DataFrame, side: str, tol: float
) -> pl.DataFrame:
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.abs(fitted - target) > tol * np.where(target > 0, target, 1.0)
    off &= ~np.isnan(target)
    at = np.flatnonzero(off)
    return pl.DataFrame(
        {
            "side": [side] * at.size,
            "country": index[side].gather(at).to_list(),
            "target": target[at],
            "fitted": fitted[at],
        },
        schema={
            "side": pl.String,
            "country": pl.String,
            "target": pl.Float64,
            "fitted": pl.Float64,
        },
    )
