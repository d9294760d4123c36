"""Transaction rows: a vectorised kernel over a range of row numbers.

Row ``i`` takes four uniform draws from a Philox counter stream at counter ``i``,
and its day from fixed per-day row counts, so a row's content depends on the
seed and ``i`` alone: the output is the same whatever the chunk size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.special import ndtri

from flowlens import schema as fs
from flowlens.errors import FlowlensError
from flowlens.normalise import _default_dense
from flowlens.synth._config import FormalisationEpisode, PremiumEpisode
from flowlens.synth._recording import uniform
from flowlens.synth._world import BANK, CASH, INFORMAL, MOBILE, MTO, World

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_DRAWS_PER_ROW = 4  # one Philox4x64 block per row: cell, channel, amount, sender
_COUNTRIES = pl.Series(fs.COUNTRY_ENUM.categories, dtype=fs.COUNTRY_ENUM)
_CURRENCIES = pl.Series(fs.CURRENCY_ENUM.categories, dtype=fs.CURRENCY_ENUM)
_FLOW_TYPES = pl.Series(fs.FLOW_TYPES, dtype=fs.FLOW_TYPE_ENUM)
_CHANNELS = pl.Series(fs.CHANNELS[:6], dtype=fs.CHANNEL_ENUM)


@dataclass(frozen=True)
class RowPlan:
    """How many rows fall on each day, for a given total: fixed before any row is drawn."""

    world: World
    seed: int
    n_rows: int
    day_bounds: I64  # (D + 1,): rows of day d are day_bounds[d] .. day_bounds[d + 1] - 1
    scale: float  # expected rows per unit of intensity
    ids: IdBook  # migrants per corridor: each sends about once a month on average
    usd_per_unit: F64  # the packaged FX table, dense by (currency, day) (see flowlens.normalise)
    fx_first_day: int
    fx_n_days: int

    @classmethod
    def build(cls, world: World, seed: int, n_rows: int) -> RowPlan:
        cumulative = np.concatenate([[0.0], np.cumsum(world.day_total)])
        bounds = np.rint(cumulative / cumulative[-1] * n_rows).astype(np.int64)
        dense = _default_dense(7)
        rates = dense.values.to_numpy()
        last_day = world.first_day + world.n_days - 1
        for code in np.unique(world.currency_code):
            window = rates[
                code * dense.n_days + np.arange(world.first_day, last_day + 1) - dense.first_day
            ]
            if (
                world.first_day < dense.first_day
                or last_day >= dense.first_day + dense.n_days
                or np.isnan(window).any()
            ):
                name = fs.CURRENCY_ENUM.categories[int(code)]
                msg = f"the packaged FX table has no {name} rate for every day of the synthetic period"
                raise FlowlensError(msg)
        scale = n_rows / float(cumulative[-1])
        monthly = scale * (world.baseline_m[:, 0] + world.crisis_m[:, 0]).mean(axis=1)
        n_senders = np.maximum(1, np.rint(monthly)).astype(np.int64)
        return cls(
            world, seed, n_rows, bounds, scale, IdBook.build(n_senders),
            rates, dense.first_day, dense.n_days,
        )  # fmt: skip


def generate_rows(plan: RowPlan, first: int, last: int) -> tuple[pl.DataFrame, F64]:
    """Rows ``first`` .. ``last - 1`` of the plan, in the canonical schema (every channel),
    as recorded (reporting breaks, attribution changes and outliers applied), and the
    realised totals of the transfers drawn: (C, 3, M, 3) of formal USD, informal USD,
    transfers."""
    world = plan.world
    n = last - first
    rng = np.random.Generator(np.random.Philox(key=plan.seed, counter=first))
    u = rng.random((n, _DRAWS_PER_ROW))
    day = _days(plan.day_bounds, first, last)
    corridor, flow = _cells(world, day, u[:, 0])

    channel = _channels(world, corridor, flow, day, u[:, 1])
    z = ndtri(np.clip(u[:, 2], 1e-12, 1 - 1e-12))
    amount, rate, fee = _money(plan, corridor, flow, day, channel=channel, z=z)
    realised = _realised(world, corridor, flow, day, channel=channel, amount_usd=amount * rate)
    row = np.arange(first, last, dtype=np.int64)
    pick = u[:, 3]
    origin = world.origin_code[corridor]
    copy = None
    if world.recording.active:  # the same transfers, recorded as the statistics count them
        source, copy, relabelled = world.recording.apply(plan.seed, row, corridor, day)
        if source is not None:
            corridor, flow, day, channel = (
                corridor[source],
                flow[source],
                day[source],
                channel[source],
            )
            amount, rate, fee, pick = amount[source], rate[source], fee[source], pick[source]
            row = row[source]
        origin = np.where(relabelled >= 0, relabelled, world.origin_code[corridor])
        extra = np.flatnonzero(copy > 0)
        if extra.size:  # further transfers like the drawn one: amount and sender drawn afresh
            slot = 2 * copy[extra]
            z_extra = ndtri(np.clip(uniform(plan.seed, row[extra], slot), 1e-12, 1 - 1e-12))
            amount[extra], _, fee[extra] = _money(
                plan, corridor[extra], flow[extra], day[extra], channel=channel[extra], z=z_extra
            )
            pick[extra] = uniform(plan.seed, row[extra], slot + 1)

    currency = world.currency_code[corridor]
    columns: dict[str, pl.Series] = {
        "date": pl.Series("date", (world.first_day + day).astype(np.int32)).cast(pl.Date),
        "origin": _COUNTRIES.gather(origin).alias("origin"),
        "destination": _COUNTRIES.gather(world.destination_code[corridor]).alias("destination"),
        "flow_type": _FLOW_TYPES.gather(flow).alias("flow_type"),
        "channel": _CHANNELS.gather(channel).alias("channel"),
        "amount": pl.Series("amount", amount),
        "currency": _CURRENCIES.gather(currency).alias("currency"),
        # the same product load_flows computes, so that clean rows reproduce it exactly
        "amount_usd": pl.Series("amount_usd", amount * rate),
        "fee": pl.Series("fee", fee),
        "fee_usd": pl.Series("fee_usd", fee * rate),
    }
    frame = pl.DataFrame(columns)
    if world.config.ids:
        frame = frame.with_columns(plan.ids.pick(corridor, flow, pick))
    if world.config.tx_ids:
        tx_id = pl.concat_str(pl.lit("T"), pl.lit(pl.Series(row)).cast(pl.String))
        if copy is not None:  # a further record of row i is T<i>-<copy>
            suffix = pl.lit(pl.Series(copy))
            tx_id = (
                pl.when(suffix > 0)
                .then(pl.concat_str(tx_id, pl.lit("-"), suffix.cast(pl.String)))
                .otherwise(tx_id)
            )
        frame = frame.with_columns(tx_id=tx_id)
    return frame, realised


def _money(
    plan: RowPlan, corridor: I64, flow: I64, day: I64, *, channel: I64, z: F64
) -> tuple[F64, F64, F64]:
    """Amount (sender's currency), its USD rate and the fee of each transfer."""
    world = plan.world
    amount_usd_drawn = np.exp(world.mu[corridor, flow] + world.sigma[flow] * z)
    fee_pct = world.fee_pct[corridor, channel]
    for e, c in enumerate(world.derisk_corridor):  # events are few; each a masked update
        hit = (corridor == c) & ((channel == BANK) | (channel == MTO))
        share = world.derisk_ramp[e, day[hit]] / max(world.config.derisking[e].withdrawn, 1e-12)
        fee_pct[hit] += world.config.derisking[e].cost_shock_pp * share

    currency = world.currency_code[corridor]
    epoch_day = world.first_day + day
    rate = plan.usd_per_unit[currency * plan.fx_n_days + (epoch_day - plan.fx_first_day)]
    amount = np.round(amount_usd_drawn / rate, 2)
    amount = np.maximum(amount, 0.01)
    fee = np.round(amount * fee_pct / 100.0, 2)
    return amount, rate, fee


def _realised(
    world: World, corridor: I64, flow: I64, day: I64, *, channel: I64, amount_usd: F64
) -> F64:
    """Exact sums per (corridor, flow type, month): formal USD, informal USD, transfers."""
    n_corridors = world.mix.shape[0]
    n_months = len(world.month_starts)
    cell = (corridor * 3 + flow) * n_months + world.month_index[day]
    size = n_corridors * 3 * n_months
    informal = (channel == INFORMAL) | (channel == CASH)
    sums = np.stack(
        [
            np.bincount(cell, weights=np.where(informal, 0.0, amount_usd), minlength=size),
            np.bincount(cell, weights=np.where(informal, amount_usd, 0.0), minlength=size),
            np.bincount(cell, minlength=size).astype(np.float64),
        ],
        axis=1,
    )
    result: F64 = sums.reshape(n_corridors, 3, n_months, 3)
    return result


def _days(bounds: I64, first: int, last: int) -> I64:
    """Day of each row in ``first`` .. ``last - 1``: rows are in day order, so repeat each day."""
    d0 = int(np.searchsorted(bounds, first, side="right")) - 1
    d1 = int(np.searchsorted(bounds, last - 1, side="right")) - 1
    edges = np.clip(bounds[d0 : d1 + 2], first, last)
    days: I64 = np.repeat(np.arange(d0, d1 + 1, dtype=np.int64), np.diff(edges))
    return days


def _cells(world: World, day: I64, u: F64) -> tuple[I64, I64]:
    """(corridor, flow type) of each row: inverse CDF over that day's intensities."""
    first_day, last_day = int(day[0]), int(day[-1])
    n_cells = world.cell_cdf.shape[1]
    # day j of the chunk has its CDF shifted into [j, j + 1): one search for all rows
    cdf = world.cell_cdf[first_day : last_day + 1] + np.arange(last_day - first_day + 1)[:, None]
    offset = day - first_day
    flat = np.searchsorted(cdf.ravel(), u + offset, side="right")
    cell = np.minimum(flat - offset * n_cells, n_cells - 1)
    n_corridors = n_cells // 3
    return cell % n_corridors, cell // n_corridors


def _channels(world: World, corridor: I64, flow: I64, day: I64, u: F64) -> I64:
    """Channel of each row, from its corridor's mix as de-risking has shifted it that day."""
    cum = world.mix_cdf[corridor, flow]
    for e, c in enumerate(world.derisk_corridor):  # few events; vectorised within each
        hit = np.flatnonzero(corridor == c)
        if hit.size == 0:
            continue
        w = world.derisk_ramp[e, day[hit]]
        event = world.config.derisking[e]
        p = world.mix[corridor[hit], flow[hit]].copy()
        displaced = w * (p[:, BANK] + p[:, MTO])
        p[:, BANK] *= 1.0 - w
        p[:, MTO] *= 1.0 - w
        p[:, INFORMAL] += displaced * event.to_informal * 0.8
        p[:, CASH] += displaced * event.to_informal * 0.2
        p[:, MOBILE] += displaced * event.to_other_formal
        # the lost share sends nothing: what is sent is renormalised
        cum[hit] = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    cum = _price_episodes(world, corridor, day, cum)
    # count the running sums below u, one column at a time (no n x 6 temporary)
    channel: I64 = (u >= cum[:, 0]).astype(np.int64)
    for k in range(1, 5):
        channel += u >= cum[:, k]
    return channel


_FORMAL = [BANK, MTO, MOBILE, 3]  # and post (channel 3)


def _episode_rows(
    world: World, corridor: I64, day: I64, episode: PremiumEpisode | FormalisationEpisode
) -> I64:
    """Rows in the episode's corridors (destination, optionally origin) and days."""
    epoch = dt.date(1970, 1, 1)
    codes = {c: i for i, c in enumerate(fs.COUNTRY_ENUM.categories)}
    first = (episode.start_date - epoch).days - world.first_day
    last = (episode.end_date - epoch).days - world.first_day
    hit = (world.destination_code[corridor] == codes[episode.destination]) & (
        (day >= first) & (day < last)
    )
    if episode.origin is not None:
        hit &= world.origin_code[corridor] == codes[episode.origin]
    rows: I64 = np.flatnonzero(hit)
    return rows


def _price_episodes(world: World, corridor: I64, day: I64, cum: F64) -> F64:
    """The channel CDF of rows in premium and formalisation episodes, shifted.

    Episodes are few; each is a masked update of its rows' probabilities (recovered
    from the running sums). Without episodes ``cum`` comes back untouched.
    """
    config = world.config
    for episode in config.premium_episodes:
        hit = _episode_rows(world, corridor, day, episode)
        if hit.size == 0:
            continue
        p = np.diff(cum[hit], axis=1, prepend=0.0)
        formal = p[:, _FORMAL].sum(axis=1)
        informal = p[:, INFORMAL] + p[:, CASH]
        odds = np.exp(-episode.response * episode.premium_pct)
        share = formal * odds / (formal * odds + informal)  # new formal share of formal+informal
        both = formal + informal
        with np.errstate(divide="ignore", invalid="ignore"):
            scale_f = np.where(formal > 0, share * both / formal, 1.0)
            scale_i = np.where(informal > 0, (1.0 - share) * both / informal, 1.0)
        p[:, _FORMAL] *= scale_f[:, None]
        p[:, [INFORMAL, CASH]] *= scale_i[:, None]
        cum[hit] = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    for closure in config.formalisation:
        hit = _episode_rows(world, corridor, day, closure)
        if hit.size == 0:
            continue
        p = np.diff(cum[hit], axis=1, prepend=0.0)
        moved = p[:, CASH] * closure.withdrawn
        formal = p[:, _FORMAL].sum(axis=1)
        p[:, CASH] -= moved
        p[:, INFORMAL] += moved * closure.to_informal
        with np.errstate(divide="ignore", invalid="ignore"):
            p[:, _FORMAL] *= np.where(formal > 0, 1.0 + moved * closure.to_formal / formal, 1.0)[
                :, None
            ]
        cum[hit] = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    return cum


_ORGS_PER_CORRIDOR = 20
_FIRMS_PER_CORRIDOR = 50


@dataclass(frozen=True)
class IdBook:
    """Every id a run can use, as text, built once: rows then pick theirs by position.

    Per flow type (remittance: migrants "S", philanthropy: organisations "O",
    trade and investment: firms "F") and corridor, the ids are a contiguous block
    of ``text``, starting at ``start[flow, corridor]`` and ``size[flow, corridor]``
    long. Gathering text by position costs a fraction of formatting it per row.
    """

    text: pl.Series
    start: I64  # (3, C)
    size: I64  # (3, C)

    @classmethod
    def build(cls, n_senders: I64) -> IdBook:
        n_corridors = len(n_senders)
        size = np.stack(
            [
                n_senders,
                np.full(n_corridors, _ORGS_PER_CORRIDOR),
                np.full(n_corridors, _FIRMS_PER_CORRIDOR),
            ]
        ).astype(np.int64)
        flat = size.ravel()
        start = (np.cumsum(flat) - flat).reshape(size.shape)
        owner = np.repeat(np.arange(flat.size), flat)  # block of each id: flow * C + corridor
        rank = np.arange(owner.size) - np.repeat(start.ravel(), flat)
        number = (owner % n_corridors) * 1_000_000 + rank
        prefix = pl.Series(["S", "O", "F"]).gather(owner // n_corridors)
        return cls(prefix + pl.Series(number).cast(pl.String), start, size)

    def pick(self, corridor: I64, flow: I64, u: F64) -> list[pl.Series]:
        """``sender_id`` (migrants and firms) and ``org_id`` (organisations) of each row."""
        position = self.start[flow, corridor] + np.floor(u * self.size[flow, corridor]).astype(
            np.int64
        )
        is_org = flow == 1
        sender = pl.Series(np.where(is_org, -1, position))
        org = pl.Series(np.where(is_org, position, -1))
        nothing = pl.lit(None, pl.Int64)
        positions = pl.DataFrame({"s": sender, "o": org}).select(
            pl.when(pl.col("s") >= 0).then("s").otherwise(nothing),
            pl.when(pl.col("o") >= 0).then("o").otherwise(nothing),
        )
        return [
            self.text.gather(positions["s"]).alias("sender_id"),
            self.text.gather(positions["o"]).alias("org_id"),
        ]
