"""Compiled exact rolling median and MAD (numba): one sorted window per series, slid in place.

Imported only by :func:`flowlens.surge.rolling_median_mad`. For each series the
window's valid values are kept sorted; moving one period removes the oldest value
and inserts the newest (a binary search and a short shift), the median is read
off the middle, and the MAD is the middle of the deviations, which form two
sorted runs on either side of the median and are merged only as far as needed.
Per period that is O(window) work in compiled code, against O(window log window)
in numpy plus the copies of every window; series run in parallel.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt


@numba.njit(cache=True, nogil=True)
def _insert(buf: npt.NDArray[np.float64], n: int, value: float) -> int:
    position = np.searchsorted(buf[:n], value)
    for i in range(n, position, -1):
        buf[i] = buf[i - 1]
    buf[position] = value
    return n + 1


@numba.njit(cache=True, nogil=True)
def _remove(buf: npt.NDArray[np.float64], n: int, value: float) -> int:
    position = np.searchsorted(buf[:n], value)
    for i in range(position, n - 1):
        buf[i] = buf[i + 1]
    return n - 1


@numba.njit(cache=True, nogil=True)
def _replace(buf: npt.NDArray[np.float64], n: int, leaving: float, entering: float) -> None:
    """Swap one value for another in a sorted buffer, shifting only the values between them."""
    p = np.searchsorted(buf[:n], leaving)
    if entering > buf[p]:
        while p + 1 < n and buf[p + 1] < entering:
            buf[p] = buf[p + 1]
            p += 1
    else:
        while p > 0 and buf[p - 1] > entering:
            buf[p] = buf[p - 1]
            p -= 1
    buf[p] = entering


@numba.njit(cache=True, nogil=True)
def _median_deviation(buf: npt.NDArray[np.float64], n: int, median: float) -> float:
    """Median of |buf[i] - median|: merge the two sorted runs up to the middle rank."""
    right = np.searchsorted(buf[:n], median, side="right")
    left = right - 1
    low_rank, high_rank = (n - 1) // 2, n // 2
    low = high = 0.0
    for rank in range(high_rank + 1):
        if left >= 0 and (right >= n or median - buf[left] <= buf[right] - median):
            value = median - buf[left]
            left -= 1
        else:
            value = buf[right] - median
            right += 1
        if rank == low_rank:
            low = value
        high = value
    return (low + high) / 2.0


@numba.njit(cache=True, parallel=True)
def rolling_median_mad_compiled(
    values: npt.NDArray[np.float64], window: int, min_periods: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    n_series, n_periods = values.shape
    median = np.full((n_series, n_periods), np.nan)
    mad = np.full((n_series, n_periods), np.nan)
    count = np.zeros((n_series, n_periods))
    needed = max(min_periods, 1)
    for s in numba.prange(n_series):
        buf = np.empty(window + 1)
        n = 0
        for t in range(n_periods):
            if t >= 1:  # slide: period t - 1 enters, period t - 1 - window leaves
                entering = values[s, t - 1]
                leaving = values[s, t - 1 - window] if t - 1 - window >= 0 else np.nan
                if not np.isnan(entering) and not np.isnan(leaving):
                    _replace(buf, n, leaving, entering)
                elif not np.isnan(entering):
                    n = _insert(buf, n, entering)
                elif not np.isnan(leaving):
                    n = _remove(buf, n, leaving)
            count[s, t] = n
            if n >= needed:
                m = (buf[(n - 1) // 2] + buf[n // 2]) / 2.0
                median[s, t] = m
                mad[s, t] = _median_deviation(buf, n, m)
    return median, mad, count


@numba.njit(cache=True, parallel=True)
def cusum_alarms(
    scores: npt.NDArray[np.float64], drift: float, threshold: float
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """Two-sided CUSUM over standardised scores, per series; restarts after each alarm.

    Returns ``alarm`` (+1 upward, -1 downward, 0 none) and ``run``: how many
    periods the cumulative sum had been building when it crossed the threshold.
    NaN scores are skipped (the sums carry over).
    """
    n_series, n_periods = scores.shape
    alarm = np.zeros((n_series, n_periods), dtype=np.int8)
    run = np.zeros((n_series, n_periods), dtype=np.int64)
    for s in numba.prange(n_series):
        high = 0.0
        low = 0.0
        high_run = 0
        low_run = 0
        for t in range(n_periods):
            z = scores[s, t]
            if np.isnan(z):
                continue
            high = max(0.0, high + z - drift)
            low = max(0.0, low - z - drift)
            high_run = high_run + 1 if high > 0 else 0
            low_run = low_run + 1 if low > 0 else 0
            if high > threshold:
                alarm[s, t] = 1
                run[s, t] = high_run
                high = 0.0
                high_run = 0
            elif low > threshold:
                alarm[s, t] = -1
                run[s, t] = low_run
                low = 0.0
                low_run = 0
    return alarm, run
