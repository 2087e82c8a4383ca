"""AwsSecret: one secret in AWS Secrets Manager, read and written through a saved block.

The tasks `read_secret`, `create_secret`, `update_secret` and `delete_secret` (async, as in
Prefect's integration) live in prefect_aws.secret_tasks and load on first use from here, so
registering AwsSecret does not start the task runtime.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from core_blocks.abstract import SecretBlock
from core_blocks.dispatch import threaded_dispatch
from core_blocks.secret_values import remember_read
from prefect_aws.credentials import AwsCredentials
from prefect_aws.error_translation import aws_errors

_TASKS = ("read_secret", "create_secret", "update_secret", "delete_secret")


class AwsSecret(SecretBlock):
    """A secret in AWS Secrets Manager: the block holds its name, AWS holds the value.

    Text is stored as SecretString and bytes as SecretBinary; reading returns the same type.
    A dict or list is stored as JSON text, and read back as that text.

        >>> secret = AwsSecret(secret_name="warehouse/password",
        ...                    aws_credentials=AwsCredentials(region_name="eu-west-1"))
        >>> secret.write_secret("hunter2")  # doctest: +SKIP
        'arn:aws:secretsmanager:eu-west-1:...:secret:warehouse/password-AbCdEf'
        >>> secret.read_secret()  # doctest: +SKIP
        'hunter2'
    """

    _block_type_name = "AWS Secret"
    _documentation_url = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/intro.html"

    secret_name: str = Field(description="Name or ARN of the secret in AWS Secrets Manager")
    aws_credentials: AwsCredentials = Field(
        default_factory=AwsCredentials,
        description="aws-credentials block to call Secrets Manager with (region required)")

    @field_validator("secret_name")
    @classmethod
    def _name_is_set(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    def _client(self) -> Any:
        return self.aws_credentials.get_client("secretsmanager")

    @threaded_dispatch
    def read_secret(self, version_id: str | None = None, version_stage: str | None = None,
                    **read_kwargs: Any) -> str | bytes:
        """The secret's value (the current version unless one is named); read_kwargs go to
        GetSecretValue."""
        client = self._client()
        kwargs: dict[str, Any] = {"SecretId": self.secret_name, **read_kwargs}
        if version_id:
            kwargs["VersionId"] = version_id
        if version_stage:
            kwargs["VersionStage"] = version_stage
        with aws_errors(secret_name=self.secret_name, client=client):
            response = client.get_secret_value(**kwargs)
        if "SecretBinary" in response:
            value = bytes(response["SecretBinary"])
        else:
            value = response["SecretString"]
        remember_read(value)  # masked from now on in run history and run logs
        return value

    def get(self) -> str | bytes:
        """The secret's current value (SecretBlock interface)."""
        return self.read_secret(_sync=True)

    @threaded_dispatch
    def write_secret(self, secret_data: str | bytes | bytearray | memoryview | dict | list,
                     **create_kwargs: Any) -> str:
        """Store a new value, creating the secret if needed; return its ARN.

        Text is stored as SecretString; bytes, bytearray and memoryview as SecretBinary; a
        dict or list as its JSON text (a SecretString: read it back with json.loads).
        create_kwargs (Description, KmsKeyId, Tags, ...) apply when the secret is created.
        """
        value = secret_value(secret_data)
        client = self._client()
        with aws_errors(secret_name=self.secret_name, client=client):
            try:
                return client.put_secret_value(SecretId=self.secret_name, **value)["ARN"]
            except client.exceptions.ResourceNotFoundException:
                return client.create_secret(Name=self.secret_name, **value,
                                            **create_kwargs)["ARN"]

    @threaded_dispatch
    def delete_secret(self, recovery_window_in_days: int | None = None,
                      force_delete_without_recovery: bool = False, **delete_kwargs: Any) -> str:
        """Delete the secret; return its ARN.

        It stays recoverable for recovery_window_in_days (7 to 30, default 30) unless
        force_delete_without_recovery, which deletes it at once (and takes no window).
        delete_kwargs go to DeleteSecret.
        """
        options = deletion_options(recovery_window_in_days, force_delete_without_recovery,
                                   window_with_force_is_an_error=True)
        client = self._client()
        with aws_errors(secret_name=self.secret_name, client=client):
            return client.delete_secret(SecretId=self.secret_name, **options,
                                        **delete_kwargs)["ARN"]

    aread_secret = read_secret.aio
    awrite_secret = write_secret.aio
    adelete_secret = delete_secret.aio


def deletion_options(recovery_window_in_days: int | None, force_delete_without_recovery: bool,
                     window_with_force_is_an_error: bool) -> dict[str, Any]:
    """DeleteSecret's options, checked before any AWS call (Prefect's rules and messages)."""
    if force_delete_without_recovery:
        if recovery_window_in_days is not None and window_with_force_is_an_error:
            raise ValueError(
                "Cannot specify recovery window and force delete without recovery: pass "
                "recovery_window_in_days (7 to 30) or force_delete_without_recovery=True.")
        return {"ForceDeleteWithoutRecovery": True}
    window = 30 if recovery_window_in_days is None else recovery_window_in_days
    if isinstance(window, bool) or not isinstance(window, int) or not 7 <= window <= 30:
        raise ValueError(
            f"Recovery window must be between 7 and 30 days, got {window!r}: pass "
            "recovery_window_in_days from 7 to 30, or force_delete_without_recovery=True to "
            "delete at once.")
    return {"RecoveryWindowInDays": window}


def secret_value(data: Any, caller: str = "write_secret") -> dict[str, str | bytes]:
    """SecretString or SecretBinary for a value; the error names its type, never the value."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        value: dict[str, str | bytes] = {"SecretBinary": bytes(data)}
    elif isinstance(data, str):
        value = {"SecretString": data}
    elif isinstance(data, (dict, list)):
        try:
            value = {"SecretString": json.dumps(data)}
        except (TypeError, ValueError):
            raise TypeError(f"{caller} got a dict or list that is not JSON-serialisable; "
                            "use str, int, float, bool and None values only.") from None
    else:
        raise TypeError(f"{caller} takes str, bytes, or a dict or list (stored as JSON), "
                        f"not {type(data).__name__}.")
    if not next(iter(value.values())):
        raise ValueError(f"{caller} got an empty value; AWS Secrets Manager needs at least "
                         "one character or byte.")
    return value


def __getattr__(name: str) -> Any:
    if name in _TASKS:
        from prefect_aws import secret_tasks

        return getattr(secret_tasks, name)
    raise AttributeError(f"module 'prefect_aws.secrets_manager' has no attribute {name!r}")
