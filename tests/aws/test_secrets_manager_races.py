"""Loads of a block whose secrets are in AWS Secrets Manager (moto's server, its own process)
never fail while another process keeps overwriting it."""

from __future__ import annotations

import pytest

from core_blocks.testing import reset_state
from tests.save_load_race import overwrite_while_loading


@pytest.fixture
def secrets_in_aws(moto_server, monkeypatch, block_home):
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "aws-secrets-manager")
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("CORE_BLOCKS_AWS_SECRETS_REGION", "us-east-1")
    reset_state()
    yield
    reset_state()


def test_loads_never_fail_while_another_process_overwrites(secrets_in_aws):
    result = overwrite_while_loading()

    assert result.failures == [], str(result)
    assert result.values_seen > 1 and result.saves > 1, str(result)
