"""prefect_dbt's errors: each names the thing and the fix, never a secret value.

DbtFailure carries the full DbtResult; how dbt's outcome becomes one of these is
prefect_dbt.results' job, not this module's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core_blocks.errors import CoreBlocksError

if TYPE_CHECKING:
    from prefect_dbt.results import DbtResult


class DbtError(CoreBlocksError):
    """Base of prefect_dbt's errors."""


class DbtConfigError(DbtError, ValueError):
    """A target or profile that cannot become a profiles.yml, or a profiles.yml that cannot
    become blocks."""


class DbtInvocationError(DbtError):
    """dbt could not run the command at all: a bad project, profile, argument or SQL parse."""


class DbtFailure(DbtError):
    """dbt ran, and some nodes failed; `result` holds every node's outcome."""

    def __init__(self, message: str, result: DbtResult):
        super().__init__(message)
        self.result = result


class DbtCloudUnsupportedError(DbtError, NotImplementedError):
    """A dbt Cloud name (prefect_dbt.cloud) was used: this package runs dbt Core only."""
