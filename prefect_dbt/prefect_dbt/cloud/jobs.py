"""`prefect_dbt.cloud.jobs.DbtCloudJob`: imports, refuses to be used."""

from prefect_dbt.cloud.unsupported import DbtCloudPlaceholder


class DbtCloudJob(DbtCloudPlaceholder):
    """Prefect's dbt Cloud job block; not supported here (dbt Core only)."""
