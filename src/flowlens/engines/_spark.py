"""Spark: flowlens' polars code per partition (``mapInArrow``); Spark's group-by merges the
partial aggregates of the corridor panel, and Spark numbers the rows for validation."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa

from flowlens import schema as fs
from flowlens.engines._partial import (
    BIN,
    SENDER_USD,
    VALUE,
    PanelPlan,
    finish,
    median_targets,
    medians,
    normalised,
    partial_bin_values,
    partial_bins,
    partial_sender_totals,
    partial_senders,
    partial_sums,
    top_sender_columns,
    top_three,
)
from flowlens.engines._protocol import FIRST, ROW, TX_KEY, CheckSpec, with_tx_key

Partial = Callable[[pl.DataFrame], pl.DataFrame]


def use_this_python(frame: Any) -> None:
    """Run Spark's Python workers on this interpreter when the user has not chosen one.

    PySpark starts its workers with ``PYSPARK_PYTHON`` (or ``spark.pyspark.python``),
    else with whatever ``python3`` is first on the PATH: from a virtual environment that
    is the system Python, without flowlens (``ModuleNotFoundError: No module named
    'flowlens'`` on the workers). In local mode the workers share this machine, so the
    driver's interpreter is the right one; on a cluster the choice stays the user's.
    """
    import os
    import sys

    context = frame.sparkSession.sparkContext
    chosen = os.environ.get("PYSPARK_PYTHON") or context.getConf().get("spark.pyspark.python")
    if not chosen and str(context.master).startswith("local"):
        context.pythonExec = sys.executable


def corridor_panel(frame: Any, plan: PanelPlan) -> pl.DataFrame:
    """Aggregate a PySpark DataFrame of clean flows into the corridor panel (a polars frame)."""
    from pyspark import StorageLevel

    use_this_python(frame)

    source = frame.select(*plan.input_columns)
    several_passes = bool({"median", "senders", "top_senders"} & set(plan.stats))
    if not several_passes:
        return _panel(source, plan)
    # each pass would otherwise recompute the input: a validation, or any upstream plan
    source = source.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return _panel(source, plan)
    finally:
        source.unpersist()


def _panel(source: Any, plan: PanelPlan) -> pl.DataFrame:
    from pyspark.sql import functions as F  # noqa: N812 (Spark's own idiom)

    keys = plan.keys

    def each_partition(partial: Partial) -> Any:
        return _each_partition(source, partial)

    def merged(parts: Any, group: list[str]) -> pl.DataFrame:
        values = [c for c in parts.columns if c not in group]
        summed = parts.groupBy(*group).agg(*(F.sum(c).alias(c) for c in values))
        return normalised(_polars(summed.toArrow()), plan)

    def sums_of(partial: Partial, group: list[str]) -> pl.DataFrame:
        return merged(each_partition(partial), group)

    sums = sums_of(lambda f: partial_sums(f, plan), keys)
    median = senders = top = None
    if "median" in plan.stats:
        bins = sums_of(lambda f: partial_bins(f, plan), [*keys, BIN])
        targets = median_targets(bins, plan)
        # up to two rows per cell: shipped once per worker as a broadcast, not in every task
        shared = source.sparkSession.sparkContext.broadcast(_ipc(targets))
        values = sums_of(
            lambda f: partial_bin_values(f, plan, _from_ipc(shared.value)),
            [*keys, BIN, VALUE],
        )
        shared.destroy()  # the values are collected: free the workers' copies
        median = medians(targets, values, plan)
    if "senders" in plan.stats:
        pairs = each_partition(lambda f: partial_senders(f, plan))
        counted = pairs.distinct().groupBy(*keys).agg(F.count(F.lit(1)).alias(fs.N_SENDERS))
        senders = normalised(_polars(counted.toArrow()), plan)
    if "top_senders" in plan.stats:
        group = [*keys, fs.SENDER_ID]
        totals = each_partition(lambda f: partial_sender_totals(f, plan))
        complete = totals.groupBy(*group).agg(F.sum(SENDER_USD).alias(SENDER_USD))
        best = _each_partition(complete, lambda f: top_three(f, plan))
        best_rows = best.toArrow()
        top = top_sender_columns(normalised(_polars(best_rows), plan), plan)
    return finish(sums, plan, median=median, senders=senders, top=top)


def validate(frame: Any, spec: CheckSpec, tx_column: str | None) -> tuple[Any, Any, int]:
    """Clean rows and rejects of a PySpark DataFrame (lazy, on Spark) and its row count."""
    from pyspark.sql import functions as F  # noqa: N812 (Spark's own idiom)

    use_this_python(frame)
    columns = frame.columns
    partition = F.spark_partition_id()
    sizes = dict(frame.select(partition.alias("p")).groupBy("p").count().collect())
    n_partitions = max(sizes, default=0) + 1
    starts = np.cumsum([0] + [sizes.get(p, 0) for p in range(n_partitions - 1)])
    # monotonically_increasing_id is (partition << 33) + the place in the partition
    place = F.monotonically_increasing_id() - F.shiftleft(partition.cast("long"), 33)
    start = F.element_at(F.array(*(F.lit(int(s)) for s in starts)), partition + 1)
    positioned = frame.withColumn(ROW, start + place)
    if tx_column is not None:
        keyed = _each_partition(positioned, lambda f: with_tx_key(f, tx_column))
        firsts = (
            keyed.where(F.col(TX_KEY).isNotNull())
            .groupBy(F.col(TX_KEY).alias(_TX))
            .agg(F.min(ROW).alias(FIRST), F.count(F.lit(1)).alias(_SEEN))
            .where(F.col(_SEEN) > 1)
            .drop(_SEEN)
        )
        positioned = keyed.join(firsts, F.col(TX_KEY) == F.col(_TX), how="left").select(
            *(F.col(f"`{c}`") for c in columns), ROW, FIRST
        )
    clean = _each_partition(positioned, spec.clean)
    rejects = _each_partition(positioned, spec.rejects)
    return clean, rejects, int(sum(sizes.values()))


def polars_schema(frame: Any) -> pl.Schema:
    """The polars schema of a PySpark DataFrame (through Arrow)."""
    return _polars(_empty_of(frame)).schema


def describe(frame: Any) -> str:
    return f"a Spark DataFrame ({len(frame.columns)} columns)"


def rule_counts(rejects: Any) -> pl.DataFrame:
    """Rejected rows per rule (``rule``, ``n_rows``), counted on Spark."""
    counted = rejects.groupBy("rule").count().withColumnRenamed("count", "n_rows")
    return _polars(counted.toArrow())


def first_rows(rejects: Any, n: int) -> pl.DataFrame:
    return _polars(rejects.orderBy("row").limit(n).toArrow())


def total(frame: Any, column: str) -> float:
    from pyspark.sql import functions as F  # noqa: N812

    value = frame.agg(F.sum(F.col(column))).collect()[0][0]
    return float(value or 0.0)


def write(frame: Any, path: str) -> Any:
    """Write ``frame`` as Parquet at ``path`` (which must not exist); the written table."""
    from pyspark.errors import AnalysisException

    try:
        frame.write.parquet(path, mode="errorifexists")
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_ALREADY_EXISTS":
            msg = f"{path} exists already; write the rejects to a new directory"
            raise FileExistsError(msg) from exc
        raise
    return frame.sparkSession.read.parquet(path)


def _each_partition(frame: Any, partial: Partial) -> Any:
    """Run ``partial`` once per partition of ``frame``, on its Arrow batches together."""
    from pyspark.sql.pandas.types import from_arrow_schema

    out_schema = _arrow(partial(_polars(_empty_of(frame)))).schema

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # one polars call per partition, not per Arrow batch (10,000 rows by default)
        rows = partition_frame(batches)
        if rows is not None:
            yield from _arrow(partial(rows)).to_batches()

    return frame.mapInArrow(run, from_arrow_schema(out_schema))


def partition_frame(batches: Iterator[pa.RecordBatch]) -> pl.DataFrame | None:
    """A partition's Arrow batches as one contiguous polars frame (None for no batches).

    Contiguous, not one chunk per batch: polars 2.1 panics ("assertion failed:
    i < self.len()") formatting text (``pl.format``, as in a reject's reason) from
    rows filtered out of a text column made of many imported Arrow chunks; one
    copy per partition avoids it (tests/test_engines.py keeps the case).
    """
    rows = [_polars(batch) for batch in batches]
    return pl.concat(rows, rechunk=True) if rows else None


_TX, _SEEN = "__flowlens_tx", "__flowlens_seen"


def _polars(data: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    return cast(pl.DataFrame, pl.from_arrow(data))  # a batch or table gives a DataFrame


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # plain (not large) strings: what Spark reads from Arrow by default
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def _empty_of(frame: Any) -> pa.Table:
    """An empty Arrow table of ``frame``'s schema, as Spark hands its rows to Arrow.

    Spark sends a ``TimestampType`` column to Arrow in the session time zone
    (``spark.sql.session.timeZone``), and its schema conversion needs that zone
    (without it PySpark fails with a bare AssertionError).
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    zone = frame.sparkSession.conf.get("spark.sql.session.timeZone")
    return to_arrow_schema(frame.schema, timezone=zone).empty_table()


def _ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def _from_ipc(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))
