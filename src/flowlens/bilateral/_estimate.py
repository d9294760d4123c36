"""Allocate each receiving country's recorded inflows across sending countries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import input_errors
from flowlens.bilateral._common import KEYS, codes, in_year, table, years_of
from flowlens.bilateral._ras import RasResult, ras
from flowlens.bilateral._records import recorded_flows
from flowlens.errors import ParameterError
from flowlens.reference.incomes import gni_per_capita

RULES = ("stock_income", "stock", "stock_host_income", "weights")
"""The allocation rules of :func:`estimate_bilateral` (the first is the default)."""

INCOME_ELASTICITY = 0.2
"""Default elasticity of remittances per migrant to the host/origin income ratio.

Fitted to the World Bank's 2017 bilateral remittance matrix: within each receiving
country, log(matrix share / migrant-stock share) regressed on log(host income /
origin income) gives 0.20 where the host is richer and 0.02 where it is poorer
(the 2021 matrix: 0.17 and -0.02). See ``benchmarks/eval_bilateral.py``."""

INCOME_WINDOW = 5
"""Default number of years an income may be carried forward to fill a gap (an assumption)."""


@dataclass(frozen=True)
class BilateralEstimate:
    """An allocation of inflows over senders, with what it rests on.

    Attributes
    ----------
    flows
        ``origin``, ``destination``, the value column, ``share`` (of the
        destination's total) and ``method`` (``recorded``, the rule's name, the
        rule's name + ``+ras`` after fitting to outflows, or ``unallocated``: a
        total with no sender to place it on, kept with a null origin), in the kind
        of table ``totals`` came as.
    unweighted
        Corridors the income rule could not weight as designed: ``origin``,
        ``destination``, ``migrants``, ``stock_share`` (of the destination's
        emigrants), ``missing`` (``host_income`` or ``origin_income``) and
        ``treatment``: ``stock alone`` (the default rule weights the corridor by
        its migrants, as if host and origin incomes were equal) or ``left out``
        (``stock_host_income`` cannot weight it at all).
    incomes
        The incomes used: ``country``, ``income``, ``income_year`` (the year the
        value is from: an earlier year within ``income_window`` fills a gap).
    records
        Per destination estimated from records: ``total_given`` (from ``totals``,
        null if absent), ``recorded_named_usd`` and ``recorded_residual_usd`` (the
        records, which replace the given total).
    ras
        The fit to outflow totals (:class:`RasResult`), or None.
    rule, year
        The rule and the year of the incomes (None when not known).

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> totals = pl.DataFrame({"destination": ["MEX"], "amount_usd": [100.0]})
    >>> stock = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"],
    ...                       "migrants": [900.0, 100.0]})
    >>> est = fl.estimate_bilateral(totals, stock, rule="stock")
    >>> est.rule, est.flows["share"].to_list(), est.ras is None
    ('stock', [0.9, 0.1], True)
    """

    flows: Any
    unweighted: pl.DataFrame
    incomes: pl.DataFrame
    records: pl.DataFrame
    ras: RasResult | None
    rule: str
    year: int | None

    def __repr__(self) -> str:
        return (
            f"BilateralEstimate(rule={self.rule!r}, year={self.year}, "
            f"unweighted={self.unweighted.height}, records={self.records.height}, "
            f"ras={'yes' if self.ras is not None else 'no'})"
        )


@input_errors("estimate_bilateral")
def estimate_bilateral(  # long: the rule, the records and the fit to outflows, each a few lines
    totals: Any,
    migrant_stock: Any = None,
    *,
    rule: str = "stock_income",
    host_income: Any = None,
    weights: Any = None,
    records: Any = None,
    residual: str | Sequence[str] | None = None,
    outflows: Any = None,
    year: int | None = None,
    income_window: int = INCOME_WINDOW,
    income_elasticity: float = INCOME_ELASTICITY,
    value: str = fs.AMOUNT_USD,
) -> BilateralEstimate:
    """Allocate each receiving country's total inflows across sending countries.

    The default rule is the World Bank's (Ratha and Shaw 2007; the title of each
    bilateral matrix, 2016, 2017 and 2021): weights from migrant stocks, host-country
    incomes and origin-country incomes, here ``migrants x (max(host, origin income)
    / origin income) ** income_elasticity`` with GNI per capita bundled with flowlens.
    Where records by sender exist they replace the estimate: named senders keep
    their recorded amounts, and the rule spreads only the records' residual bucket
    over the senders the records do not name.

    Parameters
    ----------
    totals
        ``destination`` (ISO3) and ``value``: each receiving country's inflows (for
        example KNOMAD's annual inflows for one year, or a matrix's column totals).
        Every table argument may be any kind (polars, pandas, pyarrow, an Arrow
        stream); a ``period`` column is filtered to ``year``.
    migrant_stock
        ``origin`` (host country, where migrants live and send from),
        ``destination`` (their country of origin) and ``migrants``, as
        :func:`flowlens.read_wb_migrant_stock` returns; for the ``stock`` rules.
    rule
        ``"stock_income"`` (default): stocks weighted by host and origin income;
        ``"stock"``: proportional to migrants (Ratha and Shaw, rule 1);
        ``"stock_host_income"``: migrants times host income (rule 2);
        ``"weights"``: your own ``weights``.
    host_income
        ``country``, ``income`` and optionally ``year``: income per head of every
        country (hosts and origins). Default: GNI per capita, Atlas method
        (:func:`flowlens.reference.incomes.gni_per_capita`).
    weights
        ``origin``, ``destination``, ``weight``: any allocation key, for
        ``rule="weights"`` only.
    records
        Recorded inflows by sender: ``origin``, ``destination``, ``value`` (a
        ``period`` column is filtered to ``year``), or an :class:`~flowlens.OfficialTable`
        such as :func:`flowlens.read_banxico_quarterly_by_country` returns.
    residual
        The name(s) of the records' residual bucket (an ``origin`` value, or an
        unmatched name of an OfficialTable). Default: ``No Identificado``, ``Not
        identified``, ``Other countries`` and the like (``XXX`` too).
    outflows
        ``origin``, ``value``: sending countries' outflow totals (for example
        KNOMAD's outflows). When given, the rule's cells are fitted to both margins
        by :func:`ras` (recorded cells are held fixed and taken off the senders'
        totals).
    year
        The year of the estimate: it selects the incomes and filters ``period``
        columns. Default: the single year of ``totals``' or ``migrant_stock``'s
        ``period`` column, else the latest year of the incomes (stated in ``year``
        of the result).
    income_window
        An income missing in ``year`` is taken from the latest earlier year at
        most this many years before (default 5, an assumption); corridors still
        without one are listed in ``unweighted`` with what was done to them.
    income_elasticity
        The exponent of the income ratio (default 0.2, fitted to the 2017 World
        Bank matrix; 0 gives the stock rule).
    value
        The column of ``totals`` (and ``records``, ``outflows``) to allocate
        (default ``amount_usd``); the result names its amounts the same.

    Returns
    -------
    BilateralEstimate
        ``flows`` (the kind ``totals`` came as) summing exactly to each
        destination's total, ``unweighted``, ``incomes``, ``records``, ``ras``.

    Raises
    ------
    ParameterError
        An unknown ``rule``; a table the rule needs missing or one it does not use
        given; ``income_window`` < 0; ``income_elasticity`` negative or not finite;
        tables spanning several years without ``year``.
    SchemaError
        A null or non-text country code, or a NaN, infinite or negative total,
        migrant count, weight or income (they would turn shares into NaN).

    References
    ----------
    .. [1] D. Ratha and W. Shaw, "South-South Migration and Remittances", World Bank
       Working Paper 102, 2007.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens import estimate_bilateral
    >>> totals = pl.DataFrame({"destination": ["MEX"], "amount_usd": [100.0]})
    >>> stock = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"],
    ...                       "migrants": [900.0, 100.0]})
    >>> estimate_bilateral(totals, stock, rule="stock").flows.select("origin", "amount_usd").rows()
    [('USA', 90.0), ('CAN', 10.0)]
    >>> income = pl.DataFrame({"country": ["USA", "CAN", "MEX"], "income": [4.0, 4.0, 1.0]})
    >>> est = estimate_bilateral(totals, stock, host_income=income, income_elasticity=0.5)
    >>> est.flows.select("origin", "amount_usd", "method").rows()
    [('USA', 90.0, 'stock_income'), ('CAN', 10.0, 'stock_income')]
    >>> recorded = pl.DataFrame({"origin": ["USA", "No Identificado"], "destination": ["MEX"] * 2,
    ...                          "amount_usd": [95.0, 5.0]})
    >>> estimate_bilateral(totals, stock, rule="stock", records=recorded).flows.rows()
    [('USA', 'MEX', 95.0, 0.95, 'recorded'), ('CAN', 'MEX', 5.0, 0.05, 'stock')]
    """
    _check_numbers(income_window, income_elasticity)
    source = from_any(totals, what="totals")
    given = codes(table(source.frame, "totals", fs.DESTINATION, value), fs.DESTINATION)
    year = _year(year, given, migrant_stock)
    given = (
        in_year(given, year)
        .group_by(fs.DESTINATION)
        .agg(pl.col(value).sum().cast(pl.Float64).alias("total"))
    )
    key, unweighted, incomes, year = _allocation_key(
        rule,
        stock=migrant_stock,
        income=host_income,
        weights=weights,
        year=year,
        window=income_window,
        elasticity=income_elasticity,
    )
    flows = _allocate(given, key, rule)
    record_totals = pl.DataFrame(
        schema={
            fs.DESTINATION: pl.String,
            "total_given": pl.Float64,
            "recorded_named_usd": pl.Float64,
            "recorded_residual_usd": pl.Float64,
        }
    )
    if records is not None:
        flows, record_totals = _with_records(
            flows,
            given,
            key,
            rule,
            recorded_flows(records, residual=residual, year=year, value=value, what="records"),
        )
    fitted: RasResult | None = None
    if outflows is not None:
        flows, fitted = _fit_outflows(flows, outflows, rule, year, value)
    result = (
        flows.with_columns(share=pl.col("amount") / pl.col("amount").sum().over(fs.DESTINATION))
        .with_columns(
            share=pl.when(pl.col(fs.ORIGIN).is_null()).then(None).otherwise(pl.col("share"))
        )
        .select(*KEYS, pl.col("amount").alias(value), "share", "method")
        .sort(fs.DESTINATION, value, fs.ORIGIN, descending=[False, True, False], nulls_last=True)
    )
    return BilateralEstimate(
        flows=source.back(result),
        unweighted=unweighted,
        incomes=incomes,
        records=record_totals,
        ras=fitted,
        rule=rule,
        year=year,
    )


def _check_numbers(window: int, elasticity: float) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        msg = f"income_window={window!r}: expected a whole number of years >= 0 (default 5)"
        raise ParameterError(msg)
    if not isinstance(elasticity, int | float) or not math.isfinite(elasticity) or elasticity < 0:
        msg = f"income_elasticity={elasticity!r}: expected a finite number >= 0 (default 0.2)"
        raise ParameterError(msg)


def _year(year: int | None, given: pl.DataFrame, stock: Any) -> int | None:
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, int):
            msg = f"year={year!r}: expected a whole year such as 2017"
            raise ParameterError(msg)
        return year
    for frame, what in ((given, "totals"), (stock, "migrant_stock")):
        if frame is None:
            continue
        years = years_of(from_any(frame, what=what).eager(), what)
        if len(years) > 1:
            msg = f"{what} covers the years {years[0]}..{years[-1]}: pass year=<one of them>"
            raise ParameterError(msg)
        if years:
            return years[0]
    return None


def _allocate(given: pl.DataFrame, key: pl.DataFrame, rule: str) -> pl.DataFrame:
    """Rule cells for every destination of ``given``; a total without weight kept unallocated."""
    allocated = key.join(given, on=fs.DESTINATION, how="inner").select(
        *KEYS,
        # the share first: total * weight underflows for subnormal weights (1.5 x 5e-324
        # rounds to 1e-323, and the destination got 2.0 of its 1.5)
        amount=pl.col("total") * (pl.col("weight") / pl.col("weight").sum().over(fs.DESTINATION)),
        method=pl.lit(rule),
    )
    return pl.concat([allocated, _unallocated(given.join(key, on=fs.DESTINATION, how="anti"))])


def _unallocated(totals: pl.DataFrame) -> pl.DataFrame:
    return totals.select(
        pl.lit(None, pl.String).alias(fs.ORIGIN),
        fs.DESTINATION,
        amount=pl.col("total").cast(pl.Float64),
        method=pl.lit("unallocated"),
    )


def _with_records(
    flows: pl.DataFrame, given: pl.DataFrame, key: pl.DataFrame, rule: str, rec: Any
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records replace the estimate of their destinations; the rule spreads their residual."""
    named, residual = rec.named, rec.residual
    covered = pl.concat([named.select(fs.DESTINATION), residual.select(fs.DESTINATION)]).unique()
    unnamed_key = key.join(covered, on=fs.DESTINATION, how="semi").join(named, on=KEYS, how="anti")
    spread = residual.rename({"residual_usd": "total"}).filter(pl.col("total") > 0)
    recorded = named.select(*KEYS, amount="recorded_usd", method=pl.lit("recorded"))
    placed = _allocate(spread, unnamed_key, rule)
    kept = flows.join(covered, on=fs.DESTINATION, how="anti")
    summary = (
        covered.join(given.rename({"total": "total_given"}), on=fs.DESTINATION, how="left")
        .join(
            named.group_by(fs.DESTINATION).agg(recorded_named_usd=pl.col("recorded_usd").sum()),
            on=fs.DESTINATION,
            how="left",
        )
        .join(
            residual.rename({"residual_usd": "recorded_residual_usd"}),
            on=fs.DESTINATION,
            how="left",
        )
        .with_columns(pl.col("recorded_named_usd", "recorded_residual_usd").fill_null(0.0))
        .sort(fs.DESTINATION)
    )
    return pl.concat([kept, recorded, placed]), summary


