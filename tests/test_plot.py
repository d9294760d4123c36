"""Every chart renders to a non-empty PNG and SVG, offline, from real or synthetic results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import flowlens as fl

pytest.importorskip("matplotlib")
from matplotlib.image import imread

from flowlens import plot
from flowlens.errors import MissingColumnError, ParameterError
from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal


def rendered(fig: Any, path: Path) -> np.ndarray:
    """Write ``fig`` as PNG and SVG; the PNG's pixels (checked to be a real image)."""
    fig.savefig(path.with_suffix(".png"), dpi=60)
    fig.savefig(path.with_suffix(".svg"))
    assert path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in path.with_suffix(".svg").read_bytes()[:2000]
    pixels = imread(path.with_suffix(".png"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(pixels[..., :3].std()) > 0.02, "a blank image"
    return pixels


@pytest.fixture(scope="module")
def yearly_graph() -> fl.CorridorGraph:
    panel = fl.corridor_panel(fl.load_flows(fl.load_sample("flows")), freq="year")
    return fl.CorridorGraph.from_panel(panel)


def test_top_corridors_and_network(yearly_graph: fl.CorridorGraph, tmp_path: Path) -> None:
    fig = plot.top_corridors(yearly_graph, n=8)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    top = yearly_graph.edges.sort("amount_usd", descending=True).row(0, named=True)
    assert labels[-1] == f"{top['origin']} → {top['destination']}"
    assert len(labels) == 8
    rendered(fig, tmp_path / "top")
    network = plot.corridor_network(yearly_graph, n=12)
    assert network.axes[0].get_title() == "Largest 12 corridors"
    rendered(network, tmp_path / "network")


def test_surge_timeline_on_banxico_with_events(tmp_path: Path) -> None:
    result = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination", "flow_type"])
    events = pl.DataFrame(
        {"date": ["2017-09-07", "2020-03-01"], "label": ["earthquake", "COVID-19"]}
    )
    fig = plot.surge_timeline(result, series={"destination": "MEX"}, events=events)
    ax = fig.axes[0]
    flagged = int(result.scored["flag"].sum())
    assert f"surge ({flagged})" in ax.get_legend_handles_labels()[1]
    assert [t.get_text() for t in ax.texts] == ["earthquake", "COVID-19"]
    # Banco de Mexico's 2003 change of method is drawn as a level shift, not a surge
    assert "level shift (3)" in ax.get_legend_handles_labels()[1]
    # the band of a log score is baseline x exp(+-t scale), not baseline +- t scale
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    t = result.threshold
    row = result.scored.drop_nulls("scale").row(-1, named=True)
    assert max(band) == pytest.approx(
        max(result.scored.drop_nulls("scale").select(
            pl.col("baseline") * (t * pl.col("scale")).exp())["baseline"]), rel=1e-9)  # fmt: skip
    assert row["baseline"] * np.exp(t * row["scale"]) > row["baseline"] * 1.05
    rendered(fig, tmp_path / "timeline")


def test_surge_timeline_says_which_series_to_pick() -> None:
    flows = fl.synth.generate(20_000, seed=4).flows
    result = fl.detect_surges(fl.corridor_panel(flows), by=["destination", "flow_type"])
    with pytest.raises(ParameterError, match="series="):
        plot.surge_timeline(result)
    with pytest.raises(ParameterError, match="not a key"):
        plot.surge_timeline(result, series={"country": "MEX"})
    with pytest.raises(ParameterError, match="not a date"):
        plot.surge_timeline(
            result, series={"destination": "MEX", "flow_type": "remittance"}, events=["March 2020"]
        )


def test_event_response_by_diaspora(tmp_path: Path) -> None:
    flows = fl.synth.generate(200_000, seed=1).flows
    result = fl.detect_surges(fl.corridor_panel(flows))
    study = fl.event_study(result, country="MEX", start="2020-03-01")
    fig = plot.event_response(study, n=5)
    names = fig.axes[0].get_legend_handles_labels()[1]
    assert 0 < len(names) <= 5
    assert set(names) <= set(study["origin"].cast(pl.String).to_list())
    rendered(fig, tmp_path / "response")


def test_fan_chart_of_a_closure(tmp_path: Path) -> None:
    months = pl.date_range(dt.date(2014, 1, 1), dt.date(2016, 12, 1), "1mo", eager=True)
    panel = pl.DataFrame(
        {"period": months, "origin": "USA", "destination": "SOM", "amount_usd": 1.8e7}
    )
    costs = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "cost_pct": [7.5]})
    scenario = DeRiskingScenario("Merchants Bank closure", destination="SOM", start="2015-02-06")
    estimate = estimate_informal(
        panel, scenario, baseline=baseline_from_costs(panel, costs), draws=300, seed=2
    )
    fig = plot.fan_chart(estimate)
    assert fig.axes[0].get_title() == "informal flows: Merchants Bank closure (draws: 300)"
    rendered(fig, tmp_path / "fan")
    with pytest.raises(ParameterError, match="not in this estimate"):
        plot.fan_chart(estimate, scenario="another")


@pytest.mark.parametrize("kind", ["polars", "lazy", "pandas", "pyarrow"])
def test_top_corridors_reads_value_from_any_table_kind(kind: str) -> None:
    panel = pl.DataFrame(
        {"origin": ["USA", "GBR", "USA"], "destination": ["MEX", "PAK", "MEX"],
         "remitted": [3e9, 5e9, 3e9]}
    )  # fmt: skip
    table: Any = {
        "polars": panel,
        "lazy": panel.lazy(),
        "pandas": panel.to_pandas(),
        "pyarrow": panel.to_arrow(),
    }[kind]
    fig = plot.top_corridors(table, value="remitted")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["GBR → PAK", "USA → MEX"]
    assert [p.get_width() for p in fig.axes[0].patches] == [5e9, 6e9]  # type: ignore[attr-defined]
    assert fig.axes[0].get_xlabel() == "remitted"
    with pytest.raises(MissingColumnError, match="'amount_usd'"):
        plot.top_corridors(table)


def test_charts_of_a_graph_use_its_value_column() -> None:
    panel = pl.DataFrame(
        {"origin": ["USA", "GBR"], "destination": ["MEX", "PAK"], "remitted": [1e9, 2e9]}
    )
    graph = fl.CorridorGraph.from_panel(panel, value="remitted")
    labels = [t.get_text() for t in plot.top_corridors(graph).axes[0].get_yticklabels()]
    assert labels[-1] == "GBR → PAK"
    assert plot.corridor_network(graph, n=1).axes[0].get_title() == "Largest 1 corridors"


def test_bad_counts_raise_parameter_error(yearly_graph: fl.CorridorGraph) -> None:
    for n in (0, -3, 1.5):
        with pytest.raises(ParameterError, match="positive whole number"):
            plot.top_corridors(yearly_graph, n=n)  # type: ignore[arg-type]
        with pytest.raises(ParameterError, match="positive whole number"):
            plot.corridor_network(yearly_graph, n=n)  # type: ignore[arg-type]
