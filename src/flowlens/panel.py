"""The corridor panel: clean transactions -> one row per (period, origin, destination, *by).

The transaction table can be far larger than memory; the panel is small
(countries x countries x periods). The aggregation is one lazy group-by: a
LazyFrame in gives a LazyFrame out, and an in-memory frame is collected once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError

__all__ = ["FREQ_ALIASES", "STATS", "TOP_SENDER_COLUMNS", "corridor_panel", "period_expr"]

FREQ_ALIASES: dict[str, str] = {
    "day": "1d",
    "daily": "1d",
    "d": "1d",
    "week": "1w",
    "weekly": "1w",
    "w": "1w",
    "month": "1mo",
    "monthly": "1mo",
    "m": "1mo",
    "quarter": "1q",
    "quarterly": "1q",
    "q": "1q",
    "year": "1y",
    "yearly": "1y",
    "annual": "1y",
    "y": "1y",
}
"""Readable names for the period lengths; any polars duration such as ``"2w"`` works too."""

STATS = ("sum", "count", "mean", "median", "fees", "cost_ratio", "senders", "top_senders")
"""Statistics :func:`corridor_panel` can compute. ``sum`` -> ``amount_usd``, ``count`` ->
``n_transfers``, ``mean`` -> ``amount_usd_mean``, ``median`` -> ``amount_usd_median``
(exact), ``fees`` -> ``fee_usd``, ``cost_ratio`` -> ``fee_usd`` and ``cost_ratio`` (fees /
amount), ``senders`` -> ``n_senders`` (distinct ``sender_id``), ``top_senders`` ->
:data:`TOP_SENDER_COLUMNS`, the amounts of the cell's largest senders (for
:func:`flowlens.privacy.suppress_small_cells`; never publish them)."""

TOP_SENDER_COLUMNS = ("sender_top1_usd", "sender_top2_usd", "sender_top3_usd")
"""The ``top_senders`` statistic: each cell's largest per-sender totals, largest first,
0.0 where the cell has fewer senders. Rows without a ``sender_id`` count as one sender
(they may all be one person)."""

_DURATION = re.compile(r"^\d+(d|w|mo|q|y)$")


def period_expr(date: str | pl.Expr = fs.DATE, *, freq: str = "1mo") -> pl.Expr:
    """The start date of the period that contains ``date`` (weeks start on Monday).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.panel import period_expr
    >>> df = pl.DataFrame({"date": [dt.date(2024, 5, 17)]})
    >>> df.select(q=period_expr(freq="quarter"), w=period_expr(freq="1w")).row(0)
    (datetime.date(2024, 4, 1), datetime.date(2024, 5, 13))
    """
    every = _normalise_freq(freq)
    e = pl.col(date) if isinstance(date, str) else date
    return e.dt.truncate(every).cast(pl.Date)


_PACKED = "__flowlens_key"
_PLACEHOLDER = "__flowlens_count"
_CALENDAR_UNITS = {"1mo": 1, "1q": 3, "1y": 12}  # months per period


@dataclass(frozen=True)
class _PackedKey:
    """All group keys packed into one Int64, when every key is an Enum (as in clean flows).

    Hashing one integer instead of four columns makes the corridor group-by about
    a third faster (10M rows, 2 cores). Digits, most significant first: the
    period (a month index for month/quarter/year, else days since 1970), then each
    Enum's physical index + 1 (0 stands for null). Floor division decodes it,
    negative periods (before 1970) included.
    """

    key: pl.Expr
    decoded: tuple[pl.Expr, ...]

    @classmethod
    def build(
        cls, schema: pl.Schema, date_col: str, every: str, enum_cols: Sequence[str]
    ) -> _PackedKey | None:
        dtypes = [schema[c] for c in enum_cols]
        enums = [d for d in dtypes if isinstance(d, pl.Enum)]
        if len(enums) != len(dtypes):
            return None
        radices = [len(d.categories) + 1 for d in enums]
        if math.prod(radices) > 2**40:  # leaves over 20 bits for the period: no overflow
            return None
        date = pl.col(date_col)
        months = _CALENDAR_UNITS.get(every)
        is_date = schema[date_col] == pl.Date
        if months is not None:
            if is_date:
                month_index = _month_index(date)
            else:
                month_index = (
                    date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1
                )
            period_code = month_index.floordiv(months)
        elif every == "1d" and is_date:
            period_code = date.cast(pl.Int32).cast(pl.Int64)
        else:
            period_code = date.dt.truncate(every).cast(pl.Date).cast(pl.Int64)
        key = period_code
        for column, radix in zip(enum_cols, radices, strict=True):
            key = key * radix + (pl.col(column).to_physical().cast(pl.Int64) + 1).fill_null(0)
        packed = pl.col(_PACKED)
        decoded: list[pl.Expr] = []
        divisor = 1
        for column, dtype, radix in reversed(list(zip(enum_cols, enums, radices, strict=True))):
            digit = packed.floordiv(divisor) % radix - 1
            categories = dtype.categories
            decoded.append(
                digit.replace_strict(
                    list(range(len(categories))), categories, default=None, return_dtype=dtype
                ).alias(column)
            )
            divisor *= radix
        period = packed.floordiv(divisor)
        if months is not None:
            month_index = period * months
            period_date = pl.date(month_index.floordiv(12), month_index % 12 + 1, 1)
        else:
            period_date = period.cast(pl.Int32).cast(pl.Date)
        return cls(key, (period_date.alias("period"), *reversed(decoded)))


_CYCLE_DAYS, _CYCLE_MONTHS = 146_097, 4_800  # the Gregorian calendar repeats every 400 years
_CYCLE_START = dt.date(2000, 1, 1)


@cache
def _months_in_cycle() -> pl.Series:
    """Month index (months since 2000-01) of each day of the 400 years from 2000-01-01."""
    days = pl.date_range(_CYCLE_START, dt.date(2399, 12, 31), "1d", eager=True)
    return (days.dt.year().cast(pl.Int32) - 2000) * 12 + days.dt.month().cast(pl.Int32) - 1


def _month_index(date: pl.Expr) -> pl.Expr:
    """Months since year 0 (year * 12 + month - 1) of a Date, exact for every date polars
    represents (years -262,144 to 262,143, where days and months fit 32 bits).

    A lookup in one 400-year cycle of the calendar plus 4,800 months per whole cycle:
    several times faster than ``dt.year()`` and ``dt.month()`` (measured at 50M rows:
    0.06 s against 0.33 s of arithmetic, the scan apart), which was a quarter of a
    monthly panel's time.
    """
    offset = date.cast(pl.Int32) - (_CYCLE_START - dt.date(1970, 1, 1)).days
    cycles = offset.floordiv(_CYCLE_DAYS)
    within = pl.lit(_months_in_cycle()).gather(offset - cycles * _CYCLE_DAYS)
    return (within + cycles * _CYCLE_MONTHS + _CYCLE_START.year * 12).cast(pl.Int64)


def _normalise_freq(freq: str) -> str:
    every = FREQ_ALIASES.get(freq.strip().lower(), freq.strip().lower())
    if not _DURATION.match(every):
        msg = (
            f"freq {freq!r} is not a period length; use one of "
            f"{sorted(set(FREQ_ALIASES))} or a polars duration such as '1mo', '2w', '1q'"
        )
        raise SchemaError(msg)
    return every


def corridor_panel(
    flows: Any,
    *,
    freq: str = "1mo",
    by: Sequence[str] = (fs.FLOW_TYPE,),
    stats: Sequence[str] = ("sum", "count"),
    date_col: str = fs.DATE,
    origin_col: str = fs.ORIGIN,
    destination_col: str = fs.DESTINATION,
    amount_col: str = fs.AMOUNT_USD,
    spill_dir: str | Path | None = None,
    spill_partitions: int = 16,
    progress: bool = False,
) -> Any:
    """Aggregate clean transactions into a corridor panel.

    Parameters
    ----------
    flows
        Clean flows: a :class:`~flowlens.ValidationReport` (or
        :class:`~flowlens.EngineValidationReport`), a polars DataFrame or
        LazyFrame, or a pyarrow Table, with at least the date, origin, destination
        and ``amount_usd`` columns (as :func:`~flowlens.load_flows` produces). A
        PySpark or Dask DataFrame is aggregated on its engine (extras ``spark``,
        ``dask``; see :mod:`flowlens.engines`), and a polars DataFrame comes back.
    freq
        Period length: ``day``, ``week`` (Monday start), ``month``, ``quarter``,
        ``year`` or a polars duration (``"1mo"``, ``"2w"``).
    by
        Further keys after (period, origin, destination): ``flow_type`` by
        default; add ``channel`` for a channel split, or pass ``()``.
    stats
        Any of :data:`STATS`. ``median`` is exact, and the most expensive: ask for
        it only when you need it.
    spill_dir, spill_partitions
        Where and in how many hash partitions a lazy input's exact medians are
        computed (see Notes). Default: the system temporary directory, 16.
    progress
        For a lazy input with ``median``: a progress bar over the spill and the
        partitions (the other aggregates are one streaming query, with no steps
        to report).

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        One row per (period, origin, destination, *by), sorted by those keys; a
        LazyFrame if ``flows`` was lazy (nothing is computed until you collect).
        The total of ``amount_usd`` equals the total of the input.

    Notes
    -----
    With a median over a lazy input, holding every group's values in one
    in-memory group-by would take about 60 bytes per row (3.5 GB at 50M rows).
    Instead the one streaming pass writes (group key, values) to
    ``spill_partitions`` Arrow IPC files split by a hash of the group key, in a
    temporary directory removed afterwards, and each partition is then
    aggregated on its own: exact, with a peak near 1/16 of that (0.3 GB at 50M
    rows, 2 cores), at the cost of writing the values once (16 bytes per row of
    disk per value column: 4.8 GB for 300M rows; point ``spill_dir`` at a disk
    with room).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import flowlens as fl
    >>> flows = pl.DataFrame({
    ...     "date": [dt.date(2024, 1, 3), dt.date(2024, 1, 20), dt.date(2024, 2, 1)],
    ...     "origin": ["USA", "USA", "USA"],
    ...     "destination": ["MEX", "MEX", "MEX"],
    ...     "flow_type": ["remittance"] * 3,
    ...     "amount_usd": [100.0, 300.0, 50.0],
    ... })
    >>> fl.corridor_panel(flows, stats=("sum", "count", "median")).rows()
    [(datetime.date(2024, 1, 1), 'USA', 'MEX', 'remittance', 400.0, 2, 200.0),
     (datetime.date(2024, 2, 1), 'USA', 'MEX', 'remittance', 50.0, 1, 50.0)]
    """
    from flowlens.engines import engine_of
    from flowlens.engines._validation import EngineValidationReport
    from flowlens.io import as_lazy
    from flowlens.validate import ValidationReport

    if isinstance(flows, ValidationReport | EngineValidationReport):
        flows = flows.clean
    unknown = [s for s in stats if s not in STATS]
    if unknown or not stats:
        msg = f"stats {list(stats)} not usable; choose from {list(STATS)}"
        raise SchemaError(msg)
    _normalise_freq(freq)  # a bad freq fails here, before any engine or scan starts
    engine = engine_of(flows)
    if engine is not None:
        return _on_engine(
            flows,
            engine,
            freq=freq,
            by=by,
            stats=stats,
            date_col=date_col,
            origin_col=origin_col,
            destination_col=destination_col,
            amount_col=amount_col,
        )
    source = as_lazy(flows)
    frame = source.frame
    schema = frame.collect_schema()
    if spill_partitions < 1:
        msg = f"spill_partitions must be >= 1, got {spill_partitions}"
        raise SchemaError(msg)
    needed = [date_col, origin_col, destination_col, amount_col, *by]
    if "fees" in stats or "cost_ratio" in stats:
        needed.append(fs.FEE_USD)
    if "senders" in stats or "top_senders" in stats:
        needed.append(fs.SENDER_ID)
    for column in needed:
        if column not in schema:
            error = MissingColumnError.for_column(column, schema.names())
            if column in (fs.AMOUNT_USD, fs.FEE_USD):
                error = MissingColumnError(
                    f"{error} Run flowlens.load_flows first: it adds {column!r}.",
                    column=column,
                    present=list(schema.names()),
                )
            raise error
    date_dtype = schema[date_col]
    if not (date_dtype == pl.Date or isinstance(date_dtype, pl.Datetime)):
        msg = f"column {date_col!r} has dtype {date_dtype}; run flowlens.load_flows to parse dates"
        raise SchemaError(msg)

    amount = pl.col(amount_col)
    aggs: list[pl.Expr] = []
    if "sum" in stats:
        aggs.append(amount.sum().alias(fs.AMOUNT_USD))
    if "count" in stats:
        aggs.append(pl.len().cast(pl.Int64).alias("n_transfers"))
    if "mean" in stats:
        aggs.append(amount.mean().alias("amount_usd_mean"))
    if "median" in stats:
        aggs.append(amount.median().alias("amount_usd_median"))
    if "fees" in stats or "cost_ratio" in stats:
        aggs.append(pl.col(fs.FEE_USD).sum().alias(fs.FEE_USD))
    if "cost_ratio" in stats:
        aggs.append((pl.col(fs.FEE_USD).sum() / amount.sum()).alias("cost_ratio"))
    if "senders" in stats:
        aggs.append(pl.col(fs.SENDER_ID).n_unique().cast(pl.Int64).alias("n_senders"))
    if not aggs:  # a group-by needs one aggregate; the count is dropped again below
        aggs.append(pl.len().alias(_PLACEHOLDER))

    keys = ["period", origin_col, destination_col, *by]
    top_senders = (
        _top_senders(frame, period_expr(date_col, freq=freq), keys, amount_col)
        if "top_senders" in stats
        else None
    )
    packed = _PackedKey.build(schema, date_col, _normalise_freq(freq), keys[1:])
    if packed is None:
        grouped = frame.group_by(period_expr(date_col, freq=freq).alias("period"), *keys[1:])
        panel = _with_top_senders(grouped.agg(aggs).sort(keys), top_senders, keys)
        return _finish(panel, eager=source.eager)
    panel = (
        frame.group_by(packed.key.alias(_PACKED))
        .agg(aggs)
        .sort(_PACKED)
        .select(*packed.decoded, pl.exclude(_PACKED))
    )
    if "median" in stats and not source.eager:
        inputs = [c for c in (amount_col, fs.FEE_USD, fs.SENDER_ID) if c in needed]
        output_schema = panel.collect_schema()
        spilled = partial(
            _spilled_panel,
            frame.select(packed.key.alias(_PACKED), *inputs),
            aggs=aggs,
            packed=packed,
            spill_dir=spill_dir,
            partitions=spill_partitions,
            schema=output_schema,
            progress=progress,
        )
        panel = pl.defer(spilled, schema=output_schema)
    return _finish(_with_top_senders(panel, top_senders, keys), eager=source.eager)


def _on_engine(
    flows: Any,
    engine: str,
    *,
    freq: str,
    by: Sequence[str],
    stats: Sequence[str],
    date_col: str,
    origin_col: str,
    destination_col: str,
    amount_col: str,
) -> pl.DataFrame:
    """The panel of a Spark or Dask DataFrame, computed on that engine (see flowlens.engines)."""
    from flowlens.engines import _partial

    spec = _partial.PanelSpec(
        freq=freq,
        by=tuple(by),
        stats=tuple(stats),
        date_col=date_col,
        origin_col=origin_col,
        destination_col=destination_col,
        amount_col=amount_col,
    )
    present = list(flows.columns)
    for column in spec.input_columns:
        if column not in present:
            raise MissingColumnError.for_column(column, present)
    if engine == "spark":
        from flowlens.engines import _spark

        return _spark.corridor_panel(flows, spec)
    from flowlens.engines import _dask

    return _dask.corridor_panel(flows, spec)


def _top_senders(
    frame: pl.LazyFrame, period: pl.Expr, keys: list[str], amount_col: str
) -> pl.LazyFrame:
    """Each cell's largest per-sender totals (a second group-by, per cell and sender)."""
    per_sender = frame.group_by(period.alias(keys[0]), *keys[1:], fs.SENDER_ID).agg(
        pl.col(amount_col).sum().alias("_sender_usd")
    )
    # top_k does not order what it returns (a group of up to k values comes back as is)
    top = pl.col("_sender_usd").top_k(len(TOP_SENDER_COLUMNS)).sort(descending=True)
    return per_sender.group_by(keys).agg(
        top.get(i, null_on_oob=True).fill_null(0.0).alias(name)
        for i, name in enumerate(TOP_SENDER_COLUMNS)
    )


