"""The bundled samples: a synthetic transaction table, real official series, humanitarian funding."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from flowlens.errors import FlowlensError

__all__ = ["SAMPLES", "load_sample", "sample_path"]

SAMPLES: dict[str, str] = {
    "flows": "flows_sample.csv",
    "mexico_monthly": "mexico_monthly.csv",
    "derisking_events": "derisking_events.csv",
    "guatemala_monthly": "banguat_guatemala_remittances_monthly_2002_2024.xlsx",
    "colombia_monthly": "banrep_colombia_workers_remittances_monthly_2000_2020.xlsx",
    "ocha_fts": "ocha_fts_country_year.csv",
    "crisis_events": "crisis_events.csv",
    "brief_knomad_inflows": "brief_knomad_inflows.csv",
    "brief_bilateral": "brief_bilateral.parquet",
    "brief_migrant_stock": "brief_migrant_stock.parquet",
    "brief_rpw": "brief_rpw.parquet",
    "brief_disaster_responses": "brief_disaster_responses.csv",
}
"""Sample name -> file. ``flows``: about 4,000 synthetic transfers (seeded) in 14 real
corridors, 2023-2024, with a dozen deliberately broken rows. ``mexico_monthly``: Banco
de Mexico's monthly remittance inflows (from 1995) and outflows (from 2013), in US
dollars, as published (source: Banco de Mexico, SIE; reshaped by github.com/lapanquecita/remesas).
``derisking_events``: bank and regulator closures of money-transfer accounts in
Somalia corridors, 2011-2015, with the press and NGO reports each row cites
(data/samples/real/PROVENANCE.md); one closure was announced and reversed (a placebo).
``guatemala_monthly``: Banco de Guatemala's monthly family remittances, January 2002 to
December 2024, US$ million (the workbook of the replication data of an Economics Letters
paper, github.com/alexisrsantos/GuatemalaRemittances, Data/Remesas.xlsx, byte for byte).
``colombia_monthly``: Banco de la Republica's monthly workers' remittances to Colombia,
January 2000 to April 2020, US$ million (github.com/Lauvo48/REMESAS-EN-COLOMBIA, byte for
byte). ``ocha_fts``: OCHA Financial Tracking Service humanitarian requirements and funding
per country and year, 1999-2031, derived from the HDX CSV by scripts/build_fts_sample.py
(see :func:`flowlens.read_ocha_fts`). ``crisis_events``: data/samples/real/crisis_events.csv.
``brief_*``: the compact tables :func:`flowlens.brief.crisis_brief` reads offline (KNOMAD
inflows, the bilateral matrices 2016/2017/2021, migrant stocks 2017/2021, RPW costs, the
disaster responses), built by scripts/build_brief_data.py (provenance in brief_data.json)."""

_SERIES_CALLS: dict[str, dict[str, Any]] = {
    "guatemala_monthly": {
        "date": ("Year", "Month"),  # the Date column's last cell is mistyped (2025-12-24)
        "value": "Remesas",
        "destination": "GTM",
        "unit": "US$ million",
        "source": "Banco de Guatemala, family remittances (Remesas), monthly",
        "vintage": "data to December 2024",
    },
    "colombia_monthly": {
        "sheet": "Hoja1",
        "date": "Fecha",
        "value": "Remesas",
        "destination": "COL",
        "unit": "US$ million",
        "source": "Banco de la Republica (Colombia), workers' remittances, monthly",
        "vintage": "data to April 2020",
    },
}
"""How :func:`load_sample` reads the central banks' workbooks with :func:`flowlens.read_series`."""


def sample_path(name: str = "flows") -> Path:
    """Path of a bundled sample file.

    Examples
    --------
    >>> from flowlens import sample_path
    >>> sample_path("flows").name
    'flows_sample.csv'
    """
    if name not in SAMPLES:
        msg = f"no sample named {name!r}; choose one of {sorted(SAMPLES)}"
        raise FlowlensError(msg)
    return Path(str(resources.files("flowlens.samples").joinpath(SAMPLES[name])))


def load_sample(name: str = "flows") -> pl.DataFrame:
    """Load a bundled sample.

    ``flows`` returns the raw transaction table, every column as text, exactly as a
    CSV extract arrives (pass it to :func:`flowlens.load_flows`). ``mexico_monthly``
    returns the tidy corridor panel of Banco de Mexico's monthly series (see
    :func:`flowlens.read_banxico_monthly`); ``derisking_events`` the events table
    of :func:`flowlens.informal.read_derisking_events`; ``guatemala_monthly`` and
    ``colombia_monthly`` the panels :func:`flowlens.read_series` reads from the
    central banks' workbooks; ``ocha_fts`` the humanitarian funding per country and
    year (``country``, ``year``, ``requirements_usd``, ``funding_usd``,
    ``percent_funded``, ``outside_appeals_usd``, ``total_funding_usd``,
    ``n_plans``).

    Examples
    --------
    >>> import flowlens as fl
    >>> raw = fl.load_sample("flows")
    >>> raw.columns[:4]
    ['date', 'origin', 'destination', 'flow_type']
    >>> fl.load_sample("mexico_monthly").columns
    ['period', 'origin', 'destination', 'flow_type', 'amount_usd', 'n_transfers']
    >>> fl.load_sample("guatemala_monthly").height  # January 2002 to December 2024
    276
    """
    path = sample_path(name)
    if name in ("derisking_events", "crisis_events"):
        from flowlens.informal import read_derisking_events
        from flowlens.surge import read_crisis_events

        reader = read_derisking_events if name == "derisking_events" else read_crisis_events
        return reader(path)
    if name == "mexico_monthly":
        from flowlens.official import read_banxico_monthly

        return read_banxico_monthly(path).panel
    if name in _SERIES_CALLS:
        from flowlens.official_series import read_series

        return read_series(path, **_SERIES_CALLS[name]).panel
    if name == "ocha_fts":
        from flowlens.official_series._fts import _bundled_fts

        return _bundled_fts()
    if name.startswith("brief_"):  # the crisis brief's compact tables
        is_parquet = path.suffix == ".parquet"
        return pl.read_parquet(path) if is_parquet else pl.read_csv(path, try_parse_dates=True)
    return pl.read_csv(path, infer_schema=False)
