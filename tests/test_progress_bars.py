"""Progress bars: tqdm is imported only when a bar is asked for, and its notebook widget
only where ipywidgets can draw it (else tqdm.auto warns "IProgress not found")."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_RUN_ALL = textwrap.dedent(
    """
    import datetime as dt, sys, tempfile, warnings
    warnings.simplefilter("error")
    import polars as pl
    import flowlens as fl
    from flowlens.informal import DeRiskingScenario, baseline_from_costs, estimate_informal
    from flowlens.synth import generate_to_parquet

    folder = tempfile.mkdtemp()
    generate_to_parquet(folder + "/s", 2_000, seed=1, progress=PROGRESS)
    report = fl.load_flows(folder + "/s")
    medians = fl.corridor_panel(report, stats=("sum", "median"), progress=PROGRESS)
    medians.collect()  # lazy: the spill (and its bar) runs here
    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 6, 1), "1mo", eager=True)
    panel = pl.DataFrame({"period": months, "origin": "USA", "destination": "SOM",
                          "amount_usd": 18e6})
    base = baseline_from_costs(panel, pl.DataFrame({"origin": ["USA"],
        "destination": ["SOM"], "cost_pct": [7.0]}))
    estimate_informal(panel, DeRiskingScenario("c", origin="USA"), baseline=base, draws=20,
                      progress=PROGRESS)
    print(sorted(m for m in sys.modules if m == "tqdm" or m.startswith("tqdm.")))
    """
)


def _run(progress: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN_ALL.replace("PROGRESS", str(progress))],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow  # a fresh interpreter importing flowlens: about 4 s
def test_no_progress_imports_no_tqdm_and_warns_nothing() -> None:
    done = _run(progress=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert done.stderr == ""


@pytest.mark.slow  # a fresh interpreter importing flowlens: about 4 s
def test_progress_without_ipywidgets_uses_the_plain_bar() -> None:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - the dev environment has no ipywidgets
        pytest.skip("ipywidgets is installed: tqdm.auto may draw a widget")
    done = _run(progress=True)
    assert done.returncode == 0, done.stderr  # warnings are errors in the child
    assert "tqdm.auto" not in done.stdout and "tqdm.notebook" not in done.stdout
    for bar in ("synth: 100%", "panel medians: 100%", "20 draws: 100%"):  # the bars were drawn
        assert bar in done.stderr
