"""Section 4 of a crisis brief: costs per corridor, SDG 10.c, de-risking, the informal share."""

from __future__ import annotations

import datetime as dt

import polars as pl

from flowlens.brief._ledger import Ledger
from flowlens.brief._sections import (
    SDG_AVERAGE_PCT,
    SDG_CORRIDOR_MAX_PCT,
    SHOWN_ROWS,
    Baseline,
    Channels,
    Senders,
    latest_prices,
)
from flowlens.brief._sources import Source, required

INFORMAL_DRAWS = 1000
INFORMAL_SEED = 0
"""The informal share's Monte Carlo: draws and seed (fixed, so a brief is reproducible)."""

RATIO_AT_REFERENCE_RANGE = (0.35, 0.75)
"""Freund and Spatafora (2008): informal remittances about 35-75% of recorded ones."""


def _corridor_panel(senders: Senders, base: Baseline) -> pl.DataFrame:
    """The senders' annual corridors, scaled to the baseline inflow, as an annual panel."""
    year = base.year if base.year is not None else (senders.edition or 2000)
    total = base.inflow_usd if base.inflow_usd is not None else 0.0
    return senders.table.select(
        pl.lit(dt.date(year, 1, 1)).alias("period"),
        "origin",
        pl.lit(senders.graph.edges["destination"][0]).cast(pl.String).alias("destination"),
        (pl.col("share") * total).alias("amount_usd"),
    ).filter(pl.col("amount_usd") > 0)


def channels(  # noqa: PLR0917  # long: four measures, each with its ledger rows
    country: str,
    date: dt.date,
    senders: Senders,
    base: Baseline,
    sources: dict[str, Source | None],
    ledger: Ledger,
    notes: list[str],
) -> Channels:
    """Costs, the SDG 10.c gap, the share through de-risked corridors and the informal share."""
    rpw, events = required(sources, "rpw"), required(sources, "derisking_events")
    prices = latest_prices(rpw, country, date)
    costs = (
        senders.table.select("origin", "share", "amount_usd")
        .join(prices, on="origin", how="left")
        .with_columns(
            above_5pct=pl.col("cost_pct") > SDG_CORRIDOR_MAX_PCT,
            gap_to_3pct=pl.col("cost_pct") - SDG_AVERAGE_PCT,
        )
    )
    priced = costs.filter(pl.col("cost_pct").is_not_null())
    summary: dict[str, float | None] = {}
    if priced.height:
        sums = priced.select(
            weighted=(pl.col("cost_pct") * pl.col("share")).sum() / pl.col("share").sum(),
            above=pl.col("share").filter(pl.col("above_5pct")).sum() / pl.col("share").sum(),
        ).row(0, named=True)
        weighted, above = float(sums["weighted"]), float(sums["above"])
        summary["weighted_cost_pct"] = ledger.add(
            "4 channels",
            "volume-weighted cost of sending USD 200",
            weighted,
            "%",
            rpw,
            "RPW cost per corridor (latest survey at or before the date, else the first after), "
            "weighted by the senders' shares",
        )
        summary["sdg_gap_pct"] = ledger.add(
            "4 channels",
            "gap to the SDG 10.c average (3%)",
            weighted - SDG_AVERAGE_PCT,
            "pp",
            rpw,
            "weighted cost - 3",
        )
        summary["share_above_5pct"] = ledger.add(
            "4 channels",
            "share of priced volume in corridors above 5%",
            above,
            "share",
            rpw,
            "senders' shares of corridors costing over 5%, over priced corridors' shares",
        )
        for row in priced.head(SHOWN_ROWS).iter_rows(named=True):
            ledger.add(
                "4 channels",
                f"cost {row['origin']}->{country}",
                row["cost_pct"],
                "%",
                rpw,
                f"RPW survey of {row['survey']:%Y-%m} (quarter start)"
                + ("" if row["survey_before_date"] else ", the first after the date"),
            )
        ledger.add_frame(
            "4 channels",
            priced.head(SHOWN_ROWS),
            pl.concat_str(pl.col("origin"), pl.lit(f"->{country}")),
            {"gap_to_3pct": ("gap to 3%", "pp", "RPW cost - 3 (SDG 10.c average)")},
            rpw,
        )
        later = priced.filter(~pl.col("survey_before_date"))
        if later.height:
            first_survey = rpw.frame.select(pl.col("period").cast(pl.Date).min()).item()
            why = (
                f" (the survey starts in {first_survey:%Y})"
                if first_survey is not None and date < first_survey
                else ""
            )
            named = ", ".join(later.head(8)["origin"].to_list())
            more = f" and {later.height - 8} more" if later.height > 8 else ""
            notes.append(
                f"Remittance Prices Worldwide has no survey at or before {date:%Y-%m-%d} for "
                f"the corridors from {named}{more}{why}: their first survey after the date "
                "stands in."
            )
    else:
        notes.append(f"Remittance Prices Worldwide prices no corridor to {country}.")
    summary["priced_share"] = ledger.add(
        "4 channels",
        "share of inflows through priced corridors",
        float(priced["share"].sum()) if priced.height else 0.0,
        "share",
        rpw,
        "senders' shares of the corridors RPW prices",
    )
    derisked = _derisking(country, costs, events, ledger)
    ledger.add_frame(
        "4 channels",
        derisked,
        pl.concat_str(pl.col("origin"), pl.lit(f"->{country}")),
        {"share": ("share of a de-risked corridor", "share", "the sender's share (section 2)")},
        events,
    )
    summary["derisked_share"] = float(derisked["share"].sum()) if derisked.height else 0.0
    ledger.add(
        "4 channels",
        "share of inflows through corridors with documented de-risking",
        summary["derisked_share"],
        "share",
        events,
        "senders' shares of corridors named by a non-placebo de-risking event "
        "(a null destination: every corridor from that sender)",
    )
    summary |= _informal(country, senders, base, prices, ledger, notes, rpw)
    return Channels(costs, derisked, summary)


