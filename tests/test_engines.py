"""The corridor panel on Spark (local[2]) and Dask (local scheduler) equals the polars path.

Same synthetic Parquet for every engine, with a deliberately skewed corridor: 40% of
the rows in one USA -> MEX month, many of them tied amounts, so that exact medians,
distinct senders and top senders are tested where a naive plan would put a whole
corridor on one task. Deselect with -m "not spark" or -m "not dask"; CI runs them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.errors import MissingColumnError, ParameterError
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

    # no PYSPARK_PYTHON: flowlens points the local workers at this interpreter itself,
    # as a user's session in a virtual environment needs (the README's example)
    os.environ.pop("PYSPARK_PYTHON", None)
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
    with pytest.raises(ParameterError, match="freq"):
        fl.corridor_panel(frame, freq="fortnightly")
    with pytest.raises(ParameterError, match="choose from"):
        fl.corridor_panel(frame, stats=("sum", "mode"))


# --- validation (load_flows) on the engines ---------------------------------------------


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled raw sample (13 bad rows among 4,013) shuffled over five Parquet files,
    plus rows whose tx_id repeats one in another file, and rows without a tx_id."""
    raw = fl.load_sample("flows").sample(fraction=1.0, shuffle=True, seed=5)
    repeated = raw.head(40).with_columns(pl.col("amount").str.replace(r"$", "1"))
    unnamed = raw.slice(100, 30).with_columns(tx_id=pl.lit(None, pl.String))
    both = pl.concat([raw.head(2_000), unnamed, raw.tail(raw.height - 2_000), repeated])
    out = tmp_path_factory.mktemp("raw")
    for i, part in enumerate(both.iter_slices(1_000)):
        part.write_parquet(out / f"part-{i}.parquet")
    return out


ENGINES = [
    pytest.param("spark", marks=pytest.mark.spark),
    pytest.param("dask", marks=pytest.mark.dask),
]


def on_engine(
    engine: str, request: pytest.FixtureRequest, raw_dir: Path
) -> tuple[Any, pl.DataFrame]:
    """The raw files as an engine DataFrame, and the same rows in the engine's order in polars."""
    if engine == "spark":
        frame = request.getfixturevalue("spark").read.parquet(str(raw_dir))
        return frame, pl.from_arrow(frame.toArrow())  # type: ignore[return-value]
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.read_parquet(str(raw_dir))
    return frame, pl.from_pandas(frame.compute())


def to_polars(engine: str, frame: Any) -> pl.DataFrame:
    if engine == "spark":
        return pl.from_arrow(frame.toArrow())  # type: ignore[return-value]
    return pl.from_pandas(frame.compute())


