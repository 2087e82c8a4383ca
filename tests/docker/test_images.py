"""Image tasks against the real engine and the compose registry (htpasswd auth)."""

from __future__ import annotations

import logging
import os

import pytest

from core_blocks import flow
from core_blocks.runtime import history
from core_blocks.testing.isolation import isolated_home
from prefect_docker import (
    DockerDaemonUnreachable,
    DockerHost,
    DockerImageNotFound,
    DockerRegistryCredentials,
    DockerRegistryLoginFailed,
    DockerRegistryUnreachable,
)
from prefect_docker.images import build_docker_image, pull_docker_image, push_docker_image
from prefect_docker.testing.contexts import busybox_context
from prefect_docker.testing.registry import free_port


@pytest.fixture(scope="module")
def pushed(docker_host, busybox_image, local_registry_service, tmp_path_factory):
    """The busybox test image tagged into the registry and pushed there; removed locally.

    Module-scoped, so it runs before any test's own home: the push task records its run in a
    home of the fixture's, never in ~/.core_blocks."""
    with isolated_home(tmp_path_factory.mktemp("pushed-home")):
        result = _push(docker_host, busybox_image, local_registry_service)
        history.flush()
    return result


def _push(docker_host, busybox_image, service) -> tuple[str, str, str]:
    repository, tag = f"{service.address}/team/busybox", "v1"
    creds = DockerRegistryCredentials(username=service.username, password=service.password,
                                      registry_url=service.address)
    with docker_host.get_client() as client:
        client.images.get(busybox_image).tag(repository, tag)
        try:
            digest = push_docker_image(repository, tag, creds, docker_host=docker_host)
        finally:
            client.images.remove(f"{repository}:{tag}")
    return repository, tag, digest


def test_build_streams_its_output_to_the_run_logger(docker_host, tmp_path, caplog):
    context = busybox_context(tmp_path / "ctx", 'ARG GREETING\nRUN echo "built with $GREETING"\n')
    tag = "core-blocks-test/built:1"

    @flow
    def build() -> str:
        image = build_docker_image(str(context), tag, buildargs={"GREETING": "hola"},
                                   docker_host=docker_host)
        return image.id

    try:
        with caplog.at_level(logging.INFO, logger="core_blocks.runs"):
            image_id = build()
        assert image_id.startswith("sha256:")
        lines = [r.getMessage() for r in caplog.records if r.name == "core_blocks.runs"]
        assert any(line.endswith("| built with hola") for line in lines), lines
        assert any(getattr(r, "run_name", "").startswith("build_docker_image")
                   for r in caplog.records)
    finally:
        with docker_host.get_client() as client:
            client.images.remove(tag, force=True)


def test_pushed_image_pulls_back_with_credentials(docker_host, local_registry, pushed):
    repository, tag, digest = pushed
    assert digest.startswith("sha256:")
    creds = DockerRegistryCredentials.load("local-registry")  # saved by the fixture

    image = pull_docker_image(repository, tag, docker_host=docker_host,
                              docker_registry_credentials=creds)
    try:
        assert f"{repository}:{tag}" in image.tags
    finally:
        with docker_host.get_client() as client:
            client.images.remove(f"{repository}:{tag}")


def test_a_wrong_password_is_refused_in_one_clear_sentence(docker_host, local_registry, pushed):
    repository, tag, _ = pushed
    wrong = DockerRegistryCredentials(username=local_registry.credentials.username,
                                      password="not-the-password-canary",
                                      registry_url=local_registry.address)

    with pytest.raises(DockerRegistryLoginFailed) as pulled:
        pull_docker_image.fn(repository, tag, docker_host=docker_host,
                             docker_registry_credentials=wrong)
    with docker_host.get_client() as client, pytest.raises(DockerRegistryLoginFailed) as login:
        wrong.login(client)

    for error in (pulled.value, login.value):
        message = str(error)
        assert message.startswith(f"Registry '{local_registry.address}' refused the login of "
                                  "'tester': check the username and password")
        assert "not-the-password-canary" not in message and "\n" not in message
        assert error.__cause__ is None and error.__suppress_context__


def test_an_anonymous_pull_from_the_authenticated_registry_is_refused(docker_host, pushed):
    repository, tag, _ = pushed

    with pytest.raises(DockerRegistryLoginFailed, match="asks for credentials"):
        pull_docker_image.fn(repository, tag, docker_host=docker_host)


