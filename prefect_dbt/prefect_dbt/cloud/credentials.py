"""`prefect_dbt.cloud.credentials.DbtCloudCredentials`: imports, refuses to be used."""

from prefect_dbt.cloud.unsupported import DbtCloudPlaceholder


class DbtCloudCredentials(DbtCloudPlaceholder):
    """Prefect's dbt Cloud API key block; not supported here (dbt Core only)."""
