"""``load_flows`` on a distributed engine: flowlens' validation plan per partition.

Validation is row-wise except for two things that look across the whole input: a
row's *position* (the ``row`` a reject reports) and whether its ``tx_id`` was seen at
an earlier position. On an engine both are settled before the per-partition plan
runs:

1. the rows of each partition are counted (on Parquet no column is read), which
   gives every partition its first position; a row's position is that plus its
   place in the partition, so positions run ``0 .. n-1`` in the engine's order of
   rows, partition after partition;
2. for each ``tx_id`` that occurs more than once, the engine's group-by finds the
   first position holding it (only repeated ids are kept, so the table is small
   and joins back by broadcast; a large one is a shuffle join, which Spark's
   adaptive execution splits where one id is heavily repeated).

Each partition then runs the same polars plan as the local path, through Arrow,
yielding its clean rows or its rejects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from flowlens._checks import EXAMPLES, ValidationPlan, raise_if_rejected, summary_of
from flowlens.engines._protocol import Backend, CheckSpec
from flowlens.engines._select import Engine, backend_for


@dataclass(frozen=True, repr=False, eq=False)
class EngineValidationReport:
    """The outcome of :func:`~flowlens.load_flows` on a PySpark or Dask DataFrame.

    Attributes
    ----------
    clean
        The clean rows as a DataFrame of the same engine, with the canonical
        columns (country, flow type, channel and currency codes as text). Nothing
        is computed until it is used: pass it (or this report) to
        :func:`~flowlens.corridor_panel` to aggregate it on the engine.
    rejects
        The rejected rows as a DataFrame of the same engine: ``row`` (Int64, the
        position in the input in the engine's order, partition after partition),
        ``rule``, ``reason`` and the raw values as text, as
        :attr:`ValidationReport.rejects <flowlens.ValidationReport.rejects>`.
        Write them with :meth:`write_rejects`.
    engine
        ``"spark"`` or ``"dask"``.
    source
        A description of the source.
    n_rows_in
        Rows in the source (counted when the report was made).

    Notes
    -----
    The report is immutable. Each use of ``clean`` or ``rejects`` runs the
    validation on the engine again (engines recompute what is not cached).
    :attr:`summary` counts the rejects in one such run, on first use, and keeps
    the counts (they are fixed by the plan, so they never go stale).
    :meth:`write_rejects` leaves this report as it is and returns a *new* report
    whose ``rejects`` is the written table, so that its counts are those of the
    rows on disk.

    Examples
    --------
    The same with a PySpark DataFrame (``spark.read.parquet(...)``) and a path
    such as ``s3a://bucket/rejects/2024-06``:

    >>> import tempfile
    >>> import dask.dataframe as dd
    >>> import flowlens as fl
    >>> frame = dd.from_pandas(fl.load_sample("flows").to_pandas(), npartitions=4)
    >>> report = fl.load_flows(frame)
    >>> written = report.write_rejects(tempfile.mkdtemp() + "/rejects")
    >>> written.n_rows_in, written.n_rejected, report.n_rejected
    (4013, 12, 12)
    >>> written.first_rejects(1)["reason"].item()
    "date: '2024-02-30' is not a valid date (expected YYYY-MM-DD, optionally with a time)"
    >>> panel = fl.corridor_panel(report, freq="year")
    >>> panel.height > 0
    True
    """

    clean: Any
    rejects: Any
    engine: Engine
    source: str
    n_rows_in: int
    _results: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def _backend(self) -> Backend:
        return backend_for(self.engine)

    @property
    def summary(self) -> pl.DataFrame:
        """Rows per outcome (``clean``, then each rule with rejects): ``outcome``, ``n_rows``."""
        if "summary" not in self._results:
            per_rule = self._backend.rule_counts(self.rejects)
            self._results["summary"] = summary_of(per_rule, self.n_rows_in)
        summary: pl.DataFrame = self._results["summary"]
        return summary

    @property
    def n_clean(self) -> int:
        """Rows in ``clean``."""
        return int(self.summary.filter(pl.col("outcome") == "clean")["n_rows"].sum())

    @property
    def n_rejected(self) -> int:
        """Rows in ``rejects``."""
        return self.n_rows_in - self.n_clean

    @property
    def clean_amount_usd(self) -> float:
        """Total ``amount_usd`` of the clean rows (a run on the engine, on first use)."""
        if "clean_amount_usd" not in self._results:
            self._results["clean_amount_usd"] = self._backend.total(self.clean, "amount_usd")
        return float(self._results["clean_amount_usd"])

    def first_rejects(self, n: int = EXAMPLES) -> pl.DataFrame:
        """The ``n`` rejected rows with the lowest positions, as a polars frame."""
        return self._backend.first_rows(self.rejects, n)

    def write_rejects(self, path: str | Path) -> EngineValidationReport:
        """Write the rejects as Parquet with the engine's writer; return a new report.

        ``path`` is a directory (local, or any URL the engine can write, such as
        ``s3a://`` for Spark or ``s3://`` for Dask); it must not exist yet, so
        that no earlier run's rejects are mixed in. The returned report's
        ``rejects`` is the written table (its :attr:`summary` counts the rows on
        disk); this report is unchanged.
        """
        written = self._backend.write(self.rejects, str(path))
        return replace(self, rejects=written, _results={})

    def _repr_html_(self) -> str:
        from flowlens._display import card

        if "summary" not in self._results:
            return card(
                "EngineValidationReport",
                [self.source, self.engine, f"{self.n_rows_in:,} rows in", "not counted yet"],
                note="Use .summary (a run on the engine) or .write_rejects(path).",
            )
        rejected = self.summary.filter(pl.col("outcome") != "clean")
        return card(
            "EngineValidationReport",
            [
                self.source,
                self.engine,
                f"{self.n_rows_in:,} rows in",
                f"{self.n_rejected:,} rejected",
            ],
            ["rule", "rows rejected"],
            [(row["outcome"], row["n_rows"]) for row in rejected.iter_rows(named=True)],
        )

    def __repr__(self) -> str:
        counted = "summary" in self._results
        detail = (
            f"clean={self.n_clean}, rejected={self.n_rejected}" if counted else "not counted yet"
        )
        return (
            f"EngineValidationReport(source={self.source!r}, engine={self.engine!r}, "
            f"rows_in={self.n_rows_in}, {detail})"
        )


def load_flows_on(
    engine: Engine,
    frame: Any,
    *,
    columns: Mapping[str, str] | None,
    strict: bool,
    fx: pl.DataFrame | pl.LazyFrame | None,
    max_fx_staleness_days: int,
    keep: tuple[str, ...],
) -> EngineValidationReport:
    """Validate a Spark or Dask DataFrame on its engine (see the module notes)."""
    spec = CheckSpec(
        columns=dict(columns) if columns else None,
        fx=fx.collect() if isinstance(fx, pl.LazyFrame) else fx,
        max_fx_staleness_days=max_fx_staleness_days,
        keep=keep,
    )
    backend = backend_for(engine)
    # the plan over no rows: a missing column or a bad FX table fails here, at once
    schema = backend.polars_schema(frame)
    tx_column = ValidationPlan.build(
        pl.LazyFrame(schema=schema),
        columns=spec.columns,
        fx=spec.fx,
        max_fx_staleness_days=max_fx_staleness_days,
        keep=keep,
    ).tx_column
    clean, rejects, n_rows_in = backend.validate(frame, spec, tx_column)
    report = EngineValidationReport(
        clean=clean,
        rejects=rejects,
        engine=engine,
        source=backend.describe(frame),
        n_rows_in=n_rows_in,
    )
    if strict:
        raise_if_rejected(report.summary, report.first_rejects().to_dicts())
    return report