def _fit_outflows(
    flows: pl.DataFrame, outflows: Any, rule: str, year: int | None, value: str
) -> tuple[pl.DataFrame, RasResult]:
    """RAS of the rule's cells to outflows (less fixed cells) and to their own column sums."""
    out = codes(table(outflows, "outflows", fs.ORIGIN, value), fs.ORIGIN)
    out = in_year(out, year).filter(pl.col(value).is_not_null())
    free = pl.col("method") == rule
    cells = flows.filter(free & pl.col(fs.ORIGIN).is_not_null())
    fixed = flows.filter(~free & pl.col(fs.ORIGIN).is_not_null())
    rows = (
        out.group_by(fs.ORIGIN)
        .agg(total=pl.col(value).sum().cast(pl.Float64))
        .join(fixed.group_by(fs.ORIGIN).agg(held=pl.col("amount").sum()), on=fs.ORIGIN, how="left")
        .select(
            fs.ORIGIN, amount=pl.max_horizontal(pl.col("total") - pl.col("held").fill_null(0), 0)
        )
    )
    columns = cells.group_by(fs.DESTINATION).agg(pl.col("amount").sum())
    fitted = ras(
        cells.select(*KEYS, "amount"), row_totals=rows, column_totals=columns, value="amount"
    )
    moved = fitted.flows.select(*KEYS, "amount", method=pl.lit(f"{rule}+ras"))
    others = flows.filter(~free | pl.col(fs.ORIGIN).is_null())
    report = RasResult(
        flows=fitted.flows.rename({"amount": value}),
        fit=fitted.fit,
        unmet=fitted.unmet,
        moved=fitted.moved.rename({"amount": value}),
    )
    return pl.concat([others, moved]), report


