"""Who does what where: organisations, the bipartite graph, and crisis responders, on synthetic truth."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import flowlens as fl
from flowlens.orgs import crisis_senders, organisation_flows, organisation_graph
from flowlens.synth import CrisisEvent, SynthConfig, generate


@pytest.fixture(scope="module")
def flows() -> pl.DataFrame:
    config = SynthConfig(
        n_corridors=60,
        start="2022-01-01",
        end="2022-12-31",
        crises=(CrisisEvent("PAK", "2022-08-25", magnitude=0.8),),
        n_random_crises=0,
    )
    result = generate(150_000, seed=5, config=config).flows
    assert result is not None
    return result


def test_organisation_table_totals_match_philanthropy(flows: pl.DataFrame) -> None:
    table = organisation_flows(flows)
    philanthropy = flows.filter(flow_type="philanthropy")
    assert table["amount_usd"].sum() == pytest.approx(philanthropy["amount_usd"].sum(), rel=1e-12)
    assert table["n_transfers"].sum() == philanthropy.height
    assert set(table["flow_type"]) == {"philanthropy"}


def test_bipartite_graph(flows: pl.DataFrame) -> None:
    graph = organisation_graph(flows)
    orgs = {n for n, d in graph.nodes(data=True) if d["bipartite"] == 0}
    assert all(o.startswith("O") for o in orgs)
    total = sum(w for _, _, w in graph.edges(data="weight"))
    assert total == pytest.approx(
        flows.filter(flow_type="philanthropy")["amount_usd"].sum(), rel=1e-9
    )


def test_crisis_senders_respond_within_days(flows: pl.DataFrame) -> None:
    responders = crisis_senders(flows, country="PAK", start="2022-08-25", days=14)
    assert responders.height > 0
    assert responders["days_to_first"].min() <= 3  # philanthropy arrives within days
    window = flows.filter(
        pl.col("org_id").is_not_null(),
        pl.col("date").is_between(dt.date(2022, 8, 25), dt.date(2022, 9, 7)),
        destination="PAK",
    )
    assert responders["amount_usd"].sum() == pytest.approx(window["amount_usd"].sum(), rel=1e-12)


def test_without_org_ids_the_error_says_so() -> None:
    clean = fl.load_flows(fl.load_sample("flows")).clean
    with pytest.raises(fl.MissingColumnError, match="org_id"):
        organisation_flows(clean)
