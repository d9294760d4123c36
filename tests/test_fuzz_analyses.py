"""Fuzzing the analyses: malformed frames into every public function; only FlowlensError may escape.

Each public function of surge, informal, graph, bilateral, orgs and plot gets a
valid table mutated at random: a column dropped, cast to another dtype, nulled,
set to NaN, inf, a negative, text, a date in year 1 or 2924; rows emptied or
duplicated. The property: the call returns, or raises a
:class:`flowlens.errors.FlowlensError` (never a raw polars, numpy, networkx or
Python exception). Run longer with ``FLOWLENS_FUZZ_EXAMPLES=2000``. These are catalogue
case FZ-01 of docs/bad_inputs.md.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowlens import bilateral, orgs, plot
from flowlens.errors import FlowlensError, ParameterError, SchemaError
from flowlens.graph import CorridorGraph, corridor_changes, graphs_by_period, inflow_context
from flowlens.informal import (
    DeRiskingScenario,
    baseline_from_costs,
    baseline_from_gap,
    baseline_observed,
    derisking_effect,
    derisking_exposure,
    estimate_informal,
    sensitivity,
)
from flowlens.surge import (
    attribute_surges,
    detect_surges,
    evaluate_surges,
    event_study,
    level_shifts,
    surge_episodes,
)

mpl.use("Agg")

EXAMPLES = int(os.environ.get("FLOWLENS_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MONTHS = pl.date_range(dt.date(2022, 1, 1), dt.date(2023, 12, 1), "1mo", eager=True)


def _panel() -> pl.DataFrame:
    """A valid monthly panel: 3 corridors x 24 months, with counts, costs and channels."""
    corridors = pl.DataFrame(
        {
            "origin": ["USA", "GBR", "USA"],
            "destination": ["SOM", "SOM", "KEN"],
            "flow_type": ["remittance"] * 3,
            "scale": [100.0, 40.0, 10.0],
        }
    )
    return (
        pl.DataFrame({"period": MONTHS})
        .join(corridors, how="cross")
        .with_columns(
            amount_usd=pl.col("scale") * (1 + pl.col("period").dt.month() / 10),
            n_transfers=pl.lit(50, pl.Int64),
            cost_pct=pl.lit(6.5),
        )
        .drop("scale")
        .sort("period", "origin", "destination")
    )


PANEL = _panel()
FLOWS = pl.DataFrame(
    {
        "date": [dt.date(2022, 8, 25), dt.date(2022, 8, 30), dt.date(2022, 9, 2)],
        "origin": ["GBR", "USA", "GBR"],
        "destination": ["PAK", "PAK", "PAK"],
        "flow_type": ["philanthropy"] * 3,
        "channel": ["bank", "informal", "mto"],
        "amount_usd": [100.0, 50.0, 25.0],
        "org_id": ["O1", "O2", "O1"],
    }
)
STOCK = pl.DataFrame(
    {"origin": ["USA", "GBR"], "destination": ["SOM", "SOM"], "migrants": [100.0, 50.0]}
)
TOTALS = pl.DataFrame({"destination": ["SOM"], "amount_usd": [300.0]})
EVENTS = pl.DataFrame(
    {
        "event_id": ["e1"],
        "country": ["SOM"],
        "start": [dt.date(2023, 3, 1)],
        "kind": ["drought"],
        "name": ["drought"],
    }
)
COSTS = pl.DataFrame(
    {"origin": ["USA", "GBR"], "destination": ["SOM", "SOM"], "cost_pct": [7.0, 5.0]}
)
BASE = baseline_from_costs(
    PANEL,
    COSTS.vstack(pl.DataFrame({"origin": ["USA"], "destination": ["KEN"], "cost_pct": [4.0]})),
)
AID = pl.DataFrame({"country": ["SOM"], "year": [2023], "aid_usd": [50.0]})
DERISKING = pl.DataFrame(
    {
        "event_id": ["d1"],
        "effective_date": [dt.date(2023, 6, 1)],
        "origin": ["USA"],
        "destination": ["SOM"],
    }
)
SCENARIO = DeRiskingScenario("closure", origin="USA", destination="SOM", start="2023-02-01")

ODD = {
    "null": None,
    "nan": float("nan"),
    "inf": float("inf"),
    "negative": -5.0,
    "text": "x",
    "zero": 0.0,
    "huge": 1e308,
    "year1": dt.date(1, 1, 1),
    "year2924": dt.date(2924, 1, 1),
    "datetime": dt.datetime(2023, 1, 15, 10, 30),
    "bool": True,
}
DTYPES = [pl.String, pl.Int64, pl.Float64, pl.Boolean, pl.Date, pl.Null, pl.Categorical]


@st.composite
def mutated(draw: st.DrawFn, base: pl.DataFrame) -> pl.DataFrame:
    """``base`` with one to three mutations."""
    frame = base
    for _ in range(draw(st.integers(1, 3))):
        columns = frame.columns
        kind = draw(
            st.sampled_from(
                ["drop", "cast", "cell", "column", "empty", "duplicate", "rename", "extra"]
            )
        )
        if kind == "empty":
            frame = frame.head(0)
        elif kind == "duplicate" and frame.height:
            frame = pl.concat([frame, frame.head(draw(st.integers(1, frame.height)))])
        elif not columns:
            continue
        elif kind == "extra":
            frame = frame.with_columns(pl.lit(draw(st.sampled_from(["a", 1, 2.5]))).alias("extra"))
        else:
            name = draw(st.sampled_from(columns))
            frame = _mutate(draw, frame, name, kind)
    return frame


def _mutate(draw: st.DrawFn, frame: pl.DataFrame, name: str, kind: str) -> pl.DataFrame:  # noqa: PLR0911 - one return per mutation
    if kind == "drop":
        return frame.drop(name)
    if kind == "rename":
        return frame.rename({name: name.upper()})
    if kind == "cast":
        dtype = draw(st.sampled_from(DTYPES))
        try:
            return frame.with_columns(pl.col(name).cast(dtype, strict=False))
        except pl.exceptions.PolarsError:  # a cast polars cannot do: a null column of that type
            return frame.with_columns(pl.lit(None, dtype).alias(name))
    odd = draw(st.sampled_from(list(ODD)))
    if kind == "column":
        return frame.with_columns(pl.lit(ODD[odd]).alias(name))
    if not frame.height:
        return frame
    row = draw(st.integers(0, frame.height - 1))
    values = frame[name].to_list()
    values[row] = ODD[odd]
    try:
        return frame.with_columns(pl.Series(name, values, dtype=frame[name].dtype, strict=False))
    except Exception:
        return frame.with_columns(pl.Series(name, [str(v) for v in values]))


def _graph(panel: Any) -> CorridorGraph:
    return CorridorGraph.from_panel(panel)


def _graph_all(panel: Any) -> None:
    graph = _graph(panel)
    graph.top_corridors(3)
    graph.strength()
    graph.inflow_shares()
    graph.concentration()
    graph.exposure(origins=["USA"])
    graph.centrality()
    graph.cost()
    graph.cost_summary()
    graph.edge_list()
    graph.to_networkx()


PANEL_CALLS: dict[str, Callable[[Any], object]] = {
    "detect_surges": lambda p: detect_surges(p, method="rolling", window=3),
    "detect_surges_seasonal": detect_surges,
    "surge_chain": lambda p: attribute_surges(
        surge_episodes(detect_surges(p, method="rolling", window=3)), EVENTS
    ),
    "event_study": lambda p: event_study(
        detect_surges(p, method="rolling", window=3), country="SOM", start="2023-03-01"
    ),
    "level_shifts": lambda p: level_shifts(detect_surges(p, method="rolling", window=3)),
    "graph": _graph_all,
    "graph_period": lambda p: CorridorGraph.from_panel(p, period="2023-01-01"),
    "graphs_by_period": graphs_by_period,
    "corridor_changes": corridor_changes,
    "inflow_context": lambda p: inflow_context(p, AID, against="aid_usd"),
    "estimate_informal": lambda p: estimate_informal(p, SCENARIO, baseline=BASE, draws=20),
    "derisking_exposure": lambda p: derisking_exposure(p, "USA", baseline=BASE, draws=20),
    "sensitivity": lambda p: sensitivity(p, SCENARIO, baseline=BASE),
    "derisking_effect": lambda p: derisking_effect(p, DERISKING, draws=20, history=6, horizon=2),
    "baseline_from_costs": lambda p: baseline_from_costs(p, COSTS),
    "baseline_from_gap": lambda p: baseline_from_gap(p, STOCK),
    "plot_top_corridors": lambda p: plot.top_corridors(p, n=3),
    "plot_surge_timeline": lambda p: plot.surge_timeline(
        detect_surges(p, method="rolling", window=3),
        series={"origin": "United States", "destination": "Somalia"},
    ),
}
FLOW_CALLS: dict[str, Callable[[Any], object]] = {
    "baseline_observed": baseline_observed,
    "organisation_flows": orgs.organisation_flows,
    "organisation_graph": orgs.organisation_graph,
    "crisis_senders": lambda f: orgs.crisis_senders(f, country="PAK", start="2022-08-25"),
}
TABLE_CALLS: dict[str, tuple[pl.DataFrame, Callable[[Any], object]]] = {
    "estimate_bilateral_totals": (TOTALS, lambda t: bilateral.estimate_bilateral(t, STOCK)),
    "estimate_bilateral_stock": (STOCK, lambda s: bilateral.estimate_bilateral(TOTALS, s)),
    "compare_bilateral": (
        STOCK.rename({"migrants": "amount_usd"}),
        lambda e: bilateral.compare_bilateral(e, e),
    ),
    "attribute_surges_events": (
        EVENTS,
        lambda e: attribute_surges(
            surge_episodes(detect_surges(PANEL, method="rolling", window=3)), e
        ),
    ),
    "derisking_effect_events": (
        DERISKING,
        lambda e: derisking_effect(PANEL, e, draws=20, history=6, horizon=2),
    ),
    "estimate_informal_baseline": (
        BASE,
        lambda b: estimate_informal(PANEL, SCENARIO, baseline=b, draws=20),
    ),
    "evaluate_surges_truth": (
        PANEL.select(
            "period",
            "origin",
            "destination",
            "flow_type",
            baseline_usd="amount_usd",
            excess_usd=pl.lit(0.0),
        ),
        lambda t: evaluate_surges(
            surge_episodes(detect_surges(PANEL, method="rolling", window=3)), t
        ),
    ),
}


def only_flowlens_errors(call: Callable[[Any], object], frame: Any) -> None:
    import matplotlib.pyplot as plt

    try:
        call(frame)
    except FlowlensError:
        pass
    finally:
        plt.close("all")


def test_the_valid_inputs_pass() -> None:
    """The unmutated inputs run through every call without any error."""
    import matplotlib.pyplot as plt

    for call in PANEL_CALLS.values():
        call(PANEL)
    for call in FLOW_CALLS.values():
        call(FLOWS)
    for table, call in TABLE_CALLS.values():
        call(table)
    plt.close("all")


@pytest.mark.parametrize("name", sorted(PANEL_CALLS))
@FUZZ
@given(data=st.data())
def test_panels(name: str, data: st.DataObject) -> None:
    frame = data.draw(mutated(PANEL))
    only_flowlens_errors(PANEL_CALLS[name], frame)


@pytest.mark.parametrize("name", sorted(FLOW_CALLS))
@FUZZ
@given(data=st.data())
def test_flows(name: str, data: st.DataObject) -> None:
    frame = data.draw(mutated(FLOWS))
    only_flowlens_errors(FLOW_CALLS[name], frame)


@pytest.mark.parametrize("name", sorted(TABLE_CALLS))
@FUZZ
@given(data=st.data())
def test_tables(name: str, data: st.DataObject) -> None:
    table, call = TABLE_CALLS[name]
    only_flowlens_errors(call, data.draw(mutated(table)))


# --- the catalogue (docs/bad_inputs.md, section "Analyses: checked at every entry") ------


def _graph_of(panel: pl.DataFrame = PANEL) -> CorridorGraph:
    return CorridorGraph.from_panel(panel)


def _with(column: str, value: Any, row: int = 0) -> pl.DataFrame:
    values = PANEL[column].to_list()
    values[row] = value
    return PANEL.with_columns(pl.Series(column, values, dtype=PANEL[column].dtype, strict=False))


def _scored() -> Any:
    return detect_surges(PANEL, method="rolling", window=3)


def _wide_daily() -> pl.DataFrame:
    """800 series, each with a day in 1901 and one in 2099: 58 million dense cells."""
    n = 800
    wide = pl.DataFrame(
        {
            "period": [dt.date(1901, 1, 1), dt.date(2099, 1, 1)] * n,
            "origin": [f"S{i}" for i in range(n) for _ in range(2)],
            "amount_usd": 1.0,
        }
    )
    next_day = pl.DataFrame({"period": [dt.date(1901, 1, 2)], "origin": ["S0"], "amount_usd": 1.0})
    return pl.concat([wide, next_day])  # one day apart: a daily panel


def _daily_2924() -> pl.DataFrame:
    days = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 3, 31), "1d", eager=True)
    panel = pl.DataFrame({"period": days, "destination": "MEX", "amount_usd": 1.0})
    odd = pl.DataFrame({"period": [dt.date(2924, 1, 1)], "destination": "MEX", "amount_usd": 1.0})
    return pl.concat([panel, odd])


ERRORS: list[Any] = [
    # class 3: countries normalised like the data, unknown or absent ones refused
    pytest.param(lambda: DeRiskingScenario("s", origin="ZZZ"), ParameterError, "'ZZZ' is not a country", id="AN-01-scenario-unknown-country"),
    pytest.param(lambda: DeRiskingScenario("s", destination=["SOM", "Atlantis"]), ParameterError, "'Atlantis' is not a country", id="AN-02-scenario-unknown-name"),
    pytest.param(lambda: estimate_informal(PANEL, DeRiskingScenario("s", origin="FRA"), baseline=BASE, draws=20), ParameterError, "selects no corridor of the panel", id="AN-03-scenario-matches-no-corridor"),
    pytest.param(lambda: sensitivity(PANEL, DeRiskingScenario("s", origin="France"), baseline=BASE), ParameterError, "selects no corridor", id="AN-04-sensitivity-scenario-no-corridor"),
    pytest.param(lambda: event_study(_scored(), country="Atlantis", start="2023-03-01"), ParameterError, "'Atlantis' is not a country", id="AN-05-event-study-unknown-country"),
    pytest.param(lambda: event_study(_scored(), country="FRA", start="2023-03-01"), ParameterError, "none is among the scores' receiving countries", id="AN-06-event-study-absent-country"),
    pytest.param(lambda: _graph_of().exposure(origins=["ZZZ"]), ParameterError, "'ZZZ' is not a country", id="AN-07-exposure-unknown-origin"),
    pytest.param(lambda: _graph_of().exposure(origins="FRA"), ParameterError, "none is among the graph's senders", id="AN-08-exposure-absent-origin"),
    pytest.param(lambda: _graph_of().exposure(corridors=[("USA", "MEX")]), ParameterError, "none is among the graph's corridors", id="AN-09-exposure-absent-corridor"),
    pytest.param(lambda: derisking_exposure(PANEL, "ZZZ", baseline=BASE, draws=20), ParameterError, "'ZZZ' is not a country", id="AN-10-derisking-exposure-unknown-origin"),
    pytest.param(lambda: orgs.crisis_senders(FLOWS, country="Atlantis", start="2022-08-25"), ParameterError, "'Atlantis' is not a country", id="AN-11-crisis-senders-unknown-country"),
    pytest.param(lambda: orgs.crisis_senders(FLOWS, country="FRA", start="2022-08-25"), ParameterError, "none is among the flows' receiving countries", id="AN-12-crisis-senders-absent-country"),
    pytest.param(lambda: plot.surge_timeline(_scored(), series={"destination": "Atlantis"}), ParameterError, "'Atlantis' is not a country", id="AN-13-surge-timeline-unknown-country"),
    # class 3: parameters: NaN, inf, bool, negative raise with the value
    pytest.param(lambda: detect_surges(PANEL, threshold=float("nan")), ParameterError, "threshold must be a number above 0", id="AN-14-threshold-nan"),
    pytest.param(lambda: detect_surges(PANEL, threshold=True), ParameterError, "threshold must be", id="AN-15-threshold-bool"),
    pytest.param(lambda: detect_surges(PANEL, min_uplift=float("inf")), ParameterError, "min_uplift must be", id="AN-16-min-uplift-inf"),
    pytest.param(lambda: detect_surges(PANEL, method="rolling", window=3, min_periods=True), ParameterError, "min_periods must be", id="AN-17-min-periods-bool"),
    pytest.param(lambda: level_shifts(_scored(), drift=float("nan")), ParameterError, "finite drift", id="AN-18-level-shifts-drift-nan"),
    pytest.param(lambda: level_shifts(_scored(), persist=10**9), ParameterError, "persist from 1 to the periods", id="AN-19-level-shifts-persist-unbounded"),
    pytest.param(lambda: event_study(_scored(), country="SOM", start="2023-03-01", horizon=True), ParameterError, "horizon must be", id="AN-20-horizon-bool"),
    pytest.param(lambda: evaluate_surges(surge_episodes(_scored()), PANEL, min_uplift=float("nan")), ParameterError, "shares of at least 0", id="AN-21-evaluate-uplift-nan"),
    pytest.param(lambda: _graph_of().centrality(resolution=float("inf")), ParameterError, "resolution must be", id="AN-22-centrality-resolution-inf"),
    pytest.param(lambda: _graph_of().centrality(seed=-1), ParameterError, "seed must be", id="AN-23-centrality-seed-negative"),
    pytest.param(lambda: plot.corridor_network(_graph_of(), seed=-1), ParameterError, "seed must be", id="AN-24-network-seed-negative"),
    pytest.param(lambda: orgs.crisis_senders(FLOWS, country="PAK", start="2022-08-25", days=10**8), ParameterError, "past 2100-12-31", id="AN-25-crisis-window-unbounded"),
    # class 3: panels passed directly: NaN, inf, negatives, huge values, null keys, odd dates
    pytest.param(lambda: detect_surges(_with("amount_usd", float("nan"))), SchemaError, "NaN or infinite", id="AN-26-surge-nan-amount"),
    pytest.param(lambda: _graph_of(_with("amount_usd", float("inf"))), SchemaError, "NaN or infinite", id="AN-27-graph-inf-amount"),
    pytest.param(lambda: _graph_of(_with("amount_usd", -5.0)), SchemaError, "negative value", id="AN-28-graph-negative-amount"),
    pytest.param(lambda: estimate_informal(_with("amount_usd", 1e308), SCENARIO, baseline=BASE, draws=20), SchemaError, "beyond 1e+18", id="AN-29-informal-huge-amount"),
    pytest.param(lambda: estimate_informal(_with("origin", None), SCENARIO, baseline=BASE, draws=20), SchemaError, "'origin' is null in 1 row", id="AN-30-informal-null-origin"),
    pytest.param(lambda: estimate_informal(_with("n_transfers", -1), SCENARIO, baseline=BASE, draws=20), SchemaError, "'n_transfers' has 1 negative", id="AN-31-informal-negative-count"),
    pytest.param(lambda: detect_surges(_with("period", dt.date(2924, 1, 1))), SchemaError, "outside 1900-01-01 .. 2100-12-31, e.g. 2924-01-01", id="AN-32-surge-date-2924"),
    pytest.param(lambda: corridor_changes(_with("period", dt.date(1, 1, 1))), SchemaError, "e.g. 0001-01-01", id="AN-33-changes-date-year-1"),
    pytest.param(lambda: bilateral.estimate_bilateral(TOTALS, STOCK.with_columns(migrants=pl.Series([1.0, float("nan")]))), SchemaError, "'migrants' has 1 NaN", id="AN-34-bilateral-nan-migrants"),
    pytest.param(lambda: bilateral.estimate_bilateral(TOTALS.with_columns(destination=pl.lit(None, pl.String)), STOCK), SchemaError, "'destination' is null", id="AN-35-bilateral-null-key"),
    pytest.param(lambda: bilateral.compare_bilateral(STOCK.rename({"migrants": "amount_usd"}), STOCK.rename({"migrants": "amount_usd"}).with_columns(amount_usd=-pl.col("amount_usd"))), SchemaError, "negative value", id="AN-36-compare-negative"),
    pytest.param(lambda: orgs.organisation_flows(FLOWS.with_columns(amount_usd=pl.Series([1.0, float("inf"), 2.0]))), SchemaError, "NaN or infinite", id="AN-37-orgs-inf-amount"),
    pytest.param(lambda: baseline_observed(FLOWS.with_columns(origin=pl.Series(["GBR", None, "GBR"]))), SchemaError, "'origin' is null", id="AN-38-observed-null-origin"),
    pytest.param(lambda: plot.top_corridors(_with("amount_usd", float("nan"))), SchemaError, "NaN or infinite", id="AN-39-plot-nan-amount"),
    pytest.param(lambda: inflow_context(PANEL, AID.with_columns(aid_usd=pl.lit(float("nan"))), against="aid_usd"), SchemaError, "'aid_usd' has 1 NaN", id="AN-40-inflow-context-nan-series"),
    pytest.param(lambda: derisking_effect(_with("amount_usd", float("nan")), DERISKING, draws=20), SchemaError, "NaN or infinite", id="AN-41-derisking-effect-nan"),
    # class 5: bounded resources
    pytest.param(lambda: detect_surges(_daily_2924()), SchemaError, "e.g. 2924-01-01", id="AN-42-daily-2924-refused-before-scoring"),
    pytest.param(lambda: detect_surges(_wide_daily(), method="rolling", window=3), ParameterError, "more than 50,000,000", id="AN-43-dense-array-bounded"),
    pytest.param(lambda: corridor_changes(_wide_daily().with_columns(destination=pl.lit("MEX"))), ParameterError, "more than 50,000,000", id="AN-44-changes-grid-bounded"),
    # class 4: only FlowlensError: text periods, empty panels, datetimes, unforeseen dtypes
    pytest.param(lambda: detect_surges(PANEL.with_columns(pl.col("period").cast(pl.String))), SchemaError, "not a date", id="AN-45-surge-text-period"),
    pytest.param(lambda: estimate_informal(PANEL.head(0), SCENARIO, baseline=BASE), SchemaError, "has no rows with a amount_usd", id="AN-46-informal-empty-panel-schema-error"),
    pytest.param(lambda: CorridorGraph.from_panel(PANEL, period="2021-01-01"), ParameterError, "is not a period of the panel", id="AN-47-graph-period-absent"),
    pytest.param(lambda: surge_episodes(_scored().scored.with_columns(pl.col("flag").cast(pl.String))), SchemaError, "surge_episodes cannot use this table", id="AN-48-unforeseen-dtype-net"),
    pytest.param(lambda: _graph_of(PANEL.with_columns(origin=pl.lit(3))), SchemaError, "not text", id="AN-49-graph-numeric-key"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), ERRORS)
def test_catalogued_bad_inputs(call: Callable[[], object], error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_scenario_countries_are_normalised_like_the_data() -> None:
    """AN-50: "US", "United States", "usa" are USA, in scenarios and every country argument."""
    for spelling in ("US", "United States", "usa", " USA "):
        assert DeRiskingScenario("s", origin=spelling).origin == ("USA",)
    by_code = estimate_informal(PANEL, SCENARIO, baseline=BASE, draws=20, seed=1)
    by_name = estimate_informal(
        PANEL,
        SCENARIO.with_(origin="United States", destination="Somalia"),
        baseline=BASE,
        draws=20,
        seed=1,
    )
    assert by_code.summary.equals(by_name.summary)
    graph = _graph_of()
    assert graph.exposure(origins="US").equals(graph.exposure(origins="USA"))
    assert graph.exposure(corridors=[("US", "Somalia")]).equals(
        graph.exposure(corridors=[("USA", "SOM")])
    )
    assert derisking_exposure(PANEL, "US", baseline=BASE, draws=20).equals(
        derisking_exposure(PANEL, "USA", baseline=BASE, draws=20)
    )
    scored = _scored()
    assert event_study(scored, country="Somalia", start="2023-03-01").equals(
        event_study(scored, country="SOM", start="2023-03-01")
    )
    assert orgs.crisis_senders(FLOWS, country="Pakistan", start="2022-08-25").equals(
        orgs.crisis_senders(FLOWS, country="PAK", start="2022-08-25")
    )


def test_an_empty_graph_stays_valid() -> None:
    """AN-51: an empty panel gives an empty graph; centrality and exposure are empty tables."""
    graph = _graph_of(PANEL.head(0))
    assert graph.centrality().is_empty()
    assert graph.exposure(origins="USA").is_empty()
