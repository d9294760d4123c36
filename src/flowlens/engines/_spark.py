"""The corridor panel on Spark: flowlens' polars code per partition (``mapInArrow``), Spark's
group-by to merge the partial aggregates."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, cast

import polars as pl
import pyarrow as pa

from flowlens import schema as fs
from flowlens.engines import _partial

Partial = Callable[[pl.DataFrame], pl.DataFrame]


def corridor_panel(frame: Any, spec: _partial.PanelSpec) -> pl.DataFrame:
    """Aggregate a PySpark DataFrame of clean flows into the corridor panel (a polars frame)."""
    from pyspark.sql import functions as F  # noqa: N812 (Spark's own idiom)
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    source = frame.select(*spec.input_columns)
    empty = _polars(to_arrow_schema(source.schema).empty_table())
    keys = spec.keys

    def each_partition(partial: Partial) -> Any:
        """Run ``partial`` once per partition, on its Arrow batches together."""
        out_schema = _arrow(partial(empty)).schema

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            # one polars call per partition, not per Arrow batch (10,000 rows by default)
            rows = [_polars(batch) for batch in batches]
            if rows:
                yield from _arrow(partial(pl.concat(rows, rechunk=False))).to_batches()

        return source.mapInArrow(run, from_arrow_schema(out_schema))

    def merged(parts: Any, group: list[str]) -> pl.DataFrame:
        values = [c for c in parts.columns if c not in group]
        summed = parts.groupBy(*group).agg(*(F.sum(c).alias(c) for c in values))
        return _partial.normalised(_polars(summed.toArrow()), spec)

    def sums_of(partial: Partial, group: list[str]) -> pl.DataFrame:
        return merged(each_partition(partial), group)

    sums = sums_of(lambda f: _partial.partial_sums(f, spec), keys)
    median = senders = top = None
    if "median" in spec.stats:
        bins = sums_of(lambda f: _partial.partial_bins(f, spec), [*keys, _partial.BIN])
        targets = _partial.median_targets(bins, spec)
        # up to two rows per cell: shipped once per worker as a broadcast, not in every task
        shared = frame.sparkSession.sparkContext.broadcast(_ipc(targets))
        values = sums_of(
            lambda f: _partial.partial_bin_values(f, spec, _from_ipc(shared.value)),
            [*keys, _partial.BIN, _partial.VALUE],
        )
        shared.destroy()  # the values are collected: free the workers' copies
        median = _partial.medians(targets, values, spec)
    if "senders" in spec.stats:
        pairs = each_partition(lambda f: _partial.partial_senders(f, spec))
        counted = pairs.distinct().groupBy(*keys).agg(F.count(F.lit(1)).alias("n_senders"))
        senders = _partial.normalised(_polars(counted.toArrow()), spec)
    if "top_senders" in spec.stats:
        group = [*keys, fs.SENDER_ID]
        totals = each_partition(lambda f: _partial.partial_sender_totals(f, spec))
        complete = totals.groupBy(*group).agg(F.sum(_partial.SENDER_USD).alias(_partial.SENDER_USD))
        top_schema = _arrow(_partial.top_three(_polars(_empty_of(complete)), spec)).schema

        def best(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            rows = [_polars(batch) for batch in batches]
            if rows:
                yield from _arrow(_partial.top_three(pl.concat(rows), spec)).to_batches()

        best_rows = complete.mapInArrow(best, from_arrow_schema(top_schema)).toArrow()
        top = _partial.top_sender_columns(_partial.normalised(_polars(best_rows), spec), spec)
    return _partial.finish(sums, spec, median=median, senders=senders, top=top)


def _polars(data: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    return cast(pl.DataFrame, pl.from_arrow(data))  # a batch or table gives a DataFrame


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # plain (not large) strings: what Spark reads from Arrow by default
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def _empty_of(frame: Any) -> pa.Table:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema).empty_table()


def _ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def _from_ipc(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))
