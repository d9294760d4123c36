"""Benchmark: load_flows + corridor_panel against DuckDB on the same Parquet file.

    python benchmarks/bench_panel.py --rows 10000000 [--keys enum|string] [--repeat 2]

Generates (and caches under benchmarks/_data/) a synthetic transaction table in
random row order, then runs, in this one process:

- flowlens: ``load_flows(path)`` (validation, country/currency mapping, USD
  conversion, rejects and summary) + ``corridor_panel`` by (month, origin,
  destination, flow_type), with and without the exact median;
- DuckDB: the same job in SQL over the same file: the same validity filter, the
  same FX conversion (join on the same daily rate grid), the same group-by;
- DuckDB and polars on the bare aggregate (no validation), as in DESIGN.md.

Each query's time is the best of ``--repeat`` runs in this process. Peak memory
is measured apart, each query once in a fresh child process: the child's peak
resident set (``ru_maxrss``) minus its resident set after imports, so that one
engine's cached buffers never hide in another's number. Prints a markdown table
and writes JSON under benchmarks/results/. Ratios, never timed asserts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import flowlens as fl
from flowlens.normalise import daily_fx_grid

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"

ORIGINS = {
    "USA": "USD",
    "SAU": "SAR",
    "ARE": "AED",
    "GBR": "GBP",
    "DEU": "EUR",
    "FRA": "EUR",
    "ESP": "EUR",
    "ITA": "EUR",
    "CAN": "CAD",
    "AUS": "AUD",
    "JPN": "JPY",
    "CHE": "CHF",
    "QAT": "QAR",
    "KOR": "KRW",
    "MYS": "MYR",
    "SWE": "SEK",
    "NOR": "NOK",
    "OMN": "OMR",
}


def _rss_bytes() -> int:
    with Path("/proc/self/statm").open() as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    # VmHWM belongs to this process image; ru_maxrss would carry the forking parent's peak
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def generate(n_rows: int, keys: str, seed: int = 42) -> Path:
    """Synthetic transfers, random order; cached by (rows, keys, seed)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"flows_{n_rows}_{keys}_{seed}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    codes = [c for c in fl.reference.country_codes() if len(c) == 3][:200]
    origins = list(ORIGINS)
    n_corridors = 3000
    corridor_origin = rng.choice(len(origins), n_corridors)
    corridor_dest = rng.choice(len(codes), n_corridors)
    weights = 1.0 / np.arange(1, n_corridors + 1) ** 1.1  # Zipf-like: a few corridors dominate
    corridor = rng.choice(n_corridors, n_rows, p=weights / weights.sum())
    origin = np.array(origins)[corridor_origin[corridor]]
    destination = np.array(codes)[corridor_dest[corridor]]
    currency = np.array([ORIGINS[o] for o in origins])[corridor_origin[corridor]]
    days = rng.integers(0, 3653, n_rows)
    frame = pl.DataFrame(
        {
            "date": pl.Series(
                days + (date(2015, 1, 1) - date(1970, 1, 1)).days, dtype=pl.Int32
            ).cast(pl.Date),
            "origin": origin,
            "destination": destination,
            "flow_type": rng.choice(
                ["remittance", "philanthropy", "trade_investment"], n_rows, p=[0.9, 0.08, 0.02]
            ),
            "channel": rng.choice(
                ["bank", "mto", "mobile_money", "post", "informal", "cash_carry"], n_rows
            ),
            "amount": rng.lognormal(5.5, 0.9, n_rows).round(2),
            "currency": currency,
        }
    )
    if keys == "enum":
        frame = frame.with_columns(
            pl.col("origin", "destination").cast(fl.schema.COUNTRY_ENUM),
            pl.col("flow_type").cast(fl.schema.FLOW_TYPE_ENUM),
            pl.col("channel").cast(fl.schema.CHANNEL_ENUM),
            pl.col("currency").cast(fl.schema.CURRENCY_ENUM),
        )
    frame.write_parquet(path, row_group_size=1_000_000)
    return path


def flowlens_job(path: Path, stats: tuple[str, ...]) -> pl.DataFrame:
    report = fl.load_flows(path)
    panel = fl.corridor_panel(report, freq="1mo", stats=stats)
    result, report = report.collect(panel)  # panel, rejects and summary in one run
    assert report.n_rows_in == path_rows(path)
    return result


def path_rows(path: Path) -> int:
    return int(pl.scan_parquet(path).select(pl.len()).collect().item())


def duckdb_job(con: Any, path: Path, median: bool) -> pl.DataFrame:
    extra = ", median(amount * r.usd_per_unit) AS amount_usd_median" if median else ""
    sql = f"""
        SELECT date_trunc('month', f.date) AS period, f.origin, f.destination, f.flow_type,
               sum(f.amount * r.usd_per_unit) AS amount_usd, count(*) AS n_transfers{extra}
        FROM read_parquet('{path}') f
        JOIN fx r ON r.date = f.date AND r.currency = CAST(f.currency AS VARCHAR)
        WHERE f.amount > 0 AND isfinite(f.amount) AND f.origin <> f.destination
        GROUP BY ALL
    """
    result: pl.DataFrame = con.sql(sql).pl()
    return result


