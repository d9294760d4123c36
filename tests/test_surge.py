"""Surge detection: baselines against a slow reference, invariances, no look-ahead, real data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.surge import MAD_SCALE, Scores, SeriesArrays, SurgeMethod, rolling_median_mad


def slow_median_mad(
    values: np.ndarray, window: int, min_periods: int
) -> tuple[np.ndarray, np.ndarray]:
    """Obviously correct: a loop over every series and period, numpy's nanmedian on each window."""
    median = np.full(values.shape, np.nan)
    mad = np.full(values.shape, np.nan)
    for s in range(values.shape[0]):
        for t in range(values.shape[1]):
            past = values[s, max(0, t - window) : t]
            past = past[~np.isnan(past)]
            if len(past) >= max(min_periods, 1):
                median[s, t] = np.median(past)
                mad[s, t] = np.median(np.abs(past - median[s, t]))
    return median, mad


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 30),
    st.integers(2, 8),
    st.integers(1, 6),
    st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=120, max_size=120),
)
def test_rolling_median_and_mad_are_exact(
    n_series: int, n_periods: int, window: int, min_periods: int, pool: list[float]
) -> None:
    values = np.array(pool[: n_series * n_periods] * 4)[: n_series * n_periods].reshape(
        n_series, n_periods
    )
    median, mad, _ = rolling_median_mad(values, window, min_periods=min_periods)
    ref_median, ref_mad = slow_median_mad(values, window, min_periods)
    np.testing.assert_allclose(median, ref_median, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(mad, ref_mad, rtol=1e-12, atol=1e-12, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 15),
    st.integers(1, 8),
    st.lists(
        st.one_of(st.integers(-5, 5).map(float), st.just(float("nan"))), min_size=60, max_size=60
    ),
)
def test_compiled_kernel_equals_the_numpy_kernel(
    window: int, min_periods: int, pool: list[float]
) -> None:
    """Integer values make ties common: both kernels must agree to the bit."""
    from flowlens.surge._baselines import _rolling_median_mad_numpy

    values = np.array(pool * 3).reshape(3, 60)
    for compiled, reference in zip(
        rolling_median_mad(values, window, min_periods=min_periods),
        _rolling_median_mad_numpy(values, window, min_periods=min_periods),
        strict=True,
    ):
        np.testing.assert_array_equal(compiled, reference)


