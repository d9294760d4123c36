"""The worked examples in docs/ run, and say what the docs quote."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def test_us_somalia_example_matches_the_docs() -> None:
    spec = importlib.util.spec_from_file_location("example", EXAMPLES / "informal_us_somalia.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    tables = example.main()
    assert tables["baseline"]["informal_ratio"].item() == pytest.approx(0.484, abs=5e-4)
    summary = tables["summary"].row(0, named=True)
    # docs/informal.md quotes these, in USD millions
    assert summary["informal_p50"] / 1e6 == pytest.approx(175.1, abs=0.1)
    assert summary["lost_p50"] / 1e6 == pytest.approx(26.3, abs=0.1)
    assert summary["formal_p50"] / 1e6 == pytest.approx(117.8, abs=0.1)
    tornado = tables["tornado"]
    assert tornado["parameter"].to_list()[:2] == ["baseline_ratio", "split_informal"]
