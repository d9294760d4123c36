"""Dated drivers (parallel-market premiums), formalisation, quantiles and draws of estimate_informal."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from flowlens.errors import ParameterError
from flowlens.informal import (
    PREMIUM_RESPONSE_DEFAULT,
    CostModel,
    DeRiskingScenario,
    Fixed,
    Split,
    _estimate,
    baseline_from_costs,
    derisking_effect,
    estimate_informal,
    sensitivity,
)
from flowlens.synth import FormalisationEpisode, PremiumEpisode, SynthConfig, generate

MONTHS = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
PREMIUM = [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 0.0, 0.0, 0.0]


def panel(amount: float = 100.0) -> pl.DataFrame:
    return pl.DataFrame(
        {"period": MONTHS, "origin": "USA", "destination": "EGY", "amount_usd": amount}
    )


def baseline(ratio: float = 0.5, premium: float | None = None) -> pl.DataFrame:
    costs = pl.DataFrame({"origin": ["USA"], "destination": ["EGY"], "cost_pct": [7.0]})
    model = CostModel(ratio_at_reference=ratio, log_sd=0.0, premium_slope=0.0)
    premium_table = (
        None
        if premium is None
        else pl.DataFrame({"destination": ["EGY"], "premium_pct": [premium]})
    )
    return baseline_from_costs(panel(), costs, model=model, premium=premium_table)


def drivers(values: list[float] = PREMIUM) -> pl.DataFrame:
    return pl.DataFrame({"destination": "EGY", "period": MONTHS, "premium_pct": values})


def test_premium_by_hand() -> None:
    """formal = F (1 + R) / (1 + R exp(beta dpi)); what leaves formal channels goes informal."""
    result = estimate_informal(
        panel(), baseline=baseline(0.5), drivers=drivers(), premium_response=0.03, draws=20
    )
    rows = result.corridors.sort("period")
    formal = 100 * 1.5 / (1 + 0.5 * np.exp(0.3))
    assert rows["formal_p50"].to_list() == pytest.approx([100.0] * 3 + [formal] * 6 + [100.0] * 3)
    assert rows["informal_p50"][4] == pytest.approx(150 - formal)
    assert rows["total_p50"].to_list() == pytest.approx([150.0] * 12)
    assert rows["premium_change_pp"].to_list() == PREMIUM
    assert 1 - formal / 100 == pytest.approx(0.1044, abs=1e-4)  # about 10% at 10 points


def test_a_premium_that_closes_pulls_flow_back() -> None:
    """Recorded during a 10-point premium, the flow returns to formal channels when it closes."""
    closed = [10.0] * 6 + [0.0] * 6
    result = estimate_informal(
        panel(), baseline=baseline(0.5, premium=10.0), drivers=drivers(closed),
        premium_response=0.03, draws=20,
    )  # fmt: skip
    rows = result.corridors.sort("period")
    back = 100 * 1.5 / (1 + 0.5 * np.exp(-0.3))
    assert rows["formal_p50"][0] == pytest.approx(100.0)
    assert rows["formal_p50"][11] == pytest.approx(back)
    assert rows["formal_p50"][11] > 100 and rows["informal_p50"][11] < 50


def test_default_response_displaces_5_to_20_percent_at_10_points() -> None:
    """The calibration of PREMIUM_RESPONSE_DEFAULT at the informal ratio 0.55."""
    result = estimate_informal(panel(), baseline=baseline(0.55), drivers=drivers(), draws=4000)
    row = result.corridors.sort("period").row(4, named=True)
    displaced = [1 - row[f"formal_{q}"] / 100 for q in ("p95", "p50", "p5")]
    assert 0.05 <= displaced[0] < displaced[1] < displaced[2] <= 0.20
    low, high = (
        1 - 1.55 / (1 + 0.55 * np.exp(10 * b))
        for b in (PREMIUM_RESPONSE_DEFAULT.lower, PREMIUM_RESPONSE_DEFAULT.upper)
    )
    assert (round(low, 2), round(high, 2)) == (0.05, 0.2)


def test_formalisation_by_hand() -> None:
    """Carried cash that cannot travel: 60% to formal channels, 40% to hawala."""
    scenario = DeRiskingScenario(
        "travel stops", destination="EGY", start="2015-04-01", end="2015-10-01", ramp_days=0,
        channels=("cash_carry",), withdrawn=Fixed(1.0), split=Split(0.4, 0.6, None),
    )  # fmt: skip
    assert scenario.formalises and scenario.cost_increase_prior.mean == 0.0
    result = estimate_informal(panel(), scenario, baseline=baseline(0.5), draws=20)
    rows = result.corridors.sort("period")
    assert rows["formal_p50"][5] == pytest.approx(100 + 0.6 * 50)
    assert rows["informal_p50"][5] == pytest.approx(0.4 * 50)
    assert rows["formal_p50"][0] == pytest.approx(100.0)
    # with a channel column, only the cash-carry part of the informal flow moves
    by_channel = pl.concat(
        [
            panel().with_columns(channel=pl.lit("mto")),
            panel(20.0).with_columns(channel=pl.lit("cash_carry")),
            panel(30.0).with_columns(channel=pl.lit("informal")),
        ]
    )
    result = estimate_informal(by_channel, scenario, baseline=baseline(0.5), draws=20)
    assert result.corridors.sort("period")["formal_p50"][5] == pytest.approx(100 + 0.6 * 50 * 0.4)


def test_cost_rise_never_displaces_everything() -> None:
    """A rise far above the corridor's cost no longer saturates at 100%."""
    scenario = DeRiskingScenario(
        "dear", withdrawn=Fixed(0.0), cost_increase_pp=Fixed(14.0), cost_elasticity=Fixed(0.8),
        split=Split(1.0, 0.0, None), ramp_days=0,
    )  # fmt: skip
    result = estimate_informal(panel(), scenario, baseline=baseline(0.5), draws=10)
    assert result.corridors["formal_p50"][0] == pytest.approx(100 * 3.0**-0.8)
    with pytest.raises(ParameterError, match="cost_increase_pp must be >= 0"):
        DeRiskingScenario("cut", cost_increase_pp=-3)


