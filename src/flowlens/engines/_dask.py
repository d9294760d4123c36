"""The corridor panel on Dask: flowlens' polars code per partition, Dask's group-by to merge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens.engines import _partial

Partial = Callable[[pl.DataFrame], pl.DataFrame]


def corridor_panel(frame: Any, spec: _partial.PanelSpec) -> pl.DataFrame:
    """Aggregate a Dask DataFrame of clean flows into the corridor panel (a polars frame)."""
    source = frame[spec.input_columns]
    keys = spec.keys
    spread = max(1, source.npartitions // 2)  # output partitions of shuffles by a finer key

    def each_partition(partial: Partial) -> Any:
        def apply(pdf: Any) -> Any:
            return partial(pl.from_pandas(pdf)).to_pandas()

        return source.map_partitions(apply, meta=apply(source._meta))

    def merged(parts: Any, group: list[str]) -> pl.DataFrame:
        summed = parts.groupby(group, dropna=False).sum(split_out=1).reset_index()
        return _partial.normalised(pl.from_pandas(summed.compute()), spec)

    sums = merged(each_partition(lambda f: _partial.partial_sums(f, spec)), keys)
    median = senders = top = None
    if "median" in spec.stats:
        bins = merged(
            each_partition(lambda f: _partial.partial_bins(f, spec)), [*keys, _partial.BIN]
        )
        targets = _partial.median_targets(bins, spec)
        values = merged(
            each_partition(lambda f: _partial.partial_bin_values(f, spec, targets)),
            [*keys, _partial.BIN, _partial.VALUE],
        )
        median = _partial.medians(targets, values, spec)
    if "senders" in spec.stats:
        pairs = each_partition(lambda f: _partial.partial_senders(f, spec))
        distinct = pairs.drop_duplicates(split_out=spread)
        counted = distinct.groupby(keys, dropna=False).size(split_out=1).rename("n_senders")
        senders = _partial.normalised(pl.from_pandas(counted.reset_index().compute()), spec)
        senders = senders.with_columns(pl.col("n_senders").cast(pl.Int64))
    if "top_senders" in spec.stats:
        totals = each_partition(lambda f: _partial.partial_sender_totals(f, spec))
        complete = (
            totals.groupby([*keys, fs.SENDER_ID], dropna=False).sum(split_out=spread).reset_index()
        )
        best = complete.map_partitions(
            lambda pdf: _partial.top_three(pl.from_pandas(pdf), spec).to_pandas(),
            meta=_partial.top_three(pl.from_pandas(complete._meta), spec).to_pandas(),
        )
        best_rows = _partial.normalised(pl.from_pandas(best.compute()), spec)
        top = _partial.top_sender_columns(best_rows, spec)
    return _partial.finish(sums, spec, median=median, senders=senders, top=top)
