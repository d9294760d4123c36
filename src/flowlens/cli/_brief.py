"""The ``brief`` subcommand: a crisis brief as one self-contained HTML (or Markdown) file.

    flowlens brief HTI --date 2010-01-12 --out haiti.html
    flowlens brief MEX --date 2020-03-11 --monthly banxico_monthly.csv --out mexico.html

The output is checked before any work (suffix, folder, an existing file refused
unless ``--force``; never one of the inputs) and written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flowlens._atomic import check_target, write_atomic
from flowlens.cli._common import refuse_inputs
from flowlens.errors import ParameterError

__all__ = ["add_brief_command"]

_SUFFIXES = (".html", ".htm", ".md")


def _brief(args: argparse.Namespace) -> int:
    from flowlens.brief import crisis_brief

    out = Path(args.out)
    if out.suffix.lower() not in _SUFFIXES:
        msg = f"cannot write {args.out!r}: use a .html, .htm or .md suffix (HTML or Markdown)"
        raise ParameterError(msg)
    target = check_target(out, overwrite=args.force)
    inputs = [args.monthly] if args.monthly else []
    refuse_inputs([target], *inputs)
    markdown = target.suffix.lower() == ".md"
    brief = crisis_brief(
        args.country,
        args.date,
        monthly=args.monthly,
        horizon_months=args.horizon,
        charts=not markdown,
    )
    text = brief.to_markdown() if markdown else brief.to_html()

    def write(path: str) -> None:
        Path(path).write_text(text, encoding="utf-8")

    write_atomic(target, write, overwrite=args.force)
    sys.stdout.write(
        f"{brief.headline}\n{brief.provenance.height} numbers, each sourced -> {target}\n"
    )
    return 0


def add_brief_command(sub: Any, *, epilog: str, force_help: str) -> None:
    """Declare ``flowlens brief COUNTRY --date YYYY-MM-DD [--monthly FILE] --out FILE``.

    Examples
    --------
    >>> from flowlens.cli import build_parser
    >>> args = build_parser().parse_args(["brief", "HTI", "--date", "2010-01-12", "--out", "h.html"])
    >>> args.country, args.date, args.horizon, args.force
    ('HTI', '2010-01-12', 6, False)
    """
    brief = sub.add_parser(
        "brief",
        help="a crisis brief: expected diaspora money, senders, channels (HTML)",
        description="Write a crisis brief for COUNTRY after the crisis of --date: recorded "
        "inflows against humanitarian funding, who sends, the expected response (a prior; "
        "with --monthly, what the recorded series shows), costs and channels, and what is "
        "unknown, with the source of every number. Runs offline on the bundled data.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    brief.add_argument("country", help="receiving country: ISO3 (HTI), ISO2 or a name")
    brief.add_argument("--date", required=True, help="crisis onset, YYYY-MM-DD")
    brief.add_argument(
        "--monthly",
        help="recorded monthly series of the country: an official file flowlens reads, or "
        "a corridor panel as .parquet or .csv (period, destination, amount_usd)",
    )
    brief.add_argument(
        "--horizon",
        type=int,
        default=6,
        help="months after the date (1-24, default 6; no excess is assumed after month 12)",
    )
    brief.add_argument("--out", required=True, help="output .html (self-contained) or .md")
    brief.add_argument("--force", action="store_true", help=force_help)
    brief.set_defaults(run=_brief)
