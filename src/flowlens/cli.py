"""The ``flowlens`` command: ``demo``, ``validate``, ``panel`` and ``synth``.

Exit codes: 0 on success; 2 on bad input or a refused write (one line on stderr
naming the problem, no traceback); 1 only for a bug in flowlens (one line saying
so, then the traceback).

Nothing is destroyed without consent: no output may be an input of the run (or
fall inside an input directory or glob), an existing output is refused unless
``--force``, every file is written to a temporary file in its folder and renamed
into place (``validate`` names its clean rows and rejects as one unit), and output
formats are checked before any work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, NoReturn

import polars as pl

from flowlens._atomic import write_atomic, write_unit
from flowlens.errors import DisclosureWarning, FlowlensError, OutputError

__all__ = [
    "build_parser",
    "flows_fingerprint",
    "input_files",
    "main",
    "output_stem",
    "parse_count",
    "publication_log",
    "refuse_inputs",
]


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


_INPUT_SUFFIXES = (".csv.gz", ".tsv.gz", ".csv", ".tsv", ".txt", ".parquet", ".pq", ".gz")


def _is_pattern(source: str) -> bool:
    """A glob pattern, as the reader takes it: has ``*?[`` and is not an existing file."""
    return any(ch in source for ch in "*?[") and not Path(source).exists()


def input_files(source: str) -> list[Path]:
    """The files a run reads: the file, every file under a directory, or a glob's matches.

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.cli import input_files
    >>> [p.name for p in input_files(str(fl.sample_path("flows")))]
    ['flows_sample.csv']
    """
    if _is_pattern(source):
        return [Path(p) for p in sorted(glob.glob(source, recursive=True))]  # noqa: PTH207
    path = Path(source)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.exists() else []


def _strip_suffix(name: str) -> str:
    lowered = name.lower()
    for suffix in _INPUT_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def output_stem(source: str) -> str:
    """The name outputs are derived from: the whole input name without its format suffix.

    ``flows.2024-01.csv`` gives ``flows.2024-01`` (never ``flows``); a directory
    gives its name; a glob gives the common start of the matched names (else the
    folder's name), never a ``*``.

    Examples
    --------
    >>> from flowlens.cli import output_stem
    >>> output_stem("data/flows.2024-01.csv"), output_stem("flows.csv.gz")
    ('flows.2024-01', 'flows')
    """
    if _is_pattern(source):
        names = [_strip_suffix(p.name) for p in input_files(source)]
        common = os.path.commonprefix(names).rstrip("0123456789-_. ") if names else ""  # noqa: RUF071
        if len(names) == 1:
            common = names[0]
        folder = Path(source).parent
        stem = common or Path(os.path.abspath(folder)).name  # noqa: PTH100
    else:
        path = Path(source)
        stem = Path(os.path.abspath(path)).name if path.is_dir() else _strip_suffix(path.name)  # noqa: PTH100
    return stem if stem and stem not in {".", ".."} else "flows"


def refuse_inputs(outputs: Sequence[Path], *sources: str) -> None:
    """Refuse an output that is an input of the run, or that would join an input dataset.

    An output may not be one of the files read (compared after resolving links,
    and by identity for hard links), fall inside an input directory, or match an
    input glob (the next run would read it).

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.cli import refuse_inputs
    >>> source = fl.sample_path("flows")
    >>> refuse_inputs([source], str(source))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flowlens.errors.OutputError: refusing to write ...flows_sample.csv: it is an input of this run...
    """
    for source in sources:
        files = input_files(source)
        real = {os.path.realpath(f) for f in files}
        folder = os.path.realpath(source) if Path(source).is_dir() else None
        pattern = os.path.abspath(source) if _is_pattern(source) else None  # noqa: PTH100
        for out in outputs:
            target = os.path.realpath(out)
            same = target in real or (
                out.exists() and any(out.samefile(f) for f in files if f.exists())
            )
            inside = folder is not None and target.startswith(folder + os.sep)
            matches = pattern is not None and fnmatch(os.path.abspath(out), pattern)  # noqa: PTH100
            if same or inside or matches:
                why = (
                    "it is an input of this run"
                    if same
                    else (f"it would join the input dataset {source!r}")
                )
                msg = f"refusing to write {out}: {why}; choose another output name or folder"
                raise OutputError(msg)


_PUBLISHED_LOG = ".flowlens-published.json"


def flows_fingerprint(panel: pl.DataFrame) -> str:
    """What identifies the flows behind a panel whatever its frequency, breakdown or file:
    the transfers counted, their USD total to the cent, and the corridors.

    A monthly panel of flows.csv, a quarterly one of its gzip copy and a yearly one of
    ``flowlens validate``'s clean file share it; so may two unrelated extracts by chance,
    which costs a needless warning, not a missed one.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.cli import flows_fingerprint
    >>> p = pl.DataFrame({"period": [dt.date(2024, 1, 1)], "origin": ["USA"],
    ...                   "destination": ["MEX"], "amount_usd": [10.0], "n_transfers": [2]})
    >>> flows_fingerprint(p)
    'flows:2:1000:1'
    """
    counted = int(panel["n_transfers"].sum()) if "n_transfers" in panel.columns else panel.height
    cents = round(float(panel["amount_usd"].sum()) * 100) if "amount_usd" in panel.columns else 0
    corridors = panel.select("origin", "destination").n_unique()
    return f"flows:{counted}:{cents}:{corridors}"


def publication_log(out: Path) -> list[Path]:
    """Where published panels are recorded: the output folder's log, and the user's own
    (``$FLOWLENS_STATE_DIR``, else ``$XDG_STATE_HOME/flowlens``, else
    ``~/.local/state/flowlens``), so that outputs in different folders are seen together.

    Examples
    --------
    >>> from pathlib import Path
    >>> from flowlens.cli import publication_log
    >>> publication_log(Path("out/p.csv"))[0].name
    '.flowlens-published.json'
    """
    state = os.environ.get("FLOWLENS_STATE_DIR")
    if state is None:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        state = str(Path(base) / "flowlens")
    return [out.parent / _PUBLISHED_LOG, Path(state) / "published.json"]


def _note_publication(panel: pl.DataFrame, *, freq: str, by: tuple[str, ...], out: Path) -> None:
    """Record a suppressed panel in the publication logs; warn on a second frequency.

    A monthly and a quarterly panel of the same flows are linked tables: cells
    withheld in one can be worked out from the other by differencing. The flows are
    recognised by their content (:func:`flows_fingerprint`), not by their file.
    """
    key = flows_fingerprint(panel)
    earlier = []
    for log_path in publication_log(out):
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            earlier += _note_in(log_path, key, freq=freq, by=by, out=out)
        except OSError:  # a read-only home must not stop a publication; the folder log stays
            continue
    if earlier:
        first = earlier[0]
        sys.stderr.write(
            f"flowlens: warning: these flows were already published as {first.get('output')} "
            f"(freq {first.get('freq')}, by {first.get('by')}); a second frequency or breakdown "
            "of the same flows can reveal withheld cells by differencing: publish one, or "
            "check them together\n"
        )


def _note_in(
    log_path: Path, key: str, *, freq: str, by: tuple[str, ...], out: Path
) -> list[dict[str, Any]]:
    """Add this publication to one log; return the earlier ones of the same flows in
    another layout."""
    try:
        entries: list[dict[str, Any]] = json.loads(log_path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            entries = []
    except (OSError, ValueError):
        entries = []
    layout = {"freq": freq, "by": sorted(by)}
    here = os.path.realpath(out)
    others = [
        e for e in entries
        if isinstance(e, dict) and e.get("input") == key and e.get("output") != here
        and {"freq": e.get("freq"), "by": e.get("by")} != layout
    ]  # fmt: skip
    entries = [e for e in entries if not (isinstance(e, dict) and e.get("output") == here)]
    entries.append(
        {"input": key, **layout, "output": here, "written": dt.datetime.now(dt.UTC).isoformat()}
    )
    text = json.dumps(entries, indent=1)

    def write_log(target: str) -> None:
        Path(target).write_text(text, encoding="utf-8")

    write_atomic(log_path, write_log, overwrite=True)
    return others


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
    report = load_flows(args.file, columns=_parse_mapping(args.map), strict=False)
    clean = report.clean
    rejects = from_any(report.rejects, what="rejects").eager()

    def write_clean(target: str) -> None:
        if isinstance(clean, pl.LazyFrame):
            clean.sink_parquet(target, engine="streaming")
        else:
            clean.write_parquet(target)

    # one unit: both files appear, or neither; rejects hold raw source text: escaped
    write_unit(
        [(clean_path, write_clean), (rejects_path, frame_writer(rejects, ".csv"))],
        overwrite=args.force,
    )
    sys.stdout.write(
        f"{report.n_rows_in:,} rows in: {report.n_clean:,} clean -> {clean_path}; "
        f"{report.n_rejected:,} rejected -> {rejects_path}\n"
    )
    if report.n_rejected:
        sys.stdout.write(_table(report.summary.filter(pl.col("outcome") != "clean")))
        sys.stdout.write("\n")
    return 0


def _panel(args: argparse.Namespace) -> int:  # long: the subcommand, start to end
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
    report = load_flows(args.file, columns=_parse_mapping(args.map))
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
        _note_publication(frame, freq=freq, by=tuple(args.by), out=outputs[0])
        cells = safe.summary.filter(pl.col("table") == "cells")
        withheld = cells.filter(pl.col("reason") != "published")
        sys.stdout.write(
            f"small-cell suppression (senders < {args.min_senders}, dominance "
            f"{args.dominance}, p% rule {args.p_rule}, protection {args.protection}"
            f"{', audited' if args.audit else ''}): "
            f"{safe.n_suppressed:,} of {frame.height:,} cells withheld, "
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


def _synth(args: argparse.Namespace) -> int:
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
        return _fail(str(exc).replace("overwrite=True (--force on the command line)", "--force"))
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
