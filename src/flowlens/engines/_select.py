"""Which engine holds a DataFrame, and its :class:`~flowlens.engines.Backend`."""

from __future__ import annotations

from typing import Any, Literal

from flowlens.engines._protocol import Backend
from flowlens.errors import ParameterError

Engine = Literal["spark", "dask"]


def engine_of(source: Any) -> Engine | None:
    """``"spark"`` for a PySpark DataFrame, ``"dask"`` for a Dask DataFrame, else None.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.engines import engine_of
    >>> engine_of(pl.DataFrame()) is None
    True
    """
    module = type(source).__module__
    name = type(source).__name__
    if module.startswith("pyspark.") and name == "DataFrame":
        return "spark"
    if module.startswith("dask.") and name == "DataFrame":
        return "dask"
    return None


def backend_for(engine: str) -> Backend:
    """The :class:`~flowlens.engines.Backend` of ``engine`` (``"spark"`` or ``"dask"``).

    The engine's module is imported here, on first use (PySpark and Dask are
    optional dependencies).

    Raises
    ------
    ParameterError
        For any other name.

    Examples
    --------
    >>> from flowlens.engines import backend_for
    >>> backend_for("dask").__name__
    'flowlens.engines._dask'
    """
    if engine == "spark":
        import flowlens.engines._spark

        return flowlens.engines._spark
    if engine == "dask":
        import flowlens.engines._dask

        return flowlens.engines._dask
    msg = f"engine {engine!r} is not supported; use 'spark' or 'dask'"
    raise ParameterError(msg)
