"""Dask: flowlens' polars code per partition; Dask's group-by merges the partial aggregates of
the corridor panel, and Dask numbers the rows for validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens.engines._partial import (
    BIN,
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


def corridor_panel(frame: Any, plan: PanelPlan) -> pl.DataFrame:
    """Aggregate a Dask DataFrame of clean flows into the corridor panel (a polars frame)."""
    from dask.base import compute

    source = frame[plan.input_columns]
    keys = plan.keys
    spread = max(1, source.npartitions // 2)  # output partitions of shuffles by a finer key

    def each_partition(partial: Partial) -> Any:
        def apply(pdf: Any) -> Any:
            return partial(pl.from_pandas(pdf)).to_pandas()

        return source.map_partitions(apply, meta=apply(source._meta))

    def summed(parts: Any, group: list[str]) -> Any:
        return parts.groupby(group, dropna=False).sum(split_out=1).reset_index()

    # everything but the medians' second pass in one run, which reads the input once
    wanted = {"sums": summed(each_partition(lambda f: partial_sums(f, plan)), keys)}
    if "median" in plan.stats:
        bins = each_partition(lambda f: partial_bins(f, plan))
        wanted["bins"] = summed(bins, [*keys, BIN])
    if "senders" in plan.stats:
        pairs = each_partition(lambda f: partial_senders(f, plan))
        distinct = pairs.drop_duplicates(split_out=spread)
        counted = distinct.groupby(keys, dropna=False).size(split_out=1).rename(fs.N_SENDERS)
        wanted["senders"] = counted.reset_index()
    if "top_senders" in plan.stats:
        totals = each_partition(lambda f: partial_sender_totals(f, plan))
        complete = (
            totals.groupby([*keys, fs.SENDER_ID], dropna=False).sum(split_out=spread).reset_index()
        )
        wanted["top"] = complete.map_partitions(
            lambda pdf: top_three(pl.from_pandas(pdf), plan).to_pandas(),
            meta=top_three(pl.from_pandas(complete._meta), plan).to_pandas(),
        )
    computed = dict(zip(wanted, compute(*wanted.values()), strict=True))  # type: ignore[no-untyped-call]
    got = {name: normalised(pl.from_pandas(pdf), plan) for name, pdf in computed.items()}
    median = senders = top = None
    if "median" in plan.stats:
        targets = median_targets(got["bins"], plan)
        values = each_partition(lambda f: partial_bin_values(f, plan, targets))
        merged = summed(values, [*keys, BIN, VALUE]).compute()
        median = medians(targets, normalised(pl.from_pandas(merged), plan), plan)
    if "senders" in plan.stats:
        senders = got["senders"].with_columns(pl.col(fs.N_SENDERS).cast(pl.Int64))
    if "top_senders" in plan.stats:
        top = top_sender_columns(got["top"], plan)
    return finish(got["sums"], plan, median=median, senders=senders, top=top)


def validate(frame: Any, spec: CheckSpec, tx_column: str | None) -> tuple[Any, Any, int]:
    """Clean rows and rejects of a Dask DataFrame (lazy, on Dask) and its row count."""
    import pandas as pd

    columns = list(frame.columns)
    sizes = frame.map_partitions(len).compute().to_numpy()
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def numbered(pdf: Any, partition_info: dict[str, Any] | None = None) -> Any:
        start = starts[partition_info["number"]] if partition_info else 0
        return pdf.assign(**{ROW: np.arange(start, start + len(pdf), dtype=np.int64)})

    positioned = frame.map_partitions(numbered, meta=numbered(frame._meta))
    if tx_column is not None:
        keyed = _each_partition(positioned, lambda f: with_tx_key(f, tx_column))
        ids = keyed[keyed[TX_KEY].notnull()]
        seen = ids.groupby(TX_KEY)[ROW].agg(["min", "count"], split_out=1)
        firsts = seen[seen["count"] > 1]["min"].astype(pd.Int64Dtype()).rename(FIRST)
        # one partition of repeated ids: each partition of rows is merged with it in place
        positioned = keyed.merge(
            firsts.reset_index(), on=TX_KEY, how="left", npartitions=keyed.npartitions
        )[[*columns, ROW, FIRST]]
    clean = _each_partition(positioned, spec.clean)
    rejects = _each_partition(positioned, spec.rejects)
    return clean, rejects, int(sizes.sum())


def polars_schema(frame: Any) -> pl.Schema:
    """The polars schema of a Dask DataFrame (from its metadata)."""
    return pl.from_pandas(frame._meta).schema


def describe(frame: Any) -> str:
    return f"a Dask DataFrame ({frame.npartitions} partitions)"


def rule_counts(rejects: Any) -> pl.DataFrame:
    """Rejected rows per rule (``rule``, ``n_rows``), counted on Dask."""
    counted = rejects.groupby("rule").size(split_out=1).rename("n_rows").reset_index()
    return pl.from_pandas(counted.compute())


def first_rows(rejects: Any, n: int) -> pl.DataFrame:
    # by value, not by partition: a written table's files may not list in row order
    return pl.from_pandas(rejects.nsmallest(n, "row").compute())


def total(frame: Any, column: str) -> float:
    return float(frame[column].sum().compute())


def write(frame: Any, path: str) -> Any:
    """Write ``frame`` as Parquet at ``path`` (which must not exist); the written table."""
    import dask.dataframe as dd
    from fsspec.core import url_to_fs

    filesystem, where = url_to_fs(path)
    if filesystem.exists(where):
        msg = f"{path} exists already; write the rejects to a new directory"
        raise FileExistsError(msg)
    frame.to_parquet(path, write_index=False)
    return dd.read_parquet(path)


def _each_partition(frame: Any, partial: Partial) -> Any:
    def apply(pdf: Any) -> Any:
        return partial(pl.from_pandas(pdf)).to_pandas(use_pyarrow_extension_array=True)

    return frame.map_partitions(apply, meta=apply(frame._meta))
