"""flowlens.synth recording: reporting breaks, attribution changes, outliers and strong trends.

Each run with recording events is compared with the run of the same seed without
them: the transfers drawn are the same, so the recorded rows must differ from them
exactly as the truth tables say (within the sampling of thinning and extra records).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.errors import ParameterError
from flowlens.synth import (
    AttributionChange,
    IsolatedOutlier,
    ReportingBreak,
    SynthConfig,
    SynthResult,
    generate,
    generate_to_parquet,
)

PLAIN = SynthConfig(n_corridors=120, start="2021-01-01", end="2022-12-31", n_random_crises=1)
MEX_BREAK = ReportingBreak("USA", "2022-01-01", 0.5, destination="MEX", name="thinned")
SAU_BREAK = ReportingBreak("SAU", "2021-07-01", 1.8, name="more recorded")
ARE_TO_KWT = AttributionChange("ARE", "KWT", "2022-04-01", share=0.4, name="via Kuwait")
PHL_OUTLIER = IsolatedOutlier(None, "PHL", "2021-10-15", factor=2.5, name="PHL jump")
RECORDED = dataclasses.replace(
    PLAIN,
    reporting_breaks=(MEX_BREAK, SAU_BREAK),
    attribution_changes=(ARE_TO_KWT,),
    outliers=(PHL_OUTLIER,),
)
ROWS, SEED = 300_000, 21


@cache
def run(recorded: bool) -> SynthResult:
    return generate(ROWS, seed=SEED, config=RECORDED if recorded else PLAIN, chunk_rows=100_000)


def flows(recorded: bool) -> pl.DataFrame:
    frame = run(recorded).flows
    assert frame is not None
    return frame


def monthly(frame: pl.DataFrame, *where: pl.Expr, **keys: str) -> pl.DataFrame:
    """Per month: sum, sum of squares and count of amount_usd of the rows matching ``keys``."""
    return (
        frame.filter(*where, **keys)
        .group_by(period=pl.col("date").dt.truncate("1mo"))
        .agg(
            usd=pl.col("amount_usd").sum(),
            usd2=(pl.col("amount_usd") ** 2).sum(),
            n=pl.len(),
        )
        .sort("period")
    )


def both(*where: pl.Expr, **keys: str) -> pl.DataFrame:
    """The drawn (``usd``, ``n``) and recorded (``usd_rec``, ``n_rec``) monthly sums."""
    return monthly(flows(False), *where, **keys).join(
        monthly(flows(True), *where, **keys), on="period", how="full", coalesce=True, suffix="_rec"
    )


def within_sampling(cells: pl.DataFrame, factor: float) -> None:
    """Recorded = factor x drawn within sampling: a kept-or-not draw (below 1) or extra
    transfers of the same distribution (above 1) add a variance of at most
    max(f (1 - f), f - 1) x sum(amount^2), and as much for the count."""
    spread = max(factor * (1 - factor), factor - 1, 1e-9)
    for value, squares in (("usd", "usd2"), ("n", "n")):
        drawn = float(cells[value].sum())
        recorded = float(cells[f"{value}_rec"].sum())
        noise = math.sqrt(spread * float(cells[squares].sum()))
        assert abs(factor * drawn - drawn) > 8 * noise  # the test can see the factor
        assert abs(recorded - factor * drawn) < 4 * noise, (value, recorded, factor * drawn)


def test_default_config_output_is_unchanged() -> None:
    """Pinned digests of a run with the default model, computed before recording existed."""
    config = SynthConfig(n_corridors=30, start="2019-11-01", end="2020-02-29", tx_ids=True)
    result = generate(8_000, seed=2024, config=config, chunk_rows=3_000)
    assert result.flows is not None

    def digest(frame: pl.DataFrame) -> str:
        return hashlib.sha256(frame.write_csv().encode()).hexdigest()

    assert digest(result.flows) == (
        "b5348d9b3a2f70e08affba37323c760513ff5ff1cfd8a4158a9a9d4651f41d63"
    )
    assert digest(result.truth.panel) == (
        "13aa863701ff4d365fdc4996f6c54c7fa2e4a3aa94e8c04753ce538ebee38dce"
    )
    for table in (result.truth.breaks, result.truth.attribution_changes, result.truth.outliers):
        assert table.height == 0


def test_recording_changes_no_transfer_sent() -> None:
    """The truth panel (what was sent) is the same with and without recording events."""
    assert_frame_equal(run(False).truth.panel, run(True).truth.panel)
    assert_frame_equal(run(False).truth.events, run(True).truth.events)


def test_thinning_break_halves_the_corridor_from_its_month() -> None:
    cells = both(origin="USA", destination="MEX")
    before = cells.filter(pl.col("period") < dt.date(2022, 1, 1))
    assert before["usd"].equals(before["usd_rec"], check_names=False)  # untouched, exactly
    assert before["n"].equals(before["n_rec"], check_names=False)
    within_sampling(cells.filter(pl.col("period") >= dt.date(2022, 1, 1)), 0.5)
    other = both(origin="USA", destination="PHL").filter(  # the break named one destination
        pl.col("period") != PHL_OUTLIER.month_start
    )
    assert other["usd"].equals(other["usd_rec"], check_names=False)


def test_origin_wide_break_multiplies_every_corridor_of_the_origin() -> None:
    cells = both(origin="SAU").filter(pl.col("period") != dt.date(2021, 10, 1))  # PHL outlier
    before = cells.filter(pl.col("period") < dt.date(2021, 7, 1))
    assert before["usd"].equals(before["usd_rec"], check_names=False)
    within_sampling(cells.filter(pl.col("period") >= dt.date(2021, 7, 1)), 1.8)
    # the truth lists every corridor of SAU in the world, with the break's month and factor
    breaks = run(True).truth.breaks.filter(name="more recorded")
    corridors = run(True).truth.corridors.filter(origin="SAU")
    assert sorted(breaks["destination"].cast(pl.String)) == sorted(
        corridors["destination"].cast(pl.String)
    )
    assert set(breaks["period"]) == {dt.date(2021, 7, 1)}
    assert set(breaks["factor"]) == {1.8} and breaks["origin_wide"].all()
    mex = run(True).truth.breaks.filter(name="thinned")
    assert mex.select("origin", "destination", "factor", "origin_wide").rows() == [
        ("USA", "MEX", 0.5, False)
    ]


def test_extra_records_look_like_the_transfers_they_stand_for() -> None:
    recorded = flows(True).filter(origin="SAU", flow_type="remittance")
    after = recorded.filter(pl.col("date") >= dt.date(2021, 7, 1))
    drawn = flows(False).filter(origin="SAU", flow_type="remittance")
    drawn_after = drawn.filter(pl.col("date") >= dt.date(2021, 7, 1))
    # the size of a transfer does not change with a reporting break: the median amount
    # of the recorded rows is the median of the drawn ones (a 1.8 x larger sample)
    ratio = float(after["amount_usd"].median()) / float(drawn_after["amount_usd"].median())  # type: ignore[arg-type]
    assert 0.95 < ratio < 1.05
    # every recorded row belongs to a corridor of SAU that exists, on a day it was drawn
    assert (
        after.select("destination", "date")
        .unique()
        .join(
            drawn_after.select("destination", "date").unique(),
            on=["destination", "date"],
            how="anti",
        )
        .height
        == 0
    )
    assert after["sender_id"].null_count() == 0


def test_attribution_moves_a_share_of_the_origin_and_keeps_destination_totals() -> None:
    start = dt.date(2022, 4, 1)
    change = run(True).truth.attribution_changes
    assert set(change["from_origin"]) == {"ARE"} and set(change["to_origin"]) == {"KWT"}
    assert set(change["share"]) == {0.4} and set(change["period"]) == {start}
    corridors = run(True).truth.corridors
    pairs = set(corridors.select("origin", "destination").rows())
    for row in change.iter_rows(named=True):
        assert row["new_corridor"] == (("KWT", row["destination"]) not in pairs)
    assert sorted(change["destination"].cast(pl.String)) == sorted(
        corridors.filter(origin="ARE")["destination"].cast(pl.String)
    )
    # ARE keeps 60% of its transfers from April 2022 (a binomial thinning of the count)
    cells = both(origin="ARE").filter(pl.col("period") >= start)
    n, kept = int(cells["n"].sum()), int(cells["n_rec"].sum())
    assert abs(kept - 0.6 * n) < 4 * math.sqrt(0.24 * n)
    assert abs(kept - n) > 8 * math.sqrt(0.24 * n)
    # the rows it loses are recorded under KWT, to the same destinations, nothing else moves
    kwt = both(origin="KWT").filter(pl.col("period") >= start)
    assert int(kwt["n_rec"].sum()) - int(kwt["n"].sum()) == n - kept
    before = both(origin="ARE").filter(
        pl.col("period") < start, pl.col("period") != PHL_OUTLIER.month_start
    )
    assert before["n"].equals(before["n_rec"], check_names=False)
    for destination in change["destination"].cast(pl.String).unique():
        if destination in ("MEX", "PHL"):  # other events there
            continue
        cells = both(pl.col("origin") != "SAU", destination=destination)  # SAU is x1.8
        assert cells["usd"].equals(cells["usd_rec"], check_names=False), destination


def test_outlier_is_one_month_of_the_destination() -> None:
    month = dt.date(2021, 10, 1)
    cells = both(pl.col("origin") != "SAU", destination="PHL")  # SAU is recorded x1.8
    others = cells.filter(pl.col("period") != month)
    assert others["usd"].equals(others["usd_rec"], check_names=False)
    within_sampling(cells.filter(period=month), 2.5)
    outliers = run(True).truth.outliers
    assert set(outliers["period"]) == {month}
    assert set(outliers["factor"]) == {2.5} and outliers["destination_wide"].all()
    assert sorted(outliers["origin"].cast(pl.String)) == sorted(
        run(True).truth.corridors.filter(destination="PHL")["origin"].cast(pl.String)
    )


def test_recorded_rows_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    config = dataclasses.replace(RECORDED, tx_ids=True)
    whole = generate(60_000, seed=4, config=config, chunk_rows=60_000).flows
    pieces = generate(60_000, seed=4, config=config, chunk_rows=7_001).flows
    assert whole is not None and pieces is not None
    assert_frame_equal(whole, pieces)
    assert whole["tx_id"].n_unique() == whole.height  # further records are T<i>-<k>
    assert whole["tx_id"].str.contains("-").any()
    written = generate_to_parquet(tmp_path, 60_000, seed=4, config=config, chunk_rows=9_999)
    assert_frame_equal(pl.read_parquet(sorted(tmp_path.glob("part-*.parquet"))), whole)
    for name in ("breaks", "attribution_changes", "outliers"):
        on_disk = pl.read_parquet(tmp_path / "_truth" / f"{name}.parquet")
        assert_frame_equal(on_disk, getattr(written.truth, name))
    report = fl.load_flows(whole.drop("amount_usd", "fee_usd"))
    assert report.n_rejected == 0  # recorded rows are canonical rows


def test_random_events_come_from_the_seed_and_their_own_streams() -> None:
    config = SynthConfig.realistic(n_corridors=200, n_random_crises=1)
    one = generate(1_000, seed=8, config=config).truth
    again = generate(1_000, seed=8, config=config).truth
    for name in ("breaks", "attribution_changes", "outliers"):
        assert_frame_equal(getattr(one, name), getattr(again, name))
    assert one.breaks["break"].n_unique() == 8
    assert one.attribution_changes["change"].n_unique() == 3
    assert one.outliers["outlier"].n_unique() == 20
    # breaks: half on one corridor, half on every corridor to a destination, none twice
    single = one.breaks.filter(~pl.col("destination_wide"))
    assert single.height == single["break"].n_unique()
    assert single.select("origin", "destination").n_unique() == single.height
    wide = (
        one.breaks.filter("destination_wide")
        .group_by("break")
        .agg(pl.col("destination").first(), n=pl.len())
    )
    assert wide["destination"].n_unique() == wide.height >= 1
    for row in wide.iter_rows(named=True):  # every corridor to the destination
        assert row["n"] == one.corridors.filter(destination=row["destination"]).height
    # months from the fifth year to three years before the end
    assert one.breaks["period"].min() >= dt.date(2019, 1, 1)  # type: ignore[operator]
    assert one.breaks["period"].max() <= dt.date(2022, 1, 1)  # type: ignore[operator]
    assert (one.breaks["start"] == one.breaks["period"]).all()
    factors = one.breaks["factor"].to_numpy()
    assert ((factors >= 0.4) & (factors <= 0.8) | (factors >= 1.25) & (factors <= 2.5)).all()
    outliers = one.outliers["factor"].to_numpy()
    assert ((outliers >= 1.5) & (outliers <= 3.0)).all()
    # more outliers leave the breaks and the crises alone
    more = generate(1_000, seed=8, config=dataclasses.replace(config, n_random_outliers=30)).truth
    assert_frame_equal(more.breaks, one.breaks)
    assert_frame_equal(more.events, one.events)
    other = generate(1_000, seed=9, config=config).truth
    assert not other.breaks.equals(one.breaks)


def test_growth_spread_sets_the_spread_of_corridor_trends() -> None:
    def yearly_growth(spread: float) -> np.ndarray:
        config = SynthConfig(
            n_corridors=400, start="2016-01-01", end="2019-12-31", growth_spread=spread
        )
        panel = generate(1_000, seed=3, config=config).truth.panel.filter(
            flow_type="trade_investment"
        )
        years = panel.group_by("origin", "destination", year=pl.col("period").dt.year()).agg(
            pl.col("baseline_usd").sum()
        )
        wide = years.pivot("year", index=["origin", "destination"], values="baseline_usd")
        growth: np.ndarray = np.log(wide["2019"].to_numpy() / wide["2016"].to_numpy()) / 3
        return growth

    default = yearly_growth(0.02)
    strong = yearly_growth(0.08)
    assert 0.015 < default.std() < 0.025
    assert 0.07 < strong.std() < 0.09
    assert abs(strong.mean() - 0.05) < 0.01
    assert 0.15 < (strong > math.log(1.1)).mean() < 0.4  # many corridors grow 10% a year or more


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ReportingBreak("USA", "2021-01-01", 0.0), "ReportingBreak.factor"),
        (lambda: ReportingBreak("USA", "2021-01-01", 25.0), "ReportingBreak.factor"),
        (lambda: ReportingBreak("USA", "2021-01-01", float("nan")), "ReportingBreak.factor"),
        (lambda: ReportingBreak("usa", "2021-01-01", 0.5), "ReportingBreak.origin"),
        (lambda: ReportingBreak(None, "2021-01-01", 0.5), "needs an origin, a destination or both"),
        (lambda: ReportingBreak("USA", "January", 0.5), "ReportingBreak.start"),
        (lambda: AttributionChange("USA", "USA", "2021-01-01"), "AttributionChange.to_origin"),
        (
            lambda: AttributionChange("USA", "CAN", "2021-01-01", share=1.5),
            "AttributionChange.share",
        ),
        (lambda: IsolatedOutlier(None, "PHL", "2021-01-01", factor=True), "IsolatedOutlier.factor"),
        (lambda: SynthConfig(growth_spread=-0.1), "growth_spread"),
        (lambda: SynthConfig(growth_spread=float("inf")), "growth_spread"),
        (lambda: SynthConfig(n_random_breaks=-1), "n_random_breaks"),
        (lambda: SynthConfig(n_random_outliers=2.0), "n_random_outliers"),  # type: ignore[arg-type]
        (lambda: SynthConfig(break_factor_range=(0.9, 2.0)), "break_factor_range"),
        (lambda: SynthConfig(outlier_factor_range=(0.5, 2.0)), "outlier_factor_range"),
        (lambda: SynthConfig(reporting_breaks=({"origin": "USA"},)), "reporting_breaks\\[0\\]"),  # type: ignore[arg-type]
        (lambda: SynthConfig(outliers=PHL_OUTLIER), "outliers"),  # type: ignore[arg-type]
        (
            lambda: SynthConfig.from_dict({"outliers": [{"destination": "PHL", "month": "x"}]}),
            "outliers\\[0\\]",
        ),
        (
            lambda: SynthConfig.from_dict({"reporting_breaks": [{"origin": "USA", "size": 2}]}),
            "reporting_breaks\\[0\\] has unknown keys \\['size'\\]",
        ),
    ],
)
def test_bad_arguments_name_their_field(make: object, field: str) -> None:
    with pytest.raises(ParameterError, match=field):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reporting_breaks": (ReportingBreak("USA", "2014-01-01", 0.5),)}, "reporting_breaks\\[0\\].start 2014-01-01 is outside"),
        ({"reporting_breaks": (ReportingBreak("CZE", "2021-06-01", 0.5),)}, "reporting_breaks\\[0\\] \\(origin 'CZE'.*matches no corridor"),
        ({"outliers": (IsolatedOutlier("USA", "FRA", "2021-06-01"),)}, "outliers\\[0\\] \\(origin 'USA', destination 'FRA'\\)"),
        ({"outliers": (IsolatedOutlier(None, "PHL", "2030-06-01"),)}, "outliers\\[0\\].month 2030-06-01 is outside"),
        ({"attribution_changes": (AttributionChange("USA", "QQQ", "2021-06-01"),)}, "to_origin 'QQQ' is not a country code"),
        (
            {"attribution_changes": (ARE_TO_KWT, AttributionChange("ARE", "QAT", "2021-06-01", destination="IND"))},
            "attribution_changes\\[1\\] and attribution_changes\\[0\\] both move ARE -> IND",
        ),
        ({"n_random_breaks": 500}, "n_random_breaks asks for 2.. distinct corridors, and the synthetic world has 120"),
    ],
)  # fmt: skip
def test_events_that_do_not_fit_the_world_are_refused(change: dict[str, Any], message: str) -> None:
    config = dataclasses.replace(PLAIN, **change)
    with pytest.raises(ParameterError, match=message):
        generate(10, seed=0, config=config)


def test_from_dict_reads_recording_events() -> None:
    config = SynthConfig.from_dict(
        {
            "reporting_breaks": [{"origin": "USA", "start": "2019-01-01", "factor": 0.5}],
            "attribution_changes": [{"from_origin": "SAU", "to_origin": "ARE", "start": "2020-01-01"}],
            "outliers": [{"origin": None, "destination": "PHL", "month": "2018-06-01", "factor": 2}],
            "break_factor_range": [0.5, 2.0],
            "n_random_breaks": 2,
        }
    )  # fmt: skip
    assert config.reporting_breaks == (ReportingBreak("USA", "2019-01-01", 0.5),)
    assert config.attribution_changes[0].share == 1.0
    assert config.outliers[0].month_start == dt.date(2018, 6, 1)
    assert config.break_factor_range == (0.5, 2.0)
    assert SynthConfig(reporting_breaks=[MEX_BREAK]).reporting_breaks == (MEX_BREAK,)  # type: ignore[arg-type]
