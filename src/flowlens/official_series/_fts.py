"""read_ocha_fts: OCHA's Financial Tracking Service, humanitarian requirements and funding."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import polars as pl

from flowlens import schema as fs
from flowlens.errors import InputFormatError, MissingColumnError, ParameterError
from flowlens.io import sniff_csv
from flowlens.official import OfficialTable, _check_csv, _reader, _require
from flowlens.official_series._common import _shown
from flowlens.reference import to_iso3

__all__ = ["HumanitarianFunding", "read_ocha_fts"]

_FTS = (
    "the OCHA FTS CSV of humanitarian requirements and funding by country, plan and year "
    "(as on HDX: columns countryCode, id, name, code, typeId, typeName, startDate, endDate, "
    "year, requirements, funding, percentFunded; an HXL tag row '#country+code,...' may "
    "follow the header)"
)
_NEEDED = ["countryCode", "id", "name", "year", "requirements", "funding"]
_OPTIONAL = ["code", "typeName", "startDate", "endDate", "percentFunded"]
_VALUES = [
    "requirements_usd",
    "funding_usd",
    "percent_funded",
    "outside_appeals_usd",
    "total_funding_usd",
    "n_plans",
]
_COUNTRY_YEAR_SCHEMA = {
    "country": pl.String,
    "year": pl.Int32,
    "requirements_usd": pl.Float64,
    "funding_usd": pl.Float64,
    "percent_funded": pl.Float64,
    "outside_appeals_usd": pl.Float64,
    "total_funding_usd": pl.Float64,
    "n_plans": pl.Int32,
}
BUNDLED_FTS = "ocha_fts_country_year.csv"
"""The packaged country x year table (``flowlens/samples``), built by scripts/build_fts_sample.py."""


@dataclass(frozen=True, repr=False)
class HumanitarianFunding(OfficialTable):
    """OCHA FTS requirements and funding: a country x year panel, and the plans it sums.

    An :class:`~flowlens.OfficialTable` (``panel``, ``unmatched``, ``source``,
    ``vintage``, ``notes``; ``value`` is ``total_funding_usd``) with one more table.

    Attributes
    ----------
    panel
        One row per receiving country and year: ``period`` (1 January),
        ``origin`` (null: all donors), ``destination`` (ISO3), then
        ``requirements_usd`` (the plans' stated requirements), ``funding_usd``
        (funding to those plans), ``percent_funded`` (funding to plans that state a
        requirement / their requirements x 100), ``outside_appeals_usd`` (FTS's
        ``Not specified`` rows: funding outside any appeal or plan),
        ``total_funding_usd`` (both) and ``n_plans``.
    plans
        The file's rows: ``country``, ``country_code`` (as written), ``year``,
        ``plan_id``, ``plan_name``, ``plan_code``, ``plan_type``, ``start_date``,
        ``end_date``, ``requirements_usd``, ``funding_usd``, ``percent_funded`` (as
        published, a whole percent) and ``outside_appeals`` (True for the ``Not
        specified`` rows, which have no plan).

    Examples
    --------
    >>> import flowlens as fl
    >>> t = fl.read_ocha_fts("data/samples/real/ocha_fts_requirements_funding_by_country_1999_2031.csv")
    >>> t.country_year.columns[:4]
    ['country', 'year', 'requirements_usd', 'funding_usd']
    """

    plans: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def country_year(self) -> pl.DataFrame:
        """The panel as ``country``, ``year`` and the values (what :func:`flowlens.inflow_context` takes)."""
        return self.panel.select(
            pl.col("destination").cast(pl.String).alias("country"),
            pl.col("period").dt.year().cast(pl.Int32).alias("year"),
            *_VALUES,
        )

    def __repr__(self) -> str:
        return (
            f"HumanitarianFunding(source={self.source!r}, vintage={self.vintage!r}, "
            f"panel_rows={self.panel.height}, plans={self.plans.height}, "
            f"unmatched={self.unmatched.height})"
        )


def _numbers(frame: pl.DataFrame, columns: dict[str, pl.DataType], path: Path) -> pl.DataFrame:
    """Cast text columns to numbers; a cell that is not a number is an error, with examples."""
    for column, dtype in columns.items():
        text = pl.col(column).str.strip_chars()
        cast = text.cast(pl.Float64, strict=False)
        bad = frame.filter(text.is_not_null() & (text != "") & cast.is_null())
        if bad.height:
            msg = (
                f"{path.name}: column {column!r} holds {bad.height} cells that are not numbers "
                f"({_shown(bad[column].unique(maintain_order=True).to_list())}); expected {_FTS}"
            )
            raise InputFormatError(msg)
        frame = frame.with_columns(cast.cast(dtype).alias(column))
    return frame


def _fts_path(path: object) -> Path:
    """The path read_ocha_fts reads: a str or a Path to the HDX CSV, not an Excel workbook."""
    if not isinstance(path, (str, Path)):
        what = type(path).__name__
        msg = (
            f"read_ocha_fts reads a file path (the HDX CSV, fts_requirements_funding_global.csv); "
            f"got a {what}. Pass the path to the downloaded file"
        )
        raise ParameterError(msg)
    path = Path(path)
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(8)
        if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            msg = (
                f"{str(path)!r} is an Excel workbook; expected {_FTS}. read_ocha_fts reads "
                "the CSV that HDX publishes (fts_requirements_funding_global.csv), not a "
                "workbook: download the CSV"
            )
            raise InputFormatError(msg)
    return path


def _years(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """The year column as whole years from 1900 to 2100: a year with decimals (2010.5) or
    out of range (1e3) is refused with its lines, not truncated into another year."""
    year = pl.col("year")
    missing = frame.filter(year.is_null())
    if missing.height:
        msg = (
            f"{path.name}: {missing.height} rows without a year (lines "
            f"{_shown(missing['_line'].to_list())}); expected {_FTS}"
        )
        raise InputFormatError(msg)
    wrong = frame.filter((year != year.round()) | ~year.is_between(1900, 2100))
    if wrong.height:
        shown = _shown(
            wrong.select(pl.format("line {}: {}", "_line", "_year_text")).to_series().to_list()
        )
        msg = (
            f"{path.name}: {wrong.height} rows have a year that is not a whole year from 1900 "
            f"to 2100 ({shown}); expected {_FTS}. Correct those rows in the file"
        )
        raise InputFormatError(msg)
    return frame.with_columns(year.cast(pl.Int32)).drop("_year_text")


def _refuse_duplicate_plans(plans: pl.DataFrame, path: Path) -> None:
    """One row per plan, country and year: a repeated row would count its funding twice."""
    by = ["plan_id", "year", "country_code"]
    repeated = plans.filter(pl.len().over(by) > 1)
    if not repeated.height:
        return
    shown = _shown(
        repeated.group_by(by, maintain_order=True)
        .agg(pl.col("line"))
        .select(
            pl.format(
                "{} {} {} (lines {})",
                pl.col("plan_id").fill_null("Not specified"),
                "country_code",
                "year",
                pl.col("line").cast(pl.List(pl.String)).list.join(", "),
            )
        )
        .to_series()
        .to_list()
    )
    msg = (
        f"{path.name}: {repeated.height} rows repeat a plan for one country and year ({shown}); "
        f"expected one row per plan, country and year ({_FTS}): a repeated row would count "
        "its funding twice. Remove the duplicates"
    )
    raise InputFormatError(msg)


@_reader(_FTS)
def read_ocha_fts(path: str | Path) -> HumanitarianFunding:  # long: one table, then its sums
    """Read OCHA FTS humanitarian requirements and funding by country, plan and year (HDX CSV).

    The Financial Tracking Service records humanitarian funding (US dollars, as
    reported by donors and agencies) against the appeals and response plans
    that set requirements. One row of the file is a plan in a country and year;
    regional plans have one row per country (its share). Rows ``Not specified``
    (no plan id) are funding outside any appeal: they are kept, flagged
    ``outside_appeals`` in ``plans``, and summed apart in ``outside_appeals_usd``.
    An HXL tag row (``#country+code,...``) after the header, as HDX writes it, is
    skipped; a file without one reads the same.

    Parameters
    ----------
    path
        The CSV (``fts_requirements_funding_global.csv`` on HDX).

    Returns
    -------
    HumanitarianFunding
        The country x year ``panel`` and the ``plans`` it sums; codes that are not
        countries in ``unmatched`` with their values.

    Raises
    ------
    InputFormatError
        Not this table (a missing column, a cell that is not a number, an Excel
        workbook, a header without rows), a year that is not a whole year from 1900
        to 2100, a plan repeated for one country and year (its funding would count
        twice); with the file, the lines, what was expected and what was found.
    ParameterError
        ``path`` is not a path (a DataFrame, bytes, None).

    Examples
    --------
    >>> import datetime as dt
    >>> import flowlens as fl
    >>> t = fl.read_ocha_fts("data/samples/real/ocha_fts_requirements_funding_by_country_1999_2031.csv")
    >>> haiti = t.plans.filter(country="HTI", year=2010, outside_appeals=False)
    >>> haiti.select("plan_type", "requirements_usd", "funding_usd").row(0)
    ('Flash appeal', 1502221330.0, 1108519732.0)
    >>> row = t.panel.filter(destination="HTI", period=dt.date(2010, 1, 1))
    >>> round(row["outside_appeals_usd"].item() / 1e9, 2), round(row["percent_funded"].item(), 1)
    (2.48, 73.8)
    """
    path = _fts_path(path)
    _check_csv(path)
    frame = pl.read_csv(path, separator=sniff_csv(path).separator, infer_schema=False)
    frame.columns = [c.strip().lstrip("\ufeff") for c in frame.columns]
    try:
        _require(frame, _NEEDED, path)
    except MissingColumnError as exc:  # another file: say what this reader expects
        raise InputFormatError(f"{exc} (expected {_FTS})") from exc
    notes = [
        "UN OCHA Financial Tracking Service (fts.unocha.org), requirements and funding in "
        "US dollars by country, plan and year, as downloaded from HDX."
    ]
    frame = frame.with_row_index("_line", offset=2)  # the file's line (the header is line 1)
    first = frame[frame.columns[1]].head(1).to_list()
    if first and str(first[0] or "").startswith("#"):
        frame = frame.slice(1)
        notes.append("flowlens: the HXL tag row after the header skipped.")
    if frame.height == 0:
        msg = f"{path.name} has a header but no rows; expected {_FTS} with one row per plan"
        raise InputFormatError(msg)
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in _OPTIONAL if c not in frame.columns
    )
    frame = frame.with_columns(_year_text=pl.col("year").str.strip_chars())
    frame = _numbers(
        frame,
        {"year": pl.Float64(), "requirements": pl.Float64(), "funding": pl.Float64(),
         "percentFunded": pl.Float64()},
        path,
    )  # fmt: skip
    frame = _years(frame, path)
    code = pl.col("countryCode").str.strip_chars()
    plans = frame.select(
        country=pl.when(code.str.len_chars() == 3).then(to_iso3(code)),
        country_code=code,
        year="year",
        plan_id=pl.col("id").str.strip_chars(),
        plan_name=pl.col("name"),
        plan_code=pl.col("code"),
        plan_type=pl.col("typeName"),
        start_date=pl.col("startDate").str.to_date("%Y-%m-%d", strict=False),
        end_date=pl.col("endDate").str.to_date("%Y-%m-%d", strict=False),
        requirements_usd="requirements",
        funding_usd="funding",
        percent_funded="percentFunded",
        outside_appeals=pl.col("id").str.strip_chars().fill_null("") == "",
        line="_line",
    ).sort("country_code", "year", "outside_appeals", "plan_id")
    _refuse_duplicate_plans(plans, path)
    plans = plans.drop("line")
    panel = _country_year(plans.filter(pl.col("country").is_not_null()))
    unmatched = plans.filter(pl.col("country").is_null()).drop("country")
    notes.extend(_fts_notes(plans, unmatched))
    latest = str(plans.filter(~pl.col("outside_appeals"))["year"].max())
    return HumanitarianFunding(
        panel=panel,
        aggregates=pl.DataFrame(),
        unmatched=unmatched,
        source="UN OCHA Financial Tracking Service (FTS), requirements and funding by country",
        vintage=f"HDX download; plans to {latest} (FTS is updated continuously)",
        freq="1y",
        notes=tuple(notes),
        value="total_funding_usd",
        plans=plans,
    )


def _country_year(plans: pl.DataFrame) -> pl.DataFrame:
    """One row per country and year, from the plan rows and the ``Not specified`` rows."""
    plan = ~pl.col("outside_appeals")
    requirement = pl.col("requirements_usd")
    priced = plan & requirement.is_not_null()
    funding = pl.col("funding_usd")

    def total(values: pl.Expr, rows: pl.Expr) -> pl.Expr:
        """The sum over ``rows``, null where no row has a value."""
        kept = values.filter(rows)
        return pl.when(kept.count() > 0).then(kept.sum())

    by_year = plans.group_by("country", "year").agg(
        requirements_usd=total(requirement, plan),
        funding_usd=total(funding, plan),
        priced_funding=total(funding, priced),
        outside_appeals_usd=total(funding, ~plan),
        n_plans=plan.sum().cast(pl.Int32),
    )
    return by_year.select(
        period=pl.date(pl.col("year"), 1, 1),
        origin=pl.lit(None, fs.COUNTRY_ENUM),
        destination=pl.col("country").cast(fs.COUNTRY_ENUM),
        requirements_usd="requirements_usd",
        funding_usd="funding_usd",
        percent_funded=pl.when(pl.col("requirements_usd") > 0).then(
            100 * pl.col("priced_funding").fill_null(0) / pl.col("requirements_usd")
        ),
        outside_appeals_usd="outside_appeals_usd",
        total_funding_usd=pl.when(
            pl.col("funding_usd").is_not_null() | pl.col("outside_appeals_usd").is_not_null()
        ).then(pl.col("funding_usd").fill_null(0) + pl.col("outside_appeals_usd").fill_null(0)),
        n_plans="n_plans",
    ).sort("destination", "period")


def _fts_notes(plans: pl.DataFrame, unmatched: pl.DataFrame) -> list[str]:
    plan = ~pl.col("outside_appeals")
    counts = plans.select(
        outside=pl.col("outside_appeals").sum(),
        unpriced=(plan & pl.col("requirements_usd").is_null()).sum(),
        negative=(pl.col("funding_usd") < 0).sum(),
    ).row(0, named=True)
    notes = [
        f"flowlens: {counts['outside']} 'Not specified' rows (funding outside appeals) kept: "
        "outside_appeals in plans, outside_appeals_usd in the panel.",
        "flowlens: a regional plan has one row per country (that country's share); they are "
        "summed per country with its other plans.",
    ]
    if counts["unpriced"]:
        notes.append(
            f"flowlens: {counts['unpriced']} plan rows state no requirement for the country; "
            "their funding counts in funding_usd but not in percent_funded."
        )
    if counts["negative"]:
        notes.append(
            f"flowlens: {counts['negative']} rows have negative funding (refunds or "
            "corrections), kept as published."
        )
    notes.append(
        "flowlens: funding recorded for years after the current one is pledged or committed "
        "for those years, as FTS reports it."
    )
    if unmatched.height:
        codes = unmatched["country_code"].unique(maintain_order=True).to_list()
        notes.append(f"flowlens: codes that are not countries (in unmatched): {_shown(codes)}.")
    return notes


def _bundled_fts() -> pl.DataFrame:
    """The packaged FTS country x year table (``country``, ``year`` and the values)."""
    path = resources.files("flowlens.samples").joinpath(BUNDLED_FTS)
    with resources.as_file(path) as file:
        return pl.read_csv(file, schema=_COUNTRY_YEAR_SCHEMA)
