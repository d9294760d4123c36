"""The synthetic world: countries, corridors, channel mixes, fees, and daily intensities.

Everything here is drawn once per seed from ``numpy.random.default_rng(seed)``;
the per-row draws (in ``_rows``) use a separate counter-based stream.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens.calendar import islamic_holidays
from flowlens.errors import FlowlensError
from flowlens.reference import countries
from flowlens.synth._config import CrisisEvent, DeRiskingEvent, SynthConfig
from flowlens.synth._recording import Corridors, Recording, build_recording

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Sending countries: (currency, relative size of the diaspora sending from there).
# Sizes are rough shares of world remittance outflows (World Bank/KNOMAD outflows,
# data/samples/real); currencies are ones the packaged ECB table covers for
# 2015-2024 (Kuwait and Russia send in USD here).
SENDERS: dict[str, tuple[str, float]] = {
    "USA": ("USD", 30.0), "SAU": ("SAR", 10.0), "ARE": ("AED", 8.0), "DEU": ("EUR", 6.0),
    "GBR": ("GBP", 5.0), "FRA": ("EUR", 4.0), "RUS": ("USD", 4.0), "CHE": ("CHF", 3.0),
    "KWT": ("USD", 3.0), "ITA": ("EUR", 3.0), "ESP": ("EUR", 3.0), "CAN": ("CAD", 3.0),
    "QAT": ("QAR", 3.0), "AUS": ("AUD", 2.0), "JPN": ("JPY", 1.5), "KOR": ("KRW", 1.5),
    "MYS": ("MYR", 1.5), "OMN": ("OMR", 1.5), "NLD": ("EUR", 1.0), "SWE": ("SEK", 1.0),
    "ZAF": ("ZAR", 1.0), "CHN": ("CNY", 1.0), "HKG": ("HKD", 1.0), "SGP": ("SGD", 1.0),
    "ISR": ("ILS", 1.0), "BEL": ("EUR", 1.0), "NOR": ("NOK", 0.5), "BHR": ("BHD", 0.5),
    "AUT": ("EUR", 0.5), "IND": ("INR", 0.5), "DNK": ("DKK", 0.3), "NZL": ("NZD", 0.3),
    "BRA": ("BRL", 0.3), "POL": ("PLN", 0.3), "TUR": ("TRY", 0.3), "CZE": ("CZK", 0.2),
}  # fmt: skip

# Large receivers (World Bank/KNOMAD inflows 2022, data/samples/real): relative sizes.
RECEIVER_ANCHORS = {
    "MEX": 10.0, "IND": 9.0, "PHL": 5.0, "CHN": 4.0, "PAK": 4.0, "EGY": 3.0, "BGD": 3.0,
    "NGA": 3.0, "VNM": 2.0, "GTM": 2.0, "UKR": 2.0, "MAR": 1.5, "NPL": 1.5, "LKA": 1.0,
    "SLV": 1.0, "HND": 1.0, "DOM": 1.0, "HTI": 0.8, "LBN": 0.8, "SOM": 0.5, "TUR": 0.8,
}  # fmt: skip

# Well-known diaspora links, as multipliers of the gravity score (an assumption).
AFFINITY: tuple[tuple[tuple[str, ...], tuple[str, ...], float], ...] = (
    (("USA",), ("MEX", "GTM", "SLV", "HND", "PHL", "IND", "CHN", "VNM", "DOM", "HTI", "SOM"), 6.0),
    (("SAU", "ARE", "KWT", "QAT", "OMN", "BHR"), ("IND", "PAK", "BGD", "EGY", "NPL", "PHL", "LKA", "YEM", "SOM"), 6.0),
    (("DEU", "FRA", "ITA", "ESP", "NLD", "BEL", "AUT", "CHE"), ("MAR", "TUR", "DZA", "TUN", "ROU", "POL", "UKR", "SEN", "LBN"), 3.0),
    (("GBR",), ("IND", "PAK", "NGA", "POL", "BGD", "SOM", "KEN"), 3.0),
    (("RUS",), ("UZB", "TJK", "KGZ", "UKR", "ARM", "AZE"), 6.0),
    (("CAN", "AUS", "NZL"), ("IND", "PHL", "CHN", "VNM", "HTI", "SOM"), 2.0),
)  # fmt: skip

REGION_SIZE = {
    "South Asia": 3.0, "Latin America & Caribbean": 2.5, "East Asia & Pacific": 2.0,
    "Sub-Saharan Africa": 1.5, "Middle East & North Africa": 1.5, "Europe & Central Asia": 1.0,
    "North America": 0.3,
}  # fmt: skip

# Remittance channel mix by receiving region: bank, mto, mobile_money, post, informal,
# cash_carry (an assumption shaped by the field: MTOs dominate, mobile money is large
# in Sub-Saharan Africa, informal channels large to South Asia and the Middle East).
REGION_MIX = {
    "Sub-Saharan Africa": (0.12, 0.45, 0.25, 0.02, 0.12, 0.04),
    "South Asia": (0.25, 0.45, 0.08, 0.02, 0.17, 0.03),
    "Latin America & Caribbean": (0.15, 0.70, 0.03, 0.02, 0.07, 0.03),
    "Middle East & North Africa": (0.25, 0.50, 0.03, 0.02, 0.17, 0.03),
    "East Asia & Pacific": (0.30, 0.50, 0.08, 0.02, 0.08, 0.02),
    "Europe & Central Asia": (0.35, 0.45, 0.05, 0.03, 0.10, 0.02),
    "North America": (0.50, 0.40, 0.05, 0.00, 0.04, 0.01),
}
PHILANTHROPY_MIX = (0.45, 0.35, 0.05, 0.00, 0.12, 0.03)
TRADE_MIX = (0.85, 0.10, 0.00, 0.00, 0.05, 0.00)

# Cost of sending, % of the amount, by channel: World Bank Remittance Prices
# Worldwide, 2023 (global average about 6.2%; banks about 11.5%, money transfer
# operators about 5.5%, mobile money about 3.8%, post offices about 7%), with
# Sub-Saharan Africa about 1.8 points dearer. Informal: hawala commissions of 1-2%
# (an assumption from the literature); cash carried by hand: no fee.
CHANNEL_FEE_PCT = (11.5, 5.5, 3.8, 7.0, 2.0, 0.0)
SSA_PREMIUM_PP = 1.8

MEDIAN_AMOUNT = {"remittance": 250.0, "philanthropy": 2000.0, "trade_investment": 15000.0}
AMOUNT_SIGMA = {"philanthropy": 1.0, "trade_investment": 1.0}

# Response of each flow type to a crisis: peak day of a gamma-like kernel (an
# assumption: philanthropy within days, remittances within weeks, trade and
# investment during the recovery months later).
RESPONSE_PEAK_DAYS = (21.0, 4.0, 150.0)
TRADE_RESPONSE_FACTOR = 0.5

FORMAL = np.array([True, True, True, True, False, False])
BANK, MTO, MOBILE, INFORMAL, CASH = 0, 1, 2, 4, 5


@dataclass(frozen=True)
class World:
    """Everything fixed by (config, seed), sized corridors x flow types x days."""

    config: SynthConfig
    first_day: int  # days since 1970 of config.start
    n_days: int
    corridors: pl.DataFrame  # corridor, origin, destination, currency, weight, ...
    origin_code: I64  # position in COUNTRY_ENUM, per corridor
    destination_code: I64
    currency_code: I64  # position in CURRENCY_ENUM, per corridor
    mix: F64  # (C, 3, 6) channel probabilities
    mix_cdf: F64  # (C, 3, 6) their running sums
    fee_pct: F64  # (C, 6)
    mu: F64  # (C, 3) log-median amount, USD
    sigma: F64  # (3,)
    cell_cdf: F64  # (D, 3 * C): per day, the CDF over cells (flow type * C + corridor)
    day_total: F64  # (D,) expected rows per day, up to a common scale
    month_index: I64  # (D,) month of each day, 0-based from the start month
    month_starts: list[dt.date]
    baseline_m: F64  # (C, 3, M) expected rows without crises (same scale)
    crisis_m: F64  # (C, 3, M) expected extra rows from crises
    lost_m: F64  # (C, 3, M) expected rows not sent because of de-risking
    events: pl.DataFrame
    derisk_corridor: I64  # (E,) corridor of each de-risking event
    derisk_ramp: F64  # (E, D) withdrawn share on each day
    recording: Recording  # reporting breaks, attribution changes, outliers

    @property
    def mean_amount(self) -> F64:
        """E[amount_usd] per (corridor, flow type): lognormal mean exp(mu + sigma^2 / 2)."""
        result: F64 = np.exp(self.mu + self.sigma[None, :] ** 2 / 2)
        return result


def _country_table() -> pl.DataFrame:
    table = countries().filter(pl.col("region").is_not_null() & (pl.col("status") != "former"))
    return table.select("iso3", "name", "region", pl.col("muslim_majority") == "true")


def build_world(config: SynthConfig, seed: int) -> World:
    """Draw the world for ``seed``: corridors, mixes, fees, amounts and daily intensities.

    The steps draw from one generator in a fixed order (corridors, channel mixes,
    fees, amounts, growth, crises), so a seed always gives the same world; random
    reporting breaks, attribution changes and outliers draw from generators of their
    own, so switching them on changes nothing else.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    table = _country_table()
    iso = table["iso3"].to_list()
    region = dict(zip(iso, table["region"].to_list(), strict=True))
    muslim = dict(zip(iso, table["muslim_majority"].to_list(), strict=True))
    chosen, receiver_mass = _choose_corridors(config, rng, iso, region)
    n_corridors = len(chosen)
    weight: F64 = 1.0 / np.arange(1, n_corridors + 1, dtype=np.float64) ** config.zipf_exponent
    origins = [o for o, _ in chosen]
    destinations = [d for _, d in chosen]
    currencies = [SENDERS[o][0] for o in origins]
    mix, fee, mu = _mixes_fees_amounts(rng, origins, destinations, region)
    sigma = np.array(
        [config.remittance_sigma, AMOUNT_SIGMA["philanthropy"], AMOUNT_SIGMA["trade_investment"]]
    )
    dest_muslim = np.array([muslim[d] for d in destinations], dtype=float)
    daily = _daily_intensities(
        config,
        rng,
        weight,
        mix,
        chosen=chosen,
        receiver_mass=receiver_mass,
        dest_muslim=dest_muslim,
    )
    corridor_table = pl.DataFrame(
        {
            "corridor": np.arange(n_corridors),
            "origin": pl.Series(origins).cast(fs.COUNTRY_ENUM),
            "destination": pl.Series(destinations).cast(fs.COUNTRY_ENUM),
            "currency": pl.Series(currencies).cast(fs.CURRENCY_ENUM),
            "weight": weight / weight.sum(),
            "destination_region": [region[d] for d in destinations],
            "muslim_majority_destination": dest_muslim.astype(bool),
            "informal_share": mix[:, 0, INFORMAL] + mix[:, 0, CASH],
            "cost_pct_bank": fee[:, BANK],
            "cost_pct_mto": fee[:, MTO],
            "median_remittance_usd": np.exp(mu[:, 0]),
        }
    )
    country_pos = {c: i for i, c in enumerate(fs.COUNTRY_ENUM.categories)}
    currency_pos = {c: i for i, c in enumerate(fs.CURRENCY_ENUM.categories)}
    return World(
        config=config,
        first_day=daily.first_day,
        n_days=config.n_days,
        corridors=corridor_table,
        origin_code=np.array([country_pos[o] for o in origins], dtype=np.int64),
        destination_code=np.array([country_pos[d] for d in destinations], dtype=np.int64),
        currency_code=np.array([currency_pos[c] for c in currencies], dtype=np.int64),
        mix=mix,
        mix_cdf=np.cumsum(mix, axis=2),
        fee_pct=fee,
        mu=mu,
        sigma=sigma,
        cell_cdf=daily.cell_cdf,
        day_total=daily.day_total,
        month_index=daily.month_index,
        month_starts=daily.month_starts,
        baseline_m=daily.baseline_m,
        crisis_m=daily.crisis_m,
        lost_m=daily.lost_m,
        events=daily.events,
        derisk_corridor=daily.derisk_corridor,
        derisk_ramp=daily.derisk_ramp,
        recording=build_recording(
            config,
            seed,
            Corridors(
                origins=origins,
                destinations=destinations,
                weight=weight / weight.sum(),
                month_starts=daily.month_starts,
                first_day=daily.first_day,
                n_days=config.n_days,
                sender_region={s: region[s] for s in SENDERS},
            ),
        ),
    )


