"""The ``forecast`` method: a one-step forecast of level, season and holidays, scored by its own past errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import MissingColumnError, ParameterError
from flowlens.freq import months_per_period, normalise_freq
from flowlens.surge._baselines import F64, SUM_CV, rolling_median_mad

FORECAST_FLOOR_LOG = 0.02
"""An assumption: the scale of a one-step forecast error is at least 0.02 in log
points (2%), a third of the smallest scale of the real national monthly series
(Banco de Mexico since 2015: 5%; Banco de Guatemala 6%; Banco de la Republica 9%), so a
flat or synthetic series does not turn every wiggle into a surge."""
FORECAST_THRESHOLD = 3.0
"""The default threshold of the forecast method on monthly, quarterly and yearly panels.
Its score is a one-step forecast error over the series' own past errors, close to a
standard normal where nothing happens: beyond 3 one-sided is 0.13% of periods, the
cut-off the SARIMAX and STL comparisons use (benchmarks/eval_surge_real.py). On the real
national monthly series it flags 0.13 periods per series-year (0.10 at 3.5) and no
Mother's Day May in Mexico or December in Guatemala or Colombia. Finer frequencies get
the same yearly rate from noise (:func:`forecast_threshold`)."""
CLEAN_AT = 3.0
"""A value scoring beyond 3 (either way) enters later baselines as its forecast:
X-13ARIMA-SEATS and TRAMO treat such a point as an additive outlier, so it does not
bend the seasonal profile of the next years (their critical values are 3.5-4 for
declaring outliers; cleaning at 3 is the cautious side of that)."""
SHIFT_AT = 2.5
"""Scores beyond 2.5 of one sign in ``SHIFT_CONFIRM`` successive periods, on a plateau,
are a level shift (a reporting break, a move between channels): the baseline is
re-anchored at the new level. 2.5 for each of three periods is far rarer than a single
3.5 under normal errors (0.6% cubed), so a shift is not declared lightly."""
SHIFT_CONFIRM = 3
"""Periods a level shift must last before it is confirmed: the break month and two
more. From the fourth period on the baseline stands at the new level, against a year
or more for a baseline that waits for its window to turn over."""
HOLIDAY_RIDGE = 0.01
"""A small ridge on the holiday effects (in units of squared day shares), so a
holiday that never moved within the window gets an effect near 0, not an arbitrary one."""

# periods of the level correction: about a quarter of a year
_RECENT = {"d": 91, "w": 13, "mo": 3, "q": 1, "y": 1}
# periods that confirm a level shift; 0: none at daily frequency, where a crisis response
# lasts for weeks of days and a step of three days would take it for a break
_CONFIRM = {"d": 0, "w": 4, "mo": SHIFT_CONFIRM, "q": SHIFT_CONFIRM, "y": SHIFT_CONFIRM}


def forecast_threshold(freq: str) -> float:
    """The default threshold at ``freq``: as many flags from noise per series-year as 3.0 monthly.

    A normal score passes 3.0 in 0.135% of periods: 0.016 a year at 12 periods. At
    365 days a year the same yearly rate needs about 3.9; never below 3.0.
    """
    from scipy.stats import norm

    every = _every(freq)
    n = int(every[:-2] if every.endswith("mo") else every[:-1])
    # periods a year, whole or not: 365 / n days, 52 / n weeks
    per_year = {"d": 365 / n, "w": 52 / n}.get(every[-1], season_length(every))
    tail = float(norm.sf(FORECAST_THRESHOLD)) * 12 / max(per_year, 12)
    return round(max(FORECAST_THRESHOLD, float(norm.isf(tail))), 2)


def _every(freq: str) -> str:
    """The period length, with weeks that do not start on Monday (``7d``: pandas' Sunday
    weeks) read as weeks: they have the same seasons."""
    every = normalise_freq(freq)
    return "1w" if every == "7d" else every


def forecast_defaults(freq: str) -> tuple[int, int]:
    """(window, min_periods) of the forecast method at ``freq``: six years of periods, one of errors."""
    every = _every(freq)
    season = season_length(every)
    if every == "1d":  # three years: each (month, weekday) seen about 13 times a year
        return 3 * 365, 60
    if every.endswith("d"):  # days without seasons: two years of them
        return max(10, 730 // int(every[:-1])), 12
    if season == 1:
        return 10, 4
    return 6 * season, max(4, season)


def season_length(freq: str) -> int:
    """Periods in a year at ``freq`` (12 for months, 365 for days; 1 when not whole)."""
    from flowlens.freq import periods_per_year

    return periods_per_year(_every(freq)) or 1


def season_categories(periods: pl.Series, freq: str) -> tuple[np.ndarray, int]:
    """The season category of each period (month of year, quarter, weekday...) and their number."""
    every = _every(freq)
    months = months_per_period(every)
    dates = periods.cast(pl.Date)
    if months is not None and 12 % months == 0 and months < 12:
        cat = ((dates.dt.month().cast(pl.Int64) - 1) // months).to_numpy()
        return cat.astype(np.int64), 12 // months
    if every == "1w":
        week = ((dates.dt.ordinal_day().cast(pl.Int64) - 1) // 7).clip(0, 51)
        return week.to_numpy().astype(np.int64), 52
    if every == "1d":  # month of year x day of week: December and weekends each have a level
        month = dates.dt.month().cast(pl.Int64) - 1
        weekday = dates.dt.weekday().cast(pl.Int64) - 1
        return (month * 7 + weekday).to_numpy().astype(np.int64), 84
    return np.zeros(periods.len(), dtype=np.int64), 1


HOLIDAY_SOURCES = ("tabular", "observed", "none")
"""Where the default holiday dates come from (:func:`flowlens.calendar.holiday_dates`);
``"none"``: no holiday effects."""


def holiday_regressors(
    series: pl.DataFrame,
    periods: pl.Series,
    every: str,
    holidays: pl.DataFrame | None,
    *,
    source: str = "tabular",
) -> tuple[F64, np.ndarray, np.ndarray]:
    """Shares of each period's days before each holiday, each series' group, each group's count.

    (groups, periods, H) shares; a group is a receiving country, H the most holidays any
    of them has, and the count how many of the H a group has (the rest are zeros).
    Series without a ``destination`` key, and yearly series (a holiday falls in every
    year), get none.
    """
    n_periods = periods.len()
    if fs.DESTINATION not in series.columns or season_length(every) <= 1 or source == "none":
        none = np.zeros(1, dtype=np.int64)
        return np.zeros((1, n_periods, 0)), np.zeros(series.height, dtype=np.int64), none
    from flowlens.calendar import holiday_windows

    destinations = series[fs.DESTINATION].cast(pl.String)
    countries = destinations.unique().sort()
    if holidays is None:
        first, last = periods.min(), periods.max()
        first_year = first.year if isinstance(first, dt.date) else 1900
        last_year = last.year if isinstance(last, dt.date) else 2100
        holidays = holiday_windows(first_year, last_year, countries=countries, source=source)
    else:
        holidays = checked_holiday_days(holidays, countries)
    name = pl.col("holiday").cast(pl.String) if "holiday" in holidays.columns else pl.lit("holiday")
    period_days = (
        periods.cast(pl.Date)
        .to_frame("period")
        .with_row_index("t")
        .with_columns(
            days=(pl.col("period").dt.offset_by(every) - pl.col("period")).dt.total_days()
        )
    )
    per_period = (
        holidays.select(
            pl.col("country").cast(pl.String), name.alias("holiday"), pl.col("date").cast(pl.Date)
        )
        .drop_nulls()
        .unique()
        .filter(pl.col("country").is_in(countries.implode()))
        .sort("date")
        # each day in the period that starts on or before it (the panel's own periods:
        # weeks ending on Sundays included), if it ends after it
        .join_asof(period_days, left_on="date", right_on="period", strategy="backward")
        .filter(pl.col("date") < pl.col("period").dt.offset_by(every))
        .group_by("country", "holiday", "t", "days")
        .len()
        .with_columns(share=pl.col("len") / pl.col("days"))
        .with_columns(
            slot=pl.col("holiday").rank("dense").over("country").cast(pl.Int64) - 1,
            group=pl.col("country").replace_strict(
                countries, pl.int_range(countries.len(), eager=True), return_dtype=pl.Int64
            ),
        )
    )
    n_slots = int(per_period["slot"].max()) + 1 if per_period.height else 0  # type: ignore[arg-type]
    table = np.zeros((countries.len(), n_periods, n_slots))
    counts = np.zeros(countries.len(), dtype=np.int64)
    if per_period.height:
        groups, slots = per_period["group"].to_numpy(), per_period["slot"].to_numpy()
        table[groups, per_period["t"].to_numpy(), slots] = per_period["share"].to_numpy()
        np.maximum.at(counts, groups, slots + 1)
    group = destinations.replace_strict(
        countries, pl.int_range(countries.len(), eager=True), return_dtype=pl.Int64
    ).to_numpy()
    return table, group.astype(np.int64), counts


def checked_holiday_days(holidays: object, countries: pl.Series) -> pl.DataFrame:
    """A caller's table of the days before holidays: ``country`` (ISO3), ``date``, optional ``holiday``.

    Checked like the calendar's own tables (types, nulls, ISO3 codes), and refused when
    it is empty or names none of the panel's receiving countries: a table that matches
    nothing would silently remove every holiday effect.
    """
    from flowlens.calendar import _cast_checked

    table = from_any(holidays, what="holidays").eager()
    absent = [c for c in ("country", "date") if c not in table.columns]
    if absent:
        msg = (
            "holidays needs columns 'country' (ISO3) and 'date' (the days before each "
            "holiday, as flowlens.calendar.holiday_windows returns them), and optionally "
            f"'holiday' (one effect per name); it has {table.columns}"
        )
        raise MissingColumnError(msg, column=absent[0], present=table.columns)
    if "holiday" not in table.columns:
        table = table.with_columns(holiday=pl.lit("holiday"))
    table = _cast_checked(table.select("country", "holiday", "date"), "holidays")
    if table.filter(pl.col("country").is_in(countries.implode())).height == 0:
        msg = (
            f"holidays names none of the panel's receiving countries {countries.head(5).to_list()}"
            f" (it has {table['country'].unique().sort().head(5).to_list()}): pass the days "
            "before the holidays of those countries, e.g. "
            "flowlens.calendar.holiday_windows(2015, 2024, countries=[...]), or "
            "holidays='none' for no holiday effects"
        )
        raise ParameterError(msg)
    return table


def scale_floor(values: F64, counts: F64 | None, window: int) -> F64:
    """The least scale of each score: FORECAST_FLOOR_LOG, or the sampling noise of a sum of n transfers.

    Without counts, one row for every series (the kernel reads row 0 for all).
    """
    if counts is None:
        return np.full((1, values.shape[1]), FORECAST_FLOOR_LOG)
    typical_n, _, _ = rolling_median_mad(counts, window, min_periods=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = SUM_CV / np.sqrt(typical_n)
    floor: F64 = np.fmax(FORECAST_FLOOR_LOG, np.where(np.isfinite(noise), noise, np.nan))
    return floor


ZERO_AT = 1e-3
"""A zero (a corridor closed, a month with nothing recorded) in a series where zeros are
rare is scored as 0.1% of the median positive value of the window before it: a drop of
about 7 log points, far below any threshold, so three zeros in a row are a level shift
down, where a log of zero would leave them unscored (and a closure unseen)."""
ZERO_RARE = 0.0
"""Zeros are rare in the window before a period when it holds none, apart from the
run of zeros just before it (a closure in progress); in a sparse series (a small
corridor, a month without transfers now and then) a zero is ordinary and is not
scored, as before."""


def _logs(values: F64, window: int, season: int) -> F64:
    """Logs of the values; a zero where zeros are rare, at ZERO_AT of the window's median.

    Only the window before each period decides (no look-ahead).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero's -inf is replaced below
        logs: F64 = np.ascontiguousarray(np.log(values), dtype=np.float64)
    zero = values == 0
    rows = np.flatnonzero(zero.any(axis=1))
    if rows.size == 0:
        return logs
    positive = np.where(values[rows] > 0, values[rows], np.nan)
    median, _, n_positive = rolling_median_mad(positive, window, min_periods=1)
    zeros = zero[rows].astype(np.float64)
    zeros_before = _trailing_sum(zeros, window)
    # the zeros just before, in one run: a closure in progress, not a sparse series
    for_run = np.concatenate([np.zeros((rows.size, 1)), zeros[:, :-1]], axis=1)
    breaks = np.where(for_run == 0, np.arange(zeros.shape[1]), 0)
    last_break = np.maximum.accumulate(breaks, axis=1)
    run = np.arange(zeros.shape[1]) - last_break
    # and only once two years of positive values stand before it (past the warm-up)
    rare = (n_positive >= max(2 * season, 8)) & (zeros_before - run <= ZERO_RARE * window)
    with np.errstate(divide="ignore", invalid="ignore"):
        floored = np.log(ZERO_AT * median)
    logs[rows] = np.where(zero[rows], np.where(rare, floored, np.nan), logs[rows])
    return logs


