"""detect_surges: every series of a panel on one dense array, scored against its baseline."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import (
    PanelSpec,
    check_span,
    checked_panel,
    checked_table,
    input_errors,
    panel_spec,
    refuse_repeated_cells,
)
from flowlens.errors import MissingColumnError, ParameterError, SchemaError
from flowlens.freq import periods_per_year
from flowlens.surge._baselines import F64
from flowlens.surge._common import (
    MISSING,
    SCORE_COLUMNS,
    SHIFT_COLUMN,
    SurgeResult,
    _check_flagging,
    _flag,
    _period_number,
    _whole,
)
from flowlens.surge._forecast import (
    HOLIDAY_SOURCES,
    forecast_defaults,
    forecast_threshold,
    season_categories,
)
from flowlens.surge._methods import BUILT_IN, SeriesArrays, SurgeMethod, _resolve

MAX_WINDOW = 1_000_000
"""The longest baseline window, in periods (2,700 years of days): beyond it a window
is a mistake, and the kernels' arrays would not fit."""


@input_errors("detect_surges")
def detect_surges(
    panel: Any,
    *,
    freq: str | None = None,
    method: str | SurgeMethod = "forecast",
    window: int | None = None,
    threshold: float | None = None,
    min_uplift: float = 0.0,
    min_periods: int | None = None,
    by: str | Sequence[str] | None = None,
    value: str = fs.AMOUNT_USD,
    missing: str = "null",
    holidays: Any = None,
) -> SurgeResult:
    """Score every series of a panel against its baseline and flag surges.

    Parameters
    ----------
    panel
        A corridor panel (``period``, key columns such as ``origin``,
        ``destination``, ``flow_type``, and ``value``), as
        :func:`flowlens.corridor_panel` or an official reader returns it: a polars
        DataFrame or LazyFrame (collected here: the panel is small), a pandas
        DataFrame, a pyarrow Table or any Arrow PyCapsule table. ``period`` holds
        dates (the period starts); text raises :class:`flowlens.SchemaError`.
    freq
        The panel's period length. None (the default) reads it from the periods
        (:func:`flowlens.panel_spec`): a quarterly panel is scored by quarters. A
        ``freq`` that contradicts the periods (``"1mo"`` for a quarterly panel)
        raises :class:`flowlens.ParameterError` naming both.
    method
        ``"forecast"`` (default), ``"seasonal"``, ``"calendar"`` or ``"rolling"``
        (see the module notes and docs/surge.md: which to use when), or a
        :class:`flowlens.surge.SurgeMethod` of your own.
    window
        Baseline length in periods. Default: for ``forecast`` six years (72 months,
        24 quarters, 312 weeks; three years of days), and more than one year of
        periods at least; 12 periods for ``rolling``; 3 years of year-over-year
        changes for ``seasonal`` and ``calendar`` (36 months, 12 quarters). At
        least 2.
    threshold
        Flag when the score exceeds it; above 0. Default: the method's. For
        ``forecast``, 3.0 on monthly, quarterly and yearly panels (a forecast error
        over its own past errors: a one-sided normal tail of 0.13%), and as many
        flags from noise per series-year at finer frequencies (3.4 weekly, 3.9
        daily); 3.5 for the others (Iglewicz and Hoaglin 1993, for scores over a
        median absolute deviation).
    min_uplift
        Flag only when the value is also at least this share above its baseline
        (0.25: 25% above). A large series passes the threshold with a rise of a
        few percent; this asks for a rise that matters as well as one that is
        unusual. Default 0: the score alone decides.
    min_periods
        Fewest valid values a baseline needs, from 1 to ``window``. Default: for
        ``forecast``, a year of past forecast errors (12 months, 4 quarters; 60
        days); for the others half the window.
    by
        The key columns that define one series. None (the default): every key
        column of the panel (``panel_spec(panel).keys``: ``origin``,
        ``destination``, ``flow_type``, and ``channel`` if the panel has it).
        ``["destination"]`` scores each receiving country's total, summing the
        other keys; ``["destination", "flow_type"]`` keeps flow types apart.
    value
        The measured column (default ``amount_usd``).
    missing
        A period without a row is ``"null"`` (unknown: skipped by the baselines,
        never scored) or ``"zero"`` (no flow). Explicit, because a missing month is
        not a zero unless you say so.
    holidays
        The moving holidays of ``forecast`` and ``calendar`` (series need a
        ``destination`` key): ``"none"`` (no holiday effects), ``"tabular"`` (the
        default, None) or ``"observed"``
        (announced dates per country from the ``holidays`` package:
        ``pip install flowlens[holidays]``) for the days before the holidays of
        :func:`flowlens.calendar.holiday_windows` (each Eid for Muslim-majority
        countries, Dashain and Tihar for Nepal, Diwali for India, the lunar new year
        for China, Korea and Vietnam, Mother's Day); or your own table of ``country``,
        ``date`` (the days before a holiday) and optionally ``holiday`` (one effect
        is estimated per name and series, at 0 or above: the days are read as days
        when remittances rise).

    Returns
    -------
    SurgeResult
        ``scored`` panel and ``diagnostics`` (polars DataFrames, whatever kind came
        in), with the settings used: ``spec`` (freq, value, keys), ``method``,
        ``threshold``, ``window``, ``min_periods``, ``min_uplift``, ``by``,
        ``missing``.

    Raises
    ------
    ParameterError
        An unknown ``method`` or ``missing``, a ``threshold`` that is not above 0,
        a ``window`` under 2, a ``freq`` that contradicts the periods, or a seasonal
        method at a frequency with no whole number of periods a year.
    MissingColumnError, SchemaError
        No ``period``, ``value`` or ``by`` column; ``period`` not a date.

    Examples
    --------
    Banco de Mexico's monthly inflows: a plain trailing baseline flags the pandemic
    jump of March 2020, and also the Mother's Day peak of May 2021; the seasonal
    method does not take May for a surge.

    >>> import flowlens as fl
    >>> monthly = fl.load_sample("mexico_monthly").filter(destination="MEX")
    >>> def flagged(result):
    ...     return result.scored.filter("flag")["period"].dt.strftime("%Y-%m").to_list()
    >>> rolling = flagged(fl.detect_surges(monthly, by=["destination"], method="rolling"))
    >>> "2020-03" in rolling, "2021-05" in rolling
    (True, True)
    >>> "2021-05" in flagged(fl.detect_surges(monthly, by=["destination"], method="seasonal"))
    False
    """
    frame = _local_dates(from_any(panel, what="detect_surges' panel").eager())
    plan = _plan(
        frame, freq, method, window, threshold, min_uplift, min_periods, by, value, missing
    )
    threshold = plan.threshold
    _check_holidays_apply(holidays, plan)
    counted = fs.N_TRANSFERS in frame.columns and fs.N_TRANSFERS not in plan.keys
    columns = [plan.spec.value, fs.N_TRANSFERS] if counted else [plan.spec.value]
    every = plan.spec.freq
    series, periods, arrays, long_keys = _dense(
        frame,
        plan.keys,
        columns,
        every,
        zero_fill=missing == "zero",
        unique=set(plan.keys) == set(plan.spec.keys),
    )
    context = SeriesArrays(
        values=arrays[0],
        counts=arrays[1] if counted else None,
        series=series,
        periods=periods,
        freq=every,
        season=periods_per_year(every),
        window=plan.window,
        min_periods=plan.min_periods,
        holidays=None
        if isinstance(holidays, str | None)
        else from_any(holidays, what="holidays").eager(),
        holiday_source=_holiday_source(holidays),
    )
    scores = _checked(plan.method, context)
    flag = _flag(plan.spec.value, threshold, min_uplift)
    return SurgeResult(
        scored=_scored(
            series, periods, plan.spec.value, arrays[0], scores, flag=flag, long_keys=long_keys
        ),
        diagnostics=_diagnostics(series, scores[2]),
        spec=plan.spec,
        method=plan.method.name,
        threshold=threshold,
        window=plan.window,
        min_periods=plan.min_periods,
        min_uplift=min_uplift,
        by=plan.keys,
        missing=missing,
    )


