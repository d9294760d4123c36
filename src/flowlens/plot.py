"""Charts of flowlens results, as matplotlib figures (extra ``plot``: ``pip install 'flowlens[plot]'``).

Every function returns a :class:`matplotlib.figure.Figure`. ``fig.savefig("chart.png")``
(or ``.svg``, ``.pdf``) writes it offline, and a notebook (Jupyter, JupyterLab, VS
Code) shows it as a PNG when it is a cell's last value, with no ``%matplotlib
inline`` and no pyplot. Pass ``ax=`` to draw into an axes of your own (a panel of
:func:`subplots` or of ``plt.subplots()``): the function then returns that axes'
figure.

How a figure displays (the choice, and why). A figure made with
``matplotlib.figure.Figure()`` is outside pyplot: no global state, no GUI backend,
never shown twice. But IPython draws such an object only when a formatter knows
its type, and the inline backend registers one only when it is loaded (by
``%matplotlib inline``, or when pyplot first makes a figure), so a notebook that
never used pyplot printed ``<Figure size 700x410 with 1 Axes>``. Making
the figures with pyplot instead would register each in pyplot's global list: the
inline backend shows every open pyplot figure at the end of the cell, and the
returned value a second time, unless each is closed, and a script would keep them
all in memory. So the figures here are of a small subclass of ``Figure``, made
without pyplot, whose ``_repr_png_`` renders it with Agg (the method IPython's
display formatters call on any object): one PNG per figure, whatever the backend.
PNG only, no SVG as well: a notebook then stores one image per chart (and GitHub
shows it), and the PNG carries no matplotlib version, so re-executing a notebook
with the same drawing gives the same bytes. It is still a ``Figure``:
``isinstance``, ``savefig``, ``axes`` and pickling work as for any figure.

matplotlib was chosen over altair because it renders PNG and SVG with no browser
or JavaScript runtime, which is what a laptop without network and a CI machine
have.

Examples
--------
>>> import flowlens as fl
>>> from flowlens import plot
>>> panel = fl.corridor_panel(fl.load_flows(fl.load_sample("flows")), freq="year")
>>> fig = plot.top_corridors(fl.CorridorGraph.from_panel(panel), n=5)
>>> [t.get_text() for t in fig.axes[0].get_yticklabels()][-1]  # the top bar
'USA → MEX'
>>> fig._repr_png_()[:4]  # what a notebook shows
b'\x89PNG'
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import checked_table, country_codes, input_errors
from flowlens.errors import FlowlensError, MissingColumnError, ParameterError
from flowlens.freq import as_date
from flowlens.graph import CorridorGraph
from flowlens.surge import SurgeResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from flowlens.informal import InformalEstimate

__all__ = [
    "corridor_network",
    "event_response",
    "fan_chart",
    "subplots",
    "surge_timeline",
    "top_corridors",
]

_BLUE, _GREY, _RED, _ORANGE = "#1f5a96", "#8a8a8a", "#c0392b", "#d68910"


@input_errors("top_corridors")
def top_corridors(
    flows: Any, n: int = 15, *, value: str | None = None, ax: Axes | None = None
) -> Figure:
    """The ``n`` largest corridors as horizontal bars, largest on top.

    Parameters
    ----------
    flows
        A :class:`~flowlens.CorridorGraph`, or a panel of any table kind
        (``origin``, ``destination`` and ``value``; periods and flow types are
        summed).
    n
        How many corridors (a positive whole number).
    value
        The column to rank and draw: None (the default) is the graph's value
        column, or ``amount_usd`` for a panel.
    ax
        An axes to draw into (one panel of :func:`subplots`); None makes a figure.

    Returns
    -------
    Figure
        The chart's figure (``ax``'s figure when ``ax`` is given).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.plot import top_corridors
    >>> panel = pl.DataFrame({"origin": ["USA", "GBR"], "destination": ["MEX", "PAK"],
    ...                       "amount_usd": [3e9, 1e9]})
    >>> len(top_corridors(panel).axes[0].patches)
    2
    """
    _positive(n, "n")
    if isinstance(flows, CorridorGraph):
        edges, column = flows.edges, value or flows.value
    else:
        edges, column = from_any(flows, what="top_corridors' flows").eager(), value or fs.AMOUNT_USD
    MissingColumnError.require(edges.columns, fs.ORIGIN, fs.DESTINATION, column)
    checked_table(edges, what="top_corridors' flows", keys=[fs.ORIGIN, fs.DESTINATION])
    checked_table(edges, what="top_corridors' flows", values=[column])
    top = (
        edges.group_by(pl.col(fs.ORIGIN).cast(pl.String), pl.col(fs.DESTINATION).cast(pl.String))
        .agg(pl.col(column).sum())
        .sort(column, fs.ORIGIN, fs.DESTINATION, descending=[True, False, False])
        .head(n)
        .reverse()
    )
    fig, ax = _canvas(ax, width=7.0, height=0.9 + 0.32 * max(top.height, 1))
    labels = [f"{o} → {d}" for o, d in zip(top[fs.ORIGIN], top[fs.DESTINATION], strict=True)]
    ax.barh(labels, top[column].to_list(), color=_BLUE)
    ax.set_xlabel(_money_label(column))
    ax.set_title(f"Largest {top.height} corridors")
    _money_axis(ax, "x")
    return fig


@input_errors("surge_timeline")
def surge_timeline(
    result: SurgeResult,
    *,
    series: Mapping[str, str] | None = None,
    events: Sequence[dt.date | str] | Any = None,
    ax: Axes | None = None,
) -> Figure:
    """One series' observed values, its baseline band, the flagged periods and events.

    The band holds the values whose score stays within the threshold, in the
    series' own units (USD): ``baseline ± threshold * scale`` for a method that
    scores the difference from the baseline (``rolling``), and
    ``baseline * exp(± threshold * scale)`` for one that scores the log ratio
    (``forecast``, ``seasonal``, ``calendar``: their ``scale`` is in log points).
    A method of your own (:class:`~flowlens.surge.SurgeMethod`) is matched to
    either form from its scores; when neither reproduces them, no band is drawn
    and the legend says so. A period above the band is flagged (unless it starts
    a level shift, drawn as a square).

    Parameters
    ----------
    result
        What :func:`~flowlens.detect_surges` returned.
    series
        Which series, by its key values (``{"destination": "MEX"}``); may be left
        out when the result holds one series.
    events
        Dates to mark (a crisis, a closure: dates or ISO text), or a table of
        any kind with ``date`` and an optional ``label``.
    ax
        An axes to draw into (one panel of :func:`subplots`); None makes a figure.

    Returns
    -------
    Figure
        The chart's figure (``ax``'s figure when ``ax`` is given).

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.plot import surge_timeline
    >>> result = fl.detect_surges(fl.load_sample("mexico_monthly"), by=["destination", "flow_type"])
    >>> fig = surge_timeline(result, events=["2020-03-01"])
    >>> fig.axes[0].get_title()
    'MEX, remittance: forecast method, threshold 3'
    """
    scored = _scored_of(result)
    keys = [
        c
        for c in scored.columns
        if c != "kind"  # surge or level_shift: a score column, not a key
        and (
            scored.schema[c] in (pl.String, pl.Categorical) or isinstance(scored.schema[c], pl.Enum)
        )
    ]
    rows = scored
    for column, value in _series_keys(series).items():
        if column not in keys:
            msg = f"series: {column!r} is not a key of this result; its keys are {keys}"
            raise ParameterError(msg)
        rows = rows.filter(pl.col(column).cast(pl.String) == value)
    distinct = rows.select(keys).unique() if keys else pl.DataFrame()
    if rows.is_empty():
        msg = f"no series matches {dict(series or {})}; keys are {keys}"
        raise ParameterError(msg)
    if distinct.height > 1:
        example = distinct.row(0, named=True)
        msg = (
            f"{distinct.height} series match {dict(series or {})}; pick one with "
            f"series={ {k: str(v) for k, v in example.items()} }"
        )
        raise ParameterError(msg)
    rows = rows.sort("period")
    value = fs.AMOUNT_USD if fs.AMOUNT_USD in rows.columns else _value_of(rows)
    fig, ax = _canvas(ax, width=9.0, height=3.8)
    period = rows["period"].to_list()
    _draw_band(ax, rows, result.method, result.threshold, value)
    # one period has no line to draw: a marker shows it
    marker = "o" if rows.height == 1 else None
    ax.plot(period, rows["baseline"].to_list(), color=_GREY, linewidth=1.0, label="baseline")
    ax.plot(
        period,
        rows[value].to_list(),
        color=_BLUE,
        linewidth=1.3,
        marker=marker,
        markersize=5,
        label="observed",
    )
    flagged = rows.filter(pl.col("flag"))
    ax.scatter(
        flagged["period"].to_list(),
        flagged[value].to_list(),
        color=_RED,
        zorder=3,
        s=22,
        label=f"surge ({flagged.height})",
    )
    _level_shifts(ax, rows, value)
    _draw_events(ax, events)
    name = ", ".join(str(v) for v in distinct.row(0)) if keys else "series"
    ax.set_title(f"{name}: {result.method} method, threshold {result.threshold:g}")
    ax.set_ylabel(_money_label(value))
    _money_axis(ax, "y")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


_LOG_SCORES = {"forecast": "log", "seasonal": "log", "calendar": "log", "rolling": "difference"}
"""How each built-in method scores (src/flowlens/surge): ``rolling`` divides the
difference from the median by a scaled MAD in USD; ``seasonal`` and ``calendar``
divide a year-over-year log change's distance from its median by a MAD of logs, and
``forecast`` a log forecast error by the scale of past log errors, with
``baseline = exp(forecast)``."""


def _draw_band(ax: Axes, rows: pl.DataFrame, method: str, t: float, value: str) -> None:
    """The band of values whose score stays within the threshold ``t``, in the series' units."""
    form = _band_form(method, rows, value)
    if form is None:  # an empty entry in the legend says why there is no band
        ax.plot([], [], " ", label="no band: scores are not in scales of the baseline")
        return
    band = _band(rows, t, log=form == "log")
    ax.fill_between(
        rows["period"].to_list(),
        band["lower"].to_list(),
        band["upper"].to_list(),
        color=_GREY,
        alpha=0.25,
        linewidth=0,
        label=f"baseline · exp(±{t:g} scales)" if form == "log" else f"baseline ± {t:g} scales",
    )


