"""Sections 1, 2 and 4 of a crisis brief: context, who sends, channels and costs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from flowlens.brief._ledger import Ledger
from flowlens.brief._sources import Source
from flowlens.graph import CorridorGraph

SHOWN_ROWS = 15
"""Rows of the senders', response and cost tables a brief shows (each has provenance rows)."""

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


SENDER_COLUMNS = ("origin", "amount_usd", "share", "share_low", "share_high", "method")
"""The columns of ``CrisisBrief.senders``, in this order, from a matrix or an estimate."""

ESTIMATE_POINT = "estimate, no range (no income)"
"""The ``method`` of an estimate whose corridors all lack an income: shares are points."""

STALE_AFTER_YEARS = 1
"""A baseline further than this many years from the crisis year is called stale (noted)."""


@dataclass(frozen=True)
class Baseline:
    """The annual inflow the brief scales everything by: the year before the crisis if recorded.

    ``crisis_year`` is the year of the date; ``file_years`` the first and last year
    the inflow table covers (for any country): a crisis outside them is out of sample.
    """

    year: int | None
    inflow_usd: float | None
    note: str
    crisis_year: int = 0
    file_years: tuple[int, int] | None = None
    inflow_table: str = "KNOMAD"

    @property
    def distance(self) -> int | None:
        """Years between the baseline and the crisis (None without a baseline)."""
        return None if self.year is None else abs(self.crisis_year - self.year)

    @property
    def stale(self) -> bool:
        """Whether the baseline is further from the crisis than :data:`STALE_AFTER_YEARS`."""
        return self.distance is not None and self.distance > STALE_AFTER_YEARS

    @property
    def not_before(self) -> bool:
        """Whether the baseline year is the crisis year or after it (it may hold the response)."""
        return self.year is not None and self.year >= self.crisis_year

    @property
    def out_of_sample(self) -> bool:
        """Whether the crisis year is outside the years the inflow table covers."""
        if self.file_years is None:
            return False
        return not self.file_years[0] <= self.crisis_year <= self.file_years[1]

    def staleness(self) -> str:
        """The baseline's year and its distance from the crisis, as a clause ('' when near)."""
        if not self.stale or self.year is None:
            return ""
        when = "before" if self.year < self.crisis_year else "after"
        return (
            f"the baseline is the inflow of {self.year}, {self.distance} years {when} the "
            f"crisis ({self.crisis_year}): stale, the level at the crisis may differ a lot"
        )


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
        table, population_notes = _with_population(country, table, population)
        notes += population_notes
    else:
        notes.append("No population table was given: remittances per capita are left out.")
    span = file_years(knomad)
    base = _baseline(country, year, inflows, knomad, ledger, span)
    notes += _missing_years(country, year, table, knomad, span)
    _context_ledger(country, table, knomad, fts, population, ledger)
    _trend(country, year, table, knomad, ledger)
    if funding.height == 0:
        notes.append(f"OCHA FTS records no humanitarian plan or funding for {country}.")
    return table, base, notes


POPULATION_NEAREST_YEARS = 2
"""A year without a population uses the nearest year this close (noted); else none."""


def _with_population(
    country: str, table: pl.DataFrame, population: Source
) -> tuple[pl.DataFrame, list[str]]:
    """Population and inflow per capita by year: the nearest year within two, else none.

    Raises
    ------
    ParameterError
        A population of zero or less for the country (per capita would be inf or negative).
    """
    from flowlens.errors import ParameterError

    people = (
        population.frame.filter(pl.col("country") == country)
        .select(pl.col("year").cast(pl.Int64), pl.col("value").cast(pl.Float64).alias("population"))
        .filter(pl.col("population").is_not_null() & pl.col("population").is_not_nan())
        .unique("year", keep="first")
        .sort("year")
    )
    bad = people.filter(pl.col("population") <= 0)
    if bad.height:
        listed = ", ".join(f"{y}: {v:g}" for y, v in bad.head(5).iter_rows())
        msg = (
            f"crisis_brief's sources['population']: the population of {country} is zero or "
            f"negative ({listed}); a population is a positive number of persons: correct or "
            "drop those rows"
        )
        raise ParameterError(msg)
    joined = (
        table.sort("year")
        .join_asof(
            people.with_columns(population_year=pl.col("year")),
            on="year",
            strategy="nearest",
            tolerance=POPULATION_NEAREST_YEARS,
        )
        .with_columns(inflow_per_capita_usd=pl.col("inflow_usd") / pl.col("population"))
    )
    notes: list[str] = []
    nearby = joined.filter(
        pl.col("population_year").is_not_null() & (pl.col("population_year") != pl.col("year"))
    )
    if nearby.height:
        pairs = ", ".join(
            f"{y} uses {p}" for y, p in nearby.select("year", "population_year").rows()
        )
        notes.append(
            f"The population table has no value for {country} in some years: the nearest year "
            f"within {POPULATION_NEAREST_YEARS} stands in ({pairs}) for the per-capita figures."
        )
    none = joined.filter(pl.col("population").is_null())["year"].to_list()
    if none:
        notes.append(
            f"The population table has no value for {country} within "
            f"{POPULATION_NEAREST_YEARS} years of {', '.join(map(str, none))}: per capita "
            "unavailable for those years (unknown, not zero)."
        )
    return joined.drop("population_year"), notes