def _choose_corridors(
    config: SynthConfig, rng: np.random.Generator, iso: list[str], region: dict[str, str]
) -> tuple[list[tuple[str, str]], dict[str, float]]:
    """The ``n_corridors`` largest (origin, destination) pairs by a gravity score, plus
    the de-risked corridors the config names; and each receiving country's mass."""
    receiver_mass = {
        c: RECEIVER_ANCHORS.get(c, float(rng.lognormal(0.0, 1.0)) * 0.3) * REGION_SIZE[region[c]]
        for c in iso
    }
    pairs = [(o, d) for o in SENDERS for d in iso if d != o]
    score = np.array([SENDERS[o][1] * receiver_mass[d] for o, d in pairs])
    for linked_origins, linked_destinations, factor in AFFINITY:
        hit = np.array([o in linked_origins and d in linked_destinations for o, d in pairs])
        score[hit] *= factor
    same_region = np.array([region.get(o) == region[d] for o, d in pairs])
    score[same_region] *= 2.0
    score *= np.exp(rng.normal(0.0, 0.5, len(pairs)))
    forced = [(e.origin, e.destination) for e in config.derisking]
    for pair in forced:
        if pair not in pairs:
            msg = f"de-risking corridor {pair} is not a corridor of the synthetic world"
            raise FlowlensError(msg)
    # USA -> MEX is pinned as the largest corridor, as in the World Bank's 2017 matrix
    score[pairs.index(("USA", "MEX"))] = np.inf
    order = np.argsort(-score, kind="stable")
    chosen = [pairs[i] for i in order[: config.n_corridors]]
    chosen += [p for p in forced if p not in chosen]
    return chosen, receiver_mass


