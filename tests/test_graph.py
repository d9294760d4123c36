"""CorridorGraph: every measure against hand-computed values on tiny graphs; exports round-trip."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens import CorridorGraph
from flowlens.errors import ParameterError

JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


def tiny_panel() -> pl.DataFrame:
    """USA->MEX 60+30, USA->GTM 30, ESP->MEX 10, ESP->PHL 20 (USD); fees and channels known."""
    return pl.DataFrame(
        {
            "period": [JAN, FEB, JAN, JAN, JAN, JAN],
            "origin": ["USA", "USA", "USA", "ESP", "ESP", "ESP"],
            "destination": ["MEX", "MEX", "GTM", "MEX", "PHL", "PHL"],
            "flow_type": [
                "remittance",
                "philanthropy",
                "remittance",
                "remittance",
                "remittance",
                "remittance",
            ],
            "channel": ["bank", "informal", "mto", "mto", "mto", "cash_carry"],
            "amount_usd": [60.0, 30.0, 30.0, 10.0, 15.0, 5.0],
            "n_transfers": [6, 1, 3, 1, 2, 1],
            "fee_usd": [3.0, 0.6, 1.8, 0.5, 1.2, 0.0],
        }
    )


@pytest.fixture
def graph() -> CorridorGraph:
    return CorridorGraph.from_panel(tiny_panel())


def test_edges_aggregate_types_fees_and_channels(graph: CorridorGraph) -> None:
    usa_mex = graph.edges.filter(origin="USA", destination="MEX").row(0, named=True)
    assert usa_mex["amount_usd"] == 90.0
    assert usa_mex["n_transfers"] == 7
    assert usa_mex["amount_usd_remittance"] == 60.0
    assert usa_mex["amount_usd_philanthropy"] == 30.0
    assert usa_mex["n_transfers_remittance"] == 6
    assert usa_mex["cost_pct_philanthropy"] == pytest.approx(0.6 / 30 * 100)
    assert usa_mex["cost_pct"] == pytest.approx(3.6 / 90 * 100)
    assert usa_mex["informal_share"] == pytest.approx(30 / 90)
    esp_phl = graph.edges.filter(origin="ESP", destination="PHL").row(0, named=True)
    assert esp_phl["informal_share"] == pytest.approx(5 / 20)  # cash carried counts as informal


def test_period_and_flow_type_filters() -> None:
    january = CorridorGraph.from_panel(tiny_panel(), period=JAN)
    assert january.edges.filter(origin="USA", destination="MEX")["amount_usd"].item() == 60.0
    both = CorridorGraph.from_panel(tiny_panel(), period=(JAN, FEB))
    assert both.edges["amount_usd"].sum() == 150.0
    remittances = CorridorGraph.from_panel(tiny_panel(), flow_type="remittance")
    assert remittances.edges["amount_usd"].sum() == 120.0
    assert "flow types remittance" in remittances.description


def test_strength_and_nodes(graph: CorridorGraph) -> None:
    strength = {
        r["country"]: (r["in_usd"], r["out_usd"]) for r in graph.strength().iter_rows(named=True)
    }
    assert strength == {
        "MEX": (100.0, 0.0),
        "GTM": (30.0, 0.0),
        "PHL": (20.0, 0.0),
        "USA": (0.0, 120.0),
        "ESP": (0.0, 30.0),
    }
    assert graph.nodes.filter(country="PHL")["region"].item() == "East Asia & Pacific"


def test_concentration_hand_computed(graph: CorridorGraph) -> None:
    table = {r["destination"]: r for r in graph.concentration().iter_rows(named=True)}
    assert table["MEX"]["hhi"] == pytest.approx(0.9**2 + 0.1**2)
    assert table["MEX"]["top_origin"] == "USA"
    assert table["MEX"]["top_share"] == pytest.approx(0.9)
    assert table["PHL"]["hhi"] == 1.0
    shares = graph.inflow_shares()
    assert shares.group_by("destination").agg(pl.col("share").sum())[
        "share"
    ].to_list() == pytest.approx([1.0] * 3)


def test_exposure_by_origin_and_by_corridor(graph: CorridorGraph) -> None:
    by_origin = {
        r["destination"]: r["exposed_share"]
        for r in graph.exposure(origins=["ESP"]).iter_rows(named=True)
    }
    assert by_origin == pytest.approx({"MEX": 0.1, "PHL": 1.0, "GTM": 0.0})
    by_corridor = graph.exposure(corridors=[("USA", "MEX")]).filter(destination="MEX")
    assert by_corridor["exposed_share"].item() == pytest.approx(0.9)
    with pytest.raises(ParameterError, match="exposure needs"):
        graph.exposure()


def test_top_corridors_and_cost_against_sdg(graph: CorridorGraph) -> None:
    top = graph.top_corridors(2)
    assert top.select("origin", "destination").rows() == [("USA", "MEX"), ("USA", "GTM")]
    assert top["share"].to_list() == pytest.approx([90 / 150, 30 / 150])
    cost = {(r["origin"], r["destination"]): r for r in graph.cost().iter_rows(named=True)}
    assert cost[("USA", "MEX")]["cost_pct"] == pytest.approx(4.0)
    assert cost[("USA", "MEX")]["gap_to_3pct"] == pytest.approx(1.0)
    assert cost[("USA", "GTM")]["above_5pct"]  # 6%
    assert cost[("ESP", "PHL")]["above_5pct"]  # (1.2 + 0) / 20 = 6%
    assert not cost[("ESP", "MEX")]["above_5pct"]  # 0.5 / 10 = 5%: at the target, not above
    summary = graph.cost_summary()
    assert summary["weighted_average_pct"] == pytest.approx(7.1 / 150 * 100)


def test_cost_falls_back_to_remittance_prices_worldwide() -> None:
    no_fees = CorridorGraph.from_panel(tiny_panel().drop("fee_usd"))
    rpw = pl.DataFrame(
        {
            "period": [JAN, FEB],
            "origin": ["USA", "USA"],
            "destination": ["MEX", "MEX"],
            "cost_pct": [5.0, 4.2],
        }
    )
    cost = no_fees.cost(rpw).filter(origin="USA", destination="MEX").row(0, named=True)
    assert (cost["cost_pct"], cost["cost_source"]) == (4.2, "rpw")  # the latest quarter


def test_centrality_against_networkx(graph: CorridorGraph) -> None:
    table = graph.centrality(seed=1)
    reference = nx.pagerank(graph.to_networkx(), weight="weight")
    got = dict(zip(table["country"], table["pagerank"], strict=True))
    assert got == pytest.approx(reference)
    assert table["community"].n_unique() >= 1
    assert table.sort("pagerank", descending=True)["country"][0] == "MEX"


def test_betweenness_uses_cost_as_distance() -> None:
    # A -> B -> C cheap, A -> C expensive: B lies on the cheapest A-C path
    panel = pl.DataFrame(
        {
            "origin": ["USA", "MEX", "USA"],
            "destination": ["MEX", "GTM", "GTM"],
            "amount_usd": [100.0, 100.0, 100.0],
            "fee_usd": [1.0, 1.0, 10.0],
        }
    )
    table = CorridorGraph.from_panel(panel).centrality()
    assert table.filter(country="MEX")["betweenness"].item() > 0


@pytest.mark.parametrize("suffix", [".graphml", ".gexf", ".json"])
def test_exports_round_trip(graph: CorridorGraph, tmp_path: Path, suffix: str) -> None:
    path = graph.write(tmp_path / f"g{suffix}")
    if suffix == ".graphml":
        back = nx.read_graphml(path)
    elif suffix == ".gexf":
        back = nx.read_gexf(path)
    else:
        back = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    assert set(back.edges) == {("USA", "MEX"), ("USA", "GTM"), ("ESP", "MEX"), ("ESP", "PHL")}
    assert float(back["USA"]["MEX"]["weight"]) == 90.0
    assert graph.edge_list().equals(graph.edges)
    with pytest.raises(ParameterError, match="graphml"):
        graph.write(tmp_path / "g.txt")


def test_repr_and_html_are_small_summaries(graph: CorridorGraph) -> None:
    assert repr(graph) == "CorridorGraph(5 countries, 4 corridors, USD 150; all)"
    html = graph._repr_html_()
    assert "USA &rarr; MEX" in html
    assert "60.0%" in html


def test_country_totals_and_missing_columns_are_handled() -> None:
    panel = tiny_panel().vstack(
        tiny_panel().head(1).with_columns(pl.lit(None, pl.String).alias("origin"))
    )  # a country total (origin null) is not a corridor
    assert CorridorGraph.from_panel(panel).edges["amount_usd"].sum() == 150.0
    with pytest.raises(fl.MissingColumnError, match="'amount_usd'"):
        CorridorGraph.from_panel(tiny_panel().drop("amount_usd"))


def test_real_world_bank_matrix_as_a_graph(real: Path) -> None:
    matrix = fl.read_wb_bilateral_matrix(real / "wb_bilateral_remittance_2017.xlsx").panel
    graph = CorridorGraph.from_panel(matrix)
    assert graph.top_corridors(1).select("origin", "destination").row(0) == ("USA", "MEX")
    mexico = graph.concentration().filter(destination="MEX").row(0, named=True)
    assert mexico["top_origin"] == "USA"
    assert mexico["top_share"] == pytest.approx(0.981, abs=0.001)


def test_corridor_changes_growth_new_and_vanished() -> None:
    d1, d2, d3 = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)
    panel = pl.DataFrame(
        {
            "period": [d1, d2, d3, d1, d3],
            "origin": ["USA", "USA", "USA", "ESP", "GBR"],
            "destination": ["MEX"] * 5,
            "amount_usd": [100.0, 150.0, 75.0, 5.0, 9.0],
        }
    )
    changes = {
        (r["period"], r["origin"]): r for r in fl.corridor_changes(panel).iter_rows(named=True)
    }
    assert changes[(d2, "USA")]["growth"] == pytest.approx(0.5)
    assert changes[(d3, "USA")]["growth"] == pytest.approx(-0.5)
    assert changes[(d1, "USA")]["status"] == "new"
    assert changes[(d2, "ESP")]["status"] == "vanished"
    assert changes[(d3, "ESP")]["status"] == "absent"
    assert changes[(d3, "GBR")]["status"] == "new"
    assert len(changes) == 9  # 3 corridors x 3 periods


def test_graphs_by_period_and_inflow_context() -> None:
    graphs = fl.graphs_by_period(tiny_panel())
    assert list(graphs) == [JAN, FEB]
    assert graphs[FEB].edges.select("origin", "destination", "amount_usd").rows() == [
        ("USA", "MEX", 30.0)
    ]
    funding = pl.DataFrame(
        {"country": ["MEX", "PHL"], "year": [2024, 2024], "aid_usd": [10.0, 40.0]}
    )
    context = fl.inflow_context(tiny_panel(), funding, against="aid_usd")
    assert context.select("country", "ratio").rows() == [("MEX", 10.0), ("PHL", 0.5)]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_betweenness_equals_networkx_including_ties(data: st.DataObject) -> None:
    from flowlens.graph._centrality import betweenness

    n = data.draw(st.integers(3, 9))
    codes = [c for c in fl.reference.country_codes() if len(c) == 3][:n]
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                 min_size=1, max_size=n * (n - 1), unique=True)
    )  # fmt: skip
    costs = data.draw(
        st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=len(pairs), max_size=len(pairs))
    )
    reference_graph = nx.DiGraph()
    reference_graph.add_nodes_from(codes)
    for (a, b), cost in zip(pairs, costs, strict=True):
        reference_graph.add_edge(codes[a], codes[b], cost=cost)
    reference = nx.betweenness_centrality(reference_graph, weight="cost", normalized=True)
    got = betweenness(
        codes,
        pl.Series([codes[a] for a, _ in pairs]),
        pl.Series([codes[b] for _, b in pairs]),
        np.array(costs),
    )
    assert got.tolist() == pytest.approx([reference[c] for c in codes])


def test_cost_reads_the_published_negative_costs_of_rpw() -> None:
    # RPW publishes five negative total costs (a rate better than the official one);
    # the latest quarter of SAU->SDN in the file is 2017Q4 at -11.36%
    rpw = fl.read_rpw_corridors("data/samples/real/wb_rpw_corridors_2011_2020.csv").panel
    wb = fl.read_wb_bilateral_matrix("data/samples/real/wb_bilateral_remittance_2017.xlsx")
    sudan = rpw.filter(origin="SAU", destination="SDN").sort("period")
    latest = sudan["cost_pct"][-1]
    cost = CorridorGraph.from_panel(wb.panel).cost(rpw).filter(origin="SAU", destination="SDN")
    assert cost["cost_pct"].item() == pytest.approx(latest)
    # the file's cell reads -11.3599996566772 (the publisher's single precision)
    assert sudan.filter(pl.col("cost_pct") < 0)["cost_pct"].to_list() == [-11.3599996566772]
