"""Charts display and compose: a PNG for notebooks, ``ax=`` into a grid, something
visible for one period, and the surge band in the series' own units."""

from __future__ import annotations

import datetime as dt
import io
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

import flowlens as fl

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure
from matplotlib.image import imread

from flowlens import plot
from flowlens.errors import ParameterError
from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal
from flowlens.surge import Scores, SurgeMethod

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def graph() -> fl.CorridorGraph:
    panel = fl.corridor_panel(fl.load_flows(fl.load_sample("flows")), freq="year")
    return fl.CorridorGraph.from_panel(panel)


@pytest.fixture(scope="module")
def mexico() -> pl.DataFrame:
    return fl.read_banxico_monthly(fl.sample_path("mexico_monthly")).panel


@pytest.fixture(scope="module")
def surges(mexico: pl.DataFrame) -> fl.SurgeResult:
    return fl.detect_surges(mexico, by=["destination", "flow_type"])


def _estimate(periods: int, freq: str = "1y") -> Any:
    """A US -> Somalia closure over ``periods`` periods (one: a yearly matrix)."""
    dates = pl.date_range(dt.date(2017, 1, 1), dt.date(2057, 1, 1), freq, eager=True)
    panel = pl.DataFrame(
        {"period": dates[:periods], "origin": "USA", "destination": "SOM", "amount_usd": 2.0e8}
    )
    costs = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "cost_pct": [7.5]})
    scenario = DeRiskingScenario("closure", destination="SOM", start="2017-01-01")
    return estimate_informal(
        panel, scenario, baseline=baseline_from_costs(panel, costs), freq=freq, draws=200, seed=3
    )


def _study() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "origin": ["USA"] * 3 + ["CAN"] * 3,
            "k": [0, 1, 2] * 2,
            "cumulative_excess_usd": [1e6, 3e6, 4e6, 2e5, 4e5, 5e5],
        }
    )


CHARTS: dict[str, Callable[..., Figure]] = {
    "top_corridors": lambda g, s, ax: plot.top_corridors(g, n=6, ax=ax),
    "corridor_network": lambda g, s, ax: plot.corridor_network(g, n=8, ax=ax),
    "surge_timeline": lambda g, s, ax: plot.surge_timeline(s, ax=ax),
    "event_response": lambda g, s, ax: plot.event_response(_study(), ax=ax),
    "fan_chart": lambda g, s, ax: plot.fan_chart(_estimate(6, "1mo"), ax=ax),
}


def _artists(ax: Any) -> int:
    return len(ax.lines) + len(ax.patches) + len(ax.collections) + len(ax.texts)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_each_chart_draws_into_the_given_axes(
    name: str, graph: fl.CorridorGraph, surges: fl.SurgeResult
) -> None:
    fig, (left, right) = plot.subplots(1, 2)
    assert _artists(left) == _artists(right) == 0
    returned = CHARTS[name](graph, surges, right)
    assert returned is fig
    assert fig.axes == [left, right]  # no axes added, none replaced
    assert _artists(right) > 0
    assert _artists(left) == 0
    assert right.get_title()
    assert fig._repr_png_()[:8] == PNG  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_each_chart_makes_its_own_displayable_figure(
    name: str, graph: fl.CorridorGraph, surges: fl.SurgeResult
) -> None:
    fig = CHARTS[name](graph, surges, None)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    assert _artists(fig.axes[0]) > 0
    png = fig._repr_png_()  # type: ignore[attr-defined]
    assert png[:8] == PNG
    assert repr(fig).startswith("<Figure size ")  # the text a notebook keeps beside it
    pixels = imread(io.BytesIO(png))
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert float(pixels[..., :3].std()) > 0.02, "a blank image"


def test_ax_of_a_plain_matplotlib_figure_and_of_a_subfigure(graph: fl.CorridorGraph) -> None:
    """Any Axes works, including one of a SubFigure: the root figure comes back."""
    root = Figure()
    ax = root.add_subplot()
    assert plot.top_corridors(graph, n=3, ax=ax) is root
    nested = Figure()
    sub = np.asarray(nested.subfigures(1, 2)).ravel()[1]
    ax = sub.add_subplot()
    assert plot.top_corridors(graph, n=3, ax=ax) is nested
    assert len(ax.patches) == 3


