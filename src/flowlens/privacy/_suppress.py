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
Every sensitive cell is therefore put on a cycle of four withheld cells: itself, one
cell in its row, one in its column, and the cell where those two meet (the
*hypercube* method of Giessing and Repsilber; sdcTable's ``HITAS`` and ``OPT`` solve
the same problem by linear programming). Among the candidates, the cheapest (the
smallest amount newly withheld; sensitive cells are withheld anyway and cost
nothing) is chosen. A partner that is not itself sensitive must be at least as large
as the sensitive cell, so that the cycle alone leaves the sensitive value anywhere up
to twice its size. The totals can take part as a last resort; the grand total always
closes a cycle, so a solution always exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import FlowlensError, MissingColumnError, ParameterError, SchemaError
from flowlens.schema import TOP_SENDER_COLUMNS

__all__ = ["DEFAULT_DOMINANCE", "DEFAULT_MIN_SENDERS", "SuppressedPanel", "suppress_small_cells"]

DEFAULT_MIN_SENDERS = 10
"""Fewest distinct senders a published cell may have. The rule of thumb of the
ESSnet/Eurostat *Guidelines for the checking of output based on microdata research*
(Brandt et al., 2010): at least 10 units in every cell of a published table."""

DEFAULT_DOMINANCE = (2, 0.85)
"""The (n, k) dominance rule: a cell is sensitive when its ``n`` largest senders hold
more than ``k`` of its amount. (2, 0.85) is sdcTable's default (``primarySuppression``,
``type = "nk"``, ``n = 2``, ``k = 85``)."""

CANDIDATES_PER_LINE = 6
"""Cheapest partner cells considered per row and per column of a sensitive cell (plus
the total, always). 6 x 6 cycles per sensitive cell keep the search small; more would
rarely find a cheaper cycle."""

_TOTAL = -1  # the index of the totals row and column
_ADDITIVE = ("amount_usd", "n_transfers", "fee_usd")
_REASONS = ("published", "senders", "dominance", "secondary")
_REASON = pl.Enum(_REASONS)


@dataclass(frozen=True, repr=False, eq=False)
class SuppressedPanel:
    """The outcome of :func:`suppress_small_cells`.

    Attributes
    ----------
    panel
        Safe to publish: the panel's rows, with every value of a withheld cell set
        to null and a Boolean ``suppressed`` column; the top-sender amounts are
        dropped. Primary and secondary suppression are not told apart, as in
        official tables (telling them apart would point at the sensitive cells).
    margins
        Safe to publish: per slice, the total per origin (``destination`` null), per
        destination (``origin`` null) and overall (both null) of each additive
        value (``amount_usd``, ``n_transfers``, ``fee_usd`` when present), with
        ``suppressed``.
    cells
        For the data holder only, never for publication: every cell with its
        ``n_senders``, ``top_share`` (share of the amount held by the ``n`` largest
        senders, when the dominance rule is on) and ``reason`` (``published``,
        ``senders``, ``dominance`` or ``secondary``).
    summary
        The disclosure report: for the cells and the margins, per reason, the
        number of cells and their amount; for the cells, the share of the panel's
        total amount too (null for the margins, which overlap one another).
    min_senders, dominance
        The rules applied.

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
    >>> safe = fl.suppress_small_cells(panel, dominance=None)
    >>> safe.panel["suppressed"].to_list()  # USA->GTM has 3 senders; three more protect it
    [True, True, True, True]
    >>> safe
    SuppressedPanel(cells=4: published=0, senders=1, dominance=0, secondary=3; margins withheld=0 of 5)
    """

    panel: pl.DataFrame
    margins: pl.DataFrame
    cells: pl.DataFrame
    summary: pl.DataFrame
    min_senders: int
    dominance: tuple[int, float] | None
    slice_keys: tuple[str, ...] = field(default=())

    @property
    def n_suppressed(self) -> int:
        """Withheld panel cells, primary and secondary."""
        return int(self.panel["suppressed"].sum())

    def __repr__(self) -> str:
        counts = dict(self.cells.group_by("reason").len().iter_rows())
        parts = ", ".join(f"{r}={counts.get(r, 0)}" for r in _REASONS)
        margins = int(self.margins["suppressed"].sum())
        return (
            f"SuppressedPanel(cells={self.panel.height}: {parts}; "
            f"margins withheld={margins} of {self.margins.height})"
        )


