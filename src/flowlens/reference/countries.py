"""Countries: ISO 3166-1 codes, names, aliases, and the mapping of free text to ISO3.

The tables ship as package data (``reference/data/countries.csv``,
``country_aliases.csv``, ``aggregates.csv``), built by
``scripts/build_reference.py`` from the Debian iso-codes database plus a curated
list of spellings used by the World Bank, KNOMAD and Banco de Mexico; regions,
income groups and the names and codes of aggregates come from the World Development
Indicators country metadata (FY2022 classification).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from flowlens.reference._files import read_csv

__all__ = [
    "aggregates",
    "countries",
    "country_aliases",
    "country_codes",
    "name_key",
    "to_iso3",
]


def countries() -> pl.DataFrame:
    """The country table, one row per code; every column is text.

    Columns: ``iso3``, ``iso2``, ``numeric``, ``name``, ``iso_name``,
    ``official_name``, ``status``, ``region``, ``muslim_majority``, ``income_group``,
    ``income_group_fy``.

    ``status`` is ``iso`` for ISO 3166-1 countries, ``world_bank`` for codes the
    World Bank uses that ISO does not assign (XKX Kosovo, CHI Channel Islands) and
    ``former`` for ANT (Netherlands Antilles, dissolved 2010, still in Banco de
    Mexico's tables).

    ``region`` is the World Bank region (the same in the FY2022 and FY2024
    classifications for every economy the World Bank lists). ``income_group`` is
    the World Bank income group (``Low income``, ``Lower middle income``, ``Upper
    middle income``, ``High income``) from the World Development Indicators country
    metadata, and ``income_group_fy`` the fiscal year of that classification
    (``FY2022``: released July 2021, from GNI per capita of 2020). Both are null for
    codes the World Bank does not list (Taiwan, Anguilla, ...); Venezuela is listed
    but was unclassified in FY2022, so its ``income_group`` is null and its
    ``income_group_fy`` is ``FY2022``. Income groups move between years: quote the
    fiscal year with them. ``muslim_majority`` is ``true`` / ``false``.

    Examples
    --------
    >>> from flowlens.reference import countries
    >>> countries().filter(iso3="MEX")["name"].item()
    'Mexico'
    >>> countries().filter(iso3="NPL").select("region", "income_group", "income_group_fy").row(0)
    ('South Asia', 'Lower middle income', 'FY2022')
    """
    return read_csv("countries.csv")


@cache
def country_codes() -> tuple[str, ...]:
    """All known ISO3 codes, sorted: the categories of the ``origin``/``destination`` Enum.

    Examples
    --------
    >>> from flowlens.reference import country_codes
    >>> "SOM" in country_codes(), len(country_codes()) > 240
    (True, True)
    """
    return tuple(sorted(countries()["iso3"].to_list()))


def country_aliases() -> pl.DataFrame:
    """Every name that maps to a country: ``alias``, ``iso3``, ``source``.

    Examples
    --------
    >>> from flowlens.reference import country_aliases
    >>> country_aliases().filter(alias="Korea, Rep.")["iso3"].item()
    'KOR'
    """
    return read_csv("country_aliases.csv")


def aggregates() -> pl.DataFrame:
    """Names of aggregates found in published tables: ``name``, ``code``, ``kind``.

    ``kind`` is ``world``, ``region``, ``income``, ``lending`` (IDA, IBRD),
    ``demographic`` (the demographic-dividend groups), ``group`` (Euro area, Arab
    World, small states, fragile situations, ...) or ``residual`` (Other North,
    Other South). Every aggregate of the World Development Indicators is listed,
    under each spelling the World Bank uses; several names share one code.

    Examples
    --------
    >>> from flowlens.reference import aggregates
    >>> aggregates().filter(name="World")["code"].item()
    'WLD'
    >>> aggregates().filter(code="IDX").select("name", "kind").row(0)
    ('IDA only', 'lending')
    """
    return read_csv("aggregates.csv")


def name_key(expr: str | pl.Expr) -> pl.Expr:
    """Normalise country names for matching: accents, case, punctuation and spacing are ignored.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.reference import name_key
    >>> pl.select(name_key(pl.lit("  Côte d'Ivoire "))).item()
    'cote d ivoire'
    """
    e = pl.col(expr) if isinstance(expr, str) else expr
    return (
        e.cast(pl.String)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all("&", " and ", literal=True)
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


@cache
def _key_table() -> pl.DataFrame:
    """Normalised key -> ISO3, from codes (ISO3, ISO2) and every alias; keys are unique."""
    table = countries()
    keys = pl.concat(
        [
            table.select(raw="iso3", iso3="iso3"),
            table.drop_nulls("iso2").select(raw="iso2", iso3="iso3"),
            country_aliases().select(raw="alias", iso3="iso3"),
        ]
    )
    keyed = keys.select(key=name_key("raw"), iso3="iso3").unique()
    clashes = keyed.filter(pl.len().over("key") > 1)
    if clashes.height:
        msg = f"country alias table maps one name to several codes: {clashes.rows()}"
        raise AssertionError(msg)
    return keyed.sort("key")


@cache
def _exact_table() -> pl.DataFrame:
    """Exact spellings (codes and aliases as published) -> ISO3: the fast path."""
    table = countries()
    exact = pl.concat(
        [
            table.select(raw="iso3", iso3="iso3"),
            table.drop_nulls("iso2").select(raw="iso2", iso3="iso3"),
            country_aliases().select(raw="alias", iso3="iso3"),
        ]
    )
    return exact.unique("raw", keep="first")


def to_iso3(expr: str | pl.Expr) -> pl.Expr:
    """Map ISO3 or ISO2 codes or country names (any case, spacing, accents) to ISO3; null if unknown.

    Exact spellings are looked up first; anything else is normalised with
    :func:`name_key` and looked up again.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.reference import to_iso3
    >>> names = pl.Series(["pak", " United Kingdom", "Korea, Rep.", "UAE", "GB", "Atlantis"])
    >>> pl.select(to_iso3(pl.lit(names))).to_series().to_list()
    ['PAK', 'GBR', 'KOR', 'ARE', 'GBR', None]
    """
    e = pl.col(expr) if isinstance(expr, str) else expr
    exact = _exact_table()
    keyed = _key_table()
    as_text = e.cast(pl.String)
    fast = as_text.replace_strict(exact["raw"], exact["iso3"], default=None, return_dtype=pl.String)
    slow = name_key(as_text).replace_strict(
        keyed["key"], keyed["iso3"], default=None, return_dtype=pl.String
    )
    return fast.fill_null(slow)
