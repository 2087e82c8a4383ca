"""What every distribution's wheel says about itself: its name, licence, typing marker, entry
point and the core-blocks range it needs. Wheels are built once per session (a few seconds)."""

from __future__ import annotations

import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.packaging.conftest import INTEGRATIONS, ROOT

URL = "https://github.com/core-blocks/core-blocks"
NO_PLUGIN = {"prefect_dask"}  # a task runner: no block types or secret backends to register
PACKAGES = {"core-blocks": "core_blocks",
            **{f"core-blocks-{name.split('_')[1]}": name for name in INTEGRATIONS}}


def metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(path).decode())


def members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def entry_points(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        return archive.read(path).decode()


def test_every_distribution_is_built_under_its_core_blocks_name(wheels):
    assert sorted(wheels) == sorted(PACKAGES)


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_licence_is_spdx_and_the_full_text_ships(wheels, dist):
    meta = metadata(wheels[dist])
    files = members(wheels[dist])

    assert meta["Name"] == dist
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["License"] is None  # the deprecated free-text field is gone
    assert meta["License-File"] == "LICENSE"
    [licence] = [n for n in files if n.endswith(".dist-info/licenses/LICENSE")]
    with zipfile.ZipFile(wheels[dist]) as archive:
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in (ROOT / "LICENSE").read_bytes()


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_package_is_typed_and_versioned_from_its_source(wheels, dist):
    package = PACKAGES[dist]
    meta = metadata(wheels[dist])

    assert f"{package}/py.typed" in members(wheels[dist])
    assert "Typing :: Typed" in meta.get_all("Classifier")
    folder = ROOT if package == "core_blocks" else ROOT / package
    assert f'__version__ = "{meta["Version"]}"' in (folder / package / "__init__.py").read_text()


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_urls_and_readme_are_published(wheels, dist):
    meta = metadata(wheels[dist])
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))

    assert urls["Homepage"] == URL
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert urls["Changelog"] == f"{URL}/blob/main/CHANGELOG.md"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith(f"# {dist}\n")


@pytest.mark.parametrize("package", INTEGRATIONS)
def test_integration_needs_this_core_release_and_declares_its_entry_point(wheels, package):
    dist = f"core-blocks-{package.split('_')[1]}"
    requires = metadata(wheels[dist]).get_all("Requires-Dist")

    assert "core-blocks<0.2,>=0.1" in requires
    if package in NO_PLUGIN:
        assert not any(n.endswith("entry_points.txt") for n in members(wheels[dist]))
    else:
        assert f"[core_blocks]\n{package.split('_')[1]} = {package}.plugin" in entry_points(
            wheels[dist])
    assert not any(r.startswith("prefect") for r in requires)


def test_slack_pulls_slack_sdk_and_aiohttp_and_ships_its_pytest_plugin(wheels):
    requires = metadata(wheels["core-blocks-slack"]).get_all("Requires-Dist")

    assert sorted(requires) == ["aiohttp>=3.9", "core-blocks<0.2,>=0.1", "pydantic>=2.7",
                                "slack-sdk>=3.19"]
    assert "[pytest11]\ncore_blocks_slack = prefect_slack.testing.plugin" in entry_points(
        wheels["core-blocks-slack"])


def test_docker_depends_on_its_sdk_and_ships_its_pytest_plugin(wheels):
    wheel = wheels["core-blocks-docker"]
    requires = metadata(wheel).get_all("Requires-Dist")

    assert "docker>=7.0" in requires and "core-blocks<0.2,>=0.1" in requires
    assert "[pytest11]\ncore_blocks_docker = prefect_docker.testing.plugin" in entry_points(
        wheel)
    assert "prefect_docker/testing/plugin.py" in members(wheel)


def test_dbt_requires_dbt_core_below_1_12_and_offers_its_adapters_as_extras(wheels):
    meta = metadata(wheels["core-blocks-dbt"])
    requires = meta.get_all("Requires-Dist")

    assert "dbt-core<1.12,>=1.10" in requires
    assert sorted(meta.get_all("Provides-Extra")) == ["duckdb", "postgres"]
    assert 'dbt-duckdb>=1.10; extra == "duckdb"' in requires
    assert not any(r.startswith(("boto3", "docker", "slack")) for r in requires)


def test_core_extras_name_the_integrations(wheels):
    meta = metadata(wheels["core-blocks"])
    requires = meta.get_all("Requires-Dist")

    assert {"aws", "dbt", "docker", "slack", "dask", "all"} <= set(meta.get_all("Provides-Extra"))
    for short in ("aws", "dbt", "docker", "slack", "dask"):
        assert f'core-blocks-{short}<0.2,>=0.1; extra == "{short}"' in requires
    assert 'core-blocks[aws,dask,dbt,docker,slack]; extra == "all"' in requires
    assert not any(r.startswith("prefect") for r in requires)