def test_ax_that_is_not_an_axes_is_refused(graph: fl.CorridorGraph) -> None:
    fig, _ = plot.subplots()
    with pytest.raises(ParameterError, match=r"ax must be a matplotlib Axes.*got _ChartFigure"):
        plot.top_corridors(graph, ax=fig)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="nrows must be a positive whole number"):
        plot.subplots(0, 1)


def test_a_chart_is_outside_pyplot_and_renders_the_same_bytes_every_run(
    graph: fl.CorridorGraph,
) -> None:
    pyplot = pytest.importorskip("matplotlib.pyplot")
    before = pyplot.get_fignums()
    fig = plot.top_corridors(graph, n=4)
    assert pyplot.get_fignums() == before  # never shown a second time by a pyplot backend
    # a notebook re-executed draws a new figure: the same bytes
    first = fig._repr_png_()  # type: ignore[attr-defined]
    assert plot.top_corridors(graph, n=4)._repr_png_() == first  # type: ignore[attr-defined]
    assert b"Matplotlib version" not in first  # the same bytes whatever the version


def test_a_chart_pickles_and_still_displays(graph: fl.CorridorGraph) -> None:
    fig = plot.top_corridors(graph, n=4)
    again = pickle.loads(pickle.dumps(fig))  # noqa: S301 - our own bytes
    assert type(again) is type(fig)
    assert again._repr_png_()[:8] == PNG  # type: ignore[attr-defined]
    assert [t.get_text() for t in again.axes[0].get_yticklabels()] == [
        t.get_text() for t in fig.axes[0].get_yticklabels()
    ]


# --- one period -------------------------------------------------------------------------


def test_fan_chart_of_one_year_is_an_interval_bar() -> None:
    estimate = _estimate(1)
    row = estimate.by_scenario.row(0, named=True)
    fig = plot.fan_chart(estimate)
    ax = fig.axes[0]
    (bar,) = [c for c in ax.collections if len(c.get_segments()) == 1]  # type: ignore[attr-defined]
    (segment,) = bar.get_segments()  # type: ignore[attr-defined]
    assert sorted(segment[:, 1]) == pytest.approx([row["informal_p5"], row["informal_p95"]])
    (median,) = [line for line in ax.lines if line.get_marker() == "o"]
    assert median.get_ydata()[0] == pytest.approx(row["informal_p50"])  # type: ignore[index]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2017"]
    assert row["informal_p5"] < row["informal_p50"] < row["informal_p95"]
    # the image shows it: the bar's blue in the middle column of the plot area
    pixels = imread(io.BytesIO(fig._repr_png_()))  # type: ignore[attr-defined]
    blue = (abs(pixels[..., 0] - 0x1F / 255) < 0.08) & (abs(pixels[..., 2] - 0x96 / 255) < 0.08)
    assert blue.sum() > 200


def test_fan_chart_of_several_periods_keeps_its_band() -> None:
    ax = plot.fan_chart(_estimate(6, "1mo")).axes[0]
    assert [line.get_label() for line in ax.lines][:1] == ["median"]
    assert len(ax.lines[0].get_xdata()) == 6  # type: ignore[arg-type]


def test_surge_timeline_of_one_period_shows_a_point() -> None:
    panel = pl.DataFrame(
        {"period": [dt.date(2020, 1, 1)], "destination": ["MEX"], "amount_usd": [4.0e9]}
    )
    result = fl.detect_surges(panel, by=["destination"], method="rolling", freq="year")
    ax = plot.surge_timeline(result).axes[0]
    observed = next(line for line in ax.lines if line.get_label() == "observed")
    assert observed.get_marker() == "o"
    assert list(observed.get_ydata()) == [4.0e9]  # type: ignore[arg-type]


# --- the surge band, in the series' units -------------------------------------------------


