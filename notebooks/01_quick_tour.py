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
# # flowlens in ten minutes
#
# From a messy extract of money transfers to a corridor panel, a corridor graph,
# crisis surges and an estimate of informal flows. Everything here runs on the
# data bundled with flowlens, offline. Charts need the `plot` extra
# (`pip install 'flowlens[plot]'`).

# %%
import flowlens as fl
from flowlens import plot

fl.readable_tables()  # amounts as 30,237,000,000, not 3.0237e10

# %% [markdown]
# ## 1. Validate: nothing is lost silently
#
# The bundled sample is 4,013 transfers as an operator might export them: country
# names and codes mixed, text amounts, a few broken rows. `load_flows` parses and
# checks every row; each row ends either in `clean` or in `rejects`, with a reason
# that names the column and the value.

# %%
raw = fl.load_sample("flows")
report = fl.load_flows(raw)
report

# %%
report.rejects.select("row", "rule", "reason")

# %%
assert report.n_clean + report.n_rejected == report.n_rows_in  # totals reconcile

# %% [markdown]
# ## 2. The corridor panel
#
# One row per period, sending country, receiving country and flow type: the
# US dollar total, the number of transfers, the exact median, and the fees as a
# share of the amount sent.

# %%
panel = fl.corridor_panel(report, freq="quarter", stats=("sum", "count", "median", "cost_ratio"))
panel.sort("amount_usd", descending=True).head(8)

# %% [markdown]
# ## 3. The corridor graph
#
# Who sends how much to whom: the largest corridors, and how concentrated each
# receiving country's sources are (a Herfindahl-Hirschman index: 1 means a single
# sending country).

# %%
graph = fl.CorridorGraph.from_panel(panel)
graph

# %%
plot.top_corridors(graph, n=10)

# %%
graph.concentration().sort("hhi", descending=True).head(5)

# %%
plot.corridor_network(graph, n=25)

# %% [markdown]
# ## 4. Crisis surges
#
# Diaspora money arrives en masse after a disaster. `detect_surges` scores each
# series against its own robust baseline (a median and a median absolute
# deviation), with seasonality taken out; a score above the threshold is a surge.
# Here: Banco de Mexico's monthly remittance inflows, 1995 to 2026.

# %%
mexico = fl.load_sample("mexico_monthly")
surges = fl.detect_surges(mexico, by=["destination"])
surges

# %%
plot.surge_timeline(surges, events=["2017-09-07", "2020-03-01"])

# %%
fl.surge_episodes(surges).select("start", "end", "observed_usd", "baseline_usd", "uplift")

# %% [markdown]
# ## 5. Informal flows when banks "de-risk" a corridor
#
# When banks close the accounts of money-transfer operators, diasporas keep
# sending through hawala or cash carried by hand. Nobody records that; flowlens
# estimates it with a Monte Carlo whose every default parameter is cited
# (see `docs/informal.md`). A scenario withdraws formal capacity from the
# corridors into one receiving country from a date on.

# %%
from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal

monthly = fl.corridor_panel(report, freq="month", by=(), stats=("sum", "cost_ratio"))
scenario = DeRiskingScenario("closure in Pakistan", destination="PAK", start="2024-03-15")
estimate = estimate_informal(monthly, scenario, baseline=baseline_from_costs(monthly), seed=1)
estimate

# %%
plot.fan_chart(estimate)

# %% [markdown]
# ## Where next
#
# - `02_crisis_surges.py`: surges on Banco de Mexico's data by country of origin.
# - `docs/`: one page per capability, with the sources of every default.
# - `fl.load_flows("big/*.parquet")`: the same on hundreds of millions of rows,
#   streamed; or on a Spark or Dask DataFrame.

# %%
print(
    f"{report.n_rows_in:,} transfers -> {panel.height} panel rows -> {graph.edges.height} corridors"
)
