"""The demo's Docker stage on its own: it runs its container on an engine it starts itself,
never on the user's (DOCKER_HOST, here the tests' shared engine), and without root or dockerd
it skips with one line saying how to run it (the whole demo is test_demo.py's)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]


def load_demo(monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))  # demo.py's own folder, as when run
    spec = importlib.util.spec_from_file_location("core_blocks_demo", ROOT / "scripts/demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)  # reads CORE_BLOCKS_HOME, which block_home has set
    return demo


def engines_of_the_demo() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("cb-demo-docker-*"))


def test_the_stage_runs_on_its_own_engine_and_never_on_the_users(docker_host, monkeypatch,
                                                                 capsys):
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        service_missing("The demo's own Docker engine", "run as root with dockerd installed")
    monkeypatch.setenv("DOCKER_HOST", docker_host.engine_url())  # the user's engine
    before = engines_of_the_demo()
    started = int(time.time())

    status = load_demo(monkeypatch).run_docker_stage()

    with docker_host.get_client() as client:
        events = list(client.events(since=started, until=int(time.time()) + 1, decode=True))
    assert [e for e in events if "core-blocks-demo" in str(e)] == []  # nothing built or run
    assert status == "ok"
    out = capsys.readouterr().out
    assert "said 'hello from a container'" in out and "base_url=unix:///tmp/cb-demo-docker-" in out
    assert engines_of_the_demo() == before  # the engine is stopped and its folder removed
    assert "cb-demo-docker-" not in Path("/proc/self/mounts").read_text()


def test_without_dockerd_the_stage_skips_with_how_to_run_it(docker_host, monkeypatch, capsys,
                                                            tmp_path):
    monkeypatch.setenv("DOCKER_HOST", docker_host.engine_url())
    demo = load_demo(monkeypatch)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no dockerd on it

    status = demo.run_docker_stage()

    assert status == ("skipped: no dockerd on PATH; it runs only on a Docker engine the demo "
                      "starts itself: run `make demo` as root with dockerd installed (apt-get "
                      "install docker.io busybox-static)")
    lines = [line for line in capsys.readouterr().out.splitlines() if "Docker stage" in line]
    assert lines == [f"Docker stage {status}"]
