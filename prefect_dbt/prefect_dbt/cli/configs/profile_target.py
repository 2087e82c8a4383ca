"""TargetConfigs.from_profiles_yml: one target of a profiles.yml as generic TargetConfigs."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from core_blocks.runtime.redaction import secret_name
from prefect_dbt.errors import DbtConfigError

# Where Prefect's from_profiles_yml finds the target's schema, in this order.
SCHEMA_KEYS = ("schema", "path", "dataset", "database")


def target_from_profiles(cls: Any, profile_name: str | None, target_name: str | None,
                         profiles_dir: str | PathLike | None,
                         allow_field_overrides: bool) -> Any:
    """See TargetConfigs.from_profiles_yml."""
    from prefect_dbt.core import settings  # looked up now: tests patch its PrefectDbtSettings

    found = (settings.PrefectDbtSettings(profiles_dir=Path(profiles_dir)) if profiles_dir
             else settings.PrefectDbtSettings())
    profiles = found.load_profiles_yml()
    names = [name for name in profiles if name != "config"]
    if profile_name is None:
        if not names:
            raise DbtConfigError("profiles.yml holds no profile. Add one, or give "
                                 "profiles_dir of another profiles.yml.")
        profile_name = names[0]
    elif profile_name not in names:
        raise DbtConfigError(f"Profile {profile_name} not found in profiles.yml. Its "
                             f"profiles: {', '.join(names) or 'none'}.")
    profile = profiles[profile_name]
    outputs = profile.get("outputs") if isinstance(profile, dict) else None
    if not isinstance(outputs, dict):
        raise DbtConfigError(f"No outputs found in profile {profile_name}: add its targets "
                             "under `outputs:`.")
    if target_name is None:
        target_name = profile.get("target")
    if target_name not in outputs:
        raise DbtConfigError(f"Target {target_name} not found in profile {profile_name}. "
                             f"Its targets: {', '.join(map(str, outputs))}.")
    keys = dict(outputs[target_name])
    schema_key = next((key for key in SCHEMA_KEYS if key in keys), None)
    if schema_key is None:
        raise DbtConfigError(f"No schema found. Expected one of: {list(SCHEMA_KEYS)} in "
                             f"target {target_name} of profile {profile_name}.")
    schema = keys.pop(schema_key)
    adapter = keys.pop("type", None)
    threads = keys.pop("threads", 4)
    secrets = {key: keys.pop(key) for key in list(keys) if secret_name(key)}
    return cls(type=adapter, schema=schema, threads=threads, extras=keys or None,
               secret_extras=secrets or None, allow_field_overrides=allow_field_overrides)
