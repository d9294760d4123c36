"""Every result type reads well in a notebook (HTML) and a terminal (repr), and never computes to show."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import flowlens as fl
from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal


def test_validation_report_shows_rules_and_reasons_once_computed() -> None:
    report = fl.load_flows(fl.load_sample("flows"))
    html = report._repr_html_()
    assert "4,013 rows in" in html and "12 rejected" in html
    assert "<td>date</td><td style='text-align:right'>1</td>" in html
    assert "is not a valid date" in html
    assert "rejected=12" in repr(report)


def test_a_lazy_report_is_not_computed_to_show_it(tmp_path: Path) -> None:
    path = tmp_path / "flows <raw>.csv"
    fl.load_sample("flows").write_csv(path)
    report = fl.load_flows(path)
    html, text = report._repr_html_(), repr(report)
    assert not report.is_computed
    assert "not computed yet" in html and "not computed yet" in text
    assert "&lt;raw&gt;" in html and "<raw>" not in html  # the source name is escaped


def test_surge_result_lists_its_strongest_flags() -> None:
    result = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination", "flow_type"])
    html = result._repr_html_()
    flagged = int(result.scored["flag"].sum())
    assert f"{flagged:,} flagged" in html
    top = result.scored.filter(pl.col("flag")).sort("score", descending=True).row(0, named=True)
    assert f"<td>{top['period']}</td>" in html
    assert html.count("<tr>") == 1 + min(flagged, 5)
    assert f"flagged={flagged}" in repr(result)


def test_informal_estimate_shows_the_summary_per_scenario() -> None:
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
    panel = pl.DataFrame(
        {"period": months, "origin": "USA", "destination": "SOM", "amount_usd": 1.8e7}
    )
    costs = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "cost_pct": [7.5]})
    estimate = estimate_informal(
        panel,
        DeRiskingScenario("closure", start="2015-02-06"),
        baseline=baseline_from_costs(panel, costs),
        draws=200,
    )
    html = estimate._repr_html_()
    assert "200 draws" in html and "<td>closure</td>" in html
    assert "informal_p50" in html
    assert "draws=200" in repr(estimate)


def test_corridor_graph_shows_its_largest_corridors() -> None:
    panel = fl.corridor_panel(fl.load_flows(fl.load_sample("flows")), freq="year")
    graph = fl.CorridorGraph.from_panel(panel)
    top = graph.edges.sort("amount_usd", descending=True).row(0, named=True)
    assert f"{top['origin']} &rarr; {top['destination']}" in graph._repr_html_()
    assert "corridors" in repr(graph)
