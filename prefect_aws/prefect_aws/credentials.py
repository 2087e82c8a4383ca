"""AwsCredentials and MinIOCredentials: boto3 sessions and clients from a saved block."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
import weakref
from abc import abstractmethod
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from pydantic import Field, PrivateAttr, SecretStr, ValidationInfo, field_validator

from core_blocks.abstract import CredentialsBlock
from prefect_aws.client_parameters import AwsClientParameters
from prefect_aws.error_translation import aws_errors
from prefect_aws.errors import AwsError
from prefect_aws.log_masking import hide_aws_secrets

# botocore is not thread-safe while building sessions and clients; held only for that, never
# across a network call (an STS AssumeRole), so one slow role holds up no other block.
_client_lock = threading.Lock()
_MAX_CLIENTS = 8  # per block: a few services, a few parameter sets
_RENEW_BEFORE = 300  # seconds: a client on an assumed role is rebuilt this long before expiry
# What STS AssumeRole takes besides RoleArn (assume_role_arn): a typo fails at validation.
_ASSUME_ROLE_KEYS = ("RoleSessionName", "DurationSeconds", "ExternalId", "Policy", "PolicyArns",
                     "Tags", "TransitiveTagKeys", "SerialNumber", "TokenCode", "SourceIdentity",
                     "ProvidedContexts")


class ClientType(Enum):
    """The boto3 services Prefect's integration names; get_client takes any service name."""

    S3 = "s3"
    ECS = "ecs"
    BATCH = "batch"
    SECRETS_MANAGER = "secretsmanager"


def _client_parameters_field() -> Any:
    return Field(default_factory=AwsClientParameters,
                 description="Endpoint, TLS and botocore options for the clients it makes")


class _BotoCredentials(CredentialsBlock):
    """What both credential types share: a boto3 session, and clients cached per block.

    Subclasses declare an `aws_client_parameters` field (last, so prompts and schemas list
    the credentials first).
    """

    # cache key -> (client, time.time() after which to rebuild it, or None for never)
    _clients: dict[tuple[str, str], tuple[Any, float | None]] = PrivateAttr(default_factory=dict)

    @abstractmethod
    def _session_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for boto3.Session; None values fall back to boto3's defaults."""

    def _state_digest(self) -> str:
        # Hashed: a cache key or hash must not be one more plain-text copy of the secrets.
        state = json.dumps(self.model_dump(mode="json", include_secrets=True), sort_keys=True,
                           default=str)
        return hashlib.sha256(state.encode()).hexdigest()

    def __hash__(self) -> int:
        """Equal fields, equal hash (as Prefect's blocks), changing when a field changes."""
        return hash(self._state_digest())

    def _new_session(self) -> tuple[Any, float | None]:
        """A boto3 Session, and when its credentials expire (None: boto3 renews them)."""
        import boto3

        kwargs = {k: v for k, v in self._session_kwargs().items() if v is not None}
        # botocore's DEBUG log would print the token (and could print the key): mask them.
        hide_aws_secrets(kwargs.get("aws_secret_access_key"), kwargs.get("aws_session_token"))
        with aws_errors(), _client_lock:
            return boto3.Session(**kwargs), None

    def get_boto3_session(self) -> Any:
        """A new boto3 Session with these credentials (boto3's default chain for unset keys)."""
        return self._new_session()[0]

    def get_client(self, client_type: str | ClientType,
                   aws_client_parameters: AwsClientParameters | None = None) -> Any:
        """A boto3 client for a service ("s3", "secretsmanager", or a ClientType), reused
        while the fields are unchanged (and, on an assumed role, until shortly before its
        credentials expire).

        `aws_client_parameters` replaces the block's own for this client.
        """
        return _get_client_cached(self, client_type, aws_client_parameters)

    def _cached_client(self, service: str, params: AwsClientParameters) -> tuple[Any, bool]:
        """(the client, whether it came from this block's cache)."""
        cache_key = (service, hashlib.sha256(
            (self._state_digest() + json.dumps(params.model_dump(mode="json"), sort_keys=True,
                                               default=str)).encode()).hexdigest())
        client, renew_at = self._clients.get(cache_key, (None, None))
        if client is not None and (renew_at is None or time.time() < renew_at):
            return client, True
        kwargs = params.client_kwargs()
        session, expires_at = self._new_session()
        with aws_errors(endpoint=kwargs.get("endpoint_url")), _client_lock:
            client = session.client(service, **kwargs)
        self._clients.pop(cache_key, None)
        if len(self._clients) >= _MAX_CLIENTS:  # clients of changed fields age out
            self._clients.pop(next(iter(self._clients)))
        self._clients[cache_key] = (
            client, None if expires_at is None else expires_at - _RENEW_BEFORE)
        return client, False

    def get_secrets_manager_client(self) -> Any:
        """A boto3 Secrets Manager client."""
        return self.get_client("secretsmanager")

    def get_s3_client(self, aws_client_parameters: AwsClientParameters | None = None) -> Any:
        """A boto3 S3 client."""
        return self.get_client("s3", aws_client_parameters)


class _ClientCacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


