"""Crisis surge detection across thousands of series at once.

Every series (a corridor, or a receiving country) is laid on one dense
series x period array; the baselines are exact rolling medians and median
absolute deviations computed by one sort per window over numpy's
``sliding_window_view``, with no Python loop per series. By default a baseline
uses only data before the period it scores (no look-ahead), so results stay valid
for real-time monitoring.

Methods
-------
``rolling``
    The trailing ``window`` periods' median and MAD of the level;
    ``score = (x - median) / (1.4826 * MAD)``.
``seasonal``
    The change from the same period one year earlier, ``r = log(x_t / x_{t-L})``
    (L = 12 months, 4 quarters, 52 weeks or 365 days), scored against the trailing
    ``window`` values of ``r``; the baseline is ``x_{t-L} * exp(median r)``. A
    yearly peak (December, Mother's Day in Mexico) recurs in ``x_{t-L}`` and is not a
    surge.
``calendar``
    ``seasonal``, with moving holidays taken out: ``h`` is the share of a period's
    days that fall in the window before a holiday of the receiving country (Eid for
    Muslim-majority countries, which moves about 11 days a year, so its month
    changes); the change in ``h`` from a year earlier explains part of ``r``, with a
    slope fitted per series by least squares over the trailing ``window``. At daily
    frequency ``h`` is 0 or 1; weekly and monthly, the share of the days.

References
----------
.. [1] B. Iglewicz and D. C. Hoaglin, *How to Detect and Handle Outliers*, ASQC
   Quality Press, 1993: the modified z-score 0.6745 (x - median) / MAD, with
   |z| > 3.5 as the outlier rule (1 / 0.6745 = 1.4826, the MAD's consistency
   factor for normal data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError
from flowlens.panel import _normalise_freq

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAD_SCALE",
    "METHODS",
    "SurgeResult",
    "attribute_surges",
    "detect_surges",
    "evaluate_surges",
    "event_study",
    "read_crisis_events",
    "rolling_median_mad",
    "surge_episodes",
]

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
``n_transfers``, a period's scale is floored at the sampling noise of a sum of n such
transfers, ``AMOUNT_CV / sqrt(n)`` (relative), so sparse corridors do not raise false
alarms."""
METHODS = ("rolling", "seasonal", "calendar")
_SEASON = {"1mo": 12, "1q": 4, "1w": 52, "1d": 365, "1y": 1}


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
    method, threshold, window
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

    def __repr__(self) -> str:
        n_flags = int(self.scored["flag"].sum())
        return (
            f"SurgeResult(method={self.method!r}, window={self.window}, threshold={self.threshold}, "
            f"rows={self.scored.height:,}, flagged={n_flags:,}, diagnostics={self.diagnostics.height})"
        )


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


