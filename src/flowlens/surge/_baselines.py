"""Baselines: the exact rolling median and MAD kernels, and the rolling, seasonal and calendar scores."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

F64 = npt.NDArray[np.float64]

MAD_SCALE = 1.4826
"""1 / 0.6745: makes the MAD a consistent estimate of the standard deviation for normal data."""
DEFAULT_THRESHOLD = 3.5
"""Iglewicz and Hoaglin (1993): a modified z-score above 3.5 marks an outlier."""
MAD_FLOOR_RELATIVE = 0.05
"""An assumption: the MAD is floored at 5% of the baseline level (``rolling``) so that
a flat or sparse series does not turn every wiggle into a surge."""
MAD_FLOOR_LOG = 0.05
"""An assumption: the MAD of year-over-year log changes is floored at 0.05 (about 5%)."""
AMOUNT_CV = 0.8
"""Coefficient of variation of one transfer's amount: lognormal with log-sd 0.7 (an
assumption, the remittance spread of ``flowlens.synth``). When the panel has
``n_transfers``, a period's scale is floored at the sampling noise of a sum of about n
such transfers whose number varies too (a compound Poisson sum),
``SUM_CV / sqrt(n)`` (relative), so sparse corridors do not raise false alarms."""
SUM_CV = float(np.sqrt(1.0 + AMOUNT_CV**2))
"""Coefficient of variation of a compound Poisson sum of one expected transfer:
``sqrt(1 + AMOUNT_CV ** 2)`` (about 1.28), since Var(sum) = n E[amount^2]."""


def rolling_median_mad(values: F64, window: int, *, min_periods: int) -> tuple[F64, F64, F64]:
    """Exact trailing median and MAD of each (series, period) over the ``window`` periods before it.

    Parameters
    ----------
    values
        A (series, periods) array; NaN is a missing value, skipped.
    window
        How many earlier periods form the baseline (the period itself is not used).
    min_periods
        Fewer valid values than this give NaN.

    Returns
    -------
    (median, mad, count)
        Arrays shaped like ``values``.

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.surge import rolling_median_mad
    >>> median, mad, n = rolling_median_mad(np.array([[1.0, 2.0, 4.0, 8.0]]), 3, min_periods=2)
    >>> median.tolist(), mad.tolist(), n.tolist()
    ([[nan, nan, 1.5, 2.0]], [[nan, nan, 0.5, 1.0]], [[0.0, 1.0, 2.0, 3.0]])
    """
    try:
        from flowlens._rolling_kernel import rolling_median_mad_compiled
    except ImportError:  # numba missing: the numpy kernel below gives the same numbers
        return _rolling_median_mad_numpy(values, window, min_periods=min_periods)
    median, mad, count = rolling_median_mad_compiled(
        np.ascontiguousarray(values, dtype=np.float64), window, min_periods
    )
    return median, mad, count


def _rolling_median_mad_numpy(
    values: F64, window: int, *, min_periods: int
) -> tuple[F64, F64, F64]:
    """The same as the compiled kernel: one sort per window over a sliding-window view."""
    n_series, n_periods = values.shape
    padded = np.concatenate([np.full((n_series, window), np.nan), values], axis=1)
    windows = sliding_window_view(padded, window, axis=1)[:, :n_periods, :]
    ordered = np.sort(windows, axis=-1)  # NaN sort last
    count = np.sum(~np.isnan(ordered), axis=-1)
    median = _middle(ordered, count)
    deviations = np.sort(np.abs(windows - median[..., None]), axis=-1)
    mad = _middle(deviations, count)
    too_few = count < max(min_periods, 1)
    median[too_few] = np.nan
    mad[too_few] = np.nan
    return median, mad, count.astype(np.float64)


def _middle(ordered: F64, count: npt.NDArray[np.int64]) -> F64:
    """Median of each sorted row given its number of valid (leading) values."""
    safe = np.maximum(count, 1)
    low = np.take_along_axis(ordered, ((safe - 1) // 2)[..., None], axis=-1)[..., 0]
    high = np.take_along_axis(ordered, (safe // 2)[..., None], axis=-1)[..., 0]
    middle: F64 = np.where(count > 0, (low + high) / 2.0, np.nan)
    return middle


def _floor(scale: F64, floor: F64 | float) -> F64:
    result: F64 = np.fmax(scale, floor)
    return result


def _score_rolling(
    values: F64, counts: F64 | None, window: int, min_periods: int
) -> tuple[F64, F64, F64, F64]:
    median, mad, count = rolling_median_mad(values, window, min_periods=min_periods)
    scale = _floor(MAD_SCALE * mad, MAD_FLOOR_RELATIVE * np.abs(median))
    if counts is not None:  # the sampling noise of a sum of n transfers
        typical_n, _, _ = rolling_median_mad(counts, window, min_periods=min_periods)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = _floor(scale, SUM_CV * np.abs(median) / np.sqrt(typical_n))
    scale = np.where(scale > 0, scale, np.nan)
    score = (values - median) / scale
    return median, scale, score, count


def _score_seasonal(
    values: F64,
    counts: F64 | None,
    season: int,
    window: int,
    min_periods: int,
    *,
    holiday_share: F64 | None = None,
) -> tuple[F64, F64, F64, F64]:
    positive = np.where(values > 0, values, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(positive)
    last_year = np.full_like(logs, np.nan)
    last_year[:, season:] = logs[:, :-season]
    change = logs - last_year
    effect = np.zeros_like(change)
    if holiday_share is not None:  # the holiday moved between the two years: take it out
        shift = np.full_like(holiday_share, np.nan)
        shift[:, season:] = holiday_share[:, season:] - holiday_share[:, :-season]
        effect = _trailing_slope(shift, change, window) * np.nan_to_num(shift)
        change = change - effect
    median, mad, count = rolling_median_mad(change, window, min_periods=min_periods)
    scale = _floor(MAD_SCALE * mad, MAD_FLOOR_LOG)
    if counts is not None:  # a log change of two sums of about n transfers each
        last_count = np.full_like(counts, np.nan)
        last_count[:, season:] = counts[:, :-season]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = _floor(scale, SUM_CV * np.sqrt(2.0 / last_count))
    score = (change - median) / scale
    baseline = np.exp(last_year + median + effect)
    return baseline, scale, score, count


def _trailing_slope(x: F64, y: F64, window: int) -> F64:
    """Least-squares slope of y on x (through the origin) over the ``window`` periods before each.

    Rolling sums from cumulative sums: no loop over series or periods.
    """
    valid = ~(np.isnan(x) | np.isnan(y))
    xy = np.where(valid, x * y, 0.0)
    xx = np.where(valid, x * x, 0.0)

    def trailing(a: F64) -> F64:
        total = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(a, axis=1)], axis=1)
        ends = total[:, :-1]
        starts = np.concatenate([np.zeros((a.shape[0], window)), total[:, :-1]], axis=1)[
            :, : a.shape[1]
        ]
        result: F64 = ends - starts
        return result

    sxy, sxx = trailing(xy), trailing(xx)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope: F64 = np.where(sxx > 1e-9, sxy / sxx, 0.0)
    return slope
