"""The sampling noise of the flow that changes channel (estimate_informal with n_transfers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flowlens.informal import Fixed, estimate_informal
from flowlens.informal._estimate import _switch_noise
from flowlens.informal._kernel import SWITCH_CV2, switch_noise
from flowlens.surge._baselines import AMOUNT_CV
from tests.test_informal_drivers import baseline, drivers, panel

CASES = [
    # moved, n_formal, thinned, P(no transfer moves), relative variance of the moved sum
    # binomial: Var(N) = n q (1 - q), amounts drawn from the recorded ones (1 - N / n):
    # (1 - q) (1 + cv^2 (n - 1) / n) / (n q)
    (0.1, 10.0, True, 0.9**10, 0.9 * (1 + AMOUNT_CV**2 * 0.9) / 1.0),
    # Poisson of mean 2: (1 + cv^2) / 2
    (0.05, 40.0, False, math.exp(-2.0), SWITCH_CV2 / 2.0),
    # 100 expected: the lognormal of variance SUM_CV^2 (1 - q) / (n q), never 0
    (0.5, 200.0, True, 0.0, SWITCH_CV2 * 0.5 / 100.0),
]


@pytest.mark.parametrize(("moved", "n", "thinned", "p_zero", "relvar"), CASES)
def test_switch_noise_has_the_moments_of_a_compound_count(
    moved: float, n: float, thinned: bool, p_zero: float, relvar: float
) -> None:
    """Mean one, P(0) and variance as computed by hand; the compiled factor equals numpy's."""
    rng = np.random.default_rng(11)
    u1, u2 = rng.uniform(size=(2, 200_000))
    factor = _switch_noise(np.full(u1.size, moved), np.full(u1.size, n), u1, u2, thinned=thinned)
    assert factor.mean() == pytest.approx(1.0, abs=0.02)
    assert (factor == 0.0).mean() == pytest.approx(p_zero, abs=0.005)
    assert factor.var() == pytest.approx(relvar, rel=0.08)
    compiled = [
        switch_noise(moved, n, thinned, a, b) for a, b in zip(u1[:500], u2[:500], strict=True)
    ]
    np.testing.assert_allclose(compiled, factor[:500], rtol=1e-12)


def test_without_counts_or_flow_nothing_is_drawn() -> None:
    u = np.full(3, 0.3)
    assert _switch_noise(np.array([0.0, 0.2, 1.0]), np.array([50.0, 0.0, 9.0]), u, u, thinned=True).tolist() == [1.0, 1.0, 1.0]  # fmt: skip
    assert switch_noise(0.2, 0.0, False, 0.3, 0.3) == 1.0


def test_premium_interval_of_a_small_corridor_holds_the_recorded_flow() -> None:
    """Given the recorded transfers (``interval="conditional"``): a premium of 10 points
    at beta 0.03 and R 0.5 moves 10.45% of the flow by hand
    (1 - 1.5 / (1 + 0.5 e^0.3)). With 5 transfers a month no transfer moves in
    0.8955^5 = 58% of the draws: the median and p95 are the recorded flow itself.
    With 5,000 a month (522 expected to move) the interval is about +-1.645 x 5.3% of
    the moved flow; without counts it has no width."""
    moved = 100 * (1 - 1.5 / (1 + 0.5 * math.exp(0.3)))
    run = {
        "baseline": baseline(0.5),
        "drivers": drivers(),
        "premium_response": Fixed(0.03),
        "interval": "conditional",
    }
    rows = {}
    for n in (None, 5, 5000):
        frame = panel() if n is None else panel().with_columns(n_transfers=n)
        result = estimate_informal(frame, draws=2000, seed=4, **run)  # type: ignore[arg-type]
        rows[n] = result.corridors.sort("period").row(4, named=True)
    assert rows[None]["formal_p5"] == pytest.approx(100 - moved)
    assert rows[None]["formal_p95"] == pytest.approx(100 - moved)
    assert rows[5]["formal_p50"] == rows[5]["formal_p95"] == 100.0
    assert rows[5]["formal_p5"] < 100 - moved
    assert rows[5000]["formal_mean"] == pytest.approx(100 - moved, abs=0.1)
    half = 1.645 * moved * math.sqrt(SWITCH_CV2 * (1 - moved / 100) / (50 * moved))
    assert rows[5000]["formal_p95"] - (100 - moved) == pytest.approx(half, rel=0.15)
    assert (100 - moved) - rows[5000]["formal_p5"] == pytest.approx(half, rel=0.15)
    for row in rows.values():  # what leaves formal channels arrives in informal ones
        total = row["formal_mean"] + row["informal_mean"] + row["lost_mean"]
        assert total == pytest.approx(row["total_mean"])
