"""The extension point: the built-in three scoring methods, and how to pass another (no registry)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import polars as pl

from flowlens.errors import ParameterError
from flowlens.surge._baselines import (
    DEFAULT_THRESHOLD,
    F64,
    _score_rolling,
    _score_seasonal,
)
from flowlens.surge._forecast import (
    FORECAST_THRESHOLD,
    holiday_regressors,
    score_forecast,
)


@dataclass(frozen=True)
class SeriesArrays:
    """What a scoring method sees: every series of the panel on one dense array.

    Attributes
    ----------
    values
        ``(series, periods)`` float array of the observed values; NaN is missing.
    counts
        The same shape, transfers per period (``n_transfers``), or None when the
        panel has no counts.
    series
        One row per series (its key columns), in the order of ``values``' rows.
    periods
        The period starts, in the order of ``values``' columns.
    freq
        The period length (``1d``, ``1w``, ``1mo``, ``1q``, ``1y``).
    season
        Periods in a year (365, 52, 12, 4, 1), or None when a year is not a whole
        number of periods (:func:`flowlens.freq.periods_per_year`).
    window, min_periods
        The baseline length and the fewest valid values it needs.
    holidays
        The ``holidays`` table of :func:`detect_surges` (None: the defaults).
    holiday_source
        Where the default holiday dates come from: ``"tabular"`` or ``"observed"``.

    Examples
    --------
    What a method sees, shown by one that records it and scores nothing:

    >>> import numpy as np
    >>> import flowlens as fl
    >>> from flowlens.surge import Scores, SurgeMethod
    >>> seen = []
    >>> def look(arrays):
    ...     seen.append((arrays.values.shape, arrays.freq, arrays.season, arrays.window))
    ...     nothing = np.full_like(arrays.values, np.nan)
    ...     return Scores(nothing, nothing, nothing, nothing)
    >>> _ = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination"],
    ...                      method=SurgeMethod("look", look))
    >>> seen
    [((1, 377), '1mo', 12, 12)]
    """

    values: F64
    counts: F64 | None
    series: pl.DataFrame
    periods: pl.Series
    freq: str
    season: int | None
    window: int
    min_periods: int
    holidays: pl.DataFrame | None = None
    holiday_source: str = "tabular"


class Scores(NamedTuple):
    """What a scoring method returns: four arrays shaped like ``SeriesArrays.values``.

    ``baseline`` is the expected value, ``scale`` the spread the score divides by,
    ``score`` how unusual the value is (a surge when above the threshold; NaN when
    it cannot be scored), ``n_history`` how many values the baseline used.
    ``level_shift`` (optional) is non-zero where the method found a lasting step
    rather than a surge (+1 up, -1 down): those periods are not flagged.

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.surge import Scores
    >>> flat = np.ones((2, 3))
    >>> Scores(baseline=flat, scale=flat, score=0 * flat, n_history=flat)._fields
    ('baseline', 'scale', 'score', 'n_history', 'level_shift')
    """

    baseline: F64
    scale: F64
    score: F64
    n_history: F64
    level_shift: F64 | None = None


@dataclass(frozen=True)
class SurgeMethod:
    """A scoring method: pass it as ``detect_surges(method=SurgeMethod(...))``.

    There is no registry: a method is used where it is passed, and nothing is
    stored in the process, so two callers never see each other's methods.

    Parameters
    ----------
    name
        How results and messages name it (``SurgeResult.method``).
    score
        ``SeriesArrays -> Scores``. It must use, for period t, only periods before
        t (or say in its name and docstring that it looks ahead); it must be
        vectorised over series (no Python loop per series).
    seasonal
        It compares a period with the same period of earlier years, so it needs a
        frequency with a whole number of periods a year.
    default_window
        Baseline length in periods when the caller gives none; None means 3 years
        of periods for a seasonal method, otherwise 12.
    default_threshold
        The score above which a period is flagged when the caller gives no
        ``threshold`` (3.5, Iglewicz and Hoaglin's rule for a modified z-score).

    Examples
    --------
    A method that compares each period with the mean of the three before it:

    >>> import numpy as np
    >>> import flowlens as fl
    >>> from flowlens.surge import Scores, SurgeMethod
    >>> def last_three(arrays):
    ...     v = arrays.values
    ...     past = np.full_like(v, np.nan)
    ...     past[:, 3:] = (v[:, :-3] + v[:, 1:-2] + v[:, 2:-1]) / 3
    ...     scale = 0.1 * past
    ...     return Scores(past, scale, (v - past) / scale, np.full_like(v, 3.0))
    >>> method = SurgeMethod("last_three", last_three, default_window=3)
    >>> result = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination"],
    ...                           method=method)
    >>> result.method, result.window
    ('last_three', 3)
    """

    name: str
    score: Callable[[SeriesArrays], Scores]
    seasonal: bool = False
    default_window: int | None = None
    default_threshold: float = DEFAULT_THRESHOLD

    def window_for(self, season: int | None) -> int:
        """The default baseline length for a frequency with ``season`` periods a year."""
        if self.default_window is not None:
            return self.default_window
        return 3 * (season or 12) if self.seasonal else 12


def _rolling(arrays: SeriesArrays) -> Scores:
    return Scores(*_score_rolling(arrays.values, arrays.counts, arrays.window, arrays.min_periods))


def _seasonal(arrays: SeriesArrays) -> Scores:
    return Scores(
        *_score_seasonal(
            arrays.values, arrays.counts, arrays.season or 12, arrays.window, arrays.min_periods
        )
    )


def _forecast(arrays: SeriesArrays) -> Scores:
    return Scores(
        *score_forecast(
            arrays.values,
            arrays.counts,
            arrays.periods,
            arrays.freq,
            arrays.window,
            arrays.min_periods,
            holiday_regressors(
                arrays.series,
                arrays.periods,
                arrays.freq,
                arrays.holidays,
                source=arrays.holiday_source,
            ),
        )
    )


def _calendar(arrays: SeriesArrays) -> Scores:
    # one share of pre-holiday days per period, all holidays together: the forecast
    # method's regressors summed (yearly series and holidays="none" get none)
    table, group, _ = holiday_regressors(
        arrays.series, arrays.periods, arrays.freq, arrays.holidays, source=arrays.holiday_source
    )
    share = table.sum(axis=2)[group] if table.shape[2] else None
    return Scores(
        *_score_seasonal(
            arrays.values,
            arrays.counts,
            arrays.season or 12,
            arrays.window,
            arrays.min_periods,
            holiday_share=share,
        )
    )


_BUILT_IN: Mapping[str, SurgeMethod] = MappingProxyType(
    {
        "forecast": SurgeMethod("forecast", _forecast, default_threshold=FORECAST_THRESHOLD),
        "rolling": SurgeMethod("rolling", _rolling, default_window=12),
        "seasonal": SurgeMethod("seasonal", _seasonal, seasonal=True),
        "calendar": SurgeMethod("calendar", _calendar, seasonal=True),
    }
)
BUILT_IN: tuple[str, ...] = tuple(_BUILT_IN)
"""The names ``detect_surges(method=...)`` accepts; any other method is passed as a :class:`SurgeMethod`."""


def _resolve(method: str | SurgeMethod) -> SurgeMethod:
    if isinstance(method, SurgeMethod):
        return method
    found = _BUILT_IN.get(method) if isinstance(method, str) else None
    if found is None:
        msg = (
            f"method {method!r} is not one of {list(BUILT_IN)}; "
            "pass your own as a flowlens.surge.SurgeMethod(name, score)"
        )
        raise ParameterError(msg)
    return found
