"""Benchmark: exact surge baselines for many series at once.

    python benchmarks/bench_surge.py

Times, in one process: the compiled rolling median + MAD kernel and the numpy
(sort every window) kernel on 20,000 monthly series x 120 months (window 12), and
the compiled kernel on 5,000 daily series x 3,653 days (window 90); then
``detect_surges`` end to end on the monthly panel with each built-in method
(best of 3; ``forecast`` fits six years, ``rolling`` uses a 12-month window,
``seasonal`` and ``calendar`` 36 year-over-year changes), ``forecast`` again on the same
panel with Enum keys in period order (as ``corridor_panel`` writes it) and shuffled, and
on the daily panel with ``forecast`` (three years of days) and ``rolling`` (90 days). The baseline is a naive loop
per series with numpy's median on each window (on a sample of series, scaled up).
Writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import flowlens as fl
from flowlens.surge import rolling_median_mad
from flowlens.surge._baselines import _rolling_median_mad_numpy

HERE = Path(__file__).resolve().parent


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def naive(values: np.ndarray, window: int) -> None:
    for s in range(values.shape[0]):
        for t in range(window, values.shape[1]):
            past = values[s, t - window : t]
            median = np.median(past)
            np.median(np.abs(past - median))


def main() -> None:
    rng = np.random.default_rng(0)
    monthly = rng.lognormal(10, 1, (20_000, 120))
    daily = rng.lognormal(10, 1, (5_000, 3_653))
    rolling_median_mad(monthly[:10], 12, min_periods=6)  # compile once, outside the timings
    results = {
        "monthly_compiled_s": best(lambda: rolling_median_mad(monthly, 12, min_periods=6)),
        "monthly_numpy_sort_s": best(
            lambda: _rolling_median_mad_numpy(monthly, 12, min_periods=6), 1
        ),
        "daily_compiled_s": best(lambda: rolling_median_mad(daily, 90, min_periods=45), 1),
    }
    sample = 200
    results["monthly_naive_loop_s"] = (
        best(lambda: naive(monthly[:sample], 12), 1) * monthly.shape[0] / sample
    )
    periods = pl.date_range(dt.date(2015, 1, 1), dt.date(2024, 12, 1), "1mo", eager=True)
    codes = [c for c in fl.reference.country_codes() if len(c) == 3]
    pairs = [(o, d) for o in codes[:100] for d in codes[:200] if o != d][:20_000]
    panel = pl.DataFrame(
        {
            "period": np.tile(periods.to_numpy(), len(pairs)),
            "origin": np.repeat([o for o, _ in pairs], len(periods)),
            "destination": np.repeat([d for _, d in pairs], len(periods)),
            "amount_usd": monthly[: len(pairs)].ravel(),
        }
    ).with_columns(pl.col("period").cast(pl.Date))
    for method in fl.surge.BUILT_IN:
        fl.detect_surges(panel.head(1_200), method=method)  # compile once, outside the timings
        results[f"detect_surges_{method}_20k_x_120_s"] = best(
            lambda m=method: fl.detect_surges(panel, method=m)
        )
    # the same panel as corridor_panel writes it (Enum keys, rows by period) and shuffled:
    # the sorted text panel above is read as it is; these take the general paths
    enum = pl.Enum(sorted({*panel["origin"].to_list(), *panel["destination"].to_list()}))
    by_period = panel.with_columns(pl.col("origin", "destination").cast(enum)).sort(
        "period", "origin", "destination"
    )
    shuffled = panel.sample(fraction=1.0, shuffle=True, seed=1)
    for name, frame in (("enum_by_period", by_period), ("shuffled", shuffled)):
        results[f"detect_surges_forecast_20k_x_120_{name}_s"] = best(
            lambda f=frame: fl.detect_surges(f)
        )
    days = pl.date_range(dt.date(2015, 1, 1), dt.date(2024, 12, 31), "1d", eager=True)
    daily_pairs = pairs[:5_000]
    daily_panel = pl.DataFrame(
        {
            "period": np.tile(days.to_numpy(), len(daily_pairs)),
            "origin": np.repeat([o for o, _ in daily_pairs], len(days)),
            "destination": np.repeat([d for _, d in daily_pairs], len(days)),
            "amount_usd": daily[: len(daily_pairs), : len(days)].ravel(),
        }
    ).with_columns(pl.col("period").cast(pl.Date))
    for method, window in (("forecast", None), ("rolling", 90)):
        results[f"detect_surges_{method}_daily_5k_x_3653_s"] = best(
            lambda m=method, w=window: fl.detect_surges(daily_panel, method=m, window=w), 1
        )
    results["speedup_compiled_vs_naive"] = (
        results["monthly_naive_loop_s"] / results["monthly_compiled_s"]
    )
    results["date"] = str(dt.date.today())
    out = HERE / "results" / "surge.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key}: {value if isinstance(value, str) else round(value, 3)}")


if __name__ == "__main__":
    main()
