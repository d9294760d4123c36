"""The benchmark suite runs end to end at a small size and prints its table (never timed).

The published numbers come from ``python benchmarks/run.py --rows 10M,50M``; here the
suite only has to work: every stage runs next to its baseline, the two agree where
they compute the same thing, and the table is printed into the test log.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SUITE = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def suite() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_suite", SUITE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_suite_runs_small_and_prints_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("duckdb")
    run = suite()
    report = run.main(["--rows", "20k", "--smoke", "--repeat", "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + (tmp_path / "suite.md").read_text())
    stages = report["sizes"]["20000"]
    assert list(stages) == list(run.STAGES)
    for name, entry in stages.items():
        assert entry["seconds"] > 0 and entry["baseline_seconds"] > 0, name
        assert entry["results_agree"] in (None, True), name
    # the stages that compute the same numbers as DuckDB are checked against it
    assert all(stages[s]["results_agree"] for s in ("load_flows", "panel", "panel_median"))
    assert json.loads((tmp_path / "suite.json").read_text())["targets"] == report["targets"]
    assert {t["check"] for t in report["targets"]} >= {"import flowlens, over import polars"}
    assert "| 20,000 | panel_median |" in printed


def test_row_counts_read_like_people_write_them() -> None:
    run = suite()
    assert [run.parse_rows(t) for t in ("20k", "10M", "2.5m", "300")] == [
        20_000,
        10_000_000,
        2_500_000,
        300,
    ]
    with pytest.raises(Exception, match="not a row count"):
        run.parse_rows("ten million")
