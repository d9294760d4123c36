"""Packaged reference data: countries, aliases, aggregates, currencies and FX rates."""

from flowlens.reference._files import version
from flowlens.reference.countries import (
    aggregates,
    countries,
    country_aliases,
    country_codes,
    name_key,
    to_iso3,
)
from flowlens.reference.currencies import (
    EURO_PEGS,
    currencies,
    currency_codes,
    fx_annual,
    fx_annual_coverage,
    fx_coverage,
    fx_rates,
)

__all__ = [
    "EURO_PEGS",
    "aggregates",
    "countries",
    "country_aliases",
    "country_codes",
    "currencies",
    "currency_codes",
    "fx_annual",
    "fx_annual_coverage",
    "fx_coverage",
    "fx_rates",
    "name_key",
    "to_iso3",
    "version",
]
