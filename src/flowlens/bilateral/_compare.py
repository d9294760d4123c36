"""Judge a bilateral estimate against recorded flows by sender."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens._panelspec import input_errors
from flowlens.bilateral._common import KEYS, codes, in_year, table
from flowlens.bilateral._records import recorded_flows
from flowlens.errors import ParameterError


@dataclass(frozen=True)
class BilateralComparison:
    """Per-corridor gaps between an estimate and records, and a summary per destination.

    Attributes
    ----------
    corridors
        ``origin``, ``destination``, ``estimate_usd``, ``recorded_usd``,
        ``estimate_share`` (of the estimate's destination total),
        ``recorded_share`` (of the recorded total of named senders),
        ``share_gap`` (estimate - recorded, in share points), ``ratio``
        (estimate / recorded) and ``named`` (the records give the sender a
        positive amount), largest gaps first; the kind of table the estimate came as.
    summary
        One row per destination: ``recorded_named_usd``, ``residual_usd`` and
        ``residual_share`` (the records' declared bucket of unidentified senders,
        as a share of all recorded), ``unmapped_usd`` (named senders that are not
        countries), ``top``, ``mae_top`` (mean absolute share gap over the top
        recorded senders), ``share_outside_named`` (estimate share on senders the
        records do not name), ``largest_over`` / ``largest_over_gap`` and
        ``largest_under`` / ``largest_under_gap``.

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> est = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX"] * 2,
    ...                     "amount_usd": [95.0, 5.0]})
    >>> rec = pl.DataFrame({"origin": ["USA", "CAN"], "destination": ["MEX"] * 2,
    ...                     "amount_usd": [90.0, 10.0]})
    >>> check = fl.compare_bilateral(est, rec)
    >>> round(check.summary["mae_top"].item(), 3)  # |0.95 - 0.90| and |0.05 - 0.10|
    0.05
    """

    corridors: Any
    summary: pl.DataFrame

    def __repr__(self) -> str:
        rows = [
            f"  {r['destination']}: mean |share gap| over top {r['top']} = "
            f"{100 * r['mae_top']:.2f} pts, outside named {100 * r['share_outside_named']:.2f}%, "
            f"recorded residual {100 * r['residual_share']:.2f}%"
            for r in self.summary.head(5).iter_rows(named=True)
        ]
        more = f"\n  ... {self.summary.height - 5} more" if self.summary.height > 5 else ""
        return "BilateralComparison(\n" + "\n".join(rows) + more + "\n)"


@input_errors("compare_bilateral")
def compare_bilateral(  # long: shares, gaps and the summary's six measures
    estimate: Any,
    recorded: Any,
    *,
    residual: str | Sequence[str] | None = None,
    top: int = 10,
    year: int | None = None,
    value: str = fs.AMOUNT_USD,
) -> BilateralComparison:
    """Where an estimate departs from recorded bilateral flows.

    Parameters
    ----------
    estimate
        ``origin``, ``destination``, ``value`` (for example a World Bank matrix, or
        ``estimate_bilateral(...).flows``), any table kind. Only the destinations
        present in the records are compared.
    recorded
        ``origin``, ``destination``, ``value``, or an :class:`~flowlens.OfficialTable`
        of one country's inflows by sender, such as
        :func:`flowlens.read_banxico_quarterly_by_country` returns (its inflows are
        taken; its unmatched ``No Identificado`` is the residual bucket).
    residual
        The name(s) of the records' residual bucket: rows whose ``origin`` (or, for
        an OfficialTable, unmatched names) match are the unidentified senders,
        reported apart, never compared as a country. Default: ``No Identificado``,
        ``Not identified``, ``Other countries`` and the like.
    top
        The summary's error is the mean absolute share gap over the ``top``
        largest recorded senders (default 10).
    year
        Compare this year (tables with a ``period`` column are filtered to it;
        required when the records span several years).
    value
        The amount column of both (default ``amount_usd``).

    Returns
    -------
    BilateralComparison
        ``corridors`` (the kind the estimate came as) and ``summary``.

    Raises
    ------
    ParameterError
        ``top`` < 1, or records spanning several years without ``year``.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens import compare_bilateral
    >>> est = pl.DataFrame({"origin": ["USA", "CAN", "GTM"], "destination": ["MEX"] * 3,
    ...                     "amount_usd": [97.0, 2.0, 1.0]})
    >>> rec = pl.DataFrame({"origin": ["USA", "CAN", "No Identificado"],
    ...                     "destination": ["MEX"] * 3, "amount_usd": [90.0, 5.0, 5.0]})
    >>> check = compare_bilateral(est, rec, top=2)
    >>> check.corridors.select("origin", pl.col("share_gap").round(4)).rows()
    [('CAN', -0.0326), ('USA', 0.0226), ('GTM', 0.01)]
    >>> check.summary.select("residual_share", "share_outside_named", "largest_under").row(0)
    (0.05, 0.01, 'CAN')
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        msg = f"top={top!r}: expected a whole number >= 1 (default 10)"
        raise ParameterError(msg)
    source = from_any(estimate, what="estimate")
    rec = recorded_flows(recorded, residual=residual, year=year, value=value)
    recorded_shares = _shares(rec.named, "recorded")
    destinations = pl.concat(
        [recorded_shares.select(fs.DESTINATION), rec.residual.select(fs.DESTINATION)]
    ).unique()
    frame = codes(table(source.frame, "estimate", *KEYS, value), *KEYS)
    frame = in_year(frame, year).filter(pl.col(fs.ORIGIN).is_not_null())
    estimate_shares = _shares(
        frame.group_by(*KEYS).agg(estimate_usd=pl.col(value).sum().cast(pl.Float64)), "estimate"
    ).join(destinations, on=fs.DESTINATION, how="semi")
    corridors = (
        estimate_shares.join(recorded_shares, on=list(KEYS), how="full", coalesce=True)
        .with_columns(
            named=(pl.col("recorded_usd") > 0).fill_null(False),
            rank=pl.col("recorded_usd").rank("ordinal", descending=True).over(fs.DESTINATION),
        )
        .with_columns(
            pl.col("estimate_usd", "recorded_usd", "estimate_share", "recorded_share").fill_null(
                0.0
            )
        )
        .with_columns(
            share_gap=(pl.col("estimate_share") - pl.col("recorded_share")).round(12),
            ratio=pl.col("estimate_usd") / pl.col("recorded_usd"),
        )
        .sort(
            pl.col("share_gap").abs(), "recorded_usd", *KEYS, descending=[True, True, False, False]
        )
    )
    summary = _summary(corridors, rec, top)
    result = corridors.select(
        *KEYS,
        "estimate_usd",
        "recorded_usd",
        "estimate_share",
        "recorded_share",
        "share_gap",
        "ratio",
        "named",
    )
    return BilateralComparison(corridors=source.back(result), summary=summary)


