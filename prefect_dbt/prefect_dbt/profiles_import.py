"""profiles.yml -> DbtCliProfile: each target's keys go to its adapter's typed fields, the
rest to `extras`, and password-like keys (by the run-history redaction's rule) to secret fields.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from core_blocks.runtime.redaction import secret_name
from prefect_dbt.errors import DbtConfigError

# The keys profiles.yml may spell differently from our fields, per adapter.
_RENAMES: dict[str, dict[str, str]] = {
    "postgres": {"pass": "password", "database": "dbname"},
    "bigquery": {"schema": "dataset"},
}
_ENV_VAR = re.compile(
    r"""\{\{\s*env_var\(\s*(['"])(?P<name>[^'"]+)\1\s*(?:,\s*(['"])(?P<default>[^'"]*)\3\s*)?\)"""
    r"""\s*(?P<filters>(\|\s*\w+\s*)*)\}\}""")


def read_profiles(path: Path) -> dict[str, Any]:
    """profiles.yml as a mapping (profiles, and perhaps `config:`); a clear error if unreadable."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise DbtConfigError(f"Cannot read {path}: {exc.strerror}. Give the path of a "
                             "profiles.yml.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise DbtConfigError(f"{path} is not valid YAML{where}. Fix the file and retry.") from None
    if not isinstance(data, dict):
        raise DbtConfigError(f"{path} holds no profiles: expected a mapping of profile names.")
    return data


def import_profile(path: Path, profile_name: str, target: str | None,
                   resolve_env_vars: bool) -> Any:
    """One target of one profile as a DbtCliProfile (not saved)."""
    from prefect_dbt.cli.configs.base import GlobalConfigs
    from prefect_dbt.cli.credentials import DbtCliProfile

    data = read_profiles(path)
    profiles = {name: body for name, body in data.items() if name != "config"}
    profile = profiles.get(profile_name)
    if not isinstance(profile, dict) or not isinstance(profile.get("outputs"), dict):
        raise DbtConfigError(f"{path} has no profile {profile_name!r} with outputs. Its "
                             f"profiles: {', '.join(sorted(profiles)) or 'none'}.")
    outputs = profile["outputs"]
    target = target or profile.get("target")
    if target not in outputs:
        raise DbtConfigError(f"Profile {profile_name!r} in {path} has no target {target!r}. "
                             f"Its targets: {', '.join(sorted(outputs))}.")
    target = _env(target, resolve_env_vars, f"{profile_name}.target")
    configs = _target_configs(outputs[target], f"{profile_name}.outputs.{target}",
                              resolve_env_vars)
    flags = data.get("config")
    return DbtCliProfile(name=profile_name, target=target, target_configs=configs,
                         global_configs=_global_configs(GlobalConfigs, flags))


def _global_configs(cls: Any, flags: Any) -> Any:
    if not isinstance(flags, dict) or not flags:
        return None
    known = {k: v for k, v in flags.items() if k in cls.model_fields and k != "extras"}
    extras = {k: v for k, v in flags.items() if k not in known}
    return cls(**known, extras=extras or None)


def _target_configs(output: Any, where: str, resolve: bool) -> Any:
    from prefect_dbt.cli.configs.base import TargetConfigs
    from prefect_dbt.cli.configs.bigquery import BigQueryTargetConfigs
    from prefect_dbt.cli.configs.duckdb import DuckDbTargetConfigs
    from prefect_dbt.cli.configs.postgres import PostgresTargetConfigs
    from prefect_dbt.cli.configs.snowflake import SnowflakeTargetConfigs

    if not isinstance(output, dict) or "type" not in output:
        raise DbtConfigError(f"{where} has no `type:` key naming its adapter. Add it, e.g. "
                             "type: postgres.")
    values = {key: _env(value, resolve, f"{where}.{key}") for key, value in output.items()}
    adapter = values.pop("type")
    cls = {"duckdb": DuckDbTargetConfigs, "postgres": PostgresTargetConfigs,
           "snowflake": SnowflakeTargetConfigs, "bigquery": BigQueryTargetConfigs}.get(
        adapter, TargetConfigs)
    renames = _RENAMES.get(adapter, {})
    values = {renames.get(key, key): value for key, value in values.items()}
    fields = {info.alias or name for name, info in cls.model_fields.items()} - {
        "extras", "secret_extras", "allow_field_overrides"}
    known = {k: v for k, v in values.items() if k in fields}
    rest = {k: v for k, v in values.items() if k not in fields}
    if cls is TargetConfigs:
        known["type"] = adapter
    known.setdefault("threads", None)  # none in the file: dbt's default, as before the import
    extras = {k: v for k, v in rest.items() if not secret_name(k)}
    secret_extras = {k: v for k, v in rest.items() if secret_name(k)}
    _refuse_templates_in_typed_fields(cls, known, where)
    return cls(**known, extras=extras or None, secret_extras=secret_extras or None)


def _refuse_templates_in_typed_fields(cls: Any, known: dict[str, Any], where: str) -> None:
    """A kept `{{ env_var(...) }}` is text: it fits a text field, not a number or a list."""
    for key, value in known.items():
        if isinstance(value, str) and "{{" in value:
            info = next(i for n, i in cls.model_fields.items() if (i.alias or n) == key)
            if info.annotation not in (str, str | None) and "Secret" not in str(info.annotation):
                raise DbtConfigError(
                    f"{where}.{key} is a template ({value!r}) where a "
                    f"{getattr(info.annotation, '__name__', info.annotation)} is needed. "
                    "Import with --resolve-env-vars (resolve_env_vars=True).")


def _env(value: Any, resolve: bool, where: str) -> Any:
    """value with `{{ env_var('X') }}` replaced by the environment's X when resolving."""
    if isinstance(value, dict):
        return {k: _env(v, resolve, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_env(v, resolve, where) for v in value]
    if not resolve or not isinstance(value, str) or "env_var" not in value:
        return value
    whole = _ENV_VAR.fullmatch(value.strip())

    def lookup(match: re.Match) -> str:
        name, default = match.group("name"), match.group("default")
        found = os.environ.get(name, default)
        if found is None:
            raise DbtConfigError(f"{where} reads environment variable {name}, which is not "
                                 "set. Set it, or import with --keep-env-vars.")
        return found

    if whole is not None:
        text = lookup(whole)
        if "as_number" in whole.group("filters"):
            return float(text) if "." in text else int(text)
        if "as_bool" in whole.group("filters"):
            return text.strip().lower() in ("true", "1", "yes")
        return text
    return _ENV_VAR.sub(lookup, value)
