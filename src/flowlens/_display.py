"""Small HTML summaries for notebooks (``_repr_html_``): a title, facts, and one table;
and :func:`readable_tables`, polars' display of amounts as people read them.

Everything shown is already computed; building the HTML never runs a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import polars as pl


def card(
    title: str,
    facts: Sequence[str],
    header: Sequence[str] = (),
    rows: Sequence[Sequence[object]] = (),
    note: str = "",
) -> str:
    """A compact block: bold title, a line of facts, an optional table and a note."""
    parts = [f"<div><b>{escape(title)}</b>"]
    if facts:
        parts.append(": " + " &middot; ".join(escape(f) for f in facts))
    if rows:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in rows)
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
    if note:
        parts.append(f"<div style='color:#666;font-size:90%'>{escape(note)}</div>")
    parts.append("</div>")
    return "".join(parts)


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{escape(str(value))}</td>"
    if isinstance(value, int):
        return f"<td style='text-align:right'>{value:,}</td>"
    if isinstance(value, float):
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        return f"<td style='text-align:right'>{shown}</td>"
    return f"<td>{escape(str(value))}</td>"


def readable_tables(*, width: int = 160) -> pl.Config:
    """Show polars tables with amounts as people read them, for the session or a block.

    Dollar amounts print as ``30,237,000,000`` instead of ``3.0237e10``, and wide
    results get ``width`` characters before they wrap. Applies at once for the session;
    as a context manager (``with fl.readable_tables(): ...``) only inside the block.
    flowlens never changes polars' display on import: this is the user's choice.

    Parameters
    ----------
    width
        Characters a table may take before polars wraps or elides its columns.

    Returns
    -------
    polars.Config
        The settings applied, usable as a context manager that restores the old ones.

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> table = pl.DataFrame({"destination": ["MEX"], "amount_usd": [3.0237e10]})
    >>> with fl.readable_tables():
    ...     print(table)
    shape: (1, 2)
    ┌─────────────┬────────────────┐
    │ destination ┆ amount_usd     │
    │ ---         ┆ ---            │
    │ str         ┆ f64            │
    ╞═════════════╪════════════════╡
    │ MEX         ┆ 30,237,000,000 │
    └─────────────┴────────────────┘
    """
    return _Readable(thousands_separator=",", fmt_float="full", tbl_width_chars=width)


class _Readable(pl.Config):
    """polars' Config, with a repr that says what it set (a notebook cell shows it)."""

    def __repr__(self) -> str:
        return "readable tables: thousands separators, no exponents (polars display)"
