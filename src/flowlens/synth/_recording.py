"""What the statistics record of the transfers drawn: reporting breaks, attribution changes, outliers.

The transfers a run draws are what people sent (the ground truth). Recording is a
layer on top, as a central bank's series is: from a break on, each transfer of a
corridor is recorded on average ``factor`` times (kept with probability ``factor``
below 1; joined by further transfers like it above 1), in an outlier's month
likewise, and a share of one sending country's transfers is counted under another.

Every decision is a function of (seed, row number) through a counter-based hash,
so the output stays the same whatever the chunk size, and a run with recording
draws exactly the transfers of the same run without it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens import schema as fs
from flowlens.errors import ParameterError
from flowlens.synth._config import (
    AttributionChange,
    IsolatedOutlier,
    ReportingBreak,
    SynthConfig,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

COPY_SLOTS = 4096
"""Hash slots per drawn row: 0 decides how often it is recorded, 1 its attribution,
2 + 2j and 3 + 2j the amount and sender of its j-th further record (j < 2047)."""
RANDOM_SHARE = (0.3, 1.0)
"""Share of a corridor a random attribution change moves: an assumption."""
DESTINATION_WIDE_OUTLIERS = 0.25
"""Share of random outliers that hit every corridor to a destination (the rest hit one
corridor), an assumption: national monthly totals rarely jump for one month (in the
Mexican, Guatemalan and Colombian series of data/real, one month of 897 stands 1.5
times above the geometric mean of its two neighbours, 12 stand 1.3 times above it);
series by sending country jump more often."""
_COUNTRY_POSITION = {c: i for i, c in enumerate(fs.COUNTRY_ENUM.categories)}


@dataclass(frozen=True)
class Corridors:
    """What recording needs to know of the world's corridors."""

    origins: list[str]
    destinations: list[str]
    weight: F64  # (C,) share of the volume
    month_starts: list[dt.date]
    first_day: int  # days since 1970 of day 0
    n_days: int
    sender_region: dict[str, str]  # every sending country of the model


