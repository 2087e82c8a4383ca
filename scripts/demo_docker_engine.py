"""A Docker engine of the demo's own, so the demo never builds or runs on the user's engine.

dockerd runs with its data, exec root, pidfile and socket in a temporary folder, without a
bridge, NAT or iptables rules (the demo's container uses network "none"), and is stopped and
its folder removed when the `with` block ends. Starting it needs root and dockerd (Debian:
apt-get install docker.io); without them EngineUnavailable says how to get them.

    with private_engine() as base_url:      # "unix:///tmp/cb-demo-docker-.../docker.sock"
        DockerHost(base_url=base_url).get_client().ping()
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOW_TO_RUN = ("it runs only on a Docker engine the demo starts itself: run `make demo` as root "
              "with dockerd installed (apt-get install docker.io busybox-static)")
_START_SECONDS = 60
_STOP_SECONDS = 30


class EngineUnavailable(RuntimeError):
    """The demo could not start its own engine; the message says why and what to do."""


@contextmanager
def private_engine() -> Iterator[str]:
    """Start a dockerd of our own; yield its base URL; stop it and remove its files."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineUnavailable(f"no dockerd on PATH; {HOW_TO_RUN}")
    if os.geteuid() != 0:
        raise EngineUnavailable(f"dockerd needs root; {HOW_TO_RUN}")
    # /tmp, not the demo's folder: a unix socket's path must stay under 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="cb-demo-docker-"))
    base_url = f"unix://{folder}/docker.sock"
    (folder / "daemon.json").write_text("{}")  # ignore any /etc/docker/daemon.json
    log = (folder / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [dockerd, f"--config-file={folder}/daemon.json", f"--data-root={folder}/data",
         f"--exec-root={folder}/exec", f"--pidfile={folder}/dockerd.pid", "-H", base_url,
         "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
         "--userland-proxy=false", "--log-level=warn"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        _wait_until_up(base_url, process, folder)
        yield base_url
    finally:
        _stop(process)
        log.close()
        _unmount_under(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_up(base_url: str, process: subprocess.Popen, folder: Path) -> None:
    from prefect_docker import DockerError, DockerHost

    host = DockerHost(base_url=base_url, timeout=5)
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with host.get_client() as client:
                client.ping()
            return
        except DockerError:
            time.sleep(0.2)
    tail = (folder / "dockerd.log").read_text(errors="replace").strip().splitlines()[-1:]
    raise EngineUnavailable(f"the demo's dockerd did not start ({' '.join(tail) or 'no log'})"
                            f"; {HOW_TO_RUN}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (dockerd stops its containers and its containerd), then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _unmount_under(folder: Path) -> None:
    """dockerd leaves mounts behind (its netns file, overlay layers): unmount them, deepest
    first, so the folder can be removed."""
    prefix = str(folder) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
