"""The bundled samples: a synthetic transaction table and a real official series."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import polars as pl

from flowlens.errors import FlowlensError

__all__ = ["SAMPLES", "load_sample", "sample_path"]

SAMPLES: dict[str, str] = {
    "flows": "flows_sample.csv",
    "mexico_monthly": "mexico_monthly.csv",
    "derisking_events": "derisking_events.csv",
}
"""Sample name -> file. ``flows``: about 4,000 synthetic transfers (seeded) in 14 real
corridors, 2023-2024, with a dozen deliberately broken rows. ``mexico_monthly``: Banco
de Mexico's monthly remittance inflows (from 1995) and outflows (from 2013), in US
dollars, as published (source: Banco de Mexico, SIE; reshaped by github.com/lapanquecita/remesas).
``derisking_events``: bank and regulator closures of money-transfer accounts in
Somalia corridors, 2011-2015, with the press and NGO reports each row cites
(data/samples/real/PROVENANCE.md); one closure was announced and reversed (a placebo)."""


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
    of :func:`flowlens.informal.read_derisking_events`.

    Examples
    --------
    >>> import flowlens as fl
    >>> raw = fl.load_sample("flows")
    >>> raw.columns[:4]
    ['date', 'origin', 'destination', 'flow_type']
    >>> fl.load_sample("mexico_monthly").columns
    ['period', 'origin', 'destination', 'flow_type', 'amount_usd', 'n_transfers']
    """
    path = sample_path(name)
    if name == "derisking_events":
        from flowlens.informal import read_derisking_events

        return read_derisking_events(path)
    if name == "mexico_monthly":
        from flowlens.official import read_banxico_monthly

        return read_banxico_monthly(path).panel
    return pl.read_csv(path, infer_schema=False)
