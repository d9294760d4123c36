"""estimate_informal: a vectorised Monte Carlo over (corridor-periods x draws), chunked.

For a corridor-period with recorded formal flow F (what the panel holds: the flow
before the scenario), baseline informal ratio R (from a baseline estimator), the
scenario's ramp progress p (0 before ``start``, rising to 1 over ``ramp_days``, 0
after ``end``), the share e of formal flow in the channels that lose capacity, and
per draw the withdrawn share w, cost rise dc (pp), cost elasticity eps and split
(s_informal, s_other_formal, s_lost):

    I0       = F * R * exp(sd * z - sd^2 / 2)            baseline informal
    W        = e * p * w                                 formal capacity withdrawn
    k        = p * min(1, eps * dc / cost)               remaining flow deterred by cost
    D        = F * (W + (1 - W) * k)                     displaced formal flow
    formal   = F - D + s_other_formal * D
    informal = I0 + s_informal * D
    lost     = s_lost * D
    total    = F + I0 = formal + informal + lost         the counterfactual total

where z is a standard normal of the cell and draw, and sd the sampling noise of one
period's informal sum against the recorded flow it is estimated from: with n formal
transfers in the cell (the panel's ``n_transfers``) and about n * R informal ones,
sd = SUM_CV * sqrt(1 / (n R) + 1 / n), SUM_CV = sqrt(1 + 0.8^2) the relative
spread of a sum of transfers per sqrt(count) (``flowlens.surge``'s noise floor; the
count ratio taken equal to the value ratio R is an assumption). Without
``n_transfers``, sd = 0.

Every quantity is non-decreasing in w, dc, eps and p, and formal + informal + lost
equals the counterfactual total in every draw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens.errors import FlowlensError, MissingColumnError
from flowlens.informal._baseline import BASELINE_COLUMNS, INFORMAL_CHANNELS
from flowlens.informal._scenario import NO_SCENARIO, DeRiskingScenario
from flowlens.panel import _normalise_freq
from flowlens.surge._baselines import SUM_CV

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
QUANTITIES = ("formal", "informal", "lost", "total")
QUANTILES = (0.05, 0.5, 0.95)
DEFAULT_COST_PCT = 7.0
"""Cost of formal transfer (percent) where the panel and the baseline give none: about
the Remittance Prices Worldwide average over 2011-2020."""
CHUNK_CELLS = 4_000_000
"""Draw-cells per chunk: each of the few float64 work arrays is then 32 MB."""


@dataclass(frozen=True)
class InformalEstimate:
    """What :func:`estimate_informal` returns.

    Attributes
    ----------
    corridors
        One row per scenario, corridor and period: ``recorded_formal_usd`` (the
        input) and, for each of ``formal``, ``informal``, ``lost`` and ``total``
        (the counterfactual total), the mean and the 5th, 50th and 95th percentiles
        over the draws (``informal_p5``, ``informal_p50``, ``informal_p95``,
        ``informal_mean``...).
    by_destination
        The same per scenario, receiving country and period, from each draw's sum
        (the percentiles of a sum, not sums of percentiles).
    by_scenario
        The same per scenario and period, over all corridors.
    summary
        The same per scenario over the whole panel, with ``informal_to_recorded``
        (informal / recorded formal, median draw).
    draws, seed
        The Monte Carlo settings.
    baseline
        The baseline table used.
    """

    corridors: pl.DataFrame
    by_destination: pl.DataFrame
    by_scenario: pl.DataFrame
    summary: pl.DataFrame
    draws: int
    seed: int
    baseline: pl.DataFrame

    def _repr_html_(self) -> str:
        from flowlens._display import card

        columns = ["scenario", "recorded_formal_usd", "informal_p5", "informal_p50", "informal_p95"]
        present = [c for c in columns if c in self.summary.columns]
        extra = ["informal_to_recorded"] if "informal_to_recorded" in self.summary.columns else []
        return card(
            "InformalEstimate",
            [
                f"{self.summary.height} scenario(s)",
                f"{self.corridors.height:,} corridor-periods",
                f"{self.draws:,} draws",
                f"seed {self.seed}",
            ],
            [*present, *extra],
            [tuple(row) for row in self.summary.select(*present, *extra).iter_rows()],
            note="USD over the whole panel; 5th/50th/95th percentiles of the draws. "
            "Per corridor: .corridors; per receiving country: .by_destination.",
        )

    def __repr__(self) -> str:
        return (
            f"InformalEstimate(scenarios={self.summary.height}, corridor_periods="
            f"{self.corridors.height:,}, draws={self.draws}, seed={self.seed})"
        )


@dataclass(frozen=True)
class _Cells:
    """The panel as flat arrays, one entry per (corridor, period), sorted by destination, period."""

    keys: pl.DataFrame  # origin, destination (+ flow_type), period
    formal: F64
    exposed: dict[tuple[str, ...], F64]  # formal flow in the given channels, per channel set
    corridor: I64  # corridor index into the baseline arrays
    group: I64  # (destination, period) group index
    cost_pct: F64
    period_start: F64  # days since 1970
    period_days: F64
    ratio: F64
    offset: F64
    log_sd_shared: F64
    log_sd_own: F64
    noise_sd: F64  # sampling noise of the cell's informal sum (log scale)
    groups: pl.DataFrame  # destination, period per group index
    periods: pl.DataFrame  # period per period index
    period_of_group: I64


@dataclass(frozen=True)
class _Draws:
    """Per-draw parameters of one scenario (arrays of length ``draws``)."""

    withdrawn: F64
    cost_increase: F64
    elasticity: F64
    split: F64  # (draws, 3)
    z_shared: F64


def estimate_informal(
    panel: pl.DataFrame,
    scenario: DeRiskingScenario | Sequence[DeRiskingScenario] | None = None,
    *,
    baseline: pl.DataFrame,
    draws: int = 1000,
    seed: int = 0,
    freq: str = "1mo",
    value: str = fs.AMOUNT_USD,
    threads: int = 2,
    sampling_noise: bool = True,
    progress: bool = False,
) -> InformalEstimate:
    """Formal, informal and lost flow per corridor and period under de-risking scenarios, with intervals.

    Parameters
    ----------
    panel
        Recorded formal flows per ``period``, ``origin``, ``destination`` (``value``
        column), as they would be without the scenario (a what-if on recent
        data). With a ``channel`` column, informal and cash-carry rows are left
        out of the recorded formal flow and a scenario's ``channels`` decide which
        formal flow loses capacity. With ``cost_pct`` or ``cost_ratio``, that is the
        cost the elasticity applies to (else the baseline's ``cost_pct``, else 7%).
        A row whose value is null is unknown, not zero: it is left out.
    scenario
        One :class:`DeRiskingScenario`, several (compared side by side, with the
        same random numbers), or None: the baseline alone.
    baseline
        The baseline informal ratio per corridor, from :func:`baseline_from_costs`,
        :func:`baseline_from_gap` or :func:`baseline_observed`.
    draws, seed
        Monte Carlo draws, and the seed that makes the result reproducible.
    freq
        The panel's period length.
    threads
        Chunks computed at once (numpy releases the interpreter lock).
    sampling_noise
        When the panel has ``n_transfers``, widen each corridor-period's informal
        flow by the sampling noise of a sum of that many transfers (the interval
        then covers what one period realises, not only its expectation; sums over
        many cells are hardly affected). See the module's equations.
    progress
        Show a progress bar over the scenarios (a widget in Jupyter, a line in a
        terminal): each scenario is one pass of ``draws`` over every cell.

    Returns
    -------
    InformalEstimate

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> import flowlens as fl
    >>> from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal
    >>> months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 6, 1), "1mo", eager=True)
    >>> panel = pl.DataFrame({"period": months, "origin": "USA", "destination": "SOM",
    ...                       "amount_usd": 18e6})
    >>> base = baseline_from_costs(panel, pl.DataFrame({"origin": ["USA"],
    ...     "destination": ["SOM"], "cost_pct": [7.0]}))
    >>> closure = DeRiskingScenario("closure", origin="USA", destination="SOM",
    ...                             start="2015-02-06")
    >>> result = estimate_informal(panel, closure, baseline=base, draws=500, seed=1)
    >>> s = result.summary.row(0, named=True)
    >>> s["scenario"], s["informal_p5"] < s["informal_p50"] < s["informal_p95"]
    ('closure', True)
    >>> bool(abs(s["formal_mean"] + s["informal_mean"] + s["lost_mean"] - s["total_mean"]) < 1)
    True
    """
    if draws < 2:
        msg = f"draws must be at least 2, got {draws}"
        raise FlowlensError(msg)
    if seed < 0:
        msg = f"seed must be a non-negative integer, got {seed}"
        raise FlowlensError(msg)
    scenarios = _scenarios(scenario)
    every = _normalise_freq(freq)
    cells = _cells(panel, baseline, scenarios, every, value, sampling_noise=sampling_noise)
    baseline_rng = np.random.default_rng([seed, 1])
    z_shared = baseline_rng.standard_normal(draws)
    corridor_frames, group_frames, period_frames, summary_frames = [], [], [], []
    from tqdm.auto import tqdm

    bar = tqdm(scenarios, desc=f"{draws:,} draws", unit="scenario", disable=not progress)
    for scenario_ in bar:
        params = _draw(scenario_, draws, seed, z_shared)
        ramp, exposed = _reach(scenario_, cells)
        stats, group_sums = _simulate(cells, params, ramp, exposed, seed=seed, threads=threads)
        label = pl.lit(scenario_.name).alias("scenario")
        corridor_frames.append(
            cells.keys.with_columns(label, recorded_formal_usd=pl.Series(cells.formal)).hstack(
                stats
            )
        )
        group_frames.append(_summarise(group_sums, cells.groups.with_columns(label)))
        period_sums = _sum_by(group_sums, cells.period_of_group, cells.periods.height)
        period_frames.append(_summarise(period_sums, cells.periods.with_columns(label)))
        total = group_sums.sum(axis=0, keepdims=True)
        summary = _summarise(total, pl.DataFrame({"scenario": [scenario_.name]}))
        recorded = float(cells.formal.sum())
        summary_frames.append(
            summary.with_columns(
                recorded_formal_usd=pl.lit(recorded),
                informal_to_recorded=pl.col("informal_p50") / recorded if recorded else None,
            )
        )
    order = ["scenario"]
    return InformalEstimate(
        corridors=_first(pl.concat(corridor_frames), order),
        by_destination=_first(pl.concat(group_frames), order),
        by_scenario=_first(pl.concat(period_frames), order),
        summary=pl.concat(summary_frames),
        draws=draws,
        seed=seed,
        baseline=baseline,
    )


def _first(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.select(*columns, pl.exclude(columns))


def _scenarios(
    scenario: DeRiskingScenario | Sequence[DeRiskingScenario] | None,
) -> list[DeRiskingScenario]:
    if scenario is None:
        return [NO_SCENARIO]
    chosen = [scenario] if isinstance(scenario, DeRiskingScenario) else list(scenario)
    if not chosen or not all(isinstance(s, DeRiskingScenario) for s in chosen):
        msg = "scenario must be a DeRiskingScenario, a list of them, or None"
        raise FlowlensError(msg)
    names = [s.name for s in chosen]
    if len(set(names)) != len(names):
        msg = f"scenario names must differ, got {names}"
        raise FlowlensError(msg)
    return chosen


def _cells(
    panel: pl.DataFrame,
    baseline: pl.DataFrame,
    scenarios: Sequence[DeRiskingScenario],
    every: str,
    value: str,
    *,
    sampling_noise: bool = False,
) -> _Cells:
    if isinstance(panel, pl.LazyFrame):
        panel = panel.collect()
    MissingColumnError.require(panel.columns, "period", fs.ORIGIN, fs.DESTINATION, value)
    MissingColumnError.require(baseline.columns, *BASELINE_COLUMNS)
    keys = [fs.ORIGIN, fs.DESTINATION]
    amount = pl.col(value).cast(pl.Float64)
    channel = pl.col(fs.CHANNEL).cast(pl.String) if fs.CHANNEL in panel.columns else None
    formal_rows = pl.lit(True) if channel is None else ~channel.is_in(list(INFORMAL_CHANNELS))
    channel_sets = sorted({s.channels for s in scenarios})
    exposed_aggs = [
        (
            amount.filter(channel.is_in(list(channels))).sum()
            if channel is not None
            else amount.filter(formal_rows).sum()
        ).alias(f"_exposed{i}")
        for i, channels in enumerate(channel_sets)
    ]
    cost_aggs = []
    if "cost_pct" in panel.columns:
        cost_aggs.append(pl.col("cost_pct").cast(pl.Float64).mean().alias("_cost"))
    elif "cost_ratio" in panel.columns:
        cost_aggs.append((100.0 * pl.col("cost_ratio").cast(pl.Float64)).mean().alias("_cost"))
    count_aggs = []
    if sampling_noise and "n_transfers" in panel.columns:
        count = pl.col("n_transfers").cast(pl.Float64)
        count_aggs.append(count.filter(formal_rows).sum().alias("_n_formal"))
    # a negative row is an error even where positive rows of its cell would hide it
    negative = panel.filter(pl.col(value) < 0)
    if negative.height:
        row = negative.row(0, named=True)
        msg = (
            f"{value} is negative for {row[fs.ORIGIN]} -> {row[fs.DESTINATION]} in "
            f"{row['period']} ({row[value]:,.2f}): recorded flows must be >= 0"
        )
        raise FlowlensError(msg)
    grouped = (
        panel.filter(pl.col(value).is_not_null())
        .group_by(
            pl.col(fs.ORIGIN).cast(pl.String),
            pl.col(fs.DESTINATION).cast(pl.String),
            pl.col("period").dt.truncate(every).cast(pl.Date),
        )
        .agg(
            amount.filter(formal_rows).sum().alias("_formal"),
            *exposed_aggs,
            *cost_aggs,
            *count_aggs,
        )
    )
    base = baseline.select(
        pl.col(fs.ORIGIN).cast(pl.String),
        pl.col(fs.DESTINATION).cast(pl.String),
        pl.col("informal_ratio", "offset", "log_sd_shared", "log_sd_own").cast(pl.Float64),
        *([pl.col("cost_pct").alias("_base_cost")] if "cost_pct" in baseline.columns else []),
    ).with_row_index("_corridor")
    joined = grouped.join(base, on=keys, how="left")
    missing = joined.filter(pl.col("_corridor").is_null())
    if missing.height:
        examples = missing.select(keys).unique().head(3).rows()
        msg = (
            f"the baseline has no row for {missing.select(keys).n_unique()} corridor(s) of the "
            f"panel, e.g. {examples}: build it from the same panel, or fill the gaps "
            "(baseline_from_costs fills missing costs from regional means)"
        )
        raise FlowlensError(msg)
    if "_cost" not in joined.columns:
        joined = joined.with_columns(_cost=pl.lit(None, dtype=pl.Float64))
    if "_base_cost" not in joined.columns:
        joined = joined.with_columns(_base_cost=pl.lit(None, dtype=pl.Float64))
    joined = joined.with_columns(
        _cost=pl.coalesce("_cost", "_base_cost", pl.lit(DEFAULT_COST_PCT))
    ).sort(fs.DESTINATION, "period", fs.ORIGIN)
    groups = joined.select(fs.DESTINATION, "period").unique(maintain_order=True)
    groups = groups.with_row_index("_group")
    joined = joined.join(groups, on=[fs.DESTINATION, "period"], how="left", maintain_order="left")
    periods = joined.select("period").unique().sort("period").with_row_index("_period")
    period_of_group = (
        groups.join(periods, on="period", how="left", maintain_order="left")["_period"]
        .cast(pl.Int64)
        .to_numpy()
    )
    starts = joined.select(pl.col("period").cast(pl.Int64)).to_series().to_numpy()
    ends = joined.select(pl.col("period").dt.offset_by(every).cast(pl.Int64)).to_series().to_numpy()
    return _Cells(
        keys=joined.select(fs.ORIGIN, fs.DESTINATION, "period"),
        formal=joined["_formal"].to_numpy().astype(np.float64),
        exposed={
            channels: joined[f"_exposed{i}"].to_numpy().astype(np.float64)
            for i, channels in enumerate(channel_sets)
        },
        corridor=joined["_corridor"].cast(pl.Int64).to_numpy(),
        group=joined["_group"].cast(pl.Int64).to_numpy(),
        cost_pct=joined["_cost"].to_numpy().astype(np.float64),
        period_start=starts.astype(np.float64),
        period_days=(ends - starts).astype(np.float64),
        ratio=base["informal_ratio"].to_numpy(),
        offset=base["offset"].to_numpy(),
        log_sd_shared=base["log_sd_shared"].to_numpy(),
        log_sd_own=base["log_sd_own"].to_numpy(),
        noise_sd=_noise_sd(joined, base["informal_ratio"].to_numpy()),
        groups=groups.drop("_group"),
        periods=periods.drop("_period"),
        period_of_group=period_of_group,
    )


def _noise_sd(joined: pl.DataFrame, ratio: F64) -> F64:
    """Per cell, the log-scale sampling noise of its informal sum (0 without transfer counts)."""
    if "_n_formal" not in joined.columns:
        return np.zeros(joined.height)
    n_formal = joined["_n_formal"].fill_null(0.0).to_numpy().astype(np.float64)
    n_informal = n_formal * ratio[joined["_corridor"].cast(pl.Int64).to_numpy()]
    with np.errstate(divide="ignore"):
        variance = 1.0 / np.maximum(n_informal, 1.0) + 1.0 / n_formal
    noise: F64 = np.where(n_formal > 0, SUM_CV * np.sqrt(variance), 0.0)
    return noise


def _draw(scenario: DeRiskingScenario, draws: int, seed: int, z_shared: F64) -> _Draws:
    """The scenario's parameters per draw; the same stream for every scenario (common random numbers)."""
    rng = np.random.default_rng([seed, 2])
    return _Draws(
        withdrawn=np.clip(scenario.withdrawn_prior.sample(rng, draws), 0.0, 1.0),
        cost_increase=np.maximum(scenario.cost_increase_prior.sample(rng, draws), 0.0),
        elasticity=np.maximum(scenario.elasticity_prior.sample(rng, draws), 0.0),
        split=scenario.split.sample(rng, draws),
        z_shared=z_shared,
    )