def _allocation_key(  # long: one branch per rule, each checking what it needs and ignores
    rule: str,
    *,
    stock: Any,
    income: Any,
    weights: Any,
    year: int | None,
    window: int,
    elasticity: float,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, int | None]:
    """``origin``, ``destination``, ``weight`` > 0 for ``rule``; the unweighted corridors; incomes."""
    if rule not in RULES:
        msg = f"rule {rule!r} is not one of {list(RULES)}"
        raise ParameterError(msg)
    needs = {
        "stock": {"migrant_stock"},
        "stock_income": {"migrant_stock"},
        "stock_host_income": {"migrant_stock"},
        "weights": {"weights"},
    }[rule]
    uses = needs | ({"host_income"} if rule.startswith("stock_") else set())
    given = {"migrant_stock": stock, "host_income": income, "weights": weights}
    for name, frame in given.items():
        if name in needs and frame is None:
            msg = f"rule={rule!r} needs {name}=<table>"
            raise ParameterError(msg)
        if name not in uses and frame is not None:
            msg = f"rule={rule!r} does not use {name}; leave it out, or choose the rule that does"
            raise ParameterError(msg)
    none = _no_unweighted()
    no_incomes = pl.DataFrame(
        schema={"country": pl.String, "income": pl.Float64, "income_year": pl.Int32}
    )
    if rule == "weights":
        frame = codes(table(weights, "weights", *KEYS, "weight"), *KEYS)
        key = frame.select(*KEYS, pl.col("weight").cast(pl.Float64))
        return key.filter(pl.col("weight") > 0), none, no_incomes, year
    frame = codes(table(stock, "migrant_stock", *KEYS, "migrants"), *KEYS)
    frame = _one_stock(frame, year).select(*KEYS, migrants=pl.col("migrants").cast(pl.Float64))
    if rule == "stock":
        key = frame.select(*KEYS, weight="migrants")
        return key.filter(pl.col("weight") > 0), none, no_incomes, year
    incomes, year = _incomes(income, year, window)
    corridors = (
        frame.filter(pl.col("migrants") > 0)
        .join(incomes.select(origin="country", host="income"), on=fs.ORIGIN, how="left")
        .join(incomes.select(destination="country", home="income"), on=fs.DESTINATION, how="left")
    )
    home_missing = pl.col("home").is_null() | (pl.col("home") <= 0)
    if rule == "stock_host_income":
        weight = pl.col("migrants") * pl.col("host")
        missing = pl.when(pl.col("host").is_null()).then(pl.lit("host_income")).otherwise(None)
    else:
        ratio = pl.max_horizontal(pl.col("host") / pl.col("home"), 1.0).pow(elasticity)
        incomplete = pl.col("host").is_null() | home_missing
        weight = pl.col("migrants") * pl.when(incomplete).then(1.0).otherwise(ratio)
        missing = (
            pl.when(pl.col("host").is_null() & home_missing)
            .then(pl.lit("host_income, origin_income"))
            .when(pl.col("host").is_null())
            .then(pl.lit("host_income"))
            .when(home_missing)
            .then(pl.lit("origin_income"))
            .otherwise(None)
        )
    corridors = corridors.with_columns(weight=weight)
    unweighted = (
        corridors.with_columns(
            stock_share=pl.col("migrants") / pl.col("migrants").sum().over(fs.DESTINATION),
            missing=missing,
        )
        .filter(pl.col("missing").is_not_null())
        .select(
            *KEYS,
            "migrants",
            "stock_share",
            "missing",
            treatment=pl.when(pl.col("weight").is_null())
            .then(pl.lit("left out"))
            .otherwise(pl.lit("stock alone")),
        )
        .sort(fs.DESTINATION, "migrants", descending=[False, True])
    )
    key = corridors.select(*KEYS, "weight").filter(pl.col("weight") > 0)
    used = pl.concat([key.select(country=fs.ORIGIN), key.select(country=fs.DESTINATION)]).unique()
    return key, unweighted, incomes.join(used, on="country", how="semi").sort("country"), year


