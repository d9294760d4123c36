"""World Development Indicators: known cells of the real downloads, every layout the World
Bank writes (bulk CSV, workbook, DataBank export), aggregates kept apart, nothing dropped,
bad inputs refused with what was expected and found; the WDI country metadata in the
reference tables.

Known values were read from the raw CSV text (the line of the country, the field under the
year), not through the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import InputFormatError
from flowlens.reference import aggregates, countries, name_key
from flowlens.wdi import WdiTable, read_wdi

FX = "wb_wdi_official_exchange_rate_PA.NUS.FCRF_1960_2022.csv"
GNI = "wb_wdi_gni_per_capita_atlas_NY.GNP.PCAP.CD_1960_2020.csv"
META = "wb_wdi_country_metadata_income_groups_fy2022.csv"


def _rows(path: Path) -> list[list[str]]:
    """The raw CSV lines (Python's csv module, not the reader)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _value(table: WdiTable, country: str, year: int) -> float:
    return float(table.tidy.filter(country=country, year=year)["value"].item())


# -- the real downloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "year", "expected"),
    [
        ("PHL", 2020, 49.624),  # issue 20
        ("NPL", 2015, 102.405),  # issue 20
        ("KEN", 2022, 117.865989201683),
        ("PAK", 2022, 204.867187469982),
        ("DEU", 1998, 1.7596676),  # Deutsche mark per US$ before the euro
    ],
)
def test_exchange_rate_known_values(real: Path, country: str, year: int, expected: float) -> None:
    table = read_wdi(real / FX)
    assert _value(table, country, year) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize(
    ("country", "year", "expected"),
    [("PHL", 2020, 3430.0), ("USA", 2019, 65970.0), ("MEX", 2020, 8480.0), ("NPL", 2000, 230.0)],
)
def test_gni_per_capita_known_values(real: Path, country: str, year: int, expected: float) -> None:
    assert _value(read_wdi(real / GNI), country, year) == expected


def test_provenance_and_panel(real: Path) -> None:
    table = read_wdi(real / FX)
    assert table.indicator_code == "PA.NUS.FCRF"
    assert table.indicator_name == "Official exchange rate (LCU per US$, period average)"
    assert table.vintage == "2023-09-15"
    assert "World Development Indicators" in table.source and "PA.NUS.FCRF" in table.source
    assert table.panel.columns == ["period", "country", "value"]
    assert table.panel.schema["country"] == fl.schema.COUNTRY_ENUM
    assert table.spec.freq == "1y" and table.spec.keys == ("country",)
    assert table.panel.filter(country="PHL", period=dt.date(2020, 1, 1)).height == 1
    assert read_wdi(real / GNI).vintage == "2021-12-16"


def test_aggregates_are_kept_apart(real: Path) -> None:
    meta = pl.read_csv(real / META, infer_schema=False)
    meta_aggs = set(meta.filter(pl.col("Region").fill_null("") == "")["Country Code"])
    assert len(meta_aggs) == 48
    for name in (FX, GNI):
        table = read_wdi(real / name)
        assert set(table.aggregates["code"]) == meta_aggs | {"INX"}
        assert table.unmatched.height == 0
        in_panel = set(table.panel["country"].cast(pl.String))
        assert not in_panel & (meta_aggs | {"INX"})
        assert in_panel <= set(fl.reference.country_codes())
    names = set(read_wdi(real / FX).aggregates["name"])
    assert names >= {
        "Euro area",
        "Arab World",
        "IDA only",
        "Fragile and conflict affected situations",
        "Heavily indebted poor countries (HIPC)",
        "Small states",
        "Upper middle income",
        "Latin America & Caribbean (excluding high income)",
        "Sub-Saharan Africa (IDA & IBRD countries)",
        "Post-demographic dividend",
        "World",
    }
    world = read_wdi(real / GNI).aggregates.filter(code="WLD", period=dt.date(2020, 1, 1))
    assert world["value"].item() == pytest.approx(11065.8899461672)
    assert world["kind"].item() == "world"


