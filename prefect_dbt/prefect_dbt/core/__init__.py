"""Prefect's newer dbt interface: PrefectDbtRunner (dbt's programmatic runner, each node
recorded as a run of its own) and PrefectDbtSettings (where the project and profiles are).
Both load on first use: the runner imports dbt (over a second).

    from prefect_dbt.core import PrefectDbtRunner

    PrefectDbtRunner().invoke(["build"])
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

_EXPORTS = {  # public name -> module defining it
    "PrefectDbtRunner": "prefect_dbt.core.runner",
    "PrefectDbtSettings": "prefect_dbt.core.settings",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers
    from prefect_dbt.core.runner import PrefectDbtRunner
    from prefect_dbt.core.settings import PrefectDbtSettings
