"""What estimate_informal's intervals are for (predictive or conditional), and the pooled
channel shares of a formalisation scenario."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flowlens.errors import ParameterError
from flowlens.informal import (
    CostModel,
    DeRiskingScenario,
    Split,
    _estimate,
    baseline_from_costs,
    derisking_exposure,
    estimate_informal,
)
from flowlens.informal._estimate import SHARE_PRIOR_TRANSFERS, pooled_share
from flowlens.surge._baselines import SUM_CV

MONTHS = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
C = SUM_CV**2  # relative variance of a sum of one expected transfer, 1 + 0.8^2


def corridor(amount: float = 1000.0, n: int | None = 100) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"period": MONTHS, "origin": "USA", "destination": "SOM", "amount_usd": amount}
    )
    return frame if n is None else frame.with_columns(n_transfers=pl.lit(n))


def flat(panel: pl.DataFrame, ratio: float = 0.5) -> pl.DataFrame:
    costs = panel.select("origin", "destination").unique().with_columns(cost_pct=pl.lit(7.0))
    return baseline_from_costs(panel, costs, model=CostModel(ratio_at_reference=ratio, log_sd=0.0))


def log_width(row: dict[str, float], quantity: str) -> float:
    """The log-scale standard deviation a 5-95% interval implies (lognormal)."""
    return float(np.log(row[f"{quantity}_p95"] / row[f"{quantity}_p5"]) / (2 * 1.6449))


def test_predictive_interval_adds_a_fresh_months_noise() -> None:
    """100 formal transfers, R = 0.5 (50 informal ones): the recorded flow's own error
    (C / 100) and a fresh formal sum's (C / 100); informal: C / 100 and C / 50."""
    panel = corridor()
    result = estimate_informal(panel, None, baseline=flat(panel), draws=8000, seed=3)
    assert result.interval == "predictive"
    cell = result.corridors.row(0, named=True)
    assert log_width(cell, "formal") == pytest.approx(np.sqrt(2 * np.log1p(C / 100)), rel=0.05)
    informal = np.sqrt(np.log1p(C / 100) + np.log1p(C / 50))
    assert log_width(cell, "informal") == pytest.approx(informal, rel=0.05)
    assert cell["formal_mean"] == pytest.approx(1000, rel=0.01)  # mean one: no bias
    assert cell["informal_mean"] == pytest.approx(500, rel=0.01)
    conditional = estimate_informal(
        panel, None, baseline=flat(panel), draws=200, seed=3, interval="conditional"
    ).corridors
    assert (conditional["formal_p5"] == conditional["formal_p95"]).all()  # the recorded flow
    without_counts = corridor(n=None)
    plain = estimate_informal(without_counts, None, baseline=flat(without_counts), draws=50)
    assert (plain.corridors["formal_p5"] == plain.corridors["formal_p95"]).all()


def test_predictive_draws_add_up_in_every_draw() -> None:
    panel = corridor(n=30)
    closure = DeRiskingScenario("closure", start="2015-04-01", ramp_days=0)
    result = estimate_informal(
        panel, closure, baseline=flat(panel), draws=300, seed=1, keep_draws=True
    )
    assert result.samples is not None
    gap = result.samples.select(
        (pl.col("formal") + pl.col("informal") + pl.col("lost") - pl.col("total")).abs().max()
    ).item()
    assert gap < 1e-9
    with pytest.raises(ParameterError, match="interval must be one of"):
        estimate_informal(panel, closure, baseline=flat(panel), draws=10, interval="exact")


def channel_panel(n: bool) -> pl.DataFrame:
    """USA -> SOM: MTO 100 a month, hawala 30 a month, cash carried only in Jan, Apr,
    Jul and Oct (10 each); GBR -> SOM: MTO 100, hawala 20 and cash 20 every month."""
    rows = []
    for i, month in enumerate(MONTHS):
        rows += [
            ("USA", month, "mto", 100.0, 50),
            ("USA", month, "informal", 30.0, 15),
            ("USA", month, "cash_carry", 10.0 if i % 3 == 0 else 0.0, 5 if i % 3 == 0 else 0),
            ("GBR", month, "mto", 100.0, 50),
            ("GBR", month, "informal", 20.0, 10),
            ("GBR", month, "cash_carry", 20.0, 10),
        ]
    frame = pl.DataFrame(
        rows, schema=["origin", "period", "channel", "amount_usd", "n_transfers"], orient="row"
    ).with_columns(destination=pl.lit("SOM"))
    return frame if n else frame.drop("n_transfers")


