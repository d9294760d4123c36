"""The benchmark suite: every stage of flowlens against a baseline, in one process and run.

    python benchmarks/run.py --rows 10M,50M            # the published table
    python benchmarks/run.py --rows 20k --smoke        # seconds; what CI runs
    python benchmarks/run.py --rows 10M --stages panel,panel_median --repeat 3

For each size, synthetic flows are generated with ``flowlens.synth`` (cached under
benchmarks/_data/ between runs), then each stage is timed next to its baseline in
this process (best of ``--repeat``):

==================  ==========================================  ================================
stage               flowlens                                    baseline
==================  ==========================================  ================================
load_flows          validate + normalise, rejects and counts    DuckDB: the same filter + FX join
panel               corridor_panel, month x corridor x type     DuckDB ``GROUP BY``
panel_median        the same with the exact median              DuckDB ``median()``
csv_panel           load_flows + panel of a CSV extract         DuckDB bare ``GROUP BY`` on the CSV
csv_panel_median    the same with the exact median              the same with ``median()``
text_panel          the same on Parquet with text codes         DuckDB bare ``GROUP BY``
text_panel_median   the same with the exact median              the same with ``median()``
panel_senders       panel with distinct senders                 DuckDB ``count(DISTINCT)``
panel_suppressed    load_flows + panel + suppress_small_cells   the same panel unsuppressed
surges_monthly      detect_surges (default method) on the monthly panel  a numpy loop per series
surges_daily        detect_surges (default method) on the daily panel    a numpy loop per series
graph               CorridorGraph: source concentration (HHI)   a Python loop with dictionaries
informal            estimate_informal, 1,000 draws, 12 months   flowlens' numpy reference path
==================  ==========================================  ================================

Loop baselines run on a sample of series and are scaled up (said in the table).
Peak memory is each side run once in a fresh process: its peak resident set
after the inputs are ready, less its resident set at that moment. The targets of
issues 4-6 and 9 are checked at their own fixed sizes (``targets``), and the
import time of flowlens over polars. Writes ``benchmarks/results/suite.json`` and
``suite.md``; ``--readme`` puts the table into README.md. Never fails on time:
a missed target is a row that says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import flowlens as fl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the loop baselines of the single-topic benchmarks
import bench_graph  # noqa: E402
import bench_informal  # noqa: E402
import bench_surge  # noqa: E402

DATA = HERE / "_data"
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
SEED = 11

Job = Callable[[], Any]

LOOP_BUDGET = [200_000]
"""How many (series, period) windows a loop baseline runs before it is scaled up (--smoke: less)."""


@dataclass(frozen=True)
class Stage:
    """One stage: flowlens' job, its baseline, and what they process."""

    work: int  # rows or cells processed by flowlens' job
    unit: str
    flowlens: Job
    baseline: Job
    baseline_name: str
    baseline_scale: float = 1.0  # the baseline ran on 1/scale of the work
    agree: Callable[[Any, Any], bool] | None = None  # do the two results say the same?


# --- data ------------------------------------------------------------------------------


