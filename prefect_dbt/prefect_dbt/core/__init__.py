"""Prefect's newer dbt interface: PrefectDbtRunner (dbt's programmatic runner, each node
recorded as a run of its own) and PrefectDbtSettings (where the project and profiles are).

    from prefect_dbt import PrefectDbtRunner

    PrefectDbtRunner().invoke(["build"])
"""

from prefect_dbt.core.runner import PrefectDbtRunner
from prefect_dbt.core.settings import PrefectDbtSettings

__all__ = ["PrefectDbtRunner", "PrefectDbtSettings"]
