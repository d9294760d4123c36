"""Write the bundled transaction-level sample (synthetic, seeded) and the tidy real tables.

    python scripts/make_sample.py

The transaction sample is a small seeded output of ``flowlens.synth`` (4,000
transfers over 2023-2024 in 40 corridors), written as text as an operator's
extract arrives, plus a handful of deliberately broken rows, one or more per
validation rule, so that the demo shows rejects with reasons. Seeded: the output
is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

import flowlens as fl
from flowlens.synth import SynthConfig, generate

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_SAMPLES = ROOT / "src" / "flowlens" / "samples"
DATA_SAMPLES = ROOT / "data" / "samples"

SAMPLE_CONFIG = SynthConfig(
    n_corridors=40, start="2023-01-01", end="2024-12-31", n_random_crises=1, tx_ids=True
)
SAMPLE_SEED = 20240101


def make_flows(n_rows: int = 4000, seed: int = SAMPLE_SEED) -> pl.DataFrame:
    flows = generate(n_rows, seed=seed, config=SAMPLE_CONFIG).flows
    if flows is None:  # generate() always returns the flows in memory
        raise RuntimeError
    # as an operator's extract arrives: text, no USD columns
    frame = flows.select(
        pl.col("date").cast(pl.String),
        pl.col("origin", "destination", "flow_type", "channel").cast(pl.String),
        pl.col("amount").cast(pl.String),
        pl.col("currency").cast(pl.String),
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
                "2024-03-06",
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
                "T1",
            ),
        ],
        schema=frame.columns,
        orient="row",
    )
    # INR has ECB rates, KES has none, and the annual fallback ends in 2022: B11 passes,
    # B12 is rejected for want of a rate.
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