def _shares(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    total = pl.col(f"{name}_usd")
    if f"{name}_usd" not in frame.columns:
        frame = frame.rename({"recorded_usd": f"{name}_usd"})
    return frame.select(
        *KEYS, total, (total / total.sum().over(fs.DESTINATION)).alias(f"{name}_share")
    )


def _summary(corridors: pl.DataFrame, rec: Any, top: int) -> pl.DataFrame:
    gap = pl.col("share_gap")
    per = corridors.group_by(fs.DESTINATION).agg(
        recorded_named_usd=pl.col("recorded_usd").sum(),
        estimate_usd=pl.col("estimate_usd").sum(),
        top=pl.lit(top),
        mae_top=gap.abs().filter(pl.col("rank") <= top).mean(),
        share_outside_named=pl.col("estimate_share").filter(~pl.col("named")).sum(),
        largest_over=pl.col(fs.ORIGIN).sort_by(gap, descending=True).first(),
        largest_over_gap=gap.max(),
        largest_under=pl.col(fs.ORIGIN).sort_by(gap).first(),
        largest_under_gap=gap.min(),
    )
    unmapped = rec.unmapped.group_by(fs.DESTINATION).agg(unmapped_usd=pl.col("recorded_usd").sum())
    return (
        per.join(rec.residual, on=fs.DESTINATION, how="left")
        .join(unmapped, on=fs.DESTINATION, how="left")
        .with_columns(pl.col("residual_usd", "unmapped_usd").fill_null(0.0))
        .with_columns(
            residual_share=pl.col("residual_usd")
            / (pl.col("recorded_named_usd") + pl.col("residual_usd") + pl.col("unmapped_usd"))
        )
        .select(
            fs.DESTINATION,
            "recorded_named_usd",
            "residual_usd",
            "residual_share",
            "unmapped_usd",
            "estimate_usd",
            "top",
            "mae_top",
            "share_outside_named",
            "largest_over",
            "largest_over_gap",
            "largest_under",
            "largest_under_gap",
        )
        .sort(fs.DESTINATION)
    )
