"""The bad-input catalogue: each case's exact behaviour, and docs/bad_inputs.md kept in step.

Every case is one row of the catalogue page (its id in the first column, and the
message or reason it promises quoted in the last), and one parametrised test here.
"""

from __future__ import annotations

import gzip
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import flowlens as fl
from flowlens.errors import InputFormatError, MissingColumnError, SchemaError

HEADER = "date,origin,destination,flow_type,amount,currency"
GOOD = "2024-01-15,USA,MEX,remittance,100,USD"
DOCS = Path(__file__).parent.parent / "docs" / "bad_inputs.md"


@dataclass(frozen=True)
class Raises:
    error: type[Exception]
    message: str  # a fragment of the message, quoted in the catalogue


@dataclass(frozen=True)
class Outcome:
    clean: int
    rejected: int
    rule: str | None = None  # of the first reject
    reason: str | None = None  # a fragment of the first reject's reason, quoted in the catalogue


Source = Callable[[Path], Any]


def csv(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> Source:
    def make(tmp: Path) -> Path:
        path = tmp / "input.csv"
        path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
        return path

    return make


def raw(data: bytes, name: str = "input.csv") -> Source:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return make


def frame(**columns: list[Any]) -> Source:
    base: dict[str, list[Any]] = {
        "date": ["2024-01-15"],
        "origin": ["USA"],
        "destination": ["MEX"],
        "flow_type": ["remittance"],
        "amount": ["100"],
        "currency": ["USD"],
    }
    base.update(columns)
    return lambda tmp: pl.DataFrame(base, strict=False)


def amount(value: str) -> Source:
    return csv(GOOD, f"2024-01-15,USA,MEX,remittance,{value},USD")


def date(value: str) -> Source:
    return csv(GOOD, f"{value},USA,MEX,remittance,100,USD")


def zipped(tmp: Path) -> Path:
    path = tmp / "input.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sheet.csv", f"{HEADER}\n{GOOD}\n")
    return path


def latin1_past_the_head(tmp: Path) -> Path:
    good = "\n".join([GOOD] * 3000)  # about 115 KiB of UTF-8 before the bad byte
    path = tmp / "input.csv"
    path.write_bytes(
        f"{HEADER}\n{good}\n2024-01-15,USA,Côte d'Ivoire,remittance,100,USD\n".encode("latin-1")
    )
    return path


def damaged_parquet(tmp: Path) -> Path:
    path = tmp / "input.parquet"
    pl.DataFrame({"date": ["2024-01-15"] * 1000, "amount": ["1"] * 1000}).write_parquet(path)
    path.write_bytes(path.read_bytes()[:200] + path.read_bytes()[-100:])
    return path


def pandas_mixed(tmp: Path) -> Any:
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {
            "date": ["2024-01-15", "2024-01-16"],
            "origin": ["USA", "USA"],
            "destination": ["MEX", "MEX"],
            "flow_type": ["remittance"] * 2,
            "amount": [100, "200"],  # an object column mixing numbers and text
            "currency": ["USD", "USD"],
        }
    )


