"""The demo's Docker stage on its own: it runs a container when an engine answers, and says
why it skipped when none does (the whole demo, engine or not, is test_demo.py's)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_demo(monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    spec = importlib.util.spec_from_file_location("core_blocks_demo", ROOT / "scripts/demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)  # reads CORE_BLOCKS_HOME, which block_home has set
    return demo


def test_without_an_engine_the_stage_says_why_it_skipped(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")

    status = load_demo(monkeypatch).run_docker_stage()

    assert status.startswith("skipped: No Docker engine answers at 'unix://")
    assert "Docker stage skipped: No Docker engine" in capsys.readouterr().out


def test_with_an_engine_the_stage_runs_a_container_in_a_flow(docker_host, monkeypatch,
                                                              capsys):
    monkeypatch.setenv("DOCKER_HOST", docker_host.engine_url())

    assert load_demo(monkeypatch).run_docker_stage() == "ok"
    assert "said 'hello from a container'" in capsys.readouterr().out
