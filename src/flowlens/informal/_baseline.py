"""Baseline informal flow per corridor, before any scenario: from costs, from a demand gap, or observed.

Every estimator returns the same table, one row per corridor:
``origin``, ``destination``, ``informal_ratio`` (a), ``offset`` (b), ``log_sd_shared``,
``log_sd_own`` and ``method``. The informal flow of a corridor-period with recorded
formal flow F is then, in Monte Carlo draw d,

    informal = F * max(a * exp(log_sd_shared * z_d + log_sd_own * z_dc) - b, 0)

with z standard normal: ``z_d`` shared by every corridor in a draw (an uncertainty
about the method's calibration, which does not average out over corridors) and
``z_dc`` the corridor's own (sampling noise, which does).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import checked_table, input_errors
from flowlens.errors import MissingColumnError, ParameterError
from flowlens.informal._priors import Prior, Triangular, as_prior, in_range
from flowlens.surge._baselines import SUM_CV

BASELINE_COLUMNS = (
    fs.ORIGIN,
    fs.DESTINATION,
    "informal_ratio",
    "offset",
    "log_sd_shared",
    "log_sd_own",
    "method",
)
_CORRIDOR_KEYS = (pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String))
"""Corridor keys as text, so that Enum- and String-typed inputs join."""
Z90 = 1.6448536269514722  # the normal 95th percentile: a 90% interval is +-1.645 sd


def _eager(table: Any, what: str) -> pl.DataFrame:
    """Any table kind as an eager polars frame (a LazyFrame is collected here, once)."""
    return from_any(table, what=what).eager()


@dataclass(frozen=True)
class CostModel:
    """Informal flow per unit of recorded flow, rising with the cost of formal transfer.

    ``ratio = ratio_at_reference * exp(cost_slope * (cost_pct - reference_cost_pct)
    + premium_slope * premium_pct)``, after Freund and Spatafora (2008),
    "Remittances, transaction costs, and informality", Journal of Development
    Economics 86(2): recorded remittances fall with the cost of formal transfer and
    with exchange-rate restrictions (a parallel-market premium), and informal
    remittances are about 35-75% of recorded ones in developing countries.

    Attributes
    ----------
    ratio_at_reference
        0.55: the midpoint of Freund and Spatafora's 35-75%.
    reference_cost_pct
        7.0: about the average cost of sending USD 200 in Remittance Prices
        Worldwide over 2011-2020 (7.0% in 2020, 7.6% in 2017;
        data/samples/real/wb_rpw_corridors_2011_2020.csv).
    cost_slope
        0.1 per percentage point: an assumption, the cost elasticity of formal flows
        (0.8, the middle of ``COST_ELASTICITY_DEFAULT``) divided by the reference cost.
    premium_slope
        0.01 per percentage point of parallel-market premium: an assumption (the
        sign is Freund and Spatafora's; the size is not taken from them).
    log_sd
        0.23: the 35-75% range read as a 90% interval of the ratio,
        ``ln(0.75 / 0.35) / (2 * 1.645)``; shared by all corridors in a draw.

    Examples
    --------
    >>> from flowlens.informal import CostModel
    >>> m = CostModel()
    >>> round(m.ratio(7.0), 2), round(m.ratio(12.0), 2)
    (0.55, 0.91)
    """

    ratio_at_reference: float = 0.55
    reference_cost_pct: float = 7.0
    cost_slope: float = 0.1
    premium_slope: float = 0.01
    log_sd: float = math.log(0.75 / 0.35) / (2 * Z90)

    def ratio(self, cost_pct: float, premium_pct: float = 0.0) -> float:
        """The median ratio for one corridor's cost and premium."""
        return self.ratio_at_reference * math.exp(
            self.cost_slope * (cost_pct - self.reference_cost_pct)
            + self.premium_slope * premium_pct
        )

    def ratio_expr(self, cost: pl.Expr, premium: pl.Expr) -> pl.Expr:
        """The same as a polars expression."""
        return (
            self.ratio_at_reference
            * (
                self.cost_slope * (cost - self.reference_cost_pct) + self.premium_slope * premium
            ).exp()
        )


def _corridors(recorded: pl.DataFrame, value: str) -> pl.DataFrame:
    MissingColumnError.require(recorded.columns, fs.ORIGIN, fs.DESTINATION, value)
    what = "recorded"
    checked_table(recorded, what=what, keys=[fs.ORIGIN, fs.DESTINATION])
    checked_table(recorded, what=what, values=[value, fs.COST_RATIO, "cost_pct"])
    checked_table(recorded, what=what, dates=[fs.PERIOD, fs.DATE])
    return recorded.group_by(*_CORRIDOR_KEYS).agg(recorded_usd=pl.col(value).sum())


@input_errors("baseline_from_costs")
def baseline_from_costs(
    recorded: Any,
    costs: Any = None,
    *,
    model: CostModel | None = None,
    premium: Any = None,
    value: str = fs.AMOUNT_USD,
) -> Any:
    """Baseline informal ratio per corridor from the cost of formal transfer (Freund and Spatafora 2008).

    Parameters
    ----------
    recorded
        Recorded formal flows with ``origin``, ``destination`` and ``value`` (a
        corridor panel, or the World Bank's bilateral matrix).
    costs
        ``origin``, ``destination``, ``cost_pct`` (percent of the amount sent), for
        example :func:`flowlens.read_rpw_corridors`' panel; several periods per
        corridor are averaged. Default: ``recorded``'s ``cost_ratio`` column
        (fees / amount, from :func:`flowlens.corridor_panel`).
    model
        :class:`CostModel` (defaults with their sources there).
    premium
        ``destination``, ``premium_pct``: the parallel exchange-rate market premium
        in the receiving country (default 0 everywhere). It is kept in the result's
        ``premium_pct`` column: :func:`estimate_informal`'s ``drivers`` move flow by
        the change of the premium from it.

    Returns
    -------
    DataFrame
        The kind of table ``recorded`` came as (polars, lazy, pandas, pyarrow): the
        baseline table (see the module notes), with ``cost_pct`` and
        ``cost_source``: ``corridor``; else the mean of the receiving country's
        surveyed corridors (``destination mean``), of the sending country's
        (``origin mean``), or of all (``global mean``), each weighted by recorded flow.
        A corridor whose published cost is zero or below takes these means too, and its
        ``cost_source`` says so (e.g. ``destination mean (published cost -0.53% <= 0)``).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.informal import baseline_from_costs
    >>> recorded = pl.DataFrame({"origin": ["USA", "USA"], "destination": ["MEX", "SOM"],
    ...                          "amount_usd": [30e9, 0.2e9]})
    >>> costs = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "cost_pct": [5.0]})
    >>> table = baseline_from_costs(recorded, costs)
    >>> table.select("destination", "cost_pct", "cost_source", pl.col("informal_ratio").round(3)).rows()
    [('MEX', 5.0, 'corridor', 0.45), ('SOM', 5.0, 'origin mean', 0.45)]
    """
    model = model or CostModel()
    source = from_any(recorded, what="recorded")
    frame = source.eager()
    corridors = _corridors(frame, value)
    per_corridor = _corridor_costs(frame, costs)
    table = _fill_costs(corridors, per_corridor)
    if premium is not None:
        table = table.join(_premiums(premium, table), on=fs.DESTINATION, how="left")
    else:
        table = table.with_columns(premium_pct=pl.lit(0.0))
    result = (
        table.with_columns(pl.col("premium_pct").fill_null(0.0))
        .select(
            fs.ORIGIN,
            fs.DESTINATION,
            informal_ratio=model.ratio_expr(pl.col("cost_pct"), pl.col("premium_pct")),
            offset=pl.lit(0.0),
            log_sd_shared=pl.lit(model.log_sd),
            log_sd_own=pl.lit(0.0),
            method=pl.lit("cost"),
            cost_pct=pl.col("cost_pct"),
            cost_source=pl.col("cost_source"),
            premium_pct=pl.col("premium_pct").cast(pl.Float64),
        )
        .sort(fs.ORIGIN, fs.DESTINATION)
    )
    return source.back(result)


def _premiums(premium: Any, corridors: pl.DataFrame) -> pl.DataFrame:
    """One finite premium (> -100) per receiving country of ``corridors``, else ParameterError."""
    table = _eager(premium, "premium")
    MissingColumnError.require(table.columns, fs.DESTINATION, "premium_pct")
    if fs.PERIOD in table.columns:
        msg = (
            "baseline_from_costs' premium has a period column: the baseline takes one premium "
            "per destination (the level the recorded flows were sent at); pass dated premiums "
            "as estimate_informal(..., drivers=...)"
        )
        raise ParameterError(msg)
    used = table.select(
        pl.col(fs.DESTINATION).cast(pl.String), pl.col("premium_pct").cast(pl.Float64)
    )
    value = pl.col("premium_pct")
    bad = used.filter(value.is_null() | ~value.is_finite() | (value <= -100.0))
    twice = used.filter(pl.col(fs.DESTINATION).is_duplicated())
    unknown = used.join(corridors.select(fs.DESTINATION).unique(), on=fs.DESTINATION, how="anti")
    problems = [
        (bad, "premium_pct must be a finite number above -100 (percent of the official rate)"),
        (twice, "one row per destination"),
        (unknown, "the recorded flows have no such destination (write it as they do, ISO3)"),
    ]
    for rows, what in problems:
        if rows.height:
            msg = f"baseline_from_costs' premium: {what}; {rows.height} row(s) are not, e.g. {rows.row(0)}"
            raise ParameterError(msg)
    return used


def _corridor_costs(recorded: pl.DataFrame, costs: Any) -> pl.DataFrame:
    """Mean ``cost_pct`` per corridor, from ``costs`` or from ``recorded``'s ``cost_ratio``."""
    if costs is None:
        if fs.COST_RATIO not in recorded.columns:
            msg = (
                "baseline_from_costs needs costs: pass costs= (origin, destination, cost_pct), "
                "e.g. fl.read_rpw_corridors(...).panel, or a panel with cost_ratio "
                "(corridor_panel(..., stats=('sum', 'cost_ratio')))"
            )
            raise ParameterError(msg)
        costs = recorded.select(
            fs.ORIGIN, fs.DESTINATION, cost_pct=100.0 * pl.col(fs.COST_RATIO)
        ).filter(pl.col("cost_pct").is_finite())
    table = _eager(costs, "costs")
    MissingColumnError.require(table.columns, fs.ORIGIN, fs.DESTINATION, "cost_pct")
    cost = pl.col("cost_pct").cast(pl.Float64)
    bad = table.filter(cost.is_not_null() & ~cost.is_finite())
    if bad.height:
        msg = (
            f"baseline_from_costs' costs: cost_pct must be finite (null where unknown); "
            f"{bad.height} row(s) are NaN or infinite, e.g. {bad.row(0)}"
        )
        raise ParameterError(msg)
    return table.group_by(*_CORRIDOR_KEYS).agg(pl.col("cost_pct").mean())


def _fill_costs(corridors: pl.DataFrame, per_corridor: pl.DataFrame) -> pl.DataFrame:
    """Every corridor's cost: its own, else its receiving, sending or all countries' mean.

    A published cost at or below zero (Remittance Prices Worldwide has a few, where the
    rate offered beat the official one) cannot set a deterrence by cost: the corridor
    takes the means like a corridor with no survey, and its ``cost_source`` says why.
    """
    published = per_corridor.rename({"cost_pct": "published_pct"})
    per_corridor = published.filter(pl.col("published_pct") > 0).rename(
        {"published_pct": "cost_pct"}
    )
    corridors = corridors.join(published, on=[fs.ORIGIN, fs.DESTINATION], how="left")
    known = corridors.join(per_corridor, on=[fs.ORIGIN, fs.DESTINATION], how="inner")
    if known.height == 0:
        matched = corridors.filter(pl.col("published_pct").is_not_null()).height
        msg = (
            f"no corridor of recorded has a cost above 0: {matched} of its {corridors.height} "
            "corridors matched a row of costs (by origin and destination; check that both use "
            "ISO3 codes), and a cost at or below 0 cannot set a deterrence by cost"
        )
        raise ParameterError(msg)
    weighted = (pl.col("cost_pct") * pl.col("recorded_usd")).sum() / pl.col("recorded_usd").sum()
    by_destination = known.group_by(fs.DESTINATION).agg(destination_cost=weighted)
    by_origin = known.group_by(fs.ORIGIN).agg(origin_cost=weighted)
    global_cost = known.select(weighted).item()
    return (
        corridors.join(per_corridor, on=[fs.ORIGIN, fs.DESTINATION], how="left")
        .join(by_destination, on=fs.DESTINATION, how="left")
        .join(by_origin, on=fs.ORIGIN, how="left")
        .with_columns(
            cost_source=pl.when(pl.col("cost_pct").is_not_null())
            .then(pl.lit("corridor"))
            .when(pl.col("destination_cost").is_not_null())
            .then(pl.lit("destination mean"))
            .when(pl.col("origin_cost").is_not_null())
            .then(pl.lit("origin mean"))
            .otherwise(pl.lit("global mean"))
            + pl.when(pl.col("published_pct") <= 0)
            .then(pl.format(" (published cost {}% <= 0)", pl.col("published_pct").round(2)))
            .otherwise(pl.lit("")),
            cost_pct=pl.coalesce(
                "cost_pct", "destination_cost", "origin_cost", pl.lit(global_cost)
            ),
        )
    )


SHARE_REMITTING_DEFAULT = Triangular(0.3, 0.5, 0.7)
"""Share of migrants who send money home in a year: an assumption (household surveys
put it between about a third and two thirds, depending on the diaspora's age)."""
ANNUAL_AMOUNT_DEFAULT = Triangular(1_500.0, 3_000.0, 6_000.0)
"""USD sent in a year by a migrant who remits: an assumption around IFAD (2017),
"Sending Money Home", which puts a typical transfer at USD 200-300, sent about
monthly. Pass ``annual_amount`` per sending country to reflect host incomes."""


@input_errors("baseline_from_gap")
def baseline_from_gap(
    recorded: Any,
    migrants: Any,
    *,
    share_remitting: float | Prior = SHARE_REMITTING_DEFAULT,
    annual_amount_usd: float | Prior = ANNUAL_AMOUNT_DEFAULT,
    annual_amount: Any = None,
    years: float = 1.0,
    value: str = fs.AMOUNT_USD,
) -> Any:
    """Baseline informal ratio from the demand side: what migrants would send, less what is recorded.

    ``expected = migrants x share remitting x annual amount x years``;
    ``informal = max(expected - recorded, 0)``, so the ratio is
    ``max(expected / recorded - 1, 0)``.

    Parameters
    ----------
    recorded
        Recorded formal flows with ``origin``, ``destination`` and ``value``
        summed over ``years`` years.
    migrants
        ``origin`` (the host, where migrants live and send from), ``destination``
        (their country of birth) and ``migrants``, for example
        :func:`flowlens.read_wb_migrant_stock`'s panel renamed.
    share_remitting, annual_amount_usd
        Numbers or priors; their spread is the shared uncertainty of the estimate.
    annual_amount
        ``origin``, ``annual_amount_usd``: amounts by host country (host incomes
        differ), overriding the central value of ``annual_amount_usd``.

    Returns
    -------
    polars.DataFrame
        The baseline table (see the module notes), with ``expected_usd`` and
        ``recorded_usd``. Corridors with recorded flow but no migrant count get
        ratio 0 and ``method`` ``gap (no migrants)``.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.informal import baseline_from_gap
    >>> recorded = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "amount_usd": [100e6]})
    >>> migrants = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "migrants": [100_000]})
    >>> t = baseline_from_gap(recorded, migrants, share_remitting=0.5, annual_amount_usd=3000.0)
    >>> t["expected_usd"].item(), t["informal_ratio"].item(), t["offset"].item()
    (150000000.0, 1.5, 1.0)
    """
    share = in_range(as_prior(share_remitting, "share_remitting"), "share_remitting", 0.0, 1.0)
    amount = in_range(as_prior(annual_amount_usd, "annual_amount_usd"), "annual_amount_usd", 0.0)
    if not (isinstance(years, int | float) and math.isfinite(years) and years > 0):
        msg = f"years must be a number > 0, got {years!r}"
        raise ParameterError(msg)
    source = from_any(recorded, what="recorded")
    migrants = _eager(migrants, "migrants")
    MissingColumnError.require(migrants.columns, fs.ORIGIN, fs.DESTINATION, "migrants")
    checked_table(migrants, what="migrants", keys=[fs.ORIGIN, fs.DESTINATION], values=["migrants"])
    corridors = _corridors(source.eager(), value)
    stock = migrants.group_by(*_CORRIDOR_KEYS).agg(pl.col("migrants").sum())
    table = corridors.join(stock, on=[fs.ORIGIN, fs.DESTINATION], how="left")
    amount_per_origin = pl.lit(amount.mean)
    if annual_amount is not None:
        annual_amount = _eager(annual_amount, "annual_amount")
        MissingColumnError.require(annual_amount.columns, fs.ORIGIN, "annual_amount_usd")
        table = table.join(
            annual_amount.select(pl.col(fs.ORIGIN).cast(pl.String), "annual_amount_usd"),
            on=fs.ORIGIN,
            how="left",
        )
        amount_per_origin = pl.col("annual_amount_usd").fill_null(amount.mean)
    # the spread of a product of two priors, in logs: from their 5th-95th percentiles
    log_sd = math.hypot(*(_log_spread(p) for p in (share, amount)))
    expected = pl.col("migrants") * share.mean * amount_per_origin * years
    result = (
        table.with_columns(expected_usd=expected)
        .select(
            fs.ORIGIN,
            fs.DESTINATION,
            informal_ratio=(pl.col("expected_usd") / pl.col("recorded_usd")).fill_null(0.0),
            offset=pl.lit(1.0),
            log_sd_shared=pl.lit(log_sd),
            log_sd_own=pl.lit(0.0),
            method=pl.when(pl.col("migrants").is_null())
            .then(pl.lit("gap (no migrants)"))
            .otherwise(pl.lit("gap")),
            expected_usd=pl.col("expected_usd").fill_null(0.0),
            recorded_usd=pl.col("recorded_usd"),
        )
        .with_columns(
            informal_ratio=pl.when(pl.col("recorded_usd") > 0)
            .then(pl.col("informal_ratio"))
            .otherwise(0.0)
        )
        .sort(fs.ORIGIN, fs.DESTINATION)
    )
    return source.back(result)


def _log_spread(prior: Prior) -> float:
    if prior.low <= 0 or prior.high <= 0:
        return 0.0
    return math.log(prior.high / prior.low) / (2 * Z90)


@input_errors("baseline_observed")
def baseline_observed(
    flows: Any, *, value: str = fs.AMOUNT_USD, before: str | dt.date | None = None
) -> Any:
    """Baseline informal ratio measured where the data has informal channels (surveys, synthetic truth).

    Parameters
    ----------
    flows
        A panel or transfers with ``origin``, ``destination``, ``channel`` and
        ``value``. A panel should carry ``n_transfers`` for the sampling noise;
        without it each row counts as one transfer, which overstates the noise of
        a panel's informal sums.
    before
        Only periods before this date (a date or an ISO string; the pre-scenario
        baseline).

    Returns
    -------
    DataFrame
        The kind of table ``flows`` came as; the baseline table: ratio = informal / formal per corridor, with the
        sampling noise of the informal sum as ``log_sd_own`` (``SUM_CV / sqrt(n)``
        for n informal transfers). Corridors with no formal flow are left out:
        their ratio is undefined.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.informal import baseline_observed
    >>> flows = pl.DataFrame({"origin": "USA", "destination": "SOM",
    ...     "channel": ["mto", "informal", "cash_carry"], "amount_usd": [100.0, 30.0, 10.0]})
    >>> baseline_observed(flows)["informal_ratio"].item()
    0.4
    """
    source = from_any(flows, what="flows")
    flows = source.eager()
    MissingColumnError.require(flows.columns, fs.ORIGIN, fs.DESTINATION, fs.CHANNEL, value)
    checked_table(flows, what="flows", keys=[fs.ORIGIN, fs.DESTINATION], texts=[fs.CHANNEL])
    checked_table(flows, what="flows", values=[value, fs.N_TRANSFERS], dates=[fs.PERIOD, fs.DATE])
    if before is not None:
        if fs.PERIOD not in flows.columns and fs.DATE not in flows.columns:
            raise MissingColumnError.for_column(fs.PERIOD, flows.columns)
        when = fs.PERIOD if fs.PERIOD in flows.columns else fs.DATE
        flows = flows.filter(pl.col(when) < pl.lit(_as_day(before)))
    informal = pl.col(fs.CHANNEL).cast(pl.String).is_in(list(fs.INFORMAL_CHANNELS))
    count = pl.col(fs.N_TRANSFERS) if fs.N_TRANSFERS in flows.columns else pl.lit(1)
    per = flows.group_by(*_CORRIDOR_KEYS).agg(
        informal_usd=pl.col(value).filter(informal).sum(),
        formal_usd=pl.col(value).filter(~informal).sum(),
        n_informal=count.filter(informal).sum(),
    )
    result = (
        per.filter(pl.col("formal_usd") > 0)
        .select(
            fs.ORIGIN,
            fs.DESTINATION,
            informal_ratio=pl.col("informal_usd") / pl.col("formal_usd"),
            offset=pl.lit(0.0),
            log_sd_shared=pl.lit(0.0),
            log_sd_own=pl.when(pl.col("n_informal") > 0)
            .then(SUM_CV / pl.col("n_informal").cast(pl.Float64).sqrt())
            .otherwise(0.0),
            method=pl.lit("observed"),
        )
        .sort(fs.ORIGIN, fs.DESTINATION)
    )
    return source.back(result)


def _as_day(value: str | dt.date) -> dt.date:
    """``before`` as a date: a date, a datetime's date, or an ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        msg = f"before must be a date or an ISO date 'YYYY-MM-DD', got {value!r}"
        raise ParameterError(msg) from exc
