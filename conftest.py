"""Collection rules for every test path (tests/, the doctests of src/ and docs/).

Doctests that import an engine (``import dask...``, ``from pyspark...``) are engine
tests: marked ``slow`` and with their engine's marker, like the engine tests in
tests/, and skipped where the engine is not installed (the test extra leaves Spark and
Dask out; the dev extra, which CI installs for the slow run, has them).

A run spread over workers first compiles the numba kernels once, in two processes
(tests/_warm_kernels.py), so that the workers load them from numba's cache instead of
each compiling every kernel it meets (on a fresh checkout: about half a minute of each
worker's time, the same work twice).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

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


def _kernels_cached(package: Path) -> bool:
    """Every kernel module has a numba cache index written since its source last changed."""
    for source in package.rglob("*_kernel.py"):
        indexes = list((source.parent / "__pycache__").glob(f"{source.stem}.*.nbi"))
        if not indexes or max(i.stat().st_mtime for i in indexes) < source.stat().st_mtime:
            return False
    return True


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the kernels before the workers start (the controller of a distributed run only)."""
    config = session.config
    workers = getattr(config.option, "numprocesses", None) or 0  # xdist has resolved "auto"
    if hasattr(config, "workerinput") or not isinstance(workers, int) or workers < 2:
        return
    root = Path(__file__).resolve().parent
    script = root / "tests" / "_warm_kernels.py"
    if not script.exists() or _kernels_cached(root / "src" / "flowlens"):
        return
    groups = [
        subprocess.Popen(  # noqa: S603 - our own script, with this interpreter
            [sys.executable, str(script), group],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for group in ("surge", "others")
    ]
    for process in groups:
        try:
            process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
