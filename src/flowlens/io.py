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
import gzip
import os
import tempfile
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens._frames import from_any
from flowlens.errors import InputFormatError

__all__ = [
    "MAX_COLUMNS",
    "MAX_HEADER_BYTES",
    "CsvFormat",
    "FlowSource",
    "LazySource",
    "as_lazy",
    "read_error",
    "read_table_csv",
    "sniff_csv",
    "spill_text",
]

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
    text_file: Path | None = None  # a CSV: parsed in full by every scan (see :func:`spill_text`)


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
        _check_unique_names(source)
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


def _check_unique_names(source: object) -> None:
    """A pandas or pyarrow table may repeat a column name; polars (and flowlens) cannot."""
    module = type(source).__module__.split(".")[0]
    if module == "pandas":
        names = [str(c) for c in source.columns]  # type: ignore[attr-defined]
    elif module == "pyarrow" and hasattr(source, "schema"):
        names = list(source.schema.names)
    else:
        return
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        msg = (
            f"the {module} table repeats the column name {repeated!r}; rename one: "
            "flowlens would not know which to read"
        )
        raise InputFormatError(msg)


def _is_table(source: object) -> bool:
    module = type(source).__module__.split(".")[0]
    name = type(source).__name__
    return (
        isinstance(source, pl.DataFrame | pl.LazyFrame)
        or (module == "pandas" and name == "DataFrame")
        or (module == "pyarrow" and name in ("Table", "RecordBatch"))
        or hasattr(source, "__arrow_c_stream__")
    )


def _skipped(path: Path, root: Path) -> bool:
    """Whether a file or folder below ``root`` starts with ``_`` or ``.`` (not part of the data)."""
    return any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


