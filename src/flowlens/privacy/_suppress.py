"""Small-cell suppression of a corridor panel: what can be published without revealing a sender.

The panel is read as a set of two-way tables, one per slice (period and any further
keys such as flow type): origins down, destinations across, with their totals (per
origin, per destination, and the grand total) taken as published too. A cell is
*sensitive* when it has too few senders (threshold rule) or when one or two senders
hold most of its amount (dominance rule). Withholding only those cells is not
enough: one withheld cell in a row is the row total minus the others. So further
cells are withheld (*secondary* suppression) until no withheld value can be worked
out exactly from the published cells and totals.

Why a withheld value can or cannot be worked out: with its totals added as an extra
row and column (signs flipped), each table becomes one whose every row and column
sums to zero. The withheld cells are the unknowns, and each row and column gives one
equation. Seen as a bipartite graph (rows and columns as nodes, withheld cells as
edges), the solutions differ by circulations around cycles, so a withheld value is
pinned down exactly if and only if its edge lies on no cycle (it is a *bridge*).
Exact recovery is not the only risk: amounts are never negative, so a reader who
solves the two linear programs "smallest and largest value of this cell given all
that is published" may still pin a withheld value into a narrow interval. Every
sensitive cell is therefore put on a cycle of four withheld cells (itself, one cell
in its row, one in its column, and the cell where those two meet: the *hypercube*
method of Giessing and Repsilber; sdcTable's ``HITAS`` and ``OPT`` solve the same
problem by linear programming) *whose cells leave room for the required protection
interval*: moving the amount ``t`` around the cycle (``+t`` on the cell and the
corner, ``-t`` on the two partners) keeps every published total, so the cell can
reach ``x * (1 + upper)`` when both partners can give up ``x * upper`` (a cell or
the grand total at least that large; a row or column total can always grow), and
``x * (1 - lower)`` when the corner can give up ``x * lower`` (and the partners
can take it, which a cell always can and a total can when it is that large). The
sensitive cells of a slice are taken in turn, largest first, and each gets the
cheapest qualifying cycle (the smallest amount newly withheld: a cell withheld
already, sensitive or chosen for an earlier cell, costs nothing), searched over
the cheapest qualifying partners of its row and of its column (one compiled pass
per slice, :mod:`flowlens.privacy._kernel`). The cycle through the cell's row
total, column total and the grand total always qualifies, so a solution always
exists. :func:`audit_suppression` checks the guarantee independently by solving
both linear programs for every withheld value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import FlowlensError, MissingColumnError, ParameterError, SchemaError
from flowlens.privacy._audit import TOTAL as _TOTAL
from flowlens.privacy._audit import feasible_intervals
from flowlens.schema import TOP_SENDER_COLUMNS

__all__ = [
    "DEFAULT_DOMINANCE",
    "DEFAULT_MIN_SENDERS",
    "DEFAULT_PROTECTION",
    "DEFAULT_P_RULE",
    "SuppressedPanel",
    "audit_suppression",
    "suppress_small_cells",
]

DEFAULT_MIN_SENDERS = 10
"""Fewest distinct senders a published cell may have. The rule of thumb of the
ESSnet/Eurostat *Guidelines for the checking of output based on microdata research*
(Brandt et al., 2010): at least 10 units in every cell of a published table."""

DEFAULT_DOMINANCE = (2, 0.85)
"""The (n, k) dominance rule: a cell is sensitive when its ``n`` largest senders hold
more than ``k`` of its amount. (2, 0.85) is sdcTable's default (``primarySuppression``,
``type = "nk"``, ``n = 2``, ``k = 85``)."""

DEFAULT_P_RULE = 0.10
"""The p% rule: a cell is sensitive when its amount minus its two largest senders is
less than ``p`` times the largest, so that the second-largest sender could estimate
the largest within p%. p = 10% is the value of the worked examples of Hundepool et
al., *Statistical Disclosure Control* (Wiley, 2012), section 4.2. With the default
(2, 0.85) dominance rule it adds nothing (a cell it catches has its two largest
senders above 90% of its amount); it protects when dominance is off or looser."""

DEFAULT_PROTECTION = (0.10, 0.10)
"""Lower and upper protection levels, as fractions of a sensitive cell's value ``x``: the
interval a reader can work out from the published table must reach down to
``x * (1 - 0.10)`` and up to ``x * (1 + 0.10)``. p = 10% is the protection level of
tau-ARGUS's worked examples (tau-ARGUS manual, "safety ranges": upper and lower
protection levels; Hundepool et al., *Statistical Disclosure Control*, 2012, section
4.3). ``(0.10, 1.0)`` asks for an upper bound of at least twice the value (flowlens'
earlier promise): on the bundled sample it withholds every cell and 100% of the
amount (against 84% with the default), so it is an option, not the default."""

DENSE_LIMIT = 1 << 24
"""Most entries of one slice's dense table ((origins + 1) x (destinations + 1)) the
secondary suppression takes: 16.8 million, about 170 MB per core. Country codes give at
most about 250 x 250."""

_ADDITIVE = ("amount_usd", "n_transfers", "fee_usd")
_REASONS = ("published", "senders", "dominance", "p_rule", "secondary")
_REASON = pl.Enum(_REASONS)
_PRIMARY = ("senders", "dominance", "p_rule")
_CELL = ["_slice", "_r", "_c"]
_TEXT_KEYS = (pl.String, pl.Enum, pl.Categorical)
_NESTED = (pl.List, pl.Array, pl.Struct, pl.Object)


@dataclass(frozen=True, repr=False, eq=False)
class SuppressedPanel:
    """The outcome of :func:`suppress_small_cells`.

    Attributes
    ----------
    panel
        Safe to publish: the panel's rows, with every value of a withheld cell set
        to null (amounts, counts, means, medians, fees: every numeric column) and a
        Boolean ``suppressed`` column; the top-sender amounts are dropped. Primary
        and secondary suppression are not told apart, as in official tables
        (telling them apart would point at the sensitive cells).
    margins
        Safe to publish: per slice, the total per origin (``destination`` null), per
        destination (``origin`` null) and overall (both null) of each additive
        value (``amount_usd``, ``n_transfers``, ``fee_usd`` when present).
        ``suppressed`` says whether the amount total is withheld. The totals of
        ``n_transfers`` and ``fee_usd`` are published only for a row or column
        without a withheld cell (overall: a slice without one), so they tell
        nothing about a withheld cell's count or fees.
    cells
        For the data holder only, never for publication: every cell with its
        ``n_senders``, ``top_share`` (share of the amount held by the ``n`` largest
        senders, when the dominance rule is on) and ``reason`` (``published``,
        ``senders``, ``dominance``, ``p_rule`` or ``secondary``).
    summary
        The disclosure report: for the cells and the margins, per reason, the
        number of cells and their amount; for the cells, the share of the panel's
        total amount too (null for the margins, which overlap one another).
    min_senders, dominance, p_rule, protection
        The rules applied.
    audit
        With ``audit=True``, for the data holder only: every withheld amount (cells
        and totals) with the interval a reader can work out from ``panel`` and
        ``margins`` (``lower``, ``upper``), the interval required of a sensitive
        cell (``required_lower``, ``required_upper``; null for the others) and
        ``ok``. See :func:`audit_suppression`. ``None`` otherwise.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import flowlens as fl
    >>> panel = pl.DataFrame({
    ...     "period": [dt.date(2024, 1, 1)] * 4,
    ...     "origin": ["USA", "USA", "CAN", "CAN"],
    ...     "destination": ["MEX", "GTM", "MEX", "GTM"],
    ...     "amount_usd": [900.0, 80.0, 500.0, 400.0],
    ...     "n_senders": [40, 3, 25, 30],
    ... })
    >>> safe = fl.suppress_small_cells(panel, dominance=None, p_rule=None)
    >>> safe.panel["suppressed"].to_list()  # USA->GTM has 3 senders; three more protect it
    [True, True, True, True]
    >>> safe
    SuppressedPanel(cells=4: published=0, senders=1, dominance=0, p_rule=0, secondary=3; margins withheld=0 of 5)
    """

    panel: pl.DataFrame
    margins: pl.DataFrame
    cells: pl.DataFrame
    summary: pl.DataFrame
    min_senders: int
    dominance: tuple[int, float] | None
    slice_keys: tuple[str, ...] = field(default=())
    p_rule: float | None = DEFAULT_P_RULE
    protection: tuple[float, float] = DEFAULT_PROTECTION
    audit: pl.DataFrame | None = None

    @property
    def n_suppressed(self) -> int:
        """Withheld panel cells, primary and secondary."""
        return int(self.panel["suppressed"].sum())

    @property
    def headline(self) -> str:
        """What suppression withheld, in one line (what writers print).

        Examples
        --------
        >>> import datetime as dt
        >>> import polars as pl
        >>> import flowlens as fl
        >>> panel = pl.DataFrame({
        ...     "period": [dt.date(2024, 1, 1)] * 2, "origin": ["USA", "CAN"],
        ...     "destination": ["MEX", "MEX"], "amount_usd": [900.0, 100.0], "n_senders": [40, 3],
        ... })
        >>> fl.suppress_small_cells(panel, dominance=None, p_rule=None).headline
        'small-cell suppression withheld 2 of 2 cells (100.0% of the amount); why: .summary, .cells'
        """
        cells = self.summary.filter(pl.col("table") == "cells", pl.col("reason") != "published")
        share = float(cells["share_of_amount"].fill_null(0.0).sum())
        return (
            f"small-cell suppression withheld {self.n_suppressed:,} of {self.panel.height:,} "
            f"cells ({100 * share:.1f}% of the amount); why: .summary, .cells"
        )

    def __repr__(self) -> str:
        counts = dict(self.cells.group_by("reason").len().iter_rows())
        parts = ", ".join(f"{r}={counts.get(r, 0)}" for r in _REASONS)
        margins = int(self.margins["suppressed"].sum())
        return (
            f"SuppressedPanel(cells={self.panel.height}: {parts}; "
            f"margins withheld={margins} of {self.margins.height})"
        )


def suppress_small_cells(  # long: the public entry point's docstring
    panel: Any,
    *,
    min_senders: int = DEFAULT_MIN_SENDERS,
    dominance: tuple[int, float] | None = DEFAULT_DOMINANCE,
    p_rule: float | None = DEFAULT_P_RULE,
    protection: float | tuple[float, float] = DEFAULT_PROTECTION,
    audit: bool = False,
) -> SuppressedPanel:
    """Withhold the panel cells that would reveal a sender, and enough others to protect them.

    Parameters
    ----------
    panel
        A polars DataFrame or LazyFrame (collected here), a pandas DataFrame, a
        pyarrow Table or an Arrow PyCapsule object: a corridor panel from
        :func:`flowlens.corridor_panel` built with the
        ``senders`` statistic (``n_senders``) and, for the dominance and p% rules,
        ``top_senders``; ``amount_usd`` is required. Key columns are ``origin``,
        ``destination`` and every non-numeric column (``period``, ``flow_type``,
        ...); every numeric column is a value, withheld together. Cells only: the
        totals are computed here (a totals row is refused).
    min_senders
        Primary suppression of cells with fewer distinct senders than this
        (threshold rule). Default 10, after the ESSnet/Eurostat output-checking
        rule of thumb (:data:`DEFAULT_MIN_SENDERS`).
    dominance
        ``(n, k)``: primary suppression of cells whose ``n`` largest senders hold
        more than the fraction ``k`` of the amount; ``n`` from 1 to 3. Default
        (2, 0.85), sdcTable's (:data:`DEFAULT_DOMINANCE`). ``None`` turns the rule off.
    p_rule
        ``p`` (a fraction): primary suppression of cells whose amount minus the two
        largest senders is less than ``p`` times the largest (the p% rule). Default
        0.10, after Hundepool et al. (2012) (:data:`DEFAULT_P_RULE`). ``None`` turns
        the rule off.
    protection
        ``(lower, upper)`` protection levels, fractions of a sensitive value ``x``:
        the interval a reader can work out from the published cells and totals must
        reach ``x * (1 - lower)`` and ``x * (1 + upper)``; one number sets both.
        Default (0.10, 0.10): 10% each way, tau-ARGUS's protection levels
        (:data:`DEFAULT_PROTECTION`); ``(0.10, 1.0)`` asks for twice the value above.
    audit
        Solve, for every withheld amount, the two linear programs a reader would
        (:func:`audit_suppression`), keep the result as ``audit`` and raise if a
        sensitive cell is bounded more tightly than ``protection``. Two linear
        programs per withheld value: seconds on a few thousand.

    Returns
    -------
    SuppressedPanel
        The publishable ``panel`` and ``margins``, the per-cell ``cells`` audit
        (not for publication) and the ``summary`` disclosure report.

    Raises
    ------
    MissingColumnError
        Without ``origin``, ``destination``, ``amount_usd``, ``n_senders`` or (dominance
        or p% rule on) the top-sender columns.
    ParameterError
        Bad ``min_senders``, ``dominance``, ``p_rule`` or ``protection``.
    SchemaError
        A key repeated in the panel, a totals row (a null key), a ``period`` that is
        not a date, a value that is not a number, a NaN, infinite or negative value,
        or a panel that already carries ``suppressed``.
    FlowlensError
        With ``audit=True``, when a withheld sensitive value could be bounded more
        tightly than ``protection`` (a bug: the construction rules it out).

    Notes
    -----
    Guarantee: from the published cells and margins of its slice, a reader cannot
    work out a withheld value exactly, nor bound a sensitive one inside
    ``[x * (1 - lower), x * (1 + upper)]`` (see the module documentation for why).
    Withheld counts and fees cannot be bounded at all from the margins: their
    totals are published only where no cell is withheld. Not covered: links
    between tables (publishing a monthly and a quarterly panel of the same flows
    lets a reader subtract one from the other: suppress the panel you publish, and
    only that), and the sensitivity of the margins themselves (how many distinct
    senders an origin's total has cannot be derived from the cells' counts).
    Rows of flows without a ``sender_id`` count as one sender, the cautious reading;
    a null ``n_senders`` counts as none.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4
    (sensitivity rules, protection levels, secondary suppression).
    de Wolf, P.-P. et al. *tau-ARGUS user's manual*, "safety ranges" (upper and
    lower protection levels).

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> flows = fl.load_flows(fl.load_sample("flows")).clean
    >>> panel = fl.corridor_panel(flows, freq="year", stats=("sum", "senders", "top_senders"))
    >>> safe = fl.suppress_small_cells(panel, audit=True)
    >>> safe.panel.columns
    ['period', 'origin', 'destination', 'flow_type', 'amount_usd', 'n_senders', 'suppressed']
    >>> bool(safe.panel.filter(pl.col("n_senders") < 10).is_empty())
    True
    >>> bool(safe.audit["ok"].all())  # no withheld value bounded tighter than required
    True
    >>> safe.summary.columns
    ['table', 'reason', 'n_cells', 'amount_usd', 'share_of_amount']
    """
    levels = _check_parameters(min_senders, dominance, p_rule, protection)
    frame = from_any(panel, what="suppress_small_cells").eager()
    slice_keys, values = _columns(frame, dominance, p_rule)
    cells = _indexed(frame, slice_keys)
    cells = cells.with_columns(reason=_primary_reason(min_senders, dominance, p_rule))
    table = _augmented(cells, slice_keys, values)
    suppressed = _secondary(table, levels, slice_keys)
    _assert_protected(suppressed)
    safe = _result(
        cells,
        table,
        suppressed,
        slice_keys=slice_keys,
        values=values,
        rules=(min_senders, dominance, p_rule, levels),
    )
    if not audit:
        return safe
    checked = _audit(table, suppressed, slice_keys, levels, cells.schema)
    failed = checked.filter(~pl.col("ok"))
    if failed.height:
        first = failed.row(0, named=True)
        msg = (
            f"internal error: {failed.height} withheld value(s) can be bounded more tightly "
            f"than the protection {levels}, first {first}; do not publish, report this"
        )
        raise FlowlensError(msg)
    return SuppressedPanel(**{**safe.__dict__, "audit": checked})


def audit_suppression(
    safe: SuppressedPanel, *, protection: float | tuple[float, float] | None = None
) -> pl.DataFrame:
    """Solve the attacker's linear programs for every value a :class:`SuppressedPanel` withholds.

    A reader of ``safe.panel`` and ``safe.margins`` knows the published values, that
    every row and column of a slice adds up to its published total, and that no
    amount is negative. For each withheld amount (cells and totals) this solves the
    smallest and the largest value consistent with that (``scipy.optimize.linprog``,
    HiGHS), and checks the sensitive cells against the protection levels.

    Parameters
    ----------
    safe
        The outcome of :func:`suppress_small_cells`.
    protection
        ``(lower, upper)`` fractions (one number sets both); default: the levels
        ``safe`` was built with.

    Returns
    -------
    pl.DataFrame
        For the data holder only: the slice keys, ``origin``, ``destination`` (null
        for a total, as in ``margins``), ``amount_usd`` (the true value), ``lower``
        and ``upper`` (the feasible interval; ``upper`` is ``inf`` when nothing
        published bounds it), ``required_lower`` and ``required_upper`` (for a
        sensitive cell; null otherwise) and ``ok``.

    Raises
    ------
    ParameterError
        For a bad ``protection`` or something that is not a SuppressedPanel.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import flowlens as fl
    >>> from flowlens.privacy import audit_suppression
    >>> panel = pl.DataFrame({
    ...     "period": [dt.date(2024, 1, 1)] * 4,
    ...     "origin": ["USA", "USA", "CAN", "CAN"],
    ...     "destination": ["MEX", "GTM", "MEX", "GTM"],
    ...     "amount_usd": [900.0, 80.0, 500.0, 400.0],
    ...     "n_senders": [40, 3, 25, 30],
    ... })
    >>> safe = fl.suppress_small_cells(panel, dominance=None, p_rule=None)
    >>> audit = audit_suppression(safe)
    >>> audit.filter(pl.col("destination") == "GTM", pl.col("origin") == "USA").select(
    ...     "amount_usd", "lower", "upper", "required_lower", "required_upper", "ok"
    ... ).row(0)
    (80.0, 0.0, 480.0, 72.0, 88.0, True)
    """
    if not isinstance(safe, SuppressedPanel):
        msg = f"audit_suppression takes the SuppressedPanel of suppress_small_cells, got {type(safe).__name__}"
        raise ParameterError(msg)
    levels = safe.protection if protection is None else _levels(protection)
    slice_keys = list(safe.slice_keys)
    values = [c for c in _ADDITIVE if c in safe.cells.columns]
    cells = _indexed(safe.cells, slice_keys)
    table = _augmented(cells, slice_keys, values)
    withheld_cells = cells.filter(pl.col("reason") != "published").select(_CELL)
    keys = [*slice_keys, fs.ORIGIN, fs.DESTINATION]
    withheld_margins = (
        safe.margins.filter("suppressed")
        .select(*slice_keys, pl.col(fs.ORIGIN, fs.DESTINATION).cast(pl.String))
        .join(table, on=keys, nulls_equal=True)
        .select(_CELL)
    )
    suppressed = pl.concat([withheld_cells, withheld_margins])
    return _audit(table, suppressed, slice_keys, levels, safe.cells.schema)


def _levels(protection: Any) -> tuple[float, float]:
    both = protection if isinstance(protection, tuple) else (protection, protection)
    ok = len(both) == 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in both
    )
    if not ok or not 0.0 <= both[0] <= 1.0 or both[1] < 0.0:
        msg = (
            "protection must be a fraction or a pair (lower, upper) of fractions with "
            f"0 <= lower <= 1 and upper >= 0 (0.10 is 10%, not 10), got {protection!r}"
        )
        raise ParameterError(msg)
    return float(both[0]), float(both[1])


def _check_parameters(
    min_senders: Any, dominance: Any, p_rule: Any, protection: Any
) -> tuple[float, float]:
    if isinstance(min_senders, bool) or not isinstance(min_senders, int) or min_senders < 1:
        msg = f"min_senders must be a whole number >= 1, got {min_senders!r}"
        raise ParameterError(msg)
    if dominance is not None:
        n_max = len(TOP_SENDER_COLUMNS)
        good = (
            isinstance(dominance, tuple)
            and len(dominance) == 2
            and isinstance(dominance[0], int)
            and not isinstance(dominance[0], bool)
            and 1 <= dominance[0] <= n_max
            and isinstance(dominance[1], int | float)
            and 0.0 < dominance[1] <= 1.0
        )
        if not good:
            msg = (
                f"dominance must be (n, k) with n in 1..{n_max} and 0 < k <= 1 "
                f"(a fraction, not a percentage), got {dominance!r}"
            )
            raise ParameterError(msg)
    if p_rule is not None and (
        isinstance(p_rule, bool) or not isinstance(p_rule, int | float) or not 0.0 < p_rule <= 1.0
    ):
        msg = f"p_rule must be a fraction with 0 < p <= 1 (0.10 is 10%, not 10), got {p_rule!r}"
        raise ParameterError(msg)
    return _levels(protection)


def _columns(frame: pl.DataFrame, dominance: Any, p_rule: Any) -> tuple[list[str], list[str]]:
    """The slice keys and the value columns, after checking every column the rules read."""
    tops = 2 if p_rule is not None else 0
    if dominance is not None:
        tops = max(tops, dominance[0])
    required = [fs.ORIGIN, fs.DESTINATION, fs.AMOUNT_USD, "n_senders", *TOP_SENDER_COLUMNS[:tops]]
    for column in required:
        if column not in frame.columns:
            error = MissingColumnError.for_column(column, frame.columns)
            fix = (
                " Build the panel with corridor_panel(..., stats=(..., 'senders', "
                "'top_senders')) from flows that carry sender_id"
                + (
                    ", or pass dominance=None and p_rule=None."
                    if column in TOP_SENDER_COLUMNS
                    else "."
                )
            )
            raise MissingColumnError(str(error) + fix, column=column, present=frame.columns)
    if fs.SUPPRESSED in frame.columns:
        msg = (
            "the panel already has a 'suppressed' column (an output of suppress_small_cells?): "
            "suppress the panel that corridor_panel made, not a suppressed one"
        )
        raise SchemaError(msg)
    schema = frame.schema
    keys = [c for c in frame.columns if not schema[c].is_numeric()]
    _check_keys(frame, keys)
    for column in required[2:]:
        _check_values(frame, column)
    slice_keys = [c for c in keys if c not in (fs.ORIGIN, fs.DESTINATION)]
    duplicated = frame.select(keys).is_duplicated()
    if duplicated.any():
        first = frame.filter(duplicated).row(0, named=True)
        shown = {k: first[k] for k in keys}
        msg = (
            f"the panel has more than one row for {shown}; keys are {keys} (the non-numeric "
            "columns): aggregate first, or drop the column that splits the cell"
        )
        raise SchemaError(msg)
    values = [c for c in frame.columns if c not in keys]
    return slice_keys, values


def _check_keys(frame: pl.DataFrame, keys: list[str]) -> None:
    schema = frame.schema
    for column in (fs.ORIGIN, fs.DESTINATION):
        if not isinstance(schema[column], _TEXT_KEYS):
            msg = (
                f"column {column!r} has dtype {schema[column]}; a panel's countries are "
                "ISO3 text codes (build the panel with corridor_panel)"
            )
            raise SchemaError(msg)
    if fs.PERIOD in frame.columns and not schema[fs.PERIOD].is_temporal():
        msg = (
            f"column 'period' has dtype {schema[fs.PERIOD]}, not a date: parse it first, e.g. "
            "pl.col('period').str.to_date('%Y-%m-%d') (text periods would split or merge slices "
            "silently)"
        )
        raise SchemaError(msg)
    for column in keys:
        if isinstance(schema[column], _NESTED) or schema[column] == pl.Null:
            msg = (
                f"column {column!r} has dtype {schema[column]}: a panel's keys are dates or text, "
                "its values numbers; drop or convert it"
            )
            raise SchemaError(msg)
    totals = frame.filter(pl.any_horizontal(pl.col(keys).is_null()))
    if totals.height:
        first = totals.row(0, named=True)
        shown = {k: first[k] for k in keys}
        msg = (
            f"the panel has {totals.height} row(s) with a null key (first: {shown}); a totals "
            "or subtotal row? suppress_small_cells takes the cells only and computes the totals "
            "itself (SuppressedPanel.margins): drop those rows, e.g. "
            "panel.drop_nulls(['origin', 'destination'])"
        )
        raise SchemaError(msg)


def _check_values(frame: pl.DataFrame, column: str) -> None:
    values = frame[column]
    if not values.dtype.is_numeric() or isinstance(values.dtype, pl.Decimal):
        msg = f"column {column!r} has dtype {values.dtype}; it must be a number (Float64 or Int64)"
        raise SchemaError(msg)
    floats = values.cast(pl.Float64)
    null_ok = column != fs.AMOUNT_USD  # no sender stats: no senders, the cautious reading
    bad = floats.is_nan() | floats.is_infinite() | (floats < 0)
    bad = bad | floats.is_null() if not null_ok else bad.fill_null(False)
    if bad.any():
        first = frame.filter(bad)[column][0]
        msg = (
            f"column {column!r} has {int(bad.sum())} null, NaN, infinite or negative values "
            f"(first: {first!r}); a corridor panel's values are sums and counts of positive "
            "transfers"
        )
        raise SchemaError(msg)


def _indexed(frame: pl.DataFrame, slice_keys: list[str]) -> pl.DataFrame:
    """Number the slices, origins and destinations (the graph's node labels)."""
    slice_id = (
        pl.struct(slice_keys).rank("dense").cast(pl.Int64) if slice_keys else pl.lit(1, pl.Int64)
    )
    return frame.with_row_index("_cell").with_columns(
        _slice=slice_id,
        _r=pl.col(fs.ORIGIN).cast(pl.String).rank("dense").cast(pl.Int64),
        _c=pl.col(fs.DESTINATION).cast(pl.String).rank("dense").cast(pl.Int64),
    )


def _primary_reason(min_senders: int, dominance: Any, p_rule: float | None) -> pl.Expr:
    few = pl.col("n_senders").fill_null(0) < min_senders
    dominated = pl.lit(False)
    if dominance is not None:
        n, k = dominance
        dominated = pl.sum_horizontal(TOP_SENDER_COLUMNS[:n]) > k * pl.col(fs.AMOUNT_USD)
    estimable = pl.lit(False)
    if p_rule is not None:
        first, second = (pl.col(c).fill_null(0.0) for c in TOP_SENDER_COLUMNS[:2])
        estimable = pl.col(fs.AMOUNT_USD) - first - second < p_rule * first
    reason = (
        pl.when(few)
        .then(pl.lit("senders"))
        .when(dominated)
        .then(pl.lit("dominance"))
        .when(estimable)
        .then(pl.lit("p_rule"))
        .otherwise(pl.lit("published"))
    )
    return reason.cast(_REASON)


def _augmented(cells: pl.DataFrame, slice_keys: list[str], values: list[str]) -> pl.DataFrame:
    """Every cell of every slice's table with its totals row and column: slice, r, c, value."""
    additive = [c for c in _ADDITIVE if c in values]
    interior = cells.select(
        "_slice",
        "_r",
        "_c",
        *slice_keys,
        pl.col(fs.ORIGIN).cast(pl.String),
        pl.col(fs.DESTINATION).cast(pl.String),
        *additive,
        primary=pl.col("reason").cast(pl.String).is_in(_PRIMARY),
    )
    sums = [pl.col(c).sum() for c in additive]
    first_keys = [pl.col(k).first() for k in slice_keys]
    by_origin = interior.group_by("_slice", "_r").agg(*first_keys, pl.col(fs.ORIGIN).first(), *sums)
    by_destination = interior.group_by("_slice", "_c").agg(
        *first_keys, pl.col(fs.DESTINATION).first(), *sums
    )
    overall = interior.group_by("_slice").agg(*first_keys, *sums)
    margin = {"primary": pl.lit(False)}
    return pl.concat(
        [
            interior,
            by_origin.with_columns(_c=pl.lit(_TOTAL, pl.Int64), **margin),
            by_destination.with_columns(_r=pl.lit(_TOTAL, pl.Int64), **margin),
            overall.with_columns(
                _r=pl.lit(_TOTAL, pl.Int64), _c=pl.lit(_TOTAL, pl.Int64), **margin
            ),
        ],
        how="diagonal_relaxed",
    ).with_columns(_value=pl.col(fs.AMOUNT_USD).cast(pl.Float64))


def _bridges(suppressed: pl.DataFrame) -> pl.DataFrame:
    """The withheld cells that lie on no cycle (their values could be worked out)."""
    from flowlens.privacy._kernel import bridges  # numba: not at `import flowlens`

    # rows and columns of each slice as nodes (numbered apart), withheld entries as edges
    nodes = suppressed.select(
        _tail=pl.struct("_slice", "_r").rank("dense").cast(pl.Int64) - 1,
        _head=pl.struct("_slice", "_c").rank("dense").cast(pl.Int64) - 1,
    )
    tail = nodes["_tail"].to_numpy()
    n_tails = int(tail.max(initial=-1)) + 1
    head = nodes["_head"].to_numpy() + n_tails
    found = bridges(int(head.max(initial=-1)) + 1, tail, head)
    return suppressed.select(_CELL).filter(pl.Series(found))


def _secondary(
    table: pl.DataFrame, levels: tuple[float, float], slice_keys: list[str]
) -> pl.DataFrame:
    """The cells to withhold: each sensitive one on a cycle of four that leaves it its interval."""
    from flowlens.privacy._kernel import protect  # numba: not at `import flowlens`

    entries = table.select(*_CELL, "_value", "primary").sort(
        "_slice", "primary", "_value", "_r", "_c", descending=[False, True, True, False, False]
    )
    if not entries["primary"].any():
        return entries.clear().select(_CELL)
    sizes = entries.group_by("_slice", maintain_order=True).agg(
        n=pl.len(), rows=(pl.col("_c") == _TOTAL).sum(), columns=(pl.col("_r") == _TOTAL).sum()
    )
    _check_dense(sizes, table, slice_keys)
    starts = np.concatenate([[0], np.cumsum(sizes["n"].to_numpy())]).astype(np.int64)
    withheld, found = protect(
        starts,
        entries["_r"].to_numpy(),
        entries["_c"].to_numpy(),
        entries["_value"].to_numpy(),
        entries["primary"].to_numpy(),
        levels,
    )
    if not found.all():  # the cycle through the totals always qualifies
        msg = "internal error: a sensitive cell found no protecting cycle of withheld cells"
        raise FlowlensError(msg)
    return entries.filter(pl.Series(withheld)).select(_CELL)


def _check_dense(sizes: pl.DataFrame, table: pl.DataFrame, slice_keys: list[str]) -> None:
    """Refuse a slice whose dense table (origins + 1 by destinations + 1) would not fit."""
    too_big = sizes.filter(pl.col("rows") * pl.col("columns") > DENSE_LIMIT)
    if too_big.is_empty():
        return
    first = too_big.row(0, named=True)
    where = table.filter(pl.col("_slice") == first["_slice"]).select(slice_keys).row(0)
    msg = (
        f"a slice of the panel ({dict(zip(slice_keys, where, strict=True))}) has "
        f"{first['rows'] - 1:,} origins and {first['columns'] - 1:,} destinations: "
        f"suppress_small_cells works on each slice as a dense table and takes at most "
        f"{DENSE_LIMIT:,} entries (country codes give at most about 250 x 250); aggregate "
        "origin and destination to countries, or split the panel by a further key column"
    )
    raise SchemaError(msg)


def _assert_protected(suppressed: pl.DataFrame) -> None:
    if suppressed.height and _bridges(suppressed).height:
        msg = "internal error: a withheld value could be worked out from the totals"
        raise FlowlensError(msg)


def _result(
    cells: pl.DataFrame,
    table: pl.DataFrame,
    suppressed: pl.DataFrame,
    *,
    slice_keys: list[str],
    values: list[str],
    rules: tuple[int, Any, float | None, tuple[float, float]],
) -> SuppressedPanel:
    min_senders, dominance, p_rule, levels = rules
    flagged = suppressed.with_columns(suppressed=pl.lit(True))
    cells = cells.join(flagged, on=_CELL, how="left", maintain_order="left").with_columns(
        pl.col("suppressed").fill_null(False)
    )
    cells = cells.with_columns(
        reason=pl.when(pl.col("suppressed") & (pl.col("reason") == "published"))
        .then(pl.lit("secondary", _REASON))
        .otherwise("reason")
    )
    shown = [v for v in values if v not in TOP_SENDER_COLUMNS]
    hidden = pl.col("suppressed")
    keys = [*slice_keys[:1], fs.ORIGIN, fs.DESTINATION, *slice_keys[1:]]
    order = [c for c in cells.columns if c in keys or c in shown]
    safe = cells.select(
        *(pl.when(~hidden).then(pl.col(c)).alias(c) if c in shown else pl.col(c) for c in order),
        "suppressed",
    )
    audit_columns = [*order, "reason"]
    if dominance is not None:
        top = pl.sum_horizontal(TOP_SENDER_COLUMNS[: dominance[0]]) / pl.col(fs.AMOUNT_USD)
        audit_columns.insert(len(order), "top_share")
        cells = cells.with_columns(top_share=top)
    audit = cells.select(audit_columns)
    margins_table = _margins_table(cells, table, flagged)
    additive = [c for c in _ADDITIVE if c in values]
    margins = margins_table.sort(
        "_slice", pl.col("_r") == _TOTAL, "_r", pl.col("_c") == _TOTAL, "_c"
    ).select(
        *slice_keys,
        pl.col(fs.ORIGIN).cast(cells.schema[fs.ORIGIN]),
        pl.col(fs.DESTINATION).cast(cells.schema[fs.DESTINATION]),
        *(
            pl.when(~hidden if c == fs.AMOUNT_USD else ~pl.col("_touched")).then(pl.col(c)).alias(c)
            for c in additive
        ),
        "suppressed",
    )
    return SuppressedPanel(
        panel=safe,
        margins=margins,
        cells=audit,
        summary=_summary(audit, margins_table),
        min_senders=min_senders,
        dominance=dominance,
        slice_keys=tuple(slice_keys),
        p_rule=p_rule,
        protection=levels,
    )


def _margins_table(cells: pl.DataFrame, table: pl.DataFrame, flagged: pl.DataFrame) -> pl.DataFrame:
    """The totals, with ``suppressed`` (the amount) and ``_touched`` (a withheld cell in the line).

    Counts and fees are published for a line only when none of its cells is withheld:
    the pattern that protects the amounts need not protect a count of 1 or a fee of 0.
    """
    hit = cells.filter("suppressed")
    rows = hit.select("_slice", "_r").unique().with_columns(_c=pl.lit(_TOTAL, pl.Int64))
    columns = hit.select("_slice", "_c").unique().with_columns(_r=pl.lit(_TOTAL, pl.Int64))
    whole = (
        hit.select("_slice")
        .unique()
        .with_columns(_r=pl.lit(_TOTAL, pl.Int64), _c=pl.lit(_TOTAL, pl.Int64))
    )
    touched = pl.concat([rows, columns, whole], how="diagonal").with_columns(_touched=pl.lit(True))
    margins_table = table.filter((pl.col("_r") == _TOTAL) | (pl.col("_c") == _TOTAL))
    return (
        margins_table.join(flagged, on=_CELL, how="left")
        .join(touched, on=_CELL, how="left")
        .with_columns(pl.col("suppressed", "_touched").fill_null(False))
    )


def _audit(
    table: pl.DataFrame,
    suppressed: pl.DataFrame,
    slice_keys: list[str],
    levels: tuple[float, float],
    schema: pl.Schema,
) -> pl.DataFrame:
    """The feasible interval of every withheld amount, against the levels for sensitive ones."""
    lower, upper = levels
    flagged = suppressed.unique().with_columns(_withheld=pl.lit(True))
    marked = table.join(flagged, on=_CELL, how="left").with_columns(
        pl.col("_withheld").fill_null(False)
    )
    found = feasible_intervals(marked.select(*_CELL, "_value", "_withheld"))
    x = pl.col("_value")
    tolerance = 1e-6 * x + 1e-9  # the solver's own tolerance, relative to the value
    audited = (
        marked.join(found, on=_CELL)
        .sort(*_CELL)
        .with_columns(
            required_lower=pl.when("primary").then(x * (1.0 - lower)),
            required_upper=pl.when("primary").then(x * (1.0 + upper)),
        )
    )
    ok = (
        (pl.col("_lower") <= pl.col("required_lower") + tolerance)
        & (pl.col("_upper") >= pl.col("required_upper") - tolerance)
    ).fill_null(True)
    return audited.select(
        *slice_keys,
        pl.col(fs.ORIGIN).cast(schema[fs.ORIGIN]),
        pl.col(fs.DESTINATION).cast(schema[fs.DESTINATION]),
        pl.col("_value").alias(fs.AMOUNT_USD),
        lower=pl.col("_lower").clip(0.0),
        upper=pl.col("_upper"),
        required_lower="required_lower",
        required_upper="required_upper",
        ok=ok,
    )


def _summary(audit: pl.DataFrame, margins_table: pl.DataFrame) -> pl.DataFrame:
    total = audit[fs.AMOUNT_USD].sum()
    reasons = pl.DataFrame({"reason": list(_REASONS)}, schema={"reason": _REASON})
    per_reason = reasons.join(
        audit.group_by("reason").agg(n_cells=pl.len(), amount_usd=pl.col(fs.AMOUNT_USD).sum()),
        on="reason",
        how="left",
    ).with_columns(pl.lit("cells").alias("table"))
    margin_status = margins_table.group_by(
        reason=pl.when("suppressed").then(pl.lit("secondary")).otherwise(pl.lit("published"))
    ).agg(n_cells=pl.len(), amount_usd=pl.col(fs.AMOUNT_USD).sum())
    margin_rows = (
        reasons.filter(pl.col("reason").is_in(["published", "secondary"]))
        .join(margin_status.with_columns(pl.col("reason").cast(_REASON)), on="reason", how="left")
        .with_columns(pl.lit("margins").alias("table"))
    )
    both = pl.concat([per_reason, margin_rows], how="diagonal_relaxed")
    amount = pl.col(fs.AMOUNT_USD).fill_null(0.0)
    return both.select(
        "table",
        "reason",
        pl.col("n_cells").fill_null(0).cast(pl.Int64),
        amount,
        # a share of the table's total for the cells; the margins overlap each other
        share_of_amount=pl.when((pl.col("table") == "cells") & (total > 0)).then(amount / total),
    )