def _local_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as the dates they fall on where they were recorded (a time zone's own
    date, not UTC's: midnight in Kolkata is the day before in UTC), so that two times
    of one day are one period, and a text ``n_transfers`` is refused, not read as a key."""
    schema = frame.schema
    if fs.N_TRANSFERS in schema and not schema[fs.N_TRANSFERS].is_numeric():
        msg = (
            f"detect_surges' panel: column {fs.N_TRANSFERS!r} has dtype "
            f"{schema[fs.N_TRANSFERS]}, not a number (a CSV read as text?): cast it with "
            f"pl.col({fs.N_TRANSFERS!r}).cast(pl.Int64), or drop it"
        )
        raise SchemaError(msg)
    if isinstance(schema.get(fs.PERIOD), pl.Datetime):
        return frame.with_columns(pl.col(fs.PERIOD).dt.date())
    return frame


@dataclass(frozen=True)
class _Plan:
    """detect_surges' arguments, checked against each other and the panel."""

    spec: PanelSpec
    method: SurgeMethod
    keys: tuple[str, ...]
    window: int
    min_periods: int
    threshold: float


def _plan(  # noqa: PLR0917 - the arguments of detect_surges, checked in one place
    frame: pl.DataFrame,
    freq: str | None,
    method: str | SurgeMethod,
    window: int | None,
    threshold: float | None,
    min_uplift: float,
    min_periods: int | None,
    by: str | Sequence[str] | None,
    value: str,
    missing: str,
) -> _Plan:
    scoring = _resolve(method)
    if missing not in MISSING:
        msg = f"missing={missing!r} is not one of {list(MISSING)}"
        raise ParameterError(msg)
    if threshold is not None:
        _check_flagging(threshold, min_uplift)
    what = "detect_surges' panel"
    # a series of every key counts its rows per cell in _dense: repeats are found there
    spec = checked_panel(frame, freq=freq, value=value, what=what, unique=False)
    keys = _keys(frame, spec, by)
    if set(keys) != set(spec.keys):  # series that sum over keys: check the cells here
        panel_spec(frame, freq=spec.freq, value=spec.value, what=what)
    checked_table(frame, what=what, values=[fs.N_TRANSFERS] if fs.N_TRANSFERS not in keys else [])
    season = periods_per_year(spec.freq)
    if scoring.seasonal and season is None:
        msg = (
            f"method {scoring.name!r} compares each period with the same period a year "
            f"earlier, so it needs a whole number of periods a year; the panel's are {spec.freq}"
        )
        raise ParameterError(msg)
    if scoring.name == "calendar" and fs.DESTINATION not in keys:
        msg = "method 'calendar' reads each series' receiving country: include 'destination' in by"
        raise ParameterError(msg)
    forecast_window, forecast_min = forecast_defaults(spec.freq)
    is_forecast = scoring is _resolve("forecast")
    if threshold is None:
        threshold = forecast_threshold(spec.freq) if is_forecast else scoring.default_threshold
    if window is None:
        window = forecast_window if is_forecast else scoring.window_for(season)
    if not (_whole(window) and 2 <= window <= MAX_WINDOW):
        msg = f"window must be a whole number from 2 to {MAX_WINDOW:,} periods, got {window!r}"
        raise ParameterError(msg)
    window = int(window)
    n_categories = season_categories(pl.Series([dt.date(2000, 1, 1)]), spec.freq)[1]
    if is_forecast and window < 2 * n_categories:
        msg = (
            f"window={window} is too short for the forecast method at {spec.freq}: it fits one "
            f"level per season ({n_categories}) and a drift, so it needs two of each: at least "
            f"{2 * n_categories} periods (default {forecast_window})"
        )
        raise ParameterError(msg)
    if min_periods is None:
        min_periods = min(forecast_min, window) if is_forecast else max(2, window // 2)
    if not (_whole(min_periods) and 1 <= min_periods <= window):
        msg = f"min_periods must be a whole number from 1 to window ({window}), got {min_periods!r}"
        raise ParameterError(msg)
    min_periods = int(min_periods)
    _check_flagging(threshold, min_uplift)
    return _Plan(spec, scoring, keys, window, min_periods, float(threshold))


def _check_holidays_apply(holidays: Any, plan: _Plan) -> None:
    """``holidays`` given where nothing reads it is a mistake, not a setting to ignore."""
    if holidays is None or (isinstance(holidays, str) and holidays == "none"):
        return
    if plan.method.name in {"rolling", "seasonal"} and plan.method is _resolve(plan.method.name):
        msg = (
            f"holidays= is read by the forecast and calendar methods, not by {plan.method.name!r}: "
            "drop it, or pass method='forecast'"
        )
        raise ParameterError(msg)
    if fs.DESTINATION not in plan.keys and plan.method.name in {"forecast", "calendar"}:
        msg = (
            f"holidays= needs each series' receiving country, but by={list(plan.keys)} has no "
            "'destination': add it to by, or drop holidays="
        )
        raise ParameterError(msg)


def _holiday_source(holidays: Any) -> str:
    """``tabular`` or ``observed``: where the default holiday dates come from."""
    if holidays is None:
        return "tabular"
    if isinstance(holidays, str) and holidays not in HOLIDAY_SOURCES:
        msg = (
            f"holidays={holidays!r} is not one of {list(HOLIDAY_SOURCES)}; or pass a table "
            "of country, date (the days before a holiday) and optionally holiday"
        )
        raise ParameterError(msg)
    return holidays if isinstance(holidays, str) else "tabular"


def _keys(frame: pl.DataFrame, spec: PanelSpec, by: str | Sequence[str] | None) -> tuple[str, ...]:
    """The columns of one series: ``by``, checked, or every key column of the panel."""
    keys = spec.keys if by is None else (by,) if isinstance(by, str) else tuple(by)
    if not keys:
        msg = "by names no column: pass the keys of one series, e.g. by=['destination']"
        raise ParameterError(msg)
    MissingColumnError.require(frame.columns, *keys)
    clash = [k for k in keys if k in (fs.PERIOD, spec.value, *SCORE_COLUMNS)]
    if clash or len(set(keys)) < len(keys):
        msg = f"by={list(keys)}: each key once, and not 'period', the value column or a score"
        raise ParameterError(msg)
    return keys


def _scored(
    series: pl.DataFrame,
    periods: pl.Series,
    value: str,
    values: F64,
    scores: Sequence[F64],
    *,
    flag: pl.Expr,
    long_keys: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The long scored panel: series in key order, periods ascending (no join or sort).

    ``long_keys``: the key columns of each row when the caller has them in that order.
    """
    baseline, scale, score, n_history, shift = scores
    n_series, n_periods = values.shape
    days = periods.cast(pl.Date).to_physical().to_numpy()
    level_shift = shift.ravel() != 0
    history = n_history.ravel()  # NaN only from a method of one's own: 0 values before
    scored = pl.DataFrame(
        {
            "period": pl.Series(np.tile(days, n_series), dtype=pl.Int32).cast(pl.Date),
            value: pl.Series(values.ravel(), nan_to_null=True),
            "baseline": pl.Series(baseline.ravel(), nan_to_null=True),
            "scale": pl.Series(scale.ravel(), nan_to_null=True),
            "score": pl.Series(score.ravel(), nan_to_null=True),
            "n_history": (
                np.nan_to_num(history, nan=0.0) if np.isnan(history).any() else history
            ).astype(np.int64),
            SHIFT_COLUMN: level_shift,
        }
    )
    keys = series[np.repeat(np.arange(n_series), n_periods)] if long_keys is None else long_keys
    flagged = pl.concat([keys, scored], how="horizontal").with_columns(flag=flag)
    # the kind of the few marked periods, set in place (a when/then over every row costs more)
    is_flag = flagged["flag"].to_numpy()
    kind = pl.repeat(None, flagged.height, dtype=pl.String, eager=True).alias("kind")
    kind = kind.scatter(np.flatnonzero(level_shift), "level_shift")
    kind = kind.scatter(np.flatnonzero(is_flag & ~level_shift), "surge")
    return flagged.with_columns(kind).select(*series.columns, "period", value, *SCORE_COLUMNS)


def _checked(scoring: SurgeMethod, context: SeriesArrays) -> tuple[F64, F64, F64, F64, F64]:
    """Run a method and check that it returned four arrays (and level shifts) shaped like the values."""
    built_in = scoring.name in BUILT_IN and scoring is _resolve(scoring.name)
    if not built_in:
        # a method of one's own gets its own copies: writing into them must not change
        # the observed values of the scored panel (or the caller's panel: a sorted panel's
        # arrays are read-only views of its columns)
        counts = None if context.counts is None else context.counts.copy()
        holidays = None if context.holidays is None else context.holidays.clone()
        context = replace(
            context,
            values=context.values.copy(),
            counts=counts,
            series=context.series.clone(),
            periods=context.periods.clone(),
            holidays=holidays,
        )
    result = tuple(scoring.score(context))
    shape = context.values.shape
    if len(result) == 5 and result[4] is None:
        result = result[:4]
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in result)
    if len(arrays) not in {4, 5} or any(a.shape != shape for a in arrays):
        got = [getattr(a, "shape", None) for a in arrays]
        msg = (
            f"method {scoring.name!r} must return Scores(baseline, scale, score, n_history), "
            f"each of shape {shape}; got {got}"
        )
        raise ParameterError(msg)
    history = arrays[3]
    fine = ((history >= 0) & (history <= MAX_WINDOW)) | np.isnan(history)
    if not built_in and not bool(fine.all()):
        bad = float(history[~fine][0])
        msg = (
            f"method {scoring.name!r} returned n_history {bad!r}: the values each baseline "
            f"used, a count from 0 to {MAX_WINDOW:,} (NaN reads as 0)"
        )
        raise ParameterError(msg)
    shift = arrays[4] if len(arrays) == 5 else np.zeros(shape)
    if not built_in:  # the built-in methods mark every period 0 or +-1
        shift = np.nan_to_num(shift)
    return arrays[0], arrays[1], arrays[2], arrays[3], shift


def _dense(
    frame: pl.DataFrame,
    keys: Sequence[str],
    columns: Sequence[str],
    every: str,
    *,
    zero_fill: bool,
    unique: bool = False,
) -> tuple[pl.DataFrame, pl.Series, list[F64], pl.DataFrame | None]:
    """(series keys, periods, values[series, period], keys of each scored row or None).

    One row per series, NaN where missing. The last is the panel's own key columns when
    its rows are the scored panel's, in order (None: _scored repeats each series' keys).

    Series are numbered by a dense rank of their keys and periods by their period
    number, so placing every value is one scatter into the array (no joins).
    """
    known = _known_rows(frame, keys)
    # a week is numbered from its Monday, so days of one week share a number
    period = pl.col("period").dt.truncate(every) if every == "1w" else pl.col("period")
    # periods of n days (7d: weeks that end on Sundays) count from the panel's first one,
    # not from 1970-01-01, so that their dates are the caller's
    anchored = every.endswith("d") and every != "1d"
    if anchored:
        start = known.select(pl.col("period").min().cast(pl.Date)).item()
        period = pl.lit(dt.date(1970, 1, 1)) + (pl.col("period").cast(pl.Date) - pl.lit(start))
    numbered = known.select(
        *[pl.col(c).cast(pl.Float64).alias(f"_v{i}") for i, c in enumerate(columns)],
    )
    t_index = _period_numbers(known["period"], _period_number(period, every))
    first_t = int(t_index.min())
    n_periods = int(t_index.max()) - first_t + 1
    numbering, series, run_lengths = _series_numbers(known, keys)
    n_series = series.height
    span = known.select(
        first=pl.col("period").min().cast(pl.Date), last=pl.col("period").max().cast(pl.Date)
    )
    check_span(n_series, n_periods, *span.row(0), what="detect_surges' panel")
    first, last = pl.col("period").min(), pl.col("period").max()
    if not anchored:
        first, last = first.dt.truncate(every), last.dt.truncate(every)
    bounds = known.select(first=first.cast(pl.Date), last=last.cast(pl.Date))
    periods = pl.date_range(
        bounds["first"].item(), bounds["last"].item(), interval=every, eager=True
    ).alias("period")
    if periods.len() != n_periods:  # only if the period numbering and date_range disagree
        msg = f"internal error: {periods.len()} periods from the dates, {n_periods} by number"
        raise AssertionError(msg)
    size = n_series * n_periods
    if (
        run_lengths is not None
        and bool((run_lengths == n_periods).all())
        and bool(
            (t_index.reshape(n_series, n_periods) == np.arange(first_t, first_t + n_periods)).all()
        )
    ):
        # every cell once, in series then period order (a panel sorted by its keys): the
        # values are the array already (no cell missing, so nothing to fill; a null value
        # stays unknown, NaN), and the keys of the scored panel are the panel's. Read-only
        # views of the panel's columns: a method of one's own gets copies (_checked)
        arrays = [
            np.asarray(numbered[f"_v{i}"].to_numpy(), dtype=np.float64).reshape(n_series, n_periods)
            for i in range(len(columns))
        ]
        return series, periods, arrays, known.select(keys)
    cell = numbering() * n_periods + (t_index - first_t)
    rows_per_cell = np.bincount(cell, minlength=size)
    present = rows_per_cell > 0
    repeated = cell.size - int(np.count_nonzero(present))  # rows beyond each cell's first
    if unique:  # the series are the panel's cells: more than one row is a repeated cell
        refuse_repeated_cells(repeated, keys, "detect_surges' panel")
    once = cell.size == size and repeated == 0
    arrays = []
    for i in range(len(columns)):  # one or two value columns
        values = numbered[f"_v{i}"].to_numpy()
        if once:  # every cell in one row (a panel in another order): placed, not summed
            flat = np.empty(size)
            flat[cell] = values
        else:
            sums = np.bincount(cell, weights=values, minlength=size)
            flat = np.zeros(size) if zero_fill else np.full(size, np.nan)
            flat[present] = sums[present]
        arrays.append(flat.reshape(series.height, n_periods))
    return series, periods, arrays, None


def _known_rows(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """The rows whose every key is known; none raises, naming the keys that are null."""
    known = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    if known.height == 0:
        where = "is empty" if frame.height == 0 else "has no rows with all of " + ", ".join(keys)
        nulls = [k for k in keys if frame[k].null_count() > 0]
        fix = (
            f" known: {nulls} are null in some rows (a national series has no partner "
            "country); pass by= with the keys that are known, e.g. by=['destination']"
            if nulls
            else ""
        )
        msg = f"detect_surges' panel {where}{fix}"
        raise SchemaError(msg)
    return known


def _period_numbers(dates: pl.Series, number: pl.Expr) -> np.ndarray:
    """``number`` (an expression of ``period``) of each date, computed once per day of the span.

    A panel repeats each period once per series: numbering the days from the first to
    the last and looking each row up costs a fraction of decomposing every row's date.
    """
    days = dates.cast(pl.Date).to_physical()
    first, last = days.min(), days.max()
    if not (isinstance(first, int) and isinstance(last, int)) or last - first + 1 > dates.len():
        direct: np.ndarray = dates.to_frame("period").select(number).to_series().to_numpy()
        return direct.astype(np.int64)
    span = pl.int_range(first, last + 1, eager=True).cast(pl.Date).to_frame("period")
    table = span.select(number).to_series().to_numpy().astype(np.int64)
    # int32 offsets: a 10-year daily panel's 18M rows index the table without a wider copy
    numbers: np.ndarray = table[days.to_numpy() - np.int32(first)]
    return numbers


def _series_numbers(
    known: pl.DataFrame, keys: Sequence[str]
) -> tuple[Callable[[], np.ndarray], pl.DataFrame, np.ndarray | None]:
    """(the series of each row, when asked; the keys of each series; the rows of each
    series, or None).

    A series is the dense rank of its keys (0, 1, ... in key order). A struct rank sorts
    every row; most panels need less. A panel in runs of one series (sorted by its keys)
    ranks only the first row of each run; a panel of Enum or text keys ranks their codes
    (an Enum's sort as it does, text is coded by its sorted distinct values) through a
    table of the code combinations present, which also gives each series' keys. The
    last item is each series' row count when every series is one run and the runs come
    in series order (a panel sorted by its keys), else None.
    """
    n_rows = known.height
    starts = known.select(
        pl.any_horizontal([pl.col(k) != pl.col(k).shift(1) for k in keys]).fill_null(True)
    ).to_series()
    first_rows = np.flatnonzero(starts.to_numpy())
    if first_rows.size * 4 <= n_rows:  # long runs: rank the first row of each
        firsts = known[first_rows].select(keys)
        ranked = firsts.select(pl.struct(keys).rank("dense")).to_series().to_numpy()
        series_of_run = ranked.astype(np.int64) - 1
        lengths = np.diff(np.append(first_rows, n_rows))
        run_of_series = np.empty(int(series_of_run.max()) + 1, dtype=np.int64)
        run_of_series[series_of_run] = np.arange(first_rows.size)
        in_order = run_of_series.size == first_rows.size and bool(
            (series_of_run == np.arange(first_rows.size)).all()
        )
        # each row's series only when asked: a panel read as it is never needs them
        return (
            partial(np.repeat, series_of_run, lengths),
            firsts[run_of_series],
            lengths if in_order else None,
        )
    codes = _key_codes(known, keys)
    combinations = math.prod(size for _, size, _ in codes) if codes else 0
    if codes and combinations <= max(8 * n_rows, 1 << 20):  # a table of the combinations
        code = codes[0][0].astype(np.int64)
        for column, size, _ in codes[1:]:
            code *= size
            code += column
        present = np.zeros(combinations, dtype=bool)
        present[code] = True
        number: np.ndarray = (np.cumsum(present) - 1)[code]
        # each series' keys from its combination's digits (last key fastest)
        combination = np.flatnonzero(present)
        digits = {}
        for key, (_, size, levels) in zip(reversed(keys), reversed(codes), strict=True):
            combination, digit = np.divmod(combination, size)
            digits[key] = levels.gather(digit)
        return partial(np.asarray, number), pl.DataFrame([digits[k] for k in keys]), None
    ranked = known.select(pl.struct(keys).rank("dense")).to_series().to_numpy()
    number = ranked.astype(np.int64) - 1
    row_of_series = np.empty(int(number.max()) + 1, dtype=np.int64)
    row_of_series[number] = np.arange(n_rows)  # any one row of each series
    return partial(np.asarray, number), known.select(keys)[row_of_series], None


def _key_codes(known: pl.DataFrame, keys: Sequence[str]) -> list[tuple[np.ndarray, int, pl.Series]]:
    """Each key's codes in its own sort order, how many there can be, and the key's value
    of each code; [] if a key has none.

    An Enum's codes sort as the Enum does; text is coded by its sorted distinct values
    (a cast to an Enum of them: a hash lookup per row, where a struct rank sorts every
    row's text: 0.11 s against 0.52 s on 2.4M shuffled rows of two keys).
    """
    codes = []
    for key in keys:
        column = known[key]
        if isinstance(column.dtype, pl.Enum):
            levels = pl.Series(key, column.dtype.categories).cast(column.dtype)
        elif column.dtype == pl.String:
            levels = column.unique().sort()
            column = column.cast(pl.Enum(levels))
        else:  # a Categorical's order depends on its settings: the struct rank decides
            return []
        codes.append((column.to_physical().to_numpy(), levels.len(), levels))
    return codes


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