def _draw_events(ax: Axes, events: object) -> None:
    """A dashed line at each event's date, with its label (if any) along it."""
    for date, label in _events(events):
        ax.axvline(date, color=_ORANGE, linestyle="--", linewidth=1.0)  # type: ignore[arg-type]
        if label:
            ax.annotate(
                label,
                (date, 1.0),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=8,
                color=_ORANGE,
            )


def _band_form(method: str, rows: pl.DataFrame, value: str) -> str | None:
    """``log`` or ``difference``: how ``score`` relates value, baseline and scale.

    Built-in methods are known; a method of one's own is matched from its scores
    (the form that reproduces them to 1e-6 on most scored periods), else None.
    """
    if method in _LOG_SCORES:
        return _LOG_SCORES[method]
    v, b, s = pl.col(value), pl.col("baseline"), pl.col("scale")
    scored = rows.filter(
        pl.col("score").is_finite() & b.is_finite() & (s > 0) & v.is_finite()
    ).select(
        difference=((v - b) / s - pl.col("score")).abs() <= 1e-6 * (1 + pl.col("score").abs()),
        log=((v.log() - b.log()) / s - pl.col("score")).abs() <= 1e-6 * (1 + pl.col("score").abs()),
    )
    if scored.is_empty():
        return None
    agree = scored.select(pl.all().fill_null(value=False).mean()).row(0, named=True)
    best = max(agree, key=lambda form: agree[form])
    return best if agree[best] > 0.5 else None


