"""AwsSecret: one secret in AWS Secrets Manager, read and written through a saved block."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from core_blocks.abstract import SecretBlock
from prefect_aws.credentials import AwsCredentials
from prefect_aws.errors import aws_errors


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

    def read_secret(self, version_id: str | None = None, version_stage: str | None = None
                    ) -> str | bytes:
        """The secret's value (the current version unless one is named)."""
        client = self._client()
        kwargs: dict[str, Any] = {"SecretId": self.secret_name}
        if version_id:
            kwargs["VersionId"] = version_id
        if version_stage:
            kwargs["VersionStage"] = version_stage
        with aws_errors(secret_name=self.secret_name, client=client):
            response = client.get_secret_value(**kwargs)
        if "SecretBinary" in response:
            return bytes(response["SecretBinary"])
        return response["SecretString"]

    def get(self) -> str | bytes:
        """The secret's current value (SecretBlock interface)."""
        return self.read_secret()

    def write_secret(self, secret_data: str | bytes | bytearray | memoryview | dict | list,
                     **create_kwargs: Any) -> str:
        """Store a new value, creating the secret if needed; return its ARN.

        Text is stored as SecretString; bytes, bytearray and memoryview as SecretBinary; a
        dict or list as its JSON text (a SecretString: read it back with json.loads).
        create_kwargs (Description, KmsKeyId, Tags, ...) apply when the secret is created.
        """
        value = _secret_value(secret_data)
        client = self._client()
        with aws_errors(secret_name=self.secret_name, client=client):
            try:
                return client.put_secret_value(SecretId=self.secret_name, **value)["ARN"]
            except client.exceptions.ResourceNotFoundException:
                return client.create_secret(Name=self.secret_name, **value,
                                            **create_kwargs)["ARN"]

    def delete_secret(self, recovery_window_in_days: int = 30,
                      force_delete_without_recovery: bool = False) -> str:
        """Delete the secret; return its ARN.

        It stays recoverable for recovery_window_in_days (7 to 30) unless
        force_delete_without_recovery, which deletes it at once.
        """
        if not force_delete_without_recovery and not 7 <= recovery_window_in_days <= 30:
            raise ValueError(
                f"recovery_window_in_days must be from 7 to 30, not {recovery_window_in_days}; "
                "or pass force_delete_without_recovery=True to delete at once.")
        options: dict[str, Any] = (
            {"ForceDeleteWithoutRecovery": True} if force_delete_without_recovery
            else {"RecoveryWindowInDays": recovery_window_in_days})
        client = self._client()
        with aws_errors(secret_name=self.secret_name, client=client):
            return client.delete_secret(SecretId=self.secret_name, **options)["ARN"]


def _secret_value(data: Any) -> dict[str, str | bytes]:
    """SecretString or SecretBinary for a value; the error names its type, never the value."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        value: dict[str, str | bytes] = {"SecretBinary": bytes(data)}
    elif isinstance(data, str):
        value = {"SecretString": data}
    elif isinstance(data, (dict, list)):
        try:
            value = {"SecretString": json.dumps(data)}
        except (TypeError, ValueError):
            raise TypeError("write_secret got a dict or list that is not JSON-serialisable; "
                            "use str, int, float, bool and None values only.") from None
    else:
        raise TypeError(f"write_secret takes str, bytes, or a dict or list (stored as JSON), "
                        f"not {type(data).__name__}.")
    if not next(iter(value.values())):
        raise ValueError("write_secret got an empty value; AWS Secrets Manager needs at least "
                         "one character or byte.")
    return value
