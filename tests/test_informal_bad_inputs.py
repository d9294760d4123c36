"""Bad inputs to the informal estimators: each raises a flowlens error or warns, none is dropped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from flowlens.errors import ParameterError
from flowlens.informal import (
    DeRiskingScenario,
    baseline_from_costs,
    derisking_effect,
    derisking_exposure,
    estimate_informal,
    read_scenario_file,
)

MONTHS = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
PREMIUM = [0.0] * 3 + [10.0] * 6 + [0.0] * 3
PANEL = pl.DataFrame(
    {
        "period": MONTHS,
        "origin": "USA",
        "destination": "EGY",
        "amount_usd": 100.0,
        "n_transfers": 50,
    }
)
COSTS = pl.DataFrame({"origin": ["USA"], "destination": ["EGY"], "cost_pct": [7.0]})
CLOSURE = DeRiskingScenario("closure", origin="USA", destination="EGY", start="2015-03-06")


def drivers(destination: str = "EGY", months: pl.Series = MONTHS) -> pl.DataFrame:
    values = [PREMIUM[i % 12] for i in range(len(months))]
    return pl.DataFrame({"destination": destination, "period": months, "premium_pct": values})


def test_a_numpy_integer_seed_gives_the_same_draws_as_the_int() -> None:
    """Was OverflowError from the kernel's seed arithmetic in int64."""
    base = baseline_from_costs(PANEL, COSTS)
    as_int = estimate_informal(PANEL, CLOSURE, baseline=base, draws=20, seed=3)
    as_numpy = estimate_informal(PANEL, CLOSURE, baseline=base, draws=20, seed=np.int64(3))
    assert as_numpy.corridors.equals(as_int.corridors)


def test_a_seed_beyond_64_bits_raises() -> None:
    """Was OverflowError."""
    base = baseline_from_costs(PANEL, COSTS)
    with pytest.raises(ParameterError, match="below 2\\*\\*63"):
        estimate_informal(PANEL, CLOSURE, baseline=base, draws=20, seed=2**64)


def test_quantiles_that_share_a_column_name_raise() -> None:
    """0.1 and 0.1000000001 were both named p10: one column silently replaced the other."""
    base = baseline_from_costs(PANEL, COSTS)
    with pytest.raises(ParameterError, match="same column name"):
        estimate_informal(PANEL, CLOSURE, baseline=base, draws=20, quantiles=(0.1, 0.1000000001))


def test_driver_rows_for_periods_the_panel_lacks_warn() -> None:
    """Were kept only as matched=False in estimate.drivers, without a word."""
    base = baseline_from_costs(PANEL, COSTS)
    longer = pl.date_range(dt.date(2015, 1, 1), dt.date(2016, 6, 1), "1mo", eager=True)
    with pytest.warns(
        UserWarning, match="6 row\\(s\\) for periods the panel does not have"
    ) as record:
        result = estimate_informal(PANEL, baseline=base, draws=20, drivers=drivers(months=longer))
    assert record[0].filename == __file__  # points at the caller's line
    assert result.drivers is not None
    assert result.drivers["matched"].sum() == 12


def test_a_driver_country_written_as_a_name_says_its_code() -> None:
    """'Egypt' raised without saying which code the panel would match."""
    base = baseline_from_costs(PANEL, COSTS)
    with pytest.raises(ParameterError, match="ISO3 \\('EGY',\\)"):
        estimate_informal(PANEL, baseline=base, draws=20, drivers=drivers("Egypt"))


SERIES_MONTHS = pl.date_range(dt.date(2010, 1, 1), dt.date(2016, 12, 1), "1mo", eager=True)
IN_EPISODE = (pl.col("period") >= dt.date(2014, 1, 1)) & (pl.col("period") < dt.date(2014, 9, 1))


def series(fall: float = 0.1) -> pl.DataFrame:
    noise = np.random.default_rng(0).normal(0.0, 0.02, len(SERIES_MONTHS))
    frame = pl.DataFrame(
        {"period": SERIES_MONTHS, "origin": "USA", "destination": "EGY", "level": np.exp(noise)}
    )
    return frame.select(
        "period",
        "origin",
        "destination",
        amount_usd=100.0 * pl.col("level") * pl.when(IN_EPISODE).then(1.0 - fall).otherwise(1.0),
    )


def series_drivers() -> pl.DataFrame:
    return pl.DataFrame({"destination": "EGY", "period": SERIES_MONTHS}).with_columns(
        premium_pct=pl.when(IN_EPISODE).then(10.0).otherwise(0.0)
    )


def test_effect_with_a_nan_premium_raises() -> None:
    """Was numpy's LinAlgError ('SVD did not converge') from the least-squares fit."""
    nan_first = series_drivers().with_columns(
        premium_pct=pl.when(pl.col("period") == SERIES_MONTHS[0])
        .then(float("nan"))
        .otherwise(pl.col("premium_pct"))
    )
    with pytest.raises(ParameterError, match="finite number above -100"):
        derisking_effect(series(), drivers=nan_first)


def test_effect_with_duplicate_driver_rows_raises() -> None:
    """Every period was silently fitted twice."""
    twice = pl.concat([series_drivers(), series_drivers()])
    with pytest.raises(ParameterError, match="more than once"):
        derisking_effect(series(), drivers=twice)


