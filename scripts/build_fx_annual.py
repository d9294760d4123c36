"""Build flowlens' annual FX fallback from the WDI official exchange rate (PA.NUS.FCRF).

Run from the repository root with the build-time source of currency dates installed::

    python -m pip install babel
    python scripts/build_fx_annual.py \
        ../shared/data/real/wb_wdi_official_exchange_rate_PA.NUS.FCRF_1960_2022.csv

Input: the World Bank's WDI bulk CSV of the official exchange rate (local currency
units per US$, period average; source IMF International Financial Statistics): four
metadata lines, then Country Name, Country Code, Indicator Name, Indicator Code,
1960..2022.

Outputs (in ``src/flowlens/reference/data/``):

- ``fx_annual.parquet``: ``year``, ``currency`` (ISO 4217), ``usd_per_unit``
  (1 / the published value), ``lcu_per_usd`` (as published), ``wdi_code`` (the WDI
  series the value comes from), ``source`` (``wdi_annual``); one row per currency
  and year.
- ``fx_annual.json``: source, vintage (the file's "Last Updated Date"), coverage,
  the series chosen for each shared currency and how far the other members'
  series are from it, and every country-year left out, with the reason.

A WDI value is in the country's *current* local currency unit, re-expressed
backwards across redenominations (Ghana 1998: 0.23 new cedis, not 2,314 old ones).
Each country-year is given the ISO 4217 code in force in that country for the
*whole* year, from the Unicode CLDR territory-currency table (as shipped by
``babel``), and kept only when:

- exactly one legal-tender currency was in force all year, once currencies whose
  series is taken from another country are set aside (Lesotho: LSL, not ZAR;
  Panama: PAB, not USD). Years of a mid-year change (Ghana 2007, Sierra Leone 2022,
  Ecuador 2000) have no such currency and are left out: the published average may
  mix units, and the new code did not exist for part of the year. So are years
  with two currencies of the country's own (Madagascar MGF and MGA to 2004,
  Turkey TRL and TRY in 2005);
- that code is one flowlens knows (``currencies.csv``): pre-euro legacy
  currencies (DEM, FRF...), the old cedi (GHC), kwacha (ZMK), bolivar (VEF),
  Zimbabwe dollar (ZWL) and the like are left out rather than put under the new
  code;
- the country issues the currency, or is the series named in :data:`ANCHORS` for
  a currency several countries use (EUR from the euro-area series EMU, XOF from
  Senegal, ...). The other members' values are compared with the anchor's and the
  largest relative gap is recorded.

Nothing is dropped silently: every WDI row with values is in the table or in the
``left_out`` list of ``fx_annual.json``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl

from flowlens.reference import countries, currency_codes

OUT = Path(__file__).resolve().parents[1] / "src" / "flowlens" / "reference" / "data"

ANCHORS: dict[str, str] = {
    # currency: the WDI series whose values the currency takes (the issuer)
    "EUR": "EMU",  # euro area aggregate (ECB); members repeat it
    "USD": "USA",
    "XOF": "SEN",  # BCEAO, Dakar; the WAEMU members' series differ slightly
    "XAF": "CMR",  # BEAC, Yaounde
    "XCD": "KNA",  # ECCB, Basseterre
    "XPF": "PYF",  # IEOM; New Caledonia repeats it
    "AUD": "AUS",
    "NZD": "NZL",
    "ZAR": "ZAF",
    "INR": "IND",
    "CHF": "CHE",
    "DKK": "DNK",
    "GBP": "GBR",
    "NOK": "NOR",
    "XCG": "CUW",  # Caribbean guilder (Curacao, Sint Maarten)
    "ANG": "CUW",
    # currencies a neighbour used for a while before its own (CLDR dates)
    "PKR": "PAK",  # Bangladesh, 1971-1972
    "ETB": "ETH",  # Eritrea, to 1997
    "MYR": "MYS",  # Brunei and Singapore, 1960s
    "JMD": "JAM",  # Cayman Islands, to 1972
}
"""The series used for a currency that several WDI countries carry."""

AGGREGATE_CURRENCIES = {"EMU": ("EUR", 1999)}
"""WDI aggregates that are a currency's own series: code -> (currency, first year)."""