def table_name(knomad: Source) -> str:
    """``"KNOMAD"`` for KNOMAD's inflows (bundled or its workbook), else the given table."""
    return "KNOMAD" if "KNOMAD" in knomad.source else "the given inflow table"


def file_years(knomad: Source) -> tuple[int, int] | None:
    """The first and last year the inflow table covers, for any country (None if empty)."""
    years = knomad.frame.select(
        pl.col("year").cast(pl.Int64).min().alias("first"),
        pl.col("year").cast(pl.Int64).max().alias("last"),
    ).row(0)
    return None if years[0] is None else (int(years[0]), int(years[1]))


def _missing_years(
    country: str, year: int, table: pl.DataFrame, knomad: Source, span: tuple[int, int] | None
) -> list[str]:
    """Years up to the crisis without an inflow: missing in the file, or beyond its years."""
    notes: list[str] = []
    missing = table.filter(pl.col("inflow_usd").is_null() & (pl.col("year") <= year))["year"]
    first, last = span if span is not None else (year + 1, year)
    inside = [y for y in missing.to_list() if first <= y <= last]
    outside = [y for y in missing.to_list() if not first <= y <= last]
    name = table_name(knomad)
    if inside:
        notes.append(
            f"{name[0].upper()}{name[1:]} records no inflow for {country} in "
            f"{', '.join(map(str, inside))}"
            + (" (a zero in its file means missing)." if name == "KNOMAD" else ".")
        )
    zeros = table.filter((pl.col("inflow_usd") == 0) & (pl.col("year") <= year))["year"]
    if zeros.len():
        notes.append(
            f"{name[0].upper()}{name[1:]} gives an inflow of zero for {country} in "
            f"{', '.join(map(str, zeros.to_list()))}: taken as not recorded (never a baseline)."
        )
    if outside:
        notes.append(
            f"{', '.join(map(str, outside))}: out of sample, not in the inflow table at all "
            f"({knomad.source}, {knomad.vintage}, covers {first}-{last}); those years are "
            "unknown, not zero."
        )
    return notes


def _context_ledger(  # noqa: PLR0917 (the section's tables)
    country: str,
    table: pl.DataFrame,
    knomad: Source,
    fts: Source,
    population: Source | None,
    ledger: Ledger,
) -> None:
    """A provenance row for every number of the context table."""
    key = pl.col("year").cast(pl.String)
    ledger.add_frame(
        "1 context",
        table,
        key,
        {"inflow_usd": ("inflow", "USD", f"{table_name(knomad)} annual inflows, {country}")},
        knomad,
    )
    fts_how = f"FTS, {country}: "
    ledger.add_frame(
        "1 context",
        table,
        key,
        {
            "requirements_usd": ("humanitarian requirements", "USD", fts_how + "requirements"),
            "funding_usd": ("humanitarian funding in appeals", "USD", fts_how + "funding"),
            "total_funding_usd": (
                "humanitarian funding",
                "USD",
                fts_how + "total funding (inside and outside appeals)",
            ),
        },
        fts,
    )
    ledger.add_frame(
        "1 context",
        table,
        key,
        {
            "ratio": (
                "inflow / humanitarian funding",
                "ratio",
                "inflow / FTS total funding of the same year",
            )
        },
        knomad,
        vintage=f"{knomad.vintage}; FTS",
    )
    if population is not None:
        ledger.add_frame(
            "1 context",
            table,
            key,
            {
                "population": ("population", "persons", f"population, {country}"),
                "inflow_per_capita_usd": (
                    "inflow per capita",
                    "USD per person",
                    f"{table_name(knomad)} inflow / population of the same year",
                ),
            },
            population,
        )


