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
    assert [p.stem[:2] for p in SCRIPTS] == ["01", "02", "03", "04", "05", "06"]


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


@pytest.mark.slow  # ~20 s together; the default run checks the committed, executed notebooks
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


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_committed_notebook_shows_its_outputs_and_charts(script: Path) -> None:
    """A reader on GitHub sees the notebook as executed: every code cell that shows
    something has its output, and the charts are images."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    with_output = [c for c in code if c.get("outputs")]
    images = [o for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(with_output) >= len(code) // 2, (
        f"{script.stem}.ipynb has outputs in {len(with_output)} of {len(code)} code cells: "
        "run python scripts/execute_notebooks.py"
    )
    charts = script.read_text(encoding="utf-8").count("plot.")
    assert len(images) >= min(charts, 1), f"{script.stem}.ipynb shows no chart"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{script.stem}.ipynb was committed with an error output"


@pytest.mark.slow
def test_committed_notebook_outputs_are_current() -> None:
    """Executed again in a real kernel, every notebook shows what its committed file shows."""
    pytest.importorskip("nbclient")
    done = subprocess.run(
        [sys.executable, str(NOTEBOOKS.parent / "scripts" / "execute_notebooks.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
