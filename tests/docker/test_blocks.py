"""DockerHost and DockerRegistryCredentials as blocks, and the error translation; no engine."""

from __future__ import annotations

import pytest
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from core_blocks.errors import BlockValidationError
from prefect_docker import (
    DockerContainerNameConflict,
    DockerDaemonUnreachable,
    DockerError,
    DockerHost,
    DockerImageNotFound,
    DockerRegistryCredentials,
    DockerRegistryLoginFailed,
    DockerRegistryUnreachable,
)
from prefect_docker.progress import LayerTotals
from prefect_docker.translation import translate


def test_host_saves_and_loads_with_its_options():
    DockerHost(base_url="tcp://127.0.0.1:2375", timeout=5, max_pool_size=2,
               client_kwargs={"use_ssh_client": False}).save("build-box")
    host = DockerHost.load("build-box")
    assert host.client_arguments() == {"timeout": 5, "max_pool_size": 2,
                                       "use_ssh_client": False}
    assert host.engine_url() == "tcp://127.0.0.1:2375"


def test_client_kwargs_may_not_repeat_the_blocks_own_fields():
    with pytest.raises(BlockValidationError, match="client_kwargs"):
        DockerHost(client_kwargs={"timeout": 5})


def test_an_engine_that_is_not_there_is_named_with_the_fix(tmp_path):
    url = f"unix://{tmp_path}/no-engine.sock"
    with pytest.raises(DockerDaemonUnreachable) as missing:
        with DockerHost(base_url=url).get_client():
            pass
    assert str(missing.value) == (
        f"No Docker engine answers at '{url}': start one (dockerd, Docker Desktop, colima...) "
        "or point DockerHost.base_url (or DOCKER_HOST) at a running one.")


def test_an_empty_base_url_means_docker_host_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/env.sock")
    with pytest.raises(DockerDaemonUnreachable, match="env.sock"):
        DockerHost().get_docker_client()


def test_credentials_keep_the_password_secret_and_build_an_auth_config(canary):
    DockerRegistryCredentials(username="ci", password=canary,
                              registry_url="registry.example.com:5000/").save("team")
    creds = DockerRegistryCredentials.load("team")
    assert canary not in repr(creds) and canary not in str(creds.model_dump())
    assert creds.auth_config() == {"username": "ci", "password": canary,
                                   "serveraddress": "registry.example.com:5000"}


@pytest.mark.parametrize("url", ["registry.example.com/team/app",
                                 "https://index.docker.io/v1/library/app", "https://r/v3/"])
def test_a_registry_url_with_a_repository_path_is_refused(url):
    with pytest.raises(BlockValidationError, match="registry_url") as refused:
        DockerRegistryCredentials(username="u", password="p", registry_url=url)
    assert "must be a registry address such as registry.example.com:5000, without a " \
           "repository path" in str(refused.value)


@pytest.mark.parametrize("url", ["https://index.docker.io/v1/", "https://r.example.com:5000/v2/",
                                 "http://127.0.0.1:5000/v1"])
def test_the_clis_login_addresses_with_an_api_version_are_accepted_as_given(url):
    creds = DockerRegistryCredentials(username="u", password="p", registry_url=url)
    assert creds.registry_url == url and creds.auth_config()["serveraddress"] == url


def test_credstore_env_is_a_field_passed_to_the_client():
    host = DockerHost(credstore_env={"PASSWORD_STORE_DIR": "/srv/pass"})
    assert host.client_arguments() == {"credstore_env": {"PASSWORD_STORE_DIR": "/srv/pass"}}
    # blocks saved before the field existed keep their client_kwargs; both at once clash
    assert DockerHost(client_kwargs={"credstore_env": {}}).client_arguments() == {
        "credstore_env": {}}
    with pytest.raises(BlockValidationError, match="credstore_env with the block's own field"):
        DockerHost(credstore_env={"A": "1"}, client_kwargs={"credstore_env": {"A": "2"}})


def _api_error(status: int, text: str) -> APIError:
    class Response:
        status_code = status
        reason = "x"

        @staticmethod
        def raise_for_status():
            return None

    return APIError(text, response=Response(), explanation=text)


