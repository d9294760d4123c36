"""The forecast method: against a slow least-squares reference, its properties, and real series."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy.optimize import lsq_linear

import flowlens as fl
from flowlens.surge._forecast import CLEAN_AT, HOLIDAY_RIDGE, SHIFT_AT, SHIFT_CONFIRM
from flowlens.surge._forecast_kernel import forecast_scores

MONTHS = pl.date_range(dt.date(2010, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True)


def reference(  # noqa: PLR0917 - the model written out, slowly  # long: a reference in one piece
    y: np.ndarray,
    cat: np.ndarray,
    h: np.ndarray,
    floor: np.ndarray,
    window: int,
    errors: int,
    min_errors: int,
    recent: int,
    revert: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One series, period by period: an explicit least-squares fit with category dummies."""
    t_len, n_hol = h.shape
    kept = np.full(t_len, np.nan)
    f = np.full(t_len, np.nan)
    s_out = np.full(t_len, np.nan)
    z = np.full(t_len, np.nan)
    ls = np.zeros(t_len)
    abs_errors: list[float] = []
    sigma = np.nan
    n_cleaned = 0
    run: list[int] = []
    shifts: list[tuple[int, int, float]] = []
    for t in range(t_len):
        past = [s for s in range(max(0, t - window), t) if not np.isnan(kept[s])]
        cats = sorted({int(cat[s]) for s in past})
        if cat[t] in cats:
            counts = {c: sum(1 for s in past if cat[s] == c) for c in cats}
            with_drift = max(counts.values()) >= 2
            columns = [[float(cat[s] == c) for c in cats] for s in past]
            design = np.array(
                [
                    row + ([float(s)] if with_drift else []) + list(h[s])
                    for row, s in zip(columns, past, strict=True)
                ]
            )
            target = np.array([kept[s] for s in past])
            n_free = len(cats) + int(with_drift)
            penalty = np.zeros((n_hol, design.shape[1]))
            penalty[np.arange(n_hol), n_free + np.arange(n_hol)] = np.sqrt(HOLIDAY_RIDGE)
            # holiday effects bounded below by 0 (days before a holiday raise flows)
            lower = np.r_[np.full(n_free, -np.inf), np.zeros(n_hol)]
            coef = lsq_linear(
                np.vstack([design, penalty]),
                np.concatenate([target, np.zeros(n_hol)]),
                bounds=(lower, np.inf),
                method="bvls",
                tol=1e-14,
            ).x

            def fitted(s: int, cats: list[int] = cats, coef: np.ndarray = coef) -> float:
                row = [float(cat[s] == c) for c in cats] + ([float(s)] if with_drift else [])  # noqa: B023
                return float(np.dot(row + list(h[s]), coef))

            recent_s = [s for s in range(max(0, t - recent), t) if not np.isnan(kept[s])]
            level = np.mean([kept[s] - fitted(s) for s in recent_s]) if recent_s else 0.0
            f[t] = fitted(t) + level
        if np.isnan(f[t]):
            kept[t] = y[t]
            continue
        if np.isnan(y[t]):
            continue
        error = y[t] - f[t]
        if not np.isnan(sigma):
            s_out[t] = max(sigma, floor[t])
            z[t] = error / s_out[t]
        judged = z[t]
        holiday = bool((h[t] > 0).any())  # not an outlier before its effect is known
        if np.isnan(judged) and len(abs_errors) >= 3 and not holiday:  # the warm-up's scale
            provisional = 1.4826 * float(np.median(abs_errors))
            judged = error / (2.0 * provisional) if provisional > 0 else np.nan
        beyond = bool(abs(judged) > CLEAN_AT)
        kept[t] = f[t] if beyond and n_cleaned < max(SHIFT_CONFIRM, 3) else y[t]
        n_cleaned = n_cleaned + 1 if beyond else 0
        if abs(z[t]) > SHIFT_AT and run and np.sign(z[run[-1]]) == np.sign(z[t]):
            run.append(t)
        elif abs(z[t]) > SHIFT_AT:
            run = [t]
        else:
            run = []
        if len(run) >= SHIFT_CONFIRM:
            steps = [y[s] - f[s] for s in run]
            step = float(np.median(steps))
            if abs(steps[-1]) >= 0.6 * abs(step) and abs(steps[0]) <= 2.5 * abs(step):
                for s in range(max(0, t - window), run[0]):
                    kept[s] += step
                for s in run:
                    far = abs(y[s] - f[s] - step) > CLEAN_AT * sigma
                    kept[s] = f[s] + step if far else y[s]
                    ls[s] = np.sign(step)
                shifts.append((run[0], t, step))
                run = []
        if np.isnan(sigma):
            abs_errors.append(abs(error))
            if len(abs_errors) >= min_errors:
                sigma = 1.4826 * float(np.median(abs_errors))
                abs_errors = [min(e, 2.5 * sigma) for e in abs_errors]
        else:
            abs_errors.append(min(abs(error), 2.5 * max(sigma, floor[t])))
            sigma = np.sqrt(np.pi / 2) * float(np.mean(abs_errors[-errors:]))
    k = 0
    while k < len(shifts):
        start, confirmed, step = shifts[k]
        after = shifts[k + 1] if k + 1 < len(shifts) else None
        reverted = (
            after is not None
            and after[0] - start <= revert
            and after[2] * step < 0
            and abs(after[2] + step) <= 0.5 * abs(step)
        )
        later = range(confirmed + 1, min(confirmed + 1 + revert, t_len))
        back = sum(y[s] - f[s] for s in later if not (np.isnan(y[s]) or np.isnan(f[s])))
        faded = not reverted and back * step <= -(step**2)
        undetermined = after is None and t_len - 1 - confirmed < SHIFT_CONFIRM
        if step > 0 and (reverted or faded or undetermined):
            ls[start : confirmed + 1] = 0.0
        if step < 0:  # the rebound after a drop, up to the old level
            for s in later:
                if z[s] > SHIFT_AT and y[s] - f[s] <= -step:
                    ls[s] = 1.0
        k += 2 if reverted else 1
    return f, s_out, z, ls


