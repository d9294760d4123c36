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
# # When banks de-risk: the US-to-Somalia corridor, February 2015
#
# On 2015-02-06 the Merchants Bank of California closed the accounts of Somali
# money-transfer operators. It carried an estimated 60-80% of the flow from the
# United States to Somalia, about USD 215 million a year (Oxfam, 2013). Somali
# families did not stop receiving money: much of it moved to cash carried by hand
# and to informal channels that nobody records. How much?
#
# Sources (bundled in `data/samples/real/`, see `PROVENANCE.md`): the de-risking
# events table (with the sources of each date), the World Bank's Remittance
# Prices Worldwide for the cost of sending money, and the World Bank's 2017
# bilateral remittance matrix.

# %%
import datetime as dt
from pathlib import Path

import polars as pl

import flowlens as fl
from flowlens import plot
from flowlens.informal import (
    DeRiskingScenario,
    Triangular,
    baseline_from_costs,
    derisking_exposure,
    estimate_informal,
    read_derisking_events,
    sensitivity,
)

REAL = next(
    folder / "data" / "samples" / "real"
    for folder in (Path.cwd(), *Path.cwd().parents)
    if (folder / "data" / "samples" / "real").is_dir()
)

fl.readable_tables()  # amounts as 30,237,000,000, not 3.0237e10

# %% [markdown]
# ## The events
#
# The same bank announced a closure in 2014 and reversed it: a *placebo*, where a
# method that reads recorded data should find nothing.

# %%
events = read_derisking_events(REAL / "derisking_events.csv")
events.filter(pl.col("destination") == "SOM")

# %% [markdown]
# ## What it costs to send money, and the informal share it implies
#
# The cost of a formal transfer drives how much goes informal (Freund and
# Spatafora 2008). Remittance Prices Worldwide surveys US to Somalia from the
# second quarter of 2015.

# %%
annual = 215e6  # Oxfam (2013), cited in the events table
months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
panel = pl.DataFrame(
    {"period": months, "origin": "USA", "destination": "SOM", "amount_usd": annual / 12}
)
rpw = fl.read_rpw_corridors(REAL / "wb_rpw_corridors_2011_2020.csv").panel
us_somalia = rpw.filter(
    (pl.col("origin").cast(pl.String) == "USA")
    & (pl.col("destination").cast(pl.String) == "SOM")
    & (pl.col("period").dt.year() == 2015)
)
baseline = baseline_from_costs(panel, us_somalia)
baseline.select("origin", "destination", "cost_pct", "informal_ratio")

# %% [markdown]
# ## The closure as a scenario
#
# The withdrawn share of formal capacity is Triangular(0.6, 0.7, 0.8), from the
# bank's 60-80% share; every other parameter keeps its sourced default (see
# `docs/informal.md`). The Monte Carlo gives each month's formal, informal and
# lost (not sent) flow with a 90% interval.

# %%
closure = DeRiskingScenario(
    "Merchants Bank closure",
    origin="USA",
    destination="SOM",
    start="2015-02-06",
    withdrawn=Triangular(0.6, 0.7, 0.8),
)
estimate = estimate_informal(panel, closure, baseline=baseline, draws=2000, seed=1)
estimate

# %%
plot.fan_chart(estimate, quantity="informal")

# %%
plot.fan_chart(estimate, quantity="lost")

# %%
in_millions = [c for c in estimate.summary.columns if c.endswith(("_p5", "_p50", "_p95"))]
estimate.summary.select("scenario", *in_millions).with_columns(pl.col(in_millions) / 1e6)

# %% [markdown]
# Which assumption matters most? A tornado table moves one parameter at a time
# from its low to its high value.

# %%
sensitivity(panel, closure, baseline=baseline).select(
    "parameter", "low_value", "high_value", "swing_share"
)

# %% [markdown]
# ## Who else is exposed to US de-risking?
#
# The 2017 bilateral matrix as a corridor graph: for each receiving country, the
# share of its remittance inflow that comes from the United States, and the flow
# it would lose if US banks de-risked all its corridors (costs from Remittance
# Prices Worldwide, 2017). The matrix holds one period, which does not say how long
# a period is: its `freq` (one year) comes from the table that was read.
#
# One corridor has a negative average cost in 2017: Saudi Arabia -> Sudan (-11.4% in the
# fourth quarter), where RPW prices the exchange-rate margin against an official rate far
# below the market's. The cost model needs a positive cost, and flowlens refuses a
# negative one rather than guess, so that corridor is left out here and takes the
# default cost.

# %%
matrix = fl.read_wb_bilateral_matrix(REAL / "wb_bilateral_remittance_2017.xlsx")
costs_2017 = (
    rpw.filter(pl.col("period").dt.year() == 2017)
    .group_by("origin", "destination")
    .agg(pl.col("cost_pct").mean())
)
costs_2017.filter(pl.col("cost_pct") <= 0)
costs_2017 = costs_2017.filter(pl.col("cost_pct") > 0)
exposure = derisking_exposure(
    matrix.panel,
    "USA",
    baseline=baseline_from_costs(matrix.panel, costs_2017),
    draws=300,
    freq=matrix.freq,
)
exposure.sort("exposed_share", descending=True).select(
    "destination", "inflow_usd", "exposed_share", "lost_to_inflow_p50"
).head(10)

# %% [markdown]
# Mexico and Central America receive almost all their remittances from the
# United States, so a US-wide de-risking would cut a large share of their
# inflow. Somalia is not in the ranking at all: the World Bank's 2017 matrix has
# no estimate of its inflows. That is the gap this kind of analysis works in:
# the corridors most exposed to de-risking are often the least recorded, and the
# estimate above had to start from a published figure (Oxfam's) rather than from
# a statistical series.

# %%
in_matrix = matrix.panel.filter(pl.col("destination") == "SOM").height
print(f"Somalia in the 2017 bilateral matrix: {in_matrix} corridors")
print(f"receiving countries ranked: {exposure.height}")
