"""The fast paths of validation and the panel give the same results as the plain ones.

Each optimisation for large inputs (a CSV parsed once into Arrow, plain dates parsed
without stripping, ASCII ids without the Unicode steps, senders and
top senders through the spilled partitions) is checked here against the path it
replaced or the in-memory path, on synthetic flows with rejects of every kind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens import _checks

SUPPRESSION_STATS = ("sum", "count", "median", "senders", "top_senders")


def _extract(n: int = 3_000) -> pl.DataFrame:
    """Synthetic flows as an operator's text extract, with rejects and awkward spellings."""
    rng = np.random.default_rng(5)
    origins, destinations = ["USA", "GBR", "DEU"], ["MEX", "PAK", "IND", "PHL", "NGA"]
    currency = {"USA": "USD", "GBR": "GBP", "DEU": "EUR"}
    origin = rng.choice(origins, n)
    text = (
        pl.DataFrame(
            {
                "date": (
                    dt.date(2019, 1, 1) + dt.timedelta(int(d)) for d in rng.integers(0, 700, n)
                ),
                "origin": origin,
                "destination": rng.choice(destinations, n),
                "flow_type": rng.choice(["remittance", "philanthropy"], n, p=[0.9, 0.1]),
                "channel": rng.choice(["bank", "mto", "mobile_money"], n),
                "currency": [currency[o] for o in origin],
                "amount": rng.lognormal(5, 1, n).round(2),
                "fee": rng.lognormal(1, 1, n).round(2),
                # few senders per cell: some cells fall under the threshold, some are dominated
                "sender_id": [f"S{k}" for k in rng.zipf(1.5, n) % 400],
            }
        )
        .with_columns(pl.col("date", "amount", "fee").cast(pl.String))
        .with_row_index("i")
    )
    i = pl.col("i")
    return text.with_columns(
        # rejects: a negative amount, an unknown currency, an impossible date, a bad fee
        amount=pl.when(i % 97 == 0).then(pl.lit("-5")).otherwise(pl.col("amount")),
        currency=pl.when(i % 89 == 0).then(pl.lit("XYZ")).otherwise(pl.col("currency")),
        date=pl.when(i % 83 == 0)
        .then(pl.lit("2020-02-30"))
        .when(i % 79 == 0)
        .then(pl.col("date") + " 10:00")  # a time: accepted, the date kept
        .when(i % 73 == 0)
        .then(" " + pl.col("date"))
        .otherwise(pl.col("date")),
        fee=pl.when(i % 71 == 0).then(pl.lit(" ")).otherwise(pl.col("fee")),
        origin=pl.when(i % 67 == 0).then(pl.col("origin").str.to_lowercase()).otherwise("origin"),
        sender_id=pl.when(i % 61 == 0).then(" " + pl.col("sender_id")).otherwise("sender_id"),
    ).drop("i")


def test_a_csv_read_once_gives_what_its_dataframe_gives(tmp_path: Path) -> None:
    extract = _extract()
    path = tmp_path / "flows.csv"
    extract.write_csv(path)
    from_file = fl.load_flows(path)
    in_memory = fl.load_flows(extract)
    assert from_file.n_rejected == in_memory.n_rejected > 0
    assert_frame_equal(from_file.rejects, in_memory.rejects)
    assert_frame_equal(from_file.clean.collect(), in_memory.clean)
    panel, computed = from_file.collect(fl.corridor_panel(from_file, stats=SUPPRESSION_STATS))
    assert_frame_equal(panel, fl.corridor_panel(in_memory, stats=SUPPRESSION_STATS))
    assert computed.n_rows_in == extract.height


def test_a_changed_csv_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    extract = _extract(200)
    extract.write_csv(path)
    assert fl.load_flows(path).n_rows_in == 200
    extract.head(150).write_csv(path)
    assert fl.load_flows(path).n_rows_in == 150


