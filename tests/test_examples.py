"""The README's and the docs' examples work: Python blocks run, every ``trialsim`` line parses."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from sim.cli import build_parser, main

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


# Fewer replicates and one worker, so the README's commands run in seconds; everything else as written.
# `--pdf` is left out: tests/test_report_browser.py prints the page with Chromium.
_QUICK = {
    "run": ["--replicates", "4", "--jobs", "1", "--no-progress"],
    "size": ["--replicates", "60", "--screen-replicates", "60", "--shortlist", "2", "--jobs", "1", "--no-progress"],
    "oc": ["--replicates", "4", "--jobs", "1", "--no-progress"],
    "sweep": ["--replicates", "4", "--jobs", "1", "--no-progress"],
    "report": ["--replicates", "6", "--oc-replicates", "4", "--jobs", "1", "--no-progress"],
}


def _readme_commands() -> list[list[str]]:
    """The README's ``trialsim`` lines from its bash blocks, in the order a reader meets them."""
    text = (ROOT / "README.md").read_text()
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("trialsim "):
                lines.append(shlex.split(line)[1:])
    return lines


@pytest.mark.slow
def test_the_readme_commands_run_in_sequence_as_written(tmp_path, monkeypatch, capsys) -> None:
    """In a fresh folder holding the clone's scenarios/, each command runs after the ones before it;
    a later one that reused an earlier one's --out folder for another scenario would be refused."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    commands = _readme_commands()
    assert [words[0] for words in commands].count("run") >= 4 and any(w[0] == "report" for w in commands)
    for words in commands:
        argv = [w for w in words if w != "--pdf"] + _QUICK.get(words[0], [])
        if "--mcse-target" in words:
            argv += ["--max-replicates", "8"]
        status = main(argv)
        assert status == 0, (" ".join(words), capsys.readouterr().err)
    assert (tmp_path / "committee" / "index.html").is_file() and (tmp_path / "oc.csv").is_file()
