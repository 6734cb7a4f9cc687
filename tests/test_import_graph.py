"""No import cycles in vbscli: the graph of every import statement - at module level or inside a
function, where a cycle hides until the function runs - read from the sources with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "vbscli"


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The vbscli modules `module` imports anywhere in its source (`from a import b` counts as
    importing a.b when that is a module, else a)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names += [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a cycle path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    known = modules()
    assert "vbscli.iam" in imported("vbscli.auth", known["vbscli.auth"], known)  # inside build_auth
    assert "vbscli.cli.runtime" in imported("vbscli.cli.delete", known["vbscli.cli.delete"], known)


def test_vbscli_has_no_import_cycles():
    known = modules()
    graph = {name: imported(name, path, known) for name, path in known.items()}
    assert cycles(graph) == []


def imports_of(path: Path) -> set[str]:
    """The top-level names of every module `path` imports, anywhere in its source."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


PRESENTATION = ("vbscli.cli", "vbscli.__main__", "vbscli.render", "vbscli.render_")
"""The layers that may speak to the terminal: the commands, the error handler and the renderers."""


def test_operations_and_the_client_import_neither_typer_nor_rich_nor_the_commands():
    for name, path in modules().items():
        if name == "vbscli.cli" or name.startswith(PRESENTATION):
            continue
        terminal = {m for m in imports_of(path) if m.split(".")[0] in ("typer", "rich", "click")}
        commands = {m for m in imports_of(path) if m == "vbscli.cli" or m.startswith("vbscli.cli.")}
        assert not terminal | commands, (name, terminal | commands)
