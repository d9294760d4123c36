"""``crisis_brief``: what diaspora money to expect after a crisis, from whom, through which channels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens._atomic import write_atomic
from flowlens._panelspec import country_codes
from flowlens.brief._channels import channels as channels_section
from flowlens.brief._channels import informal_swings
from flowlens.brief._charts import context_chart, observed_chart, response_chart, senders_chart
from flowlens.brief._ledger import Ledger
from flowlens.brief._render import body_html, markdown, page_html
from flowlens.brief._response import LITERATURE, Observed, Prior, recorded_panel
from flowlens.brief._response import expected as expected_response
from flowlens.brief._response import observed as observed_response
from flowlens.brief._response import prior as prior_response
from flowlens.brief._sections import Baseline, Channels, Senders, latest_prices
from flowlens.brief._sections import context as context_section
from flowlens.brief._sections import senders as senders_section
from flowlens.brief._sources import Source, load_sources, required
from flowlens.errors import ParameterError
from flowlens.freq import as_date

PRIOR_WARNING = (
    "This is a prior, not a forecast of record: documented responses of remittances to "
    "comparable disasters, scaled by each corridor's size. Recorded monthly data, when "
    "given, shows what happened instead."
)


@dataclass(frozen=True)
class CrisisBrief:  # long: a result of many tables, each documented
    """A crisis brief: five sections of tables, their charts and the provenance of every number.

    Attributes
    ----------
    country, date, horizon_months
        The receiving country (ISO3), the crisis onset and the months the response covers.
    context
        Section 1: recorded inflows (KNOMAD), humanitarian requirements and funding (OCHA
        FTS) and their ratio per year; per capita when a population table was given.
    baseline_year, baseline_inflow_usd
        The annual inflow every corridor is scaled by (the last recorded year before the
        crisis, else the first after it).
    senders, concentration, senders_method, senders_edition, senders_vintage
        Section 2: shares per sending country (``share_low``/``share_high``: the range
        over the other matrix editions, or over the estimate's rules), the concentration
        of the corridor graph, ``"matrix"`` or ``"estimate"`` and which edition.
    prior, prior_events, response
        Section 3: the prior rise (low, central, high) over twelve months, the comparable
        events it comes from, and the expected excess per sender over the horizon.
    observed, episodes, observed_status
        Section 3 with recorded data: the months since the crisis (value, forecast
        baseline, score, flag, excess) and the surge episodes; None without data.
        ``observed_status`` says why nothing is scored (a series that ends before the
        date, too little history); None when scored or without data.
    costs, derisking, channels
        Section 4: cost of sending USD 200 per sender (RPW), corridors with documented
        de-risking, and the summary (weighted cost, SDG gap, shares, informal share).
    unknowns, tornado, vintages
        Section 5: what is missing, the assumptions by swing, the tables and releases used.
    provenance
        One row per number: section, number, value, unit, source, vintage, table, how.
    notes
        What the data does not cover, in sentences (fallbacks, gaps).
    figures
        ``(name, matplotlib Figure)`` pairs; ``to_html`` embeds them as SVG.

    Examples
    --------
    >>> from flowlens.brief import crisis_brief
    >>> brief = crisis_brief("NPL", "2015-04-25")
    >>> brief.senders_edition, brief.senders["origin"][0]
    (2016, 'QAT')
    >>> "<svg" in brief._repr_html_() and "<script" not in brief._repr_html_()
    True
    """

    country: str
    date: dt.date
    horizon_months: int
    context: pl.DataFrame
    baseline_year: int | None
    baseline_inflow_usd: float | None
    senders: pl.DataFrame
    concentration: pl.DataFrame
    senders_method: str | None
    senders_edition: int | None
    senders_vintage: str | None
    prior: dict[str, float]
    prior_events: pl.DataFrame
    response: pl.DataFrame
    observed: pl.DataFrame | None
    episodes: pl.DataFrame | None
    observed_status: str | None
    costs: pl.DataFrame
    derisking: pl.DataFrame
    channels: dict[str, float | None]
    unknowns: pl.DataFrame
    tornado: pl.DataFrame
    vintages: pl.DataFrame
    provenance: pl.DataFrame
    notes: tuple[str, ...]
    figures: tuple[tuple[str, Any], ...]

    @property
    def title(self) -> str:
        """The brief's title."""
        return f"Crisis brief: {self.country}, {self.date:%Y-%m-%d}"

    @property
    def headline(self) -> str:
        """One sentence: the baseline, the expected excess with its interval, the top sender."""
        if self.baseline_inflow_usd is None or self.response.height == 0:
            return f"No recorded inflow or sender for {self.country}: see the notes."
        # The interval is the total's: baseline x prior percentile x horizon / 12 (the
        # provenance rows "expected excess, low/all senders/high"), not a sum of per-sender
        # extremes (each sender at its own highest share sums to more than all inflows).
        scale = self.baseline_inflow_usd * min(self.horizon_months, 12) / 12 / 1e6
        c, lo, hi = (scale * self.prior[k] for k in ("central", "low", "high"))
        top = self.senders.row(0, named=True)
        return (
            f"{self.country} received USD {self.baseline_inflow_usd / 1e6:,.0f}m of recorded "
            f"remittances in {self.baseline_year}. Prior expected excess over the "
            f"{self.horizon_months} months from {self.date:%Y-%m}: USD {c:,.0f}m "
            f"(USD {lo:,.0f}m to {hi:,.0f}m). Largest sender: {top['origin']} "
            f"({100 * top['share']:.0f}% of inflows, {self.senders_method}, "
            f"{self.senders_vintage})."
        )

    def layout(self) -> list[tuple[str, list[str], list[tuple[str, pl.DataFrame]], list[str]]]:
        """The five sections: (title, paragraphs, (caption, table) pairs, chart names)."""
        share_cols = ["origin", "amount_usd", "share", "share_low", "share_high", "method"]
        ch = self.channels
        channel_rows = pl.DataFrame(
            {"measure": list(ch), "value": [None if v is None else float(v) for v in ch.values()]},
            schema={"measure": pl.String, "value": pl.Float64},
        )
        response_paras = [PRIOR_WARNING, _prior_sentence(self)]
        response_tables: list[tuple[str, pl.DataFrame]] = [
            ("Expected excess by sender over the horizon (USD):", self.response.head(15)),
            (
                "Comparable disasters (abnormal growth of annual inflows, log points):",
                self.prior_events.select("event_id", "country", "start", "abnormal_12m"),
            ),
            (
                "Documented responses:",
                pl.DataFrame(
                    [(a, r, f) for a, r, f in LITERATURE],
                    schema=["study", "reference", "finding"],
                    orient="row",
                ),
            ),
        ]
        names = ["response"]
        if self.observed is not None:
            response_paras.append(_observed_sentence(self))
            response_tables.insert(
                0, ("Recorded since the crisis (surge detector, forecast method):", self.observed)
            )
            if self.episodes is not None and self.episodes.height:
                response_tables.insert(1, ("Surge episodes:", self.episodes))
            names.insert(0, "observed")
        return [
            (
                "1. Context",
                [],
                [("Recorded inflows and humanitarian funding by year:", self.context)],
                ["context"],
            ),
            (
                "2. Who sends",
                [_senders_sentence(self)],
                [
                    ("Senders' shares:", self.senders.select(share_cols).head(15)),
                    ("Concentration:", self.concentration),
                ],
                ["senders"],
            ),
            ("3. Expected response", response_paras, response_tables, names),
            (
                "4. Channels and costs",
                [],
                [
                    ("Cost of sending USD 200 (%), top senders:", self.costs.head(15)),
                    ("Summary:", channel_rows),
                    ("Corridors with documented de-risking:", self.derisking),
                ],
                [],
            ),
            (
                "5. What is unknown",
                [],
                [
                    ("Gaps:", self.unknowns),
                    ("Assumptions by swing (tornado):", self.tornado),
                    ("Tables and vintages used:", self.vintages),
                    ("Provenance of every number:", self.provenance),
                ],
                [],
            ),
        ]

    def _repr_html_(self) -> str:
        return body_html(self)

    def __repr__(self) -> str:
        return (
            f"CrisisBrief(country={self.country!r}, date={self.date.isoformat()!r}, "
            f"horizon_months={self.horizon_months}, senders={self.senders.height}, "
            f"method={self.senders_method!r}, observed={self.observed is not None}, "
            f"numbers={self.provenance.height})"
        )

    def to_html(self, path: str | Path | None = None, *, overwrite: bool = False) -> str:
        """The brief as one self-contained HTML page; written to ``path`` when given.

        Charts are inline SVG; there is no script and nothing is fetched, so the file
        opens in any browser offline. The write is atomic and refuses an existing file
        unless ``overwrite=True``.
        """
        page = page_html(self)
        if path is not None:

            def write(target: str) -> None:
                Path(target).write_text(page, encoding="utf-8")

            write_atomic(path, write, overwrite=overwrite)
        return page

    def to_markdown(self) -> str:
        """The brief as Markdown (tables only; the charts are in the HTML)."""
        return markdown(self)


def _prior_sentence(brief: CrisisBrief) -> str:
    p = brief.prior
    after = brief.prior_events.filter(pl.col("start") > brief.date).height
    return (
        f"Over the twelve months after a natural disaster, recorded inflows rose by "
        f"{100 * p['central']:+.1f}% against their pre-trend in the median of "
        f"{brief.prior_events.height} comparable events (10th to 90th percentile: "
        f"{100 * p['low']:+.1f}% to {100 * p['high']:+.1f}%), from the event study on "
        "KNOMAD's annual inflows. The literature agrees on the sign in poorer countries and "
        "on a wide spread; the rise is taken as spread evenly over the year. The prior is "
        f"retrospective: it draws on events before and after the date ({after} of the "
        f"{brief.prior_events.height} are after {brief.date:%Y-%m-%d}), leaving out only "
        f"{brief.country}'s own within a year of it; it is not what was knowable at the time."
    )


def _observed_sentence(brief: CrisisBrief) -> str:
    obs = brief.observed
    if obs is None:
        return ""
    if brief.observed_status is not None:
        return f"Recorded data given, but {brief.observed_status}: no excess nor score to show."
    scored = obs.filter(pl.col("score").is_not_null()).height
    excess = float(obs["excess_usd"].sum())
    flagged = obs.filter(pl.col("flag"))["period"].dt.strftime("%Y-%m").to_list()
    prior_same = (
        float(brief.response["excess_usd"].sum()) * obs.height / max(brief.horizon_months, 1)
    )
    unscored = f" ({obs.height - scored} not scored)" if scored < obs.height else ""
    return (
        f"Recorded data since the crisis, {obs.height} months{unscored}: excess over the forecast "
        f"baseline USD {excess / 1e6:,.0f}m (prior for the same months: USD "
        f"{prior_same / 1e6:,.0f}m); flagged months: {', '.join(flagged) or 'none'}; highest "
        f"score {obs.select(pl.col('score').max()).item():.1f}."
    )


def _senders_sentence(brief: CrisisBrief) -> str:
    if brief.senders.height == 0:
        return "No table names the senders."
    kind = (
        f"the {brief.senders_edition} bilateral matrix ({brief.senders_vintage}): a World Bank "
        "estimate, not a record"
        if brief.senders_method == "matrix"
        else f"an income-weighted estimate from the {brief.senders_edition} migrant stock"
    )
    return f"Senders from {kind}. Low and high shares: " + (
        "the range over the other editions of the matrix."
        if brief.senders_method == "matrix"
        else "the rule with income elasticity 0 and 0.4."
    )


def _parse(country: str, date: Any, horizon: int) -> tuple[str, dt.date]:
    code = country_codes(country, "crisis_brief's country")[0]
    try:
        when = as_date(date)
    except Exception as exc:
        msg = f"crisis_brief's date: {date!r} is not a date; give 'YYYY-MM-DD' or a datetime.date"
        raise ParameterError(msg) from exc
    if not isinstance(horizon, int) or isinstance(horizon, bool) or not 1 <= horizon <= 24:
        msg = f"crisis_brief's horizon_months must be a whole number from 1 to 24, got {horizon!r}"
        raise ParameterError(msg)
    return code, when


def crisis_brief(  # long: the five sections assembled in order, each a call
    country: str,
    date: Any,
    *,
    flows: Any = None,
    monthly: Any = None,
    sources: Mapping[str, Any] | None = None,
    horizon_months: int = 6,
    charts: bool = True,
) -> CrisisBrief:
    """What diaspora money to expect after a crisis, from whom, through which channels.

    Five sections, each from the tables flowlens holds (bundled, so it runs offline)
    or from yours (``sources=``): 1. context (recorded inflows, humanitarian funding);
    2. who sends (the bilateral matrix nearest the crisis, or the income-weighted
    estimate where it has no column); 3. the expected excess by sender over the
    months after ``date`` (a prior from documented disaster responses; with recorded
    data, what the surge detector sees since ``date``); 4. channels and costs (RPW,
    SDG 10.c, de-risking, the informal share); 5. what is unknown (gaps, the
    assumptions by swing, the vintages). Every number has a row in ``provenance``.

    Parameters
    ----------
    country
        The receiving country: ISO3, ISO2 or a name.
    date
        The crisis onset (``"YYYY-MM-DD"`` or a date).
    flows
        Recorded transactions of the country's inflows (anything
        :func:`flowlens.load_flows` reads): summed by month and scored.
    monthly
        A recorded monthly series of the country's inflows: an official file flowlens
        reads (e.g. Banco de Mexico's monthly CSV) or its
        :class:`~flowlens.OfficialTable`, a corridor panel (``period``,
        ``destination``, ``amount_usd``) or a parquet or CSV file of one. A series
        that is not monthly (quarterly, annual) is refused.
    sources
        Replace bundled tables: keys of ``flowlens.brief.SOURCE_KEYS``, each a path,
        a list of paths (matrices) or a table. ``population`` (a WDI download) adds
        remittances per capita.
    horizon_months
        The months after ``date`` the response covers (1 to 24; default 6).
    charts
        Draw the charts (matplotlib); False for tables only.

    Returns
    -------
    CrisisBrief
        Frozen: tables, charts, notes and the provenance of every number.

    Raises
    ------
    ParameterError
        An unknown country, a date that is not one, a horizon out of range, an unknown
        ``sources`` key, recorded data without the country or not monthly.

    References
    ----------
    Yang (2008), Mohapatra, Joseph and Ratha (2012), Clarke and Wallsten (2003),
    Bragg et al. (2018): see ``flowlens.brief.LITERATURE``. Freund and Spatafora (2008)
    for the informal baseline (``flowlens.informal.baseline_from_costs``).

    Examples
    --------
    >>> from flowlens.brief import crisis_brief
    >>> brief = crisis_brief("HTI", "2010-01-12", charts=False)
    >>> brief.baseline_year, round(brief.baseline_inflow_usd / 1e6)
    (2009, 1376)
    >>> brief.senders["origin"].head(2).to_list()
    ['USA', 'DOM']
    >>> crisis_brief("SOM", "2017-03-01", charts=False).senders_edition
    2021
    """
    code, when = _parse(country, date, horizon_months)
    loaded = load_sources(sources)
    knomad, fts = required(loaded, "knomad_inflows"), required(loaded, "ocha_fts")
    responses = required(loaded, "disaster_responses")
    bilateral, stock = required(loaded, "bilateral"), required(loaded, "migrant_stock")
    ledger, notes = Ledger(), []
    context, base, context_notes = context_section(
        code, when.year, knomad, fts, loaded["population"], ledger
    )
    notes += context_notes
    who = senders_section(code, when.year, bilateral, stock, base, ledger, notes)
    pri = prior_response(code, when, horizon_months, responses, ledger)
    recorded = recorded_panel(monthly, flows, code)
    obs = (
        observed_response(*recorded, when, horizon_months, code, ledger=ledger)
        if recorded
        else None
    )
    if who is None:
        return _without_senders(
            code, when, horizon_months, context, base, pri, obs, loaded, ledger, notes
        )
    conc = who.graph.concentration()
    row = conc.row(0, named=True)
    ledger.add(
        "2 who sends",
        "HHI of senders' shares",
        row["hhi"],
        "index",
        who.source,
        "sum of squared shares (CorridorGraph.concentration)",
        vintage=who.vintage,
    )
    ledger.add(
        "2 who sends",
        "number of senders",
        row["n_sources"],
        "countries",
        who.source,
        "corridors with a non-zero cell",
        vintage=who.vintage,
    )
    expected = expected_response(who, base, pri, ledger, code)
    chan = channels_section(code, when, who, base, loaded, ledger, notes)
    prices = latest_prices(required(loaded, "rpw"), code, when)
    tornado = _tornado(who, base, pri, informal_swings(code, who, base, prices))
    figures: list[tuple[str, Any]] = []
    if charts:
        figures = [
            ("context", context_chart(context, code, when.year)),
            ("senders", senders_chart(who)),
            ("response", response_chart(expected, horizon_months)),
        ]
        if obs is not None and obs.status is None:
            figures.append(("observed", observed_chart(obs, code, when)))
    return CrisisBrief(
        country=code,
        date=when,
        horizon_months=horizon_months,
        context=context,
        baseline_year=base.year,
        baseline_inflow_usd=base.inflow_usd,
        senders=who.table,
        concentration=conc,
        senders_method=who.method,
        senders_edition=who.edition,
        senders_vintage=who.vintage,
        prior={"low": pri.low, "central": pri.central, "high": pri.high},
        prior_events=pri.events,
        response=expected,
        observed=obs.months if obs else None,
        episodes=obs.episodes if obs else None,
        observed_status=obs.status if obs else None,
        costs=chan.costs,
        derisking=chan.derisking,
        channels=chan.summary,
        unknowns=_unknowns(code, context, who, chan, loaded, obs),
        tornado=tornado,
        vintages=_vintages(loaded, who, obs),
        provenance=ledger.table(),
        notes=tuple(notes),
        figures=tuple(figures),
    )


def _without_senders(  # noqa: PLR0917 (the sections computed before)
    code: str,
    when: dt.date,
    horizon: int,
    context: pl.DataFrame,
    base: Baseline,
    pri: Prior,
    obs: Observed | None,
    loaded: dict[str, Source | None],
    ledger: Ledger,
    notes: list[str],
) -> CrisisBrief:
    empty = pl.DataFrame(
        schema={
            "origin": pl.String,
            "amount_usd": pl.Float64,
            "share": pl.Float64,
            "share_low": pl.Float64,
            "share_high": pl.Float64,
            "method": pl.String,
            "excess_usd": pl.Float64,
            "excess_low_usd": pl.Float64,
            "excess_high_usd": pl.Float64,
        }
    )
    gap = pl.DataFrame({"what": ["senders"], "detail": ["no matrix column and no migrant stock"]})
    return CrisisBrief(
        country=code,
        date=when,
        horizon_months=horizon,
        context=context,
        baseline_year=base.year,
        baseline_inflow_usd=base.inflow_usd,
        senders=empty,
        concentration=pl.DataFrame(),
        senders_method=None,
        senders_edition=None,
        senders_vintage=None,
        prior={"low": pri.low, "central": pri.central, "high": pri.high},
        prior_events=pri.events,
        response=empty,
        observed=obs.months if obs else None,
        episodes=obs.episodes if obs else None,
        observed_status=obs.status if obs else None,
        costs=pl.DataFrame(),
        derisking=pl.DataFrame(),
        channels={},
        unknowns=gap,
        tornado=pl.DataFrame(),
        vintages=_vintages(loaded, None, obs),
        provenance=ledger.table(),
        notes=tuple(notes),
        figures=(),
    )


def _tornado(
    who: Senders,
    base: Baseline,
    pri: Prior,
    informal: list[dict[str, object]],
) -> pl.DataFrame:
    total = (base.inflow_usd or 0.0) * pri.fraction
    top = who.table.row(0, named=True)
    rows: list[dict[str, object]] = [
        {
            "assumption": "rise after the disaster (prior p10 -> p90)",
            "headline": f"expected excess, {pri.horizon_months} months (USD)",
            "low": pri.low,
            "high": pri.high,
            "at_low": total * pri.low,
            "at_high": total * pri.high,
        },
        {
            "assumption": f"{top['origin']}'s share (editions or rules)",
            "headline": f"expected excess from {top['origin']} (USD)",
            "low": top["share_low"],
            "high": top["share_high"],
            "at_low": top["share_low"] * total * pri.central,
            "at_high": top["share_high"] * total * pri.central,
        },
        {
            "assumption": "timing: the rise within the horizon (all in it, or spread over 12 months)",
            "headline": f"expected excess, {pri.horizon_months} months (USD)",
            "low": pri.fraction,
            "high": 1.0,
            "at_low": total * pri.central,
            "at_high": (base.inflow_usd or 0.0) * pri.central,
        },
        *informal,
    ]
    return (
        pl.DataFrame(rows, orient="row")
        .with_columns(swing=(pl.col("at_high") - pl.col("at_low")).abs())
        .sort("swing", descending=True)
    )


def _unknowns(  # noqa: PLR0917 (every section's gaps)
    code: str,
    context: pl.DataFrame,
    who: Senders,
    chan: Channels,
    loaded: dict[str, Source | None],
    obs: Observed | None,
) -> pl.DataFrame:
    unpriced = chan.costs.filter(pl.col("cost_pct").is_null())
    missing_years = context.filter(pl.col("inflow_usd").is_null())["year"].to_list()
    rows = [
        (
            "senders without a price (RPW)",
            f"{unpriced.height} of {chan.costs.height}, "
            f"{100 * float(unpriced['share'].sum()):.1f}% of inflows",
        ),
        ("years without a recorded inflow (KNOMAD)", ", ".join(map(str, missing_years)) or "none"),
        (
            "senders",
            "a World Bank estimate (matrix), not records"
            if who.method == "matrix"
            else "an income-weighted estimate (no matrix column)",
        ),
        ("informal flows", "modelled from costs (Freund and Spatafora 2008), never recorded"),
        (
            "monthly recorded data",
            "not given: section 3 is a prior only (pass monthly= or flows=)"
            if obs is None
            else f"given, but {obs.status}"
            if obs.status is not None
            else "given",
        ),
        (
            "population",
            "given"
            if loaded["population"] is not None
            else "not given: no per-capita figures (sources={'population': WDI file})",
        ),
        ("private and diaspora philanthropy", "not in any table here (FTS records part of it)"),
    ]
    return pl.DataFrame(rows, schema=["what", "detail"], orient="row")


def _vintages(
    loaded: dict[str, Source | None], who: Senders | None, obs: Observed | None
) -> pl.DataFrame:
    used = {
        "knomad_inflows": "1, 3",
        "ocha_fts": "1",
        "rpw": "4",
        "derisking_events": "4",
        "disaster_responses": "3",
        "population": "1",
    }
    rows = [
        (k, s.source, s.vintage, s.file, used[k])
        for k, s in loaded.items()
        if s is not None and k in used
    ]
    if who is not None and who.source is not None:
        rows.append((who.source.key, who.source.source, who.vintage, who.source.file, "2, 3, 4"))
    if obs is not None:
        rows.append(("monthly", obs.source.source, obs.source.vintage, obs.source.file, "3"))
    return pl.DataFrame(
        rows, schema=["table", "source", "vintage", "file", "sections"], orient="row"
    )
