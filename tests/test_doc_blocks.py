"""Every ```python block of the README and of docs/*.md runs, as written, in a temporary folder.

The ``>>>`` examples run as doctests (pytest's ``--doctest-glob``); the blocks a reader
copies into a notebook are prose to pytest, so this test runs them: the blocks of one
page in order, in one namespace (as a reader runs them top to bottom), with the working
directory a fresh temporary folder in which ``data/`` is the repository's (so paths such
as ``data/samples/real/...`` read as they do from a clone) and everything written stays.

A block that needs an optional engine says so in the line before its fence::

    <!-- requires: pyspark -->

and runs with the slow tests when that package is installed.

The ```bash blocks of docs/*.md run too, with the slow tests (they generate data and
run the command line end to end), each page's blocks in one shell in a temporary
folder, with this environment's ``flowlens`` and ``python`` first on the PATH. The
README's one bash block is the install-and-test pair that CI itself runs. A block that
cannot run as a test says why in the line before its fence (``<!-- not run: ... -->``);
nothing else is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(
    r"(?:<!--\s*requires:\s*(?P<requires>[\w.,\s]+?)\s*-->\s*\n)?```python\n(?P<code>.*?)\n```",
    re.DOTALL,
)


_BASH = re.compile(
    r"(?:<!--\s*not run:\s*(?P<why>[^>]+?)\s*-->\s*\n)?```bash\n(?P<code>.*?)\n```", re.DOTALL
)


def bash_blocks(text: str) -> list[str]:
    """The ```bash blocks of a page that run (those not marked ``not run`` with a reason)."""
    return [m["code"] for m in _BASH.finditer(text) if not m["why"]]


def python_blocks(text: str) -> list[tuple[str, set[str]]]:
    """The ```python blocks of a page, each with the packages it says it requires."""
    return [
        (m["code"], {p.strip() for p in (m["requires"] or "").split(",") if p.strip()})
        for m in _FENCE.finditer(text)
        if not m["code"].lstrip().startswith(">>>")  # a doctest: --doctest-glob runs it
    ]


def _pages() -> list[object]:
    """Each page once with the blocks that need nothing optional; a page with blocks that
    need an engine again, whole, with the slow tests."""
    params: list[object] = []
    for page in PAGES:
        blocks = python_blocks(page.read_text(encoding="utf-8"))
        if not blocks:
            continue
        name = page.relative_to(ROOT).as_posix()
        params.append(pytest.param(page, False, id=name))
        if any(needs for _, needs in blocks):
            params.append(pytest.param(page, True, id=f"{name}[all]", marks=pytest.mark.slow))
    return params


def _untracked() -> set[str]:
    """Files in the repository that git neither tracks nor ignores."""
    if not (ROOT / ".git").exists():  # an sdist: nothing to compare with
        return set()
    listing = subprocess.run(
        ["git", "-C", os.fspath(ROOT), "ls-files", "--others", "--exclude-standard"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listing.stdout.split())


def test_the_fence_pattern_reads_requirements() -> None:
    page = (
        "text\n<!-- requires: pyspark -->\n```python\nx = 1\n```\n```python\ny = 2\n```\n"
        "```python\n>>> 1 + 1\n2\n```\n"
    )
    assert python_blocks(page) == [("x = 1", {"pyspark"}), ("y = 2", set())]


@pytest.mark.parametrize(("page", "with_engines"), _pages())
def test_page_blocks_run(
    page: Path, with_engines: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not with_engines:
        blocks = [(code, needs) for code, needs in blocks if not needs]
    for package in set().union(*(r for _, r in blocks)):
        pytest.importorskip(package)
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = _untracked()
    namespace: dict[str, object] = {"__name__": "__doc_block__"}
    with pl.Config():  # a page may change polars' display (fl.readable_tables()): not for others
        _run_blocks(page, blocks, namespace)
    assert _untracked() <= before, f"{page.name} wrote into the repository: {_untracked() - before}"


def _run_blocks(
    page: Path, blocks: list[tuple[str, set[str]]], namespace: dict[str, object]
) -> None:
    for number, (code, _) in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{page.name}, python block {number}", "exec"), namespace)  # noqa: S102 - the page's own examples
        except Exception as exc:
            pytest.fail(f"{page.name}, python block {number} failed: {type(exc).__name__}: {exc}")


BASH_PAGES = [p for p in sorted((ROOT / "docs").glob("*.md")) if bash_blocks(p.read_text("utf-8"))]


def test_the_bash_pattern_reads_reasons() -> None:
    page = "<!-- not run: ten minutes -->\n```bash\nfuzz\n```\n```bash\nflowlens --version\n```\n"
    assert bash_blocks(page) == ["flowlens --version"]


@pytest.mark.slow
@pytest.mark.parametrize("page", BASH_PAGES, ids=lambda p: p.name)
def test_page_shell_blocks_run(page: Path, tmp_path: Path) -> None:
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    script = "set -euo pipefail\n" + "\n".join(bash_blocks(page.read_text(encoding="utf-8")))
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        ["bash", "-c", script],  # noqa: S607 - the page's own commands
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"{page.name}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
