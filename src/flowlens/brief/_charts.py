"""The charts of a crisis brief, as matplotlib figures (flowlens.plot's kind)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from flowlens.brief._response import Observed
    from flowlens.brief._sections import Senders

_BLUE, _ORANGE, _GREY = "#1f5a96", "#d68910", "#8a8a8a"


def _money(ax: Any, which: str) -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(_tick)
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(formatter)


def _tick(value: float, _position: object) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.3g}{suffix}"
    return f"{value:,.3g}"


def context_chart(table: pl.DataFrame, country: str, year: int) -> Any:
    """Recorded inflows (bars) against humanitarian funding (line), by year."""
    from flowlens.plot import subplots

    fig, ax = subplots(1, 1, figsize=(7.0, 3.4))
    rows = table.filter(
        pl.col("inflow_usd").is_not_null() | pl.col("total_funding_usd").is_not_null()
    )
    years = rows["year"].to_list()
    ax.bar(
        years,
        rows["inflow_usd"].fill_null(0).to_list(),
        color=_BLUE,
        label="remittance inflows (KNOMAD)",
    )
    ax.plot(
        years,
        rows["total_funding_usd"].to_list(),
        color=_ORANGE,
        marker="o",
        label="humanitarian funding (OCHA FTS)",
    )
    ax.axvline(year - 0.5, color=_GREY, linestyle="--", linewidth=1)
    ax.set_title(f"{country}: remittances and humanitarian funding (USD)")
    ax.spines[["top", "right"]].set_visible(False)
    _money(ax, "y")
    ax.legend(fontsize=8, frameon=False)
    return fig


def senders_chart(senders: Senders, n: int = 10) -> Any:
    """The largest corridors into the country (flowlens.plot.top_corridors)."""
    from flowlens.plot import top_corridors

    return top_corridors(senders.graph, n=n)


def response_chart(expected: pl.DataFrame, horizon: int, n: int = 10) -> Any:
    """Expected excess by sender: the central value and the low-high interval."""
    from flowlens.plot import subplots

    top = expected.head(n).reverse()
    fig, ax = subplots(1, 1, figsize=(7.0, 0.9 + 0.32 * max(top.height, 1)))
    labels = top["origin"].to_list()
    centre = top["excess_usd"].to_list()
    low = [c - lo for c, lo in zip(centre, top["excess_low_usd"].to_list(), strict=True)]
    high = [hi - c for c, hi in zip(centre, top["excess_high_usd"].to_list(), strict=True)]
    ax.errorbar(centre, labels, xerr=[low, high], fmt="o", color=_BLUE, ecolor=_GREY, capsize=3)
    ax.axvline(0, color=_GREY, linewidth=0.8)
    ax.set_title(f"Expected excess inflow over {horizon} months, by sender (prior)")
    ax.spines[["top", "right"]].set_visible(False)
    _money(ax, "x")
    return fig


def observed_chart(observed: Observed, country: str, date: Any) -> Any:
    """The recorded series with its forecast band and flags (flowlens.plot.surge_timeline)."""
    from flowlens.plot import surge_timeline

    return surge_timeline(observed.result, series={"destination": country}, events=[date])
