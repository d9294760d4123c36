"""Collection rules for every test path (tests/, the doctests of src/ and docs/).

Doctests that import an engine (``import dask...``, ``from pyspark...``) are engine
tests: marked ``slow`` and with their engine's marker, like the engine tests in
tests/, and skipped where the engine is not installed (the test extra leaves Spark and
Dask out; the dev extra, which CI installs for the slow run, has them).
"""

from __future__ import annotations

import importlib.util
import re

import pytest

_ENGINE_MODULES = {"spark": "pyspark", "dask": "dask"}


def _doctest_engines(item: pytest.Item) -> list[str]:
    """The engines a doctest item imports."""
    test = getattr(item, "dtest", None)
    if test is None:
        return []
    source = "\n".join(example.source for example in test.examples)
    return [
        engine
        for engine, module in _ENGINE_MODULES.items()
        if re.search(rf"^\s*(import|from) {module}\b", source, flags=re.MULTILINE)
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for engine in _doctest_engines(item):
            item.add_marker(getattr(pytest.mark, engine))
            item.add_marker(pytest.mark.slow)
            if importlib.util.find_spec(_ENGINE_MODULES[engine]) is None:
                item.add_marker(pytest.mark.skip(reason=f"needs {_ENGINE_MODULES[engine]}"))
