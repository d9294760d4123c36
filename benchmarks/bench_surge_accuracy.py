"""Accuracy of surge detection against the synthetic generator's ground truth.

    python benchmarks/bench_surge_accuracy.py [--rows 50M] [--seeds 1 2 3]
        [--scenario default breaks] [--quick]

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
first month). Every method of ``flowlens.surge.BUILT_IN`` is scored monthly (the
tuple is read when the script runs); daily, every one but ``seasonal`` (``calendar``
is the seasonal comparison with the holidays taken out).

Scenario ``default`` is the above. Scenario ``breaks`` is the same world with what
real series do (``SynthConfig.realistic``): strong trends (``growth_spread`` 0.08),
40 random reporting breaks (factors 0.4-2.5; half on corridors chosen by size, half
on every corridor to a destination chosen by volume), 10
attribution changes and 20 isolated one-month outliers (x1.5-3, one in four on a
whole destination), each with its
truth table. It is scored monthly (no daily panels) and adds:

- flags on events that are not crises, counted apart: an episode that matches no
  true surge of 10% or more is said to be on a break, an outlier or an
  attribution change when it starts within one period of one on its series; the
  share of up-breaks and of outliers (at least +25% and +50% on the series) that
  an episode starts on;
- recovery after a break: for each true break that moves its series by at least
  25% (corridor level: the corridor; destination level: the destination's total,
  by the corridor's share of it over the year before), the spread of the scores
  before it is the 90th percentile of |score| over the 24 scored periods before
  the break; the recovery is the number of periods after the break until |score|
  is back within twice that spread and stays there for the rest of 36 periods
  (36: not within them). Twice, because |score| passes its own 90th percentile
  one period in ten by chance, and twice that about one in a thousand (normal
  scores). ``spread_after`` is the same percentile from 12 to 35 periods after the
  break over the one before: below 1, a spread that the break inflated flattens
  the scores and hides surges. Periods of true surges of 10% or more and outlier
  months are left out of both; a break with another break or attribution change
  (moving the series 10% or more) between 24 periods before and 36 after it is not
  scored. The placebo is the same measure on the unbroken series nearest in size,
  at the same date: what it gives when nothing happened.

Writes ``benchmarks/results/surge_accuracy.json`` and
``surge_accuracy_breaks.json`` (``--quick``: 5M transfers, one seed, thresholds 3.5
and 4.5, all series and those of 600 transfers or more, surges of 30%; files ending
``_quick.json``; a few minutes). ``--methods`` and ``--levels`` score only those
(``--methods forecast --levels destination``: a few minutes); their files end with
the names, so a subset never overwrites the full run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

import flowlens as fl
from flowlens.cli import parse_count
from flowlens.surge import BUILT_IN, SurgeResult
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
DETECT_UPLIFTS = (0.0, 0.2, 0.25, 0.3)
SCENARIOS = ("default", "breaks")
BREAK_EVENTS = {
    "n_random_breaks": 40,
    "n_random_attribution_changes": 10,
    "n_random_outliers": 20,
}
"""Random recording events per run of the breaks scenario (SynthConfig.realistic has 8, 3
and 20 over 2,000 corridors; more breaks here so that the recovery rests on more)."""
QUICK_ROWS = 5_000_000
EVENT_TABLES = ("breaks", "attribution_changes", "outliers")
PRE_PERIODS = 24  # scored periods before a break whose |score| make its spread
HORIZON = 36  # periods after a break the recovery is followed for
WINDOW = 12  # the spread after a break is measured from this many periods after it
BAND = 2.0  # |score| within this factor of the pre-break spread is back (2: chance alone
# exceeds it about once in a thousand normal periods, where 1 would be once in ten)
MIN_BREAK = math.log(1.25)  # breaks that move their series by less are not scored
MIN_OUTLIER = math.log(1.5)
SURGE_MASK = 0.1  # periods of true surges of this uplift or more are left out
RECOVERY_BANDS = ("all", ">=600")


@dataclass(frozen=True)
class Panels:
    """One seed's remittance panels, truth and recording events."""

    monthly: pl.DataFrame
    daily: pl.DataFrame | None
    truth: pl.DataFrame
    events: dict[str, pl.DataFrame]


