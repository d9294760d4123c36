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
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens.errors import FlowlensError, MissingColumnError
from flowlens.informal._baseline import INFORMAL_CHANNELS
from flowlens.informal._estimate import QUANTILES
from flowlens.informal._priors import Split
from flowlens.informal._scenario import SPLIT_DEFAULT
from flowlens.panel import _normalise_freq

F64 = npt.NDArray[np.float64]
EVENT_COLUMNS = ("event_id", "effective_date", fs.ORIGIN, fs.DESTINATION, "placebo")
_PERIODS_PER_YEAR = {"1mo": 12, "1q": 4, "3mo": 4, "1w": 52, "7d": 52}


@dataclass(frozen=True)
class DeRiskingEffect:
    """What :func:`derisking_effect` found.

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
    """

    events: pl.DataFrame
    periods: pl.DataFrame
    skipped: pl.DataFrame
    draws: int
    seed: int

    def __repr__(self) -> str:
        detected = int(self.events["detected"].sum())
        return (
            f"DeRiskingEffect(events={self.events.height}, detected={detected}, "
            f"skipped={self.skipped.height}, draws={self.draws})"
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
    raw = pl.read_csv(path, infer_schema=False)
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


def derisking_effect(
    panel: pl.DataFrame,
    events: pl.DataFrame,
    *,
    value: str = fs.AMOUNT_USD,
    freq: str = "1mo",
    history: int = 36,
    horizon: int = 6,
    split: Split = SPLIT_DEFAULT,
    other_formal_recorded: bool = True,
    draws: int = 2000,
    seed: int = 0,
) -> DeRiskingEffect:
    """The drop in recorded flow after each de-risking event, and the informal flow it implies.

    Parameters
    ----------
    panel
        Recorded flows with ``period``, ``origin``, ``destination`` and ``value``;
        with a ``channel`` column, informal and cash-carry rows are left out.
    events
        ``event_id``, ``effective_date``, ``origin``, ``destination`` (null: every
        receiving country) and optionally ``placebo``, as from
        :func:`read_derisking_events`.
    freq
        The period length of the series.
    history
        Periods before the event's period used to fit the counterfactual (at
        least 6; seasonal effects need two years of them).
    horizon
        Periods from the event's period on over which the drop is summed; cut
        short before the corridor's next event.
    split
        Where the displaced flow went (:class:`Split`, default
        ``SPLIT_DEFAULT``, an assumption: see its docstring).
    other_formal_recorded
        Whether flow taken over by other formal providers is still in the series
        (True when the series is the corridor's whole formal flow; False when it
        is only the de-risked providers').
    draws, seed
        Monte Carlo draws and the seed that makes them reproducible.

    Returns
    -------
    DeRiskingEffect

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
    [('closure', True), ('reversed', False)]
    >>> round(effect.events["drop_share_p50"][0], 2)
    0.4
    """
    if draws < 2:
        msg = f"draws must be at least 2, got {draws}"
        raise FlowlensError(msg)
    if history < 6 or horizon < 1:
        msg = f"history must be at least 6 periods and horizon at least 1, got {history} and {horizon}"
        raise FlowlensError(msg)
    if not isinstance(split, Split):
        msg = f"split must be a flowlens.informal.Split, got {split!r}"
        raise FlowlensError(msg)
    every = _normalise_freq(freq)
    MissingColumnError.require(panel.columns, "period", fs.ORIGIN, fs.DESTINATION, value)
    MissingColumnError.require(events.columns, *EVENT_COLUMNS[:4])
    if "placebo" not in events.columns:
        events = events.with_columns(placebo=pl.lit(False))
    formal_rows = panel.lazy()
    if fs.CHANNEL in panel.columns:
        formal_rows = formal_rows.filter(
            ~pl.col(fs.CHANNEL).cast(pl.String).is_in(list(INFORMAL_CHANNELS))
        )
    recorded = formal_rows.select(
        pl.col("period").dt.truncate(every).cast(pl.Date),
        pl.col(fs.ORIGIN).cast(pl.String),
        pl.col(fs.DESTINATION).cast(pl.String),
        pl.col(value).cast(pl.Float64),
    ).collect()
    events = events.select(
        pl.col("event_id").cast(pl.String),
        pl.col("effective_date").cast(pl.Date),
        pl.col(fs.ORIGIN).cast(pl.String).str.to_uppercase(),
        pl.col(fs.DESTINATION).cast(pl.String).str.to_uppercase(),
        pl.col("placebo").cast(pl.Boolean),
    ).with_columns(event_period=pl.col("effective_date").dt.truncate(every))
    rng = np.random.default_rng([seed, 3])
    shares = split.sample(rng, draws)
    season = _PERIODS_PER_YEAR.get(every, 1)
    event_rows, period_frames, skipped = [], [], []
    # events are few (a handful per study); each is one small least-squares fit
    for event in events.iter_rows(named=True):
        series = _series(recorded, event, value)
        next_event = _next_event(events, event)
        try:
            row, drop, periods = _one_event(
                series, event, next_event, every, history, horizon, season, shares, rng
            )
        except _NotEstimableError as reason:
            skipped.append({"event_id": event["event_id"], "reason": str(reason)})
            continue
        if other_formal_recorded:
            displaced = np.maximum(drop, 0.0) / np.maximum(1.0 - shares[:, 1], 1e-12)
        else:
            displaced = np.maximum(drop, 0.0)
        for name, share in (("informal", shares[:, 0]), ("lost", shares[:, 2])):
            cut = np.quantile(displaced * share, QUANTILES)
            for q, v in zip(QUANTILES, cut, strict=True):
                row[f"{name}_p{round(q * 100)}"] = float(v)
        event_rows.append(row)
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
    )