def _dataset_files(folder: Path) -> list[Path]:
    """The Parquet files of a dataset folder, skipping every file or folder whose name starts
    with ``_`` or ``.`` below it (as Hive, Spark, pyarrow and Dask do: ``_truth/`` of
    flowlens.synth, ``_SUCCESS``, ``.tmp`` files of a writer in progress)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in _PARQUET_SUFFIXES and p.is_file() and not _skipped(p, folder)
    )


def _glob_root(pattern: str) -> Path:
    """The folder a pattern starts from: its leading parts without ``* ? [``."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts:
        if any(ch in part for ch in _GLOB_CHARACTERS):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _same_columns(files: list[Path], what: str) -> None:
    """Refuse files of one dataset whose columns (names and types) differ, naming both files.

    Read from each file's footer (no data is read). A file that is not Parquet is named.
    """
    first: dict[str, pl.DataType] | None = None
    for path in files:
        try:
            schema = dict(pl.read_parquet_schema(path))
        except (pl.exceptions.PolarsError, OSError) as exc:
            text = str(exc).split("\n", 1)[0]
            msg = (
                f"cannot read {str(path)!r} (a file of {what}): it is not a Parquet file, or "
                f"it is damaged or still being written ({type(exc).__name__}: {text}); "
                "remove it from the dataset, or give it a name starting with _ or . to skip it"
            )
            raise InputFormatError(msg) from exc
        if first is None:
            first = schema
            continue
        if schema == first:
            continue
        missing = [c for c in first if c not in schema]
        extra = [c for c in schema if c not in first]
        retyped = [
            f"{c} ({first[c]} / {schema[c]})"
            for c in first
            if c in schema and schema[c] != first[c]
        ]
        found = "; ".join(
            f"{label} {items}"
            for label, items in (
                ("without", missing),
                ("with extra", extra),
                ("with other types:", retyped),
            )
            if items
        )
        msg = (
            f"the files of {what} do not share their columns: {str(path)!r} differs from "
            f"{str(files[0])!r} ({found}). Every file of a dataset must have the same columns; "
            "keep other tables (a generator's truth, metadata) in a folder whose name starts "
            "with _ or . (the reader skips it, as Hive and Spark do), or point to the flow "
            "files alone"
        )
        raise InputFormatError(msg)


def _scan_path(path: Path) -> LazySource:
    """A path read literally when it exists, else as a glob pattern if it has one."""
    text = str(path)
    if not path.exists():
        if any(ch in text for ch in _GLOB_CHARACTERS):
            return _scan_glob(text)
        msg = (
            f"no such file or directory: {text!r} (read literally: it has no glob "
            "characters * ? [); check the path and the working directory"
        )
        raise InputFormatError(msg)
    if path.is_dir():
        files = _dataset_files(path)
        if not files:
            msg = (
                f"directory {text!r} holds no .parquet files (outside entries whose name "
                "starts with _ or ., which are skipped); point to a file or a Parquet dataset"
            )
            raise InputFormatError(msg)
        _same_columns(files, f"the Parquet dataset {text!r}")
        return LazySource(
            pl.scan_parquet(files, glob=False), eager=False, description=f"Parquet dataset {text}"
        )
    kind = _kind_of(path)
    if kind == "parquet":
        frame = pl.scan_parquet(path, glob=False)
        return LazySource(frame, eager=False, description=f"Parquet file {text}")
    if kind == "csv":
        tab = path.name.lower().removesuffix(".gz").endswith(".tsv")
        found = sniff_csv(path, default="\t" if tab else ",")
        frame = pl.scan_csv(
            path,
            infer_schema=False,
            separator=found.separator,
            eol_char=found.eol,
            glob=False,
        )
        return LazySource(
            frame, eager=False, description=f"CSV file {text}", text_file=path.resolve()
        )
    if kind == "workbook":
        msg = (
            f"{text!r} is a spreadsheet workbook; save the sheet as CSV (UTF-8), or read it "
            "with polars.read_excel and pass the DataFrame"
        )
        raise InputFormatError(msg)
    msg = (
        f"cannot tell the format of {text!r} from its suffix {path.suffix.lower()!r}; "
        "use .csv, .tsv, .csv.gz, .parquet or a directory of Parquet files"
    )
    raise InputFormatError(msg)


_GLOB_CHARACTERS = "*?["


_SPILLS: dict[tuple[str, int, int, int, tuple[str, ...]], Path] = {}
_SPILL_LOCK = threading.Lock()
_SPILL_ROOT: list[tempfile.TemporaryDirectory[str]] = []  # removed when the interpreter exits


def spill_text(source: LazySource, codes: Sequence[str] = ()) -> pl.LazyFrame:
    r"""A CSV source parsed once, into an uncompressed Arrow IPC file read by every later plan.

    A CSV is tokenised in full by every query that scans it, whatever columns it
    reads, and validation reads a source three times (the distinct codes, the
    clean rows, the rejects). Writing the parsed text once and scanning that
    instead costs one parse and one write; each later scan reads Arrow memory
    (measured at 10M rows, 637 MB of CSV: 1.6 s per parse). Columns stay text,
    exactly as written, so reasons and rejects quote them unchanged; the ``codes``
    columns (few distinct values: countries, currencies) are stored Categorical, which
    keeps the text and reads faster (10M rows, five code columns: 0.23 s of processor
    time against 0.75 s as text, their distinct values 0.56 s against 1.28 s).

    The file takes about the CSV's size, in the system temporary directory, and is
    kept for this interpreter's life (a lazy ``clean`` may be collected at any time
    later), once per CSV file: loading the same unchanged file again reuses it. It
    is removed when the interpreter exits. Any other source comes back as it is.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from flowlens.io import as_lazy, spill_text
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "flows.csv"
    >>> _ = path.write_text("a,b\n1, x\n")
    >>> spill_text(as_lazy(path)).collect().rows()
    [('1', ' x')]
    """
    if source.text_file is None:
        return source.frame
    stat = source.text_file.stat()
    # the change time too: a copy carrying the old size and modification time over the
    # file (shutil.copy2) still changes it
    key = (str(source.text_file), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, tuple(codes))
    with _SPILL_LOCK:
        known = _SPILLS.get(key)
        if known is not None and known.exists():
            return pl.scan_ipc(known)
        if not _SPILL_ROOT:
            _SPILL_ROOT.append(tempfile.TemporaryDirectory(prefix="flowlens-csv-"))
        root = Path(_SPILL_ROOT[0].name)
    # a name of its own for every spill (threads loading files at once, a spill deleted
    # and made again): never another file's
    handle, name = tempfile.mkstemp(suffix=".arrow", dir=root)
    os.close(handle)
    target = Path(name)
    partial = target.with_suffix(".partial")
    parsed = source.frame.with_columns(pl.col(list(codes)).cast(pl.Categorical))
    try:
        parsed.sink_ipc(partial, engine="streaming", compression=None)
        partial.replace(target)
    except BaseException:
        target.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
        raise
    with _SPILL_LOCK:
        _SPILLS[key] = target
    return pl.scan_ipc(target)


def _kind_of(path: Path) -> str:
    """``parquet``, ``csv`` (also ``.csv.gz``), ``workbook`` or ``unknown``, by suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _CSV_SUFFIXES or (suffix == ".gz" and suffixes[-2:-1] in ([".csv"], [".tsv"])):
        return "csv"
    if suffix in {".xlsx", ".xls", ".xlsm", ".ods"}:
        return "workbook"
    return "unknown"


def _scan_glob(pattern: str) -> LazySource:
    """The Parquet files a pattern matches (no file has the pattern's exact name).

    As in a dataset folder, a match with a file or folder starting with ``_`` or ``.``
    below the pattern's fixed start is skipped (``flows/**/*.parquet`` leaves out
    ``flows/_truth/``), unless the pattern itself names such an entry
    (``flows/_truth/*.parquet``, ``flows/_*/*.parquet``).
    """
    root = _glob_root(pattern)
    found = sorted(
        Path(m)
        for m in glob.glob(pattern, recursive=True)  # noqa: PTH207 (absolute patterns)
        if Path(m).is_file()
    )
    named = any(part.startswith(("_", ".")) for part in Path(pattern).parts[len(root.parts) :])
    matches = found if named else [m for m in found if not _skipped(m, root)]
    if not matches:
        skipped = f" ({len(found)} skipped: their names start with _ or .)" if found else ""
        msg = (
            f"no file matches the pattern {pattern!r}{skipped} (no file has that exact name, "
            "so it was read as a glob pattern: * ? [ ]); check the path and the working directory"
        )
        raise InputFormatError(msg)
    other = next((m for m in matches if _kind_of(m) != "parquet"), None)
    if other is not None:
        msg = (
            f"the pattern {pattern!r} matches {str(other)!r}, which is not a Parquet file; "
            "a pattern reads Parquet files only (pass a CSV file by its own path)"
        )
        raise InputFormatError(msg)
    _same_columns(matches, f"the pattern {pattern!r}")
    return LazySource(
        pl.scan_parquet(matches, glob=False),
        eager=False,
        description=f"Parquet files {pattern} (a glob pattern, {len(matches)} files)",
    )


_SNIFF_BYTES = 1 << 16
_SEPARATORS = (",", ";", "\t", "|")

MAX_HEADER_BYTES = 4 << 20
"""Longest first line (the header) a CSV may have: 4 MiB, 256 bytes a name at
:data:`MAX_COLUMNS` columns. The header is read to its line end, never cut short."""

MAX_COLUMNS = 16_384
"""Most columns a source may have: Excel's limit, so no spreadsheet export passes it. A
flow table has a dozen; reading 200,000 columns took 1.5 GB before a row was checked."""


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written, as :func:`sniff_csv` found it.

    ``separator`` between fields; ``eol`` the line end (``"\n"``, which covers
    Windows' CRLF, or ``"\r"`` alone, as old Mac software writes); ``compression``
    ``"gzip"`` or None; ``columns`` the header's names as written.
    """

    separator: str
    eol: str
    compression: str | None
    columns: tuple[str, ...]


def sniff_csv(path: Path, *, default: str = ",") -> CsvFormat:
    r"""Check the header of a CSV file before it is scanned, and say how it is written.

    The same checks for a plain and a gzip-compressed file (its decompressed
    text). Refused, each with an :class:`~flowlens.errors.InputFormatError` that
    says how to fix it: an empty file; UTF-16 or UTF-32 text; a ZIP archive or
    Excel workbook renamed .csv; a zstd-compressed or damaged gzip file; bytes
    that are not UTF-8 (latin-1, Windows-1252) in the first 64 KiB or in the
    header; no header row; a header longer than :data:`MAX_HEADER_BYTES` or with
    more than :data:`MAX_COLUMNS` names; repeated column names (ignoring case and
    surrounding spaces). The header is read to its line end, however long. The
    separator is ``default`` unless the header has none of it but has ``;``, a
    tab or ``|`` (spreadsheets in many European locales write ``;``). Line ends
    may be LF, CRLF or CR alone. A UTF-8 byte-order mark is fine.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from flowlens.io import sniff_csv
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "eu.csv"
    >>> _ = path.write_text("date;origin;destination\n2024-01-02;DEU;TUR\n")
    >>> found = sniff_csv(path)
    >>> found.separator, found.eol, found.columns
    (';', '\n', ('date', 'origin', 'destination'))
    """
    text = str(path)
    head, compression, whole = _read_head(path)
    if not head:
        what = "its compressed text is empty" if compression else "is empty (0 bytes)"
        msg = f"file {text!r} {what}; a CSV needs at least a header row"
        raise InputFormatError(msg)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:200].count(0) > len(head[:200]) // 4:
        msg = (
            f"file {text!r} is UTF-16 (or UTF-32) text; save it as UTF-8 (in a spreadsheet: "
            "'CSV UTF-8'), or convert it: iconv -f UTF-16 -t UTF-8 in.csv > out.csv"
        )
        raise InputFormatError(msg)
    decoded = _decoded_head(head, whole=whole, path=text)
    header, eol = _first_line(decoded.lstrip("\ufeff"))
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
    except csv.Error:  # a stray NUL: the scan will judge the file
        names = header.split(separator)
    _check_names(names, text)
    return CsvFormat(separator, eol, compression, tuple(names))


