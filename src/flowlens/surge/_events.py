"""Episodes, crisis events, attribution, event studies and evaluation against known truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens.errors import MissingColumnError, SchemaError
from flowlens.panel import _normalise_freq
from flowlens.surge._common import SurgeResult, _period_number, _value_column


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
    value = _value_column(scored)
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
    MissingColumnError.require(raw.columns, "event_id", "country", "start")
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
    MissingColumnError.require(episodes.columns, fs.DESTINATION, "start")
    MissingColumnError.require(events.columns, "event_id", "country", "start")
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
        The receiving country and the event's date (a date or 'YYYY-MM-DD').

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
    value = _value_column(scored)
    onset = pl.select(_period_number(pl.lit(_as_date(start)), every)).item()
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
    real_uplift: float | None = None,
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
        A true surge is a period whose excess is at least this share of its baseline
        (recall counts these).
    real_uplift
        An episode is correct (precision) when it matches a true surge of at least
        this uplift. Default ``min_uplift``: then finding a real +20% surge counts
        as a false alarm in a test of +30% surges; set it lower (0.1, say) to count
        as false only the episodes where nothing happened.
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
    MissingColumnError.require(truth.columns, *keys, "period", "baseline_usd", "excess_usd")
    cast = [pl.col(k).cast(pl.String) for k in keys]
    if scored is not None:
        scorable = scored.scored.filter(pl.col("score").is_not_null()).select(*cast, "period")
        truth = truth.with_columns(cast).join(scorable, on=[*keys, "period"], how="semi")
    truth = truth.with_columns(cast)
    true_runs = _true_runs(truth, keys, min_uplift, every)
    real_runs = true_runs if real_uplift is None else _true_runs(truth, keys, real_uplift, every)
    found = (
        episodes.with_columns(cast)
        .with_row_index("_found")
        .with_columns(_found_n=_period_number(pl.col("start"), every))
    )

    def matching(runs: pl.DataFrame) -> pl.DataFrame:
        return found.join(runs, on=keys, how="inner").filter(
            (pl.col("_found_n") - pl.col("_true_n")).abs() <= tolerance
        )

    pairs = matching(true_runs)
    real_pairs = pairs if real_uplift is None else matching(real_runs)
    n_found, n_true = found.height, true_runs.height
    matched_found = real_pairs["_found"].n_unique()
    matched_true = pairs["_true"].n_unique()
    precision = matched_found / n_found if n_found else float("nan")
    recall = matched_true / n_true if n_true else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    # excess error: the true excess over each matched episode's own periods
    matched = found.join(pairs.select("_found").unique(), on="_found", how="semi")
    within = matched.join(truth, on=keys, how="inner").filter(
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


def _true_runs(truth: pl.DataFrame, keys: Sequence[str], uplift: float, every: str) -> pl.DataFrame:
    """Runs of consecutive periods whose true excess is at least ``uplift`` of the baseline."""
    marked = (
        truth.sort(*keys, "period")
        .with_columns(
            _surge=(pl.col("excess_usd") >= uplift * pl.col("baseline_usd"))
            & (pl.col("excess_usd") > 0)
        )
        .with_columns(
            _run=(pl.col("_surge") != pl.col("_surge").shift(1).over(keys))
            .fill_null(True)
            .cast(pl.Int64)
            .cum_sum()
            .over(keys)
        )
    )
    return (
        marked.filter("_surge")
        .group_by(*keys, "_run")
        .agg(true_start=pl.col("period").min())
        .with_columns(_true_n=_period_number(pl.col("true_start"), every))
        .with_row_index("_true")
    )


def _as_date(value: Any) -> dt.date:
    """A date from a date, a datetime or ISO text (``"2020-03-01"``), or a SchemaError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        msg = f"start {value!r} is not a date; pass a datetime.date or 'YYYY-MM-DD'"
        raise SchemaError(msg) from exc
