"""Who does what where: diaspora organisations (``org_id``), where they send, and after which crisis."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import Frame, from_any
from flowlens._panelspec import LATEST, checked_table, country_codes, input_errors, require_present
from flowlens.errors import MissingColumnError, ParameterError
from flowlens.freq import as_date

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["crisis_senders", "organisation_flows", "organisation_graph"]


def _organised(flows: Any, needed: tuple[str, ...], what: str) -> tuple[Frame, pl.LazyFrame]:
    source = from_any(flows, what=what)
    frame = source.lazy()
    names = frame.collect_schema().names()
    if fs.ORG_ID not in names:
        error = MissingColumnError.for_column(fs.ORG_ID, names)
        msg = f"{error} Organisations are known only where flows carry an org_id."
        raise MissingColumnError(msg, column=fs.ORG_ID, present=names)
    MissingColumnError.require(names, *needed)
    value = needed[-1]
    keys = [c for c in (fs.ORIGIN, fs.DESTINATION, fs.FLOW_TYPE) if c in needed]
    checked_table(frame, what=what, texts=[fs.ORG_ID], keys=keys, dates=[fs.DATE])
    checked_table(frame, what=what, values=[value])
    return source, frame.filter(pl.col(fs.ORG_ID).is_not_null())


@input_errors("organisation_flows")
def organisation_flows(flows: Any, *, value: str = fs.AMOUNT_USD) -> Any:
    """Organisation x destination x flow type: how much, how many transfers, from when to when.

    Parameters
    ----------
    flows
        Clean flows with ``org_id``, ``destination``, ``flow_type``, ``date`` and
        ``value``; any table kind. Rows without an organisation are left out.
    value
        The amount column (default ``amount_usd``); the result sums it under the
        same name.

    Returns
    -------
    The kind of table that came in (lazy in, lazy out)
        ``org_id``, ``destination``, ``flow_type``, ``value``, ``n_transfers``,
        ``first_date``, ``last_date``, largest first.

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
    needed = (fs.DESTINATION, fs.FLOW_TYPE, fs.DATE, value)
    source, frame = _organised(flows, needed, "organisation_flows' flows")
    return source.back(_by_organisation(frame, value))


def _by_organisation(frame: pl.LazyFrame, value: str) -> pl.LazyFrame:
    keys = (fs.ORG_ID, fs.DESTINATION, fs.FLOW_TYPE)
    return (
        frame.group_by(*(pl.col(k).cast(pl.String) for k in keys))
        .agg(
            pl.col(value).sum(),
            n_transfers=pl.len().cast(pl.Int64),
            first_date=pl.col(fs.DATE).min(),
            last_date=pl.col(fs.DATE).max(),
        )
        .sort(value, *keys, descending=[True, False, False, False])
    )


@input_errors("organisation_graph")
def organisation_graph(flows: Any, *, value: str = fs.AMOUNT_USD) -> nx.Graph:
    """The bipartite organisation-country graph: ``bipartite=0`` organisations, ``1`` countries.

    Edge ``weight`` is the ``value`` (USD by default) an organisation sent to a
    country, all flow types together. ``flows`` may be any table kind.

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

    needed = (fs.DESTINATION, fs.FLOW_TYPE, fs.DATE, value)
    _, frame = _organised(flows, needed, "organisation_graph's flows")
    table = (
        _by_organisation(frame, value)
        .group_by(fs.ORG_ID, fs.DESTINATION)
        .agg(pl.col(value).sum())
        .sort(fs.ORG_ID, fs.DESTINATION)
        .collect()
    )
    graph = nx.Graph()
    graph.add_nodes_from(table[fs.ORG_ID].unique(maintain_order=True).to_list(), bipartite=0)
    graph.add_nodes_from(table[fs.DESTINATION].unique().sort().to_list(), bipartite=1)
    graph.add_weighted_edges_from(table.select(fs.ORG_ID, fs.DESTINATION, value).iter_rows())
    return graph


@input_errors("crisis_senders")
def crisis_senders(
    flows: Any, *, country: str, start: dt.date | str, days: int = 30, value: str = fs.AMOUNT_USD
) -> Any:
    """The organisations that sent to ``country`` in the ``days`` after ``start``: how much, from where, how fast.

    Parameters
    ----------
    flows
        Clean flows with ``org_id``, ``origin``, ``destination``, ``date`` and
        ``value``; any table kind.
    country
        Receiving country hit by the crisis: ISO3, ISO2 or a name, normalised like
        the data. An unknown country, or one the flows never send to, raises
        :class:`flowlens.errors.ParameterError` (the one query run before the
        result, which stays lazy for lazy flows).
    start
        The crisis onset (a date or ISO text); the window is ``start`` ..
        ``start + days - 1``.
    days
        The window's length in days (a positive whole number).
    value
        The amount column (default ``amount_usd``).

    Returns
    -------
    The kind of table that came in (lazy in, lazy out)
        ``org_id``, ``origin``, ``value``, ``n_transfers``, ``days_to_first``
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
    onset = as_date(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        msg = f"days must be a whole number of days >= 1, got {days!r}"
        raise ParameterError(msg)
    if not isinstance(country, str) or not country.strip():
        msg = f"country must be a receiving country's ISO3 code, got {country!r}"
        raise ParameterError(msg)
    (country,) = country_codes(country, "crisis_senders' country")  # "Nepal" -> "NPL"
    if days - 1 > (LATEST - onset).days:
        msg = f"days={days} runs the window past {LATEST}; give a window of a plausible length"
        raise ParameterError(msg)
    end = onset + dt.timedelta(days=days - 1)
    needed = (fs.ORIGIN, fs.DESTINATION, fs.DATE, value)
    source, frame = _organised(flows, needed, "crisis_senders' flows")
    destinations = frame.select(pl.col(fs.DESTINATION).cast(pl.String).unique()).collect()
    require_present(
        [country],
        destinations.to_series(),
        what="crisis_senders' country",
        where="the flows' receiving countries",
    )
    day = pl.col(fs.DATE).cast(pl.Date)
    result = (
        frame.filter(
            (pl.col(fs.DESTINATION).cast(pl.String) == country.strip().upper())
            & day.is_between(onset, end)
        )
        .group_by(pl.col(fs.ORG_ID).cast(pl.String), pl.col(fs.ORIGIN).cast(pl.String))
        .agg(
            pl.col(value).sum(),
            n_transfers=pl.len().cast(pl.Int64),
            days_to_first=(day.min() - pl.lit(onset)).dt.total_days(),
        )
        .sort(value, fs.ORG_ID, fs.ORIGIN, descending=[True, False, False])
    )
    return source.back(result)
