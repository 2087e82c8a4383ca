"""Upper bounds on dependencies only where a release is known to break: each one needs a
comment quoting it with its reason. A cap "just in case" makes pip downgrade what a user
already has (core-blocks-aws once turned rich 15 back into 14)."""

from __future__ import annotations

import re

import pytest
from packaging.requirements import Requirement

from tests.packaging.conftest import INTEGRATIONS, ROOT

tomllib = pytest.importorskip("tomllib")  # the standard library's from Python 3.11

PYPROJECTS = [ROOT / "pyproject.toml", *(ROOT / name / "pyproject.toml" for name in INTEGRATIONS)]
_CAPPING = {"<", "<=", "==", "===", "~="}  # "!=" leaves out one release, not every later one
_QUOTED = re.compile(r'"([^"]+)"')


def requirements(config: dict) -> set[str]:
    """Every requirement string a pyproject declares: build, runtime and extras."""
    project = config.get("project", {})
    found = set(config.get("build-system", {}).get("requires", []))
    found |= set(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        found |= set(extra)
    return found


def explanation(lines: list[str], index: int) -> str:
    """The comment on line `index` and the nearest comment block above it (one heading a
    group of requirement lines explains each of them)."""
    comment = lines[index].partition("#")[2]
    above = index - 1
    while above >= 0 and _QUOTED.search(lines[above]) and not lines[above].lstrip().startswith(
            "#"):
        above -= 1  # another requirement of the same group
    block = []
    while above >= 0 and lines[above].lstrip().startswith("#"):
        block.append(lines[above])
        above -= 1
    return comment + "\n".join(block)


def unexplained_caps(path, root=ROOT) -> list[str]:
    text = path.read_text()
    declared = requirements(tomllib.loads(text))
    lines = text.splitlines()
    problems = []
    for index, line in enumerate(lines):
        for quoted in _QUOTED.findall(line.partition("#")[0]):
            if quoted not in declared:
                continue
            caps = [str(s) for s in Requirement(quoted).specifier if s.operator in _CAPPING]
            reason = explanation(lines, index)
            problems += [f"{path.relative_to(root)}:{index + 1}: {quoted} ({cap})"
                         for cap in caps if cap not in reason]
    return problems


@pytest.mark.parametrize("path", PYPROJECTS, ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_every_upper_bound_has_a_comment_quoting_it_with_its_reason(path):
    assert unexplained_caps(path) == []


def test_the_check_finds_a_cap_without_a_reason(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = [\n'
        '    # Progress bars.\n    "rich>=13,<15",\n'
        '    "boto3>=1.34,<2",  # <2: a made-up break, for this test\n'
        '    "pydantic>=2.7,!=2.10.0",\n]\n')

    problems = unexplained_caps(tmp_path / "pyproject.toml", root=tmp_path)

    assert problems == ["pyproject.toml:4: rich>=13,<15 (<15)"]

