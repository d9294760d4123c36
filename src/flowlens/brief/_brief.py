"""``crisis_brief``: what diaspora money to expect after a crisis, from whom, through which channels."""

from __future__ import annotations

import datetime as dt
import operator
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
from flowlens.brief._render import body_html, markdown, page_html, usd
from flowlens.brief._response import LITERATURE, Observed, Prior, recorded_panel, unit_check
from flowlens.brief._response import expected as expected_response
from flowlens.brief._response import observed as observed_response
from flowlens.brief._response import prior as prior_response
from flowlens.brief._sections import SHOWN_ROWS, Baseline, Channels, Senders, latest_prices
from flowlens.brief._sections import context as context_section
from flowlens.brief._sections import senders as senders_section
from flowlens.brief._sources import Source, load_sources, required
from flowlens.errors import ParameterError
from flowlens.freq import as_date

NATURAL_HAZARDS = frozenset(
    {"earthquake", "tsunami", "flood", "landslide", "volcano", "tropical cyclone", "cyclone",
     "hurricane", "typhoon", "storm", "drought", "wildfire", "heat wave", "cold wave"}
)  # fmt: skip
"""Kinds of crisis_events.csv (each part of a kind like ``earthquake/tsunami``) that are
natural hazards: the kinds the prior is built from."""

EARLIEST_YEAR = 1960
"""Dates before this year are refused: no table the brief reads goes back that far."""

