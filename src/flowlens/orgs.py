"""Who does what where: diaspora organisations (``org_id``), where they send, and after which crisis."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["crisis_senders", "organisation_flows", "organisation_graph"]


def _organised(flows: Any, needed: tuple[str, ...]) -> pl.LazyFrame:
    frame = flows.lazy() if isinstance(flows, pl.DataFrame | pl.LazyFrame) else None
    if frame is None:
        msg = f"expected clean flows as a polars DataFrame or LazyFrame, got {type(flows).__name__}"
        raise SchemaError(msg)
    schema = frame.collect_schema()
    for column in (fs.ORG_ID, *needed):
        if column not in schema:
            error = MissingColumnError.for_column(column, schema.names())
            if column == fs.ORG_ID:
                msg = f"{error} Organisations are known only where flows carry an org_id."
                raise MissingColumnError(msg, column=column, present=list(schema.names()))
            raise error
    return frame.filter(pl.col(fs.ORG_ID).is_not_null())


def organisation_flows(flows: Any) -> pl.DataFrame:
    """Organisation x destination x flow type: how much, how many transfers, from when to when.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.orgs import organisation_flows
    >>> flows = pl.DataFrame({"org_id": ["O1", "O1", None], "origin": ["GBR"] * 3,
    ...     "destination": ["SOM", "SOM", "SOM"], "flow_type": ["philanthropy"] * 3,
    ...     "date": [dt.date(2024, 1, 2), dt.date(2024, 1, 9), dt.date(2024, 1, 9)],
    ...     "amount_usd": [100.0, 50.0, 7.0]})
    >>> organisation_flows(flows).select("org_id", "destination", "amount_usd", "n_transfers").rows()
    [('O1', 'SOM', 150.0, 2)]
    """
    frame = _organised(flows, (fs.DESTINATION, fs.FLOW_TYPE, fs.DATE, fs.AMOUNT_USD))
    return (
        frame.group_by(
            fs.ORG_ID,
            pl.col(fs.DESTINATION).cast(pl.String),
            pl.col(fs.FLOW_TYPE).cast(pl.String),
        )
        .agg(
            amount_usd=pl.col(fs.AMOUNT_USD).sum(),
            n_transfers=pl.len().cast(pl.Int64),
            first_date=pl.col(fs.DATE).min(),
            last_date=pl.col(fs.DATE).max(),
        )
        .sort("amount_usd", fs.ORG_ID, descending=[True, False])
        .collect()
    )


def organisation_graph(flows: Any) -> nx.Graph:
    """The bipartite organisation-country graph: ``bipartite=0`` organisations, ``1`` countries.

    Edge ``weight`` is the USD an organisation sent to a country (all flow types).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.orgs import organisation_graph
    >>> flows = pl.DataFrame({"org_id": ["O1", "O2"], "origin": ["GBR", "USA"], "destination": ["SOM", "SOM"],
    ...     "flow_type": ["philanthropy"] * 2, "date": [dt.date(2024, 1, 2)] * 2, "amount_usd": [100.0, 50.0]})
    >>> g = organisation_graph(flows)
    >>> sorted(g.neighbors("SOM")), g["O1"]["SOM"]["weight"]
    (['O1', 'O2'], 100.0)
    """
    import networkx as nx

    table = (
        organisation_flows(flows)
        .group_by(fs.ORG_ID, fs.DESTINATION)
        .agg(pl.col("amount_usd").sum())
    )
    graph = nx.Graph()
    graph.add_nodes_from(table[fs.ORG_ID].unique().to_list(), bipartite=0)
    graph.add_nodes_from(table[fs.DESTINATION].unique().to_list(), bipartite=1)
    graph.add_weighted_edges_from(table.select(fs.ORG_ID, fs.DESTINATION, "amount_usd").iter_rows())
    return graph


def crisis_senders(
    flows: Any, *, country: str, start: dt.date | str, days: int = 30
) -> pl.DataFrame:
    """The organisations that sent to ``country`` in the ``days`` after ``start``: how much, from where, how fast.

    Parameters
    ----------
    country
        Receiving country (ISO3) hit by the crisis.
    start
        The crisis onset (a date or ISO text); the window is ``start`` ..
        ``start + days - 1``.

    Returns
    -------
    polars.DataFrame
        ``org_id``, ``origin``, ``amount_usd``, ``n_transfers``, ``days_to_first``
        (days from the onset to the organisation's first transfer), largest first.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.orgs import crisis_senders
    >>> flows = pl.DataFrame({"org_id": ["O1", "O1", "O2"], "origin": ["GBR", "GBR", "USA"],
    ...     "destination": ["NPL"] * 3, "flow_type": ["philanthropy"] * 3,
    ...     "date": [dt.date(2015, 4, 27), dt.date(2015, 5, 20), dt.date(2015, 7, 1)],
    ...     "amount_usd": [100.0, 50.0, 10.0]})
    >>> crisis_senders(flows, country="NPL", start="2015-04-25").rows()
    [('O1', 'GBR', 150.0, 2, 2)]
    """
    onset = dt.date.fromisoformat(start) if isinstance(start, str) else start
    if days < 1:
        msg = f"days must be >= 1, got {days}"
        raise SchemaError(msg)
    end = onset + dt.timedelta(days=days - 1)
    frame = _organised(flows, (fs.ORIGIN, fs.DESTINATION, fs.DATE, fs.AMOUNT_USD))
    return (
        frame.filter(
            (pl.col(fs.DESTINATION).cast(pl.String) == country)
            & pl.col(fs.DATE).cast(pl.Date).is_between(onset, end)
        )
        .group_by(fs.ORG_ID, pl.col(fs.ORIGIN).cast(pl.String))
        .agg(
            amount_usd=pl.col(fs.AMOUNT_USD).sum(),
            n_transfers=pl.len().cast(pl.Int64),
            days_to_first=(pl.col(fs.DATE).cast(pl.Date).min() - pl.lit(onset)).dt.total_days(),
        )
        .sort("amount_usd", fs.ORG_ID, descending=[True, False])
        .collect()
    )
