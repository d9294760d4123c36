"""The corridor graph: who sends how much to whom, and how exposed each receiving country is.

Aggregates are polars over the corridor panel; graph algorithms (PageRank,
betweenness, communities) are networkx, imported only when one is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError
from flowlens.reference import countries

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "SDG_10C_AVERAGE_PCT",
    "SDG_10C_CORRIDOR_MAX_PCT",
    "CorridorGraph",
    "corridor_changes",
    "graphs_by_period",
    "inflow_context",
]

SDG_10C_AVERAGE_PCT = 3.0
"""SDG target 10.c: reduce the average cost of sending remittances below 3% by 2030."""
SDG_10C_CORRIDOR_MAX_PCT = 5.0
"""SDG target 10.c: eliminate remittance corridors costing more than 5%."""

_INFORMAL = ("informal", "cash_carry")


@dataclass(frozen=True, repr=False)
class CorridorGraph:
    """Corridors as a directed graph: sending country -> receiving country, weighted by volume.

    Build it with :meth:`from_panel`. The object is immutable; every measure is a
    method that returns a polars DataFrame.

    Attributes
    ----------
    edges
        One row per corridor: ``origin``, ``destination``, ``amount_usd`` (all
        flow types), ``n_transfers``, ``fee_usd`` and ``cost_pct`` where fees are
        known, ``informal_share`` where channels are known, and per flow type
        ``amount_usd_<type>`` (and ``n_transfers_<type>``, ``cost_pct_<type>``
        where known).
    nodes
        One row per country on either end: ``country``, ``name``, ``region``,
        ``in_usd``, ``out_usd``.
    description
        What the graph covers (periods, flow types).

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
    """

    edges: pl.DataFrame
    nodes: pl.DataFrame
    description: str

    # --- construction -------------------------------------------------------------

    @classmethod
    def from_panel(
        cls,
        panel: Any,
        *,
        period: Any = None,
        flow_types: Sequence[str] | None = None,
        weight: str = fs.AMOUNT_USD,
    ) -> CorridorGraph:
        """Build the graph from a corridor panel (or clean flows: anything with the panel's keys).

        Parameters
        ----------
        panel
            A polars DataFrame or LazyFrame with ``origin``, ``destination``,
            ``flow_type`` (optional), ``weight``, and optionally ``period``,
            ``n_transfers``, ``fee_usd`` and ``channel``; the output of
            :func:`flowlens.corridor_panel` or of an official reader. Rows with a
            null origin or destination (country totals) are left out.
        period
            None for every period; a date for one period; a ``(start, end)``
            pair of dates for an inclusive range.
        flow_types
            Keep only these flow types (default: all).
        weight
            The volume column (default ``amount_usd``).

        Examples
        --------
        >>> import flowlens as fl
        >>> report = fl.load_flows(fl.load_sample("flows"))
        >>> panel = fl.corridor_panel(report, by=("flow_type", "channel"), stats=("sum", "count", "fees"))
        >>> g = fl.CorridorGraph.from_panel(panel, flow_types=["remittance"])
        >>> g.top_corridors(1)["origin"].item(), g.top_corridors(1)["destination"].item()
        ('USA', 'MEX')
        """
        frame = panel.lazy() if isinstance(panel, pl.DataFrame | pl.LazyFrame) else None
        if frame is None:
            msg = f"from_panel takes a polars DataFrame or LazyFrame, got {type(panel).__name__}"
            raise SchemaError(msg)
        schema = frame.collect_schema()
        for column in (fs.ORIGIN, fs.DESTINATION, weight):
            if column not in schema:
                raise MissingColumnError.for_column(column, schema.names())
        described = []
        if period is not None:
            if "period" not in schema:
                raise MissingColumnError.for_column("period", schema.names())
            if isinstance(period, tuple):
                start, end = period
                frame = frame.filter(pl.col("period").is_between(start, end))
                described.append(f"periods {start}..{end}")
            else:
                frame = frame.filter(pl.col("period") == period)
                described.append(f"period {period}")
        has_type = fs.FLOW_TYPE in schema
        if flow_types is not None:
            if not has_type:
                raise MissingColumnError.for_column(fs.FLOW_TYPE, schema.names())
            frame = frame.filter(pl.col(fs.FLOW_TYPE).cast(pl.String).is_in(list(flow_types)))
            described.append(f"flow types {', '.join(flow_types)}")
        frame = frame.filter(pl.col(fs.ORIGIN).is_not_null() & pl.col(fs.DESTINATION).is_not_null())
        keys = [pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String)]
        volume = pl.col(weight)
        aggs = [volume.sum().alias(fs.AMOUNT_USD)]
        if "n_transfers" in schema:
            aggs.append(pl.col("n_transfers").sum())
        if fs.FEE_USD in schema:
            aggs.append(pl.col(fs.FEE_USD).sum())
            aggs.append((pl.col(fs.FEE_USD).sum() / volume.sum() * 100).alias("cost_pct"))
        if fs.CHANNEL in schema:
            informal = pl.col(fs.CHANNEL).cast(pl.String).is_in(list(_INFORMAL))
            aggs.append((volume.filter(informal).sum() / volume.sum()).alias("informal_share"))
        if has_type:
            for flow_type in fs.FLOW_TYPES:
                is_type = pl.col(fs.FLOW_TYPE).cast(pl.String) == flow_type
                aggs.append(volume.filter(is_type).sum().alias(f"{fs.AMOUNT_USD}_{flow_type}"))
                if "n_transfers" in schema:
                    aggs.append(
                        pl.col("n_transfers")
                        .filter(is_type)
                        .sum()
                        .alias(f"n_transfers_{flow_type}")
                    )
                if fs.FEE_USD in schema:
                    fees = pl.col(fs.FEE_USD).filter(is_type).sum()
                    aggs.append(
                        (fees / volume.filter(is_type).sum() * 100).alias(f"cost_pct_{flow_type}")
                    )
        edges = (
            frame.group_by(keys)
            .agg(aggs)
            .filter(pl.col(fs.AMOUNT_USD) > 0)
            .sort(fs.AMOUNT_USD, fs.ORIGIN, fs.DESTINATION, descending=[True, False, False])
            .collect()
        )
        return cls(edges=edges, nodes=_nodes(edges), description="; ".join(described) or "all")

    # --- measures -----------------------------------------------------------------

    def top_corridors(self, n: int = 10) -> pl.DataFrame:
        """The ``n`` largest corridors, with their share of all volume.

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> _example().top_corridors(2).select("origin", "destination", "share").rows()
        [('USA', 'MEX', 0.6), ('USA', 'GTM', 0.2)]
        """
        total = self.edges[fs.AMOUNT_USD].sum()
        return self.edges.head(n).with_columns(share=pl.col(fs.AMOUNT_USD) / total)

    def strength(self) -> pl.DataFrame:
        """Per country: ``in_usd`` (received), ``out_usd`` (sent), ``net_usd`` (received - sent).

        Examples
        --------
        >>> from flowlens.graph import _example
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
        >>> from flowlens.graph import _example
        >>> _example().inflow_shares().filter(destination="MEX").select("origin", "share").rows()
        [('USA', 0.9), ('ESP', 0.1)]
        """
        return (
            self.edges.select(fs.DESTINATION, fs.ORIGIN, fs.AMOUNT_USD)
            .with_columns(
                share=pl.col(fs.AMOUNT_USD) / pl.col(fs.AMOUNT_USD).sum().over(fs.DESTINATION)
            )
            .sort(fs.DESTINATION, "share", fs.ORIGIN, descending=[False, True, False])
        )

    def concentration(self) -> pl.DataFrame:
        """Source concentration per receiving country: Herfindahl-Hirschman index and top-1 share.

        ``hhi`` is the sum of squared inflow shares (1 = one source only; 1/n for n
        equal sources): how dependent a country is on one sending country's banks.

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> _example().concentration().filter(destination="MEX").select("hhi", "n_sources").row(0)
        (0.82, 2)
        """
        shares = self.inflow_shares()
        return (
            shares.group_by(fs.DESTINATION)
            .agg(
                inflow_usd=pl.col(fs.AMOUNT_USD).sum(),
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
        origins: Iterable[str] = (),
        corridors: Iterable[tuple[str, str]] = (),
    ) -> pl.DataFrame:
        """Share of each receiving country's inflows that passes through the given senders or corridors.

        For example the corridors hit by de-risking: how much of each country's
        inflows do they carry?

        Parameters
        ----------
        origins
            Sending countries (ISO3): every corridor from them counts.
        corridors
            ``(origin, destination)`` pairs.

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> _example().exposure(origins=["USA"]).select("destination", "exposed_share").rows()
        [('MEX', 0.9), ('GTM', 1.0), ('PHL', 0.0)]
        """
        origins = list(origins)
        pairs = [f"{o}>{d}" for o, d in corridors]
        if not origins and not pairs:
            msg = "exposure needs origins=[...] or corridors=[(origin, destination), ...]"
            raise SchemaError(msg)
        hit = pl.col(fs.ORIGIN).is_in(origins) | pl.concat_str(
            fs.ORIGIN, pl.lit(">"), fs.DESTINATION
        ).is_in(pairs)
        return (
            self.edges.group_by(fs.DESTINATION)
            .agg(
                inflow_usd=pl.col(fs.AMOUNT_USD).sum(),
                exposed_usd=pl.col(fs.AMOUNT_USD).filter(hit).sum(),
            )
            .with_columns(exposed_share=pl.col("exposed_usd") / pl.col("inflow_usd"))
            .sort("exposed_usd", fs.DESTINATION, descending=[True, False])
        )

    def centrality(self, *, seed: int = 0, resolution: float = 1.0) -> pl.DataFrame:
        """Hubs and bridges: PageRank (volume-weighted), betweenness on the cost graph, communities.

        Betweenness uses the corridor cost (``cost_pct``, else 1 per corridor) as the
        distance, so cheap corridors are short; communities are networkx's Louvain
        on the undirected volume graph, seeded.

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> c = _example().centrality()
        >>> c.sort("pagerank", descending=True)["country"][0]
        'MEX'
        """
        import networkx as nx

        nodes = self.nodes["country"].to_list()
        weighted = nx.DiGraph()  # volumes only: a light graph, built in one call
        weighted.add_nodes_from(nodes)
        weighted.add_weighted_edges_from(
            self.edges.select(fs.ORIGIN, fs.DESTINATION, fs.AMOUNT_USD).iter_rows()
        )
        pagerank = nx.pagerank(weighted, weight="weight")
        distance = (
            self.edges["cost_pct"].fill_null(1.0)
            if "cost_pct" in self.edges.columns
            else pl.Series(np.ones(self.edges.height))
        )
        betweenness = _betweenness(
            nodes, self.edges[fs.ORIGIN], self.edges[fs.DESTINATION], distance.to_numpy()
        )
        pairs = (
            self.edges.group_by(
                a=pl.min_horizontal(fs.ORIGIN, fs.DESTINATION),
                b=pl.max_horizontal(fs.ORIGIN, fs.DESTINATION),
            )
            .agg(pl.col(fs.AMOUNT_USD).sum())  # both directions of a pair add up
            .sort("a", "b")
        )
        undirected = nx.Graph()
        undirected.add_nodes_from(nodes)
        undirected.add_weighted_edges_from(pairs.iter_rows())
        communities = nx.community.louvain_communities(
            undirected, weight="weight", seed=seed, resolution=resolution
        )
        community_of = {node: i for i, group in enumerate(communities) for node in group}
        table = pl.DataFrame(
            {
                "country": nodes,
                "pagerank": [pagerank[n] for n in nodes],
                "betweenness": betweenness,
                "community": [community_of[n] for n in nodes],
            },
            schema_overrides={"community": pl.Int64},
        )
        return (
            self.nodes.select("country", "in_usd", "out_usd")
            .join(table, on="country")
            .sort("country")
        )

    def cost(self, rpw: pl.DataFrame | None = None) -> pl.DataFrame:
        """Cost of sending per corridor, and the gap to SDG target 10.c (average < 3%, none > 5%).

        Parameters
        ----------
        rpw
            Optional World Bank Remittance Prices Worldwide costs (the ``panel`` of
            :func:`flowlens.read_rpw_corridors`: ``origin``, ``destination``,
            ``cost_pct`` per quarter); the latest quarter of each corridor is used
            where the panel has no fees.

        Returns
        -------
        polars.DataFrame
            ``origin``, ``destination``, ``amount_usd``, ``cost_pct``,
            ``cost_source`` (``fees`` or ``rpw``), ``above_5pct``, ``gap_to_3pct``
            (points above the 3% average target, 0 if below).

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> _example().cost().select("origin", "destination", "cost_pct", "above_5pct").head(2).rows()
        [('USA', 'MEX', 4.0, False), ('USA', 'GTM', 6.0, True)]
        """
        edges = self.edges.select(fs.ORIGIN, fs.DESTINATION, fs.AMOUNT_USD)
        if "cost_pct" in self.edges.columns:
            edges = edges.with_columns(cost_pct=self.edges["cost_pct"], cost_source=pl.lit("fees"))
        else:
            edges = edges.with_columns(
                cost_pct=pl.lit(None, pl.Float64), cost_source=pl.lit(None, pl.String)
            )
        if rpw is not None:
            latest = (
                rpw.sort("period")
                .group_by(pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String))
                .agg(rpw_cost=pl.col("cost_pct").last())
            )
            edges = (
                edges.join(latest, on=[fs.ORIGIN, fs.DESTINATION], how="left")
                .with_columns(
                    cost_source=pl.when(
                        pl.col("cost_pct").is_null() & pl.col("rpw_cost").is_not_null()
                    )
                    .then(pl.lit("rpw"))
                    .otherwise("cost_source"),
                    cost_pct=pl.coalesce("cost_pct", "rpw_cost"),
                )
                .drop("rpw_cost")
            )
        return edges.with_columns(
            above_5pct=pl.col("cost_pct") > SDG_10C_CORRIDOR_MAX_PCT,
            gap_to_3pct=(pl.col("cost_pct") - SDG_10C_AVERAGE_PCT).clip(lower_bound=0.0),
        )

    def cost_summary(self, rpw: pl.DataFrame | None = None) -> dict[str, float]:
        """Volume-weighted average cost and the share of volume in corridors above 5%.

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> round(_example().cost_summary()["weighted_average_pct"], 3)  # 7.1 of fees on 150
        4.733
        """
        costs = self.cost(rpw).drop_nulls("cost_pct")
        volume = float(costs[fs.AMOUNT_USD].sum())
        if volume == 0:
            return {"weighted_average_pct": float("nan"), "volume_share_above_5pct": float("nan")}
        average = float((costs["cost_pct"] * costs[fs.AMOUNT_USD]).sum()) / volume
        above = float(costs.filter(pl.col("above_5pct"))[fs.AMOUNT_USD].sum()) / volume
        return {
            "weighted_average_pct": round(average, 12),
            "volume_share_above_5pct": round(above, 12),
            "meets_sdg_average": float(average < SDG_10C_AVERAGE_PCT),
        }

    # --- exports ------------------------------------------------------------------

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph``: nodes with name and region, edges with ``weight`` (volume) and the rest.

        Examples
        --------
        >>> from flowlens.graph import _example
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
                edge[fs.ORIGIN], edge[fs.DESTINATION], weight=edge[fs.AMOUNT_USD], **attributes
            )
        return graph

    def edge_list(self) -> pl.DataFrame:
        """The edges as a polars DataFrame (a copy of :attr:`edges`).

        Examples
        --------
        >>> from flowlens.graph import _example
        >>> _example().edge_list().height
        4
        """
        return self.edges.clone()

    def write(self, path: str | Path) -> Path:
        """Write the graph as GraphML (``.graphml``), GEXF (``.gexf``) or node-link JSON (``.json``).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from flowlens.graph import _example
        >>> out = _example().write(pathlib.Path(tempfile.mkdtemp()) / "g.graphml")
        >>> out.stat().st_size > 0
        True
        """
        import networkx as nx

        path = Path(path)
        graph = self.to_networkx()
        suffix = path.suffix.lower()
        if suffix == ".graphml":
            nx.write_graphml(graph, path)
        elif suffix == ".gexf":
            nx.write_gexf(graph, path)
        elif suffix == ".json":
            data = nx.node_link_data(graph, edges="edges")
            path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        else:
            msg = f"cannot tell the format of {str(path)!r}: use .graphml, .gexf or .json"
            raise SchemaError(msg)
        return path

    # --- display ------------------------------------------------------------------

    def __repr__(self) -> str:
        total = self.edges[fs.AMOUNT_USD].sum()
        return (
            f"CorridorGraph({self.nodes.height} countries, {self.edges.height} corridors, "
            f"USD {total:,.0f}; {self.description})"
        )

    def _repr_html_(self) -> str:
        top = self.edges.head(5)
        total = self.edges[fs.AMOUNT_USD].sum()
        rows = (
            "".join(
                f"<tr><td>{r[fs.ORIGIN]} &rarr; {r[fs.DESTINATION]}</td>"
                f"<td style='text-align:right'>{r[fs.AMOUNT_USD]:,.0f}</td>"
                f"<td style='text-align:right'>{r[fs.AMOUNT_USD] / total:.1%}</td></tr>"
                for r in top.iter_rows(named=True)
            )
            if total
            else ""
        )
        return (
            f"<div><b>CorridorGraph</b>: {self.nodes.height} countries, {self.edges.height} "
            f"corridors, USD {total:,.0f} ({self.description})"
            f"<table><tr><th>largest corridors</th><th>USD</th><th>share</th></tr>{rows}</table></div>"
        )


def graphs_by_period(panel: Any, **options: Any) -> dict[Any, CorridorGraph]:
    """One :class:`CorridorGraph` per ``period`` of the panel (options as in ``from_panel``).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.graph import graphs_by_period
    >>> panel = pl.DataFrame({"period": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
    ...                       "origin": ["USA", "USA"], "destination": ["MEX", "MEX"],
    ...                       "amount_usd": [1.0, 2.0]})
    >>> {p: g.edges["amount_usd"].item() for p, g in graphs_by_period(panel).items()}
    {datetime.date(2024, 1, 1): 1.0, datetime.date(2024, 2, 1): 2.0}
    """
    frame = panel.collect() if isinstance(panel, pl.LazyFrame) else panel
    if "period" not in frame.columns:
        raise MissingColumnError.for_column("period", frame.columns)
    # one split of the panel; each part becomes its (small) graph
    parts = frame.sort("period").partition_by("period", as_dict=True, maintain_order=True)
    return {key[0]: CorridorGraph.from_panel(part, **options) for key, part in parts.items()}


def corridor_changes(panel: Any, *, weight: str = fs.AMOUNT_USD) -> pl.DataFrame:
    """Change over time per corridor: growth from the previous period, and corridors that appear or vanish.

    Every corridor is laid on every period of the panel (a missing period is a
    zero), so a corridor that stops is reported as ``vanished`` in the first
    period without flows.

    Returns
    -------
    polars.DataFrame
        ``period``, ``origin``, ``destination``, ``amount_usd``, ``previous_usd``,
        ``growth`` (amount / previous - 1; null without a previous volume) and
        ``status``: ``new``, ``vanished``, ``continuing`` or ``absent``.

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
    frame = panel.lazy() if isinstance(panel, pl.DataFrame | pl.LazyFrame) else None
    if frame is None:
        msg = f"corridor_changes takes a polars DataFrame or LazyFrame, got {type(panel).__name__}"
        raise SchemaError(msg)
    schema = frame.collect_schema()
    for column in ("period", fs.ORIGIN, fs.DESTINATION, weight):
        if column not in schema:
            raise MissingColumnError.for_column(column, schema.names())
    keys = [fs.ORIGIN, fs.DESTINATION]
    volumes = (
        frame.filter(pl.col(fs.ORIGIN).is_not_null() & pl.col(fs.DESTINATION).is_not_null())
        .group_by(
            "period", pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String)
        )
        .agg(pl.col(weight).sum().alias(fs.AMOUNT_USD))
    )
    grid = volumes.select(keys).unique().join(volumes.select("period").unique(), how="cross")
    amount = pl.col(fs.AMOUNT_USD)
    previous = pl.col("previous_usd")
    return (
        grid.join(volumes, on=["period", *keys], how="left")
        .with_columns(amount.fill_null(0.0))
        .sort(*keys, "period")
        .with_columns(previous_usd=amount.shift(1).over(keys))
        .with_columns(
            growth=pl.when(previous > 0).then(amount / previous - 1),
            status=pl.when(previous.is_null() | (previous == 0))
            .then(pl.when(amount > 0).then(pl.lit("new")).otherwise(pl.lit("absent")))
            .otherwise(
                pl.when(amount > 0).then(pl.lit("continuing")).otherwise(pl.lit("vanished"))
            ),
        )
        .sort("period", *keys)
        .collect()
    )