def test_nothing_is_dropped(real: Path) -> None:
    """Every non-empty cell of the raw CSV is in the panel, the aggregates or the unmatched."""
    rows = _rows(real / FX)
    header = rows[4]
    first, last = header.index("1960"), header.index("2022")
    cells = [v for r in rows[5:] if len(r) > last for v in r[first : last + 1]]
    filled = sum(1 for v in cells if v.strip())
    table = read_wdi(real / FX)
    counted = table.panel.height + table.aggregates.drop_nulls("value").height
    assert counted + table.unmatched.drop_nulls("value").height == filled == 11_482 + 24
    # the empty cells are counted in the notes, and countries with no value are named
    assert any(f"{len(cells) - filled} empty cells" in n for n in table.notes)
    assert any("'PRK'" in n for n in table.notes if "no value in any year" in n)


def test_shuffled_rows_give_the_same_table(real: Path, tmp_path: Path) -> None:
    rows = _rows(real / FX)
    body = rows[5:]
    random.Random(7).shuffle(body)
    path = tmp_path / "shuffled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([*rows[:5], *body])
    original, shuffled = read_wdi(real / FX), read_wdi(path)
    assert shuffled.panel.equals(original.panel)
    assert shuffled.aggregates.equals(original.aggregates)


# -- other layouts, written from the real rows ------------------------------------------------


def _real_rows(real: Path, name: str, codes: list[str]) -> tuple[list[str], list[list[str]]]:
    rows = _rows(real / name)
    return rows[4], [r for r in rows[5:] if len(r) > 1 and r[1] in codes]


def test_workbook_of_the_same_layout(real: Path, tmp_path: Path) -> None:
    header, rows = _real_rows(real, FX, ["PHL", "NPL", "EMU", "DEU"])
    path = tmp_path / "API_PA.NUS.FCRF_DS2_en_excel_v2.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["Data Source", "World Development Indicators"])
    sheet.write_row(1, 0, ["Last Updated Date"])
    sheet.write_datetime(
        1, 1, dt.datetime(2023, 9, 15), book.add_format({"num_format": "yyyy-mm-dd"})
    )
    years = [y for y in header[4:] if y]
    sheet.write_row(3, 0, [*header[:4], *(int(y) for y in years)])
    for i, row in enumerate(rows):
        values = row[4 : 4 + len(years)]
        sheet.write_row(4 + i, 0, [*row[:4], *(float(v) if v else None for v in values)])
    book.add_worksheet("Metadata - Countries").write_row(0, 0, ["Country Code", "Region"])
    book.close()
    table = read_wdi(path)
    assert table.vintage == "2023-09-15"
    assert _value(table, "PHL", 2020) == pytest.approx(49.624, abs=5e-4)
    assert _value(table, "NPL", 2015) == pytest.approx(102.405, abs=5e-4)
    assert set(table.aggregates["code"]) == {"EMU"}
    csv_table = read_wdi(real / FX)
    keep = pl.col("country").is_in(["PHL", "NPL", "DEU"])
    assert table.panel.equals(csv_table.panel.filter(keep))


