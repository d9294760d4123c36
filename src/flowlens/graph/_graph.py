"""The corridor graph: who sends how much to whom, and how exposed each receiving country is.

Aggregates are polars over the corridor panel; graph algorithms (PageRank,
betweenness, communities) are networkx and scipy, imported only when asked for.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import (
    PanelSpec,
    checked_panel,
    checked_table,
    country_codes,
    input_errors,
    require_present,
)
from flowlens.errors import MissingColumnError, ParameterError, SchemaError, closest
from flowlens.freq import as_date, period_expr
from flowlens.graph._centrality import centrality_table
from flowlens.graph._sdg import corridor_costs, cost_summary
from flowlens.reference import countries

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["CorridorGraph", "build_graph", "select_flow_types"]

_WHAT = "CorridorGraph.from_panel's panel"


@dataclass(frozen=True, repr=False, eq=False)
class CorridorGraph:
    """Corridors as a directed graph: sending country -> receiving country, weighted by volume.

    Build it with :meth:`from_panel`. The object is immutable; every measure is a
    method that returns a new polars DataFrame.

    Attributes
    ----------
    edges
        One row per corridor with a positive volume: ``origin``, ``destination``,
        the ``value`` column (summed over periods and flow types),
        ``n_transfers``, ``fee_usd`` and ``cost_pct`` where fees are known,
        ``informal_share`` where channels are known, and per flow type
        ``<value>_<type>`` (and ``n_transfers_<type>``, ``cost_pct_<type>``
        where known). Largest first.
    nodes
        One row per country on either end: ``country``, ``name``, ``region``,
        ``in_usd``, ``out_usd`` (sums of ``value``).
    value
        The volume column the graph was built from (``amount_usd`` by default).
    spec
        The panel's :class:`~flowlens.PanelSpec` (frequency, value, keys) as read
        when the graph was built; None for a table without a ``period`` column.
    period
        The ``(first, last)`` periods selected, or None for every period.
    flow_type
        The flow types selected, or None for all.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens import CorridorGraph
    >>> panel = pl.DataFrame({
    ...     "period": [dt.date(2024, 1, 1)] * 3,
    ...     "origin": ["USA", "USA", "ESP"],
    ...     "destination": ["MEX", "GTM", "MEX"],
    ...     "flow_type": ["remittance"] * 3,
    ...     "amount_usd": [90.0, 30.0, 10.0],
    ... })
    >>> g = CorridorGraph.from_panel(panel)
    >>> g.concentration().select("destination", "hhi", "top_origin", "top_share").rows()
    [('GTM', 1.0, 'USA', 1.0), ('MEX', 0.82, 'USA', 0.9)]
    >>> g.spec.freq, g.value
    ('1y', 'amount_usd')
    """

    edges: pl.DataFrame
    nodes: pl.DataFrame
    value: str = fs.AMOUNT_USD
    spec: PanelSpec | None = None
    period: tuple[dt.date, dt.date] | None = None
    flow_type: tuple[str, ...] | None = None

    # --- construction -------------------------------------------------------------

    @classmethod
    @input_errors("CorridorGraph.from_panel")
    def from_panel(
        cls,
        panel: Any,
        *,
        period: Any = None,
        flow_type: str | Sequence[str] | None = None,
        value: str = fs.AMOUNT_USD,
        freq: str | None = None,
    ) -> CorridorGraph:
        """Build the graph from a corridor panel (or clean flows: anything with the panel's keys).

        Parameters
        ----------
        panel
            A polars DataFrame or LazyFrame, pandas DataFrame, pyarrow Table or
            Arrow stream with ``origin``, ``destination``, ``value``, and
            optionally ``period``, ``flow_type``, ``n_transfers``, ``fee_usd``
            and ``channel``: the output of :func:`flowlens.corridor_panel` or of
            an official reader. Rows with a null origin or destination (country
            totals) are left out. A LazyFrame is collected here, once.
        period
            None for every period; one period (a date or ISO text, the start of
            a period of the panel); or a ``(first, last)`` pair for an inclusive
            range.
        flow_type
            Keep only this flow type, or these (default: all).
        value
            The volume column (default ``amount_usd``).
        freq
            The panel's frequency, checked against its periods; None (the
            default) reads it from them.

        Raises
        ------
        MissingColumnError
            ``origin``, ``destination`` or ``value`` is missing; or ``period`` /
            ``flow_type`` when they are selected on.
        ParameterError
            ``period`` is not a period of the panel, ``flow_type`` is not a flow
            type, or ``freq`` contradicts the periods.

        Examples
        --------
        >>> import flowlens as fl
        >>> report = fl.load_flows(fl.load_sample("flows"))
        >>> panel = fl.corridor_panel(report, by=("flow_type", "channel"), stats=("sum", "count", "fees"))
        >>> g = fl.CorridorGraph.from_panel(panel, flow_type="remittance")
        >>> g.top_corridors(1)["origin"].item(), g.top_corridors(1)["destination"].item()
        ('USA', 'MEX')
        >>> fl.CorridorGraph.from_panel(panel, period="1999-01-01")
        Traceback (most recent call last):
        ...
        flowlens.errors.ParameterError: period 1999-01-01 is not a period of the panel: ...
        """
        frame = from_any(panel, what=_WHAT).lazy()
        schema = frame.collect_schema()
        MissingColumnError.require(schema.names(), fs.ORIGIN, fs.DESTINATION, value)
        checked_table(
            frame,
            what=_WHAT,
            values=[value, fs.N_TRANSFERS, fs.FEE_USD],
            texts=[fs.ORIGIN, fs.DESTINATION, fs.FLOW_TYPE, fs.CHANNEL],
        )
        spec = _read_spec(frame, schema, value=value, freq=freq)
        frame, selected = _select_periods(frame, period, spec)
        return build_graph(frame, value=value, spec=spec, period=selected, flow_type=flow_type)

    # --- measures -----------------------------------------------------------------

    @property
    def description(self) -> str:
        """What the graph covers: ``"all"``, or its periods and flow types.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().description
        'all'
        """
        described = []
        if self.period is not None:
            first, last = self.period
            described.append(f"period {first}" if first == last else f"periods {first}..{last}")
        if self.flow_type is not None:
            described.append(f"flow types {', '.join(self.flow_type)}")
        return "; ".join(described) or "all"

    def top_corridors(self, n: int = 10) -> pl.DataFrame:
        """The ``n`` largest corridors, with their share of all volume.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().top_corridors(2).select("origin", "destination", "share").rows()
        [('USA', 'MEX', 0.6), ('USA', 'GTM', 0.2)]
        """
        _positive_int(n, "n")
        total = self.edges[self.value].sum()
        return self.edges.head(n).with_columns(share=pl.col(self.value) / total)

    def strength(self) -> pl.DataFrame:
        """Per country: ``in_usd`` (received), ``out_usd`` (sent), ``net_usd`` (received - sent).

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().strength().filter(country="USA").select("out_usd", "in_usd").row(0)
        (120.0, 0.0)
        """
        return self.nodes.select(
            "country", "name", "in_usd", "out_usd", net_usd=pl.col("in_usd") - pl.col("out_usd")
        ).sort("in_usd", "country", descending=[True, False])

    def inflow_shares(self) -> pl.DataFrame:
        """Each receiving country's inflows by sending country, as shares that sum to 1.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().inflow_shares().filter(destination="MEX").select("origin", "share").rows()
        [('USA', 0.9), ('ESP', 0.1)]
        """
        volume = pl.col(self.value)
        return (
            self.edges.select(fs.DESTINATION, fs.ORIGIN, self.value)
            .with_columns(share=volume / volume.sum().over(fs.DESTINATION))
            .sort(fs.DESTINATION, "share", fs.ORIGIN, descending=[False, True, False])
        )

    def concentration(self) -> pl.DataFrame:
        """Source concentration per receiving country: Herfindahl-Hirschman index and top-1 share.

        ``hhi`` is the sum of squared inflow shares (1 = one source only; 1/n for n
        equal sources): how dependent a country is on one sending country's banks.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().concentration().filter(destination="MEX").select("hhi", "n_sources").row(0)
        (0.82, 2)
        """
        return (
            self.inflow_shares()
            .group_by(fs.DESTINATION, maintain_order=True)
            .agg(
                inflow_usd=pl.col(self.value).sum(),
                n_sources=pl.len().cast(pl.Int64),
                hhi=(pl.col("share") ** 2).sum().round(12),
                top_origin=pl.col(fs.ORIGIN).first(),
                top_share=pl.col("share").first().round(12),
            )
            .sort(fs.DESTINATION)
        )

    def exposure(
        self,
        *,
        origins: str | Iterable[str] = (),
        corridors: Iterable[tuple[str, str]] = (),
    ) -> pl.DataFrame:
        """Share of each receiving country's inflows that passes through the given senders or corridors.

        For example the corridors hit by de-risking: how much of each country's
        inflows do they carry?

        Parameters
        ----------
        origins
            A sending country (ISO3) or several: every corridor from them counts.
        corridors
            ``(origin, destination)`` pairs.

        Returns
        -------
        polars.DataFrame
            ``destination``, ``inflow_usd``, ``exposed_usd``, ``exposed_share``,
            most exposed volume first.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().exposure(origins="USA").select("destination", "exposed_share").rows()
        [('MEX', 0.9), ('GTM', 1.0), ('PHL', 0.0)]
        """
        senders = _senders(origins)
        pairs = _pairs(corridors)
        if not senders and not pairs:
            msg = "exposure needs origins=[...] or corridors=[(origin, destination), ...]"
            raise ParameterError(msg)
        if senders and self.edges.height:  # an empty graph: an empty table, nothing exposed
            require_present(
                senders,
                self.edges[fs.ORIGIN],
                what="exposure's origins",
                where="the graph's senders",
            )
        if pairs and self.edges.height:
            present = (self.edges[fs.ORIGIN] + ">" + self.edges[fs.DESTINATION]).to_list()
            require_present(
                [f"{o}>{d}" for o, d in pairs],
                present,
                what="exposure's corridors",
                where="the graph's corridors",
            )
        hit = pl.col(fs.ORIGIN).is_in(senders) | pl.concat_str(
            fs.ORIGIN, pl.lit(">"), fs.DESTINATION
        ).is_in([f"{o}>{d}" for o, d in pairs])
        return (
            self.edges.group_by(fs.DESTINATION)
            .agg(
                inflow_usd=pl.col(self.value).sum(),
                exposed_usd=pl.col(self.value).filter(hit).sum(),
            )
            .with_columns(exposed_share=pl.col("exposed_usd") / pl.col("inflow_usd"))
            .sort("exposed_usd", fs.DESTINATION, descending=[True, False])
        )

    def centrality(self, *, seed: int = 0, resolution: float = 1.0) -> pl.DataFrame:
        """Hubs and bridges: PageRank (volume-weighted), betweenness on the cost graph, communities.

        Betweenness uses the corridor cost (``cost_pct``, else 1 per corridor) as the
        distance, so cheap corridors are short; communities are networkx's Louvain
        on the undirected volume graph, seeded. An empty graph gives an empty table.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> c = _example().centrality()
        >>> c.sort("pagerank", descending=True)["country"][0]
        'MEX'
        """
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            msg = f"seed must be a whole number >= 0, got {seed!r}"
            raise ParameterError(msg)
        if (
            isinstance(resolution, bool)
            or not isinstance(resolution, int | float)
            or not 0 < resolution < float("inf")
        ):
            msg = f"resolution must be a positive number (1.0: Louvain's modularity), got {resolution!r}"
            raise ParameterError(msg)
        return centrality_table(
            self.edges, self.nodes, value=self.value, seed=seed, resolution=float(resolution)
        )

    def cost(self, rpw: Any = None) -> pl.DataFrame:
        """Cost of sending per corridor, and the gap to SDG target 10.c (average < 3%, none > 5%).

        Parameters
        ----------
        rpw
            Optional World Bank Remittance Prices Worldwide costs (the ``panel`` of
            :func:`flowlens.read_rpw_corridors`: ``period``, ``origin``,
            ``destination``, ``cost_pct``; any table kind); the latest quarter of
            each corridor is used where the panel has no fees.

        Returns
        -------
        polars.DataFrame
            ``origin``, ``destination``, the value column, ``cost_pct``,
            ``cost_source`` (``fees`` or ``rpw``; null without a cost),
            ``above_5pct``, ``gap_to_3pct`` (points above the 3% average target,
            0 if below).

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().cost().select("origin", "destination", "cost_pct", "above_5pct").head(2).rows()
        [('USA', 'MEX', 4.0, False), ('USA', 'GTM', 6.0, True)]
        """
        return _costs(self.edges, value=self.value, rpw=rpw)

    def cost_summary(self, rpw: Any = None) -> dict[str, float]:
        """Volume-weighted average cost, the share of volume in corridors above 5%, and the 3% test.

        The keys are the same whatever the data (``weighted_average_pct``,
        ``volume_share_above_5pct``, ``meets_sdg_average``); without any priced
        volume their values are NaN.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> round(_example().cost_summary()["weighted_average_pct"], 3)  # 7.1 of fees on 150
        4.733
        """
        return cost_summary(self.cost(rpw), value=self.value)

    # --- exports ------------------------------------------------------------------

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph``: nodes with name and region, edges with ``weight`` (volume) and the rest.

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> g = _example().to_networkx()
        >>> g["USA"]["MEX"]["weight"], g.nodes["MEX"]["name"]
        (90.0, 'Mexico')
        """
        import networkx as nx

        graph = nx.DiGraph(description=self.description)
        for node in self.nodes.iter_rows(named=True):
            graph.add_node(
                node["country"],
                **{k: v for k, v in node.items() if k != "country" and v is not None},
            )
        for edge in self.edges.iter_rows(named=True):
            attributes = {
                k: v
                for k, v in edge.items()
                if k not in (fs.ORIGIN, fs.DESTINATION) and v is not None
            }
            graph.add_edge(
                edge[fs.ORIGIN], edge[fs.DESTINATION], weight=edge[self.value], **attributes
            )
        return graph

    def edge_list(self) -> pl.DataFrame:
        """The edges as a polars DataFrame (a copy of :attr:`edges`).

        Examples
        --------
        >>> from flowlens.graph._graph import _example
        >>> _example().edge_list().height
        4
        """
        return self.edges.clone()

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the graph as GraphML (``.graphml``), GEXF (``.gexf``) or node-link JSON (``.json``).

        The file is written to a temporary file in the same folder, flushed, then
        renamed onto ``path``: a failure leaves the old file, or none, never half a
        file. An existing ``path`` is refused unless ``overwrite=True``.

        Raises
        ------
        ParameterError
            For any other suffix.
        OutputError, OutputExistsError
            The folder is missing; ``path`` exists and ``overwrite`` is False (the
            latter is also a ``FileExistsError``).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from flowlens.graph._graph import _example
        >>> out = _example().write(pathlib.Path(tempfile.mkdtemp()) / "g.graphml")
        >>> out.stat().st_size > 0
        True
        >>> _example().write(out, overwrite=True) == out
        True
        """
        import networkx as nx

        from flowlens._atomic import check_target, write_atomic

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".graphml", ".gexf", ".json"):
            msg = f"cannot tell the format of {str(path)!r}: use .graphml, .gexf or .json"
            raise ParameterError(msg)
        check_target(path, overwrite=overwrite)  # before any work
        graph = self.to_networkx()

        def write(target: str) -> None:
            if suffix == ".graphml":
                nx.write_graphml(graph, target)
            elif suffix == ".gexf":
                nx.write_gexf(graph, target)
            else:
                data = nx.node_link_data(graph, edges="edges")
                text = json.dumps(data, indent=1, default=str)
                Path(target).write_text(text, encoding="utf-8")

        return write_atomic(path, write, overwrite=overwrite)

    # --- display ------------------------------------------------------------------

    def __repr__(self) -> str:
        total = self.edges[self.value].sum()
        return (
            f"CorridorGraph({self.nodes.height} countries, {self.edges.height} corridors, "
            f"{_unit(self.value)} {total:,.0f}; {self.description})"
        )

    def _repr_html_(self) -> str:
        top = self.edges.head(5)
        total = self.edges[self.value].sum()
        unit = _unit(self.value)
        rows = (
            "".join(
                f"<tr><td>{r[fs.ORIGIN]} &rarr; {r[fs.DESTINATION]}</td>"
                f"<td style='text-align:right'>{r[self.value]:,.0f}</td>"
                f"<td style='text-align:right'>{r[self.value] / total:.1%}</td></tr>"
                for r in top.iter_rows(named=True)
            )
            if total
            else ""
        )
        return (
            f"<div><b>CorridorGraph</b>: {self.nodes.height} countries, {self.edges.height} "
            f"corridors, {unit} {total:,.0f} ({self.description})"
            f"<table><tr><th>largest corridors</th><th>{unit}</th><th>share</th></tr>{rows}"
            "</table></div>"
        )


# --- building -----------------------------------------------------------------------


def build_graph(
    frame: pl.LazyFrame,
    *,
    value: str,
    spec: PanelSpec | None,
    period: tuple[dt.date, dt.date] | None,
    flow_type: str | Sequence[str] | None,
) -> CorridorGraph:
    """The graph of ``frame`` (periods already selected), keeping only ``flow_type``.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.graph._graph import build_graph
    >>> frame = pl.LazyFrame({"origin": ["USA"], "destination": ["MEX"], "x": [2.0]})
    >>> build_graph(frame, value="x", spec=None, period=None, flow_type=None).edges.rows()
    [('USA', 'MEX', 2.0)]
    """
    schema = frame.collect_schema()
    frame, types = select_flow_types(frame, schema, flow_type)
    edges = (
        frame.filter(pl.col(fs.ORIGIN).is_not_null() & pl.col(fs.DESTINATION).is_not_null())
        .group_by(pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String))
        .agg(_edge_aggregates(schema, value))
        .filter(pl.col(value) > 0)
        .sort(value, fs.ORIGIN, fs.DESTINATION, descending=[True, False, False])
        .collect()
    )
    return CorridorGraph(
        edges=edges,
        nodes=_nodes(edges, value),
        value=value,
        spec=spec,
        period=period,
        flow_type=types,
    )


def _read_spec(
    frame: pl.LazyFrame, schema: pl.Schema, *, value: str, freq: str | None
) -> PanelSpec | None:
    if fs.PERIOD in schema:
        return checked_panel(frame, freq=freq, value=value, what=_WHAT, guess=True)
    if freq is not None:
        msg = f"freq={freq!r} was given but the table has no 'period' column to check it against"
        raise ParameterError(msg)
    if not schema[value].is_numeric():
        msg = f"{_WHAT}: value column {value!r} has dtype {schema[value]}, not a number"
        raise SchemaError(msg)
    return None


def _select_periods(
    frame: pl.LazyFrame, period: Any, spec: PanelSpec | None
) -> tuple[pl.LazyFrame, tuple[dt.date, dt.date] | None]:
    if period is None:
        return frame, None
    if spec is None:  # no period column to select on
        raise MissingColumnError.for_column(fs.PERIOD, frame.collect_schema().names())
    if isinstance(period, tuple | list):
        if len(period) != 2:
            msg = f"period must be one period or a (first, last) pair, got {period!r}"
            raise ParameterError(msg)
        first, last = as_date(period[0], "period"), as_date(period[1], "period")
        if first > last:
            msg = f"period ({first}, {last}): the first period is after the last; swap them"
            raise ParameterError(msg)
    else:
        first = last = as_date(period, "period")
    day = pl.col(fs.PERIOD).cast(pl.Date)
    periods = frame.select(day.unique().sort()).collect().to_series()
    chosen = periods.filter(periods.is_between(first, last))
    if chosen.is_empty() or (first == last and chosen[0] != first):
        raise _not_a_period(first, last, periods, spec.freq)
    return frame.filter(day.is_between(first, last)), (first, last)


def _not_a_period(first: dt.date, last: dt.date, periods: pl.Series, freq: str) -> ParameterError:
    span = f"its periods run {periods[0]}..{periods[-1]}" if len(periods) else "it is empty"
    if first != last:
        return ParameterError(f"period ({first}, {last}) holds no period of the panel: {span}")
    start = pl.select(period_expr(pl.lit(first), freq=freq)).item()
    hint = f" Did you mean {start} (the start of the {freq} period holding it)?"
    return ParameterError(
        f"period {first} is not a period of the panel: {span} ({freq}).{hint if start in periods else ''}"
    )


def select_flow_types(
    frame: pl.LazyFrame, schema: pl.Schema, flow_type: str | Sequence[str] | None
) -> tuple[pl.LazyFrame, tuple[str, ...] | None]:
    """Keep the rows of one flow type or several; the selection as a tuple (None: all).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.graph._graph import select_flow_types
    >>> frame = pl.LazyFrame({"flow_type": ["remittance", "philanthropy"]})
    >>> kept, types = select_flow_types(frame, frame.collect_schema(), "remittance")
    >>> kept.collect().height, types
    (1, ('remittance',))
    """
    if flow_type is None:
        return frame, None
    types = (flow_type,) if isinstance(flow_type, str) else tuple(flow_type)
    if not types:
        msg = "flow_type=[] selects nothing; pass a flow type, several, or None for all"
        raise ParameterError(msg)
    for name in types:
        if name not in fs.FLOW_TYPES:
            match = closest(str(name), fs.FLOW_TYPES)
            hint = f" Did you mean {match!r}?" if match else ""
            msg = f"flow_type {name!r} is not one of {list(fs.FLOW_TYPES)}.{hint}"
            raise ParameterError(msg)
    MissingColumnError.require(schema.names(), fs.FLOW_TYPE)
    return frame.filter(pl.col(fs.FLOW_TYPE).cast(pl.String).is_in(list(types))), types


def _edge_aggregates(schema: pl.Schema, value: str) -> list[pl.Expr]:
    volume = pl.col(value)
    aggs = [volume.sum()]
    # the count and the fees ride along, unless they are the value itself
    has_count = fs.N_TRANSFERS in schema and value != fs.N_TRANSFERS
    has_fees = fs.FEE_USD in schema and value != fs.FEE_USD
    if has_count:
        aggs.append(pl.col(fs.N_TRANSFERS).sum())
    if has_fees:
        aggs.append(pl.col(fs.FEE_USD).sum())
        aggs.append((pl.col(fs.FEE_USD).sum() / volume.sum() * 100).alias("cost_pct"))
    if fs.CHANNEL in schema:
        informal = pl.col(fs.CHANNEL).cast(pl.String).is_in(list(fs.INFORMAL_CHANNELS))
        aggs.append((volume.filter(informal).sum() / volume.sum()).alias("informal_share"))
    if fs.FLOW_TYPE not in schema:
        return aggs
    for flow_type in fs.FLOW_TYPES:  # a few expressions per type, not a loop over rows
        is_type = pl.col(fs.FLOW_TYPE).cast(pl.String) == flow_type
        aggs.append(volume.filter(is_type).sum().alias(f"{value}_{flow_type}"))
        if has_count:
            count = pl.col(fs.N_TRANSFERS).filter(is_type).sum()
            aggs.append(count.alias(f"{fs.N_TRANSFERS}_{flow_type}"))
        if has_fees:
            fees = pl.col(fs.FEE_USD).filter(is_type).sum()
            cost = fees / volume.filter(is_type).sum() * 100
            aggs.append(cost.alias(f"cost_pct_{flow_type}"))
    return aggs


def _nodes(edges: pl.DataFrame, value: str) -> pl.DataFrame:
    out_usd = edges.group_by(country=fs.ORIGIN).agg(out_usd=pl.col(value).sum())
    in_usd = edges.group_by(country=fs.DESTINATION).agg(in_usd=pl.col(value).sum())
    names = countries().select(country="iso3", name="name", region="region")
    return (
        out_usd.join(in_usd, on="country", how="full", coalesce=True)
        .with_columns(pl.col("out_usd", "in_usd").fill_null(0.0).cast(pl.Float64))
        .join(names, on="country", how="left")
        .select("country", "name", "region", "in_usd", "out_usd")
        .sort("country")
    )


@input_errors("CorridorGraph.cost")
def _costs(edges: pl.DataFrame, *, value: str, rpw: Any) -> pl.DataFrame:
    """:func:`corridor_costs`, with ``rpw`` checked (a table of costs from the caller)."""
    if rpw is not None:
        prices = from_any(rpw, what="rpw").frame
        checked_table(
            prices,
            what="rpw",
            values=["cost_pct"],
            texts=[fs.ORIGIN, fs.DESTINATION],
            dates=[fs.PERIOD],
            # a published total cost can be below zero: Remittance Prices Worldwide records
            # five (SAU->SDN 2017Q4 -11.36%), where the rate offered beat the official one
            negative=True,
        )
    return corridor_costs(edges, value=value, rpw=rpw)


def _senders(origins: str | Iterable[str]) -> list[str]:
    """``origins`` as ISO3 codes, normalised like the data (an unknown one raises)."""
    given = [origins] if isinstance(origins, str) else list(origins)
    return list(country_codes(given, "exposure's origins")) if given else []


def _pairs(corridors: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``corridors`` as (origin, destination) ISO3 pairs, normalised like the data."""
    try:
        pairs = [tuple(pair) for pair in corridors]
    except TypeError:
        pairs = [()]
    if any(len(pair) != 2 for pair in pairs):
        msg = f"corridors must be (origin, destination) pairs, got {corridors!r}"
        raise ParameterError(msg)
    origins = country_codes([p[0] for p in pairs], "exposure's corridors") if pairs else ()
    destinations = country_codes([p[1] for p in pairs], "exposure's corridors") if pairs else ()
    return list(zip(origins, destinations, strict=True))


def _positive_int(n: object, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        msg = f"{what} must be a positive whole number, got {n!r}"
        raise ParameterError(msg)


def _unit(value: str) -> str:
    return "USD" if value.endswith("_usd") else value


def _example() -> CorridorGraph:
    """A four-corridor graph used by the examples: USA->MEX 90, USA->GTM 30, ESP->MEX 10, ESP->PHL 20."""
    panel = pl.DataFrame(
        {
            "period": [dt.date(2024, 1, 1)] * 4,
            "origin": ["USA", "USA", "ESP", "ESP"],
            "destination": ["MEX", "GTM", "MEX", "PHL"],
            "flow_type": ["remittance"] * 4,
            "amount_usd": [90.0, 30.0, 10.0, 20.0],
            "fee_usd": [3.6, 1.8, 0.5, 1.2],
        }
    )
    return CorridorGraph.from_panel(panel)
