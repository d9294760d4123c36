"""Reading de-risking in recorded data: by hand, on the synthetic generator's truth, placebos."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import flowlens as fl
from flowlens.errors import FlowlensError, ParameterError
from flowlens.informal import Split, derisking_effect, read_derisking_events
from flowlens.synth import SynthConfig, generate

MONTHS = pl.date_range(dt.date(2010, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
FIXED_SPLIT = Split(0.5, 0.3, concentration=None)


def events_frame(*rows: tuple[str, dt.date, bool]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "effective_date": [r[1] for r in rows],
            "origin": "USA",
            "destination": "SOM",
            "placebo": [r[2] for r in rows],
        }
    )


def exact_series(drop_from: dt.date, kept: float) -> tuple[pl.DataFrame, np.ndarray]:
    """A noiseless log-linear trend with a seasonal pattern; after ``drop_from`` only ``kept`` of it."""
    t = np.arange(MONTHS.len(), dtype=np.float64)
    season = 0.1 * np.cos(2 * np.pi * t / 12)
    expected = 1e6 * np.exp(0.004 * t + season)
    after = MONTHS.to_numpy() >= np.datetime64(drop_from)
    recorded = expected * np.where(after, kept, 1.0)
    panel = pl.DataFrame(
        {"period": MONTHS, "origin": "USA", "destination": "SOM", "amount_usd": recorded}
    )
    return panel, expected


def test_a_noiseless_drop_by_hand() -> None:
    panel, expected = exact_series(dt.date(2015, 2, 1), kept=0.6)
    effect = derisking_effect(
        panel, events_frame(("closure", dt.date(2015, 2, 6), False)), horizon=6, split=FIXED_SPLIT
    )
    row = effect.events.row(0, named=True)
    horizon = expected[61:67]  # Feb-Jul 2015
    drop = 0.4 * horizon.sum()
    assert row["horizon_periods"] == 6
    assert row["recorded_usd"] == pytest.approx(0.6 * horizon.sum())
    assert row["counterfactual_p50"] == pytest.approx(horizon.sum(), rel=1e-6)
    for name in ("drop_p5", "drop_p50", "drop_p95"):
        assert row[name] == pytest.approx(drop, rel=1e-6)
    assert row["drop_share_p50"] == pytest.approx(0.4, rel=1e-6)
    # displaced = drop / (1 - 0.3): half went informal, a fifth was not sent
    assert row["informal_p50"] == pytest.approx(0.5 * drop / 0.7, rel=1e-6)
    assert row["lost_p50"] == pytest.approx(0.2 * drop / 0.7, rel=1e-6)
    assert row["detected"]
    # when only the de-risked providers are in the series, the drop is the displaced flow
    only = derisking_effect(
        panel,
        events_frame(("closure", dt.date(2015, 2, 6), False)),
        split=FIXED_SPLIT,
        other_formal_recorded=False,
    )
    assert only.events["informal_p50"][0] == pytest.approx(0.5 * drop, rel=1e-6)
    history = effect.periods.filter(pl.col("phase") == "history")
    np.testing.assert_allclose(history["fitted_usd"], expected[25:61], rtol=1e-9)


def test_a_placebo_stops_before_the_next_event_and_finds_nothing() -> None:
    panel, _ = exact_series(dt.date(2015, 2, 1), kept=0.6)
    effect = derisking_effect(
        panel,
        events_frame(
            ("reversed", dt.date(2014, 9, 30), True), ("closure", dt.date(2015, 2, 6), False)
        ),
        horizon=12,
    )
    rows = {r["event_id"]: r for r in effect.events.iter_rows(named=True)}
    assert rows["reversed"]["horizon_periods"] == 5  # Sep 2014 - Jan 2015
    assert rows["reversed"]["drop_p50"] == pytest.approx(0.0, abs=1e-3)
    assert not rows["reversed"]["detected"]
    assert rows["closure"]["horizon_periods"] == 11  # to the end of the panel
    assert rows["closure"]["detected"]


def test_events_the_panel_cannot_support_are_listed_not_dropped() -> None:
    panel, _ = exact_series(dt.date(2015, 2, 1), kept=0.6)
    effect = derisking_effect(
        panel,
        events_frame(
            ("early", dt.date(2011, 12, 30), False), ("closure", dt.date(2015, 2, 6), False)
        ),
    )
    assert effect.events["event_id"].to_list() == ["closure"]
    assert effect.skipped["event_id"].to_list() == ["early"]
    assert "36 periods of positive recorded flow" in effect.skipped["reason"][0]
    with pytest.raises(FlowlensError, match="no event could be estimated"):
        derisking_effect(panel, events_frame(("early", dt.date(2011, 12, 30), False)))
    with pytest.raises(ParameterError, match="history must be a whole number >= 6, got 3"):
        derisking_effect(panel, events_frame(("closure", dt.date(2015, 2, 6), False)), history=3)


def test_the_real_events_table_reads_with_its_placebo() -> None:
    events = read_derisking_events(fl.sample_path("derisking_events"))
    by_id = {r["event_id"]: r for r in events.iter_rows(named=True)}
    assert by_id["MERCHANTS_2015"]["effective_date"] == dt.date(2015, 2, 6)
    assert by_id["MERCHANTS_2014_REVERSED"]["placebo"]
    assert not by_id["MERCHANTS_2015"]["placebo"]
    assert by_id["BARCLAYS_2013"]["effective_date"] == dt.date(2013, 5, 1)
    assert by_id["BARCLAYS_2013"]["date_precision"] == "month"
    assert by_id["WESTPAC_2014"]["destination"] is None  # every receiving country
    assert events.height == 7


def test_synthetic_closure_is_found_and_its_informal_flow_covered() -> None:
    config = SynthConfig(
        n_corridors=200, start="2010-01-01", end="2016-12-31", crises=(), n_random_crises=0
    )
    result = generate(4_000_000, seed=2, config=config)
    assert result.flows is not None
    panel = result.flows.group_by(
        pl.col("date").dt.truncate("1mo").alias("period"), "origin", "destination", "channel"
    ).agg(pl.col("amount_usd").sum())
    events = fl.load_sample("derisking_events").filter(origin="USA", destination="SOM")
    effect = derisking_effect(panel, events, horizon=6)
    rows = {r["event_id"]: r for r in effect.events.iter_rows(named=True)}
    assert not rows["MERCHANTS_2014_REVERSED"]["detected"]
    closure = rows["MERCHANTS_2015"]
    assert closure["detected"]
    # the generator's truth: lost = 0.2 x displaced, informal gains 0.5 x displaced
    truth = result.truth.panel.filter(
        pl.col("origin").cast(pl.String) == "USA",
        pl.col("destination").cast(pl.String) == "SOM",
        pl.col("period").is_between(dt.date(2015, 2, 1), dt.date(2015, 7, 1)),
    )
    displaced = truth["lost_usd"].sum() / 0.2
    assert closure["informal_p5"] <= 0.5 * displaced <= closure["informal_p95"]
    assert closure["lost_p5"] <= 0.2 * displaced <= closure["lost_p95"]
    assert effect.skipped["event_id"].to_list() == ["SUNRISE_2011"]
