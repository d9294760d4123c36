"""Build flowlens' bundled incomes: GNI per capita, Atlas method, current US$ (WDI NY.GNP.PCAP.CD).

Run from the repository root::

    python scripts/build_incomes.py \
        ../shared/data/real/wb_wdi_gni_per_capita_atlas_NY.GNP.PCAP.CD_1960_2020.csv

Input: the World Bank's WDI bulk CSV of GNI per capita (Atlas method, current US$),
read with :func:`flowlens.read_wdi` (four metadata lines, then Country Name, Country
Code, Indicator Name, Indicator Code, 1960..2020).

Outputs (in ``src/flowlens/reference/data/``):

- ``gni_per_capita.parquet``: ``country`` (ISO3, text), ``year`` (Int32),
  ``gni_per_capita`` (Float64, US$); one row per country and year with a value.
  Regional and income-group aggregates are left out (they are not countries); so are
  empty cells (a gap stays a gap: :func:`flowlens.reference.incomes.gni_per_capita`
  never fills, the bilateral estimate fills within a stated window and says so).
- ``gni_per_capita.json``: source, vintage (the file's "Last Updated Date"), the
  years covered, the number of rows and countries, and the aggregates left out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl

from flowlens.wdi import read_wdi

OUT = Path(__file__).resolve().parents[1] / "src" / "flowlens" / "reference" / "data"


def build(source: Path, out: Path = OUT) -> dict[str, object]:
    """Write the parquet and JSON files from ``source``; return the JSON's content."""
    table = read_wdi(source)
    incomes = (
        table.tidy.filter(pl.col("value").is_not_null())
        .select(
            country=pl.col("country").cast(pl.String),
            year=pl.col("year").cast(pl.Int32),
            gni_per_capita=pl.col("value").cast(pl.Float64),
        )
        .sort("country", "year")
    )
    aggregates = sorted(table.aggregates["code"].unique().to_list())
    info: dict[str, object] = {
        "source": table.source,
        "file": source.name,
        "vintage": table.vintage,
        "first_year": int(incomes["year"].min()),  # type: ignore[arg-type]
        "last_year": int(incomes["year"].max()),  # type: ignore[arg-type]
        "rows": incomes.height,
        "countries": incomes["country"].n_unique(),
        "aggregates_left_out": aggregates,
        "unit": "current US$ per person (Atlas method)",
    }
    out.mkdir(parents=True, exist_ok=True)
    incomes.write_parquet(out / "gni_per_capita.parquet", statistics=False)
    (out / "gni_per_capita.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the WDI bulk CSV of NY.GNP.PCAP.CD")
    args = parser.parse_args()
    info = build(args.source)
    print(json.dumps({k: v for k, v in info.items() if k != "aggregates_left_out"}, indent=2))


if __name__ == "__main__":
    main()
