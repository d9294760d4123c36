"""Currencies (ISO 4217) and the packaged USD exchange-rate table.

The FX table ``reference/data/fx_usd.parquet`` holds, for every ECB business day
from 1999-01-04 to the vintage in ``VERSION.json``, the US dollars per unit of each
currency, derived from the European Central Bank's euro foreign exchange
reference rates (``usd_per_unit = USD per EUR / currency per EUR``), plus the
documented fixed USD pegs of the Gulf currencies (SAR 3.75, AED 3.6725, QAR 3.64,
OMR 0.3845, BHD 0.376 per USD). Nothing is fetched from the network.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

from flowlens.reference._files import read_csv, read_parquet, version

__all__ = ["currencies", "currency_codes", "fx_coverage", "fx_rates"]


def currencies() -> pl.DataFrame:
    """ISO 4217 currencies: ``code``, ``name``, ``numeric``, ``status`` (``active`` or ``historic``).

    Examples
    --------
    >>> from flowlens.reference import currencies
    >>> currencies().filter(code="MXN")["name"].item()
    'Mexican Peso'
    """
    return read_csv("currencies.csv")


@cache
def currency_codes() -> tuple[str, ...]:
    """All known currency codes, sorted: the categories of the ``currency`` Enum.

    Examples
    --------
    >>> from flowlens.reference import currency_codes
    >>> "EUR" in currency_codes()
    True
    """
    return tuple(sorted(currencies()["code"].to_list()))


def fx_rates() -> pl.DataFrame:
    """The packaged FX table: ``date``, ``currency``, ``usd_per_unit``, ``source``.

    ``source`` is ``ecb`` (derived from ECB reference rates), ``usd_peg`` (a fixed
    peg) or ``identity`` (USD itself).

    Examples
    --------
    >>> import datetime as dt
    >>> from flowlens.reference import fx_rates
    >>> eur = fx_rates().filter(currency="EUR", date=dt.date(2020, 3, 2))
    >>> round(eur["usd_per_unit"].item(), 4)
    1.1122
    """
    return read_parquet("fx_usd.parquet")


def fx_coverage() -> dict[str, Any]:
    """Source, vintage and coverage of the packaged FX table.

    Examples
    --------
    >>> from flowlens.reference import fx_coverage
    >>> fx_coverage()["fx_first_date"]
    '1999-01-04'
    """
    return {k: v for k, v in version().items() if k.startswith(("fx_", "usd_"))}