def config_for(scenario: str, crises: int) -> SynthConfig:
    if scenario == "breaks":
        return SynthConfig.realistic(ids=False, n_random_crises=crises, **BREAK_EVENTS)
    return SynthConfig(ids=False, n_random_crises=crises)


def panels(rows: int, seed: int, crises: int, scenario: str = "default") -> Panels:
    """Monthly (and, by default, daily) remittance panels and the truth of one seed, cached on disk."""
    suffix = "" if scenario == "default" else f"_{scenario}"
    folder = CACHE / f"{rows}_{seed}_{crises}{suffix}"
    frequencies = (
        (("monthly", "1mo"), ("daily", "1d")) if scenario == "default" else (("monthly", "1mo"),)
    )
    names = [n for n, _ in frequencies] + ["truth"]
    names += list(EVENT_TABLES) if scenario != "default" else []
    if not all((folder / f"{n}.parquet").exists() for n in names):
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        result = generate(rows, seed=seed, config=config_for(scenario, crises))
        remittances = result.flows.filter(flow_type="remittance")
        for name, freq in frequencies:
            fl.corridor_panel(remittances, freq=freq, stats=("sum", "count")).write_parquet(
                folder / f"{name}.parquet"
            )
        result.truth.panel.filter(flow_type="remittance").write_parquet(folder / "truth.parquet")
        for name in EVENT_TABLES if scenario != "default" else ():
            getattr(result.truth, name).write_parquet(folder / f"{name}.parquet")
        print(
            f"seed {seed} ({scenario}): generated {rows:,} rows in "
            f"{time.perf_counter() - started:.1f} s"
        )
    tables = {n: pl.read_parquet(folder / f"{n}.parquet") for n in names}
    return Panels(
        monthly=tables["monthly"],
        daily=tables.get("daily"),
        truth=tables["truth"],
        events={n: tables[n] for n in EVENT_TABLES if n in tables},
    )


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


@dataclass(frozen=True)
class Run:
    """One level and method scored, with what evaluating it needs."""

    level: str
    keys: list[str]
    freq: str
    method: str
    scored: SurgeResult
    seconds: float
    truth: pl.DataFrame
    sizes: pl.DataFrame


LEVELS = (("corridor", ["origin", "destination"]), ("destination", ["destination"]))


def runs(
    data: Panels, methods: tuple[str, ...] = (), levels: tuple[str, ...] = ()
) -> Iterator[Run]:
    """Every built-in method (or those named) at corridor and destination level (or those
    named), monthly (and daily if there)."""
    methods = methods or tuple(BUILT_IN)  # read when the script runs
    for level, keys in LEVELS:
        if levels and level not in levels:
            continue
        month_panel, day_panel, level_truth = data.monthly, data.daily, data.truth
        if level == "destination":
            month_panel = to_destinations(data.monthly, ["amount_usd", "n_transfers"])
            if data.daily is not None:
                day_panel = to_destinations(data.daily, ["amount_usd", "n_transfers"])
            level_truth = to_destinations(data.truth, ["baseline_usd", "excess_usd"])
        sizes = size_of(month_panel, keys)
        todo = [("1mo", m, month_panel) for m in methods]
        if day_panel is not None:
            todo += [("1d", m, day_panel) for m in methods if m != "seasonal"]
        for freq, method, panel in todo:
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
            yield Run(level, keys, freq, method, scored, seconds, level_truth, sizes)


@dataclass(frozen=True)
class Grid:
    """The thresholds, series sizes and surge sizes precision and recall are computed for."""

    thresholds: tuple[float, ...] = THRESHOLDS
    sizes: tuple[str, ...] = tuple(SIZE_BANDS)
    uplifts: tuple[float, ...] = UPLIFTS


