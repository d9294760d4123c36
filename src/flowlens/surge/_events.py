"""Episodes, crisis events, attribution, event studies and evaluation against known truth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens._frames import Frame, from_any
from flowlens._panelspec import checked_table, country_codes, input_errors, require_present
from flowlens.errors import MissingColumnError, ParameterError
from flowlens.freq import as_date, normalise_freq, resolve_freq
from flowlens.io import read_table_csv
from flowlens.surge._common import (
    FREQ_COLUMN,
    SurgeResult,
    _key_columns,
    _number,
    _period_number,
    _value_column,
    _whole,
)


@input_errors("surge_episodes")
def surge_episodes(result: SurgeResult | Any) -> Any:
    """One row per episode: a run of consecutive flagged periods of one series.

    Parameters
    ----------
    result
        A :class:`SurgeResult`, or a scored table (``period``, the value column,
        ``baseline``, ``score``, ``flag``) of any kind; its text columns are the
        series keys and its frequency is read from its periods.

    Returns
    -------
    polars.DataFrame
        The series key, ``start``, ``end``, ``n_periods``, ``peak_period``,
        ``peak_score``, ``observed_usd``, ``baseline_usd``, ``excess_usd``
        (observed minus baseline over the episode), ``uplift`` (excess /
        baseline) and ``freq`` (the period length of the dates, which
        :func:`attribute_surges` and :func:`evaluate_surges` read). A polars
        DataFrame for a SurgeResult; for a table, the kind that came in.

    Examples
    --------
    >>> import flowlens as fl
    >>> monthly = fl.load_sample("mexico_monthly").filter(destination="MEX")
    >>> scored = fl.detect_surges(monthly, by=["destination"], method="rolling")
    >>> episodes = fl.surge_episodes(scored)
    >>> "2020-03-01" in [str(d) for d in episodes["start"]], episodes["freq"].unique().to_list()
    (True, ['1mo'])
    """
    if isinstance(result, SurgeResult):
        return _episodes(result.scored, list(result.by), result.value, result.freq)
    table = from_any(result, what="surge_episodes' scores")
    scored = table.eager()
    MissingColumnError.require(scored.columns, fs.PERIOD, "baseline", "score", "flag")
    every = resolve_freq(scored[fs.PERIOD], what="surge_episodes' scores")
    return table.back(_episodes(scored, _key_columns(scored), _value_column(scored), every))


def _episodes(scored: pl.DataFrame, keys: list[str], value: str, every: str) -> pl.DataFrame:
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
        .with_columns(pl.lit(every, dtype=pl.String).alias(FREQ_COLUMN))
    )


def read_crisis_events(path: str | Any) -> pl.DataFrame:
    """Read a crisis-events table into ``event_id``, ``country``, ``start``, ``kind``, ``name``.

    Accepts the columns of DESIGN.md (``event_id``, ``country``, ``start``, ``kind``,
    ``name``) or those of ``data/samples/real/crisis_events.csv`` (``country_iso3``,
    ``event_type``, ``start_date``, ``notes``). A country cell may list several
    countries separated by ``;`` (one row each); ``ALL`` marks a global event. A
    ``source`` column (the publisher and report of each row), when the file has one,
    is kept after ``name``.

    Examples
    --------
    >>> from flowlens.surge import read_crisis_events
    >>> events = read_crisis_events("data/samples/real/crisis_events.csv")
    >>> events.filter(event_id="MEX_EQ_2017B").select("country", "start").row(0)
    ('MEX', datetime.date(2017, 9, 19))
    """
    raw = read_table_csv(path, "the crisis events")
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
            **({"source": pl.col("source")} if "source" in raw.columns else {}),
        )
    )


@input_errors("attribute_surges")
def attribute_surges(
    episodes: Any, events: Any, *, max_lag: int = 2, freq: str | None = None
) -> Any:
    """Link each surge episode to the crisis in its receiving country that most likely caused it.

    An episode is attributed to the latest event in its destination (or a global
    ``ALL`` event) that started at most ``max_lag`` periods before the episode
    began, and not after it.

    Parameters
    ----------
    episodes
        From :func:`surge_episodes` (``destination``, ``start`` and ``freq``), any
        kind of table.
    events
        ``event_id``, ``country`` and ``start`` (:func:`read_crisis_events`).
    max_lag
        The longest delay, counted in the episodes' own periods (2: two months for
        monthly scores, two quarters for quarterly ones).
    freq
        The period length of the episodes. None (the default) reads their ``freq``
        column; given, it must agree with it. Needed only for a hand-made table
        without that column.

    Returns
    -------
    polars.DataFrame
        The episodes with ``event_id``, ``event_start`` and ``lag_periods`` (null
        where no event qualifies), as the kind of table ``episodes`` came as.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.surge import attribute_surges
    >>> episodes = pl.DataFrame({"destination": ["NPL", "MEX"],
    ...                          "start": [dt.date(2015, 5, 1), dt.date(2019, 1, 1)]})
    >>> events = pl.DataFrame({"event_id": ["EQ"], "country": ["NPL"], "start": [dt.date(2015, 4, 25)]})
    >>> attributed = attribute_surges(episodes, events, freq="1mo")
    >>> attributed.select("destination", "event_id", "lag_periods").rows()
    [('NPL', 'EQ', 1), ('MEX', None, None)]
    """
    if not (_whole(max_lag) and max_lag >= 0):
        msg = f"max_lag must be a whole number of periods, at least 0; got {max_lag!r}"
        raise ParameterError(msg)
    table = from_any(episodes, what="attribute_surges' episodes")
    found = table.eager()
    crises = from_any(events, what="attribute_surges' events").eager()
    MissingColumnError.require(found.columns, fs.DESTINATION, "start")
    MissingColumnError.require(crises.columns, "event_id", "country", "start")
    checked_table(crises, what="attribute_surges' events", keys=["country"], dates=["start"])
    checked_table(found, what="attribute_surges' episodes", dates=["start"])
    every = _episodes_freq(found, freq, "attribute_surges")
    numbered = found.with_row_index("_episode").with_columns(
        _n=_period_number(pl.col("start"), every), _dest=pl.col(fs.DESTINATION).cast(pl.String)
    )
    candidates = crises.select(
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
        .sort("_episode", "lag_periods", "event_start", "event_id")
        .unique("_episode", keep="first", maintain_order=True)
        .select("_episode", "event_id", "event_start", "lag_periods")
    )
    attributed = (
        numbered.join(matches, on="_episode", how="left")
        .sort("_episode")
        .drop("_episode", "_n", "_dest")
    )
    return table.back(attributed)


@input_errors("score_events")
def score_events(result: SurgeResult, events: Any, *, max_lag: int = 2) -> pl.DataFrame:
    """Each crisis against each scored series of its country: detected, missed, or not judged.

    For every event and every series whose ``destination`` is the event's country
    (every series for a global ``ALL`` event), the scores from the event's period to
    ``max_lag`` periods after it: the highest score and its period, whether any period
    of that span was flagged, and whether any was scored at all (a span before a
    series' first scorable period, or past its last period, cannot be judged).

    Parameters
    ----------
    result
        A :class:`SurgeResult` from :func:`detect_surges` whose ``by`` includes
        ``destination``.
    events
        ``event_id``, ``country`` and ``start`` (:func:`read_crisis_events`), any kind
        of table.
    max_lag
        The last period of the span after the event's own period, counted in the
        result's periods (2: two months for monthly scores, two quarters for
        quarterly ones).

    Returns
    -------
    polars.DataFrame
        One row per (event, series): ``event_id``, ``country``, ``start``, the
        series keys, ``period`` (of the highest score in the span; the earliest if
        tied; null when nothing was scored), ``score`` (that score), ``detected``
        (any period of the span flagged) and ``scored`` (any period of the span
        scored; False means the event could not be judged on that series). An
        event with no series of its country has no row.

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.surge import read_crisis_events
    >>> from flowlens import score_events
    >>> monthly = fl.load_sample("mexico_monthly").filter(destination="MEX")
    >>> result = fl.detect_surges(monthly, by=["destination"], method="rolling")
    >>> events = read_crisis_events("data/samples/real/crisis_events.csv")
    >>> judged = score_events(result, events).filter(event_id="GLOBAL_COVID_2020")
    >>> judged.select("destination", "period", "detected", "scored").row(0)
    ('MEX', datetime.date(2020, 3, 1), True, True)
    >>> round(judged["score"].item(), 1)
    3.6
    """
    if not isinstance(result, SurgeResult):
        msg = (
            "score_events needs the SurgeResult of detect_surges (it reads the result's "
            f"period length and series keys); got {type(result).__name__}"
        )
        raise ParameterError(msg)
    if not (_whole(max_lag) and max_lag >= 0):
        msg = f"max_lag must be a whole number of periods, at least 0; got {max_lag!r}"
        raise ParameterError(msg)
    keys = list(result.by)
    if fs.DESTINATION not in keys:
        msg = (
            f"score_events matches events to series by their receiving country, but the result "
            f"is by {keys}; score with detect_surges(..., by=[..., 'destination'])"
        )
        raise ParameterError(msg)
    taken = [k for k in keys if k in ("event_id", "country", "start", "_pair", "_n")]
    if taken:
        msg = f"score_events: the series keys {taken} clash with its output columns; rename them"
        raise ParameterError(msg)
    crises = from_any(events, what="score_events' events").eager()
    MissingColumnError.require(crises.columns, "event_id", "country", "start")
    checked_table(
        crises, what="score_events' events", keys=["event_id", "country"], dates=["start"]
    )
    every = result.freq
    scored = result.scored.select(
        *keys,
        "period",
        "score",
        "flag",
        _n=_period_number(pl.col("period"), every),
    )
    series = scored.select(keys).unique(maintain_order=True)
    crises = crises.select(
        pl.col("event_id").cast(pl.String),
        pl.col("country").cast(pl.String).str.strip_chars(),
        pl.col("start").cast(pl.Date),
    )
    crises = _event_countries(crises)
    destination = series[fs.DESTINATION].cast(pl.String)
    pairs = (
        crises.join(series.with_columns(_dest=destination), how="cross")
        .filter((pl.col("_dest") == pl.col("country")) | (pl.col("country") == "ALL"))
        .drop("_dest")
        .with_row_index("_pair")
    )
    span = pairs.select(
        "_pair",
        *keys,
        _n=pl.int_ranges(
            _period_number(pl.col("start"), every),
            _period_number(pl.col("start"), every) + max_lag + 1,
        ),
    ).explode("_n")
    score = pl.col("score")
    best = (
        span.join(scored, on=[*keys, "_n"], how="left", nulls_equal=True)
        .sort("_pair", "_n")
        .group_by("_pair", maintain_order=True)
        .agg(
            period=pl.col("period").filter(score == score.max()).first(),
            score=score.max(),
            detected=pl.col("flag").fill_null(False).any(),
            scored=score.is_not_null().any(),
        )
    )
    return (
        pairs.join(best, on="_pair", how="left")
        .sort("start", "event_id", "_pair")
        .select("event_id", "country", "start", *keys, "period", "score", "detected", "scored")
    )


def _event_countries(crises: pl.DataFrame) -> pl.DataFrame:
    """Events' countries normalised like the data: "Mexico", "mx" and "MEX" are one; ALL stays."""
    named = crises.filter(pl.col("country").str.to_uppercase() != "ALL")["country"].unique()
    if named.len() == 0:
        return crises.with_columns(pl.col("country").str.to_uppercase())
    codes = country_codes(named.to_list(), "score_events' country")
    return crises.with_columns(
        pl.col("country").replace_strict(
            dict(zip(named.to_list(), codes, strict=True)),
            default=pl.col("country").str.to_uppercase(),
        )
    )


