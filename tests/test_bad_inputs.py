"""The bad-input catalogue: each case's exact behaviour, and docs/bad_inputs.md kept in step.

Every case is one row of the catalogue page (its id in the first column, and the
message or reason it promises quoted in the last), and one parametrised test here.
"""

from __future__ import annotations

import datetime as dt
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
from flowlens.errors import InputFormatError, MissingColumnError, ReferenceDataError, SchemaError

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


@dataclass(frozen=True)
class WithArgs:
    """A source and the keyword arguments load_flows takes with it."""

    source: Any
    kwargs: dict[str, Any]


def gzipped(text: str, name: str = "input.csv", encoding: str = "utf-8") -> Source:
    return raw(gzip.compress(text.encode(encoding)), name=name)


def bracketed_parquet(tmp: Path) -> Path:
    """flows[1].parquet (one good row) beside flows1.parquet, which a glob would read."""
    good = pl.read_csv(f"{HEADER}\n{GOOD}\n".encode(), infer_schema=False)
    good.write_parquet(tmp / "flows[1].parquet")
    pl.concat([good, good]).write_parquet(tmp / "flows1.parquet")
    return tmp / "flows[1].parquet"


def named_csv(name: str, *lines: str) -> Source:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
        return path

    return make


def csv_beside_parquet(tmp: Path) -> str:
    named_csv("flows-2024.csv", GOOD)(tmp)
    return str(tmp / "flows-*")


def damaged_gzip(tmp: Path) -> Path:
    path = tmp / "input.csv"
    path.write_bytes(gzip.compress(f"{HEADER}\n{GOOD}\n".encode() * 50)[:40])
    return path


def long_names(n: int, width: int) -> str:
    return ",".join(f"extra_{i:06d}_" + "x" * width for i in range(n))


def wide_csv(n: int, width: int) -> Source:
    extra = long_names(n, width)
    return csv(GOOD + "," * n, header=f"{HEADER},{extra}")


def no_line_end(tmp: Path) -> Path:
    path = tmp / "input.csv"
    path.write_bytes(b"date," + b"x" * (5 << 20))
    return path


def wide_frame(tmp: Path) -> pl.DataFrame:
    base: pl.DataFrame = frame()(tmp)
    return base.hstack([pl.Series(f"c{i}", [None], pl.String) for i in range(20_000)])


def fx_usd_at_two(tmp: Path) -> WithArgs:
    fx = pl.DataFrame({"date": [dt.date(2024, 1, 1)], "currency": ["USD"], "usd_per_unit": [2.0]})
    return WithArgs(csv(GOOD)(tmp), {"fx": fx})


def fx_from_year_one(tmp: Path) -> WithArgs:
    fx = pl.DataFrame(
        {
            "date": [dt.date(1, 1, 1), dt.date(2024, 1, 10)],
            "currency": ["USD", "USD"],
            "usd_per_unit": [1.0, 1.0],
        }
    )
    return WithArgs(csv(GOOD, "0001-01-03,USA,MEX,remittance,100,USD")(tmp), {"fx": fx})


def parquet_of(data: pl.DataFrame) -> Source:
    def make(tmp: Path) -> Path:
        path = tmp / "input.parquet"
        data.write_parquet(path)
        return path

    return make


def pandas_repeated(tmp: Path) -> Any:
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        [["2024-01-15", "USA", "MEX", "remittance", "100", "USD", "5"]],
        columns=["date", "origin", "destination", "flow_type", "amount", "currency", "amount"],
    )