def _baseline(  # noqa: PLR0917 (the table, its span and the ledger)
    country: str,
    year: int,
    inflows: pl.DataFrame,
    knomad: Source,
    ledger: Ledger,
    span: tuple[int, int] | None,
) -> Baseline:
    name = table_name(knomad)
    known = inflows.filter(pl.col("inflow_usd").is_not_null() & (pl.col("inflow_usd") > 0))
    before = known.filter(pl.col("year") < year).sort("year")
    if before.height:
        y, v = int(before["year"][-1]), float(before["inflow_usd"][-1])
        note = f"the recorded inflow of {y}, the last year before the crisis"
    elif known.height:
        after = known.sort("year")
        y, v = int(after["year"][0]), float(after["inflow_usd"][0])
        when = "the crisis year itself" if y == year else f"after the crisis ({year})"
        note = (
            f"{name} records no inflow to {country} in any year before the crisis ({year}); "
            f"the first recorded year, {y}, {when}, stands in (an assumption: not before the "
            "crisis, it may already hold the response, and the level may differ)"
        )
    else:
        note = f"{name} records no inflow to {country} in any year: amounts are unknown"
        return Baseline(None, None, note, year, span, name)
    base = Baseline(y, v, note, year, span, name)
    if base.stale:  # one rule (Baseline.stale) for the note, the headline and the warning
        note += f" ({base.distance} years from the crisis: stale)"
        base = Baseline(y, v, note, year, span, name)
    ledger.add("1 context", f"baseline inflow ({y})", v, "USD", knomad, note)
    return base


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
    other = cells.clear()  # the other editions' cells (none for an estimate)
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
        table = table.select(SENDER_COLUMNS)  # the estimate's order, always
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
        # amounts unknown (no recorded inflow): the graph carries the shares, for concentration
        edges = table.select(
            pl.lit(edition).alias("year"),
            "origin",
            pl.lit(country).alias("destination"),
            pl.coalesce("amount_usd", "share").alias("amount_usd"),
        )
        result = Senders(table, _graph(edges, edition), "estimate", edition, vintage, stock)
    amount_how = (
        f"{chosen} bilateral matrix ({vintage}), the cell"
        if result.method == "matrix"
        else "share x baseline inflow (null: no recorded inflow, the amount is unknown)"
    )
    range_how = (
        "the lowest (highest) share over the matrix editions"
        if result.method == "matrix"
        else "the lowest (highest) share over the rule's income elasticities 0, 0.2, 0.4"
    )
    if result.method == "matrix" and result.table.height and not other.height:
        range_how = "one edition only: no range (low = high = the share)"
    if (result.table["method"] == ESTIMATE_POINT).any():
        range_how = "no income for the rule: no range (low = high = the share, not a certainty)"
    ledger.add_frame(
        "2 who sends",
        result.table.head(SHOWN_ROWS),
        pl.col("origin"),
        {
            "share": ("share", "share", how),
            "share_low": ("share low", "share", range_how),
            "share_high": ("share high", "share", range_how),
            "amount_usd": ("amount", "USD", amount_how),
        },
        result.source,
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
    # without a recorded inflow the rule still gives shares; amounts stay unknown (null)
    total = base.inflow_usd if base.inflow_usd is not None else 1.0
    amount = pl.col(f"s{ESTIMATE_ELASTICITIES[1]}") * total
    if base.inflow_usd is None:
        amount = pl.lit(None, dtype=pl.Float64)
    totals = pl.DataFrame({"destination": [country], "amount_usd": [total]})
    shares = []
    unweighted = pl.DataFrame()
    for elasticity in ESTIMATE_ELASTICITIES:
        estimate = estimate_bilateral(
            totals, cells, rule="stock_income", year=edition, income_elasticity=elasticity
        )
        unweighted = estimate.unweighted
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
        amount.alias("amount_usd"),
        pl.col(cols[1]).alias("share"),
        pl.min_horizontal(cols).alias("share_low"),
        pl.max_horizontal(cols).alias("share_high"),
        pl.lit("estimate").alias("method"),
    ).sort("share", "origin", descending=[True, False])
    weighted = cells.height - unweighted.height
    if weighted == 0:  # no corridor has both incomes: the elasticity changes nothing
        missing = ", ".join(sorted(set(unweighted["missing"].str.split(", ").explode().to_list())))
        table = table.with_columns(method=pl.lit(ESTIMATE_POINT))
        notes.append(
            f"Senders to {country} are estimated, not taken from a matrix: the {edition} migrant "
            f"stock allocates the inflow by migrants alone, because no corridor has the incomes "
            f"the income-weighted rule needs ({missing} missing from flowlens' GNI per capita "
            f"table{' for ' + country if 'origin_income' in missing else ''}). The income "
            "elasticity then changes nothing, so each share is a point with no range: low and "
            "high equal the share by construction, not because the share is certain."
        )
    else:
        notes.append(
            f"Senders to {country} are estimated, not taken from a matrix: the {edition} migrant "
            f"stock allocates the inflow by flowlens.estimate_bilateral's income-weighted rule; "
            "each share's low and high are the rule with income elasticity 0 and 0.4"
            + (
                f" ({unweighted.height} of {cells.height} corridors lack an income and are "
                "weighted by migrants alone)."
                if unweighted.height
                else "."
            )
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
