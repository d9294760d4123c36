"""The ``flowlens`` command: ``demo``, ``validate``, ``panel`` and ``synth`` over flows;
``surges``, ``informal`` and ``graph`` over a panel; ``brief`` (a crisis brief);
``flowlens --version``.

Exit codes: 0 on success; 2 on bad input or a refused write (one line on stderr
naming the problem, in command-line terms, no traceback); 1 only for a bug in
flowlens (one line saying so, then the traceback).

Nothing is destroyed without consent: no output may be an input of the run (or
fall inside an input directory or glob), an existing output is refused unless
``--force``, every file is written to a temporary file in its folder and renamed
into place (the files of one run as one unit), and output names and formats are
checked before any work.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import polars as pl

from flowlens.cli._analyses import add_analysis_commands
from flowlens.cli._brief import add_brief_command
from flowlens.cli._common import cli_syntax, input_files, output_stem, refuse_inputs
from flowlens.cli._flows import demo as _demo
from flowlens.cli._flows import panel as _panel
from flowlens.cli._flows import parse_count
from flowlens.cli._flows import synth as _synth
from flowlens.cli._flows import validate as _validate
from flowlens.cli._publication import flows_fingerprint, publication_log
from flowlens.errors import FlowlensError

__all__ = [
    "build_parser",
    "flows_fingerprint",
    "input_files",
    "main",
    "output_stem",
    "parse_count",
    "publication_log",
    "refuse_inputs",
    "version",
]


def version() -> str:
    """The installed flowlens version (``flowlens --version`` prints it).

    Examples
    --------
    >>> from flowlens.cli import version
    >>> version().count(".") >= 1
    True
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("flowlens")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument said in one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_EPILOG = """\
Writes destroy nothing: an output may not be an input of the run (or fall inside
an input folder or glob); an existing output is refused unless --force; every
file is written to a hidden temporary file in its folder and renamed into place
when complete (validate's clean rows and rejects as one unit), so an interrupted
run leaves the old files, or none. Exit codes: 0 done, 2 bad input or refused
write (one line on stderr), 1 a bug in flowlens (with its traceback).
"""


_FORCE_HELP = "replace existing outputs (atomically); without it an existing output is refused"


