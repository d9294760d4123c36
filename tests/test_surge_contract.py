"""The contract of surge detection: the frequency read from the panel, one keyword per
concept, no process-wide state, results that carry their settings, any table kind in,
and row order that never matters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flowlens as fl

from .conftest import as_kind


def quarterly_panel(n_quarters: int = 8, n_origins: int = 5, seed: int = 0) -> pl.DataFrame:
    """Quarters of 2018-2019 from ``n_origins`` origins to MEX, every cell present."""
    rng = np.random.default_rng(seed)
    quarters = pl.date_range(dt.date(2018, 1, 1), dt.date(2030, 1, 1), "1q", eager=True)
    quarters = quarters[:n_quarters]
    origins = [f"O{i:02d}" for i in range(n_origins)]
    return pl.DataFrame(
        {
            "period": np.tile(quarters.to_numpy(), n_origins),
            "origin": np.repeat(origins, n_quarters),
            "destination": "MEX",
            "flow_type": "remittance",
            "amount_usd": rng.lognormal(10, 0.2, n_quarters * n_origins),
        }
    ).with_columns(pl.col("period").cast(pl.Date))


def test_a_quarterly_panel_scores_by_quarters_without_freq() -> None:
    """The regression of issue 17: with freq="1mo" the default, 8 quarters became 22
    months, 14 of them null in every series."""
    panel = quarterly_panel()
    result = fl.detect_surges(panel, method="rolling", window=4, min_periods=4)
    assert result.freq == "1q"
    assert result.scored["period"].n_unique() == 8
    assert result.scored.height == panel.height  # 5 series x 8 quarters, no invented months
    assert result.scored["amount_usd"].null_count() == 0
    # the baseline of the fifth quarter is the median of the four before it, by hand
    one = result.scored.filter(origin="O00").sort("period")
    first_four = panel.filter(origin="O00").sort("period")["amount_usd"].head(4).to_numpy()
    assert one["baseline"][4] == pytest.approx(float(np.median(first_four)))
    assert one["score"].head(4).null_count() == 4
    assert one["score"][4] is not None


def test_a_monthly_freq_on_a_quarterly_panel_raises_naming_both() -> None:
    with pytest.raises(fl.ParameterError, match=r"freq='1mo'.*1q"):
        fl.detect_surges(quarterly_panel(), freq="1mo")
    # saying what it is works, in any spelling
    assert fl.detect_surges(quarterly_panel(), freq="quarter").freq == "1q"


def test_seasonal_quarters_compare_each_quarter_with_the_one_a_year_earlier() -> None:
    panel = quarterly_panel(n_quarters=24, n_origins=2)
    result = fl.detect_surges(panel, method="seasonal")
    assert result.window == 12  # 3 years of quarterly changes
    one = result.scored.filter(origin="O00").sort("period")
    values = one["amount_usd"].to_numpy()
    change = np.log(values[4:] / values[:-4])  # a year earlier is 4 quarters back
    # the first scored quarter: the median of the 6 changes before it (min_periods 6)
    t = 4 + 6
    median = float(np.median(change[:6]))
    assert one["baseline"][t] == pytest.approx(values[t - 4] * np.exp(median))


def test_by_sums_the_other_keys() -> None:
    panel = quarterly_panel()
    by_destination = fl.detect_surges(panel, by=["destination"], method="rolling")
    assert by_destination.by == ("destination",)
    assert by_destination.scored.columns[:2] == ["destination", "period"]
    totals = panel.group_by("period").agg(pl.col("amount_usd").sum()).sort("period")
    assert by_destination.scored["amount_usd"].to_list() == pytest.approx(
        totals["amount_usd"].to_list()
    )
    every_key = fl.detect_surges(panel, method="rolling")
    assert every_key.by == ("origin", "destination", "flow_type")
    assert fl.detect_surges(panel, by="destination", method="rolling").by == ("destination",)


def test_the_result_records_its_settings_and_stays_frozen() -> None:
    result = fl.detect_surges(
        quarterly_panel(n_quarters=20), method="rolling", window=6, threshold=3.0, min_uplift=0.1
    )
    assert result.spec == fl.PanelSpec(
        freq="1q", value="amount_usd", keys=("origin", "destination", "flow_type")
    )
    assert (result.method, result.threshold, result.window, result.min_periods) == (
        "rolling",
        3.0,
        6,
        3,
    )
    assert (result.min_uplift, result.by, result.missing) == (
        0.1,
        ("origin", "destination", "flow_type"),
        "null",
    )
    before = result.scored.clone()
    moved = result.with_threshold(5.0)
    assert moved is not result and moved.threshold == 5.0 and moved.spec == result.spec
    assert_frame_equal(result.scored, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.threshold = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"window": 1}, "window"),
        ({"min_periods": 0}, "min_periods"),
        ({"missing": "interpolate"}, "missing"),
        ({"method": "prophet"}, "rolling"),
        ({"by": []}, "by"),
        ({"by": ["origin", "origin"]}, "each key once"),
        ({"min_uplift": -0.5}, "min_uplift"),
    ],
)
def test_bad_parameters_raise_parameter_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(fl.ParameterError, match=match):
        fl.detect_surges(quarterly_panel(), **kwargs)


def test_with_threshold_checks_its_threshold() -> None:
    result = fl.detect_surges(quarterly_panel())
    with pytest.raises(fl.ParameterError, match="threshold"):
        result.with_threshold(float("nan"))


def test_a_text_period_is_a_schema_error_not_a_polars_one() -> None:
    panel = quarterly_panel().with_columns(pl.col("period").cast(pl.String))
    with pytest.raises(fl.SchemaError, match="period"):
        fl.detect_surges(panel)


def test_a_seasonal_method_needs_whole_periods_a_year() -> None:
    periods = pl.date_range(dt.date(2010, 1, 1), dt.date(2020, 1, 1), "5mo", eager=True)
    panel = pl.DataFrame({"period": periods, "destination": "MEX", "amount_usd": 1.0})
    with pytest.raises(fl.ParameterError, match="whole number of periods a year"):
        fl.detect_surges(panel, freq="5mo", method="seasonal")
    assert fl.detect_surges(panel, method="rolling").freq == "5mo"
    # the forecast method fits no season where a year is not whole periods
    assert fl.detect_surges(panel).freq == "5mo"


@pytest.mark.parametrize("kind", ["polars", "lazy", "pandas", "pyarrow"])
def test_every_input_kind_gives_the_same_scores(kind: str) -> None:
    panel = quarterly_panel(n_quarters=20)
    expected = fl.detect_surges(panel)
    result = fl.detect_surges(as_kind(panel, kind))
    assert isinstance(result.scored, pl.DataFrame)  # results hold polars frames
    assert_frame_equal(result.scored, expected.scored)
    assert result.spec == expected.spec
    episodes = fl.surge_episodes(as_kind(expected.scored, kind))
    back = episodes.collect() if kind == "lazy" else episodes
    assert type(back).__module__.split(".")[0] == ("polars" if kind == "lazy" else kind)


@st.composite
def shuffles(draw: st.DrawFn) -> tuple[int, int]:
    return draw(st.integers(0, 2**31)), draw(st.integers(0, 3))


@settings(max_examples=25, deadline=None)
@given(shuffles())
def test_shuffled_rows_give_identical_scores_and_episodes(draw: tuple[int, int]) -> None:
    seed, data_seed = draw
    panel = quarterly_panel(n_quarters=24, n_origins=4, seed=data_seed).with_columns(
        # plant a surge so that there are episodes to compare
        pl.when((pl.col("origin") == "O01") & (pl.col("period") == dt.date(2022, 1, 1)))
        .then(pl.col("amount_usd") * 3)
        .otherwise(pl.col("amount_usd"))
        .alias("amount_usd")
    )
    shuffled = panel.sample(fraction=1.0, shuffle=True, seed=seed)
    for method in ("rolling", "seasonal"):
        a = fl.detect_surges(panel, method=method, threshold=2.0)
        b = fl.detect_surges(shuffled, method=method, threshold=2.0)
        assert_frame_equal(a.scored, b.scored)
        assert_frame_equal(a.diagnostics, b.diagnostics)
        assert_frame_equal(fl.surge_episodes(a), fl.surge_episodes(b))
        assert_frame_equal(fl.level_shifts(a), fl.level_shifts(b))
    assert fl.surge_episodes(fl.detect_surges(panel, method="rolling", threshold=2.0)).height > 0


def test_attribution_counts_lags_in_the_panels_own_periods() -> None:
    episodes = pl.DataFrame(
        {"destination": ["NPL"], "start": [dt.date(2015, 10, 1)], "freq": ["1q"]}
    )
    events = pl.DataFrame({"event_id": ["EQ"], "country": ["NPL"], "start": [dt.date(2015, 4, 25)]})
    # April to October: two quarters (six months, more than the default 2 months)
    attributed = fl.attribute_surges(episodes, events)
    assert attributed.select("event_id", "lag_periods").row(0) == ("EQ", 2)
    assert fl.attribute_surges(episodes, events, max_lag=1)["event_id"].item() is None
    with pytest.raises(fl.ParameterError, match=r"freq='1mo' contradicts"):
        fl.attribute_surges(episodes, events, freq="1mo")
    with pytest.raises(fl.ParameterError, match="pass freq"):
        fl.attribute_surges(episodes.drop("freq"), events)
    with pytest.raises(fl.ParameterError, match="max_lag"):
        fl.attribute_surges(episodes, events, max_lag=-1)


def test_event_study_reads_quarters_from_the_result() -> None:
    result = fl.detect_surges(quarterly_panel(n_quarters=20))
    study = fl.event_study(result, country="MEX", start="2020-05-10", horizon=2)
    assert sorted(study["period"].unique().to_list()) == [
        dt.date(2020, 4, 1),
        dt.date(2020, 7, 1),
        dt.date(2020, 10, 1),
    ]
    with pytest.raises(fl.ParameterError, match="contradicts"):
        fl.event_study(result, country="MEX", start="2020-05-10", freq="1mo")
    by_destination = fl.detect_surges(quarterly_panel(n_quarters=20), by=["destination"])
    with pytest.raises(fl.ParameterError, match="by corridor"):
        fl.event_study(by_destination, country="MEX", start="2020-05-10")


def test_evaluation_reads_the_truths_frequency() -> None:
    quarters = pl.date_range(dt.date(2020, 1, 1), dt.date(2021, 10, 1), "1q", eager=True)
    excess = [0.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    truth = pl.DataFrame(
        {"destination": "NPL", "period": quarters, "baseline_usd": 100.0, "excess_usd": excess}
    )
    # found one quarter after the true surge: within the tolerance of one quarter
    found = pl.DataFrame(
        {
            "destination": ["NPL"],
            "start": [dt.date(2020, 10, 1)],
            "end": [dt.date(2020, 10, 1)],
            "excess_usd": [40.0],
            "freq": ["1q"],
        }
    )
    assert fl.evaluate_surges(found, truth)["recall"] == 1.0
    with pytest.raises(fl.ParameterError, match="contradicts"):
        fl.evaluate_surges(found.with_columns(freq=pl.lit("1mo")), truth)
