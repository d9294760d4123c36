"""flowlens.synth: the data matches its truth, and is the same whatever the chunk size."""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats

import flowlens as fl
from flowlens.synth import CrisisEvent, DeRiskingEvent, SynthConfig, generate, generate_to_parquet

SMALL = SynthConfig(
    n_corridors=120,
    start="2021-01-01",
    end="2022-12-31",
    crises=(CrisisEvent("PAK", "2022-03-01", magnitude=0.6, name="test crisis"),),
    n_random_crises=1,
    derisking=(DeRiskingEvent("USA", "SOM", "2021-07-01", withdrawn=0.7, ramp_days=10),),
)


@cache
def small_run(observe: str = "all") -> fl.synth.SynthResult:
    config = SynthConfig(**{**SMALL.__dict__, "observe": observe})
    return generate(400_000, seed=11, config=config, chunk_rows=100_000)


def test_same_seed_same_flows_whatever_the_chunk_size(tmp_path: Path) -> None:
    config = SynthConfig(n_corridors=40, start="2023-01-01", end="2023-06-30", tx_ids=True)
    whole = generate(30_000, seed=3, config=config, chunk_rows=30_000).flows
    pieces = generate(30_000, seed=3, config=config, chunk_rows=7_001).flows
    assert whole is not None and pieces is not None
    assert_frame_equal(whole, pieces)
    written = generate_to_parquet(tmp_path, 30_000, seed=3, config=config, chunk_rows=4_999)
    assert written.n_rows_written == 30_000
    from_disk = pl.read_parquet(sorted(tmp_path.glob("part-*.parquet")))
    assert_frame_equal(from_disk, whole)
    other = generate(30_000, seed=4, config=config).flows
    assert other is not None
    assert not other.equals(whole)


def test_flows_are_canonical_and_load_without_rejects() -> None:
    flows = small_run().flows
    assert flows is not None
    report = fl.load_flows(flows.drop("amount_usd", "fee_usd"))
    assert report.n_rejected == 0
    clean = report.clean
    assert isinstance(clean, pl.DataFrame)
    # load_flows converts at the same rates: the generator's USD amounts come back exactly
    assert clean["amount_usd"].equals(flows["amount_usd"])
    for name, dtype in flows.schema.items():
        assert fl.schema.CANONICAL_SCHEMA[name] == dtype, name


def test_realised_truth_counts_every_row_and_dollar() -> None:
    result = small_run()
    flows, panel = result.flows, result.truth.panel
    assert flows is not None
    assert panel["n_transfers"].sum() == flows.height == 400_000
    total = panel["formal_usd"].sum() + panel["informal_usd"].sum()
    assert total == pytest.approx(flows["amount_usd"].sum(), rel=1e-9)


@pytest.mark.parametrize("flow_type", ["remittance", "philanthropy"])
def test_observed_total_minus_baseline_is_the_injected_excess(flow_type: str) -> None:
    """Over the crisis months in Pakistan: observed - baseline = excess, within sampling noise."""
    result = small_run()
    flows, panel = result.flows, result.truth.panel
    assert flows is not None
    window = (pl.col("period") >= dt.date(2022, 3, 1)) & (pl.col("period") <= dt.date(2022, 6, 1))
    cells = panel.filter(window, destination="PAK", flow_type=flow_type)
    observed = cells["formal_usd"].sum() + cells["informal_usd"].sum()
    baseline = cells["baseline_usd"].sum()
    excess = cells["excess_usd"].sum()
    rows = flows.filter(
        pl.col("date").is_between(dt.date(2022, 3, 1), dt.date(2022, 6, 30)),
        destination="PAK",
        flow_type=flow_type,
    )
    # the total of a random number of random amounts: variance about sum(amount^2)
    noise = math.sqrt((rows["amount_usd"] ** 2).sum())
    assert excess > 2 * noise  # the test can tell an excess from no excess
    assert abs(observed - baseline - excess) < 4 * noise
    # and before every crisis there is no excess
    calm = panel.filter(pl.col("period") < dt.date(2021, 6, 1), destination="PAK")
    assert calm["excess_usd"].sum() == 0.0


def test_informal_rows_dropped_by_observation_equal_the_truth_exactly() -> None:
    everything = small_run("all")
    observed = small_run("formal")
    assert everything.flows is not None and observed.flows is not None
    assert observed.flows.filter(pl.col("channel").is_in(["informal", "cash_carry"])).height == 0
    removed = everything.flows["amount_usd"].sum() - observed.flows["amount_usd"].sum()
    assert removed == pytest.approx(observed.truth.panel["informal_usd"].sum(), rel=1e-12)
    assert_frame_equal(everything.truth.panel, observed.truth.panel)


def test_derisked_corridor_loses_formal_volume_from_the_event_date() -> None:
    flows = small_run().flows
    assert flows is not None
    panel = small_run().truth.panel.filter(origin="USA", destination="SOM")
    corridor = flows.filter(origin="USA", destination="SOM")
    formal = pl.col("channel").is_in(["bank", "mto"])
    before = corridor.filter(pl.col("date") < dt.date(2021, 7, 1))
    after = corridor.filter(pl.col("date") >= dt.date(2021, 8, 1))
    share_before = before.filter(formal).height / before.height
    share_after = after.filter(formal).height / after.height
    assert share_after < 0.5 * share_before
    informal = pl.col("channel").is_in(["informal", "cash_carry"])
    assert (
        after.filter(informal).height / after.height
        > before.filter(informal).height / before.height
    )
    assert panel.filter(pl.col("period") < dt.date(2021, 7, 1))["lost_usd"].sum() == 0.0
    assert panel.filter(pl.col("period") >= dt.date(2021, 8, 1))["lost_usd"].min() > 0.0


