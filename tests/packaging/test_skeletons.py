"""The Docker and Slack skeletons: installed, their entry points load, they add nothing yet;
and no integration (dbt's included, tests/dbt checks its types) pulls its SDK on import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core_blocks.registry import get_registry

SKELETONS = ["docker", "slack"]  # dbt: its blocks arrived (tests/dbt/test_plugin.py)


@pytest.mark.parametrize("short", SKELETONS)
def test_entry_point_loads_from_its_distribution_and_adds_no_type_yet(short):
    plugin = get_registry().plugins[short]

    assert plugin.error is None
    assert plugin.source == f"core-blocks-{short} 0.1.0"
    assert plugin.block_types == [] and plugin.secret_backends == []


def test_importing_every_integration_loads_no_sdk():
    probe = ("import sys, core_blocks.cli, prefect_aws, prefect_dbt, prefect_docker, "
             "prefect_slack, prefect_dbt.plugin, prefect_docker.plugin, prefect_slack.plugin;"
             "print(*{'boto3', 'dbt', 'docker', 'slack_sdk'} & sys.modules.keys())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
