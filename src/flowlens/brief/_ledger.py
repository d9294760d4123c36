"""The provenance of every number in a brief: what it is, its value, its table, how computed."""

from __future__ import annotations

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

    def table(self) -> pl.DataFrame:
        """The provenance table, in the order the numbers were computed."""
        schema = dict.fromkeys(PROVENANCE_COLUMNS, pl.String) | {"value": pl.Float64}
        return pl.DataFrame(self.rows, schema=schema, orient="row")
