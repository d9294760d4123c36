"""Normalisation to US dollars: the FX table, checked and laid out for an array lookup.

A transfer is converted at the rate in force on its date: the latest rate on or
before that date, provided it is at most ``max_staleness_days`` old. The rates are
laid out on a calendar-day grid (forward-filled within that limit) and flattened
into one dense array indexed by (currency, day), so converting a row is an array
lookup (``gather``): no join, no sort, and the row order is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from flowlens.errors import MissingColumnError, ReferenceDataError
from flowlens.reference import currency_codes, fx_rates
from flowlens.schema import CURRENCY_ENUM

__all__ = ["DEFAULT_MAX_STALENESS_DAYS", "check_fx_table", "daily_fx_grid", "usd_per_unit"]

DEFAULT_MAX_STALENESS_DAYS = 7
"""A rate may be at most 7 days older than the transfer: covers ECB holiday gaps
(the longest run without a fixing, over Easter, is 4 days) and no more."""

FX_COLUMNS = ("date", "currency", "usd_per_unit")


def check_fx_table(fx: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Check a user FX table (``date``, ``currency``, ``usd_per_unit``) and return it typed.

    Raises :class:`~flowlens.errors.ReferenceDataError` naming the first bad value.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.normalise import check_fx_table
    >>> fx = pl.DataFrame({"date": [dt.date(2024, 1, 1)], "currency": ["eur"], "usd_per_unit": [1.1]})
    >>> check_fx_table(fx)["currency"].to_list()
    ['EUR']
    """
    frame = fx.collect() if isinstance(fx, pl.LazyFrame) else fx
    for column in FX_COLUMNS:
        if column not in frame.columns:
            raise MissingColumnError.for_column(column, frame.columns)
    date = pl.col("date")
    dtype = frame.schema["date"]
    if dtype == pl.String:
        date = date.str.to_date("%Y-%m-%d", strict=False)
    elif isinstance(dtype, pl.Datetime):
        date = date.dt.date()
    elif dtype != pl.Date:
        msg = f"FX table column 'date' has dtype {dtype}; use Date or ISO 'YYYY-MM-DD' text"
        raise ReferenceDataError(msg)
    typed = frame.select(
        date=date,
        currency=pl.col("currency").cast(pl.String).str.strip_chars().str.to_uppercase(),
        usd_per_unit=pl.col("usd_per_unit").cast(pl.Float64, strict=False),
    )
    bad_date = typed.filter(pl.col("date").is_null())
    if bad_date.height:
        msg = "FX table column 'date' has values that are not dates; use ISO 'YYYY-MM-DD'"
        raise ReferenceDataError(msg)
    unknown = typed.filter(~pl.col("currency").is_in(currency_codes()))
    if unknown.height:
        value = unknown["currency"][0]
        msg = f"FX table column 'currency' has unknown ISO 4217 code {value!r}; fix or drop those rows"
        raise ReferenceDataError(msg)
    bad_rate = typed.filter(
        pl.col("usd_per_unit").is_null()
        | ~pl.col("usd_per_unit").is_finite()
        | (pl.col("usd_per_unit") <= 0)
    )
    if bad_rate.height:
        row = bad_rate.row(0, named=True)
        msg = (
            f"FX table column 'usd_per_unit' must be a positive number; found "
            f"{row['usd_per_unit']!r} for {row['currency']} on {row['date']}"
        )
        raise ReferenceDataError(msg)
    duplicated = typed.filter(pl.len().over("date", "currency") > 1)
    if duplicated.height:
        row = duplicated.row(0, named=True)
        msg = (
            f"FX table has several rates for {row['currency']} on {row['date']}; "
            "keep one rate per currency and date"
        )
        raise ReferenceDataError(msg)
    return typed.with_columns(pl.col("currency").cast(CURRENCY_ENUM))


