"""Benchmark: flowlens.synth throughput and peak memory, streaming to Parquet.

    python benchmarks/bench_synth.py --rows 10M,100M [--no-ids]

Each size runs in a fresh process and writes to a temporary directory that is
removed afterwards. Peak memory is the largest sum of resident memory over that
process and its worker processes, sampled every 20 ms. Reports rows/s and
peak memory as JSON under benchmarks/results/ and as a markdown table. The
baseline in the same process is the bare cost of the random draws the generator
cannot avoid (numpy Philox, four uniforms per row), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child_pid in (task / "children").read_text().split():
                total += _tree_rss_bytes(int(child_pid))
    except (FileNotFoundError, ProcessLookupError):
        pass  # a worker that just exited
    return total


class TreePeak:
    """Largest resident memory of this process tree while the block runs."""

    def __enter__(self) -> TreePeak:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child(n_rows: int, ids: bool) -> None:
    from flowlens.synth import SynthConfig, generate_to_parquet

    with tempfile.TemporaryDirectory(prefix="flowlens-bench-synth-") as out, TreePeak() as memory:
        started = time.perf_counter()
        result = generate_to_parquet(out, n_rows, seed=0, config=SynthConfig(ids=ids))
        seconds = time.perf_counter() - started
    draws_started = time.perf_counter()
    rng = np.random.Generator(np.random.Philox(key=0))
    for first in range(0, n_rows, 1_000_000):
        rng.random((min(1_000_000, n_rows - first), 4))
    draws = time.perf_counter() - draws_started
    print(
        json.dumps(
            {
                "rows": n_rows,
                "ids": ids,
                "seconds": seconds,
                "rows_per_s": n_rows / seconds,
                "peak_rss_gb": memory.peak / 1e9,
                "bytes": result.n_bytes,
                "random_draws_seconds": draws,
                "ratio_to_draws": seconds / draws,
            }
        )
    )


def parse_rows(text: str) -> int:
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text.rstrip("kKmM")) * factor)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="10M")
    parser.add_argument("--no-ids", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, ids=not args.no_ids)
        return
    runs = []
    for size in args.rows.split(","):
        cmd = [sys.executable, __file__, "--child", str(parse_rows(size))]
        if args.no_ids:
            cmd.append("--no-ids")
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)  # noqa: S603
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    import polars as pl

    result = {
        "date": str(date.today()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "polars": pl.__version__,
        "numpy": np.__version__,
        "runs": runs,
    }
    tag = "no_ids" if args.no_ids else "ids"
    out = HERE / "results" / f"synth_{tag}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        "| rows | ids | seconds | rows/s | peak RSS, all processes (GB) | Parquet (MB) | x bare random draws |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| {r['rows']:,} | {r['ids']} | {r['seconds']:.1f} | {r['rows_per_s']:,.0f} | "
            f"{r['peak_rss_gb']:.2f} | {r['bytes'] / 1e6:,.0f} | {r['ratio_to_draws']:.1f} |"
        )
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
