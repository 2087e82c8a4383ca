"""Secrets Manager tasks, by Prefect's names: read, create, update and delete one secret.

They follow Prefect 3's sync-or-async rule (core_blocks.dispatch): `await create_secret(...)`
in an async flow, as with Prefect's async tasks, runs the call in a worker thread; in a sync
flow `create_secret(...)` returns the answer. Arguments are checked before any AWS call. The
results are Secrets Manager's answers (ARN, Name, VersionId, DeletionDate, ...) without
ResponseMetadata.
Import them from `prefect_aws.secrets_manager`.

    from prefect_aws.secrets_manager import create_secret, read_secret

    await create_secret("warehouse/password", "hunter2", await AwsCredentials.load("prod"))
"""

from __future__ import annotations

from typing import Any

from core_blocks.dispatch import threaded_dispatch
from core_blocks.tasks import exponential_backoff, task
from prefect_aws.credentials import AwsCredentials
from prefect_aws.error_translation import aws_errors, retry_on_transient_errors
from prefect_aws.secrets_manager import AwsSecret, deletion_options
from prefect_aws.secrets_manager import secret_value as secret_request


@threaded_dispatch
@task(retries=3, retry_delay_seconds=exponential_backoff(1), retry_jitter_factor=0.2,
      retry_condition_fn=retry_on_transient_errors)  # a read is safe to repeat
def read_secret(secret_name: str, aws_credentials: AwsCredentials,
                version_id: str | None = None, version_stage: str | None = None
                ) -> str | bytes:
    """The secret's value: text as str, binary as bytes (the current version by default)."""
    secret = AwsSecret(secret_name=secret_name, aws_credentials=aws_credentials)
    return secret.read_secret(version_id, version_stage, _sync=True)


@threaded_dispatch
@task
def create_secret(secret_name: str, secret_value: str | bytes,
                  aws_credentials: AwsCredentials, description: str | None = None,
                  tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Create a secret (text or bytes); return its ARN, Name and VersionId."""
    request = {"Name": secret_name, **_value(secret_value, "create_secret")}
    if description is not None:
        request["Description"] = description
    if tags is not None:
        request["Tags"] = tags
    return _call(aws_credentials, "create_secret", secret_name, request)


@threaded_dispatch
@task
def update_secret(secret_name: str, secret_value: str | bytes,
                  aws_credentials: AwsCredentials, description: str | None = None
                  ) -> dict[str, Any]:
    """Store a new value (and description) for an existing secret; return its ARN, Name and
    VersionId."""
    request = {"SecretId": secret_name, **_value(secret_value, "update_secret")}
    if description is not None:
        request["Description"] = description
    return _call(aws_credentials, "update_secret", secret_name, request)


@threaded_dispatch
@task
def delete_secret(secret_name: str, aws_credentials: AwsCredentials,
                  recovery_window_in_days: int = 30,
                  force_delete_without_recovery: bool = False) -> dict[str, Any]:
    """Delete a secret: recoverable for recovery_window_in_days (7 to 30), or at once with
    force_delete_without_recovery (the window is then ignored, as in Prefect's task).
    Returns its ARN, Name and DeletionDate."""
    options = deletion_options(recovery_window_in_days, force_delete_without_recovery,
                               window_with_force_is_an_error=False)
    return _call(aws_credentials, "delete_secret", secret_name,
                 {"SecretId": secret_name, **options})


def _value(data: Any, caller: str) -> dict[str, str | bytes]:
    if not isinstance(data, (str, bytes)):  # Prefect's tasks take text or bytes only
        raise ValueError(f"{caller} takes a str or bytes secret_value, not "
                         f"{type(data).__name__}.")
    return secret_request(data, caller)


def _call(credentials: AwsCredentials, operation: str, secret_name: str,
          request: dict[str, Any]) -> dict[str, Any]:
    client = credentials.get_client("secretsmanager")
    with aws_errors(secret_name=secret_name, client=client):
        response = getattr(client, operation)(**request)
    response.pop("ResponseMetadata", None)
    return response
