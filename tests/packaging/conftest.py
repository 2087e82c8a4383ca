"""Fixtures for the packaging tests: every distribution's wheel, built once per session, and
small foreign distributions built on the spot (no network: setuptools from the test venv)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATIONS = ("prefect_aws", "prefect_dbt", "prefect_docker", "prefect_slack", "prefect_dask")


def pip(*args: str, cwd: Path | None = None, python: str = sys.executable
        ) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def build_wheels(target: Path, *projects: Path) -> list[Path]:
    """Wheels of local projects, built with the venv's setuptools (no download)."""
    result = pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                 "--wheel-dir", str(target), *map(str, projects), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return sorted(target.glob("*.whl"))


@pytest.fixture(scope="session")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """Distribution name -> its wheel, for the core and every integration."""
    built = build_wheels(tmp_path_factory.mktemp("dist"), ROOT,
                         *(ROOT / name for name in INTEGRATIONS))
    return {path.name.split("-")[0].replace("_", "-"): path for path in built}


@pytest.fixture(scope="session")
def foreign_site(tmp_path_factory):
    """A function building a distribution `name` that provides import package `module`,
    installed into a fresh site folder, which it returns (put it on PYTHONPATH)."""

    def make(name: str, module: str) -> Path:
        base = tmp_path_factory.mktemp(name)
        source = base / "src"
        (source / module).mkdir(parents=True)
        (source / module / "__init__.py").write_text(f'"""{name}, not core-blocks."""\n')
        (source / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{name}"\nversion = "9.1.0"\n\n'
            f'[tool.setuptools]\npackages = ["{module}"]\n')
        [wheel] = build_wheels(base / "dist", source)
        site = base / "site"
        result = pip("install", "--quiet", "--no-deps", "--no-index", "--target", str(site),
                     str(wheel))
        assert result.returncode == 0, result.stdout + result.stderr
        return site

    return make