QUICK_GRID = Grid(thresholds=(3.5, 4.5), sizes=("all", ">=600"), uplifts=(0.3,))
"""--quick: evaluate_surges takes about 0.07 s a call at corridor level, and the full grid
makes 400 calls per level and method."""


def evaluations(run: Run, grid: Grid = Grid()) -> Iterator[dict[str, Any]]:
    """Precision and recall of one run over the grid of thresholds, sizes and uplifts."""
    level, keys, freq, method, scored = run.level, run.keys, run.freq, run.method, run.scored
    sizes, level_truth = run.sizes, run.truth
    scorable = scored if freq == "1mo" else by_month(scored, keys)
    detect_uplifts = DETECT_UPLIFTS if freq == "1mo" else (0.0,)
    band_truths = {band: in_band(level_truth, sizes, keys, band) for band in grid.sizes}
    for threshold, detect_uplift in itertools.product(grid.thresholds, detect_uplifts):
        episodes = fl.surge_episodes(scored.with_threshold(threshold, min_uplift=detect_uplift))
        if freq == "1d":
            episodes = monthly_episodes(episodes)
        for band in grid.sizes:
            band_truth = band_truths[band]
            band_episodes = in_band(episodes, sizes, keys, band)
            for uplift in grid.uplifts:
                strict = fl.evaluate_surges(
                    band_episodes, band_truth, scored=scorable, min_uplift=uplift
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
                    "detect_seconds": run.seconds,
                }


def month_number(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64)


def level_events(level: str, data: Panels) -> pl.DataFrame:
    """The recording events as the series of one level see them: the series' keys,
    ``kind`` (break, attribution, outlier), ``event``, ``period``, and ``effect``,
    the log of the factor the series moves by (a corridor's break moves its
    destination's total by its share of it over the year before)."""
    truth = data.truth.select(
        pl.col("period", "baseline_usd"),
        pl.col("origin", "destination").cast(pl.String),
    )
    breaks = data.events["breaks"].select(
        pl.col("origin", "destination").cast(pl.String),
        kind=pl.lit("break"),
        event=pl.col("break"),
        period="period",
        factor="factor",
    )
    outliers = data.events["outliers"].select(
        pl.col("origin", "destination").cast(pl.String),
        kind=pl.lit("outlier"),
        event=pl.col("outlier"),
        period="period",
        factor="factor",
    )
    changes = data.events["attribution_changes"].with_columns(
        pl.col("from_origin", "to_origin", "destination").cast(pl.String)
    )
    corridor = pl.concat([breaks, outliers])
    # the share of each corridor in its destination: over the year before a break, in
    # the outlier's own month
    base = (
        corridor.join(truth, on=["origin", "destination"], how="left", suffix="_t")
        .filter(
            pl.when(pl.col("kind") == "break")
            .then(
                pl.col("period_t").is_between(
                    pl.col("period").dt.offset_by("-12mo"), pl.col("period").dt.offset_by("-1mo")
                )
            )
            .otherwise(pl.col("period_t") == pl.col("period"))
        )
        .group_by("origin", "destination", "kind", "event", "period", "factor")
        .agg(corridor_usd=pl.col("baseline_usd").sum())
    )
    if level == "corridor":
        moved = changes.join(
            truth.group_by("origin", "destination").agg(pl.col("baseline_usd").mean()),
            left_on=["from_origin", "destination"],
            right_on=["origin", "destination"],
            how="left",
        ).join(
            truth.group_by("origin", "destination").agg(to_usd=pl.col("baseline_usd").mean()),
            left_on=["to_origin", "destination"],
            right_on=["origin", "destination"],
            how="left",
        )
        away = moved.select(
            origin="from_origin", destination="destination", kind=pl.lit("attribution"),
            event="change", period="period", effect=(1 - pl.col("share")).log(),
        )  # fmt: skip
        onto = moved.select(
            origin="to_origin", destination="destination", kind=pl.lit("attribution"),
            event="change", period="period",
            effect=(1 + pl.col("share") * pl.col("baseline_usd") / pl.col("to_usd"))
            .log()
            .fill_null(float("inf")),
        )  # fmt: skip
        hits = base.select(
            "origin", "destination", "kind", "event", "period", effect=pl.col("factor").log()
        )
        return pl.concat([hits, away, onto]).with_columns(flow_type=pl.lit("remittance"))
    totals = (
        base.select("destination", "kind", "event", "period")
        .unique()
        .join(truth, on="destination", how="left", suffix="_t")
        .filter(
            pl.when(pl.col("kind") == "break")
            .then(
                pl.col("period_t").is_between(
                    pl.col("period").dt.offset_by("-12mo"), pl.col("period").dt.offset_by("-1mo")
                )
            )
            .otherwise(pl.col("period_t") == pl.col("period"))
        )
        .group_by("destination", "kind", "event", "period")
        .agg(total_usd=pl.col("baseline_usd").sum())
    )
    return (
        base.join(totals, on=["destination", "kind", "event", "period"])
        .group_by("destination", "kind", "event", "period")
        .agg(
            effect=(
                1
                + ((pl.col("factor") - 1) * pl.col("corridor_usd")).sum()
                / pl.col("total_usd").first()
            ).log()
        )
        .with_columns(flow_type=pl.lit("remittance"))
    )