def as_on_engine(report: fl.ValidationReport) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The local report's clean rows and rejects with an engine's types (codes as text)."""
    clean = report.clean
    assert isinstance(clean, pl.DataFrame)
    return (
        clean.with_columns(pl.col(pl.Enum).cast(pl.String)),
        report.rejects.with_columns(pl.col("row").cast(pl.Int64)),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_validation_on_engine_equals_polars(
    engine: str, request: pytest.FixtureRequest, raw_dir: Path
) -> None:
    frame, ordered = on_engine(engine, request, raw_dir)
    report = fl.load_flows(frame)
    local = fl.load_flows(ordered)
    assert isinstance(report, fl.EngineValidationReport)
    assert report.engine == engine
    assert report.n_rows_in == ordered.height == 4_013 + 30 + 40
    clean, rejects = as_on_engine(local)
    assert_frame_equal(to_polars(engine, report.clean), clean)
    assert_frame_equal(to_polars(engine, report.rejects), rejects)
    assert_frame_equal(report.summary, local.summary)
    # by hand: every non-null tx_id beyond its first occurrence is a duplicate, wherever it is
    ids = ordered["tx_id"].drop_nulls()
    repeats = ids.len() - ids.n_unique()
    assert repeats >= 40
    named = to_polars(engine, report.rejects).filter(pl.col("reason").str.contains("repeats an"))
    assert named.height == repeats
    assert report.n_clean + report.n_rejected == report.n_rows_in
    assert report.clean_amount_usd == pytest.approx(local.clean_amount_usd, rel=1e-12)
    assert_frame_equal(
        fl.corridor_panel(report, freq="quarter", stats=("sum", "count", "median")),
        fl.corridor_panel(local, freq="quarter", stats=("sum", "count", "median")),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_rejects_are_written_on_the_engine(
    engine: str, request: pytest.FixtureRequest, raw_dir: Path, tmp_path: Path
) -> None:
    frame, ordered = on_engine(engine, request, raw_dir)
    report = fl.load_flows(frame)
    _, rejects = as_on_engine(fl.load_flows(ordered))
    target = tmp_path / "rejects"
    before = report.summary
    written_report = report.write_rejects(target)
    written = pl.read_parquet(target / "*.parquet").sort("row")
    assert_frame_equal(written, rejects)
    assert written_report.n_rejected == rejects.height
    assert_frame_equal(written_report.first_rejects(3), rejects.head(3))
    assert_frame_equal(report.summary, before)  # the original report is unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.rejects = None  # type: ignore[misc]
    with pytest.raises(FileExistsError, match="new directory"):
        report.write_rejects(target)


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_validation_fails_early_and_strictly(
    engine: str, request: pytest.FixtureRequest, raw_dir: Path
) -> None:
    frame, ordered = on_engine(engine, request, raw_dir)
    without_amount = frame.drop("amount") if engine == "spark" else frame.drop(columns=["amount"])
    with pytest.raises(MissingColumnError, match="amount"):
        fl.load_flows(without_amount)
    with pytest.raises(fl.ValidationFailedError) as failed:
        fl.load_flows(frame, strict=True)
    with pytest.raises(fl.ValidationFailedError) as expected:
        fl.load_flows(ordered, strict=True)
    assert failed.value.counts == expected.value.counts
    assert str(failed.value) == str(expected.value)


@pytest.mark.dask
def test_dask_validation_of_typed_pandas_partitions() -> None:
    """Numbers and datetimes (not text) in pandas partitions check as in polars."""
    dd = pytest.importorskip("dask.dataframe")
    raw = fl.load_sample("flows").with_columns(
        pl.col("amount").cast(pl.Float64, strict=False),
        pl.col("date").str.to_datetime(strict=False),
    )
    pdf = raw.to_pandas()
    report = fl.load_flows(dd.from_pandas(pdf, npartitions=3, sort=False))
    assert "not counted yet" in report._repr_html_()  # showing it runs nothing
    local = fl.load_flows(pdf)
    clean, rejects = as_on_engine(local)
    assert_frame_equal(pl.from_pandas(report.clean.compute()), clean)
    assert_frame_equal(pl.from_pandas(report.rejects.compute()), rejects)
    assert report.n_rejected == rejects.height  # counted on the engine, then shown
    assert f"{rejects.height:,} rejected" in report._repr_html_()
    assert "<td>fx</td>" in report._repr_html_()


def test_partitions_of_many_arrow_batches_validate() -> None:
    """A Spark partition arrives as many Arrow batches; rejects' reasons must still be built
    (polars 2.1 panics formatting text filtered from many imported chunks, unless joined)."""
    from flowlens.engines._protocol import FIRST, ROW, CheckSpec
    from flowlens.engines._spark import partition_frame

    n = 20_000
    raw = pl.DataFrame(
        {
            "date": "2024-01-15",
            "origin": "USA",
            "destination": "MEX",
            "flow_type": "remittance",
            "amount": pl.Series([str(-i if i % 1000 == 7 else i + 1) for i in range(n)]),
            "currency": "USD",
            "tx_id": pl.Series([f"T{i}" for i in range(n)]),
        }
    ).with_columns(pl.int_range(n, dtype=pl.Int64).alias(ROW), pl.lit(None, pl.Int64).alias(FIRST))
    batches = raw.to_arrow(compat_level=pl.CompatLevel.oldest()).to_batches(max_chunksize=100)
    rows = partition_frame(iter(batches))
    assert rows is not None
    spec = CheckSpec(columns=None, fx=None, max_fx_staleness_days=7, keep=())
    rejects = spec.rejects(rows)
    assert rejects["row"].to_list() == list(range(7, n, 1000))
    assert rejects["reason"][0] == "amount: '-7' is not a positive finite number"
    assert partition_frame(iter([])) is None


@pytest.mark.dask
def test_engine_panel_takes_columns_and_value(parquet_dir: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.read_parquet(str(parquet_dir)).rename(columns={"date": "booked"})
    frame = frame.assign(amount2=frame["amount_usd"] * 2)
    local = (
        pl.read_parquet(parquet_dir)
        .rename({"date": "booked"})
        .with_columns(amount2=pl.col("amount_usd") * 2)
    )
    kwargs: dict[str, Any] = {
        "columns": {"booked": "date"},
        "value": "amount2",
        "stats": ("sum", "count", "mean", "median"),
        "freq": "year",
    }
    got = fl.corridor_panel(frame, **kwargs)
    assert got.columns == [
        "period", "origin", "destination", "flow_type",
        "amount2", "n_transfers", "amount2_mean", "amount2_median",
    ]  # fmt: skip
    assert_frame_equal(got, fl.corridor_panel(local, **kwargs), check_exact=False)
    with pytest.raises(ParameterError, match="USD statistics"):
        fl.corridor_panel(frame, value="amount2", stats=("sum", "top_senders"))


SPACED_IDS = ["T1", " T1", "T1\u00a0", "\u3000T1", "\u200bT1", "t1", "", None]


def spaced_id_rows() -> pl.DataFrame:
    """Transfers whose tx_ids differ only by Unicode spaces (one transfer), plus others."""
    n = len(SPACED_IDS)
    return pl.DataFrame(
        {
            "date": [dt.datetime(2024, 1, 15 + i, 10, 30) for i in range(n)],
            "origin": ["USA"] * n,
            "destination": ["MEX"] * n,
            "flow_type": ["remittance"] * n,
            "amount": [str(100 + i) for i in range(n)],
            "currency": ["USD"] * (n - 1) + ["GBP"],
            "tx_id": SPACED_IDS,
        }
    )


@pytest.mark.spark
def test_spark_timestamp_columns(spark: Any) -> None:
    """A TimestampType column (what createDataFrame makes of datetimes, and what Spark's CSV
    reader infers) is read in the session time zone, in load_flows and corridor_panel."""
    rows = spaced_id_rows()
    frame = spark.createDataFrame(rows.rows(), list(rows.columns))
    assert frame.schema["date"].dataType.typeName() == "timestamp"
    report = fl.load_flows(frame)
    local = fl.load_flows(pl.from_arrow(frame.toArrow()))
    # T1 and its spaced copies are one transfer: four repeats; blank and null are no id
    assert report.summary.rows() == local.summary.rows() == [("clean", 4), ("duplicate_tx_id", 4)]
    clean = pl.from_arrow(report.clean.toArrow())
    assert isinstance(clean, pl.DataFrame)
    assert clean["date"].dt.date().to_list() == [dt.date(2024, 1, 15 + i) for i in (0, 5, 6, 7)]
    panel = fl.corridor_panel(report, freq="1mo")
    expected = fl.corridor_panel(local, freq="1mo").with_columns(pl.col(pl.Enum).cast(pl.String))
    assert_frame_equal(
        panel.with_columns(pl.col(pl.Enum).cast(pl.String)), expected, check_exact=False
    )
    # a raw clean table with timestamps, straight to corridor_panel
    assert_frame_equal(fl.corridor_panel(report.clean, freq="1mo"), panel, check_exact=False)


@pytest.mark.dask
def test_dask_ids_differing_by_spaces_are_one_transfer() -> None:
    dd = pytest.importorskip("dask.dataframe")
    rows = spaced_id_rows()
    frame = dd.from_pandas(rows.to_pandas(), npartitions=3)
    report = fl.load_flows(frame)
    local = fl.load_flows(rows)
    assert report.summary.rows() == local.summary.rows() == [("clean", 4), ("duplicate_tx_id", 4)]


@pytest.mark.spark
def test_spark_workers_run_this_interpreter(spark: Any, parquet_dir: Path) -> None:
    # the fixture's session has no PYSPARK_PYTHON: PySpark would start `python3` from the
    # PATH, without flowlens; reading with flowlens points the local workers here
    fl.corridor_panel(spark.read.parquet(str(parquet_dir)), freq="year")
    import sys

    assert spark.sparkContext.pythonExec == sys.executable