def _one_stock(frame: pl.DataFrame, year: int | None) -> pl.DataFrame:
    """The stock as given, or its rows of ``year`` when it holds several years."""
    years = years_of(frame, "migrant_stock")
    if len(years) <= 1:
        return frame
    if year not in years:
        msg = (
            f"migrant_stock holds the years {years}; pass year=<one of them> "
            f"(got {year}) or one year's stock"
        )
        raise ParameterError(msg)
    return in_year(frame, year)


def _no_unweighted() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            fs.ORIGIN: pl.String,
            fs.DESTINATION: pl.String,
            "migrants": pl.Float64,
            "stock_share": pl.Float64,
            "missing": pl.String,
            "treatment": pl.String,
        }
    )


def _incomes(income: Any, year: int | None, window: int) -> tuple[pl.DataFrame, int | None]:
    """``country``, ``income``, ``income_year``: each country's latest value in the window."""
    if income is None:
        frame = gni_per_capita().select("country", "year", income="gni_per_capita")
    else:
        frame = codes(table(income, "host_income", "country", "income"), "country")
    if "year" not in frame.columns:
        out = frame.group_by("country").agg(pl.col("income").cast(pl.Float64).last())
        return out.with_columns(income_year=pl.lit(None, pl.Int32)), year
    frame = frame.filter(pl.col("income").is_not_null()).with_columns(pl.col("year").cast(pl.Int32))
    if year is None:
        year = int(frame["year"].max())  # type: ignore[arg-type]
    latest = (
        frame.filter(pl.col("year").is_between(year - window, year))
        .sort("year")
        .group_by("country")
        .agg(pl.col("income").last().cast(pl.Float64), income_year=pl.col("year").last())
    )
    return latest, year