def true_surges(truth: pl.DataFrame, keys: list[str], uplift: float) -> pl.DataFrame:
    """The periods of each series whose true excess is at least ``uplift`` of its baseline."""
    return truth.filter(
        pl.col("excess_usd") >= uplift * pl.col("baseline_usd"), pl.col("excess_usd") > 0
    ).select(pl.col(keys).cast(pl.String), "period", flow_type=pl.lit("remittance"))


def event_flags(
    run: Run, events: pl.DataFrame, thresholds: tuple[float, ...] = THRESHOLDS
) -> Iterator[dict[str, Any]]:
    """What the episodes of one run fall on, at each threshold: true surges, breaks,
    outliers, attribution changes, or nothing; and the share of up-breaks and outliers
    an episode starts on."""
    keys = [*run.keys, "flow_type"]
    cast = [pl.col(k).cast(pl.String) for k in keys]
    surges = true_surges(run.truth, run.keys, 0.1).with_columns(_n=month_number("period"))
    marks = events.with_columns(_n=month_number("period"))
    sizes = run.sizes.with_columns(pl.col(run.keys).cast(pl.String))
    for threshold, detect_uplift in itertools.product(thresholds, DETECT_UPLIFTS):
        episodes = (
            fl.surge_episodes(run.scored.with_threshold(threshold, min_uplift=detect_uplift))
            .with_columns(cast)
            .with_columns(_start=month_number("start"))
            .with_row_index("_e")
        )

        def near(table: pl.DataFrame, episodes: pl.DataFrame = episodes) -> pl.DataFrame:
            return episodes.join(table, on=keys, how="inner").filter(
                (pl.col("_start") - pl.col("_n")).abs() <= 1
            )

        on_surge = set(near(surges)["_e"].to_list())
        labels: dict[str, set[int]] = {}
        for kind in ("break", "outlier", "attribution"):  # events that move the series 10%+
            hit = near(marks.filter(kind=kind).filter(pl.col("effect").abs() >= math.log(1.1)))
            labels[kind] = set(hit["_e"].to_list()) - on_surge - set().union(*labels.values())
        for band in RECOVERY_BANDS:
            chosen = set(in_band(episodes, sizes, run.keys, band)["_e"].to_list())
            big = in_band(marks, sizes, run.keys, band)
            up_breaks = big.filter(kind="break").filter(pl.col("effect") >= MIN_BREAK)
            outliers = big.filter(kind="outlier").filter(pl.col("effect") >= MIN_OUTLIER)

            def found(table: pl.DataFrame, episodes: pl.DataFrame = episodes) -> float:
                if table.height == 0:
                    return float("nan")
                hit = table.join(episodes, on=keys, how="inner").filter(
                    (pl.col("_start") - pl.col("_n")).abs() <= 1
                )
                return hit.select([*keys, "event"]).n_unique() / table.height

            n = len(chosen)
            n_surge = len(chosen & on_surge)
            n_kinds = {k: len(chosen & v) for k, v in labels.items()}
            yield {
                "level": run.level,
                "method": run.method,
                "threshold": threshold,
                "detect_min_uplift": detect_uplift,
                "size": band,
                "n_episodes": n,
                "on_true_surges": n_surge,
                "on_breaks": n_kinds["break"],
                "on_outliers": n_kinds["outlier"],
                "on_attribution_changes": n_kinds["attribution"],
                "elsewhere": n - n_surge - sum(n_kinds.values()),
                "n_up_breaks": up_breaks.height,
                "up_breaks_flagged": found(up_breaks),
                "n_outliers": outliers.height,
                "outliers_flagged": found(outliers),
            }


