"""DockerHost.get_client against the real engine: with and without `with`, as Prefect's."""

from __future__ import annotations

import docker

from prefect_docker import DockerHost


def open_pools(client) -> int:
    """Connection pools the client holds to the engine (0 once it is closed)."""
    adapter = client.api.get_adapter(client.api.base_url)
    pools = getattr(adapter, "pools", None)  # unix sockets; tcp keeps them in a pool manager
    return len(pools if pools is not None else adapter.poolmanager.pools)


def test_get_client_without_with_is_a_docker_client_that_works(docker_host):
    client = docker_host.get_client()
    try:
        assert isinstance(client, docker.DockerClient)
        assert client.ping() and open_pools(client) > 0
    finally:
        client.close()
    assert open_pools(client) == 0


def test_get_client_in_with_closes_the_client_on_leaving(docker_host):
    with docker_host.get_client() as client:
        assert client.ping() and open_pools(client) > 0
    assert open_pools(client) == 0


def test_credstore_env_reaches_the_engine_client(docker_host):
    host = DockerHost(base_url=docker_host.base_url, credstore_env={"HELPER_HOME": "/srv"})
    with host.get_client() as client:
        assert client.api.credstore_env == {"HELPER_HOME": "/srv"}


def test_clients_come_from_the_class_named_in_the_host_module(docker_host, monkeypatch):
    from prefect_docker import host as host_module

    made = []

    class Recording(host_module._ContextManageableDockerClient):
        def __init__(self, *args, **kwargs):
            made.append(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(host_module, "_ContextManageableDockerClient", Recording)
    with docker_host.get_client() as client:
        assert isinstance(client, Recording) and client.ping()
    assert len(made) == 1
