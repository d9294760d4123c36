"""Every vintage of the World Bank bilateral matrices, and editions side by side.

Known values are the World Bank's own cells, read here with the standard library
(zipfile + XML, :func:`raw_cells`), not through polars or fastexcel as the readers do.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import InputFormatError, ParameterError
from flowlens.official import matrix_vintages

Reader = Callable[..., Any]

REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"

REMITTANCES = {
    2016: ("wb_bilateral_remittance_2016_nov2017.xlsx", "Bilateral Remittances 2016"),
    2017: ("wb_bilateral_remittance_2017.xlsx", "Bilateral_Remittances_2017"),
    2021: ("knomad_bilateral_remittance_2021_dec2022.xlsx", "FINAL BRM 2021 "),
}
STOCKS = {
    2013: ("wb_bilateral_migrant_stock_2013.xlsx", "Bilateral Migration 2013"),
    2017: ("wb_bilateral_migrant_stock_2017.xlsx", "Bilateral_Migration_2017"),
    2021: ("knomad_bilateral_migrant_stock_2021_dec2022.xlsx", "BRM 2021"),
}

# ---------------------------------------------------------------- an independent reader

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _sheet_xml(path: Path, sheet: str) -> tuple[ET.Element, list[str]]:
    """The sheet's XML tree and the workbook's shared strings (the repository's own
    samples: trusted XML)."""
    with zipfile.ZipFile(path) as z:
        workbook = ET.fromstring(z.read("xl/workbook.xml"))  # noqa: S314
        rid = next(s.get(f"{_R}id") for s in workbook.iter(f"{_M}sheet") if s.get("name") == sheet)
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        target = next(
            str(r.get("Target")) for r in rels.iter(f"{_REL}Relationship") if r.get("Id") == rid
        )
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            strings = ET.fromstring(z.read("xl/sharedStrings.xml"))  # noqa: S314
            shared = [
                "".join(t.text or "" for t in si.iter(f"{_M}t")) for si in strings.iter(f"{_M}si")
            ]
        return ET.fromstring(z.read(member)), shared  # noqa: S314


def _cell_text(c: ET.Element, shared: list[str]) -> str | None:
    v = c.find(f"{_M}v")
    if c.get("t") == "inlineStr":
        return "".join(t.text or "" for t in c.iter(f"{_M}t"))
    if v is None or v.text is None:
        return None
    return shared[int(v.text)] if c.get("t") == "s" else v.text


def _row_cells(row: ET.Element, shared: list[str]) -> dict[str, str]:
    """Column letters -> text, for one ``<row>``."""
    out = {}
    for c in row.iter(f"{_M}c"):
        text = _cell_text(c, shared)
        if text is not None:
            out[re.sub(r"\d+", "", str(c.get("r")))] = text
    return out


def raw_cells(
    path: Path, sheet: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """The cells at (row label in column A, column label in the header row) of a sheet,
    read from its XML with the standard library (the header row is the one with
    'Afghanistan' in column B)."""
    root, shared = _sheet_xml(path, sheet)
    rows = list(root.iter(f"{_M}row"))
    header_at = next(
        i for i, r in enumerate(rows[:10]) if _row_cells(r, shared).get("B") == "Afghanistan"
    )
    columns = {text: col for col, text in _row_cells(rows[header_at], shared).items()}
    labels = {label for label, _ in pairs}
    found: dict[str, dict[str, str]] = {}
    for row in rows[header_at + 1 :]:
        first = next(row.iter(f"{_M}c"), None)
        if first is None or not str(first.get("r")).startswith("A"):
            continue
        label = _cell_text(first, shared)
        if label in labels and label not in found:
            found[label] = _row_cells(row, shared)
    return {(r, c): found[r].get(columns[c]) for r, c in pairs}


# ---------------------------------------------------------------- fixtures (read once)


@pytest.fixture(scope="module")
def remittances() -> dict[int, fl.OfficialTable]:
    return {y: fl.read_wb_bilateral_matrix(REAL / f) for y, (f, _) in REMITTANCES.items()}


@pytest.fixture(scope="module")
def remittances_with_zeros() -> dict[int, fl.OfficialTable]:
    return {
        y: fl.read_wb_bilateral_matrix(REAL / f, keep_zeros=True)
        for y, (f, _) in REMITTANCES.items()
    }


@pytest.fixture(scope="module")
def stocks() -> dict[int, fl.OfficialTable]:
    return {y: fl.read_wb_migrant_stock(REAL / f) for y, (f, _) in STOCKS.items()}


def _value(table: fl.OfficialTable, origin: str, destination: str) -> float | None:
    cell = table.panel.filter(origin=origin, destination=destination)
    return None if cell.height == 0 else float(cell[table.value].item())


# ---------------------------------------------------------------- known values

# published figures quoted in the issue (US$ million; persons)
KNOWN = [
    ("remittance", 2016, "USA", "MEX", 28_126, 0.5),
    ("remittance", 2017, "USA", "MEX", 30_019.2, 0.05),
    ("remittance", 2021, "USA", "MEX", 52_595, 0.5),
    ("stock", 2013, "USA", "MEX", 12_950_828, 0),
    ("stock", 2021, "USA", "MEX", 10_924_662, 0),
]


@pytest.mark.parametrize(("kind", "year", "origin", "destination", "value", "tol"), KNOWN)
def test_known_published_values(  # noqa: PLR0917 - one case per parameter
    remittances: dict[int, fl.OfficialTable],
    stocks: dict[int, fl.OfficialTable],
    kind: str,
    year: int,
    origin: str,
    destination: str,
    value: float,
    tol: float,
) -> None:
    table = remittances[year] if kind == "remittance" else stocks[year]
    got = _value(table, origin, destination)
    assert got is not None
    scale = 1e6 if kind == "remittance" else 1.0
    assert abs(got / scale - value) <= tol
    assert table.panel["period"].unique().to_list() == [dt.date(year, 1, 1)]


# three more cells per file (sheet row x sheet column), checked against the raw XML and
# against the number the XML holds, written out
MORE = [
    ("remittance", 2016, "United Arab Emirates", "India", "ARE", "IND", 12575.2282866342),
    ("remittance", 2016, "Saudi Arabia", "Yemen, Rep.", "SAU", "YEM", 2062.23676128589),
    ("remittance", 2016, "Russian Federation", "Ukraine", "RUS", "UKR", 3147.56037695035),
    ("remittance", 2017, "United Arab Emirates", "India", "ARE", "IND", 13822.589675377256),
    ("remittance", 2017, "United States", "Guatemala", "USA", "GTM", 7725.3175956774212),
    ("remittance", 2017, "United Kingdom", "Nigeria", "GBR", "NGA", 4118.951845618496),
    ("remittance", 2021, "United Arab Emirates", "India", "ARE", "IND", 19821.051397340067),
    ("remittance", 2021, "United States", "Guatemala", "USA", "GTM", 14078.189039483696),
    ("remittance", 2021, "United States", "Somalia", "USA", "SOM", 210.01700632719701),
    # migrant stocks: the sheet's row is the country of origin, its column the host;
    # the panel's corridor runs host -> origin
    ("stock", 2013, "India", "United Arab Emirates", "ARE", "IND", 2268200),
    ("stock", 2013, "Syrian Arab Republic", "Turkey", "TUR", "SYR", 593539),
    ("stock", 2013, "Venezuela, RB", "Colombia", "COL", "VEN", 45402),
    ("stock", 2017, "India", "United Arab Emirates", "ARE", "IND", 3310419),
    ("stock", 2017, "Syrian Arab Republic", "Turkey", "TUR", "SYR", 3271533),
    ("stock", 2017, "Philippines", "Saudi Arabia", "SAU", "PHL", 583985),
    ("stock", 2021, "India", "United Arab Emirates", "ARE", "IND", 3471300),
    ("stock", 2021, "Syrian Arab Republic", "Turkey", "TUR", "SYR", 217901),
    ("stock", 2021, "Venezuela, RB", "Colombia", "COL", "VEN", 1780486),
]

EXTRA = [
    ("remittance", 2016, "United States", "Mexico"),
    ("remittance", 2021, "United States", "Mexico"),
    ("remittance", 2021, "Saudi Arabia", "Yemen, Rep."),
    ("stock", 2013, "Mexico", "United States"),
    ("stock", 2021, "Mexico", "United States"),
]
"""Cells read raw besides MORE: the issue's known values, an empty cell."""


