"""run_container of a trivial command against `docker run --rm` of the same image, and the
task's overhead on top of the SDK doing the same steps (create, start, logs, wait, remove).

Needs a Docker engine (DOCKER_HOST; `scripts/services.sh up` starts one) and a static busybox
(the image is built FROM scratch, nothing is pulled); says why it skipped otherwise.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import scratch_home  # noqa: E402

ROUNDS = 20
COMMAND = ["echo", "hi"]


def sdk_run(client, image: str) -> str:
    """The same steps as run_container, on the bare SDK."""
    container = client.containers.create(image, COMMAND, init=True, network_mode="none")
    try:
        container.start()
        output = b"".join(container.logs(stream=True, follow=True))
        container.wait()
        return output.decode()
    finally:
        container.remove(force=True)


def main() -> None:
    scratch_home()
    from prefect_docker import DockerError, DockerHost
    from prefect_docker.containers import run_container
    from prefect_docker.testing.contexts import MissingTool, busybox_context
    from prefect_docker.testing.images import ImageBuilder

    host = DockerHost()
    builder = ImageBuilder(host, prefix="core-blocks-bench")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            image = builder(busybox_context(Path(tmp) / "busybox"))
    except (DockerError, MissingTool) as exc:
        print(f"docker_run: skipped: {exc}")
        return
    cli = ["docker", "-H", host.engine_url(), "run", "--rm", "--init", "--network", "none",
           image, *COMMAND]
    timings: dict[str, list[float]] = {"cli": [], "task": [], "fn": [], "sdk": []}
    try:
        with host.get_client() as client:
            calls = {
                "cli": lambda: subprocess.run(cli, check=True, capture_output=True),
                "task": lambda: run_container(image, COMMAND, network_mode="none",
                                              docker_host=host),
                "fn": lambda: run_container.fn(image, COMMAND, network_mode="none",
                                               docker_host=host),
                "sdk": lambda: sdk_run(client, image),
            }
            for call in calls.values():  # warm-up: caches, the engine's first container
                call()
            for _ in range(ROUNDS):  # interleaved, so drift hits every variant alike
                for name, call in calls.items():
                    started = time.perf_counter()
                    call()
                    timings[name].append(time.perf_counter() - started)
    finally:
        builder.cleanup()
    med = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    # the engine's own time dominates and varies run to run: show how much, to read the
    # differences below against it
    spread = {name: statistics.stdev(values) * 1000 for name, values in timings.items()}
    ratio = med["task"] / med["cli"]
    labels = {"cli": "docker run --rm (CLI)", "sdk": "SDK: create, start, logs, wait, remove",
              "fn": "run_container body without the task", "task": "run_container task"}
    for name, label in labels.items():
        print(f"{label:<42} median {med[name]:8.1f} ms  (stdev {spread[name]:.0f} ms)")
    print(f"{'run_container / docker run --rm':<42} {ratio:8.2f} x  target ≤ 1.5 x: "
          f"{'meets' if ratio <= 1.5 else 'MISSES'}")
    print(f"{'overhead over the SDK (task + ours)':<42} {med['task'] - med['sdk']:8.1f} ms  "
          f"(task machinery {med['task'] - med['fn']:.1f} ms)")


if __name__ == "__main__":
    main()