def _progress(scenario: DeRiskingScenario, cells: _Cells) -> F64:
    """Mean over each period's days of the withdrawn fraction: 0 before start, ramping to 1, 0 after end.

    The ramp's running mean has a closed form, so this is exact without a loop over days.
    """
    epoch = dt.date(1970, 1, 1)
    start = float((scenario.start_date - epoch).days)
    end = np.inf if scenario.end_date is None else float((scenario.end_date - epoch).days)
    ramp = max(float(scenario.ramp_days), 1.0)

    def integral(t: F64) -> F64:
        """The integral of clip((s - start + 1) / ramp, 0, 1) over days s < t (step per day)."""
        days = np.clip(t - start, 0.0, None)  # days since start
        within = np.minimum(days, ramp)
        # sum_{i=1..n} i / ramp for the first n ramp days, then 1 a day
        partial = within * (within + 1.0) / (2.0 * ramp)
        return partial + np.maximum(days - ramp, 0.0)

    first = cells.period_start
    last = np.minimum(first + cells.period_days, end)
    covered = np.maximum(integral(last) - integral(np.minimum(first, last)), 0.0)
    result: F64 = np.clip(covered / cells.period_days, 0.0, 1.0)
    return result


def _reach(scenario: DeRiskingScenario, cells: _Cells) -> tuple[F64, F64]:
    """Per cell: the scenario's ramp progress, and the formal flow it withdraws capacity from."""
    progress = _progress(scenario, cells)
    exposed = cells.exposed[scenario.channels] * progress
    if scenario.origin is not None or scenario.destination is not None:
        selected = cells.keys.select(scenario.corridor_filter()).to_series().to_numpy()
        exposed = exposed * selected
        progress = progress * selected
    return progress, exposed