def _episodes_freq(episodes: pl.DataFrame, freq: str | None, what: str) -> str:
    """The period length of an episodes table: its ``freq`` column, checked against ``freq``."""
    given = None if freq is None else normalise_freq(freq)
    if FREQ_COLUMN not in episodes.columns:
        if given is None:
            msg = (
                f"{what}: the episodes have no 'freq' column (surge_episodes writes one); "
                "pass freq=... (the period length of their dates, e.g. freq='1mo')"
            )
            raise ParameterError(msg)
        return given
    found = episodes[FREQ_COLUMN].drop_nulls().unique().sort().to_list()
    if len(found) > 1:
        msg = f"{what}: the episodes mix period lengths {found}; take one frequency at a time"
        raise ParameterError(msg)
    if not found:  # no episodes: any length counts nothing
        return given or "1mo"
    own = normalise_freq(str(found[0]))
    if given is not None and given != own:
        msg = (
            f"{what}: freq={freq!r} contradicts the episodes, which are {own} periods "
            "(their 'freq' column). Leave freq out to read it from them."
        )
        raise ParameterError(msg)
    return own


@input_errors("event_study")
def event_study(
    result: SurgeResult | Any,
    *,
    country: str,
    start: Any,
    horizon: int = 6,
    freq: str | None = None,
) -> Any:
    """Excess over baseline by sending country for k = 0..horizon periods after an event.

    Parameters
    ----------
    result
        Scores by corridor (``by`` including ``origin`` and ``destination``, as by
        default) from :func:`detect_surges`, or such a scored table of any kind.
    country, start
        The receiving country and the event's date (a date or 'YYYY-MM-DD').
    horizon
        The last period after the event, counted in the scores' own periods.
    freq
        The period length. None (the default) reads it from the result (or the
        table's periods); given, it must agree with them.

    Returns
    -------
    polars.DataFrame
        Per ``origin`` (and the other keys but ``destination``) and ``k``:
        ``excess_usd``, ``cumulative_excess_usd``, and per series ``peak_k``
        (periods to the largest excess) and ``total_excess_usd``: which diasporas
        respond fastest and strongest. A polars DataFrame for a SurgeResult; for a
        table, the kind that came in.

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
    if not (isinstance(horizon, int) and not isinstance(horizon, bool) and horizon >= 0):
        msg = f"horizon must be a whole number of periods, at least 0; got {horizon!r}"
        raise ParameterError(msg)
    table, scored, keys, value, every = _scores_of(result, freq, "event_study")
    if fs.ORIGIN not in keys or fs.DESTINATION not in keys:
        msg = (
            "event_study needs scores by corridor: detect_surges(...) with by=None (every key) "
            f"or a by that includes 'origin' and 'destination'; these are by {keys}"
        )
        raise ParameterError(msg)
    if not isinstance(country, str):
        msg = f"country must be one receiving country (ISO3 code or name), got {country!r}"
        raise ParameterError(msg)
    (country,) = country_codes(country, "event_study's country")
    require_present(
        [country],
        scored[fs.DESTINATION].cast(pl.String).unique(),
        what="event_study's country",
        where="the scores' receiving countries",
    )
    onset = pl.select(_period_number(pl.lit(as_date(start, "start")), every)).item()
    keys = [k for k in keys if k != fs.DESTINATION]
    window = (
        scored.filter(pl.col(fs.DESTINATION).cast(pl.String) == country)
        .with_columns(k=_period_number(pl.col("period"), every) - onset)
        .filter(pl.col("k").is_between(0, horizon))
        .with_columns(excess_usd=pl.col(value) - pl.col("baseline"))
        .sort(*keys, "k")
    )
    excess = pl.col("excess_usd")
    study = window.select(
        *keys,
        "k",
        "period",
        "excess_usd",
        cumulative_excess_usd=excess.fill_null(0.0).cum_sum().over(keys),
        peak_k=pl.col("k").sort_by(excess.fill_null(-np.inf)).last().over(keys),
        total_excess_usd=excess.sum().over(keys),
    )
    return study if table is None else table.back(study)


def _scores_of(
    result: SurgeResult | Any, freq: str | None, what: str
) -> tuple[Frame | None, pl.DataFrame, list[str], str, str]:
    """(the table, if one came in; the scores; their keys, value column and frequency)."""
    if isinstance(result, SurgeResult):
        if freq is not None:
            resolve_freq(result.scored[fs.PERIOD], freq, what=f"{what}'s scores")
        return None, result.scored, list(result.by), result.value, result.freq
    table = from_any(result, what=f"{what}'s scores")
    scored = table.eager()
    MissingColumnError.require(scored.columns, fs.PERIOD, "baseline")
    every = resolve_freq(scored[fs.PERIOD], freq, what=f"{what}'s scores")
    return table, scored, _key_columns(scored), _value_column(scored), every


@input_errors("evaluate_surges")
def evaluate_surges(
    episodes: Any,
    truth: Any,
    *,
    scored: SurgeResult | None = None,
    min_uplift: float = 0.3,
    real_uplift: float | None = None,
    tolerance: int = 1,
    freq: str | None = None,
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
        this many periods of each other (the truth's periods).
    freq
        The period length of the truth. None (the default) reads it from its
        ``period`` column; given, it must agree with it. The episodes' ``freq``
        column, when they have one, must agree too (move daily episodes to months
        before comparing them with a monthly truth).

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
    _check_evaluation(min_uplift, real_uplift, tolerance)
    episode_rows = from_any(episodes, what="evaluate_surges' episodes").eager()
    truth_rows = from_any(truth, what="evaluate_surges' truth").eager()
    # the episode_rows' text columns that key a series (not an attribution's event_id or name)
    keys = [
        c
        for c in _key_columns(episode_rows)
        if c in truth_rows.columns or c in (*fs.PANEL_KEYS, fs.FLOW_TYPE)
    ]
    MissingColumnError.require(truth_rows.columns, *keys, "period", "baseline_usd", "excess_usd")
    every = resolve_freq(truth_rows[fs.PERIOD], freq, what="evaluate_surges' truth")
    if FREQ_COLUMN in episode_rows.columns:
        _episodes_freq(episode_rows, every, "evaluate_surges")
    cast = [pl.col(k).cast(pl.String) for k in keys]
    if scored is not None:
        scorable = scored.scored.filter(pl.col("score").is_not_null()).select(*cast, "period")
        truth_rows = truth_rows.with_columns(cast).join(scorable, on=[*keys, "period"], how="semi")
    truth_rows = truth_rows.with_columns(cast)
    true_runs = _true_runs(truth_rows, keys, min_uplift, every)
    real_runs = (
        true_runs if real_uplift is None else _true_runs(truth_rows, keys, real_uplift, every)
    )
    found = (
        episode_rows.with_columns(cast)
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
    within = matched.join(truth_rows, on=keys, how="inner").filter(
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


def _check_evaluation(min_uplift: float, real_uplift: float | None, tolerance: int) -> None:
    shares = [min_uplift] if real_uplift is None else [min_uplift, real_uplift]
    if not all(_number(x) and 0 <= x < math.inf for x in shares):
        msg = (
            f"min_uplift and real_uplift are shares of at least 0; got {min_uplift}, {real_uplift}"
        )
        raise ParameterError(msg)
    if not (isinstance(tolerance, int) and not isinstance(tolerance, bool) and tolerance >= 0):
        msg = f"tolerance must be a whole number of periods, at least 0; got {tolerance!r}"
        raise ParameterError(msg)


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