def series(seed: int, t_len: int = 120) -> np.ndarray:
    """A trending seasonal series in logs with noise, an outlier, a break and a missing month."""
    rng = np.random.default_rng(seed)
    t = np.arange(t_len)
    season = 0.15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.02, 12)[t % 12]
    logs = 10 + 0.01 * t + season + rng.normal(0, 0.04, t_len)
    logs[rng.integers(30, t_len)] += 0.5  # an outlier
    logs[rng.integers(40, t_len) :] += rng.choice([-0.7, 0.6])  # a reporting break
    logs[rng.integers(0, t_len)] = np.nan
    return logs


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_hol", [0, 2])
def test_the_kernel_equals_a_least_squares_reference(seed: int, n_hol: int) -> None:
    y = series(seed)
    t_len = y.size
    cat = (np.arange(t_len) % 12).astype(np.int64)
    rng = np.random.default_rng(100 + seed)
    hol = (rng.random((1, t_len, n_hol)) < 0.2) * rng.random((1, t_len, n_hol)) * 0.5
    floor = np.full((1, t_len), 0.02)
    settings_ = (48, 24, 12, 3)
    got = forecast_scores(
        y[None, :].copy(),
        cat,
        12,
        hol,
        np.zeros(1, dtype=np.int64),
        np.array([n_hol]),
        floor,
        *settings_,
        CLEAN_AT,
        SHIFT_AT,
        SHIFT_CONFIRM,
        HOLIDAY_RIDGE,
        12,
    )
    expected = reference(y, cat, hol[0], floor[0], *settings_, revert=12)
    np.testing.assert_allclose(got[0][0], expected[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(got[1][0], expected[1], rtol=1e-8)
    np.testing.assert_allclose(got[2][0], expected[2], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(got[4][0], expected[3])


def panel(logs: np.ndarray, destination: str = "GTM", periods: pl.Series = MONTHS) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"period": periods[: logs.size], "destination": destination, "amount_usd": np.exp(logs)}
    )
    return frame.filter(pl.col("amount_usd").is_not_nan())  # a missing month has no row


def test_a_reporting_break_is_a_level_shift_and_the_scores_recover_within_three_periods() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(120)
    logs = 10 + 0.012 * t + 0.2 * (t % 12 == 11) + rng.normal(0, 0.03, 120)
    for step in (np.log(0.45), np.log(2.2)):
        broken = logs + np.where(t >= 70, step, 0.0)
        scored = fl.detect_surges(panel(broken), by=["destination"]).scored
        assert scored["kind"][70:73].to_list() == ["level_shift"] * 3
        assert not scored["flag"].any()
        before = scored["score"][46:70].abs().quantile(0.9)
        assert scored["score"][73:].abs().max() <= max(before, 2.0) * 1.5


def test_a_one_month_surge_and_a_three_month_crisis_are_flagged_a_december_peak_is_not() -> None:
    rng = np.random.default_rng(11)
    t = np.arange(120)
    logs = 10 + 0.012 * t + 0.3 * (t % 12 == 11) + rng.normal(0, 0.03, 120)
    logs[60] += np.log(1.4)
    logs[90:93] += np.log(1.35)
    scored = fl.detect_surges(panel(logs), by=["destination"]).scored
    flagged = scored.filter("flag")["period"].to_list()
    assert MONTHS[60] in flagged
    assert MONTHS[90] in flagged
    assert all(d.month != 12 or d in (MONTHS[60], MONTHS[90]) for d in flagged)
    assert len(flagged) <= 5


def test_a_steep_trend_raises_no_flag() -> None:
    rng = np.random.default_rng(12)
    t = np.arange(120)
    logs = 10 + np.log(1.2) / 12 * t + 0.1 * np.cos(2 * np.pi * t / 12) + rng.normal(0, 0.03, 120)
    assert not fl.detect_surges(panel(logs), by=["destination"]).scored["flag"].any()


def test_the_moving_eid_is_not_a_surge_when_its_days_are_modelled() -> None:
    days = fl.calendar.holiday_windows(2010, 2019, countries=["PAK"])
    share = (
        days.group_by(period=pl.col("date").dt.truncate("1mo"))
        .len()
        .join(MONTHS.to_frame("period"), on="period", how="right")
        .select(pl.col("len").fill_null(0) / 30)["len"]
        .to_numpy()
    )
    rng = np.random.default_rng(13)
    logs = 10 + 0.01 * np.arange(120) + 0.6 * share + rng.normal(0, 0.03, 120)
    modelled = fl.detect_surges(panel(logs, "PAK"), by=["destination"]).scored
    ignored = fl.detect_surges(panel(logs, "PAK"), by=["destination"], holidays="none").scored
    assert int(modelled["flag"].sum()) == 0
    # in the months the Eid windows touch, the modelled scores are the smaller ones
    eid = pl.Series(share > 0.1)
    modelled_eid = modelled["score"].filter(eid).abs().mean()
    ignored_eid = ignored["score"].filter(eid).abs().mean()
    assert ignored_eid > 1.5 * modelled_eid  # type: ignore[operator]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(36, 110), st.floats(1e-3, 1e6))
def test_no_look_ahead_and_scale_invariance(seed: int, cut: int, factor: float) -> None:
    frame = panel(series(seed))
    full = fl.detect_surges(frame, by=["destination"]).scored
    early = fl.detect_surges(
        frame.filter(pl.col("period") <= MONTHS[cut]), by=["destination"]
    ).scored
    columns = ["baseline", "scale", "score"]
    assert_frame_equal(early.select(columns), full.head(early.height).select(columns))
    scaled = fl.detect_surges(
        frame.with_columns(pl.col("amount_usd") * factor), by=["destination"]
    ).scored
    np.testing.assert_allclose(
        scaled["score"].to_numpy(), full["score"].to_numpy(), rtol=1e-6, atol=1e-6
    )
    assert scaled["kind"].to_list() == full["kind"].to_list()


def test_shuffled_rows_and_many_series_give_the_same_scores_as_one_at_a_time() -> None:
    frames = [panel(series(seed), destination) for seed, destination in enumerate(["GTM", "MEX"])]
    both = pl.concat(frames)
    together = fl.detect_surges(both.sample(fraction=1.0, shuffle=True, seed=1), by=["destination"])
    for frame in frames:
        alone = fl.detect_surges(frame, by=["destination"]).scored
        key = frame["destination"][0]
        assert_frame_equal(together.scored.filter(destination=key), alone)


REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"


def real_monthly() -> dict[str, pl.DataFrame]:
    """Banco de Mexico, Banco de Guatemala and Banco de la Republica's monthly inflows."""
    mexico = fl.read_banxico_monthly(REAL / "banxico_mexico_remittances_monthly_1995_2026.csv")
    guatemala = pl.read_excel(REAL / "banguat_guatemala_remittances_monthly_2002_2024.xlsx")
    colombia = pl.read_excel(REAL / "banrep_colombia_workers_remittances_monthly_2000_2020.xlsx")
    months = ["ENE", "FEB", "MAR", "ABR", "MAY", "JUN", "JUL", "AGO", "SEP", "OCT", "NOV", "DIC"]
    fecha, remesas = colombia.columns[:2]
    return {
        "MEX": mexico.panel.filter(destination="MEX"),
        "GTM": guatemala.select(
            period=pl.date(pl.col("Year").cast(pl.Int32), pl.col("YrMthID").cast(pl.Int32), 1),
            destination=pl.lit("GTM"),
            amount_usd=pl.col("Remesas").cast(pl.Float64),
        ),
        "COL": colombia.select(
            period=pl.date(
                pl.col(fecha).str.slice(0, 4).cast(pl.Int32),
                pl.col(fecha).str.slice(5, 3).replace_strict(months, range(1, 13)).cast(pl.Int32),
                1,
            ),
            destination=pl.lit("COL"),
            amount_usd=pl.col(remesas).cast(pl.Float64),
        ),
    }


def test_real_series_the_pandemic_march_is_a_surge_holidays_are_not() -> None:
    flags = {}
    series_years = 0.0
    for country, frame in real_monthly().items():
        scored = fl.detect_surges(frame, by=["destination"]).scored
        flags[country] = scored.filter("flag")["period"]
        series_years += scored["score"].is_not_null().sum() / 12
    assert dt.date(2020, 3, 1) in flags["MEX"]  # +36.5% year on year
    assert not any(d.month == 5 and 2005 <= d.year <= 2019 for d in flags["MEX"])  # Mother's Day
    assert not any(d.month == 12 for d in [*flags["GTM"], *flags["COL"]])
    n_flags = sum(len(f) for f in flags.values())
    assert n_flags / series_years <= 0.3


def test_observed_holiday_dates_and_a_wrong_source() -> None:
    """AN-64, AN-67 (and announced dates against tabular ones)."""
    pytest.importorskip("holidays")
    rng = np.random.default_rng(14)
    frame = panel(10 + rng.normal(0, 0.03, 120), "PAK")
    tabular = fl.detect_surges(frame, by=["destination"]).scored
    observed = fl.detect_surges(frame, by=["destination"], holidays="observed").scored
    # announced Eids differ from the tabular ones by a day here and there: close, not equal
    assert not np.array_equal(tabular["score"].to_numpy(), observed["score"].to_numpy())
    np.testing.assert_allclose(
        tabular["score"].to_numpy(), observed["score"].to_numpy(), atol=0.5, equal_nan=True
    )
    with pytest.raises(fl.ParameterError, match="'tabular', 'observed', 'none'"):
        fl.detect_surges(frame, by=["destination"], holidays="lunar")
    days_only = pl.DataFrame({"country": ["PAK"], "day": [dt.date(2015, 7, 1)]})
    with pytest.raises(fl.MissingColumnError, match="date"):
        fl.detect_surges(frame, by=["destination"], holidays=days_only)
    # a table that would silently remove every holiday effect is refused
    for wrong, match in [
        (pl.DataFrame({"country": ["Pakistan"], "date": [dt.date(2015, 7, 1)]}), "ISO3"),
        (pl.DataFrame({"country": ["IND"], "date": [dt.date(2015, 7, 1)]}), "none of"),
        (pl.DataFrame(schema={"country": pl.String, "date": pl.Date}), "none of"),
        (pl.DataFrame({"country": ["PAK"], "date": [20150701]}), "dates"),
    ]:
        with pytest.raises((fl.SchemaError, fl.ParameterError), match=match):
            fl.detect_surges(frame, by=["destination"], holidays=wrong)
    # holidays where nothing reads them
    with pytest.raises(fl.ParameterError, match="not by 'rolling'"):
        fl.detect_surges(frame, by=["destination"], method="rolling", holidays="observed")


def test_daily_scores_weekdays_and_months_and_flags_as_rarely_per_year_as_monthly() -> None:
    from scipy.stats import norm

    days = pl.date_range(dt.date(2016, 1, 1), dt.date(2020, 12, 31), "1d", eager=True)
    rng = np.random.default_rng(15)
    weekday = days.dt.weekday().to_numpy()
    month = days.dt.month().to_numpy()
    logs = 8 + 0.3 * (weekday >= 6) + 0.2 * (month == 12) + rng.normal(0, 0.05, days.len())
    surge = (days >= dt.date(2019, 6, 10)) & (days < dt.date(2019, 6, 17))
    logs = logs + np.log(1.6) * surge.to_numpy()
    result = fl.detect_surges(panel(logs, "GTM", days), by=["destination"])
    # 0.135% of 12 months a year, spread over 365 days: the normal quantile of 4.4e-5
    assert result.threshold == pytest.approx(norm.isf(norm.sf(3.0) * 12 / 365), abs=0.01)
    flagged = result.scored.filter("flag")["period"]
    assert flagged.is_in(days.filter(surge)).sum() >= 5  # the surge week
    assert (~flagged.is_in(days.filter(surge))).sum() <= 2  # weekends and Decembers are not


def test_sunday_weeks_are_weeks_and_never_run_away() -> None:
    """AN-68: weeks dated on Sundays (pandas' resample('W')) are scored as weeks; pure noise stays quiet."""
    sundays = pl.date_range(dt.date(2015, 1, 4), dt.date(2022, 12, 25), "1w", eager=True)
    rng = np.random.default_rng(5)
    result = fl.detect_surges(panel(9 + rng.normal(0, 0.1, sundays.len()), "MEX", sundays),
                              by=["destination"])  # fmt: skip
    assert (result.freq, result.window, result.threshold) == ("7d", 312, 3.42)
    assert result.scored["flag"].mean() < 0.01  # type: ignore[operator]
    ratio = (result.scored["baseline"] / result.scored["amount_usd"]).drop_nulls()
    assert ratio.max() < 2 and ratio.min() > 0.5  # type: ignore[operator]


def test_a_closed_corridor_is_a_level_shift_down_and_its_reopening_is_not_a_surge() -> None:
    """AN-69."""
    rng = np.random.default_rng(0)
    values = np.exp(13 + rng.normal(0, 0.03, 96))
    values[48:60] = 0.0  # closed for a year, then reopened
    frame = pl.DataFrame({"period": MONTHS[:96], "destination": "SOM", "amount_usd": values})
    result = fl.detect_surges(frame, by=["destination"])
    scored = result.scored
    assert scored["kind"][48:51].to_list() == ["level_shift"] * 3
    assert scored["score"][48] < -10
    assert not scored["flag"].any()
    steps = fl.level_shifts(result)
    assert steps.select("period", "direction").rows()[:2] == [
        (MONTHS[48], "down"), (MONTHS[60], "up")]  # fmt: skip


def test_numpy_integers_and_a_window_shorter_than_a_year() -> None:
    """AN-66."""
    frame = panel(series(3))
    result = fl.detect_surges(frame, by=["destination"], window=np.int64(48), threshold=np.int64(3))
    assert (result.window, result.threshold) == (48, 3.0)
    assert type(result.threshold) is float
    for short in (12, 23):  # one level per month and a drift: two of each month at least
        with pytest.raises(fl.ParameterError, match="at least 24 periods"):
            fl.detect_surges(frame, by=["destination"], window=short)
    with pytest.raises(fl.ParameterError, match="from 2 to 1,000,000"):
        fl.detect_surges(frame, by=["destination"], window=10**12)


def test_a_weekly_event_on_a_thursday_is_in_its_own_week() -> None:
    mondays = pl.date_range(dt.date(2012, 1, 2), dt.date(2017, 12, 25), "1w", eager=True)
    rng = np.random.default_rng(8)
    logs = 9 + rng.normal(0, 0.05, mondays.len())
    spike = mondays.to_list().index(dt.date(2016, 6, 6))
    logs[spike] += np.log(2.0)
    result = fl.detect_surges(panel(logs, "MEX", mondays), by=["destination"])
    events = pl.DataFrame(
        {"event_id": ["E"], "country": ["Mexico"], "start": [dt.date(2016, 6, 9)]}
    )
    judged = fl.score_events(result, events, max_lag=0)
    assert judged.select("country", "period", "detected").row(0) == (
        "MEX",
        dt.date(2016, 6, 6),
        True,
    )


def test_a_zero_among_dips_and_sparse_zeros_do_not_bend_a_season_for_years() -> None:
    """A two-month dip ending in a zero, and series with 10% random zeros, raise no flags."""
    months = pl.date_range(dt.date(2005, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True)
    rng = np.random.default_rng(5)
    values = np.exp(13 + rng.normal(0, 0.03, 180))
    values[48:50] *= 0.85
    values[50] = 0.0
    frame = pl.DataFrame({"period": months, "destination": "MEX", "amount_usd": values})
    assert not fl.detect_surges(frame, by=["destination"]).scored["flag"].any()
    flags = 0
    for seed in range(100, 110):
        rng = np.random.default_rng(seed)
        sparse = np.exp(13 + rng.normal(0, 0.03, 180))
        sparse[rng.random(180) < 0.1] = 0.0
        frame = pl.DataFrame({"period": months, "destination": "MEX", "amount_usd": sparse})
        flags += int(fl.detect_surges(frame, by=["destination"]).scored["flag"].sum())
    assert flags <= 3  # about 0.002 per series-year of noise at threshold 3


def test_sunday_weeks_keep_their_dates_and_their_holidays() -> None:
    sundays = pl.date_range(dt.date(2004, 1, 4), dt.date(2024, 12, 29), "1w", eager=True)
    eid = fl.calendar.holiday_windows(2004, 2024, countries=["PAK"]).filter(holiday="eid_al_fitr")
    share = np.array(
        [eid["date"].is_between(d, d + dt.timedelta(days=6)).sum() / 7 for d in sundays]
    )
    rng = np.random.default_rng(1)
    frame = panel(13 + rng.normal(0, 0.03, sundays.len()) + np.log1p(share), "PAK", sundays)
    modelled = fl.detect_surges(frame, by=["destination"])
    assert modelled.scored["period"].to_list() == sundays.to_list()
    ignored = fl.detect_surges(frame, by=["destination"], holidays="none")
    assert int(modelled.scored["flag"].sum()) <= 2 < int(ignored.scored["flag"].sum())
