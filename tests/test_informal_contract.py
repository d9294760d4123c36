"""The contract of issue 17 for flowlens.informal: the frequency read from the panel, random
streams keyed by what they belong to, bad arguments raised (never clipped), results that carry
their settings, any table kind in."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from flowlens._panelspec import PanelSpec
from flowlens.errors import FlowlensError, ParameterError, SchemaError
from flowlens.informal import (
    CostModel,
    DeRiskingScenario,
    Fixed,
    Split,
    Triangular,
    Uniform,
    baseline_from_costs,
    baseline_from_gap,
    derisking_effect,
    derisking_exposure,
    estimate_informal,
    sensitivity,
)

MONTHS = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
QUARTERS = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 10, 1), "1q", eager=True)
FIXED = {
    "withdrawn": Fixed(0.6),
    "cost_increase_pp": Fixed(0.0),
    "cost_elasticity": Fixed(0.0),
    "split": Split(0.5, 0.3, concentration=None),
}


def corridor(periods: pl.Series, amount: float = 100.0) -> pl.DataFrame:
    return pl.DataFrame(
        {"period": periods, "origin": "USA", "destination": "SOM", "amount_usd": amount}
    )


def flat_baseline(panel: pl.DataFrame, log_sd: float = 0.0) -> pl.DataFrame:
    costs = panel.select("origin", "destination").unique().with_columns(cost_pct=pl.lit(7.0))
    return baseline_from_costs(panel, costs, model=CostModel(ratio_at_reference=0.5, log_sd=log_sd))


def channel_panel(seed: int) -> pl.DataFrame:
    """Several corridors, twelve months, three channels per cell, transfer counts (noise on)."""
    rng = np.random.default_rng(seed)
    pairs = [(o, d) for o in ("USA", "GBR", "ARE") for d in ("SOM", "KEN", "PAK")]
    rows = [
        (period, o, d, channel)
        for period in MONTHS.to_list()
        for o, d in pairs
        for channel in ("bank", "mto", "informal")
    ]
    n = len(rows)
    return pl.DataFrame(
        {
            "period": [r[0] for r in rows],
            "origin": [r[1] for r in rows],
            "destination": [r[2] for r in rows],
            "channel": [r[3] for r in rows],
            "amount_usd": rng.lognormal(10, 1, n),
            "n_transfers": rng.integers(0, 400, n),
        }
    )


# -- 1. the frequency comes from the panel ------------------------------------------------------


def test_a_quarterly_panel_is_read_as_quarters_and_prorated_by_their_days() -> None:
    panel = corridor(QUARTERS)
    scenario = DeRiskingScenario(
        "q", origin="USA", destination="SOM", start="2015-02-06", ramp_days=0, **FIXED
    )
    result = estimate_informal(panel, scenario, baseline=flat_baseline(panel), draws=4)
    assert result.spec == PanelSpec(freq="1q", value="amount_usd", keys=("origin", "destination"))
    lost = result.corridors.sort("period")["lost_p50"].to_list()
    # Q1 2015 has 90 days; the closure covers 6 Feb - 31 Mar: 23 + 31 = 54 of them
    assert lost[0] == pytest.approx(100 * 0.6 * 0.2 * 54 / 90)
    assert lost[1:] == pytest.approx([100 * 0.6 * 0.2] * 3)


def test_a_freq_that_contradicts_the_periods_raises_everywhere() -> None:
    panel = corridor(QUARTERS)
    base = flat_baseline(panel)
    scenario = DeRiskingScenario("q", **FIXED)
    calls = {
        "estimate_informal": lambda: estimate_informal(panel, baseline=base, freq="1mo"),
        "sensitivity": lambda: sensitivity(panel, scenario, baseline=base, freq="month"),
        "derisking_exposure": lambda: derisking_exposure(panel, "USA", baseline=base, freq="1mo"),
        "derisking_effect": lambda: derisking_effect(
            panel,
            pl.DataFrame(
                {
                    "event_id": ["e"],
                    "effective_date": [dt.date(2015, 7, 1)],
                    "origin": "USA",
                    "destination": "SOM",
                }
            ),
            freq="1mo",
        ),
    }
    for name, call in calls.items():
        with pytest.raises(ParameterError, match=r"freq='(1mo|month)' contradicts .*1q"):
            call()
        assert name  # each call raised
    # the right freq, spelt another way, is accepted
    assert estimate_informal(panel, baseline=base, freq="quarterly", draws=2).spec.freq == "1q"


# -- 2. determinism: streams keyed by what they belong to ---------------------------------------


def effect_events() -> tuple[pl.DataFrame, pl.DataFrame]:
    months = pl.date_range(dt.date(2008, 1, 1), dt.date(2016, 12, 1), "1mo", eager=True)
    rng = np.random.default_rng(11)
    rows = []
    for destination, level in (("SOM", 18e6), ("KEN", 9e6), ("ETH", 5e6)):
        noise = np.exp(rng.normal(0.0, 0.04, months.len()))
        rows.append(
            pl.DataFrame(
                {
                    "period": months,
                    "origin": "USA",
                    "destination": destination,
                    "amount_usd": level * noise,
                }
            )
        )
    events = pl.DataFrame(
        {
            "event_id": ["a", "b", "c", "d", "e"],
            "effective_date": [
                dt.date(2015, 2, 6),
                dt.date(2014, 9, 30),
                dt.date(2013, 5, 1),
                dt.date(2015, 6, 1),
                dt.date(2012, 3, 15),
            ],
            "origin": "USA",
            "destination": ["SOM", "SOM", "KEN", "ETH", "KEN"],
            "placebo": [False, True, False, False, False],
        }
    )
    return pl.concat(rows), events


def test_reversing_the_events_table_changes_no_event() -> None:
    panel, events = effect_events()
    forward = derisking_effect(panel, events, draws=300, seed=4)
    backward = derisking_effect(panel, events.reverse(), draws=300, seed=4)
    assert_frame_equal(forward.events, backward.events)
    assert_frame_equal(forward.periods, backward.periods)
    # rows by date, then id
    assert forward.events["event_id"].to_list() == ["e", "c", "b", "a", "d"]


def test_an_event_alone_has_the_numbers_it_has_among_others() -> None:
    panel, events = effect_events()
    together = derisking_effect(panel, events, draws=300, seed=4).events
    alone = derisking_effect(panel, events.filter(event_id="d"), draws=300, seed=4).events
    assert_frame_equal(together.filter(event_id="d"), alone)


@settings(max_examples=10, deadline=None)
@given(order=st.permutations(range(5)))
def test_shuffled_events_give_identical_results(order: list[int]) -> None:
    panel, events = effect_events()
    reference = derisking_effect(panel, events, draws=200, seed=1)
    shuffled = derisking_effect(panel, events[order], draws=200, seed=1)
    assert_frame_equal(reference.events, shuffled.events)
    assert_frame_equal(reference.skipped, shuffled.skipped)


def test_event_ids_must_be_unique() -> None:
    panel, events = effect_events()
    with pytest.raises(ParameterError, match=r"its own event_id.*\['a'\] repeat"):
        derisking_effect(panel, pl.concat([events, events.head(1)]))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_shuffled_panel_rows_give_identical_estimates(seed: int) -> None:
    panel = channel_panel(3)
    base = flat_baseline(panel.filter(pl.col("channel") != "informal"), log_sd=0.2)
    scenarios = [
        DeRiskingScenario("usa", origin="USA", start="2015-04-10"),
        DeRiskingScenario("som", destination="SOM", start="2015-06-01", channels=("mto",)),
    ]
    reference = estimate_informal(panel, scenarios, baseline=base, draws=64, seed=2)
    shuffled = estimate_informal(
        panel.sample(fraction=1.0, shuffle=True, seed=seed),
        scenarios,
        baseline=base.sample(fraction=1.0, shuffle=True, seed=seed),
        draws=64,
        seed=2,
    )
    for name in ("corridors", "by_destination", "by_scenario", "summary"):
        assert_frame_equal(getattr(reference, name), getattr(shuffled, name), check_exact=True)


KEYED = [
    DeRiskingScenario("usa", origin="USA", start="2015-04-10"),
    DeRiskingScenario("som", destination="SOM", start="2015-06-01", channels=("mto",)),
]
CELL = ["origin", "destination", "period"]


def test_an_added_corridor_changes_no_other_corridors_draws() -> None:
    # noise on (transfer counts) and a corridor's own noise (log_sd): both streams are tested
    panel = channel_panel(3)
    base = flat_baseline(panel.filter(pl.col("channel") != "informal"), log_sd=0.2)
    # DEU sorts between ARE and GBR: by position, every corridor after it would shift
    extra = panel.filter(origin="ARE", destination="KEN").with_columns(origin=pl.lit("DEU"))
    wider = pl.concat([panel, extra])
    wider_base = flat_baseline(wider.filter(pl.col("channel") != "informal"), log_sd=0.2)
    assert_frame_equal(wider_base.filter(pl.col("origin") != "DEU"), base)
    alone = estimate_informal(panel, KEYED, baseline=base, draws=64, seed=2)
    among = estimate_informal(wider, KEYED, baseline=wider_base, draws=64, seed=2)
    old = alone.corridors.select("scenario", *CELL)
    assert_frame_equal(
        among.corridors.join(old, on=["scenario", *CELL], how="semi"),
        alone.corridors,
        check_exact=True,
    )
    # the new corridor has draws of its own, not a copy of a neighbour's
    new = among.corridors.filter(origin="DEU", scenario="usa")["informal_p95"].to_numpy()
    are = among.corridors.filter(origin="ARE", destination="KEN", scenario="usa")
    assert not np.array_equal(new, are["informal_p95"].to_numpy())


@settings(max_examples=10, deadline=None)
@given(dropped=st.sets(st.integers(0, 9 * MONTHS.len() - 1), min_size=1, max_size=20))
def test_dropped_cells_change_no_other_cells_draws(dropped: set[int]) -> None:
    panel = channel_panel(5)
    base = flat_baseline(panel.filter(pl.col("channel") != "informal"), log_sd=0.2)
    cells = panel.select(CELL).unique().sort(CELL).with_row_index("cell")
    kept = panel.join(
        cells.filter(~pl.col("cell").is_in(sorted(dropped))).drop("cell"), on=CELL, how="semi"
    )
    full = estimate_informal(panel, KEYED, baseline=base, draws=48, seed=7)
    part = estimate_informal(kept, KEYED, baseline=base, draws=48, seed=7)
    assert part.corridors.height == full.corridors.height - len(KEYED) * len(dropped)
    assert_frame_equal(
        full.corridors.join(
            part.corridors.select("scenario", *CELL), on=["scenario", *CELL], how="semi"
        ),
        part.corridors,
        check_exact=True,
    )


def test_scenarios_in_another_order_give_the_same_per_scenario_results() -> None:
    panel = channel_panel(5)
    base = flat_baseline(panel.filter(pl.col("channel") != "informal"), log_sd=0.2)
    scenarios = [
        DeRiskingScenario("mild", origin="USA", start="2015-03-01", withdrawn=Uniform(0.1, 0.3)),
        DeRiskingScenario("severe", origin="USA", start="2015-03-01"),
        DeRiskingScenario("kenya", destination="KEN", start="2015-08-20"),
    ]
    forward = estimate_informal(panel, scenarios, baseline=base, draws=80, seed=9)
    backward = estimate_informal(panel, scenarios[::-1], baseline=base, draws=80, seed=9)
    alone = estimate_informal(panel, scenarios[1], baseline=base, draws=80, seed=9)
    for name in ("corridors", "by_destination", "by_scenario", "summary"):
        left = getattr(forward, name)
        right = getattr(backward, name)
        for scenario in scenarios:
            assert_frame_equal(
                left.filter(scenario=scenario.name), right.filter(scenario=scenario.name)
            )
        assert_frame_equal(left.filter(scenario="severe"), getattr(alone, name))
    assert [s.name for s in backward.scenarios] == ["kenya", "severe", "mild"]


# -- 3. nothing clipped ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cost_increase_pp": -3}, r"cost_increase_pp must be >= 0, got Fixed\(value=-3.0\)"),
        ({"cost_increase_pp": Uniform(-1.0, 2.0)}, r"cost_increase_pp must be >= 0"),
        ({"cost_elasticity": -0.5}, r"cost_elasticity must be >= 0"),
        ({"cost_elasticity": float("nan")}, r"cost_elasticity must be a finite number"),
        ({"cost_elasticity": Triangular(-0.2, 0.8, 1.6)}, r"cost_elasticity must be >= 0"),
        ({"withdrawn": 1.2}, r"withdrawn must lie in \[0, 1\], got Fixed\(value=1.2\)"),
        ({"withdrawn": float("nan")}, r"withdrawn must be a finite number"),
        ({"withdrawn": Uniform(0.5, 1.5)}, r"withdrawn must lie in \[0, 1\]"),
        ({"ramp_days": -1}, r"ramp_days must be a whole number of days >= 0, got -1"),
        ({"ramp_days": 2.5}, r"ramp_days must be a whole number"),
        ({"channels": ("hawala",)}, r"channels \['hawala'\] are not channels"),
        ({"channels": ("bank", "cash_carry")}, r"mix formal and informal channels"),
        ({"start": 20150206}, r"start 20150206 is not a date"),
        ({"end": "2014-01-01", "start": "2015-01-01"}, r"end 2014-01-01 is not after start"),
        ({"name": ""}, r"name must be a non-empty string"),
    ],
)
def test_bad_scenario_parameters_raise_with_value_and_range(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        DeRiskingScenario(**{"name": "s", **changes})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Split(float("nan"), 0.3), r"Split needs informal >= 0"),
        (lambda: Split(0.7, 0.5), r"informal \+ other_formal <= 1"),
        (lambda: Split(0.5, 0.3, concentration=float("nan")), r"concentration must be positive"),
        (lambda: Fixed(float("inf")), r"Fixed needs a finite number"),
        (lambda: Uniform(float("nan"), 1.0), r"Uniform needs lower <= upper"),
        (lambda: Triangular(0.0, 2.0, 1.0), r"Triangular needs lower <= mode <= upper"),
    ],
)
def test_bad_priors_raise(make: Any, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        make()


def test_a_custom_prior_that_draws_out_of_range_raises_instead_of_being_clipped() -> None:
    @dataclasses.dataclass(frozen=True)
    class Wild:
        mean: float = 0.5
        low: float = 0.1
        high: float = 0.9

        def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
            return np.linspace(-0.5, 1.5, n)

    panel = corridor(MONTHS)
    scenario = DeRiskingScenario("wild", withdrawn=Wild())
    with pytest.raises(ParameterError, match=r"withdrawn: the prior .* drew -0.5; its draws"):
        estimate_informal(panel, scenario, baseline=flat_baseline(panel), draws=10)


def test_bad_run_settings_raise() -> None:
    panel = corridor(MONTHS)
    base = flat_baseline(panel)
    for draws in (0, -5, 1, 2.5, True):
        with pytest.raises(ParameterError, match=f"draws must be a whole number >= 2, got {draws}"):
            estimate_informal(panel, baseline=base, draws=draws)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="seed must be a whole number >= 0, got -1"):
        estimate_informal(panel, baseline=base, seed=-1)
    with pytest.raises(ParameterError, match="threads must be a whole number >= 1, got 0"):
        estimate_informal(panel, baseline=base, threads=0)
    with pytest.raises(ParameterError, match="draws must be a whole number >= 2, got 0"):
        derisking_exposure(panel, "USA", baseline=base, draws=0)
    with pytest.raises(ParameterError, match="draws must be a whole number >= 2, got 0"):
        derisking_effect(panel, effect_events()[1], draws=0)
    with pytest.raises(ParameterError, match="share_remitting must lie in"):
        baseline_from_gap(panel, panel.with_columns(migrants=pl.lit(10)), share_remitting=1.5)
    bad = base.with_columns(informal_ratio=pl.lit(float("nan")))
    with pytest.raises(SchemaError, match="'informal_ratio' has 1 NaN or infinite"):
        estimate_informal(panel, baseline=bad)
    huge = base.with_columns(log_sd_own=pl.lit(1e17))  # would overflow the draws
    with pytest.raises(SchemaError, match=r"'log_sd_own' has .* above 5"):
        estimate_informal(panel, baseline=huge)
    with pytest.raises(ParameterError, match="appear more than once"):
        estimate_informal(panel, baseline=pl.concat([base, base]))


def test_a_datetime_start_is_taken_as_its_date() -> None:
    by_datetime = DeRiskingScenario("s", start=dt.datetime(2015, 2, 6, 14, 30), **FIXED)
    by_date = DeRiskingScenario("s", start=dt.date(2015, 2, 6), **FIXED)
    assert by_datetime == by_date
    assert by_datetime.start == dt.date(2015, 2, 6)
    panel = corridor(MONTHS)
    base = flat_baseline(panel)
    assert_frame_equal(
        estimate_informal(panel, by_datetime, baseline=base, draws=4).corridors,
        estimate_informal(panel, by_date, baseline=base, draws=4).corridors,
    )


def test_an_empty_panel_raises_a_flowlens_error() -> None:
    panel = corridor(MONTHS)
    base = flat_baseline(panel)
    with pytest.raises(SchemaError, match="has no rows with a amount_usd"):
        estimate_informal(panel.head(0), baseline=base)
    with pytest.raises(SchemaError, match="every value is null"):
        estimate_informal(
            panel.with_columns(amount_usd=pl.lit(None, dtype=pl.Float64)), baseline=base
        )
    for call in (
        lambda: sensitivity(panel.head(0), DeRiskingScenario("s"), baseline=base),
        lambda: derisking_exposure(panel.head(0), "USA", baseline=base),
        lambda: derisking_effect(panel.head(0), effect_events()[1]),
    ):
        with pytest.raises(FlowlensError):
            call()


# -- 4. results carry their settings; any table kind in ------------------------------------------


def test_results_carry_their_settings_and_are_frozen() -> None:
    panel = corridor(MONTHS)
    scenario = DeRiskingScenario("s", start="2015-03-01")
    result = estimate_informal(panel, scenario, baseline=flat_baseline(panel), draws=20, seed=3)
    assert (result.draws, result.seed, result.scenarios) == (20, 3, (scenario,))
    assert result.spec.freq == "1mo" and result.spec.value == "amount_usd"
    assert "freq='1mo'" in repr(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.seed = 4  # type: ignore[misc]
    panel_e, events = effect_events()
    effect = derisking_effect(panel_e, events, history=24, horizon=3, draws=50, seed=2)
    assert (effect.history, effect.horizon, effect.draws, effect.seed) == (24, 3, 50, 2)
    assert effect.spec.freq == "1mo" and effect.other_formal_recorded
    with pytest.raises(dataclasses.FrozenInstanceError):
        effect.draws = 1  # type: ignore[misc]


class Capsule:
    """Only the Arrow PyCapsule stream interface, as a DuckDB relation offers it."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


