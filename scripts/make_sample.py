"""Write the bundled transaction-level sample (synthetic, seeded) and the tidy real tables.

    python scripts/make_sample.py

The transaction sample stands in until ``flowlens.synth`` exists: a few thousand
transfers over 2023-2024 in a dozen corridors with heavy-tailed sizes, plus a
handful of deliberately broken rows, one or more per validation rule, so that the
demo shows rejects with reasons. Seeded: the output is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

import flowlens as fl

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_SAMPLES = ROOT / "src" / "flowlens" / "samples"
DATA_SAMPLES = ROOT / "data" / "samples"

CORRIDORS = [
    # origin, destination, origin currency, relative size
    ("USA", "MEX", "USD", 40.0),
    ("USA", "GTM", "USD", 8.0),
    ("USA", "PHL", "USD", 6.0),
    ("SAU", "IND", "SAR", 10.0),
    ("ARE", "PAK", "AED", 7.0),
    ("GBR", "PAK", "GBP", 4.0),
    ("GBR", "NGA", "GBP", 3.0),
    ("DEU", "TUR", "EUR", 2.5),
    ("FRA", "MAR", "EUR", 2.0),
    ("USA", "SOM", "USD", 1.0),
    ("GBR", "SOM", "GBP", 0.8),
    ("QAT", "NPL", "QAR", 1.5),
    ("CAN", "HTI", "CAD", 0.7),
    ("ESP", "COL", "EUR", 1.2),
]
CHANNELS = ["bank", "mto", "mobile_money", "post", "informal", "cash_carry"]
CHANNEL_P = [0.25, 0.5, 0.15, 0.03, 0.05, 0.02]
FEE_RATE = {
    "bank": 0.11,
    "mto": 0.055,
    "mobile_money": 0.04,
    "post": 0.07,
    "informal": 0.02,
    "cash_carry": 0.0,
}


def make_flows(n_rows: int = 4000, seed: int = 20240101) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    weights = np.array([c[3] for c in CORRIDORS])
    corridor = rng.choice(len(CORRIDORS), size=n_rows, p=weights / weights.sum())
    days = rng.integers(0, 731, size=n_rows)
    flow_type = rng.choice(
        ["remittance", "philanthropy", "trade_investment"], size=n_rows, p=[0.92, 0.07, 0.01]
    )
    channel = rng.choice(CHANNELS, size=n_rows, p=CHANNEL_P)
    amount_usd = np.where(
        flow_type == "remittance",
        rng.lognormal(np.log(300), 0.6, n_rows),
        np.where(
            flow_type == "philanthropy",
            rng.lognormal(np.log(5000), 1.0, n_rows),
            rng.lognormal(np.log(15000), 1.0, n_rows),
        ),
    )
    frame = pl.DataFrame(
        {
            "date": pl.date_range(pl.date(2023, 1, 1), pl.date(2024, 12, 31), eager=True).gather(
                days
            ),
            "origin": [CORRIDORS[i][0] for i in corridor],
            "destination": [CORRIDORS[i][1] for i in corridor],
            "flow_type": flow_type,
            "channel": channel,
            "currency": [CORRIDORS[i][2] for i in corridor],
            "amount_usd_true": amount_usd,
            "sender_id": [f"S{v:05d}" for v in rng.integers(0, 1500, n_rows)],
            "tx_id": [f"T{i:06d}" for i in range(n_rows)],
        }
    ).sort("date")
    rates = fl.reference.fx_rates().select("date", "currency", "usd_per_unit")
    frame = (
        frame.join_asof(rates.sort("date"), on="date", by="currency", strategy="backward")
        .with_columns(amount=(pl.col("amount_usd_true") / pl.col("usd_per_unit")).round(2))
        .with_columns(fee=(pl.col("amount") * pl.col("channel").replace_strict(FEE_RATE)).round(2))
    )
    frame = frame.select(
        pl.col("date").cast(pl.String),
        "origin",
        "destination",
        "flow_type",
        "channel",
        pl.col("amount").cast(pl.String),
        "currency",
        pl.col("fee").cast(pl.String),
        "sender_id",
        "tx_id",
    )
    broken = pl.DataFrame(
        [
            ("2024-02-30", "USA", "MEX", "remittance", "mto", "250", "USD", "5", "S09001", "B01"),
            (
                "2024-03-01",
                "Atlantis",
                "MEX",
                "remittance",
                "mto",
                "250",
                "USD",
                "5",
                "S09002",
                "B02",
            ),
            (
                "2024-03-01",
                "USA",
                "Narnia",
                "remittance",
                "mto",
                "250",
                "USD",
                "5",
                "S09003",
                "B03",
            ),
            ("2024-03-02", "MEX", "mex", "remittance", "bank", "900", "MXN", "10", "S09004", "B04"),
            ("2024-03-02", "USA", "MEX", "gift", "mto", "120", "USD", "3", "S09005", "B05"),
            (
                "2024-03-03",
                "USA",
                "GTM",
                "remittance",
                "pigeon",
                "120",
                "USD",
                "3",
                "S09006",
                "B06",
            ),
            ("2024-03-03", "USA", "GTM", "remittance", "mto", "-40", "USD", "1", "S09007", "B07"),
            ("2024-03-04", "USA", "GTM", "remittance", "mto", "", "USD", "1", "S09008", "B08"),
            ("2024-03-04", "GBR", "NGA", "remittance", "bank", "300", "XYZ", "9", "S09009", "B09"),
            ("2024-03-05", "GBR", "NGA", "remittance", "bank", "300", "GBP", "-2", "S09010", "B10"),
            ("2024-03-05", "SAU", "IND", "remittance", "mto", "700", "INR", "4", "S09011", "B11"),
            (
                "2019-03-06",
                "Somalia",
                "Kenya",
                "remittance",
                "mto",
                "200",
                "KES",
                "2",
                "S09012",
                "B12",
            ),
            (
                "2024-03-06",
                "United States",
                "Mexico",
                "remittance",
                "MTO",
                "310.5",
                "usd",
                "6",
                "S09013",
                "T000001",
            ),
        ],
        schema=frame.columns,
        orient="row",
    )
    # INR has ECB rates, KES has none: B11 passes, B12 is rejected for want of a rate.
    return pl.concat([frame, broken])


def main() -> None:
    flows = make_flows()
    flows.write_csv(PACKAGE_SAMPLES / "flows_sample.csv")
    flows.write_csv(DATA_SAMPLES / "flows_sample.csv")
    monthly = fl.read_banxico_monthly(PACKAGE_SAMPLES / "mexico_monthly.csv")
    monthly.panel.write_csv(DATA_SAMPLES / "mexico_remittances_monthly_tidy.csv")
    report = fl.load_flows(flows)
    print(report)


if __name__ == "__main__":
    main()
