"""The tables a crisis brief reads: bundled by default, any of them replaced by ``sources=``."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from flowlens._frames import from_any
from flowlens.errors import (
    FlowlensError,
    InputFormatError,
    MissingColumnError,
    ParameterError,
    SchemaError,
)

SOURCE_KEYS: dict[str, str] = {
    "knomad_inflows": "annual remittance inflows per country (KNOMAD workbook, or a table "
    "of country, year, inflow_usd)",
    "bilateral": "bilateral remittance matrices (a workbook, a list of them, or a table of "
    "year, origin, destination, amount_usd)",
    "migrant_stock": "bilateral migrant stocks (a workbook, a list of them, or a table of "
    "year, origin (host), destination (birth), migrants)",
    "rpw": "Remittance Prices Worldwide (the DataBank CSV, or a table of period, origin, "
    "destination, cost_pct)",
    "ocha_fts": "OCHA FTS requirements and funding (the HDX CSV, or a table of country, year, "
    "requirements_usd, funding_usd, total_funding_usd)",
    "crisis_events": "crisis events (a CSV with columns event_id, country_iso3, event_type, "
    "start_date, as flowlens' crisis_events.csv, or a table of event_id, country, start, kind)",
    "derisking_events": "de-risking events (a CSV with columns event_id, announce_date, "
    "effective_date, sending_country_iso3, receiving_country_iso3, action, as flowlens' "
    "derisking_events.csv, or a table of event_id, effective_date, origin, destination, placebo)",
    "disaster_responses": "responses of annual inflows to past disasters (the table "
    "scripts/build_brief_data.py writes: event_id, country, start, kind, year, abnormal_12m)",
    "population": "population per country and year (a WDI SP.POP.TOTL download, or a table "
    "of country, year, value); none is bundled",
}
"""What each key of ``crisis_brief(sources=...)`` replaces."""

_COLUMNS: dict[str, tuple[str, ...]] = {
    "knomad_inflows": ("country", "year", "inflow_usd"),
    "bilateral": ("year", "origin", "destination", "amount_usd"),
    "migrant_stock": ("year", "origin", "destination", "migrants"),
    "rpw": ("period", "origin", "destination", "cost_pct"),
    "ocha_fts": ("country", "year", "requirements_usd", "funding_usd", "total_funding_usd"),
    "crisis_events": ("event_id", "country", "start", "kind"),
    "derisking_events": ("event_id", "effective_date", "origin", "destination", "placebo"),
    "disaster_responses": ("event_id", "country", "start", "kind", "year", "abnormal_12m"),
    "population": ("country", "year", "value"),
}

_BUNDLED_FILES: dict[str, str] = {
    "knomad_inflows": "brief_knomad_inflows.csv",
    "bilateral": "brief_bilateral.parquet",
    "migrant_stock": "brief_migrant_stock.parquet",
    "rpw": "brief_rpw.parquet",
    "ocha_fts": "ocha_fts_country_year.csv",
    "crisis_events": "crisis_events.csv",
    "derisking_events": "derisking_events.csv",
    "disaster_responses": "brief_disaster_responses.csv",
}


@dataclass(frozen=True)
class Source:
    """One table the brief read: its rows, where they came from, and which release.

    ``editions`` maps a year to its release for tables of several editions (the
    bilateral matrices, the migrant stocks).
    """

    key: str
    frame: pl.DataFrame
    source: str
    vintage: str
    file: str
    editions: tuple[tuple[int, str], ...] = ()

    def edition(self, year: int) -> str:
        """The release of one year's edition (the table's vintage when there is one edition)."""
        return dict(self.editions).get(year, self.vintage)


def _package_file(name: str) -> Path:
    return Path(str(resources.files("flowlens.samples").joinpath(name)))


@cache
def _bundled_provenance() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_package_file("brief_data.json").read_text("utf-8"))
    return loaded


def _read_bundled(key: str) -> pl.DataFrame:
    path = _package_file(_BUNDLED_FILES[key])
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    if key == "ocha_fts":
        from flowlens.sample import load_sample

        return load_sample("ocha_fts")
    if key == "derisking_events":
        from flowlens.informal import read_derisking_events

        return read_derisking_events(path)
    if key == "crisis_events":
        from flowlens.surge import read_crisis_events

        return read_crisis_events(path)
    if key == "disaster_responses":
        return pl.read_csv(path, try_parse_dates=True)
    return pl.read_csv(path)


def bundled(key: str) -> Source:
    """A bundled table with its provenance (brief_data.json, written by the build script).

    Examples
    --------
    >>> from flowlens.brief._sources import bundled
    >>> bundled("knomad_inflows").vintage
    'June 2023'
    """
    frame = _read_bundled(key)
    file = f"flowlens/samples/{_BUNDLED_FILES[key]}"
    if key == "ocha_fts":
        return Source(
            key,
            frame,
            "UN OCHA Financial Tracking Service (FTS), requirements and funding by country",
            "HDX download (fts_requirements_funding_global.csv; FTS is updated continuously)",
            file,
        )
    if key == "derisking_events":
        return Source(
            key,
            frame,
            "compiled for flowlens from press and NGO reports",
            "each row's source",
            file,
        )
    meta = _bundled_provenance()
    entry = meta[key]
    if key == "disaster_responses":
        knomad = meta["knomad_inflows"]
        return Source(
            key,
            frame,
            f"event study on {knomad['source']} around crisis_events.csv",
            knomad["vintage"],
            file,
        )
    if isinstance(entry, list):
        editions = tuple((int(e["year"]), str(e["vintage"])) for e in entry)
        names = "; ".join(f"{e['source']} ({e['vintage']})" for e in entry)
        return Source(key, frame, names, ", ".join(v for _, v in editions), file, editions)
    return Source(key, frame, str(entry["source"]), str(entry["vintage"]), file)


def _read_path(key: str, path: Path) -> Source:  # noqa: PLR0911 (one reader per table)
    from flowlens import official, official_series, wdi

    name = str(path)
    if key == "knomad_inflows":
        table = official.read_knomad_annual(path)
        if "outflows" in table.source:  # its own title says outflows: "no inflow recorded"
            msg = (
                f"crisis_brief's sources['knomad_inflows']: {path.name} is KNOMAD's remittance "
                f"*outflows* workbook (its title reads {table.notes[0]!r}), not inflows; pass "
                "the inflows workbook (title 'Remittance inflows ...', e.g. "
                "knomad_remittance_inflows_2000_2022_june2023.xlsx)"
            )
            raise InputFormatError(msg)
        frame = table.panel.select(
            pl.col("destination").cast(pl.String).alias("country"),
            pl.col("period").dt.year().alias("year"),
            pl.col("amount_usd").alias("inflow_usd"),
        )
        return Source(key, frame, table.source, table.vintage, name)
    if key == "rpw":
        table = official.read_rpw_corridors(path)
        frame = table.panel.select(
            "period",
            pl.col("origin").cast(pl.String),
            pl.col("destination").cast(pl.String),
            "cost_pct",
        )
        return Source(key, frame, table.source, table.vintage, name)
    if key == "ocha_fts":
        fts = official_series.read_ocha_fts(path)
        return Source(key, fts.country_year, fts.source, fts.vintage, name)
    if key == "population":
        table = wdi.read_wdi(path)
        if table.indicator_code != POPULATION_INDICATOR:
            # GNI per capita read as population made "USD 6.7m per person"
            msg = (
                f"crisis_brief's sources['population']: {path.name} holds the WDI indicator "
                f"{table.indicator_code} ({table.indicator_name}), not population "
                f"({POPULATION_INDICATOR}, 'Population, total'): download that indicator"
            )
            raise InputFormatError(msg)
        frame = table.tidy.select(pl.col("country").cast(pl.String), "year", "value")
        return Source(key, frame, table.source, table.vintage, name)
    if key == "crisis_events":
        from flowlens.surge import read_crisis_events

        return Source(key, read_crisis_events(path), "crisis events", "each row's source", name)
    if key == "derisking_events":
        from flowlens.informal import read_derisking_events

        frame = read_derisking_events(path)
        return Source(key, frame, "de-risking events", "each row's source", name)
    if key == "disaster_responses":
        frame = pl.read_csv(path, try_parse_dates=True)
        MissingColumnError.require(frame.columns, *_COLUMNS[key], what=path.name)
        return Source(key, frame, "disaster responses", "as given", name)
    return _read_matrices(key, [path])


POPULATION_INDICATOR = "SP.POP.TOTL"
"""The WDI indicator a brief reads as population (persons)."""


def _read_matrices(key: str, paths: list[Path]) -> Source:
    from flowlens import official

    reader = (
        official.read_wb_bilateral_matrix if key == "bilateral" else official.read_wb_migrant_stock
    )
    value = "amount_usd" if key == "bilateral" else "migrants"
    frames: list[pl.DataFrame] = []
    editions: list[tuple[int, str]] = []
    sources: list[str] = []
    read_from: dict[int, Path] = {}
    for path in paths:
        table = reader(path)
        frame = table.panel.select(
            pl.col("period").dt.year().alias("year"),
            pl.col("origin").cast(pl.String),
            pl.col("destination").cast(pl.String),
            pl.col(value),
        ).filter(pl.col(value) > 0)
        frames.append(frame)
        year = int(table.panel.select(pl.col("period").dt.year().min()).item())
        if year in read_from:
            msg = (
                f"crisis_brief's sources[{key!r}]: the {year} edition is given twice "
                f"({read_from[year]} and {path}); give each edition once (one file per year)"
            )
            raise ParameterError(msg)
        read_from[year] = path
        editions.append((year, table.vintage))
        sources.append(f"{table.source} ({table.vintage})")
    frame = pl.concat(frames)
    files = ", ".join(str(p) for p in paths)
    return Source(
        key, frame, "; ".join(sources), ", ".join(v for _, v in editions), files, tuple(editions)
    )


_NUMBERS = frozenset(
    {"year", "inflow_usd", "amount_usd", "migrants", "cost_pct", "requirements_usd",
     "funding_usd", "total_funding_usd", "abnormal_12m", "value"}
)  # fmt: skip
"""Columns of a given table that must hold numbers (years whole ones)."""


def _given_table(key: str, value: Any) -> Source:
    frame = from_any(value, what=f"sources[{key!r}]").eager()
    MissingColumnError.require(frame.columns, *_COLUMNS[key])
    for column in _NUMBERS.intersection(_COLUMNS[key]):
        dtype = frame.schema[column]
        whole = dtype.is_integer() if column == "year" else dtype.is_numeric()
        if not whole:
            kind = "whole numbers" if column == "year" else "numbers"
            msg = (
                f"crisis_brief's sources[{key!r}]: column {column!r} holds {dtype}, not "
                f"{kind}; cast it first (e.g. pl.col({column!r}).cast(pl."
                f"{'Int32' if column == 'year' else 'Float64'}))"
            )
            raise SchemaError(msg)
    _refuse_repeats_and_negatives(key, frame)
    editions: tuple[tuple[int, str], ...] = ()
    if key in ("bilateral", "migrant_stock"):
        years = sorted(int(y) for y in frame["year"].unique().drop_nulls().to_list())
        editions = tuple((y, f"{y} (given table)") for y in years)
    return Source(key, frame, "given table", "as given", "(a table passed in)", editions)


_KEYS: dict[str, tuple[str, ...]] = {
    "knomad_inflows": ("country", "year"),
    "bilateral": ("year", "origin", "destination"),
    "migrant_stock": ("year", "origin", "destination"),
    "population": ("country", "year"),
}
"""The columns that name one row of a given table: two rows of one key are refused."""

_NOT_NEGATIVE = {
    "knomad_inflows": "inflow_usd",
    "bilateral": "amount_usd",
    "migrant_stock": "migrants",
}
"""The amount of a given table that is never negative (an inflow, a flow, a count)."""


def _cells(rows: pl.DataFrame, columns: list[str]) -> str:
    """Up to five rows as ``HTI 2009; HTI 2010`` (and how many more)."""
    text = rows.head(5).select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("null") for c in columns], separator=" ")
    )
    more = f" and {rows.height - 5} more" if rows.height > 5 else ""
    return "; ".join(text.to_series().to_list()) + more


def _refuse_repeats_and_negatives(key: str, frame: pl.DataFrame) -> None:
    """Two rows of one (country, year) or cell, or a negative amount: refused, naming them."""
    keys = _KEYS.get(key)
    if keys is not None:
        twice = frame.filter(pl.struct(keys).is_duplicated()).unique(keys).sort(keys)
        if twice.height:
            msg = (
                f"crisis_brief's sources[{key!r}]: {twice.height} ({', '.join(keys)}) appear "
                f"in more than one row ({_cells(twice, list(keys))}); one row each is expected: "
                "drop the repeated rows (or sum them yourself if they are parts)"
            )
            raise ParameterError(msg)
    value = _NOT_NEGATIVE.get(key)
    if value is not None:
        negative = frame.filter(pl.col(value) < 0)
        if negative.height:
            listed = _cells(negative, [*(keys or ()), value])
            msg = (
                f"crisis_brief's sources[{key!r}]: {value} is negative in {negative.height} "
                f"row(s) ({listed}); {value} is zero or more (unknown is null): correct or drop "
                "those rows"
            )
            raise ParameterError(msg)


def _prefixed(key: str, exc: Exception) -> FlowlensError:
    """The reader's error, of the same class, saying which ``sources`` key and what it expects."""
    head = f"crisis_brief's sources[{key!r}]"
    text = str(exc)
    expected = f" (sources[{key!r}] expects {SOURCE_KEYS[key]})"
    if not isinstance(exc, FlowlensError):
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return InputFormatError(f"{head}: cannot read it ({type(exc).__name__}: {first}){expected}")
    # the readers' "pass columns={...}" hint is for their own call, not for sources=
    text = re.sub(r"\s*(Rename it, or pass|Pass) columns=\{[^}]*\}( to map it)?\.", "", text)
    if key == "crisis_events":  # the reader takes the file's names or the brief's
        for file_name, name in (("country_iso3", "country"), ("start_date", "start")):
            text = text.replace(
                f"required column {name!r}", f"required column {file_name!r} (or {name!r})"
            )
    return reworded(exc, f"{head}: {text}{expected}")