def _mixes_fees_amounts(
    rng: np.random.Generator, origins: list[str], destinations: list[str], region: dict[str, str]
) -> tuple[F64, F64, F64]:
    """Channel mix (C, 3, 6), fee % per channel (C, 6) and log-median amounts (C, 3)."""
    n_corridors = len(origins)
    mix = np.empty((n_corridors, 3, 6))
    for i, d in enumerate(destinations):
        base = np.array(REGION_MIX[region[d]])
        mix[i, 0] = rng.dirichlet(base * 60 + 1e-3)
    mix[:, 1] = PHILANTHROPY_MIX
    mix[:, 2] = TRADE_MIX
    fee = np.tile(np.array(CHANNEL_FEE_PCT), (n_corridors, 1))
    ssa = np.array([region[d] == "Sub-Saharan Africa" for d in destinations])
    fee[ssa] += SSA_PREMIUM_PP * FORMAL
    fee *= np.exp(rng.normal(0.0, 0.2, (n_corridors, 1)))
    high_income_gulf = {"SAU", "ARE", "KWT", "QAT", "OMN", "BHR"}
    median = np.array(
        [MEDIAN_AMOUNT["remittance"] * (0.85 if o in high_income_gulf else 1.0) for o in origins]
    ) * np.exp(rng.normal(0.0, 0.15, n_corridors))
    mu = np.stack(
        [
            np.log(median),
            np.full(n_corridors, np.log(MEDIAN_AMOUNT["philanthropy"])),
            np.full(n_corridors, np.log(MEDIAN_AMOUNT["trade_investment"])),
        ],
        axis=1,
    )
    return mix, fee, mu


