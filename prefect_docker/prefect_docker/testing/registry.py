"""A throwaway Docker registry with one htpasswd user, on 127.0.0.1 (host network)."""

from __future__ import annotations

import secrets
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prefect_docker.host import DockerHost
from prefect_docker.testing.contexts import registry_context
from prefect_docker.testing.images import ImageBuilder


@dataclass(frozen=True)
class RegistryService:
    """Where a test registry listens and the one user it accepts."""

    address: str  # host:port, what image names start with
    username: str
    password: str

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, timeout: float = 20.0) -> bool:
    """True once `url` answers at all (401 included: the registry asks for a login)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.1)
    return False


def new_user() -> tuple[str, str]:
    """A user name and a fresh random password (a canary: it must never show up in logs)."""
    return "tester", f"canary-{secrets.token_hex(10)}"


@contextmanager
def run_registry(host: DockerHost, builder: ImageBuilder) -> Iterator[RegistryService]:
    """Build the registry image, run it (host network, init), yield it; remove it after."""
    username, password = new_user()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="core-blocks-registry-") as tmp:
        image = builder(registry_context(Path(tmp), username, password),
                        f"{builder.prefix}/registry:{secrets.token_hex(6)}")
    with host.get_client() as client:
        container = client.containers.run(
            image, detach=True, init=True, network_mode="host",
            environment={"REGISTRY_HTTP_ADDR": f"127.0.0.1:{port}"})
        try:
            service = RegistryService(f"127.0.0.1:{port}", username, password)
            if not wait_until_up(f"{service.url}/v2/"):
                raise RuntimeError(f"The test registry did not answer on {service.url}: "
                                   f"its log says {container.logs(tail=5)!r}")
            yield service
        finally:
            container.remove(force=True, v=True)