def test_effect_with_a_driver_country_the_panel_lacks_raises() -> None:
    """KEN's rows were dropped without a word as long as another country matched."""
    extra = pl.concat([series_drivers(), series_drivers().with_columns(destination=pl.lit("KEN"))])
    with pytest.raises(ParameterError, match="KEN"):
        derisking_effect(series(), drivers=extra)


def test_effect_premium_response_is_a_number_when_flow_rose() -> None:
    """Was NaN where recorded flow rose with the premium; now 0 (the response is >= 0)."""
    effect = derisking_effect(series(fall=-0.1), drivers=series_drivers(), draws=200)
    assert effect.premium is not None
    row = effect.premium.row(0, named=True)
    assert row["displaced_at_10pp_p50"] < 0
    assert row["premium_response_p50"] == 0.0
    fell = derisking_effect(series(fall=0.1), drivers=series_drivers(), draws=200).premium
    assert fell is not None
    # a 10% fall at 10 points, at the ratio 0.55: beta = log((1.55 / 0.9 - 1) / 0.55) / 10
    assert fell["premium_response_p50"].item() == pytest.approx(
        np.log((1.55 / 0.9 - 1) / 0.55) / 10, abs=0.01
    )


@pytest.mark.parametrize(
    ("premium", "match"),
    [
        (pl.DataFrame({"destination": ["EGY", "EGY"], "premium_pct": [1.0, 2.0]}), "one row per"),
        (pl.DataFrame({"destination": ["EGY"], "premium_pct": [float("nan")]}), "finite"),
        (pl.DataFrame({"destination": ["Egypt"], "premium_pct": [10.0]}), "no such destination"),
        (
            pl.DataFrame(
                {"destination": ["EGY"], "period": [dt.date(2015, 1, 1)], "premium_pct": [1.0]}
            ),
            "drivers=",
        ),
    ],
    ids=["duplicate", "nan", "name", "dated"],
)
def test_baseline_premium_rows_that_cannot_be_used_raise(premium: pl.DataFrame, match: str) -> None:
    """Duplicates and dated rows duplicated the baseline's corridors, NaN gave a NaN ratio,
    and a country the recorded flows do not have (a name) was silently left at 0."""
    with pytest.raises(ParameterError, match=match):
        baseline_from_costs(PANEL, COSTS, premium=premium)


def test_baseline_costs_nan_raise() -> None:
    """A NaN cost gave a NaN informal ratio."""
    with pytest.raises(ParameterError, match="NaN or infinite"):
        baseline_from_costs(PANEL, COSTS.with_columns(cost_pct=pl.lit(float("nan"))))


def test_baseline_costs_all_at_or_below_zero_say_so() -> None:
    """Were reported as 'no corridor has a cost: check ISO3 codes' though every corridor matched."""
    with pytest.raises(ParameterError, match=r"1 of its 1 corridors matched.*at or below 0"):
        baseline_from_costs(PANEL, COSTS.with_columns(cost_pct=pl.lit(-1.0)))


def test_keep_draws_that_would_not_fit_in_memory_raise() -> None:
    """Were allocated: 1M draws x 12 months x 60 scenarios is 720M rows, some 34 GB."""
    base = baseline_from_costs(PANEL, COSTS)
    many = [DeRiskingScenario(f"s{i}", origin="USA") for i in range(60)]
    with pytest.raises(ParameterError, match="720,000,000 rows"):
        estimate_informal(PANEL, many, baseline=base, draws=1_000_000, keep_draws=True)


@pytest.mark.parametrize("flag", ["keep_draws", "sampling_noise", "progress"])
def test_flags_given_as_text_raise(flag: str) -> None:
    """keep_draws="no" was truthy: the draws were kept."""
    base = baseline_from_costs(PANEL, COSTS)
    with pytest.raises(ParameterError, match=f"{flag} must be True or False"):
        estimate_informal(PANEL, CLOSURE, baseline=base, draws=20, **{flag: "no"})


@pytest.mark.parametrize(
    ("start", "end"), [("2030-03-01", None), ("2010-01-01", "2014-06-01")], ids=["after", "before"]
)
def test_a_scenario_in_force_in_no_period_of_the_panel_raises(start: str, end: str | None) -> None:
    """Was accepted and changed nothing, like a scenario that selects no corridor (which raises)."""
    base = baseline_from_costs(PANEL, COSTS)
    late = DeRiskingScenario("late", origin="USA", start=start, end=end)
    with pytest.raises(ParameterError, match="in force in no period of the panel"):
        estimate_informal(PANEL, late, baseline=base, draws=20)
    with pytest.raises(ParameterError, match="in force in no period of the panel"):
        derisking_exposure(PANEL, "USA", baseline=base, scenario=late, draws=20)


@pytest.mark.parametrize("line", ["draws = 1", "draws = 0", "seed = 9223372036854775808"])
def test_a_scenario_file_with_draws_or_seed_the_estimator_refuses_raises(
    tmp_path: Path, line: str
) -> None:
    """draws = 0 or 1 was read, and failed only when the estimate ran."""
    path = tmp_path / "s.toml"
    path.write_text(f'{line}\n[[scenario]]\nname = "x"\norigin = "USA"\n')
    with pytest.raises(ParameterError, match="write a whole number from"):
        read_scenario_file(path)