def _band(rows: pl.DataFrame, threshold: float, *, log: bool) -> pl.DataFrame:
    """The band a value must leave to be flagged: baseline x exp(+-t scale) for a score of logs."""
    half = pl.col("scale") * threshold
    if log:
        lower, upper = pl.col("baseline") * (-half).exp(), pl.col("baseline") * half.exp()
    else:
        lower, upper = pl.col("baseline") - half, pl.col("baseline") + half
    return rows.select(  # NaN where there is no baseline yet: matplotlib leaves a gap
        lower=lower.fill_null(float("nan")), upper=upper.fill_null(float("nan"))
    )


def _level_shifts(ax: Any, rows: pl.DataFrame, value: str) -> None:
    """Mark the periods of a lasting step (``kind`` level_shift): they are not surges."""
    steps = rows.filter(pl.col("kind") == "level_shift") if "kind" in rows.columns else rows.clear()
    if steps.height:
        ax.scatter(
            steps["period"].to_list(),
            steps[value].to_list(),
            color=_ORANGE,
            marker="s",
            zorder=3,
            s=18,
            label=f"level shift ({steps.height})",
        )


@input_errors("event_response")
def event_response(
    study: Any, *, value: str = "cumulative_excess_usd", n: int = 8, ax: Axes | None = None
) -> Figure:
    """Response curves after an event, one line per diaspora (the ``n`` largest responses).

    Parameters
    ----------
    study
        What :func:`~flowlens.event_study` returned (``origin``, ``k`` and
        ``value``), any table kind.
    value
        ``cumulative_excess_usd`` (default) or ``excess_usd``.
    n
        How many diasporas (a positive whole number).
    ax
        An axes to draw into (one panel of :func:`subplots`); None makes a figure.

    Returns
    -------
    Figure
        The chart's figure (``ax``'s figure when ``ax`` is given).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.plot import event_response
    >>> study = pl.DataFrame({"origin": ["USA"] * 3, "k": [0, 1, 2],
    ...                       "cumulative_excess_usd": [1e6, 3e6, 4e6]})
    >>> event_response(study).axes[0].get_legend_handles_labels()[1]
    ['USA']
    """
    _positive(n, "n")
    study = from_any(study, what="event_response's study").eager()
    MissingColumnError.require(study.columns, fs.ORIGIN, "k", value)
    totals = study.group_by(fs.ORIGIN).agg(pl.col(value).abs().max().alias("_size"))
    largest = totals.sort("_size", descending=True).head(n)[fs.ORIGIN]
    fig, ax = _canvas(ax, width=7.5, height=4.0)
    for origin in largest.to_list():
        curve = (
            study.filter(pl.col(fs.ORIGIN) == origin)
            .group_by("k")
            .agg(pl.col(value).sum())
            .sort("k")
        )
        ax.plot(
            curve["k"].to_list(),
            curve[value].to_list(),
            marker="o",
            markersize=3,
            label=str(origin),
        )
    ax.axhline(0, color=_GREY, linewidth=0.8)
    ax.set_xlabel("periods after the event")
    ax.set_ylabel(_money_label(value))
    ax.set_title("Response by diaspora (country of origin)")
    _money_axis(ax, "y")
    ax.legend(fontsize=8, frameon=False, ncols=2)
    return fig


