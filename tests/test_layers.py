"""The architecture, checked: layers without cycles, imports only downward, short functions.

Imports are read from the source (module level and inside functions alike), so a
function-level import that goes up a layer fails here as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "flowlens"

# Bottom up (DESIGN.md). A module may import its own layer (without a cycle) or any below.
LAYERS: dict[str, int] = {
    "flowlens.errors": 0,
    "flowlens.reference": 1,
    "flowlens.schema": 2,
    "flowlens.freq": 3,
    "flowlens._frames": 3,
    "flowlens._atomic": 3,
    "flowlens._display": 3,
    "flowlens._rolling_kernel": 3,
    "flowlens._jit": 3,
    "flowlens._senders_kernel": 3,
    "flowlens.calendar": 3,
    "flowlens._panelspec": 4,
    "flowlens.normalise": 4,
    "flowlens.io": 5,
    "flowlens._checks": 6,
    "flowlens.engines": 7,
    "flowlens.validate": 8,
    "flowlens.panel": 8,
    "flowlens.official": 9,
    "flowlens.official_series": 9,
    "flowlens.wdi": 9,
    "flowlens.recognise": 10,
    "flowlens.graph": 10,
    "flowlens.bilateral": 10,
    "flowlens.orgs": 10,
    "flowlens.surge": 10,
    "flowlens.informal": 10,
    "flowlens.synth": 10,
    "flowlens.privacy": 11,
    "flowlens.export": 12,
    "flowlens.sample": 12,
    "flowlens.plot": 13,
    "flowlens.brief": 13,
    "flowlens.cli": 13,
    "flowlens.__main__": 14,
    "flowlens": 15,
}

MAX_FUNCTION_LINES = 80
"""Longer functions carry a comment ``# long: <reason>`` on their ``def`` line."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int:
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if not best:
        pytest.fail(f"{module} has no layer: add it to LAYERS in tests/test_layers.py")
    return LAYERS[best]


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                # `from flowlens import schema` imports the module flowlens.schema, not the
                # package's __init__; `from flowlens import load_flows` imports the package
                targets = [
                    f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                    for alias in node.names
                ]
            else:
                continue
            for name in targets:
                target = name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges[module].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    edges = _imports(_modules())
    # the package __init__ re-exports everything; it is the top, not part of a cycle
    edges = {m: {t for t in ts if t != "flowlens"} for m, ts in edges.items()}
    assert _cycles(edges) == []


def test_imports_only_go_down() -> None:
    modules = _modules()
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in _imports(modules).items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_the_cycle_check_sees_function_level_imports(tmp_path: Path) -> None:
    edges = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert _cycles(edges) == [["a", "b"]]
    code = "def f():\n    from flowlens.cli import main\n"
    tree = ast.parse(code)
    assert any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))


def test_functions_are_short_or_say_why() -> None:
    long_ones = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                length -= (first.end_lineno or first.lineno) - first.lineno + 1
            header = " ".join(lines[node.lineno - 1 : node.body[0].lineno - 1])
            if length > MAX_FUNCTION_LINES and "# long:" not in header:
                long_ones.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length})")
    assert long_ones == []
