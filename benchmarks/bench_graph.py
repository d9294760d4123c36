"""Benchmark: every CorridorGraph measure on a dense synthetic panel (about 40,000 corridors).

    python benchmarks/bench_graph.py [--countries 201] [--periods 12]

The baseline in the same process is a naive pure-Python computation of the
source concentration (HHI) with dictionaries, the kind of loop flowlens replaces.
Prints a markdown table and writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import flowlens as fl

HERE = Path(__file__).resolve().parent


def make_panel(n_countries: int, n_periods: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    codes = [c for c in fl.reference.country_codes() if len(c) == 3][:n_countries]
    origin, destination = np.meshgrid(np.arange(n_countries), np.arange(n_countries), indexing="ij")
    keep = origin != destination
    origin, destination = origin[keep], destination[keep]
    n = origin.size
    periods = [dt.date(2020 + m // 12, m % 12 + 1, 1) for m in range(n_periods)]
    amount = rng.lognormal(10, 2.5, (n_periods, n))
    return pl.DataFrame(
        {
            "period": np.repeat(np.array(periods, dtype="datetime64[D]"), n),
            "origin": np.tile(np.array(codes)[origin], n_periods),
            "destination": np.tile(np.array(codes)[destination], n_periods),
            "flow_type": "remittance",
            "amount_usd": amount.ravel(),
            "fee_usd": (amount * rng.uniform(0.02, 0.12, (n_periods, n))).ravel(),
        }
    ).with_columns(pl.col("period").cast(pl.Date))


def naive_hhi(panel: pl.DataFrame) -> dict[str, float]:
    inflow: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for origin, destination, amount in panel.select(
        "origin", "destination", "amount_usd"
    ).iter_rows():
        inflow[destination][origin] += amount
    result = {}
    for destination, sources in inflow.items():
        total = sum(sources.values())
        result[destination] = sum((v / total) ** 2 for v in sources.values())
    return result


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--countries", type=int, default=201)
    parser.add_argument("--periods", type=int, default=12)
    args = parser.parse_args()
    panel = make_panel(args.countries, args.periods)
    graph = fl.CorridorGraph.from_panel(panel)
    largest = graph.strength().sort("out_usd", descending=True)["country"].head(2).to_list()
    steps: dict[str, Callable[[], Any]] = {
        "from_panel": lambda: fl.CorridorGraph.from_panel(panel),
        "top_corridors": lambda: graph.top_corridors(20),
        "strength": graph.strength,
        "inflow_shares": graph.inflow_shares,
        "concentration": graph.concentration,
        "exposure": lambda: graph.exposure(origins=largest),
        "cost": graph.cost,
        "centrality": graph.centrality,
        "corridor_changes": lambda: fl.corridor_changes(panel),
        "to_networkx": graph.to_networkx,
    }
    times = {name: timed(fn) for name, fn in steps.items()}
    naive = timed(lambda: naive_hhi(panel), repeat=1)
    result = {
        "date": str(dt.date.today()),
        "cpus": os.cpu_count(),
        "corridors": graph.edges.height,
        "panel_rows": panel.height,
        "seconds": times,
        "all_measures_seconds": sum(v for k, v in times.items() if k != "to_networkx"),
        "naive_python_hhi_seconds": naive,
        "concentration_speedup_vs_naive": naive / times["concentration"],
    }
    out = HERE / "results" / "graph.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{graph.edges.height:,} corridors, {panel.height:,} panel rows")
    print("| measure | seconds |")
    print("|---|---|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.3f} |")
    measures = sum(v for k, v in times.items() if k != "to_networkx")
    print(f"| all measures (to_networkx is an export) | {measures:.3f} |")
    print(
        f"concentration: {naive / times['concentration']:.0f}x faster than a naive Python loop ({naive:.2f} s)"
    )


if __name__ == "__main__":
    main()
