"""Validation and the corridor panel on a distributed engine (Spark, Dask); the rest stays local.

:func:`flowlens.load_flows` and :func:`flowlens.corridor_panel` hand a PySpark or
Dask DataFrame here. The engine runs flowlens' polars code on each partition
through Arrow. Validation gives an :class:`~flowlens.EngineValidationReport`
whose clean rows and rejects stay on the engine (the rejects written by the
engine's own writer); the panel's partial aggregates are merged with the
engine's group-by, and the small merged tables come back as one polars panel
with the schema and values of the local path.
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
