"""Sections 1, 2 and 4 of a crisis brief: context, who sends, channels and costs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from flowlens.brief._ledger import Ledger
from flowlens.brief._sources import Source
from flowlens.graph import CorridorGraph

CONTEXT_YEARS_BEFORE = 5
"""How many years before the crisis the context table shows (and the trend spans)."""

SDG_AVERAGE_PCT = 3.0
SDG_CORRIDOR_MAX_PCT = 5.0
"""SDG target 10.c: the average cost of sending remittances below 3% by 2030, no corridor above 5%."""

ESTIMATE_ELASTICITIES = (0.0, 0.2, 0.4)
"""Income elasticities of the income-weighted estimate: the low, default and high rule.

0.2 is :func:`flowlens.estimate_bilateral`'s default, fitted to the 2017 World Bank
matrix; 0 is migrants alone; 0.4 doubles the weight on host income. The range of
shares over the three is the estimate's stated uncertainty (an assumption)."""


@dataclass(frozen=True)
class Baseline:
    """The annual inflow the brief scales everything by: the year before the crisis if recorded."""

    year: int | None
    inflow_usd: float | None
    note: str


def context(  # noqa: PLR0917  # long: section 1's table and its ledger rows
    country: str, year: int, knomad: Source, fts: Source, population: Source | None, ledger: Ledger
) -> tuple[pl.DataFrame, Baseline, list[str]]:
    """Recorded inflows, humanitarian funding and their ratio for the years around ``year``."""
    notes: list[str] = []
    first = year - CONTEXT_YEARS_BEFORE
    inflows = knomad.frame.filter(pl.col("country") == country).select(
        "year", pl.col("inflow_usd").cast(pl.Float64)
    )
    funding = fts.frame.filter(pl.col("country") == country).select(
        "year", "requirements_usd", "funding_usd", "total_funding_usd"
    )
    years = pl.DataFrame({"year": list(range(first, year + 3))}, schema={"year": pl.Int64})
    table = (
        years.join(inflows.with_columns(pl.col("year").cast(pl.Int64)), on="year", how="left")
        .join(funding.with_columns(pl.col("year").cast(pl.Int64)), on="year", how="left")
        .with_columns(
            ratio=pl.when(pl.col("total_funding_usd") > 0).then(
                pl.col("inflow_usd") / pl.col("total_funding_usd")
            ),
            after_crisis=pl.col("year") >= year,
        )
    )
    if population is not None:
        people = population.frame.filter(pl.col("country") == country).select(
            pl.col("year").cast(pl.Int64), pl.col("value").alias("population")
        )
        table = table.join(people, on="year", how="left").with_columns(
            inflow_per_capita_usd=pl.col("inflow_usd") / pl.col("population")
        )
    else:
        notes.append("No population table was given: remittances per capita are left out.")
    base = _baseline(country, year, inflows, knomad, ledger)
    recorded = table.filter(pl.col("inflow_usd").is_not_null())
    missing = table.filter(pl.col("inflow_usd").is_null() & (pl.col("year") <= year))["year"]
    if missing.len():
        notes.append(
            f"KNOMAD records no inflow for {country} in {', '.join(map(str, missing.to_list()))} "
            "(a zero in its file means missing)."
        )
    for row in recorded.iter_rows(named=True):
        ledger.add(
            "1 context",
            f"inflow {row['year']}",
            row["inflow_usd"],
            "USD",
            knomad,
            f"KNOMAD annual inflows, {country}, {row['year']}",
        )
        if row["total_funding_usd"] is not None:
            ledger.add(
                "1 context",
                f"humanitarian funding {row['year']}",
                row["total_funding_usd"],
                "USD",
                fts,
                f"FTS total funding (inside and outside appeals), {country}, {row['year']}",
            )
            ledger.add(
                "1 context",
                f"inflow / humanitarian funding {row['year']}",
                row["ratio"],
                "ratio",
                knomad,
                "inflow / FTS total funding of the same year",
                vintage=f"{knomad.vintage}; FTS",
            )
    _trend(country, year, table, knomad, ledger)
    if population is not None and base.year is not None:
        at_base = table.filter(pl.col("year") == base.year)
        if at_base.height and at_base["population"][0] is not None:
            ledger.add(
                "1 context",
                f"inflow per capita {base.year}",
                at_base["inflow_per_capita_usd"][0],
                "USD per person",
                population,
                f"inflow {base.year} / population {base.year}",
            )
    if funding.height == 0:
        notes.append(f"OCHA FTS records no humanitarian plan or funding for {country}.")
    return table, base, notes


