"""Parameters of the synthetic world: events, calendar effects, sizes. Every default cites its source."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, fields, replace
from typing import Any

from flowlens.errors import FlowlensError, ParameterError
from flowlens.freq import as_date

__all__ = [
    "AttributionChange",
    "CrisisEvent",
    "DeRiskingEvent",
    "FormalisationEpisode",
    "IsolatedOutlier",
    "PremiumEpisode",
    "ReportingBreak",
    "SynthConfig",
]

MAX_RECORDING_FACTOR = 20.0
"""The largest factor of a reporting break or an outlier. Banco de Mexico's inflows by
country of origin (Banco de Mexico, SIE; ``data/real/banxico_mexico_remittances_by_country_quarterly_2013_2026.csv``)
changed attribution in 2015Q2: from that quarter on Guatemala's series stands at about
0.3 times its earlier level, Honduras' 0.4, Spain's 1.6, Ecuador's 2.5, Germany's 5
and those of Colombia, France and the Dominican Republic 10 to 20 times. Twenty bounds
the rows a break can add."""


@dataclass(frozen=True)
class CrisisEvent:
    """A crisis that raises diaspora flows to ``country`` from ``start``.

    ``magnitude`` is the peak relative rise of remittances (0.3 = +30%);
    philanthropy rises ``philanthropy_factor`` times as much, within days, and
    trade and investment rise during recovery. ``duration_days`` bounds the
    response; each diaspora (origin country) responds with its own strength.

    Examples
    --------
    >>> from flowlens.synth import CrisisEvent
    >>> CrisisEvent("NPL", "2015-04-25", magnitude=0.4).magnitude
    0.4
    """

    country: str
    start: dt.date | str
    magnitude: float = 0.3
    duration_days: int = 120
    philanthropy_factor: float = 8.0
    name: str = ""

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return as_date(self.start, "CrisisEvent.start")


@dataclass(frozen=True)
class DeRiskingEvent:
    """Banks withdraw formal capacity from a corridor from ``start`` on.

    ``withdrawn`` is the share of bank and money-transfer-operator capacity
    withdrawn, reached after ``ramp_days``. Of the displaced flow,
    ``to_informal`` moves to hawala and cash carried by hand, ``to_other_formal``
    to mobile money, and the rest is not sent at all. Remaining formal transfers
    cost ``cost_shock_pp`` percentage points more.

    Examples
    --------
    >>> from flowlens.synth import DeRiskingEvent
    >>> DeRiskingEvent("USA", "SOM", "2015-02-06").lost_share
    0.2
    """

    origin: str
    destination: str
    start: dt.date | str
    withdrawn: float = 0.6
    ramp_days: int = 30
    to_informal: float = 0.5
    to_other_formal: float = 0.3
    cost_shock_pp: float = 2.0
    name: str = ""

    @property
    def lost_share(self) -> float:
        """Share of the displaced flow that is not sent at all."""
        return round(1.0 - self.to_informal - self.to_other_formal, 12)

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return as_date(self.start, "DeRiskingEvent.start")


class _Episode:
    """What the dated episodes share: a receiving country (and sending one), a span of days."""

    destination: str
    start: dt.date | str
    end: dt.date | str
    origin: str | None

    def _check_span(self) -> None:
        kind = type(self).__name__
        _country_code(self.destination, f"{kind}.destination")
        if self.origin is not None:
            _country_code(self.origin, f"{kind}.origin")
        if self.days <= 0:
            msg = f"{kind}.end {self.end} must be after start {self.start}"
            raise ParameterError(msg)

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return as_date(self.start, f"{type(self).__name__}.start")

    @property
    def end_date(self) -> dt.date:
        """``end`` as a date (the first day the episode is over)."""
        return as_date(self.end, f"{type(self).__name__}.end")

    @property
    def days(self) -> int:
        """Days of the episode."""
        return (self.end_date - self.start_date).days


@dataclass(frozen=True)
class PremiumEpisode(_Episode):
    """From ``start`` to ``end`` (exclusive), a parallel-market premium moves flow to informal channels.

    The receiving country holds its official exchange rate ``premium_pct`` percent
    below the open-market one: a sender gains that much by going informal. Each
    day of the episode, in every corridor to ``destination`` (or only from
    ``origin``), the odds of sending formally are multiplied by
    ``exp(-response * premium_pct)``: formal channels (bank, MTO, mobile money,
    post) lose flow to informal ones (hawala, cash) in proportion to their shares,
    and nothing is lost (migrants' earnings do not change). The same logistic as
    :func:`flowlens.informal.estimate_informal`'s drivers; ``response`` is the truth
    its prior (``PREMIUM_RESPONSE_DEFAULT``, mode 0.03) should cover. A negative
    premium pulls flow back to formal channels.

    Examples
    --------
    >>> from flowlens.synth import PremiumEpisode
    >>> PremiumEpisode("EGY", "2016-01-01", "2016-11-03", premium_pct=12.0).days
    307
    """

    destination: str
    start: dt.date | str
    end: dt.date | str
    premium_pct: float = 10.0
    response: float = 0.03
    origin: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        self._check_span()
        if not (_real(self.premium_pct) and -100.0 < self.premium_pct <= 1000.0):
            msg = f"PremiumEpisode.premium_pct must be a number in (-100, 1000], got {self.premium_pct!r}"
            raise ParameterError(msg)
        if not (_real(self.response) and 0.0 <= self.response <= 1.0):
            msg = f"PremiumEpisode.response must be a number in [0, 1] per point, got {self.response!r}"
            raise ParameterError(msg)


@dataclass(frozen=True)
class FormalisationEpisode(_Episode):
    """From ``start`` to ``end`` (exclusive), cash can no longer be carried by hand.

    When travel stops, ``withdrawn`` of the ``cash_carry`` flow of every corridor to
    ``destination`` (or only from ``origin``) cannot travel: ``to_formal`` of it
    moves to formal channels (in proportion to their shares) and the rest to hawala
    (the ``informal`` channel); nothing is lost. Recorded formal flow rises.

    Examples
    --------
    >>> from flowlens.synth import FormalisationEpisode
    >>> FormalisationEpisode("SOM", "2020-04-01", "2021-01-01", to_formal=0.6).to_informal
    0.4
    """

    destination: str
    start: dt.date | str
    end: dt.date | str
    withdrawn: float = 1.0
    to_formal: float = 0.6
    origin: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        self._check_span()
        for what in ("withdrawn", "to_formal"):
            value = getattr(self, what)
            if not (_real(value) and 0.0 <= value <= 1.0):
                msg = f"FormalisationEpisode.{what} must be a share in [0, 1], got {value!r}"
                raise ParameterError(msg)

    @property
    def to_informal(self) -> float:
        """Share of the carried cash that moves to hawala."""
        return round(1.0 - self.to_formal, 12)


def _country_code(value: object, what: str) -> None:
    if not (isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper()):
        msg = f"{what} must be an ISO 3166-1 alpha-3 code such as 'USA', got {value!r}"
        raise ParameterError(msg)


def _factor(value: object, what: str, low: float, high: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and low < value <= high)
    ):
        msg = f"{what} must be a number above {low:g} and at most {high:g}, got {value!r}"
        raise ParameterError(msg)


@dataclass(frozen=True)
class ReportingBreak:
    """From ``start`` on, the transfers of ``origin`` are recorded ``factor`` times as often.

    A reporting break is a change in what the statistics count (a reporter joins or
    leaves, a source country is attributed differently), not in what people send:
    each transfer of the corridor is recorded on average ``factor`` times. Below 1 a
    transfer is kept with probability ``factor``; above 1 it is kept and joined by
    further transfers like it (same day, corridor and channel, amount and sender drawn
    afresh), so the count and the sum of the series move by ``factor`` while the size
    of a transfer does not. ``destination`` None: every corridor of ``origin``;
    ``origin`` None: every corridor to ``destination`` (a receiving country's
    statistics change their coverage). The ground truth (``SynthTruth.panel``) is
    what was sent, before recording.

    Examples
    --------
    >>> from flowlens.synth import ReportingBreak
    >>> ReportingBreak("USA", "2019-01-01", 0.5, destination="GTM").start_date
    datetime.date(2019, 1, 1)
    """

    origin: str | None
    start: dt.date | str
    factor: float
    destination: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.origin is None and self.destination is None:
            msg = "ReportingBreak needs an origin, a destination or both; both are None"
            raise ParameterError(msg)
        if self.origin is not None:
            _country_code(self.origin, "ReportingBreak.origin")
        if self.destination is not None:
            _country_code(self.destination, "ReportingBreak.destination")
        _factor(self.factor, "ReportingBreak.factor", 0.0, MAX_RECORDING_FACTOR)
        self.start_date  # noqa: B018 - checks the date

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return as_date(self.start, "ReportingBreak.start")


@dataclass(frozen=True)
class AttributionChange:
    """From ``start`` on, ``share`` of ``from_origin``'s transfers are recorded as ``to_origin``.

    The transfers keep their amount, currency, channel and sender; only the sending
    country they are counted under changes (flows routed through a hub, or a
    reporter that changes its attribution). ``destination`` None: every corridor of
    ``from_origin``. A recorded corridor ``to_origin -> destination`` need not exist
    in the synthetic world: it then starts at ``start``.

    Examples
    --------
    >>> from flowlens.synth import AttributionChange
    >>> AttributionChange("SAU", "ARE", "2020-01-01", share=0.5).share
    0.5
    """

    from_origin: str
    to_origin: str
    start: dt.date | str
    share: float = 1.0
    destination: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _country_code(self.from_origin, "AttributionChange.from_origin")
        _country_code(self.to_origin, "AttributionChange.to_origin")
        if self.destination is not None:
            _country_code(self.destination, "AttributionChange.destination")
        if self.from_origin == self.to_origin:
            msg = f"AttributionChange.to_origin must differ from from_origin, both are {self.to_origin!r}"
            raise ParameterError(msg)
        _factor(self.share, "AttributionChange.share", 0.0, 1.0)
        self.start_date  # noqa: B018 - checks the date

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return as_date(self.start, "AttributionChange.start")


@dataclass(frozen=True)
class IsolatedOutlier:
    """In one ``month``, the transfers to ``destination`` are recorded ``factor`` times as often.

    A one-month jump that is not a crisis (a one-off bulk payment, a reporting error
    corrected the next month): recorded like a :class:`ReportingBreak` that lasts one
    calendar month. ``origin`` None: every corridor to ``destination``. ``month`` is
    any day of the month.

    Examples
    --------
    >>> from flowlens.synth import IsolatedOutlier
    >>> IsolatedOutlier(None, "PHL", "2018-06-15", factor=2.0).month_start
    datetime.date(2018, 6, 1)
    """

    origin: str | None
    destination: str
    month: dt.date | str
    factor: float = 2.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.origin is not None:
            _country_code(self.origin, "IsolatedOutlier.origin")
        _country_code(self.destination, "IsolatedOutlier.destination")
        _factor(self.factor, "IsolatedOutlier.factor", 0.0, MAX_RECORDING_FACTOR)
        self.month_start  # noqa: B018 - checks the date

    @property
    def month_start(self) -> dt.date:
        """The first day of ``month``."""
        return as_date(self.month, "IsolatedOutlier.month").replace(day=1)


DEFAULT_CRISES = (
    CrisisEvent("NPL", "2015-04-25", magnitude=0.45, name="Gorkha earthquake"),
    CrisisEvent("HTI", "2016-10-04", magnitude=0.35, name="Hurricane Matthew"),
    CrisisEvent("MEX", "2017-09-19", magnitude=0.15, name="Puebla earthquake"),
    CrisisEvent("LBN", "2020-08-04", magnitude=0.5, name="Beirut port explosion"),
    CrisisEvent("PAK", "2022-08-25", magnitude=0.3, name="Floods"),
    CrisisEvent("TUR", "2023-02-06", magnitude=0.3, name="Kahramanmaras earthquake"),
)
"""Onset dates as widely reported (see data/samples/real/crisis_events.csv); magnitudes
are assumptions of the same order as the post-disaster rises measured by Yang (2008),
"Coping with disaster: the impact of hurricanes on international financial flows",
B.E. Journal of Economic Analysis & Policy 8(1)."""

DEFAULT_DERISKING = (
    DeRiskingEvent(
        "USA", "SOM", "2015-02-06", withdrawn=0.6, name="Merchants Bank of California closure"
    ),
)
"""The US -> Somalia closure of 2015-02-06 (data/samples/real/derisking_events.csv); the
withdrawn share and the behavioural split are assumptions."""


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of the synthetic world. Defaults cite their sources; the rest are assumptions.

    Examples
    --------
    >>> from flowlens.synth import SynthConfig
    >>> cfg = SynthConfig(n_corridors=300, start="2020-01-01", end="2021-12-31")
    >>> cfg.n_days
    731
    """

    start: dt.date | str = "2015-01-01"
    end: dt.date | str = "2024-12-31"
    n_corridors: int = 2000
    zipf_exponent: float = 0.9
    """Corridor sizes by rank follow 1/rank^a. With 0.9 the top corridor (USA->MEX) carries
    8% and the top ten 27% of the volume of 2,000 corridors; in the World Bank's 2017
    bilateral matrix USA->MEX carries 5% and the top ten 22% of its 2,000 largest corridors
    (the real rank-size curve is flatter at the head and steeper in the tail: slope -0.73
    over the top 100, -1.36 over the top 2,000)."""
    flow_type_shares: tuple[float, float, float] = (0.945, 0.05, 0.005)
    """Rows by flow type (remittance, philanthropy, trade_investment): an assumption."""
    remittance_sigma: float = 0.7
    """Log-sd of remittance amounts: lognormal, median a few hundred USD (the USD 200
    benchmark of Remittance Prices Worldwide; median transfers of USD 200-500)."""
    annual_growth: float = 0.05
    """Mean yearly growth of remittances (World Bank/KNOMAD: about 5% a year in the
    2010s for low- and middle-income countries)."""
    december_boost: float = 0.15
    """December rise over a normal month: an assumption of the size seen in Banco de
    Mexico's monthly series (data/samples/real)."""
    eid_boost: float = 0.35
    """Rise in the 15 days before each Eid, corridors to Muslim-majority countries: an
    assumption."""
    eid_window_days: int = 15
    mothers_day_boost: float = 0.3
    """Rise in the 10 days before 10 May for corridors to Mexico (Mother's Day): an
    assumption matching the May peak of Banco de Mexico's series."""
    crises: tuple[CrisisEvent, ...] = DEFAULT_CRISES
    n_random_crises: int = 4
    derisking: tuple[DeRiskingEvent, ...] = DEFAULT_DERISKING
    observe: str = "all"
    """``all`` keeps every channel; ``formal`` drops informal and cash_carry rows, as
    a regulator sees the flows (the ground truth keeps them)."""
    ids: bool = True
    """Write ``sender_id`` and ``org_id`` (text ids cost about a quarter of the time)."""
    tx_ids: bool = False
    growth_spread: float = 0.02
    """Standard deviation of the corridors' yearly growth rates around ``annual_growth``:
    2 points (an assumption). 0.08 gives about a quarter of the corridors more than 10%
    a year, as inflows grew for a decade to many countries (World Bank/KNOMAD inflows,
    June 2023, data/real: Guatemala 14% a year 2012-2022, Mexico 13% 2015-2022, Nepal
    22% and Bangladesh 17% 2002-2012)."""
    reporting_breaks: tuple[ReportingBreak, ...] = ()
    """Changes in what the statistics count, from a date on (:class:`ReportingBreak`)."""
    attribution_changes: tuple[AttributionChange, ...] = ()
    """Transfers of one sending country counted under another (:class:`AttributionChange`)."""
    outliers: tuple[IsolatedOutlier, ...] = ()
    """One-month jumps that are not crises (:class:`IsolatedOutlier`)."""
    premium_episodes: tuple[PremiumEpisode, ...] = ()
    """Dated parallel-market premiums that move flow to informal channels (:class:`PremiumEpisode`)."""
    formalisation: tuple[FormalisationEpisode, ...] = ()
    """Dated ends of cash carried by hand that move flow to formal channels
    (:class:`FormalisationEpisode`)."""
    n_random_breaks: int = 0
    """Reporting breaks drawn from the seed: half on one corridor, chosen by its size,
    half on every corridor to a destination, chosen by its volume (an assumption)."""
    n_random_attribution_changes: int = 0
    """Attribution changes drawn from the seed (share 0.3-1 of a corridor, an assumption)."""
    n_random_outliers: int = 0
    """Isolated outliers drawn from the seed: three in four on one corridor, chosen by its
    size, one in four on every corridor to a destination (an assumption)."""
    break_factor_range: tuple[float, float] = (0.4, 2.5)
    """Smallest and largest factor of a random break, drawn log-uniform on either side of
    1, never between 0.8 and 1.25 (a break is visible). In the 2015 reattribution of
    Banco de Mexico's series by country (see ``MAX_RECORDING_FACTOR``) the larger series,
    Guatemala's to Ecuador's, moved by 0.3 to 2.5; the smaller ones by up to 20."""
    outlier_factor_range: tuple[float, float] = (1.5, 3.0)
    """Smallest and largest factor of a random outlier, log-uniform: an assumption."""

    def __post_init__(self) -> None:
        if self.observe not in ("all", "formal"):
            msg = f"observe must be 'all' or 'formal', got {self.observe!r}"
            raise FlowlensError(msg)
        if self.start_date > self.end_date:
            msg = f"start {self.start_date} is after end {self.end_date}"
            raise FlowlensError(msg)
        if self.n_corridors < 10:
            msg = f"n_corridors must be at least 10, got {self.n_corridors}"
            raise FlowlensError(msg)
        if abs(sum(self.flow_type_shares) - 1.0) > 1e-9:
            msg = f"flow_type_shares must sum to 1, got {self.flow_type_shares}"
            raise FlowlensError(msg)
        self._check_recording()

    def _check_recording(self) -> None:
        """The trend and recording fields: types and ranges, each error naming its field."""
        spread = self.growth_spread
        if not (_real(spread) and 0.0 <= spread <= 0.5):
            msg = f"growth_spread must be a number from 0 to 0.5 (a yearly rate), got {spread!r}"
            raise ParameterError(msg)
        kinds = (
            ("reporting_breaks", ReportingBreak),
            ("attribution_changes", AttributionChange),
            ("outliers", IsolatedOutlier),
            ("premium_episodes", PremiumEpisode),
            ("formalisation", FormalisationEpisode),
        )
        for name, kind in kinds:
            events = getattr(self, name)
            if isinstance(events, list):
                object.__setattr__(self, name, tuple(events))  # frozen: normalise once
                events = getattr(self, name)
            if not isinstance(events, tuple):
                msg = f"{name} must be a tuple of {kind.__name__}, got {events!r}"
                raise ParameterError(msg)
            for i, event in enumerate(events):
                if not isinstance(event, kind):
                    msg = (
                        f"{name}[{i}] must be a {kind.__name__}, got {event!r}; "
                        "SynthConfig.from_dict reads events given as plain objects"
                    )
                    raise ParameterError(msg)
        for name in ("n_random_breaks", "n_random_attribution_changes", "n_random_outliers"):
            count = getattr(self, name)
            if not (isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= 1000):
                msg = f"{name} must be a whole number from 0 to 1000, got {count!r}"
                raise ParameterError(msg)
        _check_range(
            self.break_factor_range, "break_factor_range", (0.0, 0.8), (1.25, MAX_RECORDING_FACTOR)
        )
        _check_range(
            self.outlier_factor_range,
            "outlier_factor_range",
            (1.0, MAX_RECORDING_FACTOR),
            (1.0, MAX_RECORDING_FACTOR),
        )

    @property
    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return as_date(self.start, "SynthConfig.start")

    @property
    def end_date(self) -> dt.date:
        """``end`` as a date."""
        return as_date(self.end, "SynthConfig.end")

    @property
    def n_days(self) -> int:
        """Days from start to end, inclusive."""
        return (self.end_date - self.start_date).days + 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthConfig:
        """Build from plain data (a parsed JSON file): events as lists of objects.

        Examples
        --------
        >>> from flowlens.synth import SynthConfig
        >>> cfg = SynthConfig.from_dict({"crises": [{"country": "HTI", "start": "2021-08-14"}]})
        >>> cfg.crises[0].country
        'HTI'
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"unknown synth config keys {unknown}; known: {sorted(known)}"
            raise FlowlensError(msg)
        values = dict(data)
        if "crises" in values:
            values["crises"] = tuple(CrisisEvent(**e) for e in values["crises"])
        if "derisking" in values:
            values["derisking"] = tuple(DeRiskingEvent(**e) for e in values["derisking"])
        if "flow_type_shares" in values:
            values["flow_type_shares"] = tuple(values["flow_type_shares"])
        kinds = (
            ("reporting_breaks", ReportingBreak),
            ("attribution_changes", AttributionChange),
            ("outliers", IsolatedOutlier),
            ("premium_episodes", PremiumEpisode),
            ("formalisation", FormalisationEpisode),
        )
        for name, kind in kinds:
            if name in values:
                values[name] = tuple(
                    _event(kind, e, f"{name}[{i}]") for i, e in enumerate(values[name])
                )
        for name in ("break_factor_range", "outlier_factor_range"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        return replace(cls(), **values)

    @classmethod
    def realistic(cls, **changes: Any) -> SynthConfig:
        """The default world with what real series do and the defaults leave out.

        Strong trends (``growth_spread=0.08``), 8 reporting breaks, 3 attribution
        changes and 20 isolated outliers drawn from the seed (``n_random_breaks``,
        ``n_random_attribution_changes``, ``n_random_outliers``). The counts are
        assumptions; ``changes`` overrides any field.

        Examples
        --------
        >>> from flowlens.synth import SynthConfig
        >>> cfg = SynthConfig.realistic(n_corridors=300)
        >>> cfg.n_random_breaks, cfg.growth_spread, cfg.n_corridors
        (8, 0.08, 300)
        """
        fields_ = {
            "growth_spread": 0.08,
            "n_random_breaks": 8,
            "n_random_attribution_changes": 3,
            "n_random_outliers": 20,
        }
        return cls(**{**fields_, **changes})


def _real(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_range(
    value: object, name: str, low: tuple[float, float], high: tuple[float, float]
) -> None:
    """A (smallest, largest) pair with the smallest in ``low`` and the largest in ``high``."""
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(_real(x) for x in value)
        and low[0] < value[0] <= low[1]
        and high[0] <= value[1] <= high[1]
        and value[0] <= value[1]
    )
    if not ok:
        msg = (
            f"{name} must be a (smallest, largest) pair with the smallest in ({low[0]:g}, "
            f"{low[1]:g}] and the largest in [{high[0]:g}, {high[1]:g}], got {value!r}"
        )
        raise ParameterError(msg)


def _event(kind: type, data: object, what: str) -> Any:
    """One event of ``kind`` from a parsed JSON object."""
    if isinstance(data, kind):
        return data
    if not isinstance(data, dict):
        msg = f"{what} must be an object of {kind.__name__} fields, got {data!r}"
        raise ParameterError(msg)
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        msg = f"{what} has unknown keys {unknown}; {kind.__name__} knows {sorted(known)}"
        raise ParameterError(msg)
    try:
        return kind(**data)
    except TypeError as exc:
        msg = f"{what}: {exc}"
        raise ParameterError(msg) from exc