def tx_ids(*ids: str) -> Source:
    return csv(*(f"{GOOD},{i}" for i in ids), header=HEADER + ",tx_id")


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
    # --- silently wrong numbers (issue 18) -------------------------------------------
    "overflow-after-fx": (
        "1.5e308 GBP: finite, but infinite in USD",
        csv(GOOD, "2024-01-15,GBR,PAK,remittance,1.5e308,GBP"),
        Outcome(1, 1, "amount", "amount: '1.5e308' GBP is inf USD (an overflow)"),
    ),
    "fee-overflow-after-fx": (
        "a fee of 1e308 BHD: finite, but infinite in USD",
        csv(GOOD + ",1", "2024-01-15,BHR,PAK,remittance,100,BHD,1e308", header=HEADER + ",fee"),
        Outcome(1, 1, "fee", "fee: '1e308' BHD is inf USD (an overflow)"),
    ),
    "underflow-after-fx": (
        "1e-320 IDR: positive, but 0 in USD",
        csv(GOOD, "2024-01-15,IDN,PAK,remittance,1e-320,IDR"),
        Outcome(1, 1, "amount", "amount: '1e-320' IDR is 0.0 USD (an underflow"),
    ),
    "fx-usd-not-one": (
        "fx= giving USD a rate of 2.0",
        fx_usd_at_two,
        Raises(ReferenceDataError, "FX table gives USD a rate of 2.0"),
    ),
    "absurd-fee": (
        "a fee of 1e13 USD",
        csv(GOOD + ",1", GOOD + ",1e13", header=HEADER + ",fee"),
        Outcome(1, 1, "fee", "fee: '1e13' USD is 10000000000000.0 USD, above 1,000,000,000,000"),
    ),
    "bracket-path": (
        "an existing flows[1].parquet, beside flows1.parquet",
        bracketed_parquet,
        Outcome(1, 0),
    ),
    "bracket-space-path": (
        "an existing 'remittances [2024].csv'",
        named_csv("remittances [2024].csv", GOOD),
        Outcome(1, 0),
    ),
    "glob-no-match": (
        "a missing path with glob characters, flows-*.parquet",
        lambda tmp: tmp / "flows-*.parquet",
        Raises(InputFormatError, "so it was read as a glob pattern"),
    ),
    "glob-matches-csv": (
        "a pattern that matches a CSV file",
        csv_beside_parquet,
        Raises(InputFormatError, "a pattern reads Parquet files only"),
    ),
    "tx-id-spaces": (
        "'T1', ' T1', 'T1' + no-break space, ideographic space + 'T1'",
        tx_ids("T1", " T1", "T1\u00a0", "\u3000T1"),
        Outcome(1, 3, "duplicate_tx_id", "tx_id: 'T1' repeats an earlier row's id"),
    ),
    "tx-id-zero-width": (
        "'T1' and zero-width space + 'T1'",
        tx_ids("T1", "\u200bT1"),
        Outcome(1, 1, "duplicate_tx_id", "tx_id: 'T1' repeats an earlier row's id"),
    ),
    "tx-id-unicode-forms": (
        "'Tó1' composed and decomposed, 'T' + zero-width space + '1', 'T1' in fullwidth letters",
        tx_ids("T\u00f31", "To\u03011", "T1", "T\u200b1", "\uff34\uff11"),
        Outcome(2, 3, "duplicate_tx_id", "tx_id: 'Tó1' repeats an earlier row's id"),
    ),
    "tx-id-blank": (
        "tx_id '' and '  ' in a frame (no id)",
        frame(
            date=["2024-01-15"] * 2,
            origin=["USA"] * 2,
            destination=["MEX"] * 2,
            flow_type=["remittance"] * 2,
            amount=["1", "2"],
            currency=["USD"] * 2,
            tx_id=["", "  "],
        ),
        Outcome(2, 0),
    ),
    "tx-id-case": ("'T1' and 't1' (case is kept)", tx_ids("T1", "t1"), Outcome(2, 0)),
    # --- every check for every format -------------------------------------------------
    "gzip-repeated-column": (
        "a gzip CSV with the same column name twice",
        gzipped(f"{HEADER},amount\n{GOOD},200\n"),
        Raises(InputFormatError, "repeats the column name 'amount'"),
    ),
    "gzip-semicolon": (
        "a gzip CSV with ';' as separator",
        gzipped(f"{HEADER}\n{GOOD}\n".replace(",", ";")),
        Outcome(1, 0),
    ),
    "gzip-latin1": (
        "a gzip CSV in latin-1",
        gzipped(
            f"{HEADER}\n{GOOD}\n2024-01-15,USA,Côte d'Ivoire,remittance,100,USD\n",
            encoding="latin-1",
        ),
        Raises(InputFormatError, "is not UTF-8 text: byte 0xf4 on line 3"),
    ),
    "gzip-utf16": (
        "a gzip CSV in UTF-16",
        gzipped(f"{HEADER}\n{GOOD}\n", encoding="utf-16"),
        Raises(InputFormatError, "is UTF-16"),
    ),
    "gzip-damaged": (
        "a truncated gzip file",
        damaged_gzip,
        Raises(InputFormatError, "is a damaged gzip file"),
    ),
    "csv-gz-suffix": (
        "a gzip CSV named .csv.gz",
        gzipped(f"{HEADER}\n{GOOD}\n", name="input.csv.gz"),
        Outcome(1, 0),
    ),
    "zstd-csv": (
        "a zstd-compressed CSV",
        raw(b"\x28\xb5\x2f\xfd" + b"\x00" * 20),
        Raises(InputFormatError, "is zstd-compressed"),
    ),
    "frame-repeated-column-case": (
        "'amount' and 'Amount' in a frame",
        frame(Amount=["200"]),
        Raises(SchemaError, "columns ['amount', 'Amount'] all read as 'amount'"),
    ),
    "parquet-repeated-column-case": (
        "'amount' and ' AMOUNT' in a Parquet file",
        lambda tmp: parquet_of(frame()(tmp).with_columns(pl.lit("2").alias(" AMOUNT")))(tmp),
        Raises(SchemaError, "columns ['amount', ' AMOUNT'] all read as 'amount'"),
    ),
    "pandas-repeated-column": (
        "a pandas frame with two 'amount' columns",
        pandas_repeated,
        Raises(InputFormatError, "the pandas table repeats the column name 'amount'"),
    ),
    # --- misleading diagnoses and bounded resources -----------------------------------
    "long-header": (
        "10,000 column names of 60 characters (a 600 KiB header)",
        wide_csv(10_000, 46),
        Outcome(1, 0),
    ),
    "cr-line-ends": (
        "old Mac line ends (CR alone)",
        raw(f"{HEADER}\r{GOOD}\r".encode()),
        Outcome(1, 0),
    ),
    "too-many-columns": (
        "a header of 200,000 column names",
        wide_csv(200_000, 0),
        Raises(InputFormatError, "columns, more than the 16,384 flowlens reads"),
    ),
    "header-too-long": (
        "a first line of 5 MiB without a line end",
        no_line_end,
        Raises(InputFormatError, "has no line end in its first 4 MiB"),
    ),
    "frame-too-many-columns": (
        "a frame of 20,006 columns",
        wide_frame,
        Raises(InputFormatError, "the source has 20,006 columns, more than the 16,384"),
    ),
    "fx-from-year-one": (
        "fx= with a rate dated 0001-01-01 (and rows in year 1 and 2024)",
        fx_from_year_one,
        Outcome(2, 0),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, tmp_path: Path) -> None:
    _, make, expected = CASES[case]
    source = make(tmp_path)
    kwargs: dict[str, Any] = {}
    if isinstance(source, WithArgs):
        source, kwargs = source.source, source.kwargs
    if isinstance(expected, Raises):
        with pytest.raises(expected.error, match=re.escape(expected.message)):
            fl.load_flows(source, **kwargs).summary  # noqa: B018 (a lazy source fails when read)
        return
    report = fl.load_flows(source, **kwargs)
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
    assert sorted(rows) == sorted([*CASES, *READER_CASES, *ELSEWHERE])
    promises = {case: expected for case, (_, _, expected) in CASES.items()}
    promises |= {case: expected for case, (_, _, _, expected) in READER_CASES.items()}
    for case, expected in promises.items():
        promised = expected.message if isinstance(expected, Raises) else expected.reason
        if promised is not None:
            shown = promised.replace("\x00", "\\0").replace("|", "\\|")
            assert shown in rows[case], f"docs/bad_inputs.md, {case}: should quote {shown!r}"
    for case, (where, test) in ELSEWHERE.items():
        assert f"def {test}(" in (Path(__file__).parent / where).read_text(encoding="utf-8"), case