def bare_duckdb(con: Any, path: Path, median: bool) -> pl.DataFrame:
    extra = ", median(amount) AS med" if median else ""
    sql = f"""
        SELECT date_trunc('month', date) AS period, origin, destination, flow_type,
               sum(amount) AS s, count(*) AS n, avg(amount) AS m{extra}
        FROM read_parquet('{path}') GROUP BY ALL
    """
    result: pl.DataFrame = con.sql(sql).pl()
    return result


def bare_polars(path: Path, median: bool) -> pl.DataFrame:
    aggs = [pl.col("amount").sum(), pl.len(), pl.col("amount").mean().alias("m")]
    if median:
        aggs.append(pl.col("amount").median().alias("med"))
    result: pl.DataFrame = (
        pl.scan_parquet(path)
        .group_by(pl.col("date").dt.truncate("1mo"), "origin", "destination", "flow_type")
        .agg(aggs)
        .collect(engine="streaming")
    )
    return result


def timed(fn: Callable[[], pl.DataFrame], repeat: int) -> dict[str, Any]:
    best = float("inf")
    rows = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        rows = out.height
        del out
    return {"seconds": best, "result_rows": rows}


def queries(path: Path, con: Any) -> dict[str, Callable[[], pl.DataFrame]]:
    return {
        "flowlens_no_median": lambda: flowlens_job(path, ("sum", "count")),
        "duckdb_no_median": lambda: duckdb_job(con, path, median=False),
        "bare_polars_no_median": lambda: bare_polars(path, median=False),
        "bare_duckdb_no_median": lambda: bare_duckdb(con, path, median=False),
        "flowlens_median": lambda: flowlens_job(path, ("sum", "count", "median")),
        "duckdb_median": lambda: duckdb_job(con, path, median=True),
        "bare_polars_median": lambda: bare_polars(path, median=True),
        "bare_duckdb_median": lambda: bare_duckdb(con, path, median=True),
    }


def connect() -> Any:
    import duckdb

    con = duckdb.connect()
    grid = daily_fx_grid().select("date", pl.col("currency").cast(pl.String), "usd_per_unit")
    con.register("fx_arrow", grid.to_arrow())
    con.execute("CREATE TABLE fx AS SELECT * FROM fx_arrow")
    return con


def child_peak(path: Path, name: str) -> float:
    """Run one query in a fresh process; its peak RSS increase over the post-import baseline, GB."""
    done = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, __file__, "--child", name, "--path", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_increase_gb"])


def run_child(path: Path, name: str) -> None:
    con = connect()
    fn = queries(path, con)[name]
    gc.collect()
    baseline = _rss_bytes()
    fn()
    peak = _peak_rss_bytes()
    print(json.dumps({"query": name, "peak_increase_gb": (peak - baseline) / 1e9}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keys", choices=["enum", "string"], default="enum")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run_child(Path(args.path), args.child)
        return
    import duckdb

    path = generate(args.rows, args.keys)
    con = connect()
    runs: dict[str, dict[str, Any]] = {}
    for name, fn in queries(path, con).items():
        runs[name] = timed(fn, args.repeat)
    for name, run in runs.items():
        run["peak_rss_increase_gb"] = child_peak(path, name)

    ratios = {
        tag: {
            "time_vs_duckdb": runs[f"flowlens_{tag}"]["seconds"] / runs[f"duckdb_{tag}"]["seconds"],
            "memory_vs_duckdb": runs[f"flowlens_{tag}"]["peak_rss_increase_gb"]
            / max(runs[f"duckdb_{tag}"]["peak_rss_increase_gb"], 1e-9),
        }
        for tag in ("no_median", "median")
    }
    result = {
        "date": str(date.today()),
        "rows": args.rows,
        "keys": args.keys,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": {
            "polars": pl.__version__,
            "duckdb": duckdb.__version__,
            "flowlens": fl.__version__,
        },
        "runs": runs,
        "ratios": ratios,
    }
    out = HERE / "results" / f"panel_{args.rows}_{args.keys}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"rows={args.rows:,} keys={args.keys} cpus={os.cpu_count()} polars {pl.__version__} duckdb {duckdb.__version__}"
    )
    print("| query | seconds | rows/s | peak RSS increase (GB) |")
    print("|---|---|---|---|")
    for name, run in runs.items():
        print(
            f"| {name} | {run['seconds']:.2f} | {args.rows / run['seconds']:,.0f} | {run['peak_rss_increase_gb']:.2f} |"
        )
    for tag, r in ratios.items():
        print(
            f"flowlens/DuckDB {tag}: time {r['time_vs_duckdb']:.2f}x, memory {r['memory_vs_duckdb']:.2f}x"
        )
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
