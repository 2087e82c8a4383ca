"""What keeps every distribution alike: lint covers each integration folder, each builds with
the same setuptools floor, and each README's links work on an index page (absolute)."""

from __future__ import annotations

import re

import pytest

from tests.packaging.conftest import INTEGRATIONS, ROOT

tomllib = pytest.importorskip("tomllib")  # the standard library's from Python 3.11

PROJECTS = [ROOT, *(ROOT / name for name in INTEGRATIONS)]


def test_the_list_of_integrations_is_every_distribution_folder():
    assert sorted(p.parent.name for p in ROOT.glob("prefect_*/pyproject.toml")) == sorted(
        INTEGRATIONS)


def test_make_lint_and_the_test_script_lint_every_integration():
    makefile = (ROOT / "Makefile").read_text()
    [packages] = re.findall(r"^PACKAGES := (.*)$", makefile, re.M)
    [script_lint] = re.findall(r"ruff\" check ((?:.|\\\n)*)$", (ROOT / "scripts" /
                                                               "run_tests.sh").read_text(), re.M)

    assert "$(PACKAGES)" in re.findall(r"^LINT_PATHS := (.*)$", makefile, re.M)[0]
    assert "ruff check $(LINT_PATHS)" in makefile
    for name in INTEGRATIONS:
        assert name in packages.split()
        assert name in script_lint.split()


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_distribution_has_the_same_build_floor_and_its_own_licence(project):
    config = tomllib.loads((project / "pyproject.toml").read_text())

    assert config["build-system"]["requires"] == ["setuptools>=77"]
    assert config["project"]["license"] == "Apache-2.0"
    assert config["project"]["license-files"] == ["LICENSE"]
    assert (project / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert config["project"]["dynamic"] == ["version"]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_readme_links_are_absolute(project):
    readme = (project / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)

    assert [t for t in targets if not re.match(r"https://|#", t)] == []
