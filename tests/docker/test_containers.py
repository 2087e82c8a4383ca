"""Container tasks against the real engine: runs that succeed, fail and time out, logs, names."""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from core_blocks import flow
from prefect_docker import (
    ContainerFailed,
    ContainerTimedOut,
    DockerContainerNameConflict,
    DockerContainerNotFound,
    DockerImageNotFound,
)
from prefect_docker.containers import (
    create_docker_container,
    get_docker_container_logs,
    remove_docker_container,
    run_container,
    start_docker_container,
    stop_docker_container,
)


def container_ids(host) -> set[str]:
    with host.get_client() as client:
        return {c.id for c in client.containers.list(all=True)}


def test_a_successful_run_streams_its_log_and_leaves_no_container(docker_host, busybox_image,
                                                                   caplog):
    before = container_ids(docker_host)

    @flow
    def greet() -> tuple[int, str]:
        return run_container(busybox_image, ["sh", "-c", "echo one; echo two >&2; echo $WHO"],
                             environment={"WHO": "three"}, network_mode="none",
                             docker_host=docker_host)

    with caplog.at_level(logging.INFO, logger="core_blocks.runs"):
        exit_code, logs = greet()

    # stdout and stderr are two streams: the engine keeps the order within each only
    assert (exit_code, sorted(logs.splitlines())) == (0, ["one", "three", "two"])
    lines = [r.getMessage() for r in caplog.records if r.name == "core_blocks.runs"]
    assert sorted(line.split(" | ", 1)[1] for line in lines
                  if line.startswith("run_container-")) == ["one", "three", "two"]
    assert container_ids(docker_host) == before


def test_a_failing_run_raises_container_failed_with_its_last_lines(docker_host, busybox_image):
    before = container_ids(docker_host)
    script = "for i in $(seq 1 30); do echo line $i; done; echo giving up; exit 3"

    with pytest.raises(ContainerFailed) as failed:
        run_container.fn(busybox_image, ["sh", "-c", script], docker_host=docker_host)

    error = failed.value
    assert error.exit_code == 3
    assert str(error).splitlines()[0].endswith(f"({busybox_image}) exited with code 3; its last "
                                               "log lines:")
    assert str(error).splitlines()[-1] == "giving up"
    assert "line 10\n" not in str(error) and "line 30" in str(error)  # the tail only
    assert error.logs.startswith("line 1\nline 2\n")
    assert container_ids(docker_host) == before


def test_a_run_past_its_timeout_is_stopped_and_removed(docker_host, busybox_image):
    before = container_ids(docker_host)
    started = time.monotonic()

    with pytest.raises(ContainerTimedOut, match=r"still running after 1 s; it was stopped"):
        run_container.fn(busybox_image, ["sleep", "60"], timeout_seconds=1, auto_remove=False,
                         docker_host=docker_host)

    assert time.monotonic() - started < 8  # init=True: the stop is immediate, no 10 s kill
    assert container_ids(docker_host) == before  # removed even with auto_remove=False


def test_without_auto_remove_the_container_stays_for_inspection(docker_host, busybox_image):
    before = container_ids(docker_host)
    run_container.fn(busybox_image, ["true"], auto_remove=False, docker_host=docker_host)
    (kept,) = container_ids(docker_host) - before
    assert get_docker_container_logs.fn(kept, docker_host=docker_host) == ""
    remove_docker_container.fn(kept, docker_host=docker_host)
    assert container_ids(docker_host) == before


def test_created_started_stopped_container_logs_read_back(docker_host, busybox_image):
    name = f"core-blocks-test-{uuid.uuid4().hex[:8]}"
    container = create_docker_container(
        busybox_image, ["sh", "-c", "echo ready; exec sleep 60"], name=name,
        network_mode="none", docker_host=docker_host)
    try:
        assert start_docker_container(name, docker_host=docker_host).status == "running"
        deadline = time.monotonic() + 10
        while "ready" not in get_docker_container_logs(name, docker_host=docker_host):
            assert time.monotonic() < deadline, "the container never logged 'ready'"
            time.sleep(0.05)
        stamped = get_docker_container_logs(container.id, timestamps=True,
                                            docker_host=docker_host)
        assert stamped.split(" ", 1)[1] == "ready\n" and stamped[:4].isdigit()
        assert stop_docker_container(name, docker_host=docker_host, timeout=2).status == "exited"
    finally:
        remove_docker_container(name, docker_host=docker_host, force=True)

    with pytest.raises(DockerContainerNotFound, match=f"No container '{name}'"):
        get_docker_container_logs.fn(name, docker_host=docker_host)


def test_a_taken_name_is_a_clear_conflict(docker_host, busybox_image):
    name = f"core-blocks-test-{uuid.uuid4().hex[:8]}"
    first = create_docker_container.fn(busybox_image, ["true"], name=name,
                                       docker_host=docker_host)
    try:
        with pytest.raises(DockerContainerNameConflict) as conflict:
            create_docker_container.fn(busybox_image, ["true"], name=name,
                                       docker_host=docker_host)
        assert str(conflict.value) == (
            f"A container named '{name}' already exists on {docker_host.engine_url()!r}: "
            f"remove it (docker rm -f '{name}') or give this one another name.")
    finally:
        first.remove(force=True)


def test_a_host_network_container_reaches_the_compose_http_service(docker_host, busybox_image,
                                                                     http_service):
    result = run_container.fn(busybox_image, ["wget", "-qO-", f"{http_service}/hello.txt"],
                              network_mode="host", docker_host=docker_host)
    assert result.logs == "hello from httpd"


def test_an_unknown_image_is_an_image_not_found(docker_host):
    with pytest.raises(DockerImageNotFound, match="core-blocks-test/absent:1"):
        create_docker_container.fn("core-blocks-test/absent:1", docker_host=docker_host)
