"""Bilateral estimation: allocate each country's recorded inflows across sending countries.

Most countries publish their remittance inflows as one total; who sends them is
estimated. Ratha and Shaw (2007) allocate the total by the stock of emigrants in
each host country (rule 1), or by that stock times the host country's income
(rule 2: migrants in richer countries send more).

References
----------
.. [1] D. Ratha and W. Shaw, "South-South Migration and Remittances", World Bank
   Working Paper 102, 2007.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import checked_table, input_errors
from flowlens.errors import MissingColumnError, ParameterError

__all__ = ["compare_bilateral", "estimate_bilateral"]

RULES = ("stock", "stock_income", "weights")
"""The allocation rules of :func:`estimate_bilateral`."""


_NUMBERS = {"totals": None, "estimate": None, "recorded": None, "migrant_stock": "migrants",
            "weights": "weight", "host_income": "income"}  # fmt: skip
"""The numeric column of each table (None: the ``value`` column), checked finite and >= 0."""


def _table(table: Any, what: str, *columns: str) -> pl.DataFrame:
    """The table, eager, with its columns present, keys text and numbers finite and >= 0."""
    frame = from_any(table, what=what).eager()
    MissingColumnError.require(frame.columns, *columns, what=what)
    number = _NUMBERS.get(what) or columns[-1]
    keys = [c for c in columns if c != number]
    checked_table(frame, what=what, keys=keys, values=[number])
    return frame


def _codes(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String) for c in columns)


@input_errors("estimate_bilateral")
def estimate_bilateral(
    totals: Any,
    migrant_stock: Any = None,
    *,
    rule: str = "stock",
    host_income: Any = None,
    weights: Any = None,
    value: str = fs.AMOUNT_USD,
) -> Any:
    """Allocate each receiving country's total inflows across sending countries.

    Parameters
    ----------
    totals
        ``destination`` (ISO3) and ``value``: each receiving country's recorded
        inflows (for example KNOMAD's annual inflows for one year). Every table
        argument may be any kind (polars, pandas, pyarrow, an Arrow stream).
    migrant_stock
        ``origin`` (host country, where migrants live and send from),
        ``destination`` (their country of origin) and ``migrants``, as
        :func:`flowlens.read_wb_migrant_stock` returns; for the ``stock`` rules.
    rule
        ``"stock"``: shares proportional to migrants (Ratha and Shaw, rule 1);
        ``"stock_income"``: migrants times the host country's income per head
        (rule 2; pass ``host_income``); ``"weights"``: your own ``weights``.
    host_income
        ``country`` and ``income`` (for example GDP per head), for rule 2 only.
    weights
        ``origin``, ``destination``, ``weight``: any allocation key, for
        ``rule="weights"`` only.
    value
        The column of ``totals`` to allocate (default ``amount_usd``); the
        result names its allocated amounts the same.

    Returns
    -------
    The kind of table ``totals`` came as
        ``origin``, ``destination``, ``value``, ``share`` (of the destination's
        total). Each destination's rows sum exactly to its total; a destination
        with a total but no positive weight gets one row with a null origin
        (unallocated), never a silent drop.

    Raises
    ------
    ParameterError
        An unknown ``rule``, or a table the rule needs missing or one it does not
        use given (nothing is ignored silently).
    SchemaError
        A null or non-text country code, or a NaN, infinite or negative total,
        migrant count, weight or income (they would turn shares into NaN).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens import estimate_bilateral
    >>> totals = pl.DataFrame({"destination": ["MEX"], "amount_usd": [100.0]})
    >>> stock = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"],
    ...                       "migrants": [900.0, 100.0]})
    >>> estimate_bilateral(totals, stock).select("origin", "amount_usd").rows()
    [('USA', 90.0), ('CAN', 10.0)]
    >>> income = pl.DataFrame({"country": ["USA", "CAN"], "income": [1.0, 3.0]})
    >>> estimate_bilateral(totals, stock, rule="stock_income", host_income=income)["amount_usd"].to_list()
    [75.0, 25.0]
    """
    source = from_any(totals, what="totals")
    table = _codes(_table(source.frame, "totals", fs.DESTINATION, value), fs.DESTINATION)
    key = _allocation_key(rule, migrant_stock, host_income, weights).filter(pl.col("weight") > 0)
    allocated = (
        key.join(table.select(fs.DESTINATION, total=value), on=fs.DESTINATION, how="inner")
        .with_columns(share=pl.col("weight") / pl.col("weight").sum().over(fs.DESTINATION))
        .select(
            fs.ORIGIN, fs.DESTINATION, (pl.col("total") * pl.col("share")).alias(value), "share"
        )
    )
    unallocated = table.join(
        key.select(fs.DESTINATION).unique(), on=fs.DESTINATION, how="anti"
    ).select(
        pl.lit(None, pl.String).alias(fs.ORIGIN),
        fs.DESTINATION,
        pl.col(value).cast(pl.Float64),
        share=pl.lit(None, pl.Float64),
    )
    result = pl.concat([allocated, unallocated]).sort(
        fs.DESTINATION, value, fs.ORIGIN, descending=[False, True, False], nulls_last=True
    )
    return source.back(result)


def _allocation_key(rule: str, stock: Any, income: Any, weights: Any) -> pl.DataFrame:
    """``origin``, ``destination``, ``weight`` for ``rule``; ParameterError for what it lacks or ignores."""
    if rule not in RULES:
        msg = f"rule {rule!r} is not one of {list(RULES)}"
        raise ParameterError(msg)
    needs = {"stock": {"migrant_stock"}, "stock_income": {"migrant_stock", "host_income"},
             "weights": {"weights"}}[rule]  # fmt: skip
    given = {"migrant_stock": stock, "host_income": income, "weights": weights}
    for name, table in given.items():
        if name in needs and table is None:
            msg = f"rule={rule!r} needs {name}=<table>"
            raise ParameterError(msg)
        if name not in needs and table is not None:
            msg = f"rule={rule!r} does not use {name}; leave it out, or choose the rule that does"
            raise ParameterError(msg)
    keys = (fs.ORIGIN, fs.DESTINATION)
    if rule == "weights":
        frame = _table(weights, "weights", *keys, "weight")
        return _codes(frame, *keys).select(*keys, pl.col("weight").cast(pl.Float64))
    frame = _table(stock, "migrant_stock", *keys, "migrants")
    key = _codes(frame, *keys).select(*keys, weight=pl.col("migrants").cast(pl.Float64))
    if rule == "stock":
        return key
    host = _codes(_table(income, "host_income", "country", "income"), "country")
    return key.join(
        host.select(origin="country", income="income"), on=fs.ORIGIN, how="left"
    ).select(*keys, weight=pl.col("weight") * pl.col("income"))


@input_errors("compare_bilateral")
def compare_bilateral(estimate: Any, recorded: Any, *, value: str = fs.AMOUNT_USD) -> Any:
    """Where an estimate departs from recorded bilateral flows.

    Parameters
    ----------
    estimate, recorded
        ``origin``, ``destination``, ``value`` each (for example a World Bank
        matrix against Banco de Mexico's inflows by country of origin), any
        table kind. Only the destinations present in ``recorded`` are compared.
    value
        The amount column of both (default ``amount_usd``).

    Returns
    -------
    The kind of table ``estimate`` came as
        Per corridor: ``estimate_usd``, ``recorded_usd``, their shares of the
        destination's total (``estimate_share``, ``recorded_share``),
        ``share_gap`` (estimate - recorded, in share points) and ``ratio``
        (estimate / recorded), largest gaps first.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens import compare_bilateral
    >>> est = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX"] * 2, "amount_usd": [98.0, 2.0]})
    >>> rec = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX"] * 2, "amount_usd": [95.0, 5.0]})
    >>> compare_bilateral(est, rec).select("origin", "share_gap").rows()
    [('USA', 0.03), ('CAN', -0.03)]
    """
    source = from_any(estimate, what="estimate")
    keys = [fs.ORIGIN, fs.DESTINATION]
    recorded_shares = _shares(_table(recorded, "recorded", *keys, value), "recorded", value)
    destinations = recorded_shares.select(fs.DESTINATION).unique()
    estimate_shares = _shares(
        _table(source.frame, "estimate", *keys, value), "estimate", value
    ).join(destinations, on=fs.DESTINATION, how="semi")
    result = (
        estimate_shares.join(recorded_shares, on=keys, how="full", coalesce=True)
        .with_columns(
            pl.col("estimate_usd", "recorded_usd", "estimate_share", "recorded_share").fill_null(
                0.0
            )
        )
        .with_columns(
            share_gap=(pl.col("estimate_share") - pl.col("recorded_share")).round(12),
            ratio=pl.col("estimate_usd") / pl.col("recorded_usd"),
        )
        .sort(
            pl.col("share_gap").abs(), "recorded_usd", *keys, descending=[True, True, False, False]
        )
    )
    return source.back(result)


def _shares(frame: pl.DataFrame, name: str, value: str) -> pl.DataFrame:
    keys = [fs.ORIGIN, fs.DESTINATION]
    total = pl.col(f"{name}_usd")
    return (
        _codes(frame, *keys)
        .group_by(keys)
        .agg(pl.col(value).sum().cast(pl.Float64).alias(f"{name}_usd"))
        .with_columns((total / total.sum().over(fs.DESTINATION)).alias(f"{name}_share"))
    )
