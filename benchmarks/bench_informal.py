"""Benchmark: the informal-flow Monte Carlo, 1,000 draws over 20,000 corridors x 12 months.

    python benchmarks/bench_informal.py [--corridors 20000] [--out PATH]

240M draw-cells. Times ``estimate_informal`` end to end (a scenario that withdraws
capacity from every corridor from mid-March, ramping over 30 days) with the
compiled kernel, after one warm-up call that compiles it; again with a cost per
row, so that no two cells share a profile (the kernel's worst case); and the numpy reference
path on a twentieth of the corridors (scaled up). Memory is the peak resident set
of the process. Writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

import numpy as np
import polars as pl

import flowlens as fl
from flowlens.informal import DeRiskingScenario, _estimate, baseline_from_costs, estimate_informal

HERE = Path(__file__).resolve().parent


def panel_of(n_corridors: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    codes = [c for c in fl.reference.country_codes() if len(c) == 3]
    pairs = [(o, d) for o in codes[:100] for d in codes[:201] if o != d][:n_corridors]
    months = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 12, 1), "1mo", eager=True)
    rng = np.random.default_rng(seed)
    panel = pl.DataFrame(
        {
            "period": np.tile(months.to_numpy(), len(pairs)),
            "origin": np.repeat([o for o, _ in pairs], months.len()),
            "destination": np.repeat([d for _, d in pairs], months.len()),
            "amount_usd": rng.lognormal(12, 2, len(pairs) * months.len()),
        }
    ).with_columns(pl.col("period").cast(pl.Date))
    costs = pl.DataFrame(
        {
            "origin": [o for o, _ in pairs],
            "destination": [d for _, d in pairs],
            "cost_pct": rng.uniform(2, 15, len(pairs)),
        }
    )
    return panel, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corridors", type=int, default=20_000, help="corridors x 12 months")
    parser.add_argument(
        "--out", type=Path, default=HERE / "results" / "informal.json", help="JSON written here"
    )
    args = parser.parse_args()
    panel, costs = panel_of(args.corridors)
    baseline = baseline_from_costs(panel, costs)
    scenario = DeRiskingScenario("all corridors", start="2024-03-15")
    estimate_informal(panel.head(1200), scenario, baseline=baseline, draws=50)  # compile
    started = time.perf_counter()
    result = estimate_informal(panel, scenario, baseline=baseline, draws=1000, seed=1)
    compiled_s = time.perf_counter() - started
    # the worst case for the kernel: a cost per row makes every cell its own profile
    distinct = panel.with_columns(
        cost_pct=pl.Series(np.random.default_rng(2).uniform(2, 15, panel.height))
    )
    started = time.perf_counter()
    estimate_informal(distinct, scenario, baseline=baseline, draws=1000, seed=1)
    distinct_s = time.perf_counter() - started
    small, small_costs = panel_of(max(args.corridors // 20, 1))
    small_baseline = baseline_from_costs(small, small_costs)
    original = _estimate._simulate

    def reference(*args: object, **kwargs: object) -> object:
        return original(*args, **{**kwargs, "compiled": False})  # type: ignore[arg-type]

    _estimate._simulate = reference  # type: ignore[assignment]
    started = time.perf_counter()
    estimate_informal(small, scenario, baseline=small_baseline, draws=1000, seed=1)
    numpy_s = (time.perf_counter() - started) * 20
    _estimate._simulate = original
    results = {
        "draw_cells": 1000 * panel.height,
        "compiled_s": compiled_s,
        "compiled_every_cell_distinct_s": distinct_s,
        "numpy_reference_s_scaled": numpy_s,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "informal_to_recorded_p50": result.summary["informal_to_recorded"].item(),
        "date": str(dt.date.today()),
    }
    out = args.out
    out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key}: {value if isinstance(value, str) else round(value, 3)}")


if __name__ == "__main__":
    main()
