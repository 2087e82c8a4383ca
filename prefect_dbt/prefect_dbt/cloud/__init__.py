"""Prefect's dbt Cloud names, importable so that code importing them still loads; using one
raises DbtCloudUnsupportedError, since this package runs dbt Core only (dbt Cloud's jobs run
on dbt Labs' servers)."""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

_EXPORTS = {  # public name -> module defining it
    "DbtCloudCredentials": "prefect_dbt.cloud.credentials",
    "DbtCloudJob": "prefect_dbt.cloud.jobs",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers
    from prefect_dbt.cloud.credentials import DbtCloudCredentials
    from prefect_dbt.cloud.jobs import DbtCloudJob
