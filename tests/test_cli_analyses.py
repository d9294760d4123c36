"""flowlens surges, informal and graph on the bundled sample's panel and on flowlens synth's
output; --version; outputs checked before any work; hints in command-line syntax."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import flowlens as fl
from flowlens.cli import main
from flowlens.informal import DeRiskingScenario, Triangular, baseline_from_costs, estimate_informal

SAMPLE = str(fl.sample_path("flows"))

SCENARIO = """\
draws = 200
seed = 4

[baseline]
cost_pct = 5.0

[[scenario]]
name = "US banks close MTO accounts"
origin = "USA"
destination = ["MEX", "PHL"]
start = 2024-01-01
ramp_days = 0
withdrawn = { triangular = [0.5, 0.6, 0.7] }
cost_increase_pp = 1.0
cost_elasticity = { uniform = [0.5, 1.0] }
split = { informal = 0.6, other_formal = 0.2, concentration = 30.0 }
"""


@pytest.fixture(scope="module")
def sample_panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`flowlens panel` of the bundled sample, unsuppressed (an analysis panel)."""
    out = tmp_path_factory.mktemp("sample") / "panel.parquet"
    assert main(["panel", SAMPLE, "--out", str(out), "--unsafe"]) == 0
    return out


@pytest.fixture(scope="module")
def synth_flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`flowlens synth`'s output folder: three part files and _truth/."""
    folder = tmp_path_factory.mktemp("synth")
    config = folder / "config.json"
    config.write_text(
        '{"n_corridors": 25, "start": "2019-01-01", "end": "2022-12-31", "n_random_crises": 0}'
    )
    flows = folder / "flows"
    args = ["synth", "--rows", "8k", "--chunk-rows", "3k", "--out", str(flows)]
    assert main([*args, "--config", str(config)]) == 0
    return flows


@pytest.fixture(scope="module")
def synth_panel(synth_flows: Path) -> Path:
    """`flowlens panel` of the generator's folder as it is, by channel."""
    out = synth_flows.parent / "panel.parquet"
    code = main(["panel", str(synth_flows), "--by", "channel", "--out", str(out), "--unsafe"])
    assert code == 0
    return out


def _clean_sample() -> pl.DataFrame:
    clean = fl.load_flows(SAMPLE).clean
    return clean.collect() if isinstance(clean, pl.LazyFrame) else clean


# --- graph ---------------------------------------------------------------------------


def test_graph_tables_match_a_hand_computation(sample_panel: Path, tmp_path: Path) -> None:
    out = tmp_path / "g"
    assert main(["graph", str(sample_panel), "--out", str(out), "--format", "csv"]) == 0
    concentration = pl.read_csv(out / "concentration.csv")
    exposure = pl.read_csv(out / "exposure.csv")
    # independently: the clean transfers summed per corridor, shares per receiving country
    per = (
        _clean_sample()
        .group_by(pl.col("origin").cast(pl.String), pl.col("destination").cast(pl.String))
        .agg(pl.col("amount_usd").sum())
        .with_columns(share=pl.col("amount_usd") / pl.col("amount_usd").sum().over("destination"))
    )
    hhi = per.group_by("destination").agg((pl.col("share") ** 2).sum().alias("expected"))
    joined = concentration.join(hhi, on="destination")
    assert joined.height == hhi.height
    assert (joined["hhi"] - joined["expected"]).abs().max() < 1e-9  # type: ignore[operator]
    usa_mex = exposure.filter(origin="USA", destination="MEX")
    expected = per.filter(origin="USA", destination="MEX")["share"].item()
    assert usa_mex["exposed_share"].item() == pytest.approx(expected, rel=1e-9)
    assert exposure["exposed_usd"].sum() == pytest.approx(per["amount_usd"].sum(), rel=1e-9)
    corridors = pl.read_csv(out / "corridors.csv")
    assert corridors.row(0, named=True)["origin"] == "USA"  # largest first
    assert corridors["share"].sum() == pytest.approx(1.0)


def test_graph_exposure_to_named_senders(sample_panel: Path, tmp_path: Path) -> None:
    out = tmp_path / "g"
    args = ["graph", str(sample_panel), "--out", str(out), "--origin", "USA"]
    assert main([*args, "--corridor", "ARE:IND"]) == 0
    exposure = pl.read_parquet(out / "exposure.parquet")
    assert set(exposure.columns) == {"destination", "inflow_usd", "exposed_usd", "exposed_share"}
    assert exposure.filter(destination="MEX")["exposed_share"].item() > 0.5


