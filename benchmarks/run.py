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
    # compile the kernel on a few rows (perhaps all of one month: say the frequency)
    estimate_informal(year.head(200), scenario, baseline=baseline, draws=20, freq="1mo")
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
    "surges_monthly": lambda files, rows: stage_surges(files, daily=False),
    "surges_daily": lambda files, rows: stage_surges(files, daily=True),
    "graph": lambda files, rows: stage_graph(files),
    "informal": lambda files, rows: stage_informal(files),
}


# --- timing and memory ----------------------------------------------------------------------


def best_of(repeat: int, job: Job) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = job()
        best = min(best, time.perf_counter() - started)
    return best, result


def _resident_bytes() -> int:
    with Path("/proc/self/statm").open() as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_peak_gb(stage: str, side: str, rows: int) -> float | None:
    """Peak memory of one side of one stage, run alone in a fresh process (Linux only)."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    done = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, __file__, "--child", f"{stage}:{side}", "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_gb"])


def run_child(what: str, rows: int) -> None:
    stage_name, side = what.split(":")
    stage = STAGES[stage_name](dataset(rows), rows)
    job = stage.flowlens if side == "flowlens" else stage.baseline
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak so far was the setup's
    before = _resident_bytes()
    job()
    print(json.dumps({"peak_gb": (_peak_bytes() - before) / 1e9}))


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
        entry: dict[str, Any] = {
            "work": stage.work,
            "unit": stage.unit,
            "seconds": ours_s,
            "per_second": stage.work / ours_s,
            "baseline": stage.baseline_name,
            "baseline_seconds": theirs_s,
            "time_ratio": ours_s / theirs_s,
            "results_agree": None if stage.agree is None else bool(stage.agree(ours, theirs)),
        }
        del ours, theirs
        if memory:
            entry["peak_gb"] = child_peak_gb(name, "flowlens", rows)
            scaled = stage.baseline_scale != 1.0
            entry["baseline_peak_gb"] = None if scaled else child_peak_gb(name, "baseline", rows)
            if entry["peak_gb"] is not None and entry["baseline_peak_gb"]:
                entry["memory_ratio"] = entry["peak_gb"] / entry["baseline_peak_gb"]
        results[name] = entry
        print(f"  {rows:,} rows, {name}: {ours_s:.2f} s ({entry['time_ratio']:.2f}x baseline)")
    return results


def table(report: dict[str, Any]) -> str:
    """The markdown that README.md and suite.md show."""
    machine = report["machine"]
    lines = [
        f"Run on {report['date']}: {machine['cores']} cores, {machine['memory_gb']:.0f} GB RAM, "
        f"{machine['platform']}; Python {machine['python']}, polars {report['versions']['polars']}, "
        f"DuckDB {report['versions']['duckdb']}. Best of {report['repeat']}; memory is the peak "
        "resident-set increase of each side run alone in a fresh process.",
        "",
        "| rows | stage | flowlens (s) | per second | baseline | baseline (s) | time ratio | "
        "memory (GB) | memory ratio | agree |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rows, stages in report["sizes"].items():
        for name, e in stages.items():
            peak, ratio = e.get("peak_gb"), e.get("memory_ratio")
            if peak is not None and (peak < 0.01 or (e.get("baseline_peak_gb") or 1) < 0.01):
                ratio = None  # a few MB is noise in a resident-set measure
            peak_text = "" if peak is None else ("< 0.01" if peak < 0.01 else f"{peak:.2f}")
            agree = {None: "", True: "yes", False: "**no**"}[e["results_agree"]]
            lines.append(
                f"| {int(rows):,} | {name} | {e['seconds']:.2f} | {e['per_second']:,.0f} {e['unit']} "
                f"| {e['baseline']} | {e['baseline_seconds']:.2f} | {e['time_ratio']:.2f}x "
                f"| {peak_text} "
                f"| {'' if ratio is None else f'{ratio:.2f}x'} | {agree} |"
            )
    lines += ["", "| target | size | seconds | at most | met |", "|---|---|---|---|---|"]
    for t in report["targets"]:
        lines.append(
            f"| {t['check']} | {t['size']} | {t['seconds']:.3f} | {t['target_s']} "
            f"| {({None: 'not at this size', True: 'yes', False: '**no**'})[t['met']]} |"
        )
    return "\n".join(lines) + "\n"


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