@dataclass(frozen=True)
class Recording:
    """The recording layer of a world: lookups per (corridor, day), and the truth tables."""

    n_days: int
    change_key: I64  # sorted corridor * n_days + day where a corridor's log factor changes
    change_log: F64  # the log factor in force from that key on, within its corridor
    attr_start: I64  # (C,) first day of a corridor's attribution change (n_days: none)
    attr_share: F64  # (C,)
    attr_to: I64  # (C,) position in COUNTRY_ENUM of the origin it is recorded under
    breaks: pl.DataFrame
    attribution_changes: pl.DataFrame
    outliers: pl.DataFrame

    @property
    def active(self) -> bool:
        """Whether anything is recorded other than as it was sent."""
        return self.change_key.size > 0 or bool((self.attr_start < self.n_days).any())

    def log_factor(self, corridor: I64, day: I64) -> F64:
        """The log of the recording factor of each (corridor, day): 0 where nothing changed."""
        if self.change_key.size == 0:
            return np.zeros(corridor.shape)
        key = corridor * self.n_days + day
        at = np.searchsorted(self.change_key, key, side="right") - 1
        safe = np.maximum(at, 0)
        own = (at >= 0) & (self.change_key[safe] // self.n_days == corridor)
        log: F64 = np.where(own, self.change_log[safe], 0.0)
        return np.where(np.abs(log) < 1e-12, 0.0, log)

    def apply(self, seed: int, row: I64, corridor: I64, day: I64) -> tuple[I64 | None, I64, I64]:
        """How drawn rows are recorded: (source row of each record, its copy number, origin code).

        Copy 0 is the drawn transfer itself; copies 1, 2, ... are further transfers
        like it; a row recorded 0 times is dropped. The source is None when every row
        is recorded once (then the copy numbers are 0). The origin code is -1 where
        the transfer keeps its own origin.
        """
        log = self.log_factor(corridor, day)
        changed = np.flatnonzero(log)
        times = np.ones(row.size, dtype=np.int64)
        if changed.size:
            factor = np.exp(log[changed])
            whole = np.floor(factor)
            draw = uniform(seed, row[changed], 0)
            times[changed] = (whole + (draw < factor - whole)).astype(np.int64)
        origin = np.full(row.size, -1, dtype=np.int64)
        moved = np.flatnonzero(day >= self.attr_start[corridor])
        if moved.size:
            relabel = uniform(seed, row[moved], 1) < self.attr_share[corridor[moved]]
            origin[moved[relabel]] = self.attr_to[corridor[moved[relabel]]]
        if not changed.size or (times[changed] == 1).all():
            return None, np.zeros(row.size, dtype=np.int64), origin
        source = np.repeat(np.arange(row.size, dtype=np.int64), times)
        first = np.cumsum(times) - times
        copy = np.arange(source.size, dtype=np.int64) - first[source]
        return source, copy, origin[source]


def uniform(seed: int, row: I64, slot: I64 | int) -> F64:
    """A uniform draw in [0, 1) for each (row, slot): SplitMix64 over a counter (Steele et al. 2014)."""
    mixed = _splitmix(np.array([seed ^ 0x5EC0_4D1E_D0C5_A11E], dtype=np.uint64))[0]
    counter = row.astype(np.uint64) * np.uint64(COPY_SLOTS) + np.asarray(slot, dtype=np.uint64)
    bits = _splitmix(counter * np.uint64(0x9E3779B97F4A7C15) + mixed)
    result: F64 = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return result


def _splitmix(x: U64) -> U64:
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    result: U64 = z ^ (z >> np.uint64(31))
    return result


def build_recording(config: SynthConfig, seed: int, world: Corridors) -> Recording:
    """The configured and random breaks, attribution changes and outliers of a world."""
    breaks = list(config.reporting_breaks)
    changes = list(config.attribution_changes)
    outliers = list(config.outliers)
    if config.n_random_breaks:
        breaks += _random_breaks(config, np.random.default_rng([seed, 0xB2EA, 0]), world)
    if config.n_random_attribution_changes:
        taken = {c for e in changes for c in _corridors_of(world, e.from_origin, e.destination)}
        rng = np.random.default_rng([seed, 0xB2EA, 1])
        changes += _random_changes(config, rng, world, taken)
    if config.n_random_outliers:
        outliers += _random_outliers(config, np.random.default_rng([seed, 0xB2EA, 2]), world)
    break_rows = _break_rows(config, world, breaks)
    outlier_rows = _outlier_rows(config, world, outliers)
    change_rows = _change_rows(config, world, changes)
    key, log = _changes_of_factor(world, break_rows, outlier_rows)
    n_corridors = len(world.origins)
    attr_start = np.full(n_corridors, world.n_days, dtype=np.int64)
    attr_share = np.zeros(n_corridors)
    attr_to = np.zeros(n_corridors, dtype=np.int64)
    if change_rows.height:
        at = change_rows["corridor"].to_numpy()
        attr_start[at] = change_rows["_day"].to_numpy()
        attr_share[at] = change_rows["share"].to_numpy()
        attr_to[at] = change_rows["_to"].to_numpy()
    return Recording(
        n_days=world.n_days,
        change_key=key,
        change_log=log,
        attr_start=attr_start,
        attr_share=attr_share,
        attr_to=attr_to,
        breaks=break_rows.drop("corridor", "_day"),
        attribution_changes=change_rows.drop("corridor", "_day", "_to"),
        outliers=outlier_rows.drop("corridor", "_day", "_end"),
    )


def _changes_of_factor(
    world: Corridors, breaks: pl.DataFrame, outliers: pl.DataFrame
) -> tuple[I64, F64]:
    """Sorted keys (corridor * n_days + day) where a log factor starts or ends, and the
    log factor in force from each key on, summed within its corridor."""
    n_days = world.n_days
    corridor = np.concatenate(
        [
            breaks["corridor"].to_numpy(),
            outliers["corridor"].to_numpy(),
            outliers["corridor"].to_numpy(),
        ]
    ).astype(np.int64)
    day = np.concatenate(
        [breaks["_day"].to_numpy(), outliers["_day"].to_numpy(), outliers["_end"].to_numpy()]
    ).astype(np.int64)
    delta = np.concatenate(
        [
            np.log(breaks["factor"].to_numpy()),
            np.log(outliers["factor"].to_numpy()),
            -np.log(outliers["factor"].to_numpy()),
        ]
    )
    if corridor.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    inside = day < n_days  # an outlier in the last month never ends within the run
    key = corridor[inside] * n_days + day[inside]
    delta = delta[inside]
    order = np.argsort(key, kind="stable")
    key, delta = key[order], delta[order]
    total = np.cumsum(delta)
    group = key // n_days
    starts = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(key.size), 0))
    log: F64 = total - (total - delta)[first]  # the sum from the corridor's first change on
    return key, log


