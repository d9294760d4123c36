"""The notebooks run: each percent script executes from the repository root (as CI does)
and from the notebooks folder (as Jupyter does), and its .ipynb pair holds the same cells."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCRIPTS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks() -> None:
    assert [p.stem[:2] for p in SCRIPTS] == ["01", "02", "03", "04", "05"]


def _run(script: Path, cwd: Path) -> None:
    pytest.importorskip("matplotlib")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{script.name} from {cwd}:\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_runs(script: Path) -> None:
    """From the notebooks folder, as Jupyter runs it."""
    _run(script, NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_runs_from_the_repository_root(script: Path) -> None:
    """From the repository root, as CI and `python notebooks/NN.py` run it."""
    _run(script, NOTEBOOKS.parent)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_pair_is_in_sync(script: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    paired = script.with_suffix(".ipynb")
    assert paired.exists(), f"run: jupytext --to ipynb {script.name}"
    from_script = jupytext.read(script)
    from_notebook = jupytext.read(paired)
    sources = [(c.cell_type, c.source) for c in from_script.cells]
    assert sources == [(c.cell_type, c.source) for c in from_notebook.cells], (
        f"{paired.name} differs from {script.name}: run jupytext --sync {script.name}"
    )