def _derisking(country: str, costs: pl.DataFrame, events: Source, ledger: Ledger) -> pl.DataFrame:
    frame = events.frame.filter(~pl.col("placebo")).filter(
        pl.col("destination").is_null() | (pl.col("destination") == country)
    )
    return (
        frame.select("event_id", "effective_date", pl.col("origin").cast(pl.String))
        .join(costs.select("origin", "share"), on="origin", how="inner")
        .group_by("origin")
        .agg(
            pl.col("share").first(),
            pl.col("event_id").sort().str.join(", ").alias("events"),
            pl.col("effective_date").min().alias("first_effective"),
        )
        .sort("share", descending=True)
    )


def _informal(  # noqa: PLR0917 (the section's state)
    country: str,
    senders: Senders,
    base: Baseline,
    prices: pl.DataFrame,
    ledger: Ledger,
    notes: list[str],
    rpw: Source,
) -> dict[str, float | None]:
    from flowlens.informal import baseline_from_costs, estimate_informal

    panel = _corridor_panel(senders, base)
    if panel.height == 0 or base.inflow_usd is None:
        notes.append("No inflow to scale corridors by: the informal share is left out.")
        return {}
    costs = prices.select("origin", pl.lit(country).alias("destination"), "cost_pct")
    if not _any_priced(panel, costs):
        notes.append(
            f"Remittance Prices Worldwide prices none of the corridors to {country} (no survey "
            "above zero): the informal share, modelled from costs, is left out."
        )
        return {}
    baseline = baseline_from_costs(panel, costs)
    estimate = estimate_informal(
        panel, None, baseline=baseline, freq="1y", draws=INFORMAL_DRAWS, seed=INFORMAL_SEED
    )
    row = estimate.summary.row(0, named=True)
    recorded = float(row["recorded_formal_usd"])
    out: dict[str, float | None] = {}
    how = (
        "flowlens.informal.estimate_informal, no scenario, default cost baseline "
        f"(baseline_from_costs; Freund and Spatafora 2008), {INFORMAL_DRAWS} draws, seed "
        f"{INFORMAL_SEED}: informal / (recorded + informal)"
    )
    for q in ("p5", "p50", "p95"):
        informal = float(row[f"informal_{q}"])
        out[f"informal_share_{q}"] = ledger.add(
            "4 channels",
            f"informal share of all remittances ({q})",
            informal / (recorded + informal),
            "share",
            rpw,
            how,
            vintage=f"{rpw.vintage}; senders: {senders.vintage}",
        )
    return out


def informal_swings(
    country: str, senders: Senders, base: Baseline, prices: pl.DataFrame
) -> list[dict[str, object]]:
    """Tornado rows for the informal estimate: the cost model's assumptions, low and high."""
    from flowlens.informal import CostModel, baseline_from_costs

    panel = _corridor_panel(senders, base)
    if panel.height == 0:
        return []
    costs = prices.select("origin", pl.lit(country).alias("destination"), "cost_pct")
    if not _any_priced(panel, costs):
        return []
    central = CostModel()
    cases = {
        "informal ratio at the reference cost (Freund and Spatafora's 35-75%)": (
            "ratio_at_reference",
            *RATIO_AT_REFERENCE_RANGE,
        ),
        "cost slope of the informal ratio (0.1 per pp, +/- half; assumption)": (
            "cost_slope",
            central.cost_slope * 0.5,
            central.cost_slope * 1.5,
        ),
    }
    rows: list[dict[str, object]] = []
    for label, (name, low, high) in cases.items():
        values = []
        for setting in (low, high):
            model = CostModel(**{**_fields(central), name: setting})
            ratio = baseline_from_costs(panel, costs, model=model)
            joined = panel.join(ratio.select("origin", "informal_ratio"), on="origin")
            values.append(float((joined["amount_usd"] * joined["informal_ratio"]).sum()))
        rows.append(
            {
                "assumption": label,
                "headline": "informal flow a year (central ratio, USD)",
                "low": float(low),
                "high": float(high),
                "at_low": values[0],
                "at_high": values[1],
            }
        )
    return rows


def _any_priced(panel: pl.DataFrame, costs: pl.DataFrame) -> bool:
    """Whether a corridor of the panel has a cost above zero (the cost model needs one)."""
    priced = costs.filter(pl.col("cost_pct") > 0).select("origin")
    return panel.join(priced, on="origin", how="semi").height > 0


def _fields(model: object) -> dict[str, float]:
    from dataclasses import fields

    return {f.name: getattr(model, f.name) for f in fields(model)}  # type: ignore[arg-type]
