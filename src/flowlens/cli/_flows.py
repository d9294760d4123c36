"""The subcommands over flows: ``demo``, ``validate``, ``panel`` and ``synth``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import polars as pl

from flowlens._atomic import write_unit
from flowlens.cli._common import (
    format_usd,
    output_stem,
    parse_mapping,
    refuse_inputs,
    table,
)
from flowlens.cli._publication import note_publication
from flowlens.errors import DisclosureWarning, FlowlensError, OutputError

__all__ = ["demo", "panel", "parse_count", "synth", "validate"]


def demo(args: argparse.Namespace) -> int:
    from flowlens.panel import corridor_panel
    from flowlens.sample import sample_path
    from flowlens.validate import load_flows

    path = sample_path("flows")
    report = load_flows(path)
    clean = report.clean
    clean = clean.collect() if isinstance(clean, pl.LazyFrame) else clean
    out = sys.stdout
    out.write(
        "flowlens demo: the bundled sample (4,000 synthetic transfers from flowlens.synth, 40 corridors, 2023-2024, plus 13 planted rows: 12 broken, 1 odd but valid)\n\n"
    )
    out.write(f"source: {report.source}\n")
    out.write(
        f"rows in: {report.n_rows_in:,}   clean: {report.n_clean:,}   "
        f"rejected: {report.n_rejected:,}\n\n"
    )
    if report.n_rejected:
        out.write("Rejects by rule:\n")
        out.write(table(report.summary.filter(pl.col("outcome") != "clean")))
        out.write("\n\nFirst rejects, with reasons:\n")
        out.write(
            table(
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
    out.write(table(top))
    by_type = (
        clean.group_by("flow_type")
        .agg(amount_usd=pl.col("amount_usd").sum(), n_transfers=pl.len())
        .sort("amount_usd", descending=True)
    )
    out.write("\n\nTotals by flow type, USD:\n")
    out.write(table(by_type))
    monthly = corridor_panel(clean, freq="1mo", by=())
    out.write(
        f"\n\nMonthly corridor panel: {monthly.height:,} rows; its total "
        f"{format_usd(float(monthly['amount_usd'].sum()))} USD equals the clean total "
        f"{format_usd(report.clean_amount_usd)} USD.\n"
    )
    return 0


def validate(args: argparse.Namespace) -> int:
    from flowlens._frames import from_any
    from flowlens.export import check_output, frame_writer
    from flowlens.validate import load_flows

    stem = output_stem(args.file)
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        what = "is not a folder" if out_dir.exists() else "does not exist"
        msg = f"--out-dir {str(out_dir)!r} {what}; create it first"
        raise OutputError(msg)
    clean_path = check_output(out_dir / f"{stem}.clean.parquet", overwrite=args.force)
    rejects_path = check_output(out_dir / f"{stem}.rejects.csv", overwrite=args.force)
    refuse_inputs([clean_path, rejects_path], args.file)
    report = load_flows(args.file, columns=parse_mapping(args.map), strict=False)
    clean = report.clean

    def write_clean(target: str) -> None:
        if isinstance(clean, pl.LazyFrame):
            clean.sink_parquet(target, engine="streaming")
        else:
            clean.write_parquet(target)

    def write_rejects(target: str) -> None:
        # asked for after the clean rows are written: that pass saw every row, so the
        # rejects come from it, not from a pass of their own
        rejects = from_any(report.rejects, what="rejects").eager()
        frame_writer(rejects, ".csv")(target)

    # one unit, written in this order: both files appear, or neither; rejects hold raw
    # source text: escaped
    write_unit([(clean_path, write_clean), (rejects_path, write_rejects)], overwrite=args.force)
    sys.stdout.write(
        f"{report.n_rows_in:,} rows in: {report.n_clean:,} clean -> {clean_path}; "
        f"{report.n_rejected:,} rejected -> {rejects_path}\n"
    )
    if report.n_rejected:
        sys.stdout.write(table(report.summary.filter(pl.col("outcome") != "clean")))
        sys.stdout.write("\n")
    return 0


def panel(args: argparse.Namespace) -> int:  # long: the subcommand, start to end
    from flowlens.export import check_output, frame_writer, write_frame
    from flowlens.freq import normalise_freq
    from flowlens.panel import corridor_panel
    from flowlens.privacy import suppress_small_cells
    from flowlens.validate import load_flows

    dominance = _dominance(args.dominance)
    freq = normalise_freq(args.freq)
    outputs = [check_output(args.out, overwrite=args.force)]
    if args.margins:
        outputs.append(check_output(args.margins, overwrite=args.force))
        if os.path.realpath(outputs[0]) == os.path.realpath(outputs[1]):
            msg = f"--out and --margins are the same file {args.out!r}; give two names"
            raise OutputError(msg)
    refuse_inputs(outputs, args.file)
    report = load_flows(args.file, columns=parse_mapping(args.map))
    stats = [s.strip() for s in args.stats.split(",") if s.strip()]
    clean_columns = report.clean.collect_schema().names()
    controlled = "sender_id" in clean_columns and not args.unsafe
    if args.margins and not controlled:
        msg = (
            "--margins writes the totals of a suppressed panel: it needs flows with sender_id "
            "and no --unsafe"
        )
        raise FlowlensError(msg)
    if controlled:
        stats += [s for s in ("senders", "top_senders") if s not in stats]
    panel = corridor_panel(report, freq=freq, by=tuple(args.by), stats=tuple(stats))
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
            frame,
            min_senders=args.min_senders,
            dominance=dominance,
            p_rule=_optional_share(args.p_rule, "--p-rule"),
            protection=_protection(args.protection),
            audit=args.audit,
        )
        items = [(outputs[0], frame_writer(safe.panel, outputs[0].suffix))]
        if args.margins:
            items.append((outputs[1], frame_writer(safe.margins, outputs[1].suffix)))
        write_unit(items, overwrite=args.force)
        note_publication(frame, freq=freq, by=tuple(args.by), out=outputs[0])
        cells = safe.summary.filter(pl.col("table") == "cells")
        withheld = cells.filter(pl.col("reason") != "published")
        sys.stdout.write(
            f"small-cell suppression (senders < {args.min_senders}, dominance "
            f"{args.dominance}, p% rule {args.p_rule}, protection {args.protection}"
            f"{', audited' if args.audit else ''}): "
            f"{safe.n_suppressed:,} of {frame.height:,} cells withheld, "
            f"{withheld['share_of_amount'].sum():.1%} of the amount\n"
        )
        sys.stdout.write(table(cells.select("reason", "n_cells", "share_of_amount")))
        sys.stdout.write("\n")
        return 0
    if args.unsafe and "sender_id" in clean_columns:
        sys.stderr.write(
            "flowlens: warning: --unsafe: no small-cell suppression; do not publish this file\n"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisclosureWarning)  # said once, above
        write_frame(frame, outputs[0], unsafe=args.unsafe, overwrite=args.force)
    return 0


def _optional_share(text: str, option: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        msg = f"{option} takes a share such as 0.10 (or none), got {text!r}"
        raise FlowlensError(msg) from None


def _protection(text: str) -> float | tuple[float, float]:
    lower, _, upper = text.partition(",")
    try:
        return (float(lower), float(upper)) if upper else float(lower)
    except ValueError:
        msg = f"--protection takes a share or LOWER,UPPER such as 0.10,1.0, got {text!r}"
        raise FlowlensError(msg) from None


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
    if not math.isfinite(value) or value < 0 or value != int(value):
        msg = f"{text!r} is not a row count; write e.g. 100M, 2.5M, 50k or 1000"
        raise FlowlensError(msg)
    return int(value)


def synth(args: argparse.Namespace) -> int:
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
    if args.config:
        refuse_inputs([Path(args.out)], args.config)
    result = generate_to_parquet(
        args.out, n_rows, seed=args.seed, config=config, overwrite=args.force,
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
        f"truth: {result.truth_path}/\n"
    )
    return 0
