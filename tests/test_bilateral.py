"""Bilateral estimation: hand-computed allocations, records first, RAS, and the real 2017 data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.bilateral import compare_bilateral, estimate_bilateral, ras
from flowlens.errors import ParameterError
from flowlens.reference.incomes import gni_per_capita

STOCK = pl.DataFrame(
    {
        "origin": ["USA", "CAN", "ESP", "USA", "SAU", "IND"],
        "destination": ["MEX", "MEX", "MEX", "PHL", "PHL", "PHL"],
        "migrants": [800.0, 100.0, 100.0, 300.0, 500.0, 200.0],
    }
)
INCOME = pl.DataFrame(
    {
        "country": ["USA", "CAN", "ESP", "SAU", "IND", "MEX", "PHL"],
        "income": [64.0, 16.0, 4.0, 16.0, 1.0, 4.0, 4.0],
    }
)


def _amounts(frame: pl.DataFrame) -> dict[tuple[str, str], float]:
    rows = frame.select("origin", "destination", "amount_usd").rows()
    return {(o, d): v for o, d, v in rows}


def test_default_rule_on_a_3x3_by_hand() -> None:
    """weight = migrants x max(host / origin income, 1) ** e, e = 0.5."""
    totals = pl.DataFrame({"destination": ["MEX", "PHL"], "amount_usd": [100.0, 60.0]})
    est = estimate_bilateral(totals, STOCK, host_income=INCOME, income_elasticity=0.5)
    # MEX (income 4): USA 800 x (64/4)^.5 = 3200; CAN 100 x (16/4)^.5 = 200; ESP 100 x 1 = 100
    # PHL (income 4): USA 300 x 4 = 1200; SAU 500 x 2 = 1000; IND 200 x max(1/4, 1) = 200
    assert _amounts(est.flows) == pytest.approx(
        {
            ("USA", "MEX"): 100 * 3200 / 3500,
            ("CAN", "MEX"): 100 * 200 / 3500,
            ("ESP", "MEX"): 100 * 100 / 3500,
            ("USA", "PHL"): 60 * 1200 / 2400,
            ("SAU", "PHL"): 60 * 1000 / 2400,
            ("IND", "PHL"): 60 * 200 / 2400,
        }
    )
    assert set(est.flows["method"]) == {"stock_income"}
    assert est.unweighted.is_empty()
    # rule 1 and rule 2 of Ratha and Shaw
    rule1 = estimate_bilateral(totals, STOCK, rule="stock")
    assert _amounts(rule1.flows)[("USA", "PHL")] == pytest.approx(18.0)
    rule2 = estimate_bilateral(totals, STOCK, rule="stock_host_income", host_income=INCOME)
    # PHL: 300 x 64 = 19200, 500 x 16 = 8000, 200 x 1 = 200 -> USA 60 x 19200 / 27400
    assert _amounts(rule2.flows)[("USA", "PHL")] == pytest.approx(60 * 19200 / 27400)
    # elasticity 0 is the stock rule
    flat = estimate_bilateral(totals, STOCK, host_income=INCOME, income_elasticity=0.0)
    assert _amounts(flat.flows) == pytest.approx(_amounts(rule1.flows))


def test_missing_incomes_filled_within_the_window_and_listed() -> None:
    income = pl.DataFrame(
        {
            "country": ["USA", "USA", "CAN", "MEX", "ESP"],
            "year": [2020, 2019, 2014, 2020, 2020],
            "income": [64.0, 1.0, 16.0, 4.0, 4.0],
        }
    )
    totals = pl.DataFrame({"destination": ["MEX"], "amount_usd": [100.0]})
    stock = STOCK.filter(destination="MEX")
    est = estimate_bilateral(totals, stock, host_income=income, year=2021, income_elasticity=0.5)
    # USA from 2020 (latest within 5 years); CAN's 2014 value is outside 2016-2021: stock alone
    assert est.incomes.sort("country").rows() == [
        ("ESP", 4.0, 2020),
        ("MEX", 4.0, 2020),
        ("USA", 64.0, 2020),
    ]
    assert est.unweighted.select("origin", "missing", "treatment").rows() == [
        ("CAN", "host_income", "stock alone")
    ]
    assert est.unweighted["stock_share"].item() == pytest.approx(0.1)
    assert _amounts(est.flows)[("USA", "MEX")] == pytest.approx(100 * 3200 / 3400)
    wider = estimate_bilateral(
        totals, stock, host_income=income, year=2021, income_window=7, income_elasticity=0.5
    )
    assert wider.unweighted.is_empty()


def test_bundled_gni_has_kuwait_and_oman_to_2019_and_fills_2020() -> None:
    gni = gni_per_capita()
    assert gni.filter(country="USA", year=2017)["gni_per_capita"].item() == 59240.0
    assert gni.filter(country="KWT", year=2020).is_empty()
    stock = pl.DataFrame(
        {
            "origin": ["KWT", "OMN", "USA"],
            "destination": ["IND"] * 3,
            "migrants": [1.0e6, 1.0e6, 1.0e6],
        }
    )
    totals = pl.DataFrame({"destination": ["IND"], "amount_usd": [1.0]})
    est = estimate_bilateral(totals, stock, year=2020)
    assert est.unweighted.is_empty()
    assert dict(zip(est.incomes["country"], est.incomes["income_year"], strict=True)) == {
        "IND": 2020,
        "KWT": 2019,
        "OMN": 2019,
        "USA": 2020,
    }


def test_records_first_and_the_residual_spread_by_the_rule() -> None:
    totals = pl.DataFrame({"destination": ["MEX", "PHL"], "amount_usd": [100.0, 60.0]})
    records = pl.DataFrame(
        {
            "origin": ["USA", "CAN", "No Identificado"],
            "destination": ["MEX"] * 3,
            "amount_usd": [90.0, 6.0, 4.0],
        }
    )
    est = estimate_bilateral(totals, STOCK, rule="stock", records=records)
    mex = est.flows.filter(destination="MEX")
    assert mex.select("origin", "amount_usd", "method").rows() == [
        ("USA", 90.0, "recorded"),
        ("CAN", 6.0, "recorded"),
        ("ESP", 4.0, "stock"),
    ]
    assert set(est.flows.filter(destination="PHL")["method"]) == {"stock"}
    assert est.records.rows() == [("MEX", 100.0, 96.0, 4.0)]
    # every sender named: the residual has nowhere to go and is kept, unallocated
    named = records.vstack(
        pl.DataFrame({"origin": ["ESP"], "destination": ["MEX"], "amount_usd": [0.0]})
    )
    kept = estimate_bilateral(totals, STOCK, rule="stock", records=named).flows
    row = kept.filter(pl.col("origin").is_null()).row(0, named=True)
    assert (row["amount_usd"], row["method"], row["share"]) == (4.0, "unallocated", None)


def test_ras_on_a_2x2_by_hand() -> None:
    prior = pl.DataFrame(
        {
            "origin": ["A", "A", "B", "B"],
            "destination": ["X", "Y", "X", "Y"],
            "amount_usd": [1.0, 2.0, 3.0, 4.0],
        }
    )
    rows = pl.DataFrame({"origin": ["A", "B"], "amount_usd": [5.0, 5.0]})
    cols = pl.DataFrame({"destination": ["X", "Y"], "amount_usd": [4.0, 6.0]})
    fit = ras(prior, row_totals=rows, column_totals=cols, tol=1e-13)
    # the biproportional solution m_ij = a_i b_j p_ij with both margins: a cross-ratio is kept
    # (x11 x22) / (x12 x21) = (1 x 4) / (2 x 3); with x12 = 5 - x11, x21 = 4 - x11,
    # x22 = 1 + x11: x11 (1 + x11) / ((5 - x11)(4 - x11)) = 2/3 -> x11^2 + 21 x11 - 40 = 0
    x11 = (-21 + (21**2 + 160) ** 0.5) / 2
    got = fit.flows.sort("origin", "destination")["amount_usd"].to_list()
    assert got == pytest.approx([x11, 5 - x11, 4 - x11, 1 + x11], rel=1e-9)
    assert fit.fit["converged"].item() is True
    assert fit.unmet.is_empty()
    assert fit.moved.row(0, named=True)["origin"] in {"A", "B"}
    with pytest.raises(ParameterError, match="row_totals"):
        ras(prior)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0.1, 100.0), min_size=9, max_size=9),
    st.lists(st.floats(1.0, 100.0), min_size=3, max_size=3),
    st.lists(st.floats(1.0, 100.0), min_size=3, max_size=3),
)
def test_ras_meets_both_margins(cells: list[float], rows: list[float], cols: list[float]) -> None:
    names = ["A", "B", "C"]
    prior = pl.DataFrame(
        {"origin": [o for o in names for _ in names], "destination": names * 3, "amount_usd": cells}
    )
    fit = ras(
        prior,
        row_totals=pl.DataFrame({"origin": names, "amount_usd": rows}),
        column_totals=pl.DataFrame({"destination": names, "amount_usd": cols}),
        tol=1e-10,
        max_iter=5000,
    )
    scale = sum(cols) / sum(rows)  # row totals are scaled to the column totals' sum
    assert fit.fit["row_scale"].item() == pytest.approx(scale)
    flows = fit.flows
    by_row = flows.group_by("origin").agg(pl.col("amount_usd").sum()).sort("origin")
    by_col = flows.group_by("destination").agg(pl.col("amount_usd").sum()).sort("destination")
    assert by_row["amount_usd"].to_list() == pytest.approx([r * scale for r in rows], rel=1e-8)
    assert by_col["amount_usd"].to_list() == pytest.approx(cols, rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6), min_size=1, max_size=6),
    st.lists(st.floats(1.0, 1e9), min_size=3, max_size=3),
    st.sampled_from(["stock", "stock_income"]),
)
def test_shares_sum_to_one_and_amounts_to_the_totals(
    migrants: list[float], totals: list[float], rule: str
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
    flows = estimate_bilateral(table, stock, rule=rule, year=2017).flows
    sums = flows.group_by("destination").agg(
        pl.col("amount_usd").sum(), pl.col("share").sum(), pl.col("origin").null_count()
    )
    expected = dict(zip(destinations, totals, strict=True))
    for d, amount, share, unallocated in sums.rows():
        assert amount == pytest.approx(expected[d], rel=1e-12)
        assert share == pytest.approx(1.0, rel=1e-12) if not unallocated else share == 0.0


def test_bad_arguments_raise_parameter_error() -> None:
    totals = pl.DataFrame({"destination": ["MEX"], "amount_usd": [100.0]})
    stock = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "migrants": [1.0]})
    weights = pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "weight": [3.0]})
    with pytest.raises(ParameterError, match="needs weights"):
        estimate_bilateral(totals, rule="weights")
    with pytest.raises(ParameterError, match="needs migrant_stock"):
        estimate_bilateral(totals)
    with pytest.raises(ParameterError, match="rule 'gravity'"):
        estimate_bilateral(totals, stock, rule="gravity")
    with pytest.raises(ParameterError, match="does not use migrant_stock"):
        estimate_bilateral(totals, stock, rule="weights", weights=weights)
    with pytest.raises(ParameterError, match="does not use host_income"):
        estimate_bilateral(totals, stock, rule="stock", host_income=INCOME)
    with pytest.raises(ParameterError, match="income_window"):
        estimate_bilateral(totals, stock, income_window=-1)
    with pytest.raises(ParameterError, match="income_elasticity"):
        estimate_bilateral(totals, stock, income_elasticity=float("nan"))
    with pytest.raises(ParameterError, match="top=0"):
        compare_bilateral(totals, stock, top=0)
    with pytest.raises(fl.MissingColumnError, match=r"^migrant_stock: required column 'migrants'"):
        estimate_bilateral(totals, pl.DataFrame({"origin": ["USA"], "destination": ["MEX"]}))
    spanning = pl.DataFrame(
        {
            "period": [dt.date(2016, 1, 1), dt.date(2017, 1, 1)],
            "origin": ["USA"] * 2,
            "destination": ["MEX"] * 2,
            "amount_usd": [1.0, 2.0],
        }
    )
    with pytest.raises(
        ParameterError, match=r"2016\.\.2017; an estimate is for one year: pass year="
    ):
        compare_bilateral(spanning, spanning)


@pytest.mark.parametrize("kind", ["polars", "lazy", "pandas", "pyarrow"])
def test_any_table_kind_in_the_same_kind_out(kind: str) -> None:
    def as_kind(frame: pl.DataFrame) -> Any:
        return {
            "polars": frame,
            "lazy": frame.lazy(),
            "pandas": frame.to_pandas(),
            "pyarrow": frame.to_arrow(),
        }[kind]

    totals = pl.DataFrame({"destination": ["MEX"], "remitted": [100.0]})
    stock = pl.DataFrame(
        {"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"], "migrants": [3.0, 1.0]}
    )
    est = estimate_bilateral(as_kind(totals), as_kind(stock), rule="stock", value="remitted")
    assert type(est.flows) is type(as_kind(totals))
    table = est.flows.collect() if kind == "lazy" else pl.DataFrame(est.flows)
    assert table.select("origin", "remitted").rows() == [("USA", 75.0), ("CAN", 25.0)]
    recorded = pl.DataFrame(
        {"origin": ["USA", "CAN"], "destination": ["MEX", "MEX"], "remitted": [50.0, 50.0]}
    )
    report = compare_bilateral(as_kind(table), as_kind(recorded), value="remitted")
    assert type(report.corridors) is type(as_kind(totals))
    gaps = report.corridors.collect() if kind == "lazy" else pl.DataFrame(report.corridors)
    assert gaps.sort("origin")["share_gap"].to_list() == pytest.approx([-0.25, 0.25])
    assert report.summary["mae_top"].item() == pytest.approx(0.25)


def test_compare_summary_by_hand() -> None:
    est = pl.DataFrame(
        {
            "origin": ["USA", "CAN", "GTM", "ESP"],
            "destination": ["MEX"] * 4,
            "amount_usd": [90.0, 3.0, 5.0, 2.0],
        }
    )
    rec = pl.DataFrame(
        {
            "origin": ["USA", "CAN", "ESP", "Not identified"],
            "destination": ["MEX"] * 4,
            "amount_usd": [76.0, 16.0, 8.0, 25.0],
        }
    )
    check = compare_bilateral(est, rec, top=2)
    s = check.summary.row(0, named=True)
    # recorded shares of the named 100: USA .76, CAN .16, ESP .08; estimate .90 .03 .05 .02
    assert s["mae_top"] == pytest.approx((0.14 + 0.13) / 2)
    assert s["share_outside_named"] == pytest.approx(0.05)  # GTM: not named by the records
    assert s["residual_share"] == pytest.approx(25 / 125)
    assert (s["largest_over"], s["largest_under"]) == ("USA", "CAN")
    assert s["largest_over_gap"] == pytest.approx(0.14)
    assert "Not identified" not in check.corridors["origin"].to_list()


def test_mexico_2017_recorded_against_the_world_bank_matrix(real: Path) -> None:
    """Banco de Mexico recorded about 95% of 2017 inflows from the USA; the matrix says about 98%."""
    banxico = fl.read_banxico_quarterly_by_country(
        real / "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv"
    )
    matrix = fl.read_wb_bilateral_matrix(real / "wb_bilateral_remittance_2017.xlsx").panel
    report = compare_bilateral(matrix, banxico, year=2017)
    s = report.summary.row(0, named=True)
    assert s["destination"] == "MEX"
    assert s["residual_share"] == pytest.approx(0.0228, abs=0.0001)  # No Identificado
    assert s["unmapped_usd"] == 6936.0  # Abkhazia, named but not an ISO3 country
    usa = report.corridors.filter(origin="USA").row(0, named=True)
    assert usa["estimate_share"] == pytest.approx(0.981, abs=0.001)
    assert usa["recorded_share"] == pytest.approx(0.973, abs=0.001)  # of identified origins
    assert s["mae_top"] == pytest.approx(0.0023, abs=0.0001)

    # the default rule on the recorded total beats the matrix (the target)
    stock = fl.read_wb_migrant_stock(real / "wb_bilateral_migrant_stock_2017.xlsx").panel
    total = pl.DataFrame({"destination": ["MEX"], "amount_usd": [s["recorded_named_usd"]]})
    est = estimate_bilateral(total, stock)
    assert est.year == 2017  # from the stock's period
    mine = compare_bilateral(est.flows, banxico, year=2017).summary.row(0, named=True)
    assert mine["mae_top"] <= s["mae_top"]
    assert mine["share_outside_named"] <= mine["residual_share"] + 0.02
    # records first: Banco de Mexico's own numbers, the rule only for No Identificado
    first = estimate_bilateral(total, stock, records=banxico).flows
    recorded = first.filter(method="recorded")["amount_usd"].sum()
    assert recorded == pytest.approx(s["recorded_named_usd"])
    assert first.filter(method="stock_income")["amount_usd"].sum() == pytest.approx(
        s["residual_usd"]
    )