def recovery_cases(run: Run, events: pl.DataFrame) -> pl.DataFrame:
    """The breaks to follow at this level, each with a placebo: the unbroken series of
    the nearest size, at the same date."""
    keys = [*run.keys, "flow_type"]
    sizes = run.sizes.with_columns(pl.col(run.keys).cast(pl.String), flow_type=pl.lit("remittance"))
    moving = events.filter(
        pl.col("kind").is_in(["break", "attribution"]), pl.col("effect").abs() >= math.log(1.1)
    )
    cases = (
        events.filter(kind="break")
        .filter(pl.col("effect").abs() >= MIN_BREAK)
        .with_row_index("case")
        .with_columns(_n=month_number("period"))
    )
    # another break or attribution change on the series near this one: not scored
    crowded = (
        cases.join(moving.with_columns(_m=month_number("period")), on=keys)
        .filter(
            ~((pl.col("kind_right") == "break") & (pl.col("event_right") == pl.col("event"))),
            (pl.col("_m") - pl.col("_n")).is_between(-PRE_PERIODS, HORIZON),
        )
        .select("case")
    )
    cases = cases.join(crowded, on="case", how="anti").join(sizes, on=keys, how="inner")
    touched = moving.select(keys).unique()
    free = sizes.join(touched, on=keys, how="anti").sort("size")
    free_size = free["size"].to_numpy()
    used: set[int] = set()
    partners = []
    for size in cases["size"].to_list():  # a few hundred cases: benchmark code
        order = sorted(range(len(free_size)), key=lambda i: abs(free_size[i] - size))
        pick = next((i for i in order if i not in used), None)
        if pick is not None:
            used.add(pick)
        partners.append(pick)
    placebo = cases.select("case", "period", "_n").with_columns(_row=pl.Series(partners))
    placebo = placebo.filter(pl.col("_row").is_not_null()).join(
        free.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64)),
        on="_row",
    )
    return pl.concat(
        [
            cases.select(*keys, "case", "period", "_n", "size", placebo=pl.lit(False)),
            placebo.select(*keys, "case", "period", "_n", "size", placebo=pl.lit(True)),
        ]
    )