@input_errors("fan_chart")
def fan_chart(
    estimate: InformalEstimate,
    *,
    scenario: str | None = None,
    quantity: str = "informal",
    ax: Axes | None = None,
) -> Figure:
    """A scenario's estimate over time: the 5-95% band, the median, and the recorded flow.

    The recorded flow (the panel's formal amount, summed over corridors) is drawn
    beside the ``formal`` and ``total`` quantities, which it is comparable with
    (a dashed grey line). An estimate of one period (a yearly matrix) is drawn as
    an interval: the median as a point, the 5-95% range as a bar, the recorded
    flow as a grey diamond, over the period's label.

    Parameters
    ----------
    estimate
        What :func:`flowlens.informal.estimate_informal` returned.
    scenario
        Which scenario (default: the only one, or the first).
    quantity
        ``informal``, ``formal``, ``lost`` or ``total``: a column family
        ``<quantity>_p5``, ``_p50``, ``_p95`` of the estimate.
    ax
        An axes to draw into (one panel of :func:`subplots`); None makes a figure.

    Returns
    -------
    Figure
        The chart's figure (``ax``'s figure when ``ax`` is given).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal
    >>> from flowlens.plot import fan_chart
    >>> months = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 6, 1), "1mo", eager=True)
    >>> panel = pl.DataFrame({"period": months, "origin": "USA", "destination": "SOM",
    ...                       "amount_usd": 1e7})
    >>> costs = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "cost_pct": [7.0]})
    >>> estimate = estimate_informal(panel, DeRiskingScenario("closure", start="2024-03-01"),
    ...                              baseline=baseline_from_costs(panel, costs), draws=200)
    >>> fan_chart(estimate).axes[0].get_title()
    'informal flows: closure (draws: 200)'
    >>> fan_chart(estimate, quantity="total").axes[0].get_legend_handles_labels()[1]
    ['5-95%', 'median', 'recorded formal']
    """
    table = estimate.by_scenario
    names = table["scenario"].unique(maintain_order=True).to_list()
    chosen = scenario if scenario is not None else names[0]
    if chosen not in names:
        msg = f"scenario {chosen!r} is not in this estimate; it has {names}"
        raise ParameterError(msg)
    columns = [f"{quantity}_p5", f"{quantity}_p50", f"{quantity}_p95"]
    if not set(columns) <= set(table.columns):
        choices = sorted({c.rsplit("_p", 1)[0] for c in table.columns if c.endswith("_p50")})
        msg = f"quantity {quantity!r} is not in this estimate; choose one of {choices}"
        raise ParameterError(msg)
    rows = table.filter(pl.col("scenario") == chosen).sort("period")
    if quantity in {"formal", "total"} and "recorded_formal_usd" in estimate.corridors.columns:
        recorded = (
            estimate.corridors.filter(pl.col("scenario") == chosen)
            .group_by("period")
            .agg(pl.col("recorded_formal_usd").sum())
        )
        rows = rows.join(recorded, on="period", how="left")
    fig, ax = _canvas(ax, width=8.0 if rows.height > 1 else 4.5, height=3.8)
    if rows.height == 1:  # a band over one period has no width: an interval bar
        _interval(ax, rows, columns, _period_label(rows["period"][0], estimate.spec.freq))
    else:
        _fan(ax, rows, columns)
    ax.set_title(f"{quantity} flows: {chosen} (draws: {estimate.draws})")
    ax.set_ylabel("USD")
    _money_axis(ax, "y")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return fig


