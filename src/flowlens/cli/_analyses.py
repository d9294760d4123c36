"""The subcommands over a panel: ``surges``, ``informal`` and ``graph``.

Each reads a corridor panel (``flowlens panel``'s output, or any table with ``period``,
``origin``, ``destination`` and ``amount_usd``) or a flows file, which is aggregated as
``flowlens panel`` would (small-cell suppression included unless ``--unsafe``), and
writes files. Outputs are checked before any work; several files are written as one unit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens._atomic import write_unit
from flowlens.cli._common import Stages, parse_mapping, refuse_inputs, table
from flowlens.errors import OutputError, ParameterError

__all__ = ["add_analysis_commands", "read_analysis_panel"]

_SENDER_LEVEL = (fs.N_SENDERS, *fs.TOP_SENDER_COLUMNS)
_FORMATS = ("parquet", "csv", "tsv", "xlsx")


def _is_panel_csv(source: str) -> bool | None:
    """For a CSV path: whether its header has ``period`` (a panel); None if not a CSV."""
    from flowlens.io import _kind_of, sniff_csv

    path = Path(source)
    if not path.is_file() or _kind_of(path) != "csv":
        return None
    return fs.PERIOD in sniff_csv(path).columns


def _read_panel_file(source: str) -> pl.DataFrame | None:
    """The table at ``source`` when it is a panel (has ``period``), else None (flows)."""
    from flowlens.io import as_lazy, read_error

    panel_csv = _is_panel_csv(source)
    try:
        if panel_csv is not None:
            if not panel_csv:
                return None
            return pl.read_csv(source, try_parse_dates=True, infer_schema_length=None)
        frame = as_lazy(source).frame
        if fs.PERIOD not in frame.collect_schema().names():
            return None
        return frame.collect()
    except pl.exceptions.PolarsError as exc:
        raise read_error(exc, source) from exc


def _flows_panel(args: argparse.Namespace, stages: Stages) -> pl.DataFrame:
    """Flows aggregated into a panel as ``flowlens panel`` would write it."""
    from flowlens.freq import normalise_freq
    from flowlens.panel import corridor_panel
    from flowlens.privacy import suppress_small_cells
    from flowlens.validate import load_flows

    report = load_flows(args.input, columns=parse_mapping(args.map))
    controlled = "sender_id" in report.clean.collect_schema().names() and not args.unsafe
    stats = ("sum", "count", "senders", "top_senders") if controlled else ("sum", "count")
    stages.start("aggregating the flows into a panel")
    panel = corridor_panel(report, freq=normalise_freq(args.freq), by=tuple(args.by), stats=stats)
    if isinstance(panel, pl.LazyFrame):
        panel, report = report.collect(panel)
    if not isinstance(panel, pl.DataFrame):  # pragma: no cover - load_flows gives polars
        msg = f"expected a polars panel, got {type(panel).__name__}"
        raise TypeError(msg)
    sys.stdout.write(
        f"{report.n_clean:,} clean rows ({report.n_rejected:,} rejected) -> "
        f"{panel.height:,} panel rows\n"
    )
    if not controlled:
        if args.unsafe:
            sys.stderr.write(
                "flowlens: warning: --unsafe: no small-cell suppression; do not publish "
                "these outputs\n"
            )
        return panel
    safe = suppress_small_cells(panel)
    withheld = safe.summary.filter(
        (pl.col("table") == "cells") & (pl.col("reason") != "published")
    )["share_of_amount"].sum()
    sys.stdout.write(
        f"small-cell suppression (flowlens panel's defaults): {safe.n_suppressed:,} of "
        f"{panel.height:,} cells withheld, {withheld:.1%} of the amount; the analysis reads "
        "them as unknown (--unsafe for files that stay with the data holder)\n"
    )
    return safe.panel


def read_analysis_panel(args: argparse.Namespace, stages: Stages) -> pl.DataFrame:
    """The panel an analysis reads, without sender-level columns; says what suppression
    withheld in it.

    Examples
    --------
    >>> import argparse, datetime as dt, pathlib, tempfile
    >>> import polars as pl
    >>> from flowlens.cli._analyses import read_analysis_panel
    >>> from flowlens.cli._common import Stages
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "panel.parquet"
    >>> pl.DataFrame({"period": [dt.date(2024, 1, 1)], "origin": ["USA"], "destination": ["MEX"],
    ...               "amount_usd": [5e9], "n_senders": [12]}).write_parquet(path)
    >>> read_analysis_panel(argparse.Namespace(input=str(path)), Stages(on=False)).columns
    ['period', 'origin', 'destination', 'amount_usd']
    """
    stages.start(f"reading {args.input}")
    panel = _read_panel_file(args.input)
    from_file = panel is not None
    if panel is None:
        panel = _flows_panel(args, stages)  # says what it withheld
    elif getattr(args, "map", None):
        panel = panel.rename(parse_mapping(args.map))
    withheld = (
        int(panel[fs.SUPPRESSED].cast(pl.Boolean).sum()) if fs.SUPPRESSED in panel.columns else 0
    )
    if withheld and from_file:
        sys.stderr.write(
            f"flowlens: note: {withheld:,} of {panel.height:,} cells of the panel are withheld "
            "by small-cell suppression; the analysis reads them as unknown. For analysis, "
            "build the panel with flowlens panel --unsafe (and keep the results with the data "
            "holder)\n"
        )
    sender_level = [c for c in panel.columns if c.lower() in _SENDER_LEVEL]
    return panel.drop(sender_level)


def _output_folder(out: str, names: list[str], fmt: str, *, force: bool) -> list[Path]:
    """The files of a folder output, checked before any work: the folder is new (its parent
    exists) or a folder; each file is new unless ``force``."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        msg = f"--out {out!r} is a file; give a folder (new, or holding earlier outputs)"
        raise OutputError(msg)
    if not folder.exists() and not folder.parent.is_dir():
        msg = f"--out {out!r}: the folder {str(folder.parent)!r} does not exist; create it first"
        raise OutputError(msg)
    paths = [folder / f"{name}.{fmt}" for name in names]
    if folder.is_dir():
        from flowlens.export import check_output

        for path in paths:
            check_output(path, overwrite=force)
    return paths


