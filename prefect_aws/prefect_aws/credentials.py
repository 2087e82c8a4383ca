"""AwsCredentials and MinIOCredentials: boto3 sessions and clients from a saved block."""

from __future__ import annotations

import hashlib
import json
import threading
from abc import abstractmethod
from typing import Any

from pydantic import Field, PrivateAttr, SecretStr, ValidationInfo, field_validator

from core_blocks.abstract import CredentialsBlock
from prefect_aws.client_parameters import AwsClientParameters
from prefect_aws.errors import aws_errors
from prefect_aws.log_masking import hide_aws_secrets

_client_lock = threading.Lock()  # boto3 sessions are not thread-safe while building clients
_MAX_CLIENTS = 8  # per block: a few services, a few parameter sets


def _client_parameters_field() -> Any:
    return Field(default_factory=AwsClientParameters,
                 description="Endpoint, TLS and botocore options for the clients it makes")


class _BotoCredentials(CredentialsBlock):
    """What both credential types share: a boto3 session, and clients cached per block.

    Subclasses declare an `aws_client_parameters` field (last, so prompts and schemas list
    the credentials first).
    """

    _clients: dict[tuple[str, str], Any] = PrivateAttr(default_factory=dict)

    @abstractmethod
    def _session_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for boto3.Session; None values fall back to boto3's defaults."""

    def get_boto3_session(self) -> Any:
        """A new boto3 Session with these credentials (boto3's default chain for unset keys)."""
        import boto3

        kwargs = {k: v for k, v in self._session_kwargs().items() if v is not None}
        # botocore's DEBUG log would print the token (and could print the key): mask them.
        hide_aws_secrets(kwargs.get("aws_secret_access_key"), kwargs.get("aws_session_token"))
        with aws_errors():
            return boto3.Session(**kwargs)

    def get_client(self, service: str,
                   aws_client_parameters: AwsClientParameters | None = None) -> Any:
        """A boto3 client for `service` ("s3", "secretsmanager", ...), reused while unchanged.

        `aws_client_parameters` replaces the block's own for this client.
        """
        params = aws_client_parameters or self.aws_client_parameters
        state = json.dumps([self.model_dump(mode="json", include_secrets=True),
                            params.model_dump(mode="json")], sort_keys=True, default=str)
        # Hashed: the cache key must not be one more plain-text copy of the secrets.
        cache_key = (service, hashlib.sha256(state.encode()).hexdigest())
        client = self._clients.get(cache_key)
        if client is None:
            kwargs = params.client_kwargs()
            with _client_lock, aws_errors(endpoint=kwargs.get("endpoint_url")):
                client = self.get_boto3_session().client(service, **kwargs)
            if len(self._clients) >= _MAX_CLIENTS:  # clients of changed fields age out
                self._clients.pop(next(iter(self._clients)))
            self._clients[cache_key] = client
        return client

    def get_s3_client(self, aws_client_parameters: AwsClientParameters | None = None) -> Any:
        """A boto3 S3 client."""
        return self.get_client("s3", aws_client_parameters)


class AwsCredentials(_BotoCredentials):
    """AWS credentials: access keys, a named profile, or boto3's default chain when empty.

    With no keys and no profile, boto3 looks in the environment (AWS_ACCESS_KEY_ID, ...), the
    shared config files, and the instance or container role, in that order.

        >>> creds = AwsCredentials(region_name="eu-west-1")
        >>> creds.get_s3_client()  # doctest: +SKIP
    """

    _block_type_name = "AWS Credentials"
    _documentation_url = (
        "https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html")

    aws_access_key_id: str | None = Field(
        default=None, description="Access key ID; empty to use boto3's default chain")
    aws_secret_access_key: SecretStr | None = Field(
        default=None, validate_default=True,
        description="Secret access key that goes with the access key ID")
    aws_session_token: SecretStr | None = Field(
        default=None, description="Session token, for temporary credentials only")
    profile_name: str | None = Field(
        default=None, description="Profile of the shared AWS config files to use")
    region_name: str | None = Field(
        default=None, description="AWS region, e.g. eu-west-1; else boto3's default")
    aws_client_parameters: AwsClientParameters = _client_parameters_field()

    @field_validator("aws_secret_access_key")
    @classmethod
    def _keys_come_in_pairs(cls, value: SecretStr | None, info: ValidationInfo
                            ) -> SecretStr | None:
        # Runs on the default too (validate_default), so a key ID alone is caught here.
        if (info.data.get("aws_access_key_id") is None) != (value is None):
            raise ValueError("set it together with aws_access_key_id, or leave both empty to "
                             "use boto3's default chain")
        return value

    def _session_kwargs(self) -> dict[str, Any]:
        return {
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": _reveal(self.aws_secret_access_key),
            "aws_session_token": _reveal(self.aws_session_token),
            "profile_name": self.profile_name,
            "region_name": self.region_name,
        }


class MinIOCredentials(_BotoCredentials):
    """Credentials for a MinIO (or any S3-compatible) server: its root user and password.

    Point `aws_client_parameters.endpoint_url` at the server.

        >>> creds = MinIOCredentials(
        ...     minio_root_user="minio", minio_root_password="minio123",
        ...     aws_client_parameters=AwsClientParameters(endpoint_url="http://127.0.0.1:9000"))
        >>> creds.get_s3_client()  # doctest: +SKIP
    """

    _block_type_name = "MinIO Credentials"
    _block_type_slug = "minio-credentials"  # the derived slug would be "min-io-credentials"
    _documentation_url = "https://min.io/docs/minio/linux/reference/minio-server/settings.html"

    minio_root_user: str = Field(description="MinIO root user (the S3 access key)")
    minio_root_password: SecretStr = Field(description="MinIO root password (the S3 secret key)")
    region_name: str | None = Field(
        default=None, description="Region the server reports, e.g. us-east-1")
    aws_client_parameters: AwsClientParameters = _client_parameters_field()

    def _session_kwargs(self) -> dict[str, Any]:
        return {
            "aws_access_key_id": self.minio_root_user,
            "aws_secret_access_key": self.minio_root_password.get_secret_value(),
            "region_name": self.region_name,
        }


def _reveal(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
