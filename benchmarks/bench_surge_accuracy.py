"""Accuracy of surge detection against the synthetic generator's ground truth.

    python benchmarks/bench_surge_accuracy.py [--rows 50M] [--seeds 1 2 3]

For each seed, the default generator (2015-2024, 2,000 corridors, the six real
crises of its defaults) with 40 random crises instead of 4 (so that precision and
recall rest on more than a handful of true surges) draws ``--rows`` transfers; the
monthly and daily remittance panels (sum and count of transfers) are scored at
corridor and destination level, and the episodes are compared with the truth:

- precision, strict: an episode is correct when it starts within one month of a
  true surge of at least 30% (a detection of a real +20% surge counts as false);
- precision, lenient: correct when it matches any true surge of at least 10%;
- recall: true surges of at least ``min_uplift`` (30% by default; 10%, 20% and
  50% for the curve) that an episode matches, among the periods the method could
  score (a surge in the first years, before a baseline exists, is not counted);
- median excess-volume error over the matched episodes.

Each is reported for all series and by series size, the median number of
transfers a month: below 100, 100 to 600, 600 and more, 2,000 and more. A 30% rise is about
3.5 noise standard deviations of a year-over-year log change only from about 600
transfers a month (a sum of n transfers of CV 0.8 varies by sqrt(1 + 0.8^2) /
sqrt(n)), so below that a detector that keeps its false alarms low must miss
many small-series surges. Daily episodes are compared with the monthly truth
(an episode matches when its month is within one month of a true surge's
first month). Writes ``benchmarks/results/surge_accuracy.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

import flowlens as fl
from flowlens.cli import parse_count
from flowlens.surge import SurgeResult
from flowlens.synth import SynthConfig, generate

HERE = Path(__file__).resolve().parent
CACHE = HERE / "_data" / "surge_accuracy"
SIZE_BANDS = {
    "all": (0, None),
    "<100": (0, 100),
    "100-600": (100, 600),
    ">=600": (600, None),
    ">=2000": (2000, None),
}
THRESHOLDS = (3.0, 3.5, 4.0, 4.5, 5.0)
UPLIFTS = (0.1, 0.2, 0.3, 0.5)
DETECT_UPLIFTS = (0.0, 0.3)


def panels(rows: int, seed: int, crises: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(monthly panel, daily panel, truth) of remittances for one seed, cached on disk."""
    folder = CACHE / f"{rows}_{seed}_{crises}"
    names = ("monthly", "daily", "truth")
    if not all((folder / f"{n}.parquet").exists() for n in names):
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        result = generate(rows, seed=seed, config=SynthConfig(ids=False, n_random_crises=crises))
        remittances = result.flows.filter(flow_type="remittance")
        for name, freq in (("monthly", "1mo"), ("daily", "1d")):
            fl.corridor_panel(remittances, freq=freq, stats=("sum", "count")).write_parquet(
                folder / f"{name}.parquet"
            )
        result.truth.panel.filter(flow_type="remittance").write_parquet(folder / "truth.parquet")
        print(f"seed {seed}: generated {rows:,} rows in {time.perf_counter() - started:.1f} s")
    monthly, daily, truth = (pl.read_parquet(folder / f"{n}.parquet") for n in names)
    return monthly, daily, truth