def _write_folder(paths: list[Path], tables: list[pl.DataFrame], *, force: bool) -> list[Path]:
    """Write the tables as one unit, creating the folder if it is new (and removing it
    again if the write fails)."""
    from flowlens.export import frame_writer

    folder = paths[0].parent
    created = not folder.exists()
    folder.mkdir(exist_ok=True)
    try:
        return write_unit(
            [(p, frame_writer(t, p.suffix)) for p, t in zip(paths, tables, strict=True)],
            overwrite=force,
        )
    except BaseException:
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise


def _check_single(out: str, extra: str | None, *, force: bool) -> list[Path]:
    from flowlens.export import check_output

    outputs = [check_output(out, overwrite=force)]
    if extra:
        outputs.append(check_output(extra, overwrite=force))
        if os.path.realpath(outputs[0]) == os.path.realpath(outputs[1]):
            msg = f"--out and --diagnostics are the same file {out!r}; give two names"
            raise OutputError(msg)
    return outputs


def _surges(args: argparse.Namespace) -> int:
    from flowlens.export import frame_writer
    from flowlens.surge import detect_surges

    outputs = _check_single(args.out, args.diagnostics, force=args.force)
    refuse_inputs(outputs, args.input)
    stages = Stages(on=args.progress or sys.stderr.isatty())
    panel = read_analysis_panel(args, stages)
    stages.start(f"scoring the panel's series ({args.method})")
    result = detect_surges(
        panel,
        method=args.method,
        window=args.window,
        threshold=args.threshold,
        min_uplift=args.min_uplift,
        by=args.series_by or None,
        missing=args.missing,
        holidays=args.holidays,
    )
    stages.done()
    scored = result.scored
    flagged = scored.filter(pl.col("flag"))
    written = flagged if args.flagged_only else scored
    items = [(outputs[0], frame_writer(written, outputs[0].suffix))]
    if args.diagnostics:
        items.append((outputs[1], frame_writer(result.diagnostics, outputs[1].suffix)))
    write_unit(items, overwrite=args.force)
    keys = list(result.by)
    n_series = scored.select(keys).n_unique() if keys else 1
    sys.stdout.write(
        f"{n_series:,} series x {scored['period'].n_unique():,} periods ({result.freq}) "
        f"scored by {result.method} (threshold {result.threshold:g}, window {result.window}): "
        f"{flagged.height:,} surges flagged in "
        f"{flagged.select(keys).n_unique() if keys and flagged.height else 0:,} series -> "
        f"{outputs[0]}{' (flagged rows only)' if args.flagged_only else ''}\n"
    )
    if result.diagnostics.height:
        where = f" -> {outputs[1]}" if args.diagnostics else " (--diagnostics FILE to see why)"
        never = int((result.diagnostics["n_scored"] == 0).sum())
        partly = result.diagnostics.height - never
        # a warm-up leaves every series unscored at first: say how many were never scored
        sys.stdout.write(
            f"{never:,} of {n_series:,} series never scored (too little history for the "
            f"window), {partly:,} scored after a warm-up or with gaps{where}\n"
        )
    if flagged.height:
        top = flagged.sort("score", descending=True).head(args.top)
        shown = top.select("period", *keys, result.value, "baseline", "score")
        sys.stdout.write(f"Highest scores:\n{table(_rounded(shown))}\n")
    return 0


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """USD amounts as whole dollars for the terminal (thousands separators, no cents);
    scores and shares kept."""
    usd = [
        c
        for c, t in frame.schema.items()
        if t.is_float() and (c.endswith("_usd") or c in (fs.AMOUNT_USD, "baseline"))
    ]
    return frame.with_columns(pl.col(usd).round(0).cast(pl.Int64))