def detect_surges(
    panel: Any,
    *,
    freq: str = "1mo",
    method: str = "seasonal",
    window: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
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
        ``seasonal`` (default) or ``rolling``; see the module notes.
    window
        Baseline length in periods. Default: 12 periods for ``rolling`` and 3 years
        of year-over-year changes for ``seasonal`` (36 months, 12 quarters).
    threshold
        Flag when the score exceeds it (default 3.5, Iglewicz and Hoaglin 1993).
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
    if method not in METHODS:
        msg = f"method {method!r} is not one of {list(METHODS)}"
        raise SchemaError(msg)
    if level not in ("corridor", "destination"):
        msg = f"level {level!r} is not 'corridor' or 'destination'"
        raise SchemaError(msg)
    if missing not in ("null", "zero"):
        msg = f"missing {missing!r} is not 'null' or 'zero'"
        raise SchemaError(msg)
    every = _normalise_freq(freq)
    season = _SEASON.get(every)
    if method in ("seasonal", "calendar") and season is None:
        msg = f"method {method!r} needs a freq of 1d, 1w, 1mo or 1q, got {freq!r}"
        raise SchemaError(msg)
    frame = panel.collect() if isinstance(panel, pl.LazyFrame) else panel
    if not isinstance(frame, pl.DataFrame):
        msg = f"detect_surges takes a polars DataFrame or LazyFrame, got {type(panel).__name__}"
        raise SchemaError(msg)
    keys = _keys(frame, level, by_flow_type)
    for column in ("period", value, *keys):
        if column not in frame.columns:
            raise MissingColumnError.for_column(column, frame.columns)
    if window is None:
        window = 12 if method == "rolling" else 3 * (season or 12)
    if window < 2:
        msg = f"window must be at least 2 periods, got {window}"
        raise SchemaError(msg)
    min_periods = max(2, window // 2) if min_periods is None else min_periods

    counted = "n_transfers" in frame.columns
    columns = [value, "n_transfers"] if counted else [value]
    series, periods, arrays = _dense(frame, keys, columns, every, zero_fill=missing == "zero")
    values = arrays[0]
    counts = arrays[1] if counted else None
    if method == "rolling":
        baseline, scale, score, n_history = _score_rolling(values, counts, window, min_periods)
    else:
        share = _holiday_share(series, periods, every, holidays) if method == "calendar" else None
        baseline, scale, score, n_history = _score_seasonal(
            values, counts, season or 12, window, min_periods, holiday_share=share
        )
    flag = np.nan_to_num(score, nan=-np.inf) > threshold
    n_series, n_periods = values.shape
    scored = pl.DataFrame(
        {
            "series": np.repeat(np.arange(n_series), n_periods),
            "period": np.tile(periods.to_numpy(), n_series),
            value: values.ravel(),
            "baseline": baseline.ravel(),
            "scale": scale.ravel(),
            "score": score.ravel(),
            "flag": flag.ravel(),
            "n_history": n_history.ravel().astype(np.int64),
        },
        nan_to_null=True,
    )
    # series are in key order and periods ascending: gather the keys, no join or sort
    scored = pl.concat(
        [series[np.repeat(np.arange(n_series), n_periods)], scored.drop("series")],
        how="horizontal",
    ).with_columns(pl.col("period").cast(pl.Date))
    return SurgeResult(scored, _diagnostics(scored, keys), method, threshold, window)


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
    numbered = known.select(
        *keys,
        pl.col("period").dt.truncate(every).cast(pl.Date),
        (pl.struct(keys).rank("dense").cast(pl.Int64) - 1).alias("s"),
        _period_number(pl.col("period"), every).alias("t"),
        *[pl.col(c).cast(pl.Float64).alias(f"_v{i}") for i, c in enumerate(columns)],
    )
    first_t = int(numbered["t"].min())  # type: ignore[arg-type]
    n_periods = int(numbered["t"].max()) - first_t + 1  # type: ignore[arg-type]
    series = numbered.unique("s").sort("s").select(keys)
    periods = numbered.select(
        pl.date_range(pl.col("period").min(), pl.col("period").max(), interval=every)
    ).to_series()
    cell = numbered["s"].to_numpy() * n_periods + (numbered["t"].to_numpy() - first_t)
    size = series.height * n_periods
    present = np.bincount(cell, minlength=size) > 0
    arrays = []
    for i in range(len(columns)):  # one or two value columns
        sums = np.bincount(cell, weights=numbered[f"_v{i}"].to_numpy(), minlength=size)
        flat = np.zeros(size) if zero_fill else np.full(size, np.nan)
        flat[present] = sums[present]
        arrays.append(flat.reshape(series.height, n_periods))
    return series, periods, arrays


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
            scale = _floor(scale, AMOUNT_CV * np.abs(median) / np.sqrt(typical_n))
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
            scale = _floor(scale, AMOUNT_CV * np.sqrt(2.0 / last_count))
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


def _holiday_share(
    series: pl.DataFrame, periods: pl.Series, every: str, holidays: pl.DataFrame | None
) -> F64:
    """Share of each period's days that are pre-holiday days in the series' receiving country."""
    from flowlens.calendar import holiday_windows

    destinations = series[fs.DESTINATION].cast(pl.String)
    first, last = periods.min(), periods.max()
    first_year = first.year if isinstance(first, dt.date) else 1900
    last_year = last.year if isinstance(last, dt.date) else 2100
    if holidays is None:
        holidays = holiday_windows(first_year, last_year + 1, countries=destinations.unique())
    elif not {"country", "date"} <= set(holidays.columns):
        msg = "holidays needs columns 'country' and 'date' (the days before holidays)"
        raise SchemaError(msg)
    period_days = (
        periods.to_frame("period")
        .with_row_index("t")
        .with_columns(
            days=(pl.col("period").dt.offset_by(every) - pl.col("period")).dt.total_days()
        )
    )
    per_period = (
        holidays.select(pl.col("country").cast(pl.String), pl.col("date").cast(pl.Date))
        .unique()
        .group_by("country", period=pl.col("date").dt.truncate(every))
        .len()
        .join(period_days, on="period", how="inner")
        .with_columns(share=pl.col("len") / pl.col("days"))
    )
    country_index = {c: i for i, c in enumerate(destinations.unique().sort().to_list())}
    table = np.zeros((len(country_index) + 1, periods.len()))
    located = per_period.filter(pl.col("country").is_in(list(country_index)))
    rows = located["country"].replace_strict(country_index, return_dtype=pl.Int64).to_numpy()
    table[rows, located["t"].to_numpy()] = located["share"].to_numpy()
    index = destinations.replace_strict(country_index, return_dtype=pl.Int64).to_numpy()
    result: F64 = table[index]
    return result


def _diagnostics(scored: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    summary = scored.group_by(keys).agg(
        n_periods=pl.len().cast(pl.Int64),
        n_scored=pl.col("score").is_not_null().sum().cast(pl.Int64),
    )
    return (
        summary.filter(pl.col("n_scored") < pl.col("n_periods"))
        .with_columns(
            reason=pl.when(pl.col("n_scored") == 0)
            .then(pl.lit("never scored: too little history for the window (see min_periods)"))
            .otherwise(pl.lit("some periods unscored: the first periods, or missing values"))
        )
        .sort(keys)
    )


def surge_episodes(result: SurgeResult | pl.DataFrame) -> pl.DataFrame:
    """One row per episode: a run of consecutive flagged periods of one series.

    Returns
    -------
    polars.DataFrame
        The series key, ``start``, ``end``, ``n_periods``, ``peak_period``,
        ``peak_score``, ``observed_usd``, ``baseline_usd``, ``excess_usd``
        (observed minus baseline over the episode) and ``uplift`` (excess /
        baseline).

    Examples
    --------
    >>> import flowlens as fl
    >>> monthly = fl.load_sample("mexico_monthly").filter(destination="MEX")
    >>> scored = fl.detect_surges(monthly, level="destination", method="rolling")
    >>> episodes = fl.surge_episodes(scored)
    >>> "2020-03-01" in [str(d) for d in episodes["start"]]
    True
    """
    scored = result.scored if isinstance(result, SurgeResult) else result
    value = next(c for c in scored.columns if c not in _RESERVED and scored.schema[c].is_float())
    keys = [c for c in scored.columns if c in (fs.ORIGIN, fs.DESTINATION, fs.FLOW_TYPE)]
    flag = pl.col("flag").fill_null(False)
    runs = scored.sort(*keys, "period").with_columns(
        run=(flag != flag.shift(1).over(keys)).fill_null(True).cast(pl.Int64).cum_sum().over(keys)
    )
    return (
        runs.filter(flag)
        .group_by(*keys, "run")
        .agg(
            start=pl.col("period").min(),
            end=pl.col("period").max(),
            n_periods=pl.len().cast(pl.Int64),
            peak_period=pl.col("period").sort_by("score").last(),
            peak_score=pl.col("score").max(),
            observed_usd=pl.col(value).sum(),
            baseline_usd=pl.col("baseline").sum(),
        )
        .with_columns(excess_usd=pl.col("observed_usd") - pl.col("baseline_usd"))
        .with_columns(uplift=pl.col("excess_usd") / pl.col("baseline_usd"))
        .drop("run")
        .sort(*keys, "start")
    )


_RESERVED = {"baseline", "scale", "score", "flag", "n_history", "period"}


def read_crisis_events(path: str | Any) -> pl.DataFrame:
    """Read a crisis-events table into ``event_id``, ``country``, ``start``, ``kind``, ``name``.

    Accepts the columns of DESIGN.md (``event_id``, ``country``, ``start``, ``kind``,
    ``name``) or those of ``data/samples/real/crisis_events.csv`` (``country_iso3``,
    ``event_type``, ``start_date``, ``notes``). A country cell may list several
    countries separated by ``;`` (one row each); ``ALL`` marks a global event.

    Examples
    --------
    >>> from flowlens.surge import read_crisis_events
    >>> events = read_crisis_events("data/samples/real/crisis_events.csv")
    >>> events.filter(event_id="MEX_EQ_2017B").select("country", "start").row(0)
    ('MEX', datetime.date(2017, 9, 19))
    """
    raw = pl.read_csv(path, infer_schema=False)
    renames = {
        "country_iso3": "country",
        "event_type": "kind",
        "start_date": "start",
        "notes": "name",
    }
    raw = raw.rename(
        {k: v for k, v in renames.items() if k in raw.columns and v not in raw.columns}
    )
    for column in ("event_id", "country", "start"):
        if column not in raw.columns:
            raise MissingColumnError.for_column(column, raw.columns)
    return (
        raw.with_columns(
            pl.col("country").str.split(";"),
            pl.col("start").str.strip_chars().str.to_date("%Y-%m-%d"),
        )
        .explode("country")
        .with_columns(pl.col("country").str.strip_chars().str.to_uppercase())
        .select(
            "event_id",
            "country",
            "start",
            kind=pl.col("kind") if "kind" in raw.columns else pl.lit(None, pl.String),
            name=pl.col("name") if "name" in raw.columns else pl.lit(None, pl.String),
        )
    )


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


def attribute_surges(
    episodes: pl.DataFrame, events: pl.DataFrame, *, max_lag: int = 2, freq: str = "1mo"
) -> pl.DataFrame:
    """Link each surge episode to the crisis in its receiving country that most likely caused it.

    An episode is attributed to the latest event in its destination (or a global
    ``ALL`` event) that started at most ``max_lag`` periods before the episode
    began, and not after it.

    Returns
    -------
    polars.DataFrame
        The episodes with ``event_id``, ``event_start`` and ``lag_periods`` (null
        where no event qualifies).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.surge import attribute_surges
    >>> episodes = pl.DataFrame({"destination": ["NPL", "MEX"],
    ...                          "start": [dt.date(2015, 5, 1), dt.date(2019, 1, 1)]})
    >>> events = pl.DataFrame({"event_id": ["EQ"], "country": ["NPL"], "start": [dt.date(2015, 4, 25)]})
    >>> attribute_surges(episodes, events).select("destination", "event_id", "lag_periods").rows()
    [('NPL', 'EQ', 1), ('MEX', None, None)]
    """
    every = _normalise_freq(freq)
    for column in (fs.DESTINATION, "start"):
        if column not in episodes.columns:
            raise MissingColumnError.for_column(column, episodes.columns)
    for column in ("event_id", "country", "start"):
        if column not in events.columns:
            raise MissingColumnError.for_column(column, events.columns)
    numbered = episodes.with_row_index("_episode").with_columns(
        _n=_period_number(pl.col("start"), every), _dest=pl.col(fs.DESTINATION).cast(pl.String)
    )
    candidates = events.select(
        "event_id",
        _country=pl.col("country").cast(pl.String),
        event_start=pl.col("start"),
        _event_n=_period_number(pl.col("start"), every),
    )
    local = numbered.join(candidates, left_on="_dest", right_on="_country", how="inner")
    global_ = numbered.join(candidates.filter(pl.col("_country") == "ALL"), how="cross")
    matches = (
        pl.concat([local, global_.drop("_country")], how="diagonal")
        .with_columns(lag_periods=pl.col("_n") - pl.col("_event_n"))
        .filter(pl.col("lag_periods").is_between(0, max_lag))
        .sort("_episode", "lag_periods", "event_start")
        .unique("_episode", keep="first", maintain_order=True)
        .select("_episode", "event_id", "event_start", "lag_periods")
    )
    return (
        numbered.join(matches, on="_episode", how="left")
        .sort("_episode")
        .drop("_episode", "_n", "_dest")
    )


def event_study(
    result: SurgeResult | pl.DataFrame,
    *,
    country: str,
    start: Any,
    horizon: int = 6,
    freq: str = "1mo",
) -> pl.DataFrame:
    """Excess over baseline by sending country for k = 0..horizon periods after an event.

    Parameters
    ----------
    result
        Scored corridors (``level="corridor"``) from :func:`detect_surges`.
    country, start
        The receiving country and the event's date.

    Returns
    -------
    polars.DataFrame
        Per ``origin`` (and flow type, if scored by it) and ``k``: ``excess_usd``,
        ``cumulative_excess_usd``, and per series ``peak_k`` (periods to the
        largest excess) and ``total_excess_usd``: which diasporas respond fastest
        and strongest.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.surge import event_study
    >>> scored = pl.DataFrame({"origin": ["GBR"] * 3, "destination": ["NPL"] * 3,
    ...     "period": [dt.date(2015, 4, 1), dt.date(2015, 5, 1), dt.date(2015, 6, 1)],
    ...     "amount_usd": [10.0, 30.0, 12.0], "baseline": [10.0, 10.0, 10.0]})
    >>> event_study(scored, country="NPL", start=dt.date(2015, 4, 25)).select("k", "excess_usd", "peak_k").rows()
    [(0, 0.0, 1), (1, 20.0, 1), (2, 2.0, 1)]
    """
    every = _normalise_freq(freq)
    scored = result.scored if isinstance(result, SurgeResult) else result
    if fs.ORIGIN not in scored.columns:
        msg = "event_study needs corridor-level scores: detect_surges(..., level='corridor')"
        raise SchemaError(msg)
    value = next(c for c in scored.columns if c not in _RESERVED and scored.schema[c].is_float())
    onset = pl.select(_period_number(pl.lit(start).cast(pl.Date), every)).item()
    keys = [c for c in (fs.ORIGIN, fs.FLOW_TYPE) if c in scored.columns]
    window = (
        scored.filter(pl.col(fs.DESTINATION).cast(pl.String) == country)
        .with_columns(k=_period_number(pl.col("period"), every) - onset)
        .filter(pl.col("k").is_between(0, horizon))
        .with_columns(excess_usd=pl.col(value) - pl.col("baseline"))
        .sort(*keys, "k")
    )
    excess = pl.col("excess_usd")
    return window.select(
        *keys,
        "k",
        "period",
        "excess_usd",
        cumulative_excess_usd=excess.fill_null(0.0).cum_sum().over(keys),
        peak_k=pl.col("k").sort_by(excess.fill_null(-np.inf)).last().over(keys),
        total_excess_usd=excess.sum().over(keys),
    )


def evaluate_surges(
    episodes: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    scored: SurgeResult | None = None,
    min_uplift: float = 0.3,
    tolerance: int = 1,
    freq: str = "1mo",
) -> dict[str, float]:
    """Precision, recall, F1 and excess-volume error of detected episodes against known truth.

    Parameters
    ----------
    episodes
        From :func:`surge_episodes` (corridor or destination level).
    truth
        Per series and ``period``: ``baseline_usd`` and ``excess_usd``, as
        ``flowlens.synth``'s ``truth.panel`` gives them (aggregate it to the
        episodes' series first if they are by destination).
    scored
        The :class:`SurgeResult` the episodes come from: true surges in periods it
        could not score (too little history yet) are then not counted as missed.
    min_uplift
        A true surge is a period whose excess is at least this share of its baseline.
    tolerance
        An episode matches a true surge of the same series if they start within
        this many periods of each other.

    Returns
    -------
    dict
        ``precision`` (episodes that match a true surge), ``recall`` (true surges,
        runs of consecutive true periods, that an episode matches), ``f1``,
        ``median_excess_error`` (|detected - true excess| / true excess over the
        matched episodes' periods), and the counts.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.surge import evaluate_surges
    >>> truth = pl.DataFrame({"destination": ["NPL"] * 3,
    ...     "period": [dt.date(2015, 4, 1), dt.date(2015, 5, 1), dt.date(2015, 6, 1)],
    ...     "baseline_usd": [100.0] * 3, "excess_usd": [0.0, 50.0, 0.0]})
    >>> found = pl.DataFrame({"destination": ["NPL", "NPL"], "start": [dt.date(2015, 5, 1), dt.date(2015, 9, 1)],
    ...     "end": [dt.date(2015, 5, 1), dt.date(2015, 9, 1)], "excess_usd": [45.0, 9.0]})
    >>> scores = evaluate_surges(found, truth)
    >>> scores["precision"], scores["recall"], scores["median_excess_error"]
    (0.5, 1.0, 0.1)
    """
    every = _normalise_freq(freq)
    keys = [c for c in (fs.ORIGIN, fs.DESTINATION, fs.FLOW_TYPE) if c in episodes.columns]
    for column in (*keys, "period", "baseline_usd", "excess_usd"):
        if column not in truth.columns:
            raise MissingColumnError.for_column(column, truth.columns)
    cast = [pl.col(k).cast(pl.String) for k in keys]
    if scored is not None:
        scorable = scored.scored.filter(pl.col("score").is_not_null()).select(*cast, "period")
        truth = truth.with_columns(cast).join(scorable, on=[*keys, "period"], how="semi")
    true_flag = pl.col("excess_usd") >= min_uplift * pl.col("baseline_usd")
    marked = (
        truth.with_columns(cast)
        .sort(*keys, "period")
        .with_columns(_surge=true_flag & (pl.col("excess_usd") > 0))
        .with_columns(
            _run=(pl.col("_surge") != pl.col("_surge").shift(1).over(keys))
            .fill_null(True)
            .cast(pl.Int64)
            .cum_sum()
            .over(keys)
        )
    )
    true_runs = (
        marked.filter("_surge")
        .group_by(*keys, "_run")
        .agg(true_start=pl.col("period").min())
        .with_columns(_true_n=_period_number(pl.col("true_start"), every))
        .with_row_index("_true")
    )
    found = (
        episodes.with_columns(cast)
        .with_row_index("_found")
        .with_columns(_found_n=_period_number(pl.col("start"), every))
    )
    pairs = found.join(true_runs, on=keys, how="inner").filter(
        (pl.col("_found_n") - pl.col("_true_n")).abs() <= tolerance
    )
    n_found, n_true = found.height, true_runs.height
    matched_found = pairs["_found"].n_unique()
    matched_true = pairs["_true"].n_unique()
    precision = matched_found / n_found if n_found else float("nan")
    recall = matched_true / n_true if n_true else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    # excess error: the true excess over each matched episode's own periods
    matched = found.join(pairs.select("_found").unique(), on="_found", how="semi")
    within = matched.join(truth.with_columns(cast), on=keys, how="inner").filter(
        pl.col("period").is_between(pl.col("start"), pl.col("end"))
    )
    true_excess = within.group_by("_found").agg(true_excess_usd=pl.col("excess_usd_right").sum())
    errors = matched.join(true_excess, on="_found").select(
        (
            (pl.col("excess_usd") - pl.col("true_excess_usd")).abs() / pl.col("true_excess_usd")
        ).alias("e")
    )
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "median_excess_error": float(errors.select(pl.col("e").median()).item())
        if errors.height
        else float("nan"),
        "n_episodes": float(n_found),
        "n_true_surges": float(n_true),
    }