def _day_of(world: Corridors, date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days - world.first_day


def _in_span(config: SynthConfig, date: dt.date, what: str) -> None:
    if not config.start_date <= date <= config.end_date:
        msg = (
            f"{what} {date} is outside the synthetic period {config.start_date} .. "
            f"{config.end_date}; move it inside or change SynthConfig.start and end"
        )
        raise ParameterError(msg)


def _corridors_of(world: Corridors, origin: str | None, destination: str | None) -> list[int]:
    return [
        i
        for i, (o, d) in enumerate(zip(world.origins, world.destinations, strict=True))
        if (origin is None or o == origin) and (destination is None or d == destination)
    ]


def _matched(world: Corridors, origin: str | None, destination: str | None, what: str) -> list[int]:
    hit = _corridors_of(world, origin, destination)
    if not hit:
        msg = (
            f"{what} (origin {origin!r}, destination {destination!r}) matches no corridor of "
            "the synthetic world, which holds the n_corridors largest; name one of its "
            "corridors (truth.corridors) or raise n_corridors"
        )
        raise ParameterError(msg)
    return hit


def _break_rows(
    config: SynthConfig, world: Corridors, breaks: list[ReportingBreak]
) -> pl.DataFrame:
    rows = []
    for b, event in enumerate(breaks):
        what = f"reporting_breaks[{b}]" if b < len(config.reporting_breaks) else event.name
        _in_span(config, event.start_date, f"{what}.start")
        for c in _matched(world, event.origin, event.destination, what):
            rows.append(
                {
                    "break": b,
                    "name": event.name,
                    "origin": world.origins[c],
                    "destination": world.destinations[c],
                    "start": event.start_date,
                    "period": event.start_date.replace(day=1),
                    "factor": float(event.factor),
                    "origin_wide": event.destination is None,
                    "destination_wide": event.origin is None,
                    "corridor": c,
                    "_day": _day_of(world, event.start_date),
                }
            )
    schema = {
        "break": pl.Int64(), "name": pl.String(), "origin": fs.COUNTRY_ENUM,
        "destination": fs.COUNTRY_ENUM, "start": pl.Date(), "period": pl.Date(),
        "factor": pl.Float64(), "origin_wide": pl.Boolean(), "destination_wide": pl.Boolean(),
        "corridor": pl.Int64(), "_day": pl.Int64(),
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _outlier_rows(
    config: SynthConfig, world: Corridors, outliers: list[IsolatedOutlier]
) -> pl.DataFrame:
    rows = []
    for k, event in enumerate(outliers):
        what = f"outliers[{k}]" if k < len(config.outliers) else event.name
        month = event.month_start
        following = (month + dt.timedelta(days=31)).replace(day=1)
        if not (config.start_date < following and month <= config.end_date):
            _in_span(config, month, f"{what}.month")
        for c in _matched(world, event.origin, event.destination, what):
            rows.append(
                {
                    "outlier": k,
                    "name": event.name,
                    "origin": world.origins[c],
                    "destination": world.destinations[c],
                    "period": month,
                    "factor": float(event.factor),
                    "destination_wide": event.origin is None,
                    "corridor": c,
                    "_day": max(_day_of(world, month), 0),
                    "_end": _day_of(world, following),
                }
            )
    schema = {
        "outlier": pl.Int64(), "name": pl.String(), "origin": fs.COUNTRY_ENUM,
        "destination": fs.COUNTRY_ENUM, "period": pl.Date(), "factor": pl.Float64(),
        "destination_wide": pl.Boolean(), "corridor": pl.Int64(), "_day": pl.Int64(),
        "_end": pl.Int64(),
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _change_rows(
    config: SynthConfig, world: Corridors, changes: list[AttributionChange]
) -> pl.DataFrame:
    rows = []
    seen: dict[int, str] = {}
    for k, event in enumerate(changes):
        what = f"attribution_changes[{k}]" if k < len(config.attribution_changes) else event.name
        _in_span(config, event.start_date, f"{what}.start")
        if event.to_origin not in _COUNTRY_POSITION:
            msg = f"{what}.to_origin {event.to_origin!r} is not a country code flowlens knows"
            raise ParameterError(msg)
        pairs = set(zip(world.origins, world.destinations, strict=True))
        for c in _matched(world, event.from_origin, event.destination, what):
            if c in seen:
                msg = (
                    f"{what} and {seen[c]} both move {world.origins[c]} -> "
                    f"{world.destinations[c]}: at most one attribution change per corridor"
                )
                raise ParameterError(msg)
            seen[c] = what
            rows.append(
                {
                    "change": k,
                    "name": event.name,
                    "from_origin": world.origins[c],
                    "to_origin": event.to_origin,
                    "destination": world.destinations[c],
                    "start": event.start_date,
                    "period": event.start_date.replace(day=1),
                    "share": float(event.share),
                    "new_corridor": (event.to_origin, world.destinations[c]) not in pairs,
                    "corridor": c,
                    "_day": _day_of(world, event.start_date),
                    "_to": _COUNTRY_POSITION[event.to_origin],
                }
            )
    schema = {
        "change": pl.Int64(), "name": pl.String(), "from_origin": fs.COUNTRY_ENUM,
        "to_origin": fs.COUNTRY_ENUM, "destination": fs.COUNTRY_ENUM, "start": pl.Date(),
        "period": pl.Date(), "share": pl.Float64(), "new_corridor": pl.Boolean(),
        "corridor": pl.Int64(), "_day": pl.Int64(), "_to": pl.Int64(),
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _event_months(world: Corridors) -> tuple[int, int]:
    """Months a random break or attribution change may start in: from the fifth year to
    three years before the end when the run spans eight years or more (history to score
    before, time to recover after), else the middle third."""
    n_months = len(world.month_starts)
    if n_months >= 96:
        return 48, n_months - 36
    low = n_months // 3
    return low, max(low, 2 * n_months // 3)


def _month_start(config: SynthConfig, world: Corridors, month: int) -> dt.date:
    return max(world.month_starts[month], config.start_date)


def _distinct(rng: np.random.Generator, n: int, weight: F64, field: str, unit: str) -> I64:
    available = int((weight > 0).sum())
    if n > available:
        msg = (
            f"{field} asks for {n} distinct {unit}, and the synthetic world has {available}; "
            f"lower {field} or raise n_corridors"
        )
        raise ParameterError(msg)
    chosen: I64 = rng.choice(weight.size, size=n, replace=False, p=weight / weight.sum())
    return chosen


def _random_breaks(
    config: SynthConfig, rng: np.random.Generator, world: Corridors
) -> list[ReportingBreak]:
    """Half on distinct corridors (by size), half on every corridor to distinct
    destinations (by volume): one source country re-attributed, or a receiving
    country's statistics changing their coverage."""
    n = config.n_random_breaks
    n_wide = int((rng.random(n) < 0.5).sum())
    corridors = _distinct(rng, n - n_wide, world.weight, "n_random_breaks", "corridors")
    destinations, volume = _destination_volume(world)
    wide = _distinct(rng, n_wide, volume, "n_random_breaks", "destinations")
    first, last = _event_months(world)
    months = rng.integers(first, last + 1, n)
    low, high = config.break_factor_range
    up = rng.random(n) < 0.5
    edge = np.log(1.25)
    size = np.where(
        up,
        rng.uniform(edge, max(edge, np.log(high)), n),
        -rng.uniform(edge, max(edge, -np.log(low)), n),
    )
    where = [(world.origins[c], world.destinations[c]) for c in corridors]
    where += [(None, destinations[d]) for d in wide]
    return [
        ReportingBreak(
            origin,
            _month_start(config, world, int(m)),
            float(np.exp(s)),
            destination=destination,
            name=f"random break {k + 1}",
        )
        for k, ((origin, destination), m, s) in enumerate(zip(where, months, size, strict=True))
    ]


def _destination_volume(world: Corridors) -> tuple[list[str], F64]:
    """The receiving countries, sorted, and their share of the volume."""
    volume = (
        pl.DataFrame({"d": world.destinations, "w": world.weight})
        .group_by("d")
        .agg(pl.col("w").sum())
        .sort("d")
    )
    return volume["d"].to_list(), volume["w"].to_numpy()


def _random_changes(
    config: SynthConfig, rng: np.random.Generator, world: Corridors, taken: set[int]
) -> list[AttributionChange]:
    weight = world.weight.copy()
    weight[list(taken)] = 0.0
    chosen = _distinct(
        rng,
        config.n_random_attribution_changes,
        weight,
        "n_random_attribution_changes",
        "corridors without an attribution change",
    )
    first, last = _event_months(world)
    months = rng.integers(first, last + 1, chosen.size)
    shares = rng.uniform(*RANDOM_SHARE, chosen.size)
    senders = sorted(world.sender_region)
    changes = []
    for k, (c, m, share) in enumerate(zip(chosen, months, shares, strict=True)):
        origin = world.origins[c]
        near = [
            s
            for s in senders
            if s != origin and world.sender_region[s] == world.sender_region[origin]
        ]
        pool = near or [s for s in senders if s != origin]
        changes.append(
            AttributionChange(
                origin,
                pool[int(rng.integers(len(pool)))],
                _month_start(config, world, int(m)),
                share=float(share),
                destination=world.destinations[c],
                name=f"random attribution change {k + 1}",
            )
        )
    return changes


def _random_outliers(
    config: SynthConfig, rng: np.random.Generator, world: Corridors
) -> list[IsolatedOutlier]:
    n = config.n_random_outliers
    n_months = len(world.month_starts)
    months = rng.integers(min(12, n_months - 1), n_months, n)
    low, high = config.outlier_factor_range
    factors = np.exp(rng.uniform(np.log(low), np.log(high), n))
    whole_destination = rng.random(n) < DESTINATION_WIDE_OUTLIERS
    corridor = rng.choice(world.weight.size, size=n, p=world.weight / world.weight.sum())
    destinations, volume = _destination_volume(world)
    destination = rng.choice(len(destinations), size=n, p=volume / volume.sum())
    return [
        IsolatedOutlier(
            None if whole else world.origins[c],
            destinations[d] if whole else world.destinations[c],
            world.month_starts[int(m)],
            factor=float(f),
            name=f"random outlier {k + 1}",
        )
        for k, (whole, c, d, m, f) in enumerate(
            zip(whole_destination, corridor, destination, months, factors, strict=True)
        )
    ]
