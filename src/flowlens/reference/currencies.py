"""Currencies (ISO 4217) and the packaged USD exchange-rate table.

The FX table ``reference/data/fx_usd.parquet`` holds, for every ECB business day
from 1999-01-04 to the vintage in ``VERSION.json``, the US dollars per unit of each
currency, derived from the European Central Bank's euro foreign exchange
reference rates (``usd_per_unit = USD per EUR / currency per EUR``), plus the
documented fixed USD pegs of the Gulf currencies (SAR 3.75, AED 3.6725, QAR 3.64,
OMR 0.3845, BHD 0.376 per USD). :func:`fx_rates` adds the currencies fixed to the
euro (:data:`EURO_PEGS`), derived exactly from each day's euro rate.

The annual table ``reference/data/fx_annual.parquet`` (:func:`fx_annual`) holds the
World Bank's official exchange rate (WDI PA.NUS.FCRF, annual averages, 1960-2022)
mapped to ISO 4217 codes by ``scripts/build_fx_annual.py``: the fallback where no
daily rate is in force. Nothing is fetched from the network.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any, Final

import polars as pl

from flowlens.errors import ReferenceDataError
from flowlens.reference._files import data_path, read_csv, read_parquet, version

__all__ = [
    "EURO_PEGS",
    "currencies",
    "currency_codes",
    "fx_annual",
    "fx_annual_coverage",
    "fx_coverage",
    "fx_rates",
]

EURO_PEGS: Final[dict[str, tuple[float, dt.date]]] = {
    "XOF": (655.957, dt.date(1999, 1, 1)),
    "XAF": (655.957, dt.date(1999, 1, 1)),
    "KMF": (491.96775, dt.date(1999, 1, 1)),
    "BAM": (1.95583, dt.date(1999, 1, 1)),
    "CVE": (110.265, dt.date(1999, 1, 1)),
    "XPF": (1000 / 8.38, dt.date(1999, 1, 1)),
    "STN": (24.5, dt.date(2018, 1, 1)),
}
"""Currencies fixed to the euro: units per euro, and the day the peg applies from.

CFA francs (XOF, BCEAO; XAF, BEAC) 655.957 and the Comorian franc 491.96775 (the
former French franc parities, guaranteed by the French Treasury); the Bosnian
convertible mark 1.95583 (currency board, the former Deutsche Mark parity); the Cabo
Verde escudo 110.265 (the former Portuguese escudo parity); the CFP franc 1000 / 8.38
(1,000 XPF = 8.38 EUR, IEOM); the Sao Tome dobra 24.5 (24,500 old dobras per euro
since 2010; 1 STN = 1,000 STD from 2018-01-01). Each gives a daily rate on every
day the ECB fixes the euro: ``USD per EUR / units per EUR``, source ``eur_peg``."""


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


@cache
def fx_rates() -> pl.DataFrame:
    """The packaged daily FX table: ``date``, ``currency``, ``usd_per_unit``, ``source``.

    ``source`` is ``ecb`` (derived from ECB reference rates), ``usd_peg`` (a fixed
    USD peg), ``eur_peg`` (a currency fixed to the euro, :data:`EURO_PEGS`: the
    day's euro rate divided by the parity) or ``identity`` (USD itself).

    Examples
    --------
    >>> import datetime as dt
    >>> from flowlens.reference import fx_rates
    >>> eur = fx_rates().filter(currency="EUR", date=dt.date(2020, 3, 2))
    >>> round(eur["usd_per_unit"].item(), 4)
    1.1122
    >>> xof = fx_rates().filter(currency="XOF", date=dt.date(2020, 3, 2))
    >>> round(xof["usd_per_unit"].item() * 655.957, 4), xof["source"].item()
    (1.1122, 'eur_peg')
    """
    daily = read_parquet("fx_usd.parquet")
    eur = daily.filter(pl.col("currency") == "EUR").select("date", "usd_per_unit")
    pegs = pl.DataFrame(
        {
            "currency": list(EURO_PEGS),
            "per_eur": [rate for rate, _ in EURO_PEGS.values()],
            "start": [start for _, start in EURO_PEGS.values()],
        }
    )
    pegged = (
        eur.join(pegs, how="cross")
        .filter(pl.col("date") >= pl.col("start"))
        .select(
            "date",
            "currency",
            usd_per_unit=pl.col("usd_per_unit") / pl.col("per_eur"),
            source=pl.lit("eur_peg"),
        )
    )
    clash = pegged.join(daily, on=["date", "currency"], how="semi")
    if clash.height:  # a rebuilt daily table that starts publishing a pegged currency
        msg = f"fx_usd.parquet has rates for euro-pegged {clash['currency'][0]}; drop the peg"
        raise ReferenceDataError(msg)
    return pl.concat([daily, pegged]).sort("currency", "date")


def fx_annual() -> pl.DataFrame:
    """The packaged annual FX table (the fallback where no daily rate is in force).

    The World Bank's official exchange rate (WDI indicator PA.NUS.FCRF, local
    currency units per US$, annual average, source IMF International Financial
    Statistics; vintage in :func:`fx_annual_coverage`), one row per currency and
    year: ``year``, ``currency``, ``usd_per_unit`` (1 / the published value),
    ``lcu_per_usd`` (as published), ``wdi_code`` (the country or area series the
    value is from) and ``source`` (``wdi_annual``). A year is mapped to the ISO 4217
    code in force in that country for the whole year; years of a currency change,
    and codes replaced by a redenomination, are left out (listed in
    ``fx_annual_coverage()["left_out"]``).

    Examples
    --------
    >>> from flowlens.reference import fx_annual
    >>> pkr = fx_annual().filter(currency="PKR", year=2020)
    >>> round(pkr["lcu_per_usd"].item(), 2), pkr["wdi_code"].item()
    (161.84, 'PAK')
    """
    return read_parquet("fx_annual.parquet")


@cache
def _annual_meta() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(data_path("fx_annual.json").read_text(encoding="utf-8"))
    return data


def fx_annual_coverage() -> dict[str, Any]:
    """Source, vintage and coverage of :func:`fx_annual`, and what it leaves out.

    Keys include ``source``, ``vintage`` (the WDI file's Last Updated Date),
    ``first_year``, ``last_year``, ``currencies``, ``anchors`` (the series used for
    a currency several countries share), ``members`` (how far the other members'
    series are from it), ``check_against_ecb`` (the largest gap per currency between
    the annual value and the mean of the ECB daily rates of the year) and
    ``left_out`` (every country and run of years not in the table, with the reason).

    Examples
    --------
    >>> from flowlens.reference import fx_annual_coverage
    >>> cov = fx_annual_coverage()
    >>> cov["vintage"], cov["first_year"], cov["last_year"]
    ('2023-09-15', 1960, 2022)
    >>> {"NGN", "BDT", "XOF", "KES"} <= set(cov["currencies"])
    True
    """
    return dict(_annual_meta())


def fx_coverage() -> dict[str, Any]:
    """Source, vintage and coverage of the packaged FX table.

    Examples
    --------
    >>> from flowlens.reference import fx_coverage
    >>> fx_coverage()["fx_first_date"]
    '1999-01-04'
    >>> fx_coverage()["eur_pegs"]["XOF"]
    655.957
    """
    coverage = {k: v for k, v in version().items() if k.startswith(("fx_", "usd_"))}
    coverage["eur_pegs"] = {code: rate for code, (rate, _) in EURO_PEGS.items()}
    return coverage