def suppress_small_cells(
    panel: Any,
    *,
    min_senders: int = DEFAULT_MIN_SENDERS,
    dominance: tuple[int, float] | None = DEFAULT_DOMINANCE,
) -> SuppressedPanel:
    """Withhold the panel cells that would reveal a sender, and enough others to protect them.

    Parameters
    ----------
    panel
        A polars DataFrame or LazyFrame (collected here), a pandas DataFrame, a
        pyarrow Table or an Arrow PyCapsule object: a corridor panel from
        :func:`flowlens.corridor_panel` built with the
        ``senders`` statistic (``n_senders``) and, for the dominance rule,
        ``top_senders``; ``amount_usd`` is required. Key columns are ``origin``,
        ``destination`` and every non-numeric column (``period``, ``flow_type``,
        ...); every numeric column is a value, withheld together.
    min_senders
        Primary suppression of cells with fewer distinct senders than this
        (threshold rule). Default 10, after the ESSnet/Eurostat output-checking
        rule of thumb (:data:`DEFAULT_MIN_SENDERS`).
    dominance
        ``(n, k)``: primary suppression of cells whose ``n`` largest senders hold
        more than the fraction ``k`` of the amount; ``n`` from 1 to 3. Default
        (2, 0.85), sdcTable's (:data:`DEFAULT_DOMINANCE`). ``None`` turns the rule off.

    Returns
    -------
    SuppressedPanel
        The publishable ``panel`` and ``margins``, the per-cell ``cells`` audit
        (not for publication) and the ``summary`` disclosure report.

    Raises
    ------
    MissingColumnError
        Without ``amount_usd``, ``n_senders`` or (dominance rule on) the top-sender
        columns.
    ParameterError
        Bad ``min_senders`` or ``dominance``.
    SchemaError
        A key repeated in the panel, or a null or negative amount.

    Notes
    -----
    Guarantee: no withheld value can be computed exactly from the published cells
    and margins of its slice (see the module documentation for why). Cells
    withheld to protect a sensitive cell are at least as large as it, so a reader's
    upper bound on a sensitive value is well above the value itself. Not covered: links
    between slices (publishing a monthly and an annual panel of the same flows lets
    a reader subtract one from the other: suppress the panel you publish, and only
    that), and the sensitivity of the margins themselves (how many distinct
    senders an origin's total has cannot be derived from the cells' counts).
    Rows of flows without a ``sender_id`` count as one sender, the cautious reading.

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> flows = fl.load_flows(fl.load_sample("flows")).clean
    >>> panel = fl.corridor_panel(flows, freq="year", stats=("sum", "senders", "top_senders"))
    >>> safe = fl.suppress_small_cells(panel)
    >>> safe.panel.columns
    ['period', 'origin', 'destination', 'flow_type', 'amount_usd', 'n_senders', 'suppressed']
    >>> bool(safe.panel.filter(pl.col("n_senders") < 10).is_empty())
    True
    >>> safe.summary.columns
    ['table', 'reason', 'n_cells', 'amount_usd', 'share_of_amount']
    """
    _check_parameters(min_senders, dominance)
    frame = from_any(panel, what="suppress_small_cells").eager()
    slice_keys, values = _columns(frame, dominance)
    cells = _indexed(frame, slice_keys)
    cells = cells.with_columns(reason=_primary_reason(min_senders, dominance))
    table = _augmented(cells, slice_keys, values)
    suppressed = _secondary(table)
    _assert_protected(suppressed)
    return _result(
        cells,
        table,
        suppressed,
        slice_keys=slice_keys,
        values=values,
        min_senders=min_senders,
        dominance=dominance,
    )


