"""Who does what where: organisations, the bipartite graph, and crisis responders, on synthetic truth."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

import flowlens as fl
from flowlens.errors import ParameterError
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


def small_flows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "org_id": ["O1", "O1", "O2", None],
            "origin": ["GBR", "GBR", "USA", "USA"],
            "destination": ["NPL"] * 4,
            "flow_type": ["philanthropy"] * 4,
            "date": [
                dt.date(2015, 4, 27),
                dt.date(2015, 5, 20),
                dt.date(2015, 4, 25),
                dt.date(2015, 4, 26),
            ],
            "gift": [100.0, 50.0, 10.0, 7.0],
        }
    )


@pytest.mark.parametrize("kind", ["polars", "lazy", "pandas", "pyarrow"])
def test_any_table_kind_in_the_same_kind_out(kind: str) -> None:
    frame = small_flows()
    table: Any = {
        "polars": frame,
        "lazy": frame.lazy(),
        "pandas": frame.to_pandas(),
        "pyarrow": frame.to_arrow(),
    }[kind]
    by_org = organisation_flows(table, value="gift")
    assert type(by_org) is type(table)
    rows = (by_org.collect() if kind == "lazy" else pl.DataFrame(by_org)).select("org_id", "gift")
    assert rows.rows() == [("O1", 150.0), ("O2", 10.0)]  # the row without an org is left out
    senders = crisis_senders(table, country="npl", start="2015-04-25", days=30, value="gift")
    assert type(senders) is type(table)
    got = senders.collect() if kind == "lazy" else pl.DataFrame(senders)
    assert got.select("org_id", "gift", "days_to_first").rows() == [
        ("O1", 150.0, 2),
        ("O2", 10.0, 0),
    ]
    graph = organisation_graph(table, value="gift")
    assert graph["O1"]["NPL"]["weight"] == 150.0


def test_bad_arguments_raise_parameter_error() -> None:
    flows = small_flows()
    for days in (0, -1, 2.5):
        with pytest.raises(ParameterError, match="days"):
            crisis_senders(flows, country="NPL", start="2015-04-25", days=days, value="gift")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="not a date"):
        crisis_senders(flows, country="NPL", start="April 2015", value="gift")
    with pytest.raises(ParameterError, match="ISO3"):
        crisis_senders(flows, country="", start="2015-04-25", value="gift")
    with pytest.raises(fl.MissingColumnError, match="'amount_usd'"):
        organisation_flows(flows)
