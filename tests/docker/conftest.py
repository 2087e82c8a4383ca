"""tests/docker: a real engine (DOCKER_HOST, started by scripts/services.sh) and the services
of docker-compose.yml, run by pytest-docker; the fixtures of prefect_docker.testing.

The registry of `local_registry` is the compose one here (the plugin's own default, which runs
the registry without compose, is covered by test_fixtures.py). Nothing may be left behind:
the `docker_host` override compares the engine's containers, images, volumes and networks
before and after the session. Tests that need no engine do not ask for it and always run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from prefect_docker.testing.contexts import MissingTool, busybox_context, registry_context
from prefect_docker.testing.registry import RegistryService, free_port, new_user
from tests.conftest import service_missing

HERE = Path(__file__).parent


def engine_inventory(host) -> dict[str, set[str]]:
    """Ids of every container, image, volume and network the engine has."""
    with host.get_client() as client:
        return {
            "containers": {c.id for c in client.containers.list(all=True)},
            "images": {i.id for i in client.images.list(all=True)},
            "volumes": {v.id for v in client.volumes.list()},
            "networks": {n.id for n in client.networks.list()},
        }


@pytest.fixture(scope="session")
def docker_host(docker_host):
    """The plugin's docker_host, checking that nothing was left behind when it goes: every
    fixture using the engine depends on it, so it is torn down after all of them."""
    before = engine_inventory(docker_host)
    yield docker_host
    after = engine_inventory(docker_host)
    left = {kind: after[kind] - before[kind] for kind in after if after[kind] - before[kind]}
    assert not left, f"the Docker tests left these behind: {left}"


@pytest.fixture(scope="session")
def compose_settings(tmp_path_factory, docker_host):
    """Build contexts and the variables docker-compose.yml reads, for the whole session."""
    contexts = tmp_path_factory.mktemp("compose")
    username, password = new_user()
    try:
        registry_context(contexts / "registry", username, password)
        busybox_context(contexts / "httpd", "COPY www /www\n")
    except MissingTool as exc:
        service_missing("The Docker test images", str(exc))
    (contexts / "httpd" / "www").mkdir()
    (contexts / "httpd" / "www" / "hello.txt").write_text("hello from httpd\n")
    settings = {"CORE_BLOCKS_TEST_CONTEXTS": str(contexts),
                "CORE_BLOCKS_TEST_REGISTRY_PORT": str(free_port()),
                "CORE_BLOCKS_TEST_HTTP_PORT": str(free_port())}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)  # compose reads them at `up` and again at `down`
    yield {**settings, "username": username, "password": password}
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


# -- pytest-docker's fixtures, set for Debian's docker-compose 1.29 -------------------------

@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    # pytest-docker defaults to the `docker compose` plugin, which Debian does not ship
    if shutil.which("docker-compose"):
        return "docker-compose"
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if plugin.returncode != 0:
        service_missing("Docker Compose", "install docker-compose (scripts/services.sh does)")
    return "docker compose"


@pytest.fixture(scope="session")
def docker_compose_file(compose_settings) -> str:
    return str(HERE / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --build -d"]  # 1.29 has no `--wait`; each service is awaited below instead


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v --rmi all --remove-orphans"]  # the images it built go too


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # 401 from the registry: up, and asking for a login
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def local_registry_service(docker_services, compose_settings) -> RegistryService:
    """The compose registry, in place of the plugin's own."""
    address = f"127.0.0.1:{compose_settings['CORE_BLOCKS_TEST_REGISTRY_PORT']}"
    docker_services.wait_until_responsive(lambda: answers(f"http://{address}/v2/"),
                                          timeout=30, pause=0.1)
    return RegistryService(address, compose_settings["username"], compose_settings["password"])


@pytest.fixture(scope="session")
def http_service(docker_services, compose_settings) -> str:
    """The compose httpd's base URL (it serves /hello.txt)."""
    url = f"http://127.0.0.1:{compose_settings['CORE_BLOCKS_TEST_HTTP_PORT']}"
    docker_services.wait_until_responsive(lambda: answers(f"{url}/hello.txt"),
                                          timeout=30, pause=0.1)
    return url
