"""corridor_panel: hand-computed values, frequencies, lazy in/out, totals that reconcile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flowlens as fl

from .conftest import INPUT_KINDS, as_kind, collected


def clean_flows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [
                dt.date(2024, 1, 3),
                dt.date(2024, 1, 20),
                dt.date(2024, 2, 1),
                dt.date(2024, 1, 5),
                dt.date(2024, 4, 2),
                dt.date(2024, 1, 31),
            ],
            "origin": ["USA", "USA", "USA", "GBR", "USA", "USA"],
            "destination": ["MEX", "MEX", "MEX", "PAK", "MEX", "MEX"],
            "flow_type": [
                "remittance",
                "remittance",
                "remittance",
                "philanthropy",
                "remittance",
                "philanthropy",
            ],
            "channel": ["bank", "mto", "mto", "bank", "mto", "bank"],
            "amount_usd": [100.0, 300.0, 50.0, 1000.0, 20.0, 5000.0],
            "fee_usd": [10.0, 6.0, 2.0, 50.0, 1.0, 0.0],
            "sender_id": ["a", "b", "a", "c", "a", "d"],
        }
    )


KINDS = (*INPUT_KINDS, "pandas")
OUTPUT_TYPES = {  # the kind that came in goes out
    "eager": ("polars", "DataFrame"),
    "lazy": ("polars", "LazyFrame"),
    "arrow": ("pyarrow", "Table"),
    "pandas": ("pandas", "DataFrame"),
}


def as_polars(panel: Any) -> pl.DataFrame:
    """Any kind corridor_panel returns, as a polars DataFrame with Date periods."""
    if isinstance(panel, pl.DataFrame | pl.LazyFrame):
        return collected(panel)
    module = type(panel).__module__.split(".")[0]
    frame = pl.DataFrame(pl.from_arrow(panel) if module == "pyarrow" else pl.from_pandas(panel))
    return frame.with_columns(pl.col("period").cast(pl.Date))


@pytest.mark.parametrize("kind", KINDS)
def test_monthly_panel_by_hand(kind: str) -> None:
    panel = fl.corridor_panel(
        as_kind(clean_flows(), kind),
        stats=("sum", "count", "mean", "median", "cost_ratio", "senders"),
    )
    assert (type(panel).__module__.split(".")[0], type(panel).__name__) == OUTPUT_TYPES[kind]
    rows = as_polars(panel).rows(named=True)
    jan = dt.date(2024, 1, 1)
    assert rows[0] == {
        "period": jan,
        "origin": "GBR",
        "destination": "PAK",
        "flow_type": "philanthropy",
        "amount_usd": 1000.0,
        "n_transfers": 1,
        "amount_usd_mean": 1000.0,
        "amount_usd_median": 1000.0,
        "fee_usd": 50.0,
        "cost_ratio": 0.05,
        "n_senders": 1,
    }
    usa_jan = [r for r in rows if r["period"] == jan and r["origin"] == "USA"]
    # String keys sort alphabetically (Enum keys would sort in vocabulary order)
    assert [(r["flow_type"], r["amount_usd"], r["n_transfers"]) for r in usa_jan] == [
        ("philanthropy", 5000.0, 1),
        ("remittance", 400.0, 2),
    ]
    assert usa_jan[1]["amount_usd_median"] == 200.0
    assert usa_jan[1]["cost_ratio"] == pytest.approx(16 / 400)
    assert usa_jan[1]["n_senders"] == 2
    assert len(rows) == 5


@pytest.mark.parametrize(
    ("freq", "periods"),
    [
        ("quarter", [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]),
        ("1q", [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]),
        ("year", [dt.date(2024, 1, 1)]),
        (
            "week",
            [dt.date(2024, 1, 1), dt.date(2024, 1, 15), dt.date(2024, 1, 29), dt.date(2024, 4, 1)],
        ),
        (
            "day",
            [
                dt.date(2024, 1, 3),
                dt.date(2024, 1, 20),
                dt.date(2024, 1, 31),
                dt.date(2024, 2, 1),
                dt.date(2024, 4, 2),
            ],
        ),
    ],
)
def test_frequencies(freq: str, periods: list[dt.date]) -> None:
    flows = clean_flows().filter(pl.col("origin") == "USA")
    panel = fl.corridor_panel(flows, freq=freq, by=())
    assert panel["period"].to_list() == periods
    assert panel["amount_usd"].sum() == flows["amount_usd"].sum()


def test_channel_split_and_no_extra_keys() -> None:
    panel = fl.corridor_panel(clean_flows(), freq="year", by=("flow_type", "channel"))
    # USA-MEX: remittance/bank, remittance/mto, philanthropy/bank; GBR-PAK: philanthropy/bank
    assert panel.height == 4
    assert panel.filter(channel="mto")["amount_usd"].item() == 370.0
    assert fl.corridor_panel(clean_flows(), freq="year", by=()).height == 2


def test_median_is_exact_against_numpy() -> None:
    rng = np.random.default_rng(7)
    n = 5001
    flows = pl.DataFrame(
        {
            "date": [dt.date(2024, 1, 1)] * n,
            "origin": rng.choice(["USA", "GBR"], n),
            "destination": ["MEX"] * n,
            "flow_type": ["remittance"] * n,
            "amount_usd": rng.lognormal(5, 1, n),
        }
    )
    panel = fl.corridor_panel(flows, stats=("median",))
    for origin, median in panel.select("origin", "amount_usd_median").rows():
        expected = np.median(flows.filter(pl.col("origin") == origin)["amount_usd"].to_numpy())
        assert median == expected


def test_accepts_a_validation_report_lazy_or_eager() -> None:
    raw = fl.load_sample("flows")
    eager = fl.corridor_panel(fl.load_flows(raw))
    lazy = fl.corridor_panel(fl.load_flows(raw.lazy()))
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(engine="streaming"), eager, check_exact=False, rel_tol=1e-12)


def test_errors_name_the_column_and_the_fix() -> None:
    raw = fl.load_sample("flows")
    with pytest.raises(fl.MissingColumnError, match=r"Run flowlens\.load_flows first"):
        fl.corridor_panel(raw)
    with pytest.raises(fl.ParameterError, match="freq 'fortnight'"):
        fl.corridor_panel(clean_flows(), freq="fortnight")
    with pytest.raises(fl.ParameterError, match="stats \\['mode'\\]"):
        fl.corridor_panel(clean_flows(), stats=("mode",))
    with pytest.raises(fl.SchemaError, match="dtype String"):
        fl.corridor_panel(clean_flows().with_columns(pl.col("date").cast(pl.String)))


@st.composite
def clean_tables(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 60))
    days = st.dates(dt.date(2022, 1, 1), dt.date(2024, 12, 31))
    return pl.DataFrame(
        {
            "date": [draw(days) for _ in range(n)],
            "origin": [draw(st.sampled_from(["USA", "GBR", "SAU"])) for _ in range(n)],
            "destination": [draw(st.sampled_from(["MEX", "PAK", "IND"])) for _ in range(n)],
            "flow_type": [draw(st.sampled_from(fl.schema.FLOW_TYPES)) for _ in range(n)],
            "amount_usd": [draw(st.floats(0.01, 1e6)) for _ in range(n)],
        }
    )


@settings(max_examples=50, deadline=None)
@given(clean_tables(), st.sampled_from(["day", "week", "month", "quarter", "year"]))
def test_panel_total_equals_clean_total_at_every_level(flows: pl.DataFrame, freq: str) -> None:
    total = flows["amount_usd"].sum()
    panel = fl.corridor_panel(flows, freq=freq)
    assert panel["amount_usd"].sum() == pytest.approx(total, rel=1e-9)
    assert panel["n_transfers"].sum() == flows.height
    coarser = fl.corridor_panel(flows, freq="year", by=())
    by_corridor = (
        panel.group_by("origin", "destination")
        .agg(pl.col("amount_usd").sum())
        .sort("origin", "destination")
    )
    by_corridor_year = (
        coarser.group_by("origin", "destination")
        .agg(pl.col("amount_usd").sum())
        .sort("origin", "destination")
    )
    assert by_corridor["amount_usd"].to_list() == pytest.approx(
        by_corridor_year["amount_usd"].to_list(), rel=1e-9
    )


@settings(max_examples=30, deadline=None)
@given(clean_tables(), st.randoms(use_true_random=False), st.floats(0.001, 1000))
def test_row_order_is_irrelevant_and_scaling_scales_sums(
    flows: pl.DataFrame, rnd: Any, k: float
) -> None:
    order = list(range(flows.height))
    rnd.shuffle(order)
    a = fl.corridor_panel(flows, stats=("sum", "count", "median"))
    b = fl.corridor_panel(flows[order], stats=("sum", "count", "median"))
    assert a.select("period", "origin", "destination", "flow_type", "n_transfers").equals(
        b.select("period", "origin", "destination", "flow_type", "n_transfers")
    )
    assert a["amount_usd"].to_list() == pytest.approx(b["amount_usd"].to_list(), rel=1e-9)
    scaled = fl.corridor_panel(
        flows.with_columns(pl.col("amount_usd") * k), stats=("sum", "median")
    )
    assert scaled["amount_usd"].to_list() == pytest.approx(
        (a["amount_usd"] * k).to_list(), rel=1e-9
    )
    assert scaled["amount_usd_median"].to_list() == pytest.approx(
        (a["amount_usd_median"] * k).to_list(), rel=1e-9
    )


@st.composite
def enum_tables(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 40))
    days = st.dates(dt.date(1950, 1, 1), dt.date(2030, 12, 31))  # before and after 1970
    countries = st.sampled_from(["USA", "GBR", "SAU", "MEX", None])
    return pl.DataFrame(
        {
            "date": [draw(days) for _ in range(n)],
            "origin": [draw(countries) for _ in range(n)],
            "destination": [draw(countries) for _ in range(n)],
            "flow_type": [draw(st.sampled_from(fl.schema.FLOW_TYPES)) for _ in range(n)],
            "channel": [draw(st.sampled_from(fl.schema.CHANNELS)) for _ in range(n)],
            "amount_usd": [draw(st.floats(0.01, 1e6)) for _ in range(n)],
        },
        schema_overrides={"origin": pl.String, "destination": pl.String},
    )


@settings(max_examples=60, deadline=None)
@given(enum_tables(), st.sampled_from(["day", "week", "month", "quarter", "year", "2w", "10d"]))
def test_packed_enum_keys_give_the_same_panel_as_plain_keys(flows: pl.DataFrame, freq: str) -> None:
    """Enum keys take the packed-integer group-by; String keys the plain one: same panel."""
    typed = flows.with_columns(
        pl.col("origin", "destination").cast(fl.schema.COUNTRY_ENUM),
        pl.col("flow_type").cast(fl.schema.FLOW_TYPE_ENUM),
        pl.col("channel").cast(fl.schema.CHANNEL_ENUM),
    )
    stats = ("sum", "count", "median")
    packed = fl.corridor_panel(typed, freq=freq, by=("flow_type", "channel"), stats=stats)
    plain = fl.corridor_panel(flows, freq=freq, by=("flow_type", "channel"), stats=stats)
    keys = ["period", "origin", "destination", "flow_type", "channel"]
    assert packed.schema["origin"] == fl.schema.COUNTRY_ENUM
    packed = packed.with_columns(pl.col(keys[1:]).cast(pl.String)).sort(keys, nulls_last=True)
    plain = plain.sort(keys, nulls_last=True)
    assert_frame_equal(packed, plain, check_exact=False, rel_tol=1e-12)


@pytest.mark.parametrize("partitions", [1, 3, 16])
def test_lazy_medians_spill_to_disk_and_match_in_memory(tmp_path: Path, partitions: int) -> None:
    raw = fl.load_sample("flows")
    stats = ("sum", "count", "mean", "median", "cost_ratio", "senders")
    by = ("flow_type", "channel")
    eager = fl.corridor_panel(fl.load_flows(raw), stats=stats, by=by)
    lazy = fl.corridor_panel(
        fl.load_flows(raw.lazy()),
        stats=stats,
        by=by,
        spill_dir=tmp_path,
        spill_partitions=partitions,
    )
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), eager, check_exact=False, rel_tol=1e-12)
    assert list(tmp_path.iterdir()) == []  # the spill directory is removed


def test_lazy_median_of_nothing_is_an_empty_panel(tmp_path: Path) -> None:
    empty = fl.load_flows(fl.load_sample("flows").head(0).lazy())
    panel = fl.corridor_panel(empty, stats=("sum", "median"), spill_dir=tmp_path).collect()
    assert panel.height == 0
    assert panel.columns == [
        "period",
        "origin",
        "destination",
        "flow_type",
        "amount_usd",
        "amount_usd_median",
    ]


def test_spill_partitions_must_be_positive() -> None:
    with pytest.raises(fl.ParameterError, match="spill_partitions must be >= 1, got 0"):
        fl.corridor_panel(
            fl.load_flows(fl.load_sample("flows").lazy()), stats=("median",), spill_partitions=0
        )


@given(st.lists(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)), min_size=1))
def test_month_index_by_calendar_cycle_equals_year_and_month(dates: list[dt.date]) -> None:
    from flowlens.panel import _month_index

    frame = pl.DataFrame({"date": dates}, schema={"date": pl.Date})
    got = frame.select(_month_index(pl.col("date"))).to_series().to_list()
    assert got == [d.year * 12 + d.month - 1 for d in dates]


def test_progress_of_a_lazy_median_panel_is_opt_in(capsys: pytest.CaptureFixture[str]) -> None:
    flows = fl.synth.generate(20_000, seed=6).flows.lazy()
    quiet = fl.corridor_panel(flows, stats=("sum", "median"), spill_partitions=4).collect()
    assert capsys.readouterr().err == ""
    shown = fl.corridor_panel(flows, stats=("sum", "median"), spill_partitions=4, progress=True)
    assert_frame_equal(shown.collect(), quiet)
    err = capsys.readouterr().err
    assert "panel medians: 100%" in err and "5/5" in err  # the spill, then 4 partitions


def test_custom_names_in_canonical_names_out() -> None:
    flows = clean_flows().rename({"date": "booked", "origin": "from", "amount_usd": "amt"})
    panel = fl.corridor_panel(
        flows,
        columns={"booked": "date", "from": "origin", "amt": "amount_usd"},
        stats=("sum", "count"),
    )
    expected = fl.corridor_panel(clean_flows(), stats=("sum", "count"))
    assert_frame_equal(panel, expected)
    assert panel.columns[:4] == ["period", "origin", "destination", "flow_type"]


def test_aggregates_are_named_after_value() -> None:
    flows = clean_flows().with_columns(remitted=pl.col("amount_usd") * 2)
    panel = fl.corridor_panel(flows, value="remitted", stats=("sum", "mean", "median", "count"))
    assert panel.columns[4:] == ["remitted", "n_transfers", "remitted_mean", "remitted_median"]
    assert not any("usd" in c for c in panel.columns)
    usd = fl.corridor_panel(clean_flows(), stats=("sum", "mean", "median", "count"))
    assert panel["remitted"].to_list() == [2 * v for v in usd["amount_usd"].to_list()]
    assert panel["remitted_median"].to_list() == [2 * v for v in usd["amount_usd_median"]]


def test_amounts_in_several_currencies_are_summed_only_per_currency() -> None:
    flows = clean_flows().with_columns(
        amount=pl.Series([100.0, 200.0, 300.0, 40.0, 50.0, 60.0]),
        currency=pl.Series(["USD", "MXN", "USD", "GBP", "USD", "USD"]),
    )
    with pytest.raises(fl.ParameterError, match="add 'currency' to by"):
        fl.corridor_panel(flows, value="amount")
    per_currency = fl.corridor_panel(flows, value="amount", by=("flow_type", "currency"))
    january_usd = per_currency.filter(
        pl.col("period") == dt.date(2024, 1, 1), origin="USA", currency="USD"
    )
    assert january_usd["amount"].sum() == 100.0 + 60.0  # the MXN transfer is apart


def test_a_text_value_column_is_a_schema_error() -> None:
    text = clean_flows().with_columns(pl.col("amount_usd").cast(pl.String))
    with pytest.raises(fl.SchemaError, match="'amount_usd' has dtype String, not a number"):
        fl.corridor_panel(text)


def test_columns_must_be_a_mapping() -> None:
    with pytest.raises(fl.ParameterError, match="columns must map"):
        fl.corridor_panel(clean_flows(), columns=["date"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"value": "amount_eur", "stats": ("sum", "cost_ratio")}, "USD statistics"),
        ({"by": ("origin",)}, "repeats a key"),
        ({"by": ("flow_type", "flow_type")}, "repeats a key"),
        ({"spill_partitions": 2.5}, "spill_partitions must be an integer"),
        ({"stats": ()}, "not usable"),
        ({"freq": "0d"}, "not a period length"),
        ({"columns": {"date": "x", "origin": "x"}}, "two columns to one name"),
    ],
)
def test_bad_arguments_raise_parameter_error(kwargs: dict[str, Any], match: str) -> None:
    flows = clean_flows().with_columns(amount=pl.col("amount_usd"))
    with pytest.raises(fl.ParameterError, match=match):
        fl.corridor_panel(flows, **kwargs)


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from(["1mo", "1q", "1w"]))
def test_shuffled_rows_give_the_same_panel(rnd: Any, freq: str) -> None:
    flows = clean_flows()
    order = list(range(flows.height))
    rnd.shuffle(order)
    stats = ("sum", "count", "mean", "median", "cost_ratio", "senders", "top_senders")
    a = fl.corridor_panel(flows, freq=freq, stats=stats)
    b = fl.corridor_panel(flows[order], freq=freq, stats=stats)
    assert_frame_equal(a, b, check_exact=False)
    assert fl.panel_spec(a, freq=freq).freq == fl.freq.normalise_freq(freq)
