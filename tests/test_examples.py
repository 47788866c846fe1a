"""The README's and the docs' examples work: Python blocks run, every ``trialsim`` line parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sim.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(language: str) -> list[tuple[str, str]]:
    """(document name, code) of every fenced block of ``language``."""
    found = []
    for path in DOCUMENTS:
        for code in re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S):
            found.append((path.name, code))
    return found


def _command_lines() -> list[str]:
    """Every documented ``trialsim`` invocation (bash blocks and bare blocks), prompts stripped."""
    lines = []
    for path in DOCUMENTS:
        for block in re.findall(r"```(?:bash)?\n(.*?)```", path.read_text(), flags=re.S):
            for line in block.splitlines():
                line = line.removeprefix("$ ").split("  #")[0].strip()
                if line.startswith("trialsim "):
                    lines.append(line)
    return lines


@pytest.mark.parametrize("document, code", _blocks("python"), ids=lambda v: v if v.endswith(".md") else "")
def test_python_example_runs(document: str, code: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, document, "exec"), {"__name__": "__example__"})


def test_there_are_examples_to_check() -> None:
    assert len(_blocks("python")) >= 2 and len(_command_lines()) >= 10


@pytest.mark.parametrize("line", _command_lines())
def test_documented_command_parses(line: str) -> None:
    args = build_parser().parse_args(shlex.split(line)[1:])
    assert callable(args.handler)
