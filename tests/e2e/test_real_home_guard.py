"""tests/conftest.py's guard fails a session whose tests wrote into the user's own home: a
run recorded by a task called without block_home included, though the background writer
stores it only after the test has finished."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CARELESS_TEST = '''
from core_blocks import task


@task
def hello():
    return 1


def test_calls_a_task_without_block_home():
    assert hello() == 1
'''


def run_guarded_session(project: Path, home: Path) -> subprocess.CompletedProcess:
    """pytest on CARELESS_TEST with the repository's conftest as a plugin and HOME=home."""
    (project / "test_careless.py").write_text(CARELESS_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORE_BLOCKS_", "PYTEST_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.conftest", "test_careless.py"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "user").mkdir()
    return tmp_path / "project"


def test_a_run_recorded_in_a_new_home_fails_the_session(project):
    home = project.parent / "user"

    done = run_guarded_session(project, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"a test created {home / '.core_blocks'}; it must use block_home" in done.stdout


def test_a_run_recorded_in_an_existing_home_fails_the_session(project):
    home = project.parent / "user"
    first = run_guarded_session(project, home)  # the home now exists, with a store
    assert (home / ".core_blocks" / "blocks.db").exists(), first.stdout

    done = run_guarded_session(project, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"a test changed files in {home / '.core_blocks'}; it must use block_home" in (
        done.stdout)