def monthly_panel(n_months: int = 60, spike: int | None = 40, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pl.date_range(
        dt.date(2015, 1, 1),
        dt.date(2015, 1, 1) + dt.timedelta(days=31 * n_months),
        "1mo",
        eager=True,
    )[:n_months]
    frames = []
    for origin, level in (("USA", 1000.0), ("ESP", 50.0)):
        season = 1 + 0.3 * (periods.dt.month().to_numpy() == 12)
        values = level * season * rng.lognormal(0, 0.05, n_months)
        if spike is not None and origin == "USA":
            values[spike] *= 1.8
        frames.append(
            pl.DataFrame({"period": periods, "origin": origin, "destination": "MEX",
                          "flow_type": "remittance", "amount_usd": values})
        )  # fmt: skip
    return pl.concat(frames)


@pytest.mark.parametrize("method", ["forecast", "rolling", "seasonal"])
def test_a_planted_spike_is_flagged_and_scores_are_consistent(method: str) -> None:
    result = fl.detect_surges(monthly_panel(), method=method)
    usa = result.scored.filter(origin="USA")
    flagged = usa.filter("flag")["period"].to_list()
    spike_period = usa["period"][40]
    assert spike_period in flagged
    row = usa.filter(period=spike_period).row(0, named=True)
    assert row["score"] == pytest.approx((np.log(row["amount_usd"]) - np.log(row["baseline"])) / row["scale"]
                                         if method != "rolling" else (row["amount_usd"] - row["baseline"]) / row["scale"])  # fmt: skip


def test_rolling_score_by_hand() -> None:
    panel = pl.DataFrame(
        {
            "period": pl.date_range(dt.date(2020, 1, 1), dt.date(2020, 5, 1), "1mo", eager=True),
            "destination": "MEX",
            "amount_usd": [100.0, 110.0, 90.0, 100.0, 300.0],
        }
    )
    result = fl.detect_surges(panel, method="rolling", by=["destination"], window=4, min_periods=4)
    may = result.scored.row(4, named=True)
    # window 100, 110, 90, 100: median 100, deviations 0, 10, 10, 0: MAD 5
    assert may["baseline"] == 100.0
    assert may["scale"] == pytest.approx(MAD_SCALE * 5.0)  # above the 5% floor (5.0)
    assert may["score"] == pytest.approx(200.0 / (MAD_SCALE * 5.0))
    assert may["flag"]


def test_seasonal_method_does_not_take_december_for_a_surge() -> None:
    panel = monthly_panel(spike=None)
    rolling = fl.detect_surges(panel, method="rolling").scored.filter("flag")
    seasonal = fl.detect_surges(panel, method="seasonal").scored.filter("flag")
    assert (rolling["period"].dt.month() == 12).sum() >= 3  # the trap: every December
    assert seasonal.height == 0


def test_scaling_amounts_leaves_scores_unchanged() -> None:
    panel = monthly_panel()
    a = fl.detect_surges(panel).scored
    b = fl.detect_surges(panel.with_columns(pl.col("amount_usd") * 1234.5)).scored
    np.testing.assert_allclose(
        a["score"].to_numpy(), b["score"].to_numpy(), rtol=1e-9, equal_nan=True
    )
    assert a["flag"].equals(b["flag"])


def test_shuffled_rows_give_identical_output() -> None:
    panel = monthly_panel()
    shuffled = panel.sample(fraction=1.0, shuffle=True, seed=3)
    assert_frame_equal(fl.detect_surges(panel).scored, fl.detect_surges(shuffled).scored)


@pytest.mark.parametrize("method", ["rolling", "seasonal"])
def test_appending_future_periods_never_changes_past_scores(method: str) -> None:
    full = monthly_panel(n_months=60)
    cut = dt.date(2018, 6, 1)
    past = fl.detect_surges(full.filter(pl.col("period") <= cut), method=method).scored
    later = fl.detect_surges(full, method=method).scored.filter(pl.col("period") <= cut)
    assert_frame_equal(past, later)


def test_missing_periods_are_null_unless_zero_is_asked() -> None:
    panel = monthly_panel(n_months=30, spike=None).filter(
        ~((pl.col("origin") == "ESP") & (pl.col("period") == dt.date(2016, 3, 1)))
    )
    nulls = fl.detect_surges(panel, method="rolling").scored.filter(
        origin="ESP", period=dt.date(2016, 3, 1)
    )
    assert nulls["amount_usd"].item() is None
    assert nulls["score"].item() is None
    zeros = fl.detect_surges(panel, method="rolling", missing="zero").scored
    assert zeros.filter(origin="ESP", period=dt.date(2016, 3, 1))["amount_usd"].item() == 0.0


def test_series_with_too_little_history_are_in_the_diagnostics() -> None:
    panel = pl.concat(
        [
            monthly_panel(n_months=30, spike=None),
            pl.DataFrame({"period": [dt.date(2017, 5, 1)], "origin": ["GBR"], "destination": ["MEX"],
                          "flow_type": ["remittance"], "amount_usd": [5.0]}),
        ]
    )  # fmt: skip
    result = fl.detect_surges(panel, method="rolling")
    gbr = result.diagnostics.filter(origin="GBR").row(0, named=True)
    assert gbr["n_scored"] == 0
    assert gbr["reason"].startswith("never scored")
    assert result.scored.filter(origin="GBR").height == 30  # kept, on every period


def test_episodes_by_hand() -> None:
    scored = pl.DataFrame(
        {
            "period": pl.date_range(dt.date(2020, 1, 1), dt.date(2020, 6, 1), "1mo", eager=True),
            "destination": "MEX",
            "amount_usd": [100.0, 150.0, 180.0, 100.0, 160.0, 100.0],
            "baseline": [100.0] * 6,
            "scale": [10.0] * 6,
            "score": [0.0, 5.0, 8.0, 0.0, 6.0, 0.0],
            "flag": [False, True, True, False, True, False],
            "n_history": [12] * 6,
        }
    )
    episodes = fl.surge_episodes(scored)
    assert episodes.select("start", "end", "n_periods", "peak_period", "excess_usd").rows() == [
        (dt.date(2020, 2, 1), dt.date(2020, 3, 1), 2, dt.date(2020, 3, 1), 130.0),
        (dt.date(2020, 5, 1), dt.date(2020, 5, 1), 1, dt.date(2020, 5, 1), 60.0),
    ]
    assert episodes["uplift"].to_list() == pytest.approx([0.65, 0.6])


def test_errors_name_the_fix() -> None:
    panel = monthly_panel()
    with pytest.raises(fl.ParameterError, match="method 'prophet' is not one of"):
        fl.detect_surges(panel, method="prophet")
    with pytest.raises(fl.MissingColumnError, match="'region'"):
        fl.detect_surges(panel, by=["region"])
    with pytest.raises(fl.ParameterError, match="missing"):
        fl.detect_surges(panel, missing="interpolate")
    with pytest.raises(fl.MissingColumnError, match="'period'"):
        fl.detect_surges(panel.drop("period"))


def test_real_mexico_series(real: Any) -> None:
    monthly = fl.read_banxico_monthly(
        real / "banxico_mexico_remittances_monthly_1995_2026.csv"
    ).panel
    inflows = monthly.filter(destination="MEX")
    rolling = fl.detect_surges(inflows, by=["destination"], method="rolling").scored
    seasonal = fl.detect_surges(inflows, by=["destination"], method="seasonal").scored
    march_2020 = dt.date(2020, 3, 1)
    assert rolling.filter(period=march_2020)["flag"].item()
    # under the seasonal method March 2020 scores 3.2, among the two highest since 2002; the
    # other is April 2021, a base effect: April 2020 was the pandemic dip, so the
    # year-over-year change of April 2021 is large
    recent = seasonal.filter(pl.col("period") >= dt.date(2002, 1, 1))
    top_two = recent.sort("score", descending=True, nulls_last=True)["period"].head(2).to_list()
    assert set(top_two) == {march_2020, dt.date(2021, 4, 1)}
    assert 3.0 < seasonal.filter(period=march_2020)["score"].item() < 3.5
    may = pl.col("period").dt.month() == 5
    assert rolling.filter(may & pl.col("flag")).height >= 2  # the Mother's Day trap
    assert (
        seasonal.filter(may & pl.col("flag") & (pl.col("period") >= dt.date(2002, 1, 1))).height
        == 0
    )


def test_sparse_series_are_floored_at_their_sampling_noise() -> None:
    periods = pl.date_range(dt.date(2020, 1, 1), dt.date(2020, 6, 1), "1mo", eager=True)
    panel = pl.DataFrame(
        {
            "period": periods,
            "destination": "HTI",
            "amount_usd": [100.0, 101.0, 99.0, 100.0, 100.0, 180.0],
        }
    )
    plain = fl.detect_surges(panel, method="rolling", by=["destination"], window=5, min_periods=5)
    counted = fl.detect_surges(
        panel.with_columns(n_transfers=pl.lit(4)),
        method="rolling",
        by=["destination"],
        window=5,
        min_periods=5,
    )
    last_plain, last_counted = plain.scored.row(5, named=True), counted.scored.row(5, named=True)
    assert last_plain["flag"]  # 80% above a flat baseline looks like a surge...
    # ...but a sum of about 4 transfers of CV 0.8 varies by sqrt(1 + 0.8^2) / sqrt(4),
    # about 64% of its level
    assert last_counted["scale"] == pytest.approx((1 + 0.8**2) ** 0.5 * 100 / 2)
    assert not last_counted["flag"]


def eid_series(spike_at: dt.date | None = None) -> pl.DataFrame:
    """A monthly series to Pakistan whose only movement is the pre-Eid rise (15 days, +150% log)."""
    from flowlens.calendar import holiday_windows

    periods = pl.date_range(dt.date(2005, 1, 1), dt.date(2024, 12, 1), "1mo", eager=True)
    windows = holiday_windows(2005, 2024, countries=["PAK"])
    per_month = windows.group_by(period=pl.col("date").dt.truncate("1mo")).len()
    frame = pl.DataFrame({"period": periods}).join(per_month, on="period", how="left")
    share = (
        frame["len"].fill_null(0).to_numpy() / frame["period"].dt.month_end().dt.day().to_numpy()
    )
    values = 1000 * np.exp(1.5 * share) * np.random.default_rng(0).lognormal(0, 0.01, len(share))
    if spike_at is not None:
        values[periods.to_list().index(spike_at)] *= 1.6
    return pl.DataFrame({"period": periods, "destination": "PAK", "amount_usd": values})


def test_calendar_method_takes_the_moving_eid_out() -> None:
    panel = eid_series()
    seasonal = fl.detect_surges(panel, by=["destination"], method="seasonal").scored
    calendar = fl.detect_surges(panel, by=["destination"], method="calendar").scored
    assert (
        seasonal["flag"].sum() >= 10
    )  # the Eid month changes: year over year it looks like a surge
    assert calendar["flag"].sum() == 0
    spiked = fl.detect_surges(
        eid_series(dt.date(2019, 3, 1)), by=["destination"], method="calendar"
    )
    assert spiked.scored.filter("flag")["period"].to_list() == [dt.date(2019, 3, 1)]


def test_calendar_holidays_must_name_country_and_date() -> None:
    with pytest.raises(fl.SchemaError, match=r"'country' \(ISO3\) and 'date'"):
        fl.detect_surges(
            eid_series(),
            by=["destination"],
            method="calendar",
            holidays=pl.DataFrame({"day": [1]}),
        )


def test_level_shifts_tell_a_step_from_a_transient() -> None:
    periods = pl.date_range(dt.date(2015, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True)
    wiggle = [(i % 3) * 1.0 for i in range(60)]
    step = [100.0 + w for w in wiggle[:36]] + [40.0 + w for w in wiggle[36:]]
    spike = [100.0 + w for w in wiggle]
    spike[30] = 200.0
    panel = pl.concat(
        [
            pl.DataFrame({"period": periods, "destination": "SOM", "amount_usd": step}),
            pl.DataFrame({"period": periods, "destination": "HTI", "amount_usd": spike}),
        ]
    )
    shifts = fl.surge.level_shifts(fl.detect_surges(panel, by=["destination"], method="rolling"))
    first = {
        r["destination"]: r
        for r in shifts.sort("period").unique("destination", keep="first").iter_rows(named=True)
    }
    assert (first["SOM"]["period"], first["SOM"]["direction"], first["SOM"]["kind"]) == (
        dt.date(2018, 1, 1),
        "down",
        "step",
    )
    assert (first["HTI"]["period"], first["HTI"]["direction"], first["HTI"]["kind"]) == (
        dt.date(2017, 7, 1),
        "up",
        "transient",
    )


def test_level_shifts_find_the_synthetic_derisking_drop() -> None:
    """USA -> SOM loses most bank and MTO capacity from 2015-02-06: a downward step in MTO flows."""
    from flowlens.synth import SynthConfig, generate

    config = SynthConfig(
        n_corridors=80, start="2012-01-01", end="2016-12-31", ids=False, n_random_crises=0
    )
    flows = generate(2_000_000, seed=2, config=config).flows
    assert flows is not None
    mto = fl.corridor_panel(flows, by=("channel",)).filter(
        origin="USA", destination="SOM", channel="mto"
    )
    shifts = fl.surge.level_shifts(
        fl.detect_surges(mto, method="rolling", by=["origin", "destination"])
    )
    downs = shifts.filter(direction="down", kind="step")
    assert downs.height >= 1
    first = downs["period"].min()
    assert isinstance(first, dt.date)
    assert dt.date(2015, 2, 1) <= first <= dt.date(2015, 8, 1)


def compound_sums(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exact sums of ``counts`` lognormal(5, 0.7) transfers per cell (one draw per transfer)."""
    draws = rng.lognormal(5.0, 0.7, int(counts.sum()))
    ends = np.cumsum(counts.ravel())
    totals = np.add.reduceat(np.append(draws, 0.0), np.concatenate([[0], ends[:-1]]))
    return np.where(counts.ravel() > 0, totals, 0.0).reshape(counts.shape)


def test_the_count_floor_keeps_false_alarms_near_the_nominal_rate() -> None:
    # pure noise: 400 corridors of about 30 transfers a month, no surge anywhere
    rng = np.random.default_rng(3)
    n_series, n_months = 400, 84
    counts = rng.poisson(30, (n_series, n_months))
    periods = pl.date_range(dt.date(2015, 1, 1), dt.date(2021, 12, 1), "1mo", eager=True)
    panel = pl.DataFrame(
        {
            "period": np.tile(periods.to_numpy(), n_series),
            "origin": np.repeat([f"S{i:03d}" for i in range(n_series)], n_months),
            "destination": "MEX",
            "amount_usd": compound_sums(counts, rng).ravel(),
            "n_transfers": counts.ravel(),
        }
    ).with_columns(pl.col("period").cast(pl.Date))

    def false_alarm_rate(frame: pl.DataFrame) -> float:
        scored = fl.detect_surges(frame, method="seasonal").scored
        return float(scored.filter(pl.col("score").is_not_null())["flag"].mean())  # type: ignore[arg-type]

    # a normal score passes 3.5 in 0.023% of periods; the MAD of 36 noisy changes
    # alone lets through ten times more
    assert false_alarm_rate(panel.drop("n_transfers")) > 0.002
    assert false_alarm_rate(panel) < 0.0007


def test_with_threshold_flags_as_detect_surges_would() -> None:
    panel = monthly_panel()
    loose = fl.detect_surges(panel, threshold=1.0)
    strict = fl.detect_surges(panel, threshold=4.0)
    moved = loose.with_threshold(4.0)
    assert_frame_equal(moved.scored, strict.scored)
    assert moved.threshold == 4.0
    assert loose.scored["flag"].sum() > strict.scored["flag"].sum()


def previous_period(arrays: SeriesArrays) -> Scores:
    """A method of one's own: each period against the one before, with a 10% scale."""
    v = arrays.values
    past = np.full_like(v, np.nan)
    past[:, 1:] = v[:, :-1]
    scale = 0.1 * past
    return Scores(past, scale, (v - past) / scale, np.where(np.isnan(past), 0.0, 1.0))


def test_a_method_of_ones_own_is_passed_not_registered() -> None:
    method = SurgeMethod("previous_period", previous_period)
    result = fl.detect_surges(monthly_panel(), method=method, threshold=5.0)
    usa = result.scored.filter(origin="USA")
    values = usa["amount_usd"].to_numpy()
    # by hand: the spike at month 40 is 80% above month 39, 8 times the 10% scale
    assert usa["score"][40] == pytest.approx((values[40] - values[39]) / (0.1 * values[39]))
    assert usa.filter("flag")["period"].to_list() == [usa["period"][40]]
    assert result.method == "previous_period" and result.window == 12
    # nothing was stored: the name alone means nothing to a later caller
    with pytest.raises(fl.ParameterError, match="SurgeMethod"):
        fl.detect_surges(monthly_panel(), method="previous_period")
    assert not hasattr(fl.surge, "register_method")
    assert fl.surge.BUILT_IN == ("forecast", "rolling", "seasonal", "calendar")


def test_a_method_that_writes_into_its_arrays_changes_neither_panel() -> None:
    """AN-72: a panel sorted by its keys is read without a copy; a method of one's own gets copies."""
    panel = monthly_panel().sort("origin", "destination", "period")
    panel = panel.with_columns(n_transfers=pl.lit(500, dtype=pl.Int64))
    before = panel.clone()

    def scribbles(arrays: SeriesArrays) -> Scores:
        scores = previous_period(arrays)
        arrays.values[:] = -1.0
        assert arrays.counts is not None
        arrays.counts[:] = -1.0
        return scores

    result = fl.detect_surges(panel, method=SurgeMethod("scribbles", scribbles), threshold=5.0)
    assert_frame_equal(panel, before)
    assert result.scored["amount_usd"].to_list() == panel["amount_usd"].to_list()


def test_a_methods_output_is_checked() -> None:
    def wrong_shape(arrays: SeriesArrays) -> Scores:
        flat = arrays.values[:, :1]
        return Scores(flat, flat, flat, flat)

    with pytest.raises(fl.ParameterError, match="each of shape"):
        fl.detect_surges(monthly_panel(), method=SurgeMethod("wrong", wrong_shape))


def test_evaluate_surges_by_hand_strict_and_lenient() -> None:
    months = pl.date_range(dt.date(2020, 1, 1), dt.date(2020, 12, 1), "1mo", eager=True)
    excess = [0.0] * 12
    excess[2] = 50.0  # +50% in March: a true surge at 30%
    excess[8] = 20.0  # +20% in September: real, but under 30%
    truth = pl.DataFrame(
        {"destination": "NPL", "period": months, "baseline_usd": 100.0, "excess_usd": excess}
    )
    found = pl.DataFrame(
        {
            "destination": ["NPL"] * 3,
            "start": [dt.date(2020, 3, 1), dt.date(2020, 9, 1), dt.date(2020, 6, 1)],
            "end": [dt.date(2020, 4, 1), dt.date(2020, 9, 1), dt.date(2020, 6, 1)],
            "excess_usd": [60.0, 15.0, 5.0],
        }
    )
    strict = fl.evaluate_surges(found, truth)
    lenient = fl.evaluate_surges(found, truth, real_uplift=0.1)
    assert strict["precision"] == pytest.approx(1 / 3)  # only March matches a +30% surge
    assert lenient["precision"] == pytest.approx(2 / 3)  # September was real too; June was not
    assert strict["recall"] == lenient["recall"] == 1.0
    # March-April detected 60 against a true 50 + 0: error 0.2
    assert strict["median_excess_error"] == pytest.approx(0.2)
    assert fl.evaluate_surges(found, truth, min_uplift=0.1)["recall"] == 1.0
    assert fl.evaluate_surges(found.head(1), truth, min_uplift=0.1)["recall"] == 0.5


def test_min_uplift_asks_for_a_rise_that_matters() -> None:
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2020, 12, 1), "1mo", eager=True)
    rng = np.random.default_rng(5)
    values = 1e6 * rng.lognormal(0.0, 0.01, months.len())
    values[-3] *= 1.25  # +25%: five times the scale's floor of 5%, yet under 30%
    values[-1] *= 1.40  # +40%
    panel = pl.DataFrame({"period": months, "destination": "PHL", "amount_usd": values})
    unusual = fl.detect_surges(panel, by=["destination"], method="rolling")
    mattering = fl.detect_surges(panel, by=["destination"], method="rolling", min_uplift=0.3)
    assert unusual.scored.filter("flag")["period"].to_list() == [months[-3], months[-1]]
    assert mattering.scored.filter("flag")["period"].to_list() == [months[-1]]
    assert mattering.min_uplift == 0.3
    assert_frame_equal(unusual.with_threshold(3.5, min_uplift=0.3).scored, mattering.scored)
    with pytest.raises(fl.ParameterError, match="min_uplift"):
        fl.detect_surges(panel, by=["destination"], min_uplift=-0.1)


def test_event_study_takes_iso_text_for_the_start() -> None:
    flows = fl.synth.generate(50_000, seed=3).flows
    result = fl.detect_surges(fl.corridor_panel(flows), by=None)
    by_date = fl.event_study(result, country="MEX", start=dt.date(2020, 3, 1))
    by_text = fl.event_study(result, country="MEX", start="2020-03-01")
    assert by_text.equals(by_date)
    with pytest.raises(fl.ParameterError, match="not a date"):
        fl.event_study(result, country="MEX", start="March 2020")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["b", "a", "c", "aa"]), st.integers(0, 3)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["as given", "sorted", "period-major"]),
    st.sampled_from(["String", "Enum", "Categorical"]),
)
def test_series_numbers_are_the_dense_rank_of_the_keys_whatever_the_order_and_types(
    rows: list[tuple[str, int]], order: str, kind: str
) -> None:
    """Each shortcut (runs of one series, Enum codes) numbers series as a struct rank does."""
    from flowlens.surge._common import _period_number
    from flowlens.surge._detect import _period_numbers, _series_numbers

    frame = pl.DataFrame(
        {
            "origin": [o for o, _ in rows],
            "destination": [o[::-1] + "x" for o, _ in rows],
            "period": [dt.date(2020, 1 + m, 1) for _, m in rows],
        }
    )
    if order != "as given":
        by = ["origin", "destination", "period"]
        frame = frame.sort(by if order == "sorted" else by[::-1])
    if kind != "String":  # Enum categories in an order of their own, not the text's
        origins = pl.Enum(["c", "aa", "b", "a"]) if kind == "Enum" else pl.Categorical()
        destinations = pl.Enum(["ax", "bx", "cx", "aax"]) if kind == "Enum" else pl.Categorical()
        frame = frame.with_columns(
            pl.col("origin").cast(origins), pl.col("destination").cast(destinations)
        )
    keys = ["origin", "destination"]
    expected = frame.select(pl.struct(keys).rank("dense")).to_series().to_numpy() - 1
    numbering, series, lengths = _series_numbers(frame, keys)
    number = numbering()
    np.testing.assert_array_equal(number, expected)
    assert series.height == expected.max() + 1
    assert_frame_equal(series[number], frame.select(keys))  # each series' keys, key types kept
    if lengths is not None:  # one run per series, in series order
        np.testing.assert_array_equal(np.repeat(np.arange(lengths.size), lengths), expected)
    number = _period_number(pl.col("period"), "1mo")
    direct = frame.select(number).to_series().to_numpy()
    np.testing.assert_array_equal(_period_numbers(frame["period"], number), direct)


