"""DockerRegistryCredentials: a registry user, passed with each pull and push."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr, field_validator

from core_blocks.abstract import CredentialsBlock
from core_blocks.dispatch import threaded_dispatch
from prefect_docker.translation import docker_errors

# The only paths a registry address may have: the API version of the CLI's login addresses
# ("https://index.docker.io/v1/", Docker Hub's); anything else is a repository path.
_API_PATHS = frozenset({"", "v1", "v2"})
# A host name or IPv4 address, or an [IPv6] address, and perhaps a port: nothing else (spaces).
_REGISTRY_HOST = re.compile(r"([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
                            r"(:\d{1,5})?")


class DockerRegistryCredentials(CredentialsBlock):
    """A user of a Docker registry. The tasks send it with every pull and push (the SDK's
    `auth_config`) rather than trusting an earlier login of another client.

        >>> creds = DockerRegistryCredentials(username="ci", password="s3cret",
        ...                                   registry_url="registry.example.com")
        >>> creds.auth_config()["username"]
        'ci'
    """

    _block_type_name = "Docker Registry Credentials"
    _documentation_url = "https://docs.docker.com/reference/cli/docker/login/"

    username: str = Field(description="Registry user name")
    password: SecretStr = Field(description="Its password or access token")
    registry_url: str = Field(
        description="Registry address, e.g. registry.example.com:5000, index.docker.io or "
                    "https://index.docker.io/v1/")
    reauth: bool = Field(
        default=True, description="Log in again even if the engine has a login for it")

    @field_validator("registry_url")
    @classmethod
    def _registry_is_an_address(cls, value: str) -> str:
        address = value.strip()
        host, _, path = address.split("://", 1)[-1].partition("/")
        if not _REGISTRY_HOST.fullmatch(host) or path.strip("/") not in _API_PATHS:
            raise ValueError("must be a registry address such as registry.example.com:5000, "
                             "without a repository path")
        # The CLI's login address of Docker Hub keeps its "/v1/" as the CLI writes it.
        return address if path.strip("/") else address.rstrip("/")

    def auth_config(self) -> dict[str, str]:
        """The SDK's `auth_config` for a pull or push: user, password and registry."""
        return {"username": self.username, "password": self.password.get_secret_value(),
                "serveraddress": self.registry_url}

    @threaded_dispatch
    def login(self, client: Any) -> dict[str, Any]:
        """Log `client` (a docker.DockerClient) in to the registry; return the engine's answer.
        In async code, an awaitable (Prefect 3's rule)."""
        with docker_errors(secrets=(self.password.get_secret_value(),),
                           registry=self.registry_url,
                           username=self.username):
            return client.login(username=self.username,
                                password=self.password.get_secret_value(),
                                registry=self.registry_url, reauth=self.reauth)

    def get_client(self, docker_host: Any = None) -> Any:
        """A docker.DockerClient for docker_host (a DockerHost; default the environment's),
        logged in to this registry; close it when done."""
        from prefect_docker.host import DockerHost

        client = (docker_host or DockerHost()).get_docker_client()
        try:
            self.login(client, _sync=True)
        except BaseException:
            client.close()
            raise
        return client
