"""Small HTML summaries for notebooks (``_repr_html_``): a title, facts, and one table.

Everything shown is already computed; building the HTML never runs a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


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
