"""What the surge modules share: the result object, period numbering, reserved column names."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from flowlens._panelspec import PanelSpec
from flowlens.errors import ParameterError
from flowlens.freq import months_per_period, normalise_freq

MISSING = ("null", "zero")
"""How ``detect_surges`` reads a period without a row: unknown (null) or no flow (zero)."""


@dataclass(frozen=True, repr=False)
class SurgeResult:
    """The output of :func:`detect_surges`, with the settings it was computed with.

    Frozen: nothing recomputes or changes it in place; :meth:`with_threshold`
    returns a new result.

    Attributes
    ----------
    scored
        The panel (one row per series and period, missing periods included as
        null values) with ``baseline`` (the expected value), ``scale`` (the spread
        the score divides by: in log points for ``forecast`` and ``seasonal``, in
        value units for ``rolling``), ``score``, ``flag`` (a surge), ``kind``
        (``"surge"``, ``"level_shift"`` for the periods of a lasting step, which are
        never flagged, or null) and ``n_history`` (values the baseline used). A
        polars DataFrame, whatever kind of table came in.
    diagnostics
        One row per series that could not be scored in some or all periods:
        the key, ``n_periods``, ``n_scored`` and a ``reason`` (a polars DataFrame).
    spec
        What the panel was, as read from it: ``freq``, ``value`` and its ``keys``
        (:class:`flowlens.PanelSpec`).
    method, threshold, window, min_periods, min_uplift, by, missing
        The settings used: ``by`` is the key columns of one series.

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> result = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination"])
    >>> result.scored.columns[-6:]
    ['baseline', 'scale', 'score', 'flag', 'kind', 'n_history']
    >>> result.freq, result.value, result.by, result.window
    ('1mo', 'amount_usd', ('destination',), 72)
    >>> result.scored.filter(pl.col("kind").is_not_null()).select("period", "kind").rows()[:4]
    [(datetime.date(1998, 12, 1), 'surge'), (datetime.date(1999, 12, 1), 'surge'),
     (datetime.date(2003, 1, 1), 'level_shift'), (datetime.date(2003, 2, 1), 'level_shift')]
    """

    scored: pl.DataFrame
    diagnostics: pl.DataFrame
    spec: PanelSpec
    method: str
    threshold: float
    window: int
    min_periods: int
    min_uplift: float = 0.0
    by: tuple[str, ...] = ()
    missing: str = "null"

    @property
    def freq(self) -> str:
        """The period length of the scores (``spec.freq``)."""
        return self.spec.freq

    @property
    def value(self) -> str:
        """The measured column (``spec.value``)."""
        return self.spec.value

    def with_threshold(self, threshold: float, *, min_uplift: float | None = None) -> SurgeResult:
        """The same scores flagged at another threshold (nothing is recomputed).

        ``min_uplift`` None keeps the current one. Returns a new result.

        Examples
        --------
        >>> import flowlens as fl
        >>> result = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination"])
        >>> strict = result.with_threshold(5.0)
        >>> int(strict.scored["flag"].sum()) <= int(result.scored["flag"].sum())
        True
        """
        uplift = self.min_uplift if min_uplift is None else min_uplift
        _check_flagging(threshold, uplift)
        flagged = (
            self.scored.with_columns(
                (pl.col("kind") == "level_shift").fill_null(False).alias(SHIFT_COLUMN)
            )
            .with_columns(flag=_flag(self.value, threshold, uplift))
            .with_columns(kind=_kind())
            .drop(SHIFT_COLUMN)
        )
        return replace(self, scored=flagged, threshold=float(threshold), min_uplift=float(uplift))

    def _repr_html_(self) -> str:
        from flowlens._display import card

        flagged = self.scored.filter(pl.col("flag"))
        keys, value = list(self.by), self.value
        top = flagged.sort("score", descending=True).head(5)
        return card(
            "SurgeResult",
            [
                f"{self.method} method",
                f"freq {self.freq}",
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


def _number(x: object) -> bool:
    """A real number, not a bool (True is not a threshold); numpy's scalars count."""
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(
        x, bool | np.bool_
    )


def _whole(x: object) -> bool:
    """A whole number, not a bool; numpy's integer scalars count."""
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _check_flagging(threshold: float, min_uplift: float) -> None:
    """A threshold above 0 and a min_uplift of at least 0, both numbers (NaN is neither)."""
    if not (_number(threshold) and threshold > 0 and math.isfinite(threshold)):
        msg = f"threshold must be a number above 0 (3.0 or 3.5, the method's default), got {threshold!r}"
        raise ParameterError(msg)
    if not (_number(min_uplift) and min_uplift >= 0 and math.isfinite(min_uplift)):
        msg = f"min_uplift must be a share of at least 0 (0.25 for 25%), got {min_uplift!r}"
        raise ParameterError(msg)


def _flag(value: str, threshold: float, min_uplift: float) -> pl.Expr:
    """A surge: the score above ``threshold``, the value at least ``1 + min_uplift`` times the
    baseline, and the period not part of a level shift (a lasting step is not a surge).

    Reads the boolean column SHIFT_COLUMN, which the caller provides.
    """
    flag = (pl.col("score").fill_null(float("-inf")) > threshold) & ~pl.col(SHIFT_COLUMN)
    if min_uplift > 0:
        flag = flag & (pl.col(value) >= (1.0 + min_uplift) * pl.col("baseline")).fill_null(False)
    return flag


def _kind() -> pl.Expr:
    """``level_shift``, ``surge`` (flagged) or null, from SHIFT_COLUMN and ``flag``."""
    return (
        pl.when(pl.col(SHIFT_COLUMN))
        .then(pl.lit("level_shift"))
        .when(pl.col("flag"))
        .then(pl.lit("surge"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _value_column(scored: pl.DataFrame) -> str:
    """The observed-value column of a scored panel: its one float column that detect_surges did not add."""
    return next(c for c in scored.columns if c not in _RESERVED and scored.schema[c].is_float())


def _key_columns(frame: pl.DataFrame) -> list[str]:
    """The series keys of a scored frame or an episodes table: its text columns (as panel_spec reads them)."""
    text = (pl.String, pl.Enum, pl.Categorical)
    return [
        c
        for c, dtype in frame.schema.items()
        if c not in _RESERVED and c != FREQ_COLUMN and isinstance(dtype, text)
    ]


SCORE_COLUMNS = ("baseline", "scale", "score", "flag", "kind", "n_history")
SHIFT_COLUMN = "_level_shift"
"""A working column: the period is part of a level shift (never in a result)."""
FREQ_COLUMN = "freq"
"""The column of :func:`surge_episodes` that says the period length of its dates."""
_RESERVED = {*SCORE_COLUMNS, "period"}


def _period_number(date: pl.Expr, every: str) -> pl.Expr:
    """A running period number, so that differences count periods (months, quarters, days...).

    ``date`` must be a start of an ``every`` period (or is counted in the period it
    falls in, for calendar lengths).
    """
    every = normalise_freq(every)
    months = months_per_period(every)
    if months is not None:
        return (date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1) // months
    n = int(every[:-1])
    days = date.cast(pl.Date).cast(pl.Int64)
    if every.endswith("w"):  # weeks start on Monday; day 0, 1970-01-01, was a Thursday
        return (days + 3) // (7 * n)
    return days // n
