"""The docker.DockerClient the blocks hand out: usable as is, or in a `with` that closes it.

Its own module because it subclasses the SDK's client: importing it imports docker, which
only the functions that call the engine may do.
"""

from __future__ import annotations

from types import TracebackType

import docker


class DockerClient(docker.DockerClient):
    """A docker.DockerClient that is also a context manager: leaving the `with` closes it."""

    def __enter__(self) -> DockerClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


# Prefect's name for this class: code and tests that patch
# `prefect_docker.host._ContextManageableDockerClient` replace the client every block makes.
_ContextManageableDockerClient = DockerClient