def test_spilled_senders_and_top_senders_equal_the_in_memory_panel() -> None:
    report = fl.load_flows(_extract())
    clean = report.clean
    assert isinstance(clean, pl.DataFrame)
    for stats in (("sum", "senders"), ("top_senders",), SUPPRESSION_STATS):
        in_memory = fl.corridor_panel(clean, stats=stats)
        spilled = fl.corridor_panel(clean.lazy(), stats=stats, spill_partitions=3)
        assert_frame_equal(spilled.collect(), in_memory)
    # and the suppression that reads them decides the same
    panel = fl.corridor_panel(clean.lazy(), stats=SUPPRESSION_STATS).collect()
    safe = fl.privacy.suppress_small_cells(panel)
    expected = fl.privacy.suppress_small_cells(fl.corridor_panel(clean, stats=SUPPRESSION_STATS))
    assert_frame_equal(safe.panel, expected.panel)


def _old_date(text: pl.Expr) -> pl.Expr:
    """The date parse before its fast path (every value stripped, sliced and matched)."""
    stripped = text.str.strip_chars()
    day = stripped.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return pl.when(stripped.str.slice(10).str.contains(_checks._TIME_SUFFIX)).then(day)


_DATE_TEXT = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(str),
    st.builds(
        lambda d, pre, post: f"{pre}{d}{post}",
        st.dates().map(str),
        st.sampled_from(["", " ", "0", "+", "\t"]),
        st.sampled_from(["", " ", "T10:00", " 10:00:00Z", "x", "5", "\n"]),
    ),
    st.text(alphabet="0123456789-/ T:", max_size=14),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), _DATE_TEXT), min_size=1, max_size=30))
def test_the_date_fast_path_parses_as_before(values: list[str | None]) -> None:
    frame = pl.DataFrame({"d": values}, schema={"d": pl.String})
    got = frame.select(
        new=_checks._parse_date(pl.col("d"), pl.String, "d"), old=_old_date(pl.col("d"))
    )
    assert got["new"].to_list() == got["old"].to_list()


def _old_id(text: pl.Expr) -> pl.Expr:
    """The id normalisation before its ASCII fast path."""
    ascii_only = text.str.contains(r"^[\x00-\x7f]*$")
    unicode = text.str.replace_all(_checks._ZERO_WIDTH, "").str.normalize("NFKC")
    stripped = pl.when(ascii_only).then(text).otherwise(unicode).str.strip_chars(_checks._ID_SPACES)
    return pl.when(stripped != "").then(stripped)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=6)), min_size=1, max_size=30))
def test_ids_normalise_as_before(values: list[str | None]) -> None:
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    got = frame.select(new=_checks.normalised_id(pl.col("s")), old=_old_id(pl.col("s")))
    assert got["new"].to_list() == got["old"].to_list()


@pytest.mark.parametrize("ascii_space", ["\t", "\n", "\x0b", "\x0c", "\r", " "])
def test_ascii_white_space_around_an_id_is_stripped(ascii_space: str) -> None:
    ids = pl.Series([f"{ascii_space}S1{ascii_space}"])
    assert pl.select(_checks.normalised_id(pl.lit(ids))).item() == "S1"


def test_the_combined_fx_array_converts_as_daily_then_annual() -> None:
    """Every currency on every other day of 1958-2027: the one-array lookup gives the daily
    rate where one is in force, else the annual rate of the year, as the two lookups did."""
    from flowlens import normalise
    from flowlens.schema import CURRENCY_ENUM, FX_PRECISION_ENUM

    days = pl.date_range(dt.date(1958, 1, 1), dt.date(2027, 12, 31), "2d", eager=True)
    currencies = pl.Series(CURRENCY_ENUM.categories).cast(CURRENCY_ENUM)
    grid = pl.DataFrame({"d": days}).join(pl.DataFrame({"c": currencies}), how="cross")
    d, c = pl.col("d"), pl.col("c")
    daily, annual = normalise.usd_per_unit(d, c), normalise.annual_usd_per_unit(d, c)
    kind = (
        pl.when(daily.is_not_null())
        .then(pl.lit("daily", FX_PRECISION_ENUM))
        .when(annual.is_not_null())
        .then(pl.lit("annual", FX_PRECISION_ENUM))
    )
    rate, precision = normalise.fx_lookup(d, c)
    got = grid.select(
        expected=pl.coalesce(daily, annual), rate=rate, expected_kind=kind, kind=precision
    )
    assert got["rate"].to_list() == got["expected"].to_list()
    assert got["kind"].to_list() == got["expected_kind"].to_list()
    assert set(got["kind"].drop_nulls()) == {"daily", "annual"}
