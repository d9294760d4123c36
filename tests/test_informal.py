"""Informal-channel estimation: by hand, against the numpy reference, invariants, real data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import FlowlensError
from flowlens.informal import (
    CostModel,
    DeRiskingScenario,
    Fixed,
    Split,
    Triangular,
    Uniform,
    _estimate,
    baseline_from_costs,
    baseline_from_gap,
    baseline_observed,
    derisking_exposure,
    estimate_informal,
    sensitivity,
)

REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"
MONTHS = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)


def flat_baseline(panel: pl.DataFrame, ratio: float = 0.5, log_sd: float = 0.0) -> pl.DataFrame:
    costs = panel.select("origin", "destination").unique().with_columns(cost_pct=pl.lit(7.0))
    model = CostModel(ratio_at_reference=ratio, log_sd=log_sd)
    return baseline_from_costs(panel, costs, model=model)


def fixed_scenario(**changes: object) -> DeRiskingScenario:
    scenario = DeRiskingScenario(
        "fixed",
        origin="USA",
        destination="SOM",
        start="2015-03-01",
        ramp_days=0,
        withdrawn=Fixed(0.6),
        cost_increase_pp=Fixed(0.0),
        cost_elasticity=Fixed(0.0),
        split=Split(0.5, 0.3, concentration=None),
    )
    return scenario.with_(**changes)


def one_corridor(amount: float = 100.0) -> pl.DataFrame:
    return pl.DataFrame(
        {"period": MONTHS, "origin": "USA", "destination": "SOM", "amount_usd": amount}
    )


def test_one_corridor_by_hand() -> None:
    panel = one_corridor()
    result = estimate_informal(panel, fixed_scenario(), baseline=flat_baseline(panel), draws=10)
    rows = result.corridors.sort("period")
    before, after = rows.row(0, named=True), rows.row(5, named=True)
    # before March: nothing displaced; informal is half the recorded flow
    assert (before["formal_p50"], before["informal_p50"], before["lost_p50"]) == (100, 50, 0)
    # from March: 60 displaced; 30 to informal, 18 to other formal, 12 not sent
    assert after["formal_p50"] == pytest.approx(100 - 60 + 18)
    assert after["informal_p50"] == pytest.approx(50 + 30)
    assert after["lost_p50"] == pytest.approx(12)
    assert after["total_p50"] == pytest.approx(150)
    summary = result.summary.row(0, named=True)
    assert summary["informal_mean"] == pytest.approx(2 * 50 + 10 * 80)
    assert summary["recorded_formal_usd"] == pytest.approx(1200)


def test_the_ramp_and_a_mid_month_start_are_prorated() -> None:
    panel = one_corridor()
    scenario = fixed_scenario(start="2015-02-06", ramp_days=0, end="2015-04-16")
    rows = estimate_informal(
        panel, scenario, baseline=flat_baseline(panel), draws=4
    ).corridors.sort("period")
    displaced = (rows["lost_p50"] / 0.2).to_list()  # lost is 20% of the displaced flow
    # February: 23 of 28 days; March: all; April: 15 of 30 days; May: none
    assert displaced[1] == pytest.approx(60 * 23 / 28)
    assert displaced[2] == pytest.approx(60)
    assert displaced[3] == pytest.approx(60 * 15 / 30)
    assert displaced[4] == 0
    ramped = fixed_scenario(start="2015-03-01", ramp_days=31)
    march = estimate_informal(panel, ramped, baseline=flat_baseline(panel), draws=4).corridors
    march_lost = march.filter(period=dt.date(2015, 3, 1))["lost_p50"].item()
    # a 31-day ramp over March's 31 days: the mean of 1/31, 2/31, ..., 31/31 is 16/31
    assert march_lost == pytest.approx(0.2 * 60 * 16 / 31)


def random_panel(seed: int, n_corridors: int = 12) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    origins = ["USA", "GBR", "ARE", "SAU"]
    destinations = ["SOM", "PAK", "MEX", "PHL", "KEN"]
    pairs = [(o, d) for o in origins for d in destinations][:n_corridors]
    return pl.DataFrame(
        {
            "period": np.tile(MONTHS.to_numpy(), len(pairs)),
            "origin": np.repeat([o for o, _ in pairs], MONTHS.len()),
            "destination": np.repeat([d for _, d in pairs], MONTHS.len()),
            "amount_usd": rng.lognormal(10, 1, len(pairs) * MONTHS.len()),
            "cost_pct": np.repeat(rng.uniform(2, 12, len(pairs)), MONTHS.len()),
        }
    ).with_columns(pl.col("period").cast(pl.Date))


@pytest.mark.parametrize(
    ("counts", "free"),
    [(False, False), (True, False), (False, True)],
    ids=["no counts", "sampling noise", "AN-54 free corridors"],
)
def test_the_compiled_kernel_equals_the_numpy_reference(
    monkeypatch: pytest.MonkeyPatch, counts: bool, free: bool
) -> None:
    """AN-54: a corridor whose cost is 0 takes the limit (any rise deters in full) on both
    paths, instead of a division by zero (a crash compiled, inf and a warning in numpy)."""
    panel = random_panel(1)
    if free:  # every third corridor costs nothing
        panel = panel.with_columns(
            cost_pct=pl.when(pl.col("origin").cast(pl.String).hash(7) % 3 == 0)
            .then(0.0)
            .otherwise(pl.col("cost_pct"))
        )
        assert (panel["cost_pct"] == 0).any()
    if counts:  # some cells noisy, some not (no formal transfers counted)
        n = np.random.default_rng(3).integers(0, 300, panel.height)
        panel = panel.with_columns(n_transfers=pl.Series(np.where(n < 40, 0, n)))
    baseline = baseline_observed(
        panel.with_columns(channel=pl.lit("mto")).vstack(
            panel.with_columns(channel=pl.lit("informal"), amount_usd=pl.col("amount_usd") * 0.3)
        )
    )
    scenario = DeRiskingScenario("usa", origin=["USA", "GBR"], start="2015-04-10")
    compiled = estimate_informal(panel, scenario, baseline=baseline, draws=301, seed=5)

    original = _estimate._simulate

    def reference(*args: object, **kwargs: object) -> object:
        return original(*args, **{**kwargs, "compiled": False})  # type: ignore[arg-type]

    monkeypatch.setattr(_estimate, "_simulate", reference)
    monkeypatch.setattr(_estimate, "CHUNK_CELLS", 5_000)  # many chunks
    slow = estimate_informal(panel, scenario, baseline=baseline, draws=301, seed=5)
    for name in ("corridors", "by_destination", "by_scenario", "summary"):
        left, right = getattr(compiled, name), getattr(slow, name)
        numeric = [c for c, t in left.schema.items() if t.is_float()]
        assert left.drop(numeric).equals(right.drop(numeric))
        np.testing.assert_allclose(
            left.select(numeric).to_numpy(), right.select(numeric).to_numpy(), rtol=1e-9
        )


def test_flows_reconcile_and_intervals_are_ordered() -> None:
    panel = random_panel(2)
    scenarios = [
        DeRiskingScenario("mild", origin="USA", start="2015-03-01", withdrawn=Uniform(0.1, 0.3)),
        DeRiskingScenario("severe", origin="USA", start="2015-03-01"),
    ]
    result = estimate_informal(panel, scenarios, baseline=flat_baseline(panel, log_sd=0.2))
    for table in (result.corridors, result.by_destination, result.by_scenario, result.summary):
        parts = table["formal_mean"] + table["informal_mean"] + table["lost_mean"]
        np.testing.assert_allclose(parts.to_numpy(), table["total_mean"].to_numpy(), rtol=1e-9)
        for quantity in ("formal", "informal", "lost", "total"):
            assert (table[f"{quantity}_p5"] <= table[f"{quantity}_p50"]).all()
            assert (table[f"{quantity}_p50"] <= table[f"{quantity}_p95"]).all()
    # sums of corridors reconcile with the receiving countries' table
    assert result.by_destination["informal_mean"].sum() == pytest.approx(
        result.corridors["informal_mean"].sum()
    )
    assert result.summary["scenario"].to_list() == ["mild", "severe"]
    mild, severe = result.summary.rows(named=True)
    assert severe["informal_p50"] > mild["informal_p50"]
    assert severe["total_p50"] == pytest.approx(mild["total_p50"])  # the same counterfactual


def test_no_scenario_is_the_baseline() -> None:
    panel = random_panel(3)
    baseline = flat_baseline(panel, ratio=0.4, log_sd=0.0)
    result = estimate_informal(panel, None, baseline=baseline, draws=20)
    table = result.corridors
    assert (table["lost_p95"] == 0).all()
    np.testing.assert_allclose(table["formal_p50"], table["recorded_formal_usd"])
    expected = table["recorded_formal_usd"] * baseline["informal_ratio"][0]
    np.testing.assert_allclose(table["informal_p5"], expected)
    np.testing.assert_allclose(table["informal_p95"], expected)


@settings(max_examples=25, deadline=None)
@given(
    low=st.floats(0.0, 1.0),
    extra=st.floats(0.0, 1.0),
    cost_low=st.floats(0.0, 5.0),
    cost_extra=st.floats(0.0, 5.0),
    start_day=st.integers(0, 200),
)
def test_a_more_severe_scenario_never_lowers_informal(
    low: float, extra: float, cost_low: float, cost_extra: float, start_day: int
) -> None:
    panel = random_panel(4, n_corridors=4)
    baseline = flat_baseline(panel, log_sd=0.2)
    start = dt.date(2015, 1, 1) + dt.timedelta(days=start_day)
    common = {"start": start, "origin": "USA", "destination": None, "ramp_days": 20}
    mild = fixed_scenario(
        name="mild", withdrawn=Fixed(low), cost_increase_pp=Fixed(cost_low), **common
    ).with_(cost_elasticity=Triangular(0.2, 0.8, 1.6), split=Split(0.5, 0.3, 20.0))
    severe = mild.with_(
        name="severe",
        withdrawn=Fixed(min(1.0, low + extra)),
        cost_increase_pp=Fixed(cost_low + cost_extra),
        start=start - dt.timedelta(days=10),
    )
    result = estimate_informal(panel, [mild, severe], baseline=baseline, draws=50, seed=3)
    by = result.corridors.sort("scenario", "origin", "destination", "period")
    half = by.height // 2
    for column in ("informal_p5", "informal_p50", "informal_p95", "informal_mean", "lost_mean"):
        values = by[column].to_numpy()
        assert (values[half:] >= values[:half] - 1e-9).all(), column


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    panel = random_panel(5)
    baseline = flat_baseline(panel, log_sd=0.2)
    scenario = DeRiskingScenario("s", origin="USA", start="2015-02-01")
    first = estimate_informal(panel, scenario, baseline=baseline, seed=7).summary
    again = estimate_informal(panel, scenario, baseline=baseline, seed=7).summary
    other = estimate_informal(panel, scenario, baseline=baseline, seed=8).summary
    assert first.equals(again)
    assert not first.equals(other)


def test_errors_name_the_fix() -> None:
    panel = one_corridor()
    baseline = flat_baseline(panel)
    with pytest.raises(fl.FlowlensError, match="baseline has no row"):
        estimate_informal(
            panel.with_columns(origin=pl.lit("GBR")), fixed_scenario(), baseline=baseline
        )
    with pytest.raises(fl.FlowlensError, match="must be >= 0"):
        estimate_informal(
            panel.with_columns(amount_usd=pl.lit(-1.0)), fixed_scenario(), baseline=baseline
        )
    with pytest.raises(fl.FlowlensError, match="names must differ"):
        estimate_informal(panel, [fixed_scenario(), fixed_scenario()], baseline=baseline)
    with pytest.raises(fl.FlowlensError, match="withdrawn must lie"):
        fixed_scenario(withdrawn=Uniform(0.5, 1.5))
    with pytest.raises(fl.FlowlensError, match="ISO date"):
        DeRiskingScenario("x", start="6 Feb 2015")
    with pytest.raises(fl.FlowlensError, match="needs costs"):
        baseline_from_costs(panel)
    with pytest.raises(fl.MissingColumnError, match="channel"):
        baseline_observed(panel)


def test_gap_estimator_by_hand() -> None:
    recorded = pl.DataFrame(
        {"origin": ["USA", "GBR"], "destination": ["SOM", "SOM"], "amount_usd": [100e6, 50e6]}
    )
    migrants = pl.DataFrame(
        {"origin": ["USA", "GBR"], "destination": ["SOM", "SOM"], "migrants": [100_000, 10_000]}
    )
    table = baseline_from_gap(recorded, migrants, share_remitting=0.5, annual_amount_usd=3000.0)
    gbr, usa = table.sort("origin").rows(named=True)
    assert usa["expected_usd"] == 150e6 and usa["informal_ratio"] - 1 == pytest.approx(0.5)
    assert gbr["expected_usd"] == 15e6
    # GBR: 15m expected against 50m recorded: no informal gap
    panel = recorded.with_columns(period=pl.lit(dt.date(2017, 1, 1)))
    result = estimate_informal(panel, None, baseline=table, freq="1y", draws=10)
    informal = dict(zip(*result.corridors.select("origin", "informal_p50"), strict=True))
    assert informal["USA"] == pytest.approx(50e6) and informal["GBR"] == 0


def test_real_data_lands_in_the_published_range() -> None:
    """World Bank 2017 bilateral matrix, with Remittance Prices Worldwide costs for 2017."""
    recorded = fl.read_wb_bilateral_matrix(REAL / "wb_bilateral_remittance_2017.xlsx").panel
    costs = fl.read_rpw_corridors(REAL / "wb_rpw_corridors_2011_2020.csv").panel.filter(
        pl.col("period").dt.year() == 2017
    )
    baseline = baseline_from_costs(recorded, costs)
    weighted = (
        recorded.group_by(pl.col("origin").cast(pl.String), pl.col("destination").cast(pl.String))
        .agg(pl.col("amount_usd").sum())
        .join(baseline, on=["origin", "destination"])
        .select(
            (pl.col("informal_ratio") * pl.col("amount_usd")).sum() / pl.col("amount_usd").sum()
        )
        .item()
    )
    assert 0.35 <= weighted <= 0.75  # Freund and Spatafora (2008): 35-75% of recorded flows
    share_surveyed = baseline.filter(cost_source="corridor").height / baseline.height
    assert 0 < share_surveyed < 1


def hand_baseline(
    ratio: float, log_sd_shared: float, origins: tuple[str, ...] = ("USA",)
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "origin": list(origins),
            "destination": "SOM",
            "informal_ratio": ratio,
            "offset": 0.0,
            "log_sd_shared": log_sd_shared,
            "log_sd_own": 0.1,
            "method": "by hand",
        }
    )


def test_sensitivity_by_hand() -> None:
    panel = one_corridor().head(3)  # Jan-Mar 2015, after a start in 2000: fully withdrawn
    scenario = DeRiskingScenario(
        "tornado",
        withdrawn=Uniform(0.2, 0.6),
        cost_increase_pp=Fixed(2.0),
        cost_elasticity=Fixed(1.0),
        split=Split(0.5, 0.3, concentration=None),
    )
    table = sensitivity(
        panel, scenario, baseline=hand_baseline(0.4, 0.2), quantity="informal"
    ).sort("parameter")
    rows = {row["parameter"]: row for row in table.iter_rows(named=True)}
    deterred = 1.0 - (1.0 + 2.0 / 7.0) ** -1.0  # constant elasticity 1: a rise of 2 on 7%

    def informal(withdrawn: float, ratio: float = 0.4) -> float:
        return 300 * ratio + 0.5 * 300 * (withdrawn + (1 - withdrawn) * deterred)

    assert rows["withdrawn"]["low_value"] == pytest.approx(0.22)
    assert rows["withdrawn"]["at_low"] == pytest.approx(informal(0.22))
    assert rows["withdrawn"]["at_high"] == pytest.approx(informal(0.58))
    assert rows["withdrawn"]["central"] == pytest.approx(informal(0.4))
    low_ratio = 0.4 * np.exp(-0.2 * 1.6448536)
    assert rows["baseline_ratio"]["low_value"] == pytest.approx(low_ratio)
    assert rows["baseline_ratio"]["at_low"] == pytest.approx(informal(0.4, low_ratio))
    # fixed parameters do not move anything
    for fixed in ("cost_increase_pp", "cost_elasticity", "split_informal"):
        assert rows[fixed]["swing"] == pytest.approx(0.0)
    assert table["swing_share"].sum() == pytest.approx(1.0)
    # the widest swing comes first
    ordered = sensitivity(panel, scenario, baseline=hand_baseline(0.4, 0.2))
    assert ordered["swing"].to_list() == sorted(ordered["swing"].to_list(), reverse=True)
    with pytest.raises(FlowlensError, match="quantity must be one of"):
        sensitivity(panel, scenario, baseline=hand_baseline(0.4, 0.2), quantity="total")


def test_sensitivity_split_keeps_the_ratio_of_the_other_shares() -> None:
    panel = one_corridor().head(1)
    scenario = fixed_scenario(start="2000-01-01", split=Split(0.5, 0.3, concentration=20.0))
    table = sensitivity(
        panel, scenario, baseline=hand_baseline(0.0, 0.0), quantity="lost", freq="1mo"
    )
    row = table.filter(pl.col("parameter") == "split_informal").row(0, named=True)
    # Beta(10, 10) percentiles; the lost share is (1 - informal) x 0.2 / 0.5
    assert row["low_value"] == pytest.approx(0.3203, abs=1e-3)
    assert row["at_low"] == pytest.approx(60 * (1 - row["low_value"]) * 0.4)
    assert row["at_high"] == pytest.approx(60 * (1 - row["high_value"]) * 0.4)


def test_exposure_ranks_receivers_by_what_they_lose() -> None:
    panel = pl.DataFrame(
        {
            "period": dt.date(2015, 1, 1),
            "origin": ["USA", "USA", "GBR", "GBR", "GBR"],
            "destination": ["SOM", "KEN", "SOM", "KEN", "ETH"],
            "amount_usd": [100.0, 10.0, 50.0, 400.0, 30.0],
        }
    )
    baseline = pl.concat(
        [
            hand_baseline(0.5, 0.0, ("USA", "GBR")),
            hand_baseline(0.5, 0.0, ("USA", "GBR")).with_columns(destination=pl.lit("KEN")),
            hand_baseline(0.5, 0.0, ("GBR",)).with_columns(destination=pl.lit("ETH")),
        ]
    ).with_columns(log_sd_own=0.0)
    scenario = DeRiskingScenario(
        "US banks",
        withdrawn=Fixed(0.6),
        cost_increase_pp=Fixed(0.0),
        cost_elasticity=Fixed(0.0),
        split=Split(0.5, 0.3, concentration=None),
    )
    table = derisking_exposure(
        panel, "usa", baseline=baseline, scenario=scenario, draws=20, freq="1mo"
    )
    assert table["destination"].to_list() == ["SOM", "KEN", "ETH"]
    som = table.row(0, named=True)
    assert som["inflow_usd"] == pytest.approx(150)
    assert som["exposed_share"] == pytest.approx(100 / 150)
    # 60 displaced from USA -> SOM: 12 not sent, 30 to informal channels
    assert som["lost_p50"] == pytest.approx(12)
    assert som["informal_added_p50"] == pytest.approx(30)
    assert som["lost_to_inflow_p50"] == pytest.approx(12 / 150)
    eth = table.row(2, named=True)
    assert (eth["lost_p95"], eth["informal_added_p95"]) == (0.0, 0.0)
    with pytest.raises(FlowlensError, match="no recorded flow from FRA"):
        derisking_exposure(panel, "FRA", baseline=baseline, freq="1mo")


def test_sampling_noise_widens_one_period_not_the_year() -> None:
    panel = one_corridor(1000.0).with_columns(n_transfers=pl.lit(100))
    baseline = flat_baseline(panel, ratio=0.5)
    result = estimate_informal(
        panel, None, baseline=baseline, draws=4000, seed=2, interval="conditional"
    )
    sd = 1.28062 * np.sqrt(1 / 50 + 1 / 100)  # SUM_CV x sqrt(1 / n_informal + 1 / n_formal)
    cell = result.corridors.row(0, named=True)
    width = np.log(cell["informal_p95"] / cell["informal_p5"]) / (2 * 1.6449)
    assert width == pytest.approx(sd, rel=0.05)
    assert cell["informal_mean"] == pytest.approx(500, rel=0.01)  # the noise keeps the mean
    assert cell["total_p50"] - cell["informal_p50"] == pytest.approx(1000, rel=1e-9)
    # twelve independent months: the year's relative spread is sd / sqrt(12)
    year = result.summary.row(0, named=True)
    year_width = np.log(year["informal_p95"] / year["informal_p5"]) / (2 * 1.6449)
    assert year_width == pytest.approx(sd / np.sqrt(12), rel=0.1)
    plain = estimate_informal(
        panel, None, baseline=baseline, draws=50, seed=2, sampling_noise=False
    ).corridors
    assert (plain["informal_p5"] == plain["informal_p95"]).all()


def test_progress_over_scenarios_is_opt_in(capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal

    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 6, 1), "1mo", eager=True)
    panel = pl.DataFrame(
        {"period": months, "origin": "USA", "destination": "SOM", "amount_usd": 1e7}
    )
    costs = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "cost_pct": [7.0]})
    base = baseline_from_costs(panel, costs)
    scenarios = [
        DeRiskingScenario(n, start=s) for n, s in (("a", "2015-02-01"), ("b", "2015-04-01"))
    ]
    quiet = estimate_informal(panel, scenarios, baseline=base, draws=100, seed=3)
    assert capsys.readouterr().err == ""
    shown = estimate_informal(panel, scenarios, baseline=base, draws=100, seed=3, progress=True)
    assert shown.summary.equals(quiet.summary)
    assert "2/2" in capsys.readouterr().err


def test_a_published_cost_at_or_below_zero_takes_the_means_and_says_so() -> None:
    # RPW's SAU->SDN averages -0.53% over 2017: no deterrence by cost can come from it
    recorded = pl.DataFrame(
        {
            "origin": ["SAU", "ARE", "SAU"],
            "destination": ["SDN", "SDN", "EGY"],
            "amount_usd": [2e9, 1e9, 3e9],
        }
    )
    costs = pl.DataFrame(
        {
            "origin": ["SAU", "ARE", "SAU"],
            "destination": ["SDN", "SDN", "EGY"],
            "cost_pct": [-0.53, 6.0, 4.0],
        }
    )
    table = baseline_from_costs(recorded, costs).filter(origin="SAU", destination="SDN")
    assert table["cost_pct"].item() == pytest.approx(6.0)  # the receiving country's other corridor
    assert table["cost_source"].item() == "destination mean (published cost -0.53% <= 0)"
