"""The corridor graph over time: a graph per period, changes per corridor, inflows in context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import check_span, checked_panel, checked_table, input_errors
from flowlens.errors import MissingColumnError
from flowlens.graph._graph import CorridorGraph, build_graph

__all__ = ["corridor_changes", "graphs_by_period", "inflow_context"]


@input_errors("graphs_by_period")
def graphs_by_period(
    panel: Any,
    *,
    value: str = fs.AMOUNT_USD,
    flow_type: str | Sequence[str] | None = None,
    freq: str | None = None,
) -> dict[dt.date, CorridorGraph]:
    """One :class:`CorridorGraph` per ``period`` of the panel, in period order.

    Parameters
    ----------
    panel
        A corridor panel with ``period``, ``origin``, ``destination`` and
        ``value``; any table kind (a LazyFrame is collected here, once).
    value, flow_type
        As in :meth:`CorridorGraph.from_panel`.
    freq
        The panel's frequency, checked against its periods; None (the default)
        reads it from them. Every graph's ``spec`` is the whole panel's.

    Returns
    -------
    dict
        Period start -> graph (empty for an empty panel).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.graph import graphs_by_period
    >>> panel = pl.DataFrame({"period": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
    ...                       "origin": ["USA", "USA"], "destination": ["MEX", "MEX"],
    ...                       "amount_usd": [1.0, 2.0]})
    >>> graphs = graphs_by_period(panel)
    >>> {p: g.edges["amount_usd"].item() for p, g in graphs.items()}
    {datetime.date(2024, 1, 1): 1.0, datetime.date(2024, 2, 1): 2.0}
    >>> graphs[dt.date(2024, 2, 1)].spec.freq
    '1mo'
    """
    frame = from_any(panel, what="graphs_by_period's panel").eager()
    MissingColumnError.require(frame.columns, fs.PERIOD, fs.ORIGIN, fs.DESTINATION, value)
    what = "graphs_by_period's panel"
    checked_table(frame, what=what, texts=[fs.ORIGIN, fs.DESTINATION, fs.FLOW_TYPE])
    checked_table(frame, what=what, values=[fs.N_TRANSFERS, fs.FEE_USD])
    spec = checked_panel(frame, freq=freq, value=value, what=what, guess=True)
    frame = frame.with_columns(pl.col(fs.PERIOD).cast(pl.Date))
    # one split of the panel; each part becomes its (small) graph
    parts = frame.sort(fs.PERIOD).partition_by(fs.PERIOD, maintain_order=True)
    graphs: dict[dt.date, CorridorGraph] = {}
    for part in parts:  # one small graph per period
        start = part[fs.PERIOD][0]
        graphs[start] = build_graph(
            part.lazy(), value=value, spec=spec, period=(start, start), flow_type=flow_type
        )
    return graphs


@input_errors("corridor_changes")
def corridor_changes(panel: Any, *, value: str = fs.AMOUNT_USD, freq: str | None = None) -> Any:
    """Change over time per corridor: growth from the previous period, and corridors that appear or vanish.

    Every corridor is laid on every period from the panel's first to its last
    (a missing period is a zero), so a corridor that stops is reported as
    ``vanished`` in the first period without flows.

    Parameters
    ----------
    panel
        ``period``, ``origin``, ``destination`` and ``value``; any table kind.
    value
        The volume column (default ``amount_usd``).
    freq
        The panel's frequency, checked against its periods; None (the default)
        reads it from them. It sets the periods of the grid.

    Returns
    -------
    The kind of table that came in (lazy in, lazy out)
        ``period``, ``origin``, ``destination``, ``value``, ``previous_usd``
        (the previous period's ``value``), ``growth`` (value / previous - 1;
        null without a previous volume) and ``status``: ``new``, ``vanished``,
        ``continuing`` or ``absent``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.graph import corridor_changes
    >>> d1, d2 = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    >>> panel = pl.DataFrame({"period": [d1, d2, d1], "origin": ["USA", "USA", "ESP"],
    ...                       "destination": ["MEX", "MEX", "MEX"], "amount_usd": [100.0, 150.0, 5.0]})
    >>> corridor_changes(panel).filter(period=d2).select("origin", "growth", "status").rows()
    [('ESP', -1.0, 'vanished'), ('USA', 0.5, 'continuing')]
    """
    source = from_any(panel, what="corridor_changes' panel")
    frame = source.lazy()
    MissingColumnError.require(
        frame.collect_schema().names(), fs.PERIOD, fs.ORIGIN, fs.DESTINATION, value
    )
    what = "corridor_changes' panel"
    checked_table(frame, what=what, texts=[fs.ORIGIN, fs.DESTINATION])
    spec = checked_panel(frame, freq=freq, value=value, what=what, guess=True)
    keys = [fs.ORIGIN, fs.DESTINATION]
    volumes = (
        frame.filter(pl.col(fs.ORIGIN).is_not_null() & pl.col(fs.DESTINATION).is_not_null())
        .group_by(
            pl.col(fs.PERIOD).cast(pl.Date),
            pl.col(fs.ORIGIN).cast(pl.String),
            pl.col(fs.DESTINATION).cast(pl.String),
        )
        .agg(pl.col(value).sum())
    )
    first, last = pl.col(fs.PERIOD).min(), pl.col(fs.PERIOD).max()
    periods = volumes.select(pl.date_range(first, last, interval=spec.freq).alias(fs.PERIOD))
    if spec.n_periods == 0:  # nothing to lay a grid on
        periods = volumes.select(fs.PERIOD)
    else:  # the grid is corridors x periods: bounded, as detect_surges' array is
        span = volumes.select(
            n=pl.struct(keys).n_unique(), first=first.cast(pl.Date), last=last.cast(pl.Date)
        ).collect()
        n, start, end = span.row(0)
        n_periods = pl.date_range(start, end, interval=spec.freq, eager=True).len()
        check_span(n, n_periods, start, end, what=what)
    grid = volumes.select(keys).unique().join(periods, how="cross")
    return source.back(_changes(grid, volumes, value))


def _changes(grid: pl.LazyFrame, volumes: pl.LazyFrame, value: str) -> pl.LazyFrame:
    keys = [fs.ORIGIN, fs.DESTINATION]
    amount = pl.col(value)
    previous = pl.col("previous_usd")
    return (
        grid.join(volumes, on=[fs.PERIOD, *keys], how="left")
        .with_columns(amount.fill_null(0.0))
        .with_columns(previous_usd=amount.shift(1).over(keys, order_by=fs.PERIOD))
        .with_columns(
            growth=pl.when(previous > 0).then(amount / previous - 1),
            status=pl.when(previous.is_null() | (previous == 0))
            .then(pl.when(amount > 0).then(pl.lit("new")).otherwise(pl.lit("absent")))
            .otherwise(
                pl.when(amount > 0).then(pl.lit("continuing")).otherwise(pl.lit("vanished"))
            ),
        )
        .select(fs.PERIOD, *keys, value, "previous_usd", "growth", "status")
        .sort(fs.PERIOD, *keys)
    )


HUMANITARIAN_FUNDING = "total_funding_usd"
"""The column :func:`inflow_context` sets inflows against by default: humanitarian funding
per country and year recorded by OCHA's Financial Tracking Service, inside and outside
appeals (:func:`flowlens.read_ocha_fts`)."""


@input_errors("inflow_context")
def inflow_context(  # long: its docstring; the body is the series' checks and one join
    panel: Any,
    series: Any = None,
    *,
    against: str = HUMANITARIAN_FUNDING,
    value: str = fs.AMOUNT_USD,
) -> Any:
    """Inflows per receiving country and year against another series, by default humanitarian funding.

    By default the inflows are set against the humanitarian funding that OCHA's
    Financial Tracking Service records per country and year (the packaged FTS
    table, ``fl.load_sample("ocha_fts")``): the comparison behind the finding
    that remittances dwarf humanitarian funding. The World Bank puts
    remittances to low- and middle-income countries at about USD 656bn in 2023,
    against about USD 43bn of international humanitarian assistance; country by
    country the ratio varies, and in the year of a great disaster humanitarian
    funding can exceed remittances (Haiti 2010: about 0.4).

    Parameters
    ----------
    panel
        A corridor panel (``period``, ``destination``, ``value``); country totals
        with a null origin count too. Any table kind.
    series
        The comparison: ``country`` (ISO3), ``year`` and the column named by
        ``against``, any table kind, or the result of
        :func:`flowlens.read_ocha_fts`. None (the default): the packaged FTS
        table, built from the HDX file of OCHA FTS requirements and funding by
        country, plan and year (1999-2031; provenance in
        ``data/samples/real/PROVENANCE.md``).
    against
        The column of ``series`` to set the inflows against. Default
        ``total_funding_usd``: FTS funding to the country in the year, to appeals
        and plans and outside them; ``funding_usd`` counts only funding to
        appeals and plans, ``requirements_usd`` what they asked for.
    value
        The panel's volume column (default ``amount_usd``).

    Returns
    -------
    The kind of table ``panel`` came as
        ``country``, ``year``, ``inflow_usd`` (the sum of ``value``; null when
        every value of the country-year is null, as KNOMAD's missing years), the
        ``against`` column, and ``ratio`` (inflows / against; null where
        ``against`` is zero or negative, as FTS's Anguilla 2017), for the
        country-years in both (a country-year that FTS does not record is not
        in the result).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.graph import inflow_context
    >>> panel = pl.DataFrame({"period": [dt.date(2023, 1, 1)], "origin": [None], "destination": ["HTI"],
    ...                       "amount_usd": [4.0e9]})
    >>> aid = pl.DataFrame({"country": ["HTI"], "year": [2023], "humanitarian_usd": [0.5e9]})
    >>> inflow_context(panel, aid, against="humanitarian_usd")["ratio"].item()
    8.0

    Against OCHA FTS humanitarian funding (the default):

    >>> fts = inflow_context(panel)
    >>> fts.columns
    ['country', 'year', 'inflow_usd', 'total_funding_usd', 'ratio']
    >>> round(fts["total_funding_usd"].item() / 1e6, 1)  # HTI 2023: 248.0 to the plan, 113.1 outside
    361.1
    """
    from flowlens.official_series import HumanitarianFunding
    from flowlens.official_series._fts import _bundled_fts

    source = from_any(panel, what="inflow_context's panel")
    frame = source.lazy()
    MissingColumnError.require(frame.collect_schema().names(), fs.PERIOD, fs.DESTINATION, value)
    if series is None:
        series = _bundled_fts()
    elif isinstance(series, HumanitarianFunding):
        series = series.country_year
    context = from_any(series, what="inflow_context's series").lazy()
    MissingColumnError.require(context.collect_schema().names(), "country", "year", against)
    checked_table(frame, what="inflow_context's panel", values=[value], texts=[fs.DESTINATION])
    checked_table(frame, what="inflow_context's panel", dates=[fs.PERIOD])
    checked_table(context, what="inflow_context's series", values=[against], texts=["country"])
    inflows = (
        frame.filter(pl.col(fs.DESTINATION).is_not_null())
        .group_by(
            country=pl.col(fs.DESTINATION).cast(pl.String),
            year=pl.col(fs.PERIOD).dt.year().cast(pl.Int64),
        )
        # missing (null) inflows stay missing: a sum of nothing is not a zero
        .agg(inflow_usd=pl.when(pl.col(value).count() > 0).then(pl.col(value).sum()))
    )
    context = context.select(
        pl.col("country").cast(pl.String), pl.col("year").cast(pl.Int64), against
    )
    result = (
        inflows.join(context, on=["country", "year"], how="inner")
        # no ratio to nothing: a zero (or a negative correction) in the series is not a scale
        .with_columns(
            ratio=pl.when(pl.col(against) > 0).then(pl.col("inflow_usd") / pl.col(against))
        )
        .sort("country", "year")
    )
    return source.back(result)
