"""Write the compact tables that ``flowlens.crisis_brief`` reads offline from a fresh install.

    python scripts/build_brief_data.py

The published files in data/samples/real/ are in the repository, not in the installed
package (PROVENANCE.md there says where each came from). This script reads each with
flowlens' own reader and writes what the brief needs into src/flowlens/samples/, with
``brief_data.json`` recording, per table, the source file, its SHA-256, the publisher's
title and vintage, the reader and the rows written:

- ``brief_knomad_inflows.csv``: World Bank-KNOMAD annual remittance inflows (June 2023),
  ``country``, ``year``, ``inflow_usd`` (a zero in KNOMAD's file, "missing", is null).
- ``brief_bilateral.parquet``: the bilateral remittance matrices 2016 (November 2017),
  2017 (April 2018) and 2021 (December 2022): ``year``, ``origin``, ``destination``,
  ``amount_usd`` (non-zero cells only: a receiver with no cell has no column).
- ``brief_migrant_stock.parquet``: bilateral migrant stocks 2017 and 2021: ``year``,
  ``origin`` (host country), ``destination`` (country of birth), ``migrants``.
- ``brief_rpw.parquet``: Remittance Prices Worldwide, cost of sending USD 200 (%) per
  corridor and survey quarter, 2011Q1-2020Q3.
- ``crisis_events.csv``: data/samples/real/crisis_events.csv, byte for byte.
- ``brief_disaster_responses.csv``: for every natural-hazard event of crisis_events.csv
  whose country KNOMAD records, the log growth of annual inflows in the event's year and
  the next, against the mean log growth of the three years before (the pre-trend):
  ``abnormal_event_year``, ``abnormal_next_year`` and ``abnormal_12m``, the two weighted
  by the months of the twelve after the onset that fall in each year. This is the event
  study on the annual series flowlens holds; the brief's prior is built from it.

Deterministic: the same inputs write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import polars as pl

import flowlens as fl

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "samples" / "real"
TARGET = ROOT / "src" / "flowlens" / "samples"

KNOMAD = "knomad_remittance_inflows_2000_2022_june2023.xlsx"
MATRICES = (
    "wb_bilateral_remittance_2016_nov2017.xlsx",
    "wb_bilateral_remittance_2017.xlsx",
    "knomad_bilateral_remittance_2021_dec2022.xlsx",
)
STOCKS = (
    "wb_bilateral_migrant_stock_2017.xlsx",
    "knomad_bilateral_migrant_stock_2021_dec2022.xlsx",
)
RPW = "wb_rpw_corridors_2011_2020.csv"
EVENTS = "crisis_events.csv"

NATURAL_HAZARDS = ("earthquake", "flood", "cyclone", "volcano", "tsunami", "landslide", "drought")
"""Event kinds that count as natural disasters for the response prior (a substring of ``kind``)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry(path: Path, table: fl.OfficialTable | None, reader: str, rows: int) -> dict[str, object]:
    return {
        "file": f"data/samples/real/{path.name}",
        "sha256": _sha256(path),
        "source": table.source if table is not None else "compiled for flowlens (see file)",
        "vintage": table.vintage if table is not None else "see each row's source",
        "reader": reader,
        "rows": rows,
    }


def _write_csv(frame: pl.DataFrame, name: str) -> None:
    tmp = TARGET / f".{name}.tmp"
    frame.write_csv(tmp)
    tmp.replace(TARGET / name)


def _write_parquet(frame: pl.DataFrame, name: str) -> None:
    tmp = TARGET / f".{name}.tmp"
    frame.write_parquet(tmp, statistics=False, compression="zstd")
    tmp.replace(TARGET / name)


def _knomad() -> tuple[pl.DataFrame, dict[str, object]]:
    table = fl.read_knomad_annual(REAL / KNOMAD)
    frame = (
        table.panel.select(
            pl.col("destination").cast(pl.String).alias("country"),
            pl.col("period").dt.year().alias("year"),
            pl.col("amount_usd").alias("inflow_usd"),
        )
        .filter(pl.col("country").is_not_null())
        .sort("country", "year")
    )
    return frame, _entry(REAL / KNOMAD, table, "read_knomad_annual", frame.height)


def _matrices(
    names: tuple[str, ...], value: str, reader: str
) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    frames, entries = [], []
    for name in names:
        table = fl.read_official(REAL / name)
        frame = table.panel.select(
            pl.col("period").dt.year().alias("year"),
            pl.col("origin").cast(pl.String),
            pl.col("destination").cast(pl.String),
            pl.col(value),
        ).filter(pl.col(value) > 0)
        frames.append(frame)
        entry = _entry(REAL / name, table, reader, frame.height)
        entry["year"] = int(frame["year"][0])
        entries.append(entry)
    both = pl.concat(frames).sort("year", "destination", "origin")
    return both, entries


