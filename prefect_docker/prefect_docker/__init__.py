"""core-blocks-docker: Docker blocks (hosts, registry credentials), image and container tasks,
and pytest fixtures for testing flows against a local engine and registry.

The block types and errors load on first use, so `import prefect_docker` stays cheap; Docker's
SDK is only imported by the functions that call the engine. The tasks live in
`prefect_docker.images` and `prefect_docker.containers`:

    from prefect_docker import DockerHost, DockerRegistryCredentials
    from prefect_docker.containers import run_container
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module defining it
    "DockerHost": "prefect_docker.host",
    "DockerRegistryCredentials": "prefect_docker.credentials",
    "ContainerResult": "prefect_docker.engine",
    "DockerError": "prefect_docker.errors",
    "DockerDaemonUnreachable": "prefect_docker.errors",
    "DockerImageNotFound": "prefect_docker.errors",
    "DockerRegistryLoginFailed": "prefect_docker.errors",
    "DockerRegistryUnreachable": "prefect_docker.errors",
    "DockerContainerNameConflict": "prefect_docker.errors",
    "DockerContainerNotFound": "prefect_docker.errors",
    "ContainerFailed": "prefect_docker.errors",
    "ContainerTimedOut": "prefect_docker.errors",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers (tests/packaging)
    from prefect_docker.credentials import DockerRegistryCredentials
    from prefect_docker.engine import ContainerResult
    from prefect_docker.errors import (
        ContainerFailed,
        ContainerTimedOut,
        DockerContainerNameConflict,
        DockerContainerNotFound,
        DockerDaemonUnreachable,
        DockerError,
        DockerImageNotFound,
        DockerRegistryLoginFailed,
        DockerRegistryUnreachable,
    )
    from prefect_docker.host import DockerHost