def _chunks(n_cells: int, draws: int) -> Iterator[slice]:
    size = max(1, CHUNK_CELLS // max(draws, 1))
    for start in range(0, n_cells, size):
        yield slice(start, min(start + size, n_cells))


def _simulate(
    cells: _Cells,
    params: _Draws,
    progress: F64,
    exposed: F64,
    *,
    seed: int,
    threads: int,
    compiled: bool = True,
) -> tuple[pl.DataFrame, F64]:
    """Per-cell statistics and per-(destination, period) sums per draw, for one scenario."""
    with np.errstate(divide="ignore", invalid="ignore"):
        exposed_share = np.where(cells.formal > 0, exposed / cells.formal, 0.0)
    if compiled:
        from flowlens.informal._kernel import simulate_compiled

        starts = np.flatnonzero(np.r_[True, cells.group[1:] != cells.group[:-1]])
        stats, group_sums = simulate_compiled(
            cells.formal,
            exposed_share,
            progress,
            cells.cost_pct,
            cells.corridor,
            cells.ratio,
            cells.offset,
            cells.log_sd_shared,
            cells.log_sd_own,
            np.r_[starts, cells.formal.size].astype(np.int64),
            params.withdrawn,
            params.elasticity * params.cost_increase,
            np.ascontiguousarray(params.split),
            params.z_shared,
            seed,
            np.array(QUANTILES),
            cells.noise_sd,
        )
        return _stats_frame(stats), group_sums
    from flowlens.informal._kernel import hashed_normals, noise_seed

    n_cells = cells.formal.size
    draws = params.withdrawn.size
    n_stats = len(QUANTILES) + 1
    stats = np.empty((len(QUANTITIES), n_stats, n_cells))
    group_sums = np.zeros((cells.groups.height, len(QUANTITIES), draws))
    deterred = (params.elasticity * params.cost_increase)[None, :]  # relative fall x cost

    def run(part: slice) -> tuple[slice, F64, I64, F64]:
        formal = cells.formal[part][:, None]
        corridor = cells.corridor[part]
        unique, position = np.unique(corridor, return_inverse=True)
        z_own = hashed_normals(seed, draws, unique)
        log_ratio = (
            cells.log_sd_shared[unique][:, None] * params.z_shared[None, :]
            + cells.log_sd_own[unique][:, None] * z_own
        )
        ratio = np.maximum(
            cells.ratio[unique][:, None] * np.exp(log_ratio) - cells.offset[unique][:, None], 0.0
        )[position]
        sd = cells.noise_sd[part][:, None]
        if sd.any():
            cell_ids = np.arange(part.start, part.stop, dtype=np.int64)
            z_cell = hashed_normals(noise_seed(seed), draws, cell_ids)
            ratio = ratio * np.exp(sd * z_cell - 0.5 * sd * sd)
        p = progress[part][:, None]
        withdrawn = exposed_share[part][:, None] * params.withdrawn[None, :]
        k = p * np.minimum(1.0, deterred / cells.cost_pct[part][:, None])
        displaced = formal * (withdrawn + (1.0 - withdrawn) * k)
        baseline_informal = formal * ratio
        values = np.stack(
            [
                formal - (1.0 - params.split[None, :, 1]) * displaced,
                baseline_informal + params.split[None, :, 0] * displaced,
                params.split[None, :, 2] * displaced,
                formal + baseline_informal,
            ]
        )  # (quantity, cell, draw)
        cut = np.quantile(values, QUANTILES, axis=2)  # (quantile, quantity, cell)
        summary = np.concatenate([values.mean(axis=2)[None], cut], axis=0)
        group = cells.group[part]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        sums = np.add.reduceat(values, starts, axis=1)  # (quantity, group, draw)
        return part, summary, group[starts], sums

    parts = list(_chunks(n_cells, draws))
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for part, summary, groups, sums in pool.map(run, parts):
            stats[:, :, part] = summary.transpose(1, 0, 2)
            group_sums[groups] += sums.transpose(1, 0, 2)
    return _stats_frame(stats), group_sums


def _stats_frame(stats: F64) -> pl.DataFrame:
    """stats[quantity, (mean, percentiles...), cell] as named columns."""
    names = ["mean", *[f"p{round(q * 100)}" for q in QUANTILES]]
    return pl.DataFrame(
        {
            f"{quantity}_{name}": stats[qi, si]
            for qi, quantity in enumerate(QUANTITIES)
            for si, name in enumerate(names)
        }
    )


def _sum_by(group_sums: F64, index: I64, n: int) -> F64:
    out = np.zeros((n, *group_sums.shape[1:]))
    np.add.at(out, index, group_sums)
    return out


def _summarise(sums: F64, labels: pl.DataFrame) -> pl.DataFrame:
    """Mean and percentiles over draws of (row, quantity, draw) sums."""
    cut = np.quantile(sums, QUANTILES, axis=2)  # (quantile, row, quantity)
    mean = sums.mean(axis=2)
    columns: dict[str, F64] = {}
    names = [f"p{round(q * 100)}" for q in QUANTILES]
    for qi, quantity in enumerate(QUANTITIES):
        columns[f"{quantity}_mean"] = mean[:, qi]
        for ci, name in enumerate(names):
            columns[f"{quantity}_{name}"] = cut[ci, :, qi]
    return labels.hstack(pl.DataFrame(columns))
