"""A notebook shows flowlens' charts: executed in a real IPython kernel (nbclient,
ipykernel), each chart cell has exactly one PNG output, with no ``%matplotlib
inline`` and no pyplot, and still exactly one once pyplot's inline backend is loaded."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

pytestmark = pytest.mark.slow  # a kernel's start and imports: 5-25 s on 2 busy cores

KERNEL = "flowlens-test-python"

CELLS = {
    "setup": (
        "import sys\n"
        "import flowlens as fl\n"
        "from flowlens import plot\n"
        "panel = fl.corridor_panel(fl.load_flows(fl.load_sample('flows')), freq='year')\n"
        "graph = fl.CorridorGraph.from_panel(panel)\n"
        "result = fl.detect_surges(fl.load_sample('mexico_monthly'), by=['destination', 'flow_type'])"
    ),
    "bars": "plot.top_corridors(graph, n=5)",
    "timeline": "plot.surge_timeline(result, events=['2020-03-01'])",
    "grid": (
        "fig, (left, right) = plot.subplots(1, 2, figsize=(11, 4))\n"
        "plot.top_corridors(graph, n=6, ax=left)\n"
        "plot.corridor_network(graph, n=10, ax=right)"
    ),
    "where": "import os\nprint(os.getcwd())",
    "pyplot_list": (
        "pyplot = sys.modules.get('matplotlib.pyplot')  # networkx's drawing imports it\n"
        "print(pyplot.get_fignums() if pyplot else [])"
    ),
    "after_pyplot": (
        "import matplotlib.pyplot as plt\n"
        "plt.close(plt.figure())  # loads the inline backend, which registers its own formatter\n"
        "plot.top_corridors(graph, n=3)"
    ),
}
CHARTS = ("bars", "timeline", "grid", "after_pyplot")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """The outputs of each cell, run in a kernel of this interpreter, in a temporary folder."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "flowlens tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(home))  # this interpreter's kernel, whatever is installed
        env.setenv("IPYTHONDIR", str(home / "ipython"))  # nothing written to the user's home
        env.delenv("MPLBACKEND", raising=False)  # the kernel's own default, as in Jupyter
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source in CELLS.values()]
        )
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(home)}},
        )
        client.execute()
    return {name: cell.outputs for name, cell in zip(CELLS, notebook.cells, strict=True)}


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_cell_shows_one_png(executed: dict[str, list[Any]], name: str) -> None:
    outputs = executed[name]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1, f"{name}: {[o.get('output_type') for o in outputs]}"
    png = images[0]["data"]["image/png"]  # base64 text in the notebook file
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5_000  # a drawn chart, not an empty canvas
    assert not [o for o in outputs if o.get("output_type") == "error"]


def test_no_chart_is_left_in_pyplots_list(executed: dict[str, list[Any]]) -> None:
    """A chart in pyplot's list would be shown again at the end of every cell."""
    (printed,) = executed["pyplot_list"]
    assert printed["text"].strip() == "[]"


def test_the_setup_cell_ran_cleanly(executed: dict[str, list[Any]]) -> None:
    """No error and no warning text (a stderr stream) from the imports and analyses."""
    kinds = [(o.get("output_type"), o.get("name")) for o in executed["setup"]]
    assert kinds == []


def test_the_kernel_ran_in_a_temporary_folder(executed: dict[str, list[Any]]) -> None:
    """Nothing the notebook writes lands in the repository."""
    (printed,) = executed["where"]
    folder = Path(printed["text"].strip()).resolve()
    assert folder.name.startswith("jupyter")
    assert Path(__file__).resolve().parents[1] not in folder.parents
