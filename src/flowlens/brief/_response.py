"""Section 3 of a crisis brief: the expected response (a prior) and, with data, what is observed."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens.brief._ledger import Ledger
from flowlens.brief._sections import SHOWN_ROWS, Baseline, Senders
from flowlens.brief._sources import Source
from flowlens.errors import ParameterError

LITERATURE: tuple[tuple[str, str, str], ...] = (
    (
        "Yang (2008)",
        "Coping with Disaster: The Impact of Hurricanes on International Financial Flows, "
        "1970-2002. B.E. Journal of Economic Analysis & Policy 8(1), article 13.",
        "In poorer countries hurricanes raise migrants' remittances; inflows from all sources "
        "in the three years after replace roughly four-fifths of estimated damages. In richer "
        "countries no damage replacement can be told from zero.",
    ),
    (
        "Mohapatra, Joseph and Ratha (2012)",
        "Remittances and natural disasters: ex-post response and contribution to ex-ante "
        "preparedness. Environment, Development and Sustainability 14(3), 365-387.",
        "Across countries, remittances rise after natural disasters in countries with more "
        "migrants abroad.",
    ),
    (
        "Clarke and Wallsten (2003)",
        "Do remittances act like insurance? Evidence from a natural disaster in Jamaica. "
        "World Bank, Development Research Group, working paper.",
        "Households hit by Hurricane Gilbert (1988) received about 25 cents more in "
        "remittances per dollar of damage: partial insurance.",
    ),
    (
        "Bragg et al. (2018)",
        "Remittances as aid following major sudden-onset natural disasters. Disasters, "
        "doi:10.1111/disa.12229.",
        "12 countries, 18 disasters, 2000-2014: a quarterly rise after most, but seldom an "
        "annual rise above the country's average growth; the early rise is offset later.",
    ),
)
"""The documented responses the prior is read against: (citation, reference, finding).

