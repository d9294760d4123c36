"""Worked example: the 2015 closure of the US -> Somalia corridor, with real costs.

    python docs/examples/informal_us_somalia.py

Recorded flow: USD 215m a year (Oxfam's 2013 estimate for US -> Somalia, cited in
data/samples/real/derisking_events.csv), spread evenly over the months of 2015.
Cost of formal transfer: Remittance Prices Worldwide, US -> Somalia, the 2015
quarters (the corridor is surveyed from 2015Q2). The scenario is the closure of
2015-02-06: the Merchants Bank of California carried an estimated 60-80% of the
corridor's flow, so the withdrawn share is Triangular(0.6, 0.7, 0.8); every other
parameter keeps its sourced default.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import flowlens as fl
from flowlens.informal import (
    DeRiskingScenario,
    Triangular,
    baseline_from_costs,
    estimate_informal,
    sensitivity,
)

REAL = Path(__file__).resolve().parents[2] / "data" / "samples" / "real"


def main() -> dict[str, pl.DataFrame]:
    annual = 215e6
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
    panel = pl.DataFrame(
        {"period": months, "origin": "USA", "destination": "SOM", "amount_usd": annual / 12}
    )
    corridor = (pl.col("origin").cast(pl.String) == "USA") & (
        pl.col("destination").cast(pl.String) == "SOM"
    )
    costs = fl.read_rpw_corridors(REAL / "wb_rpw_corridors_2011_2020.csv").panel.filter(
        corridor & (pl.col("period").dt.year() == 2015)
    )
    baseline = baseline_from_costs(panel, costs)
    closure = DeRiskingScenario(
        "Merchants Bank closure",
        origin="USA",
        destination="SOM",
        start="2015-02-06",
        withdrawn=Triangular(0.6, 0.7, 0.8),
    )
    result = estimate_informal(panel, [closure], baseline=baseline, draws=2000, seed=1)
    columns = [f"{q}_{s}" for q in ("formal", "informal", "lost") for s in ("p5", "p50", "p95")]
    return {
        "baseline": baseline.select("origin", "destination", "cost_pct", "informal_ratio"),
        "summary": result.summary.select("scenario", "recorded_formal_usd", *columns),
        "tornado": sensitivity(panel, closure, baseline=baseline).select(
            "parameter", "low_value", "high_value", "at_low", "at_high", "swing_share"
        ),
    }


if __name__ == "__main__":
    tables = main()
    in_millions = [c for c in tables["summary"].columns if c.endswith(("usd", "p5", "p50", "p95"))]
    tables["summary"] = tables["summary"].with_columns(pl.col(in_millions) / 1e6)
    tables["tornado"] = tables["tornado"].with_columns(pl.col("at_low", "at_high") / 1e6)
    with pl.Config(tbl_width_chars=160, tbl_cols=12, float_precision=2, fmt_str_lengths=45):
        print("flows in USD millions")
        for name, table in tables.items():
            print(name)
            print(table)
