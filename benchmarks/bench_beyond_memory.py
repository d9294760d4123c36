"""Benchmark: the corridor panel over more rows than one would hold in memory, on one machine.

    python benchmarks/bench_beyond_memory.py --rows 300M [--spill-dir DIR]

Generates (and caches under benchmarks/_data/) synthetic flows with flowlens.synth
(no text ids: the panel does not read them), then builds the monthly corridor
panel from the Parquet files, with and without the exact median, each in a fresh
process whose peak resident memory (VmHWM, the whole process: interpreter,
libraries and data) is read at the end. The target is a peak of at most 6 GB on
a 24 GB machine. The panel is checked against the generator's row count and
total. Writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

import flowlens as fl

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SEED = 5
TARGET_GB = 6.0


def rows_of(text: str) -> int:
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def dataset(rows: int) -> Path:
    path = DATA / f"beyond_{rows}_{SEED}"
    if not (path / "_SUCCESS").exists():
        config = fl.synth.SynthConfig(ids=False)
        fl.synth.generate_to_parquet(path, rows, seed=SEED, config=config, chunk_rows=2_000_000)
        (path / "_SUCCESS").write_text("ok")
    return path


def peak_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(path: Path, median: bool, spill_dir: str | None) -> None:
    stats = ("sum", "count", "median") if median else ("sum", "count")
    started = time.perf_counter()
    panel = fl.corridor_panel(
        pl.scan_parquet(path / "part-*.parquet"), stats=stats, spill_dir=spill_dir
    ).collect(engine="streaming")
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_gb": peak_gb(),
                "cells": panel.height,
                "n_transfers": int(panel["n_transfers"].sum()),
                "amount_usd": float(panel["amount_usd"].sum()),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="300M")
    parser.add_argument("--spill-dir", default=None)
    parser.add_argument("--child", choices=["median", "no_median"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.path), args.child == "median", args.spill_dir)
        return
    rows = rows_of(args.rows)
    started = time.perf_counter()
    path = dataset(rows)
    generated_s = time.perf_counter() - started
    on_disk = sum(f.stat().st_size for f in path.glob("part-*.parquet")) / 1e9
    expected = (
        pl.scan_parquet(path / "part-*.parquet")
        .select(pl.len(), pl.col("amount_usd").sum())
        .collect(engine="streaming")
    )
    runs: dict[str, Any] = {}
    for kind in ("no_median", "median"):
        command = [sys.executable, __file__, "--child", kind, "--path", str(path)]
        if args.spill_dir:
            command += ["--spill-dir", args.spill_dir]
        done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        run = json.loads(done.stdout.strip().splitlines()[-1])
        run["rows_per_second"] = rows / run["seconds"]
        run["within_target"] = run["peak_gb"] <= TARGET_GB
        run["totals_agree"] = run["n_transfers"] == expected.item(0, 0) and abs(
            run["amount_usd"] - expected.item(0, 1)
        ) <= 1e-9 * abs(expected.item(0, 1))
        runs[kind] = run
        print(
            f"{kind}: {run['seconds']:.1f} s, {run['rows_per_second']:,.0f} rows/s, "
            f"peak {run['peak_gb']:.2f} GB, {run['cells']:,} cells, totals agree: {run['totals_agree']}"
        )
    report = {
        "date": str(dt.date.today()),
        "rows": rows,
        "parquet_gb": on_disk,
        "generated_seconds": generated_s,
        "cores": os.cpu_count(),
        "memory_gb": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30,
        "polars": pl.__version__,
        "target_peak_gb": TARGET_GB,
        "runs": runs,
    }
    out = HERE / "results" / f"beyond_memory_{rows}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
