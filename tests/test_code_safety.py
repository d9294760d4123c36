"""No pickle, eval or exec in flowlens' own code (ruff's S rules, and this walk of the syntax)."""

from __future__ import annotations

import ast
from pathlib import Path

import flowlens

FORBIDDEN_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


def test_no_pickle_eval_or_exec() -> None:
    root = Path(flowlens.__file__).parent
    found = []
    files = sorted(root.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names = {node.func.id} & FORBIDDEN_CALLS
            elif isinstance(node, ast.keyword) and node.arg == "shell":
                names = {"shell="}
            else:
                continue
            bad = names & (FORBIDDEN_MODULES | FORBIDDEN_CALLS | {"shell="})
            found += [f"{path.relative_to(root)}:{node.lineno}: {b}" for b in bad]  # type: ignore[attr-defined]
    assert found == []
