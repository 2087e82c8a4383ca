"""Every integration: its entry point loads from its own distribution and adds block types,
and importing it (tasks and pytest plugins included) pulls no SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core_blocks.registry import get_registry

INTEGRATIONS = ["aws", "dbt", "docker", "slack"]


@pytest.mark.parametrize("short", INTEGRATIONS)
def test_entry_point_loads_from_its_distribution_and_adds_block_types(short):
    plugin = get_registry().plugins[short]

    assert plugin.error is None
    assert plugin.source == f"core-blocks-{short} 0.1.0"
    assert plugin.block_types


def test_importing_every_integration_loads_no_sdk():
    probe = ("import sys, core_blocks.cli, prefect_aws, prefect_dbt, prefect_docker, "
             "prefect_slack, prefect_aws.plugin, prefect_dbt.plugin, prefect_docker.plugin, "
             "prefect_slack.plugin, prefect_aws.s3, prefect_dbt.cli, prefect_dbt.cli.commands, "
             "prefect_docker.images, prefect_docker.containers, prefect_docker.testing.plugin, "
             "prefect_slack.messages, prefect_slack.credentials;"
             "print(*{'boto3', 'botocore', 'dbt', 'docker', 'slack_sdk'} & sys.modules.keys())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_registering_every_block_type_imports_no_task_runtime_or_sdk():
    """`blocks types` and `blocks create` build the registry: it must stay cheap."""
    probe = ("import sys; from core_blocks.registry import get_registry; r = get_registry();"
             "assert not r.errors, r.errors;"
             "print(*sorted(m for m in sys.modules if m.split('.')[0] in "
             "('asyncio', 'boto3', 'botocore', 'dbt', 'docker', 'slack_sdk') "
             "or m.startswith(('core_blocks.runtime', 'core_blocks.tasks'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