@dataclass(frozen=True)
class _Daily:
    """The daily side of the world: where each day's rows go, and the monthly truth."""

    first_day: int
    cell_cdf: F64
    day_total: F64
    month_index: I64
    month_starts: list[dt.date]
    baseline_m: F64
    crisis_m: F64
    lost_m: F64
    events: pl.DataFrame
    derisk_corridor: I64
    derisk_ramp: F64


def _daily_intensities(
    config: SynthConfig,
    rng: np.random.Generator,
    weight: F64,
    mix: F64,
    *,
    chosen: list[tuple[str, str]],
    receiver_mass: dict[str, float],
    dest_muslim: F64,
) -> _Daily:
    """Expected rows per (cell, day): trend x season x crises x de-risking, and the
    monthly baseline, crisis excess and de-risking loss that are the ground truth."""
    origins = [o for o, _ in chosen]
    destinations = [d for _, d in chosen]
    start = config.start_date
    first_day = (start - dt.date(1970, 1, 1)).days
    n_days = config.n_days
    days = np.arange(n_days)
    dates = pl.Series(days + first_day, dtype=pl.Int32).cast(pl.Date)
    month = dates.dt.month().to_numpy()
    year = dates.dt.year().to_numpy()
    growth = rng.normal(config.annual_growth, config.growth_spread, len(chosen))
    trend = np.exp(growth[:, None] * (days / 365.25)[None, :])
    eid_window = _holiday_window(config, first_day, n_days)
    mothers = ((month == 5) & (dates.dt.day().to_numpy() <= 10)).astype(float)
    dest_mex = np.array([d == "MEX" for d in destinations], dtype=float)
    season = (
        (1.0 + config.december_boost * (month == 12))[None, :]
        * (1.0 + config.eid_boost * dest_muslim[:, None] * eid_window[None, :])
        * (1.0 + config.mothers_day_boost * dest_mex[:, None] * mothers[None, :])
    )
    crises = _crises(config, rng, destinations, receiver_mass, start)
    hit, response = _crisis_response(
        crises, origins, destinations, rng, first_day=first_day, n_days=n_days
    )
    derisk_corridor, derisk_ramp = _derisking(config, chosen, first_day, n_days)
    month_index = ((year - year[0]) * 12 + month - month[0]).astype(np.int64)
    month_bounds = np.flatnonzero(np.r_[True, month_index[1:] != month_index[:-1]])
    by_day, baseline_m, crisis_m, lost_m = _cells_by_day(
        config,
        weight[:, None] * trend,
        season,
        mix,
        crisis=(hit, response),
        derisking=(derisk_corridor, derisk_ramp),
        month_bounds=month_bounds,
    )
    day_total = by_day.sum(axis=1)
    cell_cdf = np.cumsum(by_day, axis=1, out=by_day)
    cell_cdf /= cell_cdf[:, -1:]
    return _Daily(
        first_day=first_day,
        cell_cdf=cell_cdf,
        day_total=day_total,
        month_index=month_index,
        month_starts=[dt.date(int(year[b]), int(month[b]), 1) for b in month_bounds],
        baseline_m=baseline_m,
        crisis_m=crisis_m,
        lost_m=lost_m,
        events=_events_table(crises, config.derisking),
        derisk_corridor=derisk_corridor,
        derisk_ramp=derisk_ramp,
    )


