"""The registry password never reaches logs (any logger, DEBUG included), errors or the run
history: a flow pushes and pulls with it, another fails its login with a wrong one."""

from __future__ import annotations

import logging

import pytest

from core_blocks import flow
from core_blocks.runtime.history import flush
from prefect_docker import DockerRegistryCredentials, DockerRegistryLoginFailed
from prefect_docker.images import pull_docker_image, push_docker_image


def test_the_registry_password_stays_out_of_logs_errors_and_history(
        docker_host, busybox_image, local_registry, block_home, caplog):
    password = local_registry.credentials.password.get_secret_value()
    assert password.startswith("canary-")
    repository = local_registry.image("canary/busybox")

    @flow
    def ship() -> str:
        creds = DockerRegistryCredentials.load("local-registry")
        digest = push_docker_image(repository, "1", creds, docker_host=docker_host)
        pull_docker_image(repository, "1", docker_host=docker_host,
                          docker_registry_credentials=creds)
        return digest

    @flow
    def ship_wrong() -> None:
        wrong = DockerRegistryCredentials(username="tester", password=f"{password}-wrong",
                                          registry_url=local_registry.address)
        pull_docker_image(repository, "1", docker_host=docker_host,
                          docker_registry_credentials=wrong)

    with docker_host.get_client() as client:
        client.images.get(busybox_image).tag(repository, "1")
        try:
            with caplog.at_level(logging.DEBUG):
                assert ship().startswith("sha256:")
                with pytest.raises(DockerRegistryLoginFailed) as refused:
                    ship_wrong()
        finally:
            client.images.remove(f"{repository}:1", force=True)
    flush()

    assert password not in caplog.text
    assert all(password not in str(r.args) for r in caplog.records)
    assert password not in str(refused.value) and password not in repr(refused.value.args)
    files = [p.read_bytes() for p in block_home.rglob("*") if p.is_file()]
    assert any(b"ship_wrong" in content for content in files)  # the history is in there
    for content in files:  # the store with its run history, and the secrets file
        assert password.encode() not in content