def test_corridor_sizes_are_heavy_tailed_with_usa_mex_on_top() -> None:
    flows = small_run().flows
    assert flows is not None
    sizes = (
        flows.group_by("origin", "destination")
        .agg(pl.col("amount_usd").sum())
        .sort("amount_usd", descending=True)
    )
    assert sizes.row(0)[:2] == ("USA", "MEX")
    top_share = sizes["amount_usd"].head(sizes.height // 10).sum() / sizes["amount_usd"].sum()
    assert top_share > 0.4  # the largest tenth of corridors carries four times its share or more
    rank = np.arange(1, sizes.height + 1)
    slope = np.polyfit(np.log(rank[:60]), np.log(sizes["amount_usd"].head(60).to_numpy()), 1)[0]
    assert -1.3 < slope < -0.6  # Zipf exponent 0.9, with sampling noise


def test_remittance_amounts_are_lognormal() -> None:
    flows = small_run().flows
    assert flows is not None
    amounts = flows.filter(origin="USA", destination="MEX", flow_type="remittance")["amount_usd"]
    logs = np.log(amounts.to_numpy()[:20_000])
    assert abs(stats.skew(logs)) < 0.1
    assert abs(stats.kurtosis(logs)) < 0.2
    assert 100 < float(np.exp(np.median(logs))) < 600  # a median of a few hundred USD


def test_december_and_eid_peaks_where_configured() -> None:
    flows = small_run().flows
    assert flows is not None
    remittances = flows.filter(flow_type="remittance")
    by_month = remittances.group_by(pl.col("date").dt.month().alias("m")).len().sort("m")
    counts = dict(by_month.iter_rows())
    assert counts[12] / counts[11] > 1.08  # December boost 15%, less a month of growth
    holidays = fl.calendar.islamic_holidays(2021, 2022).filter(
        pl.col("holiday").str.starts_with("eid")
    )
    windows = pl.concat(
        [
            pl.date_range(d - dt.timedelta(days=15), d - dt.timedelta(days=1), eager=True)
            for d in holidays["date"]
        ]
    )
    muslim = fl.reference.countries().filter(muslim_majority="true")["iso3"]
    daily = (
        remittances.filter(pl.col("destination").cast(pl.String).is_in(muslim.implode()))
        .group_by("date")
        .len()
        .with_columns(pre_eid=pl.col("date").is_in(windows.implode()))
    )
    mean = daily.group_by("pre_eid").agg(pl.col("len").mean())
    ratio = mean.filter(pre_eid=True)["len"].item() / mean.filter(pre_eid=False)["len"].item()
    assert 1.2 < ratio < 1.5  # the 35% Eid boost, blurred by December and growth


def test_remittance_senders_send_about_monthly() -> None:
    flows = small_run().flows
    assert flows is not None
    per_sender_month = (
        flows.filter(flow_type="remittance", origin="USA", destination="MEX")
        .group_by("sender_id")
        .agg(pl.len() / 24)  # two years
    )
    assert 0.7 < per_sender_month["len"].mean() < 1.3
    assert per_sender_month.height > 1_000  # many senders


def test_events_table_lists_configured_and_random_events() -> None:
    events = small_run().truth.events
    assert events.filter(kind="crisis").height == 2
    assert events.filter(kind="derisking").select("origin", "destination").row(0) == ("USA", "SOM")


def test_config_errors_are_clear() -> None:
    with pytest.raises(fl.FlowlensError, match="unknown synth config keys \\['rows'\\]"):
        SynthConfig.from_dict({"rows": 3})
    with pytest.raises(fl.FlowlensError, match="ISO date"):
        SynthConfig(start="01/02/2020")
    with pytest.raises(fl.FlowlensError, match="observe"):
        SynthConfig(observe="some")
    with pytest.raises(fl.FlowlensError, match="not a corridor"):
        generate(
            10, seed=0, config=SynthConfig(derisking=(DeRiskingEvent("USA", "USA", "2016-01-01"),))
        )
    with pytest.raises(fl.FlowlensError, match="n_rows"):
        generate(-1, seed=0)


def test_to_parquet_refuses_a_directory_with_parts(tmp_path: Path) -> None:
    (tmp_path / "part-00000.parquet").write_bytes(b"")
    with pytest.raises(fl.FlowlensError, match="is not empty; flowlens does not overwrite"):
        generate_to_parquet(tmp_path, 10, seed=0)


def test_progress_is_opt_in_and_reports_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowlens.synth import SynthConfig, generate_to_parquet

    config = SynthConfig(n_corridors=10, end="2015-03-31")
    seen: list[tuple[int, int]] = []
    generate_to_parquet(tmp_path / "a", 2_500, seed=1, config=config, chunk_rows=1_000,
                        progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert sorted(seen) == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
    generate_to_parquet(tmp_path / "b", 2_500, seed=1, config=config, chunk_rows=1_000)
    assert capsys.readouterr().err == ""  # silent unless asked
    generate_to_parquet(
        tmp_path / "c", 2_500, seed=1, config=config, chunk_rows=1_000, progress=True
    )
    assert "2.50k/2.50k" in capsys.readouterr().err