None of them gives one percentage that transfers to every country: the size of the
prior comes from the event study on the bundled annual series (below); the literature
sets its sign and its spread (zero is inside the interval, as Bragg et al. find)."""

PRIOR_QUANTILES = (0.1, 0.5, 0.9)
"""The prior's low, central and high: percentiles of the comparable events' responses."""

PANDEMIC_FROM = 2020
"""Events from this year on are left out of the prior: the 2020-2021 remittance boom of the
pandemic, not the disaster, dominates their next year."""

EXCLUDE_WITHIN_YEARS = 1
"""Events in the briefed country within this many years of the crisis are left out (the
event itself, and its neighbours: a prior does not learn from what it predicts)."""


@dataclass(frozen=True)
class Prior:
    """The relative rise of inflows over the twelve months after a disaster: low, central, high."""

    low: float
    central: float
    high: float
    events: pl.DataFrame  # the comparable events used
    horizon_months: int

    @property
    def fraction(self) -> float:
        """The share of the twelve-month response that falls within the horizon (linear)."""
        return min(self.horizon_months, 12) / 12


def prior(country: str, date: dt.date, horizon: int, responses: Source, ledger: Ledger) -> Prior:
    """The response prior from the bundled event study, leaving out the briefed crisis."""
    frame = responses.frame.filter(pl.col("abnormal_12m").is_not_null())
    frame = frame.filter(pl.col("year") < PANDEMIC_FROM).filter(
        ~(
            (pl.col("country") == country)
            & ((pl.col("year") - date.year).abs() <= EXCLUDE_WITHIN_YEARS)
        )
    )
    frame = frame.unique(subset=["country", "year"], keep="first", maintain_order=True).sort(
        "start", "country"
    )
    if frame.height < 3:
        msg = (
            f"disaster_responses: {frame.height} comparable events remain after leaving out "
            f"{country} near {date.year} and events from {PANDEMIC_FROM}; at least 3 are needed"
        )
        raise ParameterError(msg)
    rise = (frame["abnormal_12m"].exp() - 1).sort()
    low, central, high = (
        float(rise.quantile(q, interpolation="linear") or 0.0) for q in PRIOR_QUANTILES
    )
    how = (
        f"percentile of exp(abnormal_12m) - 1 over {frame.height} natural disasters before "
        f"{PANDEMIC_FROM} (one per country-year; {country} within {EXCLUDE_WITHIN_YEARS} year "
        "of the crisis left out); retrospective: events before and after the date"
    )
    ledger.add_frame(
        "3 response",
        frame,
        pl.concat_str(pl.col("event_id"), pl.col("country"), separator=" "),
        {
            "abnormal_12m": (
                "abnormal growth over 12 months",
                "log points",
                "log growth of annual inflows in the event's year and the next less the "
                "pre-trend, weighted by the months after onset in each",
            )
        },
        responses,
    )
    for name, value, q in zip(
        ("low", "central", "high"), (low, central, high), PRIOR_QUANTILES, strict=True
    ):
        ledger.add(
            "3 response",
            f"prior rise over 12 months, {name} (p{round(q * 100)})",
            value,
            "share",
            responses,
            how,
        )
    return Prior(low, central, high, frame, horizon)


def expected(
    senders: Senders, base: Baseline, pri: Prior, ledger: Ledger, country: str
) -> pl.DataFrame:
    """Expected excess inflow by sender over the horizon: share x baseline x rise x fraction."""
    # no recorded inflow: every amount is unknown (null), never a zero
    known = base.inflow_usd is not None
    total = pl.lit(base.inflow_usd, dtype=pl.Float64)
    scale = total * pri.fraction
    table = senders.table.select(
        "origin",
        "share",
        "share_low",
        "share_high",
        (pl.col("share") * total).alias("annual_usd"),
        (pl.col("share") * scale * pri.central).alias("excess_usd"),
        pl.min_horizontal(
            pl.col("share_low") * scale * pri.low, pl.col("share_high") * scale * pri.low
        ).alias("excess_low_usd"),
        pl.max_horizontal(
            pl.col("share_low") * scale * pri.high, pl.col("share_high") * scale * pri.high
        ).alias("excess_high_usd"),
    )
    how = (
        f"share x baseline inflow ({base.year}) x prior rise x {pri.horizon_months}/12 "
        "(the rise spread evenly over the year: an assumption)"
    )
    total_how = (
        f"baseline inflow ({base.year}) x prior rise x {pri.horizon_months}/12: the headline; "
        "its low and high are the prior's p10 and p90 (not a sum of each sender's extremes)"
    )
    total_usd = base.inflow_usd * pri.fraction if known and base.inflow_usd else None
    if not known:
        total_how = f"no recorded inflow ({base.inflow_table}): unknown, not zero"
        how = total_how
    for name, value, label in (
        ("all senders", pri.central, "prior rise"),
        ("low", pri.low, "prior low (p10)"),
        ("high", pri.high, "prior high (p90)"),
    ):
        ledger.add(
            "3 response",
            f"expected excess, {name}, {pri.horizon_months} month{'s' if pri.horizon_months > 1 else ''}",
            None if total_usd is None else total_usd * value,
            "USD",
            senders.source,
            total_how.replace("prior rise", label),
        )
    interval_how = (
        how + "; low (high): the prior's p10 (p90) at the sender's lowest and highest share"
    )
    ledger.add_frame(
        "3 response",
        table.head(SHOWN_ROWS),
        pl.concat_str(pl.col("origin"), pl.lit(f"->{country}")),
        {
            "annual_usd": ("annual inflow", "USD", f"share x baseline inflow ({base.year})"),
            "excess_usd": ("expected excess", "USD", how),
            "excess_low_usd": ("expected excess low", "USD", interval_how),
            "excess_high_usd": ("expected excess high", "USD", interval_how),
        },
        senders.source,
    )
    return table


@dataclass(frozen=True)
class Observed:
    """What the surge detector sees in the recorded data since the crisis."""

    months: pl.DataFrame  # period, amount_usd, baseline, score, flag, kind, excess_usd
    episodes: pl.DataFrame
    result: Any  # the SurgeResult
    source: Source
    status: str | None = None  # why nothing is scored since the crisis (None: scored)


PANEL_COLUMNS = ("period", "destination", "amount_usd")

FORECAST_FIT_MONTHS = 12
"""Months the forecast detector fits before its first forecast error (then ``min_periods``
errors before its first score): it scores month ``12 + min_periods + 1`` first."""

MONTHLY_CEILING_USD = 1e12
"""A month's recorded inflow above this (USD 1 trillion, more than the world's remittances
in a year) is refused as a typing or unit error."""

UNIT_REFUSE_RATIO = 200.0
UNIT_WARN_RATIO = 3.0
"""A recorded series whose sum over a year is more than 200 times (or under 1/200 of)
KNOMAD's inflow of that year is refused as a unit error (thousands, millions); more than
3 times off is a warning with both numbers."""

FLOW_TYPE_SCORED = "remittance"
"""The flow type ``flows=`` is summed over: the brief is about remittances (its baseline is
KNOMAD's remittance inflows, its prior their response); other types are left out, and noted."""


@dataclass(frozen=True)
class Recorded:
    """The country's recorded monthly series, where it came from, and what it lacks.

    ``arg`` is the argument it came from (``"monthly"`` or ``"flows"``), named in every
    message; ``notes`` and ``gaps`` go to the brief's notes and its gaps table.
    """

    series: pl.DataFrame  # destination, period (month start), amount_usd: one row a month
    source: Source
    arg: str
    notes: tuple[str, ...] = ()
    gaps: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()


def _read_monthly(path: Path) -> tuple[pl.DataFrame, Source]:
    """A corridor-panel file (parquet, or CSV with the panel's columns), else an official file."""
    from flowlens.recognise import read_official

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        panel = pl.read_parquet(path)
        return panel, Source("monthly", panel, "corridor panel file", "as given", str(path))
    if suffix == ".csv":
        header = pl.read_csv(path, n_rows=0, infer_schema_length=0).columns
        if all(c in header for c in PANEL_COLUMNS):
            panel = pl.read_csv(path, try_parse_dates=True)
            return panel, Source("monthly", panel, "corridor panel file", "as given", str(path))
    table = read_official(path)
    return table.panel, Source("monthly", table.panel, table.source, table.vintage, str(path))


def _read_file(path: Path) -> tuple[pl.DataFrame, Source]:
    """The file read, or an InputFormatError naming it (missing, empty, corrupt)."""
    from flowlens.errors import FlowlensError, InputFormatError

    fix = (
        "pass a corridor panel (.parquet, or .csv with period, destination, amount_usd) or "
        "an official monthly file flowlens reads"
    )
    if not path.is_file():
        msg = f"crisis_brief's monthly: no file at {str(path)!r}; check the path, or {fix}"
        raise InputFormatError(msg)
    try:
        return _read_monthly(path)
    except FlowlensError:
        raise
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = (
            f"crisis_brief's monthly: cannot read {str(path)!r} ({type(exc).__name__}: "
            f"{first}): the file is empty or not a valid {path.suffix or 'data'} file; {fix}"
        )
        raise InputFormatError(msg) from exc


def _as_panel(monthly: Any) -> tuple[pl.DataFrame, Source]:
    from flowlens._frames import from_any
    from flowlens.official import OfficialTable

    if isinstance(monthly, str | Path):
        return _read_file(Path(monthly))
    if isinstance(monthly, OfficialTable):
        panel = monthly.panel
        return panel, Source("monthly", panel, monthly.source, monthly.vintage, "(a table)")
    panel = from_any(monthly, what="crisis_brief's monthly").eager()
    return panel, Source(
        "monthly", panel, "recorded series passed as monthly=", "as given", "(a table)"
    )


def _spacing_name(days: float) -> str:
    names = {1: "daily", 7: "weekly", 14: "fortnightly"}
    if round(days) in names:
        return names[round(days)]
    if 89 <= days <= 92:
        return "quarterly"
    if 181 <= days <= 184:
        return "half-yearly"
    if 365 <= days <= 366:
        return "annual"
    return f"every {days:g} days"


def _refuse_not_monthly(series: pl.DataFrame, country: str, arg: str) -> None:
    """A recorded series must be monthly: its typical spacing 28 to 31 days."""
    gaps = series.select(
        pl.col("period").cast(pl.Date).diff().dt.total_days().drop_nulls().median().alias("days")
    )["days"][0]
    if gaps is None:
        return
    typical = float(gaps)
    if not 28 <= typical <= 31:
        found = _spacing_name(typical)
        msg = (
            f"crisis_brief's {arg}: the recorded series of {country} is {found} (periods "
            f"{typical:g} days apart, median), not monthly; the brief scores months. Pass a "
            "monthly series (period, destination, amount_usd, one row a month)"
        )
        raise ParameterError(msg)


def _normalised(panel: pl.DataFrame) -> pl.DataFrame:
    """Destination (and origin) names or ISO2 codes as ISO3, as flowlens reads every country."""
    from flowlens.reference import to_iso3

    cols = [c for c in ("destination", "origin") if c in panel.columns]
    return panel.with_columns(
        to_iso3(pl.col(c)).fill_null(pl.col(c).cast(pl.String)).alias(c) for c in cols
    )


def _further_keys(rows: pl.DataFrame) -> list[str]:
    """Text columns beyond (period, destination, origin): a panel's further keys, summed over.

    ``corridor_panel`` writes ``flow_type`` (and ``channel`` for a channel split, or any
    ``by=`` key); a panel of one's own may split by ``currency``. Numbers (``n_transfers``,
    means) are statistics, not keys.
    """
    text = (pl.String, pl.Categorical, pl.Enum)
    return [
        c
        for c, dtype in rows.schema.items()
        if c not in ("period", "destination", "origin") and isinstance(dtype, text)
    ]


def _remittances_only(rows: pl.DataFrame, country: str) -> tuple[pl.DataFrame, list[str]]:
    """A ``flow_type`` column keeps remittances only, as ``flows=`` does; the rest is noted."""
    if "flow_type" not in rows.columns:
        return rows, []
    kind = pl.col("flow_type").cast(pl.String)
    left_out = (
        rows.filter(kind.ne_missing(FLOW_TYPE_SCORED))
        .group_by(kind.fill_null("(null)"))
        .agg(pl.len().alias("rows"), pl.col("amount_usd").cast(pl.Float64).sum())
        .sort("flow_type")
    )
    kept = rows.filter(kind.eq_missing(FLOW_TYPE_SCORED))
    if left_out.height == 0:
        return kept, []
    if kept.height == 0:
        found = ", ".join(left_out["flow_type"].to_list())
        msg = (
            f"crisis_brief's monthly: no flow_type '{FLOW_TYPE_SCORED}' rows for {country} "
            f"(flow types found: {found}); the brief scores remittances: pass the remittance "
            "series, or drop the flow_type column if the series is remittances"
        )
        raise ParameterError(msg)
    listed = "; ".join(f"{t} ({n} rows, USD {a:,.0f})" for t, n, a in left_out.iter_rows())
    note = (
        f"monthly=: only flow_type '{FLOW_TYPE_SCORED}' is scored (the brief is about "
        f"remittances); left out for {country}: {listed}."
    )
    return kept, [note]


def _refuse_duplicates(rows: pl.DataFrame, country: str) -> None:
    """Two rows for one month (and origin, and further key) would be summed silently: refuse.

    Rows that differ in a further key (``channel``, ``currency``) are parts of the month
    and are summed; rows that share every key are named.
    """
    keys: list[str] = [c for c in ("period", "destination", "origin") if c in rows.columns]
    keys += _further_keys(rows)
    twice = rows.filter(pl.struct(keys).is_duplicated()).sort(keys)
    if twice.height == 0:
        return
    named = twice.head(6).select(
        pl.concat_str(
            [pl.col(k).cast(pl.String).fill_null("-") for k in keys]
            + [pl.col("amount_usd").cast(pl.String).fill_null("-")],
            separator=" ",
        )
    )
    listed = "; ".join(named.to_series().to_list())
    msg = (
        f"crisis_brief's monthly: the recorded series of {country} has {twice.height} rows "
        f"sharing a ({', '.join(keys)}) with another ({listed}); one row a month per "
        f"({', '.join(keys[1:])}) is expected: drop the duplicates, or sum them yourself if "
        "they are parts"
    )
    raise ParameterError(msg)


def _refuse_null_periods(rows: pl.DataFrame, country: str) -> None:
    """A row without a period is in no month: refused (not reported as a duplicate month)."""
    nulls = rows["period"].null_count()
    if nulls:
        msg = (
            f"crisis_brief's monthly: period is missing (null) in {nulls} row(s) of "
            f"{country}'s recorded series; every row needs its month: fill or drop those rows"
        )
        raise ParameterError(msg)


def _months_text(months: pl.Series) -> str:
    """``2020-04`` or ``3 months: 2019-01, ... 2019-03`` (count, first and last)."""
    text = months.sort().dt.strftime("%Y-%m").to_list()
    if len(text) <= 3:
        return ", ".join(text)
    return f"{len(text)} months, {text[0]} to {text[-1]}"


def _refuse_bad_types(panel: pl.DataFrame, arg: str, where: str) -> None:
    """Dates in ``period`` and numbers in ``amount_usd``, and at least one row."""
    if panel.height == 0:
        msg = (
            f"crisis_brief's {arg}: {where} has no rows (a header only?); pass a monthly series "
            "with rows (period, destination, amount_usd)"
        )
        raise ParameterError(msg)
    period, amount = panel.schema["period"], panel.schema["amount_usd"]
    if not (period == pl.Date or isinstance(period, pl.Datetime)):
        example = panel["period"].cast(pl.String).drop_nulls().head(1).to_list()
        msg = (
            f"crisis_brief's {arg}: column 'period' of {where} holds {period} "
            f"(e.g. {example[0] if example else None!r}), not dates; parse it first, e.g. "
            "pl.col('period').str.to_date('%Y-%m') for '2020-01', or write ISO dates (2020-01-01)"
        )
        raise ParameterError(msg)
    if not amount.is_numeric():
        example = panel["amount_usd"].cast(pl.String).drop_nulls().head(2).to_list()
        msg = (
            f"crisis_brief's {arg}: column 'amount_usd' of {where} holds {amount} "
            f"(e.g. {', '.join(map(repr, example)) or 'nothing'}), not numbers; give amounts "
            "in USD as numbers (no currency signs nor text)"
        )
        raise ParameterError(msg)


def _refuse_missing_or_negative(rows: pl.DataFrame, country: str, arg: str) -> None:
    """A null (or NaN) amount is not a zero, and an inflow is not negative: refuse, naming months."""
    value = pl.col("amount_usd").cast(pl.Float64)
    missing = rows.filter(value.is_null() | value.is_nan())["period"]
    if missing.len():
        msg = (
            f"crisis_brief's {arg}: amount_usd of {country} is missing (null) in "
            f"{_months_text(missing)}; a missing month is not a zero. Drop those rows (the "
            "brief then reports the gap) or fill them with the recorded amounts"
        )
        raise ParameterError(msg)
    absurd = rows.filter(value.is_infinite() | (value > MONTHLY_CEILING_USD))
    if absurd.height:
        largest = absurd.select(pl.col("amount_usd").cast(pl.Float64).max()).item()
        msg = (
            f"crisis_brief's {arg}: amount_usd of {country} is infinite or beyond USD "
            f"{MONTHLY_CEILING_USD:.0e} a month (largest {largest:g}) in "
            f"{_months_text(absurd['period'])}; no country receives that much (all the "
            "world's remittances are about USD 0.9e12 a year): a typing or unit error? "
            "Correct those rows"
        )
        raise ParameterError(msg)
    negative = rows.filter(value < 0)["period"]
    if negative.len():
        msg = (
            f"crisis_brief's {arg}: amount_usd of {country} is negative in "
            f"{_months_text(negative)}; recorded inflows are zero or more: correct those rows"
        )
        raise ParameterError(msg)


def _load_flows(flows: Any) -> Any:
    """flowlens.load_flows on ``flows=``; its errors name flows=, a corridor panel points to monthly=."""
    from flowlens._frames import from_any
    from flowlens.brief._sources import reworded
    from flowlens.errors import FlowlensError
    from flowlens.validate import load_flows

    if not isinstance(flows, str | Path):
        try:
            columns = from_any(flows, what="crisis_brief's flows").lazy().collect_schema().names()
        except FlowlensError:
            columns = []
        if all(c in columns for c in PANEL_COLUMNS) and "date" not in columns:
            msg = (
                "crisis_brief's flows: this table is a corridor panel (period, destination, "
                "amount_usd), not transactions; pass it as monthly= (flows= takes "
                "transactions with a date, an amount and a currency for flowlens.load_flows)"
            )
            raise ParameterError(msg)
    try:
        return load_flows(flows)
    except FlowlensError as exc:
        text = (
            f"crisis_brief's flows: {exc} (flows= takes transactions flowlens.load_flows "
            "reads; a monthly series or corridor panel goes to monthly=)"
        )
        raise reworded(exc, text) from exc


def _from_flows(flows: Any, country: str) -> tuple[pl.DataFrame, Source, list[str]]:
    """Transactions summed by month over every origin and channel: remittances only."""
    from flowlens.panel import corridor_panel

    report = _load_flows(flows)
    panel = _normalised(corridor_panel(report, freq="month"))
    mine = panel.filter(pl.col("destination").cast(pl.String) == country)
    notes: list[str] = []
    left_out = (
        mine.filter(pl.col("flow_type").cast(pl.String) != FLOW_TYPE_SCORED)
        .group_by(pl.col("flow_type").cast(pl.String))
        .agg(pl.col("amount_usd").sum(), pl.col("n_transfers").sum())
        .sort("flow_type")
    )
    if left_out.height:
        listed = "; ".join(f"{t} ({n} transfers, USD {a:,.0f})" for t, a, n in left_out.iter_rows())
        notes.append(
            f"flows=: only flow_type '{FLOW_TYPE_SCORED}' is summed (the brief is about "
            f"remittances); left out for {country}: {listed}."
        )
    if report.n_rejected:
        notes.append(
            f"flows=: {report.n_rejected} of {report.n_rows_in} transactions failed "
            "flowlens.load_flows's validation and are left out (see its rejects)."
        )
    kept = mine.filter(pl.col("flow_type").cast(pl.String) == FLOW_TYPE_SCORED).select(
        "period", pl.col("destination").cast(pl.String), "amount_usd"
    )
    source = Source("monthly", kept, "transactions passed as flows=", "as given", "(flows)")
    return kept, source, notes


def _gaps(series: pl.DataFrame, arg: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Months missing between the series' first and last: a note and a gaps row."""
    full = series.select(
        pl.date_range(pl.col("period").min(), pl.col("period").max(), "1mo").alias("period")
    )
    missing = full.join(series, on="period", how="anti")["period"]
    if missing.len() == 0:
        return [], []
    listed = _months_text(missing)
    count = f"{missing.len()} month{'s' if missing.len() > 1 else ''}"
    text = f"{count} missing inside the recorded series ({arg}=): {listed}"
    note = (
        f"The recorded series ({arg}=) misses {listed if missing.len() > 3 else count + ': ' + listed}"
        ". They are unknown, not zero; the detector fits and scores the months it has, "
        "without them."
    )
    return [note], [("monthly series gaps", text)]


def recorded_panel(monthly: Any, flows: Any, country: str) -> Recorded | None:
    """The recorded series of the country: from a file, a panel, an official table or transactions.

    Raises
    ------
    ParameterError
        A series without the panel's columns or the country, with text periods or
        amounts, a missing or negative amount, or one that is not monthly.
    InputFormatError
        A file that is missing, empty or cannot be read.
    """
    if monthly is None and flows is None:
        return None
    if monthly is not None and flows is not None:
        msg = "crisis_brief: give monthly= or flows=, not both (one recorded series is scored)"
        raise ParameterError(msg)
    arg = "flows" if flows is not None else "monthly"
    notes: list[str] = []
    if flows is not None:
        mine, source, notes = _from_flows(flows, country)
        where = "the transactions"
    else:
        panel, source = _as_panel(monthly)
        where = "the table" if source.file.startswith("(") else source.file
        for column in PANEL_COLUMNS:
            if column not in panel.columns:
                msg = (
                    f"crisis_brief's monthly: {where} has no {column!r} column "
                    f"(columns: {', '.join(panel.columns)}); pass a corridor panel (period, "
                    "destination, amount_usd) or an official file flowlens reads"
                )
                raise ParameterError(msg)
        _refuse_bad_types(panel, arg, where)
        panel = _normalised(panel)
        mine = panel.filter(pl.col("destination") == country)
        if mine.height:
            mine, notes = _remittances_only(mine, country)
        _refuse_null_periods(mine, country)
        _refuse_duplicates(mine, country)
        if mine.height == 0:
            found = panel["destination"].cast(pl.String).unique().drop_nulls().sort().to_list()
            msg = (
                f"crisis_brief's monthly: no rows for {country} in the recorded series "
                f"(destinations found: {', '.join(found[:10]) or 'none'}); pass the series of "
                f"{country}"
            )
            raise ParameterError(msg)
    if mine.height == 0:
        msg = (
            f"crisis_brief's flows: no {FLOW_TYPE_SCORED} transactions to {country} in the "
            f"flows given; pass the transactions of {country}"
        )
        raise ParameterError(msg)
    _refuse_missing_or_negative(mine, country, arg)
    _refuse_not_monthly(mine.select("period").unique().sort("period"), country, arg)
    series = (
        mine.group_by(
            pl.col("destination").cast(pl.String),
            pl.col("period").dt.truncate("1mo").cast(pl.Date),
        )
        .agg(pl.col("amount_usd").cast(pl.Float64).sum())
        .sort("period")
    )
    gap_notes, gaps = _gaps(series, arg)
    zeros = _trailing_zeros(series, arg)
    if zeros:
        gaps.append(("zero months at the end of the recorded series", zeros))
    warnings = (f"Warning: {zeros[0].upper()}{zeros[1:]}.",) if zeros else ()
    return Recorded(series, source, arg, (*notes, *gap_notes), tuple(gaps), warnings)


def _trailing_zeros(series: pl.DataFrame, arg: str) -> str | None:
    """The zero months that end a series (after its last non-zero one), as a clause."""
    last = series.filter(pl.col("amount_usd") != 0)["period"].max()
    if last is None:  # all zero: the status says so
        return None
    zeros = series.filter(pl.col("period") > last)["period"]
    if zeros.len() == 0:
        return None
    first, final = zeros.min(), zeros.max()
    assert isinstance(first, dt.date) and isinstance(final, dt.date)  # noqa: S101 (non-empty)
    span = f"{first:%Y-%m}" if first == final else f"{first:%Y-%m} to {final:%Y-%m}"
    return (
        f"the recorded series ({arg}=) ends with {_months(zeros.len())} of zero ({span}): "
        "they may be months not yet reported rather than no "
        "inflow; the detector scores them as recorded (a collapse). Drop them if unreported"
    )


def _months(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"


def unit_check(recorded: Recorded, knomad: Source, country: str) -> str | None:
    """The recorded series against KNOMAD's annual inflow of a year both cover, in USD.

    Over 200 times off (either way) is refused as a unit error, naming the likely
    unit; over 3 times off is a warning with both numbers (returned); else None.

    Raises
    ------
    ParameterError
        The series' sum over a year is under 1/200 or over 200 times KNOMAD's.
    """
    full_years = (
        recorded.series.group_by(pl.col("period").dt.year().cast(pl.Int64).alias("year"))
        .agg(pl.col("amount_usd").sum().alias("series_usd"), pl.len().alias("months"))
        .filter((pl.col("months") == 12) & (pl.col("series_usd") > 0))
    )
    annual = knomad.frame.filter(
        (pl.col("country") == country) & (pl.col("inflow_usd").cast(pl.Float64) > 0)
    ).select(pl.col("year").cast(pl.Int64), pl.col("inflow_usd").cast(pl.Float64))
    both = full_years.join(annual, on="year").sort("year")
    if both.height == 0:
        return None
    year, series_usd, _, inflow = both.row(-1)
    ratio = series_usd / inflow
    found = (
        f"its sum over {year} is USD {series_usd:,.0f}, against USD {inflow:,.0f} in the "
        f"annual inflow table ({knomad.source}), {ratio:.3g} times"
    )
    if ratio < 1 / UNIT_REFUSE_RATIO:
        power = min(max(round(-math.log10(ratio) / 3), 1), 3)
        unit = {1: "thousands", 2: "millions", 3: "billions"}[power]
        msg = (
            f"crisis_brief's {recorded.arg}: amount_usd of {country} looks like USD {unit}, "
            f"not USD: {found}. Multiply amount_usd by 1e{3 * power} (e.g. "
            f"pl.col('amount_usd') * 1e{3 * power}); if the series is only part of the "
            "inflows, the brief cannot score it as the country's"
        )
        raise ParameterError(msg)
    if ratio > UNIT_REFUSE_RATIO:
        msg = (
            f"crisis_brief's {recorded.arg}: amount_usd of {country} is far above the recorded "
            f"inflow: {found}. Amounts in local currency or in cents? Convert them to USD"
        )
        raise ParameterError(msg)
    if not 1 / UNIT_WARN_RATIO <= ratio <= UNIT_WARN_RATIO:
        return (
            f"Warning: the recorded series ({recorded.arg}=) is far from the annual inflow: "
            f"{found}. Check its unit and coverage: the excess it shows is in its units"
        )
    return None


def observed(  # noqa: PLR0917 (the series and the crisis)
    series: pl.DataFrame, source: Source, date: dt.date, horizon: int, country: str, ledger: Ledger
) -> Observed:
    """Scores, flags and excess over the forecast baseline from the crisis month on."""
    from flowlens.surge import detect_surges, surge_episodes

    result = detect_surges(series, by=["destination"])
    start = date.replace(day=1)
    years, month = divmod(start.month - 1 + horizon, 12)
    end = dt.date(start.year + years, month + 1, 1)  # the first month after the horizon
    months = (
        result.scored.filter((pl.col("period") >= start) & (pl.col("period") < end))
        .sort("period")
        .select(
            "period",
            "amount_usd",
            pl.col("baseline").alias("baseline_usd"),
            "score",
            "flag",
            "kind",
            (pl.col("amount_usd") - pl.col("baseline")).alias("excess_usd"),
        )
    )
    episodes = surge_episodes(result)
    episodes = episodes.filter(pl.col("end") >= start) if episodes.height else episodes
    ledger.add_frame(
        "3 response",
        episodes,
        pl.col("start").cast(pl.String),
        {
            "n_periods": ("episode months", "months", "flowlens.surge_episodes"),
            "peak_score": ("episode peak score", "score", "flowlens.surge_episodes"),
            "observed_usd": ("episode observed", "USD", "flowlens.surge_episodes"),
            "baseline_usd": ("episode baseline", "USD", "flowlens.surge_episodes"),
            "excess_usd": ("episode excess", "USD", "flowlens.surge_episodes"),
            "uplift": ("episode uplift", "share", "flowlens.surge_episodes: excess / baseline"),
        },
        source,
    )
    status = _status(series, months, (start, end), result.min_periods)
    how = "flowlens.detect_surges (forecast method, by destination) on the recorded series"
    for row in months.iter_rows(named=True):
        ledger.add(
            "3 response",
            f"observed {row['period']:%Y-%m}",
            row["amount_usd"],
            "USD",
            source,
            "recorded value",
        )
        ledger.add(
            "3 response",
            f"forecast baseline {row['period']:%Y-%m}",
            row["baseline_usd"],
            "USD",
            source,
            how + ": the forecast for the month",
        )
        ledger.add("3 response", f"score {row['period']:%Y-%m}", row["score"], "score", source, how)
        ledger.add(
            "3 response",
            f"excess {row['period']:%Y-%m}",
            row["excess_usd"],
            "USD",
            source,
            how + ": value - forecast baseline",
        )
    if status is None:
        ledger.add(
            "3 response",
            f"observed excess so far ({months.height} months)",
            float(months["excess_usd"].fill_null(0).sum()),
            "USD",
            source,
            "sum of the monthly excesses since the crisis month",
        )
    return Observed(months, episodes, result, source, status)


def _status(
    series: pl.DataFrame, months: pl.DataFrame, window: tuple[dt.date, dt.date], min_periods: int
) -> str | None:
    """Why the recorded series says nothing since the crisis (None when it is scored).

    It ends before the crisis, starts after it (no history to fit), has no month in the
    horizon, is all zero, or is too short.
    """
    start, end = window
    first, last = series["period"].min(), series["period"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)  # noqa: S101 (a non-empty series)
    if series.filter(pl.col("amount_usd") != 0).height == 0:
        return (
            f"the recorded series is all zero ({series.height} months, {first:%Y-%m} to "
            f"{last:%Y-%m}): nothing to score"
        )
    if last < start:
        return (
            f"the recorded series ends in {last:%Y-%m}, before the crisis month {start:%Y-%m}: "
            "nothing is recorded since the crisis"
        )
    if first >= start:
        shown = (
            "no month of it is in the horizon"
            if first >= end
            else "there is no month before the crisis to fit a forecast on"
        )
        return (
            f"the recorded series starts in {first:%Y-%m}, after the crisis month "
            f"{start:%Y-%m}: {shown}"
        )
    if months.height == 0:
        return (
            f"the recorded series has no month from {start:%Y-%m} to the end of the horizon "
            "(a gap): nothing is recorded since the crisis"
        )
    if months["score"].is_null().all():
        needs = FORECAST_FIT_MONTHS + min_periods + 1
        return (
            f"not enough history to score ({series.height} months; the detector needs "
            f"{needs}: a year to fit the forecast, then {min_periods} past forecast errors)"
        )
    return None
