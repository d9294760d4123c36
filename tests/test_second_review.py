"""Cases a second adversarial review found after the first round of issue 18 (catalogued in
docs/bad_inputs.md, ids AN-55 to AN-61): each raised a raw error, or let a number through."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import flowlens as fl
from flowlens.errors import InputFormatError, ParameterError, SchemaError
from flowlens.informal import DeRiskingScenario, estimate_informal, read_derisking_events


def panel() -> pl.DataFrame:
    months = pl.date_range(dt.date(2023, 1, 1), dt.date(2023, 6, 1), "1mo", eager=True)
    return pl.DataFrame(
        {
            "period": months,
            "origin": "USA",
            "destination": "MEX",
            "amount_usd": [float(i + 1) for i in range(months.len())],
            "n_transfers": list(range(1, months.len() + 1)),
        }
    )


def test_an_55_a_value_column_named_twice_is_checked_once() -> None:
    """AN-55."""
    graph = fl.CorridorGraph.from_panel(panel(), value="n_transfers")
    assert graph.edges["n_transfers"].sum() == 21


def test_an_56_a_decimal_value_column_asks_for_a_cast() -> None:
    """AN-56."""
    decimal = panel().with_columns(pl.col("amount_usd").cast(pl.Decimal(20, 2)))
    assert isinstance(decimal.schema["amount_usd"], pl.Decimal)
    with pytest.raises(SchemaError, match=r"is a Decimal.*cast\(pl.Float64\)"):
        fl.CorridorGraph.from_panel(decimal).concentration()
    assert Decimal("1.5")  # the dtype, not the Python type, is what is refused


def test_an_57_draws_have_a_ceiling() -> None:
    """AN-57."""
    base = fl.informal.baseline_from_costs(
        panel(), pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "cost_pct": [4.0]})
    )
    scenario = DeRiskingScenario("s", origin="USA", start="2023-03-01")
    with pytest.raises(ParameterError, match="draws must be at most 1,000,000"):
        estimate_informal(panel(), scenario, baseline=base, draws=10**8)


@pytest.mark.parametrize("years", [(2024, 300_000), (-5000, -4990), (True, 2), (1, 10**8)])
def test_an_58_holiday_years_are_bounded(years: tuple[int, int]) -> None:
    """AN-58."""
    with pytest.raises(ParameterError, match="whole Gregorian years, 1 to 9999"):
        fl.calendar.islamic_holidays(*years)


@pytest.mark.parametrize("reader", [fl.read_crisis_events, read_derisking_events])
def test_an_59_event_readers_raise_flowlens_errors(tmp_path: Path, reader: object) -> None:
    """AN-59."""
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.csv"
    noise.write_bytes(os.urandom(400))
    for source, kind in (
        (tmp_path / "missing.csv", InputFormatError),
        (tmp_path, InputFormatError),
        (empty, InputFormatError),
        (noise, fl.FlowlensError),
    ):
        with pytest.raises(kind):
            reader(source)  # type: ignore[operator]


def test_an_60_a_measured_column_is_not_a_key() -> None:
    """AN-60."""
    report = fl.load_flows(fl.load_sample("flows"))
    for by in (("amount_usd",), ("sender_id",), ("n_transfers",)):
        with pytest.raises(ParameterError, match="not a key to group by"):
            fl.corridor_panel(report, by=by)


def test_an_61_a_period_longer_than_a_century_is_refused() -> None:
    """AN-61."""
    report = fl.load_flows(fl.load_sample("flows"))
    with pytest.raises(ParameterError, match="longer than a century"):
        fl.corridor_panel(report, freq="1000000y")


def test_an_62_an_event_dated_in_year_one_is_refused() -> None:
    """AN-62 (found by FZ-01 in CI): a date of year 1 less the history overflowed."""
    from flowlens.informal import derisking_effect

    events = pl.DataFrame(
        {
            "event_id": ["d1"],
            "effective_date": [dt.date(1, 6, 1)],
            "origin": ["USA"],
            "destination": ["MEX"],
        }
    )
    with pytest.raises(SchemaError, match="'effective_date' has 1 date"):
        derisking_effect(panel(), events, draws=50)


def test_an_63_repeated_cells_are_found_by_detect_surges_for_any_by() -> None:
    """AN-63: detect_surges counts rows per cell instead of a separate distinct count (as
    fast as before the check), and still refuses repeats when a series sums keys."""
    twice = pl.concat([panel(), panel()])
    for by in (None, ["destination"]):
        with pytest.raises(SchemaError, match="6 row"):
            fl.detect_surges(twice, by=by)