def _fan(ax: Axes, rows: pl.DataFrame, columns: list[str]) -> None:
    period = rows["period"].to_list()
    ax.fill_between(
        period,
        rows[columns[0]].to_list(),
        rows[columns[2]].to_list(),
        color=_BLUE,
        alpha=0.2,
        linewidth=0,
        label="5-95%",
    )
    ax.plot(period, rows[columns[1]].to_list(), color=_BLUE, linewidth=1.5, label="median")
    if "recorded_formal_usd" in rows.columns:
        ax.plot(
            period,
            rows["recorded_formal_usd"].to_list(),
            color=_GREY,
            linewidth=1.0,
            linestyle="--",
            label="recorded formal",
        )


def _interval(ax: Axes, rows: pl.DataFrame, columns: list[str], label: str) -> None:
    """One period: the median as a point, 5-95% as an error bar, at x = 0 labelled by the period."""
    low, mid, high = (float(rows[c][0]) for c in columns)
    ax.errorbar(
        [0.0],
        [mid],
        yerr=[[mid - low], [high - mid]],
        fmt="o",
        color=_BLUE,
        ecolor=_BLUE,
        elinewidth=6,
        capsize=0,
        markersize=8,
        markeredgecolor="white",
        label="median, 5-95%",
    )
    if "recorded_formal_usd" in rows.columns:
        ax.scatter(
            [0.25],
            [float(rows["recorded_formal_usd"][0])],
            marker="D",
            color=_GREY,
            s=36,
            zorder=3,
            label="recorded formal",
        )
    ax.set_xlim(-1.0, 1.0)
    ax.set_xticks([0.0], [label])


def _period_label(period: dt.date, freq: str) -> str:
    """A period as people write it: 2017, 2017 Q1, 2017-01, else the ISO date."""
    if freq.endswith("y"):
        return f"{period.year}"
    if freq.endswith("q"):
        return f"{period.year} Q{(period.month - 1) // 3 + 1}"
    if freq.endswith("mo"):
        return f"{period:%Y-%m}"
    return period.isoformat()