def test_a_missing_tag_is_an_image_not_found(docker_host, local_registry, pushed):
    repository, _, _ = pushed

    with pytest.raises(DockerImageNotFound, match=r"team/busybox:nope' was not found in its "
                                                  r"registry"):
        pull_docker_image.fn(repository, "nope", docker_host=docker_host,
                             docker_registry_credentials=local_registry.credentials)


def test_login_with_the_right_password_succeeds(docker_host, local_registry):
    with docker_host.get_client() as client:
        assert local_registry.credentials.login(client)["Status"] == "Login Succeeded"


def test_credentials_give_a_logged_in_client(docker_host, local_registry):
    client = local_registry.credentials.get_client(docker_host)
    try:
        assert client.ping()
    finally:
        client.close()


def test_run_container_pulls_a_missing_image_with_the_credentials(docker_host, local_registry,
                                                                  pushed):
    from prefect_docker.containers import run_container

    repository, tag, _ = pushed
    try:
        result = run_container.fn(f"{repository}:{tag}", ["echo", "pulled and ran"],
                                  docker_host=docker_host,
                                  docker_registry_credentials=local_registry.credentials)
        assert result == (0, "pulled and ran")
    finally:
        with docker_host.get_client() as client:
            client.images.remove(f"{repository}:{tag}")


def test_tag_and_all_tags_together_are_refused_before_any_call():
    with pytest.raises(ValueError, match=r"^Cannot pass `tag` and `all_tags` together: give a "):
        pull_docker_image.fn("registry.example.com/team/app", "1.2", all_tags=True)


@pytest.mark.parametrize("kwargs, match", [
    ({"stream": False}, "pull_docker_image cannot take `stream`: the SDK.s images.pull sets "),
    ({"auth_config": {}, "docker_registry_credentials": DockerRegistryCredentials(
        username="u", password="p", registry_url="r")}, "`docker_registry_credentials` and "
                                                        "`auth_config` together"),
])
def test_pull_kwargs_that_clash_with_the_tasks_own_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pull_docker_image.fn("registry.example.com/team/app", "1.2", **kwargs)


def test_pull_kwargs_reach_the_sdks_pull(docker_host, local_registry, pushed):
    repository, tag, _ = pushed
    auth_config = local_registry.credentials.auth_config()

    image = pull_docker_image.fn(repository, tag, docker_host=docker_host,
                                 auth_config=auth_config)  # the SDK's own argument
    try:
        assert f"{repository}:{tag}" in image.tags
    finally:
        with docker_host.get_client() as client:
            client.images.remove(f"{repository}:{tag}")


def test_credstore_env_is_given_to_the_credential_helper(docker_host, local_registry, pushed,
                                                         tmp_path, monkeypatch):
    """A pull without credentials asks the docker config's credential helper, which reads the
    registry user from the environment that credstore_env gives it."""
    repository, tag, _ = pushed
    helper = tmp_path / "bin" / "docker-credential-coreblockstest"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\ncat >/dev/null\nprintf \'{"ServerURL": "%s", "Username": '
                      '"%s", "Secret": "%s"}\' "$REG_ADDRESS" "$REG_USER" "$REG_SECRET"\n')
    helper.chmod(0o755)
    (tmp_path / "config.json").write_text('{"credsStore": "coreblockstest"}')
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    creds = local_registry.credentials
    host = DockerHost(base_url=docker_host.base_url, credstore_env={
        "REG_ADDRESS": creds.registry_url, "REG_USER": creds.username,
        "REG_SECRET": creds.password.get_secret_value()})

    image = pull_docker_image.fn(repository, tag, docker_host=host)
    try:
        assert f"{repository}:{tag}" in image.tags
    finally:
        with docker_host.get_client() as client:
            client.images.remove(f"{repository}:{tag}")


def test_an_unreachable_registry_is_named_not_the_engine(docker_host):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there: the engine's dial is refused
    creds = DockerRegistryCredentials(username="u", password="p", registry_url=address)

    with docker_host.get_client() as client, pytest.raises(DockerRegistryUnreachable) as login:
        creds.login(client)
    with pytest.raises(DockerRegistryUnreachable) as pulled:
        pull_docker_image.fn(f"{address}/team/app", "1", docker_host=docker_host)

    for error in (login.value, pulled.value):
        assert str(error).startswith(f"Registry '{address}' could not be reached from the "
                                     "Docker engine: check the registry's address")
        assert "connection refused" in str(error) and error.retryable
        assert isinstance(error, ConnectionError) and not isinstance(error,
                                                                     DockerDaemonUnreachable)