def _with_top_senders(
    panel: pl.LazyFrame, top_senders: pl.LazyFrame | None, keys: list[str]
) -> pl.LazyFrame:
    if top_senders is None:
        return panel
    joined = panel.join(top_senders, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return joined.drop(_PLACEHOLDER, strict=False)


def _finish(panel: pl.LazyFrame, *, eager: bool) -> pl.DataFrame | pl.LazyFrame:
    return panel.collect() if eager else panel


_PARTITION = "__flowlens_part"


def _spilled_panel(
    keyed: pl.LazyFrame,
    *,
    aggs: list[pl.Expr],
    packed: _PackedKey,
    spill_dir: str | Path | None,
    partitions: int,
    schema: pl.Schema,
    progress: bool = False,
) -> pl.DataFrame:
    """Exact aggregates (medians included) via hash partitions spilled to disk (see Notes)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=partitions + 1, desc="panel medians", unit="step", disable=not progress)
    with bar, tempfile.TemporaryDirectory(prefix="flowlens-panel-", dir=spill_dir) as tmp:
        # Arrow IPC, uncompressed: written and read back about a third faster than Parquet
        # with LZ4 (measured at 50M rows: 2.8 s against 4.1 s), for twice the disk
        keyed.with_columns((pl.col(_PACKED).hash() % partitions).alias(_PARTITION)).sink_ipc(
            pl.PartitionBy(tmp, key=_PARTITION, include_key=False),
            engine="streaming",
            mkdir=True,
        )
        bar.update()  # the spill: the one pass over the input
        # one partition at a time, so that only one partition's values are in memory
        directories = sorted(Path(tmp).glob(f"{_PARTITION}=*"))  # empty buckets write nothing
        bar.total = 1 + len(directories)
        parts = []
        for directory in directories:
            parts.append(pl.scan_ipc(directory).group_by(_PACKED).agg(aggs).collect())
            bar.update()
    if not parts:
        return pl.DataFrame(schema=schema)
    combined = pl.concat(parts).sort(_PACKED)
    return combined.select(*packed.decoded, pl.exclude(_PACKED))
