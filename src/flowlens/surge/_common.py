"""What the surge modules share: the result object, period numbering, reserved column names."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from flowlens.errors import SchemaError


@dataclass(frozen=True, repr=False)
class SurgeResult:
    """The output of :func:`detect_surges`.

    Attributes
    ----------
    scored
        The panel (one row per series and period, missing periods included as
        null values) with ``baseline``, ``scale`` (1.4826 x MAD, floored),
        ``score``, ``flag`` and ``n_history`` (values the baseline used).
    diagnostics
        One row per series that could not be scored in some or all periods:
        the key, ``n_periods``, ``n_scored`` and a ``reason``.
    method, threshold, window, min_uplift
        The settings used.

    Examples
    --------
    >>> import flowlens as fl
    >>> result = fl.detect_surges(fl.load_sample("mexico_monthly"), level="destination")
    >>> result.scored.columns[-5:]
    ['baseline', 'scale', 'score', 'flag', 'n_history']
    """

    scored: pl.DataFrame
    diagnostics: pl.DataFrame
    method: str
    threshold: float
    window: int
    min_uplift: float = 0.0

    def with_threshold(self, threshold: float, *, min_uplift: float | None = None) -> SurgeResult:
        """The same scores flagged at another threshold (nothing is recomputed).

        ``min_uplift`` None keeps the current one.

        Examples
        --------
        >>> import flowlens as fl
        >>> result = fl.detect_surges(fl.load_sample("mexico_monthly"), level="destination")
        >>> strict = result.with_threshold(5.0)
        >>> int(strict.scored["flag"].sum()) <= int(result.scored["flag"].sum())
        True
        """
        uplift = self.min_uplift if min_uplift is None else min_uplift
        flagged = self.scored.with_columns(
            flag=_flag(_value_column(self.scored), threshold, uplift)
        )
        return replace(self, scored=flagged, threshold=threshold, min_uplift=uplift)

    def _repr_html_(self) -> str:
        from flowlens._display import card

        flagged = self.scored.filter(pl.col("flag"))
        value = _value_column(self.scored)
        keys = [c for c in self.scored.columns if c not in _RESERVED and c != value]
        keys = [c for c in keys if not self.scored.schema[c].is_numeric()]
        top = flagged.sort("score", descending=True).head(5)
        return card(
            "SurgeResult",
            [
                f"{self.method} method",
                f"window {self.window}",
                f"threshold {self.threshold:g}",
                f"{self.scored.height:,} series-periods",
                f"{flagged.height:,} flagged",
                f"{self.diagnostics.height:,} series with diagnostics",
            ],
            [*keys, "period", value, "baseline", "score"],
            [
                (*(str(r[k]) for k in keys), str(r["period"]), r[value], r["baseline"], r["score"])
                for r in top.iter_rows(named=True)
            ],
            note="The strongest flags; fl.surge_episodes(result) groups them into episodes.",
        )

    def __repr__(self) -> str:
        n_flags = int(self.scored["flag"].sum())
        return (
            f"SurgeResult(method={self.method!r}, window={self.window}, threshold={self.threshold}, "
            f"rows={self.scored.height:,}, flagged={n_flags:,}, diagnostics={self.diagnostics.height})"
        )


def _flag(value: str, threshold: float, min_uplift: float) -> pl.Expr:
    """A surge: the score above ``threshold`` and the value at least ``1 + min_uplift`` times the baseline."""
    flag = pl.col("score").fill_null(float("-inf")) > threshold
    if min_uplift > 0:
        flag = flag & (pl.col(value) >= (1.0 + min_uplift) * pl.col("baseline")).fill_null(False)
    return flag


def _value_column(scored: pl.DataFrame) -> str:
    """The observed-value column of a scored panel: its one float column that detect_surges did not add."""
    return next(c for c in scored.columns if c not in _RESERVED and scored.schema[c].is_float())


SCORE_COLUMNS = ("baseline", "scale", "score", "flag", "n_history")
_RESERVED = {*SCORE_COLUMNS, "period"}


def _period_number(date: pl.Expr, every: str) -> pl.Expr:
    """A running period number, so that differences count periods (months, quarters, days...)."""
    months = {"1mo": 1, "1q": 3, "1y": 12}.get(every)
    if months is not None:
        return (date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1) // months
    days = {"1d": 1, "1w": 7}.get(every)
    if days is None:
        msg = f"freq {every!r}: use day, week, month, quarter or year"
        raise SchemaError(msg)
    return date.cast(pl.Date).cast(pl.Int64) // days