_INFORMAL_TABLES = ["summary", "by_scenario", "by_destination", "corridors", "baseline"]


def _informal(args: argparse.Namespace) -> int:
    from flowlens.informal import estimate_informal
    from flowlens.informal._scenario_file import read_scenario_file

    found = read_scenario_file(args.scenario)  # a bad file is refused before any work
    paths = _output_folder(args.out, _INFORMAL_TABLES, args.format, force=args.force)
    named = [str(p) for p in (found.baseline.costs, found.baseline.path) if p is not None]
    refuse_inputs(paths, args.input, args.scenario, *named)
    stages = Stages(on=args.progress or sys.stderr.isatty())
    panel = read_analysis_panel(args, stages)
    stages.start(f"baseline ({found.baseline.method})")
    baseline = found.baseline.build(panel)
    draws = args.draws if args.draws is not None else found.draws
    seed = args.seed if args.seed is not None else found.seed
    stages.start(f"{draws:,} draws x {max(len(found.scenarios), 1)} scenario(s)")
    estimate = estimate_informal(
        panel,
        list(found.scenarios) or None,
        baseline=baseline,
        draws=draws,
        seed=seed,
        progress=stages.on,
    )
    stages.done()
    tables = [
        estimate.summary,
        estimate.by_scenario,
        estimate.by_destination,
        estimate.corridors,
        estimate.baseline,
    ]
    _write_folder(paths, tables, force=args.force)
    sys.stdout.write(
        f"{len(estimate.scenarios)} scenario(s), {draws:,} draws, seed {seed}, "
        f"{estimate.spec.freq} periods -> {paths[0].parent}/ "
        f"({', '.join(p.name for p in paths)})\n"
    )
    shown = estimate.summary.select(
        "scenario",
        recorded_usd="recorded_formal_usd",
        informal_usd="informal_p50",
        informal_p5_usd="informal_p5",
        informal_p95_usd="informal_p95",
        lost_usd="lost_mean",
        informal_share=pl.col("informal_to_recorded").round(3),
    )
    sys.stdout.write(
        "Whole panel (informal: median draw and 90% interval; lost: mean; "
        "informal_share: informal / recorded):\n"
    )
    sys.stdout.write(f"{table(_rounded(shown))}\n")
    return 0