@pytest.fixture(scope="module")
def raw() -> dict[tuple[str, int], dict[tuple[str, str], str | None]]:
    """The cells of MORE and EXTRA as the sheets' XML stores them."""
    wanted = [(k, y, r, c) for k, y, r, c, *_ in MORE] + EXTRA
    out = {}
    for (kind, year), group in itertools.groupby(sorted(wanted), key=lambda w: w[:2]):
        path, sheet = (REMITTANCES if kind == "remittance" else STOCKS)[year]
        out[kind, year] = raw_cells(REAL / path, sheet, [(r, c) for *_, r, c in group])
    return out


@pytest.mark.parametrize(("kind", "year", "row", "column", "origin", "destination", "value"), MORE)
def test_more_cells_match_the_raw_sheet(  # noqa: PLR0917 - one case per parameter
    remittances: dict[int, fl.OfficialTable],
    stocks: dict[int, fl.OfficialTable],
    raw: dict[tuple[str, int], dict[tuple[str, str], str | None]],
    kind: str,
    year: int,
    row: str,
    column: str,
    origin: str,
    destination: str,
    value: float,
) -> None:
    stored = raw[kind, year][row, column]
    assert stored is not None
    assert float(stored) == pytest.approx(value, rel=1e-12)
    table = remittances[year] if kind == "remittance" else stocks[year]
    scale = 1e6 if kind == "remittance" else 1.0
    assert _value(table, origin, destination) == pytest.approx(value * scale, rel=1e-12)


