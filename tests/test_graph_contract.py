"""The graph's contract (issue 17): any table kind in, settings recorded, clear errors, order-free."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens import CorridorGraph
from flowlens.errors import MissingColumnError, ParameterError, SchemaError

from .conftest import as_kind

JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)
KINDS = ("polars", "lazy", "pandas", "pyarrow")


def panel() -> pl.DataFrame:
    """USA->MEX 60 (Jan) + 30 (Feb, philanthropy), USA->GTM 30, ESP->MEX 10, ESP->PHL 20."""
    return pl.DataFrame(
        {
            "period": [JAN, FEB, JAN, JAN, JAN],
            "origin": ["USA", "USA", "USA", "ESP", "ESP"],
            "destination": ["MEX", "MEX", "GTM", "MEX", "PHL"],
            "flow_type": ["remittance", "philanthropy", "remittance", "remittance", "remittance"],
            "amount_usd": [60.0, 30.0, 30.0, 10.0, 20.0],
            "fee_usd": [3.0, 0.6, 1.8, 0.5, 1.2],
        }
    )


def kind_of(result: Any) -> str:
    return {
        pl.DataFrame: "polars",
        pl.LazyFrame: "lazy",
        pd.DataFrame: "pandas",
        pa.Table: "pyarrow",
    }[type(result)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_input_kind_builds_the_same_graph(kind: str) -> None:
    graph = CorridorGraph.from_panel(as_kind(panel(), kind))
    reference = CorridorGraph.from_panel(panel())
    assert graph.edges.equals(reference.edges)
    assert graph.concentration().equals(reference.concentration())
    assert graph.spec == fl.PanelSpec(
        freq="1mo", value="amount_usd", keys=("origin", "destination", "flow_type")
    )
    january = CorridorGraph.from_panel(as_kind(panel(), kind), period="2024-01-01")
    assert january.edges["amount_usd"].sum() == 120.0
    assert january.period == (JAN, JAN)


@pytest.mark.parametrize("kind", KINDS)
def test_time_series_measures_return_the_kind_that_came_in(kind: str) -> None:
    changes = fl.corridor_changes(as_kind(panel(), kind))
    assert kind_of(changes) == kind
    eager = changes.collect() if kind == "lazy" else pl.DataFrame(changes)
    usa_mex = eager.filter(origin="USA", destination="MEX").sort("period")
    assert usa_mex["growth"].to_list() == [None, pytest.approx(-0.5)]
    funding = pl.DataFrame({"country": ["MEX"], "year": [2024], "aid_usd": [50.0]})
    context = fl.inflow_context(as_kind(panel(), kind), as_kind(funding, kind), against="aid_usd")
    assert kind_of(context) == kind
    graphs = fl.graphs_by_period(as_kind(panel(), kind))
    assert list(graphs) == [JAN, FEB]
    spec = graphs[FEB].spec
    assert spec is not None and spec.freq == "1mo"


def test_value_names_the_volume_column_end_to_end() -> None:
    renamed = panel().rename({"amount_usd": "remitted"})
    graph = CorridorGraph.from_panel(renamed, value="remitted")
    assert graph.value == "remitted"
    assert "remitted" in graph.edges.columns and "amount_usd" not in graph.edges.columns
    assert graph.edges.filter(origin="USA", destination="MEX")["remitted_philanthropy"].item() == 30
    assert graph.top_corridors(1)["remitted"].item() == 90.0
    assert repr(graph).startswith("CorridorGraph(5 countries, 4 corridors, remitted 150")
    changes = fl.corridor_changes(renamed, value="remitted")
    assert "remitted" in changes.columns
    with pytest.raises(MissingColumnError, match="'amount_usd'"):
        CorridorGraph.from_panel(renamed)


def test_period_is_a_date_iso_text_or_a_range_of_the_panel() -> None:
    assert CorridorGraph.from_panel(panel(), period=FEB).edges["amount_usd"].sum() == 30.0
    both = CorridorGraph.from_panel(panel(), period=("2024-01-01", FEB))
    assert both.edges["amount_usd"].sum() == 150.0
    assert both.description == "periods 2024-01-01..2024-02-01"
    with pytest.raises(ParameterError, match="Did you mean 2024-01-01"):
        CorridorGraph.from_panel(panel(), period="2024-01-15")
    with pytest.raises(ParameterError, match="not a period of the panel"):
        CorridorGraph.from_panel(panel(), period=MAR)
    with pytest.raises(ParameterError, match="holds no period"):
        CorridorGraph.from_panel(panel(), period=(MAR, dt.date(2024, 6, 1)))
    with pytest.raises(ParameterError, match="after the last"):
        CorridorGraph.from_panel(panel(), period=(FEB, JAN))
    with pytest.raises(ParameterError, match="is not a date"):
        CorridorGraph.from_panel(panel(), period="January")
    with pytest.raises(MissingColumnError, match="'period'"):
        CorridorGraph.from_panel(panel().drop("period"), period=JAN)


def test_freq_is_read_from_the_panel_and_checked_when_given() -> None:
    assert CorridorGraph.from_panel(panel(), freq="month").spec is not None
    with pytest.raises(ParameterError, match="contradicts"):
        CorridorGraph.from_panel(panel(), freq="quarter")
    with pytest.raises(ParameterError, match="contradicts"):
        fl.graphs_by_period(panel(), freq="1q")
    with pytest.raises(ParameterError, match="contradicts"):
        fl.corridor_changes(panel(), freq="1y")
    with pytest.raises(ParameterError, match="no 'period' column"):
        CorridorGraph.from_panel(panel().drop("period"), freq="1mo")


def test_corridor_changes_lays_corridors_on_every_period_of_the_frequency() -> None:
    # March is missing from the panel altogether: it is a zero, not skipped
    gap = panel().vstack(panel().head(1).with_columns(period=pl.lit(dt.date(2024, 4, 1))))
    changes = fl.corridor_changes(gap).filter(origin="USA", destination="MEX")
    assert changes["period"].to_list() == [JAN, FEB, MAR, dt.date(2024, 4, 1)]
    assert changes["status"].to_list() == ["new", "continuing", "vanished", "new"]


def test_flow_type_is_one_value_or_several_and_checked() -> None:
    one = CorridorGraph.from_panel(panel(), flow_type="philanthropy")
    assert one.edges.select("origin", "destination").rows() == [("USA", "MEX")]
    assert one.flow_type == ("philanthropy",)
    both = CorridorGraph.from_panel(panel(), flow_type=["remittance", "philanthropy"])
    assert both.edges["amount_usd"].sum() == 150.0
    with pytest.raises(ParameterError, match="Did you mean 'remittance'"):
        CorridorGraph.from_panel(panel(), flow_type="remitance")
    with pytest.raises(ParameterError, match="selects nothing"):
        CorridorGraph.from_panel(panel(), flow_type=[])
    with pytest.raises(MissingColumnError, match="'flow_type'"):
        CorridorGraph.from_panel(panel().drop("flow_type"), flow_type="remittance")


def test_bad_parameters_raise_parameter_error() -> None:
    graph = CorridorGraph.from_panel(panel())
    for n in (0, -1, 2.5, True):
        with pytest.raises(ParameterError, match="positive whole number"):
            graph.top_corridors(n)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="resolution"):
        graph.centrality(resolution=0)
    with pytest.raises(fl.InputFormatError):
        CorridorGraph.from_panel([1, 2, 3])
    with pytest.raises(SchemaError, match="not a number"):
        CorridorGraph.from_panel(panel().with_columns(pl.col("amount_usd").cast(pl.String)))


def test_an_empty_panel_gives_an_empty_but_valid_graph() -> None:
    graph = CorridorGraph.from_panel(panel().clear())
    assert (graph.edges.height, graph.nodes.height) == (0, 0)
    assert repr(graph) == "CorridorGraph(0 countries, 0 corridors, USD 0; all)"
    for table in (
        graph.top_corridors(3),
        graph.strength(),
        graph.inflow_shares(),
        graph.concentration(),
        graph.exposure(origins="USA"),
        graph.centrality(),
        graph.cost(),
    ):
        assert table.height == 0
    assert graph.centrality().columns == [
        "country", "in_usd", "out_usd", "pagerank", "betweenness", "community",
    ]  # fmt: skip
    summary = graph.cost_summary()
    assert list(summary) == list(CorridorGraph.from_panel(panel()).cost_summary())
    assert all(math.isnan(v) for v in summary.values())
    assert graph.to_networkx().number_of_nodes() == 0
    assert fl.graphs_by_period(panel().clear()) == {}
    assert fl.corridor_changes(panel().clear()).height == 0
    # a flow type with no rows is an empty graph too, not an error
    assert CorridorGraph.from_panel(panel(), flow_type="trade_investment").edges.height == 0


def test_cost_summary_has_the_same_keys_with_and_without_volume() -> None:
    priced = CorridorGraph.from_panel(panel()).cost_summary()
    unpriced = CorridorGraph.from_panel(panel().drop("fee_usd")).cost_summary()
    assert list(priced) == list(unpriced) == [
        "weighted_average_pct", "volume_share_above_5pct", "meets_sdg_average",
    ]  # fmt: skip
    assert priced["meets_sdg_average"] == 0.0


def test_results_are_frozen() -> None:
    graph = CorridorGraph.from_panel(panel())
    with pytest.raises(AttributeError):
        graph.value = "x"  # type: ignore[misc]


CODES = ("USA", "GBR", "ESP", "MEX", "GTM", "PHL", "IND")


@st.composite
def panels(draw: st.DrawFn) -> pl.DataFrame:
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(CODES),
                st.sampled_from(CODES),
                st.sampled_from([JAN, FEB, MAR]),
                st.sampled_from(["remittance", "philanthropy"]),
                st.integers(1, 1000),  # whole amounts: sums are exact in any order
                st.integers(0, 50),
            ).filter(lambda r: r[0] != r[1]),
            min_size=1,
            max_size=30,
            unique_by=lambda r: (r[0], r[1], r[2], r[3]),  # a panel: one row per cell
        )
    )
    origin, destination, period, flow_type, amount, fee = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "period": period,
            "origin": origin,
            "destination": destination,
            "flow_type": flow_type,
            "amount_usd": [float(a) for a in amount],
            "fee_usd": [float(f) for f in fee],
        }
    )


@settings(max_examples=40, deadline=None)
@given(panels(), st.randoms(use_true_random=False))
def test_shuffled_rows_give_identical_measures(frame: pl.DataFrame, rng: Any) -> None:
    order = list(range(frame.height))
    rng.shuffle(order)
    shuffled = frame[order]
    a, b = CorridorGraph.from_panel(frame), CorridorGraph.from_panel(shuffled)
    assert a.edges.equals(b.edges)
    assert a.nodes.equals(b.nodes)
    assert a.concentration().equals(b.concentration())
    assert a.inflow_shares().equals(b.inflow_shares())
    sender = a.edges["origin"].min() or "USA"  # a sender of the graph (USA may send nothing)
    assert a.exposure(origins=sender).equals(b.exposure(origins=sender))
    assert a.cost().equals(b.cost())
    assert a.centrality(seed=3).equals(b.centrality(seed=3))
    assert fl.corridor_changes(frame).equals(fl.corridor_changes(shuffled))
