"""Reader for World Development Indicators downloads (the World Bank's usual format).

Almost every World Bank number is downloaded in one of three layouts, all read by
:func:`read_wdi`:

- the bulk CSV (``API_<code>_DS2_en_csv_v2_<n>.csv``): four metadata lines
  (``"Data Source","World Development Indicators"``, ``"Last Updated Date",...``),
  then ``Country Name, Country Code, Indicator Name, Indicator Code, 1960, 1961, ...``;
- the same table as an Excel workbook (``.xls``/``.xlsx``, sheet ``Data``, the
  metadata rows above the header);
- a DataBank export: ``Country Name, Country Code, Series Name, Series Code,
  2000 [YR2000], ...`` (in either order), ``..`` for no data, and footer lines
  ``Data from database: ...`` and ``Last Updated: ...``; CSV or workbook.

Rows are classified by the World Bank's code (ISO3 for economies; WLD, EUU, ARB,
IDA, ... for aggregates), and by name where the code is unknown. Every WDI
aggregate is kept apart in ``aggregates``; rows that are neither a known country
nor a known aggregate are listed in ``unmatched``; none is dropped.

Panel convention. An indicator of a country (an exchange rate, GNI per capita) is
not a corridor, so its panel is ``period``, ``country``, ``value``. The two
remittance indicators are one side of every corridor, as KNOMAD's tables are
(see :func:`flowlens.read_knomad_annual`): ``BX.TRF.PWKR.CD.DT`` (personal
remittances received) becomes ``destination`` = country with ``origin`` null (all
senders), ``BM.TRF.PWKR.CD.DT`` (paid) ``origin`` = country with ``destination``
null, both with ``flow_type`` remittance and ``amount_usd``. Whatever the indicator,
:attr:`WdiTable.tidy` is the plain (country, year, value) table.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from flowlens import schema as fs
from flowlens.errors import InputFormatError, closest
from flowlens.official import (
    OfficialTable,
    _classify,
    _reader,
    _utf16_without_bom,
)
from flowlens.reference import aggregates, country_codes

if TYPE_CHECKING:
    import fastexcel

__all__ = ["REMITTANCE_INDICATORS", "WdiTable", "read_wdi"]

REMITTANCE_INDICATORS: dict[str, str] = {
    "BX.TRF.PWKR.CD.DT": "received",
    "BM.TRF.PWKR.CD.DT": "paid",
}
"""WDI codes of personal remittances in current US$, read as corridor panels."""

_EXPECTED = (
    "a World Development Indicators download: the bulk CSV (lines 'Data Source', "
    "'Last Updated Date', then the header 'Country Name','Country Code','Indicator Name',"
    "'Indicator Code','1960',...), the same table as .xls/.xlsx (sheet 'Data'), or a "
    "DataBank export ('Country Name','Country Code','Series Name','Series Code',"
    "'2000 [YR2000]',...)"
)
_YEAR = re.compile(r"^(\d{4})(?:\.0)?(?:\s*\[YR\d{4}\])?$")
_NAME, _CODE = "Country Name", "Country Code"
_HEADER_SEARCH = 50
"""Lines (or sheet rows) searched for the header: the bulk layout has it on line 5."""


@dataclass(frozen=True, repr=False)
class WdiTable(OfficialTable):
    """A WDI indicator read by :func:`read_wdi`: an :class:`~flowlens.OfficialTable`
    with the indicator's code and name.

    Attributes
    ----------
    indicator_code, indicator_name
        As the file writes them (``PA.NUS.FCRF``, ``Official exchange rate (LCU per
        US$, period average)``); the name carries the unit.

    Examples
    --------
    >>> import flowlens as fl
    >>> t = fl.read_wdi("data/samples/real/wb_wdi_gni_per_capita_atlas_NY.GNP.PCAP.CD_1960_2020.csv")
    >>> t.indicator_code, t.vintage, t.value
    ('NY.GNP.PCAP.CD', '2021-12-16', 'value')
    >>> t.tidy.filter(country="PHL", year=2020)["value"].item()
    3430.0
    """

    indicator_code: str = ""
    indicator_name: str = ""

    @property
    def tidy(self) -> pl.DataFrame:
        """``country`` (ISO3 Enum), ``year`` (Int32), ``value``: the countries' values, whatever
        the panel's layout (a remittance indicator's ``destination`` or ``origin`` is the
        country)."""
        panel = self.panel
        if fs.PERIOD not in panel.columns:
            return pl.DataFrame(
                schema={"country": fs.COUNTRY_ENUM, "year": pl.Int32, "value": pl.Float64}
            )
        country = (
            pl.col("country")
            if "country" in panel.columns
            else pl.coalesce(fs.DESTINATION, fs.ORIGIN)
        )
        return panel.select(
            country.alias("country"),
            year=pl.col(fs.PERIOD).dt.year().cast(pl.Int32),
            value=pl.col(self.value),
        ).sort("country", "year")


@dataclass(frozen=True)
class _Raw:
    """A download as read: the table (all text, names as published), the metadata
    lines above it and how it was read."""

    table: pl.DataFrame
    meta: dict[str, str]
    notes: tuple[str, ...] = field(default=())


@_reader(_EXPECTED)
def read_wdi(path: str | Path, *, indicator: str | None = None) -> WdiTable:
    """Read a World Development Indicators download (bulk CSV, Excel, or DataBank export).

    Parameters
    ----------
    path
        The file as downloaded: the bulk CSV (``API_PA.NUS.FCRF_DS2_en_csv_v2_...csv``),
        its ``.xls``/``.xlsx``, or a DataBank export (CSV or workbook). The layout is
        read from the content, not the name. UTF-8 (with or without byte-order mark),
        UTF-16 and Windows-1252/latin-1 text are read (the encoding is noted).
    indicator
        The indicator to read from a file that holds several (a DataBank export
        of several series): its code (``BX.TRF.PWKR.CD.DT``, any case) or its name.
        None: the file must hold one indicator.

    Returns
    -------
    WdiTable
        An :class:`~flowlens.OfficialTable` (``freq`` ``1y``, ``period`` = 1 January
        of the year) with ``indicator_code``, ``indicator_name`` and :attr:`~WdiTable.tidy`.
        ``panel``: ``period``, ``country`` (ISO3 Enum), ``value`` as published
        (the unit is in the indicator's name); for ``BX.TRF.PWKR.CD.DT`` and
        ``BM.TRF.PWKR.CD.DT`` a corridor panel ``period``, ``origin``,
        ``destination``, ``flow_type``, ``amount_usd`` (US$, not millions).
        ``aggregates``: ``name``, ``code``, ``kind``, ``period`` and the value for
        every WDI aggregate (World, regions, income and lending groups, Euro area,
        ...). ``unmatched``: ``name``, ``code``, ``period`` and the value for rows
        that are neither. Empty cells (and DataBank's ``..``) are no data and are
        left out (counted in ``notes``); a name with no value in any year keeps one
        row with a null ``period``. ``vintage`` is the file's Last Updated date.

    Raises
    ------
    InputFormatError
        The file is not a WDI download (no ``Country Code`` header, no year
        columns), is cut short, holds several indicators and ``indicator`` is None
        or names none of them, has a value that is not a number, or repeats a
        country; the message names the file, what was expected and what was found.

    Examples
    --------
    >>> import datetime as dt
    >>> import flowlens as fl
    >>> path = "data/samples/real/wb_wdi_official_exchange_rate_PA.NUS.FCRF_1960_2022.csv"
    >>> t = fl.read_wdi(path)
    >>> t.indicator_code, t.vintage
    ('PA.NUS.FCRF', '2023-09-15')
    >>> phl = t.panel.filter(country="PHL", period=dt.date(2020, 1, 1))
    >>> round(phl["value"].item(), 3)
    49.624
    >>> t.aggregates.filter(code="EMU").select("name", "kind").unique().row(0)
    ('Euro area', 'group')
    """
    path = Path(path)
    raw = _load(path)
    long, code, name, table_notes = _long(raw, indicator, path)
    return _table(long, code, name, raw, table_notes)


def _load(path: Path) -> _Raw:
    """The download's table and metadata, from a CSV or a workbook (told by content)."""
    if path.is_dir():
        msg = f"cannot read {str(path)!r}: it is a directory, not a file"
        raise InputFormatError(msg)
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return _load_workbook(path)
    return _load_text(path)


def _decode(data: bytes, path: Path) -> tuple[str, tuple[str, ...]]:
    """The file's text, and a note if it was not UTF-8."""
    if not data:
        msg = f"cannot read {str(path)!r}: the file is empty (0 bytes)"
        raise InputFormatError(msg)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), ("flowlens: the file is UTF-16 text.",)
    if _utf16_without_bom(data[:4096]):
        msg = (
            f"cannot read {str(path)!r}: it looks like UTF-16 without a byte-order mark (a NUL "
            "in every other byte): re-save it as UTF-8"
        )
        raise InputFormatError(msg)
    if b"\x00" in data[:4096]:
        msg = f"cannot read {str(path)!r}: binary data (NUL bytes), not text"
        raise InputFormatError(msg)
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a character cut at the end: the file is truncated
            return data[: exc.start].decode("utf-8-sig"), ()
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, ("flowlens: the file is not UTF-8; read as Windows-1252 (latin-1).",)


def _fields(line: str, separator: str) -> list[str]:
    return [f.strip().lstrip("\ufeff") for f in next(csv.reader([line], delimiter=separator), [])]


def _is_header(fields: list[str]) -> bool:
    """A WDI header: ``Country Code``, an indicator (series) column and a year column."""
    indicator = ("Indicator Code", "Series Code", "Indicator Name", "Series Name")
    return (
        _CODE in fields
        and any(f in fields for f in indicator)
        and any(_YEAR.match(f) for f in fields)
    )


def _find_header(lines: list[str]) -> tuple[str, int | None, list[list[str]]]:
    """The separator, the header's line number (None: no header) and the first lines' fields."""
    heads: list[list[str]] = []
    for separator in (",", "\t", ";"):  # a spreadsheet's "Unicode text" is tab-separated
        heads = [_fields(line, separator) for line in lines[:_HEADER_SEARCH]]
        at = next((i for i, fields in enumerate(heads) if _is_header(fields)), None)
        if at is not None:
            return separator, at, heads
    return ",", None, heads


def _load_text(path: Path) -> _Raw:
    """A CSV download: metadata lines, the header line, data lines, footer lines."""
    text, notes = _decode(path.read_bytes(), path)
    lines = text.lstrip("\ufeff").splitlines()
    separator, at, heads = _find_header(lines)
    if at is None:
        first = lines[0][:80] if lines else ""
        msg = (
            f"cannot read {str(path)!r}: no header line with 'Country Code', "
            f"'Indicator Code' (or 'Series Code') and years in its first {_HEADER_SEARCH} lines; "
            f"the first line is {first!r}"
        )
        raise InputFormatError(msg)
    header = heads[at]
    _check_years(header, path)
    meta = {f[0]: f[1] for f in heads[:at] if len(f) >= 2 and f[0] and f[1]}
    body = lines[at:]
    blank = next((i for i, line in enumerate(body) if not line.strip(",; \t")), len(body))
    last = body[blank - 1]
    if blank > 1 and len(_fields(last, separator)) < len(header):
        msg = (
            f"cannot read {str(path)!r}: the file is cut short: its last data line has "
            f"{len(_fields(last, separator))} fields, the header {len(header)} "
            f"(the line begins {last[:60]!r}); download it again"
        )
        raise InputFormatError(msg)
    table = pl.read_csv(
        "\n".join(body).encode("utf-8"),
        separator=separator,
        infer_schema=False,
        truncate_ragged_lines=True,
    )
    table.columns = [c.strip().lstrip("\ufeff") for c in table.columns]
    return _Raw(table=table, meta=meta, notes=notes)


def _check_years(header: list[str], path: Path) -> None:
    """Refuse a header that heads two columns with one year (``2020`` twice, or ``2020``
    and ``2020 [YR2020]``): which of the two holds the year's values cannot be told."""
    columns: dict[int, list[str]] = {}
    for i, name in enumerate(header):
        if match := _YEAR.match(name):
            columns.setdefault(int(match.group(1)), []).append(f"column {i + 1} {name!r}")
    repeated = {year: where for year, where in columns.items() if len(where) > 1}
    if repeated:
        year, where = next(iter(repeated.items()))
        msg = (
            f"{path.name}: repeated year column: {year} heads {len(where)} columns "
            f"({', '.join(where)}); expected one column per year. Remove the repeated "
            "column (or download the file again)"
        )
        raise InputFormatError(msg)


def _load_workbook(path: Path) -> _Raw:
    """An .xls/.xlsx download: sheet ``Data`` (else the first), metadata rows, header row."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        sheets = reader.sheet_names
        sheet = next((s for s in sheets if s.strip().lower() == "data"), sheets[0])
        grid = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except Exception as exc:  # fastexcel raises its own types
        detail = str(exc).strip().split("\n", 1)[0][:200]
        msg = f"cannot read {str(path)!r} as an Excel workbook: {detail}"
        raise InputFormatError(msg) from exc
    top = grid.head(_HEADER_SEARCH).with_row_index("_row")
    cells = pl.all().exclude("_row").str.strip_chars()
    hit = top.filter(pl.any_horizontal(cells == _CODE))["_row"]
    if hit.len() == 0:
        msg = (
            f"cannot read {str(path)!r}: no header row with 'Country Code' in the first "
            f"{_HEADER_SEARCH} rows of sheet {sheet!r} (sheets: {sheets})"
        )
        raise InputFormatError(msg)
    at = int(hit[0])
    header = [
        str(v).strip() if v is not None else f"_column_{i}" for i, v in enumerate(grid.row(at))
    ]
    _check_years(header, path)
    above = grid.head(at).select(grid.columns[:2]).drop_nulls()
    meta = {str(k).strip(): _cell_text(v) for k, v in above.iter_rows()}
    table = _exact_numbers(reader, sheet, grid, header).slice(at + 1)
    table.columns = header
    note = f"flowlens: read sheet {sheet!r} of {sheets}."
    return _Raw(table=table, meta=meta, notes=(note,))


def _exact_numbers(
    reader: fastexcel.ExcelReader, sheet: str, grid: pl.DataFrame, header: list[str]
) -> pl.DataFrame:
    """The grid with the year columns' number cells written exactly: read as text, a
    number cell is rounded (``1.50477416666667`` reads ``1.504774167``, ``2.9e-8``
    reads ``0.000000029``), so those columns are read again as numbers (text cells
    such as ``..`` are null there and keep their text)."""
    years = [i for i, name in enumerate(header) if _YEAR.match(name)]
    if not years:
        return grid
    floats: dict[int | str, fastexcel.DType] = dict.fromkeys(years, "float")
    numbers = reader.load_sheet(sheet, header_row=None, dtypes=floats).to_polars()
    exact = [
        pl.coalesce(numbers.to_series(i).cast(pl.String), grid.to_series(i)).alias(grid.columns[i])
        for i in years
    ]
    return grid.with_columns(exact)


def _cell_text(value: object) -> str:
    """A metadata cell as text: an Excel date cell reads as ``2023-09-15 00:00:00``."""
    text = str(value).strip()
    return text.removesuffix(" 00:00:00").removesuffix("T00:00:00")


_LAYOUTS = {
    "bulk layout": ("Indicator Name", "Indicator Code"),
    "DataBank layout": ("Series Name", "Series Code"),
}
"""The two layouts' indicator columns (both have 'Country Name' and 'Country Code')."""


def _pick_columns(table: pl.DataFrame, path: Path) -> tuple[str, str, dict[str, int]]:
    """The indicator code and name columns and the year columns of a download: those of
    the layout the header has (the bulk CSV's ``Indicator ...`` or DataBank's ``Series
    ...``), never one of each."""
    present = {
        layout: [c for c in names if c in table.columns] for layout, names in _LAYOUTS.items()
    }
    complete = [layout for layout, names in _LAYOUTS.items() if len(present[layout]) == 2]
    partial = [layout for layout in _LAYOUTS if present[layout]]
    layout = (complete or partial or list(_LAYOUTS))[0]
    if not complete and len(partial) > 1:
        msg = (
            f"{path.name}: the header mixes the two WDI layouts: it has "
            f"{present[partial[0]]} of the {partial[0]} and {present[partial[1]]} of the "
            f"{partial[1]}; expected {list(_LAYOUTS[partial[0]])} (bulk) or "
            f"{list(_LAYOUTS[partial[1]])} (DataBank), found {table.columns[:12]}"
        )
        raise InputFormatError(msg)
    name_col, code_col = _LAYOUTS[layout]
    needed = [_NAME, _CODE, name_col, code_col]
    lacking = [c for c in needed if c not in table.columns]
    if lacking:
        shown = table.columns if len(table.columns) <= 12 else [*table.columns[:12], "..."]
        if partial:
            looks = f"looks like the WDI {layout} (it has {present[layout]}) but lacks {lacking}"
        else:
            looks = (
                "has no indicator column ('Indicator Name', 'Indicator Code' of the bulk "
                "layout, or 'Series Name', 'Series Code' of the DataBank layout)"
            )
        msg = (
            f"{path.name}: the header {looks}; expected the {layout}'s columns {needed} "
            f"then the years, found {shown}. Download the file again"
        )
        raise InputFormatError(msg)
    years = {c: int(m.group(1)) for c in table.columns if (m := _YEAR.match(c))}
    if not years:
        msg = (
            f"{path.name}: no year columns ('1960', '2000 [YR2000]', ...); found columns "
            f"{table.columns[:12]}"
        )
        raise InputFormatError(msg)
    return code_col, name_col, years


def _select_indicator(
    rows: pl.DataFrame, code_col: str, name_col: str, indicator: str | None, path: Path
) -> tuple[pl.DataFrame, str, str]:
    """The rows of one indicator, its code and its name."""
    found = rows.select(code_col, name_col).unique(maintain_order=True)
    codes = found[code_col].to_list()
    if not codes:
        msg = f"{path.name}: no data rows below the header, expected one row per country"
        raise InputFormatError(msg)
    if indicator is not None:
        wanted = indicator.strip()
        match = found.filter(
            (pl.col(code_col).str.to_uppercase() == wanted.upper()) | (pl.col(name_col) == wanted)
        )
        if match.height == 0:
            near = closest(wanted, codes)
            hint = f" (did you mean {near!r}?)" if near else ""
            msg = (
                f"{path.name}: indicator {indicator!r} is not in the file{hint}; expected one "
                f"of the indicator codes found: {codes}"
            )
            raise InputFormatError(msg)
        found = match.head(1)
    elif found.height > 1:
        msg = (
            f"{path.name}: the file holds {found.height} indicators, expected one; pass "
            f"indicator= with one of the codes found: {codes}"
        )
        raise InputFormatError(msg)
    code, name = found.row(0)
    return rows.filter(pl.col(code_col) == code), str(code), str(name)


def _long(
    raw: _Raw, indicator: str | None, path: Path
) -> tuple[pl.DataFrame, str, str, tuple[str, ...]]:
    """One indicator's cells: ``name``, ``code``, ``year``, ``value`` (null = no data)."""
    table = raw.table
    code_col, name_col, years = _pick_columns(table, path)
    has_code = pl.col(_CODE).str.strip_chars().fill_null("") != ""
    is_row = has_code & pl.col(code_col).is_not_null()
    first = table.columns[0]
    footer = table.filter(~is_row & pl.col(first).is_not_null())[first].to_list()
    ignored = [
        c
        for c in table.columns
        if c not in (_NAME, _CODE, code_col, name_col, *years)
        and not _unnamed(c)
        and table[c].str.strip_chars().fill_null("").ne("").any()
    ]
    rows, code, name = _select_indicator(table.filter(is_row), code_col, name_col, indicator, path)
    stray = _stray_cells(rows, list(years))
    long = rows.unpivot(
        index=[_NAME, _CODE], on=list(years), variable_name="col", value_name="raw"
    ).select(
        name=pl.col(_NAME).str.strip_chars(),
        code=pl.col(_CODE).str.strip_chars().str.to_uppercase(),
        year=pl.col("col").replace_strict(years, return_dtype=pl.Int32),
        raw=pl.col("raw").str.strip_chars().replace({"": None, "..": None}),
    )
    long = long.with_columns(value=pl.col("raw").cast(pl.Float64, strict=False))
    bad = long.filter(pl.col("raw").is_not_null() & pl.col("value").is_null())
    if bad.height:
        shown = bad.head(5).select("code", "year", "raw").rows()
        msg = (
            f"{path.name}: {bad.height} cells of {code} are not numbers, expected a number, "
            f"'' or '..' (no data); found (country code, year, cell) {shown}. Remove thousands "
            "separators or notes from the cells, or download the file again"
        )
        raise InputFormatError(msg)
    notes = tuple(str(f).strip() for f in footer if str(f).strip())
    if ignored:
        notes += (f"flowlens: columns left out (not years): {ignored}.",)
    notes += _year_gaps(list(years.values()))
    if stray.height:
        cells = ", ".join(f"({c}, {w}, {t!r})" for c, w, t in stray.head(20).iter_rows())
        more = ", ..." if stray.height > 20 else ""
        notes += (
            f"flowlens: {stray.height} cells hold a value in a column without a year heading, "
            f"so no year to place them in, and are left out: (country code, column, cell) "
            f"{cells}{more}.",
        )
    return long.drop("raw"), code, name, notes


def _unnamed(column: str) -> bool:
    """A column without a heading: ``''`` (the bulk CSV's trailing comma), a workbook's
    empty header cell (``_column_<i>``) or a second empty heading (``_duplicated_<i>``)."""
    return not column.strip() or re.fullmatch(r"_(column|duplicated)_\d+", column) is not None


def _stray_cells(rows: pl.DataFrame, years: list[str]) -> pl.DataFrame:
    """Cells that hold a value in a column without a heading (``code``, ``column``, ``text``):
    no year to place them in, listed in the notes (the bulk CSV ends each line with an
    empty one)."""
    after = {}
    last = "the first columns"
    for column in rows.columns:  # one step per column (a few dozen), not per row
        if column in years:
            last = f"after {column!r}"
        elif _unnamed(column):
            after[column] = f"the unnamed column {last}"
    if not after:
        return pl.DataFrame(schema={"code": pl.String, "column": pl.String, "text": pl.String})
    return (
        rows.select(_CODE, *after)
        .unpivot(index=_CODE, variable_name="col", value_name="text")
        .filter(pl.col("text").str.strip_chars().fill_null("") != "")
        .select(
            code=pl.col(_CODE).str.strip_chars(),
            column=pl.col("col").replace_strict(after),
            text=pl.col("text").str.strip_chars(),
        )
    )


def _year_gaps(years: list[int]) -> tuple[str, ...]:
    """A note naming the years missing from the header's range (1960..2022 without 2020)."""
    if not years:
        return ()
    low, high = min(years), max(years)
    missing = sorted(set(range(low, high + 1)) - set(years))
    if not missing:
        return ()
    shown = ", ".join(str(y) for y in missing[:20]) + (", ..." if len(missing) > 20 else "")
    return (
        f"flowlens: the header has no column for {len(missing)} of the years {low}-{high}: "
        f"{shown}; the table has no values for them (not zeros, not left out).",
    )


def _classified(long: pl.DataFrame) -> pl.DataFrame:
    """Add ``iso3`` (countries), ``agg_code``/``agg_kind`` (aggregates): by the World
    Bank's code first, by name where the code is unknown."""
    by_code = (
        aggregates()
        .filter(pl.col("code").fill_null("") != "")
        .unique("code", keep="first")
        .select(code="code", code_kind="kind")
    )
    named = _classify(long, "name", "name_iso3")
    known = pl.Series(country_codes())
    is_agg_code = pl.col("code_kind").is_not_null()
    is_country_code = pl.col("code").is_in(known.implode())
    return named.join(by_code, on="code", how="left", maintain_order="left").select(
        "name",
        "code",
        "year",
        "value",
        iso3=pl.when(is_agg_code)
        .then(None)
        .when(is_country_code)
        .then("code")
        .when(pl.col("agg_code").is_null())
        .then("name_iso3"),
        agg_code=pl.when(is_agg_code).then("code").when(~is_country_code).then("agg_code"),
        agg_kind=pl.when(is_agg_code).then("code_kind").when(~is_country_code).then("agg_kind"),
    )


def _cells(frame: pl.DataFrame, keys: list[str], value: str) -> pl.DataFrame:
    """Cells with a value, plus one row (null period and value) per key with none."""
    period = pl.date(pl.col("year"), 1, 1).alias(fs.PERIOD)
    with_data = frame.filter(pl.col("value").is_not_null()).select(
        *keys, period, pl.col("value").alias(value)
    )
    empty = (
        frame.group_by(keys, maintain_order=True)
        .agg(pl.col("value").is_not_null().any().alias("any"))
        .filter(~pl.col("any"))
        .select(
            *keys, pl.lit(None, pl.Date).alias(fs.PERIOD), pl.lit(None, pl.Float64).alias(value)
        )
    )
    return pl.concat([with_data, empty])


def _table(
    long: pl.DataFrame, code: str, name: str, raw: _Raw, table_notes: tuple[str, ...]
) -> WdiTable:
    """The classified cells as a :class:`WdiTable`."""
    frame = _classified(long)
    direction = REMITTANCE_INDICATORS.get(code.upper())
    value = fs.AMOUNT_USD if direction else "value"
    countries = frame.filter(pl.col("iso3").is_not_null())
    repeated = countries.filter(pl.len().over("iso3", "year") > 1)
    if repeated.height:
        shown = repeated.select("name", "code", "iso3").unique(maintain_order=True).head(6).rows()
        msg = (
            f"{code}: rows repeat a country, expected one row per country; found (name, code, "
            f"country) {shown}"
        )
        raise InputFormatError(msg)
    panel = _panel(countries.filter(pl.col("value").is_not_null()), direction, value)
    aggs = frame.filter(pl.col("agg_code").is_not_null())
    agg_rows = _cells(aggs.rename({"code": "file_code"}), ["name", "agg_code", "agg_kind"], value)
    agg_rows = agg_rows.rename({"agg_code": "code", "agg_kind": "kind"})
    neither = frame.filter(pl.col("iso3").is_null() & pl.col("agg_code").is_null())
    no_data = (
        countries.group_by("iso3").agg(pl.col("value").is_not_null().any()).filter(~pl.col("value"))
    )
    vintage, vintage_notes = _vintage(raw.meta, table_notes)
    database = raw.meta.get("Data Source") or next(
        (n.split(":", 1)[1].strip() for n in table_notes if n.startswith("Data from database")),
        "World Development Indicators",
    )
    flowlens_notes = [
        f"{code}: {name}.",
        "flowlens: values as published (the unit is in the indicator's name); "
        f"{frame.filter(pl.col('value').is_null()).height} empty cells ('' or '..', no data) "
        "left out.",
        f"flowlens: {countries['iso3'].n_unique()} countries, {aggs['name'].n_unique()} "
        f"aggregates, {neither['name'].n_unique()} unmatched names.",
    ]
    flowlens_notes.extend(vintage_notes)
    if no_data.height:
        flowlens_notes.append(
            f"flowlens: countries with no value in any year: {sorted(no_data['iso3'].to_list())}."
        )
    if direction:
        side = "destination" if direction == "received" else "origin"
        flowlens_notes.append(
            f"flowlens: remittances {direction}, read as corridors with {side} = the country "
            "and the other side null (all countries); amount_usd in US$."
        )
    return WdiTable(
        panel=panel,
        aggregates=agg_rows.sort("code", fs.PERIOD),
        unmatched=_cells(neither, ["name", "code"], value).sort("name", fs.PERIOD),
        source=f"World Bank, {database}: {name} ({code})",
        vintage=vintage,
        freq="1y",
        notes=(
            *(f"{k}: {v}" for k, v in raw.meta.items()),
            *table_notes,
            *raw.notes,
            *flowlens_notes,
        ),
        value=value,
        indicator_code=code,
        indicator_name=name,
    )


def _panel(countries: pl.DataFrame, direction: str | None, value: str) -> pl.DataFrame:
    """The countries' cells as a panel: (period, country, value) or one side of corridors."""
    period = pl.date(pl.col("year"), 1, 1).alias(fs.PERIOD)
    country = pl.col("iso3").cast(fs.COUNTRY_ENUM)
    if direction is None:
        return countries.select(
            period, country.alias("country"), pl.col("value").alias(value)
        ).sort(fs.PERIOD, "country")
    nothing = pl.lit(None, fs.COUNTRY_ENUM)
    received = direction == "received"
    return countries.select(
        period,
        (nothing if received else country).alias(fs.ORIGIN),
        (country if received else nothing).alias(fs.DESTINATION),
        pl.lit("remittance", fs.FLOW_TYPE_ENUM).alias(fs.FLOW_TYPE),
        pl.col("value").alias(value),
    ).sort(fs.PERIOD, fs.ORIGIN, fs.DESTINATION)


def _vintage(meta: dict[str, str], notes: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The Last Updated date as ISO (``2023-09-15``), from the metadata or a DataBank footer,
    and a note when it is kept as written.

    DataBank writes ``mm/dd/yyyy``. A slash date is read month first only when that is
    the one reading (``12/16/2021``, or ``01/01/2024`` where both agree); when it could be
    either (``03/01/2024``: 1 March or 3 January) or is not month first at all
    (``13/01/2024``, from a day-first spreadsheet), the text is kept and a note says why:
    dates are never read day first, and never guessed."""
    text = meta.get("Last Updated Date") or next(
        (n.split(":", 1)[1].strip() for n in notes if n.startswith("Last Updated")), ""
    )
    for layout in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, layout).date().isoformat(), ()
        except ValueError:
            continue
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match is None:
        return text or "unknown", ()
    first, second, year = (int(g) for g in match.groups())
    month_first, day_first = _date(year, first, second), _date(year, second, first)
    if month_first is not None and (day_first is None or day_first == month_first):
        return month_first, ()
    if month_first is None and day_first is None:
        why = "is no date, month first or day first"
    elif month_first is None:
        why = (
            f"is not month/day/year, as DataBank writes dates (day first it would be "
            f"{day_first}: a file re-saved by a day-first spreadsheet?)"
        )
    else:
        why = (
            f"could be {month_first} (month first, as DataBank writes dates) or {day_first} "
            "(day first, a file re-saved by a day-first spreadsheet)"
        )
    note = f"flowlens: the Last Updated date {text!r} {why}; the vintage is kept as written."
    return text, (note,)


def _date(year: int, month: int, day: int) -> str | None:
    """The ISO date, or None when there is no such day."""
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