def _baseline(
    country: str, year: int, inflows: pl.DataFrame, knomad: Source, ledger: Ledger
) -> Baseline:
    known = inflows.filter(pl.col("inflow_usd").is_not_null() & (pl.col("inflow_usd") > 0))
    before = known.filter(pl.col("year") < year).sort("year")
    if before.height:
        y, v = int(before["year"][-1]), float(before["inflow_usd"][-1])
        note = f"the recorded inflow of {y}, the last year before the crisis"
    elif known.height:
        after = known.sort("year")
        y, v = int(after["year"][0]), float(after["inflow_usd"][0])
        note = (
            f"KNOMAD records no inflow to {country} before {year}; the first recorded year, "
            f"{y}, stands in (an assumption: the level may differ)"
        )
    else:
        return Baseline(None, None, f"KNOMAD records no inflow to {country} in any year")
    ledger.add("1 context", f"baseline inflow ({y})", v, "USD", knomad, note)
    return Baseline(y, v, note)


def _trend(country: str, year: int, table: pl.DataFrame, knomad: Source, ledger: Ledger) -> None:
    known = table.filter(pl.col("inflow_usd").is_not_null() & (pl.col("year") < year)).sort("year")
    if known.height < 2:
        return
    y0, y1 = int(known["year"][0]), int(known["year"][-1])
    growth = (float(known["inflow_usd"][-1]) / float(known["inflow_usd"][0])) ** (1 / (y1 - y0)) - 1
    ledger.add(
        "1 context",
        f"trend {y0}-{y1} (growth a year)",
        growth,
        "share",
        knomad,
        f"(inflow {y1} / inflow {y0}) ** (1 / {y1 - y0}) - 1, {country}",
    )


@dataclass(frozen=True)
class Senders:
    """Who sends: shares per sending country, the graph, and where they came from."""

    table: pl.DataFrame  # origin, amount_usd, share, share_low, share_high, method
    graph: CorridorGraph
    method: str  # "matrix" or "estimate"
    edition: int | None
    vintage: str
    source: Source | None


def _matrix_choice(years: list[int], year: int) -> list[int]:
    """Editions in order of preference: the latest at or before ``year``, then nearest in time."""
    at_or_before = [y for y in years if y <= year]
    first = max(at_or_before) if at_or_before else min(years)
    return [first, *sorted((y for y in years if y != first), key=lambda y: (abs(y - year), -y))]


def senders(  # noqa: PLR0917  # long: the choice of edition, the fallback and the ledger rows
    country: str,
    year: int,
    bilateral: Source,
    stock: Source,
    base: Baseline,
    ledger: Ledger,
    notes: list[str],
) -> Senders | None:
    """Sending countries' shares from the chosen matrix edition, or the income-weighted estimate."""
    cells = bilateral.frame.filter(pl.col("destination") == country)
    years = sorted(int(y) for y in bilateral.frame["year"].unique().to_list())
    order = _matrix_choice(years, year) if years else []
    chosen = next((y for y in order if cells.filter(pl.col("year") == y).height), None)
    if order and chosen != order[0]:
        notes.append(
            f"The {order[0]} bilateral matrix ({bilateral.edition(order[0])}) has no column for "
            f"{country} (every cell zero or empty: the World Bank had no recorded inflow total "
            "to allocate)."
            + (
                f" The {chosen} edition ({bilateral.edition(chosen)}), the nearest that has one, "
                "is used instead."
                if chosen is not None
                else " No edition has one: the income-weighted estimate is used."
            )
        )
    if chosen is not None:
        edges = cells.filter(pl.col("year") == chosen)
        table = _shares(edges.select("origin", "amount_usd")).with_columns(method=pl.lit("matrix"))
        other = cells.filter(pl.col("year") != chosen)
        if other.height:
            spread = (
                other.with_columns(
                    share=pl.col("amount_usd") / pl.col("amount_usd").sum().over("year")
                )
                .group_by("origin")
                .agg(other_low=pl.col("share").min(), other_high=pl.col("share").max())
            )
            table = (
                table.join(spread, on="origin", how="left")
                .with_columns(
                    share_low=pl.min_horizontal("share", pl.col("other_low").fill_null(0.0)),
                    share_high=pl.max_horizontal("share", pl.col("other_high").fill_null(0.0)),
                )
                .drop("other_low", "other_high")
            )
        else:
            table = table.with_columns(share_low=pl.col("share"), share_high=pl.col("share"))
        vintage = bilateral.edition(chosen)
        how = f"{chosen} bilateral matrix ({vintage}), cell / column sum"
        result = Senders(table, _graph(edges, chosen), "matrix", chosen, vintage, bilateral)
    else:
        estimated = _estimate(country, year, stock, base, notes)
        if estimated is None:
            notes.append(
                f"No bilateral matrix nor migrant stock names senders to {country}: "
                "the brief cannot say who sends."
            )
            return None
        table, edition = estimated
        vintage = stock.edition(edition)
        how = (
            f"income-weighted estimate (flowlens.estimate_bilateral, stock_income) from the "
            f"{edition} migrant stock ({vintage}); low/high: income elasticity 0 and 0.4"
        )
        edges = table.select(
            pl.lit(edition).alias("year"),
            "origin",
            pl.lit(country).alias("destination"),
            "amount_usd",
        )
        result = Senders(table, _graph(edges, edition), "estimate", edition, vintage, stock)
    for row in result.table.head(10).iter_rows(named=True):
        ledger.add(
            "2 who sends",
            f"share {row['origin']}",
            row["share"],
            "share",
            result.source,
            how,
            vintage=vintage,
        )
    return result


