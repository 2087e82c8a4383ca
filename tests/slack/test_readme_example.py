"""The README's example tests, as a user's project runs them: in their own pytest process,
with the installed plugins only, and without touching the user's own ~/.core_blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "prefect_slack" / "README.md"


def readme_example() -> str:
    match = re.search(r"```python\n(# test_alerts\.py.*?)```", README.read_text(), re.S)
    assert match, "the README lost its example test"
    return match.group(1)


def test_the_readme_example_passes_and_leaves_the_users_home_alone(tmp_path):
    project, home = tmp_path / "project", tmp_path / "user"
    project.mkdir()
    home.mkdir()
    (project / "test_alerts.py").write_text(readme_example())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORE_BLOCKS_", "PYTEST_"))}
    env["HOME"] = str(home)  # the user's home, where ~/.core_blocks would be

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_alerts.py"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert sorted(p.name for p in home.iterdir()) == []