def test_pooled_share_by_hand() -> None:
    """June's window (6 months either side) holds all of 2015: USA's cash share is 40 /
    400 = 0.1 in every month of it, though February records none. With counts it is
    shrunk to the country's share (280 / 880) with 20 transfers' weight: USA has 200
    informal transfers in the year, so (200 x 0.1 + 20 x 280 / 880) / 220."""
    panel = channel_panel(n=False)
    cells = _estimate._aggregate(
        panel,
        _estimate.checked_panel(panel, freq=None, value="amount_usd", what="t"),
        [("cash_carry",)],
        sampling_noise=True,
    ).sort("origin", "period")
    share, spread = pooled_share(cells, "_exposed0", "1mo")
    usa = (cells["origin"] == "USA").to_numpy()
    june = (cells["period"] == dt.date(2015, 6, 1)).to_numpy()
    assert share[usa & june][0] == pytest.approx(0.1)
    assert share[~usa & june][0] == pytest.approx(0.5)
    assert not spread.any()  # without counts the pooled share is taken as known
    counted = channel_panel(n=True)
    cells = _estimate._aggregate(
        counted,
        _estimate.checked_panel(counted, freq=None, value="amount_usd", what="t"),
        [("cash_carry",)],
        sampling_noise=True,
    ).sort("origin", "period")
    share, spread = pooled_share(cells, "_exposed0", "1mo")
    country = 280 / 880
    m = SHARE_PRIOR_TRANSFERS
    expected = (200 * 0.1 + m * country) / (200 + m)
    assert share[usa & june][0] == pytest.approx(expected)
    assert spread[usa & june][0] == pytest.approx(
        1 / np.sqrt(expected * (1 - expected) * (200 + m + 1))
    )
    # December's window is June-December: 2 cash months of 7, 20 of 230 dollars, 115
    # transfers; the country's 160 of 510
    december = (cells["period"] == dt.date(2015, 12, 1)).to_numpy()
    assert share[usa & december][0] == pytest.approx((115 * 20 / 230 + m * 160 / 510) / (115 + m))


def test_formalisation_moves_the_pooled_cash_share() -> None:
    """February records no cash on USA -> SOM, yet its window (January to August) holds
    30 of 270 informal dollars carried by hand: ending cash carry moves 1/9 of I0
    (R = 0.5: 5.56 of 50), all of it to formal channels here (a fixed split)."""
    panel = channel_panel(n=False)
    base = baseline_from_costs(
        panel.filter(pl.col("channel") == "mto"),
        pl.DataFrame({"origin": ["USA", "GBR"], "destination": "SOM", "cost_pct": 7.0}),
        model=CostModel(ratio_at_reference=0.5, log_sd=0.0),
    )
    scenario = DeRiskingScenario(
        "no cash",
        channels=("cash_carry",),
        start="2015-01-01",
        ramp_days=0,
        withdrawn=1.0,
        split=Split(informal=0.0, other_formal=1.0, concentration=None),
    )
    rows = estimate_informal(panel, scenario, baseline=base, draws=20).corridors
    february = rows.filter(origin="USA", period=dt.date(2015, 2, 1)).row(0, named=True)
    assert february["formal_p50"] == pytest.approx(100 + 50 / 9)
    assert february["informal_p50"] == pytest.approx(50 - 50 / 9)


@pytest.mark.parametrize("interval", ["predictive", "conditional"])
def test_compiled_equals_reference_with_pooled_shares(
    monkeypatch: pytest.MonkeyPatch, interval: str
) -> None:
    panel = channel_panel(n=True)
    base = baseline_from_costs(
        panel.filter(pl.col("channel") == "mto"),
        pl.DataFrame({"origin": ["USA", "GBR"], "destination": "SOM", "cost_pct": 7.0}),
    )
    scenarios = [
        DeRiskingScenario("cash", channels=("cash_carry",), start="2015-03-01", withdrawn=0.9),
        DeRiskingScenario("closure", origin="USA", start="2015-05-10"),
    ]
    run = {"baseline": base, "draws": 201, "seed": 7, "interval": interval}
    compiled = estimate_informal(panel, scenarios, **run)  # type: ignore[arg-type]
    original = _estimate._simulate

    def reference(*args: object, **kwargs: object) -> object:
        return original(*args, **{**kwargs, "compiled": False})  # type: ignore[arg-type]

    monkeypatch.setattr(_estimate, "_simulate", reference)
    slow = estimate_informal(panel, scenarios, **run)  # type: ignore[arg-type]
    for name in ("corridors", "by_destination", "summary"):
        left, right = getattr(compiled, name), getattr(slow, name)
        numeric = [c for c, t in left.schema.items() if t.is_float()]
        np.testing.assert_allclose(
            left.select(numeric).to_numpy(), right.select(numeric).to_numpy(), rtol=1e-9
        )