EVENT_MATCH_DAYS = 45
"""A crisis_events.csv event matches the brief's date when it starts this close to it."""

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
        date or starts after it, is all zero, or has too little history); None when
        scored or without data. Months missing inside the series are a note and a
        gaps row.
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
    warnings
        Lines shown under the headline: a crisis that is not a natural hazard (or
        not in crisis_events.csv), a date out of the data's years, a stale baseline,
        a recorded series more than 3 times off the annual inflow or ending in zero
        months, a population that makes inflows per person implausible.

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
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The brief's title."""
        return f"Crisis brief: {self.country}, {self.date:%Y-%m-%d}"

    @property
    def headline(self) -> str:
        """One sentence: the baseline, the expected excess with its interval, the top sender."""
        if self.response.height == 0:
            return f"No sender for {self.country} in any table: see the notes."
        top = self.senders.row(0, named=True)
        largest = (
            f"Largest sender: {top['origin']} ({100 * top['share']:.0f}% of inflows, "
            f"{self.senders_method}, {self.senders_vintage})."
        )
        if self.baseline_inflow_usd is None:
            return (
                f"No inflow is recorded for {self.country} in any year: the amounts and the "
                f"expected excess are unknown (shares only). {largest}"
            )
        # The interval is the total's: baseline x prior percentile x horizon / 12 (the
        # provenance rows "expected excess, low/all senders/high"), not a sum of per-sender
        # extremes (each sender at its own highest share sums to more than all inflows).
        scale = self.baseline_inflow_usd * min(self.horizon_months, 12) / 12
        c, lo, hi = (scale * self.prior[k] for k in ("central", "low", "high"))
        base = Baseline(self.baseline_year, self.baseline_inflow_usd, "", self.date.year)
        when = "before" if (self.baseline_year or 0) < self.date.year else "after"
        stale = (
            f" ({base.distance} years {when} the crisis: a stale baseline)" if base.stale else ""
        )
        after_12 = " (none assumed after month 12)" if self.horizon_months > 12 else ""
        return (
            f"{self.country} received {usd(self.baseline_inflow_usd)} of recorded "
            f"remittances in {self.baseline_year}{stale}. Prior expected excess over the "
            f"{_months(self.horizon_months)} from {self.date:%Y-%m}{after_12}: {usd(c)} "
            f"({usd(lo)} to {usd(hi)}). {largest}"
        )

    def layout(  # long: the five sections, each a list of captioned tables
        self,
    ) -> list[tuple[str, list[str], list[tuple[str, pl.DataFrame]], list[str]]]:
        """The five sections: (title, paragraphs, (caption, table) pairs, chart names)."""
        share_cols = ["origin", "amount_usd", "share", "share_low", "share_high", "method"]
        rows = SHOWN_ROWS
        ch = self.channels
        channel_rows = pl.DataFrame(
            {
                "measure": [SUMMARY_LABELS.get(k, k.replace("_", " ")) for k in ch],
                "value": [None if v is None else float(v) for v in ch.values()],
            },
            schema={"measure": pl.String, "value": pl.Float64},
        )
        response_paras = [PRIOR_WARNING, _prior_sentence(self)]  # warnings: under the headline
        top = _top_of(self.senders.height, rows)
        response_tables: list[tuple[str, pl.DataFrame]] = [
            (
                f"Expected excess by sender over the horizon (USD){top}:",
                self.response.head(rows),
            ),
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
                    (f"Senders' shares{top}:", self.senders.select(share_cols).head(rows)),
                    ("Concentration:", self.concentration),
                ],
                ["senders"],
            ),
            ("3. Expected response", response_paras, response_tables, names),
            (
                "4. Channels and costs",
                [],
                [
                    (
                        f"Cost of sending USD 200 (%){_top_of(self.costs.height, rows, 'costs')}:",
                        self.costs.head(rows),
                    ),
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
        if path is not None and Path(path).suffix.lower() not in (".html", ".htm"):
            msg = (
                f"CrisisBrief.to_html: cannot write {str(path)!r} as HTML: use a .html or .htm "
                "suffix (to_markdown() gives Markdown)"
            )
            raise ParameterError(msg)
        page = page_html(self)
        if path is not None:

            def write(target: str) -> None:
                Path(target).write_text(page, encoding="utf-8")

            write_atomic(path, write, overwrite=overwrite)
        return page

    def to_markdown(self) -> str:
        """The brief as Markdown (tables only; the charts are in the HTML)."""
        return markdown(self)


SUMMARY_LABELS = {
    "weighted_cost_pct": "cost of sending USD 200, weighted by inflows (%)",
    "sdg_gap_pct": "weighted cost above the SDG 10.c target of 3% (%)",
    "share_above_5pct": "share of inflows in corridors above 5%",
    "priced_share": "share of inflows in corridors RPW prices",
    "derisked_share": "share of inflows in corridors with documented de-risking",
    "informal_share_p5": "informal share of all remittances, p5",
    "informal_share_p50": "informal share of all remittances, p50",
    "informal_share_p95": "informal share of all remittances, p95",
}
"""Readable labels of ``CrisisBrief.channels``' keys in the written Summary table."""


def _top_of(total: int, rows: int, attribute: str = "senders") -> str:
    """``", top 15 of 84 senders; all 84 in brief.senders"`` when a table is cut, else ''."""
    if total <= rows:
        return ""
    return f", top {rows} of {total} senders; all {total} in brief.{attribute}"


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
        + (f" {_after_twelve(brief.horizon_months)}" if brief.horizon_months > 12 else "")
    )


def _months(n: int) -> str:
    """``"1 month"``, ``"6 months"``."""
    return f"{n} month" if n == 1 else f"{n} months"


def _after_twelve(horizon: int) -> str:
    return (
        f"No excess is assumed after month 12: the prior's twelve-month rise is spread over "
        f"months 1-12, so months 13-{horizon} add nothing (the {horizon}-month excess is the "
        "12-month one)."
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
        float(brief.response["excess_usd"].sum())
        * min(obs.height, 12)
        / max(min(brief.horizon_months, 12), 1)
    )
    unscored = f" ({obs.height - scored} not scored)" if scored < obs.height else ""
    prior_text = "unknown" if brief.baseline_inflow_usd is None else usd(prior_same)
    return (
        f"Recorded data since the crisis, {_months(obs.height)}{unscored}: excess over the forecast "
        f"baseline {usd(excess)} (prior for the same months: {prior_text}); flagged months: "
        f"{', '.join(flagged) or 'none'}; highest "
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
    unknown = (
        " With no recorded inflow, the amounts are unknown: shares only."
        if brief.baseline_inflow_usd is None
        else ""
    )
    shares = brief.senders
    if (shares["share_low"] == shares["share_high"]).all():
        why = (
            "only one edition of the matrix has a column for the country"
            if brief.senders_method == "matrix"
            else "no corridor has the incomes the rule weights by, so migrants alone allocate"
        )
        return (
            f"Senders from {kind}.{unknown} Low and high shares equal the share: no range, "
            f"because {why}; the shares are not certain, their uncertainty is unknown."
        )
    return f"Senders from {kind}.{unknown} Low and high shares: " + (
        "the range over the other editions of the matrix."
        if brief.senders_method == "matrix"
        else "the rule with income elasticity 0 and 0.4."
    )


AMBIGUOUS_NAMES: dict[str, tuple[str, ...]] = {
    "congo": ("COD", "COG"),
    "korea": ("KOR", "PRK"),
    "virgin islands": ("VGB", "VIR"),
}
"""Bare names that are two countries: the brief refuses them, naming the candidates
(Congo: the Democratic Republic, Kinshasa, or the Republic, Brazzaville; Korea: the
Republic or the Democratic People's Republic; the British or the US Virgin Islands)."""

LATEST_YEARS_AHEAD = 1
"""Dates after the current year plus this many are refused: no crisis onset is known."""


def _country(country: Any) -> str:
    """One country as ISO3: refused when not a string, empty, unknown or ambiguous."""
    if not isinstance(country, str):
        several = isinstance(country, list | tuple | set | frozenset)
        msg = (
            f"crisis_brief's country: one country (an ISO3 code such as 'HTI', an ISO2 code or "
            f"a name), got {country!r}"
            + (
                "; a brief is about one country: call crisis_brief once per country"
                if several
                else ""
            )
        )
        raise ParameterError(msg)
    if not country.strip():
        msg = (
            f"crisis_brief's country: empty ({country!r}); give one country: an ISO3 code such "
            "as 'HTI', an ISO2 code or a name"
        )
        raise ParameterError(msg)
    candidates = AMBIGUOUS_NAMES.get(" ".join(country.lower().replace("the ", " ").split()))
    if candidates:
        msg = (
            f"crisis_brief's country: {country!r} is ambiguous: it may be "
            f"{' or '.join(candidates)}; give the ISO3 code of the one you mean"
        )
        raise ParameterError(msg)
    return country_codes(country, "crisis_brief's country")[0]


def _date(date: Any) -> dt.date:
    """The crisis onset as a date: a day, not a month; not before 1960 nor after next year."""
    if type(date).__name__ == "datetime64":  # numpy's, without importing numpy
        unit = str(date.dtype).removeprefix("datetime64[").removesuffix("]")
        span = {"Y": "year", "M": "month", "W": "week"}.get(unit)
        if span is not None:
            first = str(date.astype("datetime64[D]"))  # its first day
            msg = (
                f"crisis_brief's date: numpy.datetime64({str(date)!r}) is a {span}, not a "
                f"day; give the onset day, e.g. numpy.datetime64({first!r}) or 'YYYY-MM-DD' "
                "(a month is refused, as the text '2010-01' is)"
            )
            raise ParameterError(msg)
        date = str(date.astype("datetime64[D]"))
    bad = f"crisis_brief's date: {date!r} is not a date; give 'YYYY-MM-DD' or a datetime.date"
    if isinstance(date, str) and len(date.strip()) == 7 and date.strip()[4] == "-":
        bad = (
            f"crisis_brief's date: {date!r} is a month, not a day; give the onset day "
            f"'YYYY-MM-DD' (e.g. '{date.strip()}-01' for the first of the month)"
        )
    if date is None or type(date).__name__ == "NaTType" or str(date) in ("NaT", "nat"):
        raise ParameterError(bad)
    try:
        when = as_date(date)
    except Exception as exc:
        raise ParameterError(bad) from exc
    if when.year < EARLIEST_YEAR:
        msg = (
            f"crisis_brief's date: {when.isoformat()} is before {EARLIEST_YEAR}; no table the "
            f"brief reads goes back that far (KNOMAD starts in 2000): give the crisis onset, "
            "'YYYY-MM-DD'"
        )
        raise ParameterError(msg)
    latest = dt.date.today().year + LATEST_YEARS_AHEAD
    if when.year > latest:
        msg = (
            f"crisis_brief's date: {when.isoformat()} is after {latest} (the current year + "
            f"{LATEST_YEARS_AHEAD}); a brief is about a crisis that has happened or is imminent: "
            "give its onset, 'YYYY-MM-DD'"
        )
        raise ParameterError(msg)
    return when


def _parse(country: Any, date: Any, horizon: Any) -> tuple[str, dt.date, int]:
    """The country as ISO3, the date (numpy's datetime64 too), the horizon (numpy integers too)."""
    code, when = _country(country), _date(date)
    months: int | None
    if isinstance(horizon, float) and horizon.is_integer():  # 12.0 is twelve months
        months = int(horizon)
    else:
        try:
            months = (
                None if type(horizon).__name__ in ("bool", "bool_") else operator.index(horizon)
            )
        except TypeError:
            months = None
    if months is None or not 1 <= months <= 24:
        msg = (
            f"crisis_brief's horizon_months must be an integer from 1 to 24 (months), got "
            f"{horizon!r}"
        )
        raise ParameterError(msg)
    return code, when, months


PER_CAPITA_MAX_USD = 20_000.0
"""Recorded remittances above this per person a year are implausible (the highest in
KNOMAD's table are a few thousand): a population in thousands is the likely cause."""


def _per_capita_warning(code: str, context: pl.DataFrame) -> list[str]:
    """A warning when the population table makes inflows per person implausibly high."""
    if "inflow_per_capita_usd" not in context.columns:
        return []
    high = context.filter(pl.col("inflow_per_capita_usd") > PER_CAPITA_MAX_USD)
    if high.height == 0:
        return []
    year, people, per = high.select("year", "population", "inflow_per_capita_usd").row(0)
    return [
        f"Warning: the population table gives {code} {people:,.0f} persons in {year}, so "
        f"USD {per:,.0f} of remittances per person, above the plausible USD "
        f"{PER_CAPITA_MAX_USD:,.0f} a year in {high.height} year(s): is the population in "
        "thousands? sources['population'] takes persons (WDI SP.POP.TOTL)."
    ]


def _crisis_warning(code: str, when: dt.date, events: Source | None) -> str | None:
    """A warning when the crisis is not a natural hazard, or no listed event matches it."""
    prior_kind = (
        "the prior is built from natural disasters only (earthquakes, floods, cyclones, volcanoes)"
    )
    if events is None:
        return None
    near = events.frame.filter(
        pl.col("country").is_in([code, "ALL"])
        & ((pl.col("start") - pl.lit(when)).dt.total_days().abs() <= EVENT_MATCH_DAYS)
    )
    if near.height == 0:
        return (
            f"Warning: no event of crisis_events.csv matches {code} within {EVENT_MATCH_DAYS} "
            f"days of {when:%Y-%m-%d}; {prior_kind}: if this crisis is not one (a conflict, an "
            "epidemic, an economic shock), the prior may not apply."
        )
    kinds = near.select(
        "event_id",
        "kind",
        natural=pl.col("kind")
        .str.to_lowercase()
        .str.split("/")
        .list.eval(pl.element().str.strip_chars().is_in(list(NATURAL_HAZARDS)))
        .list.all(),
    )
    if kinds["natural"].any():
        return None
    first = kinds.row(0, named=True)
    return (
        f"Warning: this crisis ({first['event_id']}, {first['kind']}) is not a natural hazard; "
        f"{prior_kind}: it may not apply. Read the prior as a reference, not an expectation."
    )


def _coverage(code: str, base: Baseline, knomad: Source) -> tuple[list[str], list[tuple[str, str]]]:
    """Warnings and gap rows for a date outside the data and a stale baseline."""
    warnings: list[str] = []
    gaps: list[tuple[str, str]] = []
    if base.out_of_sample and base.file_years is not None:
        first, last = base.file_years
        where = f"before {first}" if base.crisis_year < first else f"after {last}"
        text = (
            f"The date is out of sample: {base.crisis_year} is {where}, and the inflow table "
            f"({knomad.source}, {knomad.vintage}) covers {first}-{last}. Inflows for years "
            "outside it are unknown, not zero; every amount here is scaled from "
            + (f"{base.year}." if base.year is not None else "nothing (no inflow at all).")
        )
        warnings.append(f"Warning: {text}")
        gaps.append(("date out of sample", text))
    if base.not_before:
        when = "the crisis year itself" if base.year == base.crisis_year else "after the crisis"
        first = base.file_years[0] if base.file_years else base.crisis_year
        why = (
            f"the inflow table starts in {first}, after the crisis year"
            if base.crisis_year < first
            else f"{base.inflow_table} records no inflow for {code} before {base.year}"
            + (
                f" (none in {base.crisis_year}, the crisis year)"
                if base.year != base.crisis_year
                else ""
            )
        )
        text = (
            f"the baseline is not before the crisis: {why}, so the inflow of {base.year} "
            f"({when}) stands in; it may already hold the response, and every amount here is "
            "scaled from it"
        )
        warnings.append(f"Warning: {text[0].upper()}{text[1:]}.")
        gaps.append(("baseline not before the crisis", text))
    if base.stale:
        text = base.staleness()
        warnings.append(f"Warning: {text[0].upper()}{text[1:]}.")
        gaps.append(
            (
                "stale baseline",
                f"inflow of {base.year}, {base.distance} years from the crisis "
                f"({base.crisis_year}); {base.inflow_table} records none for {code} nearer",
            )
        )
    return warnings, gaps


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
        The crisis onset (``"YYYY-MM-DD"``, a date or a ``numpy.datetime64``). A date
        outside the inflow table's years is built but called out of sample.
    flows
        Recorded transactions of the country's inflows (anything
        :func:`flowlens.load_flows` reads): those of flow type ``remittance`` are
        summed by month over every origin and channel and scored (the brief is about
        remittances); other flow types and rejected rows are left out, with a note.
        Not with ``monthly``.
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
        The months after ``date`` the response covers (1 to 24; default 6; a numpy
        integer too). The prior is a twelve-month rise: no excess is assumed after
        month 12, and a horizon over 12 says so.
    charts
        Draw the charts (matplotlib); False for tables only.

    Returns
    -------
    CrisisBrief
        Frozen: tables, charts, notes and the provenance of every number.

    Raises
    ------
    ParameterError
        An unknown, empty or ambiguous country (``"Congo"``: COD or COG) or a list of
        them; a date that is not a day (a month is refused), before 1960 or after the
        current year + 1; a horizon out of range; an unknown ``sources`` key, a given
        table with repeated rows (a country-year, an edition, a cell) or a negative
        amount; a population of zero or less; recorded data without the country, with
        text or null periods or text amounts, a missing, negative or infinite amount
        (naming the months), amounts 200 times off KNOMAD's inflow (thousands,
        millions: the unit named), not monthly, or a corridor panel as ``flows=``.
    InputFormatError
        A recorded-data file that is missing, empty or unreadable; KNOMAD's outflows
        workbook given as ``knomad_inflows``; a ``sources`` file its reader cannot read
        (every error from ``sources`` names its key: ``crisis_brief's sources['rpw']``).

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
    code, when, horizon_months = _parse(country, date, horizon_months)
    loaded = load_sources(sources)
    knomad, fts = required(loaded, "knomad_inflows"), required(loaded, "ocha_fts")
    responses = required(loaded, "disaster_responses")
    bilateral, stock = required(loaded, "bilateral"), required(loaded, "migrant_stock")
    ledger, notes = Ledger(), []
    context, base, context_notes = context_section(
        code, when.year, knomad, fts, loaded["population"], ledger
    )
    notes += context_notes
    warnings, gaps = _coverage(code, base, knomad)
    warnings += _per_capita_warning(code, context)
    hazard = _crisis_warning(code, when, loaded["crisis_events"])
    warnings += [hazard] if hazard else []
    if horizon_months > 12:
        notes.append(_after_twelve(horizon_months))
    who = senders_section(code, when.year, bilateral, stock, base, ledger, notes)
    pri = prior_response(code, when, horizon_months, responses, ledger)
    recorded = recorded_panel(monthly, flows, code)
    if recorded is not None:  # a unit error is refused before any scoring
        units = unit_check(recorded, knomad, code) if recorded.arg == "monthly" else None
        warnings += [*recorded.warnings, *([units] if units else [])]
    obs = (
        observed_response(recorded.series, recorded.source, when, horizon_months, code, ledger)
        if recorded
        else None
    )
    if recorded is not None:
        notes += recorded.notes
        gaps += recorded.gaps
    if who is None:
        return _without_senders(
            code,
            when,
            horizon_months,
            context,
            base,
            pri,
            obs,
            loaded,
            ledger,
            notes,
            (warnings, gaps),
        )
    conc = who.graph.concentration()
    if who.table["amount_usd"].is_null().all():  # the graph holds shares: no total in USD
        conc = conc.with_columns(pl.lit(None, dtype=pl.Float64).alias("inflow_usd"))
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
        "total of the senders' amounts",
        row["inflow_usd"],
        "USD",
        who.source,
        "the matrix column's total (sum of its cells)"
        if who.method == "matrix"
        else "sum of the estimated amounts (the baseline inflow)",
        vintage=who.vintage,
    )
    ledger.add(
        "2 who sends",
        f"top sender's share ({row['top_origin']})",
        row["top_share"],
        "share",
        who.source,
        "largest cell / column total (CorridorGraph.concentration)",
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
    _tornado_ledger(tornado, who, responses, required(loaded, "rpw"), ledger)
    figures: list[tuple[str, Any]] = []
    if charts:
        figures = [
            ("context", context_chart(context, code, when.year)),
        ]
        if base.inflow_usd is not None:  # amounts unknown: no chart in USD
            figures += [
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
        unknowns=_unknowns(code, context, who, chan, loaded, obs, base, gaps),
        tornado=tornado,
        vintages=_vintages(loaded, who, obs),
        provenance=ledger.table(),
        notes=tuple(notes),
        figures=tuple(figures),
        warnings=tuple(warnings),
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
    coverage: tuple[list[str], list[tuple[str, str]]],
) -> CrisisBrief:
    warnings, gaps = coverage
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
    gap = pl.DataFrame(
        [*gaps, ("senders", "no matrix column and no migrant stock")],
        schema=["what", "detail"],
        orient="row",
    )
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
        warnings=tuple(warnings),
    )


