"""Level shifts: a lasting step (a de-risking drop, flows moving between channels) against a transient surge."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from flowlens._panelspec import input_errors
from flowlens.errors import ParameterError
from flowlens.surge._common import SurgeResult, _number, _whole

CUSUM_DRIFT = 0.5
"""Allowance k of the CUSUM, in score units: half a standard deviation, the usual
choice for detecting a one-sigma shift (Page, 1954; Montgomery, *Introduction to
Statistical Quality Control*, ch. 9)."""
CUSUM_THRESHOLD = 5.0
"""Decision interval h of the CUSUM, in score units (Montgomery: h = 4 or 5)."""


@input_errors("level_shifts")
def level_shifts(
    result: SurgeResult,
    *,
    drift: float = CUSUM_DRIFT,
    threshold: float = CUSUM_THRESHOLD,
    persist: int = 3,
) -> pl.DataFrame:
    """Where each series' scores drift persistently up or down: CUSUM alarms, classified.

    A two-sided CUSUM runs over each series' scores (from :func:`detect_surges`).
    An alarm is a ``step`` when its cumulative sum built up over at least
    ``persist`` periods, or when the ``persist`` periods after it all deviate the
    same way (by more than ``drift``): a lasting change of level, such as the drop
    after banks de-risk a corridor, or a move of flows from informal to formal
    channels. Otherwise it is a ``transient``: a surge that comes and goes. A sharp
    alarm too close to the end of the series to tell is ``undetermined``. (The
    second test reads periods after the alarm: a retrospective classification.)

    Periods are the result's own (``result.freq``): ``persist`` and ``built_over``
    count them. A result of the ``forecast`` method marks its own level shifts
    (``kind == "level_shift"``, confirmed over three periods and re-anchored); for it
    this returns those, one ``step`` per run, ``built_over`` its periods.

    Returns
    -------
    polars.DataFrame
        The series key (``result.by``), ``period`` (of the alarm), ``direction`` (``up`` or
        ``down``), ``built_over`` (periods the cumulative sum took to cross the
        threshold) and ``kind`` (``step``, ``transient`` or ``undetermined``).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import flowlens as fl
    >>> from flowlens.surge import level_shifts
    >>> periods = pl.date_range(dt.date(2015, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True)
    >>> level = [100.0 + (i % 3) for i in range(36)] + [40.0 + (i % 3) for i in range(24)]
    >>> panel = pl.DataFrame({"period": periods, "destination": "SOM", "amount_usd": level})
    >>> shifts = level_shifts(fl.detect_surges(panel, by=["destination"], method="rolling"))
    >>> shifts.select("period", "direction", "kind").row(0)
    (datetime.date(2018, 1, 1), 'down', 'step')
    """
    from flowlens._rolling_kernel import cusum_alarms

    if not isinstance(result, SurgeResult):
        msg = f"level_shifts takes the SurgeResult of detect_surges, got {type(result).__name__}"
        raise ParameterError(msg)
    if not (
        _whole(persist)
        and 1 <= persist <= max(1, result.scored["period"].n_unique())
        and _number(drift)
        and _number(threshold)
        and 0 <= drift < math.inf
        and 0 < threshold < math.inf
    ):
        msg = (
            "level_shifts needs a whole persist from 1 to the periods of the scores, a finite "
            f"drift >= 0 and a finite threshold > 0; got persist={persist!r}, "
            f"drift={drift!r}, threshold={threshold!r}"
        )
        raise ParameterError(msg)
    scored = result.scored
    keys = list(result.by)
    if result.method == "forecast":  # it marks its own steps: report those, not a second view
        return _forecast_steps(scored, keys)
    # scored is laid out series by series, each over the same periods (see detect_surges)
    n_periods = scored["period"].n_unique()
    scores = scored["score"].fill_null(np.nan).to_numpy().reshape(-1, n_periods)
    alarm, run = cusum_alarms(np.ascontiguousarray(scores, dtype=np.float64), drift, threshold)
    rows, cols = np.nonzero(alarm)
    sign = alarm[rows, cols].astype(np.float64)
    consistent = np.ones(rows.size, dtype=bool)
    known = np.ones(rows.size, dtype=bool)
    for lag in range(1, persist + 1):  # a few lags, each vectorised over every alarm
        later = cols + lag
        inside = later < n_periods
        after = np.where(inside, scores[rows, np.minimum(later, n_periods - 1)], np.nan)
        known &= inside & ~np.isnan(after)
        consistent &= np.nan_to_num(after * sign) > drift
    gradual = run[rows, cols] >= persist  # built up over several same-sign periods
    kind = np.where(
        gradual | (known & consistent), "step", np.where(known, "transient", "undetermined")
    )
    flat = rows * n_periods + cols
    return (
        scored[flat]
        .select(*keys, "period")
        .with_columns(
            direction=pl.Series(np.where(sign > 0, "up", "down"), dtype=pl.String),
            built_over=pl.Series(run[rows, cols], dtype=pl.Int64),
            kind=pl.Series(kind, dtype=pl.String),
        )
    )


def _forecast_steps(scored: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The level shifts the forecast method marked (``kind``), one row per run, as steps."""
    marked = scored.with_columns(
        shift=(pl.col("kind") == "level_shift").fill_null(False),
        up=pl.col("score").fill_null(0.0) > 0,
    ).with_columns(
        run=(pl.col("shift") != pl.col("shift").shift(1).over(keys)).fill_null(True).cum_sum()
    )
    return (
        marked.filter("shift")
        .group_by(*keys, "run", maintain_order=True)
        .agg(
            pl.col("period").first(),
            direction=pl.when(pl.col("up").first()).then(pl.lit("up")).otherwise(pl.lit("down")),
            built_over=pl.len().cast(pl.Int64),
        )
        .select(*keys, "period", "direction", "built_over", kind=pl.lit("step"))
    )