def to_destinations(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.group_by("period", "destination", "flow_type").agg(pl.col(columns).sum())


def size_of(panel: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Each series' median number of transfers a month."""
    monthly = panel.group_by(*keys, pl.col("period").dt.truncate("1mo")).agg(
        pl.col("n_transfers").sum()
    )
    return monthly.group_by(keys).agg(size=pl.col("n_transfers").median())


def in_band(frame: pl.DataFrame, sizes: pl.DataFrame, keys: list[str], band: str) -> pl.DataFrame:
    low, high = SIZE_BANDS[band]
    chosen = sizes.filter(pl.col("size") >= low)
    if high is not None:
        chosen = chosen.filter(pl.col("size") < high)
    return frame.join(chosen.select(keys), on=keys, how="semi")


def monthly_episodes(episodes: pl.DataFrame) -> pl.DataFrame:
    """Daily episodes with their start and end moved to month starts (and said to be monthly)."""
    return episodes.with_columns(pl.col("start", "end").dt.truncate("1mo"), freq=pl.lit("1mo"))


def by_month(result: SurgeResult, keys: list[str]) -> SurgeResult:
    """A daily result's months, scored when any of their days is (for the scorable truth)."""
    months = result.scored.group_by(*keys, "flow_type", pl.col("period").dt.truncate("1mo")).agg(
        pl.col("score").max()
    )
    return replace(result, scored=months)


def evaluations(
    monthly: pl.DataFrame, daily: pl.DataFrame, truth: pl.DataFrame
) -> Iterator[dict[str, Any]]:
    for level, keys in (("corridor", ["origin", "destination"]), ("destination", ["destination"])):
        month_panel, day_panel, level_truth = monthly, daily, truth
        if level == "destination":
            month_panel = to_destinations(monthly, ["amount_usd", "n_transfers"])
            day_panel = to_destinations(daily, ["amount_usd", "n_transfers"])
            level_truth = to_destinations(truth, ["baseline_usd", "excess_usd"])
        sizes = size_of(month_panel, keys)
        runs = [("1mo", m, month_panel) for m in ("seasonal", "calendar", "rolling")]
        runs += [("1d", m, day_panel) for m in ("calendar", "rolling")]
        for freq, method, panel in runs:
            window = 90 if (freq == "1d" and method == "rolling") else None
            started = time.perf_counter()
            scored = fl.detect_surges(
                panel,
                method=method,
                by=None if level == "corridor" else ["destination", "flow_type"],
                window=window,
                threshold=min(THRESHOLDS),
            )
            seconds = time.perf_counter() - started
            assert scored.freq == freq  # read from the panel
            scorable = scored if freq == "1mo" else by_month(scored, keys)
            detect_uplifts = DETECT_UPLIFTS if freq == "1mo" else (0.0,)
            for threshold, detect_uplift in itertools.product(THRESHOLDS, detect_uplifts):
                episodes = fl.surge_episodes(
                    scored.with_threshold(threshold, min_uplift=detect_uplift)
                )
                if freq == "1d":
                    episodes = monthly_episodes(episodes)
                for band in SIZE_BANDS:
                    band_truth = in_band(level_truth, sizes, keys, band)
                    band_episodes = in_band(episodes, sizes, keys, band)
                    for uplift in UPLIFTS:
                        strict = fl.evaluate_surges(
                            band_episodes,
                            band_truth,
                            scored=scorable,
                            min_uplift=uplift,
                        )
                        lenient = fl.evaluate_surges(
                            band_episodes,
                            band_truth,
                            scored=scorable,
                            min_uplift=uplift,
                            real_uplift=min(0.1, uplift),
                        )
                        yield {
                            "level": level,
                            "freq": freq,
                            "method": method,
                            "threshold": threshold,
                            "detect_min_uplift": detect_uplift,
                            "size": band,
                            "min_uplift": uplift,
                            "precision": strict["precision"],
                            "precision_lenient": lenient["precision"],
                            "recall": strict["recall"],
                            "median_excess_error": strict["median_excess_error"],
                            "n_episodes": strict["n_episodes"],
                            "n_true_surges": strict["n_true_surges"],
                            "n_series": float(in_band(sizes, sizes, keys, band).height),
                            "detect_seconds": seconds,
                        }


def pooled(results: pl.DataFrame) -> pl.DataFrame:
    """Sum the counts over seeds and recompute the rates from them."""
    group = ["level", "freq", "method", "threshold", "detect_min_uplift", "size", "min_uplift"]
    return (
        results.with_columns(
            hits=pl.col("precision").fill_nan(0) * pl.col("n_episodes"),
            hits_lenient=pl.col("precision_lenient").fill_nan(0) * pl.col("n_episodes"),
            found=pl.col("recall").fill_nan(0) * pl.col("n_true_surges"),
        )
        .group_by(group, maintain_order=True)
        .agg(
            pl.col("n_episodes", "n_true_surges", "hits", "hits_lenient", "found").sum(),
            pl.col("median_excess_error").fill_nan(None).median(),
        )
        .with_columns(
            precision=pl.col("hits") / pl.col("n_episodes"),
            precision_lenient=pl.col("hits_lenient") / pl.col("n_episodes"),
            recall=pl.col("found") / pl.col("n_true_surges"),
        )
        .drop("hits", "hits_lenient", "found")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=parse_count, default=50_000_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--crises", type=int, default=40, help="random crises per run (the generator's default: 4)"
    )
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        monthly, daily, truth = panels(args.rows, seed, args.crises)
        for row in evaluations(monthly, daily, truth):
            rows.append({"seed": seed, **row})
    results = pooled(pl.DataFrame(rows))
    out = HERE / "results" / "surge_accuracy.json"
    out.parent.mkdir(exist_ok=True)
    payload = {
        "date": str(dt.date.today()),
        "rows_per_seed": args.rows,
        "seeds": args.seeds,
        "random_crises": args.crises,
        "results": results.to_dicts(),
    }
    out.write_text(json.dumps(payload, indent=1) + "\n")
    headline = results.filter(
        pl.col("min_uplift") == 0.3, pl.col("threshold").is_in([3.5, 4.0, 4.5])
    ).sort("level", "freq", "method", "threshold", "detect_min_uplift", "size")
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=200, float_precision=3):
        print(headline)


if __name__ == "__main__":
    main()