def inflow_context(
    panel: Any, series: pl.DataFrame, *, value: str, weight: str = fs.AMOUNT_USD
) -> pl.DataFrame:
    """Inflows per receiving country and year against another series, as a ratio.

    For example humanitarian funding per country and year: the World Bank puts
    remittances to low- and middle-income countries at about USD 656bn in 2023,
    against about USD 43bn of international humanitarian assistance.

    Parameters
    ----------
    panel
        A corridor panel (``period``, ``destination``, ``weight``); country totals
        with a null origin count too.
    series
        ``country`` (ISO3), ``year`` and the column ``value``.

    Returns
    -------
    polars.DataFrame
        ``country``, ``year``, ``inflow_usd``, the ``value`` column, and
        ``ratio`` (inflows / value), for the country-years in both.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.graph import inflow_context
    >>> panel = pl.DataFrame({"period": [dt.date(2023, 1, 1)], "origin": [None], "destination": ["HTI"],
    ...                       "amount_usd": [4.0e9]})
    >>> aid = pl.DataFrame({"country": ["HTI"], "year": [2023], "humanitarian_usd": [0.5e9]})
    >>> inflow_context(panel, aid, value="humanitarian_usd")["ratio"].item()
    8.0
    """
    frame = panel.lazy() if isinstance(panel, pl.DataFrame | pl.LazyFrame) else None
    if frame is None:
        msg = f"inflow_context takes a polars DataFrame or LazyFrame, got {type(panel).__name__}"
        raise SchemaError(msg)
    for column in ("country", "year", value):
        if column not in series.columns:
            raise MissingColumnError.for_column(column, series.columns)
    inflows = (
        frame.filter(pl.col(fs.DESTINATION).is_not_null())
        .group_by(
            country=pl.col(fs.DESTINATION).cast(pl.String),
            year=pl.col("period").dt.year().cast(pl.Int64),
        )
        .agg(inflow_usd=pl.col(weight).sum())
        .collect()
    )
    context = series.select(pl.col("country").cast(pl.String), pl.col("year").cast(pl.Int64), value)
    return (
        inflows.join(context, on=["country", "year"], how="inner")
        .with_columns(ratio=pl.col("inflow_usd") / pl.col(value))
        .sort("country", "year")
    )