@input_errors("corridor_network")
def corridor_network(
    graph: CorridorGraph, *, n: int = 30, seed: int = 0, ax: Axes | None = None
) -> Figure:
    """The ``n`` largest corridors as a network: arrows from sender to receiver, width by volume.

    Widths follow the graph's value column (:attr:`CorridorGraph.value`).

    Parameters
    ----------
    graph
        A :class:`~flowlens.CorridorGraph`.
    n
        How many corridors (a positive whole number).
    seed
        The seed of the spring layout (a whole number >= 0): the same seed, the
        same picture.
    ax
        An axes to draw into (one panel of :func:`subplots`); None makes a figure.

    Returns
    -------
    Figure
        The chart's figure (``ax``'s figure when ``ax`` is given).

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> from flowlens.plot import corridor_network
    >>> panel = pl.DataFrame({"origin": ["USA", "USA", "GBR"], "destination": ["MEX", "IND", "IND"],
    ...                       "amount_usd": [6e10, 2e10, 5e9]})
    >>> corridor_network(fl.CorridorGraph.from_panel(panel)).axes[0].get_title()
    'Largest 3 corridors'
    """
    import networkx as nx

    _positive(n, "n")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        msg = f"seed must be a whole number >= 0, got {seed!r}"
        raise ParameterError(msg)
    top = graph.edges.sort(graph.value, descending=True, maintain_order=True).head(n)
    network = nx.DiGraph()
    for origin, destination, amount in top.select(
        fs.ORIGIN, fs.DESTINATION, graph.value
    ).iter_rows():
        network.add_edge(str(origin), str(destination), weight=float(amount))
    fig, ax = _canvas(ax, width=8.0, height=6.5)
    if network.number_of_edges():
        positions = nx.spring_layout(network, seed=seed, weight=None)
        largest = max(d["weight"] for _, _, d in network.edges(data=True))
        widths = [0.5 + 5.0 * d["weight"] / largest for _, _, d in network.edges(data=True)]
        senders = {str(o) for o in top[fs.ORIGIN]}
        colours = [_ORANGE if node in senders else _BLUE for node in network.nodes]
        nx.draw_networkx_nodes(
            network, positions, ax=ax, node_color=colours, node_size=380, alpha=0.9
        )
        nx.draw_networkx_labels(network, positions, ax=ax, font_size=7, font_color="white")
        nx.draw_networkx_edges(
            network,
            positions,
            ax=ax,
            width=widths,
            edge_color=_GREY,
            arrows=True,
            arrowsize=10,
            connectionstyle="arc3,rad=0.08",
        )
    ax.set_title(f"Largest {top.height} corridors")
    ax.set_axis_off()
    return fig


# --- helpers ------------------------------------------------------------------------------


@functools.cache
def _chart_figure() -> type[Figure]:
    """The figure class of every chart: a matplotlib Figure that a notebook shows as a PNG.

    Made on first use, so that ``import flowlens.plot`` needs no matplotlib (the
    error then names the extra to install); one class per process (cached).
    """
    try:
        from matplotlib.figure import Figure as MatplotlibFigure
    except ImportError as exc:
        msg = "flowlens.plot needs matplotlib: pip install 'flowlens[plot]'"
        raise FlowlensError(msg) from exc

    class _ChartFigure(MatplotlibFigure):
        """A Figure outside pyplot whose ``_repr_png_`` lets IPython display it."""

        def __repr__(self) -> str:  # the text beside the image: matplotlib's, as a Figure
            return super().__repr__().replace(type(self).__name__, "Figure", 1)

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            # no "Software" entry: the bytes do not change with the matplotlib version
            self.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
            return buffer.getvalue()

    _ChartFigure.__module__ = __name__
    _ChartFigure.__qualname__ = "_ChartFigure"  # pickle finds it via the module's __getattr__
    return _ChartFigure


