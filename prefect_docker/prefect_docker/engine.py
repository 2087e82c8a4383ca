"""The calls to Docker's SDK behind the tasks, given a client: pull, push, build, run.

Kept apart from the blocks and tasks so that each task is a few lines of wiring. The engine
reports push and build failures inside its event stream, not as HTTP errors; `_events` turns
those into the SDK's APIError so that `translation` sees every failure the same way. Pulls go
through the SDK's images.pull, whose arguments Prefect's pull task documents.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from prefect_docker.errors import ContainerFailed, ContainerTimedOut, DockerImageNotFound
from prefect_docker.progress import progress

Log = Callable[[str], None]
LOG_TAIL = 20  # lines of a failed container's log quoted in ContainerFailed


class ContainerResult(NamedTuple):
    """What run_container returns: the exit code and the container's whole log."""

    exit_code: int
    logs: str


def _events(stream: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    from docker.errors import APIError

    for event in stream:
        if "error" in event or "errorDetail" in event:
            message = (event.get("errorDetail") or {}).get("message") or event.get("error")
            raise APIError(str(message), explanation=str(message))
        yield event


def pull(client: Any, repository: str, tag: str | None = None, platform: str | None = None,
         all_tags: bool = False, **pull_kwargs: Any) -> Any:
    """The SDK's images.pull with the arguments given (None left out, as Prefect's task does):
    the Image, or a list of them with all_tags."""
    from docker.errors import ImageNotFound

    arguments = {"repository": repository, "tag": tag, "platform": platform,
                 "all_tags": all_tags, **pull_kwargs}
    try:
        return client.images.pull(**{k: v for k, v in arguments.items() if v is not None})
    except ImageNotFound:  # the SDK drops errors reported inside the pull's stream
        label = repository if all_tags or _has_tag(repository) else \
            f"{repository}:{tag or 'latest'}"
        raise DockerImageNotFound(
            f"Pulling {label} left no such image on the engine: the registry refused or broke "
            "off the transfer. Check the repository, tag, platform and credentials, then pull "
            "again.") from None


def _has_tag(repository: str) -> bool:
    """True for "host:5000/app:1.2", false for "host:5000/app" (a port is not a tag)."""
    return ":" in repository.rsplit("/", 1)[-1]


def push(client: Any, repository: str, tag: str, auth_config: dict[str, str]) -> str:
    """Push repository:tag; the digest the registry stored it under."""
    digest = ""
    with progress(f"push {repository}:{tag}") as feed:
        for event in _events(client.api.push(repository, tag=tag, stream=True, decode=True,
                                             auth_config=auth_config)):
            feed(event)
            digest = (event.get("aux") or {}).get("Digest", digest)
    return digest


def build(client: Any, path: str, tag: str, dockerfile: str, buildargs: dict[str, str] | None,
          log: Log) -> Any:
    """Build the image of the folder `path`, each output line to `log`; the Image."""
    image_id = None
    for event in _events(client.api.build(path=path, tag=tag, dockerfile=dockerfile,
                                          buildargs=buildargs, rm=True, forcerm=True,
                                          decode=True)):
        for line in str(event.get("stream", "")).splitlines():
            if line.strip():
                log(line.rstrip())
        image_id = (event.get("aux") or {}).get("ID", image_id)
    return client.images.get(image_id or tag)


class _LogPump(threading.Thread):
    """Follows a container's output to its end, logging each line and keeping them all."""

    def __init__(self, container: Any, log: Log):
        super().__init__(daemon=True, name="docker-logs")
        self.container, self.log, self.lines = container, log, []

    def run(self) -> None:
        pending = b""
        try:
            for chunk in self.container.logs(stream=True, follow=True):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    self._emit(raw)
        except Exception:  # the container vanished mid-stream (removed, engine stopped)
            pass
        if pending:
            self._emit(pending)

    def _emit(self, raw: bytes) -> None:
        line = raw.decode(errors="replace").rstrip("\r")
        self.lines.append(line)
        self.log(line)


def run(client: Any, image: str, command: Any, create_kwargs: dict[str, Any],
        timeout_seconds: float | None, auto_remove: bool, log: Log) -> ContainerResult:
    """Create and start a container, log its output, wait for it (at most timeout_seconds),
    then remove it; raise ContainerFailed on a non-zero exit, ContainerTimedOut on a timeout.
    """
    container = client.containers.create(image, command, detach=True, **create_kwargs)
    label = f"{container.short_id} ({image})"
    timed_out = False
    try:
        container.start()
        pump = _LogPump(container, log)
        pump.start()
        try:
            exit_code = _wait(container, timeout_seconds, label)
        except ContainerTimedOut:
            timed_out = True
            raise
        pump.join(timeout=10)
        logs = "\n".join(pump.lines)
        if exit_code != 0:
            tail = "\n".join(list(deque(pump.lines, maxlen=LOG_TAIL)))
            raise ContainerFailed(
                f"Container {label} exited with code {exit_code}; its last log lines:\n{tail}",
                exit_code=exit_code, logs=logs)
        return ContainerResult(exit_code, logs)
    finally:
        if auto_remove or timed_out:  # a timed-out container never lingers
            container.remove(force=True)


def _wait(container: Any, timeout_seconds: float | None, label: str) -> int:
    import requests

    try:
        return int(container.wait(timeout=timeout_seconds)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        container.reload()  # raises if the engine itself went away: not a timeout then
        if container.status not in ("running", "created", "restarting"):
            raise
    container.stop(timeout=2)  # init=True: the process gets SIGTERM and stops at once
    raise ContainerTimedOut(f"Container {label} was still running after {timeout_seconds:g} s; "
                            "it was stopped. Raise timeout_seconds or make the command faster.")
