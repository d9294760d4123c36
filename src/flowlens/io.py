"""Readers: turn any supported source into a polars LazyFrame (reading only).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens._frames import from_any
from flowlens.errors import InputFormatError

__all__ = ["FlowSource", "LazySource", "as_lazy", "read_error", "sniff_csv"]

_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


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
    if isinstance(source, str | Path):
        return _scan_path(Path(source))
    if _is_table(source):
        table = from_any(source, what="source")
        description = _DESCRIPTIONS.get(table.kind, type(source).__name__)
        if table.kind == "pyarrow":
            description = f"pyarrow {type(source).__name__}"
        return LazySource(table.lazy(), eager=not table.is_lazy, description=description)
    msg = (
        f"cannot read a source of type {type(source).__name__!r}; pass a CSV or Parquet path, "
        "a directory or glob of Parquet files, a polars DataFrame or LazyFrame, "
        "a pyarrow Table, a pandas DataFrame, or an object with the Arrow PyCapsule "
        "interface (a DuckDB relation)"
    )
    raise InputFormatError(msg)


_DESCRIPTIONS = {
    "polars": "polars DataFrame",
    "lazy": "polars LazyFrame",
    "pandas": "pandas DataFrame",
    "arrow": "Arrow stream",
}


def _is_table(source: object) -> bool:
    module = type(source).__module__.split(".")[0]
    name = type(source).__name__
    return (
        isinstance(source, pl.DataFrame | pl.LazyFrame)
        or (module == "pandas" and name == "DataFrame")
        or (module == "pyarrow" and name in ("Table", "RecordBatch"))
        or hasattr(source, "__arrow_c_stream__")
    )


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