def _trailing_sum(a: F64, window: int) -> F64:
    """Sum of each row's ``window`` values before each period (not the period itself)."""
    total = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(a, axis=1)], axis=1)
    ends = total[:, :-1]
    starts = np.concatenate([np.zeros((a.shape[0], window)), total], axis=1)[:, : a.shape[1]]
    result: F64 = ends - starts
    return result


def score_forecast(  # noqa: PLR0917 - the arrays of SeriesArrays
    values: F64,
    counts: F64 | None,
    periods: pl.Series,
    freq: str,
    window: int,
    min_periods: int,
    holidays: tuple[F64, np.ndarray, np.ndarray],
) -> tuple[F64, F64, F64, F64, F64]:
    """Baseline, scale, score, values used and level-shift marks of every series."""
    from flowlens.surge._forecast_kernel import forecast_scores

    every = normalise_freq(freq)
    cat, n_cat = season_categories(periods, every)
    logs = _logs(values, window, season_length(every))
    table, group, n_holidays = holidays
    floor = np.ascontiguousarray(scale_floor(values, counts, min(window, 12)), dtype=np.float64)
    unit = _every(every).lstrip("0123456789")
    recent = _RECENT[unit]
    forecast, scale, score, used, shift = forecast_scores(
        logs,
        cat,
        n_cat,
        np.ascontiguousarray(table, dtype=np.float64),
        group,
        n_holidays,
        floor,
        window,
        max(window // 2, min_periods),
        min_periods,
        recent,
        CLEAN_AT,
        SHIFT_AT,
        _CONFIRM[unit],
        HOLIDAY_RIDGE,
        max(season_length(every), 2 * SHIFT_CONFIRM),
    )
    # no baseline before a series' first score: in its warm-up a season seen once or twice
    # gives a drift that is not yet a forecast, and it would reach plots and excess sums
    scored = ~np.isnan(score)
    first = np.where(scored.any(axis=1), scored.argmax(axis=1), score.shape[1])
    with np.errstate(over="ignore"):
        baseline = np.exp(forecast, out=forecast)  # the kernel's own array: not read again
    baseline[np.arange(score.shape[1]) < first[:, None]] = np.nan
    return baseline, scale, score, used, shift


__all__ = [
    "CLEAN_AT",
    "FORECAST_FLOOR_LOG",
    "FORECAST_THRESHOLD",
    "HOLIDAY_RIDGE",
    "SHIFT_AT",
    "SHIFT_CONFIRM",
    "forecast_defaults",
    "holiday_regressors",
    "score_forecast",
    "season_categories",
]