def test_known_values_are_the_sheets_cells(
    raw: dict[tuple[str, int], dict[tuple[str, str], str | None]],
    remittances: dict[int, fl.OfficialTable],
    stocks: dict[int, fl.OfficialTable],
) -> None:
    cells = [
        (remittances[2016], 1e6, raw["remittance", 2016]["United States", "Mexico"]),
        (remittances[2021], 1e6, raw["remittance", 2021]["United States", "Mexico"]),
        (stocks[2013], 1.0, raw["stock", 2013]["Mexico", "United States"]),
        (stocks[2021], 1.0, raw["stock", 2021]["Mexico", "United States"]),
    ]
    for table, scale, stored in cells:
        assert stored is not None
        assert _value(table, "USA", "MEX") == pytest.approx(float(stored) * scale, rel=1e-12)


def test_empty_cells_of_2021_are_zeros(
    remittances_with_zeros: dict[int, fl.OfficialTable],
    raw: dict[tuple[str, int], dict[tuple[str, str], str | None]],
) -> None:
    # Saudi Arabia -> Yemen: USD 2,062 million in 2016 and 2017, an empty cell in 2021
    assert raw["remittance", 2021]["Saudi Arabia", "Yemen, Rep."] is None
    assert _value(remittances_with_zeros[2021], "SAU", "YEM") == 0.0
    notes = " ".join(remittances_with_zeros[2021].notes)
    assert "35606 empty cells read as zero" in notes


# ---------------------------------------------------------------- detection and provenance


@pytest.mark.parametrize(
    ("year", "vintage"),
    [
        (2016, "November 2017 Version"),
        (2017, "April 2018 Version"),
        (2021, "December 2022 Version"),
    ],
)
def test_remittance_vintage_and_year_detected(
    remittances: dict[int, fl.OfficialTable], year: int, vintage: str
) -> None:
    table = remittances[year]
    assert table.vintage == vintage
    assert table.source == f"World Bank/KNOMAD Bilateral Remittance Matrix {year}"
    assert table.notes[0].startswith(f"Bilateral Remittance Estimates for {year}")
    sheet = REMITTANCES[year][1]
    assert any(n.startswith(f"flowlens: read sheet {sheet!r}, year {year}") for n in table.notes)
    assert table.unmatched.height == 0
    assert table.spec.freq == "1y"


def test_other_sheets_are_never_read(remittances: dict[int, fl.OfficialTable]) -> None:
    assert any("other sheets not read: ['Sheet2']" in n for n in remittances[2016].notes)
    assert any("other sheets not read: ['remshare']" in n for n in remittances[2017].notes)


@pytest.mark.parametrize(
    ("year", "vintage"), [(2013, "2013"), (2017, "2017"), (2021, "December 2022")]
)
def test_stock_vintage_and_year_detected(
    stocks: dict[int, fl.OfficialTable], year: int, vintage: str
) -> None:
    table = stocks[year]
    assert table.vintage == vintage
    assert table.source == f"World Bank Bilateral Migration Matrix {year}"
    assert table.value == "migrants"
    assert table.unmatched.height == 0
    names = set(table.aggregates["sending"]) | set(table.aggregates["receiving"])
    assert {"Other North", "Other South", "World"} <= names