RESCALED_BACKWARDS: dict[str, str] = {
    "ROL": "WDI gives Romania's rate in RON back to 1960 (1 RON = 10,000 ROL, 2005)",
    "TRL": "WDI gives Turkiye's rate in TRY back to 1960 (1 TRY = 1,000,000 TRL, 2005)",
}
"""Historic codes flowlens knows whose country's WDI series is expressed in the unit of
the currency that replaced them by redenomination: their years are left out (a value
under the old code would be off by the redenomination factor). Euro legacy codes
(EEK, LTL, ...) are not in this list: WDI gives them in their own unit until the euro."""

SOURCE = "wdi_annual"


def read_wdi(path: Path) -> tuple[pl.DataFrame, str]:
    """The WDI bulk CSV as (wdi_code, name, year, lcu_per_usd) and its Last Updated Date."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        head = [row for _, row in zip(range(4), csv.reader(handle), strict=False)]
    updated = next(row[1] for row in head if row and row[0] == "Last Updated Date")
    wide = pl.read_csv(path, skip_rows=4, infer_schema=False)
    years = [c for c in wide.columns if c.isdigit()]
    long = (
        wide.unpivot(
            index=["Country Code", "Country Name"], on=years, variable_name="year", value_name="v"
        )
        .select(
            wdi_code="Country Code",
            name="Country Name",
            year=pl.col("year").cast(pl.Int32),
            lcu_per_usd=pl.col("v").str.strip_chars().replace("", None).cast(pl.Float64),
        )
        .filter(pl.col("lcu_per_usd").is_not_null())
    )
    bad = long.filter(~pl.col("lcu_per_usd").is_finite() | (pl.col("lcu_per_usd") <= 0))
    if bad.height:
        row = bad.row(0, named=True)
        msg = f"{path}: {row['wdi_code']} {row['year']} has rate {row['lcu_per_usd']}"
        raise SystemExit(msg)
    return long, updated


def cldr_periods() -> tuple[pl.DataFrame, str]:
    """Legal-tender currency periods per territory (ISO2) from CLDR, via babel."""
    import babel
    from babel.core import get_global

    def day(parts: tuple[int, int, int] | None) -> dt.date | None:
        return None if parts is None else dt.date(*parts)

    rows = [
        (territory, code, day(start), day(end))
        for territory, periods in get_global("territory_currencies").items()
        for code, start, end, tender in periods
        if tender
    ]
    frame = pl.DataFrame(
        rows, schema=["iso2", "currency", "start", "end"], orient="row"
    ).with_columns(pl.col("start").fill_null(dt.date(1, 1, 1)))
    return frame, f"babel {babel.__version__} (CLDR {babel.core.get_cldr_version()})"


def runs(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Consecutive years collapsed to first_year..last_year per ``keys``."""
    return (
        frame.sort([*keys, "year"])
        .with_columns(run=(pl.col("year") - pl.col("year").rank("ordinal").over(keys)))
        .group_by([*keys, "run"], maintain_order=True)
        .agg(first_year=pl.col("year").min(), last_year=pl.col("year").max())
        .drop("run")
    )


MAX_GAP_TO_ECB = 0.5
"""The largest relative gap allowed between a WDI annual value and the mean of the ECB
daily rates of that currency and year: more is a unit error (a redenomination), not a
difference of sources."""


