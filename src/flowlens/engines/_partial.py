"""Engine-neutral pieces of a distributed corridor panel, in polars.

A distributed engine (Spark, Dask) runs the per-partition functions here on each
of its partitions (as Arrow), merges their outputs with its own group-by (sums of
sums and counts, which merge exactly), and hands the small merged tables back to
the ``finish`` functions. Every merge is keyed by the cell *and* something finer
(a partition, a value bin, a sender), so a corridor holding most of the rows
(USA -> MEX) never lands whole on one task.

Exact medians take two passes over the data:

1. per cell and *value bin* (the top 20 bits of the amount's order-preserving bit
   pattern: about 0.4% wide), a count; merged by sum, these locate the bin that
   holds each middle rank;
2. per cell, the distinct amounts inside those one or two bins with their counts;
   merged by sum, the median is read off by rank, exactly.

The second pass moves a tiny share of the rows (those within 0.4% of the median).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens.freq import period_expr
from flowlens.schema import TOP_SENDER_COLUMNS

BIN_SHIFT = 44
"""Amounts are binned by their order-preserving 64-bit pattern shifted right by this:
sign, exponent and 8 mantissa bits, so a bin spans a relative width of 2**-8."""

SUM, COUNT, FEE, BIN, N, VALUE, SENDER_USD = (
    "_fl_sum",
    "_fl_count",
    "_fl_fee",
    "_fl_bin",
    "_fl_n",
    "_fl_value",
    "_fl_sender_usd",
)

_CANONICAL_ENUMS = {
    fs.ORIGIN: fs.COUNTRY_ENUM,
    fs.DESTINATION: fs.COUNTRY_ENUM,
    fs.FLOW_TYPE: fs.FLOW_TYPE_ENUM,
    fs.CHANNEL: fs.CHANNEL_ENUM,
}


def stat_columns(value: str) -> dict[str, str]:
    """The output column of each statistic of a panel summing ``value``.

    The names derive from ``value``: ``value="amount"`` gives ``amount``,
    ``amount_mean`` and ``amount_median`` (never a USD label on a non-USD sum).
    """
    return {
        "sum": value,
        "count": fs.N_TRANSFERS,
        "mean": f"{value}_mean",
        "median": f"{value}_median",
        "fees": fs.FEE_USD,
        "cost_ratio": fs.COST_RATIO,
        "senders": fs.N_SENDERS,
    }


@dataclass(frozen=True)
class PanelPlan:
    """What :func:`flowlens.corridor_panel` was asked for, for an engine to carry out.

    ``renames`` maps source column names to canonical ones (the ``columns``
    argument); every other name here (``by``, ``value``, the keys) is canonical.
    """

    freq: str
    by: tuple[str, ...]
    stats: tuple[str, ...]
    value: str = fs.AMOUNT_USD
    renames: tuple[tuple[str, str], ...] = ()

    @property
    def keys(self) -> list[str]:
        return [fs.PERIOD, fs.ORIGIN, fs.DESTINATION, *self.by]

    @property
    def needs_fees(self) -> bool:
        return "fees" in self.stats or "cost_ratio" in self.stats

    @property
    def needs_senders(self) -> bool:
        return "senders" in self.stats or "top_senders" in self.stats

    @property
    def canonical_columns(self) -> list[str]:
        """The columns the panel reads, by their canonical names."""
        columns = [fs.DATE, fs.ORIGIN, fs.DESTINATION, self.value, *self.by]
        if self.needs_fees:
            columns.append(fs.FEE_USD)
        if self.needs_senders:
            columns.append(fs.SENDER_ID)
        return list(dict.fromkeys(columns))

    @property
    def input_columns(self) -> list[str]:
        """The columns the panel reads, by their names in the source."""
        to_source = {canonical: source for source, canonical in self.renames}
        return [to_source.get(c, c) for c in self.canonical_columns]

    def canonical(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the source columns renamed to their canonical names."""
        present = set(frame.columns)
        return frame.rename({s: c for s, c in self.renames if s in present and s != c})


