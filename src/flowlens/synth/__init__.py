"""Synthetic diaspora flows with known ground truth, streamed to Parquet at scale.

The model, in short (``docs/synth.md`` has the parameters and their sources):

- a world of real countries (World Bank regions) and a few thousand corridors
  from sending to receiving countries, sized by a gravity-like score with
  Zipf-like weights by rank, so that a few corridors (USA -> MEX first) dominate;
- per corridor: the sender's currency, a channel mix (bank, mto, mobile_money,
  post, informal, cash_carry), fees calibrated to Remittance Prices Worldwide,
  lognormal amounts by flow type, trend growth;
- calendar effects: December, the days before each Eid for corridors to
  Muslim-majority countries (computed from the tabular Islamic calendar), and
  Mother's Day for Mexico;
- crises that raise philanthropy within days, remittances within weeks, and
  trade and investment during recovery, each diaspora responding with its own
  strength; de-risking events that move formal flows to informal channels and
  lose a share altogether;
- what the statistics record of those transfers: reporting breaks (a corridor
  counted ``factor`` times from a date on), attribution changes (a share of one
  sending country counted under another) and isolated one-month outliers, none
  of which changes what was sent (the truth).

Rows are drawn by a counter-based random stream, so the output for a seed is the
same whatever the chunk size, and chunks are generated two at a time.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import partial
from itertools import islice, pairwise
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens._atomic import staged_directory
from flowlens.errors import FlowlensError, ParameterError
from flowlens.synth._config import (
    AttributionChange,
    CrisisEvent,
    DeRiskingEvent,
    FormalisationEpisode,
    IsolatedOutlier,
    PremiumEpisode,
    ReportingBreak,
    SynthConfig,
)
from flowlens.synth._rows import RowPlan, generate_rows
from flowlens.synth._world import World, build_world

__all__ = [
    "AttributionChange",
    "CrisisEvent",
    "DeRiskingEvent",
    "FormalisationEpisode",
    "IsolatedOutlier",
    "PremiumEpisode",
    "ReportingBreak",
    "SynthConfig",
    "SynthResult",
    "SynthTruth",
    "generate",
    "generate_to_parquet",
]

DEFAULT_CHUNK_ROWS = 1_000_000


@dataclass(frozen=True, repr=False)
class SynthTruth:
    """What really happened in a synthetic run.

    Attributes
    ----------
    events
        Crises and de-risking events: ``kind``, ``name``, ``origin``,
        ``destination``, ``start``, ``magnitude``, ``duration_days``, ``withdrawn``.
    corridors
        The corridors with their currency, weight, informal share, costs.
    panel
        Per (``period`` month, ``origin``, ``destination``, ``flow_type``):
        expected ``baseline_usd`` (no crisis), ``excess_usd`` (injected by crises)
        and ``lost_usd`` (not sent because of de-risking), from the model; and
        realised ``formal_usd``, ``informal_usd`` (informal and cash_carry) and
        ``n_transfers``, summed exactly from the transfers drawn, before any
        observation filter and before recording (what was sent, not what the
        statistics count).
    breaks
        The reporting breaks applied, one row per break and corridor it hits:
        ``break`` (its number), ``name``, ``origin``, ``destination``, ``start``,
        ``period`` (the month of ``start``), ``factor`` (transfers recorded per
        transfer sent from ``start`` on), ``origin_wide`` (the break named no
        destination) and ``destination_wide`` (it named no origin).
    attribution_changes
        One row per change and corridor it moves: ``change``, ``name``,
        ``from_origin``, ``to_origin``, ``destination``, ``start``, ``period``,
        ``share`` (of the corridor's transfers recorded under ``to_origin``) and
        ``new_corridor`` (``to_origin -> destination`` is not a corridor of the
        world: its recorded series starts at ``start``).
    outliers
        One row per outlier and corridor it hits: ``outlier``, ``name``,
        ``origin``, ``destination``, ``period`` (the month), ``factor`` and
        ``destination_wide`` (the outlier named no origin).
    seed, n_rows, config
        What produced it.

    Examples
    --------
    >>> from flowlens.synth import ReportingBreak, SynthConfig, generate
    >>> cfg = SynthConfig(n_corridors=50, start="2023-01-01", end="2023-12-31",
    ...                   reporting_breaks=(ReportingBreak("USA", "2023-07-01", 0.5),))
    >>> truth = generate(20_000, seed=1, config=cfg).truth
    >>> int(truth.panel["n_transfers"].sum())
    20000
    >>> truth.breaks.select("origin", "destination", "period", "factor").head(2)
    shape: (2, 4)
    ┌────────┬─────────────┬────────────┬────────┐
    │ origin ┆ destination ┆ period     ┆ factor │
    │ ---    ┆ ---         ┆ ---        ┆ ---    │
    │ enum   ┆ enum        ┆ date       ┆ f64    │
    ╞════════╪═════════════╪════════════╪════════╡
    │ USA    ┆ MEX         ┆ 2023-07-01 ┆ 0.5    │
    │ USA    ┆ IND         ┆ 2023-07-01 ┆ 0.5    │
    └────────┴─────────────┴────────────┴────────┘
    """

    events: pl.DataFrame
    corridors: pl.DataFrame
    panel: pl.DataFrame
    seed: int
    n_rows: int
    config: SynthConfig
    breaks: pl.DataFrame
    attribution_changes: pl.DataFrame
    outliers: pl.DataFrame

    def __repr__(self) -> str:
        recorded = ""
        if self.breaks.height or self.attribution_changes.height or self.outliers.height:
            recorded = (
                f", breaks={self.breaks.height}, attribution_changes="
                f"{self.attribution_changes.height}, outliers={self.outliers.height}"
            )
        return (
            f"SynthTruth(seed={self.seed}, n_rows={self.n_rows:,}, corridors={self.corridors.height},"
            f" events={self.events.height}, panel_rows={self.panel.height}{recorded})"
        )


@dataclass(frozen=True, repr=False)
class SynthResult:
    """A synthetic run: the flows (in memory, or where they were written) and the truth.

    Examples
    --------
    >>> from flowlens.synth import SynthConfig, generate
    >>> result = generate(1_000, seed=0, config=SynthConfig(n_corridors=20, end="2015-03-31"))
    >>> result.flows.height
    1000
    """

    flows: pl.DataFrame | None
    path: Path | None
    truth: SynthTruth
    n_rows_written: int
    n_bytes: int
    seconds: float

    @property
    def truth_path(self) -> Path | None:
        """The folder of the written truth tables (``<path>/_truth``), or None in memory."""
        return None if self.path is None else self.path / TRUTH_DIR

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}" if self.path else "in memory"
        return (
            f"SynthResult({where}, rows={self.n_rows_written:,}, bytes={self.n_bytes:,}, "
            f"seconds={self.seconds:.2f}, truth={self.truth!r})"
        )


def generate(
    n_rows: int,
    *,
    seed: int,
    config: SynthConfig | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> SynthResult:
    """Generate ``n_rows`` synthetic transfers in memory, with their ground truth.

    Parameters
    ----------
    n_rows
        Transfers to draw (before the observation filter of ``config.observe``).
    seed
        The only source of randomness: the same seed gives the same flows,
        whatever ``chunk_rows``.
    config
        :class:`SynthConfig`; the defaults describe 2015-2024 with real crises and
        the 2015 US -> Somalia de-risking.
    chunk_rows
        Rows generated per step (memory, not content).

    Returns
    -------
    SynthResult
        ``flows`` in the canonical schema (with ``amount_usd`` and ``fee_usd``)
        and ``truth``.

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.synth import SynthConfig, generate
    >>> result = generate(5_000, seed=7, config=SynthConfig(n_corridors=30, end="2015-12-31"))
    >>> report = fl.load_flows(result.flows)
    >>> report.n_rejected
    0
    """
    started = time.perf_counter()
    config = config or SynthConfig()
    plan = _plan(config, seed, n_rows)
    spans = _spans(n_rows, chunk_rows)
    frames: list[pl.DataFrame] = []
    totals = np.zeros((*plan.world.baseline_m.shape, 3))
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        for frame, realised in _bounded(pool, partial(_observed_rows, plan), spans):
            frames.append(frame)
            totals += realised
    flows = pl.concat(frames) if frames else _empty_flows(config)
    return SynthResult(
        flows=flows,
        path=None,
        truth=_truth(plan.world, plan, totals),
        n_rows_written=flows.height,
        n_bytes=int(flows.estimated_size()),
        seconds=time.perf_counter() - started,
    )


def generate_to_parquet(
    path: str | Path,
    n_rows: int,
    *,
    seed: int,
    config: SynthConfig | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool | Callable[[int, int], None] = False,
    overwrite: bool = False,
) -> SynthResult:
    """Stream ``n_rows`` synthetic transfers to a directory of Parquet files.

    Chunks are generated and written two at a time (numpy, scipy and polars
    release the interpreter lock in their kernels), each to its own
    ``part-NNNNN.parquet`` (LZ4-compressed); at most four chunks are in flight,
    so memory stays flat whatever ``n_rows``.
    The truth is written beside them in ``_truth/`` (``panel.parquet``,
    ``events.parquet``, ``corridors.parquet``, ``breaks.parquet``,
    ``attribution_changes.parquet``, ``outliers.parquet``; readers of Parquet
    datasets skip names that start with ``_``) and returned.

    The directory appears whole or not at all: the run writes into a hidden
    temporary folder beside ``path`` and renames it into place when every file
    is written, so an interrupted run leaves ``path`` as it was.

    Parameters
    ----------
    path
        Output directory (created with its parents). It must be missing or empty,
        unless ``overwrite=True``.
    overwrite
        Replace an earlier output of this generator at ``path`` (only
        ``part-*.parquet`` files and ``_truth/``; a directory holding anything else
        is refused even then, so no unrelated file is removed).
    progress
        True for a progress bar (a widget in Jupyter, a line in a terminal), or a
        function called as ``progress(rows_done, n_rows)`` after each chunk.

    Examples
    --------
    >>> import tempfile
    >>> import polars as pl
    >>> from flowlens.synth import SynthConfig, generate_to_parquet
    >>> out = tempfile.mkdtemp()
    >>> cfg = SynthConfig(n_corridors=20, end="2015-06-30")
    >>> result = generate_to_parquet(out, 3_000, seed=0, config=cfg, chunk_rows=1_000)
    >>> pl.scan_parquet(f"{out}/part-*.parquet").select(pl.len()).collect().item()
    3000
    """
    started = time.perf_counter()
    config = config or SynthConfig()
    out = Path(path)
    plan = _plan(config, seed, n_rows)
    spans = _spans(n_rows, chunk_rows)
    with staged_directory(out, overwrite=overwrite, owned=_owned) as staging:
        tasks = [(span, staging / f"part-{i:05d}.parquet") for i, span in enumerate(spans)]
        totals = np.zeros((*plan.world.baseline_m.shape, 3))
        written = written_bytes = done = 0
        with _progress_bar(progress, n_rows) as report:
            for (first, last), realised, rows, size in _in_threads(plan, tasks):
                totals += realised
                written += rows
                written_bytes += size
                done += last - first
                report(done, n_rows)
        truth = _truth(plan.world, plan, totals)
        truth_dir = staging / TRUTH_DIR
        truth_dir.mkdir()
        truth.panel.write_parquet(truth_dir / "panel.parquet")
        truth.events.write_parquet(truth_dir / "events.parquet")
        truth.corridors.write_parquet(truth_dir / "corridors.parquet")
        for name in ("breaks", "attribution_changes", "outliers"):
            getattr(truth, name).write_parquet(truth_dir / f"{name}.parquet")
    return SynthResult(
        flows=None,
        path=out,
        truth=truth,
        n_rows_written=written,
        n_bytes=written_bytes,
        seconds=time.perf_counter() - started,
    )


_WORKERS = min(2, os.cpu_count() or 1)

TRUTH_DIR = "_truth"
"""Where :func:`generate_to_parquet` writes the truth tables, inside its output folder."""


def _owned(entry: Path) -> bool:
    """An entry an earlier :func:`generate_to_parquet` run wrote (it may replace it)."""
    return (entry.is_file() and fnmatch(entry.name, "part-*.parquet")) or (
        entry.is_dir() and entry.name == TRUTH_DIR
    )


_Chunk = tuple[tuple[int, int], npt.NDArray[np.float64], int, int]


def _in_threads(plan: RowPlan, tasks: list[tuple[tuple[int, int], Path]]) -> Iterator[_Chunk]:
    with ThreadPoolExecutor(_WORKERS) as pool:
        results = _bounded(pool, partial(_write_chunk, plan), tasks)
        for (span, _), (realised, rows, size) in zip(tasks, results, strict=True):
            yield span, realised, rows, size


_T = TypeVar("_T")
_R = TypeVar("_R")


def _bounded(pool: Executor, fn: Callable[[_T], _R], items: list[_T]) -> Iterator[_R]:
    """``pool.map`` in order, with at most two tasks per worker in flight (bounded memory)."""
    pending: deque[Future[_R]] = deque()
    queue = iter(items)
    for item in islice(queue, 2 * _WORKERS):
        pending.append(pool.submit(fn, item))
    while pending:
        result = pending.popleft().result()
        for item in islice(queue, 1):
            pending.append(pool.submit(fn, item))
        yield result


@contextmanager
def _progress_bar(
    progress: bool | Callable[[int, int], None], total: int
) -> Iterator[Callable[[int, int], None]]:
    """What to call after each chunk: the user's function, a tqdm bar, or nothing."""
    if callable(progress):
        yield progress
        return
    if not progress:
        yield lambda done, total: None
        return
    from importlib.util import find_spec  # a notebook widget only where ipywidgets is

    if find_spec("ipywidgets") is None:
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm
    with tqdm(total=total, unit="rows", unit_scale=True, desc="synth") as bar:

        def advance(done: int, total: int) -> None:
            bar.update(done - bar.n)

        yield advance


def _spans(n_rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 0:
        msg = f"n_rows must be a whole number >= 0, got {n_rows!r}"
        raise ParameterError(msg)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        msg = f"chunk_rows must be a whole number >= 1, got {chunk_rows!r}"
        raise ParameterError(msg)
    bounds = [*range(0, n_rows, chunk_rows), n_rows]
    return list(pairwise(bounds))


def _plan(config: SynthConfig, seed: int, n_rows: int) -> RowPlan:
    """The world and row plan of a run (built once per call, shared by its chunk tasks)."""
    if not 0 <= seed < 2**63:
        msg = f"seed must be an integer in [0, 2**63), got {seed}"
        raise FlowlensError(msg)
    return RowPlan.build(build_world(config, seed), seed, n_rows)


def _observed_rows(
    plan: RowPlan, span: tuple[int, int]
) -> tuple[pl.DataFrame, npt.NDArray[np.float64]]:
    frame, realised = generate_rows(plan, *span)
    if plan.world.config.observe == "formal":
        frame = frame.filter(~pl.col("channel").is_in(["informal", "cash_carry"]))
    return frame, realised


def _write_chunk(
    plan: RowPlan, task: tuple[tuple[int, int], Path]
) -> tuple[npt.NDArray[np.float64], int, int]:
    span, target = task
    frame, realised = _observed_rows(plan, span)
    frame.write_parquet(target, compression="lz4")
    return realised, frame.height, target.stat().st_size


def _truth(world: World, plan: RowPlan, totals: npt.NDArray[np.float64]) -> SynthTruth:
    n_corridors, _, n_months = world.baseline_m.shape
    mean_amount = world.mean_amount[:, :, None] * plan.scale
    corridor = np.repeat(np.arange(n_corridors), 3 * n_months)
    flow = np.tile(np.repeat(np.arange(3), n_months), n_corridors)
    month = np.tile(np.arange(n_months), 3 * n_corridors)
    expected = pl.DataFrame(
        {
            "period": pl.Series([world.month_starts[m] for m in range(n_months)]).gather(month),
            "origin": world.corridors["origin"].gather(corridor),
            "destination": world.corridors["destination"].gather(corridor),
            "flow_type": pl.Series(fs.FLOW_TYPES, dtype=fs.FLOW_TYPE_ENUM).gather(flow),
            "baseline_usd": (world.baseline_m * mean_amount).ravel(),
            "excess_usd": (world.crisis_m * mean_amount).ravel(),
            "lost_usd": (world.lost_m * mean_amount).ravel(),
            "formal_usd": totals[..., 0].ravel(),
            "informal_usd": totals[..., 1].ravel(),
            "n_transfers": totals[..., 2].ravel().astype(np.int64),
        }
    )
    panel = expected.sort("period", "origin", "destination", "flow_type")
    return SynthTruth(
        events=world.events,
        corridors=world.corridors,
        panel=panel,
        seed=plan.seed,
        n_rows=plan.n_rows,
        config=world.config,
        breaks=world.recording.breaks,
        attribution_changes=world.recording.attribution_changes,
        outliers=world.recording.outliers,
    )


def _empty_flows(config: SynthConfig) -> pl.DataFrame:
    schema = {
        name: fs.CANONICAL_SCHEMA[name]
        for name in ("date", "origin", "destination", "flow_type", "channel", "amount",
                     "currency", "amount_usd", "fee", "fee_usd")
    }  # fmt: skip
    if config.ids:
        schema |= {"sender_id": pl.String(), "org_id": pl.String()}
    if config.tx_ids:
        schema["tx_id"] = pl.String()
    return pl.DataFrame(schema=schema)
