"""The cost of sending, per corridor and volume-weighted, against SDG target 10.c.

SDG target 10.c: by 2030, reduce the average cost of sending remittances below 3%
and eliminate corridors that cost more than 5%.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import MissingColumnError

__all__ = ["SDG_10C_AVERAGE_PCT", "SDG_10C_CORRIDOR_MAX_PCT", "corridor_costs", "cost_summary"]

SDG_10C_AVERAGE_PCT = 3.0
"""SDG target 10.c: reduce the average cost of sending remittances below 3% by 2030."""
SDG_10C_CORRIDOR_MAX_PCT = 5.0
"""SDG target 10.c: eliminate remittance corridors costing more than 5%."""

SUMMARY_KEYS = ("weighted_average_pct", "volume_share_above_5pct", "meets_sdg_average")
"""The keys of :func:`cost_summary`, whatever the volume."""


def corridor_costs(edges: pl.DataFrame, *, value: str, rpw: Any = None) -> pl.DataFrame:
    """Cost per corridor from its fees, else the latest Remittance Prices Worldwide quarter.

    Parameters
    ----------
    edges
        A graph's edges: ``origin``, ``destination``, ``value`` and, where fees are
        known, ``cost_pct``.
    value
        The volume column of ``edges``.
    rpw
        Optional RPW costs (``period``, ``origin``, ``destination``, ``cost_pct``),
        any table kind.

    Returns
    -------
    polars.DataFrame
        ``origin``, ``destination``, ``value``, ``cost_pct``, ``cost_source``
        (``fees``, ``rpw`` or null), ``above_5pct``, ``gap_to_3pct``.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.graph._sdg import corridor_costs
    >>> edges = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "amount_usd": [10.0],
    ...                       "cost_pct": [6.0]})
    >>> corridor_costs(edges, value="amount_usd").select("above_5pct", "gap_to_3pct").row(0)
    (True, 3.0)
    """
    table = edges.select(fs.ORIGIN, fs.DESTINATION, value)
    if "cost_pct" in edges.columns:
        table = table.with_columns(cost_pct=edges["cost_pct"], cost_source=pl.lit("fees"))
    else:
        table = table.with_columns(
            cost_pct=pl.lit(None, pl.Float64), cost_source=pl.lit(None, pl.String)
        )
    if rpw is not None:
        table = _with_rpw(table, rpw)
    return table.with_columns(
        cost_source=pl.when(pl.col("cost_pct").is_not_null()).then("cost_source"),
        above_5pct=pl.col("cost_pct") > SDG_10C_CORRIDOR_MAX_PCT,
        # points above the 3% average target; a corridor below it has no gap
        gap_to_3pct=(pl.col("cost_pct") - SDG_10C_AVERAGE_PCT).clip(lower_bound=0.0),
    )


def _with_rpw(table: pl.DataFrame, rpw: Any) -> pl.DataFrame:
    prices = from_any(rpw, what="rpw").eager()
    MissingColumnError.require(prices.columns, fs.PERIOD, fs.ORIGIN, fs.DESTINATION, "cost_pct")
    latest = (
        prices.drop_nulls("cost_pct")
        .sort(fs.PERIOD)
        .group_by(pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String))
        .agg(rpw_cost=pl.col("cost_pct").last())
    )
    return (
        table.join(latest, on=[fs.ORIGIN, fs.DESTINATION], how="left")
        .with_columns(
            cost_source=pl.when(pl.col("cost_pct").is_null() & pl.col("rpw_cost").is_not_null())
            .then(pl.lit("rpw"))
            .otherwise("cost_source"),
            cost_pct=pl.coalesce("cost_pct", "rpw_cost"),
        )
        .drop("rpw_cost")
    )


def cost_summary(costs: pl.DataFrame, *, value: str) -> dict[str, float]:
    """Volume-weighted average cost, the volume share above 5%, and whether the average meets 3%.

    The keys are always :data:`SUMMARY_KEYS`; without priced volume every value is
    NaN (nothing to say), never a missing key.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.graph._sdg import corridor_costs, cost_summary
    >>> edges = pl.DataFrame({"origin": ["USA", "ESP"], "destination": ["MEX", "MEX"],
    ...                       "amount_usd": [30.0, 10.0], "cost_pct": [2.0, 6.0]})
    >>> cost_summary(corridor_costs(edges, value="amount_usd"), value="amount_usd")
    {'weighted_average_pct': 3.0, 'volume_share_above_5pct': 0.25, 'meets_sdg_average': 0.0}
    >>> cost_summary(corridor_costs(edges.clear(), value="amount_usd"), value="amount_usd")
    {'weighted_average_pct': nan, 'volume_share_above_5pct': nan, 'meets_sdg_average': nan}
    """
    priced = costs.drop_nulls("cost_pct")
    volume = float(priced[value].sum())
    if volume == 0:
        return dict.fromkeys(SUMMARY_KEYS, float("nan"))
    average = float((priced["cost_pct"] * priced[value]).sum()) / volume
    above = float(priced.filter(pl.col("above_5pct"))[value].sum()) / volume
    return {
        "weighted_average_pct": round(average, 12),
        "volume_share_above_5pct": round(above, 12),
        "meets_sdg_average": float(average < SDG_10C_AVERAGE_PCT),
    }
