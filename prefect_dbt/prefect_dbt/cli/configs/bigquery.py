"""BigQueryTargetConfigs: a Google BigQuery project (dbt-bigquery, installed by the user)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core_blocks import SecretDict
from prefect_dbt.cli.configs.source_blocks import SourceBlockTargetConfigs, bigquery_fields


class BigQueryTargetConfigs(SourceBlockTargetConfigs):
    """A dbt-bigquery target; a service account's key file is kept in the secret backend.

    `schema=` is taken for `dataset` (Prefect's spelling: in BigQuery a schema is a dataset),
    and profiles.yml gets it as `schema`, which dbt-bigquery reads as the dataset.
    `credentials=` takes prefect-gcp's GcpCredentials: its service account info, its key
    file, or else the machine's gcloud login (method oauth, dbt-bigquery's own); its project
    (or the key's) is used when `project` is not given.
    """

    _block_type_name = "dbt BigQuery Target"
    _block_type_slug = "dbt-cli-bigquery-target-configs"
    _documentation_url = "https://docs.getdbt.com/docs/core/connect-data-platform/bigquery-setup"
    _adapter = "bigquery"

    project: str = Field(description="Google Cloud project that runs the queries")
    dataset: str = Field(description="Dataset dbt builds models in")
    method: Literal["service-account-json", "service-account", "oauth", "oauth-secrets"] = (
        Field(default="service-account-json", description="How dbt authenticates"))
    keyfile_json: SecretDict | None = Field(
        default=None, description="The service account's JSON key (service-account-json)")
    location: str | None = Field(default=None, description="Dataset location, e.g. EU")

    _source = "credentials"

    @property
    def credentials(self) -> Any:
        """The GcpCredentials this was built from, in this process (not saved)."""
        return self._source_block

    @classmethod
    def _fields_from(cls, block: Any, given: dict[str, Any]) -> dict[str, Any]:
        return bigquery_fields(block, given)

    def get_configs(self) -> dict[str, Any]:
        """The target as profiles.yml holds it, the dataset under `schema` (as Prefect's)."""
        configs = super().get_configs()
        return {("schema" if key == "dataset" else key): value
                for key, value in configs.items()}

    @model_validator(mode="before")
    @classmethod
    def _schema_is_the_dataset(cls, data: Any) -> Any:
        if isinstance(data, dict) and "schema" in data:
            data = dict(data)
            schema = data.pop("schema")
            if data.setdefault("dataset", schema) != schema:
                raise ValueError("give the dataset once: schema is another name for dataset")
        return data

    @model_validator(mode="after")
    def _key_for_its_method(self) -> BigQueryTargetConfigs:
        if self.method == "service-account-json" and self.keyfile_json is None:
            raise ValueError("method service-account-json needs keyfile_json")
        return self