def daily_fx_grid(
    fx: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    max_staleness_days: int = DEFAULT_MAX_STALENESS_DAYS,
) -> pl.DataFrame:
    """Lay rates on a calendar-day grid: each day carries the latest rate at most N days old.

    Parameters
    ----------
    fx
        ``date``, ``currency``, ``usd_per_unit``; None for the packaged ECB-derived
        table (see :func:`flowlens.reference.fx_coverage`).
    max_staleness_days
        How many days a rate stays in force after its date. Daily tables want a
        few days (weekends and holidays); a monthly table wants 31.

    Returns
    -------
    polars.DataFrame
        ``date`` (Date), ``currency`` (Enum), ``usd_per_unit``, ``rate_date``,
        one row per currency and calendar day.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.normalise import daily_fx_grid
    >>> fx = pl.DataFrame({"date": [dt.date(2024, 1, 5)], "currency": ["EUR"], "usd_per_unit": [1.09]})
    >>> grid = daily_fx_grid(fx, max_staleness_days=2)
    >>> grid["date"].to_list()
    [datetime.date(2024, 1, 5), datetime.date(2024, 1, 6), datetime.date(2024, 1, 7)]
    """
    if max_staleness_days < 0:
        msg = f"max_staleness_days must be >= 0, got {max_staleness_days}"
        raise ReferenceDataError(msg)
    if fx is None:
        return _default_grid(max_staleness_days)
    return _grid(check_fx_table(fx), max_staleness_days)


@cache
def _default_grid(max_staleness_days: int) -> pl.DataFrame:
    packaged = fx_rates().select("date", pl.col("currency").cast(CURRENCY_ENUM), "usd_per_unit")
    return _grid(packaged, max_staleness_days)


def _grid(rates: pl.DataFrame, max_staleness_days: int) -> pl.DataFrame:
    spans = rates.group_by("currency").agg(
        date=pl.date_ranges(
            pl.col("date").min(),
            pl.col("date").max() + pl.duration(days=max_staleness_days),
            interval="1d",
        ).first()
    )
    days = spans.explode("date")
    return (
        days.join(rates.with_columns(rate_date="date"), on=["currency", "date"], how="left")
        .sort("currency", "date")
        .with_columns(
            pl.col("usd_per_unit", "rate_date")
            .forward_fill(limit=max_staleness_days)
            .over("currency")
        )
        .drop_nulls("usd_per_unit")
        .select("date", "currency", "usd_per_unit", "rate_date")
    )


@dataclass(frozen=True)
class _DenseRates:
    """Rates flattened by (currency position in CURRENCY_ENUM, day since ``first_day``)."""

    values: pl.Series
    first_day: int  # days since 1970-01-01
    n_days: int


def _dense(grid: pl.DataFrame) -> _DenseRates:
    first_day = int(grid.select(pl.col("date").min().cast(pl.Int32)).item())
    last_day = int(grid.select(pl.col("date").max().cast(pl.Int32)).item())
    n_days = last_day - first_day + 1
    n_currencies = len(CURRENCY_ENUM.categories)
    position = (
        grid["currency"].cast(CURRENCY_ENUM).to_physical().cast(pl.Int64) * n_days
        + grid["date"].cast(pl.Int32).cast(pl.Int64)
        - first_day
    )
    values = pl.Series("usd_per_unit", [None] * (n_currencies * n_days), dtype=pl.Float64).scatter(
        position, grid["usd_per_unit"]
    )
    return _DenseRates(values, first_day, n_days)


@cache
def _default_dense(max_staleness_days: int) -> _DenseRates:
    return _dense(_default_grid(max_staleness_days))


def usd_per_unit(
    date: pl.Expr,
    currency: pl.Expr,
    fx: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    max_staleness_days: int = DEFAULT_MAX_STALENESS_DAYS,
) -> pl.Expr:
    """US dollars per unit of ``currency`` on ``date`` (null where no rate is in force).

    Parameters
    ----------
    date
        A Date expression (take ``.dt.date()`` of a Datetime first).
    currency
        An expression of dtype :data:`flowlens.schema.CURRENCY_ENUM`.
    fx, max_staleness_days
        As in :func:`daily_fx_grid`.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.normalise import usd_per_unit
    >>> from flowlens.schema import CURRENCY_ENUM
    >>> df = pl.DataFrame({"d": [dt.date(2020, 3, 2), dt.date(1990, 1, 1)], "c": ["EUR", "EUR"]})
    >>> df.select(usd_per_unit(pl.col("d"), pl.col("c").cast(CURRENCY_ENUM))).to_series().to_list()
    [1.1122, None]
    """
    if max_staleness_days < 0:
        msg = f"max_staleness_days must be >= 0, got {max_staleness_days}"
        raise ReferenceDataError(msg)
    dense = (
        _default_dense(max_staleness_days)
        if fx is None
        else _dense(_grid(check_fx_table(fx), max_staleness_days))
    )
    day = date.cast(pl.Int32).cast(pl.Int64) - dense.first_day
    key = currency.to_physical().cast(pl.Int64) * dense.n_days + day
    in_range = (day >= 0) & (day < dense.n_days)
    return pl.lit(dense.values).gather(pl.when(in_range).then(key))
