"""What every subcommand shares: its inputs and outputs, tables for the terminal, hints in
command-line syntax."""

from __future__ import annotations

import ast
import glob
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path

import polars as pl

from flowlens.errors import FlowlensError, OutputError

__all__ = [
    "Stages",
    "cli_syntax",
    "input_files",
    "output_stem",
    "parse_mapping",
    "refuse_inputs",
    "table",
]


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``--map YOURS=CANONICAL`` options as the ``columns=`` mapping of :func:`load_flows`.

    Examples
    --------
    >>> from flowlens.cli._common import parse_mapping
    >>> parse_mapping(["sender_country=origin", "sent_on=date"])
    {'sender_country': 'origin', 'sent_on': 'date'}
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        user, sep, canonical = pair.partition("=")
        if not sep or not user or not canonical:
            msg = f"--map takes YOUR_COLUMN=CANONICAL_NAME, got {pair!r}"
            raise FlowlensError(msg)
        mapping[user] = canonical
    return mapping


_COLUMNS_ARGUMENT = re.compile(r"columns=(\{[^{}]*\})")


def _as_map_options(match: re.Match[str]) -> str:
    try:
        mapping = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return match.group(0)
    if not isinstance(mapping, dict) or not mapping:
        return match.group(0)
    options = []
    for user, canonical in mapping.items():
        mine = "YOUR_COLUMN" if user == "<your column>" else str(user)
        options.append(f"--map {shlex.quote(f'{mine}={canonical}')}")
    return " ".join(options)


def cli_syntax(message: str) -> str:
    """An error message with its Python hints (``columns={...}``, ``overwrite=True``) said as
    command-line options.

    Examples
    --------
    >>> from flowlens.cli._common import cli_syntax
    >>> cli_syntax("Did you mean 'orign'? Rename it, or pass columns={'orign': 'origin'}.")
    "Did you mean 'orign'? Rename it, or pass --map orign=origin."
    >>> cli_syntax("Pass columns={'<your column>': 'date'} to map it.")
    'Pass --map YOUR_COLUMN=date to map it.'
    >>> cli_syntax("'x.csv' exists already; pass overwrite=True (--force on the command line)")
    "'x.csv' exists already; pass --force"
    """
    message = message.replace("overwrite=True (--force on the command line)", "--force")
    return _COLUMNS_ARGUMENT.sub(_as_map_options, message)


def table(frame: pl.DataFrame, *, rows: int = 40) -> str:
    """A frame as a Markdown table for the terminal: amounts with thousands separators.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.cli._common import table
    >>> print(table(pl.DataFrame({"origin": ["USA"], "amount_usd": [30019000000.0]})))
    | origin | amount_usd        |
    |--------|-------------------|
    | USA    | 30,019,000,000.00 |
    """
    with pl.Config(
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        tbl_rows=rows,
        tbl_width_chars=120,
        thousands_separator=",",
        float_precision=2,
        fmt_str_lengths=90,
    ):
        return str(frame)


def format_usd(value: float) -> str:
    """USD with thousands separators, no cents.

    Examples
    --------
    >>> from flowlens.cli._common import format_usd
    >>> format_usd(30019000000.4)
    '30,019,000,000'
    """
    return f"{value:,.0f}"


_INPUT_SUFFIXES = (".csv.gz", ".tsv.gz", ".csv", ".tsv", ".txt", ".parquet", ".pq", ".gz")


def is_pattern(source: str) -> bool:
    """A glob pattern, as the reader takes it: has ``*?[`` and is not an existing file.

    Examples
    --------
    >>> from flowlens.cli._common import is_pattern
    >>> is_pattern("flows/*.parquet"), is_pattern("flows.csv")
    (True, False)
    """
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
    if is_pattern(source):
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
    if is_pattern(source):
        names = [_strip_suffix(p.name) for p in input_files(source)]
        common = os.path.commonprefix(names).rstrip("0123456789-_. ") if names else ""  # noqa: RUF071
        if len(names) == 1:
            common = names[0]
        folder = Path(source).parent
        stem = common or Path(os.path.abspath(folder)).name  # noqa: PTH100
    else:
        path = Path(source)
        stem = Path(os.path.abspath(path)).name if path.is_dir() else _strip_suffix(path.name)  # noqa: PTH100
    return stem if stem and stem not in {".", ".."} and not is_pattern(stem) else "flows"


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
        pattern = os.path.abspath(source) if is_pattern(source) else None  # noqa: PTH100
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


class Stages:
    """Progress of a long run on stderr, one line per stage with the seconds it took; silent
    unless ``on`` (``--progress``, or stderr is a terminal).

    Examples
    --------
    >>> from flowlens.cli._common import Stages
    >>> stages = Stages(on=False)
    >>> stages.start("reading the panel")
    >>> stages.done()
    """

    def __init__(self, *, on: bool) -> None:
        self.on = on
        self._what = ""
        self._since = 0.0

    def start(self, what: str) -> None:
        """Say that ``what`` begins (and end the stage before)."""
        self.done()
        self._what, self._since = what, time.perf_counter()
        if self.on:
            sys.stderr.write(f"flowlens: {what} ...\n")
            sys.stderr.flush()

    def done(self) -> None:
        """Say that the current stage ended, with its seconds."""
        if self._what and self.on:
            seconds = time.perf_counter() - self._since
            sys.stderr.write(f"flowlens: {self._what}: done in {seconds:.1f} s\n")
            sys.stderr.flush()
        self._what = ""
