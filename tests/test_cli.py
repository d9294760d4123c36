"""The flowlens command: demo, validate, panel, and exit code 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import flowlens as fl
from flowlens.cli import main


def test_demo_prints_a_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "rows in: 4,013   clean: 4,001   rejected: 12" in out
    assert "| USA    | MEX" in out
    assert "Totals by flow type" in out
    assert "equals the clean total" in out


def test_python_dash_m_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowlens", "demo", "--top", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "flowlens demo" in done.stdout


def test_validate_writes_clean_and_rejects(tmp_path: Path) -> None:
    assert main(["validate", str(fl.sample_path("flows")), "--out-dir", str(tmp_path)]) == 0
    clean = pl.read_parquet(tmp_path / "flows_sample.clean.parquet")
    rejects = pl.read_csv(tmp_path / "flows_sample.rejects.csv")
    assert clean.height == 4001
    assert rejects.height == 12


def test_panel_writes_the_panel(tmp_path: Path) -> None:
    out = tmp_path / "panel.parquet"
    code = main(
        [
            "panel",
            str(fl.sample_path("flows")),
            "--freq",
            "quarter",
            "--stats",
            "sum,count,median",
            "--out",
            str(out),
            "--unsafe",  # the sample has sender ids: without this, small cells are withheld
        ]
    )
    assert code == 0
    panel = pl.read_parquet(out)
    assert {"amount_usd", "n_transfers", "amount_usd_median"} <= set(panel.columns)
    assert panel["n_transfers"].sum() == 4001


def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,origin\n2024-01-01,USA\n")
    assert main(["validate", str(bad), "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowlens: error: required column 'destination' is missing")
    assert err.count("\n") == 1
    assert main(["panel", str(tmp_path / "none.csv"), "--out", str(tmp_path / "p.parquet")]) == 2
    assert (
        main(
            [
                "panel",
                str(fl.sample_path("flows")),
                "--freq",
                "fortnight",
                "--out",
                str(tmp_path / "p.csv"),
            ]
        )
        == 2
    )


def test_synth_writes_parts_and_truth_and_summarises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        '{"n_corridors": 30, "start": "2022-01-01", "end": "2022-06-30", "n_random_crises": 0}'
    )
    out = tmp_path / "synth"
    code = main(
        [
            "synth",
            "--rows",
            "20k",
            "--out",
            str(out),
            "--seed",
            "5",
            "--config",
            str(config),
            "--chunk-rows",
            "6k",
            "--progress",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "rows: 20,000 written" in captured.out
    assert "corridors: 31" in captured.out  # 30 plus the de-risked USA -> SOM corridor
    assert "synth: 100%" in captured.err and "20.0k/20.0k" in captured.err  # the bar
    assert len(list(out.glob("part-*.parquet"))) == 4
    assert pl.read_parquet(out / "_truth" / "panel.parquet")["n_transfers"].sum() == 20_000


def test_synth_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert main(["synth", "--rows", "ten", "--out", str(tmp_path / "x")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": 1}')
    assert main(["synth", "--rows", "10", "--out", str(tmp_path / "y"), "--config", str(bad)]) == 2


def test_panel_suppression_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = str(fl.sample_path("flows"))
    out = tmp_path / "p.csv"
    args = ["panel", sample, "--freq", "year", "--out", str(out)]
    assert main([*args, "--p-rule", "none", "--protection", "0.10,1.0"]) == 0
    said = capsys.readouterr().out
    assert "p% rule none, protection 0.10,1.0" in said
    strict = pl.read_csv(out)
    assert main([*args, "--force"]) == 0  # the default protection withholds less
    capsys.readouterr()
    assert pl.read_csv(out)["amount_usd"].null_count() <= strict["amount_usd"].null_count()
    for bad in (["--protection", "x"], ["--p-rule", "lots"]):
        assert main([*args, "--force", *bad]) == 2
        assert "takes a share" in capsys.readouterr().err