@pytest.mark.parametrize(
    ("method", "form"),
    [("forecast", "log"), ("seasonal", "log"), ("calendar", "log"), ("rolling", "difference")],
)
def test_surge_band_is_in_dollars_around_the_baseline(
    mexico: pl.DataFrame, method: str, form: str
) -> None:
    """The band edges equal baseline*exp(+-t*scale) (log scores) or baseline +- t*scale, and a
    value leaves the band exactly when its score passes the threshold."""
    result = fl.detect_surges(mexico, by=["destination"], method=method)
    ax = plot.surge_timeline(result).axes[0]
    t = result.threshold
    rows = result.scored.sort("period").drop_nulls(["baseline", "scale"])
    baseline, scale = rows["baseline"].to_numpy(), rows["scale"].to_numpy()
    if form == "log":
        lower, upper = baseline * np.exp(-t * scale), baseline * np.exp(t * scale)
        assert ax.collections[0].get_label() == f"baseline · exp(±{t:g} scales)"
    else:
        lower, upper = baseline - t * scale, baseline + t * scale
        assert ax.collections[0].get_label() == f"baseline ± {t:g} scales"
    (path,) = ax.collections[0].get_paths()
    drawn = np.asarray(path.vertices)[:, 1]
    for edge in (lower, upper):  # every expected edge value is a vertex of the drawn band
        assert np.isclose(edge[:, None], drawn[None, :], rtol=1e-12, atol=0).any(axis=1).all()
    # in dollars: the band lies around the baseline, within a few tens of percent
    assert (lower < baseline).all() and (upper > baseline).all()
    assert np.median(upper / baseline) < 1.6
    assert np.median(upper / baseline) > 1.02
    # and it is the flag rule: above the band <=> score above the threshold
    scored = rows.filter(pl.col("score").is_not_nan())
    b, s = scored["baseline"].to_numpy(), scored["scale"].to_numpy()
    top = b * np.exp(t * s) if form == "log" else b + t * s
    value = scored["amount_usd"].to_numpy()
    score = scored["score"].to_numpy()
    clear = np.abs(score - t) > 1e-6
    assert ((value > top) == (score > t))[clear].all()


def _custom(form: str) -> SurgeMethod:
    """A method of one's own: the mean of the 3 periods before, a 10% scale (in USD or logs)."""

    def score(arrays: Any) -> Scores:
        v = arrays.values
        past = np.full_like(v, np.nan)
        past[:, 3:] = (v[:, :-3] + v[:, 1:-2] + v[:, 2:-1]) / 3
        if form == "log":
            scale = np.full_like(v, 0.1)
            return Scores(past, scale, (np.log(v) - np.log(past)) / scale, np.full_like(v, 3.0))
        if form == "difference":
            scale = 0.1 * past
            return Scores(past, scale, (v - past) / scale, np.full_like(v, 3.0))
        scale = 0.1 * past  # a score that is neither: a rank
        ranks = np.argsort(np.argsort(v, axis=1), axis=1).astype(np.float64)
        return Scores(past, scale, ranks, np.full_like(v, 3.0))

    return SurgeMethod(f"mine_{form}", score, default_window=3)


@pytest.mark.parametrize("form", ["log", "difference"])
def test_surge_band_of_a_custom_method_follows_its_scores(mexico: pl.DataFrame, form: str) -> None:
    result = fl.detect_surges(mexico, by=["destination"], method=_custom(form))
    ax = plot.surge_timeline(result).axes[0]
    t = result.threshold
    row = result.scored.drop_nulls(["baseline", "scale"]).row(-1, named=True)
    expected = (
        row["baseline"] * np.exp(t * row["scale"])
        if form == "log"
        else row["baseline"] + t * row["scale"]
    )
    (path,) = ax.collections[0].get_paths()
    assert np.isclose(np.asarray(path.vertices)[:, 1], expected, rtol=1e-9).any()


def test_surge_band_is_left_out_when_the_scores_fit_neither_form(mexico: pl.DataFrame) -> None:
    result = fl.detect_surges(mexico, by=["destination"], method=_custom("rank"))
    ax = plot.surge_timeline(result).axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert any(label.startswith("no band") for label in labels)
    assert not any("scales" in label and "no band" not in label for label in labels)
