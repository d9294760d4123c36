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
# # A crisis brief: what diaspora money to expect, from whom, through which channels
#
# `crisis_brief(country, date)` assembles flowlens' official tables, the corridor
# graph, surge detection, costs, de-risking and informal estimates into one brief of
# five sections, with the source of every number (docs/brief.md). It runs offline on
# the data bundled with the package. Three worked briefs: Haiti after the earthquake
# of 12 January 2010 and Nepal after the earthquake of 25 April 2015 (bundled data
# only), and Mexico in March 2020 with Banco de Mexico's monthly series passed in, so
# that the observed surge stands beside the prior.

# %%
from pathlib import Path

from flowlens.brief import crisis_brief

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "data" / "samples").is_dir())
BANXICO = ROOT / "data" / "samples" / "real" / "banxico_mexico_remittances_monthly_1995_2026.csv"

# %% [markdown]
# ## Haiti, January 2010
#
# The brief shows itself: five sections of tables and charts. The expected response
# is a prior (documented responses to comparable disasters, scaled by each
# corridor's size), not a forecast of record.

# %%
haiti = crisis_brief("HTI", "2010-01-12")
print(haiti.headline)
haiti

# %% [markdown]
# Every number has a row in the provenance table: its source table, vintage and how
# it was computed.

# %%
haiti.provenance.select("section", "number", "value", "vintage", "how").head(12)

# %% [markdown]
# ## Nepal, April 2015
#
# The senders come from the 2016 matrix; the range of each share is how far the other
# editions (2017, 2021) put it. Qatar's share halves in the 2021 edition.

# %%
nepal = crisis_brief("NPL", "2015-04-25", charts=False)
print(nepal.headline)
nepal.senders.head(8).select("origin", "share", "share_low", "share_high")

# %% [markdown]
# What moves the numbers most: the tornado table.

# %%
nepal.tornado.select("assumption", "low", "high", "at_low", "at_high")

# %% [markdown]
# ## Mexico, March 2020, with Banco de Mexico's monthly series
#
# With recorded data the brief adds what the surge detector sees since the date:
# March 2020 scores 3.7 against the forecast baseline, the only flagged month.

# %%
mexico = crisis_brief("MEX", "2020-03-11", monthly=BANXICO)
print(mexico.headline)
print(*mexico.warnings, sep="\n")  # the pandemic is not a natural hazard: the prior may not apply
mexico.observed

# %%
dict(mexico.figures)["observed"]

# %% [markdown]
# ## Somalia: no column in the 2017 matrix
#
# The brief says so and falls back to the nearest edition that has one.

# %%
somalia = crisis_brief("SOM", "2017-03-01", charts=False)
for note in somalia.notes:
    print("-", note)
somalia.senders.head(5).select("origin", "share", "method")

# %% [markdown]
# ## What the data cannot say, said plainly
#
# Syria, February 2023: KNOMAD's table ends in 2022 and records nothing for Syria after
# 2010. The brief is built, but it says the date is out of sample and the baseline is
# thirteen years old; North Korea has no recorded inflow at all, so its amounts are
# unknown, not zero.

# %%
syria = crisis_brief("SYR", "2023-02-06", charts=False)
print(syria.headline)
print(*syria.warnings, sep="\n")

# %%
north_korea = crisis_brief("PRK", "2015-06-01", charts=False)
print(north_korea.headline)

# %% [markdown]
# ## One file to share
#
# `to_html` writes one self-contained page (inline SVG, no script, nothing fetched);
# `to_markdown` gives the tables as text.

# %%
page = haiti.to_html()
print(f"{len(page):,} characters, {page.count('<svg')} charts, {page.count('<table')} tables")
print(mexico.to_markdown()[:600])