def test_2021_stock_spellings_map() -> None:
    # KNOMAD 2021 writes GuineaBissau, TimorLeste and Holy See
    codes = pl.select(
        fl.reference.to_iso3(pl.lit(pl.Series(["GuineaBissau", "TimorLeste", "Holy See"])))
    )
    assert codes.to_series().to_list() == ["GNB", "TLS", "VAT"]


def test_sheet_and_year_overrides(tmp_path: Path) -> None:
    path = REAL / REMITTANCES[2021][0]
    # the trailing space of 'FINAL BRM 2021 ' need not be typed
    by_name = fl.read_wb_bilateral_matrix(path, sheet="FINAL BRM 2021")
    assert _value(by_name, "USA", "MEX") == pytest.approx(52595.342546182175e6)
    relabelled = fl.read_wb_bilateral_matrix(path, year=2022)
    assert relabelled.panel["period"].unique().to_list() == [dt.date(2022, 1, 1)]
    assert any("year 2022 as given (the sheet says 2021" in n for n in relabelled.notes)
    # the author's copy of 2016 has no title: read only when asked, with the year given
    copy = REAL / REMITTANCES[2016][0]
    with pytest.raises(InputFormatError, match=r"cannot tell the year of sheet 'Sheet2'.*year="):
        fl.read_wb_bilateral_matrix(copy, sheet="Sheet2")
    sheet2 = fl.read_wb_bilateral_matrix(copy, sheet="Sheet2", year=2016)
    assert _value(sheet2, "USA", "MEX") == pytest.approx(28125.8864295516e6)
    with pytest.raises(
        InputFormatError,
        match=r"no sheet named 'Bilateral Remittances 2017'.*did you mean 'Bilateral Remittances 2016'",
    ):
        fl.read_wb_bilateral_matrix(copy, sheet="Bilateral Remittances 2017")
    with pytest.raises(ParameterError, match="year must be a whole number from 1900 to 2100"):
        fl.read_wb_bilateral_matrix(copy, year="2016")  # type: ignore[arg-type]


def test_sheet_by_position() -> None:
    # 1 = the first sheet, as in read_series and polars' sheet_id
    path = REAL / REMITTANCES[2017][0]  # sheets: 'Bilateral_Remittances_2017', 'remshare'
    first = fl.read_wb_bilateral_matrix(path, sheet=1)
    assert _value(first, "USA", "MEX") == pytest.approx(30019.187025655599e6)
    assert any("read sheet 'Bilateral_Remittances_2017'" in n for n in first.notes)
    with pytest.raises(InputFormatError, match=r"sheet 'remshare' is not a bilateral"):
        fl.read_wb_bilateral_matrix(path, sheet=2)
    with pytest.raises(ParameterError, match=r"sheet=3 but the workbook has 2 sheets"):
        fl.read_wb_bilateral_matrix(path, sheet=3)


@pytest.mark.parametrize("reader", [fl.read_wb_bilateral_matrix, fl.read_wb_migrant_stock])
@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"sheet": 0}, r"sheet must be .* position \(int, 1 = the first sheet.*got 0"),
        ({"sheet": -1}, r"sheet must be .*got -1"),
        ({"sheet": 1.0}, r"sheet must be .*got 1\.0"),
        ({"sheet": True}, r"sheet must be .*got True"),
        ({"keep_zeros": "no"}, r"keep_zeros must be True or False, got 'no'"),
        ({"keep_zeros": 0}, r"keep_zeros must be True or False, got 0"),
        ({"year": 1850}, r"year must be a whole number from 1900 to 2100 .*got 1850"),
        ({"year": 2021.5}, r"year must be a whole number .*got 2021\.5"),
        ({"year": True}, r"year must be a whole number .*got True"),
    ],
)
def test_matrix_options_are_checked(reader: Reader, option: dict[str, object], match: str) -> None:
    # checked before the file is opened: a ParameterError, never an AttributeError
    # ('int' object has no attribute 'strip') nor "no" read as True nor year 1850 kept
    with pytest.raises(ParameterError, match=match):
        reader(REAL / REMITTANCES[2017][0], **option)


def test_year_as_a_numpy_integer() -> None:
    import numpy as np

    table = fl.read_wb_bilateral_matrix(REAL / REMITTANCES[2017][0], year=np.int64(2017))
    assert table.panel["period"].unique().to_list() == [dt.date(2017, 1, 1)]