def _databank(real: Path, path: Path, *, series_first: bool = False) -> None:
    """A DataBank export of two indicators for a few countries (2015..2020), '..' for no data."""
    years = [str(y) for y in range(2015, 2021)]
    out = []
    for name in (FX, GNI):
        header, rows = _real_rows(real, name, ["PHL", "NPL", "VEN", "WLD"])
        at = [header.index(y) for y in years]
        for r in rows:
            country, series = r[:2], [r[2], r[3]]
            values = [r[i] or ".." for i in at]
            out.append([*(series + country if series_first else country + series), *values])
    names = ["Country Name", "Country Code"], ["Series Name", "Series Code"]
    first = [*names[1], *names[0]] if series_first else [*names[0], *names[1]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow([*first, *(f"{y} [YR{y}]" for y in years)])
        writer.writerows(out)
        handle.write("\n\nData from database: World Development Indicators\n")
        handle.write("Last Updated: 12/16/2021\n")


@pytest.mark.parametrize("series_first", [False, True])
def test_databank_export_with_two_indicators(
    real: Path, tmp_path: Path, series_first: bool
) -> None:
    path = tmp_path / "Data_Extract_From_World_Development_Indicators.csv"
    _databank(real, path, series_first=series_first)
    with pytest.raises(InputFormatError, match=r"2 indicators.*PA\.NUS\.FCRF.*NY\.GNP\.PCAP\.CD"):
        read_wdi(path)
    gni = read_wdi(path, indicator="ny.gnp.pcap.cd")
    assert _value(gni, "PHL", 2020) == 3430.0
    assert gni.vintage == "2021-12-16"
    assert "Data from database: World Development Indicators" in gni.notes
    fx = read_wdi(path, indicator="Official exchange rate (LCU per US$, period average)")
    assert _value(fx, "NPL", 2015) == pytest.approx(102.405, abs=5e-4)
    # '..' is no data: Venezuela's exchange rate stops in 2017 in this vintage
    assert fx.tidy.filter(country="VEN")["year"].to_list() == [2015, 2016, 2017]
    with pytest.raises(InputFormatError, match=r"did you mean 'PA\.NUS\.FCRF'"):
        read_wdi(path, indicator="PA.NUS.FCRX")


def _remittance_file(path: Path, code: str, name: str) -> None:
    """A bulk CSV of a remittance indicator: two countries, an aggregate, an unknown row."""
    lines = [
        '"Data Source","World Development Indicators",',
        "",
        '"Last Updated Date","2023-07-25",',
        "",
        '"Country Name","Country Code","Indicator Name","Indicator Code","2019","2020",',
        f'"Mexico","MEX","{name}","{code}","36438000000","40605000000",',
        f'"Nepal","NPL","{name}","{code}","8244000000","",',
        f'"World","WLD","{name}","{code}","700000000000","702000000000",',
        f'"Atlantis","ATL","{name}","{code}","5","6",',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_remittances_received_and_paid_are_corridor_panels(tmp_path: Path) -> None:
    received = tmp_path / "API_BX.TRF.PWKR.CD.DT.csv"
    _remittance_file(received, "BX.TRF.PWKR.CD.DT", "Personal remittances, received (current US$)")
    table = read_wdi(received)
    assert table.value == "amount_usd" and table.spec.value == "amount_usd"
    assert table.panel.columns == ["period", "origin", "destination", "flow_type", "amount_usd"]
    assert table.panel["origin"].null_count() == table.panel.height
    mex = table.panel.filter(destination="MEX", period=dt.date(2020, 1, 1))
    assert mex["amount_usd"].item() == 40_605_000_000.0
    assert mex["flow_type"].cast(pl.String).item() == "remittance"
    assert table.panel.filter(destination="NPL").height == 1  # the empty 2020 cell is no data
    assert table.aggregates["code"].unique().to_list() == ["WLD"]
    assert table.unmatched.select("name", "code").unique().rows() == [("Atlantis", "ATL")]
    assert table.unmatched["amount_usd"].sort().to_list() == [5.0, 6.0]
    assert table.tidy.filter(country="MEX", year=2019)["value"].item() == 36_438_000_000.0

    paid = tmp_path / "API_BM.TRF.PWKR.CD.DT.csv"
    _remittance_file(paid, "BM.TRF.PWKR.CD.DT", "Personal remittances, paid (current US$)")
    table = read_wdi(paid)
    assert table.panel["destination"].null_count() == table.panel.height
    assert table.panel.filter(origin="MEX", period=dt.date(2019, 1, 1))["amount_usd"].item() == (
        36_438_000_000.0
    )


# -- encodings --------------------------------------------------------------------------------


def test_latin1_and_utf16_files_read(real: Path, tmp_path: Path) -> None:
    # the file as a spreadsheet re-saves it: accented names, no longer UTF-8
    text = (real / GNI).read_text(encoding="utf-8-sig")
    text = text.replace("Cote d'Ivoire", "Côte d'Ivoire").replace("Curacao", "Curaçao")
    latin1, utf16 = tmp_path / "latin1.csv", tmp_path / "utf16.csv"
    latin1.write_bytes(text.encode("latin-1"))
    utf16.write_bytes(text.encode("utf-16"))
    # a spreadsheet's "Unicode text": UTF-16, tab-separated
    tabbed = tmp_path / "unicode_text.txt"
    lines = ["\t".join(row) for row in csv.reader(text.splitlines())]
    tabbed.write_bytes("\r\n".join(lines).encode("utf-16"))
    original = read_wdi(real / GNI)
    for path in (latin1, utf16, tabbed):
        table = read_wdi(path)
        assert table.panel.equals(original.panel)
        assert table.unmatched.height == 0
    assert any("not UTF-8" in n for n in read_wdi(latin1).notes)


# -- bad inputs -------------------------------------------------------------------------------


def _refused(path: Path, found: str, **kwargs: str) -> str:
    with pytest.raises(InputFormatError) as info:
        read_wdi(path, **kwargs)
    message = str(info.value)
    assert path.name in message and "expected" in message and found in message, message
    assert "World Development Indicators" in message, message
    return message


def test_bad_inputs_are_refused_with_file_expected_and_found(real: Path, tmp_path: Path) -> None:
    noise = tmp_path / "noise.csv"
    noise.write_bytes(random.Random(0).randbytes(3000))
    _refused(noise, "binary data")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _refused(empty, "empty file")
    data = (real / FX).read_bytes()
    truncated = tmp_path / "truncated.csv"
    truncated.write_bytes(data[: len(data) // 2])
    assert "cut short" in _refused(truncated, "text whose first line")
    _refused(real / "knomad_remittance_inflows_2000_2022_june2023.xlsx", "ZIP archive")
    _refused(tmp_path, "a directory")
    _refused(real / "wb_rpw_corridors_2011_2020.csv", "Sending Countries Name")
    _refused(tmp_path / "missing.csv", "cannot be opened")


def test_a_cell_that_is_not_a_number_is_named(tmp_path: Path) -> None:
    path = tmp_path / "api.csv"
    _remittance_file(path, "BX.TRF.PWKR.CD.DT", "Personal remittances, received (current US$)")
    path.write_text(path.read_text().replace('"8244000000"', '"8,244,000,000"'))
    with pytest.raises(InputFormatError, match=r"NPL', 2019, '8,244,000,000'"):
        read_wdi(path)


_HEAD = (Path(__file__).resolve().parents[1] / "data" / "samples" / "real" / GNI).read_bytes()[
    :4000
]


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(_HEAD)))
def test_any_truncation_reads_or_is_refused(cut: int) -> None:
    """A download cut anywhere: a table, or an InputFormatError; never another error."""
    data = _HEAD
    with tempfile.TemporaryDirectory() as folder:
        cut_file = Path(folder) / "cut.csv"
        cut_file.write_bytes(data[:cut])
        try:
            table = read_wdi(cut_file)
        except InputFormatError as exc:
            assert "expected" in str(exc)
        else:
            assert table.panel.height >= 0


# -- the country metadata in the reference tables -----------------------------------------------


@pytest.mark.parametrize(
    ("iso3", "region", "income_group"),
    [
        ("MEX", "Latin America & Caribbean", "Upper middle income"),
        ("NPL", "South Asia", "Lower middle income"),
        ("NGA", "Sub-Saharan Africa", "Lower middle income"),
        ("SOM", "Sub-Saharan Africa", "Low income"),
        ("USA", "North America", "High income"),
        ("VEN", "Latin America & Caribbean", None),  # unclassified in FY2022
    ],
)
def test_countries_carry_wdi_region_and_income_group(
    iso3: str, region: str, income_group: str | None
) -> None:
    row = countries().filter(iso3=iso3)
    assert row.select("region", "income_group", "income_group_fy").row(0) == (
        region,
        income_group,
        "FY2022",
    )


def test_country_table_keeps_its_columns_and_matches_the_metadata(real: Path) -> None:
    table = countries()
    assert table.columns[:9] == [
        "iso3",
        "iso2",
        "numeric",
        "name",
        "iso_name",
        "official_name",
        "status",
        "region",
        "muslim_majority",
    ]
    meta = pl.read_csv(real / META, infer_schema=False).filter(pl.col("Region").fill_null("") != "")
    joined = meta.join(table, left_on="Country Code", right_on="iso3", how="left")
    assert joined.height == 217
    assert joined.filter(pl.col("Region") != pl.col("region")).height == 0
    same_income = pl.col("IncomeGroup").fill_null("") == pl.col("income_group").fill_null("")
    assert joined.filter(~same_income).height == 0
    assert table.filter(iso3="TWN")["income_group_fy"].item() is None  # not in WDI


def test_aggregate_names_map_to_one_code_each() -> None:
    keyed = aggregates().select(key=name_key("name"), code="code").unique()
    assert keyed.filter(pl.len().over("key") > 1).height == 0
    # and no aggregate code is a country code
    codes = set(aggregates()["code"]) - {""}
    assert not codes & set(fl.reference.country_codes())


def test_databank_workbook_with_text_cells(real: Path, tmp_path: Path) -> None:
    """A DataBank export saved as .xlsx: '..' text cells among numbers, footer rows."""
    header, rows = _real_rows(real, FX, ["AGO", "PHL", "WLD"])
    years = ["1960", "2020"]
    path = tmp_path / "Data_Extract_From_World_Development_Indicators.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["Country Name", "Country Code", "Series Name", "Series Code"])
    sheet.write_row(0, 4, [f"{y} [YR{y}]" for y in years])
    for i, row in enumerate(rows):
        cells = [float(row[header.index(y)]) if row[header.index(y)] else ".." for y in years]
        sheet.write_row(1 + i, 0, [*row[:4], *cells])
    sheet.write(len(rows) + 3, 0, "Data from database: World Development Indicators")
    sheet.write(len(rows) + 4, 0, "Last Updated: 09/15/2023")
    book.add_worksheet("Definition and Source")
    book.close()
    table = read_wdi(path)
    assert table.vintage == "2023-09-15"
    # Angola's 1960 rate, 2.8668e-08 kwanza per dollar, kept to the last digit
    ago = next(r for r in rows if r[1] == "AGO")[header.index("1960")]
    assert _value(table, "AGO", 1960) == float(ago)
    assert _value(table, "PHL", 2020) == pytest.approx(49.624, abs=5e-4)
    # the World has no exchange rate: one row, null period and value, kept apart
    assert table.aggregates.filter(code="WLD")["value"].to_list() == [None]


# -- nothing dropped: repeated, unnamed and missing year columns ---------------------------------


def _bulk(path: Path, years: list[str], rows: list[str]) -> Path:
    """A bulk CSV (the trailing comma of each line makes an unnamed last column)."""
    head = ",".join(f'"{y}"' for y in years)
    lines = [
        '"Data Source","World Development Indicators",',
        "",
        '"Last Updated Date","2023-07-25",',
        "",
        f'"Country Name","Country Code","Indicator Name","Indicator Code",{head},',
        *rows,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_repeated_year_column_is_refused(tmp_path: Path) -> None:
    # the second '2020' was read as '2020_duplicated_0' and left out
    path = _bulk(
        tmp_path / "api.csv", ["2019", "2020", "2020"], ['"Mexico","MEX","X","X.Y","1","2","3",']
    )
    with pytest.raises(
        InputFormatError,
        match=r"api\.csv: repeated year column: 2020 heads 2 columns \(column 6 '2020', column 7 '2020'\)",
    ):
        read_wdi(path)
    # the same year written two ways (a DataBank heading and a plain one)
    path = _bulk(
        tmp_path / "api2.csv", ["2019", "2019 [YR2019]"], ['"Mexico","MEX","X","X.Y","1","2",']
    )
    with pytest.raises(InputFormatError, match=r"repeated year column: 2019"):
        read_wdi(path)


def test_a_repeated_year_column_in_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "api.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Data")
    sheet.write_row(
        0, 0, ["Country Name", "Country Code", "Indicator Name", "Indicator Code", 2019, 2020, 2020]
    )
    sheet.write_row(1, 0, ["Mexico", "MEX", "X", "X.Y", 1.0, 2.0, 3.0])
    book.close()
    with pytest.raises(InputFormatError, match=r"repeated year column: 2020 heads 2 columns"):
        read_wdi(path)


def test_a_value_in_the_unnamed_column_is_listed(real: Path, tmp_path: Path) -> None:
    rows = ['"Mexico","MEX","X","X.Y","1","2","12345",', '"Nepal","NPL","X","X.Y","4","5",']
    table = read_wdi(_bulk(tmp_path / "api.csv", ["2019", "2020"], rows))
    assert table.tidy.rows() == [
        ("MEX", 2019, 1.0),
        ("MEX", 2020, 2.0),
        ("NPL", 2019, 4.0),
        ("NPL", 2020, 5.0),
    ]
    stray = [n for n in table.notes if "without a year heading" in n]
    assert stray == [
        "flowlens: 1 cells hold a value in a column without a year heading, so no year to "
        "place them in, and are left out: (country code, column, cell) (MEX, the unnamed "
        "column after '2020', '12345')."
    ]
    # the real downloads end every line with an empty field: no such note
    assert not any("without a year heading" in n for n in read_wdi(real / GNI).notes)


def test_a_missing_year_column_is_noted(real: Path, tmp_path: Path) -> None:
    years = [str(y) for y in range(1960, 2023) if y != 2020]
    row = '"Mexico","MEX","X","X.Y",' + ",".join(f'"{i}"' for i in range(len(years))) + ","
    table = read_wdi(_bulk(tmp_path / "api.csv", years, [row]))
    gaps = [n for n in table.notes if "has no column for" in n]
    assert gaps == [
        "flowlens: the header has no column for 1 of the years 1960-2022: 2020; the table "
        "has no values for them (not zeros, not left out)."
    ]
    assert 2020 not in table.tidy["year"].to_list() and table.tidy.height == 62
    assert not any("has no column for" in n for n in read_wdi(real / FX).notes)


# -- messages: the layout, the Last Updated date ---------------------------------------------


def test_a_header_without_indicator_code_names_the_bulk_layout(tmp_path: Path) -> None:
    path = tmp_path / "api.csv"
    path.write_text(
        '"Data Source","World Development Indicators",\n\n'
        '"Country Name","Country Code","Indicator Name","2019",\n"Mexico","MEX","X","1",\n'
    )
    with pytest.raises(InputFormatError) as caught:
        read_wdi(path)
    message = str(caught.value)
    assert (
        "looks like the WDI bulk layout (it has ['Indicator Name']) but lacks ['Indicator Code']"
        in message
    )
    assert "Series Code" not in message  # was: "required column 'Series Code' is missing"


def test_a_databank_header_without_series_name_names_the_databank_layout(tmp_path: Path) -> None:
    path = tmp_path / "extract.csv"
    path.write_text(
        '"Country Name","Country Code","Series Code","2019 [YR2019]"\n"Mexico","MEX","X.Y","1"\n'
    )
    with pytest.raises(
        InputFormatError,
        match=r"looks like the WDI DataBank layout \(it has \['Series Code'\]\) but lacks \['Series Name'\]",
    ):
        read_wdi(path)


def test_a_header_mixing_the_layouts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        '"Country Name","Country Code","Indicator Name","Series Code","2019"\n"Mexico","MEX","X","X.Y","1"\n'
    )
    with pytest.raises(InputFormatError, match=r"mixes the two WDI layouts"):
        read_wdi(path)


def _footer_dated(path: Path, updated: str) -> Path:
    path.write_text(
        '"Country Name","Country Code","Series Name","Series Code","2019 [YR2019]"\n'
        '"Mexico","MEX","X","X.Y","1"\n\n'
        f"Data from database: World Development Indicators\nLast Updated: {updated}\n"
    )
    return path


@pytest.mark.parametrize(
    ("updated", "vintage", "note"),
    [
        ("12/16/2021", "2021-12-16", None),  # month first: the one reading
        ("01/01/2024", "2024-01-01", None),  # both readings agree
        (
            "03/01/2024",
            "03/01/2024",
            "could be 2024-03-01 (month first, as DataBank writes dates) or 2024-01-03",
        ),
        (
            "13/01/2024",
            "13/01/2024",
            "is not month/day/year, as DataBank writes dates (day first it would be 2024-01-13",
        ),
        ("02/30/2024", "02/30/2024", "is no date, month first or day first"),
    ],
)
def test_last_updated_is_never_read_day_first_nor_guessed(
    tmp_path: Path, updated: str, vintage: str, note: str | None
) -> None:
    # 13/01/2024 was kept as text while 03/01/2024 became 2024-03-01: one rule for both
    table = read_wdi(_footer_dated(tmp_path / "extract.csv", updated))
    assert table.vintage == vintage
    notes = [n for n in table.notes if n.startswith("flowlens: the Last Updated date")]
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0] and "kept as written" in notes[0], notes


def test_utf16_without_a_byte_order_mark(real: Path, tmp_path: Path) -> None:
    path = tmp_path / "api.csv"
    path.write_bytes((real / GNI).read_text(encoding="utf-8-sig").encode("utf-16-le"))
    with pytest.raises(
        InputFormatError, match=r"looks like UTF-16 without a byte-order mark.*re-save it as UTF-8"
    ):
        read_wdi(path)