def _first_line(text: str) -> tuple[str, str]:
    """The header line and the file's line end (``\n``, also for CRLF, or ``\r``)."""
    ends = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    if not ends:
        return text, "\n"
    end = min(ends)
    if text[end] == "\r" and text[end + 1 : end + 2] != "\n":
        return text[:end], "\r"
    return text[:end], "\n"


def _check_names(names: list[str], path: str) -> None:
    if len(names) > MAX_COLUMNS:
        msg = (
            f"file {path!r} has {len(names):,} columns, more than the {MAX_COLUMNS:,} "
            "flowlens reads (a flow table has about a dozen); is the first line the header, "
            "and the separator right?"
        )
        raise InputFormatError(msg)
    seen: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key in seen:
            msg = (
                f"file {path!r} repeats the column name {name.strip()!r} (as {seen[key]!r} "
                f"and {name!r}); rename one: flowlens would not know which to read"
            )
            raise InputFormatError(msg)
        seen[key] = name


def _read_head(path: Path) -> tuple[bytes, str | None, bool]:
    """The file's first bytes (decompressed): at least 64 KiB, and on to the end of the
    first line (plus one byte, to tell CRLF from CR) unless the file ends first.

    Returns the bytes, the compression (``"gzip"`` or None) and whether they are the
    whole file.
    """
    text = str(path)
    try:
        with path.open("rb") as raw:
            magic = raw.read(4)
    except OSError as exc:
        msg = f"cannot open {text!r}: {exc.strerror or exc}"
        raise InputFormatError(msg) from exc
    if magic.startswith(b"PK\x03\x04"):
        msg = (
            f"file {text!r} is a ZIP archive (an Excel workbook renamed .csv?); save the "
            "sheet as CSV (UTF-8), or unzip it"
        )
        raise InputFormatError(msg)
    if magic == b"\x28\xb5\x2f\xfd":
        msg = f"file {text!r} is zstd-compressed; decompress it (zstd -d), or gzip it instead"
        raise InputFormatError(msg)
    if not magic.startswith(b"\x1f\x8b"):
        with path.open("rb") as handle:
            head, whole = _head_of(handle.read, text)
        return head, None, whole
    try:
        with gzip.open(path, "rb") as handle:
            head, whole = _head_of(handle.read, text)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        msg = (
            f"file {text!r} is a damaged gzip file ({exc}); compress it again, or pass "
            "the plain CSV"
        )
        raise InputFormatError(msg) from exc
    compression = "gzip"
    return head, compression, whole