class _NotEstimableError(FlowlensError):
    """An event the panel cannot support (too little history, nothing after it)."""


def _series(recorded: pl.DataFrame, event: dict[str, object], value: str) -> pl.DataFrame:
    """The event's corridor (or the sender's whole outflow) as one series per period."""
    hit = pl.col(fs.ORIGIN) == event[fs.ORIGIN]
    if event[fs.DESTINATION] is not None:
        hit &= pl.col(fs.DESTINATION) == event[fs.DESTINATION]
    return (
        recorded.filter(hit & pl.col(value).is_not_null())
        .group_by("period")
        .agg(pl.col(value).sum().alias("recorded_usd"))
        .sort("period")
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


def _one_event(  # noqa: PLR0917 - one event's fit takes the run's settings
    series: pl.DataFrame,
    event: dict[str, object],
    next_event: dt.date | None,
    every: str,
    history: int,
    horizon: int,
    season: int,
    shares: F64,
    rng: np.random.Generator,
) -> tuple[dict[str, object], F64, pl.DataFrame]:
    start = event["event_period"]
    if not isinstance(start, dt.date):
        msg = f"event {event['event_id']} has no effective_date"
        raise FlowlensError(msg)
    label = {
        k: event[k] for k in ("event_id", "effective_date", fs.ORIGIN, fs.DESTINATION, "placebo")
    }
    periods = pl.date_range(
        _shift(start, every, -history), _shift(start, every, horizon - 1), every, eager=True
    ).alias("period")
    # t counts periods from the start of the history: the trend's clock
    grid = (
        periods.to_frame()
        .with_row_index("t")
        .join(series, on="period", how="left", maintain_order="left")
    )
    if next_event is not None:
        grid = grid.filter(pl.col("period") < next_event)
    before = grid.filter(pl.col("period") < start)
    after = grid.filter(pl.col("period") >= start)
    where = f"event {event['event_id']} ({event[fs.ORIGIN]} -> {event[fs.DESTINATION] or 'all'})"
    gaps = before.filter(pl.col("recorded_usd").is_null() | (pl.col("recorded_usd") <= 0))
    if before.height < history or gaps.height:
        first = before["period"].min() if before.height else start
        msg = (
            f"{where}: the counterfactual needs {history} periods of positive recorded flow "
            f"before {start}, from {first!s}; "
            + (
                f"{gaps.height} are missing or zero, e.g. {gaps['period'][0]!s}"
                if gaps.height
                else ""
            )
            + ": pass a shorter history= or a longer panel"
        )
        raise _NotEstimableError(msg)
    if after.is_empty() or after["recorded_usd"].null_count() == after.height:
        msg = f"{where}: the panel has no recorded flow from {start} on"
        raise _NotEstimableError(msg)
    after = after.filter(pl.col("recorded_usd").is_not_null())
    y = np.log(before["recorded_usd"].to_numpy())
    t_before = before["t"].cast(pl.Float64).to_numpy()
    t_after = after["t"].cast(pl.Float64).to_numpy()
    seasonal = season > 1 and history >= 2 * season
    x_before, x_after = _design(t_before, seasonal, season), _design(t_after, seasonal, season)
    coef, *_ = np.linalg.lstsq(x_before, y, rcond=None)
    residuals: F64 = y - x_before @ coef
    dof = max(history - x_before.shape[1], 1)
    sigma2 = float(residuals @ residuals) / dof
    covariance = sigma2 * np.linalg.pinv(x_before.T @ x_before)
    draws = shares.shape[0]
    coef_draws = rng.multivariate_normal(coef, covariance, draws, method="eigh")
    # one circular block of residuals per draw keeps their autocorrelation
    first_residual = np.asarray(rng.integers(0, history, size=draws), dtype=np.int64)
    block = (first_residual[:, None] + np.arange(after.height)[None, :]) % history
    log_cf = coef_draws @ x_after.T + residuals[block]
    counterfactual = np.exp(log_cf)  # (draws, horizon periods)
    observed = after["recorded_usd"].to_numpy()
    drop = (counterfactual - observed[None, :]).sum(axis=1)
    central = np.exp(x_after @ coef)
    cf_total = np.quantile(counterfactual.sum(axis=1), 0.5)
    drop_q = np.quantile(drop, QUANTILES)
    row: dict[str, object] = {
        **label,
        "history_periods": history,
        "horizon_periods": after.height,
        "recorded_usd": float(observed.sum()),
        "counterfactual_p50": float(cf_total),
        **{f"drop_p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, drop_q, strict=True)},
        "drop_share_p50": float(drop_q[1] / cf_total) if cf_total > 0 else None,
    }
    cf_cut = np.quantile(counterfactual, QUANTILES, axis=0)
    periods_frame = pl.concat(
        [
            before.select("period", "recorded_usd").with_columns(
                fitted_usd=pl.Series(np.exp(x_before @ coef)), phase=pl.lit("history")
            ),
            after.select("period", "recorded_usd").with_columns(
                counterfactual_p5=pl.Series(cf_cut[0]),
                counterfactual_p50=pl.Series(central),
                counterfactual_p95=pl.Series(cf_cut[2]),
                phase=pl.lit("horizon"),
            ),
        ],
        how="diagonal_relaxed",
    ).with_columns(event_id=pl.lit(event["event_id"]))
    return row, drop, periods_frame.select("event_id", pl.exclude("event_id"))


def _shift(day: dt.date, every: str, n: int) -> dt.date:
    """``day`` moved by ``n`` periods of length ``every`` (negative: back)."""
    match = re.fullmatch(r"(\d+)(\D+)", every)
    if match is None:
        msg = f"freq {every!r} must be a count and a unit, such as '1mo' or '1q'"
        raise FlowlensError(msg)
    shifted: dt.date = pl.Series([day]).dt.offset_by(f"{int(match[1]) * n}{match[2]}").item()
    return shifted


def _design(t: F64, seasonal: bool, season: int) -> F64:
    """Intercept, trend and (optionally) one dummy per period of the year but the first."""
    columns = [np.ones_like(t), t / 12.0]
    if seasonal:
        phase = np.mod(t, season).astype(np.int64)
        columns += [(phase == k).astype(np.float64) for k in range(1, season)]
    return np.stack(columns, axis=1)
