"""Library-wide properties: currency round trips, and clean output that reloads unchanged.

(Totals across aggregation levels and permutation invariance of the panel and of
validation are properties in tests/test_panel.py and tests/test_validate.py.)
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.export import write_frame

RATES = fl.reference.fx_rates().sort("date")
CURRENCIES = sorted(RATES["currency"].unique().to_list())


def rate_on(day: dt.date, currency: str, staleness: int = 7) -> float | None:
    """The latest rate on or before ``day``, at most ``staleness`` days old (a slow reference)."""
    rows = RATES.filter(
        pl.col("currency") == currency,
        pl.col("date") <= day,
        pl.col("date") >= day - dt.timedelta(days=staleness),
    )
    return None if rows.is_empty() else float(rows["usd_per_unit"][-1])


def transfer(day: dt.date, amount: float, currency: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [day],
            "origin": ["GBR"],
            "destination": ["KEN"],
            "flow_type": ["remittance"],
            "amount": [amount],
            "currency": [currency],
        }
    )


@settings(max_examples=80, deadline=None)
@given(
    st.dates(dt.date(1999, 1, 11), dt.date(2026, 10, 30)),
    st.floats(0.01, 1e9),
    st.sampled_from(CURRENCIES),
)
def test_currency_conversion_round_trips(day: dt.date, amount: float, currency: str) -> None:
    report = fl.load_flows(transfer(day, amount, currency))
    rate = rate_on(day, currency)
    if rate is None:  # a currency that joined late (or left): rejected with the fx rule
        assert report.rejects["rule"].to_list() == ["fx"]
        return
    usd = report.clean["amount_usd"].item()
    assert usd == pytest.approx(amount * rate, rel=1e-12)
    assert usd / rate == pytest.approx(amount, rel=1e-12)  # and back to the currency
    again = fl.load_flows(transfer(day, usd, "USD"))  # the USD value, re-entered as USD
    assert again.clean["amount_usd"].item() == pytest.approx(usd, rel=1e-15)


SAFE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="=+-@\t\r\n\"'"),
    min_size=1,
    max_size=8,
)  # ids a spreadsheet would not read as formulas: their CSV escape is one-way


@st.composite
def clean_sources(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 25))
    pick = lambda values: [draw(st.sampled_from(values)) for _ in range(n)]  # noqa: E731
    return pl.DataFrame(
        {
            "date": [draw(st.dates(dt.date(2010, 1, 1), dt.date(2026, 6, 30))) for _ in range(n)],
            "origin": pick(["USA", "GBR", "SAU", "DEU"]),
            "destination": pick(["MEX", "PAK", "KEN", "PHL"]),
            "flow_type": pick(["remittance", "philanthropy", "trade_investment"]),
            "channel": pick(["bank", "mto", "mobile_money", "unknown"]),
            "amount": [draw(st.floats(0.01, 1e7)) for _ in range(n)],
            "currency": pick(["USD", "EUR", "GBP", "SAR"]),
            "fee": [draw(st.one_of(st.none(), st.floats(0, 100))) for _ in range(n)],
            "sender_id": [draw(SAFE_TEXT) for _ in range(n)],
            "tx_id": [f"T{i}" for i in range(n)],
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clean_sources(), st.sampled_from([".csv", ".parquet", ".tsv"]))
def test_clean_output_reloads_unchanged_with_no_rejects(source: pl.DataFrame, suffix: str) -> None:
    first = fl.load_flows(source)
    clean = first.clean
    assert isinstance(clean, pl.DataFrame)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_frame(clean, Path(tmp) / f"clean{suffix}")
        second = fl.load_flows(path)
        assert second.n_rejected == 0
        reloaded, _ = second.collect(second.clean)  # type: ignore[arg-type]
    assert_frame_equal(reloaded, clean, check_exact=False, rel_tol=1e-12, abs_tol=0.0)