def _tornado(
    who: Senders,
    base: Baseline,
    pri: Prior,
    informal: list[dict[str, object]],
) -> pl.DataFrame:
    # no recorded inflow: the swings in USD are unknown (null), not zero
    known = base.inflow_usd is not None
    inflow = base.inflow_usd or 0.0
    total = inflow * pri.fraction
    top = who.table.row(0, named=True)
    share_label = f"{top['origin']}'s share (editions or rules)"
    point = top["share_low"] == top["share_high"]
    if point:
        share_label = (
            f"{top['origin']}'s share: one edition only: no range"
            if who.method == "matrix"
            else f"{top['origin']}'s share: no income for the rule: no range"
        )
    rows: list[dict[str, object]] = [
        {
            "assumption": "rise after the disaster (prior p10 -> p90)",
            "headline": f"expected excess, {_months(pri.horizon_months)} (USD)",
            "low": pri.low,
            "high": pri.high,
            "at_low": total * pri.low,
            "at_high": total * pri.high,
        },
        {
            "assumption": share_label,
            "headline": f"expected excess from {top['origin']} (USD)",
            "low": top["share_low"],
            "high": top["share_high"],
            "at_low": top["share_low"] * total * pri.central,
            "at_high": top["share_high"] * total * pri.central,
        },
        {
            "assumption": "timing: the rise within the horizon (all in it, or spread over 12 months)",
            "headline": f"expected excess, {_months(pri.horizon_months)} (USD)",
            "low": pri.fraction,
            "high": 1.0,
            "at_low": total * pri.central,
            "at_high": inflow * pri.central,
        },
        *informal,
    ]
    usd_cols = ["at_low", "at_high"]
    return (
        pl.DataFrame(rows, orient="row")
        .with_columns(
            pl.col(usd_cols).cast(pl.Float64),
            pl.col("low", "high").cast(pl.Float64),
        )
        .with_columns(pl.when(pl.lit(known)).then(pl.col(usd_cols)).name.keep())
        .with_columns(swing=(pl.col("at_high") - pl.col("at_low")).abs())
        # no range is not a swing of 0: it is unknown (the label says why)
        .with_columns(
            pl.when(~pl.col("assumption").str.ends_with("no range")).then(pl.col("swing"))
        )
        .sort("swing", descending=True, nulls_last=True)
    )


