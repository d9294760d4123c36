"""DeRiskingScenario: which corridors lose formal capacity, when, how much, and how senders respond."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from flowlens import schema as fs
from flowlens._panelspec import country_codes
from flowlens.errors import ParameterError
from flowlens.freq import as_date
from flowlens.informal._priors import Fixed, Prior, Split, Triangular, Uniform, as_prior, in_range

WITHDRAWN_DEFAULT = Triangular(0.4, 0.6, 0.8)
"""Share of bank and MTO capacity withdrawn: an assumption, centred on the case best
documented, the Merchants Bank of California, which carried an estimated 60-80% of
US -> Somalia flows when it closed Somali MTO accounts on 2015-02-06
(data/samples/real/derisking_events.csv)."""
COST_INCREASE_DEFAULT = Uniform(0.0, 3.0)
"""Rise of the remaining formal providers' cost, in percentage points: an assumption
(within the 2-5 pp spread between bank and MTO costs in Remittance Prices Worldwide)."""
COST_ELASTICITY_DEFAULT = Triangular(0.2, 0.8, 1.6)
"""Elasticity of formal flows to their cost (the relative fall per relative rise in
cost), spanning the estimates in the literature: 0.22 for Tongan migrants in New
Zealand (Gibson, McKenzie and Rohorua 2006, "How cost elastic are remittances?",
Pacific Economic Bulletin 21(1)); about 1.6 in a bilateral gravity panel (Ahmed,
Mughal and Martinez-Zarzoso 2021, "Sending money home: transaction cost and
remittances to developing countries", The World Economy 44(8)); above 1 in a quarterly
panel of 71 countries (Kpodar and Imam 2024, "How do transaction costs influence
remittances?", World Development 177, 106537)."""
SPLIT_DEFAULT = Split(informal=0.5, other_formal=0.3, concentration=20.0)
"""Where displaced flow goes: an assumption. No study measures the split; reports on
Somalia after 2015 describe a move to hawala and cash carried by hand more than to
other formal providers, and some families receiving less."""
FORMALISATION_SPLIT_DEFAULT = Split(informal=0.3, other_formal=0.6, concentration=20.0)
"""Where flow goes when informal channels close (``channels=("cash_carry",)``: travel
stops, cash can no longer be carried by hand): to formal channels (``other_formal``),
to the informal channels still open (``informal``: hawala), or not sent. An assumption:
no study measures it; recorded flows to several countries rose in 2020 when travel
stopped, which says that much of the carried cash moved to formal channels."""
PREMIUM_RESPONSE_DEFAULT = Triangular(0.014, 0.03, 0.053)
"""How strongly senders move between formal and informal channels per percentage point of
parallel-market premium (the logistic slope beta: the odds of sending formally fall by a
factor exp(-beta) per point; see ``flowlens.informal._estimate``). An assumption,
calibrated so that a premium of 10 points displaces 5% (beta = 0.014) to 20% (0.053) of
formal flow, 11% at the mode, at the informal ratio 0.55 of ``CostModel``; the range the
falls of recorded remittances reach in episodes where a receiving country held its
official exchange rate well below the open-market rate. Freund and Spatafora (2008),
"Remittances, transaction costs, and informality", Journal of Development Economics 86(2),
give the sign (a parallel-market premium lowers recorded remittances), not this size.
The cost elasticities of ``COST_ELASTICITY_DEFAULT`` would predict far larger falls
(25-70% for 10 points on a 7% cost): they describe fees across corridors in the long
run, not a premium that senders expect to close."""


def _as_codes(value: str | Sequence[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        codes = (value,) if isinstance(value, str) else tuple(value)
    except TypeError:
        codes = ()
    if not codes or not all(isinstance(c, str) and c.strip() for c in codes):
        msg = f"{what} must be a country code, a list of them, or None (all), got {value!r}"
        raise ParameterError(msg)
    # normalised like the data: ISO2, names and World Bank spellings; unknown raises
    return country_codes(codes, f"DeRiskingScenario's {what}")


def _as_channels(channels: Sequence[str]) -> tuple[str, ...]:
    chosen = (channels,) if isinstance(channels, str) else tuple(channels)
    formal = [c for c in fs.CHANNELS if c not in fs.INFORMAL_CHANNELS]
    informal = list(fs.INFORMAL_CHANNELS)
    unknown = set(chosen) - set(formal) - set(informal)
    if not chosen or unknown:
        msg = (
            f"channels {sorted(unknown) if unknown else list(chosen)} are not channels that can "
            f"lose capacity: choose formal channels among {formal} (a closure) or informal "
            f"ones among {informal} (formalisation)"
        )
        raise ParameterError(msg)
    if set(chosen) & set(formal) and set(chosen) & set(informal):
        msg = (
            f"channels {list(chosen)} mix formal and informal channels: a scenario closes "
            "either formal channels (flow leaves them) or informal ones (flow returns to "
            "formal channels); write two scenarios"
        )
        raise ParameterError(msg)
    return chosen


def _as_date(value: dt.date | str | None, what: str) -> dt.date | None:
    """A date, or None; a datetime counts as its date (the model counts whole days)."""
    return None if value is None else as_date(value, what)


@dataclass(frozen=True)
class DeRiskingScenario:
    """Banks withdraw formal transfer capacity from some corridors: what would happen?

    Parameters
    ----------
    name
        How the scenario is labelled in the results.
    origin, destination
        Sending and receiving countries affected (an ISO3 code, a list, or None
        for all), normalised like the data: ``"US"`` and ``"United States"`` are
        ``"USA"``; a country flowlens does not know (``"ZZZ"``) raises
        :class:`flowlens.errors.ParameterError`, and so does, in
        :func:`estimate_informal`, a scenario that selects no corridor of the panel.
    start, end
        When capacity starts to be withdrawn (default 2000-01-01: before any panel,
        so throughout), and when it is restored (None: not within the panel): a
        date, an ISO string, or a datetime, which is taken as its date (the model
        counts whole days). Stored as dates.
    ramp_days
        Days until the full share is withdrawn (linear).
    channels
        Channels that lose capacity: formal ones (a closure, default bank and MTO:
        flow leaves formal channels) or informal ones (``("cash_carry",)`` when
        travel stops, ``("informal", "cash_carry")``: formalisation, flow returns to
        formal channels), never both. For a closure, when the panel has a
        ``channel`` column, other formal channels (mobile money, post) only see the
        cost rise; without one, all formal flow is treated as in these channels.
        For formalisation, the share of the baseline informal flow in these
        channels is the panel's (its informal and cash-carry rows) where it has
        some, else all of it.
    withdrawn
        Share of those channels' capacity withdrawn (a number or a prior), in [0, 1].
    cost_increase_pp
        Rise of the remaining formal providers' cost, in percentage points (>= 0;
        default ``COST_INCREASE_DEFAULT`` for a closure, 0 for formalisation). A
        fall of cost is not a capacity scenario: give it, with the dates, as the
        ``drivers`` of :func:`estimate_informal` (a premium that closes pulls flow
        back to formal channels); a negative value raises.
    cost_elasticity
        Relative fall of remaining formal flow per relative rise of its cost (>= 0):
        the flow left is ``(1 + rise / cost) ** -elasticity`` of what it was, a
        constant elasticity that never displaces all of it.
    split
        Where displaced flow goes: informal channels, other (for formalisation:
        the open) formal channels, or not sent (:class:`Split`; default
        ``SPLIT_DEFAULT`` for a closure, ``FORMALISATION_SPLIT_DEFAULT`` for
        formalisation).

    Every check raises :class:`flowlens.errors.ParameterError` naming the value and
    the allowed range; nothing is clipped. Defaults and their sources are in ``flowlens.informal.WITHDRAWN_DEFAULT``,
    ``COST_INCREASE_DEFAULT``, ``COST_ELASTICITY_DEFAULT`` and ``SPLIT_DEFAULT``.

    Examples
    --------
    >>> from flowlens.informal import DeRiskingScenario, Triangular
    >>> s = DeRiskingScenario("Merchants Bank", origin="USA", destination="SOM",
    ...                       start="2015-02-06", withdrawn=Triangular(0.6, 0.7, 0.8))
    >>> s.selects("USA", "SOM"), s.selects("GBR", "SOM")
    (True, False)
    >>> round(s.withdrawn.mean, 2)
    0.7
    """

    name: str
    origin: str | Sequence[str] | None = None
    destination: str | Sequence[str] | None = None
    start: dt.date | str = "2000-01-01"
    end: dt.date | str | None = None
    ramp_days: int = 30
    channels: tuple[str, ...] = ("bank", "mto")
    withdrawn: float | Prior = WITHDRAWN_DEFAULT
    cost_increase_pp: float | Prior | None = None
    cost_elasticity: float | Prior = COST_ELASTICITY_DEFAULT
    split: Split | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            msg = f"a scenario's name must be a non-empty string, got {self.name!r}"
            raise ParameterError(msg)
        object.__setattr__(self, "origin", _as_codes(self.origin, "origin"))
        object.__setattr__(self, "destination", _as_codes(self.destination, "destination"))
        object.__setattr__(self, "start", _as_date(self.start, "start"))
        object.__setattr__(self, "end", _as_date(self.end, "end"))
        object.__setattr__(self, "channels", _as_channels(self.channels))
        informal = self.formalises
        if self.cost_increase_pp is None:
            cost = Fixed(0.0) if informal else COST_INCREASE_DEFAULT
            object.__setattr__(self, "cost_increase_pp", cost)
        if self.split is None:
            split = FORMALISATION_SPLIT_DEFAULT if informal else SPLIT_DEFAULT
            object.__setattr__(self, "split", split)
        ranges = {"withdrawn": 1.0, "cost_increase_pp": math.inf, "cost_elasticity": math.inf}
        for name, upper in ranges.items():
            prior = in_range(as_prior(getattr(self, name), name), name, 0.0, upper)
            object.__setattr__(self, name, prior)
        if not isinstance(self.split, Split):
            msg = f"split must be a flowlens.informal.Split, got {self.split!r}"
            raise ParameterError(msg)
        ramp = self.ramp_days
        if not isinstance(ramp, numbers.Integral) or isinstance(ramp, bool) or ramp < 0:
            msg = f"ramp_days must be a whole number of days >= 0, got {ramp!r}"
            raise ParameterError(msg)
        if self.end_date is not None and self.end_date <= self.start_date:
            msg = f"end {self.end} is not after start {self.start}"
            raise ParameterError(msg)

    @property
    def formalises(self) -> bool:
        """Whether the scenario closes informal channels (flow returns to formal ones)."""
        return bool(set(self.channels) & set(fs.INFORMAL_CHANNELS))

    @property
    def split_(self) -> Split:
        """``split``, resolved (never None after construction)."""
        split = self.split
        assert isinstance(split, Split)  # noqa: S101 - __post_init__ resolved it
        return split

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        start = _as_date(self.start, "start")
        return start if start is not None else dt.date(2000, 1, 1)

    @property
    def end_date(self) -> dt.date | None:
        """``end`` as a date (None: open-ended)."""
        return _as_date(self.end, "end")

    @property
    def withdrawn_prior(self) -> Prior:
        """``withdrawn`` as a prior."""
        return as_prior(self.withdrawn, "withdrawn")

    @property
    def cost_increase_prior(self) -> Prior:
        """``cost_increase_pp`` as a prior."""
        value = self.cost_increase_pp
        return as_prior(Fixed(0.0) if value is None else value, "cost_increase_pp")

    @property
    def elasticity_prior(self) -> Prior:
        """``cost_elasticity`` as a prior."""
        return as_prior(self.cost_elasticity, "cost_elasticity")

    def selects(self, origin: str, destination: str) -> bool:
        """Whether the corridor ``origin -> destination`` is affected."""
        origins, destinations = self.origin, self.destination
        return (origins is None or origin in origins) and (
            destinations is None or destination in destinations
        )

    def corridor_filter(self) -> pl.Expr:
        """A polars expression that is true on the affected corridors' rows."""
        condition = pl.lit(True)
        if self.origin is not None:
            condition &= pl.col(fs.ORIGIN).cast(pl.String).is_in(list(self.origin))
        if self.destination is not None:
            condition &= pl.col(fs.DESTINATION).cast(pl.String).is_in(list(self.destination))
        return condition

    def with_(self, **changes: object) -> DeRiskingScenario:
        """A copy with some fields changed (the scenario itself is frozen).

        Examples
        --------
        >>> from flowlens.informal import DeRiskingScenario
        >>> DeRiskingScenario("a", origin="USA").with_(name="b", withdrawn=0.9).withdrawn
        Fixed(value=0.9)
        """
        return replace(self, **changes)  # type: ignore[arg-type]


NO_SCENARIO = DeRiskingScenario(
    "baseline",
    withdrawn=Fixed(0.0),
    cost_increase_pp=Fixed(0.0),
    cost_elasticity=Fixed(0.0),
    split=Split(0.0, 0.0, None),
)
"""Nothing withdrawn: the baseline informal flow alone."""