def __getattr__(name: str) -> Any:
    if name == "_ChartFigure":  # a pickled chart is loaded by this name
        return _chart_figure()
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None, **kwargs: Any
) -> tuple[Figure, Any]:
    """A figure of ``nrows`` x ``ncols`` axes for several charts, shown by a notebook.

    Like ``matplotlib.pyplot.subplots``, without pyplot: the figure is the kind
    every chart here returns (a notebook shows it once, as a PNG, when it is a
    cell's last value), with the constrained layout. Draw into it with each
    function's ``ax=``.

    Parameters
    ----------
    nrows, ncols
        The grid (positive whole numbers).
    figsize
        Width and height in inches; default 6.5 x 4 per axes.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``sharex``,
        ``sharey``, ``squeeze``, ``width_ratios``...).

    Returns
    -------
    (Figure, axes)
        The figure, and its axes as ``Figure.subplots`` returns them (one Axes,
        or an array of them).

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens import plot
    >>> panel = fl.corridor_panel(fl.load_flows(fl.load_sample("flows")), freq="year")
    >>> graph = fl.CorridorGraph.from_panel(panel)
    >>> fig, (left, right) = plot.subplots(1, 2, figsize=(12, 4.5))
    >>> plot.top_corridors(graph, n=8, ax=left) is fig
    True
    >>> plot.corridor_network(graph, n=12, ax=right) is fig
    True
    >>> [a.get_title() for a in fig.axes]
    ['Largest 8 corridors', 'Largest 12 corridors']
    """
    _positive(nrows, "nrows")
    _positive(ncols, "ncols")
    size = figsize if figsize is not None else (6.5 * ncols, 4.0 * nrows)
    fig = _chart_figure()(figsize=size, layout="constrained")
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _canvas(ax: object, *, width: float, height: float) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax`` and its (root) figure, or a new chart figure.

    A new figure is outside pyplot (no global state, no GUI backend, never shown
    twice) and shows itself in a notebook (see the module's docstring).
    """
    figure_class = _chart_figure()
    from matplotlib.axes import Axes as MatplotlibAxes
    from matplotlib.figure import Figure as MatplotlibFigure

    if ax is None:
        fig = figure_class(figsize=(width, height), layout="constrained")
        axes = fig.add_subplot()
    elif isinstance(ax, MatplotlibAxes):
        axes, parent = ax, ax.figure
        while not isinstance(parent, MatplotlibFigure):  # a SubFigure: up to the root figure
            parent = parent.figure
        fig = parent
    else:
        msg = (
            f"ax must be a matplotlib Axes (one of plot.subplots() or plt.subplots()), "
            f"got {type(ax).__name__}; leave it out for a new figure"
        )
        raise ParameterError(msg)
    axes.spines[["top", "right"]].set_visible(False)
    return fig, axes


def _money_axis(ax: Axes, which: str) -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(_money_tick)  # a module function, so a chart pickles
    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(formatter)


def _money_tick(value: float, _position: object) -> str:
    return _short_money(value)


def _short_money(value: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.3g}{suffix}"
    return f"{value:,.3g}"


def _money_label(column: str) -> str:
    return column.replace("_usd", "").replace("_", " ") + (" (USD)" if "usd" in column else "")


def _value_of(rows: pl.DataFrame) -> str:
    from flowlens.surge._common import _value_column

    return _value_column(rows)


def _events(events: Any) -> list[tuple[dt.date, str]]:
    if events is None:
        return []
    if isinstance(events, Sequence) and not isinstance(events, str):
        dates: list[object] = list(events)
        labels = [""] * len(dates)
    else:
        table = from_any(events, what="events").eager()
        MissingColumnError.require(table.columns, "date")
        labels = (
            table["label"].cast(pl.String).fill_null("").to_list()
            if "label" in table.columns
            else [""] * table.height
        )
        dates = table["date"].to_list()
    return [(as_date(d, "events: date"), label) for d, label in zip(dates, labels, strict=True)]


def _scored_of(result: object) -> pl.DataFrame:
    if not isinstance(result, SurgeResult):
        msg = f"surge_timeline takes the SurgeResult of detect_surges, got {type(result).__name__}"
        raise ParameterError(msg)
    return result.scored


def _series_keys(series: Mapping[str, str] | None) -> dict[str, str]:
    """The series selection, with country keys normalised like the data ("Mexico" -> "MEX")."""
    if series is None:
        return {}
    if not isinstance(series, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in series.items()
    ):
        msg = (
            f"series must map key columns to values, e.g. {{'destination': 'MEX'}}; got {series!r}"
        )
        raise ParameterError(msg)
    return {
        k: country_codes(v, f"series[{k!r}]")[0] if k in (fs.ORIGIN, fs.DESTINATION) else v
        for k, v in series.items()
    }


def _positive(n: object, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        msg = f"{what} must be a positive whole number, got {n!r}"
        raise ParameterError(msg)
