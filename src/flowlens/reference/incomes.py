"""Bundled incomes: GNI per capita, Atlas method, current US$ (World Bank WDI NY.GNP.PCAP.CD).

The table ``reference/data/gni_per_capita.parquet`` is built by
``scripts/build_incomes.py`` from the WDI bulk CSV (vintage 2021-12-16, years
1962-2020); its provenance is in ``gni_per_capita.json``. Countries only (regional and
income-group aggregates are left out); a missing year stays missing here: the
bilateral estimate fills a gap from the latest earlier year within a window it states.
Nothing is fetched from the network.

References
----------
.. [1] World Bank, World Development Indicators, "GNI per capita, Atlas method
   (current US$)", NY.GNP.PCAP.CD, last updated 2021-12-16. CC BY 4.0.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import polars as pl

from flowlens.reference._files import data_path, read_parquet

__all__ = ["gni_per_capita", "gni_per_capita_source"]


def gni_per_capita() -> pl.DataFrame:
    """GNI per capita (Atlas method, current US$) per country and year, as published.

    Returns
    -------
    polars.DataFrame
        ``country`` (ISO3, text), ``year`` (Int32), ``gni_per_capita`` (US$ per
        person); one row per country-year with a published value, sorted.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.reference.incomes import gni_per_capita
    >>> gni = gni_per_capita()
    >>> gni.filter(country="USA", year=2017)["gni_per_capita"].item()
    59240.0
    >>> gni.filter(country="KWT")["year"].max()  # no 2020 value published for Kuwait
    2019
    """
    frame: pl.DataFrame = read_parquet("gni_per_capita.parquet")
    return frame


@cache
def _source() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(data_path("gni_per_capita.json").read_text(encoding="utf-8"))
    return data


def gni_per_capita_source() -> dict[str, Any]:
    """Provenance of :func:`gni_per_capita`: source, file, vintage, years and counts.

    Examples
    --------
    >>> from flowlens.reference.incomes import gni_per_capita_source
    >>> info = gni_per_capita_source()
    >>> info["vintage"], info["first_year"], info["last_year"]
    ('2021-12-16', 1962, 2020)
    """
    return dict(_source())
