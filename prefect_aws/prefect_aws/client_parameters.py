"""AwsClientParameters: how boto3 clients connect (endpoint, TLS, API version, botocore Config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from core_blocks.block import Block
from core_blocks.errors import BlockValidationError


class AwsClientParameters(Block):
    """Connection options for boto3 clients: a custom endpoint, TLS checks, retries, pools.

        >>> params = AwsClientParameters(endpoint_url="http://127.0.0.1:9000",
        ...                              config={"retries": {"max_attempts": 2}})
        >>> sorted(params.client_kwargs())
        ['config', 'endpoint_url', 'use_ssl', 'verify']
    """

    _block_type_name = "AWS Client Parameters"
    _documentation_url = (
        "https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html"
    )

    endpoint_url: str | None = Field(
        default=None,
        description="Endpoint to call instead of AWS's own, e.g. http://127.0.0.1:9000 (MinIO)")
    use_ssl: bool = Field(default=True, description="Use HTTPS when the endpoint allows both")
    verify: bool | str = Field(
        default=True,
        description="Check TLS certificates: true, false, or the path of a CA bundle file")
    api_version: str | None = Field(
        default=None, description="Service API version to use; the latest when empty")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="botocore Config options, e.g. {\"retries\": {\"max_attempts\": 5, "
                    "\"mode\": \"standard\"}, \"max_pool_connections\": 20}")

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_text_as_bool(cls, value: Any) -> Any:
        # `blocks create --set verify=false` passes text: a CA path is never called "false".
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return value

    @field_validator("config")
    @classmethod
    def _config_is_botocore(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Checked now, not when a client is first built: a typo must fail `blocks create`.
        # botocore.config is imported only for a non-empty config (about 65 ms).
        if value:
            config_problem(value)
        return value

    def botocore_config(self) -> Any:
        """The `config` options as a botocore Config, or None when there are none."""
        if not self.config:
            return None
        from botocore.config import Config

        try:
            return Config(**self.config)
        except TypeError as exc:
            raise BlockValidationError(
                f"Invalid aws-client-parameters field 'config': {exc}. Use botocore Config "
                f"options (see {self._documentation_url}).", ["config"]) from None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `boto3.Session.client(...)`, None values left out."""
        if isinstance(self.verify, str) and not Path(self.verify).expanduser().is_file():
            raise BlockValidationError(
                f"Invalid aws-client-parameters field 'verify': no CA bundle file at "
                f"{self.verify!r}. Give an existing file, or true/false.", ["verify"])
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "use_ssl": self.use_ssl,
            "verify": (str(Path(self.verify).expanduser()) if isinstance(self.verify, str)
                       else self.verify),
            "api_version": self.api_version,
            "config": self.botocore_config(),
        }
        return {k: v for k, v in kwargs.items() if v is not None}


def config_problem(options: dict[str, Any]) -> None:
    """Raise ValueError naming the first option botocore's Config does not take."""
    import difflib

    try:
        from botocore.config import Config
    except ImportError:  # without botocore no client can be built: that error says why
        return
    valid = list(Config.OPTION_DEFAULTS)
    for key in options:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = (f"the nearest is {close[0]!r}" if close
                    else f"valid options are {', '.join(valid)}")
            raise ValueError(f"{key!r} is not a botocore Config option; {hint}")
    try:
        Config(**options)
    except Exception as exc:  # botocore's own check of nested values (retries, s3, ...)
        raise ValueError(" ".join(str(exc).split())) from None
