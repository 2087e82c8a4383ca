"""The shipped pytest fixtures, as a user's project sees them: the README's example test runs
in its own pytest process (with the plugin's own registry, not the compose one), and a missing
engine skips it, or fails it under CI=true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.docker.conftest import engine_inventory

README = Path(__file__).resolve().parents[2] / "prefect_docker" / "README.md"


def readme_example() -> str:
    match = re.search(r"```python\n(# tests/test_release\.py\n.*?)```", README.read_text(),
                      re.S)
    assert match, "the README lost its example test"
    return match.group(1)


def run_user_project(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """pytest on a project holding only the README's example test, in a fresh process."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "tests" / "test_release.py").write_text(readme_example())
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("CORE_BLOCKS_", "PYTEST_"))}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rs", "tests"], cwd=project, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_the_readme_example_passes_and_leaves_nothing_behind(docker_host, tmp_path):
    before = engine_inventory(docker_host)

    done = run_user_project(tmp_path, CI="true")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert engine_inventory(docker_host) == before


def test_without_an_engine_the_example_skips_but_fails_under_ci(tmp_path):
    nowhere = f"unix://{tmp_path}/no-engine.sock"

    skipped = run_user_project(tmp_path, DOCKER_HOST=nowhere, CI="")
    failed = run_user_project(tmp_path, DOCKER_HOST=nowhere, CI="true")

    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout
    assert "No Docker engine for these tests: No Docker engine answers at" in skipped.stdout
    assert failed.returncode == 1 and "1 error" in failed.stdout, failed.stdout
