"""Benchmark: validation and the corridor panel on local polars, Spark local and Dask.

    python benchmarks/bench_engines.py --rows 10000000 [--repeat 1]

Generates (and caches under benchmarks/_data/) synthetic clean flows with
flowlens.synth (USA -> MEX and the other large corridors skewed as in the World
Bank's bilateral estimates), then, in this one process, two jobs three ways on
the same Parquet files:

- ``panel``: the corridor panel of clean flows (month x corridor x flow type:
  sum, count, exact median, distinct senders);
- ``validate``: raw rows (codes as text, a ``tx_id``, 0.1% bad amounts, 0.02%
  unknown currencies, 0.05% repeated ids) through ``load_flows``, the rejects
  written as Parquet, and the panel of the clean rows.

Spark and Dask exist to go beyond one machine: on one laptop their coordination
is overhead, and the ratios say how much. Every engine's panel and rejects are
checked equal to the polars ones. Writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
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


def raw_dataset(rows: int) -> Path:
    """The clean dataset as raw input: text codes, a tx_id, and known bad rows."""
    path = DATA / f"engines_raw_{rows}"
    if (path / "_SUCCESS").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    offset = 0
    for source in sorted(dataset(rows).glob("part-*.parquet")):
        frame = pl.scan_parquet(source)
        n = frame.select(pl.len()).collect().item()
        position = pl.int_range(offset, offset + n, dtype=pl.Int64)
        # every 2000th row repeats the id of the row 1000 before it (often in another file)
        tx_of = pl.when(position % 2000 == 1999).then(position - 1000).otherwise(position)
        raw = frame.select(
            "date",
            pl.col("origin", "destination", "flow_type", "channel").cast(pl.String),
            pl.when(position % 1000 == 7).then(-1.0).otherwise(pl.col("amount")).alias("amount"),
            pl.when(position % 5000 == 11)
            .then(pl.lit("XYZ"))
            .otherwise(pl.col("currency").cast(pl.String))
            .alias("currency"),
            "fee",
            "sender_id",
            pl.format("T{}", tx_of).alias("tx_id"),
        )
        raw.sink_parquet(path / source.name)
        offset += n
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

    raw_files = sorted(str(p) for p in raw_dataset(args.rows).glob("part-*.parquet"))
    scratch = Path(tempfile.mkdtemp(prefix="flowlens-bench-"))
    runs = iter(range(1_000_000))

    def validate_locally() -> pl.DataFrame:
        report = fl.load_flows(pl.scan_parquet(raw_files))
        panel, report = report.collect(fl.corridor_panel(report, stats=STATS))
        report.rejects.write_parquet(scratch / f"rejects-{next(runs)}.parquet")
        return panel

    def validated_panel(frame: Any) -> pl.DataFrame:
        report = fl.load_flows(frame)
        report = report.write_rejects(scratch / f"rejects-{next(runs)}")
        panel = fl.corridor_panel(report, stats=STATS)
        checked.append(report.summary)
        return panel

    checked: list[pl.DataFrame] = []
    jobs = {
        "panel": {"polars": local, "dask": on_dask, "spark": on_spark},
        "validate": {
            "polars": validate_locally,
            "dask": lambda: validated_panel(dd.read_parquet(raw_files)),
            "spark": lambda: validated_panel(spark.read.parquet(*raw_files)),
        },
    }
    results: dict[str, dict[str, Any]] = {}
    cells: dict[str, int] = {}
    for job, runners in jobs.items():
        results[job] = {}
        seconds, reference = best_of(args.repeat, runners["polars"])
        cells[job] = reference.height
        results[job]["polars"] = {"seconds": round(seconds, 2)}
        for name in ("dask", "spark"):
            seconds, panel = best_of(args.repeat, runners[name])
            assert_frame_equal(panel, reference, check_exact=False, rel_tol=1e-9, abs_tol=1e-6)
            results[job][name] = {"seconds": round(seconds, 2)}
        base = results[job]["polars"]["seconds"]
        for entry in results[job].values():
            entry["ratio_to_polars"] = round(entry["seconds"] / base, 1)
    spark.stop()
    summaries = [s.to_dicts() for s in checked]
    assert all(s == summaries[0] for s in summaries), "engines' reject counts differ"
    print(json.dumps(results))
    # Spark orders the files by size, not by name, so a reject's row (its position in
    # the engine's order) differs; the rejected rows and reasons do not (the repeated
    # ids repeat a row of the same file)
    by_content = ["tx_id", "rule", "reason"]
    local_rejects = pl.read_parquet(next(scratch.glob("rejects-*.parquet"))).drop("row")
    for written in scratch.glob("rejects-*/"):
        engine_rejects = pl.read_parquet(written / "*.parquet").drop("row")
        assert_frame_equal(engine_rejects.sort(by_content), local_rejects.sort(by_content))
    shutil.rmtree(scratch)
    report = {
        "rows": args.rows,
        "panel_rows": cells,
        "stats": list(STATS),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": {
            "polars": pl.__version__,
            "dask": dask.__version__,
            "pyspark": spark.version,
        },
        "jobs": results,
        "rejects": summaries[0],
        "equal_to_polars": True,
    }
    out = HERE / "results" / f"engines_{args.rows}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("| job | engine | seconds | x polars |\n|---|---|---|---|")
    for job, entries in results.items():
        for name, entry in entries.items():
            print(f"| {job} | {name} | {entry['seconds']} | {entry['ratio_to_polars']} |")


if __name__ == "__main__":
    main()