def normalised(frame: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Key columns as the partial functions make them (engines hand back other types)."""
    return frame.with_columns(
        pl.col(fs.PERIOD).cast(pl.Date), *(pl.col(k).cast(pl.String) for k in plan.keys[1:])
    )


def _keyed(frame: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    return plan.canonical(frame).with_columns(
        period_expr(fs.DATE, freq=plan.freq).alias(fs.PERIOD),
        *(pl.col(k).cast(pl.String) for k in plan.keys[1:]),
    )


def partial_sums(frame: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Per cell: the amount's sum, the row count and (if asked) the fees' sum."""
    aggs = [pl.col(plan.value).sum().alias(SUM), pl.len().cast(pl.Int64).alias(COUNT)]
    if plan.needs_fees:
        aggs.append(pl.col(fs.FEE_USD).sum().alias(FEE))
    return _keyed(frame, plan).group_by(plan.keys).agg(aggs)


def _bins(values: pl.Series) -> pl.Series:
    """An order-preserving integer bin of each (non-null) float."""
    bits = np.ascontiguousarray(values.cast(pl.Float64).to_numpy()).view(np.int64)
    # negative floats order backwards as integers: flip their magnitude bits
    ordered = np.where(bits < 0, bits ^ np.int64(0x7FFF_FFFF_FFFF_FFFF), bits)
    return pl.Series(BIN, ordered >> BIN_SHIFT)


def partial_bins(frame: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Median pass 1: per cell and value bin, how many amounts."""
    keyed = _keyed(frame, plan).filter(pl.col(plan.value).is_not_null())
    keyed = keyed.with_columns(_bins(keyed[plan.value]))
    return keyed.group_by(*plan.keys, BIN).agg(pl.len().cast(pl.Int64).alias(N))


def median_targets(bins: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """The bin holding each middle rank of each cell, and how many amounts lie below it.

    One row per cell and middle rank (``_fl_rank`` 0 or 1: for an odd count both are
    the same rank).
    """
    keys = plan.keys
    ordered = bins.sort(*keys, BIN).with_columns(
        _fl_upto=pl.col(N).cum_sum().over(keys), _fl_total=pl.col(N).sum().over(keys)
    )
    ranks = []
    for which, rank in ((0, (pl.col("_fl_total") - 1) // 2), (1, pl.col("_fl_total") // 2)):
        holding = ordered.filter(pl.col("_fl_upto") > rank).group_by(keys, maintain_order=True)
        ranks.append(
            holding.first().select(
                *keys,
                BIN,
                _fl_rank=pl.lit(which, pl.Int8),
                _fl_target=rank,
                _fl_below=pl.col("_fl_upto") - pl.col(N),
            )
        )
    return pl.concat(ranks)


def partial_bin_values(frame: pl.DataFrame, plan: PanelPlan, targets: pl.DataFrame) -> pl.DataFrame:
    """Median pass 2: per cell, the distinct amounts inside its target bins, with counts."""
    keyed = _keyed(frame, plan).filter(pl.col(plan.value).is_not_null())
    keyed = keyed.with_columns(_bins(keyed[plan.value]))
    wanted = normalised(targets.select(*plan.keys, BIN).unique(), plan)
    inside = keyed.join(wanted, on=[*plan.keys, BIN], how="semi")
    return inside.group_by(*plan.keys, BIN, pl.col(plan.value).alias(VALUE)).agg(
        pl.len().cast(pl.Int64).alias(N)
    )


def medians(targets: pl.DataFrame, values: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Each cell's exact median from its middle ranks' bins (the mean of two for an even count)."""
    keys = plan.keys
    ordered = values.sort(*keys, BIN, VALUE).with_columns(
        _fl_upto=pl.col(N).cum_sum().over(*keys, BIN)
    )
    at_rank = (
        targets.join(ordered, on=[*keys, BIN])
        .filter(pl.col("_fl_below") + pl.col("_fl_upto") > pl.col("_fl_target"))
        .sort(*keys, "_fl_rank", VALUE)
        .group_by(*keys, "_fl_rank", maintain_order=True)
        .first()
    )
    return at_rank.group_by(keys).agg(
        pl.col(VALUE).mean().alias(stat_columns(plan.value)["median"])
    )


def partial_senders(frame: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Per cell, its distinct senders (a null sender is one more, as in ``n_unique``)."""
    return _keyed(frame, plan).select(*plan.keys, fs.SENDER_ID).unique()


def partial_sender_totals(frame: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Per cell and sender, the amount.

    Merged by the engine on (cell, sender), each sender's total is complete in one
    partition, and partitions split a large cell by sender: the top three of each
    partition (:func:`top_three`) hold the cell's top three, exactly.
    """
    return (
        _keyed(frame, plan)
        .group_by(*plan.keys, fs.SENDER_ID)
        .agg(pl.col(plan.value).sum().alias(SENDER_USD))
    )


def top_three(totals: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Within each cell, the three largest sender totals (rows, not a list)."""
    return (
        totals.sort(SENDER_USD, descending=True)
        .group_by(plan.keys, maintain_order=True)
        .head(len(TOP_SENDER_COLUMNS))
        .select(*plan.keys, SENDER_USD)
    )


def top_sender_columns(top: pl.DataFrame, plan: PanelPlan) -> pl.DataFrame:
    """Each cell's three largest sender totals as :data:`TOP_SENDER_COLUMNS`."""
    best = top_three(top, plan)
    ranked = best.with_columns(_fl_place=pl.int_range(pl.len()).over(plan.keys))
    return ranked.group_by(plan.keys).agg(
        pl.col(SENDER_USD).filter(pl.col("_fl_place") == i).first().fill_null(0.0).alias(name)
        for i, name in enumerate(TOP_SENDER_COLUMNS)
    )


def finish(
    sums: pl.DataFrame,
    plan: PanelPlan,
    *,
    median: pl.DataFrame | None = None,
    senders: pl.DataFrame | None = None,
    top: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The panel, with the columns, order and canonical key types of the local path."""
    keys = plan.keys
    panel = sums
    for extra in (median, senders, top):
        if extra is not None:
            panel = panel.join(extra, on=keys, how="left", nulls_equal=True)
    names = stat_columns(plan.value)
    stats = plan.stats
    made = {
        "sum": pl.col(SUM),
        "count": pl.col(COUNT),
        "mean": pl.col(SUM) / pl.col(COUNT),
        "median": pl.col(names["median"]),
        "fees": pl.col(FEE),
        "cost_ratio": pl.col(FEE) / pl.col(SUM),
        "senders": pl.col(fs.N_SENDERS),
    }
    wanted = [s for s in made if s in stats or (s == "fees" and plan.needs_fees)]
    columns = [made[s].alias(names[s]) for s in wanted]
    if "top_senders" in stats:
        columns.extend(pl.col(c).fill_null(0.0) for c in TOP_SENDER_COLUMNS)
    typed = [
        pl.col(k).cast(_CANONICAL_ENUMS[k]) if _fits(panel[k], k) else pl.col(k) for k in keys[1:]
    ]
    return panel.select(pl.col(fs.PERIOD).cast(pl.Date), *typed, *columns).sort(keys)


def _fits(values: pl.Series, column: str) -> bool:
    """Whether a key column's values all belong to its canonical vocabulary."""
    enum = _CANONICAL_ENUMS.get(column)
    if enum is None:
        return False
    return bool(values.drop_nulls().cast(pl.String).is_in(enum.categories.implode()).all())