def _check_parameters(min_senders: int, dominance: tuple[int, float] | None) -> None:
    if isinstance(min_senders, bool) or not isinstance(min_senders, int) or min_senders < 1:
        msg = f"min_senders must be a whole number >= 1, got {min_senders!r}"
        raise ParameterError(msg)
    if dominance is None:
        return
    n, k = dominance
    if n not in range(1, len(TOP_SENDER_COLUMNS) + 1) or not 0.0 < k <= 1.0:
        msg = (
            f"dominance must be (n, k) with n in 1..{len(TOP_SENDER_COLUMNS)} and 0 < k <= 1 "
            f"(a fraction, not a percentage), got {dominance!r}"
        )
        raise ParameterError(msg)


def _columns(
    frame: pl.DataFrame, dominance: tuple[int, float] | None
) -> tuple[list[str], list[str]]:
    required = [fs.ORIGIN, fs.DESTINATION, fs.AMOUNT_USD, "n_senders"]
    if dominance is not None:
        required += list(TOP_SENDER_COLUMNS[: dominance[0]])
    for column in required:
        if column not in frame.columns:
            error = MissingColumnError.for_column(column, frame.columns)
            fix = (
                " Build the panel with corridor_panel(..., stats=(..., 'senders', "
                "'top_senders')) from flows that carry sender_id"
                + (", or pass dominance=None." if column in TOP_SENDER_COLUMNS else ".")
            )
            raise MissingColumnError(str(error) + fix, column=column, present=frame.columns)
    schema = frame.schema
    keys = [c for c in frame.columns if not schema[c].is_numeric()]
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
    amount = frame[fs.AMOUNT_USD]
    bad = frame.filter(amount.is_null() | amount.is_nan() | (amount < 0))
    if bad.height:
        msg = (
            f"column 'amount_usd' has {bad.height} null, NaN or negative values (first: "
            f"{bad[fs.AMOUNT_USD][0]!r}); a corridor panel's amounts are sums of positive transfers"
        )
        raise SchemaError(msg)
    values = [c for c in frame.columns if c not in keys]
    return slice_keys, values


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


def _primary_reason(min_senders: int, dominance: tuple[int, float] | None) -> pl.Expr:
    few = pl.col("n_senders").fill_null(0) < min_senders
    dominated = pl.lit(False)
    if dominance is not None:
        n, k = dominance
        dominated = pl.sum_horizontal(TOP_SENDER_COLUMNS[:n]) > k * pl.col(fs.AMOUNT_USD)
    reason = (
        pl.when(few)
        .then(pl.lit("senders"))
        .when(dominated)
        .then(pl.lit("dominance"))
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
        primary=pl.col("reason") != "published",
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
    ).with_columns(_value=pl.col(fs.AMOUNT_USD))


def _bridges(suppressed: pl.DataFrame) -> pl.DataFrame:
    """The withheld cells that lie on no cycle (their values could be worked out)."""
    import networkx as nx  # not at import time: `import flowlens` stays light

    slices, rows, columns = (suppressed[c].to_list() for c in ("_slice", "_r", "_c"))
    graph = nx.Graph()
    # rows and columns share index values: a side marker tells the two node kinds apart
    graph.add_edges_from(
        ((s, "r", r), (s, "c", c)) for s, r, c in zip(slices, rows, columns, strict=True)
    )
    found = [
        (a[0], a[2], b[2]) if a[1] == "r" else (a[0], b[2], a[2]) for a, b in nx.bridges(graph)
    ]
    schema = {"_slice": pl.Int64, "_r": pl.Int64, "_c": pl.Int64}
    return pl.DataFrame(found, schema=schema, orient="row")


