"""Coverage of estimate_informal's 90% intervals on synthetic truth, per scenario kind.

    python benchmarks/eval_informal_coverage.py --rows 4M --seeds 1 2 3

For each seed, a synthetic world without episodes (2013-2016, 300 corridors, no
crises) and, for each of three kinds of dated episodes, a world that shares
everything with it but those episodes (on their own corridors):

- premium: ``--premiums`` receiving countries hold their official exchange rate below
  the open-market rate for 3-12 months (premium 5-15 points, the response drawn from
  ``PREMIUM_RESPONSE_DEFAULT``: the truth is drawn from the prior the estimate uses);
- formalisation: ``--formalisations`` receiving countries where cash can no longer be
  carried by hand for 3-12 months (what moves to formal channels drawn from the
  split the estimate uses, nothing lost);
- closure: ``--closures`` corridors lose bank and MTO capacity (withdrawn share and
  split drawn from ``WITHDRAWN_DEFAULT`` and ``SPLIT_DEFAULT``), as in
  bench_informal_calibration.py.

``estimate_informal`` runs on the remittances recorded in the world without episodes
(monthly, by channel, with transfer counts), the baseline measured before 2014
(``baseline_observed``), the premiums as dated ``drivers`` (each month's mean premium),
one formalisation scenario per country and one closure scenario per corridor, all
with their default or stated priors, and its default ``interval="predictive"``: a
90% interval for the flow that month will carry under the scenario. Each affected
corridor-month is checked against exactly that: the world with the episodes (the
same corridors, intensities and episodes, built from the same seed) drawn from a
row stream of its own (``FRESH`` + seed), a fresh realisation of every transfer. Do
the 90% intervals of formal and of informal flow cover what it realised? Writes
benchmarks/results/informal_coverage.json and .md.

A truth within ``ROUNDING`` (relative) of an interval's end counts as covered (an
interval with no width, in a cell without transfer counts, ends at the recorded flow).
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
    PREMIUM_RESPONSE_DEFAULT,
    SPLIT_DEFAULT,
    WITHDRAWN_DEFAULT,
    DeRiskingScenario,
    Fixed,
    Split,
    baseline_observed,
    estimate_informal,
)
from flowlens.synth import (
    DeRiskingEvent,
    FormalisationEpisode,
    PremiumEpisode,
    SynthConfig,
    _spans,
    _truth,
    generate,
)
from flowlens.synth._rows import RowPlan, generate_rows
from flowlens.synth._world import build_world

HERE = Path(__file__).resolve().parent
REMITTANCE = pl.col("flow_type").cast(pl.String) == "remittance"
TEXT_KEYS = (pl.col("origin").cast(pl.String), pl.col("destination").cast(pl.String))
FORMALISATION_SPLIT = Split(informal=0.4, other_formal=0.6, concentration=20.0)
"""What carried cash does when it cannot travel, in this test: the generator sends all of
it (nothing lost), so the estimate's split has no lost share either."""
FIRST, LAST = dt.date(2014, 1, 1), dt.date(2016, 6, 30)
ROUNDING = 1e-9
FRESH = 1_000
"""The truth's row stream is seed + FRESH: the same world, every transfer drawn afresh."""
"""Relative tolerance of the coverage check: where no transfer changes channel the
interval's end is the recorded flow itself, and the truth is the same transfers summed
in another order (they differ in the last bits)."""


def _fresh(rows: int, seed: int, config: SynthConfig) -> pl.DataFrame:
    """The world of ``config`` and ``seed`` with its transfers drawn from another row stream.

    ``generate`` keys the world and the rows by one seed; here the world is built from
    ``seed`` and the rows from ``seed + FRESH`` (the synth package's own steps), so the
    truth is a second realisation of the same months. Only the realised totals are kept.
    """
    world = build_world(config, seed)
    plan = RowPlan.build(world, seed + FRESH, rows)
    totals = np.zeros((*world.baseline_m.shape, 3))
    for first, last in _spans(rows, 1_000_000):  # chunks bound the memory
        totals += generate_rows(plan, first, last)[1]
    return _truth(world, plan, totals).panel


