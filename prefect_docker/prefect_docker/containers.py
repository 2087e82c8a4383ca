"""Container tasks: create, start, stop, remove, read logs, and run a command to completion.

    from prefect_docker.containers import run_container

    result = run_container("team/app:1.2", ["python", "-m", "app.nightly"], timeout_seconds=600)
    result.exit_code, result.logs

The tasks follow Prefect 3's sync-or-async rule (core_blocks.dispatch): `await run_container(...)`
in an async flow runs it in a worker thread; the same call without await in a sync flow.

run_container creates its containers with `init=True` (a tiny init as PID 1 forwards
signals, so a stop takes effect at once instead of after the 10 s kill delay);
create_docker_container creates exactly what it is given, as Prefect's does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core_blocks.dispatch import threaded_dispatch
from core_blocks.tasks import task
from prefect_docker import engine
from prefect_docker.credentials import DockerRegistryCredentials
from prefect_docker.engine import ContainerResult
from prefect_docker.errors import DockerImageNotFound
from prefect_docker.host import DockerHost
from prefect_docker.run_log import run_logger
from prefect_docker.translation import docker_errors

__all__ = ["ContainerResult", "create_docker_container", "get_docker_container_logs",
           "remove_docker_container", "run_container", "start_docker_container",
           "stop_docker_container"]


def _given(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


@threaded_dispatch
@task
def create_docker_container(image: str, command: str | list[str] | None = None,
                            name: str | None = None, detach: bool | None = None,
                            entrypoint: str | list[str] | None = None,
                            environment: dict[str, str] | list[str] | None = None,
                            volumes: dict[str, dict] | list[str] | None = None,
                            network_mode: str | None = None,
                            docker_host: DockerHost | None = None, **create_kwargs: Any) -> Any:
    """Create (not start) a container of `image`; return the SDK's Container. create_kwargs go
    to the SDK's containers.create (e.g. working_dir="/app", init=True, mem_limit="256m").

        >>> c = create_docker_container("team/app:1.2", ["echo", "hi"], name="hi")  # doctest: +SKIP
        >>> start_docker_container(c.id)  # doctest: +SKIP
    """
    host = docker_host or DockerHost()
    kwargs = {**_given(volumes=volumes, network_mode=network_mode), **create_kwargs}
    with host.get_client() as client, docker_errors(base_url=host.engine_url(), image=image,
                                                    name=name):
        return client.containers.create(image=image, command=command, name=name, detach=detach,
                                        entrypoint=entrypoint, environment=environment,
                                        **kwargs)


def _container_call(container_id: str, docker_host: DockerHost | None, method: str,
                    **kwargs: Any) -> Any:
    host = docker_host or DockerHost()
    with host.get_client() as client, docker_errors(base_url=host.engine_url(),
                                                    container=container_id):
        container = client.containers.get(container_id)
        getattr(container, method)(**kwargs)
        if method != "remove":
            container.reload()
        return container


@threaded_dispatch
@task
def start_docker_container(container_id: str, docker_host: DockerHost | None = None,
                           **start_kwargs: Any) -> Any:
    """Start a created container; return the SDK's Container."""
    return _container_call(container_id, docker_host, "start", **start_kwargs)


@threaded_dispatch
@task
def stop_docker_container(container_id: str, docker_host: DockerHost | None = None,
                          **stop_kwargs: Any) -> Any:
    """Stop a running container (stop_kwargs e.g. timeout=5); return the SDK's Container."""
    return _container_call(container_id, docker_host, "stop", **stop_kwargs)


@threaded_dispatch
@task
def remove_docker_container(container_id: str, docker_host: DockerHost | None = None,
                            **remove_kwargs: Any) -> Any:
    """Remove a container (remove_kwargs e.g. force=True, v=True); return the SDK's Container."""
    return _container_call(container_id, docker_host, "remove", **remove_kwargs)


@threaded_dispatch
@task
def get_docker_container_logs(container_id: str, since: datetime | int | None = None,
                              until: datetime | int | None = None, timestamps: bool = False,
                              docker_host: DockerHost | None = None, **logs_kwargs: Any) -> str:
    """The container's output (stdout and stderr) as text, between since and until."""
    host = docker_host or DockerHost()
    with host.get_client() as client, docker_errors(base_url=host.engine_url(),
                                                    container=container_id):
        container = client.containers.get(container_id)
        raw = container.logs(since=since, until=until, timestamps=timestamps, **logs_kwargs)
        return raw.decode(errors="replace")


@threaded_dispatch
@task
def run_container(image: str, command: str | list[str],
                  environment: dict[str, str] | list[str] | None = None,
                  volumes: dict[str, dict] | list[str] | None = None,
                  network_mode: str | None = None, timeout_seconds: float | None = None,
                  auto_remove: bool = True, docker_host: DockerHost | None = None,
                  docker_registry_credentials: DockerRegistryCredentials | None = None
                  ) -> ContainerResult:
    """Run `command` in a new container of `image` to its end, its output streamed to the
    run's logger; return (exit_code, logs). An image the engine lacks is pulled first, with
    the credentials when given. A non-zero exit raises ContainerFailed with the last log lines;
    after timeout_seconds the container is stopped and removed and ContainerTimedOut raised.
    With auto_remove (the default) the container is removed once it ended.

        >>> run_container("team/app:1.2", ["python", "-m", "app.nightly"],
        ...               timeout_seconds=600).exit_code  # doctest: +SKIP
        0
    """
    host = docker_host or DockerHost()
    log = run_logger()
    kwargs = {"init": True, **_given(environment=environment, volumes=volumes,
                                     network_mode=network_mode)}
    creds = docker_registry_credentials
    with host.get_client() as client:
        if not _has_image(client, image, host):
            with docker_errors((creds.password.get_secret_value(),) if creds else (),
                               base_url=host.engine_url(), image=image,
                               registry=creds.registry_url if creds else None,
                               username=creds.username if creds else None):
                engine.pull(client, image, auth_config=creds.auth_config() if creds else None)
        with docker_errors(base_url=host.engine_url(), image=image):
            return engine.run(client, image, command, kwargs, timeout_seconds, auto_remove, log)


def _has_image(client: Any, image: str, host: DockerHost) -> bool:
    try:
        with docker_errors(base_url=host.engine_url(), image=image):
            client.images.get(image)
    except DockerImageNotFound:
        return False
    return True