class _ClientCache:
    """The clients every credentials block keeps (each block its own, so a client never
    outlives the block or crosses to another), called as Prefect's `_get_client_cached(ctx,
    client_type)` is, with `cache_info()` and `cache_clear()` as functools.lru_cache has
    them: Prefect's tests and code that tunes caching read them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocks: list[weakref.ref] = []  # blocks holding clients, for cache_clear
        self.hits = self.misses = 0

    def __call__(self, ctx: _BotoCredentials, client_type: str | ClientType,
                 aws_client_parameters: AwsClientParameters | None = None) -> Any:
        service = client_type.value if isinstance(client_type, ClientType) else client_type
        had_clients = bool(ctx._clients)
        client, hit = ctx._cached_client(service,
                                         aws_client_parameters or ctx.aws_client_parameters)
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
                if not had_clients:
                    self._blocks = [r for r in self._blocks if r() is not None]
                    self._blocks.append(weakref.ref(ctx))
        return client

    def cache_info(self) -> _ClientCacheInfo:
        live = [b for b in (r() for r in self._blocks) if b is not None]
        return _ClientCacheInfo(self.hits, self.misses, _MAX_CLIENTS,
                                sum(len(b._clients) for b in live))

    def cache_clear(self) -> None:
        """Forget every block's clients and the counts."""
        with self._lock:
            for ref in self._blocks:
                block = ref()
                if block is not None:
                    block._clients.clear()
            self._blocks = []
            self.hits = self.misses = 0


_get_client_cached = _ClientCache()


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
    assume_role_arn: str | None = Field(
        default=None,
        description="IAM role to assume with these credentials (e.g. in another account); "
                    "clients then use the role's temporary credentials")
    assume_role_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="More AssumeRole parameters: RoleSessionName, DurationSeconds, ExternalId, "
                    "Policy, PolicyArns, Tags, ...")
    aws_client_parameters: AwsClientParameters = _client_parameters_field()

    @field_validator("assume_role_arn")
    @classmethod
    def _role_is_an_arn(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("arn:"):
            raise ValueError("must be a role ARN like arn:aws:iam::123456789012:role/Name")
        return value or None

    @field_validator("assume_role_kwargs", mode="before")
    @classmethod
    def _assume_role_keys(cls, value: Any) -> Any:
        if value is None:
            return {}
        if hasattr(value, "model_dump"):  # a model of the parameters: its set fields
            value = value.model_dump(exclude_none=True)
        if isinstance(value, dict):
            for key in value:
                if key not in _ASSUME_ROLE_KEYS:
                    hint = ("set the role in assume_role_arn" if key == "RoleArn"
                            else f"AssumeRole takes {', '.join(_ASSUME_ROLE_KEYS)}")
                    raise ValueError(f"{key!r} is not an AssumeRole parameter here; {hint}")
        return value

    @field_validator("aws_secret_access_key")
    @classmethod
    def _keys_come_in_pairs(cls, value: SecretStr | None, info: ValidationInfo
                            ) -> SecretStr | None:
        # Runs on the default too (validate_default), so a key ID alone is caught here.
        if (info.data.get("aws_access_key_id") is None) != (value is None):
            raise ValueError("set it together with aws_access_key_id, or leave both empty to "
                             "use boto3's default chain")
        return value

    @field_validator("aws_session_token")
    @classmethod
    def _token_needs_keys(cls, value: SecretStr | None, info: ValidationInfo
                          ) -> SecretStr | None:
        if value is not None and info.data.get("aws_access_key_id") is None:
            raise ValueError("set it only with aws_access_key_id and aws_secret_access_key: a "
                             "session token belongs to the temporary keys issued with it")
        return value

    def _session_kwargs(self) -> dict[str, Any]:
        return {
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": _reveal(self.aws_secret_access_key),
            "aws_session_token": _reveal(self.aws_session_token),
            "profile_name": self.profile_name,
            "region_name": self.region_name,
        }

    def _new_session(self) -> tuple[Any, float | None]:
        """The base session, or with assume_role_arn a session on the role's credentials."""
        base, expires_at = super()._new_session()
        if not self.assume_role_arn:
            return base, expires_at
        import boto3

        request = {"RoleSessionName": f"prefect-session-{uuid.uuid4().hex[:8]}",
                   **self.assume_role_kwargs, "RoleArn": self.assume_role_arn}
        try:
            with aws_errors():
                with _client_lock:
                    sts = base.client("sts")
                role = sts.assume_role(**request)["Credentials"]  # the network call: unlocked
        except AwsError as exc:  # same class (and botocore base): the message names the role
            exc.args = (f"Could not assume the role {self.assume_role_arn!r}: {exc.args[0]} "
                        "Check the role's trust policy and assume_role_kwargs.",)
            raise
        hide_aws_secrets(role["SecretAccessKey"], role["SessionToken"])
        with aws_errors(), _client_lock:
            session = boto3.Session(aws_access_key_id=role["AccessKeyId"],
                                    aws_secret_access_key=role["SecretAccessKey"],
                                    aws_session_token=role["SessionToken"],
                                    region_name=self.region_name)
        return session, _timestamp(role.get("Expiration"))


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


def _timestamp(expiration: Any) -> float | None:
    """STS's Expiration (a datetime, or ISO text from some stubs) as seconds since the epoch."""
    if isinstance(expiration, str):
        expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    return expiration.timestamp() if isinstance(expiration, datetime) else None


def __getattr__(name: str) -> Any:
    # `patch("prefect_aws.credentials.boto3.Session")`, common in Prefect users' tests, needs
    # this name; boto3 itself stays unimported until something asks for it.
    if name == "boto3":
        import boto3

        return boto3
    raise AttributeError(f"module 'prefect_aws.credentials' has no attribute {name!r}")
