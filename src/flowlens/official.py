"""Readers for published remittance statistics, mapped onto the corridor panel.

Each reader returns an :class:`OfficialTable`: the corridor panel (``period``,
``origin``, ``destination``, ``flow_type``, values in US dollars), the rows that are
regional or income-group aggregates (kept apart, never mixed with countries), the
names that matched neither (listed, never dropped silently), the notes printed
in the file, and the source and vintage.

In a panel from a table of country totals, the unknown side of the corridor is
null: KNOMAD inflows and Banco de Mexico's national inflows have ``origin`` null
(all sending countries), outflows have ``destination`` null.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

import polars as pl

from flowlens import schema as fs
from flowlens._panelspec import PanelSpec, panel_spec
from flowlens.errors import FlowlensError, InputFormatError, MissingColumnError, closest
from flowlens.io import sniff_csv
from flowlens.reference import aggregates, name_key, to_iso3

__all__ = [
    "OfficialTable",
    "read_banxico_monthly",
    "read_banxico_quarterly_by_country",
    "read_knomad_annual",
    "read_rpw_corridors",
    "read_wb_bilateral_matrix",
    "read_wb_migrant_stock",
]

_MILLION = 1_000_000.0


_P = ParamSpec("_P")
_T = TypeVar("_T")

_FILE_FAULTS = (
    pl.exceptions.PolarsError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    OverflowError,
    OSError,
)
"""What reading a file that is not the expected table raises (polars' ComputeError,
an IndexError on a sheet with too few rows, ...): each becomes an InputFormatError."""


def _reader(expected: str) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]:
    """Make a reader raise only FlowlensErrors: any fault while reading a file that is
    not the table it expects becomes an InputFormatError naming the file, what was
    expected (``expected``) and what was found (see :func:`_found`)."""

    def decorate(read: Callable[_P, _T]) -> Callable[_P, _T]:
        @functools.wraps(read)
        def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            path = Path(str(args[0] if args else kwargs.get("path")))
            try:
                return read(*args, **kwargs)
            except FlowlensError as exc:
                if isinstance(exc, InputFormatError) and "expected" not in str(exc):
                    msg = f"{exc} (expected {expected}; found {_found(path)})"
                    raise InputFormatError(msg) from exc
                raise
            except _FILE_FAULTS as exc:
                detail = str(exc).strip().split("\n", 1)[0][:200]
                msg = (
                    f"cannot read {str(path)!r}: expected {expected}; found {_found(path)} "
                    f"({type(exc).__name__}: {detail})"
                )
                raise InputFormatError(msg) from exc

        return guarded

    return decorate


_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old-style .xls workbook"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file"),
)


def _found(path: Path) -> str:
    """What the file at ``path`` looks like, from its first bytes."""
    if path.is_dir():
        return "a directory"
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        return f"a file that cannot be opened ({exc.strerror or exc})"
    if not head:
        return "an empty file (0 bytes)"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "binary data (not UTF-8 text)"
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return f"text whose first line is {first[:80]!r}"


def _check_csv(path: Path) -> None:
    """The checks of :func:`flowlens.io.sniff_csv` (encoding, header, repeated names)."""
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    sniff_csv(path)


_WB_MATRIX = (
    "a World Bank bilateral matrix workbook (.xlsx: a title, then countries down the "
    "first column and across the second row)"
)
_KNOMAD = (
    "a KNOMAD workbook of remittance inflows or outflows (.xlsx: a title row with years "
    "2000, 2001, ..., then countries down the first column)"
)
_BANXICO_MONTHLY = (
    "a Banco de Mexico SIE CSV export with columns PERIODO, FLUJO, OPERACIONES, VALOR_USD"
)
_BANXICO_QUARTERLY = (
    "a Banco de Mexico SIE CSV export with columns PERIODO, ID_PAIS, PAIS, FLUJO, VALOR_USD"
)
_RPW = (
    "a World Bank DataBank CSV export of Remittance Prices Worldwide (columns "
    "'Sending Countries Name', ..., 'Series Code', then quarters such as '2011Q1 [YR2011Q1]')"
)


@dataclass(frozen=True, repr=False)
class OfficialTable:
    """A published table mapped onto the corridor panel, with its provenance.

    Attributes
    ----------
    panel
        ``period`` (Date, start of period), ``origin``, ``destination`` (ISO3 Enum,
        null = all countries), ``flow_type``, then the values (``amount_usd`` in US
        dollars, not millions; ``n_transfers`` or ``cost_pct`` where published).
    aggregates
        Rows for aggregates (World, regions, income groups): ``name``, ``code``,
        ``kind`` and the same values.
    unmatched
        Names that are neither a known country nor a known aggregate, with their
        values: ``name`` and the values.
    source, vintage, freq
        Publisher and table, the release, and the period length (the spacing of
        the panel's ``period`` column: :attr:`spec` checks them against each other).
    notes
        Text printed in the file (footnotes, caveats), and how flowlens read it.
    value
        The panel's measured column: ``amount_usd``, or ``migrants`` for the
        migrant stock and ``cost_pct`` for corridor costs.

    Examples
    --------
    >>> import flowlens as fl
    >>> t = fl.read_banxico_monthly(fl.sample_path("mexico_monthly"))
    >>> t.source
    'Banco de Mexico (SIE), remittances, monthly'
    >>> t.spec.freq, t.spec.value
    ('1mo', 'amount_usd')
    """

    panel: pl.DataFrame
    aggregates: pl.DataFrame
    unmatched: pl.DataFrame
    source: str
    vintage: str
    freq: str
    notes: tuple[str, ...] = field(default=())
    value: str = fs.AMOUNT_USD

    @property
    def spec(self) -> PanelSpec:
        """The panel's :class:`~flowlens.PanelSpec`: ``freq`` checked against its periods."""
        return panel_spec(self.panel, freq=self.freq, value=self.value, what=self.source)

    def __repr__(self) -> str:
        return (
            f"OfficialTable(source={self.source!r}, vintage={self.vintage!r}, freq={self.freq!r}, "
            f"panel_rows={self.panel.height}, aggregates={self.aggregates.height}, "
            f"unmatched={self.unmatched.height})"
        )


def _classify(frame: pl.DataFrame, name_col: str, iso_col: str) -> pl.DataFrame:
    """Add ``iso_col`` (ISO3 or null) and ``agg_code``/``agg_kind`` for aggregate names."""
    agg = (
        aggregates()
        .select(key=name_key("name"), agg_code="code", agg_kind="kind")
        .unique("key", keep="first")
    )
    return (
        frame.with_columns(key=name_key(name_col))
        .join(agg, on="key", how="left", maintain_order="left")
        .with_columns(pl.when(pl.col("agg_code").is_null()).then(to_iso3(name_col)).alias(iso_col))
        .drop("key")
    )


def _require(frame: pl.DataFrame, names: list[str], path: Path) -> None:
    """The reader's columns, or an error naming the file, the column and what it holds
    (readers take no ``columns=`` mapping: a missing column means another file)."""
    for name in names:
        if name not in frame.columns:
            present = frame.columns
            shown = present if len(present) <= 12 else [*present[:12], "..."]
            match = closest(name, present)
            hint = f" (did you mean {match!r}?)" if match else ""
            msg = (
                f"{path.name}: required column {name!r} is missing{hint}; expected columns "
                f"{names}, found {shown}. Is this the right file?"
            )
            raise MissingColumnError(msg, column=name, present=present)


def _read_excel_grid(path: Path, sheet: str | None) -> pl.DataFrame:
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    try:
        if sheet is None:
            return pl.read_excel(path, sheet_id=1, has_header=False, infer_schema_length=0)
        return pl.read_excel(path, sheet_name=sheet, has_header=False, infer_schema_length=0)
    except Exception as exc:  # fastexcel raises its own types; name the file and the fix
        detail = str(exc).strip().split("\n", 1)[0][:200]
        msg = f"cannot read {str(path)!r} as an Excel workbook (sheet {sheet!r}): {detail}"
        raise InputFormatError(msg) from exc


def _split_notes(grid: pl.DataFrame, first_data_row: int) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Data rows (name and at least one value) and note rows (text only) of a sheet."""
    body = grid.slice(first_data_row)
    value_cols = body.columns[1:]
    has_value = pl.any_horizontal(pl.col(value_cols).is_not_null())
    data = body.filter(pl.col(body.columns[0]).is_not_null() & has_value)
    notes = body.filter(pl.col(body.columns[0]).is_not_null() & ~has_value)
    return data, tuple(s.strip() for s in notes[body.columns[0]].to_list())


@_reader(_WB_MATRIX)
def read_wb_bilateral_matrix(
    path: str | Path,
    *,
    sheet: str = "Bilateral_Remittances_2017",
    year: int = 2017,
    keep_zeros: bool = False,
) -> OfficialTable:
    """Read the World Bank/KNOMAD Bilateral Remittance Matrix (wide xlsx, US$ million).

    Sending countries run down the rows, receiving countries across the columns.
    Values are converted from US$ million to US dollars.

    Parameters
    ----------
    path
        The workbook, e.g. ``wb_bilateral_remittance_2017.xlsx`` (April 2018 version).
    sheet, year
        Sheet name and the year the estimates refer to.
    keep_zeros
        Zero cells mean no estimated flow (and, for a few receivers such as
        Somalia, no estimate at all); by default they are left out of the panel,
        and their count is in ``notes``.

    Examples
    --------
    >>> import flowlens as fl
    >>> path = "data/samples/real/wb_bilateral_remittance_2017.xlsx"
    >>> t = fl.read_wb_bilateral_matrix(path)
    >>> usa_mex = t.panel.filter(origin="USA", destination="MEX")
    >>> round(usa_mex["amount_usd"].item() / 1e6, 1)
    30019.2
    """
    matrix = _read_wb_matrix(Path(path), sheet, rows_are_senders=True, scale=_MILLION)
    countries, n_zero = _drop_zeros(matrix.countries, keep_zeros)
    panel = countries.select(
        period=pl.lit(f"{year}-01-01").str.to_date(),
        origin="origin",
        destination="destination",
        flow_type=pl.lit("remittance", fs.FLOW_TYPE_ENUM),
        amount_usd="value",
    )
    vintage_match = re.search(r"\(([^()]*version)\)", matrix.title, flags=re.IGNORECASE)
    return OfficialTable(
        panel=panel,
        aggregates=matrix.aggregates.rename({"value": "amount_usd"}),
        unmatched=matrix.unmatched,
        source=f"World Bank/KNOMAD Bilateral Remittance Matrix {year}",
        vintage=vintage_match.group(1) if vintage_match else "unknown",
        freq="1y",
        notes=(
            matrix.title,
            *matrix.notes,
            f"flowlens: values converted from US$ million to US$; {n_zero} zero cells "
            + ("kept." if keep_zeros else "left out (no estimated flow)."),
            *matrix.diagonal_note("USD"),
        ),
    )


@_reader(_WB_MATRIX)
def read_wb_migrant_stock(
    path: str | Path,
    *,
    sheet: str = "Bilateral_Migration_2017",
    year: int = 2017,
    keep_zeros: bool = False,
) -> OfficialTable:
    """Read the World Bank Bilateral Migration Matrix (migrants by origin down, destination across).

    Mapped onto remittance corridors: migrants living in country H who come from
    country O send from H to O, so the panel's ``origin`` is the host country and
    ``destination`` the migrants' country of birth, with ``migrants`` (persons).
    Columns ``Other North``, ``Other South`` and ``World`` are aggregates.

    Examples
    --------
    >>> import flowlens as fl
    >>> t = fl.read_wb_migrant_stock("data/samples/real/wb_bilateral_migrant_stock_2017.xlsx")
    >>> mexicans_in_usa = t.panel.filter(origin="USA", destination="MEX")["migrants"].item()
    >>> mexicans_in_usa > 10_000_000
    True
    """
    matrix = _read_wb_matrix(Path(path), sheet, rows_are_senders=False, scale=1.0)
    countries, n_zero = _drop_zeros(matrix.countries, keep_zeros)
    panel = countries.select(
        period=pl.lit(f"{year}-01-01").str.to_date(),
        origin="origin",
        destination="destination",
        migrants="value",
    )
    return OfficialTable(
        panel=panel,
        aggregates=matrix.aggregates.rename({"value": "migrants"}),
        unmatched=matrix.unmatched,
        source=f"World Bank Bilateral Migration Matrix {year}",
        vintage=str(year),
        freq="1y",
        value="migrants",
        notes=(
            matrix.title,
            *matrix.notes,
            "flowlens: origin = host country (where migrants live and send from), "
            "destination = migrants' country of origin.",
            f"flowlens: {n_zero} zero cells " + ("kept." if keep_zeros else "left out."),
            *matrix.diagonal_note("persons"),
        ),
    )


@dataclass(frozen=True)
class _Matrix:
    title: str
    notes: tuple[str, ...]
    countries: pl.DataFrame  # origin, destination (Enum), value: sending -> receiving
    aggregates: pl.DataFrame  # sending, receiving, value
    unmatched: pl.DataFrame  # name
    diagonal: pl.DataFrame  # origin, value: same-country cells

    def diagonal_note(self, unit: str) -> list[str]:
        if self.diagonal.height == 0:
            return []
        cells = ", ".join(f"{o} ({unit} {v:,.0f})" for o, v in self.diagonal.iter_rows())
        return [f"flowlens: same-country cells left out (not corridors): {cells}."]


def _read_wb_matrix(path: Path, sheet: str, *, rows_are_senders: bool, scale: float) -> _Matrix:
    """A World Bank wide matrix (title, header row, names down the first column) in long form."""
    grid = _read_excel_grid(path, sheet)
    title = str(grid.row(0)[0] or "").strip()
    header = [str(v).strip() if v is not None else "" for v in grid.row(1)]
    data, notes = _split_notes(grid, 2)
    data.columns = ["row_name", *[f"c{i}" for i in range(1, data.width)]]
    column_names = pl.DataFrame({"col": data.columns[1:], "col_name": header[1:]}).filter(
        pl.col("col_name") != ""
    )
    long = (
        data.unpivot(index="row_name", variable_name="col", value_name="raw")
        .join(column_names, on="col", how="inner")
        .with_columns(
            pl.col("row_name").str.strip_chars(),
            value=pl.col("raw").str.strip_chars().cast(pl.Float64, strict=False) * scale,
        )
    )
    sending, receiving = ("row_name", "col_name") if rows_are_senders else ("col_name", "row_name")
    long = long.select(sending=sending, receiving=receiving, value="value")
    long = _classify(long, "sending", "origin").rename(
        {"agg_code": "sending_agg", "agg_kind": "sending_kind"}
    )
    long = _classify(long, "receiving", "destination").rename(
        {"agg_code": "receiving_agg", "agg_kind": "receiving_kind"}
    )
    is_agg = pl.col("sending_agg").is_not_null() | pl.col("receiving_agg").is_not_null()
    is_country = pl.col("origin").is_not_null() & pl.col("destination").is_not_null()
    same = pl.col("origin") == pl.col("destination")
    countries = (
        long.filter(is_country & ~is_agg & ~same)
        .select(
            pl.col("origin").cast(fs.COUNTRY_ENUM),
            pl.col("destination").cast(fs.COUNTRY_ENUM),
            "value",
        )
        .sort("origin", "destination")
    )
    unknown_sender = pl.col("origin").is_null() & pl.col("sending_agg").is_null()
    unknown_receiver = pl.col("destination").is_null() & pl.col("receiving_agg").is_null()
    unmatched = (
        long.filter(unknown_sender | unknown_receiver)
        .select(name=pl.when(unknown_sender).then("sending").otherwise("receiving"))
        .unique()
        .sort("name")
    )
    return _Matrix(
        title=title,
        notes=notes,
        countries=countries,
        aggregates=long.filter(is_agg).select("sending", "receiving", "value"),
        unmatched=unmatched,
        diagonal=long.filter(is_country & same & (pl.col("value") != 0)).select("origin", "value"),
    )


def _drop_zeros(frame: pl.DataFrame, keep_zeros: bool) -> tuple[pl.DataFrame, int]:
    n_zero = frame.filter(pl.col("value") == 0).height
    return (frame if keep_zeros else frame.filter(pl.col("value") != 0)), n_zero


@_reader(_KNOMAD)
def read_knomad_annual(path: str | Path) -> OfficialTable:
    """Read KNOMAD annual remittance inflows or outflows by country (xlsx, US$ million).

    The direction is read from the sheet's title (``Remittance inflows`` or
    ``Remittance outflows``). In these tables a zero means *missing* (for example
    Syria from 2011, Somalia until 2018), so zeros become null ``amount_usd``;
    the rows are kept, so that a missing year stays visible. Extra columns such
    as ``% of GDP in 2022`` are left out.

    Examples
    --------
    >>> import datetime as dt
    >>> import flowlens as fl
    >>> path = "data/samples/real/knomad_remittance_inflows_2000_2022_june2023.xlsx"
    >>> t = fl.read_knomad_annual(path)
    >>> mex = t.panel.filter(destination="MEX", period=dt.date(2022, 1, 1))
    >>> round(mex["amount_usd"].item() / 1e9, 1)
    61.1
    """
    path = Path(path)
    grid = _read_excel_grid(path, None)
    title = str(grid.row(0)[0] or "").strip()
    lowered = title.lower()
    if "inflow" in lowered:
        direction = "inflows"
    elif "outflow" in lowered:
        direction = "outflows"
    else:
        msg = (
            f"{path.name}: cannot tell inflows from outflows: the first cell reads {title!r}, "
            "expected 'Remittance inflows ...' or 'Remittance outflows ...'"
        )
        raise InputFormatError(msg)
    header = [str(v).strip() if v is not None else "" for v in grid.row(0)]
    year_cols = {
        col: int(float(h))
        for col, h in zip(grid.columns, header, strict=True)
        if re.fullmatch(r"\d{4}(\.0)?", h)
    }
    if not year_cols:
        msg = f"{path.name}: no year columns (2000, 2001, ...) in the first row"
        raise InputFormatError(msg)
    data, notes = _split_notes(grid.select(grid.columns[0], *year_cols), 1)
    long = (
        data.rename({grid.columns[0]: "name"})
        .unpivot(index="name", variable_name="col", value_name="raw")
        .with_columns(
            name=pl.col("name").str.strip_chars(),
            year=pl.col("col").replace_strict(year_cols, return_dtype=pl.Int32),
            value=pl.col("raw").str.strip_chars().cast(pl.Float64, strict=False) * _MILLION,
        )
        .with_columns(value=pl.when(pl.col("value") != 0).then("value"))
    )
    long = _classify(long, "name", "iso3")
    period = pl.date(pl.col("year"), 1, 1).alias("period")
    country = pl.col("iso3").cast(fs.COUNTRY_ENUM)
    nothing = pl.lit(None, fs.COUNTRY_ENUM)
    panel = (
        long.filter(pl.col("iso3").is_not_null())
        .select(
            period,
            origin=nothing if direction == "inflows" else country,
            destination=country if direction == "inflows" else nothing,
            flow_type=pl.lit("remittance", fs.FLOW_TYPE_ENUM),
            amount_usd="value",
        )
        .sort("period", "origin", "destination")
    )
    agg_rows = long.filter(pl.col("agg_code").is_not_null()).select(
        "name", code="agg_code", kind="agg_kind", period=period, amount_usd="value"
    )
    unmatched = long.filter(pl.col("iso3").is_null() & pl.col("agg_code").is_null()).select(
        "name", period=period, amount_usd="value"
    )
    vintage = next((n.removeprefix("Date:").strip() for n in notes if n.startswith("Date:")), "")
    return OfficialTable(
        panel=panel,
        aggregates=agg_rows,
        unmatched=unmatched,
        source=f"World Bank-KNOMAD, remittance {direction} by country, annual",
        vintage=vintage or "unknown",
        freq="1y",
        notes=(
            title,
            *notes,
            "flowlens: values converted from US$ million to US$; zeros read as missing (null).",
        ),
    )


_BANXICO_FLOWS = {"ingresos": "inflows", "egresos": "outflows"}


def _read_banxico(path: Path, needed: list[str]) -> pl.DataFrame:
    _check_csv(path)
    frame = pl.read_csv(path, infer_schema=False)
    _require(frame, needed, path)
    unknown = frame.filter(~pl.col("FLUJO").str.to_lowercase().is_in(list(_BANXICO_FLOWS)))
    if unknown.height:
        msg = (
            f"{path.name}: column 'FLUJO' has {unknown['FLUJO'][0]!r}; expected 'Ingresos' "
            "(inflows) or 'Egresos' (outflows)"
        )
        raise InputFormatError(msg)
    return frame.with_columns(
        period=pl.col("PERIODO").str.to_date("%Y-%m-%d"),
        inflow=pl.col("FLUJO").str.to_lowercase() == "ingresos",
        amount_usd=pl.col("VALOR_USD").cast(pl.Float64),
    )


@_reader(_BANXICO_MONTHLY)
def read_banxico_monthly(path: str | Path) -> OfficialTable:
    """Read Banco de Mexico's monthly remittances (inflows from 1995, outflows from 2013).

    Inflows become rows with ``destination`` MEX and ``origin`` null (all
    countries); outflows ``origin`` MEX and ``destination`` null. ``VALOR_USD`` is
    in US dollars; ``OPERACIONES`` (number of transfers) becomes ``n_transfers``.

    Examples
    --------
    >>> import datetime as dt
    >>> import flowlens as fl
    >>> t = fl.read_banxico_monthly(fl.sample_path("mexico_monthly"))
    >>> march = t.panel.filter(destination="MEX", period=dt.date(2020, 3, 1))
    >>> march.select("amount_usd", "n_transfers").row(0)
    (4147114569.0, 10992311)
    """
    path = Path(path)
    frame = _read_banxico(path, ["PERIODO", "FLUJO", "OPERACIONES", "VALOR_USD"])
    mex = pl.lit("MEX", fs.COUNTRY_ENUM)
    nothing = pl.lit(None, fs.COUNTRY_ENUM)
    panel = frame.select(
        "period",
        origin=pl.when("inflow").then(nothing).otherwise(mex),
        destination=pl.when("inflow").then(mex).otherwise(nothing),
        flow_type=pl.lit("remittance", fs.FLOW_TYPE_ENUM),
        amount_usd="amount_usd",
        n_transfers=pl.col("OPERACIONES").cast(pl.Float64).cast(pl.Int64, strict=False),
    ).sort("period", "origin", "destination", nulls_last=False)
    return OfficialTable(
        panel=panel,
        aggregates=pl.DataFrame(),
        unmatched=pl.DataFrame(),
        source="Banco de Mexico (SIE), remittances, monthly",
        vintage="data to " + str(frame["period"].max()),
        freq="1mo",
        notes=("VALOR_USD in US dollars; OPERACIONES = number of transfers.",),
    )


@_reader(_BANXICO_QUARTERLY)
def read_banxico_quarterly_by_country(path: str | Path) -> OfficialTable:
    """Read Banco de Mexico's quarterly remittances by country (2013 onwards).

    Inflows (``Ingresos``) are corridors country -> MEX; outflows (``Egresos``)
    MEX -> country. Codes in ``ID_PAIS`` that are not countries flowlens knows
    (``XXX`` *No Identificado*, ``ABK`` Abkhazia) are listed in ``unmatched`` with
    their values: they are real money with no known counterpart.

    Examples
    --------
    >>> import datetime as dt
    >>> import flowlens as fl
    >>> path = "data/samples/real/banxico_mexico_remittances_by_country_quarterly_2013_2026.csv"
    >>> t = fl.read_banxico_quarterly_by_country(path)
    >>> usa = t.panel.filter(origin="USA", period=dt.date(2020, 1, 1))
    >>> round(usa["amount_usd"].item() / 1e9, 2)
    9.21
    """
    path = Path(path)
    frame = _read_banxico(path, ["PERIODO", "ID_PAIS", "PAIS", "FLUJO", "VALOR_USD"])
    frame = frame.with_columns(iso3=to_iso3(pl.col("ID_PAIS")))
    mex = pl.lit("MEX", fs.COUNTRY_ENUM)
    partner = pl.col("iso3").cast(fs.COUNTRY_ENUM)
    panel = (
        frame.filter(pl.col("iso3").is_not_null() & (pl.col("iso3") != "MEX"))
        .select(
            "period",
            origin=pl.when("inflow").then(partner).otherwise(mex),
            destination=pl.when("inflow").then(mex).otherwise(partner),
            flow_type=pl.lit("remittance", fs.FLOW_TYPE_ENUM),
            amount_usd="amount_usd",
        )
        # one row per corridor: names that share a code (PSE is both Palestina and
        # Cisjordania) are one country, and the panel has one row per cell
        .group_by("period", "origin", "destination", "flow_type")
        .agg(pl.col("amount_usd").sum())
        .sort("period", "origin", "destination")
    )
    unmatched = frame.filter(pl.col("iso3").is_null()).select(
        name="PAIS",
        code="ID_PAIS",
        direction=pl.col("FLUJO").str.to_lowercase().replace_strict(_BANXICO_FLOWS),
        period="period",
        amount_usd="amount_usd",
    )
    return OfficialTable(
        panel=panel,
        aggregates=pl.DataFrame(),
        unmatched=unmatched,
        source="Banco de Mexico (SIE), remittances by country, quarterly",
        vintage="data to " + str(frame["period"].max()),
        freq="1q",
        notes=(
            "VALOR_USD in US dollars; ID_PAIS is ISO3 except XXX and ABK.",
            "Rows that share an ISO3 code are summed (PSE: Palestina and Cisjordania).",
        ),
    )


_RPW_QUARTER = re.compile(r"^(\d{4})Q([1-4])")


@_reader(_RPW)
def read_rpw_corridors(path: str | Path) -> OfficialTable:
    """Read World Bank Remittance Prices Worldwide corridor costs (DataBank CSV export).

    Series ``ATCR.CORR``: the average total cost of sending USD 200, in percent of
    the amount sent, per corridor and survey quarter. Cells ``..`` (no survey)
    are left out; the footer lines go to ``notes``.

    Returns
    -------
    OfficialTable
        ``panel`` columns: ``period`` (quarter start), ``origin``, ``destination``,
        ``flow_type``, ``cost_pct`` (percent of USD 200).

    Examples
    --------
    >>> import datetime as dt
    >>> import flowlens as fl
    >>> t = fl.read_rpw_corridors("data/samples/real/wb_rpw_corridors_2011_2020.csv")
    >>> usa_mex = t.panel.filter(origin="USA", destination="MEX", period=dt.date(2020, 7, 1))
    >>> round(usa_mex["cost_pct"].item(), 2)
    4.18
    """
    path = Path(path)
    _check_csv(path)
    frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    frame.columns = [c.strip().lstrip("\ufeff") for c in frame.columns]
    needed = [
        "Sending Countries Name",
        "Sending Countries Code",
        "Receiving Countries  Name",
        "Receiving Countries  Code",
        "Series Code",
    ]
    _require(frame, needed, path)
    quarter_cols = {c: m for c in frame.columns if (m := _RPW_QUARTER.match(c))}
    is_row = pl.col("Series Code").is_not_null()
    notes = tuple(
        v for v in frame.filter(~is_row)["Sending Countries Name"].drop_nulls().to_list() if v
    )
    rows = frame.filter(is_row)
    period_of = {
        c: f"{m.group(1)}-{(int(m.group(2)) - 1) * 3 + 1:02d}-01" for c, m in quarter_cols.items()
    }
    long = (
        rows.unpivot(
            index=needed,
            on=list(quarter_cols),
            variable_name="col",
            value_name="raw",
        )
        .filter(pl.col("raw").str.strip_chars() != "..")
        .with_columns(
            period=pl.col("col").replace_strict(period_of).str.to_date("%Y-%m-%d"),
            cost_pct=pl.col("raw").str.strip_chars().cast(pl.Float64, strict=False),
            origin=to_iso3(pl.col("Sending Countries Code")).fill_null(
                to_iso3(pl.col("Sending Countries Name"))
            ),
            destination=to_iso3(pl.col("Receiving Countries  Code")).fill_null(
                to_iso3(pl.col("Receiving Countries  Name"))
            ),
        )
    )
    matched = pl.col("origin").is_not_null() & pl.col("destination").is_not_null()
    panel = (
        long.filter(matched & pl.col("cost_pct").is_not_null())
        .select(
            "period",
            pl.col("origin").cast(fs.COUNTRY_ENUM),
            pl.col("destination").cast(fs.COUNTRY_ENUM),
            flow_type=pl.lit("remittance", fs.FLOW_TYPE_ENUM),
            cost_pct="cost_pct",
        )
        .sort("period", "origin", "destination")
    )
    unmatched = long.filter(~matched).select(
        sending="Sending Countries Name", receiving="Receiving Countries  Name", raw="raw"
    )
    updated = next((n.split(":", 1)[1].strip() for n in notes if n.startswith("Last Updated")), "")
    return OfficialTable(
        panel=panel,
        aggregates=pl.DataFrame(),
        unmatched=unmatched,
        source="World Bank Remittance Prices Worldwide (corridors), ATCR.CORR",
        vintage=f"DataBank export, last updated {updated}" if updated else "unknown",
        freq="1q",
        value="cost_pct",
        notes=(
            *notes,
            "cost_pct: average total cost of sending USD 200, % of the amount sent.",
        ),
    )
