"""Writing results: CSV, TSV, Excel or Parquet, with disclosure control and formula escaping, and
writes that destroy nothing (no overwrite without ``overwrite=True``, every write atomic).

The top of the pipeline (DESIGN.md): :func:`write_frame` applies
:func:`flowlens.privacy.suppress_small_cells` to a panel that carries
sender-level statistics and escapes text a spreadsheet would run as a formula.
Reading lives in :mod:`flowlens.io`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._atomic import check_target, write_atomic
from flowlens._frames import from_any
from flowlens.errors import (
    DisclosureWarning,
    InputFormatError,
    MissingColumnError,
    OutputError,
    OutputExistsError,
    ParameterError,
    SchemaError,
    SuppressionNotice,
)
from flowlens.privacy import SuppressedPanel, suppress_small_cells

__all__ = [
    "FORMULA_PREFIXES",
    "OutputError",
    "OutputExistsError",
    "check_output",
    "escape_formulas",
    "frame_writer",
    "write_frame",
]

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


def check_output(path: str | Path, *, overwrite: bool = False) -> Path:
    """Check before any work that :func:`write_frame` can write ``path``; return it as a Path.

    Refused: a suffix write_frame does not write (:class:`~flowlens.errors.ParameterError`),
    a missing folder (:class:`OutputError`, naming the folder), an existing file
    unless ``overwrite`` (:class:`OutputExistsError`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flowlens.export import check_output
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output(folder / "panel.csv").name
    'panel.csv'
    >>> check_output(folder / "panel.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: cannot write '.../panel.json': use a .csv, .tsv, .txt, .xlsx, .parquet or .pq suffix
    """
    path = Path(path)
    if path.suffix.lower() not in _PARQUET_SUFFIXES | _CSV_SUFFIXES | _EXCEL_SUFFIXES:
        msg = f"cannot write {str(path)!r}: use a .csv, .tsv, .txt, .xlsx, .parquet or .pq suffix"
        raise ParameterError(msg)
    return check_target(path, overwrite=overwrite)


def write_frame(
    frame: Any, path: str | Path, *, unsafe: bool = False, overwrite: bool = False
) -> Path:
    """Write ``frame`` as CSV, TSV, Excel (.xlsx) or Parquet, chosen by the suffix of ``path``.

    Protections that apply by default:

    - Disclosure control decided from the data, never from a column's name: a
      frame that carries sender-level statistics (``n_senders``, the
      ``top_senders`` amounts) is written through
      :func:`flowlens.privacy.suppress_small_cells` with its defaults, so the file
      holds the publishable panel, never the sender-level columns; a ``suppressed``
      column in the frame does not exempt it. A panel with ``n_senders`` but
      without the ``top_senders`` amounts is refused (the dominance rule needs
      them). To write a panel you suppressed yourself (other thresholds), pass the
      :class:`~flowlens.privacy.SuppressedPanel` itself: its ``.panel`` is written
      as it is.
    - No overwrite without consent: an existing ``path`` is refused with
      :class:`OutputExistsError` (a :class:`~flowlens.errors.FlowlensError` and a
      :class:`FileExistsError`) unless ``overwrite=True``; a missing folder is an
      :class:`OutputError` naming it.
    - Atomic: the file is written to a temporary file in the same folder, flushed
      to disk, then renamed onto ``path``. A failure (or a killed process) leaves
      the old file, or none, never half a file.
    - CSV, TSV and Excel text that a spreadsheet would run as a formula is escaped
      (:func:`escape_formulas`). Parquet keeps values as they are.

    Parameters
    ----------
    frame
        What to write: a polars DataFrame or LazyFrame (collected here), a pandas
        DataFrame, a pyarrow Table, an Arrow PyCapsule object, or a
        :class:`~flowlens.privacy.SuppressedPanel` (its ``.panel``).
    path
        Destination; ``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.parquet`` or ``.pq``.
        Excel needs the ``xlsxwriter`` package (``pip install flowlens[excel]``).
    unsafe
        Write sender-level statistics as they are, without suppression, with a
        :class:`~flowlens.errors.DisclosureWarning`. For files that stay with the
        data holder, never for publication.
    overwrite
        Replace an existing file at ``path`` (atomically). Default False: refuse.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ParameterError
        An unknown suffix (checked before any work).
    OutputError, OutputExistsError
        A missing folder; an existing file without ``overwrite=True``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import polars as pl
    >>> from flowlens.export import write_frame
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
    >>> write_frame(pl.DataFrame({"a": [1]}), out).suffix
    '.parquet'
    >>> write_frame(pl.DataFrame({"a": [2]}), out)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowlens.errors.OutputExistsError: '...x.parquet' exists already; ...
    >>> pl.read_parquet(write_frame(pl.DataFrame({"a": [2]}), out, overwrite=True)).item()
    2
    """
    path = check_output(path, overwrite=overwrite)
    if isinstance(frame, SuppressedPanel):
        table = frame.panel
    else:
        table = _disclosure_controlled(from_any(frame, what="write_frame").eager(), unsafe=unsafe)
    return write_atomic(path, frame_writer(table, path.suffix), overwrite=overwrite)


def frame_writer(table: pl.DataFrame, suffix: str) -> Callable[[str], None]:
    """The function that writes ``table`` in the format of ``suffix`` to the path it is given.

    No disclosure control here (:func:`write_frame` applies it); CSV, TSV and Excel
    text is escaped (:func:`escape_formulas`). For :func:`flowlens._atomic.write_unit`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import polars as pl
    >>> from flowlens.export import frame_writer
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> frame_writer(pl.DataFrame({"a": ["=1"]}), ".csv")(str(out))
    >>> out.read_text().splitlines()
    ['a', "'=1"]
    """
    suffix = suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return table.write_parquet
    if suffix in _CSV_SUFFIXES:
        separator = "\t" if suffix == ".tsv" else ","
        return lambda target: escape_formulas(table).write_csv(target, separator=separator)
    if suffix not in _EXCEL_SUFFIXES:
        msg = f"cannot write a {suffix!r} file: use .csv, .tsv, .txt, .xlsx, .parquet or .pq"
        raise ParameterError(msg)
    try:
        import xlsxwriter  # noqa: F401 (polars writes Excel through it)
    except ImportError as exc:
        msg = (
            "writing .xlsx needs the xlsxwriter package: pip install "
            "'flowlens[excel]', or write .csv or .parquet instead"
        )
        raise InputFormatError(msg) from exc

    def excel(target: str) -> None:
        buffer = io.BytesIO()  # xlsxwriter insists on a name ending in .xlsx
        escape_formulas(table).write_excel(buffer, autofit=True)
        Path(target).write_bytes(buffer.getvalue())

    return excel


def _disclosure_controlled(frame: pl.DataFrame, *, unsafe: bool) -> pl.DataFrame:
    # decided by the data: a column named "suppressed" exempts nothing, and sender-level
    # columns are recognised whatever their case (load_flows matches names ignoring case too)
    canonical = {c.lower(): c for c in _SENDER_LEVEL}
    renamed = {c: canonical[c.lower()] for c in frame.columns if c.lower() in canonical}
    sender_level = list(renamed.values())
    if not sender_level:
        return frame
    if len(set(sender_level)) != len(sender_level):
        msg = f"the frame repeats sender-level columns {sorted(renamed)} in different cases"
        raise SchemaError(msg)
    frame = frame.rename({k: v for k, v in renamed.items() if k != v})
    if unsafe:
        warnings.warn(
            f"writing sender-level statistics {sender_level} without small-cell suppression "
            "(unsafe=True): keep this file with the data holder, do not publish it",
            DisclosureWarning,
            stacklevel=3,
        )
        return frame
    try:
        safe = suppress_small_cells(frame.drop(fs.SUPPRESSED, strict=False))
    except MissingColumnError as exc:
        msg = (
            f"{exc} The frame carries sender-level statistics, so it is written through "
            "small-cell suppression: suppress it yourself with safe = suppress_small_cells(...) "
            "and pass safe itself (not safe.panel) to write_frame, or pass unsafe=True for a "
            "file that will not be published."
        )
        raise MissingColumnError(msg, column=exc.column, present=exc.present) from exc
    warnings.warn(
        f"write_frame: {safe.headline} of fl.suppress_small_cells(frame) (the defaults); "
        "unsafe=True writes the values, for a file that stays with the data holder",
        SuppressionNotice,
        stacklevel=3,
    )
    return safe.panel
