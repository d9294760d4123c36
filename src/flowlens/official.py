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
import itertools
import numbers
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ParamSpec, TypeVar

import polars as pl

from flowlens import schema as fs
from flowlens._panelspec import PanelSpec, panel_spec
from flowlens.errors import (
    FileColumnError,
    FlowlensError,
    InputFormatError,
    MissingColumnError,
    ParameterError,
    closest,
)
from flowlens.io import sniff_csv
from flowlens.reference import aggregates, name_key, to_iso3

__all__ = [
    "OfficialTable",
    "matrix_vintages",
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
            path = _path_arg(args[0] if args else kwargs.get("path"), read.__name__)
            try:
                return read(*args, **kwargs)
            except MissingColumnError as exc:
                if isinstance(exc, InputFormatError):
                    raise
                # a column the reader needs is not in the file: the wrong file for it
                raise FileColumnError(str(exc), column=exc.column, present=exc.present) from exc
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


def _what(value: object) -> str:
    """A value's type for an error message: ``None``, ``bytes (b'abc')``, ``a DataFrame
    (polars)``."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if value is None:
        return "None"
    if module == "builtins":
        return f"{kind.__name__} ({repr(value)[:40]})"
    return f"a {kind.__name__} ({module})"


def _path_arg(value: object, reader: str) -> Path:
    """The file path a reader was given, or a ParameterError naming what it got instead
    (a frame, bytes, None): readers read files, and a str of a frame is no file name."""
    if isinstance(value, str):
        return Path(value)
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        if isinstance(path, str):
            return Path(path)
    got = _what(value)
    if hasattr(type(value), "columns"):  # a frame (the class, not a LazyFrame's schema)
        fix = (
            "pass the path of the published file; a frame of one series (dates and values) "
            "is read by fl.read_series(frame, date=..., value=..., ...)"
        )
    elif isinstance(value, bytes | bytearray | memoryview):
        fix = (
            "pass the path as a str or pathlib.Path (decode a bytes path; write a file's "
            "contents to a file first)"
        )
    else:
        fix = "pass the path as a str or pathlib.Path"
    msg = f"{reader} reads a file path; got {got}: {fix}"
    raise ParameterError(msg)


def _utf16_without_bom(head: bytes) -> bool:
    """Whether ``head`` looks like UTF-16 text without a byte-order mark: a NUL in every
    other byte (the high byte of ASCII characters) and few elsewhere."""
    pairs = len(head) // 2
    if pairs < 2 or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    even = head[0 : 2 * pairs : 2].count(0)
    odd = head[1 : 2 * pairs : 2].count(0)
    return max(even, odd) >= 0.9 * pairs and min(even, odd) <= 0.1 * pairs


def _head_found(head: bytes) -> str | None:
    """What :func:`_found` says of a file whose first bytes tell its kind: a workbook, an
    archive, UTF-16 text with or without a byte-order mark (None: none of those)."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 text (with a byte-order mark): re-save it as UTF-8"
    if _utf16_without_bom(head):
        return "text that looks like UTF-16 without a byte-order mark: re-save it as UTF-8"
    return None


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
    if known := _head_found(head):
        return known
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "binary data (not UTF-8 text)"
    text = text.lstrip("\ufeff")  # a file of a byte-order mark alone has no first line
    first = text.splitlines()[0] if text.strip() else ""
    return f"text whose first line is {first[:80]!r}"


def _check_csv(path: Path) -> None:
    """The checks of :func:`flowlens.io.sniff_csv` (encoding, header, repeated names)."""
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    sniff_csv(path)


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


@dataclass(frozen=True)
class _MatrixKind:
    """What one kind of World Bank matrix looks like: its title, its sheet names, its reader."""

    name: str
    reader: str
    title: re.Pattern[str]
    sheet: re.Pattern[str]
    example: str


_REMITTANCE = _MatrixKind(
    name="bilateral remittance matrix",
    reader="read_wb_bilateral_matrix",
    title=re.compile(r"bilateral\s+remittance\s+(?:estimates\s+for|matrix)\s+(\d{4})", re.I),
    sheet=re.compile(r"bilateral[\s_]+remittances?[\s_]+(\d{4})", re.I),
    example="'Bilateral Remittance Estimates for 2021 ...' (or named 'Bilateral Remittances 2016')",
)
_STOCK = _MatrixKind(
    name="bilateral migrant-stock matrix",
    reader="read_wb_migrant_stock",
    title=re.compile(
        r"bilateral\s+(?:estimates\s+of\s+migrant\s+stocks?\s+in|migration\s+matrix)\s+(\d{4})",
        re.I,
    ),
    sheet=re.compile(r"bilateral[\s_]+migration[\s_]+(\d{4})", re.I),
    example="'Bilateral Estimates of Migrant Stocks in 2021' (or named 'Bilateral Migration 2013')",
)
_KINDS = (_REMITTANCE, _STOCK)
_PEEK_ROWS = 6
"""Rows of each sheet read to find its title and its header row of country names."""
_MIN_HEADER_NAMES = 20
"""A header row names at least this many countries (the World Bank's name about 214)."""

_WB_REMITTANCE = (
    "a World Bank/KNOMAD bilateral remittance matrix workbook (.xlsx: a sheet titled "
    "'Bilateral Remittance Estimates for <year> ...', a row of receiving countries, "
    "sending countries down the first column)"
)
_WB_STOCK = (
    "a World Bank/KNOMAD bilateral migrant-stock matrix workbook (.xlsx: a sheet titled "
    "'Bilateral Estimates of Migrant Stocks in <year>', a row of destination countries, "
    "countries of origin down the first column)"
)
_WB_ANY = "a World Bank/KNOMAD bilateral remittance or migrant-stock matrix workbook (.xlsx)"

_ASSUMED_ZERO = {
    2021: (
        ("IND", "PAK"),
        ("PAK", "IND"),
        ("LBN", "ISR"),
        ("ISR", "LBN"),
        ("AZE", "ARM"),
        ("ARM", "AZE"),
    )
}
"""Corridors the remittance matrix of a year sets to zero by assumption, as its footnote
names them (December 2022 version: "Flows between India and Pakistan, Pakistan and India,
Lebanon and Israel and vice versa, and Azerbaijan and Armenia and vice versa are assumed
to be zero given the political economy situations in these corridors")."""


@dataclass(frozen=True)
class _SheetLayout:
    """One sheet as its first rows show it: the header row, the title above it, its kind."""

    sheet: str
    first_cell: str
    header_row: int | None
    title: str
    kind: _MatrixKind | None = None
    year: int | None = None
    evidence: str = ""

    def describe(self) -> str:
        shown = self.first_cell[:60] + ("..." if len(self.first_cell) > 60 else "")
        return f"{self.sheet!r} (first cell {shown!r})" if shown else f"{self.sheet!r} (empty)"


def _sheet_layout(sheet: str, rows: list[tuple[object, ...]]) -> _SheetLayout:
    """The layout of a sheet from its first rows: the kind and year come from the title
    (the text above the header row), else from the sheet's name."""
    cells = [[v.strip() if isinstance(v, str) else "" for v in row] for row in rows]
    header_row = next(
        (i for i, row in enumerate(cells) if sum(v != "" for v in row[1:]) >= _MIN_HEADER_NAMES),
        None,
    )
    above = cells if header_row is None else cells[:header_row]
    title = " ".join(v for row in above for v in row if v)
    first = next((v for row in cells for v in row if v), "")
    layout = _SheetLayout(sheet, first, header_row, title)
    for kind in _KINDS:
        if match := kind.title.search(title):
            return replace(layout, kind=kind, year=int(match[1]), evidence=f"its title {title!r}")
    for kind in _KINDS:
        if match := kind.sheet.fullmatch(sheet.strip()):
            return replace(layout, kind=kind, year=int(match[1]), evidence=f"its name {sheet!r}")
    return layout


def _peek_sheets(path: Path) -> list[_SheetLayout]:
    """The layout of every sheet of the workbook, from its first :data:`_PEEK_ROWS` rows
    (a sheet that is not a matrix, such as ``remshare`` or an author's ``Sheet2``
    copy without the title, is looked at, never read)."""
    import fastexcel

    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
    except Exception as exc:  # fastexcel raises its own types; name the file and the fix
        detail = str(exc).strip().split("\n", 1)[0][:200]
        msg = f"cannot read {str(path)!r} as an Excel workbook: {detail}"
        raise InputFormatError(msg) from exc
    layouts = []
    for name in names:
        try:
            sheet = reader.load_sheet(name, header_row=None, n_rows=_PEEK_ROWS, dtypes="string")
            layouts.append(_sheet_layout(name, sheet.to_polars().rows()))
        except Exception as exc:  # an unreadable sheet (a chart, a broken part) is no matrix
            detail = str(exc).strip().split("\n", 1)[0][:80]
            layouts.append(_SheetLayout(name, f"(unreadable: {detail})", None, ""))
    return layouts


_YEARS = (1900, 2100)
"""The years a bilateral matrix may be given for (``year=``)."""


def _matrix_options(reader: str, sheet: object, year: object, keep_zeros: object) -> None:
    """The matrix readers' ``sheet=``, ``year=`` and ``keep_zeros=``, or a ParameterError
    naming the value and what is expected (nothing coerced: ``keep_zeros="no"`` is truthy)."""
    if sheet is not None and (
        isinstance(sheet, bool)
        or not isinstance(sheet, str | numbers.Integral)
        or (isinstance(sheet, numbers.Integral) and int(sheet) < 1)
    ):
        msg = (
            f"{reader}: sheet must be a sheet's name (str) or its position (int, 1 = the first "
            f"sheet, as in read_series), or None to find it; got {sheet!r}"
        )
        raise ParameterError(msg)
    low, high = _YEARS
    if year is not None and (
        isinstance(year, bool)
        or not isinstance(year, numbers.Integral)
        or not low <= int(year) <= high
    ):
        msg = (
            f"{reader}: year must be a whole number from {low} to {high} such as 2021, or None "
            f"(read from the sheet's title); got {year!r}"
        )
        raise ParameterError(msg)
    if not isinstance(keep_zeros, bool):
        msg = f"{reader}: keep_zeros must be True or False, got {keep_zeros!r}"
        raise ParameterError(msg)


def _locate(
    path: Path, kind: _MatrixKind, sheet: str | int | None, year: int | None
) -> tuple[_SheetLayout, int, str]:
    """The sheet holding the matrix, its year and how both were found (for ``notes``)."""
    layouts = _peek_sheets(path)
    found = ", ".join(layout.describe() for layout in layouts) or "no sheets"
    if sheet is not None:
        chosen = _named_sheet(path, layouts, sheet, kind)
    else:
        chosen = _detected_sheet(path, layouts, kind, found)
    year = None if year is None else int(year)
    used = year if year is not None else chosen.year
    if used is None:
        msg = (
            f"{path.name}: cannot tell the year of sheet {chosen.sheet!r}: expected a title "
            f"such as {kind.example}, found {chosen.title[:120]!r}; pass year="
        )
        raise InputFormatError(msg)
    if year is not None and chosen.year is not None and year != chosen.year:
        how = f"year {year} as given (the sheet says {chosen.year}, from {chosen.evidence})"
    elif year is not None:
        how = f"year {year} as given"
    else:
        how = f"year {used} from {chosen.evidence}"
    others = [layout.sheet for layout in layouts if layout is not chosen]
    skipped = f"; other sheets not read: {others}" if others else ""
    return chosen, used, f"flowlens: read sheet {chosen.sheet!r}, {how}{skipped}."


def _named_sheet(
    path: Path, layouts: list[_SheetLayout], sheet: str | int, kind: _MatrixKind
) -> _SheetLayout:
    names = [layout.sheet for layout in layouts]
    if not isinstance(sheet, str):  # a position, 1 = the first sheet
        if int(sheet) > len(layouts):
            msg = (
                f"{path.name}: sheet={sheet!r} but the workbook has {len(layouts)} sheets "
                f"{names}; give a position from 1 to {len(layouts)} or a sheet's name"
            )
            raise ParameterError(msg)
        chosen: _SheetLayout | None = layouts[int(sheet) - 1]
    else:
        chosen = next((x for x in layouts if x.sheet == sheet), None) or next(
            (x for x in layouts if x.sheet.strip() == sheet.strip()), None
        )
    if chosen is None:  # a name (a position is always found)
        match = closest(str(sheet), names)
        hint = f" (did you mean {match!r}?)" if match else ""
        msg = f"{path.name}: no sheet named {sheet!r}{hint}; expected one of the sheets {names}"
        raise InputFormatError(msg)
    if chosen.header_row is None:
        msg = (
            f"{path.name}: sheet {chosen.sheet!r} is not a {kind.name}: expected a row naming "
            f"at least {_MIN_HEADER_NAMES} countries in its first {_PEEK_ROWS} rows, found "
            f"{chosen.describe()}"
        )
        raise InputFormatError(msg)
    if chosen.kind is not None and chosen.kind is not kind:
        msg = (
            f"{path.name}: sheet {chosen.sheet!r} is a {chosen.kind.name} ({chosen.evidence}), "
            f"expected a {kind.name}: read it with flowlens.{chosen.kind.reader}"
        )
        raise InputFormatError(msg)
    return chosen


def _detected_sheet(
    path: Path, layouts: list[_SheetLayout], kind: _MatrixKind, found: str
) -> _SheetLayout:
    matches = [x for x in layouts if x.kind is kind and x.header_row is not None]
    if len(matches) > 1:
        msg = (
            f"{path.name}: expected one sheet holding a {kind.name}, found "
            f"{len(matches)}: {[x.sheet for x in matches]}; pass sheet= to choose one"
        )
        raise InputFormatError(msg)
    if matches:
        return matches[0]
    other = next((x for x in layouts if x.kind is not None and x.header_row is not None), None)
    if other is not None and other.kind is not None:
        msg = (
            f"{path.name}: expected a {kind.name}, found a {other.kind.name} in sheet "
            f"{other.sheet!r} ({other.evidence}): read it with flowlens.{other.kind.reader}"
        )
        raise InputFormatError(msg)
    msg = (
        f"{path.name}: no sheet is a World Bank {kind.name}: expected a sheet titled "
        f"{kind.example}, with a row of country names below the title; found sheets {found}. "
        "If the title row was removed, pass sheet= and year="
    )
    raise InputFormatError(msg)


def _vintage(title: str, notes: tuple[str, ...]) -> str | None:
    """The release: ``(April 2018 Version)`` in the title, else the citation's date
    (``... Bilateral Remittance Matrix 2021, December 2022.``)."""
    if match := re.search(r"\(([^()]*version)\)", title, flags=re.IGNORECASE):
        return match.group(1).strip()
    for note in notes:
        if match := re.search(r"\bmatrix\s+\d{4},\s*([A-Z][a-z]+\s+\d{4})", note, re.IGNORECASE):
            return match.group(1)
    return None


@_reader(_WB_REMITTANCE)
def read_wb_bilateral_matrix(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    year: int | None = None,
    keep_zeros: bool = False,
) -> OfficialTable:
    """Read a World Bank/KNOMAD Bilateral Remittance Matrix of any vintage (xlsx, US$ million).

    Sending countries run down the rows, receiving countries across the columns.
    Values are converted from US$ million to US dollars. The sheet, the year and the
    release are read from the workbook's content: the sheet whose title reads
    ``Bilateral Remittance Estimates for <year> ...`` (the 2016 November 2017, 2017
    April 2018 and 2021 December 2022 versions all do), else the sheet named like
    ``Bilateral Remittances 2016``. Sheets that are not World Bank data (``remshare``,
    an author's ``Sheet2`` copy without the title) are never read.

    Parameters
    ----------
    path
        The workbook, e.g. ``wb_bilateral_remittance_2017.xlsx`` (April 2018 version).
    sheet
        The sheet to read, by name (surrounding spaces ignored: ``'FINAL BRM 2021'``
        finds ``'FINAL BRM 2021 '``) or by position (``1`` = the first sheet, as in
        :func:`flowlens.read_series`). Default None: the one sheet whose title or name
        says it is a bilateral remittance matrix.
    year
        The year the estimates refer to, a whole number from 1900 to 2100. Default None:
        from the sheet's title or name; a year given here wins, and the notes say what
        the sheet said.
    keep_zeros
        Zero cells mean no estimated flow (and, for a few receivers such as Somalia in
        2017, no estimate at all); by default they are left out of the panel, and
        their count is in ``notes``. Empty cells are zeros (the 2021 sheet leaves every
        zero cell empty).

    Returns
    -------
    OfficialTable
        ``panel``: ``period`` (1 January of the year), ``origin`` (sender),
        ``destination``, ``flow_type``, ``amount_usd``. ``aggregates``: the WORLD row
        and column (``sending``, ``receiving``, ``amount_usd``). ``unmatched``: names
        that are neither a country nor an aggregate. ``vintage``: the release
        (``'April 2018 Version'``). ``notes``: the title, the footnotes, the cells that
        hold no number (``0*``, ``N/A``, ``-``: left out of the panel), the corridors
        set to zero by assumption, and how the sheet and year were found.

    Raises
    ------
    InputFormatError
        The file is not an Excel workbook, no sheet is a remittance matrix (the message
        lists the sheets found), the matrix is a migrant-stock matrix, or the year cannot
        be told.
    ParameterError
        ``path`` is not a path (a frame, bytes, None); ``sheet`` is neither a name nor a
        position of the workbook; ``year`` is not a whole number from 1900 to 2100;
        ``keep_zeros`` is not a bool.

    Notes
    -----
    The matrices are estimates, not records: a country's remittance inflow is
    allocated to sending countries by migrant stocks, host-country incomes and
    origin-country incomes (Ratha and Shaw 2007). The 2021 matrix sets India <->
    Pakistan, Israel <-> Lebanon and Azerbaijan <-> Armenia to zero by assumption; the
    2016 matrix has ``0*`` (India <-> Pakistan) and ``N/A`` (Israel <-> Lebanon) there,
    the 2017 matrix ``-``.

    References
    ----------
    Ratha, D. and W. Shaw (2007). South-South Migration and Remittances. World Bank
    Working Paper 102.

    Examples
    --------
    >>> import flowlens as fl
    >>> path = "data/samples/real/wb_bilateral_remittance_2017.xlsx"
    >>> t = fl.read_wb_bilateral_matrix(path)
    >>> usa_mex = t.panel.filter(origin="USA", destination="MEX")
    >>> round(usa_mex["amount_usd"].item() / 1e6, 1)
    30019.2
    >>> t.vintage
    'April 2018 Version'
    >>> t = fl.read_wb_bilateral_matrix("data/samples/real/knomad_bilateral_remittance_2021_dec2022.xlsx")
    >>> t.source, t.vintage
    ('World Bank/KNOMAD Bilateral Remittance Matrix 2021', 'December 2022 Version')
    """
    _matrix_options("read_wb_bilateral_matrix", sheet, year, keep_zeros)
    path = Path(path)
    layout, used_year, how = _locate(path, _REMITTANCE, sheet, year)
    matrix = _read_wb_matrix(path, layout, rows_are_senders=True, scale=_MILLION)
    countries, n_zero = _drop_zeros(matrix.countries, keep_zeros)
    panel = countries.select(
        period=pl.date(used_year, 1, 1),
        origin="origin",
        destination="destination",
        flow_type=pl.lit("remittance", fs.FLOW_TYPE_ENUM),
        amount_usd="value",
    )
    return OfficialTable(
        panel=panel,
        aggregates=matrix.aggregates.rename({"value": "amount_usd"}),
        unmatched=matrix.unmatched,
        source=f"World Bank/KNOMAD Bilateral Remittance Matrix {used_year}",
        vintage=_vintage(matrix.title, matrix.notes) or "unknown",
        freq="1y",
        notes=(
            matrix.title,
            *matrix.notes,
            how,
            f"flowlens: values converted from US$ million to US$; {n_zero} zero cells "
            + ("kept." if keep_zeros else "left out (no estimated flow)."),
            *matrix.cell_notes(),
            *_assumed_zero_note(matrix, used_year),
            *matrix.diagonal_note("USD"),
        ),
    )


@_reader(_WB_STOCK)
def read_wb_migrant_stock(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    year: int | None = None,
    keep_zeros: bool = False,
) -> OfficialTable:
    """Read a World Bank/KNOMAD Bilateral Migration Matrix of any year (persons, origin x host).

    Mapped onto remittance corridors: migrants living in country H who come from
    country O send from H to O, so the panel's ``origin`` is the host country and
    ``destination`` the migrants' country of birth, with ``migrants`` (persons).
    Columns and rows ``Other North``, ``Other South`` and ``World`` are aggregates.
    The sheet and the year are read from the workbook's content (the title
    ``Bilateral Estimates of Migrant Stocks in <year>`` of the 2013, 2017 and 2021
    matrices), else from a sheet named like ``Bilateral Migration 2013``; other
    sheets (``countries-comparison``, an author's ``Sheet2``) are never read.

    Parameters
    ----------
    path
        The workbook, e.g. ``wb_bilateral_migrant_stock_2017.xlsx``.
    sheet, year
        Overrides of the detected sheet and year (default None: detect; see
        :func:`read_wb_bilateral_matrix`).
    keep_zeros
        Keep zero (and empty) cells in the panel as 0 migrants; by default they are
        left out, and their count is in ``notes``.

    Returns
    -------
    OfficialTable
        ``panel``: ``period``, ``origin`` (host), ``destination`` (country of birth),
        ``migrants``; ``value`` is ``'migrants'``. ``vintage``: the release when the
        file names one (``'December 2022'`` for 2021), else the year.

    Raises
    ------
    InputFormatError
        As :func:`read_wb_bilateral_matrix`; a remittance matrix is refused with the
        name of the reader to use.
    ParameterError
        As :func:`read_wb_bilateral_matrix`.

    Examples
    --------
    >>> import flowlens as fl
    >>> t = fl.read_wb_migrant_stock("data/samples/real/wb_bilateral_migrant_stock_2017.xlsx")
    >>> mexicans_in_usa = t.panel.filter(origin="USA", destination="MEX")["migrants"].item()
    >>> mexicans_in_usa > 10_000_000
    True
    >>> t = fl.read_wb_migrant_stock("data/samples/real/wb_bilateral_migrant_stock_2013.xlsx")
    >>> t.source, t.panel.filter(origin="USA", destination="MEX")["migrants"].item()
    ('World Bank Bilateral Migration Matrix 2013', 12950828.0)
    """
    _matrix_options("read_wb_migrant_stock", sheet, year, keep_zeros)
    path = Path(path)
    layout, used_year, how = _locate(path, _STOCK, sheet, year)
    matrix = _read_wb_matrix(path, layout, rows_are_senders=False, scale=1.0)
    countries, n_zero = _drop_zeros(matrix.countries, keep_zeros)
    panel = countries.select(
        period=pl.date(used_year, 1, 1),
        origin="origin",
        destination="destination",
        migrants="value",
    )
    return OfficialTable(
        panel=panel,
        aggregates=matrix.aggregates.rename({"value": "migrants"}),
        unmatched=matrix.unmatched,
        source=f"World Bank Bilateral Migration Matrix {used_year}",
        vintage=_vintage(matrix.title, matrix.notes) or str(used_year),
        freq="1y",
        value="migrants",
        notes=(
            matrix.title,
            *matrix.notes,
            how,
            "flowlens: origin = host country (where migrants live and send from), "
            "destination = migrants' country of origin.",
            f"flowlens: {n_zero} zero cells " + ("kept." if keep_zeros else "left out."),
            *matrix.cell_notes(),
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
    not_numbers: pl.DataFrame  # row, column, text: cells that hold text, not a number
    n_empty: int  # empty cells, read as zero
    stray: pl.DataFrame  # row, column, text: values without a country name for row or column

    def diagonal_note(self, unit: str) -> list[str]:
        if self.diagonal.height == 0:
            return []
        cells = ", ".join(f"{o} ({unit} {v:,.0f})" for o, v in self.diagonal.iter_rows())
        return [f"flowlens: same-country cells left out (not corridors): {cells}."]

    def cell_notes(self) -> list[str]:
        notes = []
        if self.n_empty:
            notes.append(f"flowlens: {self.n_empty} empty cells read as zero (no estimated flow).")
        if self.not_numbers.height:
            cells = ", ".join(
                f"row {r!r} x column {c!r}: {t!r}" for r, c, t in self.not_numbers.iter_rows()
            )
            notes.append(
                f"flowlens: {self.not_numbers.height} cells hold no number and are left out "
                f"of the panel (see the footnotes): {cells}."
            )
        if self.stray.height:
            cells = ", ".join(
                f"row {r!r} x column {c or '(no name)'!r}: {t!r}"
                for r, c, t in self.stray.head(20).iter_rows()
            )
            more = ", ..." if self.stray.height > 20 else ""
            notes.append(
                f"flowlens: {self.stray.height} cells hold a value but no country name for "
                f"their row or column, and are left out: {cells}{more}."
            )
        return notes


def _assumed_zero_note(matrix: _Matrix, year: int) -> list[str]:
    """The corridors the footnotes say are zero by assumption, with the cells found."""
    if "assumed to be zero" not in " ".join(matrix.notes).lower():
        return []
    pairs = _ASSUMED_ZERO.get(year)
    if pairs is None:
        return ["flowlens: the footnotes set some corridors to zero by assumption (see above)."]
    wanted = pl.DataFrame(pairs, schema=["origin", "destination"], orient="row")
    cells = wanted.join(
        matrix.countries.with_columns(pl.col("origin", "destination").cast(pl.String)),
        on=["origin", "destination"],
        how="left",
        maintain_order="left",
    )
    listed = ", ".join(f"{o}->{d} ({v})" for o, d, v in cells.iter_rows())
    return [
        "flowlens: these corridors are zero by assumption (the footnote: political economy), "
        f"not by estimate; cells found, US$: {listed}."
    ]


def _read_wb_matrix(
    path: Path, layout: _SheetLayout, *, rows_are_senders: bool, scale: float
) -> _Matrix:
    """A World Bank wide matrix (title, header row, names down the first column) in long form."""
    grid = _read_excel_grid(path, layout.sheet)
    header_row = layout.header_row or 0
    header = [str(v).strip() if v is not None else "" for v in grid.row(header_row)]
    body = grid.slice(header_row + 1)
    body.columns = ["row_name", *[f"c{i}" for i in range(1, body.width)]]
    named = [c for c, h in zip(body.columns[1:], header[1:], strict=True) if h]
    unnamed = [c for c, h in zip(body.columns[1:], header[1:], strict=True) if not h]

    def filled(col: str) -> pl.Expr:
        return pl.col(col).str.strip_chars().fill_null("") != ""

    name = pl.col("row_name").str.strip_chars()
    rows = _classify(
        body.with_columns(
            name,
            label=pl.when(name != "")
            .then(name)
            .otherwise(
                pl.format(
                    "(no name, below {})",
                    pl.when(name != "").then(name).forward_fill().fill_null("the header"),
                )
            ),
            has_value=pl.any_horizontal(filled(c) for c in named) if named else pl.lit(False),
            any_value=pl.any_horizontal(filled(c) for c in body.columns[1:]),
            in_unnamed=pl.any_horizontal(filled(c) for c in unnamed) if unnamed else pl.lit(False),
        ),
        "row_name",
        "iso3",
    )
    has_name = pl.col("row_name").fill_null("") != ""
    known = pl.col("iso3").is_not_null() | pl.col("agg_code").is_not_null()
    is_data = has_name & (pl.col("has_value") | known)
    notes = rows.filter(has_name & ~is_data)["row_name"].to_list()
    # cells with a value but no country name in their row or column: listed, not read
    stray = (
        rows.filter((~has_name & pl.col("any_value")) | (is_data & pl.col("in_unnamed")))
        .select("label", "row_name", *body.columns[1:])
        .unpivot(index=["label", "row_name"], variable_name="col", value_name="text")
        .join(
            pl.DataFrame({"col": body.columns[1:], "column": header[1:]}),
            on="col",
            how="left",
            maintain_order="left",
        )
        .filter(
            filled("text") & ((pl.col("row_name").fill_null("") == "") | (pl.col("column") == ""))
        )
        .select(row="label", column="column", text="text")
    )
    long = _long_cells(rows.filter(is_data).select("row_name", *named), named, header, scale)
    return _matrix_of(
        long,
        title=layout.title,
        notes=tuple(dict.fromkeys(notes)),
        rows_are_senders=rows_are_senders,
        stray=stray,
    )


def _long_cells(
    data: pl.DataFrame, named: list[str], header: list[str], scale: float
) -> pl.DataFrame:
    """Cells of the matrix body as (row_name, col_name, raw, value): empty cells are zero,
    text that is not a finite number (``0*``, ``N/A``, ``-``, ``…``) null."""
    column_names = pl.DataFrame({"col": named, "col_name": [h for h in header[1:] if h]})
    text = pl.col("raw").str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    return (
        data.unpivot(index="row_name", variable_name="col", value_name="raw")
        .join(column_names, on="col", how="left", maintain_order="left")
        .with_columns(
            empty=text.fill_null("") == "",
            number=pl.when(number.is_finite()).then(number),
        )
        .with_columns(value=pl.when("empty").then(0.0).otherwise("number") * scale)
    )


def _matrix_of(
    long: pl.DataFrame,
    *,
    title: str,
    notes: tuple[str, ...],
    rows_are_senders: bool,
    stray: pl.DataFrame,
) -> _Matrix:
    """Split the matrix's cells into country corridors, aggregates and unmatched names."""
    not_numbers = long.filter(~pl.col("empty") & pl.col("number").is_null()).select(
        row="row_name", column="col_name", text="raw"
    )
    n_empty = int(long["empty"].sum())
    sending, receiving = ("row_name", "col_name") if rows_are_senders else ("col_name", "row_name")
    long = long.select(sending=sending, receiving=receiving, value="value")
    # each name classified once (a few hundred), not once per cell (about 46,000)
    names = _classify(
        pl.concat([long.select(name="sending"), long.select(name="receiving")]).unique(),
        "name",
        "iso3",
    )
    for side, iso in (("sending", "origin"), ("receiving", "destination")):
        long = long.join(
            names.select(
                pl.col("name").alias(side),
                pl.col("iso3").alias(iso),
                pl.col("agg_code").alias(f"{side}_agg"),
            ),
            on=side,
            how="left",
            maintain_order="left",
        )
    is_agg = pl.col("sending_agg").is_not_null() | pl.col("receiving_agg").is_not_null()
    is_country = pl.col("origin").is_not_null() & pl.col("destination").is_not_null()
    same = pl.col("origin") == pl.col("destination")
    countries = (
        long.filter(is_country & ~is_agg & ~same & pl.col("value").is_not_null())
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
        not_numbers=not_numbers,
        n_empty=n_empty,
        stray=stray,
    )


def _drop_zeros(frame: pl.DataFrame, keep_zeros: bool) -> tuple[pl.DataFrame, int]:
    n_zero = frame.filter(pl.col("value") == 0).height
    return (frame if keep_zeros else frame.filter(pl.col("value") != 0)), n_zero


@_reader(_WB_ANY)
def _read_any_matrix(path: Path) -> OfficialTable:
    """A remittance or migrant-stock matrix, whichever the workbook holds, zeros kept."""
    kinds = {x.kind for x in _peek_sheets(path) if x.header_row is not None}
    if _STOCK in kinds and _REMITTANCE not in kinds:
        return read_wb_migrant_stock(path, keep_zeros=True)
    return read_wb_bilateral_matrix(path, keep_zeros=True)


def _country_codes(value: str | Sequence[str], what: str) -> list[str]:
    """ISO3 codes for ``origin=``/``destination=`` given as codes or names."""
    given = [value] if isinstance(value, str) else list(value)
    if not given or not all(isinstance(v, str) for v in given):
        msg = f"{what} must be a country (ISO3 code or name) or a list of them, got {value!r}"
        raise ParameterError(msg)
    codes = pl.select(to_iso3(pl.lit(pl.Series(given, dtype=pl.String)))).to_series().to_list()
    unknown = [g for g, c in zip(given, codes, strict=True) if c is None]
    if unknown:
        match = closest(unknown[0], fs.COUNTRY_ENUM.categories.to_list())
        hint = f" (did you mean {match!r}?)" if match else ""
        msg = f"{what}={unknown[0]!r} is not a country flowlens knows{hint}; give an ISO3 code"
        raise ParameterError(msg)
    return [str(c) for c in codes]


_PANEL_COLUMNS = ("period", "origin", "destination")


def _vintage_table(item: object, position: int) -> OfficialTable:
    """One input of :func:`matrix_vintages` as a table: an OfficialTable as it is, a path
    read (zeros kept), a matrix's panel (``period``, ``origin``, ``destination`` and
    ``amount_usd`` or ``migrants``) wrapped; anything else a ParameterError."""
    if isinstance(item, OfficialTable):
        return item
    if isinstance(item, pl.LazyFrame):
        item = item.collect()
    if isinstance(item, pl.DataFrame):
        values = [v for v in (fs.AMOUNT_USD, "migrants") if v in item.columns]
        missing = [c for c in _PANEL_COLUMNS if c not in item.columns]
        if missing or len(values) != 1 or not item.schema["period"].is_temporal():
            msg = (
                f"matrix_vintages: input {position} is a DataFrame with columns "
                f"{item.columns[:12]}; expected a matrix's panel (columns period (a date), "
                "origin, destination and one of amount_usd or migrants), or better the "
                "OfficialTable read_wb_bilateral_matrix/read_wb_migrant_stock returned, or "
                "the workbook's path"
            )
            raise ParameterError(msg)
        return OfficialTable(
            panel=item,
            aggregates=pl.DataFrame(),
            unmatched=pl.DataFrame(),
            source=f"panel {position} (a DataFrame)",
            vintage="unknown",
            freq="1y",
            value=values[0],
        )
    if isinstance(item, str) or (
        isinstance(item, os.PathLike) and isinstance(os.fspath(item), str)
    ):
        return _read_any_matrix(Path(os.fspath(item)))
    msg = (
        f"matrix_vintages: input {position} is {_what(item)}; expected the OfficialTable "
        "read_wb_bilateral_matrix or read_wb_migrant_stock returned, the workbook's path "
        "(str or pathlib.Path), or the table's panel (a polars DataFrame)"
    )
    raise ParameterError(msg)


def _vintage_long(tables: list[OfficialTable]) -> tuple[pl.DataFrame, list[str], str]:
    """The tables' corridors stacked with their year, the years in order, the value column."""
    values = {t.value for t in tables}
    if len(values) > 1:
        msg = (
            f"matrix_vintages puts one measure side by side, got {sorted(values)} "
            f"({[t.source for t in tables]}): pass remittance matrices or migrant-stock "
            "matrices, not both"
        )
        raise ParameterError(msg)
    value = values.pop()
    frames = []
    seen: dict[int, str] = {}
    for table in tables:  # one iteration per table (a handful), not per row
        _require(table.panel, ["period", "origin", "destination", value], Path(table.source))
        years = table.panel["period"].dt.year().unique().drop_nulls().sort().to_list()
        if len(years) != 1:
            msg = (
                f"matrix_vintages expects tables of one year each (a bilateral matrix); "
                f"{table.source} ({table.vintage}) has years {years[:5]}"
            )
            raise ParameterError(msg)
        year = int(years[0])
        if year in seen:
            msg = (
                f"two tables of year {year}: {seen[year]} and {table.source} ({table.vintage}); "
                "matrix_vintages keeps one column per year: pass one of them"
            )
            raise ParameterError(msg)
        seen[year] = f"{table.source} ({table.vintage})"
        frames.append(
            table.panel.select(
                pl.col("origin", "destination").cast(pl.String),
                year=pl.lit(str(year)),
                value=pl.col(value).cast(pl.Float64),
            )
        )
    long = pl.concat(frames)
    repeated = long.filter(pl.struct("origin", "destination", "year").is_duplicated())
    if repeated.height:
        first = repeated.row(0, named=True)
        msg = (
            f"year {first['year']}: corridor {first['origin']}->{first['destination']} appears "
            f"{repeated.height} times; expected one row per corridor (a matrix's panel)"
        )
        raise ParameterError(msg)
    return long, [str(y) for y in sorted(seen)], value


def matrix_vintages(
    paths_or_tables: str
    | Path
    | OfficialTable
    | pl.DataFrame
    | Iterable[str | Path | OfficialTable | pl.DataFrame],
    *,
    origin: str | Sequence[str] | None = None,
    destination: str | Sequence[str] | None = None,
    keep_zeros: bool = False,
) -> pl.DataFrame:
    """Corridors side by side across editions of the World Bank's bilateral matrices.

    Each edition of the bilateral remittance matrix (2016, 2017, 2021) re-estimates
    every corridor from new migrant stocks and incomes; this table shows how much one
    corridor's estimate moves between editions. Migrant-stock matrices (2013, 2017,
    2021) are put side by side the same way.

    Parameters
    ----------
    paths_or_tables
        Workbooks (read with :func:`read_wb_bilateral_matrix` or
        :func:`read_wb_migrant_stock`, whichever the file holds, zeros kept),
        :class:`OfficialTable` objects those readers returned, or their ``panel``
        frames (``period``, ``origin``, ``destination`` and ``amount_usd`` or
        ``migrants``), one per year; all of one measure (remittances or migrants).
    origin, destination
        Keep only these sending (host) and receiving (origin-of-migrants) countries:
        an ISO3 code or a name (``"MEX"``, ``"Mexico"``), or a list. Default: all.
    keep_zeros
        Keep corridors that are zero or missing in every edition (default: left out).

    Returns
    -------
    polars.DataFrame
        ``origin``, ``destination`` (ISO3 Enum), one column per year (``"2016"``,
        ``"2017"``, ...) in the tables' unit (US dollars, or persons), then for each pair
        of consecutive years, and first to last when there are more than two,
        ``change_<a>_<b>`` (b minus a) and ``pct_change_<a>_<b>`` (percent of a; null
        when a is zero or missing). A null year means the corridor has no number in
        that edition: a cell such as ``-`` or ``N/A``, a country the edition does not
        have, or, for a table read with ``keep_zeros=False``, a zero left out (pass
        tables read with ``keep_zeros=True`` to tell those apart; paths are read so).
        Sorted by origin and destination.

    Raises
    ------
    ParameterError
        No tables; an input that is neither a table, a path nor a matrix's panel;
        tables of different measures, of several years each or two of the same year;
        an unknown country in ``origin``/``destination``; ``keep_zeros`` not a bool.
    InputFormatError
        A path that is not a bilateral matrix workbook.

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> real = "data/samples/real/"
    >>> files = [
    ...     real + "wb_bilateral_remittance_2016_nov2017.xlsx",
    ...     real + "wb_bilateral_remittance_2017.xlsx",
    ...     real + "knomad_bilateral_remittance_2021_dec2022.xlsx",
    ... ]
    >>> v = fl.matrix_vintages(files, origin="USA", destination=["MEX", "IND"])
    >>> v.select("origin", "destination", (pl.col("2016", "2017", "2021") / 1e6).round(1))
    shape: (2, 5)
    ┌────────┬─────────────┬─────────┬─────────┬─────────┐
    │ origin ┆ destination ┆ 2016    ┆ 2017    ┆ 2021    │
    │ ---    ┆ ---         ┆ ---     ┆ ---     ┆ ---     │
    │ enum   ┆ enum        ┆ f64     ┆ f64     ┆ f64     │
    ╞════════╪═════════════╪═════════╪═════════╪═════════╡
    │ USA    ┆ IND         ┆ 10657.5 ┆ 11714.6 ┆ 15808.0 │
    │ USA    ┆ MEX         ┆ 28125.9 ┆ 30019.2 ┆ 52595.3 │
    └────────┴─────────────┴─────────┴─────────┴─────────┘
    >>> v.filter(destination="MEX")["pct_change_2017_2021"].round(1).item()
    75.2
    """
    one = str | Path | OfficialTable | pl.DataFrame | pl.LazyFrame
    if isinstance(paths_or_tables, one):
        items: list[object] = [paths_or_tables]
    elif isinstance(paths_or_tables, Iterable) and not isinstance(paths_or_tables, bytes):
        items = list(paths_or_tables)
    else:
        items = [paths_or_tables]  # refused below, named
    if not items:
        msg = "matrix_vintages needs at least one matrix (a path or an OfficialTable), got none"
        raise ParameterError(msg)
    if not isinstance(keep_zeros, bool):
        msg = f"matrix_vintages: keep_zeros must be True or False, got {keep_zeros!r}"
        raise ParameterError(msg)
    tables = [_vintage_table(item, i) for i, item in enumerate(items, start=1)]
    long, years, _ = _vintage_long(tables)
    if origin is not None:
        long = long.filter(pl.col("origin").is_in(_country_codes(origin, "origin")))
    if destination is not None:
        long = long.filter(pl.col("destination").is_in(_country_codes(destination, "destination")))
    wide = long.pivot(on="year", index=["origin", "destination"], values="value")
    wide = wide.with_columns(
        pl.lit(None, pl.Float64).alias(y) for y in years if y not in wide.columns
    )
    if not keep_zeros:
        wide = wide.filter(pl.any_horizontal(pl.col(y).fill_null(0.0) != 0.0 for y in years))
    pairs = list(itertools.pairwise(years))
    if len(years) > 2:
        pairs.append((years[0], years[-1]))
    changes = [
        expr
        for a, b in pairs
        for expr in (
            (pl.col(b) - pl.col(a)).alias(f"change_{a}_{b}"),
            pl.when(pl.col(a) != 0)
            .then((pl.col(b) - pl.col(a)) / pl.col(a) * 100.0)
            .alias(f"pct_change_{a}_{b}"),
        )
    ]
    return wide.select(
        pl.col("origin", "destination").cast(fs.COUNTRY_ENUM), *years, *changes
    ).sort("origin", "destination")


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