# --- official readers: only FlowlensErrors, naming the file, what was expected and found ---

REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"
KNOMAD = REAL / "knomad_remittance_inflows_2000_2022_june2023.xlsx"
BANXICO = REAL / "banxico_mexico_remittances_monthly_1995_2026.csv"


def ragged_banxico(tmp: Path) -> Path:
    path = tmp / "banxico.csv"
    lines = BANXICO.read_text(encoding="utf-8").splitlines()[:5]
    path.write_text("\n".join([*lines, lines[-1] + ",extra,fields"]) + "\n", encoding="utf-8")
    return path


def truncated(source: Path) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / source.name
        path.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
        return path

    return make


READER_CASES: dict[str, tuple[str, Callable[..., Any], Callable[[Path], Path], Raises]] = {
    "reader-workbook-for-csv": (
        "a KNOMAD workbook given to read_banxico_monthly",
        fl.read_banxico_monthly,
        lambda tmp: KNOMAD,
        Raises(InputFormatError, "expected a Banco de Mexico SIE CSV export"),
    ),
    "reader-ragged-csv": (
        "a Banxico CSV with a row of more fields than its header",
        fl.read_banxico_monthly,
        ragged_banxico,
        Raises(InputFormatError, "found text whose first line is 'PERIODO,"),
    ),
    "reader-csv-for-workbook": (
        "a CSV given to read_knomad_annual",
        fl.read_knomad_annual,
        lambda tmp: BANXICO,
        Raises(InputFormatError, "as an Excel workbook"),
    ),
    "reader-truncated-workbook": (
        "the KNOMAD workbook cut in half",
        fl.read_knomad_annual,
        truncated(KNOMAD),
        Raises(InputFormatError, "found a ZIP archive (an .xlsx workbook?)"),
    ),
    "reader-random-bytes": (
        "random bytes named .csv, given to read_rpw_corridors",
        fl.read_rpw_corridors,
        raw(bytes(range(256)) * 4, name="rpw.csv"),
        Raises(InputFormatError, "expected a World Bank DataBank CSV export"),
    ),
    "reader-wrong-csv": (
        "the Banxico monthly CSV given to read_rpw_corridors",
        fl.read_rpw_corridors,
        lambda tmp: BANXICO,
        Raises(MissingColumnError, "expected columns ['Sending Countries Name'"),
    ),
}


