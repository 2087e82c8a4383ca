"""DockerHost: which Docker engine to talk to, and a client for it that closes after use."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationInfo, field_validator

from core_blocks.block import Block
from core_blocks.lazy_exports import lazy_exports
from prefect_docker.translation import docker_errors

if TYPE_CHECKING:  # annotations only: the client module imports docker
    from prefect_docker.client import DockerClient

# Keyword arguments the block sets itself: in client_kwargs they would silently win or clash.
_OWN_KWARGS = frozenset({"base_url", "version", "timeout", "max_pool_size"})
# credstore_env became a field later: blocks saved with it in client_kwargs still load.
_FIELD_OR_KWARG = "credstore_env"

# The client class, looked up here at each call (so a patch of this name takes effect) and
# imported on first use (it imports docker).
__getattr__, _ = lazy_exports(__name__, {"_ContextManageableDockerClient": "prefect_docker.client"},
                              ["_ContextManageableDockerClient"])


class DockerHost(Block):
    """A Docker engine: its address and client options; empty means the environment's engine.

        >>> host = DockerHost(base_url="unix:///var/run/docker.sock", timeout=30)
        >>> with host.get_client() as client:  # doctest: +SKIP
        ...     client.ping()
        True
        >>> client = host.get_client()  # doctest: +SKIP
        >>> client.close()  # without `with`, close it yourself  # doctest: +SKIP
    """

    _block_type_name = "Docker Host"
    _documentation_url = "https://docker-py.readthedocs.io/en/stable/client.html"

    base_url: str | None = Field(
        default=None,
        description="Engine address, e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2375; "
                    "empty: DOCKER_HOST and the other DOCKER_* variables, as docker.from_env()")
    version: str | None = Field(
        default=None, description="API version to use, e.g. 1.41; empty: the engine's own")
    timeout: int | None = Field(
        default=None, gt=0, description="Seconds to wait for an API answer; empty: 60")
    max_pool_size: int | None = Field(
        default=None, gt=0, description="Connections kept open to the engine; empty: 10")
    credstore_env: dict[str, str] | None = Field(
        default=None,
        description="Environment for the credential store helper (docker-credential-*) the "
                    "client runs; empty: this process's environment")
    client_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="More docker.DockerClient arguments, e.g. {\"use_ssh_client\": true}")

    @field_validator("client_kwargs")
    @classmethod
    def _no_duplicate_options(cls, value: dict[str, Any], info: ValidationInfo
                              ) -> dict[str, Any]:
        own = _OWN_KWARGS | ({_FIELD_OR_KWARG} if info.data.get(_FIELD_OR_KWARG) else set())
        taken = sorted(own & value.keys())
        if taken:
            raise ValueError(f"set {', '.join(taken)} with the block's own field, not here")
        return value

    def engine_url(self) -> str:
        """The engine's address as errors name it: base_url, else DOCKER_HOST, else the default."""
        return self.base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"

    def client_arguments(self) -> dict[str, Any]:
        """The keyword arguments for the SDK's client (unset options left to its defaults)."""
        options = {"version": self.version, "timeout": self.timeout,
                   "max_pool_size": self.max_pool_size, "credstore_env": self.credstore_env}
        return {**{k: v for k, v in options.items() if v is not None}, **self.client_kwargs}

    def get_docker_client(self) -> DockerClient:
        """A new docker.DockerClient for the block's engine; the same as get_client()."""
        client_class = sys.modules[__name__]._ContextManageableDockerClient
        with docker_errors(base_url=self.engine_url()):
            if self.base_url:
                return client_class(base_url=self.base_url, **self.client_arguments())
            return client_class.from_env(**self.client_arguments())

    def get_client(self) -> DockerClient:
        """A docker.DockerClient for the block's engine. Use it in a `with` that closes it on
        leaving (`with host.get_client() as client:`), or close it yourself when done."""
        return self.get_docker_client()
