"""Readers: turn any supported source into a polars LazyFrame, and write results.

Accepted sources: a CSV or Parquet path, a glob of Parquet files, a directory of
Parquet files, a polars DataFrame or LazyFrame, a pyarrow Table or RecordBatch,
or a pandas DataFrame. CSV files are read with every column as text, so that a
bad value is reported exactly as it was written rather than lost to type
inference.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens.errors import InputFormatError

__all__ = ["FlowSource", "as_lazy", "write_frame"]

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


def write_frame(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV or Parquet, chosen by the suffix of ``path``.

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
    if suffix in _PARQUET_SUFFIXES:
        frame.write_parquet(path)
    elif suffix in _CSV_SUFFIXES:
        frame.write_csv(path, separator="\t" if suffix == ".tsv" else ",")
    else:
        msg = f"cannot write {str(path)!r}: use a .csv, .tsv or .parquet suffix"
        raise InputFormatError(msg)
    return path
