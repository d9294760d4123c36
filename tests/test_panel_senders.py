"""corridor_panel's sender statistics (``senders``, ``top_senders``) against a plain count.

Every path (an in-memory frame, a lazy one through the spilled partitions, Enum keys
packed into one integer, text keys, text and integer sender ids) is compared with
distinct senders and per-sender totals counted in plain Python dictionaries, on
frames with missing sender ids, senders repeated within a cell and across cells,
and cells of one sender.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens._senders_kernel import cell_senders
from flowlens.schema import TOP_SENDER_COLUMNS

KEYS = ("period", "origin", "destination", "flow_type")
STATS = ("sum", "count", "senders", "top_senders")
ENUMS = {
    "origin": pl.Enum(["GBR", "USA"]),
    "destination": pl.Enum(["MEX", "PAK"]),
    "flow_type": pl.Enum(["remittance", "philanthropy"]),
}


def _expected(flows: pl.DataFrame) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Per cell, counted in dictionaries: (amount, rows, distinct senders, top 3 totals).

    A missing sender id is one sender (the rows may all be one person)."""
    per_sender: dict[tuple[Any, ...], dict[Any, float]] = defaultdict(lambda: defaultdict(float))
    amount: dict[tuple[Any, ...], float] = defaultdict(float)
    rows: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in flows.iter_rows(named=True):
        cell = (
            row["date"].replace(day=1),
            str(row["origin"]),
            str(row["destination"]),
            str(row["flow_type"]),
        )
        per_sender[cell][row["sender_id"]] += row["amount_usd"]
        amount[cell] += row["amount_usd"]
        rows[cell] += 1
    expected = {}
    for cell, totals in per_sender.items():
        largest = [*sorted(totals.values(), reverse=True)[:3], 0.0, 0.0, 0.0][:3]
        expected[cell] = (amount[cell], rows[cell], len(totals), *largest)
    return expected


def _got(panel: pl.DataFrame) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    columns = ["amount_usd", "n_transfers", "n_senders", *TOP_SENDER_COLUMNS]
    return {
        tuple(str(v) if i else v for i, v in enumerate(row[:4])): row[4:]
        for row in panel.select(*KEYS, *columns).iter_rows()
    }


def _assert_matches(panel: pl.DataFrame, flows: pl.DataFrame) -> None:
    got, expected = _got(panel), _expected(flows)
    assert got.keys() == expected.keys()
    for cell, want in expected.items():
        have = got[cell]
        assert have[1:3] == want[1:3], cell  # rows and distinct senders: exact
        np.testing.assert_allclose(have[:1] + have[3:], want[:1] + want[3:], rtol=1e-12)


def _flows() -> pl.DataFrame:
    """Nine rows, five cells: nulls, repeats, a one-sender cell, a cell of only nulls."""
    jan, feb = dt.date(2024, 1, 3), dt.date(2024, 2, 9)
    return pl.DataFrame(
        {
            "date": [jan, jan, jan, jan, jan, feb, feb, jan, jan],
            "origin": ["USA", "USA", "USA", "USA", "GBR", "USA", "USA", "USA", "USA"],
            "destination": ["MEX", "MEX", "MEX", "MEX", "PAK", "MEX", "MEX", "PAK", "PAK"],
            "flow_type": ["remittance"] * 9,
            "amount_usd": [100.0, 50.0, 30.0, 5.0, 7.0, 1.0, 2.0, 4.0, 6.0],
            "sender_id": ["a", "a", None, "b", "a", "a", "a", None, None],
        }
    )


def test_senders_and_top_senders_by_hand() -> None:
    # January USA->MEX: a 150, the missing id 30, b 5: three senders
    panel = fl.corridor_panel(_flows(), stats=STATS)
    usa_mex = panel.filter(origin="USA", destination="MEX").row(0, named=True)
    assert usa_mex["n_senders"] == 3
    assert [usa_mex[c] for c in TOP_SENDER_COLUMNS] == [150.0, 30.0, 5.0]
    # February: one sender, twice; January USA->PAK: only missing ids, one sender
    assert panel.filter(period=dt.date(2024, 2, 1))["n_senders"].to_list() == [1]
    usa_pak = panel.filter(destination="PAK", origin="USA").row(0, named=True)
    assert (usa_pak["n_senders"], usa_pak["sender_top1_usd"], usa_pak["sender_top2_usd"]) == (
        1,
        10.0,
        0.0,
    )
    _assert_matches(panel, _flows())