# ---------------------------------------------------------------- nothing dropped silently


def test_text_cells_are_listed_not_read(
    remittances_with_zeros: dict[int, fl.OfficialTable],
) -> None:
    t2016 = remittances_with_zeros[2016]
    notes = " ".join(t2016.notes)
    assert "row 'India' x column 'Pakistan': '0*'" in notes
    assert "row 'Israel' x column 'Lebanon': 'N/A'" in notes
    assert _value(t2016, "IND", "PAK") is None  # not a zero: no number in the cell
    assert "row 'Pakistan' x column 'India': '-'" in " ".join(remittances_with_zeros[2017].notes)


def test_2021_zero_by_assumption_is_noted(
    remittances_with_zeros: dict[int, fl.OfficialTable],
) -> None:
    t2021 = remittances_with_zeros[2021]
    note = next(n for n in t2021.notes if "zero by assumption" in n)
    for corridor in ("IND->PAK", "PAK->IND", "ISR->LBN", "LBN->ISR", "AZE->ARM", "ARM->AZE"):
        assert f"{corridor} (0.0)" in note
    assert _value(t2021, "IND", "PAK") == 0.0
    # a value below the WORLD row, in no country's row: listed, not read
    assert any(
        "row '(no name, below WORLD)' x column 'Lebanon': '6393.53'" in n for n in t2021.notes
    )


def test_stock_text_cell_listed(stocks: dict[int, fl.OfficialTable]) -> None:
    assert any("row 'Ghana' x column 'Latvia': '…'" in n for n in stocks[2021].notes)


@pytest.mark.parametrize("year", [2016, 2021])
def test_world_column_reconciles(remittances: dict[int, fl.OfficialTable], year: int) -> None:
    table = remittances[year]
    world_name = "World" if year == 2016 else "WORLD"
    world = table.aggregates.filter(receiving=world_name).select(
        origin=fl.reference.to_iso3("sending"), world="amount_usd"
    )
    sums = table.panel.group_by(pl.col("origin").cast(pl.String)).agg(pl.col("amount_usd").sum())
    check = world.join(sums, on="origin").filter(pl.col("world") > 0)
    assert check.height > 200
    off = check.filter((pl.col("amount_usd") / pl.col("world") - 1).abs() > 1e-6)
    # only Vanuatu's same-country cell (USD 3,662 in 2016), named in the notes
    assert off["origin"].to_list() == (["VUT"] if year == 2016 else [])
    if year == 2016:
        assert any("VUT (USD 3,662)" in n for n in table.notes)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("reader", "other", "hint"),
    [
        (fl.read_wb_migrant_stock, REMITTANCES[2016][0], "read_wb_bilateral_matrix"),
        (fl.read_wb_bilateral_matrix, STOCKS[2021][0], "read_wb_migrant_stock"),
    ],
)
def test_the_other_kind_is_refused(reader: Reader, other: str, hint: str) -> None:
    with pytest.raises(
        InputFormatError, match=rf"{re.escape(other)}: expected a .*read it with flowlens\.{hint}"
    ):
        reader(REAL / other)


@pytest.mark.parametrize("reader", [fl.read_wb_bilateral_matrix, fl.read_wb_migrant_stock])
@pytest.mark.parametrize(
    "name",
    [
        "knomad_remittance_inflows_2000_2022_june2023.xlsx",
        "banguat_guatemala_remittances_monthly_2002_2024.xlsx",
    ],
)
def test_a_workbook_that_is_no_matrix(reader: Reader, name: str) -> None:
    with pytest.raises(InputFormatError) as info:
        reader(REAL / name)
    message = str(info.value)
    assert name in message
    assert "expected a sheet titled" in message
    assert "found sheets '" in message


