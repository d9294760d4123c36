"""Packaging promises: a light import, typed, documented public API."""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib import resources

import flowlens as fl


def test_import_does_not_pull_heavy_modules() -> None:
    code = (
        "import sys, flowlens; "
        "heavy = [m for m in ('networkx', 'scipy', 'matplotlib', 'altair', 'pandas', 'duckdb') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_ships() -> None:
    assert resources.files("flowlens").joinpath("py.typed").is_file()


def test_every_public_name_has_a_docstring_with_examples() -> None:
    missing = []
    for name in fl.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(fl, name)
        if inspect.ismodule(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        if "Examples" not in doc:
            missing.append(name)
    assert missing == []


def test_errors_share_one_base_that_is_a_value_error() -> None:
    for name in ("InputFormatError", "MissingColumnError", "ReferenceDataError", "SchemaError"):
        assert issubclass(getattr(fl, name), fl.FlowlensError)
    assert issubclass(fl.FlowlensError, ValueError)
