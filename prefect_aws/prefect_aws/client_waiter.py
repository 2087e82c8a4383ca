"""client_waiter: wait, in a task, until an AWS resource reaches a state (boto3's waiters,
or one you define), as Prefect's prefect_aws.client_waiter does.

    from prefect_aws.client_waiter import client_waiter

    client_waiter("s3", "bucket_exists", AwsCredentials.load("prod"), Bucket="raw")
"""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from core_blocks.tasks import task
from prefect_aws.credentials import AwsCredentials, MinIOCredentials
from prefect_aws.error_translation import aws_errors
from prefect_aws.errors import AwsError


def _wait(client: str, waiter_name: str, aws_credentials: AwsCredentials | MinIOCredentials,
          waiter_definition: dict[str, Any] | None, waiter_kwargs: dict[str, Any]) -> None:
    boto_client = aws_credentials.get_client(client)
    if waiter_definition is not None:
        waiter = create_waiter_with_client(waiter_name, WaiterModel(waiter_definition),
                                           boto_client)
    elif waiter_name in boto_client.waiter_names:
        waiter = boto_client.get_waiter(waiter_name)
    else:
        known = ", ".join(boto_client.waiter_names) or "none"
        raise ValueError(
            f"The waiter name, {waiter_name}, is not one of {client}'s boto3 waiters "
            f"({known}): pick one of them, or pass waiter_definition to define it.")
    try:
        with aws_errors(client=boto_client):
            waiter.wait(**waiter_kwargs)
    except WaiterError as exc:
        reason = (exc.last_response or {}).get("Error", {}).get("Message") or str(exc)
        raise AwsError(f"{client}'s waiter {waiter_name} gave up: {reason}. Check the arguments "
                       "name the resource you expect, or allow more attempts with "
                       "WaiterConfig={'Delay': ..., 'MaxAttempts': ...}.") from None


@task
def client_waiter(client: str, waiter_name: str,
                  aws_credentials: AwsCredentials | MinIOCredentials,
                  waiter_definition: dict[str, Any] | None = None, **waiter_kwargs: Any
                  ) -> None:
    """Wait with the `client` service's waiter `waiter_name` (boto3's, or the one
    `waiter_definition` defines: a botocore waiter model, {"version": 2, "waiters": {...}});
    waiter_kwargs go to its `wait()` (the operation's arguments, and `WaiterConfig`).
    Raises AwsError when the waiter gives up."""
    _wait(client, waiter_name, aws_credentials, waiter_definition, waiter_kwargs)


@task
async def aclient_waiter(client: str, waiter_name: str,
                         aws_credentials: AwsCredentials | MinIOCredentials,
                         waiter_definition: dict[str, Any] | None = None, **waiter_kwargs: Any
                         ) -> None:
    """client_waiter for async code: the wait runs in a worker thread."""
    await asyncio.to_thread(_wait, client, waiter_name, aws_credentials, waiter_definition,
                            waiter_kwargs)