# --- surges --------------------------------------------------------------------------


def test_surges_file_is_what_detect_surges_returns(
    sample_panel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.parquet"
    diagnostics = tmp_path / "why.csv"
    args = ["surges", str(sample_panel), "--method", "rolling", "--out", str(out)]
    assert main([*args, "--diagnostics", str(diagnostics)]) == 0
    said = capsys.readouterr().out
    expected = fl.detect_surges(pl.read_parquet(sample_panel), method="rolling")
    written = pl.read_parquet(out)
    assert written.equals(expected.scored)
    assert pl.read_csv(diagnostics).height == expected.diagnostics.height
    n_flags = int(expected.scored["flag"].sum())
    assert f"{n_flags:,} surges flagged" in said
    assert "scored by rolling (threshold 3.5, window 12)" in said
    assert main([*args, "--force", "--flagged-only"]) == 0
    assert pl.read_parquet(out).height == n_flags


def test_surges_on_the_generators_panel(synth_panel: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert main(["surges", str(synth_panel), "--out", str(out), "--method", "seasonal"]) == 0
    scored = pl.read_csv(out, try_parse_dates=True)
    panel = pl.read_parquet(synth_panel)
    series = panel.select("origin", "destination", "flow_type", "channel").n_unique()
    assert scored.height == series * 48  # every series x every month of 2019-2022
    assert {"baseline", "score", "flag", "kind"} <= set(scored.columns)


def test_surges_reads_flows_and_a_csv_panel(tmp_path: Path) -> None:
    csv_panel = tmp_path / "panel.csv"
    assert main(["panel", SAMPLE, "--out", str(csv_panel), "--unsafe"]) == 0
    for source in (str(csv_panel), SAMPLE):  # a CSV panel, and the flows themselves
        out = tmp_path / f"s-{Path(source).stem}.parquet"
        code = main(["surges", source, "--out", str(out), "--method", "rolling", "--unsafe"])
        assert code == 0
        assert pl.read_parquet(out)["amount_usd"].sum() == pytest.approx(
            _clean_sample()["amount_usd"].sum(), rel=1e-9
        )


def test_a_suppressed_panel_is_said_to_hide_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    panel = tmp_path / "published.parquet"
    assert main(["panel", SAMPLE, "--out", str(panel)]) == 0  # suppressed by default
    capsys.readouterr()
    assert main(["surges", str(panel), "--out", str(tmp_path / "s.parquet")]) == 0
    err = capsys.readouterr().err
    withheld = int(pl.read_parquet(panel)["suppressed"].sum())
    assert f"{withheld:,} of 1,006 cells of the panel are withheld" in err
    assert "--unsafe" in err


# --- informal ------------------------------------------------------------------------


def test_informal_matches_the_python_api(sample_panel: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "informal"
    assert (
        main(["informal", str(sample_panel), "--scenario", str(scenario), "--out", str(out)]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "baseline.parquet",
        "by_destination.parquet",
        "by_scenario.parquet",
        "corridors.parquet",
        "summary.parquet",
    ]
    panel = pl.read_parquet(sample_panel)
    costs = panel.select("origin", "destination").unique().with_columns(cost_pct=pl.lit(5.0))
    from flowlens.informal import Split, Uniform

    expected = estimate_informal(
        panel,
        DeRiskingScenario(
            "US banks close MTO accounts",
            origin="USA",
            destination=["MEX", "PHL"],
            start="2024-01-01",
            ramp_days=0,
            withdrawn=Triangular(0.5, 0.6, 0.7),
            cost_increase_pp=1.0,
            cost_elasticity=Uniform(0.5, 1.0),
            split=Split(informal=0.6, other_formal=0.2, concentration=30.0),
        ),
        baseline=baseline_from_costs(panel, costs),
        draws=200,
        seed=4,
    )
    summary = pl.read_parquet(out / "summary.parquet")
    assert summary.equals(expected.summary)
    row = summary.row(0, named=True)
    total = row["formal_mean"] + row["informal_mean"] + row["lost_mean"]
    assert total == pytest.approx(row["total_mean"], rel=1e-9)  # the flow is accounted for
    # the command line's draws and seed win over the file's
    again = tmp_path / "again"
    args = ["informal", str(sample_panel), "--scenario", str(scenario), "--out", str(again)]
    assert main([*args, "--draws", "50", "--seed", "1", "--format", "csv"]) == 0
    assert (again / "summary.csv").is_file()


def test_informal_on_the_generators_panel_with_an_observed_baseline(
    synth_panel: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'draws = 100\n[baseline]\nmethod = "observed"\nbefore = 2021-01-01\n'
        '[[scenario]]\nname = "all banks"\nstart = 2021-01-01\nwithdrawn = 0.5\n'
    )
    out = tmp_path / "inf"
    args = ["informal", str(synth_panel), "--scenario", str(scenario), "--out", str(out)]
    assert main(args) == 0
    baseline = pl.read_parquet(out / "baseline.parquet")
    assert set(baseline["method"]) == {"observed"}
    summary = pl.read_parquet(out / "summary.parquet").row(0, named=True)
    assert summary["informal_p5"] <= summary["informal_p50"] <= summary["informal_p95"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[scenario]]\nname = "x"\norign = "USA"\n', "did you mean 'origin'"),
        ('[[scenario]]\norigin = "USA"\n', "has no name"),
        ('[[scenario]]\nname = "x"\nwithdrawn = { beta = [1, 2] }\n', "not a number or a prior"),
        ('[[scenario]]\nname = "x"\nwithdrawn = 1.5\n', "withdrawn"),
        ("[[scenario]\n", "not valid TOML"),
        ('[baseline]\nmethod = "guess"\n', "choose one of"),
        ('[[scenario]]\nname = "x"\norigin = "ZZZ"\n', "ZZZ"),
    ],
)
def test_a_bad_scenario_file_exits_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(text)
    args = ["informal", "no-such-panel.parquet", "--scenario", str(scenario)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowlens: error: ") and err.count("\n") == 1
    assert said in err
    assert not (tmp_path / "out").exists()


def test_informal_without_a_cost_says_how_to_give_one(
    sample_panel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[scenario]]\nname = "x"\norigin = "USA"\n')
    args = ["informal", str(sample_panel), "--scenario", str(scenario)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "cost_pct = 7.0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing left behind


# --- outputs, versions, hints --------------------------------------------------------


@pytest.mark.parametrize("command", ["surges", "panel"])
def test_an_unknown_output_format_is_refused_before_reading(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the input does not exist: an error about the output shows it was checked first
    assert main([command, str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_existing_outputs_are_refused_without_force(
    sample_panel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g"
    assert main(["graph", str(sample_panel), "--out", str(out)]) == 0
    before = (out / "exposure.parquet").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["graph", str(sample_panel), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists already" in err and "pass --force" in err
    assert (out / "exposure.parquet").stat().st_mtime_ns == before
    assert main(["graph", str(sample_panel), "--out", str(out), "--force"]) == 0
    assert main(["surges", str(sample_panel), "--out", str(sample_panel), "--force"]) == 2
    assert "it is an input of this run" in capsys.readouterr().err


def test_version_is_printed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowlens", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"flowlens {fl.__version__}"


def test_a_missing_column_hint_uses_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine.csv"
    pl.read_csv(SAMPLE, infer_schema=False).rename({"origin": "orign"}).write_csv(mine)
    assert main(["panel", str(mine), "--out", str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err
    assert "--map orign=origin" in err and "columns=" not in err
    args = ["panel", str(mine), "--out", str(tmp_path / "p.parquet"), "--unsafe"]
    assert main([*args, "--map", "orign=origin"]) == 0


def test_validate_of_a_glob_names_its_outputs_from_the_matches(
    synth_flows: Path, tmp_path: Path
) -> None:
    assert sorted(p.name for p in synth_flows.glob("*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    assert main(["validate", str(synth_flows / "*.parquet"), "--out-dir", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["part.clean.parquet", "part.rejects.csv"]  # never a literal *
    assert pl.read_parquet(tmp_path / "part.clean.parquet").height == 8_000


def test_progress_says_each_stage(
    sample_panel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.parquet"
    assert main(["surges", str(sample_panel), "--out", str(out), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "flowlens: scoring the panel's series (forecast): done in" in err