def reworded(exc: FlowlensError, message: str) -> FlowlensError:
    """The same error (class and attributes) with another message."""
    new = type(exc).__new__(type(exc))
    new.__dict__.update(exc.__dict__)
    Exception.__init__(new, message)
    return new


def _load(key: str, value: Any) -> Source:
    """One given table: read from a path, a list of paths or a frame; errors name the key."""
    try:
        if isinstance(value, str | Path):
            return _read_path(key, Path(value))
        if isinstance(value, list | tuple) and all(isinstance(v, str | Path) for v in value):
            if key not in ("bilateral", "migrant_stock"):
                msg = f"sources[{key!r}]: one file or table, not a list ({len(value)} items)"
                raise ParameterError(msg)
            return _read_matrices(key, [Path(v) for v in value])
        return _given_table(key, value)
    except (FlowlensError, OSError, pl.exceptions.PolarsError) as exc:
        if str(exc).startswith(f"crisis_brief's sources[{key!r}]"):
            raise
        raise _prefixed(key, exc) from exc


def load_sources(sources: Mapping[str, Any] | None) -> dict[str, Source | None]:
    """Every table of the brief: the caller's where given, else the bundled one.

    A value is a path (read with flowlens' reader of that table), a list of paths
    (the matrices' editions), or a table already in the brief's layout (the
    columns of ``_COLUMNS``). ``population`` has no bundled table: without it,
    per-capita figures are left out (and the brief says so).

    Examples
    --------
    >>> from flowlens.brief._sources import load_sources
    >>> loaded = load_sources(None)
    >>> loaded["bilateral"].frame["year"].unique().sort().to_list()
    [2016, 2017, 2021]
    >>> loaded["population"] is None
    True
    >>> load_sources({"knomad": "x.xlsx"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: sources: 'knomad' is not a table the brief reads; did you mean 'knomad_inflows'? ...
    """
    if sources is not None and not isinstance(sources, Mapping):
        msg = (
            "crisis_brief's sources is a mapping of table name to a path, a list of paths or a "
            f"table, e.g. {{'population': 'pop.csv'}}; got {type(sources).__name__}"
        )
        raise ParameterError(msg)
    given = dict(sources or {})
    for key in given:
        if key not in SOURCE_KEYS:
            close = difflib.get_close_matches(key, list(SOURCE_KEYS), n=1, cutoff=0.4)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = (
                f"sources: {key!r} is not a table the brief reads; {hint}"
                f"the keys are {', '.join(SOURCE_KEYS)}"
            )
            raise ParameterError(msg)
    loaded: dict[str, Source | None] = {}
    for key in SOURCE_KEYS:
        value = given.get(key)
        if value is None:
            loaded[key] = bundled(key) if key in _BUNDLED_FILES else None
        else:
            loaded[key] = _load(key, value)
    return loaded


def required(loaded: Mapping[str, Source | None], key: str) -> Source:
    """A table the brief cannot go without (each is bundled, so present unless replaced)."""
    source = loaded.get(key)
    if source is None:
        msg = f"sources: the brief needs {key!r} ({SOURCE_KEYS[key]}), and none was loaded"
        raise ParameterError(msg)
    return source