def _betweenness(
    nodes: list[str], origins: pl.Series, destinations: pl.Series, distance: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Normalised shortest-path betweenness of a weighted digraph (Brandes, 2001), ties counted.

    Distances from every source come from scipy's Dijkstra in C; the path counts
    and dependencies then take one vector step per node and source (countries:
    a few hundred), instead of networkx's pure-Python search.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(nodes)
    position = {node: i for i, node in enumerate(nodes)}
    rows = np.array([position[o] for o in origins.to_list()], dtype=np.int64)
    cols = np.array([position[d] for d in destinations.to_list()], dtype=np.int64)
    weights = np.full((n, n), np.inf)
    weights[rows, cols] = distance
    all_distances = dijkstra(csr_matrix((distance, (rows, cols)), shape=(n, n)), directed=True)
    betweenness = np.zeros(n)
    for source in range(n):  # one pass per country
        d = all_distances[source]
        reached = np.flatnonzero(np.isfinite(d))
        order = reached[np.argsort(d[reached], kind="stable")]
        # tight[u, v]: the edge u -> v lies on a shortest path from the source
        tight = np.isclose(d[:, None] + weights, d[None, :], rtol=1e-12, atol=0.0) & np.isfinite(
            weights
        )
        sigma = np.zeros(n)
        sigma[source] = 1.0
        for v in order[1:]:
            sigma[v] = sigma[tight[:, v]].sum()
        delta = np.zeros(n)
        for v in order[::-1]:
            successors = tight[v] & (sigma > 0)
            delta[v] = (sigma[v] / sigma[successors] * (1.0 + delta[successors])).sum()
        delta[source] = 0.0
        betweenness += delta
    if n > 2:
        betweenness /= (n - 1) * (n - 2)
    return betweenness


def _nodes(edges: pl.DataFrame) -> pl.DataFrame:
    out_usd = edges.group_by(country=fs.ORIGIN).agg(out_usd=pl.col(fs.AMOUNT_USD).sum())
    in_usd = edges.group_by(country=fs.DESTINATION).agg(in_usd=pl.col(fs.AMOUNT_USD).sum())
    names = countries().select(country="iso3", name="name", region="region")
    return (
        out_usd.join(in_usd, on="country", how="full", coalesce=True)
        .with_columns(pl.col("out_usd", "in_usd").fill_null(0.0))
        .join(names, on="country", how="left")
        .select("country", "name", "region", "in_usd", "out_usd")
        .sort("country")
    )


def _example() -> CorridorGraph:
    """A four-corridor graph used by the examples: USA->MEX 90, USA->GTM 30, ESP->MEX 10, ESP->PHL 20."""
    import datetime as dt

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