def _cells_by_day(
    config: SynthConfig,
    trended: F64,
    season: F64,
    mix: F64,
    *,
    crisis: tuple[I64, F64],
    derisking: tuple[I64, F64],
    month_bounds: I64,
) -> tuple[F64, F64, F64, F64]:
    """Rows per (day, cell) and the monthly baseline, crisis excess and loss per cell.

    Cells are flow-type-major (cell = flow * C + corridor) and days are rows, so each
    day's CDF over cells is one contiguous row.
    """
    hit, response = crisis
    derisk_corridor, derisk_ramp = derisking
    n_corridors, n_days = trended.shape
    shares = np.array(config.flow_type_shares)
    by_day = np.empty((n_days, 3 * n_corridors))
    baseline_m = np.empty((n_corridors, 3, len(month_bounds)))
    crisis_m = np.empty_like(baseline_m)
    lost_m = np.zeros_like(baseline_m)
    seasonal = trended * season
    for f in range(3):  # three flow types, each a (C, D) array operation
        normal = (seasonal if f == 0 else trended) * shares[f]
        full = normal.copy()
        full[hit] *= 1.0 + response[f]
        for e, c in enumerate(derisk_corridor):  # few corridors: row updates
            formal = mix[c, f, BANK] + mix[c, f, MTO]
            lost_share = derisk_ramp[e] * formal * config.derisking[e].lost_share
            lost_m[c, f] = np.add.reduceat(full[c] * lost_share, month_bounds)
            full[c] *= 1.0 - lost_share
            normal[c] *= 1.0 - lost_share
        baseline_m[:, f] = np.add.reduceat(normal, month_bounds, axis=1)
        crisis_m[:, f] = np.add.reduceat(full, month_bounds, axis=1) - baseline_m[:, f]
        by_day[:, f * n_corridors : (f + 1) * n_corridors] = full.T
    return by_day, baseline_m, crisis_m, lost_m


def _holiday_window(config: SynthConfig, first_day: int, n_days: int) -> F64:
    """1.0 on the ``eid_window_days`` days before each Eid, else 0."""
    start = config.start_date
    holidays = islamic_holidays(start.year, config.end_date.year + 1).filter(
        pl.col("holiday").is_in(["eid_al_fitr", "eid_al_adha"])
    )
    eid_days = holidays["date"].cast(pl.Int32).to_numpy().astype(np.int64) - first_day
    window = np.zeros(n_days)
    for offset in range(1, config.eid_window_days + 1):  # a handful of offsets, not days
        hit = eid_days - offset
        hit = hit[(hit >= 0) & (hit < n_days)]
        window[hit] = 1.0
    return window


