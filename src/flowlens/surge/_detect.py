"""detect_surges: every series of a panel on one dense array, scored against its baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError
from flowlens.panel import _normalise_freq
from flowlens.surge._baselines import _SEASON, DEFAULT_THRESHOLD, F64
from flowlens.surge._common import SCORE_COLUMNS, SurgeResult, _flag, _period_number
from flowlens.surge._methods import SeriesArrays, SurgeMethod, _resolve


def detect_surges(
    panel: Any,
    *,
    freq: str = "1mo",
    method: str | SurgeMethod = "seasonal",
    window: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_uplift: float = 0.0,
    min_periods: int | None = None,
    level: str = "corridor",
    value: str = fs.AMOUNT_USD,
    by_flow_type: bool = True,
    missing: str = "null",
    holidays: pl.DataFrame | None = None,
) -> SurgeResult:
    """Score every series of a panel against its baseline and flag surges.

    Parameters
    ----------
    panel
        A corridor panel (``period``, ``origin``, ``destination``, ``flow_type``,
        ``value``) at frequency ``freq``, as :func:`flowlens.corridor_panel` or an
        official reader returns it; a LazyFrame is collected (the panel is small).
    freq
        The panel's period length (``month``, ``quarter``, ``week``, ``day``).
    method
        ``seasonal`` (default), ``calendar`` or ``rolling`` (see the module notes),
        the name of a method added with :func:`flowlens.surge.register_method`, or
        a :class:`flowlens.surge.SurgeMethod`.
    window
        Baseline length in periods. Default: 12 periods for ``rolling`` and 3 years
        of year-over-year changes for ``seasonal`` and ``calendar`` (36 months, 12
        quarters).
    threshold
        Flag when the score exceeds it (default 3.5, Iglewicz and Hoaglin 1993).
    min_uplift
        Flag only when the value is also at least this share above its baseline
        (0.25: 25% above). A large series passes the threshold with a rise of a
        few percent; this asks for a rise that matters as well as one that is
        unusual. Default 0: the score alone decides.
    min_periods
        Fewest valid values a baseline needs (default: half the window).
    level
        ``corridor`` scores each (origin, destination) series; ``destination``
        each receiving country's total.
    by_flow_type
        Keep flow types apart (default) when the panel has ``flow_type``.
    missing
        A period without a row is ``null`` (unknown: skipped by the baselines,
        never scored) or ``zero`` (no flow). Explicit, because a missing month is
        not a zero unless you say so.
    holidays
        For ``method="calendar"``: ``country`` and ``date`` of the days before
        holidays that move remittances. Default: the 15 days before each Eid for
        Muslim-majority countries and the 10 days before Mother's Day for Mexico
        (:func:`flowlens.calendar.holiday_windows`).

    Returns
    -------
    SurgeResult
        ``scored`` panel and ``diagnostics``.

    Examples
    --------
    Banco de Mexico's monthly inflows: a plain trailing baseline flags the pandemic
    jump of March 2020, and also the Mother's Day peak of May 2021; the seasonal
    method does not take May for a surge.

    >>> import flowlens as fl
    >>> monthly = fl.load_sample("mexico_monthly").filter(destination="MEX")
    >>> def flagged(result):
    ...     return result.scored.filter("flag")["period"].dt.strftime("%Y-%m").to_list()
    >>> rolling = flagged(fl.detect_surges(monthly, level="destination", method="rolling"))
    >>> "2020-03" in rolling, "2021-05" in rolling
    (True, True)
    >>> "2021-05" in flagged(fl.detect_surges(monthly, level="destination", method="seasonal"))
    False
    """
    scoring = _resolve(method)
    if level not in ("corridor", "destination"):
        msg = f"level {level!r} is not 'corridor' or 'destination'"
        raise SchemaError(msg)
    if missing not in ("null", "zero"):
        msg = f"missing {missing!r} is not 'null' or 'zero'"
        raise SchemaError(msg)
    every = _normalise_freq(freq)
    season = _SEASON.get(every)
    if scoring.seasonal and season is None:
        msg = f"method {scoring.name!r} needs a freq of 1d, 1w, 1mo or 1q, got {freq!r}"
        raise SchemaError(msg)
    frame = panel.collect() if isinstance(panel, pl.LazyFrame) else panel
    if not isinstance(frame, pl.DataFrame):
        msg = f"detect_surges takes a polars DataFrame or LazyFrame, got {type(panel).__name__}"
        raise SchemaError(msg)
    keys = _keys(frame, level, by_flow_type)
    MissingColumnError.require(frame.columns, "period", value, *keys)
    if window is None:
        window = scoring.window_for(season)
    if not min_uplift >= 0:
        msg = f"min_uplift must be a share of at least 0 (0.25 for 25%), got {min_uplift}"
        raise SchemaError(msg)
    if window < 2:
        msg = f"window must be at least 2 periods, got {window}"
        raise SchemaError(msg)
    min_periods = max(2, window // 2) if min_periods is None else min_periods

    counted = "n_transfers" in frame.columns
    columns = [value, "n_transfers"] if counted else [value]
    series, periods, arrays = _dense(frame, keys, columns, every, zero_fill=missing == "zero")
    values = arrays[0]
    context = SeriesArrays(
        values=values,
        counts=arrays[1] if counted else None,
        series=series,
        periods=periods,
        freq=every,
        season=season,
        window=window,
        min_periods=min_periods,
        holidays=holidays,
    )
    baseline, scale, score, n_history = _checked(scoring, context)
    n_series, n_periods = values.shape
    scored = pl.DataFrame(
        {
            "period": np.tile(periods.to_numpy(), n_series),
            value: values.ravel(),
            "baseline": baseline.ravel(),
            "scale": scale.ravel(),
            "score": score.ravel(),
            "n_history": np.nan_to_num(n_history.ravel(), nan=0.0).astype(np.int64),
        },
        nan_to_null=True,
    )
    # series are in key order and periods ascending: gather the keys, no join or sort
    scored = pl.concat(
        [series[np.repeat(np.arange(n_series), n_periods)], scored],
        how="horizontal",
    ).with_columns(pl.col("period").cast(pl.Date), flag=_flag(value, threshold, min_uplift))
    scored = scored.select(*series.columns, "period", value, *SCORE_COLUMNS)
    diagnostics = _diagnostics(series, score)
    return SurgeResult(scored, diagnostics, scoring.name, threshold, window, min_uplift)


def _checked(scoring: SurgeMethod, context: SeriesArrays) -> tuple[F64, F64, F64, F64]:
    """Run a method and check that it returned four arrays shaped like the values."""
    result = scoring.score(context)
    shape = context.values.shape
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in result)
    if len(arrays) != 4 or any(a.shape != shape for a in arrays):
        got = [getattr(a, "shape", None) for a in arrays]
        msg = (
            f"method {scoring.name!r} must return Scores(baseline, scale, score, n_history), "
            f"each of shape {shape}; got {got}"
        )
        raise SchemaError(msg)
    baseline, scale, score, n_history = arrays
    return baseline, scale, score, n_history


def _keys(frame: pl.DataFrame, level: str, by_flow_type: bool) -> list[str]:
    keys = [fs.ORIGIN, fs.DESTINATION] if level == "corridor" else [fs.DESTINATION]
    if by_flow_type and fs.FLOW_TYPE in frame.columns:
        keys.append(fs.FLOW_TYPE)
    return keys


def _dense(
    frame: pl.DataFrame, keys: Sequence[str], columns: Sequence[str], every: str, *, zero_fill: bool
) -> tuple[pl.DataFrame, pl.Series, list[F64]]:
    """(series keys, periods, values[series, period]): one row per series, NaN where missing.

    Series are numbered by a dense rank of their keys and periods by their period
    number, so placing every value is one scatter into the array (no joins).
    """
    known = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    if known.height == 0:
        msg = "the panel has no rows with all of " + ", ".join(keys) + " known"
        raise SchemaError(msg)
    # a week is numbered from its Monday, so days of one week share a number
    period = pl.col("period").dt.truncate(every) if every == "1w" else pl.col("period")
    numbered = known.select(
        (pl.struct(keys).rank("dense").cast(pl.Int64) - 1).alias("s"),
        _period_number(period, every).alias("t"),
        *[pl.col(c).cast(pl.Float64).alias(f"_v{i}") for i, c in enumerate(columns)],
    )
    first_t = int(numbered["t"].min())  # type: ignore[arg-type]
    n_periods = int(numbered["t"].max()) - first_t + 1  # type: ignore[arg-type]
    s_index = numbered["s"].to_numpy()
    n_series = int(s_index.max()) + 1
    row_of_series = np.empty(n_series, dtype=np.int64)
    row_of_series[s_index] = np.arange(s_index.size)  # any one row of each series
    series = known.select(keys)[row_of_series]
    bounds = known.select(
        first=pl.col("period").min().dt.truncate(every).cast(pl.Date),
        last=pl.col("period").max().dt.truncate(every).cast(pl.Date),
    )
    periods = pl.date_range(
        bounds["first"].item(), bounds["last"].item(), interval=every, eager=True
    ).alias("period")
    if periods.len() != n_periods:  # only if the period numbering and date_range disagree
        msg = f"internal error: {periods.len()} periods from the dates, {n_periods} by number"
        raise AssertionError(msg)
    cell = s_index * n_periods + (numbered["t"].to_numpy() - first_t)
    size = series.height * n_periods
    present = np.bincount(cell, minlength=size) > 0
    arrays = []
    for i in range(len(columns)):  # one or two value columns
        sums = np.bincount(cell, weights=numbered[f"_v{i}"].to_numpy(), minlength=size)
        flat = np.zeros(size) if zero_fill else np.full(size, np.nan)
        flat[present] = sums[present]
        arrays.append(flat.reshape(series.height, n_periods))
    return series, periods, arrays


def _diagnostics(series: pl.DataFrame, score: F64) -> pl.DataFrame:
    """Series with periods they could not score, and why."""
    n_scored = np.sum(~np.isnan(score), axis=1)
    summary = series.with_columns(
        n_periods=pl.lit(score.shape[1], dtype=pl.Int64),
        n_scored=pl.Series(n_scored, dtype=pl.Int64),
    )
    return summary.filter(pl.col("n_scored") < pl.col("n_periods")).with_columns(
        reason=pl.when(pl.col("n_scored") == 0)
        .then(pl.lit("never scored: too little history for the window (see min_periods)"))
        .otherwise(pl.lit("some periods unscored: the first periods, or missing values"))
    )
