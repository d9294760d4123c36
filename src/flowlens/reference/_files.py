"""Locate and read the packaged reference tables (cached: they are immutable)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

_PACKAGE = "flowlens.reference"


def data_path(name: str) -> Any:
    """Return a traversable for ``data/<name>`` inside the installed package."""
    return resources.files(_PACKAGE).joinpath("data", name)


@cache
def read_csv(name: str) -> pl.DataFrame:
    with resources.as_file(data_path(name)) as path:
        return pl.read_csv(path, infer_schema=False)


@cache
def read_parquet(name: str) -> pl.DataFrame:
    with resources.as_file(data_path(name)) as path:
        return pl.read_parquet(path)


@cache
def version() -> dict[str, Any]:
    """Provenance of the packaged tables (sources, tool versions, FX coverage)."""
    data: dict[str, Any] = json.loads(data_path("VERSION.json").read_text(encoding="utf-8"))
    return data
