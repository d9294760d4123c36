"""The corridor panel on Spark (local[2]) and Dask (local scheduler) equals the polars path.

Same synthetic Parquet for every engine, with a deliberately skewed corridor: 40% of
the rows in one USA -> MEX month, many of them tied amounts, so that exact medians,
distinct senders and top senders are tested where a naive plan would put a whole
corridor on one task. Deselect with -m "not spark" or -m "not dask"; CI runs them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.errors import MissingColumnError, SchemaError
from flowlens.panel import STATS

SHAPES = [("1mo", ("flow_type",)), ("quarter", ()), ("year", ("flow_type", "channel"))]


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    flows = fl.synth.generate(30_000, seed=3).flows
    rng = np.random.default_rng(3)
    n = 20_000
    heavy = pl.DataFrame(
        {
            "date": [dt.date(2022, 3, 1 + int(d)) for d in rng.integers(0, 28, n)],
            "origin": "USA",
            "destination": "MEX",
            "flow_type": "remittance",
            "channel": "mto",
            "amount": 0.0,
            "currency": "USD",
            # ties: a third of the amounts are exactly 300.0
            "amount_usd": np.where(rng.random(n) < 0.33, 300.0, rng.lognormal(5.5, 0.8, n)),
            "fee": 0.0,
            "fee_usd": rng.uniform(0, 10, n),
            "sender_id": [f"H{int(i)}" for i in rng.integers(0, 4_000, n)],
            "org_id": None,
        }
    ).cast(flows.schema)  # type: ignore[arg-type]
    both = pl.concat([flows, heavy]).sample(fraction=1.0, shuffle=True, seed=3)
    out = tmp_path_factory.mktemp("engines")
    for i, part in enumerate(both.iter_slices(12_000)):
        part.write_parquet(out / f"part-{i}.parquet")
    return out


def local_panel(parquet_dir: Path, freq: str, by: tuple[str, ...]) -> pl.DataFrame:
    return fl.corridor_panel(pl.read_parquet(parquet_dir), freq=freq, by=by, stats=STATS)


def check(result: Any, expected: pl.DataFrame, parquet_dir: Path, freq: str) -> None:
    assert isinstance(result, pl.DataFrame)
    assert result.schema == expected.schema
    assert_frame_equal(result, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
    if freq == "1mo":  # the skewed cell's median, against numpy on its rows
        rows = pl.read_parquet(parquet_dir).filter(
            pl.col("origin") == "USA",
            pl.col("destination") == "MEX",
            pl.col("flow_type") == "remittance",
            pl.col("date").is_between(dt.date(2022, 3, 1), dt.date(2022, 3, 31)),
        )
        heavy = result.filter(
            pl.col("origin") == "USA",
            pl.col("destination") == "MEX",
            pl.col("flow_type") == "remittance",
            pl.col("period") == dt.date(2022, 3, 1),
        )
        assert heavy["n_transfers"].item() == rows.height > 20_000
        assert heavy["amount_usd_median"].item() == np.median(rows["amount_usd"].to_numpy())


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("Spark needs a Java runtime (17 or later)")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("flowlens-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.spark
@pytest.mark.parametrize(("freq", "by"), SHAPES)
def test_spark_panel_equals_polars(spark: Any, parquet_dir: Path, freq: str, by: tuple) -> None:
    frame = spark.read.parquet(str(parquet_dir))
    check(
        fl.corridor_panel(frame, freq=freq, by=by, stats=STATS),
        local_panel(parquet_dir, freq, by),
        parquet_dir,
        freq,
    )


@pytest.mark.dask
@pytest.mark.parametrize(("freq", "by"), SHAPES)
def test_dask_panel_equals_polars(parquet_dir: Path, freq: str, by: tuple) -> None:
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.read_parquet(str(parquet_dir))
    check(
        fl.corridor_panel(frame, freq=freq, by=by, stats=STATS),
        local_panel(parquet_dir, freq, by),
        parquet_dir,
        freq,
    )


@pytest.mark.dask
def test_engine_errors_name_the_fix(parquet_dir: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.read_parquet(str(parquet_dir))
    with pytest.raises(MissingColumnError, match="sender_id"):
        fl.corridor_panel(frame.drop(columns=["sender_id"]), stats=("sum", "senders"))
    with pytest.raises(SchemaError, match="freq"):
        fl.corridor_panel(frame, freq="fortnightly")
    with pytest.raises(SchemaError, match="choose from"):
        fl.corridor_panel(frame, stats=("sum", "mode"))
