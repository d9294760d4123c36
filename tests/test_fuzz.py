"""Fuzzing load_flows: generated CSV bytes and frames; only FlowlensError may escape.

The property, for any input: load_flows either raises a FlowlensError, or every
row it read ends in exactly one of ``clean`` and ``rejects``. Run longer with
``FLOWLENS_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py``, or with the atheris
harness in benchmarks/fuzz_load_flows.py.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import FlowlensError

EXAMPLES = int(os.environ.get("FLOWLENS_FUZZ_EXAMPLES", "80"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HEADER = ["date", "origin", "destination", "flow_type", "amount", "currency", "fee", "tx_id"]
VALUES = {
    "date": ["2024-01-15", "2023-06-30T10:00:00", "2024-02-30", "15/01/2024", "", "45306"],
    "origin": ["USA", "gbr", " Mexico ", "Korea, Rep.", "XXX", "", "=1+1"],
    "destination": ["MEX", "PAK", "Côte d'Ivoire", "USA", "Narnia"],
    "flow_type": ["remittance", "PHILANTHROPY", "gift", ""],
    "amount": ["100", "0.5", "-3", "1,000", "1e300", "1.5e308", "nan", "abc", " 7 ", ""],
    "currency": ["USD", "eur", "GBP", "XYZ", "SAR", "BHD", ""],
    "fee": ["1", "-1", "", "x", "1e308"],
    "tx_id": ["a", "b", "", "c", " a", "a\u00a0", "\u200bb", "A"],
}
NASTY = [b'"', b",", b";", b"\n", b"\r", b"\t", b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xc3", b"#"]


def value_of(column: str) -> st.SearchStrategy[str]:
    """Half the time the column's valid value, else any of its values."""
    return st.one_of(st.just(VALUES[column][0]), st.sampled_from(VALUES[column]))


def quoted(value: str) -> str:
    return f'"{value}"' if "," in value or '"' in value else value


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    columns = draw(st.permutations(HEADER).map(lambda c: c[: max(6, len(c) - 2)]))
    if draw(st.booleans()):  # most often all the required columns
        columns = [*HEADER[:6], *columns[6:]]
    n = draw(st.integers(0, 8))
    lines = [",".join(columns)] + [
        ",".join(quoted(draw(value_of(c))) for c in columns) for _ in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(csv_texts()))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        chunk = draw(st.one_of(st.sampled_from(NASTY), st.binary(min_size=1, max_size=4)))
        if kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at : at + len(chunk)]
        elif kind == "replace":
            data[at : at + len(chunk)] = chunk
        else:
            data[at:at] = data[max(0, at - 20) : at]
    return bytes(data)


csv_bytes = st.one_of(mutated(), csv_texts(), st.binary(max_size=200))


def check(source: object) -> None:
    """load_flows raises a FlowlensError, or conserves rows."""
    try:
        report = fl.load_flows(source)
        clean = report.clean
        if isinstance(clean, pl.LazyFrame):
            rows, report = report.collect(clean)
        else:
            rows = clean
        rejects = report.rejects
        n_in = report.n_rows_in
    except FlowlensError:
        return
    assert rows.height + rejects.height == n_in
    assert rows.height == report.n_clean
    assert rejects["row"].is_unique().all()
    assert rejects["row"].is_between(0, max(n_in - 1, 0)).all()
    assert rejects["reason"].null_count() == 0
    assert rows["amount_usd"].is_finite().all() and (rows["amount_usd"] > 0).all()
    if "fee_usd" in rows.columns:
        assert rows["fee_usd"].drop_nulls().is_finite().all()
    if "tx_id" in rows.columns:  # ids that differ only by spaces are one transfer
        assert rows["tx_id"].drop_nulls().is_unique().all()


