"""The provenance of every number in a brief: what it is, its value, its table, how computed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from flowlens.brief._sources import Source

PROVENANCE_COLUMNS = ("section", "number", "value", "unit", "source", "vintage", "table", "how")


@dataclass
class Ledger:
    """Collects one row per number while a brief is computed (then frozen as a table)."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(  # noqa: PLR0917 (one argument per column of the provenance table)
        self,
        section: str,
        number: str,
        value: float | None,
        unit: str,
        source: Source | None,
        how: str,
        *,
        vintage: str | None = None,
    ) -> float | None:
        """Record a number and return it (so a computation reads as one line)."""
        self.rows.append(
            {
                "section": section,
                "number": number,
                "value": None if value is None else float(value),
                "unit": unit,
                "source": source.source if source is not None else "flowlens (assumption)",
                "vintage": vintage or (source.vintage if source is not None else "-"),
                "table": source.file if source is not None else "-",
                "how": how,
            }
        )
        return value

    def add_frame(
        self,
        section: str,
        frame: pl.DataFrame,
        key: pl.Expr,
        columns: Mapping[str, tuple[str, str, str]],
        source: Source | None,
        *,
        vintage: str | None = None,
    ) -> None:
        """Record every non-null number of ``columns`` in ``frame``, one row each.

        ``key`` names the row (a year, a sender); ``columns`` maps a column to its
        (label, unit, how): the number is called ``"<label> <key>"``.
        """
        present = [c for c in columns if c in frame.columns]
        if not present or frame.height == 0:
            return
        labels = {c: columns[c][0] for c in present}
        units = {c: columns[c][1] for c in present}
        hows = {c: columns[c][2] for c in present}
        long = (
            frame.select(
                key.cast(pl.String).alias("_key"), *(pl.col(c).cast(pl.Float64) for c in present)
            )
            .unpivot(index="_key", variable_name="_column", value_name="value")
            .filter(pl.col("value").is_not_null())
            .select(
                pl.lit(section).alias("section"),
                pl.concat_str(
                    pl.col("_column").replace_strict(labels, return_dtype=pl.String),
                    pl.col("_key"),
                    separator=" ",
                ).alias("number"),
                "value",
                pl.col("_column").replace_strict(units, return_dtype=pl.String).alias("unit"),
                pl.lit(source.source if source is not None else "flowlens (assumption)").alias(
                    "source"
                ),
                pl.lit(vintage or (source.vintage if source is not None else "-")).alias("vintage"),
                pl.lit(source.file if source is not None else "-").alias("table"),
                pl.concat_str(
                    pl.col("_column").replace_strict(hows, return_dtype=pl.String),
                    pl.col("_key"),
                    separator=", ",
                ).alias("how"),
            )
        )
        self.rows.extend(long.to_dicts())

    def table(self) -> pl.DataFrame:
        """The provenance table, in the order the numbers were computed."""
        schema = dict.fromkeys(PROVENANCE_COLUMNS, pl.String) | {"value": pl.Float64}
        return pl.DataFrame(self.rows, schema=schema, orient="row")
