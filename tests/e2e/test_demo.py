"""The README's first command runs this demo: it must keep passing end to end."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_every_stage_and_leaks_no_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORE_BLOCKS_")}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # embedded defaults: the encrypted-file backend
    env["CORE_BLOCKS_HOME"] = str(tmp_path / "home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo: all stages passed" in result.stdout
    assert "secrets in blocks.db  : none" in result.stdout
    assert "demo-warehouse-password" not in result.stdout + result.stderr
    assert b"demo-warehouse-password" not in (tmp_path / "home" / "blocks.db").read_bytes()
