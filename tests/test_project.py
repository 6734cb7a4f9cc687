"""The repository keeps its promises: generated files are current, and CI runs what the README says."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_files_are_current():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "regenerate.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ci_runs_the_readme_test_command_exactly():
    readme = (ROOT / "README.md").read_text()
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    command = ci_lines[-1]
    assert "pytest" in command
    assert f"\n{command}\n" in readme


def test_python_m_vbscli_runs_the_same_program():
    proc = subprocess.run([sys.executable, "-m", "vbscli", "--version"], capture_output=True, text=True, cwd=ROOT)
    from vbscli import __version__

    assert (proc.returncode, proc.stdout) == (0, f"vbs {__version__}\n")


def test_code_is_linted_and_formatted():
    for command in (["check"], ["format", "--check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "vbscli", "tests", "tools", "benchmarks"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def imports_of_the_package() -> dict[str, set[str]]:
    """Module -> the vbscli modules it imports, anywhere in it (a function's import counts too: it is
    only deferred). `from vbscli.cli import runtime` names the module vbscli.cli.runtime."""
    import ast

    modules = {}
    for path in (ROOT / "vbscli").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    found.add(target if target in modules else base)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_import_cycles():
    graph = imports_of_the_package()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not cycles, cycles
    assert "vbscli.cli" in graph["vbscli.__main__"]  # the check sees deferred imports
