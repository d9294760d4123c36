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

import polars as pl

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError

__all__ = ["compare_bilateral", "estimate_bilateral"]


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            error = MissingColumnError.for_column(column, frame.columns)
            msg = f"{what}: {error}"
            raise MissingColumnError(msg, column=column, present=frame.columns)


def _codes(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String) for c in columns)


def estimate_bilateral(
    totals: pl.DataFrame,
    migrant_stock: pl.DataFrame,
    *,
    rule: str = "stock",
    host_income: pl.DataFrame | None = None,
    weights: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Allocate each receiving country's total inflows across sending countries.

    Parameters
    ----------
    totals
        ``destination`` (ISO3) and ``amount_usd``: each receiving country's
        recorded inflows (for example KNOMAD's annual inflows for one year).
    migrant_stock
        ``origin`` (host country, where migrants live and send from),
        ``destination`` (their country of origin) and ``migrants``, as
        :func:`flowlens.read_wb_migrant_stock` returns.
    rule
        ``"stock"``: shares proportional to migrants (Ratha and Shaw, rule 1);
        ``"stock_income"``: migrants times the host country's income per head
        (rule 2; pass ``host_income``); ``"weights"``: your own ``weights``.
    host_income
        ``country`` and ``income`` (for example GDP per head), for rule 2.
    weights
        ``origin``, ``destination``, ``weight``: any allocation key.

    Returns
    -------
    polars.DataFrame
        ``origin``, ``destination``, ``amount_usd``, ``share`` (of the
        destination's total). Each destination's rows sum exactly to its total;
        a destination with a total but no positive weight gets one row with a
        null origin (unallocated), never a silent drop.

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
    _require(totals, (fs.DESTINATION, fs.AMOUNT_USD), "totals")
    totals = _codes(totals, fs.DESTINATION)
    if rule == "weights":
        if weights is None:
            msg = "rule='weights' needs weights=DataFrame(origin, destination, weight)"
            raise SchemaError(msg)
        _require(weights, (fs.ORIGIN, fs.DESTINATION, "weight"), "weights")
        key = _codes(weights, fs.ORIGIN, fs.DESTINATION).select(fs.ORIGIN, fs.DESTINATION, "weight")
    elif rule in ("stock", "stock_income"):
        _require(migrant_stock, (fs.ORIGIN, fs.DESTINATION, "migrants"), "migrant_stock")
        key = _codes(migrant_stock, fs.ORIGIN, fs.DESTINATION).select(
            fs.ORIGIN, fs.DESTINATION, weight="migrants"
        )
        if rule == "stock_income":
            if host_income is None:
                msg = "rule='stock_income' needs host_income=DataFrame(country, income)"
                raise SchemaError(msg)
            _require(host_income, ("country", "income"), "host_income")
            income = _codes(host_income, "country").select(origin="country", income="income")
            key = key.join(income, on=fs.ORIGIN, how="left").select(
                fs.ORIGIN, fs.DESTINATION, weight=pl.col("weight") * pl.col("income")
            )
    else:
        msg = f"rule {rule!r} is not one of 'stock', 'stock_income', 'weights'"
        raise SchemaError(msg)
    key = key.filter(pl.col("weight") > 0)
    allocated = (
        key.join(totals.select(fs.DESTINATION, total=fs.AMOUNT_USD), on=fs.DESTINATION, how="inner")
        .with_columns(share=pl.col("weight") / pl.col("weight").sum().over(fs.DESTINATION))
        .select(
            fs.ORIGIN, fs.DESTINATION, amount_usd=pl.col("total") * pl.col("share"), share="share"
        )
    )
    unallocated = totals.join(
        key.select(fs.DESTINATION).unique(), on=fs.DESTINATION, how="anti"
    ).select(
        pl.lit(None, pl.String).alias(fs.ORIGIN),
        fs.DESTINATION,
        fs.AMOUNT_USD,
        share=pl.lit(None, pl.Float64),
    )
    return pl.concat([allocated, unallocated]).sort(
        fs.DESTINATION, fs.AMOUNT_USD, fs.ORIGIN, descending=[False, True, False], nulls_last=True
    )


def compare_bilateral(estimate: pl.DataFrame, recorded: pl.DataFrame) -> pl.DataFrame:
    """Where an estimate departs from recorded bilateral flows.

    Parameters
    ----------
    estimate, recorded
        ``origin``, ``destination``, ``amount_usd`` each (for example a World Bank
        matrix against Banco de Mexico's inflows by country of origin). Only the
        destinations present in ``recorded`` are compared.

    Returns
    -------
    polars.DataFrame
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
    for frame, what in ((estimate, "estimate"), (recorded, "recorded")):
        _require(frame, (fs.ORIGIN, fs.DESTINATION, fs.AMOUNT_USD), what)
    keys = [fs.ORIGIN, fs.DESTINATION]

    def shares(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        summed = (
            _codes(frame, *keys)
            .group_by(keys)
            .agg(pl.col(fs.AMOUNT_USD).sum().alias(f"{name}_usd"))
        )
        return summed.with_columns(
            (pl.col(f"{name}_usd") / pl.col(f"{name}_usd").sum().over(fs.DESTINATION)).alias(
                f"{name}_share"
            )
        )

    recorded_shares = shares(recorded, "recorded")
    destinations = recorded_shares.select(fs.DESTINATION).unique()
    estimate_shares = shares(estimate, "estimate").join(destinations, on=fs.DESTINATION, how="semi")
    return (
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
