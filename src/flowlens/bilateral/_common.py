"""Shared checks of the bilateral tables."""

from __future__ import annotations

from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import checked_table
from flowlens.errors import MissingColumnError, ParameterError

KEYS = (fs.ORIGIN, fs.DESTINATION)

_NUMBERS = {
    "totals": None,
    "estimate": None,
    "recorded": None,
    "records": None,
    "outflows": None,
    "inflows": None,
    "prior": None,
    "migrant_stock": "migrants",
    "weights": "weight",
    "host_income": "income",
}
"""The numeric column of each table (None: the ``value`` column), checked finite and >= 0."""


def table(source: Any, what: str, *columns: str) -> pl.DataFrame:
    """The table, eager, with its columns present, keys text and numbers finite and >= 0."""
    frame = from_any(source, what=what).eager()
    MissingColumnError.require(frame.columns, *columns, what=what)
    number = _NUMBERS.get(what) or columns[-1]
    keys = [c for c in columns if c != number]
    checked_table(frame, what=what, keys=keys, values=[number])
    return frame


def codes(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """``columns`` cast to text (ISO3 Enums and text compare alike)."""
    return frame.with_columns(pl.col(c).cast(pl.String) for c in columns)


def years_of(frame: pl.DataFrame, what: str) -> list[int]:
    """The distinct years of ``frame``'s ``period`` column (empty without one)."""
    if fs.PERIOD not in frame.columns:
        return []
    dtype = frame.schema[fs.PERIOD]
    if not dtype.is_temporal():
        msg = (
            f"{what}: column 'period' is {dtype}, expected a Date; cast it "
            f"(pl.col('period').str.to_date()) or drop it and pass year="
        )
        raise ParameterError(msg)
    return sorted(int(y) for y in frame[fs.PERIOD].dt.year().drop_nulls().unique())


def in_year(frame: pl.DataFrame, year: int | None) -> pl.DataFrame:
    """Rows of ``year`` when ``frame`` has a ``period`` column and a year is given."""
    if year is None or fs.PERIOD not in frame.columns:
        return frame
    return frame.filter(pl.col(fs.PERIOD).dt.year() == year)