def parse_rows(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a row count: {text!r} (write 20k, 10M, 50000000)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def dataset(rows: int) -> list[str]:
    """Synthetic flows as Parquet files (cached by size and seed)."""
    path = DATA / f"suite_{rows}_{SEED}"
    if not (path / "_SUCCESS").exists():
        fl.synth.generate_to_parquet(path, rows, seed=SEED, chunk_rows=min(rows, 2_000_000))
        (path / "_SUCCESS").write_text("ok")
    return sorted(str(p) for p in path.glob("part-*.parquet"))


EXTRACT_COLUMNS = (
    "date",
    "origin",
    "destination",
    "flow_type",
    "channel",
    "amount",
    "currency",
    "fee",
    "sender_id",
    "org_id",
)
"""An operator's extract: the raw columns (no USD), codes as text."""

BAD_EVERY = 1_000
"""One row in this many of an extract has a negative amount: the rejects are never empty."""


def text_dataset(rows: int, kind: str) -> str:
    """The synthetic flows as an operator's extract: one CSV file, or Parquet with text codes.

    The codes (countries, flow type, channel, currency) are text; the Parquet keeps its
    Date and numbers, the CSV is all text, as such files arrive. Every ``BAD_EVERY``-th
    row's amount is negated, so validation has rejects to write. Cached like
    :func:`dataset`.
    """
    suffix = {"parquet": "parquet", "csv": "csv"}[kind]
    path = DATA / f"extract_{rows}_{SEED}.{suffix}"
    if path.exists():
        return str(path)
    source = pl.scan_parquet(dataset(rows)).with_row_index("_i")
    amount = pl.col("amount")
    extract = source.select(
        pl.col("date"),
        pl.col("origin", "destination", "flow_type", "channel", "currency").cast(pl.String),
        pl.when(pl.col("_i") % BAD_EVERY == BAD_EVERY - 1).then(-amount).otherwise(amount),
        pl.col("fee", "sender_id", "org_id"),
    ).select(EXTRACT_COLUMNS)
    partial_path = path.with_name("_" + path.name)
    if kind == "parquet":
        extract.sink_parquet(partial_path, engine="streaming", row_group_size=1_000_000)
    else:
        extract.sink_csv(partial_path, engine="streaming")
    partial_path.rename(path)
    return str(path)


@cache
def duckdb_connection() -> Any:
    import duckdb

    from flowlens.normalise import daily_fx_grid

    con = duckdb.connect()
    grid = daily_fx_grid().select("date", pl.col("currency").cast(pl.String), "usd_per_unit")
    con.register("fx_arrow", grid.to_arrow())
    con.execute("CREATE TABLE fx AS SELECT * FROM fx_arrow")
    return con


def duckdb_sql(sql: str) -> pl.DataFrame:
    result: pl.DataFrame = duckdb_connection().sql(sql).pl()
    return result


def parquet_list(files: list[str]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


# --- stages on the synthetic flows --------------------------------------------------------


def stage_load_flows(files: list[str], rows: int) -> Stage:
    def flowlens_job() -> tuple[int, float]:
        report = fl.load_flows(pl.scan_parquet(files))
        clean, report = report.collect(
            report.clean.lazy().select(pl.len(), pl.col("amount_usd").sum())
        )
        return int(clean.item(0, 0)), float(clean.item(0, 1))

    def duckdb_job() -> tuple[int, float]:
        out = duckdb_sql(f"""
            SELECT count(*) FILTER (WHERE ok) AS n_clean,
                   sum(usd) FILTER (WHERE ok) AS usd,
                   count(*) FILTER (WHERE NOT ok) AS n_rejected
            FROM (
                SELECT f.amount * r.usd_per_unit AS usd,
                       coalesce(f.amount > 0 AND isfinite(f.amount)
                                AND f.origin <> f.destination AND r.usd_per_unit IS NOT NULL,
                                false) AS ok
                FROM read_parquet({parquet_list(files)}) f
                LEFT JOIN fx r ON r.date = f.date AND r.currency = CAST(f.currency AS VARCHAR)
            )
        """)
        return int(out["n_clean"][0]), float(out["usd"][0])

    return Stage(
        rows,
        "rows",
        flowlens_job,
        duckdb_job,
        "DuckDB: filter + FX join",
        agree=lambda a, b: a[0] == b[0] and abs(a[1] - b[1]) <= 1e-9 * abs(b[1]),
    )


def stage_panel(files: list[str], rows: int, *, median: bool) -> Stage:
    stats = ("sum", "count", "median") if median else ("sum", "count")

    def flowlens_job() -> pl.DataFrame:
        panel = fl.corridor_panel(pl.scan_parquet(files), stats=stats)
        return panel.collect(engine="streaming")

    extra = ", median(amount_usd) AS amount_usd_median" if median else ""

    def duckdb_job() -> pl.DataFrame:
        return duckdb_sql(f"""
            SELECT date_trunc('month', date) AS period, origin, destination, flow_type,
                   sum(amount_usd) AS amount_usd, count(*) AS n_transfers{extra}
            FROM read_parquet({parquet_list(files)}) GROUP BY ALL
        """)

    def agree(ours: pl.DataFrame, theirs: pl.DataFrame) -> bool:
        same = ours.height == theirs.height and ours["n_transfers"].sum() == rows
        if median:
            same &= bool(
                np.isclose(ours["amount_usd_median"].sum(), theirs["amount_usd_median"].sum())
            )
        return same and bool(np.isclose(ours["amount_usd"].sum(), theirs["amount_usd"].sum()))

    return Stage(
        rows,
        "rows",
        flowlens_job,
        duckdb_job,
        "DuckDB GROUP BY" + (" + median()" if median else ""),
        agree=agree,
    )


def stage_extract(rows: int, kind: str, *, median: bool) -> Stage:
    """load_flows + corridor_panel on an operator's extract, against DuckDB's bare aggregate.

    flowlens validates every row, maps the text codes, converts to USD and writes the
    rejects (the job it must do); DuckDB only aggregates the file, as a user would type
    it instead. A CSV is parsed anew in every flowlens run (its parsed copy is dropped).
    """
    path = text_dataset(rows, kind)
    stats = ("sum", "count", "median") if median else ("sum", "count")

    def flowlens_job() -> pl.DataFrame:
        for spilled in fl.io._SPILLS.values():  # time the parse in every run
            spilled.unlink(missing_ok=True)  # (a 50M-row CSV's parsed copy is 5 GB)
        fl.io._SPILLS.clear()
        report = fl.load_flows(path)
        panel, report = report.collect(fl.corridor_panel(report, stats=stats))
        assert report.n_rejected == rows // BAD_EVERY
        return panel

    extra = ", median(amount) AS amount_median" if median else ""
    reader = "read_parquet" if kind == "parquet" else "read_csv"

    def duckdb_job() -> pl.DataFrame:
        return duckdb_sql(f"""
            SELECT date_trunc('month', date) AS period, origin, destination, flow_type,
                   sum(amount) AS amount, count(*) AS n_transfers{extra}
            FROM {reader}('{path}') GROUP BY ALL
        """)

    def agree(ours: pl.DataFrame, theirs: pl.DataFrame) -> bool:
        clean = rows - rows // BAD_EVERY
        return ours["n_transfers"].sum() == clean and theirs["n_transfers"].sum() == rows

    return Stage(
        rows,
        "rows",
        flowlens_job,
        duckdb_job,
        "DuckDB bare GROUP BY" + (" + median()" if median else "") + f" ({reader})",
        agree=agree,
    )


SUPPRESSED_STATS = ("sum", "count", "senders", "top_senders")


def stage_suppressed(files: list[str], rows: int) -> Stage:
    """The suppressed panel (what ``flowlens panel`` writes) against the unsuppressed one."""

    def panel(stats: tuple[str, ...]) -> pl.DataFrame:
        report = fl.load_flows(pl.scan_parquet(files))
        frame, report = report.collect(fl.corridor_panel(report, stats=stats))
        return frame

    def flowlens_job() -> pl.DataFrame:
        return fl.privacy.suppress_small_cells(panel(SUPPRESSED_STATS)).panel

    def agree(ours: pl.DataFrame, theirs: pl.DataFrame) -> bool:
        return ours.height == theirs.height

    return Stage(
        rows,
        "rows",
        flowlens_job,
        lambda: panel(("sum", "count")),
        "flowlens, the same panel unsuppressed",
        agree=agree,
    )


def stage_senders(files: list[str], rows: int) -> Stage:
    """Distinct senders per cell: corridor_panel against DuckDB's count(DISTINCT ...)."""

    def flowlens_job() -> pl.DataFrame:
        stats = ("sum", "count", "senders")
        return fl.corridor_panel(pl.scan_parquet(files), stats=stats).collect(engine="streaming")

    def duckdb_job() -> pl.DataFrame:
        return duckdb_sql(f"""
            SELECT date_trunc('month', date) AS period, origin, destination, flow_type,
                   sum(amount_usd) AS amount_usd, count(*) AS n_transfers,
                   count(DISTINCT sender_id) AS n_senders
            FROM read_parquet({parquet_list(files)}) GROUP BY ALL
        """)

    def agree(ours: pl.DataFrame, theirs: pl.DataFrame) -> bool:
        # polars counts a missing sender_id as one sender, DuckDB's DISTINCT leaves it out
        extra = ours["n_senders"].sum() - theirs["n_senders"].sum()
        return ours.height == theirs.height and 0 <= extra <= ours.height

    return Stage(
        rows, "rows", flowlens_job, duckdb_job, "DuckDB count(DISTINCT sender_id)", agree=agree
    )


def dense(panel: pl.DataFrame, period: str) -> np.ndarray:
    """The panel as a (series x period) array: the input of the loop baselines."""
    wide = panel.pivot(on=period, index=["origin", "destination", "flow_type"], values="amount_usd")
    return wide.drop("origin", "destination", "flow_type").fill_null(0.0).to_numpy()


def stage_surges(files: list[str], *, daily: bool) -> Stage:
    # the default method; the baseline loop takes the rolling median of the same span
    freq, window = ("day", 90) if daily else ("1mo", 12)
    panel = fl.corridor_panel(pl.scan_parquet(files), freq=freq).collect(engine="streaming")
    values = dense(panel, "period")
    windows = max(values.shape[1] - window, 1)
    sample = max(1, min(values.shape[0], LOOP_BUDGET[0] // windows))
    kwargs: dict[str, Any] = {"freq": freq}
    fl.detect_surges(panel.head(1000), **kwargs)  # compile the kernel outside the timings
    return Stage(
        values.size,
        "series-periods",
        lambda: fl.detect_surges(panel, **kwargs),
        lambda: bench_surge.naive(values[:sample], window),
        f"numpy loop per series ({sample} series, scaled)",
        baseline_scale=values.shape[0] / sample,
    )


def all_measures(panel: pl.DataFrame) -> fl.CorridorGraph:
    graph = fl.CorridorGraph.from_panel(panel)
    graph.top_corridors(20)
    strength = graph.strength()
    graph.inflow_shares()
    graph.concentration()
    # the two largest senders of this graph (a sender it does not hold is an error)
    graph.exposure(origins=strength.sort("out_usd", descending=True)["country"].head(2).to_list())
    graph.cost()
    graph.centrality()
    fl.corridor_changes(panel)
    return graph


def stage_graph(files: list[str]) -> Stage:
    panel = fl.corridor_panel(pl.scan_parquet(files), freq="year").collect(engine="streaming")
    all_measures(panel.head(100))  # networkx and scipy are imported on first use
    return Stage(
        panel.height,
        "panel rows",
        lambda: fl.CorridorGraph.from_panel(panel).concentration(),
        lambda: bench_graph.naive_hhi(panel),
        "Python loop with dictionaries",
    )


def stage_informal(files: list[str]) -> Stage:
    from flowlens.informal import (
        DeRiskingScenario,
        _estimate,
        baseline_from_costs,
        estimate_informal,
    )

    panel = fl.corridor_panel(pl.scan_parquet(files), by=(), stats=("sum", "cost_ratio")).collect(
        engine="streaming"
    )
    last = panel["period"].max()
    assert isinstance(last, dt.date)
    first = dt.date(last.year - 1, last.month, 1) if last.month != 12 else dt.date(last.year, 1, 1)
    year = panel.filter(pl.col("period") > first)
    baseline = baseline_from_costs(year)
    scenario = DeRiskingScenario("all corridors", start=year["period"].min() + dt.timedelta(45))
    # compile the kernel on a few rows of the last month (the scenario is in force there;
    # the panel's rows come in no set order), saying the frequency
    last_month = year.filter(pl.col("period") == year["period"].max()).head(200)
    estimate_informal(last_month, scenario, baseline=baseline, draws=20, freq="1mo")
    sample = year.filter(
        pl.col("destination").is_in(year["destination"].unique().head(5).implode())
    )
    compiled = _estimate._simulate

    def reference() -> Any:
        def numpy_path(*args: Any, **kwargs: Any) -> Any:
            return compiled(*args, **{**kwargs, "compiled": False})

        _estimate._simulate = numpy_path
        try:
            return estimate_informal(sample, scenario, baseline=baseline, draws=1000, seed=1)
        finally:
            _estimate._simulate = compiled

    return Stage(
        1000 * year.height,
        "draw-cells",
        lambda: estimate_informal(year, scenario, baseline=baseline, draws=1000, seed=1),
        reference,
        f"numpy reference path ({sample.height} of {year.height} cells, scaled)",
        baseline_scale=year.height / max(sample.height, 1),
    )


STAGES: dict[str, Callable[[list[str], int], Stage]] = {
    "load_flows": stage_load_flows,
    "panel": lambda files, rows: stage_panel(files, rows, median=False),
    "panel_median": lambda files, rows: stage_panel(files, rows, median=True),
    "csv_panel": lambda files, rows: stage_extract(rows, "csv", median=False),
    "csv_panel_median": lambda files, rows: stage_extract(rows, "csv", median=True),
    "text_panel": lambda files, rows: stage_extract(rows, "parquet", median=False),
    "text_panel_median": lambda files, rows: stage_extract(rows, "parquet", median=True),
    "panel_senders": stage_senders,
    "panel_suppressed": stage_suppressed,
    "surges_monthly": lambda files, rows: stage_surges(files, daily=False),
    "surges_daily": lambda files, rows: stage_surges(files, daily=True),
    "graph": lambda files, rows: stage_graph(files),
    "informal": lambda files, rows: stage_informal(files),
}


# --- timing and memory ----------------------------------------------------------------------


def _cpu_seconds() -> float:
    """Processor time of this process so far (every thread, user and system)."""
    used = os.times()
    return used.user + used.system


CPU_SECONDS: dict[int, float] = {}
"""The processor time of the last :func:`best_of`'s best run (by id of its job)."""


def best_of(repeat: int, job: Job) -> tuple[float, Any]:
    """The best wall time of ``repeat`` runs, and the last result; the processor time of
    the same run goes to :data:`CPU_SECONDS` (on a shared machine, the fairer measure)."""
    best, result, cpu = float("inf"), None, float("nan")
    for _ in range(repeat):
        result = None
        gc.collect()
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        result = job()
        took = time.perf_counter() - started
        if took < best:
            best, cpu = took, _cpu_seconds() - cpu_started
    CPU_SECONDS[id(job)] = cpu
    return best, result


def _resident_bytes() -> int:
    with Path("/proc/self/statm").open() as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _status_bytes(*fields: str) -> dict[str, int]:
    """Fields of /proc/self/status given in kB, in bytes."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            found[name] = int(value.split()[0]) * 1024
    return found


def child_peak_gb(stage: str, side: str, rows: int) -> dict[str, float] | None:
    """Peak memory of one side of one stage, run alone in a fresh process (Linux only):
    the resident set (``peak_gb``) and the process' own, anonymous memory
    (``own_peak_gb``: without the pages of files it maps, which the system can drop)."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    done = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, __file__, "--child", f"{stage}:{side}", "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def run_child(what: str, rows: int) -> None:
    stage_name, side = what.split(":")
    stage = STAGES[stage_name](dataset(rows), rows)
    job = stage.flowlens if side == "flowlens" else stage.baseline
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak so far was the setup's
    before = _resident_bytes()
    anon_before = _status_bytes("RssAnon")["RssAnon"]
    anon_peak = [anon_before]
    done = threading.Event()

    def sample() -> None:
        # the kernel keeps the peak of the whole resident set only (VmHWM); the
        # anonymous part's peak is sampled
        while not done.wait(0.01):
            anon_peak[0] = max(anon_peak[0], _status_bytes("RssAnon")["RssAnon"])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    job()
    done.set()
    sampler.join()
    anon_peak[0] = max(anon_peak[0], _status_bytes("RssAnon")["RssAnon"])
    peaks = {
        "peak_gb": (_peak_bytes() - before) / 1e9,
        "own_peak_gb": (anon_peak[0] - anon_before) / 1e9,
    }
    print(json.dumps(peaks))


# --- targets at fixed sizes ------------------------------------------------------------------


def import_overhead_s(repeat: int = 5) -> float:
    """Seconds ``import flowlens`` adds to ``import polars`` (best of fresh interpreters)."""
    code = (
        "import time; t0 = time.perf_counter(); import polars; t1 = time.perf_counter(); "
        "import flowlens; print(time.perf_counter() - t1)"
    )
    runs = [
        float(
            subprocess.run(  # noqa: S603 (this interpreter, fixed code)
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return min(runs)


def fixed_targets(smoke: bool) -> list[dict[str, Any]]:
    """The speed targets of issues 4-6 at their own sizes (smaller with --smoke: not checked)."""
    from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal
    from flowlens.surge._baselines import rolling_median_mad

    scale = 20 if smoke else 1
    rng = np.random.default_rng(0)
    monthly_series, daily_series = 20_000 // scale, 5_000 // scale
    periods = pl.date_range(dt.date(2015, 1, 1), dt.date(2024, 12, 1), "1mo", eager=True)
    codes = [c for c in fl.reference.country_codes() if len(c) == 3]
    pairs = [(o, d) for o in codes[:100] for d in codes[:201] if o != d][:monthly_series]
    monthly = pl.DataFrame(
        {
            "period": np.tile(periods.to_numpy(), len(pairs)),
            "origin": np.repeat([o for o, _ in pairs], len(periods)),
            "destination": np.repeat([d for _, d in pairs], len(periods)),
            "amount_usd": rng.lognormal(10, 1, len(pairs) * len(periods)),
        }
    ).with_columns(pl.col("period").cast(pl.Date))
    daily = rng.lognormal(10, 1, (daily_series, 3_653))
    days = pl.date_range(dt.date(2015, 1, 1), dt.date(2024, 12, 31), "1d", eager=True)
    daily_pairs = pairs[:daily_series]
    daily_panel = pl.DataFrame(
        {
            "period": np.tile(days.to_numpy(), len(daily_pairs)),
            "origin": np.repeat([o for o, _ in daily_pairs], len(days)),
            "destination": np.repeat([d for _, d in daily_pairs], len(days)),
            "amount_usd": daily[: len(daily_pairs), : len(days)].ravel(),
        }
    ).with_columns(pl.col("period").cast(pl.Date))
    fl.detect_surges(monthly.head(1200))
    fl.detect_surges(daily_panel.head(3 * 3_653))
    rolling_median_mad(daily[:2], 90, min_periods=45)
    graph_panel = bench_graph.make_panel(201 if not smoke else 45, 12)
    informal_panel, costs = bench_informal.panel_of(20_000 // scale)
    informal_baseline = baseline_from_costs(informal_panel, costs)
    scenario = DeRiskingScenario("all corridors", start="2024-03-15")
    estimate_informal(informal_panel.head(1200), scenario, baseline=informal_baseline, draws=50)
    checks: list[tuple[str, str, float, Job]] = [
        (
            "detect_surges, default (forecast), monthly",
            f"{len(pairs):,} series x 120 months",
            0.3,
            lambda: fl.detect_surges(monthly),
        ),
        (
            "detect_surges, default (forecast), daily",
            f"{len(daily_pairs):,} series x {len(days):,} days",
            3.0,
            lambda: fl.detect_surges(daily_panel),
        ),
        (
            "exact rolling median + MAD, daily",
            f"{daily_series:,} series x 3,653 days, window 90",
            3.0,
            lambda: rolling_median_mad(daily, 90, min_periods=45),
        ),
        (
            "CorridorGraph, all measures",
            f"{graph_panel.height // 12:,} corridors x 12 months",
            1.0,
            lambda: all_measures(graph_panel),
        ),
        (
            "estimate_informal, 1,000 draws",
            f"{informal_panel.height:,} corridor-months",
            5.0,
            lambda: estimate_informal(
                informal_panel, scenario, baseline=informal_baseline, draws=1000, seed=1
            ),
        ),
    ]
    rows = []
    for name, size, target, job in checks:
        seconds, _ = best_of(1 if smoke else 3, job)
        rows.append(
            {
                "check": name,
                "size": size,
                "seconds": seconds,
                "target_s": target,
                "met": None if smoke else seconds <= target,
            }
        )
    overhead = import_overhead_s(3 if smoke else 7)
    rows.append(
        {
            "check": "import flowlens, over import polars",
            "size": "fresh interpreter",
            "seconds": overhead,
            "target_s": 0.15,
            "met": overhead <= 0.15,
        }
    )
    return rows


# --- the run ---------------------------------------------------------------------------------


def run_size(rows: int, stages: list[str], repeat: int, memory: bool) -> dict[str, Any]:
    files = dataset(rows)
    results: dict[str, Any] = {}
    for name in stages:
        stage = STAGES[name](files, rows)
        ours_s, ours = best_of(repeat, stage.flowlens)
        theirs_s, theirs = best_of(repeat, stage.baseline)
        theirs_s *= stage.baseline_scale
        ours_cpu = CPU_SECONDS[id(stage.flowlens)]
        theirs_cpu = CPU_SECONDS[id(stage.baseline)] * stage.baseline_scale
        entry: dict[str, Any] = {
            "work": stage.work,
            "unit": stage.unit,
            "seconds": ours_s,
            "per_second": stage.work / ours_s,
            "baseline": stage.baseline_name,
            "baseline_seconds": theirs_s,
            "time_ratio": ours_s / theirs_s,
            "cpu_seconds": ours_cpu,
            "baseline_cpu_seconds": theirs_cpu,
            "cpu_ratio": ours_cpu / theirs_cpu if theirs_cpu > 0 else None,
            "load_average": os.getloadavg()[0],
            "results_agree": None if stage.agree is None else bool(stage.agree(ours, theirs)),
        }
        del ours, theirs
        if memory:
            ours_peaks = child_peak_gb(name, "flowlens", rows) or {}
            scaled = stage.baseline_scale != 1.0
            theirs_peaks = {} if scaled else child_peak_gb(name, "baseline", rows) or {}
            for key, ratio_key in (
                ("peak_gb", "memory_ratio"),
                ("own_peak_gb", "own_memory_ratio"),
            ):
                entry[key] = ours_peaks.get(key)
                entry["baseline_" + key] = theirs_peaks.get(key)
                if entry[key] is not None and entry["baseline_" + key]:
                    entry[ratio_key] = entry[key] / entry["baseline_" + key]
        results[name] = entry
        print(f"  {rows:,} rows, {name}: {ours_s:.2f} s ({entry['time_ratio']:.2f}x baseline)")
    return results


def table(report: dict[str, Any]) -> str:
    """The markdown that README.md and suite.md show."""
    machine = report["machine"]
    lines = [
        f"Run on {report['date']}: {machine['cores']} cores, {machine['memory_gb']:.0f} GB RAM, "
        f"{machine['platform']}; Python {machine['python']}, polars {report['versions']['polars']}, "
        f"DuckDB {report['versions']['duckdb']}. Best of {report['repeat']} (wall time; the "
        "processor-time ratio is of the same runs, every thread, the fairer measure on a shared "
        "machine); load average (1 min) during the run: "
        f"{_load_range(report)}; memory is the peak "
        "resident-set increase of each side run alone in a fresh process, and of it the "
        "process' own (anonymous) memory, without the pages of files it maps.",
        "",
        "| rows | stage | flowlens (s) | per second | baseline | baseline (s) | time ratio | "
        "processor-time ratio | memory (GB) | memory ratio | own memory (GB) | own ratio | agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rows, stages in report["sizes"].items():
        for name, e in stages.items():
            agree = {None: "", True: "yes", False: "**no**"}[e["results_agree"]]
            cpu_ratio = e.get("cpu_ratio")
            cpu_text = "" if cpu_ratio is None else f"{cpu_ratio:.2f}x"
            peak_text, ratio_text = _memory_cells(e, "peak_gb", "memory_ratio")
            own_text, own_ratio_text = _memory_cells(e, "own_peak_gb", "own_memory_ratio")
            lines.append(
                f"| {int(rows):,} | {name} | {e['seconds']:.2f} | {e['per_second']:,.0f} {e['unit']} "
                f"| {e['baseline']} | {e['baseline_seconds']:.2f} | {e['time_ratio']:.2f}x "
                f"| {cpu_text} | {peak_text} | {ratio_text} | {own_text} | {own_ratio_text} | {agree} |"
            )
    lines += ["", "| target | size | seconds | at most | met |", "|---|---|---|---|---|"]
    for t in report["targets"]:
        lines.append(
            f"| {t['check']} | {t['size']} | {t['seconds']:.3f} | {t['target_s']} "
            f"| {({None: 'not at this size', True: 'yes', False: '**no**'})[t['met']]} |"
        )
    return "\n".join(lines) + "\n"


def _memory_cells(entry: dict[str, Any], key: str, ratio_key: str) -> tuple[str, str]:
    """A peak and its ratio as table cells (a few MB is noise in a resident-set measure)."""
    peak, ratio = entry.get(key), entry.get(ratio_key)
    if peak is None:
        return "", ""
    if peak < 0.01 or (entry.get("baseline_" + key) or 1) < 0.01:
        ratio = None
    peak_text = "< 0.01" if peak < 0.01 else f"{peak:.2f}"
    return peak_text, "" if ratio is None else f"{ratio:.2f}x"


def _load_range(report: dict[str, Any]) -> str:
    loads = [
        e["load_average"]
        for st in report["sizes"].values()
        for e in st.values()
        if "load_average" in e
    ]
    return f"{min(loads):.1f}-{max(loads):.1f}" if loads else "not recorded"


def machine() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cores": os.cpu_count(),
        "memory_gb": pages / 2**30,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def put_in_readme(markdown: str) -> None:
    start, end = "<!-- benchmark-suite:start -->", "<!-- benchmark-suite:end -->"
    text = README.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no {start} ... {end} section to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{markdown}{end}{tail}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="10M", help="sizes, comma-separated: 20k,10M,50M")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated stages")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="small targets, no memory runs")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON and table go")
    parser.add_argument("--readme", action="store_true", help="put the table into README.md")
    parser.add_argument("--table", type=Path, help="only render the table of this suite.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, parse_rows(args.rows))
        return {}
    if args.table:
        saved: dict[str, Any] = json.loads(args.table.read_text())
        markdown = table(saved)
        args.table.with_name("suite.md").write_text(markdown)
        print(markdown)
        if args.readme:
            put_in_readme(markdown)
        return saved
    sizes = [parse_rows(r) for r in args.rows.split(",")]
    stages = [s.strip() for s in args.stages.split(",")]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stages {unknown}; choose from {list(STAGES)}")
    import duckdb

    memory = not (args.smoke or args.no_memory)
    if args.smoke:
        LOOP_BUDGET[0] = 20_000
    report: dict[str, Any] = {
        "date": str(dt.date.today()),
        "machine": machine(),
        "versions": {"polars": pl.__version__, "duckdb": duckdb.__version__},
        "repeat": args.repeat,
        "sizes": {str(rows): run_size(rows, stages, args.repeat, memory) for rows in sizes},
        "targets": fixed_targets(args.smoke),
    }
    markdown = table(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "suite.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "suite.md").write_text(markdown)
    print(markdown)
    if args.readme:
        put_in_readme(markdown)
    return report


if __name__ == "__main__":
    main()
