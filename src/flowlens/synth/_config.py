"""Parameters of the synthetic world: events, calendar effects, sizes. Every default cites its source."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any

from flowlens.errors import FlowlensError
from flowlens.freq import as_date

__all__ = ["CrisisEvent", "DeRiskingEvent", "SynthConfig"]


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
        return replace(cls(), **values)