def _variants(flows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The same flows with Enum keys (packed), text keys, and integer sender ids."""
    enum = flows.with_columns(pl.col(k).cast(t) for k, t in ENUMS.items())
    ids = {s: i for i, s in enumerate(sorted({s for s in flows["sender_id"] if s is not None}))}
    integer = enum.with_columns(
        pl.col("sender_id").replace_strict(ids, default=None, return_dtype=pl.Int32)
    )
    return {"enum": enum, "text": flows, "integer ids": integer}


@pytest.mark.parametrize("variant", ["enum", "text", "integer ids"])
@pytest.mark.parametrize("lazy", [False, True])
def test_every_path_counts_the_same(variant: str, lazy: bool) -> None:
    flows = _variants(_flows())[variant]
    source: pl.DataFrame | pl.LazyFrame = flows.lazy() if lazy else flows
    panel = fl.corridor_panel(source, stats=STATS, spill_partitions=2)
    collected = panel.collect() if isinstance(panel, pl.LazyFrame) else panel
    _assert_matches(collected, flows.with_columns(pl.col("sender_id").cast(pl.String)))


def test_other_statistics_beside_the_senders_come_from_the_rows() -> None:
    flows = _variants(_flows())["enum"].with_columns(fee_usd=pl.lit(1.0))
    stats = ("sum", "count", "median", "cost_ratio", "senders", "top_senders")
    for source in (flows, flows.lazy()):
        panel = fl.corridor_panel(source, stats=stats, spill_partitions=3)
        panel = panel.collect() if isinstance(panel, pl.LazyFrame) else panel
        assert panel.columns == [
            *KEYS,
            "amount_usd",
            "n_transfers",
            "amount_usd_median",
            "fee_usd",
            "cost_ratio",
            "n_senders",
            *TOP_SENDER_COLUMNS,
        ]
        usa_mex = panel.filter(origin="USA", destination="MEX", period=dt.date(2024, 1, 1))
        assert usa_mex.select("amount_usd_median", "fee_usd", "n_senders").row(0) == (
            40.0,
            4.0,
            3,
        )


_CELLS = st.lists(
    st.tuples(
        st.integers(0, 2),  # month
        st.sampled_from(["USA", "GBR"]),
        st.sampled_from(["MEX", "PAK"]),
        st.sampled_from(["remittance", "philanthropy"]),
        st.one_of(st.none(), st.sampled_from(["s1", "s2", "s3", "s4", "s5"])),
        st.integers(-50, 500).map(float),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=25, deadline=None)
@given(_CELLS, st.booleans())
def test_random_flows_match_the_plain_count(rows: list[tuple[Any, ...]], lazy: bool) -> None:
    flows = pl.DataFrame(
        rows,
        schema=["month", "origin", "destination", "flow_type", "sender_id", "amount_usd"],
        orient="row",
    ).select(
        pl.date(2024, pl.col("month") + 1, 1).alias("date"),
        pl.col("origin").cast(ENUMS["origin"]),
        pl.col("destination").cast(ENUMS["destination"]),
        pl.col("flow_type").cast(ENUMS["flow_type"]),
        "amount_usd",
        "sender_id",
    )
    panel = fl.corridor_panel(flows.lazy() if lazy else flows, stats=STATS, spill_partitions=2)
    _assert_matches(panel.collect() if isinstance(panel, pl.LazyFrame) else panel, flows)


def test_the_kernel_keeps_the_largest_totals_in_order() -> None:
    cells = np.array([7, 3, 7, 7, 3, 7, 9], dtype=np.int64)
    totals = np.array([1.0, 2.0, 5.0, 5.0, -1.0, 3.0, -4.0])
    counts = np.array([1, 2, 3, 4, 5, 6, 7], dtype=np.int64)
    keys, senders, amount, rows, largest = cell_senders(cells, totals, counts, 3)
    got = {
        int(k): (int(s), float(a), int(r), largest[i].tolist())
        for i, (k, s, a, r) in enumerate(zip(keys, senders, amount, rows, strict=True))
    }
    assert got == {
        7: (4, 14.0, 14, [5.0, 5.0, 3.0]),  # ties kept, the smallest of four dropped
        3: (2, 1.0, 7, [2.0, -1.0, 0.0]),  # fewer than three: 0.0 after them
        9: (1, -4.0, 7, [-4.0, 0.0, 0.0]),
    }


def test_the_kernel_grows_its_table_past_many_cells() -> None:
    rng = np.random.default_rng(3)
    cells = rng.integers(-(2**40), 2**40, 5_000).repeat(3)
    rng.shuffle(cells)
    totals = rng.normal(size=cells.size)
    keys, senders, amount, _, largest = cell_senders(
        cells, totals, np.ones(cells.size, dtype=np.int64), 3
    )
    frame = pl.DataFrame({"cell": cells, "v": totals})
    expected = frame.group_by("cell").agg(
        pl.len().alias("n"), pl.col("v").sum().alias("s"), pl.col("v").max().alias("m")
    )
    got = pl.DataFrame({"cell": keys, "n2": senders, "s2": amount, "m2": largest[:, 0]})
    joined = expected.join(got, on="cell", how="full")
    assert joined.height == expected.height == np.unique(cells).size
    assert (joined["n"] == joined["n2"]).all()
    np.testing.assert_allclose(joined["s2"], joined["s"], rtol=1e-9, atol=1e-12)
    assert (joined["m"] == joined["m2"]).all()
