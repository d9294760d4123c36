"""Packaging promises: a light import, typed, documented public API."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

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


PUBLIC_MODULES = (
    "flowlens",
    "flowlens.errors",
    "flowlens.freq",
    "flowlens.schema",
    "flowlens.reference",
    "flowlens.reference.countries",
    "flowlens.reference.currencies",
    "flowlens.reference.incomes",
    "flowlens.engines",
    "flowlens.export",
    "flowlens.graph",
    "flowlens.informal",
    "flowlens.privacy",
    "flowlens.surge",
    "flowlens.synth",
    "flowlens.calendar",
    "flowlens.orgs",
    "flowlens.plot",
    "flowlens.brief",
)
"""Every public module (a subpackage or module whose name has no leading underscore) that
exports names; their ``__all__`` is the public API (docs/api.md)."""


def test_every_public_module_is_listed() -> None:
    package = Path(fl.__file__).parent
    found = {"flowlens"}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if any(p.startswith("_") and p != "__init__" for p in parts) or "__main__" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = importlib.import_module(name)
        if getattr(module, "__all__", None):
            found.add(name)
    helpers = {"flowlens.io", "flowlens.validate", "flowlens.panel", "flowlens.normalise"}
    helpers |= {"flowlens.official", "flowlens.bilateral", "flowlens.sample", "flowlens.cli"}
    # the readers and reference tables re-exported at the top (flowlens.__all__)
    helpers |= {"flowlens.official_series", "flowlens.wdi", "flowlens.recognise"}
    assert found - helpers - set(PUBLIC_MODULES) == set()


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_name_of_every_public_module_has_examples(module_name: str) -> None:
    pytest.importorskip("matplotlib")
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # constants are documented in the module's docstring
        doc = inspect.getdoc(obj) or ""
        if "Examples" not in doc:
            missing.append(name)
    assert missing == []


def test_errors_share_one_base_that_is_a_value_error() -> None:
    for name in ("InputFormatError", "MissingColumnError", "ReferenceDataError", "SchemaError"):
        assert issubclass(getattr(fl, name), fl.FlowlensError)
    assert issubclass(fl.FlowlensError, ValueError)


def test_the_api_page_is_up_to_date() -> None:
    """docs/api.md is generated from the modules' __all__ and signatures."""
    pytest.importorskip("matplotlib")
    script = Path(__file__).resolve().parents[1] / "scripts" / "api_table.py"
    spec = importlib.util.spec_from_file_location("api_table", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = Path(__file__).resolve().parents[1] / "docs" / "api.md"
    assert page.read_text(encoding="utf-8") == module.render(), (
        "docs/api.md is stale: run python scripts/api_table.py"
    )