@pytest.mark.parametrize("case", list(READER_CASES))
def test_bad_reader_input(case: str, tmp_path: Path) -> None:
    _, reader, make, expected = READER_CASES[case]
    path = make(tmp_path)
    with pytest.raises(expected.error, match=re.escape(expected.message)) as raised:
        reader(path)
    assert path.name in str(raised.value)


ELSEWHERE = {
    # id: (test file, test function) for cases tested with a fixture this file lacks
    "spark-timestamp": ("test_engines.py", "test_spark_timestamp_columns"),
}
"""Catalogue cases tested in another file; the catalogue test checks that the test exists."""


BEYOND_READING = (
    "## Writes: nothing destroyed without consent",
    "## Publishing: nothing withheld can be recovered",
    "## Analyses: checked at every entry",
    "## Official tables, exchange rates, charts and the command line",
)


def test_every_case_beyond_reading_is_a_test() -> None:
    """The write, publication and analysis sections: each id names a test (a function, a
    pytest.param id, or a test's docstring), so no catalogued promise is untested."""
    page = DOCS.read_text(encoding="utf-8")
    tests = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("*.py"))
    counted = 0
    for heading in BEYOND_READING:
        assert heading in page, heading
        section = page.split(heading, 1)[1].split("\n## ", 1)[0]
        ids = re.findall(r"^\| `?([A-Za-z0-9_-]+)`? \|", section, flags=re.MULTILINE)
        ids = [i for i in ids if i != "id"]
        assert ids, heading
        missing = [
            i
            for i in ids
            if not re.search(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![A-Za-z0-9])", tests)
        ]
        assert missing == [], f"{heading}: no test names {missing}"
        counted += len(ids)
    assert counted >= 90
