"""Prefect 3's sync-or-async rule on prefect_docker: the container tasks are awaited in an
async flow and give values in a sync one, against the real engine."""

from __future__ import annotations

import asyncio

from core_blocks import flow
from prefect_docker.containers import (
    create_docker_container,
    get_docker_container_logs,
    remove_docker_container,
    run_container,
    start_docker_container,
    stop_docker_container,
)


def test_async_flow_awaits_the_container_tasks(docker_host, busybox_image):
    @flow
    async def nightly():
        exit_code, logs = await run_container(busybox_image, ["echo", "ran"],
                                              network_mode="none", docker_host=docker_host)
        container = await create_docker_container(busybox_image, ["echo", "created"],
                                                  docker_host=docker_host)
        await start_docker_container(container.id, docker_host=docker_host)
        await stop_docker_container(container.id, docker_host=docker_host)
        created_logs = await get_docker_container_logs(container.id, docker_host=docker_host)
        await remove_docker_container(container.id, docker_host=docker_host)
        return exit_code, logs.strip(), created_logs.strip()

    assert asyncio.run(nightly()) == (0, "ran", "created")


def test_sync_flow_gets_values_from_the_same_names(docker_host, busybox_image):
    @flow
    def nightly():
        return run_container(busybox_image, ["echo", "ran"], network_mode="none",
                             docker_host=docker_host)

    assert tuple(nightly()) == (0, "ran")
