"""Readers: turn any supported source into a polars LazyFrame, and write results.

Accepted sources: a CSV or Parquet path, a glob of Parquet files, a directory of
Parquet files, a polars DataFrame or LazyFrame, a pyarrow Table or RecordBatch,
or a pandas DataFrame. CSV files are read with every column as text, so that a
bad value is reported exactly as it was written rather than lost to type
inference.
"""

from __future__ import annotations

import codecs
import csv
import glob
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens.errors import DisclosureWarning, InputFormatError, MissingColumnError
from flowlens.panel import TOP_SENDER_COLUMNS

__all__ = [
    "FORMULA_PREFIXES",
    "FlowSource",
    "as_lazy",
    "escape_formulas",
    "read_error",
    "sniff_csv",
    "write_frame",
]

_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx"}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these is read as a formula by spreadsheet programs (CSV
injection, OWASP); :func:`escape_formulas` prefixes such text with an apostrophe."""

_SENDER_LEVEL = ("n_senders", *TOP_SENDER_COLUMNS)

FlowSource = Any
"""Anything :func:`as_lazy` accepts (a path, a polars/pyarrow/pandas frame)."""


@dataclass(frozen=True)
class LazySource:
    """A source as a LazyFrame, and whether it arrived eager (in memory) or lazy."""

    frame: pl.LazyFrame
    eager: bool
    description: str


def as_lazy(source: FlowSource) -> LazySource:
    """Wrap ``source`` as a LazyFrame without reading it.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.io import as_lazy
    >>> src = as_lazy(pl.DataFrame({"a": [1, 2]}))
    >>> src.eager, src.frame.collect().height
    (True, 2)
    """
    if isinstance(source, pl.LazyFrame):
        return LazySource(source, eager=False, description="polars LazyFrame")
    if isinstance(source, pl.DataFrame):
        return LazySource(source.lazy(), eager=True, description="polars DataFrame")
    if isinstance(source, str | Path):
        return _scan_path(Path(source))
    module = type(source).__module__.split(".")[0]
    try:
        if module == "pyarrow":
            frame = pl.from_arrow(source)
            if isinstance(frame, pl.Series):
                frame = frame.to_frame()
            description = f"pyarrow {type(source).__name__}"
            return LazySource(frame.lazy(), eager=True, description=description)
        if module == "pandas" and type(source).__name__ == "DataFrame":
            frame = pl.from_pandas(source)
            return LazySource(frame.lazy(), eager=True, description="pandas DataFrame")
    except Exception as exc:  # Arrow's and pandas' own errors: one kind for the caller
        msg = (
            f"cannot convert the {module} table to polars: {type(exc).__name__}: {exc}. "
            "A column probably mixes types (numbers and text in one object column): "
            "cast it to one type, e.g. df[col].astype(str)"
        )
        raise InputFormatError(msg) from exc
    msg = (
        f"cannot read a source of type {type(source).__name__!r}; pass a CSV or Parquet path, "
        "a directory or glob of Parquet files, a polars DataFrame or LazyFrame, "
        "a pyarrow Table, or a pandas DataFrame"
    )
    raise InputFormatError(msg)


def _scan_path(path: Path) -> LazySource:
    text = str(path)
    if any(ch in text for ch in "*?["):
        if not glob.glob(text, recursive=True):  # noqa: PTH207 (absolute patterns)
            msg = f"no file matches the pattern {text!r}; check the path and the working directory"
            raise InputFormatError(msg)
        return LazySource(pl.scan_parquet(text), eager=False, description=f"Parquet files {text}")
    if not path.exists():
        msg = f"no such file or directory: {text!r}; check the path and the working directory"
        raise InputFormatError(msg)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _PARQUET_SUFFIXES)
        if not files:
            msg = (
                f"directory {text!r} holds no .parquet files; point to a file or a Parquet dataset"
            )
            raise InputFormatError(msg)
        return LazySource(
            pl.scan_parquet(files), eager=False, description=f"Parquet dataset {text}"
        )
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return LazySource(pl.scan_parquet(path), eager=False, description=f"Parquet file {text}")
    if suffix in _CSV_SUFFIXES:
        separator = sniff_csv(path, default="\t" if suffix == ".tsv" else ",")
        frame = pl.scan_csv(path, infer_schema=False, separator=separator)
        return LazySource(frame, eager=False, description=f"CSV file {text}")
    if suffix in {".xlsx", ".xls", ".xlsm", ".ods"}:
        msg = (
            f"{text!r} is a spreadsheet workbook; save the sheet as CSV (UTF-8), or read it "
            "with polars.read_excel and pass the DataFrame"
        )
        raise InputFormatError(msg)
    msg = (
        f"cannot tell the format of {text!r} from its suffix {suffix!r}; "
        "use .csv, .tsv, .parquet or a directory of Parquet files"
    )
    raise InputFormatError(msg)


_SNIFF_BYTES = 1 << 16
_SEPARATORS = (",", ";", "\t", "|")


def sniff_csv(path: Path, *, default: str = ",") -> str:
    r"""Check the head of a CSV file before it is scanned, and return its separator.

    Refused, each with an :class:`~flowlens.errors.InputFormatError` that says how to
    fix it: an empty file; UTF-16 or UTF-32 text; a ZIP archive or Excel workbook
    renamed .csv; bytes that are not UTF-8 (latin-1, Windows-1252) in the first
    64 KiB; no header row; repeated column names. The separator is ``default``
    unless the header has none of it but has ``;``, a tab or ``|`` (spreadsheets
    in many European locales write ``;``). A UTF-8 byte-order mark is fine, and a
    gzip-compressed CSV is read as such.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from flowlens.io import sniff_csv
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "eu.csv"
    >>> _ = path.write_text("date;origin;destination\n2024-01-02;DEU;TUR\n")
    >>> sniff_csv(path)
    ';'
    """
    text = str(path)
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        whole = len(head) < _SNIFF_BYTES
    if not head:
        msg = f"file {text!r} is empty (0 bytes); a CSV needs at least a header row"
        raise InputFormatError(msg)
    if head.startswith(b"PK\x03\x04"):
        msg = (
            f"file {text!r} is a ZIP archive (an Excel workbook renamed .csv?); save the "
            "sheet as CSV (UTF-8), or unzip it"
        )
        raise InputFormatError(msg)
    if head.startswith(b"\x1f\x8b"):  # gzip: polars decompresses it
        return default
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:200].count(0) > len(head[:200]) // 4:
        msg = (
            f"file {text!r} is UTF-16 (or UTF-32) text; save it as UTF-8 (in a spreadsheet: "
            "'CSV UTF-8'), or convert it: iconv -f UTF-16 -t UTF-8 in.csv > out.csv"
        )
        raise InputFormatError(msg)
    decoded = _decoded_head(head, whole=whole, path=text)
    header = decoded.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not header.strip():
        msg = (
            f"file {text!r} starts with an empty line; the first line must be the header "
            "(date,origin,destination,...)"
        )
        raise InputFormatError(msg)
    separator = default
    if default not in header:
        separator = next((s for s in _SEPARATORS if s in header), default)
    try:
        names = next(csv.reader([header], delimiter=separator))
    except csv.Error:  # a stray carriage return or NUL: the scan will judge the file
        names = header.split(separator)
    seen: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key in seen:
            msg = (
                f"file {text!r} repeats the column name {name.strip()!r} (as {seen[key]!r} "
                f"and {name!r}); rename one: flowlens would not know which to read"
            )
            raise InputFormatError(msg)
        seen[key] = name
    return separator


def _decoded_head(head: bytes, *, whole: bool, path: str) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(head, final=whole)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        msg = (
            f"file {path!r} is not UTF-8 text: byte {head[exc.start]:#04x} on line {line}. "
            "It is probably latin-1 or Windows-1252; save it as UTF-8 (in a spreadsheet: "
            "'CSV UTF-8'), or convert it: iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv"
        )
        raise InputFormatError(msg) from exc


def read_error(exc: Exception, source: str) -> InputFormatError:
    """Translate a polars error raised while reading ``source`` into an InputFormatError.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.io import read_error
    >>> err = read_error(pl.exceptions.ComputeError("invalid utf-8 sequence"), "CSV file x.csv")
    >>> "not UTF-8" in str(err)
    True
    """
    text = str(exc).split("\n", 1)[0]
    if "utf-8" in text.lower() or "utf8" in text.lower():
        fix = (
            "it is not UTF-8 text (latin-1 or Windows-1252?) past its first 64 KiB; save it as "
            "UTF-8, or convert it: iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv"
        )
    elif "more fields" in text:
        fix = (
            "a row has more fields than the header; quote values that contain the "
            "separator, or fix the row"
        )
    elif "malformed" in text.lower() or "quote" in text.lower():
        fix = "the CSV is malformed, most often by an unclosed quote; close it, or fix the row"
    elif isinstance(exc, pl.exceptions.NoDataError):
        fix = "it holds no header row"
    else:
        fix = "the file is damaged or not in the format its name says"
    return InputFormatError(f"cannot read {source}: {fix} ({type(exc).__name__}: {text})")


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix with ``'`` every text value that a spreadsheet would run as a formula.

    Text columns (String, Categorical, Enum) only; a value starting with one of
    :data:`FORMULA_PREFIXES` gets a leading apostrophe, which spreadsheets show as
    text. Numbers, dates and other text are unchanged. The escape is one-way: a
    value that really began with ``=`` reads back with the apostrophe.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.io import escape_formulas
    >>> escape_formulas(pl.DataFrame({"a": ["=HYPERLINK(1)", "-2", "ok"], "n": [-1, 2, 3]})).rows()
    [("'=HYPERLINK(1)", -1), ("'-2", 2), ('ok', 3)]
    """
    pattern = "^[" + "".join(FORMULA_PREFIXES).replace("-", "\\-") + "]"
    escaped = [
        pl.when(pl.col(name).cast(pl.String).str.contains(pattern))
        .then(pl.lit("'") + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
    ]
    return frame.with_columns(escaped) if escaped else frame


def write_frame(frame: pl.DataFrame, path: str | Path, *, unsafe: bool = False) -> Path:
    """Write ``frame`` as CSV, TSV, Excel (.xlsx) or Parquet, chosen by the suffix of ``path``.

    Two protections apply by default:

    - A corridor panel that carries sender-level statistics (``n_senders``, the
      ``top_senders`` amounts) is written through
      :func:`flowlens.privacy.suppress_small_cells` with its defaults: the file
      holds the publishable panel, never the sender-level columns. A panel with
      ``n_senders`` but without the ``top_senders`` amounts is refused (the
      dominance rule needs them).
    - CSV, TSV and Excel text that a spreadsheet would run as a formula is escaped
      (:func:`escape_formulas`). Parquet keeps values as they are.

    Parameters
    ----------
    frame
        What to write.
    path
        Destination; ``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.parquet`` or ``.pq``.
        Excel needs the ``xlsxwriter`` package (``pip install flowlens[excel]``).
    unsafe
        Write sender-level statistics as they are, without suppression, with a
        :class:`~flowlens.errors.DisclosureWarning`. For files that stay with the
        data holder, never for publication.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import polars as pl
    >>> from flowlens.io import write_frame
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
    >>> write_frame(pl.DataFrame({"a": [1]}), out).suffix
    '.parquet'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _PARQUET_SUFFIXES | _CSV_SUFFIXES | _EXCEL_SUFFIXES:
        msg = f"cannot write {str(path)!r}: use a .csv, .tsv, .xlsx or .parquet suffix"
        raise InputFormatError(msg)
    frame = _disclosure_controlled(frame, unsafe=unsafe)
    if suffix in _PARQUET_SUFFIXES:
        frame.write_parquet(path)
    elif suffix in _CSV_SUFFIXES:
        escape_formulas(frame).write_csv(path, separator="\t" if suffix == ".tsv" else ",")
    else:
        try:
            import xlsxwriter  # noqa: F401 (polars writes Excel through it)
        except ImportError as exc:
            msg = (
                f"writing {str(path)!r} needs the xlsxwriter package: pip install "
                "'flowlens[excel]', or write .csv or .parquet instead"
            )
            raise InputFormatError(msg) from exc
        escape_formulas(frame).write_excel(path, autofit=True)
    return path


def _disclosure_controlled(frame: pl.DataFrame, *, unsafe: bool) -> pl.DataFrame:
    sender_level = [c for c in _SENDER_LEVEL if c in frame.columns]
    if not sender_level or "suppressed" in frame.columns:
        return frame
    if unsafe:
        warnings.warn(
            f"writing sender-level statistics {sender_level} without small-cell suppression "
            "(unsafe=True): keep this file with the data holder, do not publish it",
            DisclosureWarning,
            stacklevel=3,
        )
        return frame
    from flowlens.privacy import suppress_small_cells

    try:
        return suppress_small_cells(frame).panel
    except MissingColumnError as exc:
        msg = (
            f"{exc} The frame carries sender-level statistics, so it is written through "
            "small-cell suppression: suppress it yourself with suppress_small_cells(...) and "
            "write its .panel, or pass unsafe=True for a file that will not be published."
        )
        raise MissingColumnError(msg, column=exc.column, present=exc.present) from exc