def recoveries(run: Run, events: pl.DataFrame) -> pl.DataFrame:
    """Periods after each break until |score| is back within BAND x its pre-break spread
    and stays there to the horizon (HORIZON: not within it), and the spread of the
    scores a year to three years after the break relative to the one before."""
    keys = [*run.keys, "flow_type"]
    cases = recovery_cases(run, events)
    masked = pl.concat(
        [
            true_surges(run.truth, run.keys, SURGE_MASK).select(*keys, "period"),
            events.filter(kind="outlier").select(*keys, "period"),
        ]
    ).unique()
    scores = (
        run.scored.scored.select(pl.col(keys).cast(pl.String), "period", "score")
        .filter(pl.col("score").is_not_null())
        .join(masked, on=[*keys, "period"], how="anti")
        .with_columns(_t=month_number("period"), abs_score=pl.col("score").abs())
    )
    around = cases.join(scores, on=keys).with_columns(rel=pl.col("_t") - pl.col("_n"))
    group = ["case", "placebo"]
    before = (
        around.filter(pl.col("rel") < 0)
        .sort("rel", descending=True)
        .group_by(group)
        .head(PRE_PERIODS)
        .group_by(group)
        .agg(spread=pl.col("abs_score").quantile(0.9, "linear"), n_pre=pl.len())
        .filter(pl.col("n_pre") >= PRE_PERIODS // 2)
    )
    after = around.filter(pl.col("rel").is_between(0, HORIZON - 1)).join(before, on=group)
    last_off = pl.col("rel").filter(pl.col("abs_score") > BAND * pl.col("spread")).max()
    late = pl.col("rel") >= WINDOW
    return (
        after.group_by(group)
        .agg(
            recovery=pl.when(last_off.is_null()).then(0).otherwise(last_off + 1),
            spread_after=pl.col("abs_score").filter(late).quantile(0.9, "linear")
            / pl.col("spread").first(),
            n_post=pl.len(),
        )
        .filter(pl.col("n_post") >= HORIZON * 2 // 3)
        .join(cases.select(*group, *run.keys, "period", "size"), on=group)
        .with_columns(level=pl.lit(run.level), method=pl.lit(run.method))
    )


def recovery_summary(cases: pl.DataFrame) -> pl.DataFrame:
    """Median, 90th percentile and max of the recovery per level, method and size band."""
    rows = []
    for band in RECOVERY_BANDS:
        low, high = SIZE_BANDS[band]
        chosen = cases.filter(pl.col("size") >= low)
        if high is not None:
            chosen = chosen.filter(pl.col("size") < high)
        real, placebo = chosen.filter(~pl.col("placebo")), chosen.filter("placebo")
        summary = real.group_by("level", "method").agg(
            size=pl.lit(band),
            n_breaks=pl.len(),
            recovery_median=pl.col("recovery").median(),
            recovery_p90=pl.col("recovery").quantile(0.9, "nearest"),
            recovery_max=pl.col("recovery").max(),
            not_recovered=(pl.col("recovery") >= HORIZON).sum(),
            spread_after_median=pl.col("spread_after").median(),
        )
        reference = placebo.group_by("level", "method").agg(
            placebo_median=pl.col("recovery").median(),
            placebo_p90=pl.col("recovery").quantile(0.9, "nearest"),
            placebo_max=pl.col("recovery").max(),
        )
        rows.append(summary.join(reference, on=["level", "method"], how="left"))
    return pl.concat(rows).sort("level", "method", "size")


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


def pooled_flags(flags: pl.DataFrame) -> pl.DataFrame:
    """Event flags summed over seeds, the flagged shares recomputed from the counts."""
    group = ["level", "method", "threshold", "detect_min_uplift", "size"]
    counts = ["n_episodes", "on_true_surges", "on_breaks", "on_outliers",
              "on_attribution_changes", "elsewhere", "n_up_breaks", "n_outliers"]  # fmt: skip
    return (
        flags.with_columns(
            _b=pl.col("up_breaks_flagged").fill_nan(0) * pl.col("n_up_breaks"),
            _o=pl.col("outliers_flagged").fill_nan(0) * pl.col("n_outliers"),
        )
        .group_by(group, maintain_order=True)
        .agg(pl.col([*counts, "_b", "_o"]).sum())
        .with_columns(
            up_breaks_flagged=pl.col("_b") / pl.col("n_up_breaks"),
            outliers_flagged=pl.col("_o") / pl.col("n_outliers"),
            # lenient precision (surges of 10% or more) once the event flags are set apart
            precision_without_events=pl.col("on_true_surges")
            / (pl.col("on_true_surges") + pl.col("elsewhere")),
        )
        .drop("_b", "_o")
    )


def scenario(args: argparse.Namespace, name: str) -> None:
    """Run one scenario over the seeds, write its JSON and print its headline."""
    rows: list[dict[str, Any]] = []
    flag_rows: list[dict[str, Any]] = []
    cases: list[pl.DataFrame] = []
    started = time.perf_counter()
    for seed in args.seeds:
        data = panels(args.rows, seed, args.crises, name)
        grid = QUICK_GRID if args.quick else Grid()
        for run in runs(data, tuple(args.methods or ()), tuple(args.levels or ())):
            rows += [{"seed": seed, **row} for row in evaluations(run, grid)]
            if name == "breaks" and run.freq == "1mo":
                events = level_events(run.level, data)
                flags = event_flags(run, events, grid.thresholds)
                flag_rows += [{"seed": seed, **row} for row in flags]
                cases.append(recoveries(run, events).with_columns(seed=pl.lit(seed)))
            print(
                f"seed {seed} {name}: {run.level} {run.freq} {run.method} "
                f"({time.perf_counter() - started:.0f} s)"
            )
    results = pooled(pl.DataFrame(rows))
    stem = "surge_accuracy" if name == "default" else f"surge_accuracy_{name}"
    subset = [*(args.methods or ()), *(args.levels or ())]
    stem += "".join(f"_{part}" for part in subset)  # a subset never overwrites the full run
    out = HERE / "results" / f"{stem}{'_quick' if args.quick else ''}.json"
    out.parent.mkdir(exist_ok=True)
    payload: dict[str, Any] = {
        "date": str(dt.date.today()),
        "scenario": name,
        "rows_per_seed": args.rows,
        "seeds": args.seeds,
        "random_crises": args.crises,
        "methods": list(args.methods or BUILT_IN),
        "levels": list(args.levels or [level for level, _ in LEVELS]),
    }
    headline = results.filter(
        pl.col("min_uplift") == 0.3,
        pl.col("threshold").is_in([3.0, 3.5, 4.0, 4.5]),
        pl.col("size").is_in(["all", ">=600"]),
    ).sort("level", "freq", "method", "threshold", "detect_min_uplift", "size")
    with pl.Config(tbl_rows=400, tbl_cols=20, tbl_width_chars=220, float_precision=3):
        print(headline)
    if name == "breaks":
        flags = pooled_flags(pl.DataFrame(flag_rows))
        every_case = pl.concat(cases, how="diagonal")
        recovery = recovery_summary(every_case)
        payload |= {
            "events_per_seed": BREAK_EVENTS,
            "growth_spread": config_for(name, args.crises).growth_spread,
            "recovery_settings": {
                "pre_periods": PRE_PERIODS, "horizon": HORIZON, "window": WINDOW,
                "band": BAND, "min_break": math.exp(MIN_BREAK), "surge_mask": SURGE_MASK,
            },
            "event_flags": flags.to_dicts(),
            "recovery": recovery.to_dicts(),
            # each break (and its placebo) on a series of 600 transfers a month or more
            "recovery_cases": every_case.filter(pl.col("size") >= 600).to_dicts(),
        }  # fmt: skip
        with pl.Config(tbl_rows=400, tbl_cols=20, tbl_width_chars=220, float_precision=3):
            print(flags.filter(pl.col("threshold").is_in([3.5, 4.5])))
            print(recovery)
    payload["results"] = results.to_dicts()
    payload["seconds"] = time.perf_counter() - started
    out.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=parse_count, default=None, help="transfers per seed (50M)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="(1 2 3)")
    parser.add_argument(
        "--crises", type=int, default=40, help="random crises per run (the generator's default: 4)"
    )
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument(
        "--quick", action="store_true", help="5M transfers and one seed unless given; *_quick.json"
    )
    parser.add_argument(
        "--methods", nargs="+", choices=list(BUILT_IN), default=None, help="(every built-in)"
    )
    parser.add_argument(
        "--levels", nargs="+", choices=[level for level, _ in LEVELS], default=None,
        help="(corridor destination)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else 50_000_000
    if args.seeds is None:
        args.seeds = [1] if args.quick else [1, 2, 3]
    for name in args.scenario:
        scenario(args, name)


if __name__ == "__main__":
    main()
