"""Readers: turn any supported source into a polars LazyFrame, and write results.

Accepted sources: a CSV or Parquet path, a glob of Parquet files, a directory of
Parquet files, a polars DataFrame or LazyFrame, a pyarrow Table or RecordBatch,
or a pandas DataFrame. CSV files are read with every column as text, so that a
bad value is reported exactly as it was written rather than lost to type
inference.
"""

from __future__ import annotations

import glob
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens.errors import DisclosureWarning, InputFormatError, MissingColumnError

__all__ = ["FORMULA_PREFIXES", "FlowSource", "as_lazy", "escape_formulas", "write_frame"]

_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx"}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these is read as a formula by spreadsheet programs (CSV
injection, OWASP); :func:`escape_formulas` prefixes such text with an apostrophe."""

_SENDER_LEVEL = ("n_senders", "sender_top1_usd", "sender_top2_usd", "sender_top3_usd")

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
    if module == "pyarrow":
        frame = pl.from_arrow(source)
        if isinstance(frame, pl.Series):
            frame = frame.to_frame()
        return LazySource(frame.lazy(), eager=True, description=f"pyarrow {type(source).__name__}")
    if module == "pandas" and type(source).__name__ == "DataFrame":
        return LazySource(pl.from_pandas(source).lazy(), eager=True, description="pandas DataFrame")
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
        if path.stat().st_size == 0:
            msg = f"file {text!r} is empty (0 bytes); a CSV needs at least a header row"
            raise InputFormatError(msg)
        separator = "\t" if suffix == ".tsv" else ","
        frame = pl.scan_csv(path, infer_schema=False, separator=separator)
        return LazySource(frame, eager=False, description=f"CSV file {text}")
    msg = (
        f"cannot tell the format of {text!r} from its suffix {suffix!r}; "
        "use .csv, .tsv, .parquet or a directory of Parquet files"
    )
    raise InputFormatError(msg)


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
