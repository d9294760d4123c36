"""read_series (any central bank's series), read_ocha_fts (humanitarian funding) and
inflow_context against FTS: known cells of the real files, hand-made tables, bad inputs."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import InputFormatError, MissingColumnError, ParameterError
from flowlens.official_series import MONTH_WORDS, HumanitarianFunding

GUATEMALA = "banguat_guatemala_remittances_monthly_2002_2024.xlsx"
COLOMBIA = "banrep_colombia_workers_remittances_monthly_2000_2020.xlsx"
FTS = "ocha_fts_requirements_funding_by_country_1999_2031.csv"
KNOMAD = "knomad_remittance_inflows_2000_2022_june2023.xlsx"


def _guatemala(path: Path) -> fl.OfficialTable:
    return fl.read_series(
        path,
        date=("Year", "Month"),
        value="Remesas",
        destination="GTM",
        unit="US$ million",
        source="Banco de Guatemala",
    )


def _colombia(path: Path) -> fl.OfficialTable:
    return fl.read_series(
        path,
        sheet="Hoja1",
        date="Fecha",
        value="Remesas",
        destination="Colombia",
        unit="USD million",
        source="Banco de la Republica",
    )


def _amount(table: fl.OfficialTable, year: int, month: int) -> float:
    return float(table.panel.filter(period=dt.date(year, month, 1))["amount_usd"].item())


# ---------------------------------------------------------------- the two central banks


def test_guatemala_in_one_call(real: Path) -> None:
    table = _guatemala(real / GUATEMALA)
    # three raw cells, read on their own (row positions in the sheet)
    raw = pl.read_excel(real / GUATEMALA)
    assert raw.row(0, named=True)["Remesas"] == pytest.approx(83.15574)
    assert _amount(table, 2002, 1) == pytest.approx(raw["Remesas"][0] * 1e6)
    nov_2020 = raw.filter(Year=2020, Month="November")["Remesas"].item()  # hurricanes Eta, Iota
    assert _amount(table, 2020, 11) == pytest.approx(nov_2020 * 1e6)
    # the last row's Date cell reads 2025-12-24; Year and Month say December 2024
    last = raw.row(-1, named=True)
    assert (last["Date"][:10], last["Year"], last["Month"]) == ("2025-12-24", 2024, "December")
    assert _amount(table, 2024, 12) == pytest.approx(1940.8e6)
    assert table.panel.height == raw.height == 276
    assert table.freq == "1mo"
    assert table.spec.n_periods == 276
    assert table.panel["period"].min() == dt.date(2002, 1, 1)
    assert table.panel["period"].max() == dt.date(2024, 12, 1)
    assert table.panel["origin"].null_count() == 276
    assert set(table.panel["destination"].cast(pl.String)) == {"GTM"}
    assert table.unmatched.height == 0


def test_guatemala_date_column_is_refused_with_the_gap(real: Path) -> None:
    """Read by its Date column, the mistyped last cell leaves December 2024 missing."""
    with pytest.raises(InputFormatError, match=r"12 periods are missing.*'2024-12'"):
        fl.read_series(
            real / GUATEMALA,
            date="Date",
            value="Remesas",
            destination="GTM",
            unit="US$ million",
            source="x",
        )


def test_colombia_in_one_call(real: Path) -> None:
    table = _colombia(real / COLOMBIA)
    raw = pl.read_excel(real / COLOMBIA, sheet_name="Hoja1")
    assert raw["Fecha"][0] == "2000 ENE"
    assert _amount(table, 2000, 1) == pytest.approx(103.751344e6)
    assert raw["Fecha"][104].strip() == "2008 SEPT"  # four-letter abbreviation
    assert _amount(table, 2008, 9) == pytest.approx(raw["Remesas"][104] * 1e6)
    assert raw["Fecha"][127].strip() == "2010 AGOS"
    assert _amount(table, 2010, 8) == pytest.approx(raw["Remesas"][127] * 1e6)
    assert raw["Fecha"][243] == "2020 ABR"  # COVID-19: April 2020 about half of March
    assert _amount(table, 2020, 4) == pytest.approx(349.134441e6)
    assert _amount(table, 2020, 4) / _amount(table, 2020, 3) == pytest.approx(0.4877, abs=1e-4)
    assert table.panel.height == 244
    assert table.spec.n_periods == 244
    assert table.panel["destination"].cast(pl.String).unique().to_list() == ["COL"]


def test_bundled_samples_are_the_panels(real: Path) -> None:
    guatemala = fl.load_sample("guatemala_monthly")
    assert guatemala.equals(_guatemala(real / GUATEMALA).panel)
    colombia = fl.load_sample("colombia_monthly")
    assert colombia.equals(_colombia(real / COLOMBIA).panel)
    # the packaged workbooks are the published files, byte for byte
    for name, file in (("guatemala_monthly", GUATEMALA), ("colombia_monthly", COLOMBIA)):
        assert fl.sample_path(name).read_bytes() == (real / file).read_bytes()


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2000 ENE", (2000, 1)),
        ("ene-2000", (2000, 1)),
        ("janvier 2001", (2001, 1)),
        ("Fev/2003", (2003, 2)),
        ("Fév/2003", (2003, 2)),
        ("Dec 2024", (2024, 12)),
        ("Jan-02", (2002, 1)),
        ("août 2001", (2001, 8)),
        ("juin 2001", (2001, 6)),
        ("juil. 2001", (2001, 7)),
        ("setembro de 2010", (2010, 9)),
        ("Sept. 2015", (2015, 9)),
        ("diciembre de 2019", (2019, 12)),
        ("Outubro 2018", (2018, 10)),
        ("dez/2018", (2018, 12)),
        ("Abr-2020", (2020, 4)),
        ("2020M03", (2020, 3)),
        ("2021-05", (2021, 5)),
        ("05/2021", (2021, 5)),
        ("202105", (2021, 5)),
        ("2021-05-31", (2021, 5)),
        ("2021-05-31 00:00:00", (2021, 5)),
    ],
)
def test_month_labels(label: str, expected: tuple[int, int]) -> None:
    table = pl.DataFrame({"d": [label], "v": [1.0]})
    got = fl.read_series(
        table, date="d", value="v", destination="MEX", unit="USD", source="t", freq="1mo"
    )
    assert got.panel["period"].item() == dt.date(*expected, 1)


def test_month_words_are_unambiguous() -> None:
    assert MONTH_WORDS["sept"] == MONTH_WORDS["set"] == MONTH_WORDS["setiembre"] == 9
    assert MONTH_WORDS["juin"] == 6 and MONTH_WORDS["juil"] == 7
    assert "jui" not in MONTH_WORDS  # juin or juillet
    assert MONTH_WORDS["mai"] == MONTH_WORDS["may"] == 5
    assert MONTH_WORDS["out"] == 10 and MONTH_WORDS["dez"] == 12 and MONTH_WORDS["avr"] == 4


def test_year_and_month_columns_numbers_or_names() -> None:
    numbers = pl.DataFrame({"y": [2023, 2023, 2024], "m": [11, 12, 1], "v": [1.0, 2.0, 3.0]})
    names = pl.DataFrame(
        {"y": ["2023", "2023", "2024"], "m": ["noviembre", "DIC", "Janeiro"], "v": [1, 2, 3]}
    )
    for table in (numbers, names, numbers.to_pandas()):
        got = fl.read_series(
            table, date=("y", "m"), value="v", destination="SLV", unit="USD", source="t"
        )
        assert got.panel["period"].to_list() == [
            dt.date(2023, 11, 1),
            dt.date(2023, 12, 1),
            dt.date(2024, 1, 1),
        ]


def test_quarters_years_and_period_ends() -> None:
    quarter_ends = pl.DataFrame({"d": ["2020-03-31", "2020-06-30", "2020-09-30"], "v": [1, 2, 3]})
    got = fl.read_series(
        quarter_ends, date="d", value="v", destination="PHL", unit="USD", source="t"
    )
    assert got.freq == "1q"
    assert got.panel["period"].to_list() == [dt.date(2020, m, 1) for m in (1, 4, 7)]
    labels = pl.DataFrame({"d": ["2020Q4", "T1 2021"], "v": [1, 2]})
    got = fl.read_series(labels, date="d", value="v", destination="PHL", unit="USD", source="t")
    assert (got.freq, got.panel["period"].to_list()) == (
        "1q",
        [dt.date(2020, 10, 1), dt.date(2021, 1, 1)],
    )
    years = pl.DataFrame({"d": [2019, 2020, 2021], "v": [1, 2, 3]})
    got = fl.read_series(years, date="d", value="v", destination="NPL", unit="USD", source="t")
    assert got.freq == "1y"
    assert got.panel["period"].to_list() == [dt.date(y, 1, 1) for y in (2019, 2020, 2021)]
    real_dates = pl.DataFrame({"d": [dt.date(2024, 1, 31), dt.date(2024, 2, 29)], "v": [1.0, 2.0]})
    got = fl.read_series(real_dates, date="d", value="v", destination="MEX", unit="USD", source="t")
    assert got.panel["period"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]


def test_day_first_or_month_first_from_the_column() -> None:
    day_first = pl.DataFrame({"d": ["31/01/2024", "29/02/2024", "31/03/2024"], "v": [1, 2, 3]})
    got = fl.read_series(day_first, date="d", value="v", destination="MEX", unit="USD", source="t")
    assert got.panel["period"].to_list() == [dt.date(2024, m, 1) for m in (1, 2, 3)]
    ambiguous = pl.DataFrame({"d": ["01/02/2024", "02/03/2024"], "v": [1, 2]})
    with pytest.raises(InputFormatError, match="date_format"):
        fl.read_series(ambiguous, date="d", value="v", destination="MEX", unit="USD", source="t")
    got = fl.read_series(
        ambiguous,
        date="d",
        value="v",
        destination="MEX",
        unit="USD",
        source="t",
        date_format="%m/%d/%Y",
        allow_gaps=True,
    )
    assert got.panel["period"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]


def test_fiscal_year_labels() -> None:
    """Pakistan-style FY2020 = July 2019 - June 2020, written as fiscal year and month."""
    table = pl.DataFrame({"FY": [2020, 2020, 2021], "month": ["May", "Jun", "Jul"], "v": [1, 2, 3]})
    got = fl.read_series(
        table,
        date=("FY", "month"),
        value="v",
        destination="PAK",
        unit="USD",
        source="t",
        fiscal_year_start=7,
        fiscal_year_label="end",
    )
    assert got.panel["period"].to_list() == [dt.date(2020, m, 1) for m in (5, 6, 7)]
    start_named = pl.DataFrame({"FY": [2020, 2020], "month": [3, 4], "v": [1, 2]})  # India
    got = fl.read_series(
        start_named,
        date=("FY", "month"),
        value="v",
        destination="IND",
        unit="USD",
        source="t",
        fiscal_year_start=4,
        fiscal_year_label="start",
        allow_gaps=True,
        freq="1mo",
    )
    assert got.panel["period"].to_list() == [dt.date(2020, 4, 1), dt.date(2021, 3, 1)]


# ---------------------------------------------------------------- units and cumulative


@pytest.mark.parametrize(
    ("unit", "scale"),
    [
        ("USD", 1.0),
        ("US dollars", 1.0),
        ("USD thousand", 1e3),
        ("miles de dólares", 1e3),
        ("US$ million", 1e6),
        ("millones de dolares", 1e6),
        ("USD mn", 1e6),
        ("USD billion", 1e9),
        ("mil millones de US$", 1e9),
    ],
)
def test_units(unit: str, scale: float) -> None:
    table = pl.DataFrame({"d": ["2024-01"], "v": [2.5]})
    got = fl.read_series(table, date="d", value="v", destination="MEX", unit=unit, source="t")
    assert got.panel["amount_usd"].item() == pytest.approx(2.5 * scale)


@pytest.mark.parametrize("unit", ["GTQ million", "EUR", "million", "percent", ""])
def test_units_not_in_dollars_are_refused(unit: str) -> None:
    table = pl.DataFrame({"d": ["2024-01"], "v": [2.5]})
    with pytest.raises(ParameterError, match="US-dollar unit"):
        fl.read_series(table, date="d", value="v", destination="MEX", unit=unit, source="t")


def test_cumulative_within_calendar_years() -> None:
    """Year-to-date figures: by hand, 10, 25-10, 45-25, then the year restarts."""
    ytd = pl.DataFrame(
        {
            "mes": ["2020-01", "2020-02", "2020-03", "2021-01", "2021-02"],
            "ytd": [10.0, 25.0, 45.0, 12.0, 30.0],
        }
    )
    got = fl.read_series(
        ytd.sample(fraction=1.0, shuffle=True, seed=3),
        date="mes",
        value="ytd",
        destination="GTM",
        unit="USD million",
        source="t",
        cumulative=True,
        allow_gaps=True,
    )
    assert got.panel["amount_usd"].to_list() == pytest.approx([10e6, 15e6, 20e6, 12e6, 18e6])
    assert any("year-to-date" in n for n in got.notes)
    assert any("missing" in n for n in got.notes)  # 2020-04 .. 2020-12


def test_cumulative_fiscal_years_and_quarters() -> None:
    fiscal = pl.DataFrame(
        {
            "d": ["2020-05", "2020-06", "2020-07", "2020-08"],  # fiscal year restarts in July
            "ytd": [100.0, 130.0, 8.0, 20.0],
        }
    )
    got = fl.read_series(
        fiscal,
        date="d",
        value="ytd",
        destination="PAK",
        unit="USD",
        source="t",
        cumulative=True,
        fiscal_year_start=7,
    )
    # May's year-to-date cannot be split (the fiscal year's earlier months are absent)
    assert got.panel["amount_usd"].to_list()[1:] == [30.0, 8.0, 12.0]
    assert got.panel["amount_usd"][0] is None
    assert any("cannot be split" in n for n in got.notes)
    quarters = pl.DataFrame({"d": ["2023Q3", "2023Q4", "2024Q1", "2024Q2"], "v": [5, 9, 4, 3]})
    with pytest.raises(
        InputFormatError, match=r"1 periods come out negative.*'2024Q2 \(3.0 after 4.0\)'"
    ):
        fl.read_series(
            quarters,
            date="d",
            value="v",
            destination="PHL",
            unit="USD",
            source="t",
            cumulative=True,
        )
    got = fl.read_series(
        quarters,
        date="d",
        value="v",
        destination="PHL",
        unit="USD",
        source="t",
        cumulative=True,
        allow_negative=True,
    )
    assert got.panel["amount_usd"].to_list() == [None, 4.0, 4.0, -1.0]
    assert any("negative" in n and "2024Q2" in n for n in got.notes)


# ---------------------------------------------------------------- countries


def test_country_columns_aggregates_and_two_letter_codes() -> None:
    table = pl.DataFrame(
        {
            "month": ["2024-01"] * 5,
            "sender": ["United States", "España", "World", "CA", "Atlantis"],
            "v": [5.0, 1.0, 9.0, 2.0, 3.0],
        }
    )
    got = fl.read_series(
        table, date="month", value="v", origin="sender", destination="MEX", unit="USD", source="t"
    )
    assert got.panel["origin"].cast(pl.String).to_list() == ["ESP", "USA"]
    assert got.aggregates["name"].to_list() == ["World"]
    # two letters are not read as ISO2 (a US state code, CA, is not Canada)
    assert sorted(got.unmatched["origin"].to_list()) == ["Atlantis", "CA"]
    assert got.panel.height + got.aggregates.height + got.unmatched.height == table.height


def test_country_constants() -> None:
    table = pl.DataFrame({"d": ["2024-01"], "v": [1.0]})
    got = fl.read_series(
        table, date="d", value="v", destination="El Salvador", unit="USD", source="t"
    )
    assert got.panel["destination"].cast(pl.String).item() == "SLV"
    with pytest.raises(ParameterError, match="ISO2"):
        fl.read_series(table, date="d", value="v", destination="GT", unit="USD", source="t")
    with pytest.raises(ParameterError, match="did you mean the column 'v'"):
        fl.read_series(table, date="d", value="v", destination="V", unit="USD", source="t")
    with pytest.raises(ParameterError, match="destination="):
        fl.read_series(table, date="d", value="v", unit="USD", source="t")


# ---------------------------------------------------------------- inputs and errors


def test_csv_with_title_rows_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "bcr.csv"
    path.write_text(
        "Remesas familiares;;\nMillones de US$;;\nPeriodo;Monto;Nota\n"
        'ene-2023;"1.234,5";\nfeb-2023;"1.300,0";p\n\n',
        encoding="utf-8",
    )
    got = fl.read_series(
        path,
        date="Periodo",
        value="Monto",
        destination="SLV",
        unit="millones de dolares",
        source="BCR",
        skip_rows=2,
        decimal_comma=True,
    )
    assert got.panel["amount_usd"].to_list() == [1234.5e6, 1300.0e6]
    assert got.panel["period"].to_list() == [dt.date(2023, 1, 1), dt.date(2023, 2, 1)]


def test_row_order_does_not_matter(real: Path) -> None:
    raw = pl.read_excel(real / COLOMBIA, sheet_name="Hoja1")
    shuffled = raw.sample(fraction=1.0, shuffle=True, seed=7)
    got = fl.read_series(
        shuffled, date="Fecha", value="Remesas", destination="COL", unit="US$ million", source="t"
    )
    assert got.panel.equals(_colombia(real / COLOMBIA).panel)


def _series(frame: object, **more: object) -> fl.OfficialTable:
    how: dict[str, object] = {
        "date": "d",
        "value": "v",
        "destination": "MEX",
        "unit": "USD",
        "source": "t",
    }
    how.update(more)
    return fl.read_series(frame, **how)  # type: ignore[arg-type]


def test_clear_errors() -> None:
    dup = pl.DataFrame({"d": ["2024-01", "2024-02", "2024-02"], "v": [1, 2, 3]})
    with pytest.raises(InputFormatError, match=r"rows repeat a period \('2024-02'\)"):
        _series(dup)
    gaps = pl.DataFrame({"d": ["2024-01", "2024-04", "2024-05"], "v": [1, 2, 3]})
    with pytest.raises(InputFormatError, match=r"2 periods are missing.*'2024-02', '2024-03'"):
        _series(gaps)
    kept = _series(gaps, allow_gaps=True)
    assert kept.panel.height == 3
    assert any("2024-02" in n for n in kept.notes)
    bad = pl.DataFrame({"d": ["2024-01", "Total", "2024-13", "foo 2024"], "v": [1, 2, 3, 4]})
    with pytest.raises(InputFormatError, match=r"3 dates .* 'Total', '2024-13', 'foo 2024'"):
        _series(bad)
    daily = pl.DataFrame({"d": ["2024-01-01", "2024-01-02"], "v": [1, 2]})
    with pytest.raises(InputFormatError, match="several dates fall in one month"):
        _series(daily)
    months = pl.DataFrame({"d": ["2024-01", "2024-02"], "v": [1, 2]})
    with pytest.raises(ParameterError, match="freq='1q' contradicts"):
        _series(months, freq="1q")
    with pytest.raises(MissingColumnError, match=r"(?i)did you mean 'v'"):
        _series(months, value="V ")
    text = pl.DataFrame(
        {
            "d": ["2024-01", "2024-02"],
            "v": [
                "12",
                "n/a",
            ],
        }
    )
    assert _series(text).panel["amount_usd"].to_list() == [12.0, None]
    words = pl.DataFrame({"d": ["2024-01", "2024-02"], "v": ["12", "twelve"]})
    with pytest.raises(InputFormatError, match="'twelve'"):
        _series(words)


def test_blank_rows_are_counted() -> None:
    table = pl.DataFrame({"d": ["2024-01", None, "2024-02"], "v": [1.0, None, 2.0]})
    got = _series(table)
    assert got.panel.height == 2
    assert any("1 blank rows" in n for n in got.notes)


def test_file_errors_name_the_file(tmp_path: Path, real: Path) -> None:
    missing = tmp_path / "nope.xlsx"
    with pytest.raises(InputFormatError, match="no such file"):
        _series(missing)
    with pytest.raises(InputFormatError, match=r"value column 'v' is missing.*Fecha"):
        _series(real / COLOMBIA)  # a column missing from a file: another file
    with pytest.raises(InputFormatError, match="sheet"):
        _series(real / COLOMBIA, sheet="Hoja9")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"d,v\n2024-01,1\nenero,2\n" + "a\xf1o,3\n".encode("latin-1"))
    with pytest.raises(InputFormatError, match=r"latin\.csv"):
        _series(latin)


# ---------------------------------------------------------------- OCHA FTS


def _raw_fts_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_fts_haiti_2010(real: Path) -> None:
    fts = fl.read_ocha_fts(real / FTS)
    assert isinstance(fts, HumanitarianFunding)
    # the flash appeal (revised) is the one plan: USD 1.50bn asked, 1.11bn funded
    plan = fts.plans.filter(country="HTI", year=2010, outside_appeals=False)
    assert plan.height == 1
    row = plan.row(0, named=True)
    assert (row["plan_id"], row["plan_code"], row["plan_type"]) == ("337", "FHTI10", "Flash appeal")
    assert row["requirements_usd"] == 1_502_221_330
    assert row["funding_usd"] == 1_108_519_732
    haiti = fts.panel.filter(destination="HTI", period=dt.date(2010, 1, 1)).row(0, named=True)
    assert round(haiti["requirements_usd"] / 1e9, 2) == 1.50
    assert round(haiti["funding_usd"] / 1e9, 2) == 1.11
    assert haiti["outside_appeals_usd"] == 2_483_791_264  # the 'Not specified' row
    assert haiti["total_funding_usd"] == 1_108_519_732 + 2_483_791_264
    assert haiti["percent_funded"] == pytest.approx(100 * 1_108_519_732 / 1_502_221_330)
    assert haiti["n_plans"] == 1


def test_fts_against_the_raw_text(real: Path) -> None:
    """Country-years summed by hand from the CSV text (the csv module, not polars)."""
    rows = _raw_fts_rows(real / FTS)
    fts = fl.read_ocha_fts(real / FTS)

    def by_hand(country: str, year: str) -> tuple[float, float, float]:
        mine = [r for r in rows if r["countryCode"] == country and r["year"] == year]
        plans = [r for r in mine if r["id"]]
        return (
            sum(float(r["requirements"]) for r in plans if r["requirements"]),
            sum(float(r["funding"]) for r in plans if r["funding"]),
            sum(float(r["funding"]) for r in mine if not r["id"] and r["funding"]),
        )

    for country, year in (("COL", 2021), ("MOZ", 2023), ("SYR", 2016), ("AFG", 2026)):
        got = fts.panel.filter(destination=country, period=dt.date(year, 1, 1)).row(0, named=True)
        requirements, funding, outside = by_hand(country, str(year))
        assert got["requirements_usd"] == requirements
        assert got["funding_usd"] == funding
        assert got["outside_appeals_usd"] == outside
    # Colombia 2021: its humanitarian plan plus its share of the Venezuela regional plan
    assert by_hand("COL", "2021")[0] == 174_010_305 + 640_990_540
    # a plan name with commas inside quotes (Mozambique, Cyclone Freddy)
    freddy = fts.plans.filter(plan_code="OMOZ23")
    assert (
        freddy["plan_name"].item()
        == "Mozambique Cyclone Freddy, Floods and Cholera Response Plan 2023"
    )
    assert freddy["funding_usd"].item() == 32_721_193
    # every row of the file is in plans; 'Not specified' rows are flagged
    assert fts.plans.height == len(rows) == 3779
    assert fts.plans["outside_appeals"].sum() == sum(1 for r in rows if not r["id"]) == 2536
    assert fts.panel["destination"].n_unique() == len({r["countryCode"] for r in rows}) == 109
    assert fts.unmatched.height == 0
    # totals reconcile: the panel's funding is the file's funding
    assert fts.panel["total_funding_usd"].sum() == pytest.approx(
        sum(float(r["funding"]) for r in rows if r["funding"]), rel=1e-12
    )


def test_fts_hxl_row_is_skipped(real: Path, tmp_path: Path) -> None:
    lines = (real / FTS).read_text(encoding="utf-8").splitlines(keepends=True)
    hxl = (
        "#country+code,#activity+id+fts_internal,#activity+name,#activity+code,"
        "#indicator+type+id,#indicator+type+name,#date+start,#date+end,#date+year,"
        "#value+funding+required+usd,#value+funding+total+usd,#value+funding+pct\n"
    )
    path = tmp_path / "fts_requirements_funding_global.csv"
    path.write_text(lines[0] + hxl + "".join(lines[1:]), encoding="utf-8")
    with_hxl = fl.read_ocha_fts(path)
    assert with_hxl.panel.equals(fl.read_ocha_fts(real / FTS).panel)
    assert any("HXL" in n for n in with_hxl.notes)


def test_bundled_fts_is_the_file_read(real: Path) -> None:
    bundled = fl.load_sample("ocha_fts")
    read = fl.read_ocha_fts(real / FTS).country_year.sort("country", "year")
    assert bundled.equals(read)


# ---------------------------------------------------------------- inflow_context


def test_inflow_context_haiti_2010_against_fts(real: Path) -> None:
    knomad = fl.read_knomad_annual(real / KNOMAD)
    # KNOMAD June 2023: Haiti 2010 inflows US$ 1473.804720891 million (sheet cell)
    haiti = knomad.panel.filter(destination="HTI")
    context = fl.inflow_context(haiti).filter(year=2010).row(0, named=True)
    by_hand = 1473.804720891e6 / (1_108_519_732 + 2_483_791_264)
    assert context["inflow_usd"] == pytest.approx(1473.804720891e6)
    assert context["ratio"] == pytest.approx(by_hand)
    assert round(by_hand, 3) == 0.410  # the earthquake year: aid exceeded remittances
    # against appeal funding only, and with the reader's own result as the series
    fts = fl.read_ocha_fts(real / FTS)
    appeals = fl.inflow_context(haiti, fts, against="funding_usd").filter(year=2010)
    assert appeals["ratio"].item() == pytest.approx(1473.804720891e6 / 1_108_519_732)


def test_inflow_context_missing_inflows_stay_missing(real: Path) -> None:
    knomad = fl.read_knomad_annual(real / KNOMAD)
    syria = fl.inflow_context(knomad.panel.filter(destination="SYR")).filter(year=2016)
    assert syria["inflow_usd"].item() is None
    assert syria["ratio"].item() is None
    # FTS records zero funding for Anguilla in 2017: no ratio, not an infinite one
    panel = pl.DataFrame(
        {"period": [dt.date(2017, 1, 1)], "destination": ["AIA"], "amount_usd": [1.0e6]}
    )
    anguilla = fl.inflow_context(panel)
    assert anguilla["total_funding_usd"].item() == 0.0
    assert anguilla["ratio"].item() is None


# ---------------------------------------------------------------- hypothesis: bad files


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600))
def test_random_bytes_raise_input_format_error(tmp_path: Path, data: bytes) -> None:
    for name in ("x.csv", "x.xlsx"):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputFormatError):
            _series(path)
        with pytest.raises(InputFormatError):
            fl.read_ocha_fts(path)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(min_value=0.0, max_value=0.999))
def test_truncated_files(tmp_path: Path, real: Path, cut: float) -> None:
    for source in (GUATEMALA, COLOMBIA):
        whole = (real / source).read_bytes()
        path = tmp_path / source
        path.write_bytes(whole[: int(len(whole) * cut)])
        with pytest.raises(InputFormatError):
            _colombia(path) if source == COLOMBIA else _guatemala(path)
    text = (real / FTS).read_bytes()
    path = tmp_path / FTS
    path.write_bytes(text[: int(len(text) * cut)])
    try:
        fts = fl.read_ocha_fts(path)
    except InputFormatError:
        return
    # a file cut at a line end is a shorter table: every row kept is in plans
    assert fts.plans.height <= 3779


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_other_readers_files_are_refused(seed: int) -> None:
    files = sorted(
        p for p in Path(fl.sample_path("flows")).parent.iterdir() if p.suffix in (".csv", ".xlsx")
    )
    path = random.Random(seed).choice(files)
    if path.name == "ocha_fts_country_year.csv":
        path = fl.sample_path("mexico_monthly")
    with pytest.raises(InputFormatError):
        fl.read_ocha_fts(path)
    with pytest.raises(InputFormatError):
        _series(path)


def test_pandas_input_and_source_recorded() -> None:
    frame = pd.DataFrame({"d": ["2024-01", "2024-02"], "v": [1.0, 2.0]})
    got = fl.read_series(
        frame,
        date="d",
        value="v",
        destination="MEX",
        unit="USD",
        source="Banco X",
        vintage="2025-01 release",
    )
    assert (got.source, got.vintage) == ("Banco X", "2025-01 release")
    assert got.panel["amount_usd"].to_list() == [1.0, 2.0]


# ---------------------------------------------------------------- silent wrong numbers refused


def _month_table(values: list[object], **more: list[object]) -> pl.DataFrame:
    months = [f"2020-{m:02d}" for m in range(1, len(values) + 1)]
    return pl.DataFrame({"d": months, "v": values, **more})


def test_decimal_commas_are_refused_by_default(tmp_path: Path) -> None:
    """'1,5' is one and a half in a European table, not 15: refused unless decimal_comma."""
    path = tmp_path / "eu.csv"
    path.write_text("month;v\n2020-01;1,5\n2020-02;2,25\n", encoding="utf-8")
    how = {"date": "month", "value": "v", "destination": "GTM", "unit": "USD million"}
    with pytest.raises(InputFormatError, match=r"'1,5', '2,25'.*decimal_comma=True"):
        fl.read_series(path, source="t", **how)  # type: ignore[arg-type]
    got = fl.read_series(path, source="t", decimal_comma=True, **how)  # type: ignore[arg-type]
    assert got.panel["amount_usd"].to_list() == [1.5e6, 2.25e6]
    both = _month_table(["1.234,5", "2.000,0"])
    for frame in (both, both.to_pandas()):
        with pytest.raises(InputFormatError, match=r"'1\.234,5', '2\.000,0'.*decimal_comma=True"):
            _series(frame)
        assert _series(frame, decimal_comma=True).panel["amount_usd"].to_list() == [1234.5, 2000.0]
    # commas that group thousands are read as before; so are dots that do with decimal_comma
    grouped = _month_table(["1,234,567.8", "12,345", "-1,000", "7"])
    assert _series(grouped).panel["amount_usd"].to_list() == [1234567.8, 12345.0, -1000.0, 7.0]
    european = _month_table(["1.234.567,8", "12.345", "7,5"])
    got = _series(european, decimal_comma=True)
    assert got.panel["amount_usd"].to_list() == [1234567.8, 12345.0, 7.5]
    # the other way round: a decimal dot read with decimal_comma=True would be 15, not 1.5
    with pytest.raises(InputFormatError, match=r"'1\.5'.*Leave decimal_comma out"):
        _series(_month_table(["1.5", "2"]), decimal_comma=True)
    for wrong in ("1,5", "12,34", "1,2345", "1,234,56", "1.234,5"):
        with pytest.raises(InputFormatError, match="decimal_comma=True"):
            _series(_month_table([wrong]))


@settings(max_examples=60, deadline=None)
@given(x=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).map(lambda v: round(v, 2)))
def test_thousands_separators_read_back(x: float) -> None:
    """Python's own formatting as the oracle: 1,234,567.89 by default, 1.234.567,89 with
    decimal_comma=True, both read back as the number."""
    english = f"{x:,.2f}"
    european = english.translate(str.maketrans(",.", ".,"))
    assert _series(_month_table([english])).panel["amount_usd"].item() == pytest.approx(x)
    got = _series(_month_table([european]), decimal_comma=True)
    assert got.panel["amount_usd"].item() == pytest.approx(x)


@pytest.mark.parametrize(
    ("unit", "scale"),
    [
        ("USD '000", 1e3),
        ("USD 000s", 1e3),
        ("USD 000", 1e3),
        ("'000 USD", 1e3),
        ("USD 1,000", 1e3),
        ("USD 10^3", 1e3),
        ("USD 10^6", 1e6),
        ("US$ 000,000", 1e6),
        ("U.S. dollars", 1.0),
        ("thousands of US dollars", 1e3),
    ],
)
def test_units_with_digits(unit: str, scale: float) -> None:
    got = _series(_month_table([2.5]), unit=unit)
    assert got.panel["amount_usd"].item() == pytest.approx(2.5 * scale)
    assert f"(x {scale:,.0f} to US dollars)" in got.notes[0]


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("USD mil", r"'mil' is ambiguous.*'USD million' or 'USD thousand'"),
        ("dollars", r"which dollar.*'USD'"),
        ("dollars million", r"which dollar.*'USD'"),
        ("$ million", r"peso sign.*'USD'"),
        ("USD 100", r"found \['100'\].*USD '000"),
        ("USD 10^5", r"found \['10\^5'\]"),
        ("USD thousand million million", "several multipliers"),
    ],
)
def test_ambiguous_units_are_refused(unit: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        _series(_month_table([2.5]), unit=unit)


def test_spellings_of_one_country_are_one_country() -> None:
    table = pl.DataFrame(
        {
            "d": ["2020-01", "2020-01", "2020-02"],
            "sender": ["USA", "United States", "USA"],
            "v": [1.0, 2.0, 3.0],
        }
    )
    with pytest.raises(
        InputFormatError,
        match=r"'2020-01' for origin USA \(written origin 'USA', 'United States'\)",
    ) as caught:
        _series(table, origin="sender", destination="GTM")
    assert "_origin" not in str(caught.value)
    exact = table.with_columns(sender=pl.lit("USA"))
    with pytest.raises(InputFormatError, match="rows repeat a period for one origin") as caught:
        _series(exact, origin="sender", destination="GTM")
    assert "_origin" not in str(caught.value)
    assert "'2020-01'" in str(caught.value)


def test_cumulative_refuses_values_that_are_not_year_to_date() -> None:
    monthly = _month_table([100.0, 90.0, 110.0, 95.0])  # per month: falls are not year-to-date
    with pytest.raises(
        InputFormatError,
        match=r"2 periods come out negative.*'2020-02 \(90\.0 after 100\.0\)', "
        r"'2020-04 \(95\.0 after 110\.0\)'.*cumulative=False.*allow_negative=True",
    ):
        _series(monthly, cumulative=True, unit="USD million")
    kept = _series(monthly, cumulative=True, unit="USD million", allow_negative=True)
    assert kept.panel["amount_usd"].to_list() == [100e6, -10e6, 20e6, -15e6]
    # calendar year-to-date (restarting in January) read as a July-June fiscal year
    calendar = pl.DataFrame(
        {
            "d": ["2020-10", "2020-11", "2020-12", "2021-01", "2021-02"],
            "v": [1000.0, 1100.0, 1200.0, 90.0, 190.0],
        }
    )
    with pytest.raises(
        InputFormatError, match=r"'2021-01 \(90\.0 after 1200\.0\)'.*fiscal_year_start=1"
    ):
        _series(calendar, cumulative=True, fiscal_year_start=7)
    # read with the right start: October cannot be split (January-September are absent),
    # then 100, 100; January as published, 100
    got = _series(calendar, cumulative=True)
    assert got.panel["amount_usd"].to_list() == [None, 100.0, 100.0, 90.0, 100.0]
    years = pl.DataFrame({"d": ["2019", "2020"], "v": [100.0, 90.0]})
    with pytest.raises(ParameterError, match="annual figures are not cumulative"):
        _series(years, cumulative=True)


def test_domestic_corridors_and_country_columns_that_hold_no_country() -> None:
    table = _month_table([1.0, 2.0])
    with pytest.raises(ParameterError, match=r"are one country \(GTM\)"):
        _series(table, origin="GTM", destination="Guatemala")
    with pytest.raises(ParameterError, match="same column 'c'"):
        _series(table.with_columns(c=pl.lit("USA")), origin="c", destination="c")
    pairs = table.with_columns(o=pl.Series(["USA", "MEX"]), t=pl.Series(["MEX", "MEX"]))
    with pytest.raises(
        InputFormatError,
        match=r"1 rows have one country as origin and destination \('2020-02 MEX'\)",
    ):
        _series(pairs, origin="o", destination="t")
    with pytest.raises(
        InputFormatError,
        match=r"destination column 'd' \('d' is the date column\).*'2020-01', '2020-02'",
    ):
        _series(table, destination="d")
    states = pl.DataFrame({"d": ["2020-01"] * 2, "st": ["California", "Texas"], "v": [1.0, 2.0]})
    with pytest.raises(InputFormatError, match=r"origin column 'st'.*'California', 'Texas'"):
        _series(states, origin="st", destination="GTM")


def test_negative_values_are_kept_and_counted() -> None:
    got = _series(_month_table([5.0, -2.0, 3.0, -1.0]))
    assert got.panel["amount_usd"].to_list() == [5.0, -2.0, 3.0, -1.0]
    assert any(
        "2 periods have a negative value" in n and "'2020-02', '2020-04'" in n for n in got.notes
    )
    assert not any("negative" in n for n in _series(_month_table([5.0, 2.0])).notes)


def test_messages_name_the_country() -> None:
    nulls = pl.DataFrame(
        {
            "d": ["2020-01", "2020-02"] * 2,
            "o": ["USA", "USA", None, None],
            "v": [1.0, 2.0, 3.0, 4.0],
        }
    )
    with pytest.raises(InputFormatError, match=r"origin column 'o' is empty in 2 rows") as caught:
        _series(nulls, origin="o", destination="GTM")
    assert "missing" not in str(caught.value)
    gap = pl.DataFrame(
        {
            "d": ["2020-01", "2020-02", "2020-03", "2020-01", "2020-03"],
            "o": ["USA", "USA", "USA", "Spain", "Spain"],
            "v": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    with pytest.raises(InputFormatError, match=r"1 periods are missing.*'2020-02 for origin ESP'"):
        _series(gap, origin="o", destination="GTM")
    # a table mostly of US states: the note lists the names that are not countries only
    states = pl.DataFrame(
        {"d": ["2020-01"] * 3, "st": ["California", "Texas", "Mexico"], "v": [1.0, 2.0, 3.0]}
    )
    got = _series(states, origin="st", destination="GTM")
    assert got.panel["origin"].cast(pl.String).to_list() == ["MEX"]
    note = next(n for n in got.notes if "no country" in n)
    assert "'California', 'Texas'" in note
    assert "GTM" not in note


def test_wrong_sheet_lists_the_sheets(real: Path) -> None:
    with pytest.raises(InputFormatError, match=r"no sheet 'Hoja1'.*sheets are \['Sheet1'\]"):
        _guatemala_sheet(real, "Hoja1")
    with pytest.raises(InputFormatError, match=r"sheets are \['Hoja1'\]\. Did you mean 'Hoja1'\?"):
        fl.read_series(
            real / COLOMBIA, sheet="hoja 1", date="Fecha", value="Remesas",
            destination="COL", unit="USD million", source="t",
        )  # fmt: skip


def _guatemala_sheet(real: Path, sheet: str) -> fl.OfficialTable:
    return fl.read_series(
        real / GUATEMALA,
        sheet=sheet,
        date=("Year", "Month"),
        value="Remesas",
        destination="GTM",
        unit="US$ million",
        source="t",
    )


# ---------------------------------------------------------------- FTS: refused files


def _fts_file(real: Path, tmp_path: Path, rows: list[str]) -> Path:
    header = (real / FTS).read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "fts.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


_HAITI = "HTI,337,Haiti Humanitarian Appeal,FHTI10,4,Flash appeal,2010-01-01,2010-12-31,{},1502221330,1108519732,74"
_NOT_SPECIFIED = "HTI,,Not specified,,,,,,2010,,2483791264,"


def test_fts_years_that_are_not_whole_years(real: Path, tmp_path: Path) -> None:
    for year, shown in (
        ("2010.5", "line 3: 2010.5"),
        ("1e3", "line 3: 1e3"),
        ("2150", "line 3: 2150"),
    ):
        path = _fts_file(real, tmp_path, [_NOT_SPECIFIED, _HAITI.format(year)])
        with pytest.raises(InputFormatError, match=rf"1 rows have a year .*\('{shown}'\)"):
            fl.read_ocha_fts(path)
    ok = fl.read_ocha_fts(_fts_file(real, tmp_path, [_NOT_SPECIFIED, _HAITI.format("2010.0")]))
    assert ok.panel["total_funding_usd"].item() == 1_108_519_732 + 2_483_791_264


def test_fts_duplicate_plan_rows(real: Path, tmp_path: Path) -> None:
    row = _HAITI.format("2010")
    path = _fts_file(real, tmp_path, [row, _NOT_SPECIFIED, row])
    with pytest.raises(
        InputFormatError, match=r"2 rows repeat a plan.*'337 HTI 2010 \(lines 2, 4\)'"
    ):
        fl.read_ocha_fts(path)
    twice = _fts_file(real, tmp_path, [row, _NOT_SPECIFIED, _NOT_SPECIFIED])
    with pytest.raises(InputFormatError, match=r"'Not specified HTI 2010 \(lines 3, 4\)'"):
        fl.read_ocha_fts(twice)


def test_fts_refuses_empty_files_workbooks_and_frames(real: Path, tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="header but no rows"):
        fl.read_ocha_fts(_fts_file(real, tmp_path, []))
    with pytest.raises(InputFormatError, match=r"is an Excel workbook.*reads the CSV that HDX"):
        fl.read_ocha_fts(real / GUATEMALA)
    frame = pl.read_csv(real / FTS)
    for wrong in (frame, frame.to_pandas(), b"fts.csv", None):
        with pytest.raises(ParameterError, match="read_ocha_fts reads a file path"):
            fl.read_ocha_fts(wrong)  # type: ignore[arg-type]
