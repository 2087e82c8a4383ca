"""AwsClientParameters: how boto3 clients connect (endpoint, TLS, API version, botocore Config)."""

from __future__ import annotations

import copy
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

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
    verify_cert_path: Path | None = Field(
        default=None,
        description="CA bundle file to check TLS certificates with (Prefect's spelling of "
                    "verify=<path>); checked when a client is built")
    api_version: str | None = Field(
        default=None, description="Service API version to use; the latest when empty")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="botocore Config options (or a botocore Config), e.g. {\"retries\": "
                    "{\"max_attempts\": 5, \"mode\": \"standard\"}, \"max_pool_connections\": 20}")

    def __hash__(self) -> int:
        # Prefect's blocks are hashable (keys of client caches); equal fields, equal hash.
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str))

    @model_validator(mode="before")
    @classmethod
    def _one_ca_bundle(cls, data: Any) -> Any:
        # Prefect's rules for both spellings given at once: warn, and keep the one that applies.
        if not isinstance(data, dict) or data.get("verify_cert_path") in (None, ""):
            return data
        verify = data.get("verify", True)
        if verify is False or (isinstance(verify, str) and verify.strip().lower() == "false"):
            warnings.warn("verify_cert_path is set but verify is False: verify_cert_path is "
                          "ignored; drop one of them.", UserWarning, stacklevel=2)
            return {**data, "verify_cert_path": None}
        if not isinstance(verify, bool) and not (
                isinstance(verify, str) and verify.strip().lower() == "true"):
            warnings.warn("verify_cert_path is set but verify is also set to a file path: "
                          "verify_cert_path is used; drop one of them.", UserWarning,
                          stacklevel=2)
            return {**data, "verify": True}
        return data

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
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _config_object_as_options(cls, value: Any) -> Any:
        # A botocore Config (Config(signature_version=UNSIGNED) is the common idiom) is kept
        # as the options it was given, so the block still saves as JSON. botocore is loaded
        # whenever such an object exists, so no import happens here for dicts.
        if value is None:
            return {}
        config_module = sys.modules.get("botocore.config")
        if config_module is None or not isinstance(value, config_module.Config):
            return value
        options = getattr(value, "_user_provided_options", None)
        if options is None:  # not botocore's usual layout: read every option instead
            options = {k: getattr(value, k) for k in config_module.Config.OPTION_DEFAULTS}
        unsigned = sys.modules["botocore"].UNSIGNED
        return {k: ("unsigned" if v is unsigned else v) for k, v in options.items()}

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
        from botocore import UNSIGNED
        from botocore.config import Config

        try:
            # A copy: building a client rewrites nested options in place (retries'
            # max_attempts), which would change the block and so its clients' cache key.
            config = Config(**copy.deepcopy(self.config))
        except TypeError as exc:
            raise BlockValidationError(
                f"Invalid aws-client-parameters field 'config': {exc}. Use botocore Config "
                f"options (see {self._documentation_url}).", ["config"]) from None
        if config.signature_version == "unsigned":  # how a saved block spells UNSIGNED
            config.signature_version = UNSIGNED
        return config

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `boto3.Session.client(...)`, None values left out."""
        verify: bool | str = self.verify
        field = "verify"
        if self.verify_cert_path is not None and self.verify is not False:
            verify, field = str(self.verify_cert_path), "verify_cert_path"
        if isinstance(verify, str) and not Path(verify).expanduser().is_file():
            raise BlockValidationError(
                f"Invalid aws-client-parameters field {field!r}: no CA bundle file at "
                f"{verify!r}. Give an existing file, or set verify to true/false.", [field])
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "use_ssl": self.use_ssl,
            # True is boto3's default: left out, so AWS_CA_BUNDLE and ca_bundle still apply.
            "verify": (str(Path(verify).expanduser()) if isinstance(verify, str)
                       else None if verify is True else verify),
            "api_version": self.api_version,
            "config": self.botocore_config(),
        }
        return {k: v for k, v in kwargs.items() if v is not None}

    def get_params_override(self) -> dict[str, Any]:
        """Prefect's name for client_kwargs(), with `verify` whenever it was given (and
        verify_cert_path as the Path it is)."""
        kwargs = self.client_kwargs()
        if self.verify_cert_path is not None and self.verify is not False:
            kwargs["verify"] = self.verify_cert_path
        elif "verify" in self.model_fields_set:
            kwargs.setdefault("verify", self.verify)
        return kwargs


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
