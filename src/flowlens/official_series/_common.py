"""What the readers of :mod:`flowlens.official_series` share: errors that name the input,
and reading a file or a frame into polars."""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import polars as pl

from flowlens._frames import from_any
from flowlens.errors import (
    FlowlensError,
    InputFormatError,
    MissingColumnError,
    ParameterError,
    closest,
)
from flowlens.io import sniff_csv
from flowlens.official import _FILE_FAULTS, _found, _reader

_P = ParamSpec("_P")
_T = TypeVar("_T")
_EXAMPLES_SHOWN = 5

# ---------------------------------------------------------------- errors


def _where(data: object) -> str:
    if isinstance(data, (str, Path)):
        return repr(str(data))
    return f"the {type(data).__name__} passed"


def _describe(data: object) -> str:
    if isinstance(data, (str, Path)):
        return _found(Path(data))
    columns = getattr(data, "columns", None)
    try:
        shown = [str(c) for c in columns][:12] if columns is not None else []
    except TypeError:
        shown = []
    return f"a table with columns {shown}" if shown else f"a {type(data).__name__}"


def _guard(expected: str) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]:
    """Any fault while reading the table (a path or a frame) becomes an InputFormatError
    naming the input, what was expected and what was found; so does a column missing
    from a file (from a frame it stays a MissingColumnError)."""

    def decorate(read: Callable[_P, _T]) -> Callable[_P, _T]:
        @functools.wraps(read)
        def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            data = args[0] if args else next(iter(kwargs.values()), None)
            try:
                return read(*args, **kwargs)
            except MissingColumnError as exc:
                if isinstance(data, (str, Path)):  # a file without the column: another file
                    raise InputFormatError(str(exc)) from exc
                raise
            except FlowlensError:
                raise
            except _FILE_FAULTS as exc:
                detail = str(exc).strip().split("\n", 1)[0][:200]
                msg = (
                    f"cannot read {_where(data)}: expected {expected}; found {_describe(data)} "
                    f"({type(exc).__name__}: {detail})"
                )
                raise InputFormatError(msg) from exc

        return guarded

    return decorate


def _shown(values: Sequence[object]) -> str:
    head = ", ".join(repr(v) for v in values[:_EXAMPLES_SHOWN])
    more = f" and {len(values) - _EXAMPLES_SHOWN} more" if len(values) > _EXAMPLES_SHOWN else ""
    return f"{head}{more}"


# ---------------------------------------------------------------- reading the table

_SERIES_FILE = (
    "a table with a header row: a date column (or a year and a month column) and a value "
    "column (CSV, or an .xlsx/.xls workbook)"
)
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


@_reader(_SERIES_FILE)
def _read_file(path: Path, sheet: str | int | None, skip_rows: int) -> pl.DataFrame:
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    if path.is_dir():
        msg = f"{str(path)!r} is a directory, not a table"
        raise InputFormatError(msg)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_EXCEL_MAGIC):
        options = {"header_row": skip_rows} if skip_rows else None
        try:
            if isinstance(sheet, str):
                frame = pl.read_excel(
                    path, sheet_name=sheet, infer_schema_length=None, read_options=options
                )
            else:
                frame = pl.read_excel(
                    path, sheet_id=sheet or 1, infer_schema_length=None, read_options=options
                )
        except Exception as exc:  # the Excel engine raises its own types; name the file
            raise InputFormatError(_workbook_fault(path, sheet, exc)) from exc
        return frame
    if sheet is not None:
        msg = f"sheet={sheet!r} was given but {str(path)!r} is not a workbook ({_found(path)})"
        raise InputFormatError(msg)
    if skip_rows:
        separator, eol = _header_after(path, skip_rows)
        return pl.read_csv(
            path, separator=separator, infer_schema=False, skip_rows=skip_rows, eol_char=eol
        )
    found = sniff_csv(path)
    return pl.read_csv(
        path, separator=found.separator, infer_schema=False, skip_rows=skip_rows, eol_char=found.eol
    )


def _sheet_names(path: Path) -> list[str] | None:
    """The workbook's sheets, or None when the workbook cannot be opened."""
    try:
        import fastexcel

        return list(fastexcel.read_excel(path).sheet_names)
    except Exception:  # a workbook that cannot be opened has no sheets to list
        return None


def _workbook_fault(path: Path, sheet: str | int | None, exc: Exception) -> str:
    """What went wrong reading a workbook: a sheet that is not there (with the sheets it
    has, and the closest name), else the Excel engine's first line."""
    names = _sheet_names(path)
    if names is None:
        detail = str(exc).strip().split("\n", 1)[0][:200]
        return f"cannot read {str(path)!r} as an Excel workbook (sheet {sheet!r}): {detail}"
    missing = (isinstance(sheet, str) and sheet not in names) or (
        isinstance(sheet, int) and not 1 <= sheet <= len(names)
    )
    if missing:
        match = closest(sheet, names) if isinstance(sheet, str) else None
        hint = f" Did you mean {match!r}?" if match else ""
        how = "a sheet's name, or its position (1 = first)"
        return (
            f"{str(path)!r} has no sheet {sheet!r}: expected {how}; the workbook's sheets are "
            f"{names}.{hint} Pass sheet={names[0]!r} (or leave sheet out for the first)"
        )
    detail = str(exc).strip().split("\n", 1)[0][:200]
    return f"cannot read sheet {sheet!r} of {str(path)!r} as a table: {detail}"


def _header_after(path: Path, skip_rows: int) -> tuple[str, str]:
    """The separator and line end of a CSV whose header follows ``skip_rows`` title lines
    (:func:`flowlens.io.sniff_csv` reads the first line as the header)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        msg = f"{str(path)!r} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        raise InputFormatError(msg) from exc
    eol = "\r" if "\r" in text and "\n" not in text else "\n"
    lines = text.lstrip("\ufeff").split(eol)
    if len(lines) <= skip_rows or not lines[skip_rows].strip():
        msg = f"{str(path)!r}: no header row after skip_rows={skip_rows} lines"
        raise InputFormatError(msg)
    header = lines[skip_rows]
    separator = max((",", ";", "\t", "|"), key=header.count)
    return (separator if header.count(separator) else ","), eol


def _table(data: Any, sheet: str | int | None, skip_rows: int) -> pl.DataFrame:
    if isinstance(data, (str, Path)):
        return _read_file(Path(data), sheet, skip_rows)
    if sheet is not None or skip_rows:
        msg = "sheet= and skip_rows= apply to files; a table was passed"
        raise ParameterError(msg)
    return from_any(data, what="read_series' table").eager()


def _column(frame: pl.DataFrame, name: str, role: str, where: str) -> None:
    if name not in frame.columns:
        match = closest(name, frame.columns)
        hint = f" Did you mean {match!r}?" if match else ""
        shown = frame.columns[:12]
        msg = (
            f"{where}: {role} column {name!r} is missing; expected it among the columns, "
            f"found {shown}.{hint}"
        )
        raise MissingColumnError(msg, column=name, present=frame.columns)
