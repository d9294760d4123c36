"""Execute the notebooks and write their .ipynb files with outputs (charts included).

The percent scripts in notebooks/ are the source; each is executed in a real Jupyter
kernel from the notebooks folder (as Jupyter runs it) and written to its .ipynb pair
with every output, so a reader on GitHub sees the tables and charts. Outputs are kept
deterministic: no execution counts or timings, and charts rendered by flowlens' own
figure class.

    python scripts/execute_notebooks.py            # all notebooks
    python scripts/execute_notebooks.py 02 04      # those whose names start so
    python scripts/execute_notebooks.py --check    # exit 1 if a committed output is stale

``--check`` compares what a reader sees (each cell's text outputs, and which cells
show images) with the committed file; image bytes may differ between matplotlib and
FreeType builds, so they are not compared.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TIMEOUT = 600  # seconds per cell: the scale notebook streams a few million rows


def executed(script: Path) -> Any:
    """The notebook of ``script``, executed in a fresh python3 kernel, outputs cleaned."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(script)
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        # no inline-backend configuration: charts must display on their own
    )
    client.execute()
    for number, cell in enumerate(notebook.cells):
        # ids from the position and source, not random: executing again changes nothing
        digest = hashlib.sha1(f"{number}:{cell.source}".encode(), usedforsecurity=False)
        cell.id = digest.hexdigest()[:12]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = None
    return notebook


_VOLATILE = (
    (re.compile(re.escape(tempfile.gettempdir()) + r"/[\w.-]+"), "<temporary folder>"),
    (re.compile(r"seconds=[\d.]+"), "seconds=<time>"),
    (re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?(?: s\b| seconds\b|s\b)"), "<time>"),  # "7.6 s"
    (re.compile(r"[\d,]+ rows/s"), "<rate>"),
)
"""What differs from run to run in the scale notebook (timings, temporary folders): masked
when comparing, so a stale output is a changed number, not a faster machine."""


def _masked(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def seen(notebook: Any) -> list[tuple[int, list[str], int]]:
    """Per code cell: its text outputs (timings and temporary folders masked) and how many
    images it shows."""
    view = []
    for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        texts, images = [], 0
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(_masked(str(output.get("text", ""))))
            data = output.get("data", {})
            if "text/plain" in data:
                texts.append(_masked(str(data["text/plain"])))
            images += any(key.startswith("image/") for key in data)
        view.append((number, texts, images))
    return view


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("prefixes", nargs="*", help="notebook name prefixes, e.g. 01 02")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    import nbformat

    scripts = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if args.prefixes:
        scripts = [s for s in scripts if s.name.startswith(tuple(args.prefixes))]
    stale = []
    for script in scripts:
        notebook = executed(script)
        paired = script.with_suffix(".ipynb")
        if args.check:
            committed = nbformat.read(paired, as_version=4)
            if seen(committed) != seen(notebook):
                stale.append(paired.name)
            print(f"{paired.name}: {'stale' if paired.name in stale else 'current'}")
            continue
        nbformat.write(notebook, paired)
        n_images = sum(images for _, _, images in seen(notebook))
        print(f"{paired.name}: written, {n_images} chart(s)")
    if stale:
        print(f"stale: {stale}; run python scripts/execute_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
