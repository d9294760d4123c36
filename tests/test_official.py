"""Readers of published statistics: known cells, aggregates kept apart, unmatched names listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import flowlens as fl


def test_wb_bilateral_matrix_known_cell_and_aggregates(real: Path) -> None:
    table = fl.read_wb_bilateral_matrix(real / "wb_bilateral_remittance_2017.xlsx")
    usa_mex = table.panel.filter(origin="USA", destination="MEX")
    # sheet cell United States (row) x Mexico (column): 30019.187025656 US$ million
    assert usa_mex["amount_usd"].item() == pytest.approx(30019.187025656e6)
    assert usa_mex["period"].item() == dt.date(2017, 1, 1)
    assert table.vintage == "April 2018 Version"
    assert table.unmatched.height == 0
    assert set(table.aggregates["sending"]) | set(table.aggregates["receiving"]) >= {"WORLD"}
    assert table.panel.filter(pl.col("origin") == pl.col("destination")).height == 0
    assert (table.panel["amount_usd"] > 0).all()
    # the WORLD column holds each sender's total: the panel's row sums reproduce it
    world = table.aggregates.filter(receiving="WORLD").select(
        origin=fl.reference.to_iso3("sending"), world="amount_usd"
    )
    sums = table.panel.group_by(pl.col("origin").cast(pl.String)).agg(pl.col("amount_usd").sum())
    check = world.join(sums, on="origin").filter(pl.col("world") > 0)
    assert check.height > 150
    # the sheet has one non-zero same-country cell, Vanuatu -> Vanuatu (USD 3,762); it is
    # not a corridor, so it is left out of the panel and named in the notes
    assert any("VUT (USD 3,762)" in note for note in table.notes)
    vut = table.aggregates.filter(sending="Vanuatu", receiving="WORLD")["amount_usd"].item()
    check = check.with_columns(
        amount_usd=pl.when(pl.col("origin") == "VUT")
        .then(pl.col("amount_usd") + 3762.154)
        .otherwise("amount_usd")
    )
    assert vut == pytest.approx(46.081435859e6)
    assert (check["amount_usd"] / check["world"]).to_list() == pytest.approx(
        [1.0] * check.height, rel=1e-6
    )


def test_wb_somalia_has_no_estimate(real: Path) -> None:
    table = fl.read_wb_bilateral_matrix(real / "wb_bilateral_remittance_2017.xlsx")
    assert table.panel.filter(destination="SOM").height == 0
    assert table.panel.filter(origin="SOM").height > 0


def test_knomad_inflows_zero_is_missing(real: Path) -> None:
    table = fl.read_knomad_annual(real / "knomad_remittance_inflows_2000_2022_june2023.xlsx")
    mex = table.panel.filter(destination="MEX").sort("period")
    assert mex["period"].to_list()[0] == dt.date(2000, 1, 1)
    assert mex.filter(period=dt.date(2022, 1, 1))["amount_usd"].item() == pytest.approx(
        61099.607915e6, rel=1e-9
    )
    assert table.panel["origin"].null_count() == table.panel.height
    syria = table.panel.filter(destination="SYR", period=dt.date(2015, 1, 1))
    assert syria["amount_usd"].item() is None
    assert set(table.aggregates["code"]) == {"LMY", "WLD"}
    assert table.vintage == "June 2023"


def test_knomad_outflows(real: Path) -> None:
    table = fl.read_knomad_annual(real / "knomad_remittance_outflows_2000_2022_june2023.xlsx")
    assert "outflows" in table.source
    mex = table.panel.filter(origin="MEX", period=dt.date(2022, 1, 1))
    assert mex["amount_usd"].item() == pytest.approx(1131.084902e6, rel=1e-9)
    assert table.panel["destination"].null_count() == table.panel.height


def test_banxico_monthly_known_month(real: Path) -> None:
    table = fl.read_banxico_monthly(real / "banxico_mexico_remittances_monthly_1995_2026.csv")
    march = table.panel.filter(period=dt.date(2020, 3, 1))
    inflow = march.filter(pl.col("destination") == "MEX")
    outflow = march.filter(pl.col("origin") == "MEX")
    assert inflow.select("amount_usd", "n_transfers").row(0) == (4147114569.0, 10992311)
    assert outflow.select("amount_usd", "n_transfers").row(0) == (49638900.0, 156195)
    assert table.panel.filter(pl.col("origin") == "MEX")["period"].min() == dt.date(2013, 1, 1)


def test_banxico_quarterly_by_country(real: Path) -> None:
    table = fl.read_banxico_quarterly_by_country(
        real / "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv"
    )
    usa = table.panel.filter(origin="USA", destination="MEX", period=dt.date(2020, 1, 1))
    assert usa["amount_usd"].item() == 9214445036.0
    assert (
        table.panel.filter(origin="MEX", destination="USA", period=dt.date(2020, 1, 1))[
            "amount_usd"
        ].item()
        == 67099227.0
    )
    assert set(table.unmatched["code"]) == {"XXX", "ABK"}
    raw = pl.read_csv(real / "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv")
    # nothing lost: panel + unmatched reproduce the file's total
    assert (
        table.panel["amount_usd"].sum() + table.unmatched["amount_usd"].sum()
        == raw["VALOR_USD"].sum()
    )


def test_rpw_corridor_costs(real: Path) -> None:
    table = fl.read_rpw_corridors(real / "wb_rpw_corridors_2011_2020.csv")
    usa_mex = table.panel.filter(origin="USA", destination="MEX", period=dt.date(2020, 7, 1))
    assert usa_mex["cost_pct"].item() == pytest.approx(4.18037033081055)
    n_corridors = table.panel.select(pl.struct("origin", "destination").n_unique()).item()
    assert n_corridors == 377
    assert table.unmatched.height == 0
    assert "12/07/2020" in table.vintage
    assert any("Remittance Prices Worldwide" in n for n in table.notes)


def test_reader_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(fl.MissingColumnError, match=r"bad\.csv"):
        fl.read_banxico_monthly(bad)
    with pytest.raises(fl.InputFormatError, match="no such file"):
        fl.read_knomad_annual(tmp_path / "missing.xlsx")
    not_excel = tmp_path / "x.xlsx"
    not_excel.write_text("not a workbook")
    with pytest.raises(fl.InputFormatError, match=r"x\.xlsx"):
        fl.read_wb_bilateral_matrix(not_excel)


READERS = {
    "wb_bilateral_matrix": (fl.read_wb_bilateral_matrix, "wb_bilateral_remittance_2017.xlsx"),
    "wb_migrant_stock": (fl.read_wb_migrant_stock, "wb_bilateral_migrant_stock_2017.xlsx"),
    "knomad_inflows": (
        fl.read_knomad_annual,
        "knomad_remittance_inflows_2000_2022_june2023.xlsx",
    ),
    "knomad_outflows": (
        fl.read_knomad_annual,
        "knomad_remittance_outflows_2000_2022_june2023.xlsx",
    ),
    "banxico_monthly": (
        fl.read_banxico_monthly,
        "banxico_mexico_remittances_monthly_1995_2026.csv",
    ),
    "banxico_quarterly": (
        fl.read_banxico_quarterly_by_country,
        "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv",
    ),
    "rpw_corridors": (fl.read_rpw_corridors, "wb_rpw_corridors_2011_2020.csv"),
}


@pytest.mark.parametrize("name", list(READERS))
def test_every_reader_records_the_frequency_of_its_periods(real: Path, name: str) -> None:
    reader, file = READERS[name]
    table = reader(real / file)
    assert table.panel.schema["period"] == pl.Date
    spec = fl.panel_spec(table.panel, freq=table.freq, value=table.value)  # must not raise
    assert spec == table.spec
    assert spec.freq == table.freq and spec.value == table.value
    assert table.value in table.panel.columns
    # the periods are period starts of that frequency, independently checked
    periods = table.panel["period"].unique()
    assert periods.equals(periods.dt.truncate(table.freq))


def test_the_packaged_monthly_sample_has_monthly_periods() -> None:
    table = fl.read_banxico_monthly(fl.sample_path("mexico_monthly"))
    assert table.spec.freq == "1mo"
    with pytest.raises(fl.ParameterError, match="contradicts"):
        fl.panel_spec(table.panel, freq="1q")
