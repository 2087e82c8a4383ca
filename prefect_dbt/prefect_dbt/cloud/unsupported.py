"""The placeholder behind every dbt Cloud name: it imports, and refuses to be used."""

from __future__ import annotations

from typing import Any, NoReturn

from prefect_dbt.errors import DbtCloudUnsupportedError


class DbtCloudPlaceholder:
    """Stands for one of Prefect's dbt Cloud classes: constructing or loading it raises
    DbtCloudUnsupportedError naming the class and what to use instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse(type(self).__name__)

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(cls.__name__)


def _refuse(name: str) -> NoReturn:
    raise DbtCloudUnsupportedError(
        f"{name} is dbt Cloud's, and core-blocks-dbt runs dbt Core only. Run the project "
        "with trigger_dbt_cli_command, DbtCoreOperation or PrefectDbtRunner instead.")
