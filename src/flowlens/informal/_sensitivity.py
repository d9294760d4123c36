"""Which parameter drives the interval: a tornado table, one parameter at a time."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import input_errors
from flowlens.errors import ParameterError
from flowlens.informal._baseline import Z90
from flowlens.informal._estimate import (
    QUANTITIES,
    _Cells,
    _Draws,
    _reach,
    _simulate,
    check_reach,
    prepare,
)
from flowlens.informal._priors import Prior, Split, as_prior, in_range
from flowlens.informal._scenario import PREMIUM_RESPONSE_DEFAULT, DeRiskingScenario


@input_errors("sensitivity")
def sensitivity(
    panel: Any,
    scenario: DeRiskingScenario,
    *,
    baseline: Any,
    quantity: str = "informal",
    freq: str | None = None,
    value: str = fs.AMOUNT_USD,
    drivers: Any = None,
    premium_response: float | Prior = PREMIUM_RESPONSE_DEFAULT,
) -> Any:
    """A tornado table: how far the panel's total moves when one parameter goes from low to high.

    Every parameter is held at its central value (a prior's mean; the baseline
    ratio at its median) while one moves to its 5th and then its 95th percentile:
    the share withdrawn, the cost increase, the cost elasticity, the share of the
    displaced flow that goes informal (the other two shares keep their ratio), and
    the baseline informal ratio (its component shared by all corridors; each
    corridor's own component averages out over many corridors and is held at 0);
    with ``drivers``, also the premium response (``premium_response``: how far the
    drivers' premium moves flow between channels).
    The parameter with the widest swing drives the width of
    :func:`estimate_informal`'s interval most. Each row is one evaluation of the
    model, not a Monte Carlo: the table is exact and cheap.

    The totals are expected flows: no sampling noise, neither the ``"predictive"``
    nor the ``"conditional"`` kind of :func:`estimate_informal` (its ``interval=``).
    Both add mean-zero noise to each corridor-period that the table's question (which
    parameter moves the total) does not involve, so the table takes no ``interval``;
    the width that noise adds is :func:`estimate_informal`'s to report.

    Parameters
    ----------
    panel, scenario, baseline, freq, value, drivers, premium_response
        As for :func:`estimate_informal` (one scenario; ``freq=None`` reads the
        period length from the panel).
    quantity
        ``"informal"``, ``"lost"`` or ``"formal"``: the total the table reports.

    Returns
    -------
    DataFrame
        The kind of table ``panel`` came as (polars, lazy, pandas, pyarrow); one row per parameter, widest swing first: ``parameter``, ``low_value`` and
        ``high_value`` (the parameter's 5th and 95th percentiles; for
        ``baseline_ratio``, the informal ratio weighted by recorded flow), ``at_low`` and
        ``at_high`` (the panel's total ``quantity`` with the parameter there),
        ``central`` (every parameter central), ``swing`` (``|at_high - at_low|``) and
        ``swing_share`` (of the sum of swings).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> from flowlens.informal import DeRiskingScenario, baseline_from_costs, sensitivity
    >>> months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 6, 1), "1mo", eager=True)
    >>> panel = pl.DataFrame({"period": months, "origin": "USA", "destination": "SOM",
    ...                       "amount_usd": 18e6})
    >>> base = baseline_from_costs(panel, pl.DataFrame({"origin": ["USA"],
    ...     "destination": ["SOM"], "cost_pct": [7.0]}))
    >>> closure = DeRiskingScenario("closure", origin="USA", destination="SOM",
    ...                             start="2015-02-06")
    >>> table = sensitivity(panel, closure, baseline=base)
    >>> table["parameter"].to_list()[0]
    'baseline_ratio'
    >>> bool((table["at_low"] <= table["at_high"]).all())
    True
    """
    if quantity not in QUANTITIES[:3]:
        msg = f"quantity must be one of {list(QUANTITIES[:3])}, got {quantity!r}"
        raise ParameterError(msg)
    if not isinstance(scenario, DeRiskingScenario):
        msg = f"sensitivity takes one DeRiskingScenario, got {scenario!r}"
        raise ParameterError(msg)
    what = "sensitivity's panel"
    source = from_any(panel, what=what)
    response = in_range(as_prior(premium_response, "premium_response"), "premium_response", 0.0)
    _, cells, _, used = prepare(
        source.eager(),
        baseline,
        [scenario],
        freq=freq,
        value=value,
        sampling_noise=False,
        what=what,
        drivers=drivers,
    )
    check_reach([scenario], cells)
    # each corridor's own noise is held at its median
    cells = dataclasses.replace(cells, log_sd_own=np.zeros_like(cells.log_sd_own))
    varied, central = _settings(scenario, response if used is not None else None)
    # column 0: all central; then each parameter low, then high
    settings = [central]
    for name, (low, high) in varied.items():
        settings += [{**central, name: low}, {**central, name: high}]
    # every value lies in its parameter's range: the scenario checked its priors
    params = _Draws(
        withdrawn=np.array([s["withdrawn"] for s in settings]),
        cost_increase=np.array([s["cost_increase_pp"] for s in settings]),
        elasticity=np.array([s["cost_elasticity"] for s in settings]),
        split=np.array([_split_at(scenario.split_, s["split_informal"]) for s in settings]),
        z_shared=np.array([s["baseline_ratio"] for s in settings], dtype=np.float64),
        premium_response=np.array([s.get("premium_response", 0.0) for s in settings]),
    )
    progress, exposed = _reach(scenario, cells)
    _, group_sums = _simulate(
        cells,
        params,
        progress,
        exposed,
        seed=0,
        threads=1,
        informal_side=scenario.formalises,
        compiled=False,
    )
    totals = group_sums.sum(axis=0)[QUANTITIES.index(quantity)]  # one total per setting
    # the baseline ratio is reported as the recorded-flow-weighted ratio, not as z
    varied["baseline_ratio"] = (_mean_ratio(cells, -Z90), _mean_ratio(cells, Z90))
    rows = []
    for i, (name, (low, high)) in enumerate(varied.items()):
        at_low, at_high = float(totals[1 + 2 * i]), float(totals[2 + 2 * i])
        rows.append((name, float(low), float(high), at_low, at_high, abs(at_high - at_low)))
    table = pl.DataFrame(
        rows,
        schema=["parameter", "low_value", "high_value", "at_low", "at_high", "swing"],
        orient="row",
    )
    swings = table["swing"].sum()
    result = table.with_columns(
        central=pl.lit(float(totals[0])),
        swing_share=pl.col("swing") / swings if swings > 0 else pl.lit(0.0),
    ).sort("swing", "parameter", descending=[True, False])
    return source.back(result)


def _settings(
    scenario: DeRiskingScenario, premium_response: Prior | None
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Each parameter's (low, high) and every parameter's central value."""
    split_low, split_high = _informal_share_range(scenario.split_)
    varied: dict[str, tuple[float, float]] = {
        "withdrawn": (scenario.withdrawn_prior.low, scenario.withdrawn_prior.high),
        "cost_increase_pp": (scenario.cost_increase_prior.low, scenario.cost_increase_prior.high),
        "cost_elasticity": (scenario.elasticity_prior.low, scenario.elasticity_prior.high),
        "split_informal": (split_low, split_high),
        "baseline_ratio": (-Z90, Z90),
    }
    central = {
        "withdrawn": scenario.withdrawn_prior.mean,
        "cost_increase_pp": scenario.cost_increase_prior.mean,
        "cost_elasticity": scenario.elasticity_prior.mean,
        "split_informal": scenario.split_.informal,
        "baseline_ratio": 0.0,
    }
    if premium_response is not None:
        varied["premium_response"] = (premium_response.low, premium_response.high)
        central["premium_response"] = premium_response.mean
    return varied, central


def _informal_share_range(split: Split) -> tuple[float, float]:
    """5th and 95th percentiles of the informal share: its Dirichlet marginal is a beta."""
    share = split.informal
    if split.concentration is None or share in {0.0, 1.0}:
        return share, share
    marginal = stats.beta(share * split.concentration, (1.0 - share) * split.concentration)
    return float(marginal.ppf(0.05)), float(marginal.ppf(0.95))


def _split_at(split: Split, informal: float) -> tuple[float, float, float]:
    """(informal, other formal, lost) with the informal share given; the others keep their ratio."""
    rest = 1.0 - split.informal
    other_part = split.other_formal / rest if rest > 0 else 0.0
    remaining = 1.0 - informal
    return informal, remaining * other_part, remaining * (1.0 - other_part)


def _mean_ratio(cells: _Cells, z_shared: float) -> float:
    """The baseline informal ratio, weighted by recorded flow, with the shared component at ``z``."""
    corridor = cells.corridor
    ratio = np.maximum(
        cells.ratio[corridor] * np.exp(cells.log_sd_shared[corridor] * z_shared)
        - cells.offset[corridor],
        0.0,
    )
    weight = cells.formal.sum()
    return float((cells.formal * ratio).sum() / weight) if weight > 0 else float("nan")
