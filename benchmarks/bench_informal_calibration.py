"""Calibration of estimate_informal against the synthetic generator's truth.

    python benchmarks/bench_informal_calibration.py --rows 10M --seeds 1 2 3 --events 60
    python benchmarks/bench_informal_calibration.py --interval conditional


For each seed, two synthetic worlds share everything but de-risking: one without
events (what would have been recorded), one with ``--events`` de-risking events
injected in large corridors, each with its own withdrawn share and split drawn from
the default priors (``WITHDRAWN_DEFAULT``, ``SPLIT_DEFAULT``) and a start drawn in
2014-2015. ``estimate_informal`` runs on the remittances recorded in the world
without events, one scenario per event with the default priors, the baseline
measured before 2014 (``baseline_observed``), and no cost response (the generator
raises fees but does not move volumes with them), with ``--interval`` (default
``predictive``, the estimator's default). Each affected corridor-month
(from the event's month on) is checked: does its 90% interval cover the informal
remittances the world with events realised? And in aggregate, how far is the sum
of medians from the sum of the truth? Writes JSON under benchmarks/results/
(``informal_calibration.json``; ``informal_calibration_conditional.json`` for the
conditional intervals).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import polars as pl

from flowlens.informal import (
    SPLIT_DEFAULT,
    WITHDRAWN_DEFAULT,
    DeRiskingScenario,
    Fixed,
    baseline_observed,
    estimate_informal,
)
from flowlens.synth import DeRiskingEvent, SynthConfig, generate

HERE = Path(__file__).resolve().parent
REMITTANCE = pl.col("flow_type").cast(pl.String) == "remittance"
TEXT_KEYS = (pl.col("origin").cast(pl.String), pl.col("destination").cast(pl.String))


def affected_cells(
    rows: int, seed: int, n_events: int, interval: str = "predictive"
) -> pl.DataFrame:
    """One row per affected corridor-month: the estimate's interval and the realised truth."""
    config = SynthConfig(
        n_corridors=300,
        start="2013-01-01",
        end="2016-12-31",
        crises=(),
        n_random_crises=0,
        derisking=(),
    )
    without = generate(rows, seed=seed, config=config)
    rng = np.random.default_rng([seed, 99])
    largest = without.truth.corridors.sort("weight", descending=True).head(2 * n_events)
    chosen = largest.sample(n_events, seed=seed).select(*TEXT_KEYS).rows()
    withdrawn = WITHDRAWN_DEFAULT.sample(rng, n_events)
    split = SPLIT_DEFAULT.sample(rng, n_events)
    offsets = rng.integers(0, 730, n_events)
    events = tuple(
        DeRiskingEvent(
            origin,
            destination,
            dt.date(2014, 1, 1) + dt.timedelta(days=int(offsets[i])),
            withdrawn=float(withdrawn[i]),
            to_informal=float(split[i, 0]),
            to_other_formal=float(split[i, 1]),
            name=f"event{i}",
        )
        for i, (origin, destination) in enumerate(chosen)
    )
    with_events = generate(rows, seed=seed, config=dataclasses.replace(config, derisking=events))
    assert with_events.truth.corridors.equals(without.truth.corridors)  # the same world
    assert without.flows is not None
    keys = pl.DataFrame(chosen, schema=["origin", "destination"], orient="row")
    panel = (
        without.flows.filter(REMITTANCE)
        .group_by(pl.col("date").dt.truncate("1mo").alias("period"), *TEXT_KEYS, "channel")
        .agg(pl.col("amount_usd").sum(), n_transfers=pl.len())
        .join(keys, on=["origin", "destination"])
    )
    scenarios = [
        DeRiskingScenario(
            e.name,
            origin=e.origin,
            destination=e.destination,
            start=e.start,
            ramp_days=e.ramp_days,
            cost_increase_pp=Fixed(0.0),
        )
        for e in events
    ]
    baseline = baseline_observed(panel, before="2014-01-01")
    estimate = estimate_informal(
        panel, scenarios, baseline=baseline, draws=1000, seed=seed, interval=interval
    )
    starts = pl.DataFrame(
        {
            "scenario": [e.name for e in events],
            "origin": [e.origin for e in events],
            "destination": [e.destination for e in events],
            "first_month": [e.start_date.replace(day=1) for e in events],
        }
    )
    truth = (
        with_events.truth.panel.filter(REMITTANCE)
        .group_by("period", *TEXT_KEYS)
        .agg(
            true_informal_usd=pl.col("informal_usd").sum(), n_transfers=pl.col("n_transfers").sum()
        )
    )
    return (
        estimate.corridors.with_columns(*TEXT_KEYS)
        .join(starts, on=["scenario", "origin", "destination"])
        .filter(pl.col("period") >= pl.col("first_month"))
        .join(truth, on=["period", "origin", "destination"], how="left")
        .with_columns(pl.col("true_informal_usd").fill_null(0.0), seed=pl.lit(seed))
        .select(
            "seed",
            "scenario",
            "origin",
            "destination",
            "period",
            "n_transfers",
            "informal_p5",
            "informal_p50",
            "informal_p95",
            "true_informal_usd",
        )
    )


def scores(cells: pl.DataFrame) -> dict[str, float]:
    truth = pl.col("true_informal_usd")
    row = cells.select(
        cells=pl.len(),
        coverage=((pl.col("informal_p5") <= truth) & (truth <= pl.col("informal_p95"))).mean(),
        below_p5=(truth < pl.col("informal_p5")).mean(),
        above_p95=(truth > pl.col("informal_p95")).mean(),
        median_to_truth=pl.col("informal_p50").sum() / truth.sum(),
    ).row(0, named=True)
    return {k: float(v) for k, v in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10M")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--interval", choices=["predictive", "conditional"], default="predictive")
    args = parser.parse_args()
    rows = (
        int(float(args.rows.upper().rstrip("M")) * 1e6)
        if args.rows.upper().endswith("M")
        else int(args.rows)
    )
    started = time.perf_counter()
    cells = pl.concat(
        [affected_cells(rows, seed, args.events, args.interval) for seed in args.seeds]
    )
    overall = scores(cells)
    by_seed = {
        str(seed): scores(part)
        for (seed,), part in cells.partition_by("seed", as_dict=True).items()
    }
    size = pl.col("n_transfers")
    by_size = {
        label: scores(cells.filter(condition))
        for label, condition in (
            ("under 300 transfers a month", size < 300),
            ("300-1000", size.is_between(300, 1000, closed="left")),
            ("1000 or more", size >= 1000),
        )
    }
    results = {
        "rows": rows,
        "seeds": args.seeds,
        "events_per_seed": args.events,
        "interval": args.interval,
        "overall": overall,
        "by_seed": by_seed,
        "by_size": by_size,
        "seconds": time.perf_counter() - started,
        "date": str(dt.date.today()),
    }
    suffix = "" if args.interval == "predictive" else f"_{args.interval}"
    out = HERE / "results" / f"informal_calibration{suffix}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
