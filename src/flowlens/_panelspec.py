"""What a panel is: its frequency, its value column and its keys.

A corridor panel is a plain polars frame (one row per period and key), so that
every polars operation works on it. What it *is* lives in the data itself, and is
read back by :func:`panel_spec`:

- the frequency, from the ``period`` column: periods are period starts, and their
  spacing and alignment say how long a period is (:func:`flowlens.freq.infer_freq`);
  a ``freq`` argument that contradicts them raises;
- the value column: ``amount_usd`` unless the caller names another (``value=``);
- the keys: every text, Enum or Categorical column after ``period`` (``origin``,
  ``destination``, then whatever ``by`` added).

Nothing is stored beside the frame, so a spec cannot go stale when the frame is
filtered, joined or written and read back. Results of the analyses carry the
spec they were computed with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import MissingColumnError, SchemaError
from flowlens.freq import resolve_freq

__all__ = ["PanelSpec", "panel_spec"]

_KEY_DTYPES = (pl.String, pl.Enum, pl.Categorical)


@dataclass(frozen=True)
class PanelSpec:
    """The settings a panel was built with, as read from it (see :func:`panel_spec`).

    Attributes
    ----------
    freq
        The period length, normalised (``"1mo"``, ``"1q"``, ``"1y"``, ``"1d"``).
    value
        The measured column (``amount_usd`` by default).
    keys
        The key columns after ``period``, in the panel's order.
    n_periods
        Distinct periods in the panel.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import flowlens as fl
    >>> panel = pl.DataFrame({
    ...     "period": [dt.date(2024, 1, 1), dt.date(2024, 4, 1)],
    ...     "origin": ["USA", "USA"], "destination": ["MEX", "MEX"],
    ...     "amount_usd": [10.0, 12.0],
    ... })
    >>> fl.panel_spec(panel)
    PanelSpec(freq='1q', value='amount_usd', keys=('origin', 'destination'), n_periods=2)
    """

    freq: str
    value: str = fs.AMOUNT_USD
    keys: tuple[str, ...] = (fs.ORIGIN, fs.DESTINATION)
    n_periods: int = field(default=0, compare=False)


def panel_spec(
    panel: Any,
    *,
    freq: str | None = None,
    value: str | None = None,
    what: str = "the panel",
    guess: bool = False,
) -> PanelSpec:
    """Read a panel's frequency, value column and keys from the panel itself.

    Parameters
    ----------
    panel
        A corridor panel: a ``period`` column of period starts (Date), key
        columns, and a numeric value column. Any polars, pandas or Arrow table;
        a LazyFrame reads only its distinct periods.
    freq
        What the caller says the frequency is; checked against the periods. None
        (the default) reads it from them.
    value
        The measured column. None: ``amount_usd``.
    what
        How error messages name the panel (``"detect_surges' panel"``).
    guess
        With one distinct period and no ``freq``: read it as the longest period its
        date starts (True, for uses where the length does not matter), or raise
        (False, the default; see :func:`flowlens.freq.resolve_freq`).

    Raises
    ------
    MissingColumnError
        No ``period`` column, or no value column.
    SchemaError
        ``period`` is not a date, the value column is not numeric, or rows repeat
        a (period, keys) cell: a panel has one row per period and key.
    ParameterError
        ``freq`` contradicts the periods (a quarterly panel given ``"1mo"``), or
        cannot be read from them (see ``guess``).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import flowlens as fl
    >>> months = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 6, 1), "1mo", eager=True)
    >>> panel = pl.DataFrame({"period": months, "destination": "MEX", "remitted": 1.0})
    >>> fl.panel_spec(panel, value="remitted")
    PanelSpec(freq='1mo', value='remitted', keys=('destination',), n_periods=6)
    >>> fl.panel_spec(panel, value="remitted", freq="quarter")
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: freq='quarter' contradicts the panel: its periods are 1mo apart (months). Pass freq='1mo', or leave freq out to read it from the periods.
    """
    frame = from_any(panel, what=what).frame
    schema = frame.collect_schema()
    MissingColumnError.require(schema.names(), fs.PERIOD)
    period_dtype = schema[fs.PERIOD]
    if not (period_dtype == pl.Date or isinstance(period_dtype, pl.Datetime)):
        msg = (
            f"{what}: column 'period' has dtype {period_dtype}, not a date; periods are the "
            "start dates of each period, as corridor_panel writes them. Parse text with "
            "pl.col('period').str.to_date()"
        )
        raise SchemaError(msg)
    value = _value_column(schema, value, what)
    keys = tuple(
        name
        for name, dtype in schema.items()
        if name != fs.PERIOD and isinstance(dtype, _KEY_DTYPES)
    )
    # one small query: the distinct periods, and how many rows repeat a cell
    cells = frame.select(
        pl.col(fs.PERIOD).unique().implode().alias("periods"),
        (pl.len() - pl.struct(fs.PERIOD, *keys).n_unique()).alias("repeated"),
    )
    facts = cells.collect() if isinstance(cells, pl.LazyFrame) else cells
    periods = facts["periods"].explode()
    if facts["repeated"].item():
        msg = (
            f"{what}: {facts['repeated'].item()} row(s) repeat a (period, "
            f"{', '.join(keys)}) cell; a panel has one row per period and key. Aggregate "
            "the rows (corridor_panel does) or drop the duplicates"
        )
        raise SchemaError(msg)
    every = resolve_freq(periods, freq, what=what, guess=guess)
    return PanelSpec(freq=every, value=value, keys=keys, n_periods=periods.drop_nulls().len())


def _value_column(schema: pl.Schema, value: str | None, what: str) -> str:
    name = fs.AMOUNT_USD if value is None else value
    if name not in schema:
        numeric = [c for c, dtype in schema.items() if dtype.is_numeric()]
        msg = (
            f"{what}: the value column {name!r} is missing; columns present: "
            f"{schema.names()}. Name the measured column with value=..."
            + (f" (numeric columns: {numeric})" if numeric else "")
        )
        raise MissingColumnError(msg, column=name, present=list(schema.names()))
    if not schema[name].is_numeric():
        msg = f"{what}: value column {name!r} has dtype {schema[name]}, not a number"
        raise SchemaError(msg)
    return name