def _crises(
    config: SynthConfig,
    rng: np.random.Generator,
    destinations: list[str],
    receiver_mass: dict[str, float],
    start: dt.date,
) -> list[CrisisEvent]:
    events = [e for e in config.crises if config.start_date <= e.start_date <= config.end_date]
    candidates = sorted(set(destinations))
    mass = np.array([receiver_mass[c] for c in candidates])
    for k in range(config.n_random_crises):
        country = candidates[int(rng.choice(len(candidates), p=mass / mass.sum()))]
        offset = int(rng.integers(0, max(1, config.n_days - 60)))
        events.append(
            CrisisEvent(
                country,
                start + dt.timedelta(days=offset),
                magnitude=float(rng.uniform(0.1, 0.5)),
                name=f"random crisis {k + 1}",
            )
        )
    return events


def _crisis_response(
    crises: list[CrisisEvent],
    origins: list[str],
    destinations: list[str],
    rng: np.random.Generator,
    *,
    first_day: int,
    n_days: int,
) -> tuple[I64, F64]:
    """Corridors hit by any crisis, and their relative rise per flow type and day: (3, H, D)."""
    dest = np.array(destinations)
    hit_all = np.flatnonzero(np.isin(dest, [e.country for e in crises]))
    position = {c: i for i, c in enumerate(hit_all.tolist())}
    response = np.zeros((3, len(hit_all), n_days))
    origin_list = sorted(set(origins))
    for event in crises:  # a handful of events, each a vectorised (corridors x days) update
        hit = np.flatnonzero(dest == event.country)
        if hit.size == 0:
            continue
        strength = dict(zip(origin_list, rng.lognormal(0.0, 0.5, len(origin_list)), strict=True))
        diaspora = np.array([strength[origins[c]] for c in hit])
        rows = np.array([position[c] for c in hit.tolist()])
        t = np.arange(n_days) - ((event.start_date - dt.date(1970, 1, 1)).days - first_day)
        active = (t >= 0) & (t < event.duration_days)
        factors = (1.0, event.philanthropy_factor, TRADE_RESPONSE_FACTOR)
        for f, (peak, factor) in enumerate(zip(RESPONSE_PEAK_DAYS, factors, strict=True)):
            x = np.where(active, (t + 1) / peak, 0.0)
            kernel = x * np.exp(1.0 - x) * active
            response[f, rows] += event.magnitude * factor * diaspora[:, None] * kernel[None, :]
    return hit_all, response


def _derisking(
    config: SynthConfig, chosen: list[tuple[str, str]], first_day: int, n_days: int
) -> tuple[I64, F64]:
    index = {pair: i for i, pair in enumerate(chosen)}
    corridors = np.array(
        [index[(e.origin, e.destination)] for e in config.derisking], dtype=np.int64
    )
    if len(set(corridors.tolist())) != len(corridors):
        msg = "at most one de-risking event per corridor"
        raise FlowlensError(msg)
    ramp = np.zeros((len(config.derisking), n_days))
    for e, event in enumerate(config.derisking):
        t = np.arange(n_days) - ((event.start_date - dt.date(1970, 1, 1)).days - first_day)
        progress = np.clip((t + 1) / max(event.ramp_days, 1), 0.0, 1.0) * (t >= 0)
        ramp[e] = event.withdrawn * progress
    return corridors, ramp


def _events_table(crises: list[CrisisEvent], derisking: tuple[DeRiskingEvent, ...]) -> pl.DataFrame:
    rows = [
        {
            "kind": "crisis",
            "name": e.name,
            "origin": None,
            "destination": e.country,
            "start": e.start_date,
            "magnitude": e.magnitude,
            "duration_days": e.duration_days,
            "withdrawn": None,
        }
        for e in crises
    ] + [
        {
            "kind": "derisking",
            "name": e.name,
            "origin": e.origin,
            "destination": e.destination,
            "start": e.start_date,
            "magnitude": None,
            "duration_days": None,
            "withdrawn": e.withdrawn,
        }
        for e in derisking
    ]
    schema: dict[str, pl.DataType] = {
        "kind": pl.String(),
        "name": pl.String(),
        "origin": fs.COUNTRY_ENUM,
        "destination": fs.COUNTRY_ENUM,
        "start": pl.Date(),
        "magnitude": pl.Float64(),
        "duration_days": pl.Int64(),
        "withdrawn": pl.Float64(),
    }
    return pl.DataFrame(rows, schema=schema).sort("start")