@pytest.mark.parametrize("reader", [fl.read_wb_bilateral_matrix, fl.read_wb_migrant_stock])
def test_csv_random_bytes_truncated(reader: Reader, tmp_path: Path) -> None:
    cases = {
        "rpw.csv": (REAL / "wb_rpw_corridors_2011_2020.csv").read_bytes(),
        "noise.xlsx": bytes(range(256)) * 8,
        "cut.xlsx": (REAL / REMITTANCES[2021][0]).read_bytes()[:150_000],
        "empty.xlsx": b"",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputFormatError) as info:
            reader(path)
        message = str(info.value)
        assert name in message
        assert "expected" in message
        assert "found" in message
    with pytest.raises(InputFormatError, match="no such file"):
        reader(tmp_path / "missing.xlsx")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reader=st.sampled_from([fl.read_wb_bilateral_matrix, fl.read_wb_migrant_stock]),
    name=st.sampled_from([f for f, _ in (*REMITTANCES.values(), *STOCKS.values())]),
    cut=st.floats(0.0, 0.999),
)
def test_truncated_matrices_raise_input_format_error(
    tmp_path: Path, reader: Reader, name: str, cut: float
) -> None:
    data = (REAL / name).read_bytes()
    path = tmp_path / f"cut_{name}"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(InputFormatError, match=re.escape(path.name)):
        reader(path)


# ---------------------------------------------------------------- matrix_vintages


@pytest.fixture(scope="module")
def vintages(remittances_with_zeros: dict[int, fl.OfficialTable]) -> pl.DataFrame:
    return matrix_vintages(list(remittances_with_zeros.values()))


def test_matrix_vintages_hand_values(vintages: pl.DataFrame) -> None:
    row = vintages.filter(origin="USA", destination="MEX").row(0, named=True)
    # the sheets' cells, US$ million: 28,125.886..., 30,019.187..., 52,595.342...
    assert row["2016"] / 1e6 == pytest.approx(28125.8864295516)
    assert row["2017"] / 1e6 == pytest.approx(30019.187025655599)
    assert row["2021"] / 1e6 == pytest.approx(52595.342546182175)
    # by hand: 30,019.187 - 28,125.886 = 1,893.301; / 28,125.886 = 6.7315%
    assert row["change_2016_2017"] / 1e6 == pytest.approx(1893.300596104, rel=1e-9)
    assert row["pct_change_2016_2017"] == pytest.approx(6.7315, abs=5e-5)
    # 52,595.343 - 30,019.187 = 22,576.156 (+75.206%); 2016 -> 2021: 24,469.456 (+87.000%)
    assert row["change_2017_2021"] / 1e6 == pytest.approx(22576.155520527, rel=1e-9)
    assert row["pct_change_2017_2021"] == pytest.approx(75.2058, abs=5e-5)
    assert row["change_2016_2021"] / 1e6 == pytest.approx(24469.456116631, rel=1e-9)
    assert row["pct_change_2016_2021"] == pytest.approx(86.9998, abs=5e-5)
    assert vintages.columns[:5] == ["origin", "destination", "2016", "2017", "2021"]


def test_matrix_vintages_zero_and_missing(vintages: pl.DataFrame) -> None:
    yem = vintages.filter(origin="SAU", destination="YEM").row(0, named=True)
    assert yem["2021"] == 0.0  # an empty cell in 2021: an estimated zero
    assert yem["pct_change_2017_2021"] == pytest.approx(-100.0)
    # text cells (0*, -) are null; 2021's zero by assumption keeps the corridor out
    assert vintages.filter(origin="IND", destination="PAK").height == 0
    # a corridor that starts from zero has no percent change
    som = vintages.filter(origin="USA", destination="SOM").row(0, named=True)
    assert (som["2017"], som["pct_change_2017_2021"]) == (0.0, None)
    assert som["change_2017_2021"] / 1e6 == pytest.approx(210.01700632719701)


def test_matrix_vintages_from_paths_names_and_filters() -> None:
    paths = [REAL / f for f, _ in STOCKS.values()]
    table = matrix_vintages([str(p) for p in paths], origin="United States", destination="MEX")
    assert table.height == 1
    row = table.row(0, named=True)
    assert (row["2013"], row["2017"], row["2021"]) == (12_950_828, 11_573_680, 10_924_662)
    # by hand: 11,573,680 - 12,950,828 = -1,377,148; 10,924,662 - 11,573,680 = -649,018
    assert row["change_2013_2017"] == -1_377_148
    assert row["change_2017_2021"] == -649_018
    assert row["change_2013_2021"] == -2_026_166
    assert row["pct_change_2013_2021"] == pytest.approx(-2_026_166 / 12_950_828 * 100)


def test_matrix_vintages_order_of_inputs_does_not_matter(
    remittances_with_zeros: dict[int, fl.OfficialTable], vintages: pl.DataFrame
) -> None:
    tables = list(remittances_with_zeros.values())
    for order in itertools.permutations(tables):
        got = matrix_vintages(list(order), origin=["USA", "ARE"])
        expected = vintages.filter(pl.col("origin").is_in(["USA", "ARE"]))
        assert got.equals(expected)


