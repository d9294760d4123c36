"""Recorded bilateral flows: the senders a record names, and its declared residual bucket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens.bilateral._common import KEYS, codes, in_year, table, years_of
from flowlens.errors import ParameterError
from flowlens.official import OfficialTable
from flowlens.reference import name_key

RESIDUAL_LABELS: tuple[str, ...] = (
    "No Identificado",
    "Not identified",
    "Unidentified",
    "Not specified",
    "Other countries",
    "Otros paises",
    "Unallocated",
    "XXX",
)
"""Names of a residual bucket recognised by default (accents and case ignored): the
origin a record could not identify. Banco de Mexico publishes ``No Identificado``
(code ``XXX``)."""


@dataclass(frozen=True)
class Recorded:
    """One year of records: named senders, the residual bucket, names that map nowhere."""

    named: pl.DataFrame
    """``origin``, ``destination``, ``recorded_usd`` (a recorded zero is kept: a record of nothing)."""
    residual: pl.DataFrame
    """``destination``, ``residual_usd``: the declared bucket of unidentified senders."""
    unmapped: pl.DataFrame
    """``destination``, ``name``, ``recorded_usd``: named senders that are not ISO3 countries."""


def _labels(residual: str | Sequence[str] | None) -> list[str]:
    if residual is None:
        return list(RESIDUAL_LABELS)
    labels = [residual] if isinstance(residual, str) else list(residual)
    if not labels or not all(isinstance(x, str) for x in labels):
        msg = f"residual={residual!r}: expected a name or a list of names of the residual bucket"
        raise ParameterError(msg)
    return labels


def _one_year(frame: pl.DataFrame, year: int | None, what: str) -> int | None:
    years = years_of(frame, what)
    if year is None and len(years) > 1:
        msg = (
            f"{what} covers the years {years[0]}..{years[-1]}; an estimate is for one year: "
            f"pass year=<one of them>"
        )
        raise ParameterError(msg)
    return year


def _reporter(panel: pl.DataFrame) -> str | None:
    """The country on one side of every row (Banco de Mexico's table: MEX), if one is."""
    if panel.height == 0:
        return None
    sides = codes(panel.select(*KEYS), *KEYS)
    first = sides.row(0)
    for country in dict.fromkeys(c for c in first if c is not None):
        on_a_side = (pl.col(fs.ORIGIN) == country) | (pl.col(fs.DESTINATION) == country)
        if sides.select(on_a_side.fill_null(False).all()).item():
            return str(country)
    return None


def recorded_flows(
    recorded: Any,
    *,
    residual: str | Sequence[str] | None,
    year: int | None,
    value: str,
    what: str = "recorded",
) -> Recorded:
    """Split ``recorded`` (a table or an :class:`~flowlens.OfficialTable`) into named senders
    and the residual bucket, summed over ``year``'s periods."""
    labels = _labels(residual)
    if isinstance(recorded, OfficialTable):
        return _from_official(recorded, labels=labels, year=year, value=value, what=what)
    frame = codes(table(recorded, what, *KEYS, value), *KEYS)
    year = _one_year(frame, year, what)
    frame = in_year(frame, year)
    wanted = [_key(x) for x in labels]
    is_residual = frame.select(name_key(fs.ORIGIN).is_in(wanted).fill_null(False)).to_series()
    named = frame.filter(~is_residual)
    return Recorded(
        named=_sum(named, value),
        residual=frame.filter(is_residual)
        .group_by(fs.DESTINATION)
        .agg(residual_usd=pl.col(value).sum().cast(pl.Float64)),
        unmapped=pl.DataFrame(
            schema={fs.DESTINATION: pl.String, "name": pl.String, "recorded_usd": pl.Float64}
        ),
    )


def _key(label: str) -> str:
    return str(pl.select(name_key(pl.lit(label))).item())


def _sum(frame: pl.DataFrame, value: str) -> pl.DataFrame:
    return frame.group_by(*KEYS).agg(recorded_usd=pl.col(value).sum().cast(pl.Float64))


def _from_official(
    recorded: OfficialTable, *, labels: list[str], year: int | None, value: str, what: str
) -> Recorded:
    panel = codes(recorded.panel, *KEYS)
    year = _one_year(panel, year, what)
    panel = in_year(panel, year)
    reporter = _reporter(recorded.panel)
    if reporter is not None:
        panel = panel.filter(pl.col(fs.DESTINATION) == reporter)  # inflows by sender
    unmatched = in_year(recorded.unmatched, year)
    if "direction" in unmatched.columns:
        unmatched = unmatched.filter(pl.col("direction") == "inflows")
    code = pl.col("code") if "code" in unmatched.columns else pl.lit(None, pl.String)
    wanted = [_key(x) for x in labels]
    unmatched = unmatched.with_columns(
        is_residual=name_key("name").is_in(wanted) | name_key(code).is_in(wanted).fill_null(False),
        destination=pl.lit(reporter, pl.String),
    )
    residual = (
        unmatched.filter("is_residual")
        .group_by(fs.DESTINATION)
        .agg(residual_usd=pl.col(value).sum().cast(pl.Float64))
    )
    unmapped = (
        unmatched.filter(~pl.col("is_residual"))
        .group_by(fs.DESTINATION, "name")
        .agg(recorded_usd=pl.col(value).sum().cast(pl.Float64))
        .sort("name")
    )
    return Recorded(named=_sum(panel, value), residual=residual, unmapped=unmapped)
