"""A crisis brief as HTML (self-contained: inline SVG charts, no script, no fetch) or Markdown."""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:62rem;margin:1.5rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #d68910;padding:.4rem .7rem;margin:.5rem 0}
.prior{background:#eef4fb;border-left:4px solid #1f5a96;padding:.4rem .7rem}
figure{margin:.8rem 0}svg{max-width:100%;height:auto}
"""


def amount(value: float) -> str:
    """A USD amount in units that fit it: 4,532m, 3.2m, 850k, 420 (never a bare 0m).

    Examples
    --------
    >>> from flowlens.brief._render import amount
    >>> amount(4.532e9), amount(3.21e6), amount(4.2e5), amount(8.5e5), amount(-1.3e4), amount(420.0)
    ('4,532m', '3.2m', '420k', '850k', '-13k', '420')
    """
    size = abs(value)
    if size >= 1e7:
        return f"{value / 1e6:,.0f}m"
    if size >= 1e6:
        return f"{value / 1e6:,.1f}m"
    if size >= 1e3:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


def usd(value: float | None) -> str:
    """``"USD 3.2m"``; ``"unknown"`` for a missing amount (never a zero)."""
    return "unknown" if value is None else f"USD {amount(value)}"


def fmt(value: object, column: str = "") -> str:  # noqa: PLR0911 (one form per kind)
    """One cell as text: USD in adaptive units, shares in percent, dates as ISO."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if column.endswith("_usd") or column in ("value_usd",):
            return amount(value)
        if column.startswith("share") or column in ("ratio_share",) or column.endswith("_share"):
            return f"{100 * value:.1f}%"
        if column.endswith("_pct") or column == "pct":
            return f"{value:.2f}%"
        if abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def _cells(frame: pl.DataFrame, row: tuple[object, ...]) -> list[str]:
    """A row's cells as text; a (measure, value) summary formats each value by its measure."""
    if frame.columns[:2] == ["measure", "value"]:
        measure = str(row[0])
        kind = "share" if "share" in measure else "pct" if measure.endswith("(%)") else measure
        return [measure, fmt(row[1], kind), *(fmt(v) for v in row[2:])]
    return [fmt(v, c) for c, v in zip(frame.columns, row, strict=True)]


def _headers(frame: pl.DataFrame) -> list[str]:
    return [c.replace("_usd", " (USD)").replace("_", " ") for c in frame.columns]


def html_table(frame: pl.DataFrame, rows: int | None = 25) -> str:
    """A polars table as an HTML table (escaped; USD in adaptive units); every row when ``rows=None``."""
    rows = frame.height if rows is None else rows
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _headers(frame))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(frame, row)) + "</tr>"
        for row in frame.head(rows).iter_rows()
    )
    more = f"<p>({frame.height - rows} more rows)</p>" if frame.height > rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def markdown_table(frame: pl.DataFrame, rows: int | None = None) -> str:
    """A polars table as a Markdown pipe table (every row unless ``rows`` is given)."""
    if frame.width == 0:
        return ""
    rows = frame.height if rows is None else rows
    lines = ["| " + " | ".join(_headers(frame)) + " |", "|" + "---|" * frame.width]
    for row in frame.head(rows).iter_rows():
        cells = (cell.replace("|", "/") for cell in _cells(frame, row))
        lines.append("| " + " | ".join(cells) + " |")
    if frame.height > rows:
        lines.append(f"\n({frame.height - rows} more rows)")
    return "\n".join(lines)


def svg(figure: Any, name: str) -> str:
    """A matplotlib figure as inline SVG: text as text, ids salted by the chart's name."""
    import matplotlib as mpl

    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration nor DOCTYPE inside HTML
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)


def _section_html(title: str, parts: Sequence[str]) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


def _p(text: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f"<p{klass}>{html.escape(text)}</p>"


def _klass(text: str) -> str:
    if text.startswith("This is a prior"):
        return "prior"
    return "note" if text.startswith("Warning:") else ""


def body_html(brief: Any, *, charts: bool = True, rows: int | None = 25) -> str:
    """The brief's content as HTML (what ``_repr_html_`` shows and ``to_html`` wraps).

    ``rows`` caps each table in a notebook's view; the written page passes None (every row).
    """
    figures = dict(brief.figures) if charts else {}

    def chart(name: str) -> str:
        fig = figures.get(name)
        return f"<figure>{svg(fig, name)}</figure>" if fig is not None else ""

    parts = [f"<h1>{html.escape(brief.title)}</h1>", _p(brief.headline)]
    parts += [_p(w, "note") for w in brief.warnings]
    for title, paragraphs, tables, names in brief.layout():
        content = [_p(t, _klass(t)) for t in paragraphs]
        content += [
            (_p(caption) if caption else "") + html_table(frame, rows) for caption, frame in tables
        ]
        content += [chart(n) for n in names]
        parts.append(_section_html(title, content))
    if brief.notes:
        notes = "".join(_p(n, "note") for n in brief.notes)
        parts.append(_section_html("Notes on the data", [notes]))
    return "".join(parts)


def page_html(brief: Any) -> str:
    """One self-contained HTML page: inline CSS and SVG, no script, nothing fetched."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(brief.title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body_html(brief, rows=None)}</body></html>\n"
    )


def markdown(brief: Any) -> str:
    """The brief as Markdown (tables as pipe tables; charts are in the HTML only)."""
    parts = [f"# {brief.title}", "", brief.headline, ""]
    for warning in brief.warnings:
        parts += [f"> **{warning}**", ""]
    for title, paragraphs, tables, _names in brief.layout():
        parts += [f"## {title}", ""]
        for text in paragraphs:
            quoted = text.startswith(("This is a prior", "Warning:"))
            parts += [("> " if quoted else "") + text, ""]
        for caption, frame in tables:
            if caption:
                parts += [caption, ""]
            parts += [markdown_table(frame), ""]
    if brief.notes:
        parts += ["## Notes on the data", ""] + [f"- {n}" for n in brief.notes] + [""]
    return "\n".join(parts)