def _head_of(read: Callable[[int], bytes], path: str) -> tuple[bytes, bool]:
    head = chunk = read(_SNIFF_BYTES)
    while len(head) <= MAX_HEADER_BYTES:
        ended = len(chunk) < _SNIFF_BYTES  # a short read: the end of the file
        ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
        if ended or (ends and min(ends) < len(head) - 1):
            return head, ended
        chunk = read(_SNIFF_BYTES)
        head += chunk
    msg = (
        f"file {path!r} has no line end in its first {MAX_HEADER_BYTES >> 20} MiB: a header "
        f"that long is not a flow table (at most {MAX_COLUMNS:,} columns are read); is it "
        "a CSV file?"
    )
    raise InputFormatError(msg)


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
    elif (
        "malformed" in text.lower()
        or "quote" in text.lower()
        # the CSV parsed once into Arrow: polars names the value that swallowed the rest
        or ("could not parse" in text and '`"' in text)
    ):
        fix = "the CSV is malformed, most often by an unclosed quote; close it, or fix the row"
    elif isinstance(exc, pl.exceptions.NoDataError):
        fix = "it holds no header row"
    elif isinstance(exc, pl.exceptions.SchemaError) or "mismatch" in text.lower():
        fix = (
            "its files do not share one schema (names and types of columns); every file of "
            "a dataset must have the same columns"
        )
    else:
        fix = "the file is damaged or not in the format its name says"
    return InputFormatError(f"cannot read {source}: {fix} ({type(exc).__name__}: {text})")


def read_table_csv(path: str | Path, what: str) -> pl.DataFrame:
    """A small reference table (events, costs) read from CSV as text, or an InputFormatError
    that names the file and the fix (missing, a folder, empty, not UTF-8 text).

    Examples
    --------
    >>> from flowlens.io import read_table_csv
    >>> read_table_csv("no/such/events.csv", "the crisis events")
    Traceback (most recent call last):
    ...
    flowlens.errors.InputFormatError: the crisis events: no such file 'no/such/events.csv'
    """
    source = Path(path)
    if not source.is_file():
        kind = "a folder, not a file" if source.is_dir() else "no such file"
        msg = f"{what}: {kind} {str(path)!r}"
        raise InputFormatError(msg)
    try:
        return pl.read_csv(source, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise read_error(exc, f"{what} ({source})") from exc