def outcome(source: object) -> tuple[object, ...]:
    """What load_flows makes of a source: the error's type, or the counts and reasons."""
    try:
        report = fl.load_flows(source)
        return (report.n_clean, report.n_rejected, tuple(report.rejects["reason"]))
    except FlowlensError as exc:
        return (type(exc).__name__,)


@FUZZ
@given(csv_bytes)
def test_csv_bytes_only_flowlens_errors_escape(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        check(path)


@pytest.mark.slow  # the slowest fuzzers (2-3 s each) run with the slow set
@FUZZ
@given(csv_texts(), st.sampled_from(["gzip", "cr", "glob-name"]))
def test_every_format_same_outcome(data: bytes, variant: str) -> None:
    """The same rows gzip-compressed, with CR line ends, or under a name with glob
    characters: the same outcome as the plain file (every check on every format)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.csv"
        plain.write_bytes(data)
        other = Path(tmp) / ("fuzz [1]*.csv" if variant == "glob-name" else "other.csv")
        if variant == "gzip":
            other.write_bytes(gzip.compress(data))
        elif variant == "cr":
            other.write_bytes(data.replace(b"\n", b"\r"))
        else:
            other.write_bytes(data)
        assert outcome(other) == outcome(plain)


@FUZZ
@given(mutated())
def test_gzip_bytes_only_flowlens_errors_escape(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv.gz"
        path.write_bytes(gzip.compress(data))
        check(path)


ANY_VALUE = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
)


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 6))
    required, optional = HEADER[:6], HEADER[6:]
    columns = [c for c in required if draw(st.integers(0, 19))]  # now and then one is missing
    columns += draw(st.lists(st.sampled_from(optional), max_size=2, unique=True))
    data = {}
    for column in columns:
        if draw(st.integers(0, 3)):  # mostly text as an extract has it, else any one type
            data[column] = [draw(value_of(column)) for _ in range(n)]
        else:
            value = draw(ANY_VALUE)  # one type per column, as a frame has
            data[column] = [value] * n
    if columns and not draw(st.integers(0, 4)):  # now and then a name again, in other case
        twin = draw(st.sampled_from(columns))
        data[draw(st.sampled_from([twin.upper(), f" {twin}", twin.title()]))] = data[twin]
    return pl.DataFrame(data, strict=False)


@pytest.mark.slow  # the slowest fuzzers (2-3 s each) run with the slow set
@FUZZ
@given(frames())
def test_frames_only_flowlens_errors_escape(frame: pl.DataFrame) -> None:
    check(frame)
    check(frame.lazy())
    check(frame.to_arrow())


REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"
READERS = [
    fl.read_wb_bilateral_matrix,
    fl.read_wb_migrant_stock,
    fl.read_knomad_annual,
    fl.read_banxico_monthly,
    fl.read_banxico_quarterly_by_country,
    fl.read_rpw_corridors,
]
SAMPLES = sorted(p for p in REAL.iterdir() if p.suffix in (".csv", ".xlsx"))


@st.composite
def reader_inputs(draw: st.DrawFn) -> tuple[str, bytes]:
    """Another reader's file, a truncated file, or random bytes, with a suffix."""
    sample = draw(st.sampled_from(SAMPLES))
    kind = draw(st.sampled_from(["whole", "truncated", "random"]))
    suffix = draw(st.sampled_from([sample.suffix, ".csv", ".xlsx"]))
    if kind == "random":
        return suffix, draw(st.binary(max_size=2_000))
    data = sample.read_bytes()
    if kind == "truncated":
        data = data[: draw(st.integers(0, len(data) - 1))]
    return suffix, data


@settings(max_examples=max(EXAMPLES // 3, 20), deadline=None)
@given(st.sampled_from(READERS), reader_inputs())
def test_official_readers_only_flowlens_errors_escape(
    reader: Callable[[Path], object], given_file: tuple[str, bytes]
) -> None:
    suffix, data = given_file
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            reader(path)
        except FlowlensError as exc:
            assert path.name in str(exc)