def _secondary(table: pl.DataFrame) -> pl.DataFrame:
    """The cells to withhold: the sensitive ones, each on a cycle of four withheld cells."""
    cell = ["_slice", "_r", "_c"]
    primary = table.filter("primary").select(*cell, "_value")
    if primary.is_empty():
        return primary.select(cell)
    exposed = primary.join(_bridges(primary), on=cell, how="semi")
    if exposed.is_empty():
        return primary.select(cell)
    free = primary.select(*cell, _free=pl.lit(True))
    priced = table.select(*cell, "_value").join(free, on=cell, how="left")
    priced = priced.with_columns(
        _cost=pl.when(pl.col("_free")).then(0.0).otherwise(pl.col("_value"))
    ).drop("_free")
    target = exposed.rename({"_r": "_tr", "_c": "_tc", "_value": "_tvalue"})

    def partners(line: str, other: str) -> pl.DataFrame:
        """The cheapest cells in the sensitive cell's row (or column), and the total."""
        own = "_tr" if line == "_r" else "_tc"
        skip = "_tc" if line == "_r" else "_tr"
        found = target.join(priced, left_on=["_slice", own], right_on=["_slice", line])
        large_enough = (pl.col("_value") >= pl.col("_tvalue")) | (pl.col("_cost") == 0.0)
        found = found.filter((pl.col(other) != pl.col(skip)) & large_enough)
        rank = pl.col("_cost").rank("ordinal").over("_slice", "_tr", "_tc")
        found = found.filter((rank <= CANDIDATES_PER_LINE) | (pl.col(other) == _TOTAL))
        return found.select("_slice", "_tr", "_tc", pl.col(other), pl.col("_cost"))

    in_row = partners("_r", "_c").rename({"_c": "_pc", "_cost": "_row_cost"})
    in_column = partners("_c", "_r").rename({"_r": "_pr", "_cost": "_column_cost"})
    corners = priced.select(_pr="_r", _pc="_c", _slice="_slice", _corner_cost="_cost")
    cycles = (
        in_row.join(in_column, on=["_slice", "_tr", "_tc"])
        .join(corners, on=["_slice", "_pr", "_pc"])
        .with_columns(_total=pl.col("_row_cost") + pl.col("_column_cost") + pl.col("_corner_cost"))
        .sort("_total", "_pr", "_pc")
        .group_by("_slice", "_tr", "_tc", maintain_order=True)
        .first()
    )
    if cycles.height != exposed.height:  # the grand total always closes a cycle
        msg = "internal error: a sensitive cell found no cycle of withheld cells"
        raise FlowlensError(msg)
    added = pl.concat(
        [
            cycles.select("_slice", _r="_tr", _c="_pc"),
            cycles.select("_slice", _r="_pr", _c="_tc"),
            cycles.select("_slice", _r="_pr", _c="_pc"),
        ]
    )
    return pl.concat([primary.select(cell), added]).unique(maintain_order=True)


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
    min_senders: int,
    dominance: tuple[int, float] | None,
) -> SuppressedPanel:
    cell = ["_slice", "_r", "_c"]
    flagged = suppressed.with_columns(suppressed=pl.lit(True))
    cells = cells.join(flagged, on=cell, how="left", maintain_order="left").with_columns(
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

    margins_table = table.filter((pl.col("_r") == _TOTAL) | (pl.col("_c") == _TOTAL))
    margins_table = margins_table.join(flagged, on=cell, how="left").with_columns(
        pl.col("suppressed").fill_null(False)
    )
    additive = [c for c in _ADDITIVE if c in values]
    margins = margins_table.sort(
        "_slice", pl.col("_r") == _TOTAL, "_r", pl.col("_c") == _TOTAL, "_c"
    ).select(
        *slice_keys,
        pl.col(fs.ORIGIN).cast(cells.schema[fs.ORIGIN]),
        pl.col(fs.DESTINATION).cast(cells.schema[fs.DESTINATION]),
        *(pl.when(~hidden).then(pl.col(c)).alias(c) for c in additive),
        "suppressed",
    )
    summary = _summary(audit, margins_table)
    return SuppressedPanel(
        panel=safe,
        margins=margins,
        cells=audit,
        summary=summary,
        min_senders=min_senders,
        dominance=dominance,
        slice_keys=tuple(slice_keys),
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
