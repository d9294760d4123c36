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
ANNUAL = fl.reference.fx_annual()


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


@settings(max_examples=40, deadline=None)
@given(
    st.dates(dt.date(1999, 1, 11), dt.date(2026, 10, 30)),
    st.floats(0.01, 1e9),
    st.sampled_from(CURRENCIES),
)
def test_currency_conversion_round_trips(day: dt.date, amount: float, currency: str) -> None:
    report = fl.load_flows(transfer(day, amount, currency))
    rate = rate_on(day, currency)
    if rate is None:  # a currency that joined late (or left): the annual rate, or none
        annual = ANNUAL.filter(pl.col("currency") == currency, pl.col("year") == day.year)
        if annual.is_empty():
            assert report.rejects["rule"].to_list() == ["fx"]
            return
        assert report.clean["fx_precision"].to_list() == ["annual"]
        rate = float(annual["usd_per_unit"].item())
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


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


def slow_rate(fx: pl.DataFrame, day: dt.date, currency: str, staleness: int) -> float | None:
    """The rate in force by scanning the table (the reference for both lookups)."""
    rows = fx.filter(
        pl.col("currency") == currency,
        pl.col("date") <= day,
        pl.col("date") >= day - dt.timedelta(days=staleness),
    ).sort("date")
    return None if rows.is_empty() else float(rows["usd_per_unit"][-1])


@st.composite
def fx_tables(draw: st.DrawFn) -> pl.DataFrame:
    """A user FX table: a few currencies, dates close together or centuries apart."""
    far = draw(st.booleans())  # far apart: the binary-search lookup, else the dense array
    low = dt.date(1, 1, 1) if far else dt.date(2020, 1, 1)
    dates = st.dates(low, dt.date(2024, 12, 31))
    keys = draw(
        st.lists(
            st.tuples(dates, st.sampled_from(["EUR", "GBP", "BHD"])),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    rates = draw(st.lists(st.floats(0.01, 100), min_size=len(keys), max_size=len(keys)))
    return pl.DataFrame(
        {"date": [k[0] for k in keys], "currency": [k[1] for k in keys], "usd_per_unit": rates}
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fx_tables(), st.integers(0, 40), st.data())
def test_user_fx_lookup_matches_a_scan(
    fx: pl.DataFrame, staleness: int, data: st.DataObject
) -> None:
    """Dense (dates close together) or binary search (centuries apart): the rate in force
    is the latest on or before the date, at most ``staleness`` days old."""
    from flowlens.normalise import usd_per_unit
    from flowlens.schema import CURRENCY_ENUM

    near = [
        d + dt.timedelta(days=k)
        for d in fx["date"].to_list()
        for k in (-1, 0, 3, staleness, staleness + 1)
    ]
    days = data.draw(
        st.lists(st.sampled_from([d for d in near if d.year < 9999]), min_size=1, max_size=20)
    )
    currencies = data.draw(
        st.lists(
            st.sampled_from(["EUR", "GBP", "BHD", "USD"]), min_size=len(days), max_size=len(days)
        )
    )
    rows = pl.DataFrame({"d": days, "c": currencies}, schema={"d": pl.Date, "c": pl.String})
    got = (
        rows.select(
            usd_per_unit(
                pl.col("d"), pl.col("c").cast(CURRENCY_ENUM), fx, max_staleness_days=staleness
            )
        )
        .to_series()
        .to_list()
    )
    expected = [slow_rate(fx, d, c, staleness) for d, c in zip(days, currencies, strict=True)]
    assert got == expected


def test_fx_table_from_year_one_loads_in_little_memory(tmp_path: Path) -> None:
    """One rate dated year 1 took 2.2 GB to load one row (a dense per-day grid from year 1)."""
    import subprocess
    import sys

    script = tmp_path / "load.py"
    script.write_text(
        "import datetime as dt, resource\n"
        "import polars as pl, flowlens as fl\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "fx = pl.DataFrame({'date': [dt.date(1, 1, 1), dt.date(2024, 1, 10)],\n"
        "                   'currency': ['EUR', 'GBP'], 'usd_per_unit': [1.1, 1.3]})\n"
        "raw = pl.DataFrame({'date': ['2024-01-15'], 'origin': ['GBR'], 'destination': ['PAK'],\n"
        "                    'flow_type': ['remittance'], 'amount': ['100'], 'currency': ['GBP']})\n"
        "report = fl.load_flows(raw, fx=fx)\n"
        "assert report.n_clean == 1, report.rejects\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) < 200  # MB more than after importing flowlens