def _episodes(
    without: object, seed: int, counts: tuple[int, int, int]
) -> tuple[
    tuple[PremiumEpisode, ...], tuple[FormalisationEpisode, ...], tuple[DeRiskingEvent, ...]
]:
    """Premium and formalisation episodes on distinct receiving countries, closures elsewhere."""
    n_premium, n_formal, n_closure = counts
    rng = np.random.default_rng([seed, 7])
    corridors = without.truth.corridors.select(*TEXT_KEYS, "weight")  # type: ignore[attr-defined]
    by_country = (
        corridors.group_by("destination")
        .agg(pl.col("weight").sum())
        .sort("weight", descending=True)
    )
    countries = by_country.head(3 * (n_premium + n_formal))["destination"].to_list()
    picked = rng.choice(len(countries), n_premium + n_formal, replace=False)
    chosen = [countries[i] for i in picked]

    def window() -> tuple[dt.date, dt.date]:
        start = FIRST + dt.timedelta(days=int(rng.integers(0, (LAST - FIRST).days - 365)))
        return start, start + dt.timedelta(days=int(rng.integers(90, 366)))

    responses = PREMIUM_RESPONSE_DEFAULT.sample(rng, n_premium)
    premiums = []
    for i, country in enumerate(chosen[:n_premium]):
        start, end = window()
        premiums.append(
            PremiumEpisode(
                country,
                start,
                end,
                premium_pct=float(rng.uniform(5.0, 15.0)),
                response=float(responses[i]),
                name=f"premium {country}",
            )
        )
    splits = FORMALISATION_SPLIT.sample(rng, n_formal)
    formal = []
    for i, country in enumerate(chosen[n_premium:]):
        start, end = window()
        formal.append(
            FormalisationEpisode(
                country, start, end, to_formal=float(splits[i, 1]), name=f"formal {country}"
            )
        )
    rest = corridors.filter(~pl.col("destination").is_in(chosen)).sort("weight", descending=True)
    closure_rows = rest.head(2 * n_closure).sample(n_closure, seed=seed).select(TEXT_KEYS).rows()
    withdrawn = WITHDRAWN_DEFAULT.sample(rng, n_closure)
    split = SPLIT_DEFAULT.sample(rng, n_closure)
    closures = tuple(
        DeRiskingEvent(
            origin,
            destination,
            FIRST + dt.timedelta(days=int(rng.integers(0, 600))),
            withdrawn=float(withdrawn[i]),
            to_informal=float(split[i, 0]),
            to_other_formal=float(split[i, 1]),
            cost_shock_pp=0.0,
            name=f"closure {i}",
        )
        for i, (origin, destination) in enumerate(closure_rows)
    )
    return tuple(premiums), tuple(formal), closures


def _drivers(premiums: tuple[PremiumEpisode, ...], months: pl.Series) -> pl.DataFrame:
    """Each premium country's mean premium per month (the days covered times the premium)."""
    frames = []
    for episode in premiums:  # a handful of episodes, each a vectorised month table
        start = pl.lit(episode.start_date)
        end = pl.lit(episode.end_date)
        month_end = pl.col("period").dt.offset_by("1mo")
        covered = pl.min_horizontal(month_end, end) - pl.max_horizontal(pl.col("period"), start)
        days = (month_end - pl.col("period")).dt.total_days()
        frames.append(
            months.to_frame("period").with_columns(
                destination=pl.lit(episode.destination),
                premium_pct=episode.premium_pct
                * (covered.dt.total_days().clip(lower_bound=0) / days),
            )
        )
    return pl.concat(frames)


@dataclasses.dataclass(frozen=True)
class World:
    """One seed's inputs to the estimate and the truth it is scored against."""

    panel: pl.DataFrame
    scenarios: list[DeRiskingScenario]
    drivers: pl.DataFrame
    windows: pl.DataFrame
    truth: pl.DataFrame