def test_compiled_equals_reference_with_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.concat([panel(), panel(40.0).with_columns(origin=pl.lit("GBR"))]).with_columns(
        n_transfers=pl.lit(300)
    )
    costs = pl.DataFrame({"origin": ["USA", "GBR"], "destination": "EGY", "cost_pct": [7.0, 4.0]})
    base = baseline_from_costs(frame, costs)
    scenarios = [
        DeRiskingScenario("closure", origin="USA", start="2015-05-10"),
        DeRiskingScenario("cash", channels=("cash_carry",), start="2015-02-01", withdrawn=0.8),
    ]
    run = {"baseline": base, "drivers": drivers(), "draws": 201, "seed": 3}
    compiled = estimate_informal(frame, scenarios, **run)  # type: ignore[arg-type]
    original = _estimate._simulate

    def reference(*args: object, **kwargs: object) -> object:
        return original(*args, **{**kwargs, "compiled": False})  # type: ignore[arg-type]

    monkeypatch.setattr(_estimate, "_simulate", reference)
    slow = estimate_informal(frame, scenarios, **run)  # type: ignore[arg-type]
    for name in ("corridors", "by_destination", "summary"):
        left, right = getattr(compiled, name), getattr(slow, name)
        numeric = [c for c, t in left.schema.items() if t.is_float()]
        np.testing.assert_allclose(
            left.select(numeric).to_numpy(), right.select(numeric).to_numpy(), rtol=1e-9
        )
    totals = compiled.corridors.select(
        (
            pl.col("formal_mean")
            + pl.col("informal_mean")
            + pl.col("lost_mean")
            - pl.col("total_mean")
        )
        .abs()
        .max()
    ).item()
    assert totals < 1e-6


def test_draws_and_any_quantiles() -> None:
    result = estimate_informal(
        panel(), baseline=baseline(0.5), drivers=drivers(), draws=300,
        quantiles=(0.975, 0.025, 0.5), keep_draws=True,
    )  # fmt: skip
    assert result.quantiles == (0.025, 0.5, 0.975)
    assert {"informal_p2.5", "informal_p50", "informal_p97.5"} <= set(result.by_destination.columns)
    samples = result.samples
    assert samples is not None and samples.height == 12 * 300
    assert samples.columns == [
        "scenario", "destination", "period", "draw", "formal", "informal", "lost", "total"
    ]  # fmt: skip
    may = samples.filter(pl.col("period") == dt.date(2015, 5, 1))["formal"].to_numpy()
    row = result.by_destination.filter(pl.col("period") == dt.date(2015, 5, 1)).row(0, named=True)
    assert row["formal_p2.5"] == pytest.approx(np.quantile(may, 0.025))
    assert estimate_informal(panel(), baseline=baseline(), draws=5).samples is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"drivers": drivers().with_columns(destination=pl.lit("PAK"))}, "does not have"),
        ({"drivers": drivers().head(6)}, "no row for 6"),
        ({"drivers": drivers([float("nan")] * 12)}, "premium_pct must be a finite"),
        ({"drivers": pl.concat([drivers(), drivers()])}, "more than once"),
        ({"drivers": drivers().drop("premium_pct")}, "premium_pct"),
        ({"quantiles": (0.5, 1.0)}, "quantiles must be distinct"),
        ({"premium_response": -0.1}, "premium_response must be >= 0"),
    ],
)
def test_bad_drivers_raise(changes: dict[str, object], message: str) -> None:
    run: dict[str, object] = {"baseline": baseline(), "drivers": drivers(), "draws": 5}
    with pytest.raises(Exception, match=message):
        estimate_informal(panel(), **{**run, **changes})  # type: ignore[arg-type]