CASES: dict[str, tuple[str, Source, Raises | Outcome]] = {
    # --- the file itself -------------------------------------------------------------
    "empty-file": ("a 0-byte file", raw(b""), Raises(InputFormatError, "is empty (0 bytes)")),
    "blank-first-line": (
        "blank lines, no header",
        raw(b"\n\n\n"),
        Raises(InputFormatError, "starts with an empty line"),
    ),
    "header-only": ("a header and no rows", csv(), Outcome(0, 0)),
    "ragged-long-row": (
        "a row with more fields than the header",
        csv(GOOD, GOOD + ",extra"),
        Raises(InputFormatError, "a row has more fields than the header"),
    ),
    "ragged-short-row": (
        "a row with fewer fields than the header",
        csv(GOOD, "2024-01-15,USA,MEX"),
        Outcome(1, 1, "flow_type", "flow_type: '<missing>' is not one of"),
    ),
    "unclosed-quote": (
        "an opening quote never closed",
        csv(GOOD, '2024-01-15,"USA,MEX,remittance,100,USD', GOOD),
        Raises(InputFormatError, "most often by an unclosed quote"),
    ),
    "trailing-separator": (
        "every line ends with a separator",
        csv(GOOD + ",", header=HEADER + ","),
        Outcome(1, 0),
    ),
    "crlf-line-ends": (
        "Windows line ends (CRLF)",
        raw(f"{HEADER}\r\n{GOOD}\r\n".encode()),
        Outcome(1, 0),
    ),
    "no-final-newline": (
        "no line end after the last row",
        raw(f"{HEADER}\n{GOOD}".encode()),
        Outcome(1, 0),
    ),
    "semicolon-separator": (
        "';' as separator (spreadsheets in many European locales)",
        csv(GOOD.replace(",", ";"), header=HEADER.replace(",", ";")),
        Outcome(1, 0),
    ),
    "tab-separator": (
        "tabs as separator in a .csv file",
        csv(GOOD.replace(",", "\t"), header=HEADER.replace(",", "\t")),
        Outcome(1, 0),
    ),
    "repeated-column": (
        "the same column name twice",
        csv(GOOD + ",200", header=HEADER + ",amount"),
        Raises(InputFormatError, "repeats the column name 'amount'"),
    ),
    "repeated-column-case": (
        "'Amount' and 'amount'",
        csv(GOOD + ",200", header=HEADER + ",Amount"),
        Raises(InputFormatError, "repeats the column name 'Amount'"),
    ),
    "gzip-csv": (
        "a gzip-compressed CSV named .csv",
        raw(gzip.compress(f"{HEADER}\n{GOOD}\n".encode())),
        Outcome(1, 0),
    ),
    "zip-renamed": (
        "a ZIP archive (or .xlsx) renamed .csv",
        zipped,
        Raises(InputFormatError, "is a ZIP archive"),
    ),
    "excel-workbook": (
        "an .xlsx path",
        raw(b"PK\x03\x04", name="input.xlsx"),
        Raises(InputFormatError, "is a spreadsheet workbook; save the sheet as CSV"),
    ),
    "damaged-parquet": (
        "a truncated Parquet file",
        damaged_parquet,
        Raises(InputFormatError, "cannot read Parquet file"),
    ),
    # --- encodings -------------------------------------------------------------------
    "utf8-bom": ("UTF-8 with a byte-order mark", csv(GOOD, encoding="utf-8-sig"), Outcome(1, 0)),
    "utf16": ("UTF-16 text", csv(GOOD, encoding="utf-16"), Raises(InputFormatError, "is UTF-16")),
    "latin1": (
        "latin-1 bytes in the first 64 KiB",
        csv(GOOD, "2024-01-15,USA,Côte d'Ivoire,remittance,100,USD", encoding="latin-1"),
        Raises(InputFormatError, "is not UTF-8 text: byte 0xf4 on line 3"),
    ),
    "latin1-later": (
        "latin-1 bytes after the first 64 KiB",
        latin1_past_the_head,
        Raises(InputFormatError, "it is not UTF-8 text (latin-1 or Windows-1252?)"),
    ),
    "nul-byte": (
        "a NUL byte inside a value",
        raw(f"{HEADER}\n{GOOD}\n".encode() + b"2024-01-15,US\x00A,MEX,remittance,100,USD\n"),
        Outcome(1, 1, "origin", "origin: unknown country 'US\x00A'"),
    ),
    # --- column names ----------------------------------------------------------------
    "header-case-spaces": (
        "' Date ', 'ORIGIN', 'Flow_Type'",
        csv(GOOD, header=" Date ,ORIGIN,Destination,Flow_Type,AMOUNT,currency"),
        Outcome(1, 0),
    ),
    "header-ambiguous": (
        "'Date' and 'DATE' in one frame, no 'date'",
        lambda tmp: frame(Date=["2024-01-15"], DATE=["2024-01-16"])(tmp).drop("date"),
        Raises(SchemaError, "all read as 'date' once case and spaces are ignored"),
    ),
    "missing-column": (
        "no amount column",
        csv(
            "2024-01-15,USA,MEX,remittance,USD", header="date,origin,destination,flow_type,currency"
        ),
        Raises(MissingColumnError, "required column 'amount' is missing"),
    ),
    "misspelt-column": (
        "'ammount' for 'amount'",
        csv(GOOD, header=HEADER.replace("amount", "ammount")),
        Raises(MissingColumnError, "Did you mean 'ammount'?"),
    ),
    # --- dates -----------------------------------------------------------------------
    "day-first-date": (
        "15/01/2024",
        date("15/01/2024"),
        Outcome(1, 1, "date", "(day and month order is ambiguous: write YYYY-MM-DD)"),
    ),
    "slashed-iso-date": (
        "2024/01/15",
        date("2024/01/15"),
        Outcome(1, 1, "date", "(write YYYY-MM-DD with hyphens)"),
    ),
    "spelled-date": (
        "Jan 15 2024",
        date("Jan 15 2024"),
        Outcome(1, 1, "date", "date: 'Jan 15 2024' is not a valid date"),
    ),
    "serial-date": (
        "a spreadsheet serial number, 45306",
        date("45306"),
        Outcome(1, 1, "date", "(a spreadsheet serial number? format the column as a date)"),
    ),
    "impossible-date": (
        "2024-02-30",
        date("2024-02-30"),
        Outcome(1, 1, "date", "date: '2024-02-30' is not a valid date"),
    ),
    "timestamp-text": ("2024-01-15T10:30:00Z", date("2024-01-15T10:30:00Z"), Outcome(2, 0)),
    "date-before-rates": (
        "1900-01-01, before any FX rate",
        date("1900-01-01"),
        Outcome(1, 1, "fx", "fx: no FX rate for USD on 1900-01-01"),
    ),
    "integer-date-column": (
        "dates as integers (20240115) in a frame",
        frame(date=[20240115]),
        Raises(SchemaError, "column 'date' (date) has dtype Int64"),
    ),
    # --- amounts ---------------------------------------------------------------------
    "thousands-separator": (
        '"1,234.50"',
        amount('"1,234.50"'),
        Outcome(1, 1, "amount", "(thousands separators: write 1234.5)"),
    ),
    "decimal-comma": (
        "1234,50 in a ';' file",
        csv("2024-01-15;USA;MEX;remittance;1234,50;USD", header=HEADER.replace(",", ";")),
        Outcome(0, 1, "amount", "(a decimal comma: write 1234.5)"),
    ),
    "european-thousands": (
        "1.234,50 in a ';' file",
        csv("2024-01-15;USA;MEX;remittance;1.234,50;USD", header=HEADER.replace(",", ";")),
        Outcome(0, 1, "amount", "(dots and a decimal comma: write 1234.5)"),
    ),
    "currency-symbol": (
        "$100",
        amount("$100"),
        Outcome(1, 1, "amount", "(a currency symbol: put the code in 'currency')"),
    ),
    "code-in-amount": (
        "100 USD",
        amount("100 USD"),
        Outcome(1, 1, "amount", "(a currency code in the amount: put it in 'currency')"),
    ),
    "spreadsheet-error": (
        "#DIV/0! (any value starting with #)",
        amount("#DIV/0!"),
        Outcome(1, 1, "amount", "(a spreadsheet error value: fix the formula in the source)"),
    ),
    "not-a-number": (
        "NaN (and inf)",
        amount("NaN"),
        Outcome(1, 1, "amount", "amount: 'NaN' is not a positive finite number"),
    ),
    "zero-or-negative": (
        "-5 (and 0)",
        amount("-5"),
        Outcome(1, 1, "amount", "amount: '-5' is not a positive finite number"),
    ),
    "absurd-amount": (
        "1e300",
        amount("1e300"),
        Outcome(1, 1, "amount", "USD, above 1,000,000,000,000 USD for one transfer"),
    ),
    "overflowing-amount": (
        "1e400 (overflows to infinity)",
        amount("1e400"),
        Outcome(1, 1, "amount", "amount: '1e400' is not a positive finite number"),
    ),
    "scientific-amount": ("1e3 and ' 100 '", amount(" 1e3 "), Outcome(2, 0)),
    "text-amount": (
        "abc",
        amount("abc"),
        Outcome(1, 1, "amount", "amount: 'abc' is not a positive finite number"),
    ),
    "boolean-amount": (
        "a Boolean amount column in a frame",
        frame(amount=[True]),
        Raises(SchemaError, "column 'amount' has dtype Boolean"),
    ),
    "mixed-object-column": (
        "a pandas object column mixing numbers and text",
        pandas_mixed,
        Raises(InputFormatError, "A column probably mixes types"),
    ),
    "empty-amount-column": (
        "an amount column of nulls only",
        frame(amount=[None]),
        Outcome(0, 1, "amount", "amount: '<missing>' is not a positive finite number"),
    ),
    # --- codes and names -------------------------------------------------------------
    "case-and-spaces": (
        "' usa ', 'Mex', 'REMITTANCE', ' usd '",
        csv("2024-01-15, usa ,Mex,REMITTANCE,100, usd "),
        Outcome(1, 0),
    ),
    "country-names": (
        "'United States', 'Korea, Rep.' (quoted)",
        csv('2024-01-15,United States,"Korea, Rep.",remittance,100,USD'),
        Outcome(1, 0),
    ),
    "unknown-country": (
        "XXX",
        csv(GOOD, "2024-01-15,XXX,MEX,remittance,100,USD"),
        Outcome(1, 1, "origin", "origin: unknown country 'XXX'"),
    ),
    "formula-text": (
        "=HYPERLINK(...) in a code column",
        csv(GOOD, '2024-01-15,"=HYPERLINK(""http://x"")",MEX,remittance,100,USD'),
        Outcome(1, 1, "origin", "origin: unknown country '=HYPERLINK(\"http://x\")'"),
    ),
    "long-value": (
        "a 1,000,000-character value",
        csv(GOOD, "2024-01-15," + "X" * 1_000_000 + ",MEX,remittance,100,USD"),
        Outcome(1, 1, "origin", "... (1000000 characters)"),
    ),
    "domestic": (
        "origin equal to destination",
        csv(GOOD, "2024-01-15,USA,USA,remittance,100,USD"),
        Outcome(1, 1, "domestic", "domestic: origin equals destination ('USA')"),
    ),
    "unknown-flow-type": (
        "gift",
        csv(GOOD, "2024-01-15,USA,MEX,gift,100,USD"),
        Outcome(1, 1, "flow_type", "flow_type: 'gift' is not one of"),
    ),
    "unknown-currency": (
        "XYZ",
        csv(GOOD, "2024-01-15,USA,MEX,remittance,100,XYZ"),
        Outcome(1, 1, "currency", "currency: 'XYZ' is not an ISO 4217 currency code"),
    ),
    "negative-fee": (
        "fee -3",
        csv(GOOD + ",1", "2024-01-15,USA,MEX,remittance,100,USD,-3", header=HEADER + ",fee"),
        Outcome(1, 1, "fee", "fee: '-3' is not a finite number >= 0"),
    ),
    "repeated-tx-id": (
        "the same tx_id twice",
        csv(GOOD + ",T1", GOOD + ",T1", header=HEADER + ",tx_id"),
        Outcome(1, 1, "duplicate_tx_id", "tx_id: 'T1' repeats an earlier row's id"),
    ),
    # --- sources ---------------------------------------------------------------------
    "no-such-file": (
        "a path that does not exist",
        lambda tmp: tmp / "nowhere.csv",
        Raises(InputFormatError, "no such file or directory"),
    ),
    "empty-directory": (
        "a directory without Parquet files",
        lambda tmp: tmp,
        Raises(InputFormatError, "holds no .parquet files"),
    ),
    "unknown-suffix": (
        "a .json path",
        raw(b"{}", name="input.json"),
        Raises(InputFormatError, "cannot tell the format"),
    ),
    "unsupported-object": (
        "a Python list",
        lambda tmp: [1, 2, 3],
        Raises(InputFormatError, "cannot read a source of type 'list'"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, tmp_path: Path) -> None:
    _, make, expected = CASES[case]
    source = make(tmp_path)
    if isinstance(expected, Raises):
        with pytest.raises(expected.error, match=re.escape(expected.message)):
            fl.load_flows(source).summary  # noqa: B018 (a lazy source fails when read)
        return
    report = fl.load_flows(source)
    assert (report.n_clean, report.n_rejected) == (expected.clean, expected.rejected)
    assert report.n_clean + report.n_rejected == report.n_rows_in
    clean = report.clean.collect() if isinstance(report.clean, pl.LazyFrame) else report.clean
    assert clean.height == expected.clean
    if expected.rejected:
        first = report.rejects.row(0, named=True)
        assert first["rule"] == expected.rule
        assert expected.reason is not None and expected.reason in first["reason"]


def catalogue_rows() -> dict[str, str]:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^\| `([a-z0-9-]+)` \|", line)
        if found:
            rows[found.group(1)] = line
    return rows


def test_the_catalogue_page_matches_the_cases() -> None:
    rows = catalogue_rows()
    assert len(CASES) >= 30
    assert sorted(rows) == sorted(CASES)
    for case, (_, _, expected) in CASES.items():
        promised = expected.message if isinstance(expected, Raises) else expected.reason
        if promised is not None:
            shown = promised.replace("\x00", "\\0").replace("|", "\\|")
            assert shown in rows[case], f"docs/bad_inputs.md, {case}: should quote {shown!r}"
