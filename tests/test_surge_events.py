"""score_events against hand-set scores, and the bundled crisis-events file with its sources."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import flowlens as fl
from flowlens.errors import MissingColumnError, ParameterError
from flowlens.surge import Scores, SeriesArrays, SurgeMethod, read_crisis_events
from flowlens.surge._events import score_events

EVENTS_CSV = Path(__file__).resolve().parents[1] / "data" / "samples" / "real" / "crisis_events.csv"

# scores by hand: series (destination) -> score per period; NaN is not scored
MONTHLY_SCORES = {
    "GTM": [math.nan, math.nan, 1.0, 5.0, 2.0, 5.0, 0.5, math.nan],
    "MEX": [math.nan, 0.2, 0.3, 0.4, 4.0, 0.1, 0.2, 0.3],
}
JAN = dt.date(2020, 1, 1)


def _given(table: dict[str, list[float]]) -> SurgeMethod:
    """A method that returns the scores of ``table`` (baseline 1, scale 1)."""

    def score(arrays: SeriesArrays) -> Scores:
        rows = [table[d] for d in arrays.series["destination"].cast(pl.String)]
        scores = np.array(rows, dtype=np.float64)
        ones = np.ones_like(scores)
        return Scores(ones, ones, scores, ones)

    return SurgeMethod("given", score, default_window=2)


def _result(table: dict[str, list[float]], every: str = "1mo") -> fl.SurgeResult:
    n = len(next(iter(table.values())))
    periods = _periods(n, every)
    panel = pl.DataFrame(
        {
            "period": [p for _ in table for p in periods],
            "destination": [d for d in table for _ in range(n)],
            "amount_usd": 10.0,
        }
    )
    return fl.detect_surges(panel, by=["destination"], method=_given(table), threshold=3.0)


def _periods(n: int, every: str) -> list[dt.date]:
    months = 3 if every == "1q" else 1
    return [dt.date(2020 + (i * months) // 12, (i * months) % 12 + 1, 1) for i in range(n)]


def _events(*rows: tuple[str, str, dt.date]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["event_id", "country", "start"], orient="row")


def test_best_score_detected_and_scored_by_hand() -> None:
    events = _events(
        ("G1", "GTM", dt.date(2020, 2, 20)),  # Feb..Apr: 1.0 (Mar), 5.0 (Apr) -> Apr, flagged
        ("G0", "GTM", dt.date(2020, 1, 5)),  # Jan..Mar: only Mar scored, 1.0, not flagged
        ("G2", "GTM", dt.date(2020, 8, 31)),  # Aug..Oct: Aug unscored, then past the data
        ("NONE", "NPL", dt.date(2020, 3, 1)),  # no series of NPL: no row
        ("ALL1", "ALL", dt.date(2020, 4, 15)),  # Apr..Jun in both series
    )
    judged = score_events(_result(MONTHLY_SCORES), events)
    rows = {
        (r["event_id"], r["destination"]): r
        for r in judged.with_columns(pl.col("destination").cast(pl.String)).iter_rows(named=True)
    }
    assert judged.columns == [
        "event_id",
        "country",
        "start",
        "destination",
        "period",
        "score",
        "detected",
        "scored",
    ]
    assert sorted(rows) == [
        ("ALL1", "GTM"),
        ("ALL1", "MEX"),
        ("G0", "GTM"),
        ("G1", "GTM"),
        ("G2", "GTM"),
    ]
    g1 = rows["G1", "GTM"]
    assert (g1["period"], g1["score"], g1["detected"], g1["scored"]) == (
        dt.date(2020, 4, 1),
        5.0,
        True,
        True,
    )
    g0 = rows["G0", "GTM"]
    assert (g0["period"], g0["score"], g0["detected"], g0["scored"]) == (
        dt.date(2020, 3, 1),
        1.0,
        False,
        True,
    )
    g2 = rows["G2", "GTM"]
    assert (g2["period"], g2["score"], g2["detected"], g2["scored"]) == (None, None, False, False)
    # Apr 5.0, May 2.0, Jun 5.0 in GTM: a tie, the earlier period is reported
    gtm = rows["ALL1", "GTM"]
    assert (gtm["period"], gtm["score"], gtm["detected"]) == (dt.date(2020, 4, 1), 5.0, True)
    assert gtm["country"] == "ALL"
    mex = rows["ALL1", "MEX"]
    assert (mex["period"], mex["score"], mex["detected"]) == (dt.date(2020, 5, 1), 4.0, True)
    # ordered by start, then event id
    assert judged["event_id"].to_list() == ["G0", "G1", "ALL1", "ALL1", "G2"]


def test_max_lag_counts_the_results_periods() -> None:
    events = _events(("G1", "GTM", dt.date(2020, 2, 20)))
    at_once = score_events(_result(MONTHLY_SCORES), events, max_lag=0).row(0, named=True)
    assert (at_once["period"], at_once["score"], at_once["scored"]) == (None, None, False)
    one = score_events(_result(MONTHLY_SCORES), events, max_lag=1).row(0, named=True)
    assert (one["period"], one["score"], one["detected"]) == (dt.date(2020, 3, 1), 1.0, False)
    # quarterly: the same lag of 1 spans two quarters (Q2 2020 and Q3 2020)
    quarterly = _result({"GTM": [math.nan, 0.5, 3.5, 9.0]}, every="1q")
    row = score_events(quarterly, _events(("Q", "GTM", dt.date(2020, 5, 30))), max_lag=1).row(
        0, named=True
    )
    assert (row["period"], row["score"], row["detected"]) == (dt.date(2020, 7, 1), 3.5, True)


def test_series_by_origin_and_destination_each_get_a_row() -> None:
    periods = _periods(4, "1mo")
    panel = pl.DataFrame(
        {
            "period": [*periods, *periods],
            "origin": ["USA"] * 4 + ["CAN"] * 4,
            "destination": ["MEX"] * 8,
            "amount_usd": 1.0,
        }
    )

    def score(arrays: SeriesArrays) -> Scores:
        by_origin = {"USA": [math.nan, 1.0, 6.0, 0.0], "CAN": [math.nan, 2.0, 0.5, 0.0]}
        rows = [by_origin[o] for o in arrays.series["origin"].cast(pl.String)]
        scores = np.array(rows)
        return Scores(np.ones_like(scores), np.ones_like(scores), scores, np.ones_like(scores))

    result = fl.detect_surges(
        panel, by=["origin", "destination"], method=SurgeMethod("given", score, default_window=2)
    )
    judged = score_events(result, _events(("M", "MEX", dt.date(2020, 2, 1))), max_lag=1)
    got = {
        r["origin"]: (r["period"], r["score"], r["detected"])
        for r in judged.with_columns(pl.col("origin").cast(pl.String)).iter_rows(named=True)
    }
    assert got == {
        "USA": (dt.date(2020, 3, 1), 6.0, True),
        "CAN": (dt.date(2020, 2, 1), 2.0, False),
    }


def test_real_mexico_march_2020_against_rolling_by_hand() -> None:
    """The rolling score of March 2020 recomputed from the twelve months before it."""
    monthly = fl.load_sample("mexico_monthly").filter(destination="MEX")
    result = fl.detect_surges(monthly, by=["destination"], method="rolling")
    events = _events(("COVID", "ALL", dt.date(2020, 3, 11)))
    row = score_events(result, events, max_lag=0).row(0, named=True)
    values = monthly.sort("period")["amount_usd"]
    dates = monthly.sort("period")["period"].to_list()
    i = dates.index(dt.date(2020, 3, 1))
    past = np.asarray(values[i - 12 : i])
    median = float(np.median(past))
    mad = float(np.median(np.abs(past - median)))
    scale = max(1.4826 * mad, 0.05 * median)
    assert row["score"] == pytest.approx((values[i] - median) / scale, rel=1e-9)
    assert row["detected"] is True


def test_refuses_bad_arguments() -> None:
    """AN-65."""
    result = _result(MONTHLY_SCORES)
    events = _events(("G1", "GTM", dt.date(2020, 2, 20)))
    with pytest.raises(ParameterError, match="SurgeResult"):
        score_events(result.scored, events)  # type: ignore[arg-type]
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ParameterError, match="max_lag"):
            score_events(result, events, max_lag=bad)  # type: ignore[arg-type]
    with pytest.raises(MissingColumnError, match="country"):
        score_events(result, events.drop("country"))
    periods = _periods(4, "1mo")
    by_origin = fl.detect_surges(
        pl.DataFrame({"period": periods, "origin": "USA", "amount_usd": 1.0}),
        by=["origin"],
        method="rolling",
        window=2,
    )
    with pytest.raises(ParameterError, match="destination"):
        score_events(by_origin, events)


def test_bundled_events_keep_their_sources(tmp_path: Path) -> None:
    raw = pl.read_csv(EVENTS_CSV, infer_schema=False)
    assert raw["event_id"].is_unique().all()
    assert raw["source"].null_count() == 0
    assert (raw["source"].str.len_chars() > 20).all()
    events = read_crisis_events(EVENTS_CSV)
    assert events.columns == ["event_id", "country", "start", "kind", "name", "source"]
    assert events["start"].dtype == pl.Date
    assert events["start"].is_between(dt.date(1990, 1, 1), dt.date(2026, 12, 31)).all()
    # the rows that were there before the sources were added
    puebla = events.filter(event_id="MEX_EQ_2017B").select("country", "start").row(0)
    assert puebla == ("MEX", dt.date(2017, 9, 19))
    assert sorted(events.filter(event_id="TUR_SYR_EQ_2023")["country"]) == ["SYR", "TUR"]
    # without a source column: the columns of DESIGN.md only
    plain = tmp_path / "events.csv"
    raw.drop("source").write_csv(plain)
    assert read_crisis_events(plain).columns == ["event_id", "country", "start", "kind", "name"]
