"""Reading de-risking in recorded data: the drop against a counterfactual, and what it implies.

For each event, the recorded formal flow of its corridor before the event's
period (``history`` periods) is fitted on the log scale with a linear trend and,
with at least two years of history, a seasonal effect per period of the year:

    log y_t = a + b t + s_(season of t) + e_t

The fit is projected over the ``horizon`` periods from the event's period on (cut
short before the corridor's next event), and the drop is the projection less what
was recorded. Its uncertainty comes from the fit's coefficients (normal, with the
least-squares covariance) and from the residuals, resampled as one circular block
so that their autocorrelation is kept. With the share of displaced flow that other
formal providers took over (and so is still recorded), s_other, and the shares that
went informal and were not sent, s_informal and s_lost, drawn from a
:class:`Split`:

    displaced = max(drop, 0) / (1 - s_other)     (when the other providers are recorded)
    informal  = s_informal * displaced
    lost      = s_lost * displaced

An event is ``detected`` when the 5th percentile of its drop is above zero. A
placebo (an announced closure that was reversed) should not be.

Each event's random numbers come from its own stream, keyed by the seed and a
stable hash of its ``event_id``: an event's interval does not depend on the other
events or on the order of the events table. The split's draws are one stream
shared by every event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import PanelSpec, check_dates, checked_panel, checked_table, input_errors
from flowlens.errors import FlowlensError, MissingColumnError, ParameterError
from flowlens.freq import periods_per_year
from flowlens.informal._estimate import QUANTILES, check_count, check_draws, checked_drivers
from flowlens.informal._priors import Split
from flowlens.informal._scenario import SPLIT_DEFAULT
from flowlens.io import read_table_csv
from flowlens.reference import to_iso3

F64 = npt.NDArray[np.float64]
EVENT_COLUMNS = ("event_id", "effective_date", fs.ORIGIN, fs.DESTINATION, "placebo")
_LABEL = ("event_id", "effective_date", fs.ORIGIN, fs.DESTINATION, "placebo")


@dataclass(frozen=True)
class DeRiskingEffect:
    """What :func:`derisking_effect` found, and the settings it was computed with.

    Frozen: nothing computes or changes it after :func:`derisking_effect` returns.
    Rows are in the order of the events' ``effective_date`` (then ``event_id``),
    whatever the order of the events table.

    Attributes
    ----------
    events
        One row per event: its keys, ``placebo``, the periods used
        (``history_periods``, ``horizon_periods``), ``recorded_usd`` over the
        horizon, ``counterfactual_p50``, ``drop_p5``, ``drop_p50``, ``drop_p95``,
        ``drop_share_p50`` (of the counterfactual), ``informal_p5`` ...,
        ``lost_p5`` ..., and ``detected`` (the drop's 5th percentile above zero).
    periods
        One row per event and period of history and horizon: ``recorded_usd``,
        ``fitted_usd`` (history) or ``counterfactual_p5`` / ``_p50`` / ``_p95``
        (horizon), and ``phase`` ("history" or "horizon"); for plots.
    skipped
        Events the panel cannot support (too little history before them, no
        flow after them), with the ``reason``: none is dropped silently.
    draws, seed
        The Monte Carlo settings.
    spec
        The panel's :class:`flowlens.PanelSpec` (frequency, value column, keys).
    history, horizon, split, other_formal_recorded
        The settings of the fit and of the split of the displaced flow.
    premium
        With ``drivers``: one row per series the drivers name (``destination``
        [, ``origin``]): ``periods`` fitted, ``premium_max``, the fitted displacement
        per point of premium (``displaced_per_pp_p5`` / ``_p50`` / ``_p95``: the
        relative fall of recorded flow per point) and at 10 points
        (``displaced_at_10pp_p5`` ...), and ``premium_response_p50``, the logistic
        slope beta of :func:`estimate_informal` it implies at the informal ratio of
        ``CostModel`` (0.55; 0 where the median fitted fall is not positive: the model's
        response cannot be negative, and ``displaced_at_10pp_p50`` shows the rise);
        else None.

    Examples
    --------
    >>> import numpy as np, polars as pl, datetime as dt
    >>> from flowlens.informal import derisking_effect
    >>> quarters = pl.date_range(dt.date(2008, 1, 1), dt.date(2015, 10, 1), "1q", eager=True)
    >>> panel = pl.DataFrame({"period": quarters, "origin": "USA", "destination": "SOM",
    ...     "amount_usd": 50e6 * (1 + 0.03 * np.sin(np.arange(32)))})
    >>> events = pl.DataFrame({"event_id": ["closure"], "effective_date": [dt.date(2015, 2, 6)],
    ...     "origin": "USA", "destination": "SOM"})
    >>> effect = derisking_effect(panel, events, history=24, horizon=2, draws=200)
    >>> effect.spec.freq, effect.history, effect.horizon, effect.draws
    ('1q', 24, 2, 200)
    """

    events: pl.DataFrame
    periods: pl.DataFrame
    skipped: pl.DataFrame
    draws: int
    seed: int
    spec: PanelSpec
    history: int = 36
    horizon: int = 6
    split: Split = field(default=SPLIT_DEFAULT)
    other_formal_recorded: bool = True
    premium: pl.DataFrame | None = None

    def __repr__(self) -> str:
        detected = int(self.events["detected"].sum())
        return (
            f"DeRiskingEffect(events={self.events.height}, detected={detected}, "
            f"skipped={self.skipped.height}, freq={self.spec.freq!r}, draws={self.draws}, "
            f"seed={self.seed})"
        )


def read_derisking_events(path: str | Path) -> pl.DataFrame:
    """The de-risking events table (data/samples/real/derisking_events.csv) in the shape
    :func:`derisking_effect` takes.

    ``effective_date`` falls back to a day-precise ``announce_date``, then to the
    first day of a month-precise one (``date_precision`` says which: "day" or
    "month"); ``receiving_country_iso3`` values such as ``ALL(SOM most affected)``
    become a null destination (every receiving country); an event whose action
    says it was reversed is a ``placebo``. Events with no date at all are left out.

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.informal import read_derisking_events
    >>> events = read_derisking_events(fl.sample_path("derisking_events"))
    >>> events.filter("placebo")["event_id"].to_list()
    ['MERCHANTS_2014_REVERSED']
    """
    raw = read_table_csv(path, "the de-risking events")
    MissingColumnError.require(
        raw.columns,
        "event_id",
        "announce_date",
        "effective_date",
        "sending_country_iso3",
        "receiving_country_iso3",
        "action",
    )
    day, month = r"^\d{4}-\d{2}-\d{2}$", r"^\d{4}-\d{2}$"
    effective, announced = pl.col("effective_date"), pl.col("announce_date")
    date = (
        pl.when(effective.str.contains(day))
        .then(effective)
        .when(announced.str.contains(day))
        .then(announced)
        .when(effective.str.contains(month))
        .then(effective + "-01")
        .when(announced.str.contains(month))
        .then(announced + "-01")
        .str.to_date("%Y-%m-%d")
    )
    precision = (
        pl.when(effective.str.contains(day) | announced.str.contains(day))
        .then(pl.lit("day"))
        .when(effective.str.contains(month) | announced.str.contains(month))
        .then(pl.lit("month"))
    )
    receiver = pl.col("receiving_country_iso3").str.strip_chars()
    return raw.select(
        "event_id",
        date.alias("effective_date"),
        pl.col("sending_country_iso3").str.strip_chars().alias(fs.ORIGIN),
        pl.when(receiver.str.contains(r"^[A-Z]{3}$")).then(receiver).alias(fs.DESTINATION),
        pl.col("action")
        .str.to_lowercase()
        .str.contains("reversed|placebo|non-event")
        .alias("placebo"),
        precision.alias("date_precision"),
    ).filter(pl.col("effective_date").is_not_null())


@input_errors("derisking_effect")
def derisking_effect(
    panel: Any,
    events: Any = None,
    *,
    value: str = fs.AMOUNT_USD,
    freq: str | None = None,
    history: int = 36,
    horizon: int = 6,
    split: Split = SPLIT_DEFAULT,
    other_formal_recorded: bool = True,
    draws: int = 2000,
    seed: int = 0,
    drivers: Any = None,
) -> DeRiskingEffect:
    """The drop in recorded flow after each de-risking event, and the informal flow it implies.

    Parameters
    ----------
    panel
        Recorded flows with ``period``, ``origin``, ``destination`` and ``value``;
        with a ``channel`` column, informal and cash-carry rows are left out. Any
        table: polars (eager or lazy, collected here once), pandas, pyarrow, Arrow
        PyCapsule.
    events
        ``event_id`` (unique), ``effective_date``, ``origin``, ``destination``
        (null: every receiving country) and optionally ``placebo``, as from
        :func:`read_derisking_events` (any table kind).
    value
        The measured column (default ``amount_usd``).
    freq
        The period length of the series. None (the default) reads it from the
        panel's periods; a ``freq`` that contradicts them raises.
    history
        Periods before the event's period used to fit the counterfactual (at
        least 6; seasonal effects need two years of them; a daily series has none).
    horizon
        Periods from the event's period on over which the drop is summed (at
        least 1); cut short before the corridor's next event.
    split
        Where the displaced flow went (:class:`Split`, default
        ``SPLIT_DEFAULT``, an assumption: see its docstring).
    other_formal_recorded
        Whether flow taken over by other formal providers is still in the series
        (True when the series is the corridor's whole formal flow; False when it
        is only the de-risked providers').
    draws, seed
        Monte Carlo draws (at least 2) and the seed (>= 0) that makes them
        reproducible. Each event draws from its own stream, keyed by its
        ``event_id``: reordering or adding events leaves every other event's
        numbers as they were.
    drivers
        Dated premiums as for :func:`estimate_informal` (``destination``
        [, ``origin``], ``period``, ``premium_pct``): each series they name (the
        country's or the corridor's recorded flow) is fitted over all its periods
        with the premium as a regressor, ``log y_t = a + b t + s + g * premium_t``,
        and ``premium`` reports the displacement ``1 - exp(g)`` per point with its
        interval (normal, least-squares covariance). ``events`` may then be None.

    Returns
    -------
    DeRiskingEffect
        Rows ordered by ``effective_date`` and ``event_id``.

    Raises
    ------
    ParameterError
        A bad argument: ``draws``, ``seed``, ``history`` or ``horizon`` out of range,
        a ``freq`` that contradicts the periods, duplicate or missing event ids.
    FlowlensError
        When no event can be estimated (the reasons of each are in the message).

    Examples
    --------
    >>> import numpy as np, polars as pl, datetime as dt
    >>> from flowlens.informal import derisking_effect
    >>> months = pl.date_range(dt.date(2010, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
    >>> wiggle = 1 + 0.02 * np.sin(np.arange(72))
    >>> level = np.where(months.to_numpy() >= np.datetime64("2015-02-01"), 0.6, 1.0)
    >>> panel = pl.DataFrame({"period": months, "origin": "USA", "destination": "SOM",
    ...                       "amount_usd": 18e6 * wiggle * level})
    >>> events = pl.DataFrame({"event_id": ["closure", "reversed"],
    ...     "effective_date": [dt.date(2015, 2, 6), dt.date(2014, 9, 30)],
    ...     "origin": "USA", "destination": "SOM", "placebo": [False, True]})
    >>> effect = derisking_effect(panel, events, horizon=6)
    >>> effect.events.select("event_id", "detected").rows()
    [('reversed', False), ('closure', True)]
    >>> round(effect.events.filter(event_id="closure")["drop_share_p50"].item(), 2)
    0.4
    """
    check_draws(draws, seed)
    if events is None and drivers is None:
        msg = "derisking_effect needs events, drivers (dated premiums) or both; got neither"
        raise ParameterError(msg)
    check_count(history, "history", 6)
    check_count(horizon, "horizon", 1)
    if not isinstance(split, Split):
        msg = f"split must be a flowlens.informal.Split, got {split!r}"
        raise ParameterError(msg)
    what = "derisking_effect's panel"
    frame = from_any(panel, what=what).eager()
    spec = checked_panel(frame, freq=freq, value=value, what=what)
    checked_table(frame, what=what, texts=[fs.ORIGIN, fs.DESTINATION, fs.CHANNEL])
    recorded = _recorded(frame, spec)
    premium = None if drivers is None else _premium_fit(recorded, drivers, spec, draws, seed)
    if events is None:
        empty = pl.DataFrame(schema={"event_id": pl.String, "detected": pl.Boolean})
        return DeRiskingEffect(
            events=empty,
            periods=pl.DataFrame(),
            skipped=pl.DataFrame(schema={"event_id": pl.String, "reason": pl.String}),
            draws=draws,
            seed=seed,
            spec=spec,
            history=history,
            horizon=horizon,
            split=split,
            other_formal_recorded=other_formal_recorded,
            premium=premium,
        )
    table = _events(from_any(events, what="events").eager(), spec.freq)
    shares = split.sample(np.random.default_rng([seed, 3]), draws)
    fit = _Fit(spec.freq, history, horizon, _season(spec.freq), shares, seed)
    event_rows, period_frames, skipped = [], [], []
    # events are few (a handful per study); each is one small least-squares fit
    for event in table.iter_rows(named=True):
        try:
            row, drop, periods = _one_event(
                _series(recorded, event, spec.value), event, _next_event(table, event), fit
            )
        except _NotEstimableError as reason:
            skipped.append({"event_id": event["event_id"], "reason": str(reason)})
            continue
        event_rows.append({**row, **_implied(drop, shares, other_formal_recorded)})
        period_frames.append(periods)
    if not event_rows:
        reasons = "; ".join(row["reason"] for row in skipped)
        msg = f"no event could be estimated: {reasons}"
        raise FlowlensError(msg)
    return DeRiskingEffect(
        # a drop below a billionth of the counterfactual is rounding, not a finding
        events=pl.DataFrame(event_rows).with_columns(
            detected=pl.col("drop_p5") > 1e-9 * pl.col("counterfactual_p50")
        ),
        periods=pl.concat(period_frames, how="diagonal_relaxed"),
        skipped=pl.DataFrame(skipped, schema={"event_id": pl.String, "reason": pl.String}),
        draws=draws,
        seed=seed,
        spec=spec,
        history=history,
        horizon=horizon,
        split=split,
        other_formal_recorded=other_formal_recorded,
        premium=premium,
    )


def _premium_fit(
    recorded: pl.DataFrame, drivers: Any, spec: PanelSpec, draws: int, seed: int
) -> pl.DataFrame:
    """Per series the drivers name: the premium's coefficient on log recorded flow, with its interval."""
    used, keys = checked_drivers(drivers, spec.freq, recorded)
    series = (
        recorded.filter(pl.col(spec.value).is_not_null())
        .group_by(*keys, fs.PERIOD)
        .agg(pl.col(spec.value).sort().sum().alias("y"))
        .join(used, on=[*keys, fs.PERIOD], how="inner")
        .sort(*keys, fs.PERIOD)
    )
    rows = []
    rng = np.random.default_rng([seed, 5])
    season = _season(spec.freq)
    # the series the drivers name are few (a handful of countries); each is one small fit
    for key, part in series.partition_by(keys, as_dict=True, maintain_order=True).items():
        where = dict(zip(keys, key, strict=True))
        premium = part["premium_pct"].to_numpy()
        y = part["y"].to_numpy()
        if part.height < 8 or (y <= 0).any() or np.ptp(premium) == 0:
            msg = (
                f"the drivers' series {where}: {part.height} periods with recorded flow, "
                f"premium from {premium.min():g} to {premium.max():g}; the fit needs at least "
                "8 periods of positive flow and a premium that changes"
            )
            raise ParameterError(msg)
        t = np.arange(part.height, dtype=np.float64)
        seasonal = season > 1 and part.height >= 2 * season
        x = np.column_stack([_design(t, seasonal, season), premium])
        coef, *_ = np.linalg.lstsq(x, np.log(y), rcond=None)
        residuals = np.log(y) - x @ coef
        dof = max(part.height - x.shape[1], 1)
        covariance = float(residuals @ residuals) / dof * np.linalg.pinv(x.T @ x)
        g = rng.normal(coef[-1], np.sqrt(max(covariance[-1, -1], 0.0)), draws)
        per_pp = np.quantile(-np.expm1(g), QUANTILES)
        at_10 = np.quantile(-np.expm1(10.0 * g), QUANTILES)
        # the logistic slope with the same fall at 10 points, at the ratio 0.55
        fall = float(np.median(-np.expm1(10.0 * g)))
        ratio = 0.55
        beta = (
            float(np.log(((1.0 + ratio) / (1.0 - fall) - 1.0) / ratio) / 10.0)
            if fall > 0.0  # below 1 always: exp(10 g) > 0
            else 0.0  # no fall: the logistic response cannot be negative (the columns above show it)
        )
        rows.append(
            {
                **where,
                "periods": part.height,
                "premium_max": float(premium.max()),
                **{
                    f"displaced_per_pp_p{round(q * 100)}": float(v)
                    for q, v in zip(QUANTILES, per_pp, strict=True)
                },
                **{
                    f"displaced_at_10pp_p{round(q * 100)}": float(v)
                    for q, v in zip(QUANTILES, at_10, strict=True)
                },
                "premium_response_p50": beta,
            }
        )
    if not rows:
        msg = "the drivers name no series of the panel (check destination codes and periods)"
        raise ParameterError(msg)
    return pl.DataFrame(rows)


class _NotEstimableError(FlowlensError):
    """An event the panel cannot support (too little history, nothing after it)."""


@dataclass(frozen=True)
class _Fit:
    """The settings every event's fit shares."""

    every: str
    history: int
    horizon: int
    season: int
    shares: F64  # (draws, 3): the split's draws, one stream for every event
    seed: int


def _season(every: str) -> int:
    """Periods per year for the seasonal effects: none for days (365 dummies) or odd lengths."""
    per_year = periods_per_year(every)
    return per_year if per_year is not None and per_year <= 52 else 1


def _recorded(frame: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
    """The formal rows of the panel: period, corridor (as text) and value."""
    if fs.CHANNEL in frame.columns:
        frame = frame.filter(~pl.col(fs.CHANNEL).cast(pl.String).is_in(list(fs.INFORMAL_CHANNELS)))
    MissingColumnError.require(frame.columns, fs.ORIGIN, fs.DESTINATION)
    return frame.select(
        pl.col(fs.PERIOD).dt.truncate(spec.freq).cast(pl.Date),
        pl.col(fs.ORIGIN).cast(pl.String),
        pl.col(fs.DESTINATION).cast(pl.String),
        pl.col(spec.value).cast(pl.Float64),
    )


def _events(events: pl.DataFrame, every: str) -> pl.DataFrame:
    """The events table checked (unique ids, dates) and sorted by date and id."""
    MissingColumnError.require(events.columns, *EVENT_COLUMNS[:4])
    if "placebo" not in events.columns:
        events = events.with_columns(placebo=pl.lit(False))
    table = events.select(
        pl.col("event_id").cast(pl.String),
        pl.col("effective_date").cast(pl.Date),
        to_iso3(pl.col(fs.ORIGIN).cast(pl.String)).alias("_origin"),
        pl.col(fs.ORIGIN).cast(pl.String),
        to_iso3(pl.col(fs.DESTINATION).cast(pl.String)).alias("_destination"),
        pl.col(fs.DESTINATION).cast(pl.String),
        pl.col("placebo").cast(pl.Boolean).fill_null(False),
    )
    # every event has a known sender; a receiver is optional (none: the whole outflow)
    unknown = table.filter(
        pl.col("_origin").is_null()
        | (pl.col(fs.DESTINATION).is_not_null() & pl.col("_destination").is_null())
    )
    if unknown.height:
        row = unknown.row(0, named=True)
        msg = (
            f"events: event {row['event_id']!r} has origin {row[fs.ORIGIN]!r} and destination "
            f"{row[fs.DESTINATION]!r}; the origin must be a country flowlens knows (ISO3, "
            "ISO2 or a name) and the destination one too, or empty for the whole outflow"
        )
        raise ParameterError(msg)
    table = table.drop(fs.ORIGIN, fs.DESTINATION).rename(
        {"_origin": fs.ORIGIN, "_destination": fs.DESTINATION}
    )
    ids = table["event_id"]
    if ids.null_count() or ids.is_duplicated().any():
        repeated = sorted(set(ids.filter(ids.is_duplicated()).drop_nulls().to_list()))
        msg = (
            f"every event needs its own event_id (it keys the event's random numbers); "
            f"{ids.null_count()} are missing and {repeated} repeat"
        )
        raise ParameterError(msg)
    undated = table.filter(pl.col("effective_date").is_null())
    if undated.height:
        msg = f"events {undated['event_id'].to_list()} have no effective_date"
        raise ParameterError(msg)
    check_dates(table, "effective_date", what="events")  # year 1 minus a history overflowed
    return table.with_columns(event_period=pl.col("effective_date").dt.truncate(every)).sort(
        "effective_date", "event_id"
    )


def event_stream(seed: int, event_id: str) -> np.random.Generator:
    """The random stream of one event: keyed by the seed and a stable hash of its id.

    Examples
    --------
    >>> from flowlens.informal._recorded import event_stream
    >>> a = event_stream(0, "MERCHANTS_2015").standard_normal(2)
    >>> bool((a == event_stream(0, "MERCHANTS_2015").standard_normal(2)).all())
    True
    """
    digest = hashlib.blake2b(event_id.encode("utf-8"), digest_size=8).digest()
    return np.random.default_rng([seed, 3, int.from_bytes(digest, "little")])


def _implied(drop: F64, shares: F64, other_formal_recorded: bool) -> dict[str, float]:
    """Percentiles of the informal and lost flow the drop implies, per the split's draws."""
    if other_formal_recorded:
        displaced = np.maximum(drop, 0.0) / np.maximum(1.0 - shares[:, 1], 1e-12)
    else:
        displaced = np.maximum(drop, 0.0)
    row = {}
    for name, share in (("informal", shares[:, 0]), ("lost", shares[:, 2])):
        cut = np.quantile(displaced * share, QUANTILES)
        for q, v in zip(QUANTILES, cut, strict=True):
            row[f"{name}_p{round(q * 100)}"] = float(v)
    return row


def _series(recorded: pl.DataFrame, event: dict[str, object], value: str) -> pl.DataFrame:
    """The event's corridor (or the sender's whole outflow) as one series per period."""
    hit = pl.col(fs.ORIGIN) == event[fs.ORIGIN]
    if event[fs.DESTINATION] is not None:
        hit &= pl.col(fs.DESTINATION) == event[fs.DESTINATION]
    return (
        recorded.filter(hit & pl.col(value).is_not_null())
        .group_by(fs.PERIOD)
        .agg(pl.col(value).sort().sum().alias("recorded_usd"))
        .sort(fs.PERIOD)
    )


def _next_event(events: pl.DataFrame, event: dict[str, object]) -> dt.date | None:
    """The period of the corridor's next event, where this one's horizon must stop."""
    destination: pl.Expr = (
        pl.col(fs.DESTINATION).is_null()
        if event[fs.DESTINATION] is None
        else pl.col(fs.DESTINATION) == pl.lit(event[fs.DESTINATION])
    )
    same: pl.Expr = (pl.col(fs.ORIGIN) == pl.lit(event[fs.ORIGIN])) & destination
    later = events.filter(same & (pl.col("event_period") > pl.lit(event["event_period"])))
    return None if later.is_empty() else later["event_period"].min()  # type: ignore[return-value]


def _one_event(
    series: pl.DataFrame, event: dict[str, Any], next_event: dt.date | None, fit: _Fit
) -> tuple[dict[str, object], F64, pl.DataFrame]:
    """One event: its row of results, the drop per draw, and its periods for plots."""
    before, after = _windows(series, event, next_event, fit)
    y = np.log(before["recorded_usd"].to_numpy())
    seasonal = fit.season > 1 and fit.history >= 2 * fit.season
    x_before = _design(before["t"].cast(pl.Float64).to_numpy(), seasonal, fit.season)
    x_after = _design(after["t"].cast(pl.Float64).to_numpy(), seasonal, fit.season)
    coef, *_ = np.linalg.lstsq(x_before, y, rcond=None)
    counterfactual = _counterfactual_draws(
        y, x_before, x_after, coef, fit, event_stream(fit.seed, str(event["event_id"]))
    )  # (draws, horizon periods)
    observed = after["recorded_usd"].to_numpy()
    drop = (counterfactual - observed[None, :]).sum(axis=1)
    cf_total = np.quantile(counterfactual.sum(axis=1), 0.5)
    drop_q = np.quantile(drop, QUANTILES)
    row: dict[str, object] = {
        **{k: event[k] for k in _LABEL},
        "history_periods": fit.history,
        "horizon_periods": after.height,
        "recorded_usd": float(observed.sum()),
        "counterfactual_p50": float(cf_total),
        **{f"drop_p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, drop_q, strict=True)},
        "drop_share_p50": float(drop_q[1] / cf_total) if cf_total > 0 else None,
    }
    cf_cut = np.quantile(counterfactual, QUANTILES, axis=0)
    periods_frame = pl.concat(
        [
            before.select(fs.PERIOD, "recorded_usd").with_columns(
                fitted_usd=pl.Series(np.exp(x_before @ coef)), phase=pl.lit("history")
            ),
            after.select(fs.PERIOD, "recorded_usd").with_columns(
                counterfactual_p5=pl.Series(cf_cut[0]),
                counterfactual_p50=pl.Series(np.exp(x_after @ coef)),
                counterfactual_p95=pl.Series(cf_cut[2]),
                phase=pl.lit("horizon"),
            ),
        ],
        how="diagonal_relaxed",
    ).with_columns(event_id=pl.lit(event["event_id"]))
    return row, drop, periods_frame.select("event_id", pl.exclude("event_id"))


def _windows(
    series: pl.DataFrame, event: dict[str, Any], next_event: dt.date | None, fit: _Fit
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The history before the event's period and the horizon from it, with a trend clock ``t``.

    Raises _NotEstimableError when the history has gaps or the horizon no flow.
    """
    start: dt.date = event["event_period"]
    periods = pl.date_range(
        _shift(start, fit.every, -fit.history),
        _shift(start, fit.every, fit.horizon - 1),
        fit.every,
        eager=True,
    ).alias(fs.PERIOD)
    # t counts periods from the start of the history: the trend's clock
    grid = (
        periods.to_frame()
        .with_row_index("t")
        .join(series, on=fs.PERIOD, how="left", maintain_order="left")
    )
    if next_event is not None:
        grid = grid.filter(pl.col(fs.PERIOD) < next_event)
    before = grid.filter(pl.col(fs.PERIOD) < start)
    after = grid.filter(pl.col(fs.PERIOD) >= start)
    where = f"event {event['event_id']} ({event[fs.ORIGIN]} -> {event[fs.DESTINATION] or 'all'})"
    gaps = before.filter(pl.col("recorded_usd").is_null() | (pl.col("recorded_usd") <= 0))
    if before.height < fit.history or gaps.height:
        first = before[fs.PERIOD].min() if before.height else start
        msg = (
            f"{where}: the counterfactual needs {fit.history} periods of positive recorded flow "
            f"before {start}, from {first!s}; "
            + (
                f"{gaps.height} are missing or zero, e.g. {gaps[fs.PERIOD][0]!s}"
                if gaps.height
                else ""
            )
            + ": pass a shorter history= or a longer panel"
        )
        raise _NotEstimableError(msg)
    if after.is_empty() or after["recorded_usd"].null_count() == after.height:
        msg = f"{where}: the panel has no recorded flow from {start} on"
        raise _NotEstimableError(msg)
    return before, after.filter(pl.col("recorded_usd").is_not_null())


def _counterfactual_draws(  # noqa: PLR0917 - one fit's arrays
    y: F64, x_before: F64, x_after: F64, coef: F64, fit: _Fit, rng: np.random.Generator
) -> F64:
    """Draws of the counterfactual over the horizon: coefficients and a circular residual block."""
    residuals: F64 = y - x_before @ coef
    dof = max(fit.history - x_before.shape[1], 1)
    sigma2 = float(residuals @ residuals) / dof
    covariance = sigma2 * np.linalg.pinv(x_before.T @ x_before)
    draws = fit.shares.shape[0]
    coef_draws = rng.multivariate_normal(coef, covariance, draws, method="eigh")
    # one circular block of residuals per draw keeps their autocorrelation
    first_residual = np.asarray(rng.integers(0, fit.history, size=draws), dtype=np.int64)
    block = (first_residual[:, None] + np.arange(x_after.shape[0])[None, :]) % fit.history
    counterfactual: F64 = np.exp(coef_draws @ x_after.T + residuals[block])
    return counterfactual


def _shift(day: dt.date, every: str, n: int) -> dt.date:
    """``day`` moved by ``n`` periods of length ``every`` (negative: back)."""
    match = re.fullmatch(r"(\d+)(\D+)", every)
    if match is None:
        msg = f"freq {every!r} must be a count and a unit, such as '1mo' or '1q'"
        raise ParameterError(msg)
    shifted: dt.date = pl.Series([day]).dt.offset_by(f"{int(match[1]) * n}{match[2]}").item()
    return shifted


def _design(t: F64, seasonal: bool, season: int) -> F64:
    """Intercept, trend and (optionally) one dummy per period of the year but the first."""
    columns = [np.ones_like(t), t / 12.0]
    if seasonal:
        phase = np.mod(t, season).astype(np.int64)
        columns += [(phase == k).astype(np.float64) for k in range(1, season)]
    return np.stack(columns, axis=1)
