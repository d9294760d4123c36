"""Validation and the corridor panel on a distributed engine (Spark, Dask); the rest stays local.

:func:`flowlens.load_flows` and :func:`flowlens.corridor_panel` hand a PySpark or
Dask DataFrame here, through one typed interface, :class:`Backend`, which both
engines implement (:func:`backend_for`). The engine runs flowlens' polars code on
each partition through Arrow. Validation gives an :class:`EngineValidationReport`
whose clean rows and rejects stay on the engine (the rejects written by the
engine's own writer); the panel's partial aggregates are merged with the
engine's group-by, and the small merged tables come back as one polars panel
with the schema and values of the local path.
"""

from __future__ import annotations

from flowlens.engines._protocol import Backend
from flowlens.engines._select import backend_for, engine_of
from flowlens.engines._validation import EngineValidationReport

__all__ = ["Backend", "EngineValidationReport", "backend_for", "engine_of"]
