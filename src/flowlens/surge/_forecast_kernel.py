"""The compiled kernel of the ``forecast`` method: one pass per series, in periods order.

Each series is walked once, period by period, keeping running sums of the trailing
window per season category (month of year, quarter, day of week), so every step costs
a few dozen operations whatever the window: no per-period least-squares solve of the
full model, no copy of windows. Series run in parallel.

The model, on the logs of the values, over the ``window`` periods before t::

    y_s = mu[c(s)] + b * s + d . h_s + e_s

``mu`` one level per season category, ``b`` a common drift, ``d`` the effects of the
holiday regressors ``h`` (the share of a period's days just before each moving
holiday). ``b`` and ``d`` come from the within-category sums (the Frisch-Waugh
theorem: the category means partialled out), a 1 + H system solved per step. The
forecast adds the mean of the last ``recent`` residuals, so a level that moved within
the window is followed without waiting for the window to turn over.

Robustness, as in the outlier treatment of X-13ARIMA-SEATS / TRAMO:
- a value whose score is beyond ``clean`` enters the sums as its forecast (an additive
  outlier does not bend the seasonal profile or the drift of the next years);
- ``confirm`` successive scores beyond ``shift`` of one sign, forming a plateau (not
  a peak that decays), are a level shift: the history before it is moved by the
  step, so the forecast is re-anchored at the new level from the next period on.
The scale of a score is the series' own one-step forecast errors: the winsorised
mean absolute error of the last ``errors`` scored periods (x sqrt(pi / 2), the
standard deviation of a normal error), never an in-sample residual.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from flowlens._jit import borrowed, in_blocks

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_SQRT_HALF_PI = math.sqrt(math.pi / 2.0)  # E|e| = sigma * sqrt(2 / pi) for a normal error
_WINSOR = 2.5  # an error enters the scale at most at 2.5 scales: an outlier cannot inflate it
_MAX_CLEANED = 3  # at most three successive outliers enter the sums as their forecasts
_WARM_UP_ERRORS = 3  # errors before a provisional scale judges outliers in the warm-up
_WARM_UP_CAUTION = 2.0  # the provisional scale, from a few errors, counts double
_MAD_SCALE = 1.4826  # median |e| / 0.6745: the standard deviation of a normal error


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _solve(a: F64, rhs: F64, p: int, out: F64, m: F64) -> None:
    """Gaussian elimination with partial pivoting on a p x p copy (in ``m``); tiny pivots give 0."""
    for i in range(p):
        for j in range(p):
            m[i, j] = a[i, j]
        m[i, p] = rhs[i]
    for k in range(p):
        best = k
        for i in range(k + 1, p):
            if abs(m[i, k]) > abs(m[best, k]):
                best = i
        if best != k:
            for j in range(p + 1):
                m[k, j], m[best, j] = m[best, j], m[k, j]
        if abs(m[k, k]) < 1e-12:
            for j in range(p + 1):
                m[k, j] = 0.0
            m[k, k] = 1.0
            continue
        for i in range(k + 1, p):
            factor = m[i, k] / m[k, k]
            for j in range(k, p + 1):
                m[i, j] -= factor * m[k, j]
    for i in range(p - 1, -1, -1):
        total = m[i, p]
        for j in range(i + 1, p):
            total -= m[i, j] * out[j]
        out[i] = total / m[i, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _solve_on(  # noqa: PLR0917 - numba takes no keyword-only arguments
    a: F64, rhs: F64, p: int, free: F64, out: F64, m: F64, sub: F64, sub_rhs: F64
) -> None:
    """Solve a x = rhs with the coefficients not ``free`` held at 0."""
    for i in range(p):
        sub_rhs[i] = rhs[i] if free[i] > 0.0 else 0.0
        for j in range(p):
            sub[i, j] = a[i, j] if (free[i] > 0.0 and free[j] > 0.0) else 0.0
        if free[i] <= 0.0:
            sub[i, i] = 1.0
    _solve(sub, sub_rhs, p, out, m)


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _solve_small(a: F64, rhs: F64, p: int, free: F64, out: F64) -> bool:
    """Solve on the free coefficients in closed form when they are the drift and at most
    one holiday (the usual case: one or both Eids held at 0); False when they are more,
    or the 2 x 2 system is near singular (then the general solve runs)."""
    j = -1
    for i in range(1, p):
        out[i] = 0.0
        if free[i] > 0.0:
            if j >= 0:
                return False
            j = i
    if j < 0:
        if a[0, 0] <= 1e-12:
            return False
        out[0] = rhs[0] / a[0, 0]
        return True
    det = a[0, 0] * a[j, j] - a[0, j] * a[j, 0]
    if abs(det) <= 1e-12 * abs(a[0, 0] * a[j, j]) or det == 0.0:
        return False
    out[0] = (rhs[0] * a[j, j] - a[0, j] * rhs[j]) / det
    out[j] = (a[0, 0] * rhs[j] - a[j, 0] * rhs[0]) / det
    return True


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _optimal(a: F64, rhs: F64, p: int, free: F64, beta: F64) -> bool:
    """The bounded fit's conditions: free effects at least 0, no held one wanting to rise."""
    for i in range(1, p):
        if free[i] > 0.0:
            if beta[i] < 0.0:
                return False
        else:
            slope = rhs[i]
            for k in range(p):
                slope -= a[i, k] * beta[k]
            if slope > 1e-12:
                return False
    return True


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _holidays_non_negative(  # noqa: PLR0917 - numba takes no keyword-only arguments
    a: F64, rhs: F64, p: int, beta: F64, m: F64, sub: F64, vectors: F64
) -> None:
    """The least-squares fit with every holiday effect at least 0, in place of ``beta``.

    The regressors are the days just before a holiday, when remittances rise: an effect
    below 0 is noise fitted to a holiday that stayed in one month of the window, and
    carried to the month it moves into it predicts a fall that does not come (a series
    with two years of history, its Eid window always in September, scored 4.0 in the
    first August the window fell in; 2.0 with no holidays at all). ``a`` and ``rhs`` are
    the normal equations (drift first, unconstrained); Lawson and Hanson's active-set
    algorithm on them, which stops at the unconstrained fit when it is feasible.
    """
    feasible = True
    for i in range(1, p):
        feasible = feasible and beta[i] >= 0.0
    if feasible:
        return
    free, trial, sub_rhs = vectors[0], vectors[1], vectors[2]
    # most often, holding the negative effects at 0 is the answer: one solve, then the
    # optimality conditions (no held effect would lower the squares by rising)
    for i in range(p):
        free[i] = 1.0 if (i == 0 or beta[i] >= 0.0) else 0.0
    if not _solve_small(a, rhs, p, free, trial):
        _solve_on(a, rhs, p, free, trial, m, sub, sub_rhs)
    if _optimal(a, rhs, p, free, trial):
        for i in range(p):
            beta[i] = trial[i]
        return
    for i in range(p):
        free[i] = 1.0 if i == 0 else 0.0
    _solve_on(a, rhs, p, free, beta, m, sub, sub_rhs)
    for _ in range(3 * p):  # each holiday enters at most a few times; a guard, not a limit
        best, gain = -1, 1e-12
        for j in range(1, p):  # the held effect whose release lowers the squares most
            if free[j] <= 0.0:
                slope = rhs[j]
                for k in range(p):
                    slope -= a[j, k] * beta[k]
                if slope > gain:
                    best, gain = j, slope
        if best < 0:
            return
        free[best] = 1.0
        for _inner in range(p):
            _solve_on(a, rhs, p, free, trial, m, sub, sub_rhs)
            step = 1.0
            for i in range(1, p):
                if free[i] > 0.0 and trial[i] <= 0.0:
                    step = min(step, beta[i] / (beta[i] - trial[i]))
            for i in range(p):
                beta[i] += step * (trial[i] - beta[i])
            if step >= 1.0:
                break
            for i in range(1, p):
                if free[i] > 0.0 and beta[i] <= 1e-12:
                    free[i] = 0.0
                    beta[i] = 0.0


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _regressors(t: int, h: F64, n_hol: int, x: F64) -> None:
    """x = (t, h_1 .. h_H) for period t; the drift regressor is the period number."""
    x[0] = float(t)
    for j in range(n_hol):
        x[1 + j] = h[t, j]


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _add(  # noqa: PLR0917 - the sums of one category and the within-category totals, in place
    c: int,
    y: float,
    x: F64,
    p: int,
    sign: float,
    n: F64,
    sy: F64,
    sx: F64,
    within: F64,
) -> None:
    """Add (sign 1) or remove (-1) one value; ``within`` keeps the within-category sums.

    ``within`` is (p + 1, p + 1): its upper triangle (rows 0..p-1) and column p hold
    sum x x' - sx sx' / n and sum x y - sx sy / n over all categories, updated by
    taking category c's term out before the change and putting it back after.
    """
    if n[c] >= 1.0:  # only the upper triangle: the matrix is symmetric
        inv = 1.0 / n[c]
        for i in range(p):
            within[i, p] += sx[c, i] * sy[c] * inv
            for j in range(i, p):
                within[i, j] += sx[c, i] * sx[c, j] * inv
    n[c] += sign
    sy[c] += sign * y
    for i in range(p):
        sx[c, i] += sign * x[i]
        within[i, p] += sign * x[i] * y
        for j in range(i, p):
            within[i, j] += sign * x[i] * x[j]
    within[p, p] += sign
    if n[c] >= 1.0:
        inv = 1.0 / n[c]
        for i in range(p):
            within[i, p] -= sx[c, i] * sy[c] * inv
            for j in range(i, p):
                within[i, j] -= sx[c, i] * sx[c, j] * inv


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _recent_term(  # noqa: PLR0917 - numba takes no keyword-only arguments
    k: int, sign: float, p: int, n: F64, sy: F64, sx: F64, recent_n: F64, recent_ab: F64
) -> None:
    """Add (1) or take out (-1) category k's share of the recent values' fitted sums.

    ``recent_ab`` holds sum over categories of recent_n[k] * mean y (0) and * mean x (1..p),
    rebuilt from every category after a level shift (a period updates its few in place).
    """
    if k < 0 or recent_n[k] == 0.0 or n[k] < 1.0:
        return
    weight = sign * recent_n[k] / n[k]
    recent_ab[0] += weight * sy[k]
    for i in range(p):
        recent_ab[1 + i] += weight * sx[k, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _rebuild(  # noqa: PLR0917 - numba takes no keyword-only arguments
    t: int,
    window: int,
    recent: int,
    kept: F64,
    cat: I64,
    n_cat: int,
    h: F64,
    n_hol: int,
    p: int,
    x: F64,
    n: F64,
    sy: F64,
    sx: F64,
    within: F64,
    recent_n: F64,
    recent_x: F64,
    recent_ab: F64,
) -> tuple[float, int]:
    """The window's sums and the recent values' sums again, from the moved history.

    Returns the recent values' sum and count.
    """  # fmt: skip
    n[:] = 0.0
    sy[:] = 0.0
    sx[:] = 0.0
    within[:] = 0.0
    recent_n[:] = 0.0
    recent_x[:] = 0.0
    recent_ab[:] = 0.0
    recent_y = 0.0
    n_recent = 0
    for s in range(max(0, t - window), t):
        if not np.isnan(kept[s]):
            _regressors(s, h, n_hol, x)
            _add(cat[s], kept[s], x, p, 1.0, n, sy, sx, within)
            if s >= t - recent:
                recent_n[cat[s]] += 1.0
                recent_y += kept[s]
                n_recent += 1
                for i in range(p):
                    recent_x[i] += x[i]
    for k in range(n_cat):
        _recent_term(k, 1.0, p, n, sy, sx, recent_n, recent_ab)
    return recent_y, n_recent


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _insert_sorted(a: F64, start: int, n: int, value: float) -> None:
    """Insert ``value`` into the ``n`` sorted values at ``a[start:]`` (room for one more)."""
    i = start + n
    while i > start and a[i - 1] > value:
        a[i] = a[i - 1]
        i -= 1
    a[i] = value


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sorted_median(a: F64, start: int, n: int) -> float:
    """The median of the ``n`` sorted values at ``a[start:]``, as np.median gives it."""
    half = n // 2
    if n % 2 == 1:
        return float(a[start + half])
    return float((a[start + half - 1] + a[start + half]) / 2.0)


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _next_scale(  # noqa: PLR0917 - numba takes no keyword-only arguments
    error: float,
    floor: float,
    sigma: float,
    first: F64,
    n_first: int,
    min_errors: int,
    ring: F64,
    n_ring: int,
    ring_sum: float,
    ring_at: int,
) -> tuple[float, int, int, float, int]:
    """The scale after one more forecast error: (sigma, n_first, n_ring, ring_sum, ring_at).

    Until ``min_errors`` errors exist, they are kept in ``first`` (in order in its first
    half, sorted in its second, for the median without a copy) and the scale is their
    median absolute value x 1.4826; then the ring holds the last errors, each winsorised
    at 2.5 scales, and the scale is their mean x sqrt(pi / 2).
    """  # fmt: skip
    if np.isnan(sigma):
        first[n_first] = abs(error)
        _insert_sorted(first, first.size // 2, n_first, abs(error))
        n_first += 1
        if n_first >= max(min_errors, 1):
            sigma = max(_MAD_SCALE * _sorted_median(first, first.size // 2, n_first), 1e-12)
            for k in range(n_first):
                value = min(first[k], _WINSOR * sigma)
                ring[ring_at] = value
                ring_sum += value
                ring_at = ring_at + 1 if ring_at + 1 < ring.size else 0
                n_ring = min(n_ring + 1, ring.size)
        return sigma, n_first, n_ring, ring_sum, ring_at
    value = min(abs(error), _WINSOR * max(sigma, floor))
    if n_ring == ring.size:
        ring_sum -= ring[ring_at]
    else:
        n_ring += 1
    ring[ring_at] = value
    ring_sum += value
    ring_at = ring_at + 1 if ring_at + 1 < ring.size else 0
    return _SQRT_HALF_PI * ring_sum / n_ring, n_first, n_ring, ring_sum, ring_at


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _forecast_one(  # noqa: PLR0917 - one series, one pass  # long: the model step by step
    y: F64,
    cat: I64,
    n_cat: int,
    h: F64,
    n_hol: int,
    floor: F64,
    window: int,
    errors: int,
    min_errors: int,
    recent: int,
    clean: float,
    shift: float,
    confirm: int,
    ridge: float,
    f_out: F64,
    s_out: F64,
    z_out: F64,
    n_out: F64,
    ls_out: F64,
    n: F64,
    sy: F64,
    sx: F64,
    kept: F64,
    vectors: F64,
    squares: F64,
    ring: F64,
    first: F64,
    steps: F64,
    shifts: F64,
    revert: int,
    recent_n: F64,
    recent_ab: F64,
    touched: I64,
) -> None:
    t_len = y.size
    p = 1 + n_hol
    recent = min(recent, window)  # the recent values are in the window's sums
    # the caller's scratch space, reused series after series (no allocation per series)
    n[:] = 0.0
    sy[:] = 0.0
    sx[:] = 0.0
    kept[:] = np.nan  # the cleaned value of each period, as it entered the sums
    x, beta, wxy, recent_x = vectors[0], vectors[1], vectors[2], vectors[3]
    recent_n[:] = 0.0  # values per category among the last `recent`, and their sums
    recent_x[:] = 0.0
    recent_ab[:] = 0.0  # sum over them of the category means (0) and mean regressors (1..p)
    recent_y = 0.0
    n_recent = 0
    within, wxx, work = squares[0], squares[1, :p, :p], squares[2, :p, :]
    within[:] = 0.0
    n_ring = 0  # ring: winsorised absolute errors of the last scored periods
    ring_sum = 0.0
    ring_at = 0
    n_first = 0  # first: the first errors, before a scale exists
    n_shifts = 0  # shifts: (first period, confirmed at, step) of each level shift
    sigma = np.nan
    n_cleaned = 0  # successive periods cleaned
    run_start = -1
    run_sign = 0.0
    run_len = 0
    for t in range(t_len):
        # 1. the value leaving the window
        leaving = t - window - 1
        old = t - 1 - recent
        # the categories whose sums change: take their recent terms out first
        k_leaving = cat[leaving] if leaving >= 0 and not np.isnan(kept[leaving]) else -1
        k_entering = cat[t - 1] if t >= 1 and not np.isnan(kept[t - 1]) else -1
        k_old = cat[old] if old >= 0 and not np.isnan(kept[old]) else -1
        touched[0] = k_leaving
        touched[1] = k_entering if k_entering != k_leaving else -1
        touched[2] = k_old if (k_old != k_leaving and k_old != k_entering) else -1  # noqa: PLR1714 - numba: no tuple search in a hot loop
        for m in range(3):
            k = touched[m]
            if k >= 0 and recent_n[k] > 0.0 and n[k] >= 1.0:
                weight = recent_n[k] / n[k]
                recent_ab[0] -= weight * sy[k]
                for i in range(p):
                    recent_ab[1 + i] -= weight * sx[k, i]
        if k_leaving >= 0:
            _regressors(leaving, h, n_hol, x)
            _add(k_leaving, kept[leaving], x, p, -1.0, n, sy, sx, within)
        # 2. the value of t - 1 entering it, and the recent values' sums
        if k_entering >= 0:
            _regressors(t - 1, h, n_hol, x)
            _add(k_entering, kept[t - 1], x, p, 1.0, n, sy, sx, within)
            recent_n[k_entering] += 1.0
            recent_y += kept[t - 1]
            n_recent += 1
            for i in range(p):
                recent_x[i] += x[i]
        if k_old >= 0:
            _regressors(old, h, n_hol, x)
            recent_n[k_old] -= 1.0
            recent_y -= kept[old]
            n_recent -= 1
            for i in range(p):
                recent_x[i] -= x[i]
        for m in range(3):
            k = touched[m]
            if k >= 0 and recent_n[k] > 0.0 and n[k] >= 1.0:
                weight = recent_n[k] / n[k]
                recent_ab[0] += weight * sy[k]
                for i in range(p):
                    recent_ab[1 + i] += weight * sx[k, i]
        c = cat[t]
        n_out[t] = within[p, p]
        forecast = np.nan
        if n[c] >= 1.0:
            # drift and holiday effects from the within-category sums
            for i in range(p):
                wxy[i] = within[i, p]
                for j in range(i, p):
                    wxx[i, j] = within[i, j]
                    wxx[j, i] = within[i, j]
            for i in range(1, p):
                wxx[i, i] += ridge
            if wxx[0, 0] <= 1e-9:  # no category seen twice: no drift yet
                wxx[0, 0] = 1.0
                wxy[0] = 0.0
            if p == 1:  # the drift alone: what the elimination gives, without its loops
                beta[0] = wxy[0] / wxx[0, 0]
            else:
                _solve(wxx, wxy, p, beta, work)
                _holidays_non_negative(wxx, wxy, p, beta, work, squares[3, :p, :p], vectors[4:])
            _regressors(t, h, n_hol, x)
            level = sy[c] / n[c]
            for i in range(p):
                level += beta[i] * (x[i] - sx[c, i] / n[c])
            # the mean residual of the last `recent` kept values under this fit, from
            # their sums: sum(kept) - sum over them of (category mean + beta . (x - mean x))
            resid = recent_y - recent_ab[0]
            for i in range(p):
                resid -= beta[i] * (recent_x[i] - recent_ab[1 + i])
            forecast = level + (resid / n_recent if n_recent > 0 else 0.0)
        f_out[t] = forecast
        if np.isnan(forecast):
            kept[t] = y[t]
            continue
        if np.isnan(y[t]):
            continue  # missing: not scored, not in the sums
        error = y[t] - forecast
        scale = sigma
        if not np.isnan(scale):
            scale = max(scale, floor[t])
        s_out[t] = scale
        score = error / scale if scale > 0 else np.nan
        z_out[t] = score
        kept[t] = y[t]
        # before a scale exists, the first errors give a provisional one: an outlier of
        # the first years would otherwise bend its season for the whole window
        judged = score
        holiday = False  # a holiday's period is not an outlier before its effect is known
        for j in range(n_hol):
            holiday = holiday or h[t, j] > 0.0
        if np.isnan(judged) and n_first >= _WARM_UP_ERRORS and not holiday:
            provisional = _MAD_SCALE * _sorted_median(first, first.size // 2, n_first)
            judged = error / (_WARM_UP_CAUTION * provisional) if provisional > 0 else np.nan
        if not np.isnan(judged) and abs(judged) > clean:
            # an outlier enters the sums as its forecast, but not a run of them: a model fed
            # only its own forecasts extrapolates itself, and a lasting change must get in
            if n_cleaned < max(confirm, _MAX_CLEANED):
                kept[t] = forecast
            n_cleaned += 1
        else:
            n_cleaned = 0
        # 3. level shift: `confirm` scores of one sign beyond `shift`, on a plateau
        sign = 1.0 if score > 0 else -1.0
        if not np.isnan(score) and abs(score) > shift:
            if run_len > 0 and sign == run_sign:
                run_len += 1
            else:
                run_start, run_sign, run_len = t, sign, 1
        else:
            run_len = 0
        if confirm > 0 and run_len >= confirm:
            m = 0
            for s in range(run_start, t + 1):
                if not np.isnan(z_out[s]):
                    steps[m] = y[s] - f_out[s]
                    m += 1
            step = np.median(steps[:m])
            last = steps[m - 1]
            # a plateau: the last step still at least 60% of the median (a surge decays)
            if abs(last) >= 0.6 * abs(step) and abs(steps[0]) <= 2.5 * abs(step):
                for s in range(max(0, t - window), run_start):
                    if not np.isnan(kept[s]):
                        kept[s] += step
                for s in range(run_start, t + 1):
                    # at the new level; a value far from it (a zero among dips) enters
                    # as the new level, so it cannot pull its season down for years
                    kept[s] = y[s]
                    if abs(y[s] - f_out[s] - step) > clean * sigma:
                        kept[s] = f_out[s] + step
                    ls_out[s] = run_sign
                shifts[n_shifts, 0] = run_start
                shifts[n_shifts, 1] = t
                shifts[n_shifts, 2] = step
                n_shifts += 1
                recent_y, n_recent = _rebuild(
                    t, window, recent, kept, cat, n_cat, h, n_hol, p, x,
                    n, sy, sx, within, recent_n, recent_x, recent_ab,
                )  # fmt: skip
                run_len = 0
        # 4. the scale from this error, winsorised
        sigma, n_first, n_ring, ring_sum, ring_at = _next_scale(
            error, floor[t], sigma, first, n_first, min_errors, ring, n_ring, ring_sum, ring_at
        )
    _temporary_shifts(shifts, n_shifts, revert, t_len, confirm, y, f_out, z_out, shift, ls_out)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _temporary_shifts(  # noqa: PLR0917 - numba takes no keyword-only arguments
    shifts: F64,
    n_shifts: int,
    revert: int,
    t_len: int,
    confirm: int,
    y: F64,
    forecast: F64,
    z_out: F64,
    shift: float,
    ls_out: F64,
) -> None:
    """Unmark the rises that did not last: the periods of a temporary one are judged by their scores.

    A drop stays marked either way (a closure, a dip and its rebound: no surge). A shift is
    temporary when the next one starts within ``revert`` periods, goes the
    other way and takes back at least half of it (a surge that lasted a few months, a
    dip and its rebound): that next one, the return, stays marked, so a rebound is not
    a surge. It is temporary too when the level drifted back without a step: the
    forecast errors of the ``revert`` periods after it, re-anchored at the new level,
    add up to a whole step the other way (a crisis response that faded over months).
    A shift confirmed fewer than ``confirm`` periods before the end of the data cannot
    be told yet: it is treated as temporary (its flags stand, provisionally). In the
    ``revert`` periods after a drop, a rise no higher than the old level is the rebound,
    marked with the shift, not a surge.
    """
    k = 0
    while k < n_shifts:
        start, confirmed, step = int(shifts[k, 0]), int(shifts[k, 1]), shifts[k, 2]
        reverted = (
            k + 1 < n_shifts
            and shifts[k + 1, 0] - start <= revert
            and shifts[k + 1, 2] * step < 0
            and abs(shifts[k + 1, 2] + step) <= 0.5 * abs(step)
        )
        drifted_back = 0.0
        for s in range(confirmed + 1, min(confirmed + 1 + revert, t_len)):
            if not (np.isnan(y[s]) or np.isnan(forecast[s])):
                drifted_back += y[s] - forecast[s]
        faded = not reverted and drifted_back * step <= -(step * step)
        # a rise that did not last was a surge: its periods are judged by their scores; a
        # drop stays a level shift either way (a closure, a dip: never a surge)
        undetermined = k + 1 == n_shifts and t_len - 1 - confirmed < confirm
        if step > 0 and (reverted or faded or undetermined):
            for s in range(start, confirmed + 1):
                ls_out[s] = 0.0
        if step < 0:  # the rebound after a drop: back up to the old level is not a surge
            for s in range(confirmed + 1, min(confirmed + 1 + revert, t_len)):
                rise = y[s] - forecast[s]
                if z_out[s] > shift and rise <= -step:
                    ls_out[s] = 1.0
        k += 2 if reverted else 1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _forecast_block(  # noqa: PLR0917 - the arrays and settings of the method
    block: int,
    n_blocks: int,
    logs: F64,
    cat: I64,
    n_cat: int,
    hol: F64,
    group: I64,
    n_hol_group: I64,
    floor: F64,
    settings: I64,
    limits: F64,
    out: F64,
) -> None:
    """Series block, block + n_blocks, ... in place into ``out`` (5, series, periods),
    with one set of scratch space for all of them (held here while _forecast_rows runs)."""
    t_len = logs.shape[1]
    errors, min_errors, confirm = settings[1], settings[2], settings[4]
    p = 1 + hol.shape[2]
    _forecast_rows(
        block, n_blocks, logs, cat, n_cat, hol, group, n_hol_group, floor, settings, limits, out,
        np.zeros(n_cat), np.zeros(n_cat), np.zeros((n_cat, p)), np.empty(t_len),
        np.zeros((7, p)), np.zeros(n_cat), np.zeros(p + 1), np.zeros(3, dtype=np.int64),
        np.zeros((4, p + 1, p + 1)), np.zeros(max(errors, 1)), np.zeros(2 * max(min_errors, 1)),
        np.zeros(t_len), np.zeros((t_len // max(confirm, 1) + 1, 3)),
    )  # fmt: skip


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _forecast_rows(  # noqa: PLR0917 - the arrays and settings of the method, and scratch space
    block: int,
    n_blocks: int,
    logs: F64,
    cat: I64,
    n_cat: int,
    hol: F64,
    group: I64,
    n_hol_group: I64,
    floor: F64,
    settings: I64,
    limits: F64,
    out: F64,
    n: F64,
    sy: F64,
    sx: F64,
    kept: F64,
    vectors: F64,
    recent_n: F64,
    recent_ab: F64,
    touched: I64,
    squares: F64,
    ring: F64,
    first: F64,
    steps: F64,
    shifts: F64,
) -> None:
    """The series of one block, every array borrowed (flowlens._jit): the caller holds them."""
    n_series = logs.shape[0]
    window, errors, min_errors, recent, confirm, revert = (
        settings[0], settings[1], settings[2], settings[3], settings[4], settings[5]
    )  # fmt: skip
    clean, shift, ridge = limits[0], limits[1], limits[2]
    logs, cat, hol, group, n_hol_group, floor, out = (
        borrowed(logs), borrowed(cat), borrowed(hol), borrowed(group),
        borrowed(n_hol_group), borrowed(floor), borrowed(out),
    )  # fmt: skip
    n, sy, sx, kept, vectors, recent_n, recent_ab, touched = (
        borrowed(n), borrowed(sy), borrowed(sx), borrowed(kept), borrowed(vectors),
        borrowed(recent_n), borrowed(recent_ab), borrowed(touched),
    )  # fmt: skip
    squares, ring, first, steps, shifts = (
        borrowed(squares), borrowed(ring), borrowed(first), borrowed(steps), borrowed(shifts)
    )  # fmt: skip
    per_series = 1 if floor.shape[0] > 1 else 0  # one row of floors for all, or one each
    for i in range(block, n_series, n_blocks):
        # each row starts unscored here, on this thread, just before its series runs
        # (filling all five arrays first, in one thread, cost more than the pass on days)
        out[0, i, :] = np.nan
        out[1, i, :] = np.nan
        out[2, i, :] = np.nan
        out[3, i, :] = 0.0
        out[4, i, :] = 0.0
        _forecast_one(
            logs[i], cat, n_cat, hol[group[i]], n_hol_group[group[i]], floor[i * per_series],
            window, errors, min_errors, recent, clean, shift, confirm, ridge,
            out[0, i], out[1, i], out[2, i], out[3, i], out[4, i],
            n, sy, sx, kept, vectors, squares, ring, first, steps, shifts, revert,
            recent_n, recent_ab, touched,
        )  # fmt: skip


def forecast_scores(  # noqa: PLR0917 - the arrays and settings of the method
    logs: F64,
    cat: I64,
    n_cat: int,
    hol: F64,
    group: I64,
    n_hol_group: I64,
    floor: F64,
    window: int,
    errors: int,
    min_errors: int,
    recent: int,
    clean: float,
    shift: float,
    confirm: int,
    ridge: float,
    revert: int,
) -> tuple[F64, F64, F64, F64, F64]:
    """Forecast, scale, score, values used and level-shift marks of every series.

    ``logs`` (series, periods); ``cat`` the season category of each period;
    ``hol`` (groups, periods, H) holiday regressors, ``group`` the row of ``hol`` of
    each series, ``n_hol_group`` how many of the H each group uses; ``floor`` (series,
    periods) the least scale, or (1, periods): the same for every series.

    The series run in blocks on threads (:func:`flowlens._jit.in_blocks`).
    """
    n_series, t_len = logs.shape
    out = np.empty((5, n_series, t_len))  # each row is set by the block that runs it
    settings = np.array([window, errors, min_errors, recent, confirm, revert], dtype=np.int64)
    limits = np.array([clean, shift, ridge], dtype=np.float64)
    logs = np.ascontiguousarray(logs, dtype=np.float64)
    floor = np.ascontiguousarray(floor, dtype=np.float64)
    hol = np.ascontiguousarray(hol, dtype=np.float64)
    cat = np.ascontiguousarray(cat, dtype=np.int64)
    group = np.ascontiguousarray(group, dtype=np.int64)
    n_hol_group = np.ascontiguousarray(n_hol_group, dtype=np.int64)

    def run(block: int, n_blocks: int) -> None:
        _forecast_block(
            block, n_blocks, logs, cat, n_cat, hol, group, n_hol_group, floor,
            settings, limits, out,
        )  # fmt: skip

    in_blocks(n_series, run)
    return out[0], out[1], out[2], out[3], out[4]
