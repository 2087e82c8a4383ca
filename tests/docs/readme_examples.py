"""The fenced code examples of the READMEs, read as the tests run them.

Runnable fences are ```python, ```bash (or sh, shell) and ```console; the others (toml,
plain text, trees) are configuration or listings, not code. A README section (the text
under one heading) is one place: its examples run in order and build on each other.

An HTML comment on the line just above a fence says what of it is not run, and why:

    <!-- example: not run, needs a Slack workspace -->
    <!-- example: pip and make lines not run, they install -->

A python fence is run as a script, unless it defines `test_*` functions (then it is a test
file, run by pytest) or starts with a `# path/to/file.py` comment (then it is the content of
the files it names, each written and then imported).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READMES = ("README.md", "prefect_aws/README.md", "prefect_dbt/README.md",
           "prefect_docker/README.md", "prefect_slack/README.md")

_FENCE = re.compile(r"^```\s*([\w-]*)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$")
_MARK = re.compile(r"^<!--\s*example:\s*(.+?)\s*-->\s*$")
_NOT_RUN = re.compile(r"^not run, (.+)$")
_INSTALL_LINES = re.compile(r"^pip and make lines not run, (.+)$")
_INSTALL_COMMAND = re.compile(r"^\s*(pip|make)\s")
_FILE_HEADER = re.compile(r"^# ([\w./-]+\.py)\b")
LANGUAGES = {"python": "python", "bash": "bash", "sh": "bash", "shell": "bash",
             "console": "console"}


@dataclass
class Example:
    """One runnable fence: where it is, what it holds and what of it is not run."""

    readme: str
    line: int  # the opening fence's line; the code starts on the next one
    language: str  # python, bash or console
    code: str
    section: str
    not_run: str | None = None  # the whole fence is not run, for this reason
    install_reason: str | None = None  # its pip and make lines are not run, for this reason
    skipped_lines: list[int] = field(default_factory=list)  # README lines not run

    @property
    def id(self) -> str:
        return f"{self.readme}:{self.line}"

    @property
    def kind(self) -> str:
        """python (a script), pytest (a test file), files (module files), bash or console."""
        if self.language != "python":
            return self.language
        if _FILE_HEADER.match(self.code) and not self.test_names:
            return "files"
        return "pytest" if self.test_names else "python"

    @property
    def test_names(self) -> list[str]:
        tree = ast.parse(self.code)
        return [node.name for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]

    def files(self) -> dict[str, str]:
        """A `files` or `pytest` fence's files: path -> text (the fence's own header comment
        names each file; a test file without one is `test_example.py`)."""
        found: dict[str, list[str]] = {}
        current = "test_example.py"
        for text in self.code.splitlines():
            header = _FILE_HEADER.match(text)
            if header:
                current = header.group(1)
            found.setdefault(current, []).append(text)
        return {path: "\n".join(lines) + "\n" for path, lines in found.items()
                if any(line.strip() for line in lines)}

    def runnable_code(self) -> str:
        """The code with its lines that are not run blanked (line numbers kept)."""
        lines = self.code.splitlines()
        for readme_line in self.skipped_lines:
            lines[readme_line - self.line - 1] = ""
        return "\n".join(lines) + "\n"


def read_examples(readme: str, root: Path = ROOT) -> list[Example]:
    """Every runnable fence of one README, in order."""
    lines = (root / readme).read_text().splitlines()
    examples: list[Example] = []
    section = "(top)"
    index = 0
    while index < len(lines):
        text = lines[index]
        heading = _HEADING.match(text)
        fence = _FENCE.match(text)
        if heading:
            section = heading.group(1)
        if not fence:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        language = LANGUAGES.get(fence.group(1).lower())
        if language:
            example = Example(readme, index + 1, language, "\n".join(lines[index + 1:end]),
                              section)
            _apply_mark(example, lines[index - 1] if index else "")
            examples.append(example)
        index = end + 1
    return examples


def _apply_mark(example: Example, above: str) -> None:
    mark = _MARK.match(above)
    if not mark:
        return
    text = mark.group(1)
    if (not_run := _NOT_RUN.match(text)) is not None:
        example.not_run = not_run.group(1)
    elif (install := _INSTALL_LINES.match(text)) is not None:
        example.install_reason = install.group(1)
        example.skipped_lines = [example.line + 1 + offset for offset, line
                                 in enumerate(example.code.splitlines())
                                 if _INSTALL_COMMAND.match(line)]
    else:
        raise ValueError(f"{example.readme}:{example.line - 1}: unknown example mark "
                         f"{text!r}; write 'not run, REASON' or 'pip and make lines not run, "
                         "REASON'")


def install_lines(example: Example) -> list[int]:
    """README lines of the fence that install (pip, make) and would run unless marked."""
    return [example.line + 1 + offset for offset, line in enumerate(example.code.splitlines())
            if _INSTALL_COMMAND.match(line) and example.line + 1 + offset
            not in example.skipped_lines]


def all_examples(root: Path = ROOT) -> list[Example]:
    return [example for readme in READMES for example in read_examples(readme, root)]