@pytest.mark.parametrize("missing", ["null", "zero"])
def test_a_sorted_complete_panel_and_its_shuffle_score_alike_with_a_null_value(
    missing: str,
) -> None:
    """A sorted panel with every cell is read as it is; a null value stays unknown either way."""
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True)
    values: list[float | None] = [100.0 + (i % 12) for i in range(60)]
    values[30] = None
    panel = pl.DataFrame({"period": months, "destination": "MEX", "amount_usd": values})
    shuffled = panel.sample(fraction=1.0, shuffle=True, seed=1)
    ordered = fl.detect_surges(panel, by=["destination"], missing=missing).scored
    assert_frame_equal(
        ordered, fl.detect_surges(shuffled, by=["destination"], missing=missing).scored
    )
    assert ordered["amount_usd"][30] is None and ordered["score"][30] is None


def test_a_method_that_edits_its_series_or_periods_changes_nothing() -> None:
    """AN-72."""
    months = pl.date_range(dt.date(2020, 1, 1), dt.date(2021, 12, 1), "1mo", eager=True)
    panel = pl.concat(
        [
            pl.DataFrame({"period": months, "origin": o, "destination": "MEX", "amount_usd": 1.0})
            for o in ["CAN", "USA"]
        ]
    )

    def edits(arrays: SeriesArrays) -> Scores:
        arrays.series[0, "origin"] = "XXX"
        arrays.periods[0] = dt.date(1999, 1, 1)
        nan = np.full_like(arrays.values, np.nan)
        return Scores(nan, nan, nan, np.zeros_like(arrays.values))

    method = SurgeMethod("edits", edits)
    for order in (panel, panel.reverse()):
        scored = fl.detect_surges(order, method=method).scored
        assert sorted(scored["origin"].unique()) == ["CAN", "USA"]
        assert scored["period"].min() == dt.date(2020, 1, 1)


