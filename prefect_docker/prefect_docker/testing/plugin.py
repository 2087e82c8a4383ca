"""pytest fixtures for testing flows against a local Docker engine and registry.

Registered by core-blocks-docker's `pytest11` entry point; each does nothing until a test asks
for it. A missing engine skips the test, or fails it when CI is set (a green CI run must not
hide a missing engine). See prefect_docker's README for a complete example test.

- docker_host: a DockerHost block pointed at the engine of DOCKER_HOST (session).
- build_test_image: build a folder into an image, `build_test_image(path) -> tag`; every image
  it built is removed at the end of the session.
- busybox_image: the tag of a small image FROM scratch with busybox's shell and tools.
- local_registry: a registry on 127.0.0.1 with one htpasswd user, and its
  DockerRegistryCredentials saved as "local-registry" in the test's block home.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from prefect_docker.credentials import DockerRegistryCredentials
    from prefect_docker.host import DockerHost
    from prefect_docker.testing.images import ImageBuilder
    from prefect_docker.testing.registry import RegistryService

REGISTRY_BLOCK = "local-registry"


def service_missing(message: str) -> None:
    """Skip the test, or fail it under CI=true."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def docker_host() -> DockerHost:
    """A DockerHost for the engine of DOCKER_HOST (the platform's default socket if unset)."""
    from prefect_docker.errors import DockerError
    from prefect_docker.host import DockerHost

    host = DockerHost(base_url=os.environ.get("DOCKER_HOST") or None)
    try:
        with host.get_client() as client:
            client.ping()
    except DockerError as exc:
        service_missing(f"No Docker engine for these tests: {exc}")
    return host


@pytest.fixture(scope="session")
def build_test_image(docker_host: DockerHost) -> Iterator[ImageBuilder]:
    """`build_test_image(path, tag=None, dockerfile="Dockerfile", buildargs=None) -> tag`."""
    from prefect_docker.testing.images import ImageBuilder

    builder = ImageBuilder(docker_host)
    yield builder
    builder.cleanup()


@pytest.fixture(scope="session")
def busybox_image(build_test_image: ImageBuilder, tmp_path_factory: pytest.TempPathFactory
                  ) -> str:
    """The tag of an image FROM scratch holding a static busybox (sh, echo, wget, httpd...)."""
    from prefect_docker.testing.contexts import MissingTool, busybox_context

    try:
        context = busybox_context(tmp_path_factory.mktemp("busybox-image"))
    except MissingTool as exc:
        service_missing(str(exc))
    return build_test_image(context)


@pytest.fixture(scope="session")
def local_registry_service(docker_host: DockerHost, build_test_image: ImageBuilder
                           ) -> Iterator[RegistryService]:
    """The running registry behind `local_registry`; override it to use your own."""
    from prefect_docker.testing.contexts import MissingTool
    from prefect_docker.testing.registry import run_registry

    try:
        with run_registry(docker_host, build_test_image) as service:
            yield service
    except MissingTool as exc:
        service_missing(str(exc))


@dataclass(frozen=True)
class LocalRegistry:
    """A test registry: image names start with `address`; `credentials` are saved."""

    address: str
    url: str
    credentials: DockerRegistryCredentials

    def image(self, repository: str) -> str:
        """The full repository name in this registry: "127.0.0.1:PORT/<repository>"."""
        return f"{self.address}/{repository}"


@pytest.fixture
def local_registry(local_registry_service: RegistryService, block_home) -> LocalRegistry:
    """The session's registry, its DockerRegistryCredentials saved as "local-registry"."""
    from prefect_docker.credentials import DockerRegistryCredentials

    service = local_registry_service
    credentials = DockerRegistryCredentials(username=service.username,
                                            password=service.password,
                                            registry_url=service.address)
    credentials.save(REGISTRY_BLOCK, overwrite=True)
    return LocalRegistry(service.address, service.url, credentials)