def test_matrix_vintages_refuses(
    remittances: dict[int, fl.OfficialTable], stocks: dict[int, fl.OfficialTable]
) -> None:
    with pytest.raises(ParameterError, match="not both"):
        matrix_vintages([remittances[2017], stocks[2017]])
    with pytest.raises(ParameterError, match="two tables of year 2017"):
        matrix_vintages([remittances[2017], remittances[2017]])
    with pytest.raises(ParameterError, match="at least one"):
        matrix_vintages([])
    with pytest.raises(ParameterError, match=r"'Mexco' is not a country.*did you mean"):
        matrix_vintages([remittances[2017]], destination="Mexco")
    annual = fl.read_knomad_annual(REAL / "knomad_remittance_inflows_2000_2022_june2023.xlsx")
    with pytest.raises(ParameterError, match="tables of one year each"):
        matrix_vintages([annual])
    with pytest.raises(InputFormatError, match=r"wb_rpw_corridors_2011_2020\.csv"):
        matrix_vintages(REAL / "wb_rpw_corridors_2011_2020.csv")


def test_matrix_vintages_takes_panels(
    remittances_with_zeros: dict[int, fl.OfficialTable], vintages: pl.DataFrame
) -> None:
    panels = [t.panel for t in remittances_with_zeros.values()]
    assert matrix_vintages(panels).equals(vintages)
    # a mix of tables and a lazy panel
    mixed = [remittances_with_zeros[2016], remittances_with_zeros[2017].panel.lazy()]
    row = matrix_vintages(mixed, origin="USA", destination="MEX").row(0, named=True)
    assert row["2016"] / 1e6 == pytest.approx(28125.8864295516)
    assert row["2017"] / 1e6 == pytest.approx(30019.187025655599)


def test_matrix_vintages_refuses_what_is_no_matrix(
    remittances: dict[int, fl.OfficialTable],
) -> None:
    panel = remittances[2017].panel
    with pytest.raises(ParameterError, match=r"input 2 is a DataFrame .*OfficialTable"):
        matrix_vintages([panel, panel.drop("destination")])
    with pytest.raises(ParameterError, match=r"input 1 is a DataFrame .*amount_usd or migrants"):
        matrix_vintages([panel.with_columns(migrants=pl.col("amount_usd"))])
    with pytest.raises(ParameterError, match=r"period \(a date\)"):
        matrix_vintages([panel.with_columns(pl.col("period").cast(pl.String))])
    with pytest.raises(ParameterError, match=r"input 2 is None; expected the OfficialTable"):
        matrix_vintages([remittances[2017], None])  # type: ignore[list-item]
    with pytest.raises(ParameterError, match=r"input 1 is int \(2017\)"):
        matrix_vintages(2017)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"input 1 is bytes"):
        matrix_vintages(b"matrix.xlsx")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"keep_zeros must be True or False, got 'yes'"):
        matrix_vintages([remittances[2017]], keep_zeros="yes")  # type: ignore[arg-type]


def test_matrix_vintages_is_public() -> None:
    assert fl.matrix_vintages is matrix_vintages
    assert "matrix_vintages" in fl.official.__all__


def test_2017_edition_rescales_the_2016_shares(vintages: pl.DataFrame) -> None:
    # docs/official.md: 2016 -> 2017 every sender of a receiver changes by the
    # same percentage (the shares are kept); 2017 -> 2021 they do not
    def spread(pct: str, base: str) -> pl.DataFrame:
        return vintages.filter(pl.col(base) > 1e6).select(
            dev=(pl.col(pct) - pl.col(pct).median().over("destination")).abs().max(),
            n=pl.len(),
            receivers=pl.col("destination").n_unique(),
        )

    kept = spread("pct_change_2016_2017", "2016").row(0, named=True)
    assert kept == {"dev": pytest.approx(0.0, abs=1e-7), "n": 4693, "receivers": 180}
    moved = spread("pct_change_2017_2021", "2017").row(0, named=True)
    assert moved["dev"] > 50
    big = vintages.filter(pl.col("2017") > 1e8)
    assert big.height == 703
    assert big.filter(pl.col("pct_change_2017_2021").abs() > 50).height / big.height > 0.35
    assert big.filter(pl.col("2021") == 0).height == 26
