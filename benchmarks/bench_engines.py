"""Benchmark: the corridor panel on local polars, Spark local[2] and Dask's local scheduler.

    python benchmarks/bench_engines.py --rows 10000000 [--repeat 1]

Generates (and caches under benchmarks/_data/) synthetic clean flows with
flowlens.synth (USA -> MEX and the other large corridors skewed as in the World
Bank's bilateral estimates), then, in this one process, the same panel (month x
corridor x flow type: sum, count, exact median, distinct senders) three ways on
the same Parquet files. Spark and Dask exist to go beyond one machine: on one
laptop their coordination is overhead, and the ratios say how much. Every engine's
panel is checked equal to the polars one. Writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.synth import generate_to_parquet

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
STATS = ("sum", "count", "median", "senders")


def dataset(rows: int) -> Path:
    path = DATA / f"engines_{rows}"
    if not (path / "_SUCCESS").exists():
        generate_to_parquet(path, rows, seed=7, chunk_rows=1_000_000)
        (path / "_SUCCESS").write_text("ok")
    return path


def best_of(repeat: int, run: Callable[[], pl.DataFrame]) -> tuple[float, pl.DataFrame]:
    times, result = [], pl.DataFrame()
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    path = dataset(args.rows)
    files = sorted(str(p) for p in path.glob("part-*.parquet"))

    def local() -> pl.DataFrame:
        return fl.corridor_panel(pl.scan_parquet(files), stats=STATS).collect()

    import dask
    import dask.dataframe as dd

    dask.config.set(scheduler="threads", num_workers=os.cpu_count())

    def on_dask() -> pl.DataFrame:
        return fl.corridor_panel(dd.read_parquet(files), stats=STATS)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{os.cpu_count()}]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "8g")
        .config("spark.sql.shuffle.partitions", str(4 * (os.cpu_count() or 1)))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    def on_spark() -> pl.DataFrame:
        return fl.corridor_panel(spark.read.parquet(*files), stats=STATS)

    results: dict[str, Any] = {}
    seconds, reference = best_of(args.repeat, local)
    results["polars"] = {"seconds": round(seconds, 2)}
    for name, run in (("dask", on_dask), ("spark", on_spark)):
        seconds, panel = best_of(args.repeat, run)
        assert_frame_equal(panel, reference, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
        results[name] = {"seconds": round(seconds, 2)}
    spark.stop()
    base = results["polars"]["seconds"]
    for entry in results.values():
        entry["ratio_to_polars"] = round(entry["seconds"] / base, 1)
    report = {
        "rows": args.rows,
        "panel_rows": reference.height,
        "stats": list(STATS),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": {
            "polars": pl.__version__,
            "dask": dask.__version__,
            "pyspark": spark.version,
        },
        "engines": results,
        "equal_to_polars": True,
    }
    out = HERE / "results" / f"engines_{args.rows}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("| engine | seconds | x polars |\n|---|---|---|")
    for name, entry in results.items():
        print(f"| {name} | {entry['seconds']} | {entry['ratio_to_polars']} |")


if __name__ == "__main__":
    main()