def test_a_methods_impossible_history_count_is_refused() -> None:
    """AN-73."""

    def infinite(arrays: SeriesArrays) -> Scores:
        nan = np.full_like(arrays.values, np.nan)
        return Scores(nan, nan, nan, np.full_like(arrays.values, np.inf))

    with pytest.raises(fl.ParameterError, match="n_history inf"):
        fl.detect_surges(monthly_panel(), method=SurgeMethod("infinite", infinite))


def test_timestamps_are_read_as_their_local_dates() -> None:
    """AN-70: midnight in Kolkata is the day before in UTC: the period is the local day."""
    days = pl.date_range(dt.date(2020, 1, 1), dt.date(2020, 12, 31), "1d", eager=True)
    panel = pl.DataFrame({"period": days, "destination": "IND", "amount_usd": 100.0})
    local = panel.with_columns(
        pl.col("period").cast(pl.Datetime("us")).dt.replace_time_zone("Asia/Kolkata")
    )
    scored = fl.detect_surges(local, by=["destination"], method="rolling").scored
    assert scored["period"].to_list() == days.to_list()
    # two times of one day are one period: repeated when they are the same cell
    noon = local.with_columns(pl.col("period") + pl.duration(hours=12))
    with pytest.raises(fl.SchemaError, match="repeat"):
        fl.detect_surges(pl.concat([local, noon]), by=["destination"], method="rolling")


def test_a_text_transfer_count_is_refused_not_read_as_a_key() -> None:
    """AN-71."""
    panel = monthly_panel().with_columns(n_transfers=pl.lit("400"))
    with pytest.raises(fl.SchemaError, match=r"n_transfers.*cast"):
        fl.detect_surges(panel)