@pytest.mark.parametrize("exc, kind, start", [
    (DockerException("Error while fetching server API version: ('Connection aborted.')"),
     DockerDaemonUnreachable, "No Docker engine answers at 'tcp://e:1'"),
    (_api_error(409, 'Conflict. The container name "/x" is already in use by container "1"'),
     DockerContainerNameConflict, "A container named 'x' already exists"),
    (_api_error(500, "login attempt to http://r:5000/v2/ failed with status: 401"),
     DockerRegistryLoginFailed, "Registry 'r:5000' refused the login of 'u'"),
    (_api_error(500, 'Head "http://r:5000/v2/a/manifests/1": no basic auth credentials'),
     DockerRegistryLoginFailed, "Registry 'r:5000' asks for credentials for 'r:5000/a:1'"),
    (ImageNotFound("No such image: r:5000/a:1"), DockerImageNotFound,
     "Image 'r:5000/a:1' is not on the engine"),
    (NotFound("manifest for r:5000/a:1 not found: manifest unknown"), DockerImageNotFound,
     "Image 'r:5000/a:1' was not found in its registry 'r:5000'"),
    (_api_error(500, "Get https://r:5000/v2/: dial tcp: lookup r: no such host"),
     DockerRegistryUnreachable, "Registry 'r:5000' could not be reached"),
    (_api_error(500, 'Get "https://r:5000/v2/": dial tcp 127.0.0.1:40123: connect: connection '
                     'refused'), DockerRegistryUnreachable, "Registry 'r:5000' could not be "
                                                            "reached from the Docker engine"),
    (_api_error(503, "service unavailable"), DockerError, "The Docker engine at 'tcp://e:1' "
                                                          "refused the request: service"),
], ids=["unreachable", "conflict", "login", "anonymous", "local-image", "registry-image",
        "registry-down", "registry-refused", "catch-all"])
def test_sdk_errors_become_one_clear_sentence(exc, kind, start):
    error = translate(exc, base_url="tcp://e:1", image="r:5000/a:1", registry="r:5000",
                      username="u", name="x")
    assert type(error) is kind
    assert str(error).startswith(start) and "\n" not in str(error)
    # only registry hiccups and 5xx
    assert error.retryable == (kind in (DockerError, DockerRegistryUnreachable))


def test_the_catch_all_blanks_secrets_the_engine_might_echo():
    error = translate(_api_error(400, "bad auth s3cr3t-value"), ("s3cr3t-value",),
                      base_url="tcp://e:1")
    assert "s3cr3t-value" not in str(error) and "***" in str(error)


def test_layer_totals_sum_progress_over_layers():
    totals = LayerTotals()
    assert totals.update({"status": "Pulling fs layer", "id": "a", "progressDetail": {}}) is None
    totals.update({"id": "a", "progressDetail": {"current": 5, "total": 10}})
    assert totals.update({"id": "b", "progressDetail": {"current": 1, "total": 4}}) == (6, 14)


def test_retry_condition_retries_registry_hiccups_only():
    from core_blocks.runtime.states import State, StateType
    from prefect_docker.retries import retry_on_transient_errors

    hiccup = translate(_api_error(503, "service unavailable"), base_url="tcp://e:1")
    refused = translate(_api_error(500, "unauthorized: authentication required"),
                        registry="r", username="u")
    assert retry_on_transient_errors(None, None, State(StateType.FAILED, error=hiccup))
    assert not retry_on_transient_errors(None, None, State(StateType.FAILED, error=refused))
    assert not retry_on_transient_errors(None, None, State(StateType.FAILED,
                                                           error=ValueError("x")))


@pytest.mark.parametrize("ci, expected", [("true", False), ("", True)])
def test_progress_bars_only_on_a_terminal_outside_ci(monkeypatch, ci, expected):
    import io
    import sys

    from prefect_docker.progress import progress, progress_enabled

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress_enabled() is expected
    with progress("pull x") as feed:  # draws (or not) without failing either way
        feed({"id": "a", "progressDetail": {"current": 1, "total": 2}})
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled() is False  # not a terminal


def test_engine_lines_outside_a_run_go_to_the_package_logger(caplog):
    from prefect_docker.run_log import run_logger

    with caplog.at_level("INFO", logger="prefect_docker"):
        run_logger()("Step 1/2 : FROM scratch")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("prefect_docker", "Step 1/2 : FROM scratch")]
