# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Scale: millions of transfers on a laptop
#
# `flowlens.synth` writes synthetic transfers with known ground truth (the
# corridors skewed like the World Bank's estimates, seasons, crises, de-risking
# events) straight to Parquet. `load_flows` and `corridor_panel` then stream
# over the files: memory stays flat however many rows there are. Set `ROWS`
# higher to see it; the published benchmark runs 10M, 50M and 300M rows.

# %%
import tempfile
import time
from pathlib import Path

import polars as pl

import flowlens as fl

ROWS = 5_000_000
folder = Path(tempfile.mkdtemp(prefix="flowlens-scale-"))

fl.readable_tables()  # amounts as 30,237,000,000, not 3.0237e10

# %%
started = time.perf_counter()
synthetic = fl.synth.generate_to_parquet(folder, ROWS, seed=0)
print(f"generated {ROWS:,} rows in {time.perf_counter() - started:.1f} s")
synthetic

# %% [markdown]
# ## Validate and aggregate in one streaming run
#
# Nothing is read by `load_flows` on a path: the checks, the panel and the
# rejects are one plan, run by `report.collect`.

# %%
started = time.perf_counter()
report = fl.load_flows(folder / "part-*.parquet")
panel, report = report.collect(fl.corridor_panel(report, stats=("sum", "count", "median")))
seconds = time.perf_counter() - started
print(
    f"{ROWS:,} rows -> {panel.height:,} panel rows in {seconds:.1f} s ({ROWS / seconds:,.0f} rows/s)"
)
report

# %% [markdown]
# The generator knows the truth, so the panel can be checked against it: every
# transfer is counted once, and the totals match.

# %%
assert int(panel["n_transfers"].sum()) == report.n_clean == ROWS
truth_total = (
    pl.scan_parquet(folder / "part-*.parquet").select(pl.col("amount_usd").sum()).collect()
)
print(f"panel total / generated total: {panel['amount_usd'].sum() / truth_total.item():.12f}")

# %% [markdown]
# ## The benchmark table
#
# `python benchmarks/run.py --rows 10M,50M` times every stage against DuckDB
# and naive references on this kind of data; its latest table:

# %%
suite = next(
    (
        p / "benchmarks" / "results" / "suite.md"
        for p in (Path.cwd(), *Path.cwd().parents)
        if (p / "benchmarks" / "results" / "suite.md").exists()
    ),
    None,
)
print(suite.read_text() if suite else "run benchmarks/run.py to make the table")

# %%
import shutil

shutil.rmtree(folder)  # the synthetic files