_GRAPH_TABLES = ["corridors", "concentration", "exposure"]


def _corridor_pairs(texts: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for text in texts:
        origin, sep, destination = text.partition(":")
        if not sep or not origin or not destination:
            msg = f"--corridor takes ORIGIN:DESTINATION such as USA:SOM, got {text!r}"
            raise ParameterError(msg)
        pairs.append((origin.strip().upper(), destination.strip().upper()))
    return pairs


def _period(text: str | None) -> Any:
    if text is None:
        return None
    first, sep, last = text.partition(",")
    return (first.strip(), last.strip()) if sep else text.strip()


def _graph(args: argparse.Namespace) -> int:
    from flowlens.graph import CorridorGraph

    pairs = _corridor_pairs(args.corridor)
    paths = _output_folder(args.out, _GRAPH_TABLES, args.format, force=args.force)
    refuse_inputs(paths, args.input)
    stages = Stages(on=args.progress or sys.stderr.isatty())
    panel = read_analysis_panel(args, stages)
    stages.start("building the corridor graph")
    graph = CorridorGraph.from_panel(
        panel, period=_period(args.period), flow_type=args.flow_type or None
    )
    value = graph.value
    corridors = graph.top_corridors(max(graph.edges.height, 1))
    concentration = graph.concentration()
    if args.origin or pairs:
        exposure = graph.exposure(origins=args.origin, corridors=pairs)
    else:  # each receiving country's exposure to each sending country
        exposure = (
            graph.inflow_shares()
            .select(
                fs.ORIGIN,
                fs.DESTINATION,
                exposed_usd=pl.col(value),
                inflow_usd=pl.col(value).sum().over(fs.DESTINATION),
                exposed_share=pl.col("share"),
            )
            .sort("exposed_usd", fs.ORIGIN, fs.DESTINATION, descending=[True, False, False])
        )
    stages.done()
    _write_folder(paths, [corridors, concentration, exposure], force=args.force)
    sys.stdout.write(f"{graph!r} -> {paths[0].parent}/ ({', '.join(p.name for p in paths)})\n")
    most = concentration.filter(pl.col("n_sources") > 1).sort("hhi", descending=True)
    sys.stdout.write(
        "Receiving countries most dependent on one sender (hhi: sum of squared source "
        f"shares):\n{table(_rounded(most.head(args.top)))}\n"
    )
    return 0


def _common_options(command: argparse.ArgumentParser, force_help: str) -> None:
    command.add_argument(
        "input",
        help="a panel (flowlens panel's output: Parquet or CSV with period) or a flows file "
        "(aggregated as flowlens panel would)",
    )
    command.add_argument("--force", action="store_true", help=force_help)
    command.add_argument(
        "--progress",
        action="store_true",
        help="say each stage on stderr even when it is not a terminal",
    )
    command.add_argument("--top", type=int, default=10, help="rows to show (default 10)")
    flows = command.add_argument_group("when the input is flows")
    flows.add_argument("--freq", default="1mo", help="period length (default 1mo)")
    flows.add_argument(
        "--by", action="append", default=["flow_type"], help="extra panel key (repeatable)"
    )
    flows.add_argument("--map", action="append", default=[], metavar="YOURS=CANONICAL")
    flows.add_argument(
        "--unsafe",
        action="store_true",
        help="no small-cell suppression of the panel (results that stay with the data holder)",
    )


def add_analysis_commands(
    sub: Any, *, epilog: str, force_help: str
) -> None:  # long: three subcommands' options, declared
    """Declare ``surges``, ``informal`` and ``graph`` on the subparsers ``sub``."""
    formatter = argparse.RawDescriptionHelpFormatter
    surges = sub.add_parser(
        "surges",
        help="score every series of a panel and flag surges",
        description="Write the scored panel (baseline, score, flag, kind per series and "
        "period) to --out; see docs/surge.md for the methods.",
        epilog=epilog,
        formatter_class=formatter,
    )
    _common_options(surges, force_help)
    surges.add_argument("--out", required=True, help="output .parquet, .csv, .tsv or .xlsx")
    surges.add_argument(
        "--method",
        default="forecast",
        choices=["forecast", "seasonal", "calendar", "rolling"],
        help="baseline method (default forecast)",
    )
    surges.add_argument(
        "--threshold", type=float, help="flag above this score (default: the method's)"
    )
    surges.add_argument(
        "--window", type=int, help="baseline length in periods (default: the method's)"
    )
    surges.add_argument(
        "--min-uplift",
        type=float,
        default=0.0,
        help="flag only this share above the baseline too (0.25)",
    )
    surges.add_argument(
        "--series-by",
        action="append",
        default=[],
        metavar="KEY",
        help="keys of one series (repeatable; default every key: each corridor and flow type)",
    )
    surges.add_argument(
        "--missing",
        default="null",
        choices=["null", "zero"],
        help="a period without a row is unknown (null) or no flow (zero)",
    )
    surges.add_argument(
        "--holidays",
        choices=["tabular", "none", "observed"],
        help="moving holidays of forecast and calendar (default tabular)",
    )
    surges.add_argument("--flagged-only", action="store_true", help="write only the flagged rows")
    surges.add_argument(
        "--diagnostics", help="also write the series that could not be scored, and why"
    )
    surges.set_defaults(run=_surges)

    informal = sub.add_parser(
        "informal",
        help="estimate informal and lost flow under de-risking scenarios",
        description="Read scenarios from a TOML file (docs/cli.md: the scenario file) and "
        "write summary, by_scenario, by_destination, corridors and baseline tables to the "
        "folder --out.",
        epilog=epilog,
        formatter_class=formatter,
    )
    _common_options(informal, force_help)
    informal.add_argument("--scenario", required=True, help="the scenario file (.toml)")
    informal.add_argument("--out", required=True, help="output folder (new, or with --force)")
    informal.add_argument("--format", default="parquet", choices=_FORMATS, help="file format")
    informal.add_argument(
        "--draws", type=int, help="Monte Carlo draws (default: the file's, else 1000)"
    )
    informal.add_argument("--seed", type=int, help="random seed (default: the file's, else 0)")
    informal.set_defaults(run=_informal)

    graph = sub.add_parser(
        "graph",
        help="corridor graph tables: corridors, concentration, exposure",
        description="Write corridors (largest first, with shares), concentration (per "
        "receiving country: hhi, top source) and exposure (each receiving country's share "
        "of inflows from each sending country, or from --origin / --corridor) to the "
        "folder --out.",
        epilog=epilog,
        formatter_class=formatter,
    )
    _common_options(graph, force_help)
    graph.add_argument("--out", required=True, help="output folder (new, or with --force)")
    graph.add_argument("--format", default="parquet", choices=_FORMATS, help="file format")
    graph.add_argument("--period", help="one period (2023-01-01) or FIRST,LAST; default all")
    graph.add_argument(
        "--flow-type", action="append", default=[], help="keep this flow type (repeatable)"
    )
    graph.add_argument(
        "--origin",
        action="append",
        default=[],
        help="exposure to this sending country (repeatable)",
    )
    graph.add_argument(
        "--corridor",
        action="append",
        default=[],
        metavar="ORIGIN:DESTINATION",
        help="exposure to this corridor (repeatable)",
    )
    graph.set_defaults(run=_graph)
