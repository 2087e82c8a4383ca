"""Image tasks: pull (logged in with the credentials given), build and push (credentials
sent with the push).

    from prefect_docker import DockerRegistryCredentials
    from prefect_docker.images import build_docker_image, push_docker_image

    build_docker_image("app/", tag="registry.example.com/team/app:1.2")
    push_docker_image("registry.example.com/team/app", "1.2",
                      DockerRegistryCredentials.load("team-registry"))
"""

from __future__ import annotations

import inspect
from typing import Any

from core_blocks.dispatch import threaded_dispatch
from core_blocks.tasks import task
from prefect_docker import engine
from prefect_docker.credentials import DockerRegistryCredentials
from prefect_docker.host import DockerHost
from prefect_docker.retries import RETRYING
from prefect_docker.run_log import run_logger
from prefect_docker.translation import docker_errors


def _registry_of(repository: str) -> str | None:
    first = repository.split("/", 1)[0]
    return first if "/" in repository and ("." in first or ":" in first or
                                           first == "localhost") else None


def _auth(credentials: DockerRegistryCredentials | None,
          auth_config: dict[str, str] | None = None) -> dict[str, Any]:
    """auth_config for the SDK (from the credentials, else the caller's own), and what errors
    may name (never the password)."""
    if credentials is None:
        given = auth_config or {}
        return {"auth_config": auth_config, "secrets": (given.get("password", ""),),
                "username": given.get("username")}
    return {"auth_config": credentials.auth_config(),
            "secrets": (credentials.password.get_secret_value(),),
            "username": credentials.username}


@threaded_dispatch
@task(**RETRYING)
def pull_docker_image(repository: str, tag: str | None = None, platform: str | None = None,
                      all_tags: bool = False, docker_host: DockerHost | None = None,
                      docker_registry_credentials: DockerRegistryCredentials | None = None,
                      **pull_kwargs: Any) -> Any:
    """Pull repository:tag (latest when no tag; every tag with all_tags=True, which takes no
    tag) and return the SDK's Image (a list of them with all_tags). With credentials, the
    client logs in to their registry first. pull_kwargs go to the SDK's images.pull, e.g.
    auth_config={...} in place of docker_registry_credentials.

        >>> team = DockerRegistryCredentials.load("team")  # doctest: +SKIP
        >>> pull_docker_image("registry.example.com/team/app", "1.2",
        ...                   docker_registry_credentials=team)  # doctest: +SKIP
        <Image: 'registry.example.com/team/app:1.2'>
    """
    if tag and all_tags:
        raise ValueError("Cannot pass `tag` and `all_tags` together: give a tag to pull one "
                         "image, or all_tags=True without a tag to pull every tag.")
    if "stream" in pull_kwargs:
        raise ValueError("pull_docker_image cannot take `stream`: the SDK's images.pull sets "
                         "it itself; leave it out of the keyword arguments.")
    if docker_registry_credentials is not None and "auth_config" in pull_kwargs:
        raise ValueError("Cannot pass `docker_registry_credentials` and `auth_config` together: "
                         "keep one of them.")
    host = docker_host or DockerHost()
    auth = _auth(docker_registry_credentials, pull_kwargs.get("auth_config"))
    image = repository if all_tags else f"{repository}:{tag or 'latest'}"
    with host.get_client() as client, docker_errors(
            auth["secrets"], base_url=host.engine_url(), image=image,
            registry=_registry_of(repository), username=auth["username"]):
        if docker_registry_credentials is not None:
            _log_in(docker_registry_credentials, client)
        return engine.pull(client, repository, tag, platform, all_tags, **pull_kwargs)


def _log_in(credentials: Any, client: Any) -> None:
    """credentials.login(client=client), run to its end here also when it is a coroutine
    function (Prefect's signature, `async def login(self, client)`)."""
    answer = credentials.login(client=client)
    if inspect.isawaitable(answer):
        import asyncio

        async def finish() -> Any:
            return await answer

        asyncio.run(finish())


@threaded_dispatch
@task
def build_docker_image(path: str, tag: str, dockerfile: str = "Dockerfile",
                       buildargs: dict[str, str] | None = None,
                       docker_host: DockerHost | None = None) -> Any:
    """Build the image of the folder `path` as `tag`, its output streamed to the run's logger;
    return the SDK's Image.

        >>> build_docker_image("app/", tag="team/app:dev")  # doctest: +SKIP
        <Image: 'team/app:dev'>
    """
    host = docker_host or DockerHost()
    log = run_logger()
    with host.get_client() as client, docker_errors(base_url=host.engine_url(), image=tag):
        return engine.build(client, str(path), tag, dockerfile, buildargs, log)


@threaded_dispatch
@task(**RETRYING)
def push_docker_image(repository: str, tag: str,
                      docker_registry_credentials: DockerRegistryCredentials,
                      docker_host: DockerHost | None = None) -> str:
    """Push repository:tag to its registry with these credentials; return the stored digest.

        >>> push_docker_image("registry.example.com/team/app", "1.2",
        ...                   DockerRegistryCredentials.load("team"))  # doctest: +SKIP
        'sha256:...'
    """
    host = docker_host or DockerHost()
    auth = _auth(docker_registry_credentials)
    with host.get_client() as client, docker_errors(
            auth["secrets"], base_url=host.engine_url(), image=f"{repository}:{tag}",
            registry=_registry_of(repository) or docker_registry_credentials.registry_url,
            username=auth["username"]):
        return engine.push(client, repository, tag, auth["auth_config"])