def world(rows: int, seed: int, counts: tuple[int, int, int]) -> World:  # long: one seed's worlds
    """The panel recorded without episodes, the scenarios and drivers, and each kind's truth."""
    config = SynthConfig(
        n_corridors=300,
        start="2013-01-01",
        end="2016-12-31",
        crises=(),
        n_random_crises=0,
        derisking=(),
    )
    without = generate(rows, seed=seed, config=config)
    premiums, formal, closures = _episodes(without, seed, counts)
    # one world per kind (a closure's lost flow changes how many rows every corridor
    # draws, so premium and formalisation worlds must not share it), each drawn afresh
    worlds = {
        "premium": {"premium_episodes": premiums},
        "formalisation": {"formalisation": formal},
        "closure": {"derisking": closures},
    }
    truth = pl.concat(
        [
            _fresh(rows, seed, dataclasses.replace(config, **fields))  # type: ignore[arg-type]
            .filter(REMITTANCE)
            .group_by("period", *TEXT_KEYS)
            .agg(
                true_formal=pl.col("formal_usd").sum(),
                true_informal=pl.col("informal_usd").sum(),
                n_transfers=pl.col("n_transfers").sum(),
            )
            .with_columns(kind=pl.lit(kind))
            for kind, fields in worlds.items()
        ]
    )
    assert without.flows is not None
    panel = (
        without.flows.filter(REMITTANCE)
        .group_by(pl.col("date").dt.truncate("1mo").alias("period"), *TEXT_KEYS, "channel")
        .agg(pl.col("amount_usd").sum(), n_transfers=pl.len())
    )
    months = panel["period"].unique().sort()
    scenarios = [
        DeRiskingScenario("premium", withdrawn=Fixed(0.0), cost_increase_pp=Fixed(0.0)),
        *[
            DeRiskingScenario(
                e.name,
                destination=e.destination,
                start=e.start_date,
                end=e.end_date,
                ramp_days=0,
                channels=("cash_carry",),
                withdrawn=Fixed(e.withdrawn),
                split=FORMALISATION_SPLIT,
            )
            for e in formal
        ],
        *[
            DeRiskingScenario(
                e.name,
                origin=e.origin,
                destination=e.destination,
                start=e.start_date,
                ramp_days=e.ramp_days,
                cost_increase_pp=Fixed(0.0),
            )
            for e in closures
        ],
    ]
    windows = pl.DataFrame(
        [
            *[
                ("premium", "premium", None, e.destination, e.start_date, e.end_date)
                for e in premiums
            ],
            *[
                ("formalisation", e.name, None, e.destination, e.start_date, e.end_date)
                for e in formal
            ],
            *[("closure", e.name, e.origin, e.destination, e.start_date, LAST) for e in closures],
        ],
        schema=["kind", "scenario", "o", "destination", "start", "end"],
        orient="row",
    )
    return World(panel, scenarios, _drivers(premiums, months), windows, truth)


def cells(one: World, seed: int) -> pl.DataFrame:
    """One row per affected corridor-month: its kind, intervals and the realised truth."""
    baseline = baseline_observed(one.panel, before="2014-01-01")
    estimate = estimate_informal(
        one.panel,
        one.scenarios,
        baseline=baseline,
        drivers=one.drivers,
        draws=1000,
        seed=seed,
    )
    month_end = pl.col("period").dt.offset_by("1mo")
    return (
        estimate.corridors.with_columns(*TEXT_KEYS)
        .join(one.windows, on=["scenario", "destination"])
        .filter(
            (pl.col("o").is_null() | (pl.col("o") == pl.col("origin")))
            & (month_end > pl.col("start"))
            & (pl.col("period") < pl.col("end"))
        )
        .join(one.truth, on=["kind", "period", "origin", "destination"], how="left")
        .with_columns(pl.col("true_formal", "true_informal").fill_null(0.0), seed=pl.lit(seed))
        .select(
            "seed",
            "kind",
            "scenario",
            "origin",
            "destination",
            "period",
            "n_transfers",
            "recorded_formal_usd",
            *[f"{q}_{s}" for q in ("formal", "informal") for s in ("p5", "p50", "p95")],
            "true_formal",
            "true_informal",
        )
    )