KINDS = {
    "polars": lambda df: df,
    "lazy": lambda df: df.lazy(),
    "pandas": lambda df: df.to_pandas(),
    "pyarrow": lambda df: df.to_arrow(),
    "capsule": lambda df: Capsule(df.to_arrow()),
}
BACK = {
    "polars": pl.DataFrame,
    "lazy": pl.LazyFrame,
    "pandas": pd.DataFrame,
    "pyarrow": pa.Table,
    "capsule": pl.DataFrame,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_input_kind_gives_the_same_estimate(kind: str) -> None:
    panel = channel_panel(7).filter(pl.col("channel") != "informal")
    base = flat_baseline(panel, log_sd=0.2)
    scenario = DeRiskingScenario("usa", origin="USA", start="2015-04-10")
    reference = estimate_informal(panel, scenario, baseline=base, draws=40, seed=1)
    convert = KINDS[kind]
    other = estimate_informal(convert(panel), scenario, baseline=convert(base), draws=40, seed=1)
    assert_frame_equal(reference.corridors, other.corridors)
    assert other.spec.freq == "1mo"
    table = sensitivity(convert(panel), scenario, baseline=convert(base))
    assert isinstance(table, BACK[kind])
    exposure = derisking_exposure(convert(panel), "USA", baseline=convert(base), draws=20)
    assert isinstance(exposure, BACK[kind])
    expected = derisking_exposure(panel, "USA", baseline=base, draws=20)
    got = exposure.collect() if isinstance(exposure, pl.LazyFrame) else pl.DataFrame(exposure)
    assert_frame_equal(expected, got, check_dtypes=False)
    baseline_back = baseline_from_costs(
        convert(panel),
        convert(panel.select("origin", "destination").unique().with_columns(cost_pct=7.0)),
    )
    assert isinstance(baseline_back, BACK[kind])


@pytest.mark.parametrize("kind", list(KINDS))
def test_derisking_effect_takes_every_input_kind(kind: str) -> None:
    panel, events = effect_events()
    reference = derisking_effect(panel, events, draws=100, seed=1)
    other = derisking_effect(KINDS[kind](panel), KINDS[kind](events), draws=100, seed=1)
    assert_frame_equal(reference.events, other.events)


def test_an_events_table_names_known_countries() -> None:
    """Catalogue AN-52 is in test_bad_run_settings_raise; this is AN-53."""
    panel, events = effect_events()
    for origin in (None, "Atlantis"):
        bad = events.with_columns(origin=pl.lit(origin, dtype=pl.String))
        with pytest.raises(ParameterError, match="the origin must be a country flowlens knows"):
            derisking_effect(panel, bad, draws=50)
    spelt = events.with_columns(origin=pl.lit("US"))
    same = derisking_effect(panel, spelt, draws=50).events
    assert same.equals(derisking_effect(panel, events, draws=50).events)
