"""The one interface between flowlens and a distributed engine, and what it is asked to run.

:class:`Backend` is implemented by the modules :mod:`flowlens.engines._spark` and
:mod:`flowlens.engines._dask`; :func:`flowlens.engines.backend_for` picks one.
``load_flows`` and ``corridor_panel`` call it downward; the engines never import
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from flowlens._checks import _FIRST, _ROW, ValidationPlan, normalised_id
from flowlens.engines._partial import PanelPlan

ROW, FIRST = _ROW, _FIRST
"""The helper columns an engine adds before the per-partition plan: the row's position,
and (for a repeated ``tx_id``) the first position holding it."""

TX_KEY = "__flowlens_tx_key"
"""The ``tx_id`` as the duplicate check compares it (see :func:`with_tx_key`)."""


def with_tx_key(frame: pl.DataFrame, tx_column: str) -> pl.DataFrame:
    """``frame`` with :data:`TX_KEY`: its ``tx_id`` normalised as the local path compares
    ids (no surrounding Unicode spaces, NFC; blank is null), so that an engine's
    group-by finds the same repeats.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.engines._protocol import TX_KEY, with_tx_key
    >>> with_tx_key(pl.DataFrame({"id": ["T1", "T1\u00a0", " "]}), "id")[TX_KEY].to_list()
    ['T1', 'T1', None]
    """
    return frame.with_columns(normalised_id(pl.col(tx_column).cast(pl.String)).alias(TX_KEY))


@dataclass(frozen=True)
class CheckSpec:
    """What :func:`flowlens.load_flows` was asked, for an engine to run per partition."""

    columns: Mapping[str, str] | None
    fx: pl.DataFrame | None
    max_fx_staleness_days: int
    keep: tuple[str, ...]

    def plan(self, frame: pl.DataFrame) -> ValidationPlan:
        """The validation plan over one partition carrying ``ROW`` (and ``FIRST``)."""
        return ValidationPlan.build(
            frame.lazy(),
            columns=self.columns,
            fx=self.fx,
            max_fx_staleness_days=self.max_fx_staleness_days,
            keep=self.keep,
            positions_given=True,
        )

    def clean(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One partition's clean rows; codes as text (engines have no polars Enum)."""
        plan = self.plan(frame)
        clean = plan.select_clean(plan.checked).collect()
        return clean.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))

    def rejects(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One partition's rejects, in row order."""
        plan = self.plan(frame)
        return plan.rejects_of(plan.rejected_rows(plan.checked).collect())


class Backend(Protocol):
    """A distributed engine as flowlens uses it (Spark and Dask implement it).

    Every method takes or returns the engine's own DataFrame (typed ``Any``: the
    engines are optional dependencies) or a small polars frame.

    Examples
    --------
    >>> from flowlens.engines import Backend, backend_for
    >>> dask: Backend = backend_for("dask")
    >>> callable(dask.corridor_panel) and callable(dask.validate)
    True
    """

    def corridor_panel(self, frame: Any, plan: PanelPlan) -> pl.DataFrame:
        """The corridor panel of ``frame`` (clean flows), merged on the engine."""
        ...

    def validate(self, frame: Any, spec: CheckSpec, tx_column: str | None) -> tuple[Any, Any, int]:
        """Clean rows and rejects (both lazy, on the engine) and the number of rows in."""
        ...

    def polars_schema(self, frame: Any) -> pl.Schema:
        """The polars schema of ``frame``, read from its metadata."""
        ...

    def describe(self, frame: Any) -> str:
        """A one-line description of ``frame``."""
        ...

    def rule_counts(self, rejects: Any) -> pl.DataFrame:
        """Rejected rows per rule (``rule``, ``n_rows``)."""
        ...

    def first_rows(self, rejects: Any, n: int) -> pl.DataFrame:
        """The ``n`` rejects with the lowest ``row``."""
        ...

    def total(self, frame: Any, column: str) -> float:
        """The sum of ``column``."""
        ...

    def write(self, frame: Any, path: str) -> Any:
        """Write ``frame`` as Parquet at ``path`` (which must not exist); the written table."""
        ...
