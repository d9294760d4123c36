"""estimate_informal: a vectorised Monte Carlo over (corridor-periods x draws), chunked.

For a corridor-period with recorded formal flow F (what the panel holds: the flow
before the scenario, at the baseline's premium), baseline informal ratio R (from a
baseline estimator), the change of the parallel-market premium dpi (pp: the drivers'
premium of the period less the baseline's, 0 without drivers), the scenario's ramp
progress p (0 before ``start``, rising to 1 over ``ramp_days``, 0 after ``end``), the
share e of the flow in the channels that lose capacity, and per draw the withdrawn
share w, cost rise dc (pp), cost elasticity eps, premium response beta and split
(s_informal, s_other_formal, s_lost):

    I0       = F * R * exp(sd * z - sd^2 / 2)            baseline informal
    F1       = (F + I0) / (1 + (I0 / F) * exp(beta * dpi))   formal after the premium
    I1       = F + I0 - F1                               informal after the premium
    k        = p * (1 - (1 + dc / cost) ** -eps)         remaining flow deterred by cost
    closure (formal channels):
    D        = F1 * (e * p * w + (1 - e * p * w) * k)    displaced formal flow
    formal   = F1 - D + s_other_formal * D
    informal = I1 + s_informal * D
    formalisation (informal channels):
    D_i      = I1 * e * p * w,  D_f = F1 * k             displaced informal and formal flow
    formal   = F1 - D_f + s_other_formal * (D_i + D_f)
    informal = I1 - D_i + s_informal * (D_i + D_f)
    lost     = s_lost * D                                (D = D_i + D_f)
    total    = F + I0 = formal + informal + lost         the counterfactual total

F1 is a logistic choice between formal and informal channels: the odds of sending
formally, F / I0 before, are multiplied by exp(-beta * dpi). A premium that opens
(dpi > 0) pushes flow out of formal channels, one that closes (dpi < 0) pulls it
back; neither can move more than the flow there is, and nothing saturates at a
realistic premium (``PREMIUM_RESPONSE_DEFAULT``). The cost response has a constant
elasticity: a rise never deters all of the flow.

where z is a standard normal of the cell and draw (its stream keyed by the cell's
corridor and period start, ``flowlens.informal._keys``, never by its position), and sd the sampling noise of one
period's informal sum against the recorded flow it is estimated from: with n formal
transfers in the cell (the panel's ``n_transfers``) and about n * R informal ones,
sd = SUM_CV * sqrt(1 / (n R) + 1 / n), SUM_CV = sqrt(1 + 0.8^2) the relative
spread of a sum of transfers per sqrt(count) (``flowlens.surge``'s noise floor; the
count ratio taken equal to the value ratio R is an assumption). Without
``n_transfers``, sd = 0.

With ``n_transfers``, each flow that changes channel (the premium's move F - F1 or
F1 - F, the part of D that leaves formal channels, (1 - s_other_formal) * D, and in
formalisation the part of D_i that enters them, s_other_formal * D_i) is multiplied
per draw by a mean-one factor: the sampling noise of the few transfers that make it
(``flowlens.informal._kernel.switch_noise``). With m that flow over F, about n * m
transfers move (each at the cell's mean formal amount, an assumption); their count is
binomial (a random part of the n recorded transfers, for flow leaving formal
channels) or Poisson of mean n * m (unrecorded transfers, for flow entering them),
and given the count N their sum is a lognormal of mean N and relative variance
AMOUNT_CV^2 / N (AMOUNT_CV = 0.8, ``flowlens.surge``; times 1 - N / n when
thinned): a compound sum of relative variance SUM_CV^2 / (n m) (times 1 - m when
thinned), exactly 0 where no transfer moves. Above ``COUNT_LIMIT`` (40) expected
transfers, a lognormal of the same variance. No flow moves more than the flow it
leaves (a draw's factor is capped there).

That is the ``interval="conditional"`` model: given the recorded transfers, which of
them change channel. The default, ``interval="predictive"``, is for the flows a fresh
period will carry under the scenario: where the cell has ``n_transfers`` (n of them),
the draws' expected flows (the equations above with sd = 0 and no moved-flow noise)
are multiplied by a mean-one lognormal of relative variance SUM_CV^2 / n (the
recorded flow's own sampling error about its expectation, common to every quantity),
and formal and informal flow each by a fresh compound sum (``switch_noise``, Poisson:
about n x formal / F and n x informal / F transfers); total is then formal + informal
+ lost of the draw.

In a formalisation scenario the share e of the informal flow in its channels is not
the period's own but pooled over ``POOL_PERIODS`` periods either side, per corridor,
shrunk to the receiving country's (``SHARE_PRIOR_TRANSFERS``) and, with counts, drawn
per corridor and draw from its sampling spread (``pooled_share``).

For a closure every quantity is non-decreasing in w, dc, eps and p; formal flow falls
as the premium rises; and formal + informal + lost equals the total in
every draw.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import PanelSpec, checked_panel, checked_table, input_errors
from flowlens.errors import MissingColumnError, ParameterError, SchemaError
from flowlens.informal._baseline import BASELINE_COLUMNS
from flowlens.informal._keys import cell_keys, corridor_keys
from flowlens.informal._priors import Prior, as_prior, checked_sample, in_range
from flowlens.informal._scenario import NO_SCENARIO, PREMIUM_RESPONSE_DEFAULT, DeRiskingScenario
from flowlens.surge._baselines import AMOUNT_CV, SUM_CV

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
QUANTITIES = ("formal", "informal", "lost", "total")
QUANTILES = (0.05, 0.5, 0.95)
INTERVALS = ("predictive", "conditional")
DRIVER_COLUMNS = (fs.DESTINATION, fs.PERIOD, "premium_pct")
DEFAULT_COST_PCT = 7.0
"""Cost of formal transfer (percent) where the panel and the baseline give none: about
the Remittance Prices Worldwide average over 2011-2020."""
CHUNK_CELLS = 4_000_000
"""Draw-cells per chunk: each of the few float64 work arrays is then 32 MB."""
_KEYS = [fs.ORIGIN, fs.DESTINATION]


@dataclass(frozen=True)
class InformalEstimate:
    """What :func:`estimate_informal` returns: the tables and the settings that made them.

    Frozen: nothing computes or changes it after :func:`estimate_informal` returns.

    Attributes
    ----------
    corridors
        One row per scenario, corridor and period: ``recorded_formal_usd`` (the
        input) and, for each of ``formal``, ``informal``, ``lost`` and ``total``
        (the counterfactual total; with ``interval="predictive"`` and transfer counts,
        the draw's formal + informal + lost), the mean and the ``quantiles`` over the draws
        (by default ``informal_p5``, ``informal_p50``, ``informal_p95``,
        ``informal_mean``...; ``quantiles=(0.025, 0.975)`` gives ``informal_p2.5``
        and ``informal_p97.5``). With ``drivers``, also ``premium_change_pp`` (the
        period's premium less the baseline's).
    by_destination
        The same per scenario, receiving country and period, from each draw's sum
        (the percentiles of a sum, not sums of percentiles).
    by_scenario
        The same per scenario and period, over all corridors.
    summary
        The same per scenario over the whole panel, with ``informal_to_recorded``
        (informal / recorded formal, median draw).
    draws, seed
        The Monte Carlo settings.
    baseline
        The baseline table used (as polars).
    spec
        The panel's :class:`flowlens.PanelSpec` (frequency, value column, keys) as
        read from it.
    scenarios
        The scenarios, in the order of the tables (the baseline alone is
        ``NO_SCENARIO``, named ``"baseline"``).
    sampling_noise
        Whether the cells' sampling noise was drawn.
    quantiles
        The probabilities of the percentile columns.
    samples
        With ``keep_draws=True``, the draws themselves, in long form: one row per
        scenario, receiving country, period and draw, with ``formal``, ``informal``,
        ``lost`` and ``total`` (the sums over the country's corridors in that draw);
        else None.
    drivers
        The drivers table as used (``destination``, [``origin``,] ``period``,
        ``premium_pct``, [``cost_pct``,] and ``matched``: whether a corridor-period of
        the panel took it); None without drivers.
    premium_response
        The prior of the premium response (beta) the drivers were applied with.
    interval
        ``"predictive"`` or ``"conditional"``: what the intervals are for (see
        :func:`estimate_informal`).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> from flowlens.informal import baseline_from_costs, estimate_informal
    >>> quarters = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 10, 1), "1q", eager=True)
    >>> panel = pl.DataFrame({"period": quarters, "origin": "USA", "destination": "SOM",
    ...                       "amount_usd": 54e6})
    >>> base = baseline_from_costs(panel, pl.DataFrame({"origin": ["USA"],
    ...     "destination": ["SOM"], "cost_pct": [7.0]}))
    >>> estimate = estimate_informal(panel, baseline=base, draws=50)
    >>> estimate.spec.freq, estimate.spec.value, [s.name for s in estimate.scenarios]
    ('1q', 'amount_usd', ['baseline'])
    """

    corridors: pl.DataFrame
    by_destination: pl.DataFrame
    by_scenario: pl.DataFrame
    summary: pl.DataFrame
    draws: int
    seed: int
    baseline: pl.DataFrame
    spec: PanelSpec
    scenarios: tuple[DeRiskingScenario, ...]
    sampling_noise: bool = True
    quantiles: tuple[float, ...] = QUANTILES
    samples: pl.DataFrame | None = None
    drivers: pl.DataFrame | None = None
    premium_response: Prior = PREMIUM_RESPONSE_DEFAULT
    interval: str = "predictive"

    def _repr_html_(self) -> str:
        from flowlens._display import card

        columns = ["scenario", "recorded_formal_usd", *quantile_columns("informal", self.quantiles)]
        present = [c for c in columns if c in self.summary.columns]
        extra = ["informal_to_recorded"] if "informal_to_recorded" in self.summary.columns else []
        return card(
            "InformalEstimate",
            [
                f"{self.summary.height} scenario(s)",
                f"{self.corridors.height:,} corridor-periods",
                f"freq {self.spec.freq}",
                f"{self.draws:,} draws",
                f"seed {self.seed}",
            ],
            [*present, *extra],
            [tuple(row) for row in self.summary.select(*present, *extra).iter_rows()],
            note=f"{self.spec.value} over the whole panel; percentiles "
            f"{', '.join(f'{q:g}' for q in self.quantiles)} of the draws. Per corridor: "
            ".corridors; per receiving country: .by_destination.",
        )

    def __repr__(self) -> str:
        return (
            f"InformalEstimate(scenarios={self.summary.height}, corridor_periods="
            f"{self.corridors.height:,}, freq={self.spec.freq!r}, value={self.spec.value!r}, "
            f"draws={self.draws}, seed={self.seed})"
        )


@dataclass(frozen=True)
class _Cells:
    """The panel as flat arrays, one entry per (corridor, period), sorted by destination, period."""

    keys: pl.DataFrame  # origin, destination (+ flow_type), period
    formal: F64
    exposed: dict[tuple[str, ...], F64]  # share of the flow in the given channels, per set
    exposed_sd: dict[tuple[str, ...], F64]  # its sampling spread (logit scale; 0: known)
    corridor: I64  # corridor index into the baseline arrays
    cell_key: U64  # the cell's random-stream key: its corridor and period start
    group: I64  # (destination, period) group index
    cost_pct: F64
    period_start: F64  # days since 1970
    period_days: F64
    ratio: F64
    offset: F64
    log_sd_shared: F64
    log_sd_own: F64
    corridor_key: U64  # per baseline corridor, the key of its own noise stream
    noise_sd: F64  # sampling noise of the cell's informal sum (log scale)
    n_formal: F64  # recorded formal transfers (0 where unknown or without sampling noise)
    groups: pl.DataFrame  # destination, period per group index
    periods: pl.DataFrame  # period per period index
    period_of_group: I64
    premium_change: F64  # the drivers' premium less the baseline's, pp (0 without drivers)


_BASELINE_LIMITS = {
    "informal_ratio": 100.0,
    "offset": 100.0,
    "log_sd_shared": 5.0,
    "log_sd_own": 5.0,
}
"""Upper limits of a baseline's parameters: an informal flow 100 times the recorded one, or
a log-scale spread of 5 (a factor of e**5 = 148 per standard deviation), is no estimate
but a broken table, and beyond them the draws overflow."""


def _check_baseline_limits(base: pl.DataFrame) -> None:
    for column, limit in _BASELINE_LIMITS.items():
        too_large = base.filter(pl.col(column).cast(pl.Float64) > limit)
        if too_large.height:
            msg = (
                f"the baseline: column {column!r} has {too_large.height} value(s) above "
                f"{limit:g} (largest {too_large[column].max()!r}); a baseline from "
                "baseline_from_costs, baseline_from_gap or baseline_observed stays far below"
            )
            raise SchemaError(msg)


@dataclass(frozen=True)
class _Draws:
    """Per-draw parameters of one scenario (arrays of length ``draws``)."""

    withdrawn: F64
    cost_increase: F64
    elasticity: F64
    split: F64  # (draws, 3)
    z_shared: F64
    premium_response: F64


@input_errors("estimate_informal")
def estimate_informal(
    panel: Any,
    scenario: DeRiskingScenario | Sequence[DeRiskingScenario] | None = None,
    *,
    baseline: Any,
    draws: int = 1000,
    seed: int = 0,
    freq: str | None = None,
    value: str = fs.AMOUNT_USD,
    threads: int = 2,
    sampling_noise: bool = True,
    progress: bool = False,
    drivers: Any = None,
    premium_response: float | Prior = PREMIUM_RESPONSE_DEFAULT,
    quantiles: Sequence[float] = QUANTILES,
    keep_draws: bool = False,
    interval: str = "predictive",
) -> InformalEstimate:  # long: the public entry point, its settings checked and passed on
    """Formal, informal and lost flow per corridor and period under de-risking scenarios, with intervals.

    Parameters
    ----------
    panel
        Recorded formal flows per ``period``, ``origin``, ``destination`` (``value``
        column), as they would be without the scenario (a what-if on recent
        data). With a ``channel`` column, informal and cash-carry rows are left
        out of the recorded formal flow and a scenario's ``channels`` decide which
        formal flow loses capacity. With ``cost_pct`` or ``cost_ratio``, that is the
        cost the elasticity applies to (else the baseline's ``cost_pct``, else 7%).
        A row whose value is null is unknown, not zero: it is left out. Any table:
        polars (eager or lazy, collected here once), pandas, pyarrow, or an Arrow
        PyCapsule object.
    scenario
        One :class:`DeRiskingScenario`, several (compared side by side, with the
        same random numbers: each scenario's result does not depend on the others
        or on their order), or None: the baseline alone.
    baseline
        The baseline informal ratio per corridor, from :func:`baseline_from_costs`,
        :func:`baseline_from_gap` or :func:`baseline_observed` (any table kind).
    draws, seed
        Monte Carlo draws (at least 2), and the seed (>= 0) that makes the result
        reproducible.
    freq
        The panel's period length. None (the default) reads it from the periods;
        a ``freq`` that contradicts them raises :class:`flowlens.errors.ParameterError`,
        and so does ``None`` with a single period, whose length the data does not
        say (pass ``freq="1y"`` for one year, or an official table's ``freq``).
    value
        The measured column (default ``amount_usd``).
    threads
        Chunks computed at once (numpy releases the interpreter lock), at least 1.
    sampling_noise
        When the panel has ``n_transfers``, widen each corridor-period's informal
        flow by the sampling noise of a sum of that many transfers, and the flow
        that changes channel (to or from formal channels) by the sampling noise of
        the few transfers that move (the interval then covers what one period
        realises, not only its expectation; sums over many cells are hardly
        affected). See the module's equations.
    progress
        Show a progress bar over the scenarios (a widget in Jupyter, a line in a
        terminal): each scenario is one pass of ``draws`` over every cell.
    drivers
        Dated prices that move flow between formal and informal channels:
        ``destination``, ``period``, ``premium_pct`` (the parallel-market premium of
        the receiving country's currency, in percent: what a sender gains by going
        informal) and optionally ``origin`` (then per corridor) and ``cost_pct`` (the
        period's cost of formal transfer, which a scenario's cost rise is measured
        against). In each corridor-period the premium's change from the baseline's
        (the baseline's ``premium_pct`` column, else 0) moves the formal and informal
        flow by the logistic of the module notes: a premium that opens pushes flow out
        of formal channels, one that closes pulls it back. Corridors whose receiving
        country (or corridor) the drivers do not name keep the baseline's premium; a
        named one needs a row for every period of the panel, and a driver row whose
        country is not in the panel raises. Applies to every scenario, the baseline
        alone included. Any table kind.
    premium_response
        The logistic slope beta per percentage point of premium (a number or a
        prior, >= 0); default ``PREMIUM_RESPONSE_DEFAULT`` (an assumption, see its
        notes: a premium of 10 points displaces 5-20% of formal flow).
    quantiles
        Probabilities of the percentile columns, each in (0, 1) (default 5th, 50th
        and 95th); a column is named ``p`` and the percent, e.g. ``p2.5``.
    keep_draws
        Keep the draws per scenario, receiving country and period
        (``InformalEstimate.samples``, a long table: ``draws`` rows per country-period,
        about 47 bytes a row; more than ``MAX_SAMPLE_ROWS``, 50M rows, raises).
    interval
        What a corridor-period's interval is for, where the panel has ``n_transfers``
        (without counts the two are the same: the parameters' uncertainty alone).

        - ``"predictive"`` (the default): the flows that period will carry under the
          scenario, a fresh realisation: the recorded flow is one draw of the
          corridor's expected flow (relative variance SUM_CV^2 / n, an assumption:
          AMOUNT_CV = 0.8, ``flowlens.surge``), and the period under the scenario is
          another, its formal and informal flow each a fresh sum of about n times
          their flow per unit of recorded flow (Poisson count, lognormal amounts). The
          ``total`` is then that draw's formal + informal + lost, and differs between
          scenarios.
        - ``"conditional"``: given the transfers recorded in that period, which of them
          would have changed channel: the formal flow moves only by the transfers that
          switch (binomial or Poisson counts), the ``total`` is the counterfactual
          (the same for every scenario), and the informal flow keeps the sampling
          noise of its own sum.

    Returns
    -------
    InformalEstimate
        Polars tables, with the settings they were computed with (``spec``,
        ``draws``, ``seed``, ``scenarios``).

    Raises
    ------
    ParameterError
        A bad argument (``draws`` below 2, a negative seed, a ``freq`` that
        contradicts the periods, two scenarios with one name, a baseline with
        duplicate or non-finite rows or without a row for a corridor of the panel).
    ParameterError
        A scenario whose ``origin`` / ``destination`` select no corridor of the panel
        (it would silently change nothing).
    SchemaError
        An empty panel, or one whose values are all null; a negative, NaN or
        infinite recorded flow, cost or count; a null origin or destination; a
        period outside 1900..2100.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> import flowlens as fl
    >>> from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal
    >>> months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 6, 1), "1mo", eager=True)
    >>> panel = pl.DataFrame({"period": months, "origin": "USA", "destination": "SOM",
    ...                       "amount_usd": 18e6})
    >>> base = baseline_from_costs(panel, pl.DataFrame({"origin": ["USA"],
    ...     "destination": ["SOM"], "cost_pct": [7.0]}))
    >>> closure = DeRiskingScenario("closure", origin="USA", destination="SOM",
    ...                             start="2015-02-06")
    >>> result = estimate_informal(panel, closure, baseline=base, draws=500, seed=1)
    >>> s = result.summary.row(0, named=True)
    >>> s["scenario"], s["informal_p5"] < s["informal_p50"] < s["informal_p95"]
    ('closure', True)
    >>> bool(abs(s["formal_mean"] + s["informal_mean"] + s["lost_mean"] - s["total_mean"]) < 1)
    True
    >>> result.spec.freq
    '1mo'
    """
    check_draws(draws, seed)
    check_count(threads, "threads", 1)
    if interval not in INTERVALS:
        msg = (
            f"interval must be one of {INTERVALS} (a fresh period's flows, or what the "
            f"recorded transfers would have done), got {interval!r}"
        )
        raise ParameterError(msg)
    for flag, name in ((sampling_noise, "sampling_noise"), (keep_draws, "keep_draws"),
                       (progress, "progress")):  # fmt: skip
        if not isinstance(flag, (bool, np.bool_)):
            msg = f"{name} must be True or False, got {flag!r}"
            raise ParameterError(msg)
    probs = checked_quantiles(quantiles)
    response = in_range(as_prior(premium_response, "premium_response"), "premium_response", 0.0)
    scenarios = _scenarios(scenario)
    spec, cells, base, used_drivers = prepare(
        panel,
        baseline,
        scenarios,
        freq=freq,
        value=value,
        sampling_noise=sampling_noise,
        what="estimate_informal's panel",
        drivers=drivers,
    )
    check_reach(scenarios, cells)
    rows = draws * cells.groups.height * len(scenarios)
    if keep_draws and rows > MAX_SAMPLE_ROWS:
        msg = (
            f"keep_draws=True would hold {rows:,} rows of draws (draws x receiving "
            f"country-periods x scenarios, about {rows * SAMPLE_ROW_BYTES / 1e9:.0f} GB); at most "
            f"{MAX_SAMPLE_ROWS:,}: ask for fewer draws, or run fewer scenarios or periods at once"
        )
        raise ParameterError(msg)
    z_shared = shared_normals(seed, draws)
    frames: list[tuple[pl.DataFrame, ...]] = []
    bar: Any = scenarios
    if progress:  # tqdm only when asked; its notebook widget only where ipywidgets is
        from importlib.util import find_spec

        if find_spec("ipywidgets") is None:
            from tqdm import tqdm
        else:
            from tqdm.auto import tqdm
        bar = tqdm(scenarios, desc=f"{draws:,} draws", unit="scenario")
    run = _Run(
        draws, seed, z_shared, threads, probs, response, keep_draws, interval == "predictive"
    )
    for scenario_ in bar:  # scenarios are few; each is one vectorised pass over every cell
        frames.append(_one_scenario(scenario_, cells, run))
    corridors, by_destination, by_scenario, summary, samples = (
        pl.concat(f) for f in zip(*frames, strict=True)
    )
    if used_drivers is not None:
        corridors = corridors.with_columns(
            premium_change_pp=pl.Series(np.tile(cells.premium_change, len(scenarios)))
        )
    order = ["scenario"]
    return InformalEstimate(
        corridors=_first(corridors, order),
        by_destination=_first(by_destination, order),
        by_scenario=_first(by_scenario, order),
        summary=summary,
        draws=draws,
        seed=seed,
        baseline=base,
        spec=spec,
        scenarios=tuple(scenarios),
        sampling_noise=sampling_noise,
        quantiles=tuple(float(q) for q in probs),
        samples=samples if keep_draws else None,
        drivers=used_drivers,
        premium_response=response,
        interval=interval,
    )


def check_reach(scenarios: Sequence[DeRiskingScenario], cells: _Cells) -> None:
    """A scenario that names countries must select some corridor of the panel, else ParameterError."""
    present = cells.keys.select(pl.col(fs.ORIGIN, fs.DESTINATION).cast(pl.String))
    for scenario in scenarios:  # scenarios are few
        if scenario.origin is None and scenario.destination is None:
            continue
        if not present.select(scenario.corridor_filter().any()).item():
            msg = (
                f"scenario {scenario.name!r} (origin={scenario.origin}, destination="
                f"{scenario.destination}) selects no corridor of the panel, so it would change "
                f"nothing; the panel's corridors run from {present[fs.ORIGIN].unique().sort().head(8).to_list()} "
                f"to {present[fs.DESTINATION].unique().sort().head(8).to_list()}"
            )
            raise ParameterError(msg)
    check_timing(scenarios, cells)


def check_timing(scenarios: Sequence[DeRiskingScenario], cells: _Cells) -> None:
    """A scenario must be in force in some period of the panel, else ParameterError."""
    for scenario in scenarios:  # scenarios are few
        if scenario is NO_SCENARIO or (_progress(scenario, cells) > 0).any():
            continue
        epoch = dt.date(1970, 1, 1)
        first = epoch + dt.timedelta(days=int(cells.period_start.min()))
        last = epoch + dt.timedelta(days=int((cells.period_start + cells.period_days).max()) - 1)
        msg = (
            f"scenario {scenario.name!r} (start {scenario.start_date}, end {scenario.end_date}) "
            f"is in force in no period of the panel ({first} to {last}), so it would change "
            "nothing: give a start within the panel, or a panel that covers the scenario"
        )
        raise ParameterError(msg)


def check_draws(draws: int, seed: int, *, minimum: int = 2) -> None:
    """``draws`` a whole number >= ``minimum`` and ``seed`` one >= 0, else ParameterError."""
    check_count(draws, "draws", minimum)
    check_count(seed, "seed", 0)
    if int(seed) >= 1 << 63:
        msg = f"seed must be below 2**63 (a 64-bit integer), got {seed}"
        raise ParameterError(msg)
    if draws > MAX_DRAWS:
        msg = (
            f"draws must be at most {MAX_DRAWS:,} (the 5-95% band is stable to a few tenths of "
            f"a percent at 10,000), got {draws:,}"
        )
        raise ParameterError(msg)


MAX_DRAWS = 1_000_000
"""Most Monte Carlo draws one call may ask for: the draws of every cell are held in memory
(8 bytes each), so a typing slip such as ``draws=10**9`` would ask for gigabytes."""


MAX_SAMPLE_ROWS = 50_000_000
"""Most rows ``keep_draws=True`` may hold: at about ``SAMPLE_ROW_BYTES`` a row (measured,
ten countries x 12 months x 20,000 draws: 113 MB for 2.4M rows), 50M rows are some 2.4 GB."""
SAMPLE_ROW_BYTES = 47


def check_count(number: object, what: str, minimum: int) -> None:
    """``number`` a whole number (not a bool) >= ``minimum``, else ParameterError."""
    if not isinstance(number, numbers.Integral) or isinstance(number, bool) or number < minimum:
        msg = f"{what} must be a whole number >= {minimum}, got {number!r}"
        raise ParameterError(msg)


def shared_normals(seed: int, draws: int) -> F64:
    """The baseline ratio's shared standard normal per draw: one stream for every scenario."""
    z: F64 = np.random.default_rng([seed, 1]).standard_normal(draws)
    return z


@dataclass(frozen=True)
class _Run:
    """The Monte Carlo settings every scenario of one call shares."""

    draws: int
    seed: int
    z_shared: F64
    threads: int
    probs: F64
    premium_response: Prior
    keep_draws: bool
    predictive: bool = True


def _one_scenario(
    scenario: DeRiskingScenario, cells: _Cells, run: _Run
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One scenario's tables: per corridor-period, destination-period, period, overall, and draws."""
    params = _draw(scenario, run.draws, run.seed, run.z_shared, run.premium_response)
    ramp, exposed_share = _reach(scenario, cells)
    stats, group_sums = _simulate(
        cells,
        params,
        ramp,
        exposed_share,
        seed=run.seed,
        threads=run.threads,
        probs=run.probs,
        informal_side=scenario.formalises,
        share=(cells.exposed[scenario.channels], cells.exposed_sd[scenario.channels]),
        predictive=run.predictive,
    )
    label = pl.lit(scenario.name).alias("scenario")
    corridors = cells.keys.with_columns(label, recorded_formal_usd=pl.Series(cells.formal)).hstack(
        stats
    )
    by_destination = _summarise(group_sums, cells.groups.with_columns(label), run.probs)
    period_sums = _sum_by(group_sums, cells.period_of_group, cells.periods.height)
    by_period = _summarise(period_sums, cells.periods.with_columns(label), run.probs)
    total = group_sums.sum(axis=0, keepdims=True)
    recorded = float(cells.formal.sum())
    summary = _summarise(
        total, pl.DataFrame({"scenario": [scenario.name]}), run.probs
    ).with_columns(recorded_formal_usd=pl.lit(recorded))
    # the median draw, whatever quantiles were asked for
    median_informal = float(np.median(total[0, QUANTITIES.index("informal")]))
    summary = summary.with_columns(
        informal_to_recorded=pl.lit(median_informal / recorded if recorded else None)
    )
    samples = _samples(group_sums, cells.groups, scenario.name) if run.keep_draws else None
    return (
        corridors,
        by_destination,
        by_period,
        summary,
        samples if samples is not None else pl.DataFrame(),
    )


def _samples(group_sums: F64, groups: pl.DataFrame, name: str) -> pl.DataFrame:
    """The per-draw sums of each (destination, period) as a long table."""
    n_groups, _, draws = group_sums.shape
    index = np.repeat(np.arange(n_groups), draws)
    frame = groups.select(
        pl.lit(name).alias("scenario"),
        pl.col(fs.DESTINATION).cast(pl.String),
        fs.PERIOD,
    )[index]
    return frame.with_columns(
        draw=pl.Series(np.tile(np.arange(draws, dtype=np.int64), n_groups)),
        **{
            quantity: pl.Series(group_sums[:, qi, :].reshape(-1))
            for qi, quantity in enumerate(QUANTITIES)
        },
    )


def checked_quantiles(quantiles: Sequence[float]) -> F64:
    """The probabilities sorted, each in (0, 1) and distinct, else ParameterError."""
    try:
        values = [float(q) for q in quantiles]
    except (TypeError, ValueError):
        values = []
    if not values or any(not (0.0 < q < 1.0) for q in values) or len(set(values)) != len(values):
        msg = (
            f"quantiles must be distinct probabilities strictly between 0 and 1, such as "
            f"(0.05, 0.5, 0.95), got {quantiles!r}"
        )
        raise ParameterError(msg)
    labels = quantile_columns("q", values)
    if len(set(labels)) != len(labels):
        msg = (
            f"quantiles {quantiles!r} give the same column name twice "
            f"({sorted(labels)}): columns are named to 6 significant digits of the percent; "
            "give probabilities that differ there"
        )
        raise ParameterError(msg)
    return np.array(sorted(values), dtype=np.float64)


def quantile_columns(quantity: str, quantiles: Sequence[float]) -> list[str]:
    """The column names of a quantity's percentiles: ``informal_p5``, ``informal_p2.5``..."""
    return [f"{quantity}_p{float(q) * 100:g}" for q in quantiles]


def _first(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.select(*columns, pl.exclude(columns))


def _scenarios(
    scenario: DeRiskingScenario | Sequence[DeRiskingScenario] | None,
) -> list[DeRiskingScenario]:
    if scenario is None:
        return [NO_SCENARIO]
    chosen = [scenario] if isinstance(scenario, DeRiskingScenario) else list(scenario)
    if not chosen or not all(isinstance(s, DeRiskingScenario) for s in chosen):
        msg = f"scenario must be a DeRiskingScenario, a list of them, or None, got {scenario!r}"
        raise ParameterError(msg)
    names = [s.name for s in chosen]
    if len(set(names)) != len(names):
        msg = f"scenario names must differ, got {names}"
        raise ParameterError(msg)
    return chosen


def prepare(
    panel: Any,
    baseline: Any,
    scenarios: Sequence[DeRiskingScenario],
    *,
    freq: str | None,
    value: str,
    sampling_noise: bool,
    what: str,
    drivers: Any = None,
) -> tuple[PanelSpec, _Cells, pl.DataFrame, pl.DataFrame | None]:
    """The panel's spec, its cells joined to the baseline, the baseline as polars, and the drivers."""
    frame = from_any(panel, what=what).eager()
    MissingColumnError.require(frame.columns, fs.ORIGIN, fs.DESTINATION)
    if value in frame.columns:  # an empty panel says so before its periods are read
        _check_recorded(frame, value, what)
    checked_table(frame, what=what, texts=[fs.CHANNEL])
    checked_table(frame, what=what, values=["cost_pct", fs.COST_RATIO, fs.N_TRANSFERS])
    spec = checked_panel(frame, freq=freq, value=value, what=what, keys=(fs.ORIGIN, fs.DESTINATION))
    base = from_any(baseline, what="the baseline").eager()
    MissingColumnError.require(base.columns, *BASELINE_COLUMNS)
    checked_table(base, what="the baseline", keys=[fs.ORIGIN, fs.DESTINATION])
    checked_table(base, what="the baseline", values=["cost_pct", *_BASELINE_LIMITS])
    _check_baseline_limits(base)
    channel_sets = sorted({s.channels for s in scenarios})
    grouped = _aggregate(frame, spec, channel_sets, sampling_noise=sampling_noise)
    joined, arrays = _join_baseline(grouped, _baseline_arrays(base))
    used = None
    if drivers is not None:
        joined, used = _join_drivers(joined, drivers, base, spec.freq)
    return spec, _cells_of(joined, arrays, channel_sets, spec.freq), base, used


def _check_recorded(frame: pl.DataFrame, value: str, what: str) -> None:
    """An empty panel and a negative recorded flow are errors, not zeros."""
    if frame.filter(pl.col(value).is_not_null()).is_empty():
        msg = (
            f"{what} has no rows with a {value}"
            + (" (every value is null)" if frame.height else "")
            + ": pass a panel with recorded flows"
        )
        raise SchemaError(msg)
    # a negative row is an error even where positive rows of its cell would hide it
    negative = frame.filter(pl.col(value) < 0)
    if negative.height:
        row = negative.row(0, named=True)
        msg = (
            f"{value} is negative for {row[fs.ORIGIN]} -> {row[fs.DESTINATION]} in "
            f"{row.get(fs.PERIOD)} ({row[value]:,.2f}): recorded flows must be >= 0"
        )
        raise SchemaError(msg)


def _aggregate(
    frame: pl.DataFrame,
    spec: PanelSpec,
    channel_sets: Sequence[tuple[str, ...]],
    *,
    sampling_noise: bool,
) -> pl.DataFrame:
    """One row per corridor and period: formal flow, flow in each channel set, cost, counts.

    Values are sorted inside each cell before they are summed, so that the sums do
    not depend on the order of the panel's rows (floating-point addition does).
    """
    amount = pl.col(spec.value).cast(pl.Float64)
    has_channel = fs.CHANNEL in frame.columns
    channel = pl.col(fs.CHANNEL).cast(pl.String)
    formal_rows = ~channel.is_in(list(fs.INFORMAL_CHANNELS)) if has_channel else pl.lit(True)

    def total(expr: pl.Expr, rows: pl.Expr) -> pl.Expr:
        return expr.filter(rows).sort().sum()

    informal_rows = ~formal_rows if has_channel else pl.lit(False)
    aggs = [total(amount, formal_rows).alias("_formal"), total(amount, informal_rows).alias("_inf")]
    aggs += [
        total(amount, _in_channels(channel, channels, has_channel, formal_rows)).alias(
            f"_exposed{i}"
        )
        for i, channels in enumerate(channel_sets)
    ]
    if "cost_pct" in frame.columns:
        aggs.append(pl.col("cost_pct").cast(pl.Float64).sort().mean().alias("_cost"))
    elif fs.COST_RATIO in frame.columns:
        cost = 100.0 * pl.col(fs.COST_RATIO).cast(pl.Float64)
        aggs.append(cost.sort().mean().alias("_cost"))
    if sampling_noise and fs.N_TRANSFERS in frame.columns:
        count = pl.col(fs.N_TRANSFERS).cast(pl.Float64)
        aggs.append(total(count, formal_rows).alias("_n_formal"))
        aggs.append(total(count, informal_rows).alias("_n_inf"))
    grouped = (
        frame.filter(pl.col(spec.value).is_not_null())
        .group_by(
            pl.col(fs.ORIGIN).cast(pl.String),
            pl.col(fs.DESTINATION).cast(pl.String),
            pl.col(fs.PERIOD).dt.truncate(spec.freq).cast(pl.Date),
        )
        .agg(*aggs)
    )
    costs = grouped.get_column("_cost") if "_cost" in grouped.columns else None
    if costs is not None and ((costs < 0) | costs.is_nan()).any():
        msg = (
            "the panel's cost_pct (or cost_ratio) is negative or NaN in some cells: costs are >= 0"
        )
        raise SchemaError(msg)
    return grouped


def _in_channels(
    channel: pl.Expr, channels: tuple[str, ...], has_channel: bool, formal_rows: pl.Expr
) -> pl.Expr:
    """Rows in ``channels``; without a channel column, all formal rows for a closure, none
    for formalisation (whose share then defaults to all of the informal flow)."""
    if has_channel:
        return channel.is_in(list(channels))
    informal = bool(set(channels) & set(fs.INFORMAL_CHANNELS))
    return pl.lit(False) if informal else formal_rows


def _baseline_arrays(baseline: pl.DataFrame) -> pl.DataFrame:
    """The baseline's numbers per corridor, sorted by corridor and indexed (``_corridor``).

    The index only addresses the arrays; each corridor's random stream is keyed by
    its origin and destination (``flowlens.informal._keys``), so that adding or
    removing a corridor changes no other corridor's draws.
    """
    base = baseline.select(
        pl.col(fs.ORIGIN).cast(pl.String),
        pl.col(fs.DESTINATION).cast(pl.String),
        pl.col("informal_ratio", "offset", "log_sd_shared", "log_sd_own").cast(pl.Float64),
        *([pl.col("cost_pct").alias("_base_cost")] if "cost_pct" in baseline.columns else []),
    ).sort(_KEYS)
    duplicated = base.filter(pl.struct(_KEYS).is_duplicated())
    if duplicated.height:
        msg = (
            f"the baseline has {duplicated.height} rows for corridors that appear more than once, "
            f"e.g. {duplicated.select(_KEYS).row(0)}: one row per corridor"
        )
        raise ParameterError(msg)
    numbers_ = pl.col("informal_ratio", "offset", "log_sd_shared", "log_sd_own")
    bad = base.filter(pl.any_horizontal(~numbers_.is_finite() | (numbers_ < 0)))
    if bad.height:
        row = bad.row(0, named=True)
        msg = (
            f"the baseline's informal_ratio, offset, log_sd_shared and log_sd_own must be finite "
            f"and >= 0; {row[fs.ORIGIN]} -> {row[fs.DESTINATION]} has {row}"
        )
        raise ParameterError(msg)
    return base.with_row_index("_corridor")


def _join_baseline(grouped: pl.DataFrame, base: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each cell with its corridor's baseline row and cost, sorted by destination, period, origin."""
    joined = grouped.join(base, on=_KEYS, how="left")
    missing = joined.filter(pl.col("_corridor").is_null())
    if missing.height:
        examples = missing.select(_KEYS).unique().sort(_KEYS).head(3).rows()
        msg = (
            f"the baseline has no row for {missing.select(_KEYS).n_unique()} corridor(s) of the "
            f"panel, e.g. {examples}: build it from the same panel, or fill the gaps "
            "(baseline_from_costs fills missing costs from regional means)"
        )
        raise ParameterError(msg)
    for name in ("_cost", "_base_cost"):
        if name not in joined.columns:
            joined = joined.with_columns(pl.lit(None, dtype=pl.Float64).alias(name))
    joined = joined.with_columns(
        _cost=pl.coalesce("_cost", "_base_cost", pl.lit(DEFAULT_COST_PCT))
    ).sort(fs.DESTINATION, fs.PERIOD, fs.ORIGIN)
    return joined, base


def _cells_of(
    joined: pl.DataFrame, base: pl.DataFrame, channel_sets: Sequence[tuple[str, ...]], every: str
) -> _Cells:
    """The joined cells as flat arrays, with their (destination, period) groups and periods."""
    groups = joined.select(fs.DESTINATION, fs.PERIOD).unique(maintain_order=True)
    groups = groups.with_row_index("_group")
    joined = joined.join(groups, on=[fs.DESTINATION, fs.PERIOD], how="left", maintain_order="left")
    periods = joined.select(fs.PERIOD).unique().sort(fs.PERIOD).with_row_index("_period")
    period_of_group = (
        groups.join(periods, on=fs.PERIOD, how="left", maintain_order="left")["_period"]
        .cast(pl.Int64)
        .to_numpy()
    )
    starts = joined.select(pl.col(fs.PERIOD).cast(pl.Int64)).to_series().to_numpy()
    ends = (
        joined.select(pl.col(fs.PERIOD).dt.offset_by(every).cast(pl.Int64)).to_series().to_numpy()
    )
    ratio = base["informal_ratio"].to_numpy()
    corridor = joined["_corridor"].cast(pl.Int64).to_numpy()
    corridor_key = corridor_keys(base[fs.ORIGIN], base[fs.DESTINATION])
    shares = {
        channels: (
            pooled_share(joined, f"_exposed{i}", every)
            if set(channels) & set(fs.INFORMAL_CHANNELS)
            else (_exposed_share(joined, f"_exposed{i}", channels), np.zeros(joined.height))
        )
        for i, channels in enumerate(channel_sets)
    }
    return _Cells(
        keys=joined.select(fs.ORIGIN, fs.DESTINATION, fs.PERIOD),
        formal=joined["_formal"].to_numpy().astype(np.float64),
        exposed={channels: shares[channels][0] for channels in channel_sets},
        exposed_sd={channels: shares[channels][1] for channels in channel_sets},
        corridor=corridor,
        cell_key=cell_keys(corridor_key[corridor], starts.astype(np.int64)),
        group=joined["_group"].cast(pl.Int64).to_numpy(),
        cost_pct=joined["_cost"].to_numpy().astype(np.float64),
        period_start=starts.astype(np.float64),
        period_days=(ends - starts).astype(np.float64),
        ratio=ratio,
        offset=base["offset"].to_numpy(),
        log_sd_shared=base["log_sd_shared"].to_numpy(),
        log_sd_own=base["log_sd_own"].to_numpy(),
        corridor_key=corridor_key,
        noise_sd=_noise_sd(joined, ratio),
        n_formal=(
            joined["_n_formal"].fill_null(0.0).to_numpy().astype(np.float64)
            if "_n_formal" in joined.columns
            else np.zeros(joined.height)
        ),
        groups=groups.drop("_group"),
        periods=periods.drop("_period"),
        period_of_group=period_of_group,
        premium_change=(
            joined["_premium_change"].to_numpy().astype(np.float64)
            if "_premium_change" in joined.columns
            else np.zeros(joined.height)
        ),
    )


def _exposed_share(joined: pl.DataFrame, column: str, channels: tuple[str, ...]) -> F64:
    """Share of the cell's formal (closure) or informal (formalisation) flow in ``channels``.

    Without rows in any of the side's channels (no ``channel`` column, or a cell with
    none of that side), all of the side's flow is treated as in them.
    """
    informal = bool(set(channels) & set(fs.INFORMAL_CHANNELS))
    side = joined["_inf" if informal else "_formal"].to_numpy().astype(np.float64)
    exposed = joined[column].to_numpy().astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share: F64 = np.where(side > 0, exposed / side, 1.0 if informal else 0.0)
    return share


POOL_PERIODS = 6
"""Periods either side of a period whose informal flow is pooled, with the period's own,
for the share of informal flow in a formalisation scenario's channels (13 periods: a
year around a month). A channel share recorded in one month of a small corridor is
often 0 or 1 by chance; the pool is what the share is, around that month (an
assumption: shares drift slowly)."""
SHARE_PRIOR_TRANSFERS = 20.0
"""Weight, in informal transfers, of the receiving country's pooled share in a
corridor's: a corridor with n informal transfers in its pool takes
(n s_corridor + 20 s_country) / (n + 20) (a beta-binomial shrinkage; 20 an assumption:
a corridor's own share counts for half once it has 20 transfers)."""


def pooled_share(
    joined: pl.DataFrame, column: str, every: str
) -> tuple[F64, F64]:  # long: two pools, the shrinkage and its spread
    """Share of each cell's informal flow in a formalisation's channels, pooled, with its spread.

    Per corridor, the informal flow in the channels (``column``) and in all informal
    channels (``_inf``) are summed over ``POOL_PERIODS`` periods either side of the
    cell's period; the receiving country's share over the same window is the prior
    it is shrunk to, with ``SHARE_PRIOR_TRANSFERS`` (beta-binomial, the corridor's
    informal transfers ``_n_inf`` its weight). The spread is the beta posterior's,
    on the logit scale: 1 / sqrt((n + m + 1) s (1 - s)). Without transfer counts the
    pooled value share is taken as known (spread 0); a corridor without informal
    flow in its window takes the country's share, and a country without any takes 1
    (all of the informal flow, as for a cell without channel rows).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> from flowlens.informal._estimate import pooled_share
    >>> months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 4, 1), "1mo", eager=True)
    >>> cells = pl.DataFrame({"origin": "USA", "destination": "SOM", "period": months,
    ...     "_inf": [10.0, 10.0, 10.0, 10.0], "_cash": [0.0, 10.0, 0.0, 0.0]})
    >>> share, spread = pooled_share(cells, "_cash", "1mo")
    >>> share.tolist(), spread.tolist()
    ([0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 0.0])
    """
    match = re.fullmatch(r"(\d+)(\D+)", every)
    if match is None:
        msg = f"freq {every!r} must be a count and a unit, such as '1mo' or '1q'"
        raise ParameterError(msg)
    step, unit = int(match[1]), match[2]
    span = f"{(2 * POOL_PERIODS + 1) * step}{unit}"
    offset = f"-{(POOL_PERIODS + 1) * step}{unit}"  # the window (t - 7, t + 6]: t - 6 .. t + 6
    counted = "_n_inf" in joined.columns
    values = [column, "_inf", *(["_n_inf"] if counted else [])]
    cells = joined.select(
        fs.ORIGIN, fs.DESTINATION, fs.PERIOD, *[pl.col(v).fill_null(0.0) for v in values]
    )
    keys = [fs.ORIGIN, fs.DESTINATION, fs.PERIOD]
    # One row per corridor-period (a period given twice has the same window twice),
    # joined back onto the cells in their own order: each cell takes its own window.
    corridor = (
        cells.sort(*keys)
        .rolling(fs.PERIOD, period=span, offset=offset, group_by=[fs.ORIGIN, fs.DESTINATION])
        .agg(*[pl.col(v).sum().alias(f"_pool{v}") for v in values])
        .unique(keys, keep="first")
    )
    corridor = cells.select(*keys).join(
        corridor, on=keys, how="left", validate="m:1", maintain_order="left"
    )
    country = (
        cells.group_by(fs.DESTINATION, fs.PERIOD)
        .agg(pl.col(column, "_inf").sum())
        .sort(fs.DESTINATION, fs.PERIOD)
        .rolling(fs.PERIOD, period=span, offset=offset, group_by=fs.DESTINATION)
        .agg(country=pl.col(column).sum() / pl.col("_inf").sum())
    )
    pooled = corridor.join(
        country, on=[fs.DESTINATION, fs.PERIOD], how="left", maintain_order="left"
    ).with_columns(
        own=pl.when(pl.col("_pool_inf") > 0).then(pl.col(f"_pool{column}") / pl.col("_pool_inf")),
        country=pl.col("country").fill_nan(None),
    )
    if counted:
        n = pl.col("_pool_n_inf")
        prior = pl.coalesce("country", "own")
        a = n * pl.col("own").fill_null(0.0) + SHARE_PRIOR_TRANSFERS * prior
        weight = n + SHARE_PRIOR_TRANSFERS
        share = pl.coalesce(a / weight, pl.lit(1.0))
        inner = (share > 0) & (share < 1)
        spread = (
            pl.when(inner & pl.col("country").is_not_null())
            .then(1.0 / (share * (1.0 - share) * (weight + 1.0)).sqrt())
            .otherwise(0.0)
        )
    else:
        share = pl.coalesce("own", "country", pl.lit(1.0))
        spread = pl.lit(0.0)
    out = pooled.select(share=share, spread=spread)
    return (
        out["share"].to_numpy().astype(np.float64),
        out["spread"].to_numpy().astype(np.float64),
    )


def _join_drivers(
    joined: pl.DataFrame, drivers: Any, base: pl.DataFrame, every: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each cell's premium change (and cost, where the drivers give one), and the drivers as used.

    Raises ParameterError for a driver country the panel does not have, a key given
    twice, a null or non-finite premium, and a cell of a named country or corridor
    without a row for its period.
    """
    used, keys = checked_drivers(drivers, every, joined)
    key = [*keys, fs.PERIOD]
    named = joined.join(used.select(keys).unique(), on=keys, how="semi")
    cells = named.join(used, on=key, how="left")
    gaps = cells.filter(pl.col("premium_pct").is_null())
    if gaps.height:
        row = gaps.select(*keys, fs.PERIOD).sort(fs.PERIOD).row(0)
        msg = (
            f"the drivers name {row[:-1]} but have no row for {gaps.height} of its "
            f"corridor-periods, e.g. {row[-1]}: give a premium_pct for every period of "
            "the panel (the premium before an episode is usually 0)"
        )
        raise ParameterError(msg)
    base_premium = (
        base.select(
            pl.col(fs.ORIGIN).cast(pl.String),
            pl.col(fs.DESTINATION).cast(pl.String),
            pl.col("premium_pct").cast(pl.Float64).alias("_base_premium"),
        )
        if "premium_pct" in base.columns
        else None
    )
    out = joined.join(used, on=key, how="left", maintain_order="left")
    if base_premium is not None:
        out = out.join(base_premium, on=_KEYS, how="left", maintain_order="left")
    else:
        out = out.with_columns(_base_premium=pl.lit(0.0))
    change = pl.col("premium_pct") - pl.col("_base_premium").fill_null(0.0)
    out = out.with_columns(_premium_change=change.fill_null(0.0))
    if "cost_pct" in used.columns:
        out = out.with_columns(_cost=pl.coalesce(pl.col("cost_pct"), pl.col("_cost")))
    flags = used.join(
        joined.select(key).unique().with_columns(matched=pl.lit(True)),
        on=key,
        how="left",
        maintain_order="left",
    ).with_columns(pl.col("matched").fill_null(False))
    unused = flags.filter(~pl.col("matched"))
    if unused.height:
        warnings.warn(
            f"the drivers have {unused.height} row(s) for periods the panel does not have, "
            f"e.g. {unused.select(key).row(0)}: they move no flow (estimate.drivers marks "
            "them matched=False); cut the drivers to the panel's periods to silence this",
            UserWarning,
            stacklevel=5,  # the caller of estimate_informal or sensitivity
        )
    extra = ["cost_pct"] if "cost_pct" in used.columns else []
    return out.drop("premium_pct", "_base_premium", *extra), flags


def checked_drivers(
    drivers: Any, every: str, panel: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    """The drivers as used (keys as text, periods truncated to ``every``) and their keys.

    Raises ParameterError for a null, non-finite or <= -100 premium, for a key given
    twice (after truncation) and for a country or corridor ``panel`` does not have;
    SchemaError for a column of the wrong type.
    """
    table = from_any(drivers, what="the drivers").eager()
    MissingColumnError.require(table.columns, *DRIVER_COLUMNS)
    checked_table(table, what="the drivers", keys=[fs.DESTINATION], dates=[fs.PERIOD])
    checked_table(table, what="the drivers", values=["cost_pct"])
    keys = [fs.DESTINATION, *([fs.ORIGIN] if fs.ORIGIN in table.columns else [])]
    premium = pl.col("premium_pct").cast(pl.Float64)
    bad = table.filter(premium.is_null() | ~premium.is_finite() | (premium <= -100.0))
    if bad.height:
        msg = (
            f"the drivers: premium_pct must be a finite number above -100 (percent of the "
            f"official rate) in every row; {bad.height} row(s) are not, e.g. {bad.row(0)}: "
            "give 0 where there is no premium"
        )
        raise ParameterError(msg)
    used = table.select(
        *[pl.col(k).cast(pl.String) for k in keys],
        pl.col(fs.PERIOD).cast(pl.Date).dt.truncate(every),
        premium.alias("premium_pct"),
        *([pl.col("cost_pct").cast(pl.Float64)] if "cost_pct" in table.columns else []),
    )
    key = [*keys, fs.PERIOD]
    twice = used.filter(pl.struct(key).is_duplicated())
    if twice.height:
        msg = (
            f"the drivers have {twice.height} rows for keys that appear more than once "
            f"(periods are truncated to {every!r}), e.g. {twice.select(key).row(0)}: one row "
            f"per {', '.join(key)} (for a panel longer than the drivers' periods, average "
            "the premium over each of the panel's periods first)"
        )
        raise ParameterError(msg)
    have = panel.select(pl.col(k).cast(pl.String) for k in keys).unique()
    unknown = used.select(keys).unique().join(have, on=keys, how="anti")
    if unknown.height:
        msg = (
            f"the drivers name {unknown.height} {'/'.join(keys)} the panel does not have, "
            f"e.g. {unknown.sort(keys).row(0)}{_code_hint(unknown, keys)}: drop those rows, "
            "or write the countries as the panel does (ISO3)"
        )
        raise ParameterError(msg)
    return used, keys


def _code_hint(unknown: pl.DataFrame, keys: list[str]) -> str:
    """' (EGY?)' when the first unknown key is a name or ISO2 code of a country, else ''."""
    from flowlens.reference import to_iso3

    given = unknown.sort(keys).row(0)
    codes = pl.select([to_iso3(pl.lit(v, dtype=pl.String)) for v in given]).row(0)
    return f" (ISO3 {codes})" if all(codes) and codes != given else ""


def _noise_sd(joined: pl.DataFrame, ratio: F64) -> F64:
    """Per cell, the log-scale sampling noise of its informal sum (0 without transfer counts)."""
    if "_n_formal" not in joined.columns:
        return np.zeros(joined.height)
    n_formal = joined["_n_formal"].fill_null(0.0).to_numpy().astype(np.float64)
    n_informal = n_formal * ratio[joined["_corridor"].cast(pl.Int64).to_numpy()]
    with np.errstate(divide="ignore"):
        variance = 1.0 / np.maximum(n_informal, 1.0) + 1.0 / n_formal
    noise: F64 = np.where(n_formal > 0, SUM_CV * np.sqrt(variance), 0.0)
    return noise


def _draw(
    scenario: DeRiskingScenario,
    draws: int,
    seed: int,
    z_shared: F64,
    premium_response: Prior = PREMIUM_RESPONSE_DEFAULT,
) -> _Draws:
    """The scenario's parameters per draw.

    Every scenario draws from the same stream (``seed``, 2), whatever its name or
    its place in the list: common random numbers, so that the differences between
    scenarios are not Monte Carlo noise and each scenario's result does not depend
    on which others are run with it. Draws outside a parameter's range raise;
    nothing is clipped.
    """
    rng = np.random.default_rng([seed, 2])
    return _Draws(
        withdrawn=checked_sample(
            scenario.withdrawn_prior, rng, draws, "withdrawn", lower=0.0, upper=1.0
        ),
        cost_increase=checked_sample(
            scenario.cost_increase_prior, rng, draws, "cost_increase_pp", lower=0.0
        ),
        elasticity=checked_sample(
            scenario.elasticity_prior, rng, draws, "cost_elasticity", lower=0.0
        ),
        split=scenario.split_.sample(rng, draws),
        z_shared=z_shared,
        # its own stream: adding drivers leaves the scenario's draws as they were
        premium_response=checked_sample(
            premium_response, np.random.default_rng([seed, 4]), draws, "premium_response", lower=0.0
        ),
    )


def _progress(scenario: DeRiskingScenario, cells: _Cells) -> F64:
    """Mean over each period's days of the withdrawn fraction: 0 before start, ramping to 1, 0 after end.

    The ramp's running mean has a closed form, so this is exact without a loop over days.
    """
    epoch = dt.date(1970, 1, 1)
    start = float((scenario.start_date - epoch).days)
    end = np.inf if scenario.end_date is None else float((scenario.end_date - epoch).days)
    ramp = max(float(scenario.ramp_days), 1.0)

    def integral(t: F64) -> F64:
        """The integral of clip((s - start + 1) / ramp, 0, 1) over days s < t (step per day)."""
        days = np.clip(t - start, 0.0, None)  # days since start
        within = np.minimum(days, ramp)
        # sum_{i=1..n} i / ramp for the first n ramp days, then 1 a day
        partial = within * (within + 1.0) / (2.0 * ramp)
        return partial + np.maximum(days - ramp, 0.0)

    first = cells.period_start
    last = np.minimum(first + cells.period_days, end)
    covered = np.maximum(integral(last) - integral(np.minimum(first, last)), 0.0)
    result: F64 = np.clip(covered / cells.period_days, 0.0, 1.0)
    return result


def _reach(scenario: DeRiskingScenario, cells: _Cells) -> tuple[F64, F64]:
    """Per cell: the scenario's ramp progress, and the share of the flow it withdraws capacity from."""
    progress = _progress(scenario, cells)
    exposed = cells.exposed[scenario.channels] * progress
    if scenario.origin is not None or scenario.destination is not None:
        selected = cells.keys.select(scenario.corridor_filter()).to_series().to_numpy()
        exposed = exposed * selected
        progress = progress * selected
    return progress, exposed


def _chunks(n_cells: int, draws: int) -> Iterator[slice]:
    size = max(1, CHUNK_CELLS // max(draws, 1))
    for start in range(0, n_cells, size):
        yield slice(start, min(start + size, n_cells))


def _simulate(
    cells: _Cells,
    params: _Draws,
    progress: F64,
    exposed_share: F64,
    *,
    seed: int,
    threads: int,
    probs: F64 | None = None,
    informal_side: bool = False,
    compiled: bool = True,
    share: tuple[F64, F64] | None = None,
    predictive: bool = False,
) -> tuple[pl.DataFrame, F64]:
    """Per-cell statistics and per-(destination, period) sums per draw, for one scenario.

    ``share``: the pooled channel share the exposed share is drawn around, and its
    spread (logit scale); None: the exposed share as given, known.
    """
    probs = np.array(QUANTILES) if probs is None else probs
    if share is None:
        share = (np.zeros(cells.formal.size), np.zeros(cells.formal.size))
    per_draw = np.stack(
        [params.withdrawn, params.cost_increase, params.elasticity, params.premium_response]
    )
    if compiled:
        from flowlens.informal._kernel import Inputs, simulate_compiled

        starts = np.flatnonzero(np.r_[True, cells.group[1:] != cells.group[:-1]])
        inputs = Inputs(
            formal=cells.formal,
            exposed_share=exposed_share,
            share_base=share[0],
            share_sd=share[1],
            progress=progress,
            cost=cells.cost_pct,
            premium_change=cells.premium_change,
            corridor=cells.corridor,
            ratio=cells.ratio,
            offset=cells.offset,
            log_sd_shared=cells.log_sd_shared,
            log_sd_own=cells.log_sd_own,
            group_start=np.r_[starts, cells.formal.size].astype(np.int64),
            draws=per_draw,
            split=params.split,
            informal_side=informal_side,
            z_shared=params.z_shared,
            noise_sd=cells.noise_sd,
            n_formal=cells.n_formal,
            corridor_key=cells.corridor_key,
            cell_key=cells.cell_key,
            predictive=predictive,
        )
        stats, group_sums = simulate_compiled(inputs, seed, probs)
        return _stats_frame(stats, probs), group_sums
    n_cells = cells.formal.size
    draws = params.withdrawn.size
    stats = np.empty((len(QUANTITIES), probs.size + 1, n_cells))
    group_sums = np.zeros((cells.groups.height, len(QUANTITIES), draws))

    def run(part: slice) -> tuple[slice, F64, I64, F64]:
        values = _reference_values(
            cells,
            params,
            progress,
            exposed_share,
            part,
            seed,
            informal_side=informal_side,
            share=share,
            predictive=predictive,
        )
        cut = np.quantile(values, probs, axis=2)  # (quantile, quantity, cell)
        summary = np.concatenate([values.mean(axis=2)[None], cut], axis=0)
        group = cells.group[part]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        sums = np.add.reduceat(values, starts, axis=1)  # (quantity, group, draw)
        return part, summary, group[starts], sums

    parts = list(_chunks(n_cells, draws))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for part, summary, groups, sums in pool.map(run, parts):
            stats[:, :, part] = summary.transpose(1, 0, 2)
            group_sums[groups] += sums.transpose(1, 0, 2)
    return _stats_frame(stats, probs), group_sums


def _reference_values(  # noqa: PLR0917 - one chunk of the numpy reference path  # long: mirrors the compiled kernel step by step
    cells: _Cells,
    params: _Draws,
    progress: F64,
    exposed_share: F64,
    part: slice,
    seed: int,
    *,
    informal_side: bool = False,
    share: tuple[F64, F64],
    predictive: bool = False,
) -> F64:
    """The numpy reference: (quantity, cell, draw) values for the cells in ``part``."""
    from flowlens.informal._kernel import (
        SWITCH_CV2,
        hashed_normals,
        hashed_uniform_pairs,
        noise_seed,
        share_seed,
        switch_seeds,
    )

    draws = params.withdrawn.size
    formal = cells.formal[part][:, None]
    unique, position = np.unique(cells.corridor[part], return_inverse=True)
    z_own = hashed_normals(seed, draws, cells.corridor_key[unique])
    log_ratio = (
        cells.log_sd_shared[unique][:, None] * params.z_shared[None, :]
        + cells.log_sd_own[unique][:, None] * z_own
    )
    ratio = np.maximum(
        cells.ratio[unique][:, None] * np.exp(log_ratio) - cells.offset[unique][:, None], 0.0
    )[position]
    n_counted = cells.n_formal[part][:, None]
    fresh = (n_counted > 0.0) & predictive
    sd = np.where(fresh, 0.0, cells.noise_sd[part][:, None])
    z_cell = hashed_normals(noise_seed(seed), draws, cells.cell_key[part])
    if sd.any():
        ratio = ratio * np.exp(sd * z_cell - 0.5 * sd * sd)
    n_formal = np.where(fresh, 0.0, n_counted)  # no switch noise in a fresh month
    u_fresh = (np.full((formal.shape[0], draws), 0.5),) * 4
    if fresh.any():
        u_fresh = (
            *hashed_uniform_pairs(int(switch_seeds(seed)[1]), draws, cells.cell_key[part]),
            *hashed_uniform_pairs(int(switch_seeds(seed)[2]), draws, cells.cell_key[part]),
        )
    if n_formal.any():
        u_driver, u_out, u_in = (
            hashed_uniform_pairs(int(s), draws, cells.cell_key[part]) for s in switch_seeds(seed)
        )
    else:
        u_driver = u_out = u_in = (np.full((formal.shape[0], draws), 0.5),) * 2
    # the drivers: a logistic choice between formal and informal channels
    change = cells.premium_change[part][:, None] * params.premium_response[None, :]
    f1 = np.where(change != 0.0, (1.0 + ratio) / (1.0 + ratio * np.exp(change)), 1.0)
    out = np.maximum(1.0 - f1, 0.0)  # a part of the recorded transfers goes informal
    back = np.maximum(f1 - 1.0, 0.0)  # informal transfers come to formal channels
    f1 = np.where(
        f1 < 1.0,
        1.0 - np.minimum(out * _switch_noise(out, n_formal, *u_driver, thinned=True), 1.0),
        np.where(
            f1 > 1.0,
            1.0 + np.minimum(back * _switch_noise(back, n_formal, *u_driver, thinned=False), ratio),
            f1,
        ),
    )
    i1 = 1.0 + ratio - f1
    p = progress[part][:, None]
    rise = params.cost_increase[None, :]
    eps = params.elasticity[None, :]
    cost = cells.cost_pct[part][:, None]
    with np.errstate(divide="ignore", invalid="ignore"):  # a free corridor: the limit, in full
        kept = np.where(cost > 0, np.exp(-eps * np.log1p(rise / cost)), 0.0)
    k = np.where((rise > 0) & (eps > 0), p * (1.0 - kept), 0.0)
    base, spread = share[0][part][:, None], share[1][part][:, None]
    exposed = np.broadcast_to(exposed_share[part][:, None], (formal.shape[0], draws))
    drawn = (spread > 0.0) & (base > 0.0) & (base < 1.0)
    if drawn.any():
        z_share = hashed_normals(share_seed(seed), draws, cells.corridor_key[cells.corridor[part]])
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = np.log(base / (1.0 - base)) + spread * z_share
            exposed = np.where(drawn, exposed / base / (1.0 + np.exp(-logit)), exposed)
    w = exposed * params.withdrawn[None, :]
    split = params.split
    to_other = split[None, :, 1]
    if informal_side:
        from_formal, from_informal = f1 * k, i1 * w
        into = to_other * from_informal
        from_informal = np.minimum(
            from_informal * _switch_noise(into, n_formal, *u_in, thinned=False), i1
        )
    else:
        from_formal, from_informal = f1 * (w + (1.0 - w) * k), np.zeros_like(f1)
    # what leaves formal channels (to other formal providers stays recorded)
    leaving = (1.0 - to_other) * from_formal
    from_formal = np.minimum(
        from_formal * _switch_noise(leaving, n_formal, *u_out, thinned=True), f1
    )
    displaced = from_formal + from_informal
    unit_formal = f1 - from_formal + split[None, :, 1] * displaced
    unit_informal = i1 - from_informal + split[None, :, 0] * displaced
    unit_lost = split[None, :, 2] * displaced
    whole = 1.0 + ratio
    if fresh.any():  # a fresh month: its own sums, around a level drawn from the recorded one
        with np.errstate(divide="ignore"):
            level_sd = np.sqrt(np.log1p(SWITCH_CV2 / np.where(fresh, n_counted, 1.0)))
        level = np.exp(level_sd * z_cell - 0.5 * level_sd * level_sd)
        new_formal = (
            level * unit_formal * _switch_noise(unit_formal, n_counted, *u_fresh[:2], thinned=False)
        )
        new_informal = (
            level
            * unit_informal
            * _switch_noise(unit_informal, n_counted, *u_fresh[2:], thinned=False)
        )
        unit_formal = np.where(fresh, new_formal, unit_formal)
        unit_informal = np.where(fresh, new_informal, unit_informal)
        unit_lost = np.where(fresh, level * unit_lost, unit_lost)
        whole = np.where(fresh, unit_formal + unit_informal + unit_lost, whole)
    values: F64 = formal[None] * np.stack([unit_formal, unit_informal, unit_lost, whole])
    return values


def _switch_noise(moved: F64, n_formal: F64, u1: F64, u2: F64, *, thinned: bool) -> F64:
    """``flowlens.informal._kernel.switch_noise`` on arrays (the numpy reference)."""
    from flowlens.informal._kernel import _COUNT_CAP, COUNT_LIMIT, SWITCH_CV2

    moved, n_formal = np.broadcast_arrays(moved, n_formal)
    factor = np.ones(moved.shape)
    noisy = (n_formal > 0.0) & (moved > 0.0) & ~(thinned & (moved >= 1.0))
    expected = n_formal * moved
    big = noisy & (expected > COUNT_LIMIT)
    if big.any():
        relvar = SWITCH_CV2 / expected[big]
        if thinned:
            relvar = relvar * (1.0 - moved[big])
        s2 = np.log1p(relvar)
        z = np.sqrt(-2.0 * np.log(u1[big])) * np.cos(2.0 * np.pi * u2[big])
        factor[big] = np.exp(np.sqrt(s2) * z - 0.5 * s2)
    small = noisy & ~big
    if not small.any():
        return factor
    # the count by inverse CDF, all small cells at once (a loop over counts, not cells)
    q, n, lam, u = moved[small], n_formal[small], expected[small], u1[small]
    if thinned:
        p = np.exp(n * np.log1p(-q))
        top = np.minimum(np.floor(n), _COUNT_CAP)
    else:
        p = np.exp(-lam)
        top = np.full(q.shape, float(_COUNT_CAP))
    below = np.zeros(q.shape)
    k = np.zeros(q.shape)
    going = (below + p < u) & (k < top)
    while going.any():
        below = np.where(going, below + p, below)
        step = (n - k) / (k + 1.0) * (q / (1.0 - q)) if thinned else lam / (k + 1.0)
        p = np.where(going, p * step, p)
        k = np.where(going, k + 1.0, k)
        going = going & (below + p < u) & (k < top)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(p > 0.0, np.minimum(np.maximum((u - below) / p, 1e-300), 1.0), 0.5)
        relvar = AMOUNT_CV * AMOUNT_CV / k
        if thinned:
            relvar = relvar * np.maximum(1.0 - k / n, 0.0)
        s2 = np.log1p(relvar)
        z = np.sqrt(-2.0 * np.log(v)) * np.cos(2.0 * np.pi * u2[small])
        amount = k / lam * np.exp(np.sqrt(s2) * z - 0.5 * s2)
    factor[small] = np.where(k > 0.0, amount, 0.0)
    return factor


def _stats_frame(stats: F64, probs: F64) -> pl.DataFrame:
    """stats[quantity, (mean, percentiles...), cell] as named columns."""
    return pl.DataFrame(
        {
            name: stats[qi, si]
            for qi, quantity in enumerate(QUANTITIES)
            for si, name in enumerate(
                [f"{quantity}_mean", *quantile_columns(quantity, probs.tolist())]
            )
        }
    )


def _sum_by(group_sums: F64, index: I64, n: int) -> F64:
    out = np.zeros((n, *group_sums.shape[1:]))
    np.add.at(out, index, group_sums)
    return out


def _summarise(sums: F64, labels: pl.DataFrame, probs: F64 | None = None) -> pl.DataFrame:
    """Mean and percentiles over draws of (row, quantity, draw) sums."""
    probs = np.array(QUANTILES) if probs is None else probs
    cut = np.quantile(sums, probs, axis=2)  # (quantile, row, quantity)
    mean = sums.mean(axis=2)
    columns: dict[str, F64] = {}
    for qi, quantity in enumerate(QUANTITIES):
        columns[f"{quantity}_mean"] = mean[:, qi]
        for ci, name in enumerate(quantile_columns(quantity, probs.tolist())):
            columns[name] = cut[ci, :, qi]
    return labels.hstack(pl.DataFrame(columns))
