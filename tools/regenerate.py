#!/usr/bin/env python3
"""Regenerate the files that are derived from the app: shell completions and the README's reference.

python tools/regenerate.py          # rewrite them
python tools/regenerate.py --check  # exit 1 if any is out of date (the test suite runs this)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

README = ROOT / "README.md"
COMPLETIONS = ROOT / "completions"
MARKERS = {
    "reference": ("<!-- BEGIN GENERATED: reference -->", "<!-- END GENERATED: reference -->"),
    "exit-codes": ("<!-- BEGIN GENERATED: exit-codes -->", "<!-- END GENERATED: exit-codes -->"),
}


COMPLETION_FILES = {"bash": "vbs.bash", "zsh": "_vbs", "fish": "vbs.fish"}


def completion_scripts() -> dict[Path, str]:
    from vbscli.cli import command
    from vbscli.cli.completion import script

    return {COMPLETIONS / filename: script(shell, command()) for shell, filename in COMPLETION_FILES.items()}


def exit_code_table() -> str:
    from vbscli.exit_codes import ExitCode

    rows = ["| Code | Name | Meaning |", "|---:|---|---|"]
    for code in ExitCode:
        rows.append(f"| {code.value} | `{code.name}` | {_docs()[code.name]} |")
    return "\n".join(rows)


def _docs() -> dict[str, str]:
    """The docstrings written under each member in vbscli/exit_codes.py."""
    import ast

    source = (ROOT / "vbscli" / "exit_codes.py").read_text()
    body = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)).body
    docs: dict[str, str] = {}
    for node, after in zip(body, body[1:], strict=False):
        if isinstance(node, ast.Assign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[node.targets[0].id] = " ".join(str(after.value.value).split())  # type: ignore[attr-defined]
    return docs


def reference() -> str:
    import typer

    from vbscli.cli import app

    root = typer.main.get_command(app)
    out: list[str] = []

    def walk(command, path: list[str]) -> None:
        import typer

        name = " ".join(path)
        sub = getattr(command, "commands", None)
        ctx = typer.Context(command, info_name=path[-1])
        if sub is None:
            out.append(f"#### `{name}`\n")
            out.append((command.help or "").strip() + "\n")
            out.append("```text")
            out.append(" ".join([name, *command.collect_usage_pieces(ctx)]))
            out.append("```\n")
            out.append("| Option | Description |")
            out.append("|---|---|")
            for param in command.params:
                if getattr(param, "rich_help_panel", None) == "Global options" or param.name == "help":
                    continue
                record = param.get_help_record(ctx)
                if record:
                    opts, text = record
                    out.append(f"| `{_cell(opts)}` | {_cell(text)} |")
            out.append("")
            return
        for child_name in command.list_commands(ctx):  # in the order help lists them
            walk(sub[child_name], [*path, child_name])

    walk(root, ["vbs"])
    ctx = typer.Context(root, info_name="vbs")
    out.append("#### Global options\n")
    out.append(
        "Accepted before or after the command name (`vbs -o json backup create ...` or "
        "`vbs backup create ... -o json`). `vbs emulator` and `vbs completion`, which talk to no service, "
        "take only `--output`, `--field`, `--wide` and `--debug` (`vbs completion` only `-o table`).\n"
    )
    out.append("| Option | Description |")
    out.append("|---|---|")
    for param in root.params:
        if getattr(param, "rich_help_panel", None) == "Global options":
            opts, text = param.get_help_record(ctx)
            out.append(f"| `{_cell(opts)}` | {_cell(text)} |")
    return "\n".join(out).rstrip("\n")


def _cell(text: str) -> str:
    """Escape what would end a Markdown table cell."""
    return text.replace("|", "\\|")


def readme_text(current: str) -> str:
    text = current
    for key, produce in (("reference", reference), ("exit-codes", exit_code_table)):
        begin, end = MARKERS[key]
        start, stop = text.index(begin) + len(begin), text.index(end)
        text = text[:start] + "\n" + produce() + "\n" + text[stop:]
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift instead of rewriting")
    args = parser.parse_args()
    wanted = dict(completion_scripts())
    wanted[README] = readme_text(README.read_text())
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run: python tools/regenerate.py)")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
