"""Bilateral estimation: rows sum to the totals; the real 2017 matrices against Banco de Mexico."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import ParameterError


def test_rule_1_and_rule_2_by_hand() -> None:
    totals = pl.DataFrame({"destination": ["MEX", "PHL"], "amount_usd": [100.0, 50.0]})
    stock = pl.DataFrame(
        {
            "origin": ["USA", "CAN", "USA", "SAU"],
            "destination": ["MEX", "MEX", "PHL", "PHL"],
            "migrants": [900.0, 100.0, 1.0, 4.0],
        }
    )
    rule1 = fl.estimate_bilateral(totals, stock)
    assert dict(
        zip(
            zip(rule1["origin"], rule1["destination"], strict=True),
            rule1["amount_usd"],
            strict=True,
        )
    ) == {
        ("USA", "MEX"): 90.0,
        ("CAN", "MEX"): 10.0,
        ("SAU", "PHL"): 40.0,
        ("USA", "PHL"): 10.0,
    }
    income = pl.DataFrame({"country": ["USA", "CAN", "SAU"], "income": [2.0, 2.0, 1.0]})
    rule2 = fl.estimate_bilateral(totals, stock, rule="stock_income", host_income=income)
    phl = rule2.filter(destination="PHL")
    # weights: USA 1 x 2 = 2, SAU 4 x 1 = 4 -> shares 1/3, 2/3
    assert phl.sort("origin")["amount_usd"].to_list() == pytest.approx([50 * 2 / 3, 50 / 3])


def test_custom_weights_and_unallocated_totals() -> None:
    totals = pl.DataFrame({"destination": ["MEX", "SOM"], "amount_usd": [100.0, 7.0]})
    weights = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "weight": [3.0]})
    result = fl.estimate_bilateral(totals, rule="weights", weights=weights)
    somalia = result.filter(destination="SOM")
    assert somalia["origin"].to_list() == [None]  # no weight: kept, unallocated, never dropped
    assert somalia["amount_usd"].item() == 7.0


def test_bad_arguments_raise_parameter_error() -> None:
    totals = pl.DataFrame({"destination": ["MEX"], "amount_usd": [100.0]})
    stock = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "migrants": [1.0]})
    weights = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "weight": [3.0]})
    income = pl.DataFrame({"country": ["USA"], "income": [1.0]})
    with pytest.raises(ParameterError, match="needs weights"):
        fl.estimate_bilateral(totals, rule="weights")
    with pytest.raises(ParameterError, match="needs migrant_stock"):
        fl.estimate_bilateral(totals)
    with pytest.raises(ParameterError, match="needs host_income"):
        fl.estimate_bilateral(totals, stock, rule="stock_income")
    with pytest.raises(ParameterError, match="rule 'gravity'"):
        fl.estimate_bilateral(totals, stock, rule="gravity")
    with pytest.raises(ParameterError, match="does not use migrant_stock"):
        fl.estimate_bilateral(totals, stock, rule="weights", weights=weights)
    with pytest.raises(ParameterError, match="does not use host_income"):
        fl.estimate_bilateral(totals, stock, host_income=income)
    with pytest.raises(fl.MissingColumnError, match=r"^migrant_stock: required column 'migrants'"):
        fl.estimate_bilateral(totals, pl.DataFrame({"origin": ["USA"], "destination": ["MEX"]}))
    with pytest.raises(fl.MissingColumnError, match="'amount_usd'"):
        fl.compare_bilateral(totals, stock)


@pytest.mark.parametrize("kind", ["polars", "lazy", "pandas", "pyarrow"])
def test_any_table_kind_in_the_same_kind_out(kind: str) -> None:
    def as_kind(frame: pl.DataFrame) -> Any:
        return {"polars": frame, "lazy": frame.lazy(), "pandas": frame.to_pandas(),
                "pyarrow": frame.to_arrow()}[kind]  # fmt: skip

    totals = pl.DataFrame({"destination": ["MEX"], "remitted": [100.0]})
    stock = pl.DataFrame(
        {"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"], "migrants": [3.0, 1.0]}
    )
    result = fl.estimate_bilateral(as_kind(totals), as_kind(stock), value="remitted")
    assert type(result) is type(as_kind(totals))
    table = result.collect() if kind == "lazy" else pl.DataFrame(result)
    assert table.select("origin", "remitted").rows() == [("USA", 75.0), ("CAN", 25.0)]
    recorded = pl.DataFrame(
        {"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"], "remitted": [50.0, 50.0]}
    )
    report = fl.compare_bilateral(as_kind(table), as_kind(recorded), value="remitted")
    assert type(report) is type(as_kind(totals))
    gaps = report.collect() if kind == "lazy" else pl.DataFrame(report)
    assert gaps.sort("origin")["share_gap"].to_list() == pytest.approx([-0.25, 0.25])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6), min_size=1, max_size=6),
    st.lists(st.floats(1.0, 1e9), min_size=3, max_size=3),
)
def test_each_destination_sums_exactly_to_its_total(
    migrants: list[float], totals: list[float]
) -> None:
    destinations = ["MEX", "PHL", "IND"]
    origins = ["USA", "CAN", "SAU", "ARE", "GBR", "DEU"]
    stock = pl.DataFrame(
        {
            "origin": [origins[i % 6] for i in range(len(migrants) * 3)],
            "destination": [destinations[i // len(migrants)] for i in range(len(migrants) * 3)],
            "migrants": migrants * 3,
        }
    ).unique(["origin", "destination"])
    table = pl.DataFrame({"destination": destinations, "amount_usd": totals})
    result = fl.estimate_bilateral(table, stock)
    sums = result.group_by("destination").agg(pl.col("amount_usd").sum()).sort("destination")
    expected = table.sort("destination")
    assert sums["amount_usd"].to_list() == pytest.approx(
        expected["amount_usd"].to_list(), rel=1e-12
    )


def test_mexico_2017_recorded_against_the_world_bank_matrix(real: Path) -> None:
    """Banco de Mexico recorded about 95% of 2017 inflows from the USA; the matrix says about 98%."""
    banxico = fl.read_banxico_quarterly_by_country(
        real / "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv"
    )
    in_2017 = pl.col("period").dt.year() == 2017
    recorded = (
        banxico.panel.filter(in_2017, destination="MEX")
        .group_by("origin", "destination")
        .agg(pl.col("amount_usd").sum())
    )
    unidentified = banxico.unmatched.filter(in_2017, direction="inflows")["amount_usd"].sum()
    usa = recorded.filter(origin="USA")["amount_usd"].item()
    assert usa / (recorded["amount_usd"].sum() + unidentified) == pytest.approx(0.951, abs=0.001)

    matrix = fl.read_wb_bilateral_matrix(real / "wb_bilateral_remittance_2017.xlsx").panel
    report = fl.compare_bilateral(matrix.filter(destination="MEX"), recorded)
    usa_row = report.filter(origin="USA").row(0, named=True)
    assert usa_row["estimate_share"] == pytest.approx(0.981, abs=0.001)
    assert usa_row["recorded_share"] == pytest.approx(0.973, abs=0.001)  # of identified origins
    assert report["estimate_share"].sum() == pytest.approx(1.0)
    assert report["recorded_share"].sum() == pytest.approx(1.0)

    # rule 1 from the real migrant-stock matrix, on Mexico's recorded total
    stock = fl.read_wb_migrant_stock(real / "wb_bilateral_migrant_stock_2017.xlsx").panel
    total = pl.DataFrame({"destination": ["MEX"], "amount_usd": [recorded["amount_usd"].sum()]})
    estimate = fl.estimate_bilateral(total, stock)
    assert estimate["amount_usd"].sum() == pytest.approx(total["amount_usd"].item(), rel=1e-12)
    rule1 = fl.compare_bilateral(estimate, recorded).filter(origin="USA").row(0, named=True)
    assert rule1["estimate_share"] == pytest.approx(
        0.974, abs=0.001
    )  # Mexicans abroad: 97% in the USA
