"""Writing results: CSV, TSV, Excel or Parquet, with disclosure control and formula escaping.

The top of the pipeline (DESIGN.md): :func:`write_frame` applies
:func:`flowlens.privacy.suppress_small_cells` to a panel that carries
sender-level statistics and escapes text a spreadsheet would run as a formula.
Reading lives in :mod:`flowlens.io`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import DisclosureWarning, InputFormatError, MissingColumnError
from flowlens.privacy import suppress_small_cells

__all__ = ["FORMULA_PREFIXES", "escape_formulas", "write_frame"]

_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx"}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these is read as a formula by spreadsheet programs (CSV
injection, OWASP); :func:`escape_formulas` prefixes such text with an apostrophe."""

_SENDER_LEVEL = (fs.N_SENDERS, *fs.TOP_SENDER_COLUMNS)


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix with ``'`` every text value that a spreadsheet would run as a formula.

    Text columns (String, Categorical, Enum) only; a value starting with one of
    :data:`FORMULA_PREFIXES` gets a leading apostrophe, which spreadsheets show as
    text. Numbers, dates and other text are unchanged. The escape is one-way: a
    value that really began with ``=`` reads back with the apostrophe.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.export import escape_formulas
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


def write_frame(frame: Any, path: str | Path, *, unsafe: bool = False) -> Path:
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
        What to write: a polars DataFrame or LazyFrame (collected here), a pandas
        DataFrame, a pyarrow Table or an Arrow PyCapsule object.
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
    >>> from flowlens.export import write_frame
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
    >>> write_frame(pl.DataFrame({"a": [1]}), out).suffix
    '.parquet'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _PARQUET_SUFFIXES | _CSV_SUFFIXES | _EXCEL_SUFFIXES:
        msg = f"cannot write {str(path)!r}: use a .csv, .tsv, .xlsx or .parquet suffix"
        raise InputFormatError(msg)
    table = _disclosure_controlled(from_any(frame, what="write_frame").eager(), unsafe=unsafe)
    if suffix in _PARQUET_SUFFIXES:
        table.write_parquet(path)
    elif suffix in _CSV_SUFFIXES:
        escape_formulas(table).write_csv(path, separator="\t" if suffix == ".tsv" else ",")
    else:
        try:
            import xlsxwriter  # noqa: F401 (polars writes Excel through it)
        except ImportError as exc:
            msg = (
                f"writing {str(path)!r} needs the xlsxwriter package: pip install "
                "'flowlens[excel]', or write .csv or .parquet instead"
            )
            raise InputFormatError(msg) from exc
        escape_formulas(table).write_excel(path, autofit=True)
    return path


def _disclosure_controlled(frame: pl.DataFrame, *, unsafe: bool) -> pl.DataFrame:
    sender_level = [c for c in _SENDER_LEVEL if c in frame.columns]
    if not sender_level or fs.SUPPRESSED in frame.columns:
        return frame
    if unsafe:
        warnings.warn(
            f"writing sender-level statistics {sender_level} without small-cell suppression "
            "(unsafe=True): keep this file with the data holder, do not publish it",
            DisclosureWarning,
            stacklevel=3,
        )
        return frame
    try:
        return suppress_small_cells(frame).panel
    except MissingColumnError as exc:
        msg = (
            f"{exc} The frame carries sender-level statistics, so it is written through "
            "small-cell suppression: suppress it yourself with suppress_small_cells(...) and "
            "write its .panel, or pass unsafe=True for a file that will not be published."
        )
        raise MissingColumnError(msg, column=exc.column, present=exc.present) from exc