def _tornado_ledger(
    tornado: pl.DataFrame, who: Senders, responses: Source, rpw: Source, ledger: Ledger
) -> None:
    """Provenance rows for every number of the tornado, each under its real source."""
    columns = {
        "low": ("low setting", "setting", "the assumption's low setting"),
        "high": ("high setting", "setting", "the assumption's high setting"),
        "at_low": ("headline at low", "USD", "the headline at the low setting"),
        "at_high": ("headline at high", "USD", "the headline at the high setting"),
        "swing": ("swing", "USD", "|at high - at low|"),
    }
    kind = pl.col("assumption")
    groups: list[tuple[pl.Expr, Source | None]] = [
        (kind.str.starts_with("rise after"), responses),
        (kind.str.contains("'s share"), who.source),
        (kind.str.starts_with("timing"), None),
        (kind.str.starts_with("informal ratio") | kind.str.starts_with("cost slope"), rpw),
    ]
    for where, source in groups:
        ledger.add_frame("5 unknown", tornado.filter(where), pl.col("assumption"), columns, source)


def _unknowns(  # noqa: PLR0917 (every section's gaps)
    code: str,
    context: pl.DataFrame,
    who: Senders,
    chan: Channels,
    loaded: dict[str, Source | None],
    obs: Observed | None,
    base: Baseline,
    gaps: list[tuple[str, str]],
) -> pl.DataFrame:
    unpriced = chan.costs.filter(pl.col("cost_pct").is_null())
    first, last = base.file_years or (0, 0)
    missing = context.filter(pl.col("inflow_usd").is_null())["year"]
    missing_years = [y for y in missing.to_list() if first <= y <= last]
    beyond = [y for y in missing.to_list() if not first <= y <= last]
    rows = [
        *gaps,
        (
            "senders without a price (RPW)",
            f"{unpriced.height} of {chan.costs.height}, "
            f"{100 * float(unpriced['share'].sum()):.1f}% of inflows",
        ),
        (
            f"years without a recorded inflow ({base.inflow_table})",
            ", ".join(map(str, missing_years)) or "none",
        ),
        *(
            [
                (
                    "years outside the inflow table",
                    f"{', '.join(map(str, beyond))}: out of sample (the table covers "
                    f"{first}-{last}), unknown, not zero",
                )
            ]
            if beyond
            else []
        ),
        *(
            [
                (
                    "baseline inflow",
                    f"none: {base.inflow_table} records no inflow in any year; amounts unknown",
                )
            ]
            if base.inflow_usd is None
            else []
        ),
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