def _rpw() -> tuple[pl.DataFrame, dict[str, object]]:
    table = fl.read_rpw_corridors(REAL / RPW)
    frame = table.panel.select(
        "period",
        pl.col("origin").cast(pl.String),
        pl.col("destination").cast(pl.String),
        "cost_pct",
    ).sort("origin", "destination", "period")
    return frame, _entry(REAL / RPW, table, "read_rpw_corridors", frame.height)


def disaster_responses(inflows: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Abnormal log growth of annual inflows around each natural-hazard event.

    ``inflows``: ``country``, ``year``, ``inflow_usd``; ``events``: what
    :func:`flowlens.read_crisis_events` returns. Growth is ``log(x_t / x_{t-1})``; the
    pre-trend is the mean growth of the three years before the event's year; abnormal
    growth is growth less the pre-trend. ``abnormal_12m`` weights the event's year by
    the share of the twelve months from the onset's month that fall in it.
    """
    growth = inflows.sort("country", "year").with_columns(
        growth=(pl.col("inflow_usd") / pl.col("inflow_usd").shift(1)).log().over("country")
    )
    growth = growth.with_columns(
        pre_trend=pl.col("growth").shift(1).rolling_mean(3).over("country")
    )
    nxt = growth.select(
        "country", (pl.col("year") - 1).alias("year"), pl.col("growth").alias("growth_next_year")
    )
    hazard = pl.any_horizontal(pl.col("kind").str.contains(k) for k in NATURAL_HAZARDS)
    picked = events.filter(hazard).select(
        "event_id", "country", "start", "kind", year=pl.col("start").dt.year()
    )
    weight = (13 - pl.col("start").dt.month()) / 12
    return (
        picked.join(growth, on=["country", "year"], how="inner")
        .join(nxt, on=["country", "year"], how="left")
        .with_columns(
            abnormal_event_year=pl.col("growth") - pl.col("pre_trend"),
            abnormal_next_year=pl.col("growth_next_year") - pl.col("pre_trend"),
        )
        .with_columns(
            abnormal_12m=weight * pl.col("abnormal_event_year")
            + (1 - weight) * pl.col("abnormal_next_year")
        )
        .rename({"growth": "growth_event_year"})
        .select(
            "event_id",
            "country",
            "start",
            "kind",
            "year",
            "inflow_usd",
            "growth_event_year",
            "growth_next_year",
            "pre_trend",
            "abnormal_event_year",
            "abnormal_next_year",
            "abnormal_12m",
        )
        .sort("start", "event_id", "country")
    )


def main(argv: list[str]) -> None:
    real = Path(argv[0]) if argv else REAL
    if real != REAL:
        msg = "build_brief_data.py reads data/samples/real/ only (the files PROVENANCE.md lists)"
        raise SystemExit(msg)
    inflows, knomad_entry = _knomad()
    bilateral, bilateral_entries = _matrices(MATRICES, "amount_usd", "read_wb_bilateral_matrix")
    stocks, stock_entries = _matrices(STOCKS, "migrants", "read_wb_migrant_stock")
    rpw, rpw_entry = _rpw()
    events = fl.read_crisis_events(REAL / EVENTS)
    responses = disaster_responses(inflows, events)

    _write_csv(inflows, "brief_knomad_inflows.csv")
    _write_parquet(bilateral, "brief_bilateral.parquet")
    _write_parquet(stocks, "brief_migrant_stock.parquet")
    _write_parquet(rpw, "brief_rpw.parquet")
    shutil.copyfile(REAL / EVENTS, TARGET / "crisis_events.csv")
    _write_csv(responses, "brief_disaster_responses.csv")
    provenance = {
        "built_by": "scripts/build_brief_data.py",
        "knomad_inflows": knomad_entry,
        "bilateral": bilateral_entries,
        "migrant_stock": stock_entries,
        "rpw": rpw_entry,
        "crisis_events": _entry(REAL / EVENTS, None, "read_crisis_events", events.height),
        "disaster_responses": {
            "from": ["knomad_inflows", "crisis_events"],
            "kinds": list(NATURAL_HAZARDS),
            "rows": responses.height,
            "how": "log growth of annual inflows in the event's year and the next, less the "
            "mean log growth of the three years before; abnormal_12m weights the two by the "
            "months of the twelve after the onset in each",
        },
    }
    text = json.dumps(provenance, indent=1, sort_keys=True) + "\n"
    (TARGET / "brief_data.json").write_text(text, encoding="utf-8")
    print(
        f"wrote {inflows.height} country-years, {bilateral.height} matrix cells, "
        f"{stocks.height} migrant-stock cells, {rpw.height} prices, {events.height} events, "
        f"{responses.height} disaster responses into {TARGET.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
