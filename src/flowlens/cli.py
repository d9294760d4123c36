"""The ``flowlens`` command: ``demo``, ``validate`` and ``panel``.

Exit codes: 0 on success, 2 on bad input (one line on stderr naming the problem,
no traceback).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import polars as pl

from flowlens.errors import DisclosureWarning, FlowlensError

__all__ = ["main"]


def _parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        user, sep, canonical = pair.partition("=")
        if not sep or not user or not canonical:
            msg = f"--map takes YOUR_COLUMN=CANONICAL_NAME, got {pair!r}"
            raise FlowlensError(msg)
        mapping[user] = canonical
    return mapping


def _format_usd(value: float) -> str:
    return f"{value:,.0f}"


def _table(frame: pl.DataFrame) -> str:
    with pl.Config(
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        tbl_rows=40,
        tbl_width_chars=120,
        thousands_separator=",",
        float_precision=2,
        fmt_str_lengths=90,
    ):
        return str(frame)


def _demo(args: argparse.Namespace) -> int:
    from flowlens.panel import corridor_panel
    from flowlens.sample import sample_path
    from flowlens.validate import load_flows

    path = sample_path("flows")
    report = load_flows(path)
    clean = report.clean
    clean = clean.collect() if isinstance(clean, pl.LazyFrame) else clean
    out = sys.stdout
    out.write(
        "flowlens demo: the bundled sample (4,000 synthetic transfers from flowlens.synth, 40 corridors, 2023-2024, plus 13 broken rows)\n\n"
    )
    out.write(f"source: {report.source}\n")
    out.write(
        f"rows in: {report.n_rows_in:,}   clean: {report.n_clean:,}   "
        f"rejected: {report.n_rejected:,}\n\n"
    )
    if report.n_rejected:
        out.write("Rejects by rule:\n")
        out.write(_table(report.summary.filter(pl.col("outcome") != "clean")))
        out.write("\n\nFirst rejects, with reasons:\n")
        out.write(
            _table(
                report.rejects.select(pl.col("row").cast(pl.String), "rule", "reason").head(
                    args.top
                )
            )
        )
        out.write("\n\n")
    panel = corridor_panel(clean, freq="1y", by=(), stats=("sum", "count"))
    top = (
        panel.group_by("origin", "destination")
        .agg(pl.col("amount_usd").sum(), pl.col("n_transfers").sum())
        .sort("amount_usd", descending=True)
        .head(args.top)
        .with_columns(share=pl.col("amount_usd") / clean["amount_usd"].sum())
    )
    out.write(f"Top {args.top} corridors, 2023-2024, USD:\n")
    out.write(_table(top))
    by_type = (
        clean.group_by("flow_type")
        .agg(amount_usd=pl.col("amount_usd").sum(), n_transfers=pl.len())
        .sort("amount_usd", descending=True)
    )
    out.write("\n\nTotals by flow type, USD:\n")
    out.write(_table(by_type))
    monthly = corridor_panel(clean, freq="1mo", by=())
    out.write(
        f"\n\nMonthly corridor panel: {monthly.height:,} rows; its total "
        f"{_format_usd(float(monthly['amount_usd'].sum()))} USD equals the clean total "
        f"{_format_usd(report.clean_amount_usd)} USD.\n"
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from flowlens.export import write_frame
    from flowlens.validate import load_flows

    report = load_flows(args.file, columns=_parse_mapping(args.map), strict=False)
    stem = Path(args.file).name.split(".")[0]
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_path = out_dir / f"{stem}.clean.parquet"
    rejects_path = out_dir / f"{stem}.rejects.csv"
    clean = report.clean
    if isinstance(clean, pl.LazyFrame):
        clean.sink_parquet(clean_path, engine="streaming")
    else:
        clean.write_parquet(clean_path)
    write_frame(report.rejects, rejects_path)  # raw text from the source: escaped
    sys.stdout.write(
        f"{report.n_rows_in:,} rows in: {report.n_clean:,} clean -> {clean_path}; "
        f"{report.n_rejected:,} rejected -> {rejects_path}\n"
    )
    if report.n_rejected:
        sys.stdout.write(_table(report.summary.filter(pl.col("outcome") != "clean")))
        sys.stdout.write("\n")
    return 0


def _panel(args: argparse.Namespace) -> int:
    from flowlens.export import write_frame
    from flowlens.panel import corridor_panel
    from flowlens.privacy import suppress_small_cells
    from flowlens.validate import load_flows

    report = load_flows(args.file, columns=_parse_mapping(args.map))
    stats = [s.strip() for s in args.stats.split(",") if s.strip()]
    clean_columns = report.clean.collect_schema().names()
    controlled = "sender_id" in clean_columns and not args.unsafe
    if controlled:
        stats += [s for s in ("senders", "top_senders") if s not in stats]
    panel = corridor_panel(report, freq=args.freq, by=tuple(args.by), stats=tuple(stats))
    if isinstance(panel, pl.LazyFrame):
        frame, report = report.collect(panel)
    else:
        frame = panel
    sys.stdout.write(
        f"{report.n_clean:,} clean rows ({report.n_rejected:,} rejected) -> "
        f"{frame.height:,} panel rows -> {args.out}\n"
    )
    if controlled:
        safe = suppress_small_cells(
            frame, min_senders=args.min_senders, dominance=_dominance(args.dominance)
        )
        write_frame(safe.panel, args.out)
        if args.margins:
            write_frame(safe.margins, args.margins)
        cells = safe.summary.filter(pl.col("table") == "cells")
        withheld = cells.filter(pl.col("reason") != "published")
        sys.stdout.write(
            f"small-cell suppression (senders < {args.min_senders}, dominance "
            f"{args.dominance}): {safe.n_suppressed:,} of {frame.height:,} cells withheld, "
            f"{withheld['share_of_amount'].sum():.1%} of the amount\n"
        )
        sys.stdout.write(_table(cells.select("reason", "n_cells", "share_of_amount")))
        sys.stdout.write("\n")
        return 0
    if args.unsafe and "sender_id" in clean_columns:
        sys.stderr.write(
            "flowlens: warning: --unsafe: no small-cell suppression; do not publish this file\n"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisclosureWarning)  # said once, above
        write_frame(frame, args.out, unsafe=args.unsafe)
    return 0


def _dominance(text: str) -> tuple[int, float] | None:
    if text.strip().lower() == "none":
        return None
    n, _, k = text.partition(",")
    try:
        return int(n), float(k)
    except ValueError:
        msg = f"--dominance takes N,K such as 2,0.85 (or none), got {text!r}"
        raise FlowlensError(msg) from None


_SUFFIXES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_count(text: str) -> int:
    """``"100M"`` -> 100_000_000; also ``"2.5M"``, ``"50k"``, ``"1_000"``.

    Examples
    --------
    >>> from flowlens.cli import parse_count
    >>> parse_count("2.5M"), parse_count("50k"), parse_count("1_000")
    (2500000, 50000, 1000)
    """
    cleaned = text.strip().lower().replace("_", "").replace(",", "")
    factor = _SUFFIXES.get(cleaned[-1:], 1)
    number = cleaned[:-1] if cleaned[-1:] in _SUFFIXES else cleaned
    try:
        value = float(number) * factor
    except ValueError:
        value = -1.0
    if value < 0 or value != int(value):
        msg = f"{text!r} is not a row count; write e.g. 100M, 2.5M, 50k or 1000"
        raise FlowlensError(msg)
    return int(value)


def _synth(args: argparse.Namespace) -> int:
    import json

    from flowlens.synth import SynthConfig, generate_to_parquet

    config = SynthConfig()
    if args.config:
        try:
            data = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            msg = f"cannot read the synth config {args.config!r}: {exc}"
            raise FlowlensError(msg) from exc
        config = SynthConfig.from_dict(data)
    if args.observe:
        config = replace(config, observe=args.observe)
    n_rows = parse_count(args.rows)
    result = generate_to_parquet(
        args.out, n_rows, seed=args.seed, config=config,
        chunk_rows=parse_count(args.chunk_rows), progress=sys.stderr.isatty() or args.progress,
    )  # fmt: skip
    truth = result.truth
    sys.stdout.write(
        f"rows: {result.n_rows_written:,} written ({n_rows:,} drawn)\n"
        f"corridors: {truth.corridors.height:,}\n"
        f"events: {truth.events.filter(kind='crisis').height} crises, "
        f"{truth.events.filter(kind='derisking').height} de-risking\n"
        f"bytes: {result.n_bytes:,} in {result.path}\n"
        f"seconds: {result.seconds:.1f} ({n_rows / max(result.seconds, 1e-9):,.0f} rows/s)\n"
        f"truth: {result.path}/truth/\n"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``flowlens`` command."""
    parser = argparse.ArgumentParser(
        prog="flowlens", description="Diaspora money flows: validate, aggregate, analyse."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job on the bundled sample")
    demo.add_argument("--top", type=int, default=10, help="rows to show per table")
    demo.set_defaults(run=_demo)

    validate = sub.add_parser("validate", help="split a file into clean rows and rejects")
    validate.add_argument("file", help="CSV or Parquet file, or a directory of Parquet files")
    validate.add_argument("--out-dir", default=".", help="where to write the outputs")
    validate.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="YOURS=CANONICAL",
        help="rename a column, e.g. --map sender_country=origin (repeatable)",
    )
    validate.set_defaults(run=_validate)

    panel = sub.add_parser("panel", help="validate a file and write its corridor panel")
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
    panel.add_argument("--margins", help="with sender ids: also write the suppressed totals here")
    panel.add_argument(
        "--unsafe",
        action="store_true",
        help="no small-cell suppression (files that stay with the data holder)",
    )
    panel.set_defaults(run=_panel)

    synth = sub.add_parser("synth", help="generate synthetic flows with ground truth to Parquet")
    synth.add_argument("--rows", required=True, help="how many transfers: 100M, 2.5M, 50k, 1000")
    synth.add_argument("--out", required=True, help="output directory (part-*.parquet, truth/)")
    synth.add_argument("--seed", type=int, default=0, help="the only source of randomness")
    synth.add_argument("--config", help="JSON file of flowlens.synth.SynthConfig fields")
    synth.add_argument("--chunk-rows", default="1M", help="rows per Parquet file (memory)")
    synth.add_argument("--observe", choices=["all", "formal"], help="drop informal rows if formal")
    synth.add_argument(
        "--progress", action="store_true", help="a progress bar even when stderr is not a terminal"
    )
    synth.set_defaults(run=_synth)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowlens`` command; returns the exit code.

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
        sys.stderr.write(f"flowlens: error: {exc}\n")
        return 2
    except BrokenPipeError:  # the reader (e.g. `| head`) closed early: not an error
        return 0
    except (OSError, pl.exceptions.PolarsError) as exc:
        sys.stderr.write(f"flowlens: error: {type(exc).__name__}: {exc}\n")
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
