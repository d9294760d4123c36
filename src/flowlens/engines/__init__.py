"""The corridor panel on a distributed engine (Spark, Dask); everything after it stays local.

:func:`flowlens.corridor_panel` hands a PySpark or Dask DataFrame here. The engine
runs flowlens' polars code on each partition through Arrow, merges the partial
aggregates with its own group-by, and the small merged tables come back as one
polars panel with the schema and values of the local path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["engine_of"]


def engine_of(source: Any) -> str | None:
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
