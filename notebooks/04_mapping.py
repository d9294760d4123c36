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
# # Mapping the world's remittance corridors (World Bank, 2017)
#
# The World Bank/KNOMAD bilateral remittance matrix estimates the flow between
# every pair of countries. As a corridor graph it answers: which corridors carry
# the most, how concentrated each country's sources are, and how the
# migrant-stock method behind such matrices compares with what a central bank
# records. Data: `data/samples/real/` (see `PROVENANCE.md`).

# %%
from pathlib import Path

import polars as pl

import flowlens as fl
from flowlens import plot

REAL = next(
    folder / "data" / "samples" / "real"
    for folder in (Path.cwd(), *Path.cwd().parents)
    if (folder / "data" / "samples" / "real").is_dir()
)

fl.readable_tables()  # amounts as 30,237,000,000, not 3.0237e10

# %%
matrix = fl.read_wb_bilateral_matrix(REAL / "wb_bilateral_remittance_2017.xlsx")
graph = fl.CorridorGraph.from_panel(matrix.panel)
graph

# %%
plot.top_corridors(graph, n=15)

# %%
plot.corridor_network(graph, n=40)

# %% [markdown]
# ## How concentrated are each country's sources?
#
# The Herfindahl-Hirschman index of a receiving country's inflow by sending
# country: 1 when one country sends everything. High concentration means one
# sending country's policy (a tax, a bank's de-risking) reaches most of the flow.

# %%
concentration = graph.concentration()
large = concentration.filter(pl.col("inflow_usd") > 1e9)
large.sort("hhi", descending=True).head(10)

# %%
large.sort("hhi").head(5)

# %% [markdown]
# ## Bilateral estimates against recorded data
#
# Bilateral matrices spread each country's total inflow over sending countries by
# where its migrants live, weighted by income (Ratha and Shaw 2007; the World
# Bank's matrices). `estimate_bilateral` does that from KNOMAD's 2017 inflows, the
# 2017 migrant stock and the bundled GNI per capita (WDI); Banco de Mexico records
# Mexico's inflows by sending country, so for Mexico the estimate can be checked,
# and `compare_bilateral` reads its table as published, with its "No Identificado"
# bucket declared.

# %%
inflows = fl.read_knomad_annual(REAL / "knomad_remittance_inflows_2000_2022_june2023.xlsx")
stock = fl.read_wb_migrant_stock(REAL / "wb_bilateral_migrant_stock_2017.xlsx")
totals_2017 = inflows.panel.filter(pl.col("period").dt.year() == 2017).select(
    "destination", "amount_usd"
)
estimate = fl.estimate_bilateral(totals_2017, stock.panel, year=2017)

quarterly = fl.read_banxico_quarterly_by_country(
    REAL / "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv"
)
recorded = quarterly.panel.filter(
    (pl.col("period").dt.year() == 2017) & (pl.col("destination").cast(pl.String) == "MEX")
)
check = fl.compare_bilateral(
    estimate.flows.filter(pl.col("destination") == "MEX"), recorded, year=2017
)
check.summary

# %%
check.corridors.sort("recorded_usd", descending=True, nulls_last=True).head(8)

# %% [markdown]
# The United States share is right (97% recorded): most Mexican migrants live there.
# The smaller corridors are where an allocation errs: it follows where migrants
# *live* and what they earn, while recorded flows also follow how they send.

# %%
usa = check.corridors.filter(pl.col("origin") == "USA")
print(f"USA -> MEX, estimate / recorded: {usa['ratio'].item():.2f}")

# %% [markdown]
# ## Remittances against humanitarian funding
#
# `fl.inflow_context(panel)` sets each country's inflows against the humanitarian
# funding OCHA's Financial Tracking Service recorded for it that year (bundled);
# remittances dwarf it in most country-years, but not after the largest disasters.

# %%
context = fl.inflow_context(inflows.panel)
context.filter(pl.col("ratio").is_not_null()).sort("ratio").head(10)