def test_tornado_includes_the_premium() -> None:
    scenario = DeRiskingScenario("closure", destination="EGY", start="2015-03-01")
    table = sensitivity(
        panel(), scenario, baseline=baseline(), drivers=drivers(), quantity="formal"
    )
    row = table.filter(parameter="premium_response").row(0, named=True)
    assert row["low_value"] < row["high_value"]
    assert row["at_high"] < row["at_low"]  # a stronger response leaves less formal flow


def test_derisking_effect_recovers_a_planted_premium_effect() -> None:
    months = pl.date_range(dt.date(2012, 1, 1), dt.date(2017, 12, 1), "1mo", eager=True)
    premium = np.where((np.arange(72) >= 36) & (np.arange(72) < 48), 12.0, 0.0)
    wiggle = 0.02 * np.sin(np.arange(72) * 1.7)
    recorded = 50e6 * np.exp(0.004 * np.arange(72) - 0.01 * premium + wiggle)
    frame = pl.DataFrame(
        {"period": months, "origin": "USA", "destination": "EGY", "amount_usd": recorded}
    )
    table = pl.DataFrame({"destination": "EGY", "period": months, "premium_pct": premium})
    effect = derisking_effect(frame, drivers=table, draws=500)
    assert effect.premium is not None and effect.events.is_empty()
    row = effect.premium.row(0, named=True)
    truth = 1 - np.exp(-0.1)  # 9.5% at 10 points
    assert row["displaced_at_10pp_p5"] < truth < row["displaced_at_10pp_p95"]
    with pytest.raises(ParameterError, match="needs events, drivers"):
        derisking_effect(frame)


def test_unknown_driver_country_raises_alike_in_both_paths() -> None:
    """A driver row for Egypt written as its ISO2 code: estimate_informal and
    derisking_effect raise the same message, with the ISO3 code to write instead."""
    months = pl.date_range(dt.date(2012, 1, 1), dt.date(2013, 12, 1), "1mo", eager=True)
    frame = pl.DataFrame(
        {"period": months, "origin": "USA", "destination": "EGY", "amount_usd": 1e6}
    )
    table = pl.DataFrame({"destination": "EG", "period": months, "premium_pct": 5.0})
    message = r"the drivers name 1 destination the panel does not have, e.g. \('EG',\) \(ISO3"
    with pytest.raises(ParameterError, match=message):
        derisking_effect(frame, drivers=table, draws=20)
    with pytest.raises(ParameterError, match=message):
        estimate_informal(frame, baseline=baseline(), drivers=table, draws=5)


def test_synthetic_episodes_move_recorded_flow() -> None:
    config = SynthConfig(
        n_corridors=60, start="2019-01-01", end="2019-12-31", crises=(), n_random_crises=0,
        derisking=(), ids=False,
    )  # fmt: skip
    plain = generate(80_000, seed=2, config=config)
    episodes = dataclasses.replace(
        config,
        premium_episodes=(PremiumEpisode("IND", "2019-04-01", "2019-10-01", premium_pct=40.0),),
        formalisation=(FormalisationEpisode("PAK", "2019-04-01", "2019-10-01"),),
    )
    moved = generate(80_000, seed=2, config=episodes)
    assert dataclasses.replace(config).premium_episodes == ()  # off by default

    def formal(world: object, country: str) -> tuple[float, float]:
        truth = world.truth.panel.filter(pl.col("destination") == country)  # type: ignore[attr-defined]
        inside = pl.col("period").dt.month().is_between(4, 9)
        return tuple(truth.filter(inside).select(pl.col("formal_usd", "informal_usd").sum()).row(0))  # type: ignore[return-value]

    (f0, i0), (f1, i1) = formal(plain, "IND"), formal(moved, "IND")
    assert f1 < f0 and i1 > i0  # the premium pushes flow out of formal channels
    assert f1 + i1 == pytest.approx(f0 + i0)  # the same transfers, other channels
    (f0, i0), (f1, i1) = formal(plain, "PAK"), formal(moved, "PAK")
    assert f1 > f0 and i1 < i0  # formalisation pulls it back
