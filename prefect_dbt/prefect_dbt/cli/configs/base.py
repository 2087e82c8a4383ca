"""TargetConfigs (any adapter, keys as given) and GlobalConfigs (dbt's run flags)."""

from __future__ import annotations

import re
from os import PathLike
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, field_validator

from core_blocks import Block, SecretDict
from prefect_dbt.errors import DbtConfigError

_ADAPTER_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _revealed(block: Block) -> dict[str, Any]:
    """The block's fields by their dbt names (aliases), secrets revealed, unset ones left out."""
    data = block.model_dump(include_secrets=True, by_alias=True, exclude_none=True, mode="json")
    for key in ("extras", "secret_extras"):
        data.pop(key, None)
    data.pop("allow_field_overrides", None)
    return data


def profile_values(configs: dict[str, Any]) -> dict[str, Any]:
    """`configs` as profiles.yml can hold them, as Prefect's get_configs() gives them: keys
    set to None are left out, and paths become strings at any depth (extras hold whatever
    users pass, and YAML's safe writer refuses a Path)."""
    return {key: _profile_value(value) for key, value in configs.items() if value is not None}


def _profile_value(value: Any) -> Any:
    if isinstance(value, PathLike):
        return str(value)
    if isinstance(value, dict):
        return {key: _profile_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_profile_value(item) for item in value]
    return value


def schema_field(default: str | None = None) -> Any:
    """The `schema` key: a Block has a `schema()` method, so the field is `schema_`, read and
    written as "schema"."""
    kwargs = {} if default is None else {"default": default}
    return Field(alias="schema", description="Schema dbt builds models in", **kwargs)


class BaseTargetConfigs(Block):
    """What every target shares: threads and free-form extras; subclasses add their keys."""

    model_config = ConfigDict(populate_by_name=True)
    _adapter: ClassVar[str | None] = None  # the `type` key a typed config always produces

    threads: int | None = Field(
        default=4, ge=1, description="How many models dbt builds at once (4, as Prefect's; "
        "None leaves dbt's own default, 1)")
    extras: dict[str, Any] | None = Field(
        default=None, description="More keys for the adapter, as profiles.yml spells them")
    secret_extras: SecretDict | None = Field(
        default=None, description="More adapter keys kept in the secret backend (tokens, "
        "passwords of adapters without a typed config)")
    allow_field_overrides: bool = Field(
        default=False, description="Let extras replace keys the fields already set")

    def get_configs(self) -> dict[str, Any]:
        """The target as profiles.yml holds it: field keys, then extras, secrets revealed.

        An extra naming a key a field already set is refused unless allow_field_overrides.
        """
        configs = _revealed(self)
        if self._adapter:
            configs = {"type": self._adapter, **configs}
        secret_extras = self.secret_extras.get_secret_value() if self.secret_extras else {}
        for key, value in {**(self.extras or {}), **secret_extras}.items():
            if key in configs and not self.allow_field_overrides:
                raise DbtConfigError(
                    f"The keyword, {key}, has already been provided in "
                    f"{type(self).__name__}: extras key {key!r} is set by a field too. Set "
                    "it once, or allow_field_overrides=True to let extras replace the field.")
            configs[key] = value
        return profile_values(configs)


class TargetConfigs(BaseTargetConfigs):
    """A dbt target for any adapter: `type`, `schema`, `threads` and the adapter's own keys in
    `extras` (put secrets in a typed config instead: extras are stored in plain text)."""

    _block_type_name = "dbt Target Configs"
    _block_type_slug = "dbt-cli-target-configs"
    _documentation_url = "https://docs.getdbt.com/docs/core/connect-data-platform/profiles.yml"

    type: str = Field(description="The adapter, e.g. duckdb, postgres, snowflake")
    schema_: str = schema_field()

    @field_validator("type")
    @classmethod
    def _type_is_an_adapter_name(cls, value: str) -> str:
        # dbt looks the adapter up as the package dbt.adapters.<type>: a lowercase identifier.
        if not _ADAPTER_NAME.fullmatch(value):
            raise ValueError("must be a dbt adapter name in lowercase, e.g. postgres, duckdb, "
                             "snowflake or bigquery")
        return value

    @classmethod
    def from_profiles_yml(cls, profile_name: str | None = None, target_name: str | None = None,
                          profiles_dir: str | PathLike | None = None,
                          allow_field_overrides: bool = False) -> TargetConfigs:
        """One target of a profiles.yml (by default the first profile and its `target:`) as
        TargetConfigs: `type`, `schema` (or else `path`, `dataset`, `database`), `threads`,
        and the other keys in `extras`, password-like ones in `secret_extras`.

        profiles.yml is found as PrefectDbtSettings finds it (`profiles_dir`, else
        DBT_PROFILES_DIR, ./profiles.yml or ~/.dbt).
        """
        from prefect_dbt.cli.configs.profile_target import target_from_profiles

        return target_from_profiles(cls, profile_name, target_name, profiles_dir,
                                    allow_field_overrides)


class GlobalConfigs(Block):
    """dbt's run flags, written to profiles.yml's `config:` section (dbt still reads it, and
    warns that dbt_project.yml's `flags:` is the newer place)."""

    _block_type_name = "dbt Global Configs"
    _block_type_slug = "dbt-cli-global-configs"
    _documentation_url = "https://docs.getdbt.com/reference/global-configs/about-global-configs"

    send_anonymous_usage_stats: bool | None = Field(
        default=None, description="Send dbt Labs anonymous usage statistics")
    use_colors: bool | None = Field(default=None, description="Colour dbt's terminal output")
    partial_parse: bool | None = Field(
        default=None, description="Reuse the parsed project between runs")
    printer_width: int | None = Field(default=None, description="Width of dbt's result lines")
    write_json: bool | None = Field(default=None, description="Write target/*.json artifacts")
    warn_error: bool | None = Field(default=None, description="Treat warnings as errors")
    log_format: str | None = Field(default=None, description="text, json or default")
    debug: bool | None = Field(default=None, description="Log at debug level")
    version_check: bool | None = Field(
        default=None, description="Check the project's require-dbt-version")
    fail_fast: bool | None = Field(default=None, description="Stop at the first failure")
    use_experimental_parser: bool | None = Field(
        default=None, description="Use dbt's experimental parser")
    static_parser: bool | None = Field(default=None, description="Use dbt's static parser")
    extras: dict[str, Any] | None = Field(default=None, description="More dbt flags by name")

    def get_configs(self) -> dict[str, Any]:
        """The flags that are set, as profiles.yml's `config:` holds them."""
        configs = self.model_dump(exclude_none=True, mode="json")
        configs.pop("extras", None)  # raw, not as JSON: profile_values converts its values
        configs.update(self.extras or {})
        return profile_values(configs)