def cross_check(table: pl.DataFrame) -> pl.DataFrame:
    """Each currency's WDI values against the yearly means of the packaged ECB rates.

    Local currency units per USD, averaged over the ECB business days of the year,
    compared with the WDI value; the largest relative gap per currency. Raises if a
    gap passes :data:`MAX_GAP_TO_ECB`.
    """
    from flowlens.reference import fx_rates

    daily = (
        fx_rates()
        .filter(pl.col("source") == "ecb")
        .group_by("currency", year=pl.col("date").dt.year().cast(pl.Int32))
        .agg(ecb_lcu_per_usd=(1.0 / pl.col("usd_per_unit")).mean(), n_days=pl.len())
        .filter(pl.col("n_days") >= 200)  # whole years only
    )
    both = table.join(daily, on=["currency", "year"], how="inner").with_columns(
        gap=(pl.col("lcu_per_usd") / pl.col("ecb_lcu_per_usd") - 1).abs()
    )
    bad = both.filter(pl.col("gap") > MAX_GAP_TO_ECB)
    if bad.height:
        msg = f"WDI and ECB disagree by more than {MAX_GAP_TO_ECB:.0%}: {bad.head(5).rows()}"
        raise SystemExit(msg)
    return (
        both.sort("gap", descending=True)
        .group_by("currency", maintain_order=True)
        .agg(
            n_years=pl.len(),
            max_rel_gap=pl.col("gap").first(),
            year_of_max=pl.col("year").first(),
            median_rel_gap=pl.col("gap").median(),
        )
        .sort("currency")
    )


