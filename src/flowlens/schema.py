"""The canonical schema: column names, dtypes and enumerations, in one place.

Country codes, currencies, flow types and channels are fixed vocabularies, so they
are ``pl.Enum``: Enum keys take about half the memory of String keys and make the
corridor group-by 1.3-1.5x faster (measured on 2 cores, polars 2.1, 50M rows).

Examples
--------
>>> import flowlens.schema as fs
>>> fs.FLOW_TYPES
('remittance', 'philanthropy', 'trade_investment')
>>> fs.CANONICAL_SCHEMA["amount_usd"]
Float64
"""

from __future__ import annotations

from typing import Final

import polars as pl

from flowlens.reference import country_codes, currency_codes

__all__ = [
    "AMOUNT",
    "AMOUNT_USD",
    "AMOUNT_USD_MEAN",
    "AMOUNT_USD_MEDIAN",
    "CANONICAL_SCHEMA",
    "CHANNEL",
    "CHANNELS",
    "CHANNEL_ENUM",
    "COST_RATIO",
    "COUNTRY_ENUM",
    "CURRENCY",
    "CURRENCY_ENUM",
    "DATE",
    "DESTINATION",
    "FEE",
    "FEE_USD",
    "FLOW_TYPE",
    "FLOW_TYPES",
    "FLOW_TYPE_ENUM",
    "FORMAL_CHANNELS",
    "FX_PRECISION",
    "FX_PRECISIONS",
    "FX_PRECISION_ENUM",
    "INFORMAL_CHANNELS",
    "N_SENDERS",
    "N_TRANSFERS",
    "OPTIONAL_COLUMNS",
    "ORG_ID",
    "ORIGIN",
    "PANEL_KEYS",
    "PERIOD",
    "REQUIRED_COLUMNS",
    "SENDER_ID",
    "SUPPRESSED",
    "TOP_SENDER_COLUMNS",
    "TX_ID",
]

DATE: Final = "date"
ORIGIN: Final = "origin"
DESTINATION: Final = "destination"
FLOW_TYPE: Final = "flow_type"
CHANNEL: Final = "channel"
AMOUNT: Final = "amount"
CURRENCY: Final = "currency"
AMOUNT_USD: Final = "amount_usd"
FEE: Final = "fee"
FEE_USD: Final = "fee_usd"
FX_PRECISION: Final = "fx_precision"
"""Which kind of rate converted the row (see :data:`FX_PRECISIONS`)."""
SENDER_ID: Final = "sender_id"
ORG_ID: Final = "org_id"
TX_ID: Final = "tx_id"

# The corridor panel's columns (corridor_panel, the official readers, every analysis).
PERIOD: Final = "period"
"""The start date of each period of a panel."""
N_TRANSFERS: Final = "n_transfers"
N_SENDERS: Final = "n_senders"
AMOUNT_USD_MEAN: Final = "amount_usd_mean"
AMOUNT_USD_MEDIAN: Final = "amount_usd_median"
COST_RATIO: Final = "cost_ratio"
SUPPRESSED: Final = "suppressed"
TOP_SENDER_COLUMNS: Final = ("sender_top1_usd", "sender_top2_usd", "sender_top3_usd")
"""The ``top_senders`` statistic: each cell's largest per-sender totals, largest first,
0.0 where the cell has fewer senders. Rows without a ``sender_id`` count as one sender
(they may all be one person)."""
PANEL_KEYS: Final = (PERIOD, ORIGIN, DESTINATION)
"""The keys every corridor panel has; ``by`` adds more (``flow_type`` by default)."""

FLOW_TYPES: Final = ("remittance", "philanthropy", "trade_investment")
CHANNELS: Final = ("bank", "mto", "mobile_money", "post", "informal", "cash_carry", "unknown")
INFORMAL_CHANNELS: Final = ("informal", "cash_carry")
"""Channels outside the recorded, regulated system: hawala-type transfers and cash carried
by hand."""
FORMAL_CHANNELS: Final = tuple(c for c in CHANNELS if c not in (*INFORMAL_CHANNELS, "unknown"))

COUNTRY_ENUM: Final = pl.Enum(country_codes())
CURRENCY_ENUM: Final = pl.Enum(currency_codes())
FLOW_TYPE_ENUM: Final = pl.Enum(FLOW_TYPES)
CHANNEL_ENUM: Final = pl.Enum(CHANNELS)
FX_PRECISIONS: Final = ("daily", "annual", "given")
"""``daily``: the packaged rate of the day (ECB-derived, or a USD or euro peg); ``annual``:
the World Bank's annual official rate, where no daily rate is in force; ``given``: the
user's own ``fx=`` table."""
FX_PRECISION_ENUM: Final = pl.Enum(FX_PRECISIONS)

REQUIRED_COLUMNS: Final = (DATE, ORIGIN, DESTINATION, FLOW_TYPE, AMOUNT, CURRENCY)
"""Columns every transaction table must have (``channel`` defaults to ``unknown``)."""

OPTIONAL_COLUMNS: Final = (CHANNEL, FEE, SENDER_ID, ORG_ID, TX_ID)

CANONICAL_SCHEMA: Final = pl.Schema(
    {
        DATE: pl.Date(),
        ORIGIN: COUNTRY_ENUM,
        DESTINATION: COUNTRY_ENUM,
        FLOW_TYPE: FLOW_TYPE_ENUM,
        CHANNEL: CHANNEL_ENUM,
        AMOUNT: pl.Float64(),
        CURRENCY: CURRENCY_ENUM,
        AMOUNT_USD: pl.Float64(),
        FX_PRECISION: FX_PRECISION_ENUM,
        FEE: pl.Float64(),
        FEE_USD: pl.Float64(),
        SENDER_ID: pl.String(),
        ORG_ID: pl.String(),
        TX_ID: pl.String(),
    }
)
"""Dtypes of the clean transaction table. ``date`` is a Datetime when the input was one;
``fee``, ``fee_usd``, ``sender_id``, ``org_id`` and ``tx_id`` appear only when given."""
