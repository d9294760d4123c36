"""One input contract: any table in, polars inside, the same kind out.

Every public function that takes a table accepts a polars DataFrame or LazyFrame,
a pandas DataFrame, a pyarrow Table or RecordBatch, and anything that exposes the
Arrow PyCapsule stream interface (``__arrow_c_stream__``: DuckDB relations,
nanoarrow, recent pandas and pyarrow objects). :func:`from_any` turns it into
polars without reading a lazy source; :meth:`Frame.back` returns a result as the
kind that came in (lazy in, lazy out; pandas in, pandas out; an Arrow stream, which
cannot be rebuilt, comes back as a polars DataFrame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from flowlens.errors import InputFormatError

__all__ = ["Frame", "FrameKind", "from_any"]

FrameKind = Literal["polars", "lazy", "pandas", "pyarrow", "arrow"]

_ACCEPTED = (
    "a polars DataFrame or LazyFrame, a pandas DataFrame, a pyarrow Table, or an object "
    "with the Arrow PyCapsule interface (__arrow_c_stream__, e.g. a DuckDB relation)"
)


@dataclass(frozen=True)
class Frame:
    """A table as polars, and the kind it arrived as.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from flowlens._frames import from_any
    >>> table = from_any(pa.table({"a": [1, 2]}))
    >>> table.kind, type(table.back(table.eager().head(1))).__name__
    ('pyarrow', 'Table')
    """

    frame: pl.DataFrame | pl.LazyFrame
    kind: FrameKind

    @property
    def is_lazy(self) -> bool:
        """True when the input was a LazyFrame (nothing has been read)."""
        return self.kind == "lazy"

    def lazy(self) -> pl.LazyFrame:
        """The input as a LazyFrame (no collect)."""
        return self.frame.lazy()

    def eager(self) -> pl.DataFrame:
        """The input in memory (a LazyFrame is collected here, once)."""
        frame = self.frame
        return frame.collect() if isinstance(frame, pl.LazyFrame) else frame

    def back(self, result: pl.DataFrame | pl.LazyFrame) -> Any:
        """``result`` as the kind that came in."""
        if self.kind == "lazy":
            return result.lazy()
        eager = result.collect() if isinstance(result, pl.LazyFrame) else result
        if self.kind == "pandas":
            return eager.to_pandas()
        if self.kind == "pyarrow":
            return eager.to_arrow()
        return eager


def _refuse_repeated_names(source: Any, module: str, what: str) -> None:
    """A pandas or Arrow table may repeat a column name; polars may not. Say so, rather than
    let the conversion fail with a message about something else."""
    if module == "pandas":
        names = [str(c) for c in getattr(source, "columns", [])]
    elif module == "pyarrow":
        names = list(getattr(source, "column_names", []))
    else:
        return
    seen: set[str] = set()
    for name in names:
        if name in seen:
            msg = f"{what}: the {module} table repeats the column name {name!r}; rename one"
            raise InputFormatError(msg)
        seen.add(name)


def from_any(source: Any, *, what: str = "the table") -> Frame:
    """Wrap ``source`` as polars without reading a lazy one.

    Raises
    ------
    InputFormatError
        For anything that is not a table (a path, a list, None), naming what is
        accepted, and for a pandas or Arrow table polars cannot convert (a column
        that mixes numbers and text).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens._frames import from_any
    >>> from_any(pl.LazyFrame({"a": [1]})).kind
    'lazy'
    >>> from_any([1, 2], what="panel")
    Traceback (most recent call last):
    ...
    flowlens.errors.InputFormatError: panel: got a list; pass a polars DataFrame or LazyFrame, ...
    """
    if isinstance(source, pl.LazyFrame):
        return Frame(source, "lazy")
    if isinstance(source, pl.DataFrame):
        return Frame(source, "polars")
    module = type(source).__module__.split(".")[0]
    _refuse_repeated_names(source, module, what)
    try:
        if module == "pandas" and type(source).__name__ == "DataFrame":
            return Frame(pl.from_pandas(source), "pandas")
        if module == "pyarrow" and type(source).__name__ in ("Table", "RecordBatch"):
            return Frame(pl.DataFrame(pl.from_arrow(source)), "pyarrow")
        if hasattr(source, "__arrow_c_stream__"):
            return Frame(pl.DataFrame(source), "arrow")
    except Exception as exc:  # pandas', Arrow's and polars' own errors: one kind for the caller
        msg = (
            f"{what}: cannot convert the {module} table to polars: {type(exc).__name__}: "
            f"{exc}. A column probably mixes types (numbers and text in one object column): "
            "cast it to one type, e.g. df[col].astype(str)"
        )
        raise InputFormatError(msg) from exc
    msg = f"{what}: got a {type(source).__name__}; pass {_ACCEPTED}"
    raise InputFormatError(msg)