def build(path: Path) -> tuple[pl.DataFrame, dict[str, object]]:  # long: one pass, in steps
    wdi, updated = read_wdi(path)
    periods, cldr = cldr_periods()
    iso = countries().select(wdi_code="iso3", iso2="iso2").filter(pl.col("iso2").is_not_null())
    known = set(currency_codes())
    left_out: list[pl.DataFrame] = []

    def leave(frame: pl.DataFrame, reason: str, keys: list[str]) -> None:
        if frame.height:
            left_out.append(
                runs(frame, keys).with_columns(
                    currency=pl.col("currency") if "currency" in keys else pl.lit(None, pl.String),
                    reason=pl.lit(reason),
                )
            )

    series_codes = set(AGGREGATE_CURRENCIES)
    in_country = wdi.join(iso, on="wdi_code", how="inner")
    aggregates = wdi.filter(
        ~pl.col("wdi_code").is_in(iso["wdi_code"].implode())
        & ~pl.col("wdi_code").is_in(list(series_codes))
    )
    leave(
        aggregates.with_columns(currency=pl.lit(None, pl.String)),
        "a WDI aggregate or a code with no ISO 3166 alpha-2 (no currency of its own)",
        ["wdi_code", "name"],
    )
    # every currency in force (legal tender) for the whole year in that territory
    year_start = pl.date(pl.col("year"), 1, 1)
    year_end = pl.date(pl.col("year"), 12, 31)
    whole_year = (
        in_country.join(periods, on="iso2", how="left")
        .filter(
            (pl.col("start") <= year_start)
            & (pl.col("end").is_null() | (pl.col("end") >= year_end))
        )
        .select("wdi_code", "year", "currency")
    )
    anchored_elsewhere = pl.col("currency").is_in(list(ANCHORS)) & (
        pl.col("currency").replace_strict(ANCHORS, default=None) != pl.col("wdi_code")
    )
    own = whole_year.filter(~anchored_elsewhere)
    n_own = own.group_by("wdi_code", "year").agg(
        n=pl.len(), currency=pl.col("currency").sort().str.join("+")
    )
    with_own = in_country.join(n_own, on=["wdi_code", "year"], how="left")
    members = (
        with_own.filter(pl.col("n").is_null())
        .drop("n", "currency")
        .join(whole_year.filter(anchored_elsewhere), on=["wdi_code", "year"], how="left")
        .unique(["wdi_code", "year"], keep="first", maintain_order=True)
    )
    leave(
        members.filter(pl.col("currency").is_null()),
        "no single currency in force all year (a mid-year change of currency)",
        ["wdi_code", "name"],
    )
    leave(
        with_own.filter(pl.col("n") > 1),
        "several currencies of the country's own in force all year (ambiguous unit)",
        ["wdi_code", "name", "currency"],
    )
    single = with_own.filter(pl.col("n") == 1)
    leave(
        single.filter(~pl.col("currency").is_in(list(known))),
        "a currency flowlens does not know (replaced or redenominated; not put under the new code)",
        ["wdi_code", "name", "currency"],
    )
    rescaled = single.filter(pl.col("currency").is_in(list(RESCALED_BACKWARDS)))
    for code, why in RESCALED_BACKWARDS.items():
        leave(
            rescaled.filter(pl.col("currency") == code),
            f"{why}: not put under the old code",
            ["wdi_code", "name", "currency"],
        )
    single = single.filter(~pl.col("currency").is_in(list(RESCALED_BACKWARDS)))
    issued = single.filter(pl.col("currency").is_in(list(known))).select(
        "wdi_code", "name", "year", "currency", "lcu_per_usd"
    )
    series = pl.concat(
        [
            wdi.filter(pl.col("wdi_code") == code, pl.col("year") >= first).with_columns(
                currency=pl.lit(currency)
            )
            for code, (currency, first) in AGGREGATE_CURRENCIES.items()
        ]
    ).select("wdi_code", "name", "year", "currency", "lcu_per_usd")
    table = pl.concat([issued, series])
    shared = table.filter(pl.len().over("currency", "year") > 1)
    if shared.height:
        clash = shared.group_by("currency").agg(pl.col("wdi_code").unique().sort().str.join(","))
        msg = f"currencies with several series, add them to ANCHORS: {clash.rows()}"
        raise SystemExit(msg)
    member_rows = members.filter(pl.col("currency").is_not_null())
    gaps = (
        member_rows.join(
            table.select("currency", "year", anchor="lcu_per_usd"),
            on=["currency", "year"],
            how="left",
        )
        .with_columns(gap=(pl.col("lcu_per_usd") / pl.col("anchor") - 1).abs())
        .group_by("currency", "wdi_code")
        .agg(
            pl.col("name").first(),
            pl.col("year").min().alias("first_year"),
            pl.col("year").max().alias("last_year"),
            max_rel_gap=pl.col("gap").max(),
        )
        .sort("currency", "wdi_code")
    )
    leave(
        member_rows,
        "a member of a shared currency: the issuer's series is used (see members)",
        ["wdi_code", "name", "currency"],
    )
    out = table.sort("currency", "year").select(
        "year",
        "currency",
        usd_per_unit=1.0 / pl.col("lcu_per_usd"),
        lcu_per_usd="lcu_per_usd",
        wdi_code="wdi_code",
        source=pl.lit(SOURCE),
    )
    check = cross_check(out)
    notes = (
        pl.concat(left_out, how="diagonal_relaxed")
        .select("wdi_code", "name", "currency", "first_year", "last_year", "reason")
        .sort("wdi_code", "first_year")
    )
    n_in = wdi.height
    n_used = out.height
    meta: dict[str, object] = {
        "source": "World Bank, World Development Indicators: Official exchange rate "
        "(LCU per US$, period average), PA.NUS.FCRF; original source IMF International "
        "Financial Statistics",
        "indicator": "PA.NUS.FCRF",
        "vintage": updated,
        "input_file": path.name,
        "built": dt.date.today().isoformat(),
        "currency_dates": cldr,
        "first_year": int(out["year"].min()),  # type: ignore[arg-type]
        "last_year": int(out["year"].max()),  # type: ignore[arg-type]
        "n_currencies": out["currency"].n_unique(),
        "currencies": sorted(out["currency"].unique().to_list()),
        "n_wdi_values": n_in,
        "n_rows": n_used,
        "anchors": ANCHORS,
        "members": gaps.to_dicts(),
        "check_against_ecb": check.to_dicts(),
        "left_out": notes.to_dicts(),
    }
    return out, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("wdi_csv", type=Path, help="the WDI bulk CSV of PA.NUS.FCRF")
    args = parser.parse_args()
    table, meta = build(args.wdi_csv)
    table.write_parquet(OUT / "fx_annual.parquet", statistics=True)
    (OUT / "fx_annual.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(
        f"{table.height} rows, {meta['n_currencies']} currencies, "
        f"{meta['first_year']}-{meta['last_year']}; {len(meta['left_out'])} runs left out"  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
