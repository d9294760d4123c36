"""Write the packaged OCHA FTS country x year table that ``inflow_context`` uses by default.

    python scripts/build_fts_sample.py [path/to/fts_requirements_funding_global.csv]

Source: UN OCHA Financial Tracking Service, humanitarian requirements and funding by
country, plan and year, the HDX CSV ``fts_requirements_funding_global.csv``, as
committed to github.com/afnanbirahim/humanitarian-funding-gap-dashboard (copy in
data/samples/real/ocha_fts_requirements_funding_by_country_1999_2031.csv; provenance
in data/samples/real/PROVENANCE.md). The file is read with
``flowlens.read_ocha_fts`` and its country x year panel written, one row per country
and year: ``country`` (ISO3), ``year``, ``requirements_usd``, ``funding_usd``,
``percent_funded``, ``outside_appeals_usd``, ``total_funding_usd``, ``n_plans``
(see ``flowlens.official_series.HumanitarianFunding``). Deterministic: the same
input writes the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import flowlens as fl
from flowlens.official_series._fts import BUNDLED_FTS

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (
    ROOT / "data" / "samples" / "real" / "ocha_fts_requirements_funding_by_country_1999_2031.csv"
)
TARGET = ROOT / "src" / "flowlens" / "samples" / BUNDLED_FTS


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else SOURCE
    table = fl.read_ocha_fts(source).country_year.sort("country", "year")
    tmp = TARGET.with_suffix(".csv.tmp")
    table.write_csv(tmp)
    tmp.replace(TARGET)
    print(f"wrote {TARGET.relative_to(ROOT)}: {table.height} country-years from {source.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