def test_exposure_intervals_match_predictive_totals_over_a_year() -> None:
    """derisking_exposure has no sampling noise; over 12 periods its percentiles of lost flow
    are within 3% of estimate_informal's predictive per-country totals (docs/informal.md)."""
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 12, 1), "1mo", eager=True)
    panel = pl.concat(
        pl.DataFrame(
            {
                "period": months,
                "origin": origin,
                "destination": destination,
                "amount_usd": amount * share,
                "n_transfers": int(count * share),
            }
        )
        for destination, amount, count in (("SOM", 18e6, 60_000), ("EGY", 5e4, 200))
        for origin, share in (("USA", 1.0), ("GBR", 0.8))
    )
    costs = panel.select("origin", "destination").unique().with_columns(cost_pct=pl.lit(7.0))
    base = baseline_from_costs(panel, costs)
    exposure = derisking_exposure(panel, "USA", baseline=base, draws=2000, seed=1).sort(
        "destination"
    )
    scenario = DeRiskingScenario("USA de-risks", origin="USA")
    draws = estimate_informal(
        panel, scenario, baseline=base, draws=2000, seed=1, keep_draws=True
    ).samples
    assert draws is not None
    totals = (
        draws.group_by("destination", "draw")
        .agg(pl.col("lost").sum())
        .group_by("destination")
        .agg(
            *[
                pl.col("lost").quantile(q).alias(f"lost_p{round(q * 100)}")
                for q in (0.05, 0.5, 0.95)
            ]
        )
        .sort("destination")
    )
    for column in ("lost_p5", "lost_p50", "lost_p95"):
        ratio = totals[column].to_numpy() / exposure[column].to_numpy()
        assert ratio == pytest.approx(1.0, abs=0.03), column


def _slow_pooled(
    cells: pl.DataFrame, column: str, *, counted: bool
) -> tuple[list[float], list[float]]:
    """Each cell's pooled share and spread by a plain loop over its own 13-month window."""
    rows = cells.rows(named=True)

    def month(row: dict[str, object]) -> int:
        period = row["period"]
        assert isinstance(period, dt.date)
        return period.year * 12 + period.month

    shares, spreads = [], []
    for cell in rows:
        near = [r for r in rows if abs(month(r) - month(cell)) <= POOL_MONTHS]
        own = [
            r
            for r in near
            if (r["origin"], r["destination"]) == (cell["origin"], cell["destination"])
        ]
        home = [r for r in near if r["destination"] == cell["destination"]]
        own_inf = sum(r["_inf"] for r in own)
        home_inf = sum(r["_inf"] for r in home)
        own_share = sum(r[column] for r in own) / own_inf if own_inf > 0 else None
        country = sum(r[column] for r in home) / home_inf if home_inf > 0 else None
        if not counted:
            share = (
                own_share if own_share is not None else (country if country is not None else 1.0)
            )
            shares.append(share)
            spreads.append(0.0)
            continue
        n = sum(r["_n_inf"] for r in own)
        prior = country if country is not None else own_share
        weight = n + SHARE_PRIOR_TRANSFERS
        share = (
            1.0
            if prior is None
            else (n * (own_share or 0.0) + SHARE_PRIOR_TRANSFERS * prior) / weight
        )
        inner = 0 < share < 1 and country is not None
        shares.append(share)
        spreads.append(1 / np.sqrt(share * (1 - share) * (weight + 1)) if inner else 0.0)
    return shares, spreads


POOL_MONTHS = 6


@pytest.mark.parametrize("counted", [False, True])
def test_pooled_share_each_cell_its_own_window(counted: bool) -> None:
    """Two corridors into SOM and two into KEN (one starting late, one month without
    informal flow), 26 months, in the order ``_cells_of`` holds them (destination,
    period, origin): every cell's pooled share and spread is the one of its own
    13-month window (clipped at the panel's ends), by a plain loop."""
    rng = np.random.default_rng(7)
    months = pl.date_range(dt.date(2014, 1, 1), dt.date(2016, 2, 1), "1mo", eager=True)
    frames = []
    for origin, destination, first in [
        ("USA", "SOM", 0),
        ("ARE", "SOM", 0),
        ("USA", "KEN", 0),
        ("GBR", "KEN", 5),
    ]:
        k = months.len() - first
        inf = rng.uniform(10.0, 100.0, k).round(1)
        exposed = (inf * rng.uniform(0.0, 1.0, k) * (rng.uniform(size=k) < 0.6)).round(1)
        if origin == "GBR":
            inf[3] = exposed[3] = 0.0
        frames.append(
            pl.DataFrame(
                {
                    "origin": origin,
                    "destination": destination,
                    "period": months[first:],
                    "_inf": inf,
                    "_exposed0": exposed,
                    "_n_inf": rng.integers(0, 30, k).astype(np.float64),
                }
            )
        )
    cells = pl.concat(frames).sort("destination", "period", "origin")
    if not counted:
        cells = cells.drop("_n_inf")
    share, spread = pooled_share(cells, "_exposed0", "1mo")
    expected_share, expected_spread = _slow_pooled(cells, "_exposed0", counted=counted)
    np.testing.assert_allclose(share, expected_share, rtol=1e-12)
    np.testing.assert_allclose(spread, expected_spread, rtol=1e-12)
