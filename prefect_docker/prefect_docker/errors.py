"""The errors core-blocks-docker raises: each names the thing involved and the fix.

The SDK's own exceptions become these in `prefect_docker.translation`; this module holds only
the classes, so code that catches them never imports the translation tables (or the SDK).
"""

from __future__ import annotations

from core_blocks.errors import CoreBlocksError


class DockerError(CoreBlocksError):
    """A Docker call that failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class DockerDaemonUnreachable(DockerError, ConnectionError):
    """No Docker engine answers at the host's base URL."""


class DockerRegistryUnreachable(DockerError, ConnectionError):
    """A registry the engine could not connect to (address wrong, registry down, network)."""


class DockerImageNotFound(DockerError, LookupError):
    """An image (or tag) that neither the engine nor its registry has."""


class DockerRegistryLoginFailed(DockerError, PermissionError):
    """A registry that refused the credentials (or asked for some and got none)."""


class DockerContainerNameConflict(DockerError):
    """A container name already taken on that engine."""


class DockerContainerNotFound(DockerError, LookupError):
    """A container id or name the engine does not know."""


class ContainerFailed(DockerError):
    """A container that exited non-zero; `exit_code` and `logs` (its last lines) say how."""

    def __init__(self, message: str, *, exit_code: int, logs: str):
        super().__init__(message)
        self.exit_code = exit_code
        self.logs = logs


class ContainerTimedOut(DockerError, TimeoutError):
    """A container still running after its timeout; it was stopped and removed."""
