"""Frequencies, the panel spec and the input contract: the contract every analysis reads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens import ParameterError, SchemaError, panel_spec
from flowlens._frames import from_any
from flowlens.errors import InputFormatError, MissingColumnError
from flowlens.freq import (
    infer_freq,
    months_per_period,
    normalise_freq,
    period_expr,
    periods_per_year,
    resolve_freq,
)

from .conftest import as_kind


@pytest.mark.parametrize(
    ("given_freq", "expected"),
    [
        ("month", "1mo"),
        ("Monthly", "1mo"),
        ("1mo", "1mo"),
        ("3mo", "1q"),
        ("quarter", "1q"),
        ("12mo", "1y"),
        ("24mo", "2y"),
        ("6mo", "2q"),
        ("2w", "2w"),
        ("7d", "7d"),  # not a week: polars aligns 7d windows on 1970-01-01, a Thursday
        (" D ", "1d"),
    ],
)
def test_normalise_freq(given_freq: str, expected: str) -> None:
    assert normalise_freq(given_freq) == expected


@pytest.mark.parametrize("bad", ["0d", "fortnight", "", "1h", "-1mo", "1.5mo"])
def test_a_bad_freq_is_a_parameter_error(bad: str) -> None:
    with pytest.raises(ParameterError, match="not a period length"):
        normalise_freq(bad)


def test_a_freq_that_is_not_text_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        normalise_freq(3)  # type: ignore[arg-type]


def test_periods_and_months() -> None:
    assert [periods_per_year(f) for f in ("1d", "1w", "1mo", "1q", "1y", "2q", "5mo")] == [
        365,
        52,
        12,
        4,
        1,
        2,
        None,
    ]
    assert [months_per_period(f) for f in ("1mo", "1q", "1y", "2mo", "1d")] == [1, 3, 12, 2, None]


FREQS = ("1d", "1w", "2w", "1mo", "2mo", "1q", "1y")


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(FREQS),
    days=st.lists(st.integers(0, 20_000), min_size=1, max_size=40),
)
def test_infer_freq_finds_the_freq_the_periods_were_cut_with(freq: str, days: list[int]) -> None:
    """Periods cut at a frequency never contradict it: inference gives that frequency or a
    multiple of it, and resolve_freq with the true frequency accepts them unless they are
    spaced wider (then it raises, naming both)."""
    dates = pl.Series([dt.date(1990, 1, 1) + dt.timedelta(d) for d in days], dtype=pl.Date)
    periods = pl.select(period_expr(pl.lit(dates), freq=freq)).to_series()
    inferred = infer_freq(periods)
    consecutive = pl.Series(
        pl.date_range(periods.min(), periods.max(), interval=freq, eager=True)  # type: ignore[arg-type]
    )
    if periods.n_unique() < 2:
        assert inferred is None
        assert resolve_freq(periods, freq) == normalise_freq(freq)
        return
    assert inferred is not None
    if periods.unique().len() == consecutive.len():  # every period present: exactly the freq
        assert inferred == normalise_freq(freq)
        assert resolve_freq(periods, freq) == normalise_freq(freq)


def test_a_quarterly_panel_is_read_as_quarterly_and_a_monthly_freq_is_refused() -> None:
    quarters = pl.date_range(dt.date(2022, 1, 1), dt.date(2023, 10, 1), "1q", eager=True)
    assert resolve_freq(quarters) == "1q"
    with pytest.raises(ParameterError, match=r"freq='1mo' contradicts .* 1q apart"):
        resolve_freq(quarters, "1mo")
    with pytest.raises(ParameterError, match=r"freq='year' contradicts"):
        resolve_freq(quarters, "year")


def test_misaligned_periods_contradict_the_freq() -> None:
    # mid-month dates are not month starts, even with one period
    with pytest.raises(ParameterError, match="not all starts"):
        resolve_freq([dt.date(2024, 1, 15)], "1mo")
    assert resolve_freq([dt.date(2024, 1, 15)], "1d") == "1d"


def test_one_period_is_read_as_the_longest_period_it_starts_only_when_asked() -> None:
    assert resolve_freq([dt.date(2017, 1, 1)], guess=True) == "1y"
    assert resolve_freq([dt.date(2017, 4, 1)], guess=True) == "1q"
    assert resolve_freq([dt.date(2017, 5, 1)], guess=True) == "1mo"
    assert resolve_freq([dt.date(2024, 5, 6)], guess=True) == "1w"  # a Monday
    assert resolve_freq([dt.date(2024, 5, 7)], guess=True) == "1d"
    assert resolve_freq([dt.date(2017, 1, 1)], "1mo") == "1mo"  # the caller decides
    with pytest.raises(ParameterError, match=r"1 distinct period.*pass freq="):
        resolve_freq([dt.date(2017, 1, 1)])


def test_dates_one_a_month_that_are_not_month_starts_are_refused() -> None:
    mid_month = [dt.date(2023, m, 15) for m in range(1, 7)]
    with pytest.raises(ParameterError, match=r"one date a month but not month starts.*truncate"):
        resolve_freq(mid_month)
    assert resolve_freq(mid_month, "1d") == "1d"  # said explicitly: daily with gaps
    weekly = [dt.date(2024, 1, 1) + dt.timedelta(weeks=w) for w in range(8)]
    assert resolve_freq(weekly) == "1w"  # several a month: not mistaken for months


def test_text_periods_are_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="dtype String"):
        infer_freq(pl.Series(["2024-01-01", "2024-02-01"]))


def _panel(freq: str = "1q") -> pl.DataFrame:
    periods = pl.date_range(dt.date(2022, 1, 1), dt.date(2023, 10, 1), freq, eager=True)
    return pl.DataFrame(
        {
            "period": periods,
            "origin": pl.Series(["USA"] * len(periods)).cast(pl.Categorical),
            "destination": ["MEX"] * len(periods),
            "amount_usd": [float(i) for i in range(len(periods))],
            "n_transfers": list(range(len(periods))),
        }
    )


KINDS = ("polars", "lazy", "pandas", "pyarrow", "capsule")


@pytest.mark.parametrize("kind", KINDS)
def test_panel_spec_reads_any_kind(kind: str) -> None:
    spec = panel_spec(as_kind(_panel(), kind))
    assert (spec.freq, spec.value, spec.keys, spec.n_periods) == (
        "1q",
        "amount_usd",
        ("origin", "destination"),
        8,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_from_any_gives_back_the_kind_that_came_in(kind: str) -> None:
    frame = from_any(as_kind(_panel(), kind))
    back = frame.back(frame.eager().head(2))
    expected = {
        "polars": pl.DataFrame,
        "lazy": pl.LazyFrame,
        "pandas": pd.DataFrame,
        "pyarrow": pa.Table,
        "capsule": pl.DataFrame,
    }[kind]
    assert isinstance(back, expected)
    assert len(pl.DataFrame(back.collect() if isinstance(back, pl.LazyFrame) else back)) == 2


def test_from_any_refuses_what_is_not_a_table() -> None:
    for thing in (None, [1, 2], "flows.csv", {"a": [1]}):
        with pytest.raises(InputFormatError, match="pass a polars DataFrame"):
            from_any(thing, what="the panel")


def test_from_any_names_a_pandas_column_polars_cannot_convert() -> None:
    mixed = pd.DataFrame({"a": [1, "x", 2.5]})
    with pytest.raises(InputFormatError, match="mixes types"):
        from_any(mixed)


def test_panel_spec_errors_name_the_column_and_the_fix() -> None:
    with pytest.raises(MissingColumnError, match="'period'"):
        panel_spec(_panel().drop("period"))
    with pytest.raises(SchemaError, match="not a date"):
        panel_spec(_panel().with_columns(pl.col("period").cast(pl.String)))
    with pytest.raises(MissingColumnError, match="value="):
        panel_spec(_panel(), value="amount")
    with pytest.raises(SchemaError, match="not a number"):
        panel_spec(_panel(), value="destination")
    with pytest.raises(ParameterError, match="contradicts"):
        panel_spec(_panel(), freq="month")


def test_a_panel_has_one_row_per_period_and_key() -> None:
    panel = _panel()
    with pytest.raises(SchemaError, match=r"8 row\(s\) repeat a \(period, origin, destination\)"):
        panel_spec(pl.concat([panel, panel]))
    with pytest.raises(SchemaError, match="repeat"):
        panel_spec(pl.concat([panel, panel]).lazy())


def test_a_missing_value_column_suggests_value_and_the_numeric_columns() -> None:
    with pytest.raises(MissingColumnError, match=r"value=\.\.\. \(numeric columns: \['amount_usd'"):
        panel_spec(_panel(), value="amount")


def test_panel_spec_survives_a_filter() -> None:
    panel = _panel("1mo")
    assert panel_spec(panel.filter(pl.col("period").dt.month() <= 6)).freq == "1mo"


def test_a_repeated_column_name_is_named_not_blamed_on_types() -> None:
    twice = pd.DataFrame([[1, 2]], columns=["amount", "amount"])
    with pytest.raises(InputFormatError, match="repeats the column name 'amount'"):
        from_any(twice)
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(InputFormatError, match="repeats the column name 'a'"):
        from_any(table)


@pytest.mark.parametrize("huge", ["1000000y", "100000d", "6000w", "1300mo"])
def test_a_period_longer_than_a_century_is_refused(huge: str) -> None:
    with pytest.raises(ParameterError, match="longer than a century"):
        normalise_freq(huge)
    assert normalise_freq("100y") == "100y"