def _shares(edges: pl.DataFrame) -> pl.DataFrame:
    return (
        edges.group_by("origin")
        .agg(pl.col("amount_usd").sum())
        .with_columns(share=pl.col("amount_usd") / pl.col("amount_usd").sum())
        .sort("amount_usd", "origin", descending=[True, False])
    )


def _graph(edges: pl.DataFrame, year: int) -> CorridorGraph:
    panel = edges.select(
        pl.lit(dt.date(year, 1, 1)).alias("period"), "origin", "destination", "amount_usd"
    )
    return CorridorGraph.from_panel(panel)


def _estimate(
    country: str, year: int, stock: Source, base: Baseline, notes: list[str]
) -> tuple[pl.DataFrame, int] | None:
    from flowlens.bilateral import estimate_bilateral

    migrants = stock.frame.filter(pl.col("destination") == country)
    years = sorted(int(y) for y in migrants["year"].unique().to_list())
    if not years:
        return None
    edition = _matrix_choice(years, year)[0]
    cells = migrants.filter(pl.col("year") == edition).select(
        pl.lit(dt.date(edition, 1, 1)).alias("period"), "origin", "destination", "migrants"
    )
    total = base.inflow_usd if base.inflow_usd is not None else 1.0
    totals = pl.DataFrame({"destination": [country], "amount_usd": [total]})
    shares = []
    for elasticity in ESTIMATE_ELASTICITIES:
        estimate = estimate_bilateral(
            totals, cells, rule="stock_income", year=edition, income_elasticity=elasticity
        )
        shares.append(
            estimate.flows.select(
                pl.col("origin").cast(pl.String),
                (pl.col("amount_usd") / pl.col("amount_usd").sum()).alias(f"s{elasticity}"),
            )
        )
    table = (
        shares[1].join(shares[0], on="origin", how="left").join(shares[2], on="origin", how="left")
    )
    cols = [f"s{e}" for e in ESTIMATE_ELASTICITIES]
    table = table.select(
        "origin",
        (pl.col(cols[1]) * total).alias("amount_usd"),
        pl.col(cols[1]).alias("share"),
        pl.min_horizontal(cols).alias("share_low"),
        pl.max_horizontal(cols).alias("share_high"),
        pl.lit("estimate").alias("method"),
    ).sort("amount_usd", "origin", descending=[True, False])
    notes.append(
        f"Senders to {country} are estimated, not taken from a matrix: the {edition} migrant "
        f"stock allocates the inflow by flowlens.estimate_bilateral's income-weighted rule; "
        "each share's low and high are the rule with income elasticity 0 and 0.4."
    )
    return table, edition


@dataclass(frozen=True)
class Channels:
    """Section 4: costs per corridor, SDG 10.c, de-risking exposure, informal share."""

    costs: pl.DataFrame
    derisking: pl.DataFrame
    summary: dict[str, float | None]


def latest_prices(rpw: Source, country: str, date: dt.date) -> pl.DataFrame:
    """Each corridor's latest survey at or before ``date``, else its first survey after it."""
    prices = rpw.frame.filter(pl.col("destination") == country).with_columns(
        before=pl.col("period") <= date
    )
    return (
        prices.sort("origin", "period")
        .group_by("origin")
        .agg(
            pl.when(pl.col("before").any())
            .then(pl.col("cost_pct").filter(pl.col("before")).last())
            .otherwise(pl.col("cost_pct").first())
            .alias("cost_pct"),
            pl.when(pl.col("before").any())
            .then(pl.col("period").filter(pl.col("before")).last())
            .otherwise(pl.col("period").first())
            .alias("survey"),
            pl.col("before").any().alias("survey_before_date"),
        )
        .sort("origin")
    )
