"""Prefect's newer dbt interface: PrefectDbtRunner (dbt's programmatic runner, each node
recorded as a run of its own), PrefectDbtOrchestrator (a build wave by wave or node by node,
from the manifest) and PrefectDbtSettings (where the project and profiles are). All load on
first use: the runner and the orchestrator import dbt (over a second).

    from prefect_dbt.core import PrefectDbtRunner

    PrefectDbtRunner().invoke(["build"])
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

_EXPORTS = {  # public name -> module defining it
    "PrefectDbtRunner": "prefect_dbt.core.runner",
    "PrefectDbtSettings": "prefect_dbt.core.settings",
    "DbtHookContext": "prefect_dbt.core._hooks",
    "PrefectDbtOrchestrator": "prefect_dbt.core._orchestrator",
    "ExecutionMode": "prefect_dbt.core._orchestrator",
    "TestStrategy": "prefect_dbt.core._orchestrator",
    "CacheConfig": "prefect_dbt.core._orchestrator",
    "BuildPlan": "prefect_dbt.core._orchestrator",
    "DbtBuildFailed": "prefect_dbt.core._orchestrator",
    "ProcessPoolTaskRunner": "prefect_dbt.core._node_processes",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers
    from prefect_dbt.core._hooks import DbtHookContext
    from prefect_dbt.core._node_processes import ProcessPoolTaskRunner
    from prefect_dbt.core._orchestrator import (
        BuildPlan,
        CacheConfig,
        DbtBuildFailed,
        ExecutionMode,
        PrefectDbtOrchestrator,
        TestStrategy,
    )
    from prefect_dbt.core.runner import PrefectDbtRunner
    from prefect_dbt.core.settings import PrefectDbtSettings