def build_parser() -> argparse.ArgumentParser:  # long: every subcommand and option, declared
    """The argument parser of the ``flowlens`` command.

    Examples
    --------
    >>> from flowlens.cli import build_parser
    >>> build_parser().parse_args(["validate", "flows.csv", "--force"]).force
    True
    """
    parser = _Parser(
        prog="flowlens",
        description="Diaspora money flows: validate, aggregate, analyse.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"flowlens {version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job on the bundled sample")
    demo.add_argument("--top", type=int, default=10, help="rows to show per table")
    demo.set_defaults(run=_demo)

    validate = sub.add_parser(
        "validate",
        help="split a file into clean rows and rejects",
        description="Write NAME.clean.parquet and NAME.rejects.csv (NAME: the whole input "
        "name without its suffix; for a glob, the matched files' common start).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("file", help="CSV or Parquet file, or a directory of Parquet files")
    validate.add_argument("--out-dir", default=".", help="where to write the outputs (must exist)")
    validate.add_argument("--force", action="store_true", help=_FORCE_HELP)
    validate.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="YOURS=CANONICAL",
        help="rename a column, e.g. --map sender_country=origin (repeatable)",
    )
    validate.set_defaults(run=_validate)

    panel = sub.add_parser(
        "panel",
        help="validate a file and write its corridor panel",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    panel.add_argument("file", help="CSV or Parquet file, or a directory of Parquet files")
    panel.add_argument("--freq", default="1mo", help="day, week, month, quarter, year or '1mo'")
    panel.add_argument(
        "--by", action="append", default=["flow_type"], help="extra key (repeatable)"
    )
    panel.add_argument(
        "--stats",
        default="sum,count",
        help="comma-separated: sum,count,mean,median,fees,cost_ratio,senders",
    )
    panel.add_argument("--out", required=True, help="output .parquet, .csv or .xlsx")
    panel.add_argument("--map", action="append", default=[], metavar="YOURS=CANONICAL")
    panel.add_argument(
        "--min-senders",
        type=int,
        default=10,
        help="with sender ids: withhold cells with fewer distinct senders (default 10)",
    )
    panel.add_argument(
        "--dominance",
        default="2,0.85",
        help="with sender ids: withhold cells whose N largest senders hold over K (default 2,0.85)",
    )
    panel.add_argument(
        "--p-rule",
        default="0.10",
        help="with sender ids: withhold cells where the rest of the senders hold less than this "
        "share of the largest (default 0.10; none to turn off)",
    )
    panel.add_argument(
        "--protection",
        default="0.10,0.10",
        help="with sender ids: how far a withheld value's feasible interval must reach below and "
        "above it, as shares (default 0.10,0.10; 0.10,1.0 asks for twice the value above)",
    )
    panel.add_argument(
        "--audit",
        action="store_true",
        help="with sender ids: check every withheld value by linear programming (slow)",
    )
    panel.add_argument(
        "--margins",
        help="with sender ids: also write the suppressed totals here (written with --out as one unit)",
    )
    panel.add_argument("--force", action="store_true", help=_FORCE_HELP)
    panel.add_argument(
        "--unsafe",
        action="store_true",
        help="no small-cell suppression (files that stay with the data holder)",
    )
    panel.set_defaults(run=_panel)

    synth = sub.add_parser(
        "synth",
        help="generate synthetic flows with ground truth to Parquet",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    synth.add_argument("--rows", required=True, help="how many transfers: 100M, 2.5M, 50k, 1000")
    synth.add_argument(
        "--out", required=True, help="output directory, new or empty (part-*.parquet, _truth/)"
    )
    synth.add_argument(
        "--force", action="store_true", help="replace an earlier synth output in --out (only that)"
    )
    synth.add_argument("--seed", type=int, default=0, help="the only source of randomness")
    synth.add_argument("--config", help="JSON file of flowlens.synth.SynthConfig fields")
    synth.add_argument("--chunk-rows", default="1M", help="rows per Parquet file (memory)")
    synth.add_argument("--observe", choices=["all", "formal"], help="drop informal rows if formal")
    synth.add_argument(
        "--progress", action="store_true", help="a progress bar even when stderr is not a terminal"
    )
    synth.set_defaults(run=_synth)
    add_analysis_commands(sub, epilog=_EPILOG, force_help=_FORCE_HELP)
    add_brief_command(sub, epilog=_EPILOG, force_help=_FORCE_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 (one exit per outcome)
    """Run the ``flowlens`` command; returns the exit code.

    0 on success; 2 on bad input or a refused write, with one line on stderr and no
    traceback; 1 for an unexpected exception (a bug in flowlens), with one line
    saying so and then the traceback.

    Examples
    --------
    >>> from flowlens.cli import main
    >>> main(["panel", "no-such-file.csv", "--out", "x.parquet"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except FlowlensError as exc:
        return _fail(cli_syntax(str(exc)))
    except BrokenPipeError:  # the reader (e.g. `| head`) closed early: not an error
        return 0
    except OSError as exc:  # the system refused: permissions, a full disk, a missing file
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    except pl.exceptions.PolarsError as exc:  # the data could not be read as a table
        return _fail(f"cannot read the input: {_first_line(str(exc))} ({type(exc).__name__})")
    except KeyboardInterrupt:
        sys.stderr.write("flowlens: interrupted; no partial output was left\n")
        return 130
    except Exception as exc:  # a bug: said as such, with the traceback
        sys.stderr.write(
            f"flowlens: internal error (a bug in flowlens, please report it with the "
            f"traceback below): {type(exc).__name__}: {_first_line(str(exc))}\n"
        )
        traceback.print_exc(file=sys.stderr)
        return 1
    return code


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _fail(message: str) -> int:
    sys.stderr.write(f"flowlens: error: {' '.join(message.split())}\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