def scores(part: pl.DataFrame) -> dict[str, float]:
    """Coverage, misses on each side and median over truth, for formal and informal flow."""
    out: dict[str, float] = {"cells": float(part.height)}
    for quantity in ("formal", "informal"):
        truth = pl.col(f"true_{quantity}")
        below = truth < pl.col(f"{quantity}_p5") * (1.0 - ROUNDING)
        above = truth > pl.col(f"{quantity}_p95") * (1.0 + ROUNDING)
        row = part.select(
            coverage=(~below & ~above).mean(),
            below_p5=below.mean(),
            above_p95=above.mean(),
            median_to_truth=pl.col(f"{quantity}_p50").sum() / truth.sum(),
        ).row(0, named=True)
        out.update({f"{quantity}_{k}": float(v) for k, v in row.items()})
    moved = part.select(
        pl.col("true_formal").sum() / pl.col("recorded_formal_usd").sum() - 1.0
    ).item()
    out["true_formal_change"] = float(moved)
    return out


def _markdown(results: dict[str, object]) -> str:
    lines = [
        "# estimate_informal: coverage of 90% intervals on synthetic truth",
        "",
        f"`benchmarks/eval_informal_coverage.py --rows {results['rows']:,} --seeds "
        f"{' '.join(str(s) for s in results['seeds'])}` ({results['date']}, "
        f"{results['seconds']:.0f} s). Target: 85-95%. Predictive intervals (the default), "
        "scored against a fresh realisation of the world with the episodes.",  # type: ignore[union-attr]
        "",
        "| kind | seed | corridor-months | formal covered | formal below p5, above p95 | "
        "informal covered | informal below p5, above p95 | formal median / truth | "
        "informal median / truth | true formal change |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, per_seed in results["by_kind"].items():  # type: ignore[attr-defined]
        for seed, s in per_seed.items():
            lines.append(
                f"| {kind} | {seed} | {s['cells']:,.0f} | {s['formal_coverage']:.1%} | "
                f"{s['formal_below_p5']:.1%}, {s['formal_above_p95']:.1%} | "
                f"{s['informal_coverage']:.1%} | "
                f"{s['informal_below_p5']:.1%}, {s['informal_above_p95']:.1%} | "
                f"{s['formal_median_to_truth']:.3f} | "
                f"{s['informal_median_to_truth']:.3f} | {s['true_formal_change']:+.1%} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="4M")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--premiums", type=int, default=12)
    parser.add_argument("--formalisations", type=int, default=12)
    parser.add_argument("--closures", type=int, default=30)
    parser.add_argument("--cells", type=Path, default=None, help="write the scored cells here")
    args = parser.parse_args()
    text = args.rows.upper()
    rows = int(float(text.rstrip("M")) * 1e6) if text.endswith("M") else int(text)
    started = time.perf_counter()
    counts = (args.premiums, args.formalisations, args.closures)
    table = pl.concat([cells(world(rows, seed, counts), seed) for seed in args.seeds])
    if args.cells is not None:  # every scored corridor-month, for a closer look
        table.write_parquet(args.cells)
    by_kind: dict[str, dict[str, dict[str, float]]] = {}
    for (kind,), part in sorted(table.partition_by("kind", as_dict=True).items()):
        by_kind[str(kind)] = {"all": scores(part)}
        for (seed,), one in sorted(part.partition_by("seed", as_dict=True).items()):
            by_kind[str(kind)][str(seed)] = scores(one)
    results: dict[str, object] = {
        "rows": rows,
        "seeds": args.seeds,
        "episodes_per_seed": {
            "premium": counts[0],
            "formalisation": counts[1],
            "closure": counts[2],
        },
        "by_kind": by_kind,
        "seconds": time.perf_counter() - started,
        "date": str(dt.date.today()),
    }
    out = HERE / "results" / "informal_coverage.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(_markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
