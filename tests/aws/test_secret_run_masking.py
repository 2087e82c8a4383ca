"""A secret read from AWS Secrets Manager inside a run is masked in the run's history and
logs like one read from a secret backend."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core_blocks import flow
from core_blocks.runtime.redaction import REDACTED
from prefect_aws import AwsSecret
from prefect_aws.secret_tasks import read_secret


@pytest.mark.parametrize("how", ["read_secret", "get", "task"])
def test_a_value_read_from_secrets_manager_is_masked(how, mocked_aws, aws_credentials, canary,
                                                     caplog):
    caplog.set_level(logging.DEBUG, logger="core_blocks")
    secret = AwsSecret(secret_name="warehouse/password", aws_credentials=aws_credentials)
    secret.write_secret(canary)

    @flow
    async def connect() -> None:
        if how == "task":
            value = await read_secret("warehouse/password", aws_credentials)
        elif how == "read_secret":  # an async flow awaits it (Prefect 3's rule)
            value = await secret.read_secret()
        else:
            value = secret.get()
        print("connecting with", value)
        raise ConnectionError(f"password {value} refused")

    state = asyncio.run(connect(return_state=True))
    assert state.message == f"ConnectionError: password {REDACTED} refused"
    assert canary not in caplog.text
