"""Shared fixtures: real data paths and the input kinds every public function must accept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import settings

# CI replays the same examples every run (a landing must not hinge on a new random draw);
# developers' runs explore new ones, and long fuzzing runs raise the example counts
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"

SLOW_TESTS = (
    "tests/test_benchmark_suite.py::test_the_suite_runs_small",
    "tests/test_notebooks.py::test_notebook_runs[05_scale]",
    "tests/test_informal_calibration.py::test_intervals_cover_the_generators_informal_flow",
)
"""Heavy tests outside the default run (``pytest -m slow`` runs them; CI runs both): the
benchmark suite's smoke run, the scale notebook, the calibration of the informal intervals
on 3M synthetic rows, and every Spark and Dask test (a JVM, a scheduler)."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the heavy tests ``slow`` before ``-m 'not slow'`` deselects them."""
    for item in items:
        engine = item.get_closest_marker("spark") or item.get_closest_marker("dask")
        if engine or item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)


INPUT_KINDS = ("eager", "lazy", "arrow")


class ArrowStream:
    """A table seen only through the Arrow PyCapsule stream interface, as a DuckDB
    relation or a nanoarrow stream offers it."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


def as_kind(frame: pl.DataFrame, kind: str) -> Any:
    """The same table as a polars DataFrame ("eager" or "polars"), a LazyFrame, a pyarrow
    Table ("arrow" or "pyarrow"), a pandas DataFrame, or a bare Arrow stream ("capsule")."""
    if kind in ("eager", "polars"):
        return frame
    if kind == "lazy":
        return frame.lazy()
    if kind in ("arrow", "pyarrow"):
        return frame.to_arrow()
    if kind == "pandas":
        return frame.to_pandas()
    if kind == "capsule":
        return ArrowStream(frame.to_arrow())
    raise ValueError(kind)


def collected(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


@pytest.fixture(autouse=True)
def _own_publication_log(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test keeps its own record of published panels (the CLI's linked-table warning),
    never the user's."""
    monkeypatch.setenv("FLOWLENS_STATE_DIR", str(tmp_path_factory.mktemp("flowlens-state")))


@pytest.fixture
def real() -> Path:
    return REAL


def raw_flows(**overrides: list[Any]) -> pl.DataFrame:
    """A valid two-row raw table; pass column=[values] to override or add columns."""
    base: dict[str, list[Any]] = {
        "date": ["2024-01-15", "2024-01-16"],
        "origin": ["USA", "GBR"],
        "destination": ["MEX", "PAK"],
        "flow_type": ["remittance", "remittance"],
        "amount": ["100", "200"],
        "currency": ["USD", "USD"],
    }
    base.update(overrides)
    n = max(len(v) for v in base.values())
    for key, values in base.items():
        if len(values) != n:
            base[key] = (values * n)[:n]
    return pl.DataFrame(base)
